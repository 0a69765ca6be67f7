"""SIP (RFC 3261): messages, digest authentication; transactions and dialogs build on these."""
