"""The dashboard's lists, each defined once: which rows its URL's filters select (for whom), how
it sorts, and what its CSV export holds. The list page and its "Download CSV" both start here,
so an export always has the page's filters, sort and scope (a vendor user's lists are its own
vendor's rows only, whatever the URL says).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from starlette.datastructures import QueryParams
from starlette.requests import Request

from dropwire.apilog.models import ApiLog
from dropwire.auth.models import ApiUser, User
from dropwire.catalog.service import stock_totals
from dropwire.core.errors import Invalid
from dropwire.mail.models import EmailMessage
from dropwire.sales.models import Purchase, Sale
from dropwire.vendors.models import DropshipProvider
from dropwire.web import queries
from dropwire.web.formatting import label, viewer_zone
from dropwire.web.sessions import Visitor
from dropwire.web.tables import AnySelect, Sortable, Table, table

Row = Any
Extra = Any
Value = Callable[[Row, Extra], object]


@dataclass(frozen=True)
class Scope:
    """Who reads the list: an admin (None) or one vendor, and the time zone dates are read in."""

    vendor_id: int | None
    zone: ZoneInfo


@dataclass(frozen=True)
class Listing:
    """One list: `rows` turns the URL's filters into a statement (raising `Invalid` naming the
    filter for a value it cannot read), `columns` are its sortable columns, `csv` its export's
    columns as (header, value of a row). `per_batch` reads what a batch of rows needs besides their
    own columns (stock totals, what a delivery is about), once per batch."""

    name: str
    rows: Callable[[Session, QueryParams, Scope], AnySelect]
    columns: dict[str, Sortable]
    default: str
    tiebreak: Sortable
    csv: Sequence[tuple[str, Value]]
    per_batch: Callable[[Session, list[Row]], Extra] = field(default=lambda _s, _r: None)


# --- reading the URL's filters ------------------------------------------------------------


def text_param(query: QueryParams, name: str) -> str | None:
    return (query.get(name) or "").strip() or None


def int_param(query: QueryParams, name: str) -> int | None:
    value = query.get(name, "")
    return int(value) if value.isdigit() and len(value) < 10 else None


def _date_param(query: QueryParams, name: str) -> date | None:
    text = text_param(query, name)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(name, f"{name!r} must be a date (YYYY-MM-DD), not {text[:40]!r}") from None


def day_bounds(
    start: date | None, end: date | None, zone: ZoneInfo
) -> tuple[datetime | None, datetime | None]:
    """The moments a range of whole days covers in `zone`: from the first day's midnight there
    (inclusive) to the midnight after the last day (exclusive), as UTC."""
    since = datetime.combine(start, time.min, tzinfo=zone) if start else None
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone) if end else None
    return since, until


def date_range(query: QueryParams, column: Any, zone: ZoneInfo) -> list[ColumnElement[bool]]:
    """The list's `from`/`to` filter (days in the viewer's time zone, both included) on
    `column`, an indexed moment column."""
    start, end = _date_param(query, "from"), _date_param(query, "to")
    if start and end and end < start:
        raise Invalid("to", "'to' is before 'from'")
    since, until = day_bounds(start, end, zone)
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(column >= since)
    if until is not None:
        conditions.append(column < until)
    return conditions


# --- CSV cells ----------------------------------------------------------------------------


def col(name: str) -> Value:
    return lambda row, _extra: getattr(row, name)


def labelled(name: str) -> Value:
    return lambda row, _extra: label(getattr(row, name))


# --- the lists ----------------------------------------------------------------------------


def _sales(_session: Session, query: QueryParams, scope: Scope) -> AnySelect:
    stmt = queries.sales(
        search=text_param(query, "q"),
        status=text_param(query, "status"),
        cancellation=text_param(query, "cancellation"),
        channel_id=int_param(query, "channel"),
    )
    return stmt.where(*date_range(query, Sale.created_at, scope.zone))


SALES = Listing(
    name="sales",
    rows=_sales,
    columns=queries.SALE_SORT,
    default="id",
    tiebreak=queries.SALE_SORT["id"],
    csv=(
        ("Reference", col("reference")),
        ("Channel", col("channel")),
        ("External id", col("external_id")),
        ("Shipping", labelled("inventory_status")),
        ("Cancellation", labelled("cancellation_status")),
        ("Payment", labelled("payment_status")),
        ("Created", col("created_at")),
    ),
)


def _purchases(_session: Session, query: QueryParams, scope: Scope) -> AnySelect:
    vendor = query.get("vendor")
    stmt = queries.purchases(
        vendor_id=scope.vendor_id or int_param(query, "vendor"),
        status=text_param(query, "status"),
        waiting_only=query.get("waiting") == "1",
        search=text_param(query, "q"),
        in_house=scope.vendor_id is None and vendor == "in-house",
    )
    return stmt.where(*date_range(query, Purchase.created_at, scope.zone))


PURCHASES = Listing(
    name="purchase-orders",
    rows=_purchases,
    columns=queries.PURCHASE_SORT,
    default="id",
    tiebreak=queries.PURCHASE_SORT["id"],
    csv=(
        ("Reference", col("external_reference")),
        ("Sale", col("sale_reference")),
        ("Vendor", lambda row, _: row.vendor or queries.IN_HOUSE),
        ("Shipping", labelled("inventory_status")),
        ("Cancellation", labelled("cancellation_status")),
        ("Created", col("created_at")),
    ),
)
VENDOR_PURCHASES = Listing(
    name="purchase-orders",
    rows=_purchases,
    columns=queries.PURCHASE_SORT,
    default="id",
    tiebreak=queries.PURCHASE_SORT["id"],
    csv=(
        ("Reference", col("external_reference")),
        ("Shipping", labelled("inventory_status")),
        ("Cancellation", labelled("cancellation_status")),
        ("Received", col("created_at")),
    ),
)


def _variants(session: Session, query: QueryParams, _scope: Scope) -> AnySelect:
    """By SKU start or barcode; when neither matches anything, by name (as the page does)."""
    search = text_param(query, "q")
    dialect = session.get_bind().dialect.name
    stmt = queries.variants(search, dialect=dialect)
    if search and not session.scalar(select(exists(stmt.subquery().select()))):
        stmt = queries.variants(search, dialect=dialect, by_name=True)
    return stmt


def _totals(session: Session, rows: list[Row]) -> dict[int, tuple[int, int]]:
    return stock_totals(session, variant_ids=[row.id for row in rows])


INVENTORY = Listing(
    name="inventory",
    rows=_variants,
    columns=queries.VARIANT_SORT,
    default="sku",
    tiebreak=queries.VARIANT_SORT["id"],
    csv=(
        ("SKU", col("sku")),
        ("Name", col("name")),
        ("Barcode", col("barcode")),
        ("Price", col("price")),
        ("Stocked", lambda row, totals: totals.get(row.id, (0, 0))[0]),
        ("Allocated", lambda row, totals: totals.get(row.id, (0, 0))[1]),
        ("Available", lambda row, totals: (lambda t: t[0] - t[1])(totals.get(row.id, (0, 0)))),
    ),
    per_batch=_totals,
)

VENDORS = Listing(
    name="vendors",
    rows=lambda _session, _query, _scope: queries.vendors(),
    columns=queries.VENDOR_SORT,
    default="name",
    tiebreak=queries.VENDOR_SORT["id"],
    csv=(
        ("Name", col("name")),
        ("Status", labelled("status")),
        ("Priority", col("priority")),
        ("Email", col("email")),
        ("Countries", lambda row, _: " ".join(row.countries or [])),
        ("Order splitting", labelled("order_splitting")),
        ("Feeds", col("feeds")),
        ("Purchase orders waiting", col("waiting")),
    ),
)


def _feeds(_session: Session, query: QueryParams, scope: Scope) -> AnySelect:
    return queries.feeds(scope.vendor_id or int_param(query, "vendor"))


FEEDS = Listing(
    name="feeds",
    rows=_feeds,
    columns=queries.FEED_SORT,
    default="name",
    tiebreak=queries.FEED_SORT["id"],
    csv=(
        ("Name", col("name")),
        ("Vendor", col("vendor")),
        ("File type", labelled("resource_type")),
        ("Fetch", labelled("fetch_frequency")),
        ("Enabled", lambda row, _: "yes" if row.enabled else "no"),
        ("Items", col("items")),
        ("Items with a problem", col("problems")),
        ("Last run", labelled("last_run")),
    ),
)


def _feed_items(session: Session, query: QueryParams, scope: Scope) -> AnySelect:
    return queries.feed_items(
        dialect=session.get_bind().dialect.name,
        vendor_id=scope.vendor_id,
        search=text_param(query, "q"),
    )


FEED_ITEM_COLUMNS: Sequence[tuple[str, Value]] = (
    ("Vendor SKU", col("vendor_sku")),
    ("Name", col("name")),
    ("Feed", col("feed")),
    ("Quantity", col("inventory_quantity")),
    ("Cost", col("cost_price")),
    ("Updated", col("inventory_updated_at")),
    ("Connected to", col("variant_sku")),
    ("Problem", col("problem")),
)
VENDOR_INVENTORY = Listing(
    name="inventory",
    rows=_feed_items,
    columns=queries.FEED_ITEM_SORT,
    default="sku",
    tiebreak=queries.FEED_ITEM_SORT["id"],
    csv=FEED_ITEM_COLUMNS,
)


def feed_items_of(feed_id: int) -> Listing:
    """A feed's items (its page's table), filtered by `q` (SKU start) and `problems=1`."""

    def rows(session: Session, query: QueryParams, _scope: Scope) -> AnySelect:
        return queries.feed_items(
            dialect=session.get_bind().dialect.name,
            feed_id=feed_id,
            search=text_param(query, "q"),
            problems_only=query.get("problems") == "1",
        )

    return Listing(
        name=f"feed-{feed_id}-items",
        rows=rows,
        columns=queries.FEED_ITEM_SORT,
        default="sku",
        tiebreak=queries.FEED_ITEM_SORT["id"],
        csv=FEED_ITEM_COLUMNS,
    )


def feed_runs_of(feed_id: int) -> Listing:
    return Listing(
        name=f"feed-{feed_id}-runs",
        rows=lambda _session, _query, _scope: queries.feed_runs(feed_id),
        columns=queries.RUN_SORT,
        default="id",
        tiebreak=queries.RUN_SORT["id"],
        csv=(
            ("Run", col("id")),
            ("Status", labelled("status")),
            ("Trigger", labelled("trigger")),
            ("Approved", lambda row, _: "yes" if row.approved else ""),
            ("Created", col("created_at")),
            ("Started", col("started_at")),
            ("Finished", col("finished_at")),
            ("Bytes", col("bytes")),
            ("Read", col("rows_read")),
            ("Created rows", col("rows_created")),
            ("Updated", col("rows_updated")),
            ("Unchanged", col("rows_unchanged")),
            ("Failed", col("rows_failed")),
            ("Cleaned", col("rows_cleaned")),
            ("Problem", col("problem")),
        ),
    )


def _api_logs(_session: Session, query: QueryParams, _scope: Scope) -> AnySelect:
    return queries.api_logs(
        status=text_param(query, "status"), direction=text_param(query, "direction")
    )


API_LOGS = Listing(
    name="api-logs",
    rows=_api_logs,
    columns=queries.API_LOG_SORT,
    default="id",
    tiebreak=ApiLog.id,
    csv=(
        ("#", col("id")),
        ("When", col("created_at")),
        ("Direction", labelled("direction")),
        ("Method", col("method")),
        ("Endpoint", col("endpoint")),
        ("Status", col("http_status")),
        ("Outcome", labelled("status")),
        ("Took (ms)", col("duration_ms")),
        ("API user", col("api_user_name")),
        ("Problem", col("problem")),
    ),
)


def _deliveries(_session: Session, query: QueryParams, _scope: Scope) -> AnySelect:
    return queries.deliveries(state=text_param(query, "state"), event=text_param(query, "event"))


def _subject(row: Row, subjects: dict[tuple[str, int], queries.Subject]) -> str:
    subject = subjects.get((row.subject_type, row.subject_id))
    return f"{subject.kind} {subject.name}" if subject else ""


DELIVERIES = Listing(
    name="deliveries",
    rows=_deliveries,
    columns=queries.DELIVERY_SORT,
    default="id",
    tiebreak=queries.DELIVERY_SORT["id"],
    csv=(
        ("#", col("id")),
        ("Event", col("event")),
        ("About", _subject),
        ("To", col("url")),
        ("State", labelled("state")),
        ("Attempts", col("attempts")),
        ("Last status", col("last_status")),
        ("Last error", col("last_error")),
        (
            "Next attempt",
            lambda row, _: (
                None if row.state in queries.FINISHED_DELIVERY_STATES else row.next_attempt_at
            ),
        ),
    ),
    per_batch=queries.delivery_subjects,
)


def _jobs(_session: Session, query: QueryParams, _scope: Scope) -> AnySelect:
    return queries.jobs(state=text_param(query, "state"), kind=text_param(query, "kind"))


JOBS = Listing(
    name="jobs",
    rows=_jobs,
    columns=queries.JOB_SORT,
    default="id",
    tiebreak=queries.JOB_SORT["id"],
    csv=(
        ("#", col("id")),
        ("Kind", col("kind")),
        ("State", labelled("state")),
        ("Attempts", col("attempts")),
        ("Max attempts", col("max_attempts")),
        ("Run at", col("run_at")),
        ("Finished", col("finished_at")),
        ("Last error", col("last_error")),
    ),
)


def _person_name(user: User) -> str:
    return user.name if user.name != user.email else ""


def _with_vendor_name(model: type[User] | type[ApiUser]) -> AnySelect:
    """People or tokens, each with its vendor's name (`vendor`; none for an admin's)."""
    return select(model, DropshipProvider.name.label("vendor")).outerjoin(
        DropshipProvider, DropshipProvider.id == model.dropship_provider_id
    )


def _people(_session: Session, _query: QueryParams, _scope: Scope) -> AnySelect:
    return _with_vendor_name(User)


PEOPLE_SORT: dict[str, Sortable] = {
    "email": User.email,
    "last_sign_in": User.last_sign_in_at,
    "id": User.id,
}
PEOPLE = Listing(
    name="people",
    rows=_people,
    columns=PEOPLE_SORT,
    default="email",
    tiebreak=PEOPLE_SORT["id"],
    csv=(
        ("Email", lambda row, _: row.User.email),
        ("Name", lambda row, _: _person_name(row.User)),
        (
            "Role",
            lambda row, _: "Admin" if row.User.dropship_provider_id is None else "Vendor user",
        ),
        ("Vendor", col("vendor")),
        ("Last sign-in", lambda row, _: row.User.last_sign_in_at),
        ("Deactivated", lambda row, _: row.User.disabled_at),
    ),
)


def _tokens(_session: Session, _query: QueryParams, scope: Scope) -> AnySelect:
    """Every token for an admin; a vendor's person sees its own vendor's only."""
    stmt = _with_vendor_name(ApiUser)
    if scope.vendor_id is not None:
        stmt = stmt.where(ApiUser.dropship_provider_id == scope.vendor_id)
    return stmt


TOKEN_SORT: dict[str, Sortable] = {
    "name": ApiUser.name,
    "created": ApiUser.created_at,
    "last_used": ApiUser.last_used_at,
    "id": ApiUser.id,
}
TOKENS = Listing(
    name="api-tokens",
    rows=_tokens,
    columns=TOKEN_SORT,
    default="name",
    tiebreak=TOKEN_SORT["id"],
    csv=(
        ("Name", lambda row, _: row.ApiUser.name),
        ("Scope", lambda row, _: f"Vendor: {row.vendor}" if row.vendor else "Admin"),
        ("Token starts", lambda row, _: row.ApiUser.token_prefix),
        ("Made", lambda row, _: row.ApiUser.created_at),
        ("Last used", lambda row, _: row.ApiUser.last_used_at),
        ("Revoked", lambda row, _: row.ApiUser.revoked_at),
    ),
)

MAIL_SORT: dict[str, Sortable] = {"id": EmailMessage.id, "event": EmailMessage.event}
MAIL = Listing(
    name="mail-log",
    rows=lambda _session, _query, _scope: select(EmailMessage),
    columns=MAIL_SORT,
    default="id",
    tiebreak=MAIL_SORT["id"],
    csv=(
        ("#", lambda row, _: row.EmailMessage.id),
        ("When", lambda row, _: row.EmailMessage.created_at),
        ("Event", lambda row, _: row.EmailMessage.event),
        ("To", lambda row, _: ", ".join(row.EmailMessage.to_addresses)),
        ("Subject", lambda row, _: row.EmailMessage.subject or "(made when it is sent)"),
        ("Status", lambda row, _: label(row.EmailMessage.status)),
        ("Attempts", lambda row, _: row.EmailMessage.attempts),
        ("Last error", lambda row, _: row.EmailMessage.last_error),
    ),
)

ADMIN_LISTS: dict[str, Listing] = {
    "/sales": SALES,
    "/purchases": PURCHASES,
    "/inventory": INVENTORY,
    "/vendors": VENDORS,
    "/feeds": FEEDS,
    "/api-logs": API_LOGS,
    "/deliveries": DELIVERIES,
    "/jobs": JOBS,
    "/users": PEOPLE,
    "/tokens": TOKENS,
    "/mail": MAIL,
}
"""Each admin list page's path and its list (its export is the path + `.csv`)."""

VENDOR_LISTS: dict[str, Listing] = {
    "/vendor/purchases": VENDOR_PURCHASES,
    "/vendor/feeds": FEEDS,
    "/vendor/inventory": VENDOR_INVENTORY,
    "/vendor/tokens": TOKENS,
}
"""The vendor portal's lists (`/vendor` itself is its purchase orders)."""


def scope_of(request: Request, visitor: Visitor) -> Scope:
    return Scope(vendor_id=visitor.dropship_provider_id, zone=viewer_zone(request))


def list_page(request: Request, session: Session, *, visitor: Visitor, listing: Listing) -> Table:
    """One page of `listing` as the URL asks (filters, sort, cursor), for `visitor`."""
    query = request.query_params
    return table(
        session,
        stmt=listing.rows(session, query, scope_of(request, visitor)),
        query=query,
        columns=listing.columns,
        default=listing.default,
        tiebreak=listing.tiebreak,
    )
