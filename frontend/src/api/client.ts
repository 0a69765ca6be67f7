// The API client is generated from the backend's OpenAPI spec (`make api-client`);
// this file only adds the problem-details handling every screen shares.
import createClient from 'openapi-fetch'
import type { components, paths } from './schema'

export type Schemas = components['schemas']
export type Me = Schemas['Me']
export type User = Schemas['UserOut']
export type AuditEntry = Schemas['AuditEntryOut']

/** One wrong field of a problem: `message` in the user's language (the server words it by the
 *  Accept-Language sent below), `type` a stable code, `params` what the message names. */
export interface FieldError {
  field: string
  message: string
  type: string
  params?: Record<string, unknown>
}

/** An RFC 9457 problem-details answer from the API. */
export class ProblemError extends Error {
  constructor(
    public status: number,
    public code: string,
    public detail: string,
    public errors: FieldError[] = [],
    public retryAfter: number | null = null,
    public raw: Record<string, unknown> = {},
  ) {
    super(detail)
  }

  /** The rule a domain error broke (`arrival-in-past`), when it says. */
  get reason(): string | null {
    return typeof this.raw.reason === 'string' ? this.raw.reason : null
  }

  /** Field errors keyed by form field: `body.username` → `username`. */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {}
    for (const error of this.errors) {
      const parts = error.field.split('.')
      const name = parts.length > 1 ? parts.slice(1).join('.') : parts[0]
      if (name && !(name in out)) out[name] = error.message
    }
    return out
  }
}

export function toProblem(status: number, body: unknown): ProblemError {
  const problem = (body ?? {}) as Partial<{
    code: string
    detail: string
    title: string
    errors: FieldError[]
    retry_after: number
  }>
  return new ProblemError(
    status,
    problem.code ?? 'http-error',
    problem.detail ?? problem.title ?? `HTTP ${status}`,
    problem.errors ?? [],
    problem.retry_after ?? null,
    (body ?? {}) as Record<string, unknown>,
  )
}

type UnauthorizedListener = () => void
let onUnauthorized: UnauthorizedListener = () => {}
export function setUnauthorizedHandler(listener: UnauthorizedListener): void {
  onUnauthorized = listener
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' })

let requestLocale = 'zh-CN'
/** The UI's language, sent as Accept-Language on every request: the server words problems, and its own
 *  words in answers (a report's catalogue, an export's headers), in it. */
export function setRequestLocale(locale: string): void {
  requestLocale = locale
}
export function requestLanguage(): string {
  return requestLocale === 'en' ? 'en' : 'zh-CN,zh;q=0.9'
}
api.use({
  onRequest({ request }) {
    request.headers.set('Accept-Language', requestLanguage())
    return request
  },
})

/** Unwrap an openapi-fetch result: the data, or a thrown `ProblemError`. */
export async function call<T>(request: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await request
  if (!response.ok) {
    if (response.status === 401 && !response.url.endsWith('/api/auth/login')) onUnauthorized()
    throw toProblem(response.status, error)
  }
  return data as T
}

/** Hands a fetched file to the browser to save. Files the server words (a report's workbook) are
 *  fetched through `api` rather than linked, so they come in the UI's language: a plain link would
 *  send the browser's Accept-Language instead. */
export function saveFile(data: Blob, name: string): void {
  const link = document.createElement('a')
  link.href = URL.createObjectURL(data)
  link.download = name
  link.click()
  URL.revokeObjectURL(link.href)
}
