"""Sequelize's `include` tree: related records embedded to any depth Onport's clients send.

`include[0][model]=Sale&include[0][attributes][0]=reference&include[0][where][status]=x&
include[0][include][0][model]=SaleItem&include[0][include][0][include][0][model]=Variant`:
each level names a related model (`model`, `models`), may trim it (`attributes`), filter it
(`where`, the list dialect's conditions on the included model's own fields) and include further
(`include`), down to `MAX_INCLUDE_DEPTH` levels. As in Sequelize, a `where` makes the include
*required* (the parent row is left out when no related row matches) unless `required=false`;
`required=true` without a `where` keeps only parents that have a related row.

Every level costs one query, whatever the page size (no N+1). For a vendor token every level is
scoped: a relation states which of its rows a vendor may see (`Relation.scope`); one without a
scope is refused (403) to vendor tokens, and `vendor_view` strips what a vendor may not read.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from pydantic.alias_generators import to_camel
from sqlalchemy import ColumnElement, exists, inspect, select
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal
from dropwire.core.errors import DomainError, FieldProblem, Forbidden, Invalid, InvalidFields

MAX_INCLUDE_DEPTH = 5
"""Include levels below the listed record (`include[0][include][0]...`): 5 deep at most."""

_OPTIONS = {
    "model",
    "models",
    "attributes",
    "as",
    "required",
    "separate",
    "where",
    "include",
    "duplicating",
    "paranoid",
}


@dataclass(frozen=True)
class IncludeRequest:
    model: str
    attributes: tuple[str, ...] | None
    label: str
    where: tuple[Any, ...] = ()  # listing's condition nodes on the included model's fields
    required: bool | None = None
    includes: tuple["IncludeRequest", ...] = ()

    @property
    def is_required(self) -> bool:
        """Sequelize: a `where` makes an include required unless it says `required=false`."""
        return self.required if self.required is not None else bool(self.where)


VendorScope = Callable[[int], ColumnElement[bool]]
"""Given a vendor's id, the condition on the related model's rows that vendor may see."""


@dataclass(frozen=True)
class Relation:
    """A related model a list may embed under `key`.

    Without `model` the relation is already part of the read shape, only trimmed by
    `include[n][attributes]` (`read` names its fields; None allows any); it is as visible as its
    parent. Otherwise the related rows are loaded in one query: those whose `remote` column
    equals the listed row's `local` attribute (`many` for lists). `nested` gives the relations
    of the related model (a function, so two models may name each other); `scope` what a vendor
    token may see of it (None: admins only); `vendor_view` trims a row shown to a vendor.
    """

    key: str
    read: type[BaseModel] | None = None
    model: Any = None
    local: str = "id"
    remote: str = "id"
    many: bool = False
    scope: VendorScope | None = None
    nested: Callable[[], Mapping[str, "Relation"]] | None = None
    vendor_view: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    fields: Mapping[str, Any] | None = field(default=None, hash=False, compare=False)
    options: tuple[Any, ...] = ()  # loader options of the related query

    def filter_fields(self) -> dict[str, Any]:
        """What `include[n][where]` may name: the stored fields the related record shows."""
        if self.fields is not None:
            return dict(self.fields)
        shown = set(wire_names(self.read)) if self.read is not None else set()
        columns = inspect(self.model).column_attrs
        found = {to_camel(attr.key): getattr(self.model, attr.key) for attr in columns}
        return {name: column for name, column in found.items() if name in shown}


NO_RELATIONS: Mapping[str, Relation] = {}

# --- parsing --------------------------------------------------------------------------------


def _problem(label: str, message: str) -> DomainError:
    return InvalidFields("Invalid list parameters", [FieldProblem(label, message)])


def parse_includes(
    node: Any,
    label: str,
    *,
    items: Callable[[Any, str], list[tuple[str, Any]]],
    names: Callable[[Any, str], tuple[str, ...]],
    conditions: Callable[[Any, str], list[Any]],
    depth: int = 1,
) -> list[IncludeRequest]:
    """`include[...]` at one level; `items`, `names` and `conditions` are the list parser's."""
    if depth > MAX_INCLUDE_DEPTH:
        raise _problem(label, f"includes are nested at most {MAX_INCLUDE_DEPTH} levels deep")
    if isinstance(node, list):  # include=Customer,SaleItem
        return [
            IncludeRequest(name.strip(), None, label)
            for text in node
            for name in str(text).split(",")
            if name.strip()
        ]
    requests: list[IncludeRequest] = []
    for item_label, item in items(node, label):
        if isinstance(item, list):  # include[0]=Customer
            requests.extend(IncludeRequest(n, None, item_label) for n in names(item, item_label))
            continue
        if not isinstance(item, dict):
            raise _problem(item_label, "expected include[n][model]=Name")
        unknown = sorted(set(item) - _OPTIONS)
        if unknown:
            raise _problem(f"{item_label}[{unknown[0]}]", "unknown include option")
        attributes = (
            names(item["attributes"], f"{item_label}[attributes]") if "attributes" in item else None
        )
        where = tuple(conditions(item["where"], f"{item_label}[where]")) if "where" in item else ()
        required = (
            _flag(item["required"], f"{item_label}[required]") if "required" in item else None
        )
        nested = (
            tuple(
                parse_includes(
                    item["include"],
                    f"{item_label}[include]",
                    items=items,
                    names=names,
                    conditions=conditions,
                    depth=depth + 1,
                )
            )
            if "include" in item
            else ()
        )
        key = "model" if "model" in item else "models" if "models" in item else None
        if key is None:
            raise _problem(f"{item_label}[model]", "name the related model")
        model_label = f"{item_label}[{key}]"
        for name in names(item[key], model_label):
            requests.append(IncludeRequest(name, attributes, model_label, where, required, nested))
    return requests


