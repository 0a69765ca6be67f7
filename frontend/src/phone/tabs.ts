// One browser phone per browser: of the agent's open tabs, the one holding a Web Lock registers
// (one UA, one Contact); when it closes the lock passes to the next. The others mirror its state
// over a BroadcastChannel and can answer through it.

export type TabMessage =
  | { kind: 'state'; link: string; problem: string | null; ringing: boolean; inCall: boolean; micProblem: string | null }
  | { kind: 'ask' } // a new tab wants the state
  | { kind: 'answer' } // a tab without the phone asks the one with it to answer

/** Hold `name` while this tab lives (or until released), calling `granted` once it is ours. */
export function holdLock(name: string, granted: () => void): () => void {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined
  if (!locks) {
    granted() // no Web Locks: every tab is on its own
    return () => {}
  }
  let release: () => void = () => {}
  const controller = new AbortController()
  locks
    .request(name, { signal: controller.signal }, () => {
      granted()
      return new Promise<void>((resolve) => (release = resolve))
    })
    .catch(() => {}) // aborted before it was granted
  return () => {
    controller.abort()
    release()
  }
}

export function channel(name: string, heard: (message: TabMessage) => void): { post: (m: TabMessage) => void; close: () => void } {
  if (typeof BroadcastChannel === 'undefined') return { post: () => {}, close: () => {} }
  const bc = new BroadcastChannel(name)
  bc.onmessage = (event: MessageEvent<TabMessage>) => heard(event.data)
  return { post: (m) => bc.postMessage(m), close: () => bc.close() }
}
