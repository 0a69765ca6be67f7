import { describe, expect, it } from 'vitest'
import { evaluationOf, figureBars, moved, tagsOf } from '../components/quality/actions'
import type { Figures } from '../components/quality/actions'

describe('a playlist order', () => {
  it('moves an example one place up or down', () => {
    expect(moved([1, 2, 3], 2, -1)).toEqual([1, 3, 2])
    expect(moved([1, 2, 3], 0, 1)).toEqual([2, 1, 3])
  })
  it('keeps the order when the example is already at that end', () => {
    expect(moved([1, 2, 3], 0, -1)).toEqual([1, 2, 3])
    expect(moved([1, 2, 3], 2, 1)).toEqual([1, 2, 3])
    expect(moved([], 0, 1)).toEqual([])
  })
  it('never changes the order it was given', () => {
    const order = [1, 2]
    moved(order, 0, 1)
    expect(order).toEqual([1, 2])
  })
})

describe('the tags to pick from', () => {
  it('are every tag in use once, in the order first met', () => {
    expect(tagsOf([{ tags: ['投诉', '开场'] }, { tags: [] }, { tags: ['开场', '致歉'] }])).toEqual(['投诉', '开场', '致歉'])
  })
})

describe('an evaluation assigned from a recording', () => {
  const recording = {
    id: 7,
    call_id: 'leg-1',
    agent_id: 4,
    started_at: '2026-11-30T02:00:00Z',
    queue: 'hotel',
    direction: 'internal' as const,
    seconds: 95.6,
  }
  it('names the call, its part and its facts as the list shows them', () => {
    expect(evaluationOf({ ...recording, direction: 'inbound' }, 9, 3)).toEqual({
      call_id: 'leg-1',
      recording_ids: [7],
      agent_id: 4,
      evaluator_id: 9,
      scorecard_id: 3,
      call_started_at: '2026-11-30T02:00:00Z',
      queue: 'hotel',
      direction: 'inbound',
      seconds: 96,
    })
  })
  it('scores an internal call as the agent’s own (outbound) one, within the API’s bounds', () => {
    const made = evaluationOf({ ...recording, seconds: 99_999 }, 9, 3)
    expect([made.direction, made.seconds]).toEqual(['outbound', 86_400])
  })
})

describe('the figures chart', () => {
  const line = (extra: Partial<Figures>): Figures => ({
    agent_id: 4,
    agent_name: '001 陈晓',
    evaluations: 0,
    average: null,
    auto_fails: 0,
    appeals: 0,
    appeals_won: 0,
    appeals_lost: 0,
    appeals_open: 0,
    calls_checked: 0,
    silences: 0,
    overtalks: 0,
    forbidden_hits: 0,
    ...extra,
  })
  it('draws the average as a number and adds up what the checks flagged', () => {
    expect(figureBars([line({ average: '88.29', calls_checked: 5, silences: 3, overtalks: 2, forbidden_hits: 1 })])).toEqual([
      { agent: '001 陈晓', average: 88.29, checked: 5, flagged: 6 },
    ])
  })
  it('leaves out the average of an agent with no evaluation, not as a zero', () => {
    expect(figureBars([line({ agent_name: '', agent_id: 12 })])).toEqual([{ agent: '12', average: null, checked: 0, flagged: 0 }])
  })
})
