import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, URL } from 'node:url'
import vue from '@vitejs/plugin-vue'
import AutoImport from 'unplugin-auto-import/vite'
import { ElementPlusResolver } from 'unplugin-vue-components/resolvers'
import Components from 'unplugin-vue-components/vite'
import { defineConfig, type Plugin } from 'vite'

const PDFJS = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'))
const PDFJS_VERSION = JSON.parse(readFileSync(join(PDFJS, 'package.json'), 'utf8')).version

/** pdf.js's character maps and standard fonts, at /assets/pdfjs-<version>/ (the path
 * PdfViewer.vue gives pdf.js): without them a PDF whose Chinese font is not embedded
 * (STSong-Light and the like, common in born-digital Chinese PDFs) draws no text. */
function pdfjsData(): Plugin {
  const folders = ['cmaps', 'standard_fonts']
  const base = `/assets/pdfjs-${PDFJS_VERSION}/`
  return {
    name: 'pdfjs-data',
    generateBundle() {
      for (const folder of folders) {
        for (const name of readdirSync(join(PDFJS, folder))) {
          this.emitFile({ type: 'asset', fileName: `${base.slice(1)}${folder}/${name}`,
            source: readFileSync(join(PDFJS, folder, name)) })
        }
      }
    },
    configureServer(server) {
      server.middlewares.use(base, (request, response, next) => {
        const [folder, name] = (request.url ?? '').split('?')[0].split('/').filter(Boolean)
        if (!folders.includes(folder) || !readdirSync(join(PDFJS, folder)).includes(name)) {
          next()
          return
        }
        response.end(readFileSync(join(PDFJS, folder, name)))
      })
    },
  }
}

// Element Plus is imported on demand (components and their styles as they are used).
export default defineConfig({
  plugins: [
    vue(),
    pdfjsData(),
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
