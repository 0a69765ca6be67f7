import { mount } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { useLiveData, type LiveDataOptions } from '../composables'
import { RecordingSocket } from './socket'

/** A component showing what `fetcher` answers, kept live by `options`; counts the loads. */
function showing<T>(answers: () => T, options: LiveDataOptions<T>) {
  const loads = { count: 0 }
  let live!: ReturnType<typeof useLiveData<T>>
  const wrapper = mount(
    defineComponent({
      setup() {
        live = useLiveData(() => {
          loads.count += 1
          return Promise.resolve(answers())
        }, options)
        return () => h('div', String(live.data.value))
      },
    }),
  )
  return { wrapper, loads, live: () => live }
}

describe('live data', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.stubGlobal('WebSocket', RecordingSocket)
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.unstubAllGlobals()
  })

  it('reloads when its feed says something changed, once for changes close together', async () => {
    let open = 3
    const { wrapper, loads } = showing(() => `${open} open`, { feeds: ['tickets'], pollMs: 30_000 })
    RecordingSocket.last.opened()
    await vi.advanceTimersByTimeAsync(0)
    expect(RecordingSocket.last.sent).toEqual([{ subscribe: 'tickets' }])
    expect(wrapper.text()).toBe('3 open')

    open = 2
    RecordingSocket.last.push('tickets.changed', { ticket_id: 7 })
    RecordingSocket.last.push('tickets.changed', { ticket_id: 8 })
    RecordingSocket.last.push('notify.staff_notice') // not about tickets
    await vi.advanceTimersByTimeAsync(300)
    expect(wrapper.text()).toBe('2 open')
    expect(loads.count).toBe(2)

    await vi.advanceTimersByTimeAsync(60_000) // the socket is up: no polling
    expect(loads.count).toBe(2)
  })

  it('listens only to the events about its data', async () => {
    const { loads } = showing(() => 'ticket 7', { feeds: ['tickets'], about: (event) => event.data.ticket_id === 7 })
    RecordingSocket.last.opened()
    RecordingSocket.last.push('tickets.changed', { ticket_id: 8 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(loads.count).toBe(1)
    RecordingSocket.last.push('tickets.changed', { ticket_id: 7 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(loads.count).toBe(2)
  })

  it('polls while the socket is down, stops when it is up, and reloads on the reconnect', async () => {
    const { loads } = showing(() => 'board', { feeds: ['tickets'], pollMs: 10_000 })
    await vi.advanceTimersByTimeAsync(25_000) // still connecting
    expect(loads.count).toBe(3) // at once, then at 10 and 20 s

    RecordingSocket.last.opened()
    await vi.advanceTimersByTimeAsync(60_000)
    expect(loads.count).toBe(3)

    RecordingSocket.last.dropped() // the server restarts: the store retries after 1 s, then 2 s…
    const downAt = loads.count
    await vi.advanceTimersByTimeAsync(10_000)
    expect(loads.count).toBe(downAt + 1) // polled while down
    RecordingSocket.last.opened()
    RecordingSocket.last.push('live.hello', { user_id: 1 })
    await vi.advanceTimersByTimeAsync(300)
    expect(loads.count).toBe(downAt + 2) // what was announced meanwhile is read back
    await vi.advanceTimersByTimeAsync(60_000)
    expect(loads.count).toBe(downAt + 2)
  })

  it('takes data an event carries without asking the server', async () => {
    const { wrapper, loads } = showing(() => 'from the API', {
      feeds: ['wallboard'],
      take: (event) => (event.name === 'routing.wallboard' ? String(event.data.waiting) : undefined),
      pollMs: 10_000,
    })
    RecordingSocket.last.opened()
    RecordingSocket.last.push('routing.wallboard', { waiting: 4 })
    await vi.advanceTimersByTimeAsync(1000)
    expect(wrapper.text()).toBe('4')
    expect(loads.count).toBe(1)
  })

  it('polls all along what nothing announces, or what is announced only in part', async () => {
    const plain = showing(() => 'queues', { pollMs: 5000 })
    const partly = showing(() => 'me', { events: ['routing.offered'], pollMs: 3000, pollWhileLive: true })
    RecordingSocket.last.opened()
    await vi.advanceTimersByTimeAsync(15_000)
    expect(plain.loads.count).toBe(4)
    expect(partly.loads.count).toBe(6)
  })

  it('stops polling, listening and its feed when the component goes', async () => {
    const { wrapper, loads } = showing(() => 'list', { feeds: ['tickets'], pollMs: 1000 })
    await vi.advanceTimersByTimeAsync(0)
    const socket = RecordingSocket.last
    wrapper.unmount()
    await vi.advanceTimersByTimeAsync(10_000)
    socket.opened()
    socket.push('tickets.changed', { ticket_id: 1 })
    await vi.advanceTimersByTimeAsync(10_000)
    expect(loads.count).toBe(1)
    expect(socket.sent).toEqual([]) // the feed was let go before the socket opened
  })

  it('reads once more when a change comes during a read, never two reads at once', async () => {
    let release: () => void = () => undefined
    let reading = 0
    let most = 0
    const loads = { count: 0 }
    mount(
      defineComponent({
        setup() {
          const { refresh } = useLiveData(
            async () => {
              loads.count += 1
              most = Math.max(most, ++reading)
              await new Promise<void>((done) => (release = done))
              reading -= 1
            },
            { events: ['tickets.'] },
          )
          void refresh()
          void refresh()
          return () => h('div')
        },
      }),
    )
    release()
    await vi.advanceTimersByTimeAsync(0)
    release()
    await vi.advanceTimersByTimeAsync(0)
    expect(loads.count).toBe(2)
    expect(most).toBe(1)
  })
})
