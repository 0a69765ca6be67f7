// One WebSocket per tab to /api/live: events addressed to the signed-in user. It reconnects with
// backoff after a network drop or a server restart; listeners reload what they show from the API
// on `live.hello`, so nothing announced while the socket was down is missed.
import { defineStore } from 'pinia'
import { ref } from 'vue'

export interface LiveEvent {
  name: string
  data: Record<string, unknown>
}
type Listener = (event: LiveEvent) => void

export const useLive = defineStore('live', () => {
  const connected = ref(false)
  const listeners = new Set<Listener>()
  const feeds = new Map<string, number>()
  let socket: WebSocket | null = null
  let retry = 0
  let stopped = true
  let timer = 0

  function open(): void {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/live`
    socket = new WebSocket(url)
    socket.onopen = () => {
      connected.value = true
      retry = 0
      for (const feed of feeds.keys()) socket?.send(JSON.stringify({ subscribe: feed }))
    }
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as LiveEvent
      for (const listener of listeners) listener(event)
    }
    socket.onclose = () => {
      connected.value = false
      socket = null
      if (stopped) return
      retry = Math.min(retry + 1, 6)
      timer = window.setTimeout(open, 500 * 2 ** retry)
    }
  }

  function start(): void {
    if (!stopped) return
    stopped = false
    open()
  }

  function stop(): void {
    stopped = true
    window.clearTimeout(timer)
    socket?.close()
  }

  /** Ask for a feed (e.g. the wallboard); kept across reconnects. Counted: the feed stays until
   *  every view that asked for it has let it go (a view mounting before the last one unmounts). */
  function subscribe(feed: string): void {
    feeds.set(feed, (feeds.get(feed) ?? 0) + 1)
    if (feeds.get(feed) === 1 && socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ subscribe: feed }))
  }

  function unsubscribe(feed: string): void {
    const left = (feeds.get(feed) ?? 0) - 1
    if (left > 0) {
      feeds.set(feed, left)
      return
    }
    feeds.delete(feed)
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ unsubscribe: feed }))
  }

  function on(listener: Listener): () => void {
    listeners.add(listener)
    return () => {
      listeners.delete(listener)
    }
  }

  return { connected, start, stop, on, subscribe, unsubscribe }
})
