from __future__ import annotations

from hotline.core.errors import Conflict, HotlineError, InvalidInput, NotAuthenticated, NotFound


class InvalidCredentials(NotAuthenticated):
    code = "invalid-credentials"
    title = "Wrong username or password"


class LoginLocked(HotlineError):
    code = "login-locked"
    status = 429
    title = "Too many failed logins; try again later"


class AccountDisabled(HotlineError):
    code = "account-disabled"
    status = 403
    title = "This account is disabled"


class PasswordPolicy(InvalidInput):
    code = "password-policy"
    title = "The password does not meet the password policy"


class WrongPassword(InvalidInput):
    code = "wrong-password"
    title = "The current password is wrong"


class UsernameTaken(Conflict):
    code = "username-taken"
    title = "That username is already taken"


class WorkNumberTaken(Conflict):
    code = "work-number-taken"
    title = "That work number is already in use"


class UnknownRole(InvalidInput):
    code = "unknown-role"
    title = "Unknown role"


class LastAdmin(Conflict):
    code = "last-admin"
    title = "The last active administrator cannot be removed or disabled"


class UserNotFound(NotFound):
    code = "user-not-found"
    title = "User not found"


class TokenNotFound(NotFound):
    code = "token-not-found"
    title = "API token not found"


class TeamNotFound(NotFound):
    code = "team-not-found"
    title = "Team not found"


class TeamNameTaken(Conflict):
    code = "team-name-taken"
    title = "A team with that name exists"


class AlreadyInTeam(Conflict):
    code = "already-in-team"
    title = "The user is in another team"
