"""Hotline: an open-source contact-center platform for hotel chains and travel agencies."""

__version__ = "0.1.0"
