"""Paginated, sortable tables: the sort column comes from a whitelist, never from the URL."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, String
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import QueryParams

from dropwire.core.errors import Invalid
from dropwire.http.pages import (
    SortKey,
    bounded_total,
    decode_cursor,
    encode_cursor,
    read_beyond,
)

PER_PAGE = 50
AnySelect = Select[*tuple[Any, ...]]
Sortable = QueryableAttribute[Any] | ColumnElement[Any]


@dataclass
class Table:
    """One page of rows. Pages after the first are read by cursor (`after`/`before`: the sort
    key of the row beside them, an index range at any depth, a sort column's empty values
    included: `http.pages.segments`); `page` alone is an offset. `total` is exact, or a lower
    bound (`exact` false) past the rows it is cheap to count (`dropwire.http.pages`)."""

    rows: list[Any]
    total: int
    page: int
    per_page: int
    sort: str
    descending: bool
    params: dict[str, str] = field(default_factory=dict)
    exact: bool = True
    has_next: bool = False
    rewind: bool = False  # "previous" goes back to the first page (no cursor leads backwards)
    next_cursor: str | None = None  # the sort key of the last row: the next page starts after it
    prev_cursor: str | None = None
    alphabetical: frozenset[str] = frozenset()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def link(self, **changes: object) -> str:
        """This table's URL with some parameters changed (filters kept)."""
        merged = {**self.params, **{k: str(v) for k, v in changes.items() if v is not None}}
        return "?" + urlencode({k: v for k, v in merged.items() if v != ""})

    def next_link(self) -> str:
        if self.next_cursor is not None:
            return self.link(page=self.page + 1, after=self.next_cursor)
        return self.link(page=self.page + 1)

    def prev_link(self) -> str:
        if self.page <= 2 or self.rewind:
            return self.link()
        if self.prev_cursor is not None:
            return self.link(page=self.page - 1, before=self.prev_cursor)
        return self.link(page=self.page - 1)

    def sort_link(self, column: str) -> str:
        descending = not self.descending if column == self.sort else column not in self.alphabetical
        return self.link(sort=column, dir="desc" if descending else "asc")

    def sort_mark(self, column: str) -> str:
        if column != self.sort:
            return ""
        return "▼" if self.descending else "▲"


def _page_number(query: QueryParams) -> int:
    try:
        return max(1, int(query.get("page", "1")))
    except ValueError:
        return 1


def sort_of(
    query: QueryParams, *, columns: dict[str, Sortable], default: str
) -> tuple[str, bool, frozenset[str]]:
    """The column `?sort=` names (one of `columns`, else `default`), whether `?dir=` reads it
    descending (names A→Z, numbers and dates newest first unless told), the text columns."""
    sort = query.get("sort") or default
    if sort not in columns:
        sort = default
    alphabetical = frozenset(name for name, c in columns.items() if _is_text(c))
    descending = query.get("dir", "asc" if sort in alphabetical else "desc") != "asc"
    return sort, descending, alphabetical


def sort_keys(
    query: QueryParams, *, columns: dict[str, Sortable], default: str, tiebreak: Sortable
) -> list[SortKey]:
    """The order a list's page (and its CSV export) reads its rows in: the chosen column, then
    `tiebreak` (a unique column) newest first."""
    sort, descending, _ = sort_of(query, columns=columns, default=default)
    # a page's column may come from an outer join (a purchase order's vendor): empty or not
    return [SortKey(columns[sort], descending, may_be_empty=True), SortKey(tiebreak, True)]


def table(
    session: Session,
    *,
    stmt: AnySelect,
    query: QueryParams,
    columns: dict[str, Sortable],
    default: str,
    tiebreak: Sortable,
    per_page: int = PER_PAGE,
) -> Table:
    """One page of `stmt`, sorted by `?sort=` (one of `columns`) and `?dir=`, counted."""
    sort, descending, alphabetical = sort_of(query, columns=columns, default=default)
    page = _page_number(query)
    keys = sort_keys(query, columns=columns, default=default, tiebreak=tiebreak)
    cursor = query.get("after") or query.get("before")
    backwards = cursor is not None and query.get("after") is None
    values = None
    if cursor is not None:
        try:
            values = decode_cursor(keys, cursor, "after")
        except Invalid:  # a stale or edited link: the first page
            page, backwards = 1, False
    offset = 0 if values is not None or page == 1 else (page - 1) * per_page
    total = bounded_total(session, stmt=stmt, end=offset + per_page)
    paged = stmt.add_columns(keys[0].column.label("sort_value"), keys[1].column.label("sort_id"))
    rows = read_beyond(
        session,
        stmt=paged,
        keys=keys,
        values=values,
        backwards=backwards,
        limit=per_page + 1,
        offset=offset,
        execute=True,
    )
    more = len(rows) > per_page  # beyond this page, in the direction read
    rows = rows[:per_page]
    if backwards:
        rows.reverse()
    params = {k: v for k, v in query.items() if k not in ("page", "after", "before")}
    params.setdefault("sort", sort)
    params.setdefault("dir", "desc" if descending else "asc")
    result = Table(
        rows, total.value, page, per_page, sort, descending, params, alphabetical=alphabetical
    )
    result.exact, result.has_next = total.exact, more or backwards
    if rows:
        result.next_cursor = encode_cursor(keys, [rows[-1].sort_value, rows[-1].sort_id])
        result.prev_cursor = encode_cursor(keys, [rows[0].sort_value, rows[0].sort_id])
    return result


def flagged_first(
    session: Session,
    *,
    stmt: AnySelect,
    query: QueryParams,
    flag: ColumnElement[bool],
    newest: Sortable,
    per_page: int = PER_PAGE,
) -> Table:
    """The rows where `flag` holds first, then the others, each newest first by `newest` (a
    unique column): two index scans (the flagged rows are few, with a partial index of their
    own), never a sort of the whole table by the flag. `after` is `<phase>:<newest>` of the last
    row shown (phase `f` while in the flagged rows, `o` in the others)."""
    phase, last = "f", None
    raw = query.get("after") or ""
    if raw[:2] in ("f:", "o:") and raw[2:].isdigit():
        phase, last = raw[0], int(raw[2:])
    page = _page_number(query) if last is not None else 1
    marked = stmt.add_columns(flag.label("flagged"))

    def run(condition: ColumnElement[bool], limit: int) -> list[Any]:
        chosen = marked.where(condition)
        if last is not None and (phase == "f") == (condition is flag):
            chosen = chosen.where(newest < last)
        return list(session.execute(chosen.order_by(newest.desc()).limit(limit)).all())

    rows = run(flag, per_page + 1) if phase == "f" else []
    if len(rows) <= per_page:
        rows += run(~flag, per_page + 1 - len(rows))
    more = len(rows) > per_page
    rows = rows[:per_page]
    total = bounded_total(session, stmt=stmt, end=page * per_page)
    params = {k: v for k, v in query.items() if k not in ("page", "after", "before")}
    result = Table(rows, total.value, page, per_page, "id", True, params)
    result.exact, result.has_next, result.rewind = total.exact, more, True
    if rows:
        tail = rows[-1]
        result.next_cursor = f"{'f' if tail.flagged else 'o'}:{tail.id}"
    return result


def _is_text(column: Sortable) -> bool:
    """Names, SKUs and references read A→Z first; numbers and dates newest first."""
    return isinstance(getattr(column, "type", None), String)
