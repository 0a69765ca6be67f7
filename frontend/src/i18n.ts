import { createI18n } from 'vue-i18n'
import en from './locales/en'
import zhCN from './locales/zh-CN'
import { type ProblemError, setRequestLocale } from './api/client'

export type Locale = 'zh-CN' | 'en'
const STORAGE_KEY = 'hotline.locale'

export function initialLocale(): Locale {
  const saved = localStorage.getItem(STORAGE_KEY)
  return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: initialLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
})

setRequestLocale(i18n.global.locale.value)

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  setRequestLocale(locale)
  localStorage.setItem(STORAGE_KEY, locale)
  document.documentElement.lang = locale
}

/** The message to show for a problem. A domain error that names its rule (`reason`) is worded by
 *  the server in the user's language (Accept-Language) and said as it is; otherwise the UI's words
 *  for its code, else the server's detail. */
export function problemMessage(problem: ProblemError): string {
  const key = `errors.${problem.code}`
  if (problem.reason) return problem.detail
  return i18n.global.te(key) ? i18n.global.t(key) : problem.detail
}

export function permissionLabel(code: string): string {
  const key = `permissions.${code.replace(/\./g, '_')}`
  return i18n.global.te(key) ? i18n.global.t(key) : code
}

export function roleLabel(code: string): string {
  const key = `roles.${code}`
  return i18n.global.te(key) ? i18n.global.t(key) : code
}

/** A timestamp from the API in the user's locale and time zone; a dash when absent. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—'
  return new Date(iso).toLocaleString(i18n.global.locale.value === 'en' ? 'en-GB' : 'zh-CN', { hour12: false })
}

/** A calendar day as YYYY-MM-DD in the browser's time zone, `offset` days from `from` (today). */
export function localDay(offset = 0, from?: string): string {
  const base = from ? new Date(`${from}T12:00:00`) : new Date()
  base.setDate(base.getDate() + offset)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${base.getFullYear()}-${pad(base.getMonth() + 1)}-${pad(base.getDate())}`
}
