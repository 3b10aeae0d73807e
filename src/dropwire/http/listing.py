"""The list conventions every collection endpoint shares, in two dialects.

Dropwire's own: `limit`/`offset`, `where[field]=v`, `where[field][op]=v` (gt, gte, lt, lte, ne,
in with commas), `order=±field`, the total in `X-Total-Count`.

Onport's, as its clients build it with `qs.stringify` from Sequelize-style objects:
`where[f][$eq|$ne|$gt|$gte|$lt|$lte|$like|$iLike]=v`, `where[f][$in|$notIn][0]=a&...[1]=b`,
`where[f][$ne]=` (empty = null), `where[$or][0][f]=v`, `order[attribute]=f&order[descending]=true`
or `order[0][0]=f&order[0][1]=DESC`, `attributes[0]=id` (only those fields) and
`include[0][model]=DropshipProvider` (+ `include[0][attributes][0]=name`), which embeds a related
record with one query per relation. Each endpoint names the fields and relations it allows; any
other field, operator or model is a 422 naming it.
"""

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from sqlalchemy import ColumnElement, Integer, Select, and_, false, literal, or_
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import BigInteger, SmallInteger, TypeDecorator

from dropwire.auth.service import Principal
from dropwire.core.errors import DomainError, FieldProblem, Invalid, InvalidFields
from dropwire.core.schemas import COMPANY_ID, unstorable_character
from dropwire.http.deps import get_principal
from dropwire.http.includes import (
    MAX_INCLUDE_DEPTH,
    NO_RELATIONS,
    IncludeRequest,
    dump,
    embed_all,
    parse_includes,
    required_clauses,
    resolve,
    wire_names,
)
from dropwire.http.includes import Relation as Relation  # where list endpoints find it
from dropwire.http.pages import PageRequest, ordered, python_type_of, read_page, sort_keys

T = TypeVar("T")

MAX_OFFSET = 2**31 - 1
MAX_DEPTH = 4 * MAX_INCLUDE_DEPTH + 8
"""Brackets in one key: a `where` with `$or` inside the deepest include still fits."""
MAX_LIST = 1000
MAX_CURSOR = 2048

_KEY = re.compile(r"^([A-Za-z_$][\w$]*)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")
_OPERATORS = {
    "eq": "eq",
    "$eq": "eq",
    "$is": "eq",
    "ne": "ne",
    "$ne": "ne",
    "$not": "ne",
    "gt": "gt",
    "$gt": "gt",
    "gte": "gte",
    "$gte": "gte",
    "lt": "lt",
    "$lt": "lt",
    "lte": "lte",
    "$lte": "lte",
    "in": "in",
    "$in": "in",
    "$notIn": "notIn",
    "notIn": "notIn",
    "$like": "like",
    "$iLike": "iLike",
}
_LIST_OPERATORS = {"in", "notIn"}
_RESERVED = ("where", "order", "attributes", "include")

# A parsed query-string tree: leaves are the list of values given for a key.
Tree = dict[str, Any]


@dataclass(frozen=True)
class Condition:
    """One comparison: `value` is None for null, a list for in/notIn."""

    field: str
    operator: str
    value: str | list[str] | None
    label: str  # the query key, named in errors


@dataclass(frozen=True)
class AnyOf:
    """`where[$or][n][...]`: rows matching every condition of at least one branch."""

    branches: tuple[tuple["Condition | AnyOf", ...], ...]


Node = Condition | AnyOf


@dataclass(frozen=True)
class OrderBy:
    field: str
    descending: bool
    label: str


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    filters: tuple[Node, ...] = ()
    orders: tuple[OrderBy, ...] = ()
    attributes: tuple[str, ...] | None = None
    includes: tuple[IncludeRequest, ...] = ()
    principal: Principal | None = None  # who lists: includes are scoped to it
    # keyset paging (`http.pages`): a cursor from a `Link` header, and the request to link to
    after: str | None = None
    before: str | None = None
    path: str = ""
    params: tuple[tuple[str, str], ...] = ()

    @property
    def shaped(self) -> bool:
        """Whether the caller asked for a trimmed or embedded shape."""
        return self.attributes is not None or bool(self.includes)


