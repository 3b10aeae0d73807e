"""The one way feed items are applied: a set-based batch upsert keyed by (feed, externalId).

parse-webhook (a batch of one), the async parse-webhooks batches, merchants' edits and pull runs
all come through `apply_items`. A batch costs a constant number of statements whatever its size:
one locked read of the stored items, one insert (on PostgreSQL, a large batch goes by COPY into a
temporary table first), one update per set of changed columns, one
auto-connect lookup by SKU (and one by barcode), one read of the daily SKU counter, and the
set-based level update of `inventory.service.set_levels` (levels, ledger rows, buffers).

Items are decided in order, exactly as if each had been sent alone: a later item sees what an
earlier one did (its SKU, its connection, its slot under the daily limit). An item that breaks a
rule fails alone and changes nothing; the others apply. An item whose content digest equals the
stored one is unchanged and costs no write.
"""

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    String,
    Table,
    any_,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
    text,
    update,
)
from sqlalchemy import (
    cast as sql_cast,
)
from sqlalchemy.dialects.postgresql import JSON as PG_JSON
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from dropwire.catalog.models import Variant
from dropwire.catalog.service import mark_for_publishing, sku_key
from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.time import utcnow
from dropwire.feeds.errors import DailySkuLimitReached, VendorSkuRequired, VendorSkuTaken
from dropwire.feeds.models import (
    FeedDailyCount,
    FeedDailyUpdate,
    InventoryFeed,
    InventoryFeedVariant,
    effective_quantity,
)
from dropwire.feeds.schemas import FeedVariantData
from dropwire.inventory import service as inventory
from dropwire.inventory.locations import location_for_feed
from dropwire.inventory.models import MovementCause

FV = InventoryFeedVariant
FV_TABLE = cast(Table, InventoryFeedVariant.__table__)

# What the stored row must hold for the rules (compared, copied and written back): every field
# a vendor reports (the schema, `FeedVariantData`), but the id it is found by.
VENDOR_FIELDS = tuple(name for name in FeedVariantData.model_fields if name != "external_id")
MERCHANT_FIELDS = (
    "inventory_quantity_override",
    "manual_inventory_quantity",
    "allocation_buffer_override",
)
_STATE_COLUMNS = (
    FV.id,
    FV.external_id,
    FV.content_hash,
    FV.variant_id,
    FV.problem,
    *(getattr(FV, name) for name in VENDOR_FIELDS + MERCHANT_FIELDS),
)
_NOT_NULL_DEFAULTS: dict[str, Any] = {
    "options": [],
    "images": [],
    "tags": [],
    "locations": [],
    "inventory_quantity": 0,
    "inventory_quantity_override": "none",
}


_NEW_STATE = {
    **dict.fromkeys(("id", "variant_id", "problem", *VENDOR_FIELDS, *MERCHANT_FIELDS)),
    **_NOT_NULL_DEFAULTS,
}


class Outcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    failed = "failed"


@dataclass
class FeedItem:
    """One incoming item: its key, the fields it sets, and the digest of what was received.

    `content_hash` None means the item is not a vendor's copy of the record (a merchant's edit,
    a cleanup): the stored digest is cleared so the vendor's next copy is compared field by field.
    """

    external_id: str
    values: dict[str, Any]
    content_hash: str | None = None
    row: int = 0


@dataclass
class ItemResult:
    row: int
    external_id: str
    outcome: Outcome
    feed_variant_id: int | None = None
    error: DomainError | None = None


@dataclass
class _Plan:
    item: FeedItem
    state: dict[str, Any]  # the row as it will stand (all state columns)
    created: bool
    changes: dict[str, Any] = field(default_factory=dict)
    try_connect: bool = False
    sync_level: bool = False


