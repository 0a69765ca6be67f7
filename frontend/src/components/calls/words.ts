// The words of a call's routing reason, IVR path and log lines, from the codes the API sends
// (contact/queues/reasons.py, contact/calls/words.py): one place, for the calls page and the desktop.
import type { Schemas } from '../../api/client'
import { i18n } from '../../i18n'
import { codeLabel, skillLabel } from '../../labels'

type Reason = Schemas['RoutingReasonOut']
type Step = Schemas['IvrStep']
type Line = Schemas['LineWordsOut']
const t = (key: string, params: Record<string, unknown> = {}): string => i18n.global.t(key, params)

/** Why this agent: 分配给 1003 (003)：该客户上次的坐席，空闲 42 秒；第 1 步（0–20 秒），已等待 5 秒. */
export function reasonText(reason: Reason | null | undefined): string {
  if (!reason) return ''
  const p = reason.params
  const head = t(`labels.routingReasons.${reason.code}`, { ...p, with: p.with_agent })
  if (reason.code !== 'offered') return head
  const skill = codeLabel('skill', String(p.skill ?? ''))
  const why: string[] = []
  if (p.sticky) why.push(t('labels.routing.sticky'))
  else if (Number(p.min_level ?? 1) > 1) why.push(t('labels.routing.minLevel', { skill, level: p.min_level }))
  const pick = String(p.pick ?? 'idle')
  why.push(t(`labels.routing.${pick}`, { n: p.idle_seconds ?? p.calls ?? p.chats, skill, level: p.level }))
  const step = p.to_seconds == null ? 'after' : 'window'
  const where = [
    t(`labels.routing.${step}`, { step: p.step, from: p.from_seconds, to: p.to_seconds }),
    t('labels.routing.waited', { n: p.waited }),
  ]
  return `${head}${t('labels.routing.colon')}${why.join(t('labels.routing.comma'))}${t('labels.routing.semicolon')}${where.join(t('labels.routing.comma'))}`
}

/** One IVR node: the label its flow gives it, else the words for its kind. */
export const stepText = (step: Step): string => step.label || (step.kind ? codeLabel('nodeKind', step.kind) : t('labels.routing.node'))

export const pathText = (path: Step[]): string => path.map(stepText).join(' → ')

/** A call log line's detail in words; the line's own detail when it has no code. */
export function lineText(words: Line | null | undefined, detail = ''): string {
  if (!words) return detail
  const p = words.params
  const named = {
    ...p,
    reason: p.reason ? codeLabel('endReason', p.reason) : '',
    outcome: p.outcome ? codeLabel('callOutcome', p.outcome) : '',
    caller_class: p.caller_class ? codeLabel('callerClass', p.caller_class) : '',
    mode: p.mode ? codeLabel('monitorMode', p.mode) : '',
  }
  return t(`labels.callLines.${words.code}`, named)
}

export { skillLabel }
