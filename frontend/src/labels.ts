// One way to word a code the API returns: `codeLabel(kind, code)`. Each kind of code has a key
// prefix in the locale files (existing sections where they already had the words); ENUM_KINDS says
// which kind words each enum of openapi.json, and labels.test.ts checks that every value of every
// enum has words in both locales. A code without words shows as itself (and the walk flags it).
import { i18n } from './i18n'

export const PREFIXES = {
  agentState: 'agents.state',
  timelineGroup: 'customers.groups',
  reportGranularity: 'reports.granularity',
  reportCompare: 'reports.compare',
  customChart: 'customReports.charts',
  customPreset: 'customReports.presets',
  customSchedule: 'customReports.schedules',
  articleCategory: 'knowledge.categories',
  calibrationStatus: 'reviews.calibrationStatuses',
  evaluationAction: 'reviews.actions',
  evaluationOutcome: 'reviews.outcomes',
  evaluationStatus: 'reviews.statuses',
  exampleKind: 'reviews.exampleKinds',
  pickedFor: 'reviews.pickedFor',
  scorecardItemKind: 'reviews.itemKinds',
  scorecardStatus: 'reviews.scorecardStatuses',
  stratum: 'reviews.strata',
  hitKind: 'speech.hitKinds',
  phraseKind: 'speech.ruleKinds',
  phraseSide: 'speech.sides',
  phraseWindow: 'speech.windows',
  speechChannel: 'speech.channels',
  transcriptStatus: 'speech.statuses',
  auditAction: 'labels.auditActions',
  auditVerb: 'labels.auditVerbs',
  bookingSource: 'labels.bookingSources',
  callEvent: 'calls.kind',
  callLine: 'labels.callLines',
  callOutcome: 'calls.outcome',
  callbackReason: 'calls.kind',
  callerClass: 'labels.callerClasses',
  channel: 'messages.channels',
  chatFileKind: 'chatFiles.kinds',
  consultAction: 'labels.consultActions',
  consultState: 'labels.consultStates',
  costCategory: 'travel.costCategories',
  customerSource: 'customers.sources',
  dayKind: 'ticketSettings.dayKinds',
  deskCallState: 'desk.states',
  deskCallerClass: 'desk.classes',
  direction: 'labels.directions',
  exportFormat: 'exports.formats',
  endReason: 'labels.endReasons',
  disposition: 'desk.dispositions',
  entity: 'labels.entities',
  fieldType: 'ticketSettings.fieldTypes',
  flowStatus: 'flows.statusName',
  gateway: 'messages.kinds',
  gender: 'labels.genders',
  homeAlert: 'labels.homeAlerts',
  landingPage: 'labels.landingPages',
  tileLevel: 'labels.tileLevels',
  idType: 'customers.idTypes',
  itemKind: 'travel.itemKinds',
  lateOutcome: 'reservations.late',
  linkKind: 'labels.linkKinds',
  liveCallMode: 'phone.modes',
  phoneKind: 'browserPhone.kinds',
  locale: 'labels.locales',
  messageStatus: 'messages.statuses',
  conversationStatus: 'conversations.statuses',
  chatVerified: 'conversations.verified',
  chatVerifiedVisitor: 'chat.identify.verified',
  cannedCategory: 'canned.categories',
  cannedUse: 'canned.uses',
  chatTopic: 'chat.topics',
  smsDirection: 'conversations.directions',
  monitorMode: 'labels.monitorModes',
  nodeKind: 'flows.type',
  occasion: 'labels.occasions',
  orderSource: 'travel.sources',
  paymentKind: 'reservations.kinds',
  paymentMethod: 'reservations.methods',
  permission: 'permissions',
  personTitle: 'labels.titles',
  pmsEvent: 'labels.pmsEvents',
  promptSource: 'labels.promptSources',
  recordingKind: 'labels.recordingKinds',
  queueStrategy: 'queues.strategy',
  receiptCategory: 'travel.receiptCategories',
  reservationAction: 'reservations.actions',
  reservationStatus: 'reservations.statuses',
  revealField: 'labels.revealFields',
  role: 'roles',
  routingReason: 'labels.routingReasons',
  severity: 'tickets.severities',
  skill: 'labels.skills',
  staffingModel: 'labels.staffingModels',
  tellChannel: 'labels.tellChannels',
  templatePurpose: 'messages.purposes',
  ticketAction: 'tickets.actions',
  ticketKind: 'tickets.kinds',
  ticketMode: 'labels.ticketModes',
  ticketSource: 'tickets.sources',
  ticketStatus: 'tickets.statuses',
  tier: 'customers.tiers',
  topic: 'labels.topics',
  tourKind: 'travel.kinds',
  transferMode: 'labels.transferModes',
  transferTarget: 'labels.transferTargets',
  transport: 'labels.transports',
  travelState: 'travel.states',
  unitKind: 'ticketSettings.unitKinds',
  campaignKind: 'outbound.kinds',
  campaignPurpose: 'outbound.purposes',
  campaignMode: 'outbound.modes',
  campaignStatus: 'outbound.statuses',
  targetState: 'outbound.states',
  attemptOutcome: 'outbound.outcomes',
  dialReason: 'outbound.reasons',
  assignHow: 'outbound.how',
  questionType: 'outbound.questionTypes',
  surveyChannel: 'outbound.surveyChannels',
  dncSource: 'outbound.dncSources',
} as const