def among(session: Session, *, column: Any, values: Iterable[Any]) -> ColumnElement[bool]:
    """`column IN values`, with the values in one parameter whatever their count (a 2,000-value
    IN list costs more to send and plan than to run). PostgreSQL: `= ANY(array)`, which probes
    the index once per value."""
    if session.get_bind().dialect.name == "postgresql":
        # the values as one JSON text unpacked by the server: psycopg quotes a list of strings
        # for an array parameter in Python, at a few microseconds a value
        elements: ColumnElement[Any] = func.json_array_elements_text(
            sql_cast(literal(json.dumps(list(values), default=str)), PG_JSON)
        )
        if not isinstance(column.type, String):
            elements = sql_cast(elements, column.type)
        listed_pg = func.array(select(elements).scalar_subquery())
        return cast(ColumnElement[bool], column == any_(listed_pg))
    # SQLite: one JSON array read by json_each (the index is still probed per value); an IN
    # list of 2,000 parameters costs SQLAlchemy more to expand than SQLite to run
    listed: Select[Any] = select(literal_column("value")).select_from(
        func.json_each(literal(json.dumps(list(values), default=str)))
    )
    return cast(ColumnElement[bool], column.in_(listed))


# built once: `json.dumps` with these options builds an encoder per call, which costs more than
# encoding a row (the text is the same, so stored digests stay valid)
_DIGEST_JSON = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=str)


def content_digest(salt: str, payload: Any) -> str:
    """A short stable digest of an item as received (plus what shaped it, e.g. the mapping)."""
    text = _DIGEST_JSON.encode(payload)
    return hashlib.blake2b((salt + text).encode(), digest_size=16).hexdigest()


def apply_items(
    session: Session,
    *,
    feed: InventoryFeed,
    items: Sequence[FeedItem],
    actor: str | None = None,
    reassert: bool = False,
) -> list[ItemResult]:
    """Upsert a batch of feed items in order; one result per item, in the items' order.

    `reassert` (a pull feed without diffPrevious): unchanged items still re-set their level and
    retry auto-connect, as a full re-import would.
    """
    results: list[ItemResult] = []
    start = 0
    while start < len(items):  # contiguous runs without a repeated key keep the exact order
        seen: set[str] = set()
        end = start
        while end < len(items) and items[end].external_id not in seen:
            seen.add(items[end].external_id)
            end += 1
        results.extend(_apply_round(session, feed, items[start:end], actor, reassert))
        start = end
    return results


def _apply_round(
    session: Session,
    feed: InventoryFeed,
    items: Sequence[FeedItem],
    actor: str | None,
    reassert: bool,
) -> list[ItemResult]:
    stored = _lock_stored(session, feed.id, [item.external_id for item in items])
    keys = _SkuKeys(session, feed, items, stored) if feed.case_insensitive_skus else None
    daily = _DailyLimit(session, feed, items, stored)
    now = utcnow()
    plans: list[_Plan] = []
    results: dict[int, ItemResult] = {}
    for index, item in enumerate(items):
        row = stored.get(item.external_id)
        try:
            plan = _decide(feed, item, row, keys, daily, reassert, now)
        except DomainError as error:
            results[index] = ItemResult(item.row, item.external_id, Outcome.failed, error=error)
            continue
        if plan is None:
            assert row is not None
            results[index] = ItemResult(item.row, item.external_id, Outcome.unchanged, row.id)
            continue
        plans.append(plan)
    daily.record()
    retry = _write_rows(session, feed, plans, now)
    _auto_connect(session, feed, [p for p in plans if p.try_connect], now)
    _sync_levels(session, feed, [p.state for p in plans if p.sync_level], actor)
    by_key = {item.external_id: index for index, item in enumerate(items)}
    for plan in plans:
        if plan.item.external_id in retry:
            continue
        index = by_key[plan.item.external_id]
        outcome = (
            Outcome.created
            if plan.created
            else Outcome.updated
            if plan.changes.keys() - {"content_hash"}
            else Outcome.unchanged
        )
        results[index] = ItemResult(plan.item.row, plan.item.external_id, outcome, plan.state["id"])
    if retry:  # created meanwhile by a concurrent writer: ours applies as an update
        again = [item for item in items if item.external_id in retry]
        for result in _apply_round(session, feed, again, actor, reassert):
            results[by_key[result.external_id]] = result
    return [results[index] for index in range(len(items))]


