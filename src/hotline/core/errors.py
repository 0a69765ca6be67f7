"""Domain errors: a stable kebab-case code, an HTTP status, details.

Services raise these; one mapper (`hotline.api.problems`) turns them into
RFC 9457 problem details. Nothing below the API layer knows about HTTP
exceptions.

The class's `code` says what kind of error it is (`invalid-input`, `not-found`); the `reason` says
which rule was broken (`arrival-in-past`) and `params` the values it names. The English `detail`
is written where the error is raised; `hotline.core.messages` holds the Chinese by reason, so a
client gets either from the same stable code (tests/api/test_error_language.py checks every reason
raised in src/ has both).
"""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    """Base of every error a user can be shown."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request could not be processed"

    def __init__(
        self,
        detail: str | None = None,
        *,
        field: str | None = None,
        reason: str | None = None,
        params: dict[str, Any] | None = None,
        **extra: Any,
    ):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.reason = reason
        self.params = {key: _plain(value) for key, value in (params or {}).items()}
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors raised in a compute worker (core/compute.py) travel back pickled, fields and all.
        return _rebuild, (type(self), self.detail, self.field, self.extra, self.reason, self.params)

    def field_error(self) -> dict[str, Any]:
        """This error as one entry of a problem's `errors` (English; the API translates it)."""
        return {
            "field": self.field or "body",
            "message": self.detail,
            "type": self.reason or self.code,
            "params": self.params,
        }


def _plain(value: Any) -> Any:
    """A parameter as JSON carries it: numbers and text as they are, anything else (dates, money) as text."""
    return value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else str(value)


def _rebuild(
    cls: type[HotlineError],
    detail: str,
    field: str | None,
    extra: dict[str, Any],
    reason: str | None = None,
    params: dict[str, Any] | None = None,
) -> HotlineError:
    return cls(detail, field=field, reason=reason, params=params, **extra)


class NotFound(HotlineError):
    code = "not-found"
    status = 404
    title = "Not found"


class Conflict(HotlineError):
    code = "conflict"
    status = 409
    title = "Conflict with the current state"


class InvalidInput(HotlineError):
    """Input passed the schema but breaks a business rule; names the field."""

    code = "invalid-input"
    status = 422
    title = "Invalid input"


class InvalidTransition(HotlineError):
    code = "invalid-transition"
    status = 409
    title = "Not allowed in the current state"


class NotAuthenticated(HotlineError):
    code = "not-authenticated"
    status = 401
    title = "Authentication required"


class SessionExpired(NotAuthenticated):
    code = "session-expired"
    title = "Session expired, please log in again"


class PermissionDenied(HotlineError):
    code = "permission-denied"
    status = 403
    title = "You do not have permission to do this"


class FieldProblems:
    """Collects a form's broken rules so one 422 names every wrong field at once.

    problems = FieldProblems()
    if arrival < today:
        problems.add(InvalidInput("The arrival date is in the past", field="body.arrival", reason=...))
    problems.raise_any()
    """

    def __init__(self) -> None:
        self.found: list[HotlineError] = []

    def add(self, error: HotlineError) -> None:
        self.found.append(error)

    def raise_any(self) -> None:
        if len(self.found) == 1:
            raise self.found[0]
        if self.found:
            first = self.found[0]
            raise type(first)(
                first.detail,
                field=first.field,
                reason=first.reason,
                params=first.params,
                errors=[error.field_error() for error in self.found],
            )


class Gone(HotlineError):
    """What the request names was there and is no more (an expired link)."""

    code = "gone"
    status = 410
    title = "No longer available"


class UnsupportedMedia(InvalidInput):
    """An uploaded file is not of a type the route takes (read from its bytes, not its name)."""

    code = "unsupported-media-type"
    status = 415
    title = "Unsupported file type"


class TooLarge(InvalidInput):
    """An uploaded file, or what it adds up to, is over a limit."""

    code = "payload-too-large"
    status = 413
    title = "Too large"
