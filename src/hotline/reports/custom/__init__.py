"""Custom reports (SPEC A3): built from the catalogue's choices, saved, shared and mailed."""
