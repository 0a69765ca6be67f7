"""Telephony configuration: agent extensions, carrier trunks and the numbers (DIDs) callers dial."""
