// The call-record search of 通话记录: its filters kept in the page's URL (a search can be shared as
// a link), the API's query made from them, and the records read a page at a time by the server's
// cursor (加载更多). No total over millions: the server counts up to a limit and says "more than".
import { reactive, ref } from 'vue'
import { useRoute, useRouter, type LocationQuery } from 'vue-router'
import { api, call, type Schemas } from '../../api/client'
import type { operations } from '../../api/schema'
import { useAction } from '../../composables'
import { localDay } from '../../i18n'

export type RecordQuery = NonNullable<operations['call_records_api_calls_records_get']['parameters']['query']>
type Outcome = Schemas['CallRecordOut']['outcome']

export const OUTCOMES: Outcome[] = [
  'answered',
  'abandoned',
  'short_abandoned',
  'callback',
  'timed_out',
  'refused',
  'voicemail',
  'ivr_only',
  'failed',
  'in_progress',
]
export const DISPOSITIONS = ['booked', 'enquiry', 'complaint', 'callback', 'other'] as const

export interface CallFilters {
  start: string
  end: string
  agent_id: number | null
  team_id: number | null
  queue: string
  number: string
  direction: '' | 'in' | 'out'
  outcome: Outcome | ''
  min: number | null
  max: number | null
  unit: 's' | 'min'
  disposition: string
  has_recording: '' | 'yes' | 'no'
  survey_min: number | null
  survey_max: number | null
}

const text = (q: LocationQuery, key: string): string => (typeof q[key] === 'string' ? (q[key] as string) : '')
function whole(q: LocationQuery, key: string): number | null {
  const n = Number(text(q, key))
  return text(q, key) !== '' && Number.isInteger(n) && n >= 0 ? n : null
}

/** The filters a link carries; a link without dates searches today. */
export function fromQuery(q: LocationQuery): CallFilters {
  const today = localDay(0)
  const dated = 'start' in q || 'end' in q
  const direction = text(q, 'direction')
  const recorded = text(q, 'has_recording')
  return {
    start: dated ? text(q, 'start') : today,
    end: dated ? text(q, 'end') : today,
    agent_id: whole(q, 'agent_id'),
    team_id: whole(q, 'team_id'),
    queue: text(q, 'queue'),
    number: text(q, 'number'),
    direction: direction === 'in' || direction === 'out' ? direction : '',
    outcome: text(q, 'outcome') as Outcome | '',
    min: whole(q, 'min'),
    max: whole(q, 'max'),
    unit: text(q, 'unit') === 'min' ? 'min' : 's',
    disposition: text(q, 'disposition'),
    has_recording: recorded === 'yes' || recorded === 'no' ? recorded : '',
    survey_min: whole(q, 'survey_min'),
    survey_max: whole(q, 'survey_max'),
  }
}

/** The filters as a link's query: only those set (dates always, so "all days" stays all days). */
export function toQuery(f: CallFilters): Record<string, string> {
  const out: Record<string, string> = { start: f.start ?? '', end: f.end ?? '' }
  for (const [key, value] of Object.entries(f)) {
    if (key === 'start' || key === 'end' || key === 'unit') continue
    if (value !== '' && value !== null && value !== undefined) out[key] = String(value)
  }
  if ((f.min !== null || f.max !== null) && f.unit === 'min') out.unit = 'min'
  return out
}

/** The filters as the API takes them (GET /api/calls/records, and the export's filters). */
export function apiQuery(f: CallFilters): RecordQuery {
  const seconds = (n: number | null): number | undefined => (n === null ? undefined : f.unit === 'min' ? n * 60 : n)
  const query: RecordQuery = {
    start: f.start || undefined,
    end: f.end || undefined,
    agent_id: f.agent_id ?? undefined,
    team_id: f.team_id ?? undefined,
    queue: f.queue || undefined,
    number: f.number.trim() || undefined,
    direction: f.direction || undefined,
    outcome: f.outcome || undefined,
    min_seconds: seconds(f.min),
    max_seconds: seconds(f.max),
    disposition: f.disposition || undefined,
    has_recording: f.has_recording === '' ? undefined : f.has_recording === 'yes',
    survey_min: f.survey_min ?? undefined,
    survey_max: f.survey_max ?? undefined,
  }
  return Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as RecordQuery
}

export function useCallSearch(pageSize = 50) {
  const route = useRoute()
  const router = useRouter()
  const filters = reactive<CallFilters>(fromQuery(route.query))
  const records = ref<Schemas['CallRecordOut'][]>([])
  const page = ref<Schemas['CallRecordPage'] | null>(null)
  const { busy, fieldErrors, run } = useAction()

  // a link without dates means the site's today, which the browser's clock may place on another
  // day (another time zone): the first answer says which day it is there
  let onToday = !('start' in route.query || 'end' in route.query)
  const guessed = filters.start

  async function read(cursor?: string): Promise<void> {
    const query = { ...apiQuery(filters), limit: pageSize, ...(cursor ? { cursor } : {}) }
    const answer = await run(() => call(api.GET('/api/calls/records', { params: { query } })))
    if (!answer) return
    const today = answer.today
    const untouched = filters.start === guessed && filters.end === guessed
    if (onToday && today && untouched && today !== guessed) {
      onToday = false
      Object.assign(filters, { start: today, end: today })
      return search()
    }
    onToday = false
    records.value = cursor ? [...records.value, ...answer.items] : answer.items
    page.value = answer
  }

  /** A new search: the link follows the filters, the list starts again from the newest. */
  async function search(): Promise<void> {
    void router.replace({ query: toQuery(filters) })
    await read()
  }

  const more = (): Promise<void> => (page.value?.next_cursor ? read(page.value.next_cursor) : Promise.resolve())

  return { filters, records, page, busy, fieldErrors, search, more }
}
