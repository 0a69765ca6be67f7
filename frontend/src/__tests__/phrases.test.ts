import { describe, expect, it } from 'vitest'
import { fillPhrase, firstParagraph } from '../components/conversations/phrases'

describe('what a phrase or an article becomes in a chat reply', () => {
  it('fills {客户称呼} with how the customer is addressed, or leaves it out', () => {
    expect(fillPhrase('{客户称呼}您好，请稍等。', '张伟先生')).toBe('张伟先生您好，请稍等。')
    expect(fillPhrase('{客户称呼}您好', '')).toBe('您好')
  })
  it("takes an article's first paragraph, cut at a sentence end that fits", () => {
    expect(firstParagraph('早餐06:30开始。\n\n单点68元。', 300)).toBe('早餐06:30开始。')
    expect(firstParagraph('第一句很长。第二句也很长。', 8)).toBe('第一句很长。')
  })
})
