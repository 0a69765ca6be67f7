"""Users, roles, sessions, API tokens and the audit log viewer (SPEC X1, X2, X5)."""
