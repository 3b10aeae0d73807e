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
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, TypeVar

from fastapi import Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.types import TypeDecorator

from dropwire.core.errors import DomainError, FieldProblem, Invalid, InvalidFields
from dropwire.core.schemas import unstorable_character

T = TypeVar("T")

MAX_OFFSET = 2**31 - 1
MAX_DEPTH = 6
MAX_LIST = 1000

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
_INCLUDE_OPTIONS = {"model", "models", "attributes", "as", "required", "separate"}
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
class IncludeRequest:
    model: str
    attributes: tuple[str, ...] | None
    label: str


@dataclass(frozen=True)
class ListQuery:
    limit: int
    offset: int
    filters: tuple[Node, ...] = ()
    orders: tuple[OrderBy, ...] = ()
    attributes: tuple[str, ...] | None = None
    includes: tuple[IncludeRequest, ...] = ()

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
    if isinstance(node, list):  # include=Customer,SaleItem
        return [
            IncludeRequest(name.strip(), None, label)
            for text in node
            for name in str(text).split(",")
            if name.strip()
        ]
    requests: list[IncludeRequest] = []
    for item_label, item in _items(node, label):
        if isinstance(item, list):  # include[0]=Customer
            requests.append(IncludeRequest(_scalar(item, item_label), None, item_label))
            continue
        if not isinstance(item, dict):
            raise _problem(item_label, "expected include[n][model]=Name")
        unknown = sorted(set(item) - _INCLUDE_OPTIONS)
        if unknown:
            raise _problem(f"{item_label}[{unknown[0]}]", "unknown include option")
        attributes = (
            _attribute_list(item["attributes"], f"{item_label}[attributes]")
            if "attributes" in item
            else None
        )
        key = "model" if "model" in item else "models" if "models" in item else None
        if key is None:
            raise _problem(f"{item_label}[model]", "name the related model")
        model_label = f"{item_label}[{key}]"
        for name in _attribute_list(item[key], model_label):
            requests.append(IncludeRequest(name, attributes, model_label))
    return requests


def parse_list_query(params: Iterable[tuple[str, str]], limit: int, offset: int) -> ListQuery:
    """Read both dialects from query parameters (already URL-decoded)."""
    tree = _tree(params)
    filters = tuple(_conditions(tree["where"], "where")) if "where" in tree else ()
    orders = tuple(_orders(tree["order"], "order")) if "order" in tree else ()
    attributes = _attribute_list(tree["attributes"], "attributes") if "attributes" in tree else None
    includes = tuple(_includes(tree["include"], "include")) if "include" in tree else ()
    return ListQuery(limit, offset, filters, orders, attributes, includes)


async def list_query(
    request: Request,
    limit: int = Query(50, ge=1, le=1000, description="Page size (1-1000)"),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="Rows to skip"),
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
    return parse_list_query(params, limit, offset)


# --- applying it to a statement -----------------------------------------------------------


def fields_of(model: type[Any], *names: str) -> dict[str, InstrumentedAttribute[Any]]:
    """Map the API (camelCase) names of filterable fields to the model's columns."""
    return {to_camel(name): getattr(model, name) for name in names}


def _python_type(column: Any) -> type[Any]:
    column_type = column.type
    if isinstance(column_type, TypeDecorator):
        column_type = column_type.impl_instance
    try:
        python_type: type[Any] = column_type.python_type
    except NotImplementedError:
        python_type = str
    return python_type


def _coerce(column: Any, raw: str, label: str) -> Any:
    python_type = _python_type(column)
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
            return _timestamp(raw)
        if isinstance(python_type, type) and issubclass(python_type, Enum):
            return python_type(raw)
    except (ValueError, InvalidOperation):
        raise Invalid(label, f"'{raw}' is not a valid {python_type.__name__}") from None
    return raw


def _timestamp(raw: str) -> datetime:
    """ISO 8601; a date or a time without offset is taken as UTC (as Onport's clients send)."""
    text = raw.strip().replace("Z", "+00:00").replace(" ", "T", 1)
    if len(text) == 10:
        day = date.fromisoformat(text)
        return datetime(day.year, day.month, day.day, tzinfo=UTC)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _glob(pattern: str) -> str:
    """A LIKE pattern as a case-sensitive SQLite GLOB pattern."""
    special = {"%": "*", "_": "?", "*": "[*]", "?": "[?]", "[": "[[]"}
    return "".join(special.get(char, char) for char in pattern)


def _condition(column: Any, flt: Condition, dialect: str) -> ColumnElement[bool]:
    if flt.operator in _LIST_OPERATORS:
        assert isinstance(flt.value, list)
        values = [_coerce(column, part, flt.label) for part in flt.value]
        if flt.operator == "in":
            return column.in_(values) if values else false()
        return column.not_in(values) if values else ~false()
    if flt.operator in ("like", "iLike"):
        if _python_type(column) is not str:
            raise Invalid(flt.label, "$like and $iLike compare text fields only")
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


def apply_filters(
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, Any],
    dialect: str = "postgresql",
) -> Select[Any]:
    clauses = _where(query.filters, fields, dialect)
    return stmt.where(*clauses) if clauses else stmt


