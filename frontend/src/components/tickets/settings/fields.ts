// A ticket type's form fields as the settings page edits them: each row keeps a local id so Vue
// keeps its inputs while rows move; the server's errors name fields by position (`fields.2.key`).
import type { Schemas } from '../../../api/client'

export type FieldType = Schemas['FieldDef']['type']
export type Field = Schemas['FieldDef'] & { uid: number }
export type Severity = Schemas['PolicyIn']['severity']
export const FIELD_TYPES: FieldType[] = ['text', 'textarea', 'integer', 'number', 'boolean', 'date', 'datetime', 'choice', 'phone']
export const SEVERITIES: Severity[] = ['low', 'normal', 'high', 'critical']

let uid = 0

export function asField(raw: Record<string, unknown>): Field {
  const num = (v: unknown): number | null => (typeof v === 'number' ? v : null)
  return {
    uid: ++uid,
    key: typeof raw.key === 'string' ? raw.key : '',
    label: typeof raw.label === 'string' ? raw.label : '',
    type: (raw.type as FieldType) ?? 'text',
    required: Boolean(raw.required),
    choices: Array.isArray(raw.choices) ? raw.choices.map(String) : [],
    max_length: num(raw.max_length),
    min: num(raw.min),
    max: num(raw.max),
  }
}

export const blankField = (): Field => asField({})

export const isText = (type: FieldType): boolean => type === 'text' || type === 'textarea'
export const isNumber = (type: FieldType): boolean => type === 'integer' || type === 'number'

/** The field as the server takes it: only the rule its type has. */
export function fieldDef({ uid: _uid, ...f }: Field): Schemas['FieldDef'] {
  return {
    ...f,
    choices: f.type === 'choice' ? f.choices : [],
    max_length: isText(f.type) ? f.max_length : null,
    min: isNumber(f.type) ? f.min : null,
    max: isNumber(f.type) ? f.max : null,
  }
}

/** The server's message for a field or anything inside it (fields.2 → fields.2.choices.0 too). */
export function errorOf(errors: Record<string, string>, name: string): string | undefined {
  if (errors[name]) return errors[name]
  const inside = Object.keys(errors).find((k) => k.startsWith(`${name}.`))
  return inside ? errors[inside] : undefined
}
