"""The monthly assessment's schemes (考核方案): the weights a supervisor sets and the targets each
component is scored against — one for the site (no team) and optionally one per team."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base


class AssessmentScheme(Audited, Base):
    __tablename__ = "assessment_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"), unique=True)
    """None: the site's scheme, used for every team without its own."""
    weight_volume: Mapped[int]
    weight_handle_time: Mapped[int]
    weight_quality: Mapped[int]
    weight_satisfaction: Mapped[int]
    weight_attendance: Mapped[int]
    target_calls: Mapped[int]
    target_aht_seconds: Mapped[int]
    target_quality: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    target_satisfaction: Mapped[Decimal] = mapped_column(Numeric(3, 2))
    target_hours_per_workday: Mapped[Decimal] = mapped_column(Numeric(4, 2))
    conversation_weight: Mapped[Decimal] = mapped_column(
        Numeric(4, 2), default=Decimal(1), server_default="1"
    )
    """What one conversation handled (web chat, SMS, WeChat) counts for in the volume, in calls"""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
