"""The rules of stock: every change of stocked or allocated goes through here and the ledger.

Levels are running sums of the ledger (`rebuild_levels` proves it). Allocation never oversells
for `track` and `deny` variants; `continue` variants may go below zero available (backorders).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from dropwire.catalog.models import InventoryPolicy, Variant
from dropwire.core.errors import Invalid, NotFound, UnknownReference
from dropwire.core.inserts import insert_rows, insert_rows_returning_ids
from dropwire.core.time import utcnow
from dropwire.core.unit_of_work import changes
from dropwire.inventory import locking
from dropwire.inventory.errors import (
    AllocationExceeded,
    InsufficientStock,
    NegativeBuffer,
    NegativeStock,
    NotEnoughToShip,
    StockBelowAllocated,
)
from dropwire.inventory.models import (
    Allocation,
    InventoryLevel,
    InventoryMovement,
    Location,
    MovementCause,
)

TOUCHED_KEY = "inventory.touched_variants"
MOVEMENTS = cast(Table, InventoryMovement.__table__)
ALLOCATIONS = cast(Table, Allocation.__table__)


@dataclass(frozen=True)
class StockChange:
    level: InventoryLevel
    movement: InventoryMovement | None  # None when nothing changed


def available(level: InventoryLevel) -> int:
    """Available = stocked - allocated (the hybrid property is the single definition)."""
    return level.available


def touched_variants(session: Session) -> set[int]:
    """Variant ids whose stock changed in this session's current unit of work."""
    touched: set[int] = changes(session, topic=TOUCHED_KEY, empty=set)
    return touched


def _after_change(session: Session, level_id: int, variant_id: int) -> None:
    touched_variants(session).add(variant_id)
    stale = session.identity_map.get(identity_key(InventoryLevel, level_id))
    if stale is not None:
        session.expire(stale)


def _record(
    session: Session,
    *,
    level_id: int,
    variant_id: int,
    location_id: int,
    delta_stocked: int,
    delta_allocated: int,
    after: tuple[int, int],
    cause: MovementCause | str,
    reference_type: str | None,
    reference_id: int | None,
    reason: str | None = None,
    actor: str | None = None,
) -> InventoryMovement:
    movement = InventoryMovement(
        variant_id=variant_id,
        location_id=location_id,
        delta_stocked=delta_stocked,
        delta_allocated=delta_allocated,
        stocked_after=after[0],
        allocated_after=after[1],
        cause=MovementCause(cause),
        reference_type=reference_type,
        reference_id=reference_id,
        reason=reason,
        actor=actor,
    )
    session.add(movement)
    _after_change(session, level_id, variant_id)
    return movement


def _check_refs(session: Session, variant_id: int, location_id: int) -> None:
    if session.get(Variant, variant_id) is None:
        raise UnknownReference("variantId", f"variant {variant_id} does not exist")
    if session.get(Location, location_id) is None:
        raise UnknownReference("locationId", f"location {location_id} does not exist")