# --- parsing the query string -------------------------------------------------------------


def _problem(label: str, message: str) -> DomainError:
    return InvalidFields("Invalid list parameters", [FieldProblem(label, message)])


def _tree(params: Iterable[tuple[str, str]]) -> Tree:
    """qs-style nesting: `where[a][$in][0]=x` → {"where": {"a": {"$in": {"0": ["x"]}}}}."""
    tree: Tree = {}
    for key, value in params:
        if not key.startswith(_RESERVED):
            continue
        match = _KEY.match(key)
        if match is None:
            raise _problem(key, "malformed key; expected name[part][part]=value")
        parts = [match.group(1), *_PART.findall(match.group(2))]
        if parts[0] not in _RESERVED:
            continue
        if len(parts) > MAX_DEPTH:
            raise _problem(key, f"nested deeper than {MAX_DEPTH} levels")
        node = tree
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise _problem(key, "a key is given both as a value and as an object")
            node = child
        leaf = node.setdefault(parts[-1], [])
        if not isinstance(leaf, list):
            raise _problem(key, "a key is given both as a value and as an object")
        leaf.append(value)
    return tree


def _is_array(node: Any) -> bool:
    return isinstance(node, dict) and bool(node) and all(k == "" or k.isdigit() for k in node)


def _items(node: Any, label: str) -> list[tuple[str, Any]]:
    """An array node (`[0]`, `[1]`, `[]`) as (label, element) pairs in index order."""
    if isinstance(node, list):
        return [(f"{label}[]", value) for value in node]
    if not _is_array(node):
        raise _problem(label, "expected a list ([0], [1], ...)")
    indexed = sorted((int(k), v) for k, v in node.items() if k != "")
    if indexed and indexed[-1][0] >= MAX_LIST:
        raise _problem(label, f"lists are limited to {MAX_LIST} items")
    pairs = [(f"{label}[{i}]", v) for i, v in indexed]
    for value in node.get("", []):
        pairs.append((f"{label}[]", value))
    return pairs


def _scalar(node: Any, label: str) -> str:
    if isinstance(node, list) and len(node) == 1:
        return str(node[0])
    raise _problem(label, "expected one value")


def _values(node: Any, label: str, split: bool) -> list[str]:
    """The values of an in/notIn list: `[0]=a&[1]=b`, repeated keys, or `a,b` (split)."""
    if isinstance(node, list):
        if len(node) == 1 and split:
            return [part for part in node[0].split(",") if part != ""]
        return [str(v) for v in node]
    return [_scalar(value, item_label) for item_label, value in _items(node, label)]


def _conditions(node: Any, label: str) -> list[Node]:
    if not isinstance(node, dict):
        raise _problem(label, "expected where[field]=value or where[field][operator]=value")
    result: list[Node] = []
    for key, sub in node.items():
        key_label = f"{label}[{key}]"
        if key in ("$or", "or"):
            branches = tuple(
                tuple(_conditions(branch, branch_label))
                for branch_label, branch in _items(sub, key_label)
            )
            result.append(AnyOf(branches))
        elif key in ("$and", "and"):
            for branch_label, branch in _items(sub, key_label):
                result.extend(_conditions(branch, branch_label))
        elif key.startswith("$") or key == "":
            raise _problem(key_label, "unknown operator here; use $or or $and")
        else:
            result.extend(_field_conditions(key, sub, key_label))
    return result


def _field_conditions(name: str, node: Any, label: str) -> list[Node]:
    if isinstance(node, list):  # where[f]=v, or repeated where[f]=a&where[f]=b (= in)
        if len(node) == 1:
            return [Condition(name, "eq", _null_or(node[0]), label)]
        return [Condition(name, "in", [str(v) for v in node], label)]
    if _is_array(node):  # where[f][0]=a&where[f][1]=b: Sequelize's array shorthand for $in
        return [Condition(name, "in", _values(node, label, split=False), label)]
    result: list[Node] = []
    for raw_operator, value in node.items():
        op_label = f"{label}[{raw_operator}]"
        operator = _OPERATORS.get(raw_operator)
        if operator is None:
            allowed = ", ".join(sorted(k for k in _OPERATORS if k.startswith("$")))
            raise _problem(op_label, f"unknown operator '{raw_operator}'; use one of {allowed}")
        if operator in _LIST_OPERATORS:
            values = _values(value, op_label, split=True)
            result.append(Condition(name, operator, values, op_label))
        else:
            raw = _scalar(value, op_label)
            parsed = _null_or(raw) if operator in ("eq", "ne") else raw
            result.append(Condition(name, operator, parsed, op_label))
    return result


