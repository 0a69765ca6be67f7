import vue from '@vitejs/plugin-vue'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  plugins: [vue()],
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8000', ws: true },
      '/healthz': 'http://127.0.0.1:8000',
    },
  },
  build: {
    chunkSizeWarningLimit: 1500,
    rollupOptions: {
      output: {
        manualChunks(id: string) {
          if (id.includes('element-plus')) return 'element-plus'
          // ECharts only where a page charts (wallboard, SLA board, travel report): left to the
          // bundler's own split, which loads it with those pages and not on every page
          if (/node_modules\/(echarts|zrender|vue-echarts)\//.test(id)) return undefined
          if (id.includes('node_modules')) return 'vendor'
        },
      },
    },
  },
  test: {
    environment: 'happy-dom',
  },
})
