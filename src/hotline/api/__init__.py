"""HTTP API: the app factory, problem details, auth dependencies, middleware."""
