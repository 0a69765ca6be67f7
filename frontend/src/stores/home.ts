// Where the signed-in user starts and whether they have an agent's state at all
// (`GET /api/home/landing`), asked once per sign-in: the header shows the agent state bar — and
// polls for it — only for users with an extension or agent profile, and agents who take calls
// land on the desktop.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, call, type Schemas } from '../api/client'

export const useHome = defineStore('home', () => {
  const landing = ref<Schemas['Landing'] | null>(null)
  let asking: Promise<Schemas['Landing'] | null> | null = null

  /** The landing of the signed-in user (asked once; null when it cannot be had). */
  async function load(): Promise<Schemas['Landing'] | null> {
    if (landing.value) return landing.value
    asking ??= call(api.GET('/api/home/landing'))
      .then((answer) => (landing.value = answer))
      .catch(() => null)
      .finally(() => (asking = null))
    return asking
  }

  /** Signed out: the next person at this browser asks again. */
  function clear(): void {
    landing.value = null
  }

  return { landing, load, clear }
})
