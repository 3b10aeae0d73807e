"""Data imports: a CSV checked on arrival (its header), queued, then applied row by row.

Each row is applied in its own savepoint: a refused row (a bad value, an unknown SKU, a rule of
the domain) changes nothing and is reported (`errors`, and the downloadable report of refused
rows with their `error`); the other rows are applied.

- `cost_prices` (one inventory feed): `vendor_sku`, `cost_price` — the cost price of the feed's
  item with that vendor SKU.
- `variants`: `sku` and any of `name`, `barcode`, `price`, `cost_price`, `grams`,
  `inventory_policy`, `tags` (comma-separated) — the catalog variant with that SKU is updated,
  or created (then `name` is required). An empty cell leaves the field as it is.
"""

import csv
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError
from pydantic.alias_generators import to_camel, to_snake
from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal
from dropwire.catalog import service as catalog
from dropwire.catalog.schemas import VariantCreate, VariantUpdate
from dropwire.core import csv_reader
from dropwire.core.errors import DomainError, Forbidden, Invalid
from dropwire.core.schemas import MONEY_MAX
from dropwire.core.time import utcnow
from dropwire.feeds.models import InventoryFeed, InventoryFeedVariant
from dropwire.feeds.queries import get_feed
from dropwire.feeds.upsert import feed_sku_key
from dropwire.imports.models import DataImport, ImportStatus, ImportType
from dropwire.imports.schemas import DataImportCreate
from dropwire.jobs.registry import JobKind
from dropwire.jobs.service import enqueue

MAX_ROWS = 50_000
MAX_ERRORS = 100
COLUMNS: dict[ImportType, tuple[frozenset[str], frozenset[str]]] = {
    # (required, optional)
    ImportType.cost_prices: (frozenset({"vendor_sku", "cost_price"}), frozenset()),
    ImportType.variants: (
        frozenset({"sku"}),
        frozenset({"name", "barcode", "price", "cost_price", "grams", "inventory_policy", "tags"}),
    ),
}


class RowRefused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _column(name: str) -> str:
    """A header cell as a column name: `Vendor SKU`, `vendorSku`, `vendor_sku` alike."""
    return to_snake(name.strip().replace(" ", "_").replace("-", "_")).lower()


def _rows(content: str) -> Any:
    """A CSV reader of the text (its `line_num` is the line a row ended on)."""
    return csv_reader.reader(io.StringIO(content.lstrip("\ufeff")))


def _header(content: str, import_type: ImportType) -> list[str]:
    try:
        header = next(_rows(content), None)
    except csv.Error as exc:
        raise Invalid("content", f"not a CSV file: {exc}") from None
    if not header:
        raise Invalid("content", "the file has no header row")
    columns = [_column(cell) for cell in header]
    required, optional = COLUMNS[import_type]
    missing = sorted(required - set(columns))
    if missing:
        raise Invalid("content", f"the header lacks the column {', '.join(missing)}")
    unknown = [c for c in columns if c not in required | optional]
    if unknown:
        known = ", ".join(sorted(required | optional))
        raise Invalid("content", f"unknown column '{unknown[0]}'; known: {known}")
    if len(set(columns)) != len(columns):
        raise Invalid("content", "a column is named twice")
    return columns


def create(session: Session, *, data: DataImportCreate, principal: Principal) -> DataImport:
    """Check the header and queue the import (answered at once, status pending)."""
    _header(data.content, data.import_type)
    vendor_id: int | None = None
    if data.import_type == ImportType.variants and not principal.is_admin:
        raise Forbidden("A vendor token may not import catalog variants", field="importType")
    if data.inventory_feed_id is not None:
        feed = get_feed(session, feed_id=data.inventory_feed_id, principal=principal)
        vendor_id = feed.dropship_provider_id
    record = DataImport(
        import_type=data.import_type,
        status=ImportStatus.pending,
        inventory_feed_id=data.inventory_feed_id,
        dropship_provider_id=vendor_id,
        file_name=data.file_name,
        content=data.content,
        errors=[],
    )
    session.add(record)
    session.flush()
    enqueue(session, kind="imports.apply", payload={"importId": record.id})
    return record


def _money(raw: str, field: str) -> Decimal:
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise RowRefused(field, f"'{raw}' is not an amount") from None
    if not value.is_finite() or value < 0 or value > MONEY_MAX:
        raise RowRefused(field, f"'{raw}' is not an amount from 0 to {MONEY_MAX}")
    if value != value.quantize(Decimal("0.01")):
        raise RowRefused(field, f"'{raw}' has more than 2 decimals")
    return value


