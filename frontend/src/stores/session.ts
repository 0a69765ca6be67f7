import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, call, type Me, ProblemError } from '../api/client'

export const useSession = defineStore('session', () => {
  const me = ref<Me | null>(null)
  const loaded = ref(false)
  const permissions = computed(() => me.value?.permissions ?? [])

  function can(permission: string | undefined): boolean {
    return !permission || permissions.value.includes(permission)
  }

  async function load(): Promise<void> {
    try {
      me.value = await call(api.GET('/api/auth/me'))
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status !== 401) throw error
      me.value = null
    } finally {
      loaded.value = true
    }
  }

  async function login(username: string, password: string): Promise<void> {
    me.value = await call(api.POST('/api/auth/login', { body: { username, password } }))
  }

  async function logout(): Promise<void> {
    try {
      await call(api.POST('/api/auth/logout'))
    } finally {
      me.value = null
    }
  }

  function clear(): void {
    me.value = null
  }

  return { me, loaded, permissions, can, load, login, logout, clear }
})
