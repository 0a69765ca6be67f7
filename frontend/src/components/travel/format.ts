// How a travel order's money and state read on screen.
import type { Schemas } from '../../api/client'

export type OrderDetail = Schemas['OrderDetail']

/** ¥1,234.50, with the sign in front of the currency (-¥80.00). */
export const yuan = (v: string | number): string =>
  `${Number(v) < 0 ? '-' : ''}¥${Math.abs(Number(v)).toLocaleString('zh-CN', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`

type Tone = 'success' | 'warning' | 'danger' | 'info' | 'primary'
const TONES: Record<string, Tone> = {
  closed: 'success',
  void: 'danger',
  enquiry: 'warning',
  return_visit: 'warning',
  signed: 'primary',
  reviewed: 'primary',
}
export const stateTone = (state: string): Tone => TONES[state] ?? 'info'

/** A catalogue price as the catalogue shows it: ¥3,999 (decimals only when there are some). */
export const price = (v: string | number): string => `¥${Number(v).toLocaleString('zh-CN')}`
