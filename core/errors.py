"""Domain errors. Services raise these; one exception handler turns them into a Dutch page
message or an RFC 9457 problem+json body with the right status."""

from __future__ import annotations

from core.i18n import gettext


class DomainError(Exception):
    """A failure a user can understand. `message` is already translated when shown."""

    status_code = 400
    title = "Bad request"
    problem_type = "about:blank"

    def __init__(self, message: str, **extra):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __str__(self) -> str:  # the message, in the language of the moment
        return str(self.message)


class ValidationFailed(DomainError):
    """Input that does not meet a rule; `fields` maps a field name to its message."""

    status_code = 422
    title = "Unprocessable content"

    def __init__(self, message: str, fields: dict[str, str] | None = None, **extra):
        super().__init__(message, **extra)
        self.fields = fields or {}


RuleViolation = ValidationFailed


class NotAuthenticated(DomainError):
    status_code = 401
    title = "Unauthorized"


class NotAllowed(DomainError):
    status_code = 403
    title = "Forbidden"


class NotFound(DomainError):
    status_code = 404
    title = "Not found"


class Conflict(DomainError):
    status_code = 409
    title = "Conflict"


class BadInput(DomainError):
    """A request that cannot be read: not UTF-8, JSON nested too deep, control characters."""

    status_code = 400
    title = "Bad request"


class RateLimited(DomainError):
    status_code = 429
    title = "Too many requests"

    def __init__(self, message: str, retry_after_seconds: int, **extra):
        super().__init__(message, **extra)
        self.retry_after_seconds = retry_after_seconds


def not_found() -> NotFound:
    return NotFound(gettext("This page or object does not exist, or you may not see it."))
