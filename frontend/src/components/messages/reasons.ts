// The outbox's reason for a message, in the reader's language: the server keeps it as a short
// English phrase (notify/outbox.py); the ones we write are worded here, a gateway's own error text
// is shown as it came (data, marked so by the caller).

export type ReasonWords = { key: string; params: Record<string, string> } | null

const HELD = /^quiet hours: held until (\d{2})-(\d{2}) (\d{2}:\d{2})$/
const RESENT = /^resent by (.+)$/
const UNDELIVERED = /^the SMSC reports it undelivered \(dlr (\d+)\)$/
const FIXED: Record<string, string> = {
  'opt-out': 'optOut',
  'invalid address': 'invalidAddress',
  'invalid phone': 'invalidPhone',
  'invalid e-mail': 'invalidEmail',
  'no phone': 'noPhone',
  'no e-mail': 'noEmail',
  'no address': 'noAddress',
}

/** The i18n key (under messages.reasons) and parameters of a reason we write; null for any other
 *  text (a gateway's error), shown as it is. */
export function reasonWords(reason: string | null | undefined): ReasonWords {
  if (!reason) return null
  const held = HELD.exec(reason)
  if (held) return { key: 'held', params: { month: String(Number(held[1])), day: String(Number(held[2])), time: held[3] } }
  const resent = RESENT.exec(reason)
  if (resent) return { key: 'resent', params: { by: resent[1] } }
  const undelivered = UNDELIVERED.exec(reason)
  if (undelivered) return { key: 'undelivered', params: { code: undelivered[1] } }
  return reason in FIXED ? { key: FIXED[reason], params: {} } : null
}