export type LabelKind = keyof typeof PREFIXES

/** Which kind words each enum of the API: `Schema.property` as in openapi.json. */
export const ENUM_KINDS: Record<string, LabelKind> = {
  'WallboardQueue.level': 'tileLevel',
  TimelineGroup: 'timelineGroup',
  'ReportOut.granularity': 'reportGranularity',
  Granularity: 'reportGranularity',
  Compare: 'reportCompare',
  'CustomReportIn.schedule': 'customSchedule',
  'CustomReportOut.schedule': 'customSchedule',
  'Definition.chart': 'customChart',
  'ResultOut.chart': 'customChart',
  'PeriodIn.preset': 'customPreset',
  Role: 'role',
  'AgentStateIn.state': 'agentState',
  'Alert.kind': 'homeAlert',
  'Alert.level': 'tileLevel',
  'ArticleIn.category': 'articleCategory',
  'BookingIn.deposit_method': 'paymentMethod',
  'BookingIn.source': 'bookingSource',
  'CalendarDayIn.kind': 'dayKind',
  'CallerFileIn.title': 'personTitle',
  'CallerIdentity.caller_class': 'callerClass',
  'ComplaintIn.severity': 'severity',
  'ConfirmationSendIn.channel': 'channel',
  'ConsultActionIn.action': 'consultAction',
  'ConsultOut.state': 'consultState',
  'CostIn.category': 'costCategory',
  'CustomerIn.title': 'personTitle',
  'CustomerIn.gender': 'gender',
  'CustomerIn.id_type': 'idType',
  'CustomerIn.tier': 'tier',
  'CustomerUpdate.title': 'personTitle',
  'CustomerUpdate.gender': 'gender',
  'CustomerUpdate.id_type': 'idType',
  'CustomerUpdate.tier': 'tier',
  'DeskCallOut.state': 'deskCallState',
  'DeskCallOut.caller_class': 'deskCallerClass',
  'FieldDef.type': 'fieldType',
  'FlowVersionOut.status': 'flowStatus',
  'GatewayIn.kind': 'gateway',
  'ConversationOut.status': 'conversationStatus',
  'CannedPhraseIn.category': 'cannedCategory',
  'CannedPhraseOut.category': 'cannedCategory',
  'CannedPhraseIn.used_in': 'cannedUse',
  'CannedPhraseOut.used_in': 'cannedUse',
  'ChatStartIn.topic': 'chatTopic',
  'ChatStartedOut.status': 'conversationStatus',
  'ChatStateOut.status': 'conversationStatus',
  'ChatFileOut.kind': 'chatFileKind',
  'ChatStartedOut.verified': 'chatVerifiedVisitor',
  'ChatStateOut.verified': 'chatVerifiedVisitor',
  'ChatVisitorOut.verified_by': 'chatVerified',
  'ConversationOut.last_direction': 'smsDirection',
  'ConversationMessageOut.direction': 'smsDirection',
  'ItemIn.kind': 'itemKind',
  'ItemIn.mode': 'ticketMode',
  'IvrStep.kind': 'nodeKind',
  'LateOutcomeIn.outcome': 'lateOutcome',
  'LinkIn.kind': 'linkKind',
  'LineWordsOut.code': 'callLine',
  'LiveCallOut.direction': 'direction',
  'RecordingRow.direction': 'direction',
  'CallRecordOut.direction': 'direction',
  'CallRecordOut.outcome': 'callOutcome',
  'ExportIn.format': 'exportFormat',
  'RecordingRow.kind': 'recordingKind',
  'HitOut.kind': 'hitKind',
  'HitOut.channel': 'speechChannel',
  'PhraseRuleIn.kind': 'phraseKind',
  'PhraseRuleIn.side': 'phraseSide',
  'PhraseRuleIn.within': 'phraseWindow',
  'TranscriptOut.status': 'transcriptStatus',
  'UtteranceOut.channel': 'speechChannel',
  'LiveCallOut.mode': 'liveCallMode',
  'AgentOut.phone': 'phoneKind',
  'AgentPhoneIn.phone': 'phoneKind',
  'Me.locale': 'locale',
  'MeUpdate.locale': 'locale',
  'MonitorIn.mode': 'monitorMode',
  'MonitorOut.mode': 'monitorMode',
  'OptOutIn.channel': 'channel',
  'QueueIn.chat_channels': 'channel',
  'QueueOut.chat_channels': 'channel',
  'OrderIn.kind': 'tourKind',
  'OrderIn.source': 'orderSource',
  'OrderOut.kind': 'tourKind',
  'OrderOut.source': 'orderSource',
  'PaymentIn.kind': 'paymentKind',
  'PaymentIn.method': 'paymentMethod',
  'PlannerDeskIn.kinds': 'tourKind',
  'PmsEventIn.kind': 'pmsEvent',
  'PolicyIn.severity': 'severity',
  'PreviewIn.channel': 'channel',
  'PromptOut.source': 'promptSource',
  'QueueIn.strategy': 'queueStrategy',
  'QueueOut.strategy': 'queueStrategy',
  'ReceiptIn.category': 'receiptCategory',
  'ReceiptIn.method': 'paymentMethod',
  'RevealIn.field': 'revealField',
  'RouteDetail.kind': 'tourKind',
  'RouteIn.kind': 'tourKind',
  'RouteOut.kind': 'tourKind',
  'RoutingReasonOut.code': 'routingReason',
  'Segment.tiers': 'tier',
  'StaffingOut.model': 'staffingModel',
  'Landing.page': 'landingPage',
  'TellIn.channel': 'tellChannel',
  'TemplateIn.channel': 'channel',
  'TemplateIn.purpose': 'templatePurpose',
  'TicketIn.source': 'ticketSource',
  'TicketIn.severity': 'severity',
  'TicketMoveIn.action': 'ticketAction',
  'TransferIn.to': 'transferTarget',
  'TransferIn.mode': 'transferMode',
  'TransitionIn.action': 'reservationAction',
  'TrunkCreate.transport': 'transport',
  'TrunkUpdate.transport': 'transport',
  'TypeIn.kind': 'ticketKind',
  'TypeIn.default_severity': 'severity',
  'UnitIn.kind': 'unitKind',
  'UserOut.locale': 'locale',
  'WrapUpIn.disposition': 'disposition',
  'ConversationCloseIn.disposition': 'disposition',
  'CalibrationOut.status': 'calibrationStatus',
  'EvaluationIn.direction': 'direction',
  'EvaluationMoveIn.action': 'evaluationAction',
  'EvaluationOut.actions': 'evaluationAction',
  'EvaluationOut.direction': 'direction',
  'EvaluationOut.outcome': 'evaluationOutcome',
  'EvaluationOut.picked_for': 'pickedFor',
  'EvaluationOut.status': 'evaluationStatus',
  'EvaluationRow.direction': 'direction',
  'EvaluationRow.outcome': 'evaluationOutcome',
  'EvaluationRow.picked_for': 'pickedFor',
  'EvaluationRow.status': 'evaluationStatus',
  'LibraryIn.kind': 'exampleKind',
  'LibraryOut.kind': 'exampleKind',
  'LongCall.direction': 'direction',
  'PlanIn.strata': 'stratum',
  'PlanOut.strata': 'stratum',
  'ScorecardItemIn.kind': 'scorecardItemKind',
  'ScorecardItemOut.kind': 'scorecardItemKind',
  'ScorecardOut.status': 'scorecardStatus',
  'CampaignIn.kind': 'campaignKind',
  'CampaignIn.purpose': 'campaignPurpose',
  'CampaignIn.mode': 'campaignMode',
  'CampaignOut.kind': 'campaignKind',
  'CampaignOut.purpose': 'campaignPurpose',
  'CampaignOut.mode': 'campaignMode',
  'CampaignOut.status': 'campaignStatus',
  'StatusIn.status': 'campaignStatus',
  'TargetOut.state': 'targetState',
  'TargetAssignIn.how': 'assignHow',
  'AttemptOut.outcome': 'attemptOutcome',
  'CampaignBrief.kind': 'campaignKind',
  'CampaignBrief.mode': 'campaignMode',
  'DialerState.mode': 'campaignMode',
  'QuestionResult.type': 'questionType',
  'CampaignBrief.status': 'campaignStatus',
  'Question.type': 'questionType',
  'DncIn.source': 'dncSource',
}

