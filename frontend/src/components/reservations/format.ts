// How a reservation's status reads on screen.
type Tone = 'success' | 'warning' | 'danger' | 'info'
const TONES: Record<string, Tone> = {
  confirmed: 'success',
  checked_in: 'warning',
  tentative: 'info',
  cancelled: 'danger',
  no_show: 'danger',
  conflict: 'danger',
}
export const statusTone = (status: string): Tone => TONES[status] ?? 'info'
