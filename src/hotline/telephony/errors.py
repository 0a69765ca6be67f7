from __future__ import annotations

from hotline.core.errors import Conflict, HotlineError, InvalidInput


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


class UnreadableAudio(InvalidInput):
    code = "unreadable-audio"
    title = "The file is not a WAV recording that can be played"


class PromptTooLong(InvalidInput):
    code = "prompt-too-long"
    title = "Prompts can be at most 10 minutes long"


class SpeechUnavailable(HotlineError):
    code = "speech-unavailable"
    status = 503
    title = "Text-to-speech (espeak-ng and sox) is not installed on this server"
