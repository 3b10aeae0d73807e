"""Create and edit forms drawn from the API's own input schemas.

A form shows one input per field of the schema the API endpoint takes (an enum as a choice, a
yes/no as a checkbox, a list as comma-separated text, a mapping as JSON), parses the posted
values into that schema and hands it to the same service the API calls. What the schema or the
service refuses comes back next to the field it names, so the rules live in one place.
"""

import json
import types
import typing
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from dropwire.core.errors import DomainError
from dropwire.web.formatting import label
from dropwire.web.pages import render


@dataclass
class FormField:
    name: str  # the schema's camelCase name, as the API and its errors say it
    label: str
    kind: str  # text | long | number | choice | check | list | json | secret (write-only)
    required: bool
    value: str = ""
    checked: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    error: str = ""
    blank: str = ""  # a choice's empty option, when "default" would not say what it means


@dataclass
class Form:
    fields: list[FormField]
    problem: str = ""

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_errors(self) -> bool:
        return bool(self.problem) or any(f.error for f in self.fields)

    def __add__(self, other: "Form") -> "Form":
        """Two forms shown (and posted) as one, e.g. a channel and its store's settings."""
        problem = "; ".join(filter(None, [self.problem, other.problem]))
        return Form(self.fields + other.fields, problem)


def _plain(annotation: Any) -> Any:
    """The field's type without `None`, `Annotated` or a union's other arms."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = _plain(arms[0]) if arms else str
    return annotation


plain_type = _plain


LONG_TEXT = 4096
"""Text that may be longer than this (a description; not a URL, 2,048) is written in a box of
several lines."""


def _max_length(annotation: Any) -> int | None:
    """The `max_length` stated on a text field's type, inside `Annotated` or a union's arm."""
    if typing.get_origin(annotation) is typing.Annotated:
        for meta in typing.get_args(annotation)[1:]:
            for constraint in getattr(meta, "metadata", [meta]):
                if isinstance(getattr(constraint, "max_length", None), int):
                    return int(constraint.max_length)
        return _max_length(typing.get_args(annotation)[0])
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        found = [_max_length(arm) for arm in typing.get_args(annotation)]
        return max((n for n in found if n is not None), default=None)
    return None


def _kind(annotation: Any) -> str:
    plain = _plain(annotation)
    origin = typing.get_origin(plain) or plain
    if isinstance(origin, type):
        if issubclass(origin, Enum):
            return "choice"
        if issubclass(origin, bool):
            return "check"
        if issubclass(origin, int):
            return "number"
        if issubclass(origin, list):
            items = typing.get_args(_plain(annotation))
            of_records = items and isinstance(items[0], type) and issubclass(items[0], BaseModel)
            return "json" if of_records else "list"  # a list of records is written as JSON
        if issubclass(origin, dict):
            return "json"
    return "long" if (_max_length(annotation) or 0) > LONG_TEXT else "text"


def _shown(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "list":
        return ", ".join(str(v) for v in value)
    if kind == "json":
        return json.dumps(value, indent=2) if value else ""
    if isinstance(value, Enum):
        return str(value.value)
    return str(value)


Choices = Mapping[str, list[tuple[str, str]]]
"""Per field (snake name), the values a person picks from (e.g. vendors by name for an id)."""

Secrets = Mapping[str, bool]
"""Per write-only field (snake name), whether a value is set: the form never shows it back, an
empty box keeps it."""


def _secret_help(is_set: bool) -> str:
    return "set (never shown): leave empty to keep it" if is_set else "not set"


def blank_form(
    schema: type[BaseModel],
    *,
    values: Mapping[str, Any] | None = None,
    skip: Collection[str] = (),
    choices: Choices | None = None,
    secrets: Secrets | None = None,
    prefix: str = "",
) -> Form:
    """The schema's fields, filled from `values` (a stored record's attributes by snake name).

    With a `prefix` the fields are a block of a bigger body (`elasticPath.clientId`), named as
    the API's errors name them."""
    values = values or {}
    choices = choices or {}
    secrets = secrets or {}
    fields = []
    for python_name, info in _in_order(schema):
        if python_name in skip:
            continue
        kind = "choice" if python_name in choices else _kind(info.annotation)
        if python_name in secrets:
            kind = "secret"
        value = None if kind == "secret" else values.get(python_name)
        name = info.alias or python_name
        fields.append(
            FormField(
                name=f"{prefix}.{name}" if prefix else name,
                label=label(name),
                kind=kind,
                required=info.is_required(),
                value=_shown(kind, value),
                checked=bool(value) if kind == "check" else False,
                choices=list(choices[python_name]) if python_name in choices else _choices(info),
                help=_secret_help(secrets[python_name])
                if kind == "secret"
                else (info.description or ""),
            )
        )
    return Form(fields)


def edit_page(
    request: Request,
    form: Form,
    *,
    heading: str,
    action: str,
    back: str,
    crumb: str,
    template: str = "edit.html",
    **context: Any,
) -> HTMLResponse:
    """A create or edit page of `form`; a 422 when the form shows a refusal, so a client (or a
    test) sees the post was refused without reading the page."""
    response = render(
        request,
        template,
        form=form,
        heading=heading,
        action=action,
        back=back,
        crumb=crumb,
        submit="Save",
        **context,
    )
    if form.has_errors:
        response.status_code = 422
    return response


