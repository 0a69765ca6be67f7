import { describe, expect, it } from 'vitest'
import { ProblemError, toProblem } from '../api/client'
import en from '../locales/en'
import zhCN from '../locales/zh-CN'
import { MENU, menuSections, visibleMenu } from '../menu'

function keys(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null ? keys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  )
}

describe('menu by permission', () => {
  it('shows an agent the workspace, customers, calls and profile, not the admin pages', () => {
    const agent = ['customers.read', 'bookings.write', 'calls.handle', 'calls.read', 'knowledge.read']
    expect(visibleMenu(MENU, agent).map((item) => item.name)).toEqual([
      'home',
      'desktop',
      'customers',
      'booking',
      'groups',
      'knowledge',
      'calls',
      'profile',
    ])
  })

  it('shows an administrator the admin pages too', () => {
    const admin = ['users.read', 'users.write', 'audit.read']
    expect(visibleMenu(MENU, admin).map((item) => item.name)).toEqual(['home', 'users', 'roles', 'audit', 'profile'])
  })

  it('shows department staff their tickets and work areas, and the SLA dashboard to dispatchers', () => {
    const staff = ['tickets.read', 'tickets.process', 'customers.read', 'knowledge.read']
    expect(visibleMenu(MENU, staff).map((item) => item.name)).toEqual([
      'home',
      'customers',
      'tickets',
      'complaints',
      'ticketUnits',
      'knowledge',
      'profile',
    ])
    expect(visibleMenu(MENU, [...staff, 'tickets.dispatch']).map((item) => item.name)).toContain('sla')
    expect(visibleMenu(MENU, [...staff, 'tickets.dispatch']).map((item) => item.name)).not.toContain('ticketSettings')
  })

  it('puts ticket settings right after the SLA dashboard, for those who may change settings', () => {
    const names = visibleMenu(MENU, ['tickets.read', 'tickets.dispatch', 'settings.write']).map((item) => item.name)
    expect(names.slice(names.indexOf('sla'), names.indexOf('sla') + 2)).toEqual(['sla', 'ticketSettings'])
  })

  it('shows a planner the travel orders, the assignment queue and the catalogue', () => {
    const planner = ['customers.read', 'orders.read', 'orders.write', 'orders.assign', 'catalogue.write', 'finance.write']
    expect(visibleMenu(MENU, planner).map((item) => item.name)).toEqual([
      'home',
      'customers',
      'orders',
      'order-assign',
      'travel-catalogue',
      'profile',
    ])
  })

  it('gathers the QA screens under 质检 for those who may listen to recordings, and not for an agent', () => {
    const qa = ['calls.read', 'recordings.listen', 'qa.read', 'qa.evaluate', 'customers.read', 'agents.read']
    const sections = menuSections(visibleMenu(MENU, qa))
    const group = sections.find((s) => s.kind === 'group')
    expect(group).toMatchObject({ kind: 'group', name: 'quality', label: 'menu.quality' })
    expect(group?.kind === 'group' && group.items.map((item) => item.name)).toEqual(['recordings'])
    expect(sections.filter((s) => s.kind === 'item').map((s) => s.kind === 'item' && s.item.name)).not.toContain('recordings')
    const agent = ['customers.read', 'calls.handle', 'calls.read']
    expect(menuSections(visibleMenu(MENU, agent)).some((s) => s.kind === 'group')).toBe(false)
  })

  it('never shows an item whose permission is missing', () => {
    for (const item of visibleMenu(MENU, ['users.read'])) {
      expect(item.permission === undefined || item.permission === 'users.read').toBe(true)
    }
  })
})

describe('translations', () => {
  it('have the same keys in Chinese and English', () => {
    expect(keys(en).sort()).toEqual(keys(zhCN).sort())
  })

  it('label every menu item in both languages', () => {
    for (const item of MENU) {
      const [group, key] = item.label.split('.')
      expect((zhCN as unknown as Record<string, Record<string, string>>)[group][key]).toBeTruthy()
      expect((en as unknown as Record<string, Record<string, string>>)[group][key]).toBeTruthy()
    }
  })
})

describe('problem details', () => {
  it('maps field errors to form fields', () => {
    const problem = toProblem(422, {
      code: 'validation-failed',
      detail: 'Invalid value for: body.username, body.password',
      errors: [
        { field: 'body.username', message: 'too short', type: 'string_too_short' },
        { field: 'body.password', message: 'too common', type: 'password-policy' },
      ],
    })
    expect(problem).toBeInstanceOf(ProblemError)
    expect(problem.fieldErrors()).toEqual({ username: 'too short', password: 'too common' })
  })

  it('keeps the lock-out wait and survives a body that is not a problem', () => {
    expect(toProblem(429, { code: 'login-locked', detail: 'later', retry_after: 840 }).retryAfter).toBe(840)
    const odd = toProblem(502, 'Bad Gateway')
    expect([odd.code, odd.status]).toEqual(['http-error', 502])
  })
})
