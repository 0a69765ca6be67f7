// The calls offered to this agent in this tab (D1), kept while they move between pages: the pop,
// its wrap-up and the registered number are still there when the agent comes back from the
// booking desk or a ticket form. Started by the agent's state bar, so a call offered while the
// agent is on another page pops when they open the desktop.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { useLive, type LiveEvent } from './live'

export interface Offer {
  call_id: string
  queue: string
  caller: string
  caller_class: string
  customer: { id: number | null; name: string; title: string; member_number: string; tier: string } | null
  path: string[]
  waited: number
  reason: string
  occurred_at: string
  received: number
}

export const useDesk = defineStore('desk', () => {
  const offers = ref<Offer[]>([])
  const current = computed(() => offers.value[0] ?? null)
  const wrapped = ref<Set<string>>(new Set())
  const registered = ref<Set<string>>(new Set())
  const stage = ref(0)
  let listening = false

  function heard(event: LiveEvent): void {
    if (event.name === 'routing.wrapped') { // wrapped up in another tab
      wrapped.value = new Set([...wrapped.value, String(event.data.call_id)])
      return
    }
    if (event.name !== 'routing.offered') return
    const offer = { ...(event.data as unknown as Offer), received: Date.now() }
    offers.value = [offer, ...offers.value.filter((o) => o.call_id !== offer.call_id)].slice(0, 10)
    stage.value = 0
  }

  /** Keep the offers from now on (once per tab). */
  function listen(): void {
    if (listening) return
    listening = true
    const live = useLive()
    live.on(heard)
    live.start()
  }

  function markWrapped(callId: string): void {
    wrapped.value = new Set([...wrapped.value, callId])
  }

  function markRegistered(callId: string): void {
    registered.value = new Set([...registered.value, callId])
  }

  /** Signed out: the next person at this browser starts with an empty desk. */
  function clear(): void {
    offers.value = []
    wrapped.value = new Set()
    registered.value = new Set()
  }

  return { offers, current, wrapped, registered, stage, listen, markWrapped, markRegistered, clear }
})
