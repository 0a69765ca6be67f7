import { describe, expect, it } from 'vitest'
import { answered, dueWords, spreadRows } from '../components/quality/reviews'

describe('a scorecard form', () => {
  it('sends only what was answered: a value, or not applicable', () => {
    expect(answered({ greeting: { value: 1 }, verify: {}, needs: { na: true, value: 2 } })).toEqual({
      greeting: { value: 1 },
      needs: { na: true },
    })
  })
})

describe('a deadline in words', () => {
  const now = Date.parse('2026-12-05T10:00:00Z')
  it('says how long is left, or how long it is past, in two units', () => {
    expect(dueWords('2026-12-07T13:00:00Z', now)).toEqual({ key: 'qa.due.left', span: '2 天 3 小时' })
    expect(dueWords('2026-12-05T05:00:00Z', now)).toEqual({ key: 'qa.due.over', span: '5 小时' })
  })
  it('says nothing without a deadline', () => {
    expect(dueWords(null, now)).toBeNull()
    expect(dueWords('not a date', now)).toBeNull()
  })
})

describe("a calibration's spreads", () => {
  it('puts the overall spread first, then each item by its text, as numbers', () => {
    const spread = (key: string, s: string | null, agreed: boolean, text = '') => ({ key, text, low: null, high: null, spread: s, agreed })
    const rows = spreadRows(
      {
        overall: spread('overall', '12.50', false),
        items: [spread('verify', '100.00', false, '核实身份'), spread('greeting', null, true)],
        agreed: false,
        scores: {},
      },
      '总分',
    )
    expect(rows).toEqual([
      { key: 'overall', text: '总分', spread: 12.5, agreed: false },
      { key: 'verify', text: '核实身份', spread: 100, agreed: false },
      { key: 'greeting', text: 'greeting', spread: null, agreed: true },
    ])
  })
})
