"""Calls with an agent: the live call and its controls, wrap-up, the desk and call records."""
