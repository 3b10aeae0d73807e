"""Domain errors: raised by services, turned into the contract's error body by `http/errors.py`.

An error says what went wrong in the domain's words: its `kind` (what sort of refusal it is),
a stable machine `code` a client can act on, a human message and the fields at fault. It knows
no HTTP status; only `http/` maps kinds to statuses. Each domain names its own errors in its
`errors.py` as subclasses of the generic kinds below, with a code of the form `domain.rule`.
"""

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


class ErrorKind(StrEnum):
    """What sort of refusal an error is; `http/errors.py` gives each its status."""

    malformed = "malformed"  # the request cannot be read at all (not JSON, bad header)
    unauthorized = "unauthorized"  # no valid credentials were presented
    forbidden = "forbidden"  # the credentials may not do this
    not_found = "not_found"  # the record (or page) does not exist
    conflict = "conflict"  # the request clashes with what is stored
    too_large = "too_large"  # the request is bigger than accepted
    invalid = "invalid"  # well-formed, but breaks a rule
    throttled = "throttled"  # too many requests; retry later
    unavailable = "unavailable"  # a passing failure; nothing changed, retry later


class DomainError(Exception):
    """Base of every refusal a service reports: kind, stable code, message, field problems.

    `retry_after` (seconds) is set by refusals that pass with time (throttling, transient
    failures)."""

    kind: ClassVar[ErrorKind] = ErrorKind.invalid
    code: ClassVar[str] = "invalid"
    retry_after: int | None = None

    def __init__(self, message: str, errors: Sequence[FieldProblem] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.errors = list(errors)

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


def _problems(field: str | None, message: str) -> list[FieldProblem]:
    return [FieldProblem(field, message)] if field else []


class Malformed(DomainError):
    """A body or header that cannot be read (not JSON, not the expected shape of envelope)."""

    kind = ErrorKind.malformed
    code = "malformed"

    def __init__(self, message: str, field: str | None = "body", problem: str = "") -> None:
        super().__init__(message, _problems(field, problem or message))


class Unauthorized(DomainError):
    """No valid credentials: a missing or unknown token, webhook hash or store secret."""

    kind = ErrorKind.unauthorized
    code = "unauthorized"

    def __init__(self, message: str) -> None:
        super().__init__(message)


class Forbidden(DomainError):
    kind = ErrorKind.forbidden
    code = "forbidden"

    def __init__(
        self, message: str = "This token may not do that", field: str | None = None
    ) -> None:
        super().__init__(message, _problems(field, message))


class NotFound(DomainError):
    kind = ErrorKind.not_found
    code = "not_found"

    def __init__(self, what: str, ident: object | None = None) -> None:
        text = f"{what} not found" if ident is None else f"{what} {ident} not found"
        super().__init__(text)


class Conflict(DomainError):
    kind = ErrorKind.conflict
    code = "conflict"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, _problems(field, message))


class TooLarge(DomainError):
    kind = ErrorKind.too_large
    code = "too_large"

    def __init__(self, message: str, field: str | None = "body") -> None:
        super().__init__(message, _problems(field, message))


class Invalid(DomainError):
    """A request that is well-formed but breaks a rule; names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, [FieldProblem(field, message)])


class UnknownReference(Invalid):
    """A body names a record (by id or key) that does not exist."""

    code = "unknown_reference"


class InvalidFields(DomainError):
    """Several fields at fault at once (a request's validation, a batch's unstorable text)."""

    def __init__(self, message: str, problems: Sequence[FieldProblem]) -> None:
        super().__init__(message, problems)


class TooManyRequests(DomainError):
    kind = ErrorKind.throttled
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A passing failure (the database busy or gone a moment): nothing changed, retry."""

    kind = ErrorKind.unavailable
    code = "unavailable"

    def __init__(self, message: str, retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def error_classes() -> Iterator[type[DomainError]]:
    """Every error class defined so far (the base and all its subclasses, depth first)."""
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        yield cls
        pending.extend(cls.__subclasses__())
