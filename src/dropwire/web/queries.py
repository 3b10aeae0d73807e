"""Read-only queries the pages show: lists as column rows (no object loading), dashboard tallies.

Nothing here changes data; every change goes through a domain's service.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from dropwire.apilog.models import ApiLog, LogStatus
from dropwire.catalog.models import ChannelVariant, Variant
from dropwire.channels.models import Channel
from dropwire.delivery.models import Delivery, DeliveryAttempt, DeliveryState
from dropwire.feeds.models import (
    ACTIVE_RUN_STATUSES,
    InventoryFeed,
    InventoryFeedRun,
    InventoryFeedVariant,
    RunStatus,
)
from dropwire.inventory.models import InventoryMovement, Location
from dropwire.jobs.models import Job, JobState
from dropwire.sales.models import (
    CancellationStatus,
    Fulfillment,
    Purchase,
    PurchaseInventoryStatus,
    PurchaseStatus,
    Sale,
    SaleItem,
    SaleReturn,
)
from dropwire.vendors.models import DropshipProvider
from dropwire.web.charts import Chart, hourly_chart
from dropwire.web.tables import AnySelect, Sortable


def _hour(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM-DD HH24")
    return func.strftime("%Y-%m-%d %H", column)


def _like(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class Overview:
    sales_today: int
    value_today: Decimal
    waiting_by_vendor: list[Any]
    failing_runs: list[Any]
    failing_rows: list[Any]
    dead_deliveries: int
    dead_jobs: int
    api_errors: int
    chart: Chart


IN_HOUSE = "In-house warehouse"
"""How a purchase order fulfilled from the merchant's own warehouse is named on the pages."""


def inline(value: str) -> ColumnElement[Any]:
    """A constant written into the statement, not bound: a partial index (`WHERE status =
    'error'`) serves only a query whose condition names the same constant (SQLite's planner,
    and PostgreSQL's generic plan of a prepared statement, cannot see a parameter's value)."""
    if not re.fullmatch(r"[A-Za-z_]+", value):
        raise ValueError(f"not a plain word: {value!r}")
    return literal_column(f"'{value}'")


def _waiting_purchases() -> ColumnElement[bool]:
    return and_(  # as the partial index ix_purchases_waiting is written
        Purchase.inventory_status != inline(PurchaseInventoryStatus.received),
        Purchase.cancellation_status != inline(CancellationStatus.full),
    )


