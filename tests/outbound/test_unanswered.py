"""A dialer's call the minute job settles from the log (the dialer lost it: the campaign paused
mid-call, or the node restarted) keeps what happened: an abandoned answer stays `abandoned`, so
the 72-hour rule still holds the number."""

from __future__ import annotations

from hotline.contact.calls.facts import CallOutOutcome
from hotline.core.clock import utcnow
from hotline.outbound.models import Attempt, Campaign, Target
from hotline.outbound.work import close_unanswered


def test_the_log_s_words_become_the_attempt_s_outcome() -> None:
    for detail, outcome in (
        ("busy", "busy"),
        ("abandoned", "abandoned"),
        ("machine", "machine"),
        ("odd", "failed"),
    ):
        target, attempt = Target(attempts=0), Attempt(started_at=utcnow())
        close_unanswered(Campaign(retry={}), target, attempt, CallOutOutcome("not_connected", detail))
        assert (attempt.outcome, target.last_outcome, target.attempts) == (outcome, outcome, 1)
