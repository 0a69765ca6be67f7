// One menu for everyone, filtered by the signed-in user's permissions.
export interface MenuItem {
  name: string // route name, also used in data-testid="nav-<name>"
  path: string
  label: string // i18n key
  icon: string // Element Plus icon component name
  permission?: string
}

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
  { name: 'calls', path: '/calls', label: 'menu.calls', icon: 'PhoneFilled', permission: 'calls.read' },
  { name: 'wallboard', path: '/wallboard', label: 'menu.wallboard', icon: 'Monitor', permission: 'agents.read' },
  { name: 'agents', path: '/agents', label: 'menu.agents', icon: 'Avatar', permission: 'agents.read' },
  { name: 'queues', path: '/admin/queues', label: 'menu.queues', icon: 'Operation', permission: 'routing.read' },
  { name: 'hotels', path: '/admin/hotels', label: 'menu.hotels', icon: 'OfficeBuilding', permission: 'hotels.write' },
  { name: 'travel-catalogue', path: '/admin/travel', label: 'menu.catalogue', icon: 'MapLocation', permission: 'catalogue.write' },
  { name: 'users', path: '/admin/users', label: 'menu.users', icon: 'User', permission: 'users.read' },
  { name: 'roles', path: '/admin/roles', label: 'menu.roles', icon: 'Lock', permission: 'users.read' },
  { name: 'flows', path: '/admin/flows', label: 'menu.flows', icon: 'Share', permission: 'routing.read' },
  { name: 'staffing', path: '/staffing', label: 'menu.staffing', icon: 'DataAnalysis', permission: 'routing.read' },
  { name: 'travel-report', path: '/travel/report', label: 'menu.travelReport', icon: 'TrendCharts', permission: 'reports.read' },
  { name: 'telephony', path: '/admin/telephony', label: 'menu.telephony', icon: 'Phone', permission: 'telephony.read' },
  { name: 'audit', path: '/admin/audit', label: 'menu.audit', icon: 'Document', permission: 'audit.read' },
  { name: 'profile', path: '/profile', label: 'menu.profile', icon: 'Setting' },
]

export function visibleMenu(items: MenuItem[], permissions: readonly string[]): MenuItem[] {
  const granted = new Set(permissions)
  return items.filter((item) => !item.permission || granted.has(item.permission))
}
