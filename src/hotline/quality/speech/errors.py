"""Errors of transcripts and phrase rules (stable codes; Chinese in core/messages.py by reason)."""

from __future__ import annotations

from hotline.core.errors import HotlineError, InvalidInput


class EngineUnavailable(HotlineError):
    """The configured speech engine cannot run here (not installed, no model): a setting to fix,
    so the recording is marked refused with the reason instead of being retried every minute."""

    code = "speech-engine-unavailable"
    status = 503
    title = "The speech engine is not available"


class PhraseRulesRefused(InvalidInput):
    code = "phrase-rules-refused"
    title = "The phrase rules are not valid"