def _flag(node: Any, label: str) -> bool:
    if isinstance(node, list) and len(node) == 1:
        word = str(node[0]).strip().lower()
        if word in ("true", "1"):
            return True
        if word in ("false", "0"):
            return False
    raise _problem(label, "expected true or false")


# --- resolving and scoping -----------------------------------------------------------------


def wire_names(read: type[BaseModel]) -> list[str]:
    """The names a read shape writes: its fields' and computed fields' aliases."""
    names = [
        info.serialization_alias or info.alias or name
        for name, info in read.model_fields.items()
        if not info.exclude
    ]
    names += [info.alias or to_camel(name) for name, info in read.model_computed_fields.items()]
    return names


def _model_key(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())


def _vendor_of(principal: Principal | None) -> int | None:
    if principal is None or principal.is_admin:
        return None
    return principal.dropship_provider_id


def resolve(
    requests: Sequence[IncludeRequest],
    relations: Mapping[str, Relation],
    principal: Principal | None,
) -> list[tuple[IncludeRequest, Relation]]:
    """Each request's relation; unknown models are a 422, admin-only ones a 403 for vendors."""
    by_key = {_model_key(name): rel for name, rel in relations.items()}
    by_key.update({_model_key(rel.key): rel for rel in relations.values()})
    resolved = []
    for request in requests:
        relation = by_key.get(_model_key(request.model))
        if relation is None:
            allowed = ", ".join(sorted(relations)) or "none"
            raise Invalid(request.label, f"unknown model '{request.model}'; allowed: {allowed}")
        if relation.model is None and (request.where or request.includes):
            raise Invalid(request.label, f"'{request.model}' takes no where or include")
        vendor_token = _vendor_of(principal) is not None
        if relation.model is not None and vendor_token and relation.scope is None:
            raise Forbidden(f"A vendor token may not include {request.model}", field=request.label)
        resolved.append((request, relation))
    return resolved


def _nested(relation: Relation) -> Mapping[str, Relation]:
    return relation.nested() if relation.nested is not None else NO_RELATIONS


def _conditions_of(
    request: IncludeRequest, relation: Relation, where: Callable[..., list[ColumnElement[bool]]]
) -> list[ColumnElement[bool]]:
    return where(request.where, relation.filter_fields()) if request.where else []


def _related_conditions(
    request: IncludeRequest,
    relation: Relation,
    principal: Principal | None,
    where: Callable[..., list[ColumnElement[bool]]],
) -> list[ColumnElement[bool]]:
    """The include's own `where`, the vendor's scope, and its required sub-includes."""
    clauses = _conditions_of(request, relation, where)
    vendor = _vendor_of(principal)
    if vendor is not None:
        assert relation.scope is not None
        clauses.append(relation.scope(vendor))
    nested = _nested(relation)
    clauses.extend(required_clauses(relation.model, request.includes, nested, principal, where))
    return clauses


