// The recording player's pure parts: the server's peaks as the waveform's channels, the clock a
// player shows, links to a moment of a recording, and the auto-check segments to draw as regions.
// Kept apart from RecordingPlayer.vue so they are tested without a browser.

/** The peaks the server computes once per recording (GET /media/{token}): `rate` min/max pairs
 *  per second for each channel (a call: the caller's, then the agent's). */
export interface Peaks {
  duration: number
  rate: number
  channels: number[][]
}

/** The speeds a listener may choose. */
export const SPEEDS = [0.75, 1, 1.25, 1.5, 2] as const

/** How far the jump buttons move, in seconds. */
export const JUMP_SECONDS = 10

/** The player a listener used last: the one the space bar plays and pauses. */
export const lastUsed: { player: symbol | null } = { player: null }

/** Points drawn per channel at most: a 60-minute call at 50 pairs a second is 180,000 pairs; a
 *  screen shows a few thousand pixels, so buckets of pairs are drawn as their loudest point. */
export const MAX_POINTS = 12_000

/** Each channel's loudness per point, 0..1, from the min/max pairs: the larger of |min| and |max|,
 *  at most `maxPoints` points (a bucket keeps its loudest). Samples given as 16-bit integers
 *  (any value beyond ±1) are scaled to ±1. */
export function channelPeaks(peaks: Peaks, maxPoints = MAX_POINTS): number[][] {
  const loudest = Math.max(0, ...peaks.channels.map((values) => values.reduce((m, v) => Math.max(m, Math.abs(v)), 0)))
  const scale = loudest > 1 ? 1 / 32768 : 1
  return peaks.channels.map((values) => {
    const pairs = Math.floor(values.length / 2)
    const bucket = Math.max(1, Math.ceil(pairs / Math.max(1, maxPoints)))
    const out: number[] = []
    for (let start = 0; start < pairs; start += bucket) {
      let top = 0
      for (let i = start; i < Math.min(start + bucket, pairs); i++)
        top = Math.max(top, Math.abs(values[2 * i]), Math.abs(values[2 * i + 1]))
      out.push(Math.min(1, top * scale))
    }
    return out
  })
}

/** A moment as a player's clock: 0:05, 12:34, 1:02:03 (whole seconds, rounded down). */
export function clock(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.floor(seconds) : 0
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const two = (n: number): string => String(n).padStart(2, '0')
  return h ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`
}

/** What a listener types to jump: seconds (83, 83.5), m:ss (1:23) or h:mm:ss (1:02:03); null
 *  when it is none of those. */
export function parseClock(text: string): number | null {
  const parts = text.trim().split(':')
  if (parts.length > 3 || parts.some((p) => !/^\d+(\.\d+)?$/.test(p))) return null
  if (parts.slice(0, -1).some((p) => p.includes('.'))) return null
  if (parts.slice(1).some((p) => Number(p) >= 60)) return null
  return parts.reduce((total, p) => total * 60 + Number(p), 0)
}

/** The link to a moment of a recording: /recordings?id=12&t=83.5 on this site. */
export function momentLink(origin: string, id: number, seconds: number): string {
  const at = Math.max(0, Math.round(seconds * 10) / 10)
  return `${origin}/recordings?id=${id}&t=${at}`
}

/** The recording and moment a link asks for (`id`, `t` of the query), or null: an id is a
 *  positive integer, a moment a finite number of seconds ≥ 0 (0 when absent or unreadable). */
export function momentOf(query: Record<string, unknown>): { id: number; seconds: number } | null {
  const first = (v: unknown): string => String(Array.isArray(v) ? v[0] : (v ?? ''))
  const id = Number(first(query.id))
  if (!Number.isSafeInteger(id) || id < 1) return null
  const t = Number(first(query.t))
  return { id, seconds: Number.isFinite(t) && t > 0 ? t : 0 }
}

/** Where a moment lands: within the recording (0 … duration). */
export const clamp = (seconds: number, duration: number): number =>
  Math.min(Math.max(0, Number.isFinite(seconds) ? seconds : 0), Math.max(0, duration))

export type SegmentKind = 'silence' | 'overtalk'
export interface Segment {
  kind: SegmentKind
  start: number
  end: number
}

/** The silences and overtalk an auto-check found, in time order, for drawing as regions. The
 *  checks carry them under `segments` (quality/analysis: `silences`, `overtalk`) as lists of
 *  [start, end] (or {start, end}); anything else is skipped. Null checks (not analysed yet) have
 *  none. */
export function checkSegments(checks: Record<string, unknown> | null | undefined): Segment[] {
  if (!checks) return []
  const nested = checks.segments
  const from = nested && typeof nested === 'object' && !Array.isArray(nested) ? (nested as Record<string, unknown>) : checks
  const spans = (value: unknown): [number, number][] =>
    (Array.isArray(value) ? value : []).flatMap((span): [number, number][] => {
      const [start, end] = Array.isArray(span)
        ? [Number(span[0]), Number(span[1])]
        : span && typeof span === 'object'
          ? [Number((span as Record<string, unknown>).start), Number((span as Record<string, unknown>).end)]
          : [NaN, NaN]
      return Number.isFinite(start) && Number.isFinite(end) && end > start && start >= 0 ? [[start, end]] : []
    })
  const found: Segment[] = []
  const kinds: [SegmentKind, string[]][] = [
    ['silence', ['silences']],
    ['overtalk', ['overtalk', 'overtalks']],
  ]
  for (const [kind, keys] of kinds) {
    const key = keys.find((k) => Array.isArray(from[k]))
    if (key) for (const [start, end] of spans(from[key])) found.push({ kind, start, end })
  }
  return found.sort((a, b) => a.start - b.start)
}
