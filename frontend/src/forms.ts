// Form errors on their fields: the API's field errors (already in the user's language, the client
// sends Accept-Language) and the same rules checked in the browser before sending, read from the
// request body's schema in openapi.json (required, minLength/maxLength, pattern, minimum/maximum,
// enum). Every wrong field is marked at once; editing a field clears its mark.
//
// Use in a component (the model's keys are the body's fields; `aliases` maps the others):
//   const form = reactive({ note: '', next: '' })
//   const { busy, fieldErrors, run } = useAction({ form, schema: 'FollowUpIn', aliases: { next: 'next_contact_at' } })
//   <el-form-item :error="fieldErrors.note"> … </el-form-item>
//   await run(() => call(api.POST(…)))   // checks the form first; sends nothing while a field is wrong
// See docs/web.md ("Forms and their errors").
import type { FieldError } from './api/client'

export type FieldMessages = Record<string, string>

export interface JsonSchema {
  type?: string
  properties?: Record<string, JsonSchema>
  required?: string[]
  anyOf?: JsonSchema[]
  $ref?: string
  minLength?: number
  maxLength?: number
  pattern?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minItems?: number
  maxItems?: number
  enum?: unknown[]
}

/** What one field must be: the constraints of its schema, `anyOf` branches merged, `null` dropped. */
export interface FieldRule {
  required: boolean
  nullable: boolean
  minLength?: number
  maxLength?: number
  pattern?: string
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minItems?: number
  maxItems?: number
  enum?: string[]
}

// The names of the patterns our schemas use, as core/validation_messages.py names them: a pattern
// is told to the user in words, never as a regular expression.
const PATTERN_NAMES: Record<string, string> = {
  '\\S': 'not-blank',
  '^\\+?[0-9 ()-]{7,20}$': 'phone',
  '^(\\+?[0-9 ()-]{7,20})?$': 'phone',
  '^\\+?[0-9]{3,20}$': 'phone',
  '^(\\+?[0-9]{3,20})?$': 'phone',
  '^[+0-9 \\-]{3,32}$': 'phone',
  '^[+0-9 \\-]*$': 'phone',
  '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$': 'email',
  '^([^@\\s]+@[^@\\s]+\\.[^@\\s]+)?$': 'email',
  '^([01][0-9]|2[0-3]):[0-5][0-9]$': 'clock',
  '^[0-9]{8}$': 'member-number',
  '^[0-9]{6}$': 'sms-code',
  '^[A-Za-z0-9_=-]+\\.[A-Za-z0-9_=-]*\\.[A-Za-z0-9_=-]*$': 'jwt',
  '^[0-9]{1,8}$': 'digits',
  '^[0-9]{3,6}$': 'extension',
  '^[0-9*#A-D]{1,32}$': 'keys',
  '^[0-9A-Za-z]+$': 'letters-digits',
  '^[A-Z0-9][A-Z0-9-]{0,15}$': 'upper-code',
  '^[a-z][a-z0-9_-]{0,63}$': 'code',
  '^[a-z][a-z0-9_.-]{1,39}$': 'code',
  '^[a-z][a-z0-9_\\-]{1,31}$': 'code',
  '^([a-z][a-z0-9_\\-]{1,31})?$': 'code',
  '^[a-z][a-z0-9_]{0,31}$': 'code',
  '^[a-z_]{1,40}$': 'code',
  '^[a-z_]{1,12}$': 'code',
  '^[a-z_,]{1,120}$': 'codes',
  '^[A-Za-z0-9._-]{1,64}$': 'name',
  '^[A-Za-z0-9_-]{8,40}$': 'name',
  '^[A-Za-z0-9_-]+$': 'name',
  '^[A-Za-z0-9_.-]*$': 'name',
  '^[A-Za-z0-9._:-]+$': 'name',
  '^[A-Za-z0-9-]{1,20}$': 'name',
  '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$': 'name',
  '^[a-zA-Z0-9][a-zA-Z0-9._-]*$': 'name',
  '^[\\x21-\\x7e]+$': 'printable',
  '^[\\x21-\\x7e]*$': 'printable',
  '^([\\x21-\\x7e]{32,200})?$': 'printable',
  '^[A-Za-z0-9.:\\[\\]-]+$': 'host',
  '^[0-9A-Fa-f.:]+$': 'host',
  '^\\d{4}-\\d{2}$': 'month',
}
/** Every pattern name the locales word (`formErrors.pattern.<name>`), 'choice' for `^(a|b)$`. */
export const PATTERN_WORDS = [
  'not-blank',
  'phone',
  'email',
  'clock',
  'member-number',
  'sms-code',
  'jwt',
  'digits',
  'extension',
  'keys',
  'letters-digits',
  'upper-code',
  'code',
  'codes',
  'name',
  'printable',
  'host',
  'month',
  'choice',
] as const

export function patternName(pattern: string): string {
  if (/^\^\([\w|-]+\)\$$/.test(pattern)) return 'choice'
  return PATTERN_NAMES[pattern] ?? ''
}

type Schemas = Record<string, JsonSchema>

function resolve(schema: JsonSchema, schemas: Schemas): JsonSchema {
  const ref = schema.$ref?.split('/').pop()
  return ref ? resolve(schemas[ref] ?? {}, schemas) : schema
}

