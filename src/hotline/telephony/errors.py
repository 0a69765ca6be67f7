from __future__ import annotations

from hotline.core.errors import Conflict, InvalidInput


class ExtensionTaken(Conflict):
    code = "extension-taken"
    title = "That extension number is already in use"


class UserHasExtension(Conflict):
    code = "user-has-extension"
    title = "That user already has an extension"


class TrunkNameTaken(Conflict):
    code = "trunk-name-taken"
    title = "A trunk with that name exists"


class DidTaken(Conflict):
    code = "did-taken"
    title = "That number is already delivered by a trunk"


class WeakSipPassword(InvalidInput):
    code = "weak-sip-password"
    title = "The SIP password is too easy to guess"


class RegistrationNeedsCredentials(InvalidInput):
    code = "registration-needs-credentials"
    title = "A trunk that registers needs a username and a password"
