"""Domain errors: a stable kebab-case code, an HTTP status, details.

Services raise these; one mapper (`hotline.api.problems`) turns them into
RFC 9457 problem details. Nothing below the API layer knows about HTTP
exceptions.
"""

from __future__ import annotations

from typing import Any, ClassVar


class HotlineError(Exception):
    """Base of every error a user can be shown."""

    code: ClassVar[str] = "error"
    status: ClassVar[int] = 400
    title: ClassVar[str] = "Request could not be processed"

    def __init__(self, detail: str | None = None, *, field: str | None = None, **extra: Any):
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.field = field
        self.extra = extra

    def __reduce__(self) -> tuple[Any, ...]:
        # Errors raised in a compute worker (core/compute.py) travel back pickled, fields and all.
        return _rebuild, (type(self), self.detail, self.field, self.extra)


def _rebuild(cls: type[HotlineError], detail: str, field: str | None, extra: dict[str, Any]) -> HotlineError:
    return cls(detail, field=field, **extra)


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
