"""Tickets, complaints and work orders (S1–S5)."""