def _null_or(raw: str) -> str | None:
    return None if raw in ("", "null") else raw


def _direction(raw: str, label: str) -> bool:
    word = raw.strip().upper()
    if word in ("DESC", "TRUE", "1"):
        return True
    if word in ("ASC", "FALSE", "0", ""):
        return False
    raise _problem(label, f"'{raw}' is not a direction; use ASC or DESC")


def _plain_orders(text: str, label: str) -> list[OrderBy]:
    """`-priority`, `name`, `createdAt DESC`, several separated by commas."""
    orders = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, direction = part.partition(" ")
        descending = name.startswith("-")
        if direction:
            descending = _direction(direction, label)
        orders.append(OrderBy(name.lstrip("-+"), descending, label))
    return orders


def _orders(node: Any, label: str) -> list[OrderBy]:
    if isinstance(node, list):
        return [o for text in node for o in _plain_orders(str(text), label)]
    if not isinstance(node, dict):
        raise _problem(label, "expected order=field, order[attribute]=field or order[0][0]=field")
    if "attribute" in node:  # order[attribute]=f&order[descending]=true
        unknown = set(node) - {"attribute", "descending", "direction"}
        if unknown:
            raise _problem(f"{label}[{sorted(unknown)[0]}]", "unknown order option")
        name = _scalar(node["attribute"], f"{label}[attribute]")
        descending = False
        if "descending" in node:
            descending = _direction(_scalar(node["descending"], f"{label}[descending]"), label)
        elif "direction" in node:
            descending = _direction(_scalar(node["direction"], f"{label}[direction]"), label)
        return [OrderBy(name, descending, f"{label}[attribute]")]
    orders: list[OrderBy] = []
    for item_label, item in _items(node, label):
        if isinstance(item, list):  # order[0]=-createdAt
            orders.extend(_plain_orders(_scalar(item, item_label), item_label))
        elif _is_array(item):  # order[0][0]=f&order[0][1]=DESC
            parts = [_scalar(v, lbl) for lbl, v in _items(item, item_label)]
            if not 1 <= len(parts) <= 2:
                raise _problem(item_label, "expected [field, direction]")
            descending = _direction(parts[1], item_label) if len(parts) == 2 else False
            orders.append(OrderBy(parts[0], descending, f"{item_label}[0]"))
        else:
            orders.extend(_orders(item, item_label))
    return orders


def _attribute_list(node: Any, label: str) -> tuple[str, ...]:
    if isinstance(node, list):
        return tuple(a.strip() for text in node for a in str(text).split(",") if a.strip())
    return tuple(_scalar(value, item_label) for item_label, value in _items(node, label))


def _includes(node: Any, label: str) -> list[IncludeRequest]:
    return parse_includes(node, label, items=_items, names=_attribute_list, conditions=_conditions)


def parse_list_query(
    params: Iterable[tuple[str, str]],
    limit: int,
    offset: int,
    principal: Principal | None = None,
) -> ListQuery:
    """Read both dialects from query parameters (already URL-decoded)."""
    params = tuple(params)  # read twice: the tree, and the links to other pages
    tree = _tree(params)
    filters = tuple(_conditions(tree["where"], "where")) if "where" in tree else ()
    orders = tuple(_orders(tree["order"], "order")) if "order" in tree else ()
    attributes = _attribute_list(tree["attributes"], "attributes") if "attributes" in tree else None
    includes = tuple(_includes(tree["include"], "include")) if "include" in tree else ()
    return ListQuery(
        limit, offset, filters, orders, attributes, includes, principal, params=tuple(params)
    )


