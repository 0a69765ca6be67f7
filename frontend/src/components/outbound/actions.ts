// What the 外呼 screens ask the server (docs/outbound.md): campaigns, their lists and progress,
// handing numbers out and taking them back, the do-not-call list. Numbers come back masked.
import { api, call, toProblem, type Schemas } from '../../api/client'

export type Campaign = Schemas['CampaignOut']
export type CampaignIn = Schemas['CampaignIn']
export type Target = Schemas['TargetOut']
export type ImportReport = Schemas['ListImportReport']
export type AssignIn = Schemas['TargetAssignIn']
export type TargetFilter = { state?: Target['state']; assignee_id?: number; unassigned?: boolean; limit: number; offset: number }

const at = (id: number) => ({ params: { path: { campaign_id: id } } })

export const listCampaigns = (includeClosed = false): Promise<Campaign[]> =>
  call(api.GET('/api/outbound/campaigns', { params: { query: { include_closed: includeClosed } } }))
export const getCampaign = (id: number): Promise<Campaign> => call(api.GET('/api/outbound/campaigns/{campaign_id}', at(id)))
export const saveCampaign = (body: CampaignIn, id?: number): Promise<Campaign> =>
  id ? call(api.PUT('/api/outbound/campaigns/{campaign_id}', { ...at(id), body })) : call(api.POST('/api/outbound/campaigns', { body }))
export const setStatus = (id: number, status: Campaign['status']): Promise<Campaign> =>
  call(api.POST('/api/outbound/campaigns/{campaign_id}/status', { ...at(id), body: { status } }))
export const campaignProgress = (id: number): Promise<Schemas['CampaignProgress']> =>
  call(api.GET('/api/outbound/campaigns/{campaign_id}/progress', at(id)))
export const campaignTargets = (id: number, query: TargetFilter): Promise<Schemas['TargetPage']> =>
  call(api.GET('/api/outbound/campaigns/{campaign_id}/targets', { params: { path: { campaign_id: id }, query } }))
export const assignTargets = (id: number, body: Partial<AssignIn> & Pick<AssignIn, 'how'>): Promise<Schemas['Assigned']> =>
  call(api.POST('/api/outbound/campaigns/{campaign_id}/assign', { ...at(id), body: { skill: '', ...body } }))
export const takeBack = (id: number, body: Schemas['TakeBackIn']): Promise<Schemas['Assigned']> =>
  call(api.POST('/api/outbound/campaigns/{campaign_id}/take-back', { ...at(id), body }))
export const listSources = (): Promise<Schemas['ListSourceOut'][]> => call(api.GET('/api/outbound/sources'))
export const listAgents = (): Promise<Schemas['AgentOut'][]> => call(api.GET('/api/routing/agents'))

/** A list checked (dry run: every row's problems, nothing written) or imported. */
export async function importList(id: number, file: File, dryRun: boolean): Promise<ImportReport> {
  const form = new FormData()
  form.append('file', file)
  const response = await fetch(`/api/outbound/campaigns/${id}/import?dry_run=${dryRun}`, {
    method: 'POST',
    body: form,
    credentials: 'same-origin',
  })
  const body: unknown = await response.json()
  if (!response.ok) throw toProblem(response.status, body)
  return body as ImportReport
}

export const listDnc = (query: { number: string; limit: number; offset: number }): Promise<Schemas['DncPage']> =>
  call(api.GET('/api/outbound/dnc', { params: { query } }))
export const addDnc = (body: Schemas['DncIn']): Promise<Schemas['DncOut']> => call(api.POST('/api/outbound/dnc', { body }))
export const removeDnc = (id: number): Promise<unknown> =>
  call(api.DELETE('/api/outbound/dnc/{entry_id}', { params: { path: { entry_id: id } } }))

/** The moves a campaign's status allows from where it stands (closed is final). */
export function statusMoves(status: Campaign['status']): { to: Campaign['status']; label: string }[] {
  if (status === 'draft')
    return [
      { to: 'running', label: 'running' },
      { to: 'closed', label: 'closed' },
    ]
  if (status === 'running')
    return [
      { to: 'paused', label: 'paused' },
      { to: 'closed', label: 'closed' },
    ]
  if (status === 'paused')
    return [
      { to: 'running', label: 'resume' },
      { to: 'closed', label: 'closed' },
    ]
  return []
}

