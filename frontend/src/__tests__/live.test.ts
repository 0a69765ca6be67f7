import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { useLive } from '../stores/live'
import { RecordingSocket } from './socket'

describe('live feeds', () => {
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.stubGlobal('WebSocket', RecordingSocket)
  })
  afterEach(() => vi.unstubAllGlobals())

  it('keeps a feed while any view still wants it, and asks again after a reconnect', () => {
    const live = useLive()
    live.subscribe('tickets') // the list, before the socket is open
    live.start()
    RecordingSocket.last.opened()
    expect(RecordingSocket.last.sent).toEqual([{ subscribe: 'tickets' }])
    live.subscribe('tickets') // the next view mounts before the list unmounts
    live.unsubscribe('tickets')
    expect(RecordingSocket.last.sent).toEqual([{ subscribe: 'tickets' }])
    live.stop()
    live.start()
    RecordingSocket.last.opened()
    expect(RecordingSocket.last.sent).toEqual([{ subscribe: 'tickets' }])
    live.unsubscribe('tickets')
    expect(RecordingSocket.last.sent).toEqual([{ subscribe: 'tickets' }, { unsubscribe: 'tickets' }])
  })
})
