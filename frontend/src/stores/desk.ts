// The calls on this agent's desktop (D1–D3) as the server has them (`GET /api/routing/me/desk`):
// the pop, the script stage the agent reached and whether the wrap-up is still owed. It is asked
// again on every sign of change — the socket (re)connecting, a call offered, wrapped up, changing
// state, or the agent moving on in another tab — so a reload, a reconnect or signing in again
// mid-call brings the pop back as it was: never built from the events this tab happened to hear.
// Started by the agent's state bar, so a call offered while the agent is on another page is there
// when they open the desktop.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { api, call, type Schemas } from '../api/client'
import { useLive, type LiveEvent } from './live'

export type DeskCall = Schemas['DeskCallOut']

const ASK_AGAIN = new Set(['live.hello', 'routing.offered', 'routing.wrapped', 'routing.call_state', 'routing.desk_changed'])

export const useDesk = defineStore('desk', () => {
  const calls = ref<DeskCall[]>([])
  const chosen = ref<string | null>(null)
  const current = computed<DeskCall | null>(() => calls.value.find((c) => c.call_id === chosen.value) ?? null)

  /** Which call pops: the one ringing or on the line; else the one this tab was working on (it
   *  stays while the agent books or opens a ticket for it); else one whose wrap-up the queue
   *  requires. Other calls (an optional wrap-up not written, the last one wrapped up) are listed
   *  under the pop, a click away. */
  function show(list: DeskCall[]): void {
    calls.value = list
    const first = list[0]
    if (first && first.state !== 'ended') chosen.value = first.call_id
    else if (!list.some((c) => c.call_id === chosen.value)) chosen.value = list.find((c) => c.wrap_required)?.call_id ?? null
  }
  let off: (() => void) | null = null
  let generation = 0 // a sign-out drops answers still on their way for the previous agent
  let asking: Promise<void> | null = null
  let again = false

  /** Ask the server for the desk (one request at a time; a change meanwhile asks once more). */
  async function refresh(): Promise<void> {
    if (asking) {
      again = true
      return asking
    }
    asking = (async () => {
      do {
        again = false
        const mine = generation
        try {
          const desk = await call(api.GET('/api/routing/me/desk'))
          if (mine === generation) show(desk.calls)
        } catch {
          // offline or signed out: the socket's next hello asks again
        }
      } while (again)
    })()
    try {
      await asking
    } finally {
      asking = null
    }
  }

  function heard(event: LiveEvent): void {
    if (!ASK_AGAIN.has(event.name)) return
    void refresh()
    // an API node apart from the voice node reads the offer from the log, written a moment later
    if (event.name === 'routing.offered') window.setTimeout(() => void refresh(), 1000)
  }

  /** Keep the desk from now on (the listener once per tab; the desk asked at every start). */
  function listen(): void {
    if (!off) off = useLive().on(heard)
    useLive().start()
    void refresh()
  }

  function put(updated: DeskCall): void {
    calls.value = calls.value.map((c) => (c.call_id === updated.call_id ? updated : c))
  }

  /** The agent moved to another stage of the script: shown at once, kept on the server. */
  async function moveTo(callId: string, stage: number): Promise<void> {
    const shown = calls.value.find((c) => c.call_id === callId)
    if (shown) put({ ...shown, stage })
    put(await call(api.PUT('/api/routing/calls/{call_id}/stage', { params: { path: { call_id: callId } }, body: { stage } })))
  }

  /** The agent found who is calling: the pop shows their file, here and after a reload. */
  async function nameCaller(callId: string, customerId: number): Promise<void> {
    put(
      await call(
        api.PUT('/api/routing/calls/{call_id}/caller', { params: { path: { call_id: callId } }, body: { customer_id: customerId } }),
      ),
    )
  }

  function choose(callId: string): void {
    chosen.value = callId
  }

  /** Signed out: the next person at this browser starts with an empty desk (theirs comes from the server). */
  function clear(): void {
    generation += 1
    calls.value = []
    chosen.value = null
  }

  return { calls, current, refresh, listen, moveTo, nameCaller, choose, clear }
})
