from __future__ import annotations

from hotline.core.errors import Conflict, HotlineError, InvalidInput, InvalidTransition


class FlowInvalid(InvalidInput):
    code = "flow-invalid"
    title = "The flow has problems; each is named at its node"


class FlowNameMismatch(InvalidInput):
    code = "flow-name-mismatch"
    title = "The flow's name must be the one in the address"


class NothingToPublish(Conflict):
    code = "nothing-to-publish"
    title = "There is no draft of this flow to publish"


class WrapUpRequired(InvalidTransition):
    code = "wrap-up-required"
    title = "This call's queue requires a wrap-up before the next call"


class VoiceNodeUnavailable(HotlineError):
    status = 503
    code = "voice-node-unavailable"
    title = "Agent states live on the voice node; this node does not run the voice role"