def apply_order(
    stmt: Select[Any],
    query: ListQuery,
    fields: Mapping[str, Any],
    default: Sequence[Any],
) -> Select[Any]:
    primary = []
    for order in query.orders:
        column = fields.get(order.field)
        if column is None:
            raise Invalid(
                order.label,
                f"unknown order field '{order.field}'; allowed: {', '.join(sorted(fields))}",
            )
        primary.append(column.desc() if order.descending else column.asc())
    return stmt.order_by(*primary, *default)


def paginate(
    session: Session,
    stmt: Select[T],
    query: ListQuery,
    fields: Mapping[str, Any],
    response: Response,
    default_order: Sequence[Any],
) -> list[T]:
    """Filter, count, order and slice `stmt`; sets `X-Total-Count` on the response."""
    stmt = apply_filters(stmt, query, fields, session.get_bind().dialect.name)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    response.headers["X-Total-Count"] = str(total or 0)
    stmt = apply_order(stmt, query, fields, default_order)
    return list(session.scalars(stmt.limit(query.limit).offset(query.offset)))


# --- shaping the answer: attributes and include -------------------------------------------


@dataclass(frozen=True)
class Relation:
    """A related model a list may embed under `key`.

    Without `model` the relation is already part of the read shape, only trimmed by
    `include[n][attributes]` (`read` names its fields; None allows any). Otherwise the related
    rows are loaded in one query: those whose `remote` column equals the listed row's `local`
    attribute (`many` for lists).
    """

    key: str
    read: type[BaseModel] | None = None
    model: Any = None
    local: str = "id"
    remote: str = "id"
    many: bool = False


NO_RELATIONS: Mapping[str, Relation] = {}


def _wire_names(read: type[BaseModel]) -> list[str]:
    """The names a read shape writes: its fields' and computed fields' aliases."""
    names = [
        info.serialization_alias or info.alias or name for name, info in read.model_fields.items()
    ]
    names += [info.alias or to_camel(name) for name, info in read.model_computed_fields.items()]
    return names


def _trim(
    rows: list[dict[str, Any]],
    attributes: tuple[str, ...] | None,
    allowed: Sequence[str] | None,
    label: str,
) -> list[dict[str, Any]]:
    """Only the named fields, in the order named; `allowed` None accepts any name."""
    if attributes is None:
        return rows
    for index, name in enumerate(attributes):
        if allowed is not None and name not in allowed:
            raise Invalid(
                f"{label}[{index}]", f"unknown attribute '{name}'; allowed: {', '.join(allowed)}"
            )
    return [{name: row.get(name) for name in attributes} for row in rows]


def _model_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _resolve(
    requests: Sequence[IncludeRequest], relations: Mapping[str, Relation]
) -> list[tuple[IncludeRequest, Relation]]:
    by_key = {_model_key(name): rel for name, rel in relations.items()}
    by_key.update({_model_key(rel.key): rel for rel in relations.values()})
    resolved = []
    for request in requests:
        relation = by_key.get(_model_key(request.model))
        if relation is None:
            allowed = ", ".join(sorted(relations)) or "none"
            raise Invalid(request.label, f"unknown model '{request.model}'; allowed: {allowed}")
        resolved.append((request, relation))
    return resolved


def _dump(read: type[BaseModel], item: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = read.model_validate(item).model_dump(mode="json", by_alias=True)
    return dumped


def _embed(
    session: Session,
    items: Sequence[Any],
    rows: list[dict[str, Any]],
    request: IncludeRequest,
    relation: Relation,
) -> None:
    label = request.label.rsplit("[", 1)[0] + "[attributes]"
    allowed = _wire_names(relation.read) if relation.read is not None else None
    if relation.model is None:  # already part of the shape: only trimmed
        for row in rows:
            value = row.get(relation.key)
            if isinstance(value, list):
                row[relation.key] = _trim(value, request.attributes, allowed, label)
            elif isinstance(value, dict):
                row[relation.key] = _trim([value], request.attributes, allowed, label)[0]
        return
    assert relation.read is not None
    keys = {getattr(item, relation.local) for item in items} - {None}
    found: dict[Any, list[dict[str, Any]]] = {}
    if keys:
        remote = getattr(relation.model, relation.remote)
        related = session.scalars(
            select(relation.model).where(remote.in_(keys)).order_by(relation.model.id)
        )
        for obj in related:
            found.setdefault(getattr(obj, relation.remote), []).append(_dump(relation.read, obj))
    _trim([], request.attributes, allowed, label)  # names a bad attribute even on an empty page
    for item, row in zip(items, rows, strict=True):
        matches = _trim(
            found.get(getattr(item, relation.local), []), request.attributes, allowed, label
        )
        row[relation.key] = matches if relation.many else (matches[0] if matches else None)


def respond(
    session: Session,
    query: ListQuery,
    response: Response,
    items: Sequence[Any],
    read: type[BaseModel],
    relations: Mapping[str, Relation] = NO_RELATIONS,
) -> Any:
    """The page as is, or — when `attributes` or `include` were asked for — shaped as asked."""
    if not query.shaped:
        return items
    resolved = _resolve(query.includes, relations)
    rows = _trim(
        [_dump(read, item) for item in items], query.attributes, _wire_names(read), "attributes"
    )
    for request, relation in resolved:
        _embed(session, items, rows, request, relation)
    headers = {k: v for k, v in response.headers.items() if k.lower() == "x-total-count"}
    return JSONResponse(rows, headers=headers)
