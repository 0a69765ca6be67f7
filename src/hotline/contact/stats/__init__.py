"""Call records and interval figures derived from the contact event log (docs/metrics.md)."""
