// Durations and rates as people read them on the home page and the idle desktop.
import { i18n } from '../../i18n'

/** 45 秒, 4 分 20 秒, 2 小时 5 分, 3 天 2 小时; '—' for none. */
export function duration(seconds: number | null | undefined): string {
  const t = i18n.global.t
  if (seconds === null || seconds === undefined) return '—'
  const s = Math.max(0, Math.round(seconds))
  if (s < 60) return t('home.dur.s', { s })
  if (s < 3600) return t('home.dur.ms', { m: Math.floor(s / 60), s: s % 60 })
  if (s < 86400) return t('home.dur.hm', { h: Math.floor(s / 3600), m: Math.floor((s % 3600) / 60) })
  return t('home.dur.dh', { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) })
}

export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? '—' : `${Math.round(rate * 100)}%`
}

/** A callback's reason as the call log words it (the code itself when there are no words yet). */
export function reasonText(reason: string): string {
  const { t, te } = i18n.global
  return te(`calls.kind.${reason}`) ? t(`calls.kind.${reason}`) : reason
}
