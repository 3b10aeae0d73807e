"""SQL expressions the two databases are best asked differently.

A statement on a hot path is best built once per dialect (`functools.cache` on a function of the
dialect's name) with its values bound by name: building a select of a few joins, and its cache
key, costs more than SQLite takes to run it.
"""

from collections.abc import Collection
from typing import Any

from sqlalchemy import ColumnElement, any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session


def among_bound(column: Any, name: str, dialect: str) -> ColumnElement[bool]:
    """`among` in a statement built once per dialect: the values are bound as `name`."""
    result: ColumnElement[bool]
    if dialect == "postgresql":
        result = column == any_(bindparam(name, type_=ARRAY(column.type)))
    else:
        result = column.in_(bindparam(name, expanding=True))
    return result


def among(session: Session, *, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL `column = ANY(array)`: one parameter, one statement
    text for any number of values (prepared once), where an IN list is rendered anew for each
    length, a typed placeholder per value (half the CPU of a batch's 100-value lookup)."""
    result: ColumnElement[bool]
    if session.get_bind().dialect.name == "postgresql":
        result = column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
    else:
        result = column.in_(values)
    return result