def required_clauses(
    model: Any,
    requests: Sequence[IncludeRequest],
    relations: Mapping[str, Relation],
    principal: Principal | None,
    where: Callable[..., list[ColumnElement[bool]]],
) -> list[ColumnElement[bool]]:
    """EXISTS conditions on `model`'s rows for its required includes (Sequelize's inner join)."""
    clauses: list[ColumnElement[bool]] = []
    for request, relation in resolve(requests, relations, principal):
        if not request.is_required or relation.model is None:
            continue
        remote = getattr(relation.model, relation.remote)
        related = select(relation.model.id).where(
            remote == getattr(model, relation.local),
            *_related_conditions(request, relation, principal, where),
        )
        clauses.append(exists(related))
    return clauses


# --- embedding ------------------------------------------------------------------------------


def _trim(
    rows: list[dict[str, Any]],
    attributes: tuple[str, ...] | None,
    allowed: Sequence[str] | None,
    label: str,
    keep: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Only the named fields, in the order named (plus `keep`); `allowed` None accepts any."""
    if attributes is None:
        return rows
    for index, name in enumerate(attributes):
        if allowed is not None and name not in allowed:
            raise Invalid(
                f"{label}[{index}]", f"unknown attribute '{name}'; allowed: {', '.join(allowed)}"
            )
    return [
        {name: row.get(name) for name in attributes} | {k: row[k] for k in keep if k in row}
        for row in rows
    ]


def dump(read: type[BaseModel], item: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = read.model_validate(item).model_dump(mode="json", by_alias=True)
    return dumped


def embed_all(
    session: Session,
    *,
    pairs: Sequence[tuple[Any, dict[str, Any]]],
    resolved: Sequence[tuple[IncludeRequest, Relation]],
    principal: Principal | None,
    where: Callable[..., list[ColumnElement[bool]]],
) -> None:
    """Embed every requested relation into the rows (each `(record, its dumped row)`)."""
    for request, relation in resolved:
        _embed(session, pairs, request, relation, principal, where)


def _attributes_label(request: IncludeRequest) -> str:
    return request.label.rsplit("[", 1)[0] + "[attributes]"


def _embed(
    session: Session,
    pairs: Sequence[tuple[Any, dict[str, Any]]],
    request: IncludeRequest,
    relation: Relation,
    principal: Principal | None,
    where: Callable[..., list[ColumnElement[bool]]],
) -> None:
    label = _attributes_label(request)
    allowed = wire_names(relation.read) if relation.read is not None else None
    if relation.model is None:  # already part of the shape: only trimmed
        for _, row in pairs:
            value = row.get(relation.key)
            if isinstance(value, list):
                row[relation.key] = _trim(value, request.attributes, allowed, label)
            elif isinstance(value, dict):
                row[relation.key] = _trim([value], request.attributes, allowed, label)[0]
        return
    assert relation.read is not None
    nested = resolve(request.includes, _nested(relation), principal)
    _trim([], request.attributes, allowed, label)  # names a bad attribute even on an empty page
    keys = {getattr(item, relation.local) for item, _ in pairs} - {None}
    children: list[tuple[Any, dict[str, Any]]] = []
    if keys:
        remote = getattr(relation.model, relation.remote)
        statement = (
            select(relation.model)
            .where(remote.in_(keys), *_related_conditions(request, relation, principal, where))
            .order_by(relation.model.id)
            .options(*relation.options)
        )
        vendor_view = relation.vendor_view if _vendor_of(principal) is not None else None
        for obj in session.scalars(statement):
            row = dump(relation.read, obj)
            children.append((obj, vendor_view(row) if vendor_view else row))
    embed_all(session, pairs=children, resolved=nested, principal=principal, where=where)
    embedded_keys = [rel.key for _, rel in nested]
    found: dict[Any, list[dict[str, Any]]] = {}
    for obj, row in children:
        trimmed = _trim([row], request.attributes, allowed, label, embedded_keys)[0]
        found.setdefault(getattr(obj, relation.remote), []).append(trimmed)
    for item, row in pairs:
        matches = found.get(getattr(item, relation.local), [])
        row[relation.key] = matches if relation.many else (matches[0] if matches else None)