/** A list's own columns as one line of text: `会员等级: 金卡 · 入住: 2026-05-01`. */
export const fieldsText = (fields: Record<string, unknown>): string =>
  Object.entries(fields)
    .map(([key, value]) => `${key}: ${String(value)}`)
    .join(' · ')

// ---------------------------------------------------------------- an agent working their list

export type WorkItem = Schemas['WorkItem']
export type ResultIn = Schemas['ResultIn']
export type Question = {
  key: string
  text: string
  type: 'score' | 'choice' | 'choices' | 'yes_no' | 'text'
  choices?: string[]
  required?: boolean
}
export type Disposition = { code: string; label: string; final?: boolean; refusal?: boolean }
export type Answer = number | boolean | string | string[] | null | undefined

export const nextTarget = (id: number): Promise<Schemas['NextOut']> => call(api.POST('/api/outbound/campaigns/{campaign_id}/next', at(id)))
export const previewTarget = (id: number): Promise<WorkItem> =>
  call(api.GET('/api/outbound/targets/{target_id}', { params: { path: { target_id: id } } }))
export const dialTarget = (id: number): Promise<Schemas['Dialled']> =>
  call(api.POST('/api/outbound/targets/{target_id}/dial', { params: { path: { target_id: id } } }))
export const attemptResult = (id: number, body: ResultIn): Promise<Schemas['AttemptResult']> =>
  call(api.POST('/api/outbound/attempts/{attempt_id}/result', { params: { path: { attempt_id: id } }, body }))

/** The result of an answered call as the server takes it: the answers given (blank ones and empty
 *  multiple choices left out), a call-back time only for a disposition that keeps the number open. */
export function resultBody(
  form: { disposition: string; note: string; answers: Record<string, Answer>; callBackAt: string | null },
  dispositions: Disposition[],
): ResultIn {
  const answers: Record<string, number | boolean | string | string[]> = {}
  for (const [key, value] of Object.entries(form.answers)) {
    const given = typeof value === 'string' ? value.trim() : value
    if (given === null || given === undefined || given === '' || given === 0 || (Array.isArray(given) && !given.length)) continue
    answers[key] = given
  }
  const chosen = dispositions.find((d) => d.code === form.disposition)
  const callBack = chosen?.final === false && form.callBackAt ? form.callBackAt : null
  return { disposition: form.disposition || null, note: form.note.trim(), answers, call_back_at: callBack }
}

// ---------------------------------------------------------------- progressive and predictive campaigns

export type DialerState = Schemas['DialerState']
export type CurrentCall = Schemas['CurrentCall']

export const dialerState = (id: number): Promise<DialerState> => call(api.GET('/api/outbound/campaigns/{campaign_id}/dialer', at(id)))
export const joinCampaign = (id: number): Promise<DialerState> => call(api.POST('/api/outbound/campaigns/{campaign_id}/join', at(id)))
export const leaveCampaign = (id: number): Promise<DialerState> => call(api.POST('/api/outbound/campaigns/{campaign_id}/leave', at(id)))
export const myCall = (): Promise<CurrentCall | null> => call(api.GET('/api/outbound/my-call'))

// ---------------------------------------------------------------- surveys

export type SurveyResults = Schemas['SurveyResults']
export type SurveySent = Schemas['SurveySendOut']

export const surveyResults = (id: number): Promise<SurveyResults> =>
  call(api.GET('/api/outbound/campaigns/{campaign_id}/survey-results', at(id)))
export const sendSurveyLinks = (id: number): Promise<SurveySent> =>
  call(api.POST('/api/outbound/campaigns/{campaign_id}/survey-links', { ...at(id), body: {} }))
export const sendSurveyLink = (targetId: number): Promise<SurveySent> =>
  call(api.POST('/api/outbound/targets/{target_id}/survey-link', { params: { path: { target_id: targetId } } }))
