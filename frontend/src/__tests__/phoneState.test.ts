import { describe, expect, it } from 'vitest'
import { closeProblem, INITIAL, MAX_REFRESHES, type PhoneEvent, type PhoneState, refreshDelay, step, asksToAnswer } from '../phone/state'

function walk(events: PhoneEvent[], from: PhoneState = INITIAL) {
  let state = from
  const actions: string[] = []
  for (const event of events) {
    const next = step(state, event)
    state = next.state
    actions.push(...next.actions)
  }
  return { state, actions }
}

describe('the browser phone registration', () => {
  it('connects, registers and shows 已连接 with no problem', () => {
    const { state, actions } = walk([{ type: 'start' }, { type: 'connecting' }, { type: 'registered' }])
    expect(state).toMatchObject({ link: 'connected', problem: null })
    expect(actions).toEqual([])
  })

  it('says why the server closed the socket, and gives up only when retrying cannot help', () => {
    expect(closeProblem(4401, 'signed out')).toEqual({ problem: 'signed-out', retry: false })
    expect(closeProblem(4403, 'no extension for this user')).toEqual({ problem: 'no-extension', retry: false })
    expect(closeProblem(4403, 'requires permission calls.handle')).toEqual({ problem: 'no-permission', retry: false })
    expect(closeProblem(4503, 'no voice plane on this server')).toEqual({ problem: 'no-voice', retry: true })
    expect(closeProblem(1006, '')).toEqual({ problem: 'network', retry: true })

    const signedOut = walk([{ type: 'start' }, { type: 'registered' }, { type: 'closed', code: 4401, reason: '', inCall: false }])
    expect(signedOut.state).toMatchObject({ link: 'disconnected', problem: 'signed-out' })
    expect(signedOut.actions).toEqual(['stop'])
    // the UA's own reconnect attempts do not bring a stopped phone back to 正在连接
    expect(step(signedOut.state, { type: 'connecting' }).state.link).toBe('disconnected')
  })

  it('reconnects after a drop and restarts ICE of the call in progress once registered again', () => {
    const { state, actions } = walk([{ type: 'start' }, { type: 'registered' }, { type: 'closed', code: 1006, reason: '', inCall: true }])
    expect(state).toMatchObject({ link: 'connecting', problem: 'network', iceRestartOwed: true })
    expect(actions).toEqual([])
    const again = walk([{ type: 'connecting' }, { type: 'closed', code: 1006, reason: '', inCall: false }, { type: 'registered' }], state)
    expect(again.state).toMatchObject({ link: 'connected', problem: null, iceRestartOwed: false })
    expect(again.actions).toEqual(['restart-ice']) // owed since the first drop, done once
    expect(step(again.state, { type: 'registered' }).actions).toEqual([]) // a refresh: nothing to restart
  })

  it('does not restart ICE after a drop between calls', () => {
    const { actions } = walk([
      { type: 'start' },
      { type: 'registered' },
      { type: 'closed', code: 1001, reason: '', inCall: false },
      { type: 'registered' },
    ])
    expect(actions).toEqual([])
  })

  it('fetches a fresh credential on 401, and stops when the registrar refuses fresh ones too', () => {
    const once = walk([{ type: 'start' }, { type: 'registration-failed', status: 401 }])
    expect(once.actions).toEqual(['refresh-credentials'])
    expect(once.state.link).toBe('connecting')
    const timeout = step(once.state, { type: 'registration-failed', status: 408 })
    expect(timeout.actions).toEqual([]) // JsSIP retries by itself
    const refused = walk(
      Array.from({ length: MAX_REFRESHES + 1 }, () => ({ type: 'registration-failed', status: 401 }) as PhoneEvent),
      { ...INITIAL, link: 'connecting' },
    )
    expect(refused.actions).toEqual([...Array.from({ length: MAX_REFRESHES }, () => 'refresh-credentials'), 'stop'])
    expect(refused.state).toMatchObject({ link: 'disconnected', problem: 'credentials' })
    // a successful registration resets the count
    const healed = walk(
      [{ type: 'registration-failed', status: 401 }, { type: 'registered' }, { type: 'registration-failed', status: 401 }],
      {
        ...INITIAL,
        link: 'connecting',
      },
    )
    expect(healed.actions).toEqual(['refresh-credentials', 'refresh-credentials'])
  })

  it('is off until started and after a stop, whatever JsSIP still says', () => {
    expect(step(INITIAL, { type: 'registered' }).state.link).toBe('off')
    const stopped = walk([
      { type: 'start' },
      { type: 'registered' },
      { type: 'stop' },
      { type: 'closed', code: 1006, reason: '', inCall: true },
    ])
    expect(stopped.state).toEqual(INITIAL)
  })

  it('asks for a new credential five minutes before it expires, not too soon, not too late', () => {
    const now = Date.parse('2026-12-08T08:00:00Z')
    expect(refreshDelay('2026-12-08T20:00:00Z', now)).toBe((12 * 60 - 5) * 60_000)
    expect(refreshDelay('2026-12-08T08:01:00Z', now)).toBe(10_000)
    expect(refreshDelay('2027-12-08T08:00:00Z', now)).toBe(24 * 3600_000)
  })

  it("answers by itself only when the call asks it to (the agent's own click-to-dial)", () => {
    const request = (headers: Record<string, string>) => ({ getHeader: (name: string) => headers[name] })
    expect(asksToAnswer(request({ 'Answer-Mode': 'Auto' }))).toBe(true)
    expect(asksToAnswer(request({ 'Answer-Mode': 'auto;require' }))).toBe(true)
    expect(asksToAnswer(request({ 'Call-Info': '<sip:127.0.0.1>;answer-after=0' }))).toBe(true)
    expect(asksToAnswer(request({ 'Call-Info': '<sip:127.0.0.1>;answer-after=5' }))).toBe(false)
    expect(asksToAnswer(request({ 'Answer-Mode': 'Manual' }))).toBe(false)
    expect(asksToAnswer(request({}))).toBe(false) // a caller from the queue rings until clicked
  })
})