def adjust_stocked(
    session: Session,
    *,
    variant_id: int,
    location_id: int,
    delta: int | None = None,
    set_to: int | None = None,
    cause: MovementCause | str = MovementCause.adjustment,
    reference_type: str | None = None,
    reference_id: int | None = None,
    reason: str | None = None,
    actor: str | None = None,
) -> StockChange:
    """Change STOCKED by a delta or to a value; never below zero. Writes nothing if unchanged."""
    if (delta is None) == (set_to is None):
        raise Invalid("quantity", "give exactly one of a delta (quantity) or setStocked")
    if set_to is not None and set_to < 0:
        raise NegativeStock("setStocked", "stocked cannot be negative")
    _check_refs(session, variant_id, location_id)
    level_id = locking.ensure_level(session, variant_id=variant_id, location_id=location_id)
    stocked, allocated = locking.lock_levels(session, level_ids=[level_id])[level_id]
    change = delta if delta is not None else (set_to or 0) - stocked
    movement = None
    if change != 0:
        # A tracked variant never oversells: stocked may not fall below what sales hold.
        variant = session.get(Variant, variant_id)
        tracked = variant is not None and variant.inventory_policy != InventoryPolicy.continue_
        guard = -change if change < 0 and tracked else None
        after = locking.change_level(
            session, level_id=level_id, delta_stocked=change, require_available=guard
        )
        if after is None:
            field = "quantity" if delta is not None else "setStocked"
            if stocked + change < 0:
                raise NegativeStock(
                    field, f"stocked would become {stocked + change}; it cannot go below zero"
                )
            raise StockBelowAllocated(
                field,
                f"stocked would become {stocked + change}, below the {allocated} units allocated "
                "to sales; release or cancel those first",
            )
        movement = _record(
            session,
            level_id=level_id,
            variant_id=variant_id,
            location_id=location_id,
            delta_stocked=change,
            delta_allocated=0,
            after=after,
            cause=cause,
            reference_type=reference_type,
            reference_id=reference_id,
            reason=reason,
            actor=actor,
        )
    session.flush()
    level = session.get(InventoryLevel, level_id)
    assert level is not None
    return StockChange(level=level, movement=movement)


def set_buffer(session: Session, *, variant_id: int, location_id: int, buffer: int) -> None:
    """Units of this level held back from channels (not stock: no ledger row)."""
    if buffer < 0:
        raise NegativeBuffer("allocationBuffer", "cannot be negative")
    level_id = locking.ensure_level(session, variant_id=variant_id, location_id=location_id)
    session.execute(
        update(InventoryLevel)
        .where(InventoryLevel.id == level_id, InventoryLevel.buffer != buffer)
        .values(buffer=buffer)
        .execution_options(synchronize_session=False)
    )
    _after_change(session, level_id, variant_id)


@dataclass(frozen=True)
class LevelTarget:
    """Where one level should stand: stocked (the ledger records the difference) and buffer."""

    variant_id: int
    location_id: int
    stocked: int
    buffer: int | None = None  # None: leave the buffer as it is
    reference_id: int | None = None


def set_levels(
    session: Session,
    *,
    targets: Sequence[LevelTarget],
    cause: MovementCause | str,
    reference_type: str | None = None,
    actor: str | None = None,
) -> int:
    """Set stocked (and buffers) of many levels with a constant number of statements.

    The set-based twin of `adjust_stocked(set_to=...)` + `set_buffer`: levels are created if
    missing, locked in id order, and every change of stocked writes its ledger row. Returns the
    number of levels whose stocked changed.
    """
    if not targets:
        return 0
    for target in targets:
        if target.stocked < 0:
            raise NegativeStock("setStocked", "stocked cannot be negative")
        if target.buffer is not None and target.buffer < 0:
            raise NegativeBuffer("allocationBuffer", "cannot be negative")
    level_ids = locking.ensure_levels(
        session, pairs=[(t.variant_id, t.location_id) for t in targets]
    )
    current = {
        row.id: row for row in locking.lock_levels_for_update(session, level_ids=level_ids.values())
    }
    now = utcnow()
    stocked_rows: list[dict[str, Any]] = []
    buffer_rows: list[dict[str, Any]] = []
    movements: list[dict[str, Any]] = []
    for target in targets:
        level_id = level_ids[(target.variant_id, target.location_id)]
        row = current[level_id]
        if target.stocked != row.stocked:
            stocked_rows.append({"id": level_id, "stocked": target.stocked, "updated_at": now})
            movements.append(
                {
                    "variant_id": target.variant_id,
                    "location_id": target.location_id,
                    "delta_stocked": target.stocked - row.stocked,
                    "delta_allocated": 0,
                    "stocked_after": target.stocked,
                    "allocated_after": row.allocated,
                    "cause": MovementCause(cause).value,
                    "reference_type": reference_type,
                    "reference_id": target.reference_id,
                    "actor": actor,
                    "created_at": now,
                }
            )
        if target.buffer is not None and target.buffer != row.buffer:
            buffer_rows.append({"id": level_id, "buffer": target.buffer})
        if target.stocked != row.stocked or (
            target.buffer is not None and target.buffer != row.buffer
        ):
            _after_change(session, level_id, target.variant_id)
    if stocked_rows:
        session.execute(update(InventoryLevel), stocked_rows)
    if buffer_rows:
        session.execute(update(InventoryLevel), buffer_rows)
    if movements:
        session.execute(insert(InventoryMovement), movements)
    return len(stocked_rows)


