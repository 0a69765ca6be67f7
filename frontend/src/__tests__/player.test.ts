import { describe, expect, it } from 'vitest'
import { channelPeaks, checkSegments, clamp, clock, momentLink, momentOf, parseClock } from '../components/quality/player'

describe('the waveform from the server peaks', () => {
  it('draws each channel apart, as the louder of each min/max pair', () => {
    const drawn = channelPeaks({
      duration: 2,
      rate: 1,
      channels: [
        [-0.5, 0.25, -0.1, 0.8],
        [0, 0, -0.3, 0.2],
      ],
    })
    expect(drawn).toEqual([
      [0.5, 0.8],
      [0, 0.3],
    ])
  })

  it('scales 16-bit samples to the unit range', () => {
    const [caller] = channelPeaks({ duration: 1, rate: 1, channels: [[-16384, 32767]] })
    expect(caller[0]).toBeCloseTo(1, 3)
    expect(channelPeaks({ duration: 1, rate: 1, channels: [[-16384, 8192]] })[0][0]).toBeCloseTo(0.5, 5)
  })

  it('keeps an hour-long call to a few thousand points without losing a loud moment', () => {
    const pairs = 3600 * 50
    const values = new Array<number>(pairs * 2).fill(0.01)
    values[2 * 123_457 + 1] = 0.9 // one shout in the middle of the hour
    const [drawn] = channelPeaks({ duration: 3600, rate: 50, channels: [values] }, 6000)
    expect(drawn.length).toBeLessThanOrEqual(6000)
    expect(drawn.length).toBeGreaterThan(5000)
    expect(Math.max(...drawn)).toBe(0.9)
    expect(drawn.filter((v) => v === 0.9)).toHaveLength(1)
  })

  it('has nothing to draw for a recording without samples', () => {
    expect(channelPeaks({ duration: 0, rate: 50, channels: [[]] })).toEqual([[]])
  })
})

describe('the clock', () => {
  it('reads minutes and seconds, hours when there are some', () => {
    expect(clock(5)).toBe('0:05')
    expect(clock(754.9)).toBe('12:34')
    expect(clock(3723)).toBe('1:02:03')
    expect(clock(-3)).toBe('0:00')
    expect(clock(Number.NaN)).toBe('0:00')
  })

  it('understands what a listener types to jump', () => {
    expect(parseClock('83')).toBe(83)
    expect(parseClock('83.5')).toBe(83.5)
    expect(parseClock('1:23')).toBe(83)
    expect(parseClock(' 1:02:03 ')).toBe(3723)
    for (const wrong of ['', 'abc', '1:75', '1.5:20', '1:2:3:4', '-5', '1:']) expect(parseClock(wrong)).toBeNull()
  })

  it('keeps a jump inside the recording', () => {
    expect(clamp(-4, 60)).toBe(0)
    expect(clamp(75, 60)).toBe(60)
    expect(clamp(30, 60)).toBe(30)
  })
})

describe('links to a moment', () => {
  it('opens the recording at the moment it was copied', () => {
    const link = momentLink('https://hotline.example', 42, 83.46)
    expect(link).toBe('https://hotline.example/recordings?id=42&t=83.5')
    const url = new URL(link)
    expect(momentOf(Object.fromEntries(url.searchParams))).toEqual({ id: 42, seconds: 83.5 })
  })

  it('starts at the beginning when the moment is missing or unreadable, and refuses a bad id', () => {
    expect(momentOf({ id: '7' })).toEqual({ id: 7, seconds: 0 })
    expect(momentOf({ id: '7', t: 'soon' })).toEqual({ id: 7, seconds: 0 })
    expect(momentOf({ id: ['7', '8'], t: ['12'] })).toEqual({ id: 7, seconds: 12 })
    for (const id of [undefined, '', '0', '-1', '1.5', 'x']) expect(momentOf({ id, t: '3' })).toBeNull()
  })
})

describe('auto-check segments', () => {
  it('draws silences and overtalk in time order, in either shape', () => {
    const checks = {
      silence_count: 2,
      segments: { caller: [[0, 4]], agent: [[4, 9]], silences: [[30, 37.5], { start: 5, end: 11 }], overtalk: [[12, 14.2]] },
    }
    expect(checkSegments(checks)).toEqual([
      { kind: 'silence', start: 5, end: 11 },
      { kind: 'overtalk', start: 12, end: 14.2 },
      { kind: 'silence', start: 30, end: 37.5 },
    ])
  })

  it('has none before the call is analysed, and skips what is not a span', () => {
    expect(checkSegments(null)).toEqual([])
    expect(checkSegments({ silence_count: 3 })).toEqual([])
    expect(
      checkSegments({
        segments: {
          silences: [
            [4, 2],
            ['a', 3],
            [1, 2],
          ],
          overtalk: null,
        },
      }),
    ).toEqual([{ kind: 'silence', start: 1, end: 2 }])
  })
})
