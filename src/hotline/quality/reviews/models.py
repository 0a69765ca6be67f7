"""Stored records of this part of quality (filled in as it is built)."""

from __future__ import annotations
