import { describe, expect, it } from 'vitest'
import { type Disposition, resultBody } from '../components/outbound/actions'

const DISPOSITIONS: Disposition[] = [
  { code: 'satisfied', label: '满意，已回访', final: true },
  { code: 'call_later', label: '约定改时间再联系', final: false },
]
const blank = { disposition: '', note: '', answers: {}, callBackAt: null }
const AT = '2026-12-07T10:00:00+08:00'

describe("an answered call's result", () => {
  it('sends the answers given and leaves out the blank ones', () => {
    const body = resultBody(
      { ...blank, disposition: 'satisfied', answers: { overall: 4, again: false, advice: '  ', other: null, unrated: 0 } },
      DISPOSITIONS,
    )
    expect(body.answers).toEqual({ overall: 4, again: false })
    expect(body.disposition).toBe('satisfied')
  })
  it('trims the note and text answers', () => {
    const body = resultBody({ ...blank, disposition: 'satisfied', note: ' 很满意 ', answers: { advice: ' 早餐 ' } }, DISPOSITIONS)
    expect(body.note).toBe('很满意')
    expect(body.answers).toEqual({ advice: '早餐' })
  })
  it('keeps a call-back time only for a disposition that keeps the number open', () => {
    expect(resultBody({ ...blank, disposition: 'call_later', callBackAt: AT }, DISPOSITIONS).call_back_at).toBe(AT)
    expect(resultBody({ ...blank, disposition: 'satisfied', callBackAt: AT }, DISPOSITIONS).call_back_at).toBeNull()
    expect(resultBody({ ...blank, callBackAt: AT }, DISPOSITIONS).call_back_at).toBeNull()
  })
  it('sends no disposition when none is chosen (the server names the field)', () => {
    expect(resultBody(blank, DISPOSITIONS).disposition).toBeNull()
  })
})
