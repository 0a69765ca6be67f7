import { describe, expect, it } from 'vitest'
import { apiQuery, fromQuery, toQuery } from '../components/calls/callSearch'
import { localDay } from '../i18n'

describe('a call-record search travels in its link', () => {
  it('opens on today when the link has no dates', () => {
    const f = fromQuery({})
    expect([f.start, f.end]).toEqual([localDay(0), localDay(0)])
    expect(apiQuery(f)).toEqual({ start: localDay(0), end: localDay(0) })
  })

  it('gives back the same filters from the link it made, minutes asked in seconds', () => {
    const link = { start: '2026-03-01', end: '2026-03-02', agent_id: '7', number: '8000', min: '2', unit: 'min', has_recording: 'yes' }
    const f = fromQuery(link)
    expect(toQuery(f)).toEqual(link)
    expect(apiQuery(f)).toEqual({
      start: '2026-03-01',
      end: '2026-03-02',
      agent_id: 7,
      number: '8000',
      min_seconds: 120,
      has_recording: true,
    })
  })

  it('keeps "every day" as every day and drops what a link should not carry', () => {
    const f = fromQuery({ start: '', end: '', direction: 'sideways', survey_min: '-1' })
    expect(apiQuery(f)).toEqual({})
    expect(toQuery(f)).toEqual({ start: '', end: '' })
  })
})