/** The key a code has under its prefix: dots and colons are path separators for vue-i18n. */
export const codeKey = (code: string): string => (code === '' ? '_none' : code.replace(/[.:]/g, '_'))

export function labelKey(kind: LabelKind, code: string): string {
  return `${PREFIXES[kind]}.${codeKey(code)}`
}

/** The words for a code in the current locale; the code itself when it has none. */
export function codeLabel(kind: LabelKind, code: string | null | undefined): string {
  if (code == null) return ''
  const key = labelKey(kind, code)
  return i18n.global.te(key) ? i18n.global.t(key) : code
}

// The reasons the server gives an agent's state by itself, in English on the record; the rest were
// typed or chosen by people (in their language) and are shown as they are.
const SYSTEM_REASONS: Record<string, string> = {
  'missed offer': 'missedOffer',
  'desktop closed': 'deskClosed',
  'logged in': 'loggedIn',
  'cleared: call no longer exists': 'cleared',
}

/** Why an agent is in their state: the server's own reasons worded, people's reasons as typed. */
export function agentReasonLabel(reason: string | null | undefined): string {
  if (!reason) return ''
  const key = SYSTEM_REASONS[reason]
  return key ? i18n.global.t(`agents.systemReasons.${key}`) : reason
}

/** An audit action: its own words (auth.login), else its table's and its verb's (reservations.update). */
export function auditActionLabel(action: string): string {
  if (i18n.global.te(labelKey('auditAction', action))) return codeLabel('auditAction', action)
  const cut = action.lastIndexOf('.')
  const [entity, verb] = cut > 0 ? [action.slice(0, cut), action.slice(cut + 1)] : ['', action]
  if (!entity || !i18n.global.te(labelKey('auditVerb', verb))) return action
  return `${codeLabel('entity', entity)} · ${codeLabel('auditVerb', verb)}`
}

