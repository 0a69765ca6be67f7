import { describe, expect, it } from 'vitest'
import spec from '../../openapi.json'
import { setLocale } from '../i18n'
import { auditActionLabel, codeLabel, enumsOf, missingLabels, triggerLabel } from '../labels'
import en from '../locales/en'
import zhCN from '../locales/zh-CN'

const locales = { 'zh-CN': zhCN, en }

describe('labels of the codes the API returns', () => {
  it('words every value of every enum in openapi.json in zh-CN and in English', () => {
    expect(Object.keys(enumsOf(spec)).length).toBeGreaterThan(70)
    expect(missingLabels(spec, locales)).toEqual([])
  })

  it('names the value that lacks words, and an enum no kind words', () => {
    const added = {
      components: {
        schemas: {
          ...spec.components.schemas,
          TicketIn: { properties: { source: { enum: ['call', 'carrier_pigeon'] } } },
          NewThing: { properties: { colour: { anyOf: [{ enum: ['red'] }, { type: 'null' }] } } },
        },
      },
    }
    expect(missingLabels(added, locales)).toEqual([
      'zh-CN: TicketIn.source = "carrier_pigeon"',
      'en: TicketIn.source = "carrier_pigeon"',
      'NewThing.colour: no label kind in ENUM_KINDS',
    ])
    expect(missingLabels(spec, { ...locales, en: { ...en, labels: { ...en.labels, transports: {} } } })).toEqual([
      'en: TrunkCreate.transport = "UDP"',
      'en: TrunkCreate.transport = "TCP"',
      'en: TrunkUpdate.transport = "UDP"',
      'en: TrunkUpdate.transport = "TCP"',
    ])
  })

  it('words the codes that are plain strings: statuses, sources, audit actions, triggers', () => {
    setLocale('zh-CN')
    expect(codeLabel('reservationStatus', 'confirmed')).toBe('已确认')
    expect(codeLabel('bookingSource', 'walk-in')).toBe('到店')
    expect(auditActionLabel('auth.login')).toBe('登录')
    expect(auditActionLabel('reservations.update')).toBe('预订 · 修改')
    expect(triggerLabel('hotels.reservation:confirmed')).toBe('酒店预订 · 已确认')
    expect(codeLabel('skill', 'hotel')).toBe('酒店')
    setLocale('en')
    expect(auditActionLabel('auth.login')).toBe('Signed in')
    expect(triggerLabel('hotels.reservation:confirmed')).toBe('Hotel reservation · confirmed')
    expect(codeLabel('ticketStatus', 'no_such_status')).toBe('no_such_status') // shown as is: the walk flags it
    setLocale('zh-CN')
  })
})
