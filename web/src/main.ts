import { createPinia } from 'pinia'
import { createApp } from 'vue'
import 'element-plus/theme-chalk/el-message.css'
import 'element-plus/theme-chalk/el-message-box.css'
import './styles.css'
import App from './App.vue'
import { whenSignedOut } from './api/client'
import { router } from './router'
import { useSession } from './stores/session'

const app = createApp(App)
app.use(createPinia())
app.use(router)
whenSignedOut(() => {
  useSession().forget()
  const here = router.currentRoute.value
  if (!here.meta.public) void router.push({ name: 'login', query: { next: here.fullPath } })
})
app.mount('#app')
