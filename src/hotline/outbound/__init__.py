"""Outbound work (issue 22, SPEC B1–B4): lists and campaigns, the calling rules of China (windows,
attempt caps, the do-not-call list, consent), the dialer's pacing, dispositions and surveys.
docs/outbound.md."""
