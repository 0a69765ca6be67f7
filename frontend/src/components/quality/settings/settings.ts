// The 质检设置 screen's API (sampling plans, deadlines, retention, phrase rules: docs/qa.md "设置")
// and the pure helpers its tabs share: a plan told in words, the week a run samples by default,
// a plan as its form edits it. Kept apart from the components so they are tested without a browser.
import { api, call, type Schemas } from '../../../api/client'

export { type Evaluator, listEvaluators } from '../actions'

export type Plan = Schemas['PlanOut']
export type PlanIn = Schemas['PlanIn']
export type PlanRun = Schemas['PlanRunOut']
export type Deadlines = Schemas['DeadlinesOut']
export type Retention = Schemas['RetentionOut']
export type PhraseRules = Schemas['PhraseRulesOut']
export type PhraseRule = Schemas['PhraseRuleIn']

export const listPlans = (): Promise<Plan[]> => call(api.GET('/api/quality/plans'))
export const savePlan = (body: PlanIn, id?: number): Promise<Plan> =>
  id
    ? call(api.PUT('/api/quality/plans/{plan_id}', { params: { path: { plan_id: id } }, body }))
    : call(api.POST('/api/quality/plans', { body }))
export const runPlan = (id: number, week: string): Promise<PlanRun> =>
  call(api.POST('/api/quality/plans/{plan_id}/run', { params: { path: { plan_id: id } }, body: { week } }))

/** A plan as its form edits it: a copy, the "always" thresholds kept while switched off. */
export interface PlanDraft {
  body: PlanIn
  long: boolean
  survey: boolean
  silence: boolean
  overtalk: boolean
}

type Always = NonNullable<PlanIn['always']>
const ALWAYS: Always = {
  complaint: true,
  long_seconds: 900,
  survey_at_most: 2,
  forbidden_hit: true,
  silence_at_least: null,
  overtalk_at_least: null,
}
// what a threshold starts at when switched on: a 10-second dead air, 5 seconds of talking over the caller
const START = { long_seconds: 900, survey_at_most: 2, silence_at_least: 10, overtalk_at_least: 5 } as const
const given = (n: number | null | undefined): boolean => n !== null && n !== undefined

export function draftOf(plan: Plan | null, family: number): PlanDraft {
  const always: Always = { ...ALWAYS, ...plan?.always }
  // a switched-off threshold keeps a value in the form, for when it is switched on again
  const kept: Always = {
    ...always,
    long_seconds: always.long_seconds ?? START.long_seconds,
    survey_at_most: always.survey_at_most ?? START.survey_at_most,
    silence_at_least: always.silence_at_least ?? START.silence_at_least,
    overtalk_at_least: always.overtalk_at_least ?? START.overtalk_at_least,
  }
  const body: PlanIn = plan
    ? {
        name: plan.name,
        scorecard_family: plan.scorecard_family,
        per_agent: plan.per_agent,
        strata: [...plan.strata],
        bands: [...plan.bands],
        queues: [...plan.queues],
        agents: [...plan.agents],
        evaluators: [...plan.evaluators],
        always: kept,
        active: plan.active,
        seed: plan.seed,
      }
    : {
        name: '',
        scorecard_family: family,
        per_agent: 5,
        strata: ['queue', 'direction', 'duration'],
        bands: [60, 180, 600],
        queues: [],
        agents: [],
        evaluators: [],
        always: kept,
        active: true,
        seed: 0,
      }
  return {
    body,
    long: given(always.long_seconds),
    survey: given(always.survey_at_most),
    silence: given(always.silence_at_least),
    overtalk: given(always.overtalk_at_least),
  }
}

/** The body the API takes: a switched-off threshold sent as null; bands as rising numbers. */
export function bodyOf(draft: PlanDraft): PlanIn {
  const always = { ...ALWAYS, ...draft.body.always }
  return {
    ...draft.body,
    bands: (draft.body.bands ?? []).map(Number),
    always: {
      ...always,
      long_seconds: draft.long ? (always.long_seconds ?? START.long_seconds) : null,
      survey_at_most: draft.survey ? (always.survey_at_most ?? START.survey_at_most) : null,
      silence_at_least: draft.silence ? (always.silence_at_least ?? START.silence_at_least) : null,
      overtalk_at_least: draft.overtalk ? (always.overtalk_at_least ?? START.overtalk_at_least) : null,
    },
  }
}

