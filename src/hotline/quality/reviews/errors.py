"""The reviews' errors: each a stable code, an HTTP status and the rule it names."""

from __future__ import annotations

from hotline.core.errors import Conflict, InvalidInput, InvalidTransition, NotFound


class ReviewNotFound(NotFound):
    code = "review-not-found"
    title = "No such scorecard, evaluation, plan, session or library entry"


class EvaluationRefused(InvalidTransition):
    code = "evaluation-refused"
    title = "The evaluation's current state does not allow this"


class AnswersInvalid(InvalidInput):
    code = "answers-invalid"
    title = "The answers do not fit the scorecard"


class ScorecardInvalid(InvalidInput):
    code = "scorecard-invalid"
    title = "The scorecard is not well formed"


class ScorecardFrozen(Conflict):
    code = "scorecard-frozen"
    title = "A published or retired scorecard is not edited in place"


class CalibrationRefused(InvalidTransition):
    code = "calibration-refused"
    title = "The calibration session does not allow this now"