def _in_order(schema: type[BaseModel]) -> list[tuple[str, FieldInfo]]:
    """What a record is (required fields, its name) first, then its settings in schema order."""
    fields = list(schema.model_fields.items())
    return sorted(fields, key=lambda item: (not item[1].is_required(), item[0] != "name"))


def column_defaults(model: type[Any]) -> dict[str, Any]:
    """A table's plain column defaults by attribute name: what a new record starts with, so a
    create form shows it (an unticked box would otherwise say "no" to a default "yes")."""
    defaults = {}
    for attribute in sa_inspect(model).column_attrs:
        default = attribute.columns[0].default
        if default is not None and default.is_scalar:
            defaults[attribute.key] = default.arg
    return defaults


def _choices(info: FieldInfo) -> list[tuple[str, str]]:
    plain = _plain(info.annotation)
    if isinstance(plain, type) and issubclass(plain, Enum):
        return [(str(member.value), label(member.value)) for member in plain]
    return []


def parse(
    schema: type[BaseModel],
    posted: FormData,
    *,
    skip: Collection[str] = (),
    choices: Choices | None = None,
    secrets: Secrets | None = None,
    prefix: str = "",
) -> tuple[BaseModel | None, Form]:
    """The posted form as the schema (None when it refuses), and the form to show again."""
    form = blank_form(schema, skip=skip, choices=choices, secrets=secrets, prefix=prefix)
    data: dict[str, Any] = {}
    for item in form.fields:
        raw = posted.get(item.name)
        text = raw.strip() if isinstance(raw, str) else ""
        key = item.name.removeprefix(f"{prefix}.") if prefix else item.name
        item.value = "" if item.kind == "secret" else text  # a secret is never sent back
        if item.kind == "check":
            item.checked = raw == "on"
            data[key] = item.checked
        elif not text:
            continue
        elif item.kind == "list":
            data[key] = [part.strip() for part in text.split(",") if part.strip()]
        elif item.kind == "long":  # a browser sends a box's line breaks as CRLF
            data[key] = item.value = text.replace("\r\n", "\n")
        elif item.kind == "json":
            try:
                data[key] = json.loads(text)
            except ValueError as exc:
                item.error = f"not valid JSON: {exc}"
        else:
            data[key] = text
    if form.has_errors:
        return None, form
    try:
        return schema.model_validate(data), form
    except ValidationError as exc:
        show_validation(form, exc, prefix=prefix)
        return None, form


Schema = TypeVar("Schema", bound=BaseModel)
Saved = TypeVar("Saved")


def submit(
    session: Session,
    *,
    schema: type[Schema],
    posted: FormData,
    save: Callable[[Schema, Form], Saved],
    choices: Choices | None = None,
) -> tuple[Saved | None, Form]:
    """The posted form saved by `save` (the service call): what it returned, or None with the
    schema's or the service's refusal next to its field and the transaction rolled back."""
    data, form = parse(schema, posted, choices=choices)
    if not isinstance(data, schema):
        return None, form
    try:
        return save(data, form), form
    except DomainError as exc:
        session.rollback()
        show_refusal(form, exc)
        return None, form


def show_validation(form: Form, exc: ValidationError, *, prefix: str = "") -> None:
    for error in exc.errors():
        where = str(error["loc"][0]) if error["loc"] else ""
        _place(form, f"{prefix}.{where}" if prefix and where else where, str(error["msg"]))


def show_refusal(form: Form, exc: DomainError) -> None:
    """A service's refusal next to the fields it names (camelCase, as in the API's errors): the
    field itself (`elasticPath.clientId`), else the block or list it is part of."""
    named = False
    for problem in exc.errors:
        path = (problem.field or "").split("[")[0]
        name = next(
            (
                candidate
                for candidate in (path, ".".join(path.split(".")[:2]), path.split(".")[0])
                if form.field(candidate) is not None
            ),
            None,
        )
        if name is not None:
            _place(form, name, problem.message)
            named = True
    if not named:
        form.problem = exc.message


def cleared(data: Any, form: Form, *, prefix: str = "") -> Any:
    """An emptied box on an edit form clears what may be cleared (a PUT's explicit null, an
    empty list); a secret's empty box keeps it."""
    changes: dict[str, Any] = {}
    clearable: frozenset[str] = getattr(data, "clearable", frozenset())
    for python_name, info in type(data).model_fields.items():
        name = info.alias or python_name
        shown = form.field(f"{prefix}.{name}" if prefix else name)
        if shown is None or shown.value or shown.kind in ("secret", "check"):
            continue
        if shown.kind == "list":
            changes[python_name] = []
        elif python_name in clearable:
            changes[python_name] = None
    return data.model_copy(update=changes) if changes else data


def _place(form: Form, name: str, message: str) -> None:
    target = form.field(name)
    if target is None:
        form.problem = "; ".join(filter(None, [form.problem, f"{name}: {message}"]))
    else:
        target.error = "; ".join(filter(None, [target.error, message]))
