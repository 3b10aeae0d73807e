"""Domain errors: raised by services, turned into the contract's error body by `http/errors.py`."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


@dataclass
class DomainError(Exception):
    """Base of every rule violation a service reports; carries the HTTP status it maps to."""

    message: str
    errors: list[FieldProblem] = field(default_factory=list)
    status_code: int = 422

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    def __init__(self, what: str, ident: object | None = None) -> None:
        text = f"{what} not found" if ident is None else f"{what} {ident} not found"
        super().__init__(text, [], 404)


class Conflict(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        problems = [FieldProblem(field, message)] if field else []
        super().__init__(message, problems, 409)


class Invalid(DomainError):
    """A request that is well-formed but breaks a rule; names the offending field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, [FieldProblem(field, message)], 422)


class Forbidden(DomainError):
    def __init__(
        self, message: str = "This token may not do that", field: str | None = None
    ) -> None:
        super().__init__(message, [FieldProblem(field, message)] if field else [], 403)


class TooManyRequests(DomainError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, [], 429)
        self.retry_after = retry_after