/** A message rule's trigger: a topic and an occasion (hotels.reservation:confirmed), or a date source. */
export function triggerLabel(trigger: string, sources: { name: string; label: string }[] = []): string {
  const source = sources.find((s) => s.name === trigger)
  if (source) return source.label
  const [topic, occasion] = trigger.split(':')
  if (occasion === undefined) return codeLabel('topic', topic)
  return `${codeLabel('topic', topic)} · ${codeLabel('occasion', occasion)}`
}

/** A skill and the agent's level in it: 酒店 5 级 / Hotel, level 5. */
export function skillLabel(skill: string, level?: number | null): string {
  const name = codeLabel('skill', skill)
  return level == null ? name : i18n.global.t('labels.skillLevel', { skill: name, level })
}

type OpenApi = { components: { schemas: Record<string, unknown> } }
type Messages = Record<string, unknown>

/** Every enum of an OpenAPI document: `Schema.property` → its values (through anyOf and items). */
export function enumsOf(spec: OpenApi): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  const values = (node: unknown): string[] => {
    if (!node || typeof node !== 'object') return []
    const n = node as { enum?: unknown[]; anyOf?: unknown[]; items?: unknown }
    if (n.enum) return n.enum.filter((v): v is string => typeof v === 'string')
    return [...(n.anyOf ?? []).flatMap(values), ...values(n.items)]
  }
  for (const [name, schema] of Object.entries(spec.components.schemas)) {
    const s = schema as { enum?: unknown[]; properties?: Record<string, unknown> }
    if (s.enum) out[name] = values(s)
    for (const [prop, node] of Object.entries(s.properties ?? {})) {
      const found = values(node)
      if (found.length) out[`${name}.${prop}`] = found
    }
  }
  return out
}

/** What lacks words: `locale: Schema.property = value`, or an enum no kind words. */
export function missingLabels(spec: OpenApi, locales: Record<string, Messages>, kinds = ENUM_KINDS): string[] {
  const missing: string[] = []
  const lookup = (messages: Messages, key: string): unknown =>
    key.split('.').reduce<unknown>((node, part) => (node && typeof node === 'object' ? (node as Messages)[part] : undefined), messages)
  for (const [where, values] of Object.entries(enumsOf(spec))) {
    const kind = kinds[where]
    if (!kind) {
      missing.push(`${where}: no label kind in ENUM_KINDS`)
      continue
    }
    for (const [locale, messages] of Object.entries(locales))
      for (const value of values)
        if (typeof lookup(messages, labelKey(kind, value)) !== 'string') missing.push(`${locale}: ${where} = ${JSON.stringify(value)}`)
  }
  return missing
}
