// The reviews API as the 质检 screens use it (/api/quality/…, docs/qa.md "Reviews"), and the pure
// helpers those screens share: how a deadline reads, which items a form still lacks, the spread
// chart of a calibration. Kept apart from the components so they are tested without a browser.
import { api, call, type Schemas } from '../../api/client'
import type { operations } from '../../api/schema'
import { formatDuration } from '../../format'

export type Evaluation = Schemas['EvaluationOut']
export type EvaluationRow = Schemas['EvaluationRow']
export type EvaluationPage = Schemas['EvaluationPage']
export type Scorecard = Schemas['ScorecardOut']
export type ScorecardIn = Schemas['ScorecardIn']
/** An item's answer as a form holds it: a value, or not applicable, or nothing yet. */
export type Answer = { value?: number | null; na?: boolean }
export type Answers = Record<string, Answer>
export type Action = Schemas['EvaluationMoveIn']['action']
export type Move = Omit<Schemas['EvaluationMoveIn'], 'reason' | 'answers'> & { reason?: string; answers?: Answers }
export type Calibration = Schemas['CalibrationOut']
export type LibraryEntry = Schemas['LibraryOut']
export type Playlist = Schemas['PlaylistOut']
export type LongCall = Schemas['LongCall']
export type Figures = Schemas['AgentQualityFigures']
export type EvaluationQuery = NonNullable<operations['list_evaluations_api_quality_evaluations_get']['parameters']['query']>

const id = (n: number) => ({ params: { path: { evaluation_id: n } } })

export const listEvaluations = (query: EvaluationQuery): Promise<EvaluationPage> =>
  call(api.GET('/api/quality/evaluations', { params: { query } }))
export const getEvaluation = (n: number): Promise<Evaluation> => call(api.GET('/api/quality/evaluations/{evaluation_id}', id(n)))
/** The API's answers: each with its `na` said. */
const sent = (body: Move): Schemas['EvaluationMoveIn'] => ({
  ...body,
  reason: body.reason ?? '',
  answers: body.answers ? Object.fromEntries(Object.entries(body.answers).map(([k, a]) => [k, { value: a.value, na: !!a.na }])) : undefined,
})
export const moveEvaluation = (n: number, body: Move): Promise<Evaluation> =>
  call(api.POST('/api/quality/evaluations/{evaluation_id}/moves', { ...id(n), body: sent(body) }))
/** Answers as the API takes them for a calibration. */
export const calibrationAnswers = (answers: Answers): Schemas['CalibrationScoreIn']['answers'] =>
  Object.fromEntries(Object.entries(answered(answers)).map(([k, a]) => [k, { value: a.value, na: !!a.na }]))
export const commentEvaluation = (n: number, body: Schemas['CommentIn']): Promise<Schemas['CommentOut']> =>
  call(api.POST('/api/quality/evaluations/{evaluation_id}/comments', { ...id(n), body }))

export const myEvaluations = (): Promise<EvaluationPage> =>
  call(api.GET('/api/quality/my/evaluations', { params: { query: { limit: 100 } } }))
export const myEvaluation = (n: number): Promise<Evaluation> => call(api.GET('/api/quality/my/evaluations/{evaluation_id}', id(n)))
export const myMove = (n: number, body: Move): Promise<Evaluation> =>
  call(api.POST('/api/quality/my/evaluations/{evaluation_id}/moves', { ...id(n), body: sent(body) }))

/** The whole period a figure covers: the last `days` days up to now. */
export function lastDays(days: number, now = new Date()): { from: string; to: string } {
  return { from: new Date(now.getTime() - days * 86_400_000).toISOString(), to: now.toISOString() }
}

// -------------------------------------------------------------------------------- pure helpers
/** Every item of a scorecard, section by section. */
export const itemsOf = (card: Pick<Scorecard, 'sections'>) => card.sections.flatMap((s) => s.items)

/** The answers as the API takes them: only the items answered (or marked not applicable). */
export function answered(answers: Answers): Answers {
  const out: Answers = {}
  for (const [key, a] of Object.entries(answers))
    if (a.na) out[key] = { na: true }
    else if (a.value !== null && a.value !== undefined) out[key] = { value: a.value }
  return out
}

export type DueWords = { key: 'qa.due.left' | 'qa.due.over'; span: string } | null

/** How a deadline reads: the time left (还剩 2 天 3 小时) or how long it is past (已逾期 5 小时),
 *  in format.ts's units; null without one. */
export function dueWords(dueAt: string | null | undefined, now = Date.now()): DueWords {
  if (!dueAt) return null
  const left = (Date.parse(dueAt) - now) / 1000
  if (!Number.isFinite(left)) return null
  return { key: left >= 0 ? 'qa.due.left' : 'qa.due.over', span: formatDuration(Math.abs(left)) }
}

export interface SpreadRow {
  key: string
  text: string
  spread: number | null
  agreed: boolean
}

/** A calibration's result as rows for its chart: overall first, then each item, in points of 100. */
export function spreadRows(result: Schemas['CalibrationResult'], overall: string): SpreadRow[] {
  const row = (s: Schemas['SpreadOut'], text: string): SpreadRow => ({
    key: s.key,
    text,
    spread: s.spread === null || s.spread === undefined ? null : Number(s.spread),
    agreed: s.agreed,
  })
  return [row(result.overall, overall), ...result.items.map((s) => row(s, s.text || s.key))]
}