@dataclass(frozen=True)
class AllocationRequest:
    variant_id: int
    location_id: int
    quantity: int
    sale_id: int | None = None
    sale_item_id: int | None = None
    field: str = "quantity"  # names the request in an error (e.g. "lineItems[2].quantity")
    level: "KnownLevel | None" = None  # the caller just read it: no lookup


@dataclass(frozen=True)
class KnownLevel:
    """The stock level of a request's (variant, location), as its caller read it."""

    id: int
    inventory_policy: str


@dataclass(frozen=True)
class NewAllocation:
    """An allocation just made, as the plain row it was inserted from: callers want its id and
    quantity, and building an ORM object per routed line cost more than the rest of the row."""

    id: int
    variant_id: int
    location_id: int
    level_id: int
    quantity: int


def allocate(
    session: Session, *, requests: Sequence[AllocationRequest], actor: str | None = None
) -> list[NewAllocation]:
    """Reserve stock for several lines, all or nothing; raises InsufficientStock."""
    (outcome,) = allocate_each(session, groups=[requests], actor=actor)
    if isinstance(outcome, InsufficientStock):
        raise outcome
    return outcome


def allocate_each(
    session: Session,
    *,
    groups: Sequence[Sequence[AllocationRequest]],
    actor: str | None = None,
) -> list[list[NewAllocation] | InsufficientStock]:
    """Reserve stock for independent groups of requests at once, each group all or nothing.

    The set-based twin of calling `allocate` once per group, in order, for a constant number of
    statements: one read of the levels, one guarded UPDATE of all of them, one INSERT of the
    allocations and one of their ledger rows. When a level refuses (a concurrent sale took the
    units, or the groups together want more of it than it has), the batch's shares of the
    refused groups are taken back and those groups are tried again one at a time, in order, so
    each gets what a call of its own would have given it. Answers, per group, its allocations
    (in request order) or the InsufficientStock that refused it.
    """
    flat = [request for group in groups for request in group]
    for request in flat:
        if request.quantity <= 0:
            raise Invalid(request.field, "quantity to allocate must be positive")
    levels = _levels_for(session, flat)
    level_of = {pair: level_id for pair, (level_id, _) in levels.items()}
    backorder = {
        level_id for level_id, policy in levels.values() if policy == InventoryPolicy.continue_
    }

    def wanted_by(group: Sequence[AllocationRequest]) -> dict[int, int]:
        wanted: dict[int, int] = defaultdict(int)
        for request in group:
            wanted[level_of[(request.variant_id, request.location_id)]] += request.quantity
        return wanted

    # The allocation rows go in before the guarded UPDATE takes the level locks, so a hot
    # level stays locked only for the UPDATE, its ledger rows and the commit.
    rows = _insert_allocations(session, groups, level_of)
    wanted = wanted_by(flat)
    after = locking.allocate_levels(session, wanted=wanted, unguarded=backorder & wanted.keys())
    refused = wanted.keys() - after.keys()
    retry = [i for i, group in enumerate(groups) if wanted_by(group).keys() & refused]
    undo: dict[int, int] = defaultdict(int)
    for index in retry:
        for level_id, quantity in wanted_by(groups[index]).items():
            if level_id in after:
                undo[level_id] += quantity
    after.update(locking.unallocate_levels(session, amounts=undo))
    failed: dict[int, InsufficientStock] = {}
    for index in retry:  # one at a time, in order: exactly what a call of its own would do
        mine = wanted_by(groups[index])
        got = locking.allocate_levels(session, wanted=mine, unguarded=backorder & mine.keys())
        if got.keys() == mine.keys():
            after.update(got)
        else:
            after.update(locking.unallocate_levels(session, amounts={k: mine[k] for k in got}))
            failed[index] = _shortage(session, groups[index], level_of, mine.keys() - got)
    if failed:
        dropped = [allocation.id for index in failed for _, allocation in rows.pop(index)]
        session.execute(
            delete(Allocation)
            .where(Allocation.id.in_(dropped))
            .execution_options(synchronize_session=False)
        )
    _write_ledger(session, rows, after, actor=actor)
    outcomes: dict[int, list[NewAllocation] | InsufficientStock] = dict(failed)
    for index, made in rows.items():
        outcomes[index] = [allocation for _, allocation in sorted(made, key=lambda m: m[0])]
    return [outcomes[i] for i in range(len(groups))]


