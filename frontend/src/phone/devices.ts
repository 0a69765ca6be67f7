// The browser phone's microphone and speaker: which the agent chose (kept in localStorage, per
// browser, since device ids are), which to use when that one is gone, and what a refused or
// absent microphone means in words. No browser API here beyond the shapes: devices.test.ts.

export interface DeviceChoice {
  /** A microphone's deviceId ('' : the browser's default). */
  input: string
  /** A speaker's deviceId ('' : the default); only where the browser can choose (setSinkId). */
  output: string
}

/** The fields of MediaDeviceInfo used here. */
export interface Device {
  deviceId: string
  kind: string
  label: string
}

export const STORAGE_KEY = 'hotline.phone.devices'

type Storage = Pick<globalThis.Storage, 'getItem' | 'setItem'>

export function loadChoice(storage: Storage): DeviceChoice {
  try {
    const saved = JSON.parse(storage.getItem(STORAGE_KEY) ?? '{}') as Partial<DeviceChoice>
    return {
      input: typeof saved.input === 'string' ? saved.input : '',
      output: typeof saved.output === 'string' ? saved.output : '',
    }
  } catch {
    return { input: '', output: '' }
  }
}

export function saveChoice(storage: Storage, choice: DeviceChoice): void {
  storage.setItem(STORAGE_KEY, JSON.stringify(choice))
}

/** The devices of one kind the agent can pick from, 'default' first ('' stands for it). */
export function devicesOf(devices: Device[], kind: 'audioinput' | 'audiooutput'): Device[] {
  return devices.filter((d) => d.kind === kind && d.deviceId && d.deviceId !== 'default' && d.deviceId !== 'communications')
}

/** The device to use: the one chosen if it is still there, else the default (''). */
export function resolve(devices: Device[], kind: 'audioinput' | 'audiooutput', chosen: string): string {
  return chosen && devicesOf(devices, kind).some((d) => d.deviceId === chosen) ? chosen : ''
}

/** Why the microphone could not be opened (getUserMedia's error), worded in
 *  `browserPhone.mic.<problem>`. */
export type MicProblem = 'denied' | 'missing' | 'busy' | 'insecure' | 'failed'

export function micProblem(error: unknown, secure = true): MicProblem {
  if (!secure) return 'insecure'
  const name = error instanceof Error || (typeof error === 'object' && error !== null) ? String((error as { name?: unknown }).name) : ''
  if (name === 'NotAllowedError' || name === 'SecurityError' || name === 'PermissionDeniedError') return 'denied'
  if (name === 'NotFoundError' || name === 'OverconstrainedError' || name === 'DevicesNotFoundError') return 'missing'
  if (name === 'NotReadableError' || name === 'AbortError' || name === 'TrackStartError') return 'busy'
  return 'failed'
}

/** A level meter's reading from time-domain samples (bytes around 128): RMS on 0…1, boosted so
 *  normal speech fills the bar. */
export function level(samples: Uint8Array): number {
  if (!samples.length) return 0
  let sum = 0
  for (const sample of samples) {
    const v = (sample - 128) / 128
    sum += v * v
  }
  return Math.min(1, Math.sqrt(sum / samples.length) * 3)
}
