"""What an entry point assembled from the domains' declarations, carried by its `Database`.

The shared machinery (the unit of work, the job queue, delivery, the async inbound API) and a
domain that serves another (inventory telling the catalog its stock) look up the part they need
by its type, on the `Database` or on a session it made. The entry points build the parts
(`dropwire.domains`); nothing registers itself by being imported. A part that was never wired is
an error naming it, never an empty answer.
"""

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from sqlalchemy.orm import Session

T = TypeVar("T")
WIRING_KEY = "dropwire.wiring"


class NotWired(RuntimeError):
    """A process asked for a part its entry point did not assemble."""


class Wiring:
    """Parts keyed by their type: one object per type (`part`), or several (`every`)."""

    def __init__(self, parts: Iterable[object] = ()) -> None:
        self._parts: dict[type, list[object]] = {}
        for part in parts:
            self._parts.setdefault(type(part), []).append(part)

    def part(self, kind: type[T]) -> T:
        """The one `kind` wired; `NotWired` when there is none, `ValueError` when several are."""
        found = self._parts.get(kind)
        if not found:
            raise NotWired(
                f"no {kind.__name__} is wired: build the Database with the entry points' "
                "wiring (dropwire.domains.wiring())"
            )
        if len(found) > 1:
            raise ValueError(f"{len(found)} parts of type {kind.__name__} are wired, not one")
        return cast(T, found[0])

    def every(self, kind: type[T]) -> tuple[T, ...]:
        """Every `kind` wired, in the order of the declarations (none is a valid answer)."""
        return tuple(cast(T, part) for part in self._parts.get(kind, ()))

    def replacing(self, part: object) -> "Wiring":
        """This wiring with `part` instead of the parts of its type (a test's variation)."""
        kept = [p for found in self._parts.values() for p in found if type(p) is not type(part)]
        return Wiring([*kept, part])

    def __contains__(self, kind: object) -> bool:
        return bool(self._parts.get(cast(type, kind)))

    def kinds(self) -> list[type[Any]]:
        return list(self._parts)


UNWIRED = Wiring()


def wiring_of(session: Session) -> Wiring:
    """The wiring of the `Database` this session came from."""
    wiring: Wiring = session.info.get(WIRING_KEY, UNWIRED)
    return wiring


def wired(session: Session, *, kind: type[T]) -> T:
    """`wiring_of(session).part(kind)`."""
    return wiring_of(session).part(kind)
