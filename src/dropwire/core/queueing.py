"""What the two durable queues (jobs, outbound deliveries) share about claiming rows in order."""

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, exists, or_
from sqlalchemy.orm import Session, aliased

T = TypeVar("T")


def first_in_line(model: Any, key: str, unfinished: tuple[str, ...]) -> ColumnElement[bool]:
    """True for rows without a key, or with no earlier unfinished row under the same key."""
    earlier = aliased(model)
    column = getattr(model, key)
    blocked = exists().where(
        and_(
            getattr(earlier, key) == column,
            earlier.id < model.id,
            # equalities, not IN: an IN list is re-rendered at every execution
            or_(*(earlier.state == state for state in unfinished)),
        )
    )
    first: ColumnElement[bool] = column.is_(None) | ~blocked
    return first


def skipping_locked(session: Session, stmt: Select[T]) -> Select[T]:
    """On PostgreSQL, lock the claimed rows and skip those another worker is claiming."""
    if session.get_bind().dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt  # SQLite: the writer already holds the database lock
