"""Every statement that guards inventory against races lives here.

Rules: levels are touched in ascending id order (no deadlocks between two multi-line
allocations); an allocation is a guarded UPDATE that only succeeds while enough is available, so
PostgreSQL re-checks the condition against the newest row version when two writers race
(READ COMMITTED re-evaluates the WHERE of a blocked UPDATE). Level locks are FOR NO KEY UPDATE,
the strength an UPDATE of the counts takes itself: it serialises level writers but never waits on
the key-share locks that inserting an allocation (a foreign key to its level) takes. On SQLite
every writer already holds the database lock (BEGIN IMMEDIATE), so the statements are serial.
"""

from collections.abc import Collection
from typing import Any, cast

from sqlalchemy import Row, Table, Update, case, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.core.inserts import insert_ignoring_conflict
from dropwire.core.time import utcnow
from dropwire.inventory.models import InventoryLevel

LEVELS = cast(Table, InventoryLevel.__table__)


def ensure_level(session: Session, *, variant_id: int, location_id: int) -> int:
    """The id of the level for (variant, location), creating an empty one if needed."""
    level_id = session.scalar(
        select(InventoryLevel.id).where(
            InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id
        )
    )
    if level_id is not None:
        return level_id
    insert_ignoring_conflict(
        session,
        model=InventoryLevel,
        values={
            "variant_id": variant_id,
            "location_id": location_id,
            "stocked": 0,
            "allocated": 0,
            "buffer": 0,
            "updated_at": utcnow(),
        },
        conflict_columns=["variant_id", "location_id"],
    )
    return session.scalars(
        select(InventoryLevel.id).where(
            InventoryLevel.variant_id == variant_id, InventoryLevel.location_id == location_id
        )
    ).one()


