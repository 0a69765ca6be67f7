// The QA actions the 质检 screens take beside scoring (docs/qa.md): keep a call in the library,
// order a playlist, assign or reassign an evaluation, open a calibration session, put a recording on
// legal hold, read the per-agent figures. The pure helpers (the order of a playlist, what a
// recording gives an evaluation, the figures as a chart) are tested by vitest without a browser.
import { api, call, type Schemas } from '../../api/client'
import type { RecordingRow } from './recordings'

export type LibraryIn = Schemas['LibraryIn']
export type LibraryEntry = Schemas['LibraryOut']
export type PlaylistIn = Schemas['PlaylistIn']
export type Playlist = Schemas['PlaylistOut']
export type Evaluator = Schemas['Evaluator']
export type EvaluationIn = Schemas['EvaluationIn']
export type CalibrationIn = Schemas['CalibrationIn']
export type Figures = Schemas['AgentQualityFigures']
/** The call a library entry, an evaluation or a calibration session is about. */
export type CallRef = Pick<LibraryIn, 'call_id' | 'recording_ids' | 'agent_id'>

export const saveLibraryEntry = (body: LibraryIn, id?: number): Promise<LibraryEntry> =>
  id
    ? call(api.PUT('/api/quality/library/{entry_id}', { params: { path: { entry_id: id } }, body }))
    : call(api.POST('/api/quality/library', { body }))
export const removeLibraryEntry = (id: number): Promise<unknown> =>
  call(api.DELETE('/api/quality/library/{entry_id}', { params: { path: { entry_id: id } } }))
export const savePlaylist = (body: PlaylistIn, id?: number): Promise<Playlist> =>
  id
    ? call(api.PUT('/api/quality/playlists/{playlist_id}', { params: { path: { playlist_id: id } }, body }))
    : call(api.POST('/api/quality/playlists', { body }))
export const listEvaluators = (): Promise<Evaluator[]> => call(api.GET('/api/quality/evaluators'))
export const assignEvaluation = (body: EvaluationIn): Promise<Schemas['EvaluationOut']> =>
  call(api.POST('/api/quality/evaluations', { body }))
export const createCalibration = (body: CalibrationIn): Promise<Schemas['CalibrationOut']> =>
  call(api.POST('/api/quality/calibrations', { body }))
export const setHold = (id: number, body: Schemas['RecordingHoldIn']): Promise<RecordingRow> =>
  call(api.PUT('/api/quality/recordings/{recording_id}/hold', { params: { path: { recording_id: id } }, body }))
export const agentFigures = (from: string, to: string): Promise<Figures[]> =>
  call(api.GET('/api/quality/figures/agents', { params: { query: { from, to } } }))
export const publishedScorecards = async (): Promise<Schemas['ScorecardOut'][]> =>
  (await call(api.GET('/api/quality/scorecards'))).filter((c) => c.status === 'published')

// -------------------------------------------------------------------------------- pure helpers
/** The call of a recording as the library, an evaluation or a calibration names it. */
export function callOf(recording: Pick<RecordingRow, 'call_id' | 'id' | 'agent_id'>): CallRef {
  return { call_id: recording.call_id, recording_ids: [recording.id], agent_id: recording.agent_id ?? null }
}

/** What an evaluation assigned by hand is told of its call (the list shows it before scoring). */
export function evaluationOf(
  recording: Pick<RecordingRow, 'call_id' | 'id' | 'agent_id' | 'started_at' | 'queue' | 'direction' | 'seconds'>,
  evaluatorId: number,
  scorecardId: number,
): EvaluationIn {
  return {
    call_id: recording.call_id,
    recording_ids: [recording.id],
    agent_id: recording.agent_id ?? 0,
    evaluator_id: evaluatorId,
    scorecard_id: scorecardId,
    call_started_at: recording.started_at,
    queue: recording.queue ?? '',
    // an internal call is scored as the agent's own (outbound) one
    direction: recording.direction === 'inbound' ? 'inbound' : 'outbound',
    seconds: Math.min(86_400, Math.round(recording.seconds)),
  }
}

/** A playlist's order with one entry moved `by` places (−1 up, +1 down); the same order at an end. */
export function moved<T>(order: T[], index: number, by: -1 | 1): T[] {
  const to = index + by
  if (index < 0 || index >= order.length || to < 0 || to >= order.length) return [...order]
  const out = [...order]
  ;[out[index], out[to]] = [out[to], out[index]]
  return out
}

/** Every tag in use, in the order first met (the choices when tagging an example). */
export const tagsOf = (entries: Pick<LibraryEntry, 'tags'>[]): string[] => [...new Set(entries.flatMap((e) => e.tags))]

export interface FigureBar {
  agent: string
  average: number | null
  checked: number
  flagged: number
}

/** The figures as the chart draws them: each agent's average score (none without an evaluation),
 *  the calls checked and what the checks flagged (silences, overtalk and forbidden-phrase hits). */
export const figureBars = (figures: Figures[]): FigureBar[] =>
  figures.map((f) => ({
    agent: f.agent_name || String(f.agent_id),
    average: f.average === null || f.average === undefined ? null : Number(f.average),
    checked: f.calls_checked,
    flagged: f.silences + f.overtalks + f.forbidden_hits,
  }))
