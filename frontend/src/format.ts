// How numbers read on screen, the same in every view (issue 19, "honest numbers"):
// durations in 天/小时/分 (en: d/h/min), money with its sign and a class that colours a negative
// amount red, and counts that say "100+" when a list was cut at its limit instead of stopping at 100.
import { i18n } from './i18n'

type Lang = 'zh-CN' | 'en'
const current = (): Lang => (i18n.global.locale.value === 'en' ? 'en' : 'zh-CN')

const UNITS: Record<Lang, { d: string; h: string; m: string; s: string; sep: string }> = {
  'zh-CN': { d: ' 天', h: ' 小时', m: ' 分', s: ' 秒', sep: ' ' },
  en: { d: ' d', h: ' h', m: ' min', s: ' s', sep: ' ' },
}

/** A span of time in its two largest units: 57 天 10 小时, 5 小时 12 分, 12 分, 45 秒 (en: 57 d 10 h,
 * 5 h 12 min, 12 min, 45 s). Seconds show only under a minute, or with `precise` under an hour
 * (a handle time: 4 分 20 秒); a dash when unknown. */
export function formatDuration(seconds: number | null | undefined, lang: Lang = current(), precise = false): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const u = UNITS[lang]
  const sign = seconds < 0 ? '-' : ''
  const total = precise ? Math.round(Math.abs(seconds)) : Math.abs(seconds)
  if (total < 60) return `${sign}${Math.floor(total)}${u.s}`
  if (precise && total < 3600) return `${sign}${Math.floor(total / 60)}${u.m}${u.sep}${total % 60}${u.s}`
  const minutes = Math.floor(total / 60)
  const d = Math.floor(minutes / 1440)
  const h = Math.floor((minutes % 1440) / 60)
  const m = minutes % 60
  const parts: string[] = []
  if (d) parts.push(`${d}${u.d}`)
  if (h) parts.push(`${h}${u.h}`)
  if (!d && m) parts.push(`${m}${u.m}`)
  return sign + (parts.length ? parts.slice(0, 2).join(u.sep) : `0${u.m}`)
}

/** A duration given in minutes (the API's working-minute figures). */
export const formatMinutes = (minutes: number | null | undefined, lang: Lang = current()): string =>
  minutes === null || minutes === undefined ? '—' : formatDuration(minutes * 60, lang)

/** ¥1,234.50 with the sign before the currency (-¥80.00); `decimals` 0 for report totals. */
export function formatMoney(value: string | number | null | undefined, decimals = 2): string {
  if (value === null || value === undefined || value === '' || !Number.isFinite(Number(value))) return '—'
  const n = Number(value)
  const digits = { minimumFractionDigits: decimals, maximumFractionDigits: decimals }
  return `${n < 0 ? '-' : ''}¥${Math.abs(n).toLocaleString('zh-CN', digits)}`
}

/** The class for an amount: `hl-money-negative` (red, style.css) below zero, nothing otherwise. */
export const moneyClass = (value: string | number | null | undefined): string =>
  value !== null && value !== undefined && Number(value) < 0 ? 'hl-money-negative' : ''

/** A count read from a list the server cut at `limit`: "100+" when the list is full, else exact. */
export const countLabel = (shown: number, limit: number): string => (shown >= limit ? `${limit}+` : String(shown))

/** A share as a whole percentage, a dash when there is none (nothing to divide by). */
export const formatPercent = (share: number | null | undefined): string =>
  share === null || share === undefined ? '—' : `${Math.round(share * 100)}%`

/** A duration as a clock reads it, for report figures: 1:02:03 (时:分:秒) from an hour up, 2:03
 * (分:秒) under it; a dash when unknown. Seconds are rounded. */
export function formatClock(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return '—'
  const total = Math.round(Math.abs(seconds))
  const sign = seconds < 0 && total ? '-' : ''
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = String(total % 60).padStart(2, '0')
  return h ? `${sign}${h}:${String(m).padStart(2, '0')}:${s}` : `${sign}${m}:${s}`
}
