"""The export jobs: who asked for what, how far it got, where its file is and until when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.clock import utcnow
from hotline.core.db import Base


class ExportJob(Base):
    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_user_created", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject: Mapped[str] = mapped_column(String(60))
    format: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pii: Mapped[bool] = mapped_column(default=False)
    """Personal data unmasked (asked for, and the requester holds customers.read_pii)."""
    locale: Mapped[str] = mapped_column(String(8), default="zh-CN")
    """The language of the headers and the sheet's name: the requester's."""
    status: Mapped[str] = mapped_column(String(12), default="queued", index=True)
    rows_done: Mapped[int] = mapped_column(default=0)
    rows_total: Mapped[int | None]
    file: Mapped[str | None] = mapped_column(String(200))
    """The file's name inside the exports folder (settings.exports_dir)."""
    size: Mapped[int | None]
    node: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    heartbeat_at: Mapped[datetime | None]
    """Last progress of a running job: one that stops beating was lost with its node."""
    finished_at: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
