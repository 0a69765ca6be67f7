import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useHome } from './stores/home'
import { useSession } from './stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    permission?: string
    public?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
  // the customer's survey page an SMS links to: no sign-in, no staff menus
  { path: '/s/:token', name: 'survey', component: () => import('./views/SurveyView.vue'), meta: { public: true } },
  // a site visitor's web chat (the widget's frame, or linked): no sign-in, no staff menus
  { path: '/chat', name: 'chat', component: () => import('./views/ChatView.vue'), meta: { public: true } },
  {
    path: '/',
    component: () => import('./layouts/MainLayout.vue'),
    children: [
      { path: '', name: 'home', component: () => import('./views/HomeView.vue') },
      { path: 'admin/users', name: 'users', component: () => import('./views/UsersView.vue'), meta: { permission: 'users.read' } },
      { path: 'admin/roles', name: 'roles', component: () => import('./views/RolesView.vue'), meta: { permission: 'users.read' } },
      { path: 'admin/flows', name: 'flows', component: () => import('./views/FlowsView.vue'), meta: { permission: 'routing.read' } },
      {
        path: 'customers',
        name: 'customers',
        component: () => import('./views/CustomersView.vue'),
        meta: { permission: 'customers.read' },
      },
      {
        path: 'customers/:id(\\d+)',
        name: 'customer',
        component: () => import('./views/CustomerView.vue'),
        meta: { permission: 'customers.read' },
      },
      { path: 'booking', name: 'booking', component: () => import('./views/BookingView.vue'), meta: { permission: 'bookings.write' } },
      {
        path: 'reservations',
        name: 'reservations',
        component: () => import('./views/ReservationsView.vue'),
        meta: { permission: 'bookings.read' },
      },
      { path: 'groups', name: 'groups', component: () => import('./views/GroupsView.vue'), meta: { permission: 'bookings.write' } },
      { path: 'travel/orders', name: 'orders', component: () => import('./views/OrderBoardView.vue'), meta: { permission: 'orders.read' } },
      {
        path: 'travel/orders/:id(\\d+)',
        name: 'order',
        component: () => import('./views/OrderView.vue'),
        meta: { permission: 'orders.read' },
      },
      {
        path: 'travel/assign',
        name: 'order-assign',
        component: () => import('./views/OrderAssignView.vue'),
        meta: { permission: 'orders.assign' },
      },
      {
        path: 'travel/finance',
        name: 'order-finance',
        component: () => import('./views/OrderFinanceView.vue'),
        meta: { permission: 'finance.review' },
      },
      {
        path: 'outbound/campaigns',
        name: 'outbound-campaigns',
        component: () => import('./views/OutboundCampaignsView.vue'),
        meta: { permission: 'campaigns.write' },
      },
      {
        path: 'outbound/campaigns/:id(\\d+)',
        name: 'outbound-campaign',
        component: () => import('./views/OutboundCampaignView.vue'),
        meta: { permission: 'campaigns.write' },
      },
      {
        path: 'outbound/dnc',
        name: 'outbound-dnc',
        component: () => import('./views/OutboundDncView.vue'),
        meta: { permission: 'campaigns.read' },
      },
      {
        path: 'outbound/mine',
        name: 'my-outbound',
        component: () => import('./views/MyOutboundView.vue'),
        meta: { permission: 'campaigns.read' },
      },
      {
        path: 'admin/teams',
        name: 'teams',
        component: () => import('./views/TeamsView.vue'),
        meta: { permission: 'teams.write' },
      },
      ...(
        [
          ['tickets', () => import('./views/ReportTicketsView.vue')],
          ['bookings', () => import('./views/ReportBookingsView.vue')],
          ['orders', () => import('./views/ReportOrdersView.vue')],
          ['messages', () => import('./views/ReportMessagesView.vue')],
          ['surveys', () => import('./views/ReportSurveysView.vue')],
          ['queues', () => import('./views/ReportQueuesView.vue')],
          ['agents', () => import('./views/ReportAgentsView.vue')],
          ['ivr', () => import('./views/ReportIvrView.vue')],
          ['chats', () => import('./views/ReportChatsView.vue')],
          ['assessment', () => import('./views/ReportAssessmentView.vue')],
        ] as const
      ).map(([subject, component]) => ({
        path: `reports/${subject}`,
        name: `report-${subject}`,
        component,
        meta: { permission: 'reports.read' },
      })),
      {
        path: 'reports/custom',
        name: 'report-custom',
        component: () => import('./views/CustomReportsView.vue'),
        meta: { permission: 'reports.read' },
      },
      {
        path: 'travel/report',
        name: 'travel-report',
        component: () => import('./views/TravelReportView.vue'),
        meta: { permission: 'reports.read' },
      },
      {
        path: 'admin/travel',
        name: 'travel-catalogue',
        component: () => import('./views/TravelCatalogueView.vue'),
        meta: { permission: 'catalogue.write' },
      },
      {
        path: 'front-desk',
        name: 'frontdesk',
        component: () => import('./views/FrontDeskView.vue'),
        meta: { permission: 'hotels.front_desk' },
      },
      { path: 'admin/hotels', name: 'hotels', component: () => import('./views/HotelsView.vue'), meta: { permission: 'hotels.write' } },
      { path: 'desktop', name: 'desktop', component: () => import('./views/DesktopView.vue'), meta: { permission: 'calls.handle' } },
      { path: 'tickets', name: 'tickets', component: () => import('./views/TicketsView.vue'), meta: { permission: 'tickets.read' } },
      {
        path: 'tickets/new',
        name: 'ticket-new',
        component: () => import('./views/TicketFormView.vue'),
        meta: { permission: 'tickets.write' },
      },
      {
        path: 'tickets/units',
        name: 'ticketUnits',
        component: () => import('./views/TicketUnitsView.vue'),
        meta: { permission: 'tickets.read' },
      },
      {
        path: 'tickets/sla',
        name: 'sla',
        component: () => import('./views/SlaDashboardView.vue'),
        meta: { permission: 'tickets.dispatch' },
      },
      {
        path: 'tickets/settings',
        name: 'ticketSettings',
        component: () => import('./views/TicketSettingsView.vue'),
        meta: { permission: 'settings.write' },
      },
      {
        path: 'tickets/:id(\\d+)',
        name: 'ticket',
        component: () => import('./views/TicketView.vue'),
        meta: { permission: 'tickets.read' },
      },
      {
        path: 'complaints',
        name: 'complaints',
        component: () => import('./views/ComplaintBoardView.vue'),
        meta: { permission: 'tickets.read' },
      },
      {
        path: 'knowledge',
        name: 'knowledge',
        component: () => import('./views/KnowledgeView.vue'),
        meta: { permission: 'knowledge.read' },
      },
      { path: 'messages', name: 'messages', component: () => import('./views/MessagesView.vue'), meta: { permission: 'templates.write' } },
      {
        path: 'messages/conversations/:id(\\d+)?',
        name: 'conversations',
        component: () => import('./views/ConversationsView.vue'),
        meta: { permission: 'messages.send' },
      },
      { path: 'wallboard', name: 'wallboard', component: () => import('./views/WallboardView.vue'), meta: { permission: 'agents.read' } },
      { path: 'calls', name: 'calls', component: () => import('./views/CallsView.vue'), meta: { permission: 'calls.read' } },
      {
        path: 'recordings',
        name: 'recordings',
        component: () => import('./views/RecordingsView.vue'),
        meta: { permission: 'recordings.listen' },
      },
      {
        path: 'quality/evaluations',
        name: 'evaluations',
        component: () => import('./views/EvaluationsView.vue'),
        meta: { permission: 'qa.read' },
      },
      {
        path: 'quality/evaluations/:id(\\d+)',
        name: 'evaluation',
        component: () => import('./views/EvaluationView.vue'),
        meta: { permission: 'qa.read' },
      },
      {
        path: 'quality/scorecards',
        name: 'scorecards',
        component: () => import('./views/ScorecardsView.vue'),
        meta: { permission: 'qa.manage' },
      },
      {
        path: 'quality/calibrations',
        name: 'calibrations',
        component: () => import('./views/CalibrationsView.vue'),
        meta: { permission: 'qa.read' },
      },
      {
        path: 'quality/library',
        name: 'call-library',
        component: () => import('./views/CallLibraryView.vue'),
        meta: { permission: 'qa.read' },
      },
      {
        path: 'quality/settings',
        name: 'quality-settings',
        component: () => import('./views/QualitySettingsView.vue'),
        meta: { permission: 'qa.manage' },
      },
      {
        path: 'quality/mine',
        name: 'my-quality',
        component: () => import('./views/MyQualityView.vue'),
        meta: { permission: 'calls.handle' },
      },
      { path: 'agents', name: 'agents', component: () => import('./views/AgentsView.vue'), meta: { permission: 'agents.read' } },
      { path: 'admin/queues', name: 'queues', component: () => import('./views/QueuesView.vue'), meta: { permission: 'routing.read' } },
      { path: 'staffing', name: 'staffing', component: () => import('./views/StaffingView.vue'), meta: { permission: 'routing.read' } },
      {
        path: 'admin/telephony',
        name: 'telephony',
        component: () => import('./views/TelephonyView.vue'),
        meta: { permission: 'telephony.read' },
      },
      { path: 'admin/audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { permission: 'audit.read' } },
      { path: 'profile', name: 'profile', component: () => import('./views/ProfileView.vue') },
      { path: 'exports', name: 'my-exports', component: () => import('./views/MyExportsView.vue') },
      { path: 'forbidden', name: 'forbidden', component: () => import('./views/ForbiddenView.vue') },
      { path: ':rest(.*)*', name: 'not-found', component: () => import('./views/NotFoundView.vue') },
    ],
  },
]

export const router = createRouter({ history: createWebHistory('/'), routes })

router.beforeEach(async (to, from) => {
  const session = useSession()
  if (!session.loaded) await session.load()
  if (to.meta.public) {
    if (to.name === 'login') useHome().clear() // whoever signs in next has their own landing
    return session.me && to.name === 'login' ? { name: 'home' } : true
  }
  if (!session.me) return { name: 'login', query: { next: to.fullPath } }
  if (!session.can(to.meta.permission)) return { name: 'forbidden', query: { from: to.fullPath } }
  // agents who take calls start on the desktop: after signing in and when Hotline opens on `/`
  // (the menu's 首页 still shows their home page)
  if (to.name === 'home' && (!from.name || from.name === 'login')) {
    const landing = await useHome().load()
    if (landing?.page === 'desktop') return { name: 'desktop' }
  }
  return true
})
