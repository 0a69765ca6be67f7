"""The home page of work: each signed-in user's own work, from the domains' services."""
