"""Agents: presence (the state machine) and the services that read and change it."""