def _lock_stored(session: Session, feed_id: int, external_ids: list[str]) -> dict[str, Row[Any]]:
    stmt = select(*_STATE_COLUMNS).where(
        FV.inventory_feed_id == feed_id, among(session, column=FV.external_id, values=external_ids)
    )
    if session.get_bind().dialect.name == "postgresql":
        # rows locked in id order, so two batches never wait on each other in a cycle; SQLite
        # locks the whole database, and ordering there would walk the feed's (feed, id) index
        # instead of probing the keys
        stmt = stmt.order_by(FV.id).with_for_update(of=FV)
    return {row.external_id: row for row in session.execute(stmt)}


def _decide(
    feed: InventoryFeed,
    item: FeedItem,
    row: Row[Any] | None,
    keys: "_SkuKeys | None",
    daily: "_DailyLimit",
    reassert: bool,
    now: datetime,
) -> _Plan | None:
    """What this item does, given what earlier items did; None when it changes nothing."""
    values = item.values
    if row is None:
        vendor_sku = values.get("vendor_sku") or item.external_id
        if keys is not None:
            keys.claim(item.external_id, None, vendor_sku)
        daily.take(item.external_id)
        state = _NEW_STATE.copy()
        state.update({k: v for k, v in values.items() if v is not None})
        state.update(
            external_id=item.external_id,
            vendor_sku=vendor_sku,
            content_hash=item.content_hash,
        )
        return _Plan(
            item,
            state,
            created=True,
            try_connect=feed.automatically_connect,
            sync_level=True,
        )
    if item.content_hash is not None and item.content_hash == row.content_hash and not reassert:
        return None
    current = row._asdict()
    changes = {k: v for k, v in values.items() if current[k] != v}
    hash_changed = item.content_hash != row.content_hash
    if not changes:
        if not hash_changed and not reassert:
            return None
        plan = _Plan(item, current, created=False)
        if hash_changed:
            plan.changes["content_hash"] = item.content_hash
            current["content_hash"] = item.content_hash
        if reassert:
            plan.try_connect = current["variant_id"] is None and feed.automatically_connect
            plan.sync_level = True
        return plan
    if "vendor_sku" in changes:
        if changes["vendor_sku"] is None:
            raise VendorSkuRequired("vendorSku", "cannot be emptied")
        if keys is not None:
            keys.claim(item.external_id, current["vendor_sku"], changes["vendor_sku"])
    daily.take(item.external_id)
    changes["content_hash"] = item.content_hash
    if "inventory_quantity" in changes:
        changes["inventory_updated_at"] = now
    current.update(changes)
    return _Plan(
        item,
        current,
        created=False,
        changes=changes,
        try_connect=current["variant_id"] is None and feed.automatically_connect,
        sync_level=True,
    )


class _SkuKeys:
    """Case-insensitive feeds: one item per SKU key, as the items of the batch claim them."""

    def __init__(
        self,
        session: Session,
        feed: InventoryFeed,
        items: Sequence[FeedItem],
        stored: dict[str, Row[Any]],
    ) -> None:
        wanted = {
            (item.values.get("vendor_sku") or item.external_id).lower()
            for item in items
            if item.values.get("vendor_sku") or item.external_id not in stored
        }
        self.holders: dict[str, set[str]] = {}
        if wanted:
            for key, external_id in session.execute(
                select(FV.vendor_sku_key, FV.external_id).where(
                    FV.inventory_feed_id == feed.id,
                    among(session, column=FV.vendor_sku_key, values=wanted),
                )
            ):
                self.holders.setdefault(key or "", set()).add(external_id)

    def claim(self, external_id: str, old_sku: str | None, new_sku: str) -> None:
        key = new_sku.lower()
        clash = sorted(self.holders.get(key, set()) - {external_id})
        if clash:
            raise VendorSkuTaken(
                f"vendorSku '{new_sku}' matches item '{clash[0]}' of this case-insensitive feed",
                "vendorSku",
            )
        if old_sku is not None:
            self.holders.get(old_sku.lower(), set()).discard(external_id)
        self.holders.setdefault(key, set()).add(external_id)