async def list_query(
    request: Request,
    principal: Annotated[Principal, Depends(get_principal)],
    limit: int = Query(50, ge=1, le=1000, description="Page size (1-1000)"),
    offset: int | None = Query(None, ge=0, le=MAX_OFFSET, description="Rows to skip"),
    from_: int | None = Query(
        None, alias="from", ge=0, le=MAX_OFFSET, description="Onport's name for offset"
    ),
    order: str | None = Query(
        None,
        description=(
            "field or -field (a field the list filters on; every list has `id`), several "
            "comma-separated; also order[attribute]=f&order[descending]=true"
        ),
        max_length=256,
        examples=["-id"],
    ),
) -> ListQuery:
    del order  # documented here; read with the nested forms from the raw parameters
    params = request.query_params.multi_items()
    unstorable = [
        FieldProblem(key, f"contains a {found}")
        for key, value in params
        if (found := unstorable_character(value))
    ]
    if unstorable:
        raise InvalidFields("Invalid list parameters", unstorable)
    if offset is not None and from_ is not None and offset != from_:
        raise _problem("from", "give offset or from (the same), not two different values")
    skip = offset if offset is not None else from_ if from_ is not None else 0
    query = parse_list_query(params, limit, skip, principal)
    # `after`/`before` come only from a `Link` header this list answered (opaque, not in the
    # OpenAPI document: no client builds one)
    cursors = {key: request.query_params.get(key) for key in ("after", "before")}
    for key, value in cursors.items():
        if value is not None and len(value) > MAX_CURSOR:
            raise _problem(key, f"longer than {MAX_CURSOR} characters: not a cursor")
    return replace(query, after=cursors["after"], before=cursors["before"], path=request.url.path)


# --- applying it to a statement -----------------------------------------------------------


def fields_of(model: type[Any], *names: str) -> dict[str, InstrumentedAttribute[Any]]:
    """Map the API (camelCase) names of filterable fields to the model's columns."""
    return {to_camel(name): getattr(model, name) for name in names}


_ORDERING = frozenset({"gt", "gte", "lt", "lte"})
_MATCHING = frozenset({"eq", "ne", "in", "notIn"})
_TEXT = frozenset({"like", "iLike"})
_PUBLIC_OPERATOR = {"notIn": "$notIn", "like": "$like", "iLike": "$iLike"}


def _int_bits(column: Any) -> int:
    """The width of an integer column as the database stores it (PostgreSQL refuses to compare
    an INTEGER with a literal past 32 bits)."""
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    if isinstance(column_type, BigInteger):
        return 64
    if isinstance(column_type, SmallInteger):
        return 16
    return 32


def _operators_of(python_type: type[Any]) -> frozenset[str]:
    """What a field's type can be compared with: yes/no and enumerations match, numbers and
    timestamps order too, text also matches patterns; structured fields (JSON) take none."""
    if python_type is str:
        return _MATCHING | _ORDERING | _TEXT
    if python_type in (int, Decimal, datetime, date):
        return _MATCHING | _ORDERING
    if python_type is bool or (isinstance(python_type, type) and issubclass(python_type, Enum)):
        return _MATCHING
    return frozenset()


def _type_name(python_type: type[Any]) -> str:
    names = {bool: "yes/no", int: "integer", Decimal: "decimal", datetime: "timestamp", str: "text"}
    if isinstance(python_type, type) and issubclass(python_type, Enum):
        return "one of " + ", ".join(str(member.value) for member in python_type)
    return names.get(python_type, "structured (JSON)")


def _check_operator(column: Any, field: str, operator: str, label: str) -> None:
    """A 422 naming the field and the operator its type doesn't support (never a database
    error: ordering a yes/no column or comparing JSON fails in SQL)."""
    python_type = python_type_of(column)
    allowed = _operators_of(python_type)
    if operator in allowed:
        return
    shown = label.rsplit("[", 1)[-1].rstrip("]") if label.endswith("]") else operator
    kind = _type_name(python_type)
    if not allowed:
        raise Invalid(label, f"'{field}' is {kind}: it cannot be filtered")
    usable = ", ".join(_PUBLIC_OPERATOR.get(op, op) for op in sorted(allowed))
    raise Invalid(label, f"operator '{shown}' does not apply to '{field}' ({kind}); use {usable}")


