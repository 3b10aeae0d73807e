"""Pages of a list at any depth: a cursor on the sort key, and a total that stays cheap.

Cursors. Each page whose order ends in the row's `id` (every list's default does) answers a
`Link` header (RFC 8288) with `rel="next"` and, past the first page, `rel="prev"`: the same
request with `after=<cursor>` or `before=<cursor>`, where the cursor holds the sort key of the
page's last (first) row. Reading from a cursor is an index range from that key, so page 10,000
costs what page 1 does; `offset` stays for Onport's clients, which page by it.

A sort column may be empty (a sale's `dateOrdered`, a feed item's SKU). Empty values sort where
the database puts them (PostgreSQL: after every value ascending, SQLite: before), and the rows
after a cursor are read as a few segments in order, each an index range of its own: the rest of
the cursor's value, the values beyond it, then the empty ones (`segments`). A single `OR` of
them would read the index from its start.

Totals. `X-Total-Count` counts the matching rows only up to `EXACT_BEYOND` rows past the end of
the page asked for. Fewer: the figure is exact. As many: it says so with `X-Total-Count-Exact:
false` and is that bound — a true lower bound greater than the end of the page, so a client that
pages until it has seen the total never stops early, and the page that is really the last always
gets the exact figure (there are fewer than `EXACT_BEYOND` rows past it).
"""

import base64
import binascii
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, Select, and_, func, literal_column, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import UnaryExpression
from sqlalchemy.sql.operators import desc_op

from dropwire.core.errors import Invalid

T = TypeVar("T")

EXACT_BEYOND = 10_000


@dataclass(frozen=True)
class Total:
    value: int
    exact: bool


def bounded_total(session: Session, *, stmt: Select[Any], end: int) -> Total:
    """The rows `stmt` matches, counted exactly up to `end + EXACT_BEYOND` (see the module)."""
    bound = end + EXACT_BEYOND
    counted = stmt.order_by(None)
    if not counted._distinct and not counted._group_by_clauses:
        # only the rows' existence matters: no columns to fetch, an index-only scan suffices
        counted = counted.with_only_columns(literal_column("1"), maintain_column_froms=True)
    found = session.scalar(select(func.count()).select_from(counted.limit(bound).subquery()))
    return Total(int(found or 0), True) if (found or 0) < bound else Total(bound, False)


def set_total(response: Any, total: Total) -> None:
    response.headers["X-Total-Count"] = str(total.value)
    if not total.exact:
        response.headers["X-Total-Count-Exact"] = "false"


# --- sort keys and cursors ----------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    column: Any  # a mapped attribute or column
    descending: bool
    may_be_empty: bool | None = None  # None: as the column is declared (an outer join's is not)

    @property
    def name(self) -> str:
        return str(self.column.key)

    @property
    def nullable(self) -> bool:
        if self.may_be_empty is not None:
            return self.may_be_empty
        expression = getattr(self.column, "expression", self.column)
        return bool(getattr(expression, "nullable", True))


def sort_key(clause: Any) -> SortKey:
    """`Model.x`, `Model.x.desc()` or `.asc()` as a column and a direction."""
    if isinstance(clause, UnaryExpression) and clause.element is not None:
        return SortKey(clause.element, clause.modifier is desc_op)
    return SortKey(clause, False)


def pageable_by_cursor(keys: Sequence[SortKey]) -> bool:
    """A cursor needs a total order: the key ends in the row's `id` (never null, unique)."""
    return bool(keys) and keys[-1].name == "id" and not keys[-1].nullable


def _signature(keys: Sequence[SortKey]) -> str:
    return ",".join(("-" if key.descending else "") + key.name for key in keys)


