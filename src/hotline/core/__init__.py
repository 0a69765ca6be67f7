"""Shared plumbing: configuration, database, auth, audit, events, jobs, errors."""
