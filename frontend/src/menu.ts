// One menu for everyone, filtered by the signed-in user's permissions.
export interface MenuItem {
  name: string // route name, also used in data-testid="nav-<name>"
  path: string
  label: string // i18n key
  icon: string // Element Plus icon component name
  permission?: string
  /** Further permissions it needs, all of them (a report needs reports.read and its subject's). */
  also?: string[]
  /** Hidden from those who hold this permission (我的外呼 is for agents, not for who runs campaigns). */
  without?: string
  /** The group it sits in (a key of MENU_GROUPS): shown under the group's heading. */
  group?: MenuGroupName
}

/** Menu groups: a heading that folds its items (质检 holds the QA screens). */
export const MENU_GROUPS = {
  quality: { label: 'menu.quality', icon: 'Finished' },
  reports: { label: 'menu.reports', icon: 'TrendCharts' },
  outbound: { label: 'menu.outbound', icon: 'PhoneFilled' },
} as const
export type MenuGroupName = keyof typeof MENU_GROUPS

/** One line of the menu: an item, or a group with the items that belong to it. */
export type MenuSection =
  { kind: 'item'; item: MenuItem } | { kind: 'group'; name: MenuGroupName; label: string; icon: string; items: MenuItem[] }

export const MENU: MenuItem[] = [
  { name: 'home', path: '/', label: 'menu.home', icon: 'HomeFilled' },
  { name: 'desktop', path: '/desktop', label: 'menu.desk', icon: 'Headset', permission: 'calls.handle' },
  { name: 'customers', path: '/customers', label: 'menu.customers', icon: 'UserFilled', permission: 'customers.read' },
  { name: 'booking', path: '/booking', label: 'menu.booking', icon: 'House', permission: 'bookings.write' },
  { name: 'groups', path: '/groups', label: 'menu.groups', icon: 'Suitcase', permission: 'bookings.write' },
  { name: 'reservations', path: '/reservations', label: 'menu.reservations', icon: 'Tickets', permission: 'bookings.read' },
  { name: 'orders', path: '/travel/orders', label: 'menu.orders', icon: 'Ship', permission: 'orders.read' },
  { name: 'order-assign', path: '/travel/assign', label: 'menu.assign', icon: 'Guide', permission: 'orders.assign' },
  { name: 'order-finance', path: '/travel/finance', label: 'menu.finance', icon: 'Money', permission: 'finance.review' },
  { name: 'frontdesk', path: '/front-desk', label: 'menu.frontDesk', icon: 'Key', permission: 'hotels.front_desk' },
  { name: 'tickets', path: '/tickets', label: 'menu.tickets', icon: 'Memo', permission: 'tickets.read' },
  { name: 'complaints', path: '/complaints', label: 'menu.complaints', icon: 'Warning', permission: 'tickets.read' },
  { name: 'ticketUnits', path: '/tickets/units', label: 'menu.ticketUnits', icon: 'Grid', permission: 'tickets.read' },
  { name: 'sla', path: '/tickets/sla', label: 'menu.sla', icon: 'Timer', permission: 'tickets.dispatch' },
  { name: 'ticketSettings', path: '/tickets/settings', label: 'menu.ticketSettings', icon: 'SetUp', permission: 'settings.write' },
  { name: 'knowledge', path: '/knowledge', label: 'menu.knowledge', icon: 'Reading', permission: 'knowledge.read' },
  { name: 'messages', path: '/messages', label: 'menu.messages', icon: 'ChatLineSquare', permission: 'templates.write' },
  {
    name: 'conversations',
    path: '/messages/conversations',
    label: 'menu.conversations',
    icon: 'ChatDotRound',
    permission: 'messages.send',
  },
  // 外呼: who runs campaigns sees them and their lists; an agent the campaigns they work
  {
    name: 'outbound-campaigns',
    path: '/outbound/campaigns',
    label: 'menu.outboundCampaigns',
    icon: 'Promotion',
    permission: 'campaigns.write',
    group: 'outbound',
  },
  {
    name: 'outbound-dnc',
    path: '/outbound/dnc',
    label: 'menu.outboundDnc',
    icon: 'MuteNotification',
    permission: 'campaigns.read',
    group: 'outbound',
  },
  {
    name: 'my-outbound',
    path: '/outbound/mine',
    label: 'menu.myOutbound',
    icon: 'Phone',
    permission: 'campaigns.read',
    without: 'campaigns.write',
    group: 'outbound',
  },
  { name: 'calls', path: '/calls', label: 'menu.calls', icon: 'PhoneFilled', permission: 'calls.read' },
  // 质检: the recordings, evaluations, scorecards, calibration, the call library and the agent's own
  {
    name: 'recordings',
    path: '/recordings',
    label: 'menu.recordings',
    icon: 'Microphone',
    permission: 'recordings.listen',
    group: 'quality',
  },
  {
    name: 'evaluations',
    path: '/quality/evaluations',
    label: 'menu.evaluations',
    icon: 'Finished',
    permission: 'qa.read',
    group: 'quality',
  },
  { name: 'scorecards', path: '/quality/scorecards', label: 'menu.scorecards', icon: 'List', permission: 'qa.manage', group: 'quality' },
  // everyone who may calibrate (qa.evaluate scores, qa.manage runs sessions) reads QA: qa.read
  { name: 'calibrations', path: '/quality/calibrations', label: 'menu.calibrations', icon: 'Aim', permission: 'qa.read', group: 'quality' },
  {
    name: 'call-library',
    path: '/quality/library',
    label: 'menu.callLibrary',
    icon: 'Collection',
    permission: 'qa.read',
    group: 'quality',
  },
  {
    name: 'quality-settings',
    path: '/quality/settings',
    label: 'menu.qualitySettings',
    icon: 'Setting',
    permission: 'qa.manage',
    group: 'quality',
  },
  { name: 'my-quality', path: '/quality/mine', label: 'menu.myQuality', icon: 'Medal', permission: 'calls.handle', group: 'quality' },
  { name: 'wallboard', path: '/wallboard', label: 'menu.wallboard', icon: 'Monitor', permission: 'agents.read' },
  { name: 'agents', path: '/agents', label: 'menu.agents', icon: 'Avatar', permission: 'agents.read' },
  { name: 'teams', path: '/admin/teams', label: 'menu.teams', icon: 'UserFilled', permission: 'teams.write' },
  { name: 'queues', path: '/admin/queues', label: 'menu.queues', icon: 'Operation', permission: 'routing.read' },
  { name: 'hotels', path: '/admin/hotels', label: 'menu.hotels', icon: 'OfficeBuilding', permission: 'hotels.write' },
  { name: 'travel-catalogue', path: '/admin/travel', label: 'menu.catalogue', icon: 'MapLocation', permission: 'catalogue.write' },
  { name: 'users', path: '/admin/users', label: 'menu.users', icon: 'User', permission: 'users.read' },
  { name: 'roles', path: '/admin/roles', label: 'menu.roles', icon: 'Lock', permission: 'users.read' },
  { name: 'flows', path: '/admin/flows', label: 'menu.flows', icon: 'Share', permission: 'routing.read' },
  { name: 'staffing', path: '/staffing', label: 'menu.staffing', icon: 'DataAnalysis', permission: 'routing.read' },
  // 统计分析: each report needs reports.read and the right to see its subject (finance: money only)
  {
    name: 'report-tickets',
    path: '/reports/tickets',
    label: 'menu.reportTickets',
    icon: 'Memo',
    permission: 'reports.read',
    also: ['tickets.read'],
    group: 'reports',
  },
  {
    name: 'report-bookings',
    path: '/reports/bookings',
    label: 'menu.reportBookings',
    icon: 'House',
    permission: 'reports.read',
    also: ['bookings.read'],
    group: 'reports',
  },
  {
    name: 'report-orders',
    path: '/reports/orders',
    label: 'menu.reportOrders',
    icon: 'Ship',
    permission: 'reports.read',
    also: ['orders.read'],
    group: 'reports',
  },
  {
    name: 'travel-report',
    path: '/travel/report',
    label: 'menu.travelReport',
    icon: 'TrendCharts',
    permission: 'reports.read',
    group: 'reports',
  },
  {
    name: 'report-messages',
    path: '/reports/messages',
    label: 'menu.reportMessages',
    icon: 'ChatLineSquare',
    permission: 'reports.read',
    also: ['messages.read'],
    group: 'reports',
  },
  {
    name: 'report-surveys',
    path: '/reports/surveys',
    label: 'menu.reportSurveys',
    icon: 'Star',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-queues',
    path: '/reports/queues',
    label: 'menu.reportQueues',
    icon: 'Histogram',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-agents',
    path: '/reports/agents',
    label: 'menu.reportAgents',
    icon: 'Avatar',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-ivr',
    path: '/reports/ivr',
    label: 'menu.reportIvr',
    icon: 'Share',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-chats',
    path: '/reports/chats',
    label: 'menu.reportChats',
    icon: 'ChatDotRound',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-assessment',
    path: '/reports/assessment',
    label: 'menu.reportAssessment',
    icon: 'Medal',
    permission: 'reports.read',
    also: ['agents.read'],
    group: 'reports',
  },
  {
    name: 'report-custom',
    path: '/reports/custom',
    label: 'menu.reportCustom',
    icon: 'Histogram',
    permission: 'reports.read',
    group: 'reports',
  },
  { name: 'telephony', path: '/admin/telephony', label: 'menu.telephony', icon: 'Phone', permission: 'telephony.read' },
  { name: 'audit', path: '/admin/audit', label: 'menu.audit', icon: 'Document', permission: 'audit.read' },
  { name: 'profile', path: '/profile', label: 'menu.profile', icon: 'Setting' },
]

export function visibleMenu(items: MenuItem[], permissions: readonly string[]): MenuItem[] {
  const granted = new Set(permissions)
  return items.filter(
    (item) =>
      (!item.permission || granted.has(item.permission)) &&
      (item.also ?? []).every((p) => granted.has(p)) &&
      !(item.without && granted.has(item.without)),
  )
}

/** The visible items as the menu shows them: a group where its first item stands, holding all of
 *  its items; a group with no visible item is not shown. */
export function menuSections(items: MenuItem[]): MenuSection[] {
  const sections: MenuSection[] = []
  const groups = new Map<MenuGroupName, MenuItem[]>()
  for (const item of items) {
    if (!item.group) {
      sections.push({ kind: 'item', item })
      continue
    }
    const members = groups.get(item.group)
    if (members) {
      members.push(item)
      continue
    }
    const fresh = [item]
    groups.set(item.group, fresh)
    sections.push({ kind: 'group', name: item.group, ...MENU_GROUPS[item.group], items: fresh })
  }
  return sections
}