class _DailyLimit:
    """The daily SKU limit: each feed variant counts once per UTC day, first come first served."""

    def __init__(
        self,
        session: Session,
        feed: InventoryFeed,
        items: Sequence[FeedItem],
        stored: dict[str, Row[Any]],
    ) -> None:
        self.session = session
        self.feed_id = feed.id
        self.limit = settings_of(session).daily_sku_limit
        self.now = utcnow()
        self.today = self.now.date()
        self.counted: set[str] = set()
        self.new: list[str] = []
        self.remaining = 0
        if self.limit <= 0:
            return
        insert_ignoring_conflict(
            session,
            model=FeedDailyCount,
            values={"day": self.today, "count": 0},
            conflict_columns=["day"],
        )
        used = session.scalar(  # the counter's lock first: then nobody counts under our feet
            select(FeedDailyCount.count).where(FeedDailyCount.day == self.today).with_for_update()
        )
        self.remaining = max(0, self.limit - (used or 0))
        item_keys = [self._key(item.external_id) for item in items]
        self.counted = set(
            session.scalars(
                select(FeedDailyUpdate.item_key).where(
                    FeedDailyUpdate.day == self.today,
                    among(session, column=FeedDailyUpdate.item_key, values=item_keys),
                )
            )
        )

    def _key(self, external_id: str) -> str:
        return f"{self.feed_id}:{external_id}"

    def take(self, external_id: str) -> None:
        if self.limit <= 0:
            return
        key = self._key(external_id)
        if key in self.counted:
            return
        if self.remaining <= 0:
            reset = datetime.combine(self.today + timedelta(days=1), time(0), tzinfo=UTC)
            raise DailySkuLimitReached(self.limit, resets_at=reset, now=self.now)
        self.remaining -= 1
        self.counted.add(key)
        self.new.append(key)

    def record(self) -> None:
        if not self.new:
            return
        self.session.execute(
            update(FeedDailyCount)
            .where(FeedDailyCount.day == self.today)
            .values(count=FeedDailyCount.count + len(self.new))
            .execution_options(synchronize_session=False)
        )
        self.session.execute(
            insert(FeedDailyUpdate), [{"day": self.today, "item_key": key} for key in self.new]
        )
        self.new = []


def _write_rows(
    session: Session, feed: InventoryFeed, plans: list[_Plan], now: datetime
) -> set[str]:
    """Insert the new rows and update the changed ones; returns keys a concurrent writer took."""
    creates = [plan for plan in plans if plan.created]
    taken: set[str] = set()
    if creates:
        states = [plan.state for plan in creates]
        columns = {name: [state[name] for state in states] for name in _STORED}
        columns["vendor_sku_key"] = [feed_sku_key(feed, sku) for sku in columns["vendor_sku"]]
        if session.get_bind().dialect.name == "postgresql":
            inserted = _insert_pg(session, feed.id, columns, now)
        else:
            inserted = _insert_sqlite(session, feed.id, columns, now)
        ids = dict(inserted)
        for state in states:
            feed_variant_id = ids.get(state["external_id"])
            if feed_variant_id is not None:
                state["id"] = feed_variant_id
            else:
                taken.add(state["external_id"])
        if taken:
            plans[:] = [p for p in plans if p.state["external_id"] not in taken]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for plan in plans:
        if plan.created or not plan.changes:
            continue
        values = dict(plan.changes)
        if "vendor_sku" in values:
            values["vendor_sku_key"] = feed_sku_key(feed, values["vendor_sku"])
        values["updated_at"] = now
        groups.setdefault(tuple(sorted(values)), []).append({"id": plan.state["id"], **values})
    for rows in groups.values():
        session.execute(update(FV), rows)
    _forget(session, [plan.state["id"] for plan in plans if not plan.created])
    return taken


