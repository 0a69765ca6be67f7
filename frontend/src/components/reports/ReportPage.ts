// What the report page computes, pure (tested in __tests__/reportPage.test.ts): the default range
// for a granularity, a figure shown by its kind, the change against the comparison, and the chart.
import type { ChartOption } from '../charts/HlChart.vue'
import { formatClock } from '../../format'
import { agentReasonLabel } from '../../labels'

export type Granularity = 'interval' | 'hour' | 'day' | 'week' | 'month'
export type Compare = 'none' | 'previous' | 'year'
export type FigureKind = 'count' | 'money' | 'rate' | 'score' | 'duration' | 'reasons'

/** One figure of a report: its key in the API's answer, its label (an i18n key), how to show it,
 *  and whether the chart draws it (as bars, or as a line on the right axis for rates). */
export interface Figure {
  key: string
  label: string
  kind?: FigureKind
  chart?: boolean
}

/** The last `days` days up to `today` (YYYY-MM-DD, the site's day). */
export function lastDays(today: string, days: number): { start: string; end: string } {
  const end = new Date(`${today}T00:00:00Z`)
  const start = new Date(end.getTime() - (days - 1) * 86_400_000)
  return { start: start.toISOString().slice(0, 10), end: today }
}

/** How many days a granularity shows by default: a day of intervals or hours, a month of days… */
export const DEFAULT_DAYS: Record<Granularity, number> = { interval: 1, hour: 1, day: 30, week: 91, month: 365 }

/** The same bounds the server enforces (core/periods.py), to say so before asking. */
export function rangeProblem(start: string, end: string, granularity: Granularity): 'reversed' | 'too-long' | 'intervals' | null {
  if (!start || !end) return null
  const days = (Date.parse(`${end}T00:00:00Z`) - Date.parse(`${start}T00:00:00Z`)) / 86_400_000 + 1
  if (days < 1) return 'reversed'
  if (days > 366) return 'too-long'
  if (granularity === 'interval' && days > 31) return 'intervals'
  return null
}

export function asNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === '') return null
  const n = typeof value === 'number' ? value : Number(value)
  return Number.isFinite(n) ? n : null
}

/** A figure as the table shows it: counts as they are, money to the yuan with separators, rates as
 *  a percentage, scores to two places, durations (seconds) as 时:分:秒 or 分:秒, not-ready time by
 *  reason as reason and duration; '—' when there is nothing (no calls: no rate). */
export function showFigure(value: unknown, kind: FigureKind = 'count', locale = 'zh-CN'): string {
  if (kind === 'reasons') {
    // seconds per reason (not-ready time by reason): 午餐 1:00:00 · 培训 30:00
    const parts = Object.entries((value ?? {}) as Record<string, unknown>).map(
      ([k, v]) => `${agentReasonLabel(k) || '—'} ${formatClock(asNumber(v))}`,
    )
    return parts.length ? parts.join(' · ') : '—'
  }
  const n = asNumber(value)
  if (n === null) return '—'
  if (kind === 'rate') return `${(n * 100).toFixed(1)}%`
  if (kind === 'score') return n.toFixed(2)
  if (kind === 'duration') return formatClock(n)
  if (kind === 'money') return n.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
  return n.toLocaleString(locale)
}

/** The change from the comparison to now: a fraction for counts and money (+0.25 is 25 % more),
 *  the difference in points for rates and scores; null when the comparison has nothing. */
export function change(now: unknown, before: unknown, kind: FigureKind = 'count'): number | null {
  const a = asNumber(now)
  const b = asNumber(before)
  if (a === null || b === null) return null
  if (kind === 'rate' || kind === 'score') return a - b
  if (kind === 'reasons') return null
  return b === 0 ? null : (a - b) / b
}

/** The bucket's label on the axis: the time for intervals and hours, the day otherwise. */
export function bucketLabel(start: string, granularity: Granularity): string {
  const local = start.slice(0, 16).replace('T', ' ')
  if (granularity === 'interval' || granularity === 'hour') return local.slice(5)
  if (granularity === 'month') return local.slice(0, 7)
  return local.slice(0, 10)
}

/** The chart: a bar per counted figure, a line (right axis, percent) per rate. */
export function reportChart(
  series: Record<string, unknown>[],
  figures: Figure[],
  granularity: Granularity,
  label: (key: string) => string,
): ChartOption {
  const drawn = figures.filter((f) => f.chart)
  const rates = drawn.some((f) => f.kind === 'rate')
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: rates ? 48 : 16, top: 32, bottom: 24 },
    xAxis: { type: 'category', data: series.map((p) => bucketLabel(String(p.start), granularity)) },
    yAxis: rates ? [{ type: 'value' }, { type: 'value', min: 0, max: 100, axisLabel: { formatter: '{value}%' } }] : [{ type: 'value' }],
    series: drawn.map((f) =>
      f.kind === 'rate'
        ? {
            type: 'line' as const,
            name: label(f.label),
            yAxisIndex: 1,
            data: series.map((p) => {
              const n = asNumber(p[f.key])
              return n === null ? null : Math.round(n * 1000) / 10
            }),
          }
        : { type: 'bar' as const, name: label(f.label), data: series.map((p) => asNumber(p[f.key]) ?? 0) },
    ),
  } as ChartOption
}
