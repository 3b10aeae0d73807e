"""Allocations that are a caller's whole unit of work, applied in group transactions: the
group-transaction engine (`core.group_transaction`) measured on its hottest rows.

No endpoint allocates alone (an allocation always commits with its sale), so this kind lives
with the benchmark that compares it with one transaction per allocation (`bench_inventory`) and
the tests of the engine's promises (`tests/inventory/test_grouped.py`).

Many clients allocating on the same few hot levels would each lock a level, wait for the
transactions before them to commit, and pay their own statements and commit. Here concurrent
calls share one transaction (`core.group_transaction`): one `allocate_each` for all of them —
one guarded UPDATE of the levels, rows locked in id order, never below zero available — and one
commit, after which each caller gets its allocations, or the `InsufficientStock` a call of its
own would have raised at its place in the group.

Only for allocations that are a unit of work by themselves. An allocation that belongs with
other writes (a sale's lines, purchase orders and ledger rows) must commit with them: it goes
through `inventory.service.allocate` in the caller's transaction, or the caller hands its whole
unit (a sale) to a group transaction kind of its own whose `apply_all` is the set-based form of
that unit — never the allocation alone.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.group_transaction import UnitKind, group_transactions
from dropwire.inventory import service
from dropwire.inventory.errors import InsufficientStock
from dropwire.inventory.service import AllocationRequest


@dataclass(frozen=True)
class _Allocate:
    requests: tuple[AllocationRequest, ...]
    actor: str | None


def _allocate_all(
    session: Session, units: list[_Allocate]
) -> list[tuple[int, ...] | InsufficientStock]:
    """`allocate_each` over the units, one call per run of units with the same actor."""
    outcomes: list[tuple[int, ...] | InsufficientStock] = []
    start = 0
    while start < len(units):
        end = start + 1
        while end < len(units) and units[end].actor == units[start].actor:
            end += 1
        made = service.allocate_each(
            session, groups=[unit.requests for unit in units[start:end]], actor=units[start].actor
        )
        outcomes.extend(
            outcome
            if isinstance(outcome, InsufficientStock)
            else tuple(allocation.id for allocation in outcome)
            for outcome in made
        )
        start = end
    return outcomes


ALLOCATE = UnitKind("inventory.allocate", _allocate_all)


def allocate_now(
    database: Database, requests: Sequence[AllocationRequest], *, actor: str | None = None
) -> list[int]:
    """`service.allocate` (all or nothing) as a unit of work of its own, committed before it
    returns, together with concurrent callers': the ids of the allocations, in request order.

    Raises InsufficientStock (nothing allocated), a domain error for a bad request, or
    `GroupCommitFailed` (nothing stored: safe to retry).
    """
    ids = group_transactions(database).run(ALLOCATE, _Allocate(tuple(requests), actor))
    return list(ids)
