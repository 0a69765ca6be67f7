// Images and PDFs in the web chat (docs/channels.md "Files"): sending one (multipart, field
// `file`) and fetching one as a blob — the visitor's window names its chat by a header
// (X-Chat-Token), which an <img src> cannot send, so both sides fetch and show an object URL.
// What a file is, and whether it is taken, the server decides from its bytes.
import { requestLanguage, toProblem } from '../../api/client'

export const ACCEPT = 'image/jpeg,image/png,image/gif,image/webp,application/pdf'

/** Sends `file` to `url`; the server's answer, or a thrown ProblemError worded in the UI's language. */
export async function uploadFile<T>(url: string, file: File, headers: Record<string, string> = {}): Promise<T> {
  const form = new FormData()
  form.append('file', file)
  const response = await fetch(url, {
    method: 'POST',
    body: form,
    credentials: 'same-origin',
    headers: { ...headers, 'Accept-Language': requestLanguage() },
  })
  const body = await response.json().catch(() => ({}))
  if (!response.ok) throw toProblem(response.status, body)
  return body as T
}

/** The file's bytes as a blob (for an object URL); null when it cannot be read. */
export async function fetchFile(url: string, headers: Record<string, string> = {}): Promise<Blob | null> {
  const response = await fetch(url, { credentials: 'same-origin', headers })
  return response.ok ? await response.blob() : null
}

export function fileSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`
}