_STORED = VENDOR_FIELDS + MERCHANT_FIELDS + ("external_id", "content_hash")
_INSERTED = (*_STORED, "vendor_sku_key")
_JSON_COLUMNS = frozenset(("options", "images", "tags", "locations"))


def _unnest_insert() -> str:
    """INSERT ... SELECT FROM unnest(one array per column): a fixed statement for any count."""
    dialect = PGDialect_psycopg()  # type: ignore[no-untyped-call]
    casts = []
    for name in _INSERTED:
        type_ = FV_TABLE.c[name].type
        # text arrays: a too-long value then fails on the column as in a plain INSERT (a cast
        # to VARCHAR(n)[] would cut it silently)
        sql_type = "TEXT" if isinstance(type_, String) else type_.compile(dialect=dialect)
        casts.append(f"CAST(:{name} AS {sql_type}[])")
    arrays = ", ".join(casts)
    names = ", ".join(_INSERTED)
    return (
        f"INSERT INTO {FV_TABLE.name} ({names}, inventory_feed_id, inventory_updated_at, "
        f"created_at, updated_at) SELECT u.*, :feed_id, :now, :now, :now FROM unnest({arrays}) "
        "AS u ON CONFLICT (inventory_feed_id, external_id) DO NOTHING RETURNING external_id, id"
    )


_UNNEST_INSERT = text(_unnest_insert()).bindparams(
    bindparam("now", type_=FV_TABLE.c.created_at.type)
)


def _insert_pg(
    session: Session, feed_id: int, columns: dict[str, list[Any]], now: datetime
) -> list[tuple[str, int]]:
    """PostgreSQL: a few rows as one array per column in one short statement; many through
    COPY into a temporary table, then one INSERT ... SELECT (psycopg writes COPY rows in C, while
    it quotes array elements in Python)."""
    if len(columns["external_id"]) < _COPY_FROM:
        params: dict[str, Any] = {"feed_id": feed_id, "now": now}
        for name, values in columns.items():
            if name in _JSON_COLUMNS:
                params[name] = [_json_text(value) for value in values]
            else:  # every array goes as text, cast by the server: no guessing of element types
                params[name] = [None if value is None else str(value) for value in values]
        return [(row[0], row[1]) for row in session.execute(_UNNEST_INSERT, params)]
    names = list(columns)
    for name in _JSON_COLUMNS & set(names):
        columns[name] = [_json_text(value) for value in columns[name]]
    session.execute(_CREATE_INCOMING)
    driver = session.connection().connection.driver_connection
    assert driver is not None
    statement = f"COPY {_INCOMING} ({', '.join(names)}) FROM STDIN"
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in zip(*(columns[name] for name in names), strict=True):
            copy.write_row(row)
    inserted = session.execute(_COPIED_INSERT, {"feed_id": feed_id, "now": now})
    pairs = [(row[0], row[1]) for row in inserted]
    session.execute(text(f"DELETE FROM {_INCOMING}"))  # a later round of this transaction
    return pairs


_COPY_FROM = 200  # rows: below this the three extra round trips of COPY cost more than it saves
_INCOMING = "dropwire_incoming_feed_variants"
# one per connection, emptied at each commit; its columns copied from the table (no constraints)
_CREATE_INCOMING = text(
    f"CREATE TEMPORARY TABLE IF NOT EXISTS {_INCOMING} ON COMMIT DELETE ROWS AS "
    f"SELECT {', '.join(_INSERTED)} FROM {FV_TABLE.name} WITH NO DATA"
)
_COPIED_INSERT = text(
    f"INSERT INTO {FV_TABLE.name} ({', '.join(_INSERTED)}, inventory_feed_id, "
    "inventory_updated_at, created_at, updated_at) "
    f"SELECT {', '.join(_INSERTED)}, :feed_id, :now, :now, :now FROM {_INCOMING} "
    "ON CONFLICT (inventory_feed_id, external_id) DO NOTHING RETURNING external_id, id"
).bindparams(bindparam("now", type_=FV_TABLE.c.created_at.type))


