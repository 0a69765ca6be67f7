// The browser phone's registration as a state machine, without JsSIP or the browser: what the
// agent sees (已连接 / 正在连接 / 未连接 and why) and what the phone must do next, for each thing
// that happens to the socket and the registration. The store (phone/store.ts) feeds it JsSIP's
// events and carries out the actions; phoneState.test.ts walks it.

/** What the agent sees: registered and ringable, on the way, or not (with the reason). */
export type Link = 'off' | 'connecting' | 'connected' | 'disconnected'

/** Why the phone is not (or was not just now) registered, worded in locales `browserPhone.problems`. */
export type Problem =
  | 'signed-out' // 4401: the session ended; sign in again
  | 'no-extension' // 4403: no extension given to this user
  | 'no-permission' // 4403: the role may not take calls
  | 'no-voice' // 4503: this server has no voice plane
  | 'network' // the socket dropped: reconnecting by itself
  | 'credentials' // the registrar refused even a fresh credential
  | 'unsupported' // no WebRTC in this browser

export interface PhoneState {
  link: Link
  problem: Problem | null
  /** The socket dropped during a call: restart ICE once registered again. */
  iceRestartOwed: boolean
  /** Fresh credentials fetched since the last successful registration (to stop a 401 loop). */
  refreshes: number
}

export type PhoneEvent =
  | { type: 'start' }
  | { type: 'connecting' }
  | { type: 'registered' }
  | { type: 'unregistered' }
  | { type: 'closed'; code: number; reason: string; inCall: boolean }
  | { type: 'registration-failed'; status: number | null }
  | { type: 'unsupported' }
  | { type: 'stop' }

export type PhoneAction =
  | 'stop' // let the UA go: retrying cannot help
  | 'refresh-credentials' // fetch a new credential and register with it
  | 'restart-ice' // re-INVITE the call in progress with an ICE restart

export const INITIAL: PhoneState = { link: 'off', problem: null, iceRestartOwed: false, refreshes: 0 }

/** Fresh credentials in a row before the phone gives up (a registrar that refuses them all). */
export const MAX_REFRESHES = 2

/** What a closed socket means (the server's close codes, docs/voice.md): the problem to show, and
 *  whether reconnecting can help. */
export function closeProblem(code: number, reason: string): { problem: Problem; retry: boolean } {
  if (code === 4401) return { problem: 'signed-out', retry: false }
  if (code === 4403) return { problem: /extension/i.test(reason) ? 'no-extension' : 'no-permission', retry: false }
  if (code === 4503) return { problem: 'no-voice', retry: true }
  return { problem: 'network', retry: true }
}

export function step(state: PhoneState, event: PhoneEvent): { state: PhoneState; actions: PhoneAction[] } {
  const same = { state, actions: [] as PhoneAction[] }
  if (state.link === 'off' && event.type !== 'start' && event.type !== 'unsupported') return same
  switch (event.type) {
    case 'start':
      return { state: { ...INITIAL, link: 'connecting' }, actions: [] }
    case 'unsupported':
      return { state: { ...INITIAL, link: 'disconnected', problem: 'unsupported' }, actions: [] }
    case 'stop':
      return { state: { ...INITIAL }, actions: [] }
    case 'connecting':
      if (state.link === 'disconnected') return same // given up: only a new start connects again
      return { state: { ...state, link: 'connecting' }, actions: [] }
    case 'registered':
      return {
        state: { ...state, link: 'connected', problem: null, iceRestartOwed: false, refreshes: 0 },
        actions: state.iceRestartOwed ? ['restart-ice'] : [],
      }
    case 'unregistered':
      if (state.link === 'disconnected') return same
      return { state: { ...state, link: 'connecting' }, actions: [] }
    case 'closed': {
      if (state.link === 'disconnected') return same
      const { problem, retry } = closeProblem(event.code, event.reason)
      if (!retry) return { state: { ...state, link: 'disconnected', problem, iceRestartOwed: false }, actions: ['stop'] }
      return {
        state: { ...state, link: 'connecting', problem, iceRestartOwed: state.iceRestartOwed || event.inCall },
        actions: [],
      }
    }
    case 'registration-failed': {
      if (state.link === 'disconnected') return same
      if (event.status !== 401 && event.status !== 403) return same // a timeout, a dropped socket: retried
      if (state.refreshes >= MAX_REFRESHES) return { state: { ...state, link: 'disconnected', problem: 'credentials' }, actions: ['stop'] }
      return { state: { ...state, link: 'connecting', refreshes: state.refreshes + 1 }, actions: ['refresh-credentials'] }
    }
  }
}

/** When to fetch the next credential: five minutes before it expires, not sooner than in 10 s
 *  and not later than in a day (timers overflow past 2^31 ms). */
export function refreshDelay(expiresAt: string, now: number): number {
  const left = Date.parse(expiresAt) - now - 5 * 60_000
  return Math.min(Math.max(left, 10_000), 24 * 3600_000)
}

/** Whether a ringing call asks the phone to answer by itself: the agent's own click-to-dial rings
 *  their phone first with `Answer-Mode: Auto` (RFC 5373) and `Call-Info: …;answer-after=0`. */
export function asksToAnswer(request: { getHeader(name: string): string | undefined }): boolean {
  const mode = (request.getHeader('Answer-Mode') ?? '').trim().toLowerCase()
  const info = request.getHeader('Call-Info') ?? ''
  return mode.startsWith('auto') || /;\s*answer-after\s*=\s*0\b/i.test(info)
}
