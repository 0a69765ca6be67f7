"""RTP (RFC 3550) packets and RFC 4733 telephone events."""
