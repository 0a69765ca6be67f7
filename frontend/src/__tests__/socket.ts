/** The page's WebSocket, recording what it sent: the server only ever sees these. The test plays
 *  the server: `opened()`, `push(event)`, `dropped()`. */
export class RecordingSocket {
  static OPEN = 1
  static last: RecordingSocket
  readyState = 0
  sent: unknown[] = []
  onopen: (() => void) | null = null
  onmessage: ((m: { data: string }) => void) | null = null
  onclose: (() => void) | null = null
  constructor() {
    RecordingSocket.last = this
  }
  send(text: string): void {
    this.sent.push(JSON.parse(text))
  }
  close(): void {
    this.readyState = 3
    this.onclose?.()
  }
  opened(): void {
    this.readyState = 1
    this.onopen?.()
  }
  push(name: string, data: Record<string, unknown> = {}): void {
    this.onmessage?.({ data: JSON.stringify({ name, data }) })
  }
  dropped(): void {
    this.close()
  }
}