/** The rules of each field of a request body schema (e.g. `FollowUpIn`). */
export function rulesOf(name: string, schemas: Schemas): Record<string, FieldRule> {
  const body = resolve(schemas[name] ?? {}, schemas)
  const rules: Record<string, FieldRule> = {}
  for (const [field, raw] of Object.entries(body.properties ?? {})) {
    const branches = (raw.anyOf ?? [raw]).map((b) => resolve(b, schemas))
    const rule: FieldRule = {
      required: (body.required ?? []).includes(field),
      nullable: branches.some((b) => b.type === 'null'),
    }
    for (const branch of branches.filter((b) => b.type !== 'null')) {
      for (const key of [
        'minLength',
        'maxLength',
        'pattern',
        'minimum',
        'maximum',
        'exclusiveMinimum',
        'exclusiveMaximum',
        'minItems',
        'maxItems',
      ] as const) {
        if (branch[key] !== undefined && rule[key] === undefined) (rule as unknown as Record<string, unknown>)[key] = branch[key]
      }
      if (branch.enum) rule.enum = branch.enum.map(String)
    }
    rules[field] = rule
  }
  return rules
}

/** The i18n lookup: `(key, params) => i18n.global.t(key, params)`. */
export type Translate = (key: string, params?: Record<string, unknown>) => string

/** The message for one value breaking its rule, or '' when it keeps it. */
export function checkValue(value: unknown, rule: FieldRule, t: Translate): string {
  const text = typeof value === 'string' ? value.trim() : value
  const empty = text === undefined || text === null || text === ''
  if (empty) {
    if (rule.required && !rule.nullable) return t('formErrors.required')
    if (rule.minLength && rule.minLength > 0 && text === '') return t('formErrors.required')
    return ''
  }
  if (Array.isArray(text)) {
    if (rule.minItems !== undefined && text.length < rule.minItems) return t('formErrors.minItems', { n: rule.minItems })
    if (rule.maxItems !== undefined && text.length > rule.maxItems) return t('formErrors.maxItems', { n: rule.maxItems })
    return ''
  }
  const number = typeof text === 'number' ? text : typeof text === 'string' && text !== '' && !isNaN(Number(text)) ? Number(text) : null
  const numeric =
    rule.minimum !== undefined || rule.maximum !== undefined || rule.exclusiveMinimum !== undefined || rule.exclusiveMaximum !== undefined
  if (number !== null && numeric) {
    if (rule.exclusiveMinimum !== undefined && number <= rule.exclusiveMinimum)
      return t('formErrors.exclusiveMinimum', { n: rule.exclusiveMinimum })
    if (rule.minimum !== undefined && number < rule.minimum) return t('formErrors.minimum', { n: rule.minimum })
    if (rule.exclusiveMaximum !== undefined && number >= rule.exclusiveMaximum)
      return t('formErrors.exclusiveMaximum', { n: rule.exclusiveMaximum })
    if (rule.maximum !== undefined && number > rule.maximum) return t('formErrors.maximum', { n: rule.maximum })
  }
  if (typeof text !== 'string') return ''
  if (rule.enum && !rule.enum.includes(text)) return t('formErrors.enum', { values: rule.enum.join(t('formErrors.listSeparator')) })
  if (rule.minLength !== undefined && [...text].length < rule.minLength) return t('formErrors.minLength', { n: rule.minLength })
  if (rule.maxLength !== undefined && [...text].length > rule.maxLength) return t('formErrors.maxLength', { n: rule.maxLength })
  if (rule.pattern && !new RegExp(rule.pattern).test(text)) {
    const name = patternName(rule.pattern)
    if (name === 'choice') return t('formErrors.enum', { values: rule.pattern.slice(2, -2).split('|').join(t('formErrors.listSeparator')) })
    return t(name ? `formErrors.pattern.${name}` : 'formErrors.pattern.other')
  }
  return ''
}

/** Every wrong field of `model` at once (keys renamed by `aliases` to the body's field names). */
export function checkForm(
  model: object,
  rules: Record<string, FieldRule>,
  t: Translate,
  aliases: Record<string, string> = {},
): FieldMessages {
  const out: FieldMessages = {}
  const values = model as Record<string, unknown>
  for (const key of Object.keys(values)) {
    const field = aliases[key] ?? key
    const rule = rules[field]
    const message = rule ? checkValue(values[key], rule, t) : ''
    if (message) out[field] = message
  }
  for (const [field, rule] of Object.entries(rules)) {
    const given = Object.keys(values).some((key) => (aliases[key] ?? key) === field)
    if (!given && rule.required && !rule.nullable && !(field in out)) out[field] = t('formErrors.required')
  }
  return out
}

/** A problem's field errors by form field: `body.note` → `note`, `body.fields.people` → `fields.people`. */
export function messagesByField(errors: FieldError[]): FieldMessages {
  const out: FieldMessages = {}
  for (const error of errors) {
    const parts = error.field.split('.')
    const name = parts.length > 1 ? parts.slice(1).join('.') : parts[0]
    if (name && !(name in out)) out[name] = error.message
  }
  return out
}

let loading: Promise<Schemas> | null = null
/** The API's schemas, loaded once when a form first checks (a chunk of its own). */
export function apiSchemas(): Promise<Schemas> {
  loading ??= import('../openapi.json').then((doc) => (doc as unknown as { components: { schemas: Schemas } }).components.schemas)
  return loading
}
