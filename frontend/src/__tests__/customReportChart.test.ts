import { describe, expect, it } from 'vitest'
import { cell, chartOption, type Result } from '../components/reports/custom/chart'

const base: Result = {
  subject: 'bookings',
  title: '预订',
  start: '2025-03-01',
  end: '2025-03-31',
  timezone: 'Asia/Shanghai',
  chart: 'bar',
  columns: [
    { key: 'month', label: '月份', kind: 'dimension' },
    { key: 'source', label: '来源', kind: 'dimension' },
    { key: 'bookings', label: '预订数', kind: 'count' },
  ],
  rows: [
    ['2025-03', '电话', 3],
    ['2025-03', '网站', 1],
    ['2025-04', '电话', 2],
  ],
  totals: [null, null, 6],
}

describe('a custom report drawn', () => {
  it('draws one series per value of the second dimension, gaps left empty', () => {
    const option = chartOption(base) as { xAxis: { data: string[] }; series: { name: string; data: (number | null)[] }[] }
    expect(option.xAxis.data).toEqual(['2025-03', '2025-04'])
    expect(option.series.map((s) => [s.name, s.data])).toEqual([
      ['电话', [3, 2]],
      ['网站', [1, null]],
    ])
  })

  it('draws rates as percentages, a pie over one dimension, nothing for a table', () => {
    const one: Result = {
      ...base,
      chart: 'pie',
      columns: [base.columns[1], { key: 'rate', label: '取消率', kind: 'rate' }],
      rows: [
        ['电话', 0.3333],
        ['网站', 0],
      ],
      totals: [null, 0.25],
    }
    const pie = chartOption(one) as { series: { data: { name: string; value: number }[] }[] }
    expect(pie.series[0].data).toEqual([
      { name: '电话', value: 33.33 },
      { name: '网站', value: 0 },
    ])
    expect(chartOption({ ...base, chart: 'table' })).toBeNull()
    expect(cell(0.25, 'rate')).toBe('25.0%')
    expect(cell('1750.5', 'money')).toBe('1750.50')
    expect(cell(null, 'count')).toBe('—')
  })
})
