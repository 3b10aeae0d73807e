"""Paginated, sortable tables: the sort column comes from a whitelist, never from the URL."""

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Select, String, func, select
from sqlalchemy.orm import QueryableAttribute, Session
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import QueryParams

PER_PAGE = 50
AnySelect = Select[*tuple[Any, ...]]
Sortable = QueryableAttribute[Any] | ColumnElement[Any]


@dataclass
class Table:
    rows: list[Any]
    total: int
    page: int
    per_page: int
    sort: str
    descending: bool
    params: dict[str, str] = field(default_factory=dict)
    alphabetical: frozenset[str] = frozenset()

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    def link(self, **changes: object) -> str:
        """This table's URL with some parameters changed (filters kept)."""
        merged = {**self.params, **{k: str(v) for k, v in changes.items() if v is not None}}
        return "?" + urlencode({k: v for k, v in merged.items() if v != ""})

    def sort_link(self, column: str) -> str:
        descending = not self.descending if column == self.sort else column not in self.alphabetical
        return self.link(sort=column, dir="desc" if descending else "asc", page=1)

    def sort_mark(self, column: str) -> str:
        if column != self.sort:
            return ""
        return "▼" if self.descending else "▲"


def table(
    session: Session,
    stmt: AnySelect,
    query: QueryParams,
    *,
    columns: dict[str, Sortable],
    default: str,
    tiebreak: Sortable,
    first: list[ColumnElement[Any]] | None = None,
    per_page: int = PER_PAGE,
) -> Table:
    """One page of `stmt`, sorted by `?sort=` (one of `columns`) and `?dir=`, counted.

    `first` orders before the chosen column when the visitor picked none (e.g. errors first).
    """
    sort = query.get("sort") or default
    chosen = sort in columns and "sort" in query
    if sort not in columns:
        sort = default
    alphabetical = frozenset(name for name, c in columns.items() if _is_text(c))
    descending = query.get("dir", "asc" if sort in alphabetical else "desc") != "asc"
    try:
        page = max(1, int(query.get("page", "1")))
    except ValueError:
        page = 1
    column = columns[sort]
    order: list[Any] = [column.desc() if descending else column.asc(), tiebreak.desc()]
    if first and not chosen:
        order = [*first, *order]
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.execute(
        stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
    ).all()
    params = {k: v for k, v in query.items() if k not in ("page",)}
    params.setdefault("sort", sort)
    params.setdefault("dir", "desc" if descending else "asc")
    return Table(list(rows), int(total), page, per_page, sort, descending, params, alphabetical)


def _is_text(column: Sortable) -> bool:
    """Names, SKUs and references read A→Z first; numbers and dates newest first."""
    return isinstance(getattr(column, "type", None), String)
