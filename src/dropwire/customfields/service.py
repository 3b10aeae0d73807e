"""Custom-field definitions and the one way values are written (`sync`), checked by type."""

import math
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.core.errors import Forbidden, Invalid, NotFound
from dropwire.customfields.errors import (
    CustomFieldKeyTaken,
    CustomFieldValueInvalid,
    UnknownCustomField,
)
from dropwire.customfields.models import (
    VALUE_MODELS,
    CustomField,
    CustomFieldResource,
    CustomFieldType,
)
from dropwire.customfields.schemas import CustomFieldCreate, CustomFieldEntry, CustomFieldUpdate

MAX_TEXT = 10_000


def get(session: Session, *, field_id: int) -> CustomField:
    field = session.get(CustomField, field_id)
    if field is None:
        raise NotFound("Custom field", field_id)
    return field


def create(session: Session, *, data: CustomFieldCreate) -> CustomField:
    taken = session.scalar(
        select(CustomField.id).where(
            CustomField.resource == data.resource, CustomField.key == data.key
        )
    )
    if taken is not None:
        raise CustomFieldKeyTaken(f"The {data.resource} custom field '{data.key}' exists")
    field = CustomField(
        resource=data.resource,
        key=data.key,
        label=data.label,
        type=data.type,
        help_text=data.help_text,
        options=list(data.options or []),
        vendor_editable=bool(data.vendor_editable),
    )
    session.add(field)
    session.flush()
    return field


def update(session: Session, *, field: CustomField, data: CustomFieldUpdate) -> CustomField:
    changes = data.changes()
    if "options" in changes:
        changes["options"] = list(changes["options"] or [])
        if field.type == CustomFieldType.select and not changes["options"]:
            raise Invalid("options", "a select field needs options")
    for name, value in changes.items():
        setattr(field, name, value)
    session.flush()
    return field


def delete(session: Session, *, field: CustomField) -> None:
    """The definition and every value of it."""
    model, _ = VALUE_MODELS[field.resource]
    session.query(model).filter(model.custom_field_id == field.id).delete()
    session.delete(field)
    session.flush()


def canonical(field: CustomField, value: Any, label: str) -> str:
    """`value` as stored for the field's type (text), or a 422 naming `label`."""

    def refuse(what: str) -> CustomFieldValueInvalid:
        return CustomFieldValueInvalid(label, f"'{field.key}' is a {field.type} field: {what}")

    kind = field.type
    if isinstance(value, (dict, list)):
        raise refuse("expected a single value")
    if kind == CustomFieldType.boolean:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower()
        raise refuse("expected true or false")
    if isinstance(value, bool):
        raise refuse("expected no boolean")
    text = str(value).strip() if isinstance(value, (int, float, str)) else ""
    if kind == CustomFieldType.text:
        if not isinstance(value, (str, int, float)) or len(str(value)) > MAX_TEXT:
            raise refuse(f"expected text of at most {MAX_TEXT} characters")
        return str(value)
    if kind in (CustomFieldType.number, CustomFieldType.integer):
        if isinstance(value, float) and not math.isfinite(value):
            raise refuse("expected a finite number")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise refuse("expected a number") from None
        if not number.is_finite() or abs(number) >= Decimal(10) ** 15:
            raise refuse("expected a finite number below 10^15")
        if kind == CustomFieldType.integer:
            if number != number.to_integral_value():
                raise refuse("expected a whole number")
            return str(int(number))
        return format(number.normalize(), "f")
    if kind == CustomFieldType.date:
        try:
            return date.fromisoformat(text).isoformat()
        except ValueError:
            raise refuse("expected a date YYYY-MM-DD") from None
    if kind == CustomFieldType.datetime:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise refuse("expected an ISO 8601 date and time") from None
        if moment.tzinfo is None:
            raise refuse("expected a time zone (e.g. Z)")
        return moment.isoformat()
    if text not in field.options:  # select
        raise refuse(f"expected one of {', '.join(field.options)}")
    return text


def sync(
    session: Session,
    *,
    resource: CustomFieldResource,
    record_id: int,
    entries: Sequence[CustomFieldEntry],
    vendor_token: bool = False,
) -> list[Any]:
    """Upsert the values by key (null removes one): every entry is checked before any is
    written, so a refused request changes nothing. Answers the record's values."""
    model: Any
    model, column = VALUE_MODELS[resource]
    keys = {entry.key for entry in entries}
    fields = {
        f.key: f
        for f in session.scalars(
            select(CustomField).where(CustomField.resource == resource, CustomField.key.in_(keys))
        )
    }
    planned: dict[int, str | None] = {}
    for index, entry in enumerate(entries):
        label = f"customFields[{index}]"
        field = fields.get(entry.key)
        if field is None:
            raise UnknownCustomField(
                f"{label}.key", f"no {resource} custom field has the key '{entry.key}'"
            )
        if field.id in planned:
            raise Invalid(f"{label}.key", f"'{entry.key}' is named twice")
        if vendor_token and not field.vendor_editable:
            raise Forbidden(f"A vendor token may not write '{entry.key}'", field=f"{label}.key")
        planned[field.id] = (
            None if entry.value is None else canonical(field, entry.value, f"{label}.value")
        )
    owner = getattr(model, column)
    existing = {
        row.custom_field_id: row for row in session.scalars(select(model).where(owner == record_id))
    }
    for field_id, value in planned.items():
        row = existing.get(field_id)
        if value is None:
            if row is not None:
                session.delete(row)
        elif row is None:
            session.add(model(custom_field_id=field_id, value=value, **{column: record_id}))
        elif row.value != value:
            row.value = value
    session.flush()
    return list(session.scalars(select(model).where(owner == record_id).order_by(model.id)))