def _levels_for(
    session: Session, requests: Sequence[AllocationRequest]
) -> dict[tuple[int, int], tuple[int, str]]:
    """Level id and variant policy per (variant, location), creating missing levels; the levels
    the requests name (`AllocationRequest.level`) are not read again."""
    known = {
        (r.variant_id, r.location_id): (r.level.id, r.level.inventory_policy)
        for r in requests
        if r.level is not None
    }
    pairs = {(r.variant_id, r.location_id) for r in requests} - known.keys()
    levels = locking.levels_with_policies(session, pairs=pairs)
    if levels.keys() != pairs:
        for request in requests:  # a missing level may mean a variant or location that isn't
            if (request.variant_id, request.location_id) not in levels:
                _check_refs(session, request.variant_id, request.location_id)
        locking.ensure_levels(session, pairs=pairs - levels.keys())
        levels = locking.levels_with_policies(session, pairs=pairs)
    return {**levels, **known}


def _shortage(
    session: Session,
    group: Sequence[AllocationRequest],
    level_of: dict[tuple[int, int], int],
    refused: set[int],
) -> InsufficientStock:
    """The request that a one-by-one allocation in level order would have been refused at."""
    have = dict(
        session.execute(
            select(InventoryLevel.id, InventoryLevel.available).where(
                InventoryLevel.id.in_(sorted(refused))
            )
        ).all()
    )
    ordered = sorted(group, key=lambda r: level_of[(r.variant_id, r.location_id)])
    taken: dict[int, int] = defaultdict(int)
    for request in ordered:
        level_id = level_of[(request.variant_id, request.location_id)]
        if level_id not in refused:
            continue
        taken[level_id] += request.quantity
        if taken[level_id] > have.get(level_id, 0):
            return InsufficientStock(
                request.variant_id, request.location_id, request.quantity, request.field
            )
    first = next(r for r in ordered if level_of[(r.variant_id, r.location_id)] in refused)
    return InsufficientStock(first.variant_id, first.location_id, first.quantity, first.field)


def _insert_allocations(
    session: Session,
    groups: Sequence[Sequence[AllocationRequest]],
    level_of: dict[tuple[int, int], int],
) -> dict[int, list[tuple[int, NewAllocation]]]:
    """One INSERT for every group's allocations, in group order and level order within a group
    (the order one call per group would have made them): {group: [(request position, row)]}."""
    now = utcnow()
    placed: list[tuple[int, int, AllocationRequest]] = []  # (group, position, request)
    for index, group in enumerate(groups):
        order = sorted(
            range(len(group)),
            key=lambda i: level_of[(group[i].variant_id, group[i].location_id)],
        )
        placed.extend((index, position, group[position]) for position in order)
    ids = insert_rows_returning_ids(
        session.connection(),
        ALLOCATIONS,
        [_allocation_row(request, level_of, now) for _, _, request in placed],
    )
    rows: dict[int, list[tuple[int, NewAllocation]]] = {index: [] for index in range(len(groups))}
    for (index, position, request), new_id in zip(placed, ids, strict=True):
        level_id = level_of[(request.variant_id, request.location_id)]
        allocation = NewAllocation(
            new_id, request.variant_id, request.location_id, level_id, request.quantity
        )
        rows[index].append((position, allocation))
    return rows


