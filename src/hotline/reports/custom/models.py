"""Saved custom reports: the definition as chosen, who may see it, and when it is mailed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base


class CustomReport(Audited, Base):
    __tablename__ = "custom_reports"
    __table_args__ = (Index("ix_custom_reports_next_send", "next_send_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    shared_roles: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Roles whose members see the report too (they still need the subject's permission)."""
    schedule: Mapped[str] = mapped_column(String(8), default="none")
    """none | daily | weekly | monthly"""
    hour: Mapped[int] = mapped_column(default=8)
    """The hour of the site's day it is sent at."""
    weekday: Mapped[int | None]
    """1 (Monday) … 7 for weekly."""
    monthday: Mapped[int | None]
    """1 … 28 for monthly."""
    recipients: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """E-mail addresses."""
    next_send_at: Mapped[datetime | None]
    last_sent_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
