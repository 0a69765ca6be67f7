import { describe, expect, it } from 'vitest'
import { nextTick, reactive } from 'vue'
import spec from '../../openapi.json'
import { ProblemError, requestLanguage, setRequestLocale } from '../api/client'
import { useAction } from '../composables'
import { PATTERN_WORDS, checkForm, patternName, rulesOf, type JsonSchema, type Translate } from '../forms'
import { i18n, setLocale } from '../i18n'

const schemas = (spec as unknown as { components: { schemas: Record<string, JsonSchema> } }).components.schemas
const t: Translate = (key, params) => i18n.global.t(key, params ?? {})

function patternsIn(node: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => patternsIn(n, found))
  else if (node && typeof node === 'object') {
    const pattern = (node as { pattern?: unknown }).pattern
    if (typeof pattern === 'string') found.add(pattern)
    Object.values(node).forEach((n) => patternsIn(n, found))
  }
  return found
}

describe('rules from the OpenAPI schema', () => {
  it('reads required, lengths, pattern, bounds and choices of a request body', () => {
    const followUp = rulesOf('FollowUpIn', schemas)
    expect(followUp.note).toMatchObject({ required: true, minLength: 1, maxLength: 1000, pattern: '\\S' })
    expect(followUp.next_contact_at).toMatchObject({ required: false, nullable: true })
    const receipt = rulesOf('ReceiptIn', schemas)
    expect(receipt.amount).toMatchObject({ required: true, exclusiveMinimum: 0, maximum: 10000000 })
    expect(receipt.method.enum).toEqual(['cash', 'card', 'transfer', 'online'])
  })

  it('marks every wrong field of a form at once, in the UI language', () => {
    setLocale('zh-CN')
    const booking = rulesOf('BookingIn', schemas)
    const wrong = { guest_name: '  ', guest_phone: '138-abc', rooms: 0, guests: 81, expected_arrival: '25:00' }
    expect(checkForm(wrong, booking, t)).toEqual({
      guest_name: '必填',
      guest_phone: '请输入有效的电话号码',
      rooms: '不能小于 1',
      guests: '不能大于 80',
      expected_arrival: '请输入时间，例如 09:30',
      hotel_id: '必填',
      room_type_id: '必填',
      rate_plan_id: '必填',
      arrival: '必填',
      departure: '必填',
    })
    setLocale('en')
    expect(checkForm({ amount: 0, method: 'cheque' }, rulesOf('ReceiptIn', schemas), t)).toEqual({
      amount: 'Must be more than 0',
      method: 'Choose one of: cash, card, transfer, online',
    })
    setLocale('zh-CN')
  })

  it('keeps a right form clean and maps model keys to body fields', () => {
    const rules = rulesOf('FollowUpIn', schemas)
    expect(checkForm({ note: '客人想要海景房', next: '' }, rules, t, { next: 'next_contact_at' })).toEqual({})
    expect(checkForm({ note: '' }, rules, t)).toEqual({ note: '必填' })
  })

  it('words every pattern the API uses, in both languages', () => {
    const unnamed = [...patternsIn(spec)].filter((p) => !patternName(p))
    expect(unnamed).toEqual([])
    for (const locale of ['zh-CN', 'en'] as const) {
      for (const name of PATTERN_WORDS) expect(i18n.global.te(`formErrors.pattern.${name}`, locale), `${locale} ${name}`).toBe(true)
    }
  })
})

describe('useAction with a form', () => {
  it('puts each field error of a problem on its field and clears one when it is edited', async () => {
    const form = reactive({ note: 'x', next: '' })
    const { fieldErrors, run } = useAction({ form, aliases: { next: 'next_contact_at' } })
    const problem = new ProblemError(422, 'validation-failed', '请检查以下字段', [
      { field: 'body.note', message: '必填', type: 'string_too_short' },
      { field: 'body.next_contact_at', message: '时间须带时区', type: 'timezone_aware' },
    ])
    expect(await run(() => Promise.reject(problem))).toBeUndefined()
    expect(fieldErrors.value).toEqual({ note: '必填', next_contact_at: '时间须带时区' })
    form.next = '2026-12-06 10:00'
    await nextTick()
    expect(fieldErrors.value).toEqual({ note: '必填' })
  })

  it('sends nothing while the schema finds a wrong field', async () => {
    const form = reactive({ note: ' ', next: '' })
    const { fieldErrors, run } = useAction({ form, schema: 'FollowUpIn', aliases: { next: 'next_contact_at' } })
    let sent = 0
    expect(await run(() => Promise.resolve(++sent))).toBeUndefined()
    expect(sent).toBe(0)
    expect(fieldErrors.value).toEqual({ note: '必填' })
    form.note = '已电话确认'
    expect(await run(() => Promise.resolve(++sent))).toBe(1)
  })
})

describe('Accept-Language', () => {
  it('follows the UI language', () => {
    setRequestLocale('en')
    expect(requestLanguage()).toBe('en')
    setLocale('zh-CN')
    expect(requestLanguage()).toBe('zh-CN,zh;q=0.9')
  })
})
