// A custom report's result as an ECharts option: the first dimension along the axis, one series
// per measure (bars or lines); with a second dimension, one series per value of it for the first
// measure. A pie shows the first measure over the one dimension. Rates are drawn as percentages.
import type { Schemas } from '../../../api/client'

export type Result = Schemas['ResultOut']

function num(value: unknown, kind: string): number | null {
  if (value === null || value === undefined) return null
  const n = Number(value)
  return kind === 'rate' ? Math.round(n * 10000) / 100 : n
}

export type Option = Record<string, unknown>

export function chartOption(result: Result): Option | null {
  const dims = result.columns.filter((c) => c.kind === 'dimension').length
  if (result.chart === 'table' || dims === 0 || !result.rows.length) return null
  const measures = result.columns.slice(dims)
  if (result.chart === 'pie') {
    return {
      tooltip: { trigger: 'item' },
      legend: { type: 'scroll', bottom: 0 },
      series: [
        {
          type: 'pie',
          radius: ['30%', '65%'],
          name: measures[0].label,
          data: result.rows.map((r) => ({ name: String(r[0]), value: num(r[dims], measures[0].kind) ?? 0 })),
        },
      ],
    }
  }
  const type = result.chart === 'line' ? 'line' : 'bar'
  if (dims === 2) {
    const axis = [...new Set(result.rows.map((r) => String(r[0])))]
    const groups = [...new Set(result.rows.map((r) => String(r[1])))]
    return {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', top: 0 },
      grid: { left: 48, right: 16, top: 36, bottom: 28 },
      xAxis: { type: 'category', data: axis },
      yAxis: { type: 'value', name: measures[0].label },
      series: groups.map((g) => ({
        type,
        name: g,
        data: axis.map((a) => {
          const row = result.rows.find((r) => String(r[0]) === a && String(r[1]) === g)
          return row ? num(row[2], measures[0].kind) : null
        }),
      })),
    }
  }
  return {
    tooltip: { trigger: 'axis' },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 36, bottom: 28 },
    xAxis: { type: 'category', data: result.rows.map((r) => String(r[0])) },
    yAxis: { type: 'value' },
    series: measures.map((m, i) => ({ type, name: m.label, data: result.rows.map((r) => num(r[dims + i], m.kind)) })),
  }
}

/** A figure as the table shows it: rates as percentages, money to the fen, nothing as —. */
export function cell(value: unknown, kind: string): string {
  if (value === null || value === undefined) return '—'
  if (kind === 'rate') return `${(Number(value) * 100).toFixed(1)}%`
  if (kind === 'money') return Number(value).toFixed(2)
  return typeof value === 'object' ? JSON.stringify(value) : String(value as string | number)
}
