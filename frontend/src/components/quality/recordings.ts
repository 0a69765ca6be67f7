// The recordings API as the quality screens use it (/api/quality/recordings…, docs/qa.md).
import { api, call, toProblem, type Schemas } from '../../api/client'
import type { operations } from '../../api/schema'
import { useSession } from '../../stores/session'
import type { Peaks } from './player'

export type RecordingRow = Schemas['RecordingRow']
export type RecordingPage = Schemas['RecordingPage']
export type PlayUrls = Schemas['PlayOut']
export type RecordingQuery = NonNullable<operations['search_api_quality_recordings_get']['parameters']['query']>

/** One page of a search, newest first; `cursor` continues where the last page stopped. */
export const searchRecordings = (query: RecordingQuery): Promise<RecordingPage> =>
  call(api.GET('/api/quality/recordings', { params: { query } }))

export const getRecording = (id: number): Promise<RecordingRow> =>
  call(api.GET('/api/quality/recordings/{recording_id}', { params: { path: { recording_id: id } } }))

/** The recorded parts of one call the reader may hear, first part first: every part with
 *  recordings.listen; otherwise their own parts of a call they were evaluated on, or the voicemail of
 *  a ticket they may read (403 `recording-not-yours` when none). */
export const recordingsOfCall = (callId: string): Promise<RecordingRow[]> =>
  call(api.GET('/api/quality/calls/{call_id}/recordings', { params: { path: { call_id: callId } } }))

/** Signed URLs to play a recording (the listen is audited); they expire after a few minutes. */
export const playRecording = (id: number): Promise<PlayUrls> =>
  call(api.POST('/api/quality/recordings/{recording_id}/play', { params: { path: { recording_id: id } } }))

/** A signed URL that downloads the WAV (recordings.download; audited). */
export const downloadRecording = (id: number): Promise<Schemas['DownloadOut']> =>
  call(api.POST('/api/quality/recordings/{recording_id}/download', { params: { path: { recording_id: id } } }))

/** The peaks behind a signed URL: plain JSON, no session needed. */
export async function fetchPeaks(url: string): Promise<Peaks> {
  const response = await fetch(url)
  const body: unknown = await response.json().catch(() => null)
  if (!response.ok) throw toProblem(response.status, body)
  return body as Peaks
}

/** An option of a search filter: what is sent and what is read. */
export interface Choice<T> {
  value: T
  label: string
}

/** The agents to search by: name and 工号, for those who may see the floor (else none). */
export async function agentChoices(): Promise<Choice<number>[]> {
  if (!useSession().can('agents.read')) return []
  const agents = await call(api.GET('/api/routing/agents')).catch(() => [])
  return agents.map((a) => ({ value: a.user_id, label: a.work_number ? `${a.display_name} ${a.work_number}` : a.display_name }))
}

/** The queues to search by, with their titles: from the routing set-up, or the wallboard for those
 *  who may see the floor but not change routing (qa, team leads). */
export async function queueChoices(): Promise<Choice<string>[]> {
  const session = useSession()
  if (session.can('routing.read')) {
    const queues = await call(api.GET('/api/routing/queues')).catch(() => [])
    return queues.map((q) => ({ value: q.name, label: q.title }))
  }
  if (!session.can('agents.read')) return []
  const board = await call(api.GET('/api/routing/wallboard')).catch(() => null)
  return (board?.queues ?? []).map((q) => ({ value: q.queue, label: q.title }))
}
