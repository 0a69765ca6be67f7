import { describe, expect, it } from 'vitest'
import { countLabel, formatDuration, formatMinutes, formatMoney, formatPercent, moneyClass } from '../format'

describe('durations read in days, hours and minutes', () => {
  it('turns 1378 hours into 57 days 10 hours, not a count of hours', () => {
    expect(formatDuration(1378 * 3600, 'zh-CN')).toBe('57 天 10 小时')
    expect(formatDuration(1378 * 3600, 'en')).toBe('57 d 10 h')
  })

  it('shows hours and minutes under a day, minutes under an hour, seconds under a minute', () => {
    expect(formatDuration(5 * 3600 + 12 * 60 + 40, 'zh-CN')).toBe('5 小时 12 分')
    expect(formatDuration(3600, 'zh-CN')).toBe('1 小时')
    expect(formatDuration(12 * 60 + 59, 'en')).toBe('12 min')
    expect(formatDuration(45.7, 'zh-CN')).toBe('45 秒')
    expect(formatDuration(0, 'en')).toBe('0 s')
    expect(formatDuration(2 * 86400 + 30 * 60, 'zh-CN')).toBe('2 天')
  })

  it('keeps a sign and says nothing it does not know', () => {
    expect(formatDuration(-90 * 60, 'en')).toBe('-1 h 30 min')
    expect(formatDuration(null)).toBe('—')
    expect(formatDuration(Number.NaN)).toBe('—')
    expect(formatMinutes(1500, 'zh-CN')).toBe('1 天 1 小时')
    expect(formatMinutes(undefined)).toBe('—')
  })
})

describe('money', () => {
  it('puts the sign before the currency and marks a negative amount red', () => {
    expect(formatMoney('-80')).toBe('-¥80.00')
    expect(formatMoney(1234.5)).toBe('¥1,234.50')
    expect(formatMoney('98765.4', 0)).toBe('¥98,765')
    expect(formatMoney(null)).toBe('—')
    expect(moneyClass('-0.01')).toBe('hl-money-negative')
    expect(moneyClass('0')).toBe('')
    expect(moneyClass(12)).toBe('')
  })
})

describe('counts are exact or say they were cut', () => {
  it('says 100+ for a full list of 100, the number otherwise', () => {
    expect(countLabel(100, 100)).toBe('100+')
    expect(countLabel(99, 100)).toBe('99')
    expect(countLabel(0, 100)).toBe('0')
  })

  it('shows a share as a whole percentage, a dash when there is none', () => {
    expect(formatPercent(0.666)).toBe('67%')
    expect(formatPercent(null)).toBe('—')
  })
})

describe('a precise duration (handle times on the home page and idle desktop)', () => {
  it('keeps the seconds under an hour and reads as the plain one beyond', () => {
    expect(formatDuration(260, 'zh-CN', true)).toBe('4 分 20 秒')
    expect(formatDuration(260, 'en', true)).toBe('4 min 20 s')
    expect(formatDuration(45.4, 'zh-CN', true)).toBe('45 秒')
    expect(formatDuration(7500, 'zh-CN', true)).toBe(formatDuration(7500, 'zh-CN'))
  })
})