def overview(session: Session, *, now: datetime) -> Overview:
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    since = now - timedelta(hours=24)
    live = Sale.cancellation_status != CancellationStatus.full
    sales_today = session.scalar(
        select(func.count(Sale.id)).where(Sale.created_at >= day_start, live)
    )
    value_today = session.scalar(
        select(
            func.coalesce(
                func.sum(SaleItem.price * (SaleItem.quantity - SaleItem.quantity_cancelled)), 0
            )
        )
        .join(Sale, Sale.id == SaleItem.sale_id)
        .where(Sale.created_at >= day_start, live)
    )
    waiting = session.execute(
        select(
            Purchase.dropship_provider_id.label("id"),
            func.coalesce(DropshipProvider.name, IN_HOUSE).label("name"),
            func.count(Purchase.id).label("count"),
        )
        .outerjoin(DropshipProvider, DropshipProvider.id == Purchase.dropship_provider_id)
        .where(_waiting_purchases())
        .group_by(Purchase.dropship_provider_id, DropshipProvider.name)
        .order_by(func.count(Purchase.id).desc(), func.coalesce(DropshipProvider.name, IN_HOUSE))
    ).all()
    failing = session.execute(
        select(InventoryFeed.id, InventoryFeed.name, func.count(InventoryFeedVariant.id).label("n"))
        .join(InventoryFeedVariant, InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
        .where(InventoryFeedVariant.problem.is_not(None))
        .group_by(InventoryFeed.id, InventoryFeed.name)
        .order_by(func.count(InventoryFeedVariant.id).desc())
    ).all()
    dead_deliveries = session.scalar(
        select(func.count(Delivery.id)).where(Delivery.state == DeliveryState.dead)
    )
    dead_jobs = session.scalar(select(func.count(Job.id)).where(Job.state == JobState.dead))
    errors_24h = session.scalar(
        select(func.count(ApiLog.id)).where(
            ApiLog.status == inline(LogStatus.error), ApiLog.created_at >= since
        )
    )
    sale_hour = _hour(session, Sale.created_at)
    sales_hourly = session.execute(
        select(sale_hour, func.count(Sale.id)).where(Sale.created_at >= since).group_by(sale_hour)
    ).all()
    log_hour = _hour(session, ApiLog.created_at)
    errors_hourly = session.execute(
        select(log_hour, func.count(ApiLog.id))
        .where(ApiLog.status == inline(LogStatus.error), ApiLog.created_at >= since)
        .group_by(log_hour)
    ).all()
    chart = hourly_chart(
        now,
        {
            "sales": {str(k): int(v) for k, v in sales_hourly},
            "api errors": {str(k): int(v) for k, v in errors_hourly},
        },
    )
    return Overview(
        sales_today=int(sales_today or 0),
        value_today=Decimal(value_today or 0),
        waiting_by_vendor=list(waiting),
        failing_runs=failing_runs(session),
        failing_rows=list(failing),
        dead_deliveries=int(dead_deliveries or 0),
        dead_jobs=int(dead_jobs or 0),
        api_errors=int(errors_24h or 0),
        chart=chart,
    )


FAILING_RUN_STATUSES = (RunStatus.failed, RunStatus.partial, RunStatus.held)


def failing_runs(session: Session) -> list[Any]:
    """Each feed whose latest finished run failed, skipped rows or waits for a person."""
    latest = (
        select(func.max(InventoryFeedRun.id).label("id"))
        .where(InventoryFeedRun.status.not_in(ACTIVE_RUN_STATUSES))
        .group_by(InventoryFeedRun.inventory_feed_id)
        .subquery()
    )
    return list(
        session.execute(
            select(
                InventoryFeed.id,
                InventoryFeed.name,
                InventoryFeedRun.id.label("run_id"),
                InventoryFeedRun.status,
                InventoryFeedRun.rows_failed,
                InventoryFeedRun.problem,
                InventoryFeedRun.finished_at,
            )
            .join(latest, latest.c.id == InventoryFeedRun.id)
            .join(InventoryFeed, InventoryFeed.id == InventoryFeedRun.inventory_feed_id)
            .where(InventoryFeedRun.status.in_(FAILING_RUN_STATUSES))
            .order_by(InventoryFeedRun.id.desc())
        ).all()
    )


# --- lists (statements; `tables.table` sorts, counts and pages them) -------------------------


VARIANT_SORT: dict[str, Sortable] = {"sku": Variant.sku, "name": Variant.name, "id": Variant.id}


def starts_with(dialect: str, column: Any, text: str) -> ColumnElement[bool]:
    """`column` begins with `text`, read from an index under any collation: PostgreSQL's
    `LIKE 'x%'` on a `text_pattern_ops` index, SQLite's GLOB on its plain (binary) index."""
    if dialect == "sqlite":
        escaped = "".join(f"[{c}]" if c in "*?[" else c for c in text)
        return column.op("GLOB")(escaped + "*")  # type: ignore[no-any-return]
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.like(escaped + "%", escape="\\")  # type: ignore[no-any-return]


def variants(search: str | None, *, dialect: str, by_name: bool = False) -> AnySelect:
    """Variants whose SKU starts with `search` or whose barcode is it (both indexed);
    `by_name`: whose name contains it (a scan: the page asks only when the first finds none)."""
    stmt: AnySelect = select(Variant.id, Variant.sku, Variant.name, Variant.barcode, Variant.price)
    if search and by_name:
        stmt = stmt.where(func.lower(Variant.name).like(_like(search), escape="\\"))
    elif search:
        stmt = stmt.where(
            or_(
                starts_with(dialect, Variant.sku_key, search.strip().lower()),
                Variant.barcode == search.strip(),
            )
        )
    return stmt


def sale_references(session: Session, *, sale_ids: list[int]) -> dict[int, str]:
    """Sales as people name them (their reference), for pages that hold only ids."""
    if not sale_ids:
        return {}
    rows = session.execute(select(Sale.id, Sale.reference).where(Sale.id.in_(set(sale_ids))))
    return {int(sale_id): str(reference) for sale_id, reference in rows}


def movements(session: Session, *, variant_id: int, limit: int = 15) -> list[Any]:
    return list(
        session.execute(
            select(InventoryMovement, Location.name.label("location"))
            .join(Location, Location.id == InventoryMovement.location_id)
            .where(InventoryMovement.variant_id == variant_id)
            .order_by(InventoryMovement.id.desc())
            .limit(limit)
        ).all()
    )


SALE_CHANNEL = select(Channel.name).where(Channel.id == Sale.channel_id).scalar_subquery()
"""A sale's channel's name, read for the page's rows only: joined, SQLite's planner (given
statistics) read a channel's sales through the channel index and sorted them all for a page
(10 -> 67 ms at 100,000 sales) instead of reading the newest by id."""

SALE_SORT: dict[str, Sortable] = {
    "id": Sale.id,
    "reference": Sale.reference,
    "created": Sale.created_at,
    "status": Sale.inventory_status,
    "channel": SALE_CHANNEL,
}


def sales(
    *,
    search: str | None,
    status: str | None,
    cancellation: str | None,
    channel_id: int | None,
) -> AnySelect:
    stmt: AnySelect = select(
        Sale.id,
        Sale.reference,
        Sale.external_id,
        Sale.inventory_status,
        Sale.cancellation_status,
        Sale.payment_status,
        Sale.created_at,
        SALE_CHANNEL.label("channel"),
    )
    if search:
        stmt = stmt.where(or_(Sale.reference == search.strip(), Sale.external_id == search.strip()))
    if status:
        stmt = stmt.where(Sale.inventory_status == status)
    if cancellation:
        stmt = stmt.where(Sale.cancellation_status == cancellation)
    if channel_id:
        stmt = stmt.where(Sale.channel_id == channel_id)
    return stmt


PURCHASE_SORT: dict[str, Sortable] = {
    "id": Purchase.id,
    "reference": Purchase.external_reference,
    "created": Purchase.created_at,
    "status": Purchase.inventory_status,
    "vendor": DropshipProvider.name,
}


def purchases(
    *,
    vendor_id: int | None,
    status: str | None,
    waiting_only: bool = False,
    search: str | None = None,
    in_house: bool = False,
) -> AnySelect:
    stmt: AnySelect = (
        select(
            Purchase.id,
            Purchase.external_reference,
            Purchase.inventory_status,
            Purchase.cancellation_status,
            Purchase.created_at,
            Purchase.sale_id,
            Purchase.warehouse_id,
            DropshipProvider.name.label("vendor"),
            # read for the page's rows only: counting and filtering never touch the sales
            select(Sale.reference)
            .where(Sale.id == Purchase.sale_id)
            .scalar_subquery()
            .label("sale_reference"),
        )
        .select_from(Purchase)
        .outerjoin(DropshipProvider, DropshipProvider.id == Purchase.dropship_provider_id)
    )
    if vendor_id:
        stmt = stmt.where(Purchase.dropship_provider_id == vendor_id)
    if in_house:
        stmt = stmt.where(Purchase.dropship_provider_id.is_(None))
    if status:
        stmt = stmt.where(Purchase.inventory_status == status)
    if waiting_only:
        stmt = stmt.where(_waiting_purchases())
    if search:
        stmt = stmt.where(Purchase.external_reference == search.strip())
    return stmt


def fulfillments_of(session: Session, *, purchase_id: int) -> list[Fulfillment]:
    return list(
        session.scalars(
            select(Fulfillment)
            .where(Fulfillment.purchase_id == purchase_id)
            .order_by(Fulfillment.id)
        )
    )


def purchase_statuses(session: Session) -> dict[int, PurchaseStatus]:
    """The merchant's purchase statuses by id (a handful), to name each order's status."""
    return {row.id: row for row in session.scalars(select(PurchaseStatus))}


def returns_of(session: Session, *, sale_id: int) -> list[SaleReturn]:
    return list(
        session.scalars(
            select(SaleReturn).where(SaleReturn.sale_id == sale_id).order_by(SaleReturn.id)
        )
    )


def vendor_names(session: Session, *, accepted_only: bool = False) -> list[Any]:
    from dropwire.vendors.models import VendorStatus

    stmt: AnySelect = select(DropshipProvider.id, DropshipProvider.name).order_by(
        DropshipProvider.name
    )
    if accepted_only:
        stmt = stmt.where(DropshipProvider.status == VendorStatus.accepted)
    return list(session.execute(stmt).all())


VENDOR_SORT: dict[str, Sortable] = {
    "name": DropshipProvider.name,
    "id": DropshipProvider.id,
    "priority": DropshipProvider.priority,
}


def vendors() -> AnySelect:
    feeds = (
        select(func.count(InventoryFeed.id))
        .where(InventoryFeed.dropship_provider_id == DropshipProvider.id)
        .scalar_subquery()
    )
    waiting = (
        select(func.count(Purchase.id))
        .where(Purchase.dropship_provider_id == DropshipProvider.id, _waiting_purchases())
        .scalar_subquery()
    )
    return select(
        DropshipProvider.id,
        DropshipProvider.name,
        DropshipProvider.status,
        DropshipProvider.priority,
        DropshipProvider.email,
        DropshipProvider.country_filter,
        DropshipProvider.countries,
        DropshipProvider.order_splitting,
        feeds.label("feeds"),
        waiting.label("waiting"),
    )


FEED_SORT: dict[str, Sortable] = {
    "name": InventoryFeed.name,
    "id": InventoryFeed.id,
    "vendor": DropshipProvider.name,
}


FEED_ITEMS_COUNTED = 1000
"""The feeds page counts each feed's items up to this many and shows more as "1,000+" (a
feed of 250,000 items would cost a scan of them per row; the feed's own page counts further)."""


def feeds(vendor_id: int | None = None) -> AnySelect:
    first_items = (
        select(InventoryFeedVariant.id)
        .where(InventoryFeedVariant.inventory_feed_id == InventoryFeed.id)
        .limit(FEED_ITEMS_COUNTED + 1)
        .correlate(InventoryFeed)
        .subquery()
    )
    items = select(func.count()).select_from(first_items).scalar_subquery()
    problems = (
        select(func.count(InventoryFeedVariant.id))
        .where(
            InventoryFeedVariant.inventory_feed_id == InventoryFeed.id,
            InventoryFeedVariant.problem.is_not(None),
        )
        .scalar_subquery()
    )
    last_run = (
        select(InventoryFeedRun.status)
        .where(InventoryFeedRun.inventory_feed_id == InventoryFeed.id)
        .order_by(InventoryFeedRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    stmt: AnySelect = select(
        InventoryFeed.id,
        InventoryFeed.name,
        InventoryFeed.resource_type,
        InventoryFeed.fetch_frequency,
        InventoryFeed.enabled,
        DropshipProvider.name.label("vendor"),
        items.label("items"),
        problems.label("problems"),
        last_run.label("last_run"),
    ).join(DropshipProvider, DropshipProvider.id == InventoryFeed.dropship_provider_id)
    if vendor_id is not None:
        stmt = stmt.where(InventoryFeed.dropship_provider_id == vendor_id)
    return stmt


RUN_SORT: dict[str, Sortable] = {
    "id": InventoryFeedRun.id,
    "status": InventoryFeedRun.status,
    "read": InventoryFeedRun.rows_read,
    "failed": InventoryFeedRun.rows_failed,
}


def feed_runs(feed_id: int) -> AnySelect:
    """A feed's runs without their row errors (those are read on the run's own page)."""
    return select(
        InventoryFeedRun.id,
        InventoryFeedRun.status,
        InventoryFeedRun.trigger,
        InventoryFeedRun.approved,
        InventoryFeedRun.bytes,
        InventoryFeedRun.rows_read,
        InventoryFeedRun.rows_created,
        InventoryFeedRun.rows_updated,
        InventoryFeedRun.rows_unchanged,
        InventoryFeedRun.rows_failed,
        InventoryFeedRun.rows_cleaned,
        InventoryFeedRun.problem,
        InventoryFeedRun.created_at,
        InventoryFeedRun.started_at,
        InventoryFeedRun.finished_at,
    ).where(InventoryFeedRun.inventory_feed_id == feed_id)


FEED_ITEM_SORT: dict[str, Sortable] = {
    # the SKU as matched (lower case): a feed's items in that order are one index range
    "sku": InventoryFeedVariant.vendor_sku_key,
    "quantity": InventoryFeedVariant.inventory_quantity,
    "updated": InventoryFeedVariant.inventory_updated_at,
    "id": InventoryFeedVariant.id,
}


def feed_items(
    *,
    dialect: str,
    feed_id: int | None = None,
    vendor_id: int | None = None,
    search: str | None = None,
    problems_only: bool = False,
) -> AnySelect:
    # the variant's SKU and the feed's name are read for the page's rows only (subqueries, not
    # joins): counting the matches reads one index of the items alone
    stmt: AnySelect = select(
        InventoryFeedVariant.id,
        InventoryFeedVariant.inventory_feed_id,
        InventoryFeedVariant.external_id,
        InventoryFeedVariant.vendor_sku,
        InventoryFeedVariant.name,
        InventoryFeedVariant.inventory_quantity,
        InventoryFeedVariant.cost_price,
        InventoryFeedVariant.inventory_updated_at,
        InventoryFeedVariant.problem,
        InventoryFeedVariant.variant_id,
        select(Variant.sku)
        .where(Variant.id == InventoryFeedVariant.variant_id)
        .scalar_subquery()
        .label("variant_sku"),
        select(InventoryFeed.name)
        .where(InventoryFeed.id == InventoryFeedVariant.inventory_feed_id)
        .scalar_subquery()
        .label("feed"),
    )
    if feed_id is not None:
        stmt = stmt.where(InventoryFeedVariant.inventory_feed_id == feed_id)
    if vendor_id is not None:
        stmt = stmt.where(
            InventoryFeedVariant.inventory_feed_id.in_(
                select(InventoryFeed.id).where(InventoryFeed.dropship_provider_id == vendor_id)
            )
        )
    if search:  # by the start of the vendor's SKU, from an index
        stmt = stmt.where(
            starts_with(dialect, InventoryFeedVariant.vendor_sku_key, search.strip().lower())
        )
    if problems_only:
        stmt = stmt.where(InventoryFeedVariant.problem.is_not(None))
    return stmt


API_LOG_SORT: dict[str, Sortable] = {
    "id": ApiLog.id,
    "created": ApiLog.created_at,
    "status": ApiLog.http_status,
}


def api_logs(*, status: str | None, direction: str | None) -> AnySelect:
    """The log (the page shows errors first unless the visitor sorts or filters otherwise)."""
    stmt: AnySelect = select(
        ApiLog.id,
        ApiLog.direction,
        ApiLog.method,
        ApiLog.endpoint,
        ApiLog.status,
        ApiLog.http_status,
        ApiLog.problem,
        ApiLog.api_user_name,
        ApiLog.kind,
        ApiLog.duration_ms,
        ApiLog.created_at,
    )
    if status:
        stmt = stmt.where(ApiLog.status == status)
    if direction:
        stmt = stmt.where(ApiLog.direction == direction)
    return stmt


API_LOG_ERROR = ApiLog.status == inline(LogStatus.error)


DELIVERY_SORT: dict[str, Sortable] = {
    "id": Delivery.id,
    "next": Delivery.next_attempt_at,
    "state": Delivery.state,
}


def deliveries(*, state: str | None, event: str | None) -> AnySelect:
    tried = (
        select(func.count(DeliveryAttempt.id))
        .where(DeliveryAttempt.delivery_id == Delivery.id)
        .scalar_subquery()
    )
    stmt: AnySelect = select(
        Delivery.id,
        Delivery.event,
        Delivery.url,
        Delivery.state,
        tried.label("attempts"),
        Delivery.last_status,
        Delivery.last_error,
        Delivery.next_attempt_at,
        Delivery.subject_type,
        Delivery.subject_id,
    )
    if state:
        stmt = stmt.where(Delivery.state == state)
    if event:
        stmt = stmt.where(Delivery.event == event)
    return stmt


FINISHED_DELIVERY_STATES = frozenset(
    {DeliveryState.delivered, DeliveryState.dead, DeliveryState.disabled}
)
"""States with no next attempt to show."""


@dataclass(frozen=True)
class Subject:
    """What a delivery is about, as a person names it (a reference, a SKU) and where it lives."""

    kind: str
    name: str
    href: str | None


_SUBJECTS: dict[str, tuple[str, Any, Any, str | None]] = {
    # subject type -> (word, id column, name column, page)
    "purchase": ("purchase order", Purchase.id, Purchase.external_reference, "/purchases/{}"),
    "sale": ("sale", Sale.id, Sale.reference, "/sales/{}"),
    "fulfillment": ("fulfillment", Fulfillment.id, Fulfillment.reference, None),
    "sale_return": ("return", SaleReturn.id, SaleReturn.reference, None),
    "channel_variant": ("listing", ChannelVariant.id, Variant.sku, None),
}


def delivery_subjects(session: Session, rows: list[Any]) -> dict[tuple[str, int], Subject]:
    """The subjects of a page of deliveries: one small query per subject type on the page."""
    wanted: dict[str, set[int]] = {}
    for row in rows:
        wanted.setdefault(row.subject_type, set()).add(row.subject_id)
    named: dict[tuple[str, int], Subject] = {}
    for subject_type, ids in wanted.items():
        if subject_type not in _SUBJECTS:
            continue
        word, id_column, name_column, page = _SUBJECTS[subject_type]
        stmt = select(id_column, name_column).where(id_column.in_(ids))
        if subject_type == "channel_variant":
            stmt = stmt.join(Variant, Variant.id == ChannelVariant.variant_id)
        for subject_id, name in session.execute(stmt):
            href = page.format(subject_id) if page else None
            named[(subject_type, subject_id)] = Subject(word, str(name), href)
    return named


def delivery_attempts(session: Session, *, delivery_id: int) -> list[DeliveryAttempt]:
    return list(
        session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.delivery_id == delivery_id)
            .order_by(DeliveryAttempt.id.desc())
        )
    )


JOB_SORT: dict[str, Sortable] = {
    "id": Job.id,
    "run_at": Job.run_at,
    "kind": Job.kind,
    "state": Job.state,
}


def jobs(*, state: str | None, kind: str | None) -> AnySelect:
    stmt: AnySelect = select(
        Job.id,
        Job.kind,
        Job.state,
        Job.attempts,
        Job.max_attempts,
        Job.run_at,
        Job.last_error,
        Job.finished_at,
    )
    if state:
        stmt = stmt.where(Job.state == state)
    if kind:
        stmt = stmt.where(Job.kind == kind)
    return stmt
