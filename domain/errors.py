"""The few kinds of domain error. Transports map them to their answer once (api/errors.py, web/errors.py)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Conflict",
    "DomainError",
    "FieldError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "Unauthenticated",
]


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field: which field, a stable code, a message for people."""

    field: str | None
    code: str
    message: str


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    @property
    def errors(self) -> list[FieldError]:
        return [FieldError(self.field, self.code, self.message)]


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    """The object changed or the step is not allowed from its current state."""

    code = "conflict"


class InvalidInput(DomainError):
    """Input that breaks a rule; may carry several field errors at once."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None,
                 errors: list[FieldError] | None = None) -> None:
        super().__init__(message, field=field, code=code)
        self._errors = errors

    @property
    def errors(self) -> list[FieldError]:
        return self._errors if self._errors else super().errors
