import { describe, expect, it } from 'vitest'
import zh from '../locales/zh-CN'
import en from '../locales/en'
import { bandRanges, bodyOf, draftOf, lastWeek, planWords } from '../components/quality/settings/settings'
import type { Plan } from '../components/quality/settings/settings'

const plan = (extra: Partial<Plan> = {}): Plan => ({
  id: 1,
  name: '周抽检',
  scorecard_family: 1,
  per_agent: 4,
  strata: ['queue', 'duration'],
  bands: [60, 180, 600],
  queues: [],
  agents: [],
  evaluators: [9],
  always: { complaint: true, long_seconds: 900, survey_at_most: 2, forbidden_hit: false },
  active: true,
  seed: 0,
  last_week: null,
  created_at: '2026-12-01T00:00:00Z',
  ...extra,
})
const wording = { stratum: (s: string) => ({ queue: '队列', direction: '呼叫方向', duration: '通话时长段' })[s] ?? s, sep: '、' }

describe('a sampling plan told in words', () => {
  it('says the N per agent, the strata with their bands and each "always" rule that is on', () => {
    const words = planWords(plan(), wording)
    expect(words.map((w) => w.key)).toEqual(['perAgent', 'strataBands', 'everyQueue', 'alwaysComplaint', 'alwaysLong', 'alwaysSurvey'])
    expect(words[0].params).toEqual({ n: 4 })
    expect(words[1].params).toEqual({ strata: '队列、通话时长段', bands: '<1′、1′–3′、3′–10′、≥10′' })
    expect(words[4].params).toEqual({ minutes: 15 })
  })

  it('names the queues by title and the agents by name, and says when the plan is paused', () => {
    const words = planWords(
      plan({
        strata: ['direction'],
        queues: ['hotel'],
        agents: [3, 4],
        active: false,
        always: { complaint: false, long_seconds: null, survey_at_most: null, forbidden_hit: true },
      }),
      {
        ...wording,
        queueTitles: { hotel: '酒店预订' },
        names: { 3: '001 陈晓' },
      },
    )
    expect(words).toEqual([
      { key: 'perAgent', params: { n: 4 } },
      { key: 'strata', params: { strata: '呼叫方向', bands: '' } },
      { key: 'queues', params: { list: '酒店预订' } },
      { key: 'agents', params: { list: '001 陈晓、4' } },
      { key: 'alwaysForbidden' },
      { key: 'paused' },
    ])
  })

  it("says the automatic checks' rules when the plan sets them", () => {
    const always = {
      complaint: false,
      long_seconds: null,
      survey_at_most: null,
      forbidden_hit: false,
      silence_at_least: 12,
      overtalk_at_least: 6,
    }
    expect(planWords(plan({ strata: [], always }), wording).slice(2)).toEqual([
      { key: 'alwaysSilence', params: { n: 12 } },
      { key: 'alwaysOvertalk', params: { n: 6 } },
    ])
  })

  it('has words for every sentence in both languages', () => {
    for (const locale of [zh, en])
      for (const key of [
        'perAgent',
        'strata',
        'strataBands',
        'queues',
        'everyQueue',
        'agents',
        'alwaysComplaint',
        'alwaysLong',
        'alwaysSurvey',
        'alwaysForbidden',
        'paused',
      ])
        expect(locale.qaSettings.words).toHaveProperty(key)
  })
})

describe('bands, weeks and the body sent', () => {
  it('reads duration bands as ranges, seconds where a bound is not whole minutes', () => {
    expect(bandRanges([45, 120])).toEqual(['<45″', '45″–2′', '≥2′'])
    expect(bandRanges([])).toEqual([])
  })

  it('samples by default the Monday of the last full week', () => {
    expect(lastWeek(new Date(2026, 11, 5, 9))).toBe('2026-11-23') // a Saturday
    expect(lastWeek(new Date(2026, 11, 7, 9))).toBe('2026-11-30') // a Monday
  })

  it('sends a switched-off threshold as null and keeps it for when it is switched on again', () => {
    const draft = draftOf(plan(), 1)
    draft.long = false
    expect(bodyOf(draft).always).toEqual({
      complaint: true,
      long_seconds: null,
      survey_at_most: 2,
      forbidden_hit: false,
      silence_at_least: null,
      overtalk_at_least: null,
    })
    draft.silence = true // switched on: dead air of 10 seconds to start with
    expect(bodyOf(draft).always?.silence_at_least).toBe(10)
    expect(draft.body.always?.long_seconds).toBe(900)
    const fresh = draftOf(null, 7)
    expect([fresh.body.scorecard_family, fresh.body.per_agent, fresh.long, fresh.survey]).toEqual([7, 5, true, true])
  })
})