def _allocation_row(
    request: AllocationRequest, level_of: dict[tuple[int, int], int], now: datetime
) -> dict[str, Any]:
    return {
        "variant_id": request.variant_id,
        "location_id": request.location_id,
        "level_id": level_of[(request.variant_id, request.location_id)],
        "sale_id": request.sale_id,
        "sale_item_id": request.sale_item_id,
        "quantity": request.quantity,
        "shipped": 0,
        "released": 0,
        "is_open": True,
        "created_at": now,
        "updated_at": now,
    }


def _write_ledger(
    session: Session,
    rows: dict[int, list[tuple[int, NewAllocation]]],
    after: dict[int, tuple[int, int]],
    *,
    actor: str | None,
) -> None:
    """One INSERT of the ledger rows of the allocations kept.

    Each row carries the running level after its allocation, as if they were made one by one:
    the level's final state (from the guarded UPDATE) minus what this call adds after it.
    """
    kept = sorted(
        (allocation for made in rows.values() for _, allocation in made), key=lambda a: a.id
    )
    if not kept:
        return
    applied: dict[int, int] = defaultdict(int)
    for allocation in kept:
        applied[allocation.level_id] += allocation.quantity
    running = {level_id: after[level_id][1] - total for level_id, total in applied.items()}
    now = utcnow()
    movements: list[dict[str, Any]] = []
    for allocation in kept:
        running[allocation.level_id] += allocation.quantity
        movements.append(
            {
                "variant_id": allocation.variant_id,
                "location_id": allocation.location_id,
                "delta_stocked": 0,
                "delta_allocated": allocation.quantity,
                "stocked_after": after[allocation.level_id][0],
                "allocated_after": running[allocation.level_id],
                "cause": MovementCause.allocation.value,
                "reference_type": "allocation",
                "reference_id": allocation.id,
                "reason": None,
                "actor": actor,
                "created_at": now,
            }
        )
    insert_rows(session.connection(), MOVEMENTS, movements)
    for allocation in kept:
        _after_change(session, allocation.level_id, allocation.variant_id)


def _open_allocation(session: Session, allocation_id: int, quantity: int, field: str) -> Allocation:
    allocation = session.get(Allocation, allocation_id, with_for_update=True)
    if allocation is None:
        raise NotFound("Allocation", allocation_id)
    session.refresh(allocation)
    if quantity <= 0:
        raise Invalid(field, "quantity must be positive")
    if quantity > allocation.open_quantity:
        raise AllocationExceeded(
            field, f"only {allocation.open_quantity} of this allocation are still open"
        )
    return allocation


def release(
    session: Session,
    *,
    allocation_id: int,
    quantity: int,
    cause: MovementCause | str = MovementCause.release,
    actor: str | None = None,
) -> Allocation:
    """Give back reserved units (a cancelled or re-routed line): allocated goes down."""
    allocation = _open_allocation(session, allocation_id, quantity, "quantity")
    after = locking.change_level(session, level_id=allocation.level_id, delta_allocated=-quantity)
    if after is None:  # only possible if the ledger was edited by hand
        raise Invalid("quantity", "the level has less allocated than this allocation")
    allocation.released += quantity
    allocation.is_open = allocation.open_quantity > 0
    _record(
        session,
        level_id=allocation.level_id,
        variant_id=allocation.variant_id,
        location_id=allocation.location_id,
        delta_stocked=0,
        delta_allocated=-quantity,
        after=after,
        cause=cause,
        reference_type="allocation",
        reference_id=allocation.id,
        actor=actor,
    )
    session.flush()
    return allocation