/** One sentence of a plan's description: a locale key under `qaSettings.words` and its params. */
export interface Words {
  key: string
  params?: Record<string, unknown>
}

/** How the sentences word what they list: the strata's words, queue titles, people's names, the
 *  list separator of the language. */
export interface Wording {
  stratum: (code: string) => string
  queueTitles?: Record<string, string>
  names?: Record<string, string>
  sep: string
}

type Described = Pick<Plan, 'per_agent' | 'strata' | 'bands' | 'queues' | 'agents' | 'always' | 'active'>

/** What a plan does, in sentences: N calls per agent per week, over which strata, of whom, and the
 *  "always" rules that add calls on top of the N. */
export function planWords(plan: Described, w: Wording): Words[] {
  const list = (xs: string[]): string => xs.join(w.sep)
  const words: Words[] = [{ key: 'perAgent', params: { n: plan.per_agent } }]
  if (plan.strata.length) {
    const bands = plan.strata.includes('duration') ? list(bandRanges(plan.bands)) : ''
    words.push({ key: bands ? 'strataBands' : 'strata', params: { strata: list(plan.strata.map(w.stratum)), bands } })
  }
  words.push(
    plan.queues.length ? { key: 'queues', params: { list: list(plan.queues.map((q) => w.queueTitles?.[q] || q)) } } : { key: 'everyQueue' },
  )
  if (plan.agents.length) words.push({ key: 'agents', params: { list: list(plan.agents.map((a) => w.names?.[a] ?? String(a))) } })
  const always = plan.always
  if (always.complaint) words.push({ key: 'alwaysComplaint' })
  if (always.long_seconds !== null && always.long_seconds !== undefined)
    words.push({ key: 'alwaysLong', params: { minutes: Math.round(always.long_seconds / 60) } })
  if (always.survey_at_most !== null && always.survey_at_most !== undefined)
    words.push({ key: 'alwaysSurvey', params: { n: always.survey_at_most } })
  if (always.forbidden_hit) words.push({ key: 'alwaysForbidden' })
  if (given(always.silence_at_least)) words.push({ key: 'alwaysSilence', params: { n: always.silence_at_least } })
  if (given(always.overtalk_at_least)) words.push({ key: 'alwaysOvertalk', params: { n: always.overtalk_at_least } })
  if (!plan.active) words.push({ key: 'paused' })
  return words
}

/** The duration bands as people read them: "<1 分, 1–3 分, 3–10 分, ≥10 分" from [60, 180, 600]. */
export function bandRanges(bands: number[]): string[] {
  const m = (s: number): string => (s % 60 === 0 ? `${s / 60}′` : `${s}″`)
  if (!bands.length) return []
  const out = [`<${m(bands[0])}`]
  for (let i = 1; i < bands.length; i++) out.push(`${m(bands[i - 1])}–${m(bands[i])}`)
  out.push(`≥${m(bands[bands.length - 1])}`)
  return out
}

/** The Monday of the last full week, the week a run samples unless told otherwise (YYYY-MM-DD, local). */
export function lastWeek(now = new Date()): string {
  const day = new Date(now.getFullYear(), now.getMonth(), now.getDate() - ((now.getDay() + 6) % 7) - 7, 12)
  const pad = (n: number): string => String(n).padStart(2, '0')
  return `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}`
}

export const getDeadlines = (): Promise<Deadlines> => call(api.GET('/api/quality/deadlines'))
export const putDeadlines = (body: Schemas['DeadlinesIn']): Promise<Deadlines> => call(api.PUT('/api/quality/deadlines', { body }))
export const getRetention = (): Promise<Retention> => call(api.GET('/api/quality/retention'))
export const putRetention = (body: Schemas['RetentionIn']): Promise<Retention> => call(api.PUT('/api/quality/retention', { body }))
export const listPhraseRules = (): Promise<PhraseRules[]> => call(api.GET('/api/quality/phrase-rules'))
export const putPhraseRules = (queue: string, rules: PhraseRule[]): Promise<PhraseRules> =>
  call(api.PUT('/api/quality/phrase-rules/{queue}', { params: { path: { queue } }, body: { rules } }))

/** A new rule as the editor starts it: a forbidden phrase said by the agent, anywhere in the call. */
export const blankRule = (kind: PhraseRule['kind'] = 'forbidden'): PhraseRule => ({
  key: '',
  title: '',
  kind,
  phrases: [],
  side: 'agent',
  within: null,
  seconds: null,
  pinyin: false,
})