def ensure_levels(
    session: Session, *, pairs: Collection[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """Level ids for many (variant, location) pairs, creating the missing ones in one statement."""
    wanted = set(pairs)
    if not wanted:
        return {}
    found = _level_ids(session, wanted)
    missing = wanted - found.keys()
    if missing:
        dialect = session.get_bind().dialect.name
        insert = pg_insert if dialect == "postgresql" else sqlite_insert
        now = utcnow()
        session.execute(
            insert(InventoryLevel).on_conflict_do_nothing(
                index_elements=["variant_id", "location_id"]
            ),
            [
                {
                    "variant_id": variant_id,
                    "location_id": location_id,
                    "stocked": 0,
                    "allocated": 0,
                    "buffer": 0,
                    "updated_at": now,
                }
                for variant_id, location_id in sorted(missing)
            ],
        )
        found.update(_level_ids(session, missing))
    return found


def _level_ids(session: Session, pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    rows = session.execute(
        select(InventoryLevel.id, InventoryLevel.variant_id, InventoryLevel.location_id).where(
            tuple_(InventoryLevel.variant_id, InventoryLevel.location_id).in_(sorted(pairs))
        )
    )
    return {(row.variant_id, row.location_id): row.id for row in rows}


def lock_levels_for_update(session: Session, *, level_ids: Collection[int]) -> list[Row[Any]]:
    """Lock levels in id order; rows of id, variant_id, location_id, stocked, allocated, buffer."""
    stmt = (
        select(
            InventoryLevel.id,
            InventoryLevel.variant_id,
            InventoryLevel.location_id,
            InventoryLevel.stocked,
            InventoryLevel.allocated,
            InventoryLevel.buffer,
        )
        .where(InventoryLevel.id.in_(sorted(set(level_ids))))
        .order_by(InventoryLevel.id)
        .with_for_update(key_share=True)  # NO KEY UPDATE: what an UPDATE of counts takes
    )
    return list(session.execute(stmt))


def lock_levels(session: Session, *, level_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Lock levels in id order; returns {id: (stocked, allocated)} as of the lock."""
    stmt = (
        select(InventoryLevel.id, InventoryLevel.stocked, InventoryLevel.allocated)
        .where(InventoryLevel.id.in_(sorted(set(level_ids))))
        .order_by(InventoryLevel.id)
        .with_for_update(key_share=True)  # NO KEY UPDATE: what an UPDATE of counts takes
    )
    return {row.id: (row.stocked, row.allocated) for row in session.execute(stmt)}


def change_level(
    session: Session,
    *,
    level_id: int,
    delta_stocked: int = 0,
    delta_allocated: int = 0,
    require_available: int | None = None,
) -> tuple[int, int] | None:
    """Apply deltas in one guarded UPDATE; returns (stocked, allocated) after, or None if refused.

    Refused when the result would break `stocked >= 0` / `allocated >= 0`, or when
    `require_available` is given and `stocked - allocated` is below it before the change.
    """
    conditions = [
        InventoryLevel.id == level_id,
        InventoryLevel.stocked + delta_stocked >= 0,
        InventoryLevel.allocated + delta_allocated >= 0,
    ]
    if require_available is not None:
        conditions.append(InventoryLevel.available >= require_available)
    stmt = (
        update(InventoryLevel)
        .where(*conditions)
        .values(
            stocked=InventoryLevel.stocked + delta_stocked,
            allocated=InventoryLevel.allocated + delta_allocated,
            updated_at=utcnow(),
        )
        .returning(InventoryLevel.stocked, InventoryLevel.allocated)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).first()
    return None if row is None else (row.stocked, row.allocated)


def allocate_levels(
    session: Session, *, wanted: dict[int, int], unguarded: Collection[int] = ()
) -> dict[int, tuple[int, int]]:
    """Add `wanted[level_id]` to allocated of many levels in ONE guarded UPDATE.

    A level is changed only while it has at least that many available (levels in `unguarded`,
    backorder variants, always are); returns {level_id: (stocked, allocated) after} for the
    levels changed. Levels missing from the answer were refused and left as they were. On
    PostgreSQL the rows are locked in ascending id order first (a sub-select FOR NO KEY UPDATE,
    the lock the UPDATE itself takes, so it never waits on the key-share locks that inserting
    allocation rows puts on their level), two multi-level allocations never deadlock, and the
    guard is re-checked against the newest row version after waiting for a lock.
    """
    if not wanted:
        return {}
    ids = sorted(wanted)
    amount = case(wanted, value=LEVELS.c.id)
    free = set(unguarded)
    guard = LEVELS.c.stocked - LEVELS.c.allocated >= amount  # available, as the model says
    if free:
        guard = or_(LEVELS.c.id.in_(sorted(free)), guard)
    target: Any = LEVELS.c.id.in_(ids)
    if session.get_bind().dialect.name == "postgresql":
        target = LEVELS.c.id.in_(
            select(LEVELS.c.id)
            .where(LEVELS.c.id.in_(ids))
            .order_by(LEVELS.c.id)
            .with_for_update(key_share=True)  # NO KEY UPDATE: allocation rows' FKs don't block
            .scalar_subquery()
        )
    return _changed_levels(
        session,
        update(LEVELS)
        .where(target, guard)
        .values(allocated=LEVELS.c.allocated + amount, updated_at=utcnow()),
    )


def unallocate_levels(session: Session, *, amounts: dict[int, int]) -> dict[int, tuple[int, int]]:
    """Take back what `allocate_levels` just added to levels this transaction holds locked.

    Used only to undo part of a batch that failed elsewhere, before any ledger row is written,
    so the ledger never sees it. Returns {level_id: (stocked, allocated) after}.
    """
    if not amounts:
        return {}
    return _changed_levels(
        session,
        update(LEVELS)
        .where(LEVELS.c.id.in_(sorted(amounts)))
        .values(allocated=LEVELS.c.allocated - case(amounts, value=LEVELS.c.id)),
    )


def _changed_levels(session: Session, statement: Update) -> dict[int, tuple[int, int]]:
    """Run a Core UPDATE of levels (the ORM's bulk-update path cost more than the statement
    on a sale's hot path): {level_id: (stocked, allocated) after}."""
    returning = statement.returning(LEVELS.c.id, LEVELS.c.stocked, LEVELS.c.allocated)
    return {row.id: (row.stocked, row.allocated) for row in session.connection().execute(returning)}


def levels_with_policies(
    session: Session, *, pairs: Collection[tuple[int, int]]
) -> dict[tuple[int, int], tuple[int, str]]:
    """{(variant, location): (level id, variant's inventory policy)} of the levels that exist."""
    if not pairs:
        return {}
    rows = session.execute(
        select(
            InventoryLevel.id,
            InventoryLevel.variant_id,
            InventoryLevel.location_id,
            Variant.inventory_policy,
        )
        .join(Variant, Variant.id == InventoryLevel.variant_id)
        .where(tuple_(InventoryLevel.variant_id, InventoryLevel.location_id).in_(sorted(pairs)))
    )
    return {(r.variant_id, r.location_id): (r.id, r.inventory_policy) for r in rows}