def ship(
    session: Session, *, allocation_id: int, quantity: int, actor: str | None = None
) -> Allocation:
    """Units left the building: stocked and allocated both go down."""
    allocation = _open_allocation(session, allocation_id, quantity, "quantity")
    after = locking.change_level(
        session, level_id=allocation.level_id, delta_stocked=-quantity, delta_allocated=-quantity
    )
    if after is None:
        raise NotEnoughToShip(
            "quantity",
            f"not enough stocked units of variant {allocation.variant_id} to ship {quantity} "
            "(a backorder must be received into stock first)",
        )
    allocation.shipped += quantity
    allocation.is_open = allocation.open_quantity > 0
    _record(
        session,
        level_id=allocation.level_id,
        variant_id=allocation.variant_id,
        location_id=allocation.location_id,
        delta_stocked=-quantity,
        delta_allocated=-quantity,
        after=after,
        cause=MovementCause.shipment,
        reference_type="allocation",
        reference_id=allocation.id,
        actor=actor,
    )
    session.flush()
    return allocation


def rebuild_levels(session: Session) -> int:
    """Recompute every level's stocked and allocated from the ledger; returns levels rewritten.

    Levels without movements are reset to zero. Buffers are settings, not stock, and are kept.
    """
    sums = (
        select(
            InventoryMovement.variant_id,
            InventoryMovement.location_id,
            func.coalesce(func.sum(InventoryMovement.delta_stocked), 0).label("stocked"),
            func.coalesce(func.sum(InventoryMovement.delta_allocated), 0).label("allocated"),
        )
        .group_by(InventoryMovement.variant_id, InventoryMovement.location_id)
        .subquery()
    )
    own = (sums.c.variant_id == InventoryLevel.variant_id) & (
        sums.c.location_id == InventoryLevel.location_id
    )
    stocked = select(sums.c.stocked).where(own).scalar_subquery()
    allocated = select(sums.c.allocated).where(own).scalar_subquery()
    result = session.execute(
        update(InventoryLevel)
        .values(stocked=func.coalesce(stocked, 0), allocated=func.coalesce(allocated, 0))
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(getattr(result, "rowcount", 0) or 0)


def ledger_mismatches(session: Session) -> list[tuple[int, int]]:
    """(variant_id, location_id) of levels that differ from their ledger sums (should be none)."""
    sums = (
        select(
            InventoryMovement.variant_id,
            InventoryMovement.location_id,
            func.sum(InventoryMovement.delta_stocked).label("stocked"),
            func.sum(InventoryMovement.delta_allocated).label("allocated"),
        )
        .group_by(InventoryMovement.variant_id, InventoryMovement.location_id)
        .subquery()
    )
    rows = session.execute(
        select(InventoryLevel.variant_id, InventoryLevel.location_id)
        .outerjoin(
            sums,
            (sums.c.variant_id == InventoryLevel.variant_id)
            & (sums.c.location_id == InventoryLevel.location_id),
        )
        .where(
            (func.coalesce(sums.c.stocked, 0) != InventoryLevel.stocked)
            | (func.coalesce(sums.c.allocated, 0) != InventoryLevel.allocated)
        )
    )
    return [(r.variant_id, r.location_id) for r in rows]


def variant_stock_totals(
    session: Session, variant_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """{variant_id: (stocked, allocated)} summed over every location."""
    if not variant_ids:
        return {}
    rows = session.execute(
        select(
            InventoryLevel.variant_id,
            func.sum(InventoryLevel.stocked),
            func.sum(InventoryLevel.allocated),
        )
        .where(InventoryLevel.variant_id.in_(set(variant_ids)))
        .group_by(InventoryLevel.variant_id)
    ).all()
    return {variant_id: (int(s or 0), int(a or 0)) for variant_id, s, a in rows}
