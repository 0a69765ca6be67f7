"""Errors of the recordings library (stable codes; Chinese in core/messages.py by reason)."""

from __future__ import annotations

from hotline.core.errors import HotlineError, NotFound, PermissionDenied


class RecordingNotFound(NotFound):
    code = "recording-not-found"
    title = "No such recording"


class MediaLinkRefused(HotlineError):
    """A media URL that is forged, altered or past its time: the player asks for a new one."""

    code = "media-link-refused"
    status = 403
    title = "This media link is not valid (any more)"


class RecordingFileMissing(HotlineError):
    """The row is there but its file is not on this node (deleted, or kept by another machine)."""

    code = "recording-file-missing"
    status = 404
    title = "The recording's file is not on this node"


class RecordingNotYours(PermissionDenied):
    """Someone without `recordings.listen` asked for a recording that is neither of a call they were
    evaluated on nor the voicemail of a ticket they may read."""

    title = "You may not listen to this recording"
