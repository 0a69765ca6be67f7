import { describe, expect, it } from 'vitest'
import { reasonWords } from '../components/messages/reasons'

describe('the outbox reasons we write are worded, a gateway error stays as it came', () => {
  it('words the quiet hours with the moment the message goes', () => {
    expect(reasonWords('quiet hours: held until 12-06 08:00')).toEqual({
      key: 'held',
      params: { month: '12', day: '6', time: '08:00' },
    })
  })
  it('words a resend, an opt-out and an invalid address', () => {
    expect(reasonWords('resent by admin')).toEqual({ key: 'resent', params: { by: 'admin' } })
    expect(reasonWords('opt-out')?.key).toBe('optOut')
    expect(reasonWords('invalid address')?.key).toBe('invalidAddress')
    expect(reasonWords('no phone')?.key).toBe('noPhone')
    expect(reasonWords('the SMSC reports it undelivered (dlr 16)')).toEqual({ key: 'undelivered', params: { code: '16' } })
  })
  it('leaves any other text (a gateway error) and nothing alone', () => {
    expect(reasonWords('HTTP 502 from gateway')).toBeNull()
    expect(reasonWords('')).toBeNull()
    expect(reasonWords(null)).toBeNull()
  })
})
