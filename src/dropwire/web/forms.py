"""Create and edit forms drawn from the API's own input schemas.

A form shows one input per field of the schema the API endpoint takes (an enum as a choice, a
yes/no as a checkbox, a list as comma-separated text, a mapping as JSON), parses the posted
values into that schema and hands it to the same service the API calls. What the schema or the
service refuses comes back next to the field it names, so the rules live in one place.
"""

import json
import types
import typing
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from sqlalchemy import inspect as sa_inspect
from starlette.datastructures import FormData

from dropwire.core.errors import DomainError
from dropwire.web.formatting import label


@dataclass
class FormField:
    name: str  # the schema's camelCase name, as the API and its errors say it
    label: str
    kind: str  # text | number | choice | check | list | json
    required: bool
    value: str = ""
    checked: bool = False
    choices: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""
    error: str = ""


@dataclass
class Form:
    fields: list[FormField]
    problem: str = ""

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def has_errors(self) -> bool:
        return bool(self.problem) or any(f.error for f in self.fields)


def _plain(annotation: Any) -> Any:
    """The field's type without `None`, `Annotated` or a union's other arms."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        arms = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = _plain(arms[0]) if arms else str
    return annotation


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
            return "list"
        if issubclass(origin, dict):
            return "json"
    return "text"


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


def blank_form(
    schema: type[BaseModel],
    *,
    values: Mapping[str, Any] | None = None,
    skip: Collection[str] = (),
    choices: Choices | None = None,
) -> Form:
    """The schema's fields, filled from `values` (a stored record's attributes by snake name)."""
    values = values or {}
    choices = choices or {}
    fields = []
    for python_name, info in _in_order(schema):
        if python_name in skip:
            continue
        kind = "choice" if python_name in choices else _kind(info.annotation)
        value = values.get(python_name)
        fields.append(
            FormField(
                name=info.alias or python_name,
                label=label(info.alias or python_name),
                kind=kind,
                required=info.is_required(),
                value=_shown(kind, value),
                checked=bool(value) if kind == "check" else False,
                choices=list(choices[python_name]) if python_name in choices else _choices(info),
                help=info.description or "",
            )
        )
    return Form(fields)


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
) -> tuple[BaseModel | None, Form]:
    """The posted form as the schema (None when it refuses), and the form to show again."""
    form = blank_form(schema, skip=skip, choices=choices)
    data: dict[str, Any] = {}
    for item in form.fields:
        raw = posted.get(item.name)
        text = raw.strip() if isinstance(raw, str) else ""
        item.value = text
        if item.kind == "check":
            item.checked = raw == "on"
            data[item.name] = item.checked
        elif not text:
            continue
        elif item.kind == "list":
            data[item.name] = [part.strip() for part in text.split(",") if part.strip()]
        elif item.kind == "json":
            try:
                data[item.name] = json.loads(text)
            except ValueError as exc:
                item.error = f"not valid JSON: {exc}"
        else:
            data[item.name] = text
    if form.has_errors:
        return None, form
    try:
        return schema.model_validate(data), form
    except ValidationError as exc:
        show_validation(form, exc)
        return None, form


def show_validation(form: Form, exc: ValidationError) -> None:
    for error in exc.errors():
        where = str(error["loc"][0]) if error["loc"] else ""
        _place(form, where, str(error["msg"]))


def show_refusal(form: Form, exc: DomainError) -> None:
    """A service's refusal next to the fields it names (camelCase, as in the API's errors)."""
    named = False
    for problem in exc.errors:
        name = (problem.field or "").split("[")[0].split(".")[0]
        if form.field(name) is not None:
            _place(form, name, problem.message)
            named = True
    if not named:
        form.problem = exc.message


def _place(form: Form, name: str, message: str) -> None:
    target = form.field(name)
    if target is None:
        form.problem = "; ".join(filter(None, [form.problem, f"{name}: {message}"]))
    else:
        target.error = "; ".join(filter(None, [target.error, message]))
