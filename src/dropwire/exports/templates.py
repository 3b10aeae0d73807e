"""API templates (Onport's): a column mapping over sales, sale items, purchase orders or their
items, run as a queued export with a list's filters, downloaded through data exports.

`POST /templates/{id}/export.json` takes `{"where": {...}, "dateFrom", "dateTo"}` — the where is
a list's (`{"dropshipProviderId": 4, "status": {"$in": [...]}}`), checked when the export is
asked for (a bad filter is a 422 naming it), run by the worker.
"""

import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, select
from sqlalchemy.orm import Session, undefer

from dropwire.core.errors import Invalid, NotFound
from dropwire.exports.models import (
    ApiTemplate,
    DataExport,
    ExportStatus,
    TemplateFormat,
    TemplateResource,
)
from dropwire.exports.schemas import TemplateColumn, TemplateCreate, TemplateExport, TemplateUpdate
from dropwire.http.includes import dump, wire_names
from dropwire.http.listing import apply_filters, fields_of, parse_list_query
from dropwire.jobs.service import enqueue
from dropwire.sales.endpoints import (
    PURCHASE_FILTERS,
    SALE_FILTERS,
    SALE_ITEM_FILTERS,
)
from dropwire.sales.models import Purchase, PurchaseItem, Sale, SaleItem
from dropwire.sales.schemas import PurchaseAdminRead, PurchaseItemRead, SaleItemRead, SaleRead

CHUNK = 500
TEMPLATE = "template"


@dataclass(frozen=True)
class Source:
    model: Any
    statement: Callable[[], Select[Any]]
    filters: dict[str, Any]
    read: type[BaseModel]


SOURCES: dict[TemplateResource, Source] = {
    TemplateResource.sale: Source(Sale, lambda: select(Sale), SALE_FILTERS, SaleRead),
    TemplateResource.sale_item: Source(
        SaleItem, lambda: select(SaleItem), SALE_ITEM_FILTERS, SaleItemRead
    ),
    TemplateResource.purchase: Source(
        Purchase,
        lambda: select(Purchase).options(
            undefer(Purchase.sale_defaults), undefer(Purchase.sale_currency)
        ),
        PURCHASE_FILTERS,
        PurchaseAdminRead,
    ),
    TemplateResource.purchase_item: Source(
        PurchaseItem,
        lambda: select(PurchaseItem),
        fields_of(
            PurchaseItem,
            "id",
            "purchase_id",
            "sale_item_id",
            "variant_id",
            "quantity",
            "quantity_shipped",
            "quantity_cancelled",
            "cost_price",
            "created_at",
        ),
        PurchaseItemRead,
    ),
}


def _columns(
    resource: TemplateResource, columns: list[TemplateColumn | str]
) -> list[dict[str, str]]:
    shown = set(wire_names(SOURCES[resource].read))
    found = []
    for index, column in enumerate(columns):
        spec = TemplateColumn(field=column) if isinstance(column, str) else column
        if spec.field.split(".", 1)[0] not in shown:
            label = f"columns[{index}]" + ("" if isinstance(column, str) else ".field")
            raise Invalid(label, f"a {resource} has no field '{spec.field}'")
        found.append({"field": spec.field, "header": spec.header or spec.field})
    return found


def get(session: Session, *, template_id: int) -> ApiTemplate:
    template = session.get(ApiTemplate, template_id)
    if template is None:
        raise NotFound("Template", template_id)
    return template


def create(session: Session, *, data: TemplateCreate) -> ApiTemplate:
    template = ApiTemplate(
        name=data.name,
        resource=data.resource,
        format=data.format or TemplateFormat.csv,
        columns=_columns(data.resource, data.columns),
    )
    session.add(template)
    session.flush()
    return template


def update(session: Session, *, template: ApiTemplate, data: TemplateUpdate) -> ApiTemplate:
    changes = data.changes()
    if changes.get("columns") is not None:
        changes["columns"] = _columns(template.resource, data.columns or [])
    for name, value in changes.items():
        if value is not None:
            setattr(template, name, value)
    session.flush()
    return template


def delete(session: Session, *, template: ApiTemplate) -> None:
    session.delete(template)
    session.flush()


def _pairs(value: Any, prefix: str) -> Iterator[tuple[str, str]]:
    """A JSON where as the query parameters a list reads (what `qs.stringify` would send)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _pairs(item, f"{prefix}[{key}]")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _pairs(item, f"{prefix}[{index}]")
    elif value is None:
        yield prefix, ""
    elif isinstance(value, bool):
        yield prefix, "true" if value else "false"
    else:
        yield prefix, str(value)


def _statement(source: Source, filters: dict[str, Any], dialect: str) -> Select[Any]:
    query = parse_list_query(list(_pairs(filters.get("where") or {}, "where")), 1000, 0)
    statement = apply_filters(source.statement(), query, source.filters, dialect)
    created = source.model.created_at
    if filters.get("dateFrom"):
        statement = statement.where(created >= datetime.fromisoformat(filters["dateFrom"]))
    if filters.get("dateTo"):
        statement = statement.where(created < datetime.fromisoformat(filters["dateTo"]))
    return statement


def export(session: Session, *, template: ApiTemplate, data: TemplateExport) -> DataExport:
    """Check the filters and queue the export (answered at once, status pending)."""
    filters = {
        "where": data.where or {},
        "dateFrom": data.date_from.isoformat() if data.date_from else None,
        "dateTo": data.date_to.isoformat() if data.date_to else None,
        "resource": template.resource,
        "format": template.format,
        "columns": template.columns,
    }
    _statement(SOURCES[template.resource], filters, session.get_bind().dialect.name)
    record = DataExport(
        export_type=TEMPLATE,
        status=ExportStatus.pending,
        template_id=template.id,
        filters=filters,
        content_type="application/json" if template.format == TemplateFormat.json else "text/csv",
    )
    session.add(record)
    session.flush()
    enqueue(session, kind="exports.render", payload={"exportId": record.id})
    return record


def _value(row: dict[str, Any], path: str) -> Any:
    value: Any = row
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def render(session: Session, *, export: DataExport) -> None:
    """Write the template's file (the rows in id order, read in chunks)."""
    filters = export.filters or {}
    source = SOURCES[TemplateResource(filters["resource"])]
    columns: list[dict[str, str]] = filters["columns"]
    statement = _statement(source, filters, session.get_bind().dialect.name)
    rows: list[list[Any]] = []
    last = 0
    while True:
        chunk = list(
            session.scalars(
                statement.where(source.model.id > last).order_by(source.model.id).limit(CHUNK)
            )
        )
        for record in chunk:
            dumped = dump(source.read, record)
            rows.append([_value(dumped, column["field"]) for column in columns])
        if len(chunk) < CHUNK:
            break
        last = chunk[-1].id
    headers = [column["header"] for column in columns]
    if filters["format"] == TemplateFormat.json:
        export.content = json.dumps([dict(zip(headers, row, strict=True)) for row in rows])
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_cell(value) for value in row])
        export.content = buffer.getvalue()
    export.rows = len(rows)