def _json_text(value: Any) -> str:
    return "[]" if value == [] else json.dumps(value, default=str)


def _insert_sqlite(
    session: Session, feed_id: int, columns: dict[str, list[Any]], now: datetime
) -> list[tuple[str, int]]:
    """SQLite: one executemany of plain tuples, converted column by column as SQLAlchemy would
    (its per-row parameter handling cost more than the insert), then the new ids read back.

    The write transaction holds SQLite's lock from its start (`BEGIN IMMEDIATE`), so nobody
    else inserts meanwhile: the rows of this feed above the highest id before are ours.
    """
    connection = session.connection()
    dialect = connection.dialect
    names = list(columns)
    converted: list[list[Any]] = []
    for name in names:
        values = columns[name]
        process = FV_TABLE.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is None:
            converted.append(values)
        elif name in _JSON_COLUMNS:
            converted.append(["[]" if value == [] else process(value) for value in values])
        else:
            converted.append([None if value is None else process(value) for value in values])
    stamp = FV_TABLE.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    at = stamp(now) if stamp else now
    before = connection.exec_driver_sql(f"SELECT max(id) FROM {FV_TABLE.name}").scalar() or 0
    placeholders = ", ".join("?" * (len(names) + 4))
    connection.exec_driver_sql(
        f"INSERT INTO {FV_TABLE.name} ({', '.join(names)}, inventory_feed_id, "
        f"inventory_updated_at, created_at, updated_at) VALUES ({placeholders}) "
        "ON CONFLICT (inventory_feed_id, external_id) DO NOTHING",
        [(*row, feed_id, at, at, at) for row in zip(*converted, strict=True)],
    )
    return [
        (external_id, feed_variant_id)
        for feed_variant_id, external_id in connection.exec_driver_sql(
            f"SELECT id, external_id FROM {FV_TABLE.name} WHERE id > ? AND inventory_feed_id = ?",
            (before, feed_id),
        )
    ]


def _forget(session: Session, ids: Iterable[int]) -> None:
    """Loaded objects of rows written by set-based statements are stale: reload on next use."""
    for feed_variant_id in ids:
        stale = session.identity_map.get(identity_key(FV, feed_variant_id))
        if stale is not None:
            session.expire(stale)


def feed_sku_key(feed: InventoryFeed, sku: str | None) -> str | None:
    if sku is None:
        return None
    return sku.lower() if feed.case_insensitive_skus else sku


