"""The exports' own errors (stable codes, core/errors.py)."""

from __future__ import annotations

from hotline.core.errors import HotlineError, InvalidInput, NotFound


class UnknownSubject(InvalidInput):
    code = "export-unknown-subject"
    title = "No such export"


class ExportNotFound(NotFound):
    code = "export-not-found"
    title = "No such export"


class ExportNotReady(HotlineError):
    code = "export-not-ready"
    status = 409
    title = "The export has no file to download"


class ExportFailed(HotlineError):
    """Why a job stopped, as the job's `error` says it (not raised to a client)."""

    code = "export-failed"
    status = 500
    title = "The export failed"
