"""The list conventions every collection endpoint shares.

`limit`/`offset`, `where[field]=v`, `where[field][op]=v` (gt, gte, lt, lte, ne, in), `order=±field`,
and the total in `X-Total-Count`. Each endpoint names the fields it allows; anything else is a 422.
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from fastapi import Query, Request, Response
from pydantic.alias_generators import to_camel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

from dropwire.core.errors import DomainError, FieldProblem, Invalid
from dropwire.core.schemas import unstorable_character

T = TypeVar("T")

_WHERE_KEY = re.compile(r"^where\[([A-Za-z0-9_]+)\](?:\[([a-z]+)\])?(?:\[\])?$")
_OPERATORS = {"eq", "gt", "gte", "lt", "lte", "ne", "in"}
MAX_OFFSET = 2**31 - 1


@dataclass(frozen=True)
class Filter:
    field: str
    operator: str
    value: str


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    order: str | None
    filters: tuple[Filter, ...]


async def list_query(
    request: Request,
    limit: int = Query(50, ge=1, le=1000, description="Page size (1-1000)"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Rows to skip"),
    order: str | None = Query(None, description="field or -field", max_length=64),
) -> ListQuery:
    filters: list[Filter] = []
    problems: list[FieldProblem] = []
    for key, value in request.query_params.multi_items():
        if not key.startswith("where"):
            continue
        match = _WHERE_KEY.match(key)
        if match is None:
            problems.append(FieldProblem(key, "expected where[field]=value or where[field][op]=v"))
            continue
        operator = match.group(2) or "eq"
        if operator not in _OPERATORS:
            problems.append(FieldProblem(key, f"unknown operator; use one of {sorted(_OPERATORS)}"))
            continue
        unstorable = unstorable_character(value)
        if unstorable:
            problems.append(FieldProblem(key, f"contains a {unstorable}"))
            continue
        filters.append(Filter(match.group(1), operator, value))
    if problems:
        raise DomainError("Invalid list parameters", problems, 422)
    return ListQuery(limit=limit, offset=offset, order=order, filters=tuple(filters))


def fields_of(model: type[Any], *names: str) -> dict[str, InstrumentedAttribute[Any]]:
    """Map the API (camelCase) names of filterable fields to the model's columns."""
    return {to_camel(name): getattr(model, name) for name in names}


def _coerce(column: InstrumentedAttribute[Any], raw: str, label: str) -> Any:
    if raw == "null":
        return None
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type = column_type.python_type
    except NotImplementedError:
        python_type = str
    try:
        if python_type is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
        if python_type is int:
            return int(raw)
        if python_type is Decimal:
            return Decimal(raw)
        if python_type is datetime:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                raise ValueError
            return parsed
        if isinstance(python_type, type) and issubclass(python_type, Enum):
            return python_type(raw)
    except (ValueError, InvalidOperation):
        raise Invalid(label, f"'{raw}' is not a valid {python_type.__name__}") from None
    return raw


def _condition(column: InstrumentedAttribute[Any], flt: Filter) -> Any:
    label = f"where[{flt.field}]" + ("" if flt.operator == "eq" else f"[{flt.operator}]")
    if flt.operator == "in":
        values = [_coerce(column, part, label) for part in flt.value.split(",") if part != ""]
        return column.in_(values)
    value = _coerce(column, flt.value, label)
    if value is None:
        if flt.operator == "eq":
            return column.is_(None)
        if flt.operator == "ne":
            return column.is_not(None)
        raise Invalid(label, "null can only be compared with eq or ne")
    comparisons = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }
    return comparisons[flt.operator](value)


def apply_filters(
    stmt: Select[Any], query: ListQuery, fields: Mapping[str, InstrumentedAttribute[Any]]
) -> Select[Any]:
    for flt in query.filters:
        column = fields.get(flt.field)
        if column is None:
            raise Invalid(
                f"where[{flt.field}]", f"unknown filter field; allowed: {', '.join(sorted(fields))}"
            )
        stmt = stmt.where(_condition(column, flt))
    return stmt


def apply_order(
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, InstrumentedAttribute[Any]],
    default: Sequence[Any],
) -> Select[Any]:
    if not query.order:
        return stmt.order_by(*default)
    name = query.order.lstrip("-")
    column = fields.get(name)
    if column is None:
        raise Invalid("order", f"unknown order field; allowed: {', '.join(sorted(fields))}")
    primary = column.desc() if query.order.startswith("-") else column.asc()
    return stmt.order_by(primary, *default)


def paginate(
    session: Session,
    stmt: Select[T],
    query: ListQuery,
    fields: Mapping[str, InstrumentedAttribute[Any]],
    response: Response,
    default_order: Sequence[Any],
) -> list[T]:
    """Filter, count, order and slice `stmt`; sets `X-Total-Count` on the response."""
    stmt = apply_filters(stmt, query, fields)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    stmt = apply_order(stmt, query, fields, default_order)
    return list(session.scalars(stmt.limit(query.limit).offset(query.offset)))