def _auto_connect(session: Session, feed: InventoryFeed, plans: list[_Plan], now: datetime) -> None:
    """Connect to the catalog variants with the same SKU (or barcode): one lookup per batch."""
    if not plans:
        return
    skus = {plan.state["vendor_sku"] for plan in plans if plan.state["vendor_sku"]}
    by_sku: dict[str, tuple[int, str]] = {}
    by_sku_key: dict[str, tuple[int, str]] = {}
    if skus:
        for variant_id, sku in session.execute(
            select(Variant.id, Variant.sku).where(among(session, column=Variant.sku, values=skus))
        ):
            by_sku[sku] = (variant_id, sku)
        if feed.case_insensitive_skus:
            keys = {sku_key(sku) for sku in skus}
            for variant_id, sku, key in session.execute(
                select(Variant.id, Variant.sku, Variant.sku_key)
                .where(among(session, column=Variant.sku_key, values=keys))
                .order_by(Variant.id)
            ):
                by_sku_key.setdefault(key, (variant_id, sku))
    by_barcode: dict[str, tuple[int, str]] = {}
    if feed.automatically_connect_by_barcode:
        barcodes = {plan.state["barcode"] for plan in plans if plan.state["barcode"]}
        if barcodes:
            for variant_id, sku, barcode in session.execute(
                select(Variant.id, Variant.sku, Variant.barcode)
                .where(among(session, column=Variant.barcode, values=barcodes))
                .order_by(Variant.id)
            ):
                by_barcode.setdefault(barcode or "", (variant_id, sku))
    matches: list[tuple[_Plan, tuple[int, str]]] = []
    for plan in plans:
        sku, barcode = plan.state["vendor_sku"], plan.state["barcode"]
        found = by_sku.get(sku) if sku else None
        if found is None and sku and feed.case_insensitive_skus:
            found = by_sku_key.get(sku_key(sku))
        if found is None and barcode and feed.automatically_connect_by_barcode:
            found = by_barcode.get(barcode)
        if found is not None:
            matches.append((plan, found))
    if not matches:
        return
    taken = set(
        session.scalars(
            select(FV.variant_id).where(
                FV.inventory_feed_id == feed.id,
                among(
                    session,
                    column=FV.variant_id,
                    values={variant_id for _, (variant_id, _) in matches},
                ),
            )
        )
    )
    rows: list[dict[str, Any]] = []
    for plan, (variant_id, sku) in matches:
        if variant_id in taken:
            problem = f"another item of this feed already stocks {sku}"
            if plan.state["problem"] != problem:
                plan.state["problem"] = problem
                rows.append({"id": plan.state["id"], "problem": problem})
            continue
        taken.add(variant_id)
        plan.state.update(variant_id=variant_id, problem=None)
        plan.sync_level = True
        rows.append(
            {"id": plan.state["id"], "variant_id": variant_id, "connected_at": now, "problem": None}
        )
        mark_for_publishing(session, variant_id=variant_id)
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(tuple(sorted(row)), []).append(row)
    for group in groups.values():
        session.execute(update(FV), group)
    _forget(session, [row["id"] for row in rows])


def level_targets(
    feed: InventoryFeed, location_id: int, states: Iterable[dict[str, Any]]
) -> list[inventory.LevelTarget]:
    """Where each connected item's level should stand: its effective quantity and buffer."""
    targets = []
    for state in states:
        if state["variant_id"] is None:
            continue
        buffer = state["allocation_buffer_override"]
        targets.append(
            inventory.LevelTarget(
                variant_id=state["variant_id"],
                location_id=location_id,
                stocked=effective_quantity(
                    state["inventory_quantity"],
                    state["inventory_quantity_override"],
                    state["manual_inventory_quantity"],
                ),
                buffer=feed.allocation_buffer if buffer is None else buffer,
                reference_id=state["id"],
            )
        )
    return targets


def _sync_levels(
    session: Session, feed: InventoryFeed, states: list[dict[str, Any]], actor: str | None
) -> None:
    if not any(state["variant_id"] is not None for state in states):
        return
    location = location_for_feed(session, inventory_feed_id=feed.id, name=feed.name)
    inventory.set_levels(
        session,
        targets=level_targets(feed, location.id, states),
        cause=MovementCause.feed,
        reference_type="feed_variant",
        actor=actor,
    )


def sync_stored_levels(
    session: Session,
    *,
    feed: InventoryFeed,
    feed_variant_ids: Iterable[int],
    actor: str | None = None,
) -> None:
    """Re-set the levels of stored items (after a connection or a feed's buffer changed)."""
    ids = sorted(set(feed_variant_ids))
    for start in range(0, len(ids), 1000):
        rows = session.execute(
            select(*_STATE_COLUMNS).where(
                among(session, column=FV.id, values=ids[start : start + 1000])
            )
        ).all()
        _sync_levels(session, feed, [row._asdict() for row in rows], actor)


def count_items(session: Session, *, feed_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(FV).where(FV.inventory_feed_id == feed_id))
        or 0
    )
