"""The voice plane: SIP signalling, SDP, RTP media (see docs/voice.md and ARCHITECTURE.md)."""
