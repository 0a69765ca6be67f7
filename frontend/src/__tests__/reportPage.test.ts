import { describe, expect, it } from 'vitest'
import { bucketLabel, change, lastDays, rangeProblem, reportChart, showFigure } from '../components/reports/ReportPage'
import { MENU, menuSections, visibleMenu } from '../menu'

describe('the report page', () => {
  it('starts on the last days up to today, across a month end', () => {
    expect(lastDays('2025-03-02', 7)).toEqual({ start: '2025-02-24', end: '2025-03-02' })
    expect(lastDays('2025-03-02', 1)).toEqual({ start: '2025-03-02', end: '2025-03-02' })
  })

  it('says what the server would refuse before asking', () => {
    expect(rangeProblem('2025-03-02', '2025-03-01', 'day')).toBe('reversed')
    expect(rangeProblem('2024-01-01', '2024-12-31', 'month')).toBeNull() // 366 days
    expect(rangeProblem('2024-01-01', '2025-01-01', 'month')).toBe('too-long')
    expect(rangeProblem('2025-01-01', '2025-02-01', 'interval')).toBe('intervals')
    expect(rangeProblem('2025-01-01', '2025-01-31', 'interval')).toBeNull()
  })

  it('shows money, rates and scores by kind, and nothing as a dash', () => {
    expect(showFigure('1750.50', 'money', 'en')).toBe('1,750.50')
    expect(showFigure(0.6667, 'rate')).toBe('66.7%')
    expect(showFigure(4, 'score')).toBe('4.00')
    expect(showFigure(null, 'rate')).toBe('—')
    expect(showFigure(12, 'count', 'en')).toBe('12')
  })

  it('compares counts as a fraction and rates in points; no base, no change', () => {
    expect(change(5, 4)).toBe(0.25)
    expect(change('90.00', '120.00', 'money')).toBe(-0.25)
    expect(change(0.5, 0.75, 'rate')).toBe(-0.25)
    expect(change(3, 0)).toBeNull()
    expect(change(3, null)).toBeNull()
  })

  it('charts counts as bars and rates as a percent line on the right axis', () => {
    const series = [
      { start: '2025-03-03T00:00:00+08:00', bookings: 2, conversion: 0.5 },
      { start: '2025-03-10T00:00:00+08:00', bookings: 0, conversion: null },
    ]
    const option = reportChart(
      series,
      [
        { key: 'bookings', label: 'b', chart: true },
        { key: 'conversion', label: 'c', kind: 'rate', chart: true },
        { key: 'revenue', label: 'r', kind: 'money' },
      ],
      'week',
      (k) => k.toUpperCase(),
    ) as { series: { type: string; name: string; data: (number | null)[] }[]; xAxis: { data: string[] } }
    expect(option.xAxis.data).toEqual(['2025-03-03', '2025-03-10'])
    expect(option.series.map((s) => [s.type, s.name, s.data])).toEqual([
      ['bar', 'B', [2, 0]],
      ['line', 'C', [50, null]],
    ])
    expect(bucketLabel('2025-03-03T09:15:00+08:00', 'interval')).toBe('03-03 09:15')
    expect(bucketLabel('2025-03-01T00:00:00+08:00', 'month')).toBe('2025-03')
  })
})

describe('call report figures', () => {
  it('shows durations as 时:分:秒 or 分:秒 and not-ready time by reason', () => {
    expect(showFigure(25, 'duration')).toBe('0:25')
    expect(showFigure(125.4, 'duration')).toBe('2:05')
    expect(showFigure(3 * 3600 + 62, 'duration')).toBe('3:01:02')
    expect(showFigure(null, 'duration')).toBe('—')
    expect(showFigure({ 午餐: 3600, 培训: 90 }, 'reasons')).toBe('午餐 1:00:00 · 培训 1:30')
    expect(showFigure({}, 'reasons')).toBe('—')
    expect(change({ a: 1 }, { a: 2 }, 'reasons')).toBeNull()
  })
})

describe('the 统计分析 menu group', () => {
  const supervisor = ['reports.read', 'tickets.read', 'bookings.read', 'orders.read', 'messages.read', 'agents.read', 'teams.write']
  const finance = ['reports.read', 'bookings.read', 'orders.read', 'customers.read', 'finance.review']

  it('holds every report a supervisor may see, and the teams screen sits outside it', () => {
    const group = menuSections(visibleMenu(MENU, supervisor)).find((s) => s.kind === 'group' && s.name === 'reports')
    expect(group?.kind === 'group' && group.items.map((i) => i.name)).toEqual([
      'report-tickets',
      'report-bookings',
      'report-orders',
      'travel-report',
      'report-messages',
      'report-surveys',
      'report-queues',
      'report-agents',
      'report-ivr',
      'report-chats',
      'report-assessment',
      'report-custom',
    ])
    expect(visibleMenu(MENU, supervisor).map((i) => i.name)).toContain('teams')
  })

  it('gives finance the money reports only', () => {
    const group = menuSections(visibleMenu(MENU, finance)).find((s) => s.kind === 'group' && s.name === 'reports')
    expect(group?.kind === 'group' && group.items.map((i) => i.name)).toEqual([
      'report-bookings',
      'report-orders',
      'travel-report',
      'report-custom',
    ])
  })
})
