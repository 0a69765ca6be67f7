"""The knowledge base as stored: articles, and the search index of their terms."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.audit import Audited
from hotline.core.clock import utcnow
from hotline.core.db import Base


class Article(Audited, Base):
    __tablename__ = "kb_articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(16), index=True)
    """hotel | route | price | policy | faq | phrase"""
    tags: Mapped[list[Any]] = mapped_column(JSON, default=list)
    body: Mapped[str] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ArticleTerm(Base):
    """One term of an article with its weight (title counts three times): the inverted index
    the search reads. Chinese is indexed as overlapping character pairs, so any two-character
    word (退款, 押金) is found without a dictionary; other text as words."""

    __tablename__ = "kb_terms"
    __table_args__ = (Index("ix_kb_terms_term", "term", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        ForeignKey("kb_articles.id", ondelete="CASCADE"), primary_key=True
    )
    term: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[int]


class CallScript(Audited, Base):
    """The call script for one class of caller (D2, seed 000): stages, each with the lines to say.
    `{name}` and `{title}` in a line become the caller's."""

    __tablename__ = "call_scripts"

    caller_class: Mapped[str] = mapped_column(String(32), primary_key=True)
    """known | known_customer_new_number | unknown (R4)"""
    stages: Mapped[list[Any]] = mapped_column(JSON)
    """[{"title": "问候", "lines": ["{name}{title}，请问您要预订哪里的客房呢？"]}, …]"""
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