def _coerce(column: Any, raw: str, label: str) -> Any:
    python_type = python_type_of(column)
    try:
        if python_type is bool:
            if raw.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return raw.lower() in ("true", "1")
        if python_type is int:
            number = int(raw)
            bits = _int_bits(column)
            if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
                raise Invalid(label, f"'{raw}' is out of range")
            return number
        if python_type is Decimal:
            decimal = Decimal(raw)
            if not decimal.is_finite() or abs(decimal.adjusted()) > 100:
                raise Invalid(label, f"'{raw}' is not a finite decimal in range")
            return decimal
        if python_type is datetime:
            return _timestamp(raw)
        if python_type is date:
            return date.fromisoformat(raw.strip())
        if isinstance(python_type, type) and issubclass(python_type, Enum):
            return python_type(raw)
    except (ValueError, InvalidOperation, OverflowError):
        raise Invalid(label, f"'{raw}' is not a valid {python_type.__name__}") from None
    return raw


def _timestamp(raw: str) -> datetime:
    """ISO 8601; a date or a time without offset is taken as UTC (as Onport's clients send)."""
    text = raw.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    # in UTC now: an offset that moves it past year 1 or 9999 is refused here, not in the driver
    return (parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)).astimezone(UTC)


def _glob(pattern: str) -> str:
    """A LIKE pattern as a case-sensitive SQLite GLOB pattern."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(char, char) for char in pattern)


def _condition(column: Any, flt: Condition, dialect: str) -> ColumnElement[bool]:
    _check_operator(column, flt.field, flt.operator, flt.label)
    if flt.operator in _LIST_OPERATORS:
        assert isinstance(flt.value, list)
        values = [_coerce(column, part, flt.label) for part in flt.value]
        if flt.operator == "in":
            return column.in_(values) if values else false()
        return column.not_in(values) if values else ~false()
    if flt.operator in ("like", "iLike"):
        pattern = str(flt.value or "")
        if flt.operator == "iLike":
            return column.ilike(pattern)  # type: ignore[no-any-return]
        if dialect == "sqlite":  # SQLite's LIKE ignores case; GLOB does not
            return column.op("GLOB")(_glob(pattern))  # type: ignore[no-any-return]
        return column.like(pattern)  # type: ignore[no-any-return]
    if flt.value is None:
        if flt.operator == "eq":
            return column.is_(None)  # type: ignore[no-any-return]
        if flt.operator == "ne":
            return column.is_not(None)  # type: ignore[no-any-return]
        raise Invalid(flt.label, "a value is needed here")
    assert isinstance(flt.value, str)
    value = _coerce(column, flt.value, flt.label)
    comparisons: dict[str, Callable[[Any], ColumnElement[bool]]] = {
        "eq": column.__eq__,
        "ne": column.__ne__,
        "gt": column.__gt__,
        "gte": column.__ge__,
        "lt": column.__lt__,
        "lte": column.__le__,
    }
    return comparisons[flt.operator](value)


def _where(
    nodes: Sequence[Node], fields: Mapping[str, Any], dialect: str
) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    for node in nodes:
        if isinstance(node, AnyOf):
            clauses.append(
                or_(*(and_(*_where(branch, fields, dialect)) for branch in node.branches))
            )
            continue
        column = fields.get(node.field)
        if column is None:
            raise Invalid(
                node.label,
                f"unknown filter field '{node.field}'; allowed: {', '.join(sorted(fields))}",
            )
        clauses.append(_condition(column, node, dialect))
    return clauses


COMPANY = literal(COMPANY_ID, Integer)
"""`companyId` of every record: one company per server (Onport's clients filter on it)."""


def with_company(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"companyId": COMPANY, **fields}


def apply_filters(
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, Any],
    dialect: str = "postgresql",
    relations: Mapping[str, Relation] = NO_RELATIONS,
) -> Select[Any]:
    """The `where` conditions, and the required includes' EXISTS (Sequelize's inner join)."""
    clauses = _where(query.filters, with_company(fields), dialect)
    if query.includes and relations:
        model = stmt.column_descriptions[0]["entity"]
        clauses += required_clauses(
            model, query.includes, relations, query.principal, _where_in(dialect)
        )
    return stmt.where(*clauses) if clauses else stmt