def _cost_price(session: Session, record: DataImport, row: dict[str, str]) -> None:
    sku = row.get("vendor_sku", "").strip()
    if not sku:
        raise RowRefused("vendor_sku", "empty")
    price = _money(row.get("cost_price", ""), "cost_price")
    feed = session.get(InventoryFeed, record.inventory_feed_id)
    if feed is None:
        raise RowRefused("inventory_feed_id", "the inventory feed no longer exists")
    item = session.scalars(
        select(InventoryFeedVariant)
        .where(
            InventoryFeedVariant.inventory_feed_id == record.inventory_feed_id,
            InventoryFeedVariant.vendor_sku_key == feed_sku_key(feed, sku),
        )
        .order_by(InventoryFeedVariant.id)
        .limit(1)
    ).first()
    if item is None:
        raise RowRefused("vendor_sku", f"the feed has no item '{sku}'")
    item.cost_price = price
    session.flush()


def _variant(session: Session, row: dict[str, str]) -> None:
    values: dict[str, Any] = {
        to_camel(name): value.strip() for name, value in row.items() if value.strip()
    }
    sku = values.get("sku")
    if not sku:
        raise RowRefused("sku", "empty")
    if "tags" in values:
        values["tags"] = [tag.strip() for tag in values["tags"].split(",") if tag.strip()]
    existing = catalog.find_variant_by_sku(session, sku=sku)
    try:
        if existing is None:
            catalog.create_variant(session, data=VariantCreate.model_validate(values))
        else:
            values.pop("sku")
            data = VariantUpdate.model_validate(values)
            catalog.update_variant(session, variant=existing, data=data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = to_snake(str(first["loc"][0])) if first["loc"] else "row"
        raise RowRefused(field, first["msg"]) from None


def _problem_of(exc: DomainError) -> tuple[str, str]:
    if exc.errors:
        return to_snake(exc.errors[0].field or "row"), exc.errors[0].message
    return "row", str(exc)


def apply(session: Session, payload: dict[str, Any]) -> None:
    record = session.get(DataImport, payload["importId"])
    if record is None or record.status not in (ImportStatus.pending, ImportStatus.processing):
        return  # deleted with its feed, or applied already
    record.status = ImportStatus.processing
    record.started_at = utcnow()
    rows = _rows(record.content)
    header = next(rows)
    columns = [_column(cell) for cell in header]
    errors: list[dict[str, Any]] = []
    report = io.StringIO()
    writer = csv.writer(report)
    writer.writerow([*header, "error"])
    read = applied = failed = 0
    try:
        for cells in rows:
            line = rows.line_num
            if not any(cell.strip() for cell in cells):
                continue
            read += 1
            if read > MAX_ROWS:
                record.problem = f"only the first {MAX_ROWS} rows were read"
                read -= 1
                break
            try:
                if len(cells) != len(columns):
                    raise RowRefused("row", f"{len(cells)} cells for {len(columns)} columns")
                row = dict(zip(columns, cells, strict=True))
                with session.begin_nested():
                    if record.import_type == ImportType.cost_prices:
                        _cost_price(session, record, row)
                    else:
                        _variant(session, row)
                applied += 1
            except (RowRefused, DomainError) as exc:
                field, message = (
                    (exc.field, exc.message) if isinstance(exc, RowRefused) else _problem_of(exc)
                )
                failed += 1
                if len(errors) < MAX_ERRORS:
                    errors.append({"row": line, "field": field, "message": message})
                writer.writerow([*cells, f"{field}: {message}"])
    except csv.Error as exc:  # a malformed line ends the reading; the rows before it stand
        failed += 1
        problem = f"the file cannot be read from here on: {exc}"
        errors.append({"row": rows.line_num, "field": "row", "message": problem})
        record.problem = f"line {rows.line_num}: {problem}"
    record.rows_read, record.rows_applied, record.rows_failed = read, applied, failed
    record.errors = errors
    record.report = report.getvalue() if failed else None
    record.status = (
        ImportStatus.complete
        if not failed
        else ImportStatus.partial
        if applied
        else ImportStatus.failed
    )
    record.completed_at = utcnow()


APPLY_IMPORT = JobKind("imports.apply", apply)