def _wire(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    return value


def row_cursor(keys: Sequence[SortKey], row: Any) -> str:
    return encode_cursor(keys, [getattr(row, key.name) for key in keys])


def encode_cursor(keys: Sequence[SortKey], values: Sequence[Any]) -> str:
    """The sort key `values` of a row, bound to the order they belong to."""
    wired = [_wire(value) for value in values]
    raw = json.dumps({"o": _signature(keys), "v": wired}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def python_type_of(column: Any) -> type[Any]:
    """The Python type a column's values arrive as; `str` where its type cannot say."""
    column_type = getattr(column.type, "impl_instance", column.type)
    try:
        python_type: type[Any] = column_type.python_type
    except NotImplementedError:
        python_type = str
    return python_type


def _python_value(key: SortKey, value: Any, label: str) -> Any:
    if value is None and key.nullable:
        return None
    python_type = python_type_of(getattr(key.column, "expression", key.column))
    try:
        if python_type is datetime:
            return datetime.fromisoformat(str(value))
        if python_type is Decimal:
            return Decimal(str(value))
        if python_type is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if python_type is bool and isinstance(value, bool):
            return value
        if (python_type is str or issubclass(python_type, Enum)) and isinstance(value, str):
            return value
    except (ValueError, ArithmeticError, TypeError):
        pass
    raise Invalid(label, "not a cursor this list gave out")


def decode_cursor(keys: Sequence[SortKey], cursor: str, label: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        raise Invalid(label, "not a cursor this list gave out") from None
    if not isinstance(data, dict) or not isinstance(data.get("v"), list):
        raise Invalid(label, "not a cursor this list gave out")
    if data.get("o") != _signature(keys) or len(data["v"]) != len(keys):
        raise Invalid(label, "this cursor belongs to another order or list; start again")
    return [_python_value(key, value, label) for key, value in zip(keys, data["v"], strict=True)]


def nulls_high(dialect: str) -> bool:
    """Whether the database sorts empty values after every value in ascending order
    (PostgreSQL's default, and its b-tree's order; SQLite sorts them first)."""
    return dialect != "sqlite"


def segments(
    keys: Sequence[SortKey], values: Sequence[Any], *, backwards: bool, dialect: str
) -> list[ColumnElement[bool]]:
    """The rows strictly after `values` in the order `keys` (before them when `backwards`), as
    conditions whose matches follow one another in that order: read them one after the other.

    For keys k0..kn: the rows equal on k0..k(i-1) and later on ki, from i = n down to 0; a
    later ki is a range past its value, then (where empty values sort after values) the empty
    ones, or (the cursor's ki being empty and empty values sorting first) every non-empty one.
    Trailing keys that are never empty, in one direction, fold into one row-value comparison.
    """
    high = nulls_high(dialect)

    def descending(key: SortKey) -> bool:
        return key.descending != backwards

    def past(columns: Sequence[Any], row: Sequence[Any], key: SortKey) -> ColumnElement[bool]:
        if len(columns) == 1:
            single: ColumnElement[bool] = (
                columns[0] < row[0] if descending(key) else columns[0] > row[0]
            )
            return single
        left, right = tuple_(*columns), tuple_(*row)
        return left < right if descending(key) else left > right

    def equal(index: int) -> list[ColumnElement[bool]]:
        return [
            keys[j].column.is_(None) if values[j] is None else keys[j].column == values[j]
            for j in range(index)
        ]

    run = len(keys) - 1  # keys[run:] fold into one comparison
    while (
        run > 0
        and values[run - 1] is not None
        and not keys[run].nullable
        and descending(keys[run - 1]) == descending(keys[run])
    ):
        run -= 1
    found: list[ColumnElement[bool]] = []
    for index in range(run, -1, -1):
        key, value = keys[index], values[index]
        empties_after = high != descending(key)  # empty values come later in this walk
        prefix = equal(index)
        if value is not None:
            folded = keys[index:] if index == run else [key]
            row = values[index:] if index == run else [value]
            found.append(and_(*prefix, past([k.column for k in folded], row, key)))
            if empties_after and key.nullable:
                found.append(and_(*prefix, key.column.is_(None)))
        elif not empties_after:  # the cursor is in the empty values, which came first
            found.append(and_(*prefix, key.column.is_not(None)))
    return found


def read_beyond(
    session: Session,
    *,
    stmt: Select[Any],
    keys: Sequence[SortKey],
    values: Sequence[Any] | None,
    backwards: bool,
    limit: int,
    offset: int = 0,
    execute: bool = False,
) -> list[Any]:
    """Up to `limit` rows of `stmt` in the order `keys` (reversed when `backwards`), after the
    row whose sort key is `values` (from the start when None, skipping `offset`): one query per
    segment (`segments`) until the page is full. `execute`: rows (`session.execute`), not
    scalars."""
    order = ordered(keys, backwards=backwards)
    read = session.execute if execute else session.scalars

    def fetch(chosen: Select[Any], count: int, skip: int = 0) -> list[Any]:
        if skip:  # the page's ids first (the skipped rows read no joined record): then its rows
            row_id = keys[-1].column
            page_ids = (
                chosen.with_only_columns(row_id, maintain_column_froms=True)
                .order_by(*order)
                .limit(count)
                .offset(skip)
                .subquery()
            )
            chosen = chosen.where(row_id.in_(select(page_ids.c[0])))
        return list(read(chosen.order_by(*order).limit(count)))

    if values is None:
        return fetch(stmt, limit, offset)
    dialect = session.get_bind().dialect.name
    rows: list[Any] = []
    for condition in segments(keys, values, backwards=backwards, dialect=dialect):
        rows += fetch(stmt.where(condition), limit - len(rows))
        if len(rows) >= limit:
            break
    return rows


def ordered(keys: Sequence[SortKey], *, backwards: bool) -> list[Any]:
    return [key.column.desc() if key.descending != backwards else key.column.asc() for key in keys]


# --- one page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    limit: int
    offset: int
    after: str | None
    before: str | None
    path: str
    params: tuple[tuple[str, str], ...]


def _link(request: PageRequest, **changes: str) -> str:
    kept = [(k, v) for k, v in request.params if k not in ("after", "before", "offset", "from")]
    return f"{request.path}?{urlencode([*kept, *changes.items()])}"


def read_page(
    session: Session,
    *,
    stmt: Select[T],
    request: PageRequest,
    keys: Sequence[SortKey],
    response: Any,
) -> list[T]:
    """One page of the filtered `stmt` in the order `keys`: from `offset` or from a cursor,
    with `X-Total-Count` (see the module) and a `Link` to the pages beside it."""
    cursor, label = (
        (request.after, "after") if request.after is not None else (request.before, "before")
    )
    if cursor is not None and request.offset:
        raise Invalid("offset", "page by offset or by a cursor (after/before), not both")
    by_cursor = pageable_by_cursor(keys)
    if cursor is not None and not by_cursor:
        raise Invalid(label, "this order cannot be paged by cursor (a sort field may be empty)")
    set_total(response, bounded_total(session, stmt=stmt, end=request.offset + request.limit))
    backwards = request.before is not None
    values = decode_cursor(keys, cursor, label) if cursor is not None else None
    page = read_beyond(
        session,
        stmt=stmt,
        keys=keys,
        values=values,
        backwards=backwards,
        limit=request.limit + 1,
        offset=request.offset,
    )
    more = len(page) > request.limit  # beyond this page, in the direction read
    page = page[: request.limit]
    if backwards:
        page.reverse()
    if by_cursor and page:
        links = []
        if more or backwards:
            links.append(f'<{_link(request, after=row_cursor(keys, page[-1]))}>; rel="next"')
        if request.offset or request.after is not None or (backwards and more):
            links.append(f'<{_link(request, before=row_cursor(keys, page[0]))}>; rel="prev"')
        if links:
            response.headers["Link"] = ", ".join(links)
    return page


def sort_keys(orders: Sequence[tuple[Any, bool]], default: Sequence[Any]) -> list[SortKey]:
    """The asked orders, then the list's default ones (a column named twice counts once)."""
    keys = [SortKey(column, descending) for column, descending in orders]
    names = {key.name for key in keys}
    keys += [key for key in map(sort_key, default) if key.name not in names]
    return keys
