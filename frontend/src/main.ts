import * as Icons from '@element-plus/icons-vue'
import ElementPlus from 'element-plus'
import 'element-plus/dist/index.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { setUnauthorizedHandler } from './api/client'
import { i18n } from './i18n'
import { router } from './router'
import { useSession } from './stores/session'
import './style.css'

const app = createApp(App)
for (const [name, component] of Object.entries(Icons)) app.component(name, component)
app.use(createPinia()).use(i18n).use(router).use(ElementPlus)

setUnauthorizedHandler(() => {
  const session = useSession()
  if (!session.me) return
  session.clear()
  const next = router.currentRoute.value.fullPath
  void router.push({ name: 'login', query: { next } })
})

app.mount('#app')
