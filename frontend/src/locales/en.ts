import type zh from './zh-CN'

const en: typeof zh = {
  app: { name: 'Hotline Contact Center', short: 'Hotline' },
  menu: { home: 'Workspace', users: 'Users', roles: 'Roles', audit: 'Audit log', profile: 'Profile' },
  common: {
    search: 'Search', reset: 'Reset', create: 'New', edit: 'Edit', save: 'Save', cancel: 'Cancel',
    confirm: 'OK', actions: 'Actions', yes: 'Yes', no: 'No', all: 'All', loading: 'Loading…',
    saved: 'Saved', copy: 'Copy', copied: 'Copied', language: 'Language', none: 'None', total: '{n} in total',
  },
  login: {
    title: 'Sign in', username: 'Username', password: 'Password', submit: 'Sign in',
    lockedFor: 'Too many failed sign-ins; try again in {minutes} min', tagline: 'Hotel bookings · tours · customer care, one line',
  },
  user: { menu: 'Account', profile: 'Profile', logout: 'Sign out' },
  home: {
    welcome: 'Hello, {name}', roles: 'My roles', permissions: 'Permissions', workNumber: 'Work number',
    hint: 'The menu shows only what your roles may use.',
  },
  users: {
    title: 'Users', username: 'Username', displayName: 'Name', workNumber: 'Work no.', roles: 'Roles',
    active: 'Status', enabled: 'Active', disabled: 'Disabled', lastLogin: 'Last sign-in', locked: 'Locked',
    createTitle: 'New user', editTitle: 'Edit user', password: 'Initial password', resetPassword: 'Reset password',
    newPassword: 'New password', searchPlaceholder: 'Username / name / work no.', passwordReset: 'Password reset',
  },
  rolesPage: { title: 'Roles', role: 'Role', permissions: 'Permissions' },
  audit: {
    title: 'Audit log', seq: 'No.', at: 'Time', actor: 'By', action: 'Action', entity: 'Entity',
    entityId: 'Entity id', ip: 'IP', since: 'From', until: 'To', verify: 'Verify hash chain',
    verifyOk: 'Audit log intact: {n} entries verified', verifyBad: 'Chain broken at entry {seq}: {reason}',
    before: 'Before', after: 'After', field: 'Field',
  },
  profile: {
    title: 'Profile', displayName: 'Name', language: 'Language', changePassword: 'Change password',
    currentPassword: 'Current password', newPassword: 'New password', confirmPassword: 'Confirm new password',
    mismatch: 'The passwords do not match', passwordChanged: 'Password changed; please sign in again',
    tokens: 'API tokens', tokenName: 'Name', tokenPrefix: 'Prefix', tokenExpires: 'Expires',
    tokenLastUsed: 'Last used', tokenDays: 'Valid days', newToken: 'New token', revoke: 'Revoke',
    tokenCreated: 'This token is shown once; copy it now:', never: 'Never',
  },
  forbidden: { title: 'Access denied', text: 'Your role may not open this page.', back: 'Back to workspace' },
  notFound: { title: 'Page not found', back: 'Back to workspace' },
  roles: {
    agent: 'Agent', team_lead: 'Team lead', planner: 'Planner', front_desk: 'Front desk', finance: 'Finance',
    qa: 'QA', supervisor: 'Supervisor', admin: 'Administrator', dept_staff: 'Department staff',
  },
  permissions: {
    users_read: 'View users', users_write: 'Manage users', audit_read: 'View audit log', settings_write: 'System settings',
    jobs_read: 'View jobs', jobs_write: 'Manage jobs', customers_read: 'View customers',
    customers_read_pii: 'View personal data', customers_write: 'Edit customers', customers_merge: 'Merge customers',
    customers_export: 'Export customers', calls_read: 'View calls', calls_handle: 'Take and place calls',
    calls_monitor: 'Listen / whisper / barge', recordings_listen: 'Listen to recordings',
    recordings_download: 'Download recordings', agents_read: 'View agent states', routing_write: 'Configure routing / IVR',
    hotels_write: 'Manage hotel inventory', bookings_read: 'View bookings', bookings_write: 'Make bookings',
    payments_write: 'Payments and refunds', orders_read: 'View travel orders', orders_write: 'Edit travel orders',
    orders_assign: 'Assign orders', orders_sign: 'Sign contracts', finance_review: 'Finance review',
    finance_write: 'Record receipts and costs', catalogue_write: 'Maintain tour catalogue', tickets_read: 'View tickets',
    tickets_write: 'Open tickets', tickets_dispatch: 'Dispatch tickets', tickets_process: 'Process tickets',
    tickets_audit: 'Audit tickets', messages_send: 'Send SMS / e-mail', templates_write: 'Edit templates',
    templates_approve: 'Approve templates', campaigns_read: 'View campaigns', campaigns_write: 'Manage campaigns',
    qa_read: 'View QA', qa_evaluate: 'Score calls', reports_read: 'View reports', reports_write: 'Design reports',
    knowledge_read: 'Read knowledge base', knowledge_write: 'Edit knowledge base',
  },
  errors: {
    'invalid-credentials': 'Wrong username or password', 'login-locked': 'Too many failed sign-ins; try again later',
    'account-disabled': 'This account is disabled', 'not-authenticated': 'Please sign in',
    'session-expired': 'Your session expired; please sign in again', 'permission-denied': 'You may not do this',
    'validation-failed': 'Please check the highlighted fields', 'password-policy': 'The password does not meet the policy',
    'wrong-password': 'The current password is wrong', 'username-taken': 'That username is taken',
    'work-number-taken': 'That work number is in use', 'user-not-found': 'User not found', 'unknown-role': 'Unknown role',
    'last-admin': 'The last administrator cannot be removed or disabled', 'not-found': 'Not found',
    'payload-too-large': 'Too much data submitted', 'rate-limited': 'Too many requests',
    'token-not-found': 'API token not found', 'malformed-json': 'Malformed request',
    'internal-error': 'Internal error; please contact the administrator', 'network': 'Cannot reach the server',
  },
}

export default en
