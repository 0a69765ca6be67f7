import { describe, expect, it } from 'vitest'
import { devicesOf, level, loadChoice, micProblem, resolve, saveChoice, STORAGE_KEY } from '../phone/devices'

const DEVICES = [
  { deviceId: 'default', kind: 'audioinput', label: 'Default' },
  { deviceId: 'mic-a', kind: 'audioinput', label: 'Headset' },
  { deviceId: 'mic-b', kind: 'audioinput', label: 'Webcam' },
  { deviceId: 'spk-a', kind: 'audiooutput', label: 'Headset' },
  { deviceId: 'cam', kind: 'videoinput', label: 'Webcam' },
]

function memory(): Storage {
  const data = new Map<string, string>()
  return {
    getItem: (k: string) => data.get(k) ?? null,
    setItem: (k: string, v: string) => void data.set(k, v),
  } as Storage
}

describe('the browser phone devices', () => {
  it('keeps the chosen microphone and speaker in this browser', () => {
    const storage = memory()
    expect(loadChoice(storage)).toEqual({ input: '', output: '' }) // the defaults
    saveChoice(storage, { input: 'mic-a', output: 'spk-a' })
    expect(loadChoice(storage)).toEqual({ input: 'mic-a', output: 'spk-a' })
    storage.setItem(STORAGE_KEY, '{not json')
    expect(loadChoice(storage)).toEqual({ input: '', output: '' })
  })

  it('lists the devices of a kind and falls back to the default when the chosen one is gone', () => {
    expect(devicesOf(DEVICES, 'audioinput').map((d) => d.deviceId)).toEqual(['mic-a', 'mic-b'])
    expect(resolve(DEVICES, 'audioinput', 'mic-b')).toBe('mic-b')
    expect(resolve(DEVICES, 'audioinput', 'unplugged')).toBe('')
    expect(resolve(DEVICES, 'audiooutput', '')).toBe('')
  })

  it('says why the microphone could not be opened', () => {
    const named = (name: string) => Object.assign(new Error(name), { name })
    expect(micProblem(named('NotAllowedError'))).toBe('denied')
    expect(micProblem(named('NotFoundError'))).toBe('missing')
    expect(micProblem(named('NotReadableError'))).toBe('busy')
    expect(micProblem(named('TypeError'))).toBe('failed')
    expect(micProblem(named('NotAllowedError'), false)).toBe('insecure')
  })

  it('reads a level from samples: silence 0, a loud tone near full', () => {
    expect(level(new Uint8Array(256).fill(128))).toBe(0)
    const tone = Uint8Array.from({ length: 256 }, (_, n) => 128 + Math.round(100 * Math.sin(n / 4)))
    expect(level(tone)).toBeGreaterThan(0.9)
  })
})
