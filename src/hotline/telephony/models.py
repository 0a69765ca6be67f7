"""Telephony configuration as stored: what the voice engine loads at start and on every change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base


class Extension(Audited, Base):
    """An agent's phone line (分机). The password is kept only as digest HA1 values for the realm."""

    __tablename__ = "extensions"
    __audit_redact__ = frozenset({"ha1_md5", "ha1_sha256"})

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), unique=True)
    realm: Mapped[str] = mapped_column(String(64))
    ha1_md5: Mapped[str] = mapped_column(String(32))
    ha1_sha256: Mapped[str] = mapped_column(String(64))
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Trunk(Audited, Base):
    """A carrier connection. Its password must be kept readable (Hotline answers the carrier's
    challenges with it); it is never sent back by the API and is redacted in the audit log."""

    __tablename__ = "trunks"
    __audit_redact__ = frozenset({"password"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(default=5060)
    transport: Mapped[str] = mapped_column(String(3), default="UDP")
    username: Mapped[str] = mapped_column(String(64), default="")
    password: Mapped[str] = mapped_column(String(128), default="")
    registers: Mapped[bool] = mapped_column(default=False)
    expires: Mapped[int] = mapped_column(default=600)
    outbound: Mapped[bool] = mapped_column(default=True)
    caller_id: Mapped[str] = mapped_column(String(32), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    dids: Mapped[list[Did]] = relationship(
        back_populates="trunk", cascade="all, delete-orphan", lazy="selectin", order_by="Did.number"
    )


class Did(Audited, Base):
    """A number callers dial (e.g. 4008001000), delivered by a trunk, starting an entry point."""

    __tablename__ = "dids"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    trunk_id: Mapped[int] = mapped_column(ForeignKey("trunks.id", ondelete="CASCADE"), index=True)
    entry_point: Mapped[str] = mapped_column(String(64))
    """The IVR flow the call starts in (issue 4 names flows; `hotel` and `travel` ship)."""
    description: Mapped[str] = mapped_column(String(120), default="")

    trunk: Mapped[Trunk] = relationship(back_populates="dids")


class Prompt(Audited, Base):
    """A recorded or spoken announcement (welcome, hold music, closing notice), stored as 8 kHz
    μ-law so every voice node plays it without converting."""

    __tablename__ = "prompts"
    __audit_redact__ = frozenset({"audio"})

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(8))
    """upload | tts"""
    text: Mapped[str | None] = mapped_column(Text)
    audio: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    duration_ms: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PhoneKey(Base):
    """The key browsers' phone credentials are signed with (voice/sip/credentials.py), made on first
    use and shared by every node through the database (HOTLINE_PHONE_SECRET overrides it)."""

    __tablename__ = "phone_key"
    __audit_redact__ = frozenset({"secret"})

    id: Mapped[int] = mapped_column(primary_key=True)
    secret: Mapped[str] = mapped_column(String(128))
