import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig } from 'vite'

// Element Plus is imported on demand (components and their styles as they are used).
export default defineConfig({
  plugins: [
    vue(),
    AutoImport({ resolvers: [ElementPlusResolver()], dts: false }),
    Components({ resolvers: [ElementPlusResolver()], dts: false }),
  ],
  resolve: { alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) } },
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 1500,
    // the PDF viewer and the charts load with the screens that need them
    rollupOptions: { output: { manualChunks: { pdfjs: ['pdfjs-dist'], echarts: ['echarts'] } } },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:8000' } },
})
