// Sounds and meters of the browser phone with WebAudio: the ring (China's ringing cadence, 450 Hz,
// 1 s on and 4 s off, generated — no file to ship) and the input and output level meters.
import { level } from './devices'

let context: AudioContext | null = null

function audio(): AudioContext | null {
  if (typeof AudioContext === 'undefined') return null
  context ??= new AudioContext()
  if (context.state === 'suspended') void context.resume()
  return context
}

/** Ring until the returned function is called. The ring plays through `sinkId` where the browser
 *  lets an AudioContext choose its output. */
export function ring(sinkId = ''): () => void {
  const ctx = audio()
  if (!ctx) return () => {}
  const sink = ctx as AudioContext & { setSinkId?: (id: string) => Promise<void> }
  if (sink.setSinkId) void sink.setSinkId(sinkId).catch(() => {})
  const gain = ctx.createGain()
  gain.gain.value = 0
  gain.connect(ctx.destination)
  const tone = ctx.createOscillator()
  tone.frequency.value = 450
  tone.connect(gain)
  tone.start()
  const burst = (): void => {
    const t = ctx.currentTime
    gain.gain.setValueAtTime(0, t)
    gain.gain.linearRampToValueAtTime(0.25, t + 0.02)
    gain.gain.setValueAtTime(0.25, t + 1)
    gain.gain.linearRampToValueAtTime(0, t + 1.02)
  }
  burst()
  const timer = window.setInterval(burst, 5000)
  return () => {
    window.clearInterval(timer)
    tone.stop()
    tone.disconnect()
    gain.disconnect()
  }
}

/** A level meter on a stream: calls `show` with 0…1 ten times a second until stopped. */
export function meter(stream: MediaStream, show: (value: number) => void): () => void {
  const ctx = audio()
  if (!ctx || !stream.getAudioTracks().length) return () => {}
  const source = ctx.createMediaStreamSource(stream)
  const analyser = ctx.createAnalyser()
  analyser.fftSize = 512
  source.connect(analyser)
  const samples = new Uint8Array(analyser.fftSize)
  const timer = window.setInterval(() => {
    analyser.getByteTimeDomainData(samples)
    show(level(samples))
  }, 100)
  return () => {
    window.clearInterval(timer)
    source.disconnect()
    show(0)
  }
}