def _where_in(dialect: str) -> Callable[[Sequence[Node], Mapping[str, Any]], list[Any]]:
    """The conditions of an include's `where` on the included model's fields."""

    def where(nodes: Sequence[Node], fields: Mapping[str, Any]) -> list[ColumnElement[bool]]:
        return _where(nodes, with_company(fields), dialect)

    return where


def _asked_orders(query: ListQuery, fields: Mapping[str, Any]) -> list[tuple[Any, bool]]:
    asked = []
    for order in query.orders:
        column = fields.get(order.field)
        if column is None:
            raise Invalid(
                order.label,
                f"unknown order field '{order.field}'; allowed: {', '.join(sorted(fields))}",
            )
        if not _operators_of(python_type_of(column)):
            raise Invalid(order.label, f"'{order.field}' is structured (JSON): it cannot order")
        asked.append((column, order.descending))
    return asked


def apply_order(
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, Any],
    default: Sequence[Any],
) -> Select[Any]:
    keys = sort_keys(_asked_orders(query, fields), default)
    return stmt.order_by(*ordered(keys, backwards=False))


def paginate(
    session: Session,
    *,
    stmt: Select[T],
    query: ListQuery,
    fields: Mapping[str, Any],
    response: Response,
    default_order: Sequence[Any],
    relations: Mapping[str, Relation] = NO_RELATIONS,
) -> list[T]:
    """Filter, order and read one page of `stmt` (by offset or by cursor: `http.pages`), with
    `X-Total-Count` and a `Link` to the pages beside it.

    With `relations`, a required include (one with a `where`) leaves out the rows it matches
    none of, as Sequelize's inner join does."""
    dialect = session.get_bind().dialect.name
    stmt = apply_filters(stmt, query, fields, dialect, relations)
    keys = sort_keys(_asked_orders(query, fields), default_order)
    request = PageRequest(
        query.limit, query.offset, query.after, query.before, query.path, query.params
    )
    return read_page(session, stmt=stmt, request=request, keys=keys, response=response)


# --- shaping the answer: attributes and include -------------------------------------------


def listed(
    session: Session,
    *,
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, Any],
    response: Response,
    default_order: Sequence[Any],
    read: type[BaseModel],
    relations: Mapping[str, Relation] = NO_RELATIONS,
) -> Any:
    """A list endpoint's answer: one page of `stmt` (`paginate`), shaped as asked (`respond`)."""
    rows = paginate(
        session,
        stmt=stmt,
        query=query,
        fields=fields,
        response=response,
        default_order=default_order,
        relations=relations,
    )
    return respond(
        session, query=query, response=response, items=rows, read=read, relations=relations
    )


def respond(
    session: Session,
    *,
    query: ListQuery,
    response: Response,
    items: Sequence[Any],
    read: type[BaseModel],
    relations: Mapping[str, Relation] = NO_RELATIONS,
) -> Any:
    """The page as is, or — when `attributes` or `include` were asked for — shaped as asked.

    Includes nest (`http.includes`); each level is one query, scoped to a vendor token."""
    if not query.shaped:
        return items
    resolved = resolve(query.includes, relations, query.principal)
    pairs = [(item, dump(read, item)) for item in items]
    embed_all(
        session,
        pairs=pairs,
        resolved=resolved,
        principal=query.principal,
        where=_where_in(session.get_bind().dialect.name),
    )
    keep = [relation.key for _, relation in resolved]
    if query.attributes is not None:
        allowed = wire_names(read)
        for index, name in enumerate(query.attributes):
            if name not in allowed:
                raise Invalid(
                    f"attributes[{index}]",
                    f"unknown attribute '{name}'; allowed: {', '.join(allowed)}",
                )
    rows = [
        row
        if query.attributes is None
        else {name: row.get(name) for name in query.attributes}
        | {key: row[key] for key in keep if key in row}
        for _, row in pairs
    ]
    headers = {
        k: v
        for k, v in response.headers.items()
        if k.lower() in ("x-total-count", "x-total-count-exact", "link")
    }
    return JSONResponse(rows, headers=headers)
