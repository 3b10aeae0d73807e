"""The wiring the entry points assemble reaches every declared part, and nothing declares a part
outside it: a job kind, commit step, event kind, inbound kind, hash owner or transport defined in
a module but missing from `dropwire.domains` would silently never run."""

import importlib
import pkgutil

import pytest
from sqlalchemy.orm import Session

import dropwire
from dropwire import domains
from dropwire.app import create_app
from dropwire.catalog.models import Variant
from dropwire.catalog.service import StockSource, variant_reads
from dropwire.contributions import Contributions, assemble
from dropwire.core.db import Database
from dropwire.core.unit_of_work import CommitStep, CommitSteps
from dropwire.core.wiring import NotWired
from dropwire.delivery.kinds import EventKind, EventKinds
from dropwire.delivery.transports import NamedTransport, Transports
from dropwire.inbound.registry import HashOwner, HashOwners, InboundKind, InboundKinds
from dropwire.jobs.registry import JobKind, JobKinds
from dropwire.jobs.worker import Worker

DECLARED_TYPES = (JobKind, CommitStep, EventKind, InboundKind, HashOwner, NamedTransport)


def _module_level_parts() -> dict[str, object]:
    """Every declared part any module of the package holds at module level, by where it is."""
    found: dict[str, object] = {}
    for module_info in pkgutil.walk_packages(dropwire.__path__, "dropwire."):
        if ".migrations" in module_info.name or module_info.name.endswith("__main__"):
            continue  # revisions are no modules of the app; `__main__` runs the CLI
        module = importlib.import_module(module_info.name)
        for name, value in vars(module).items():
            values = value if isinstance(value, tuple) else (value,)
            for each in values:
                if isinstance(each, DECLARED_TYPES):
                    found[f"{module_info.name}.{name}:{getattr(each, 'name', each)}"] = each
    return found


def test_the_app_and_its_worker_reach_every_declared_part():
    app = create_app()
    wiring = app.state.database.wiring
    job_kinds, steps = wiring.part(JobKinds), wiring.part(CommitSteps).steps
    inbound, events = wiring.part(InboundKinds), wiring.part(EventKinds)
    owners, transports = wiring.part(HashOwners), wiring.part(Transports)
    pollers = Worker(app.state.database).pollers
    for declaration in domains.DECLARATIONS:
        for job in declaration.job_kinds:
            assert job_kinds.get(job.name) is job
        for kind in declaration.inbound_kinds:
            assert inbound.get(kind.name) is kind
            assert job_kinds.get(kind.name) is not None  # the job that applies its items
        for step in declaration.commit_steps:
            assert step in steps
        for event in declaration.event_kinds:
            assert events.of(event.name) is event
        for owner in declaration.hash_owners:
            assert owners.lookup(owner.owner) is owner.lookup
        for transport in declaration.transports:
            assert transports.get(transport.name) is transport.send
        for poller in declaration.pollers:
            assert poller in pollers
        for part in declaration.serves:
            assert part in wiring.every(type(part))


def test_no_module_holds_a_part_that_is_not_wired():
    declared = [
        part
        for declaration in domains.DECLARATIONS
        for field in (
            "job_kinds",
            "inbound_kinds",
            "commit_steps",
            "event_kinds",
            "hash_owners",
            "transports",
        )
        for part in getattr(declaration, field)
    ]
    unwired = [where for where, part in _module_level_parts().items() if part not in declared]
    assert unwired == []


def test_commit_steps_run_after_the_steps_they_name():
    steps = [step.name for step in domains.wiring().part(CommitSteps).steps]
    for step in domains.wiring().part(CommitSteps).steps:
        for earlier in step.after:
            assert steps.index(earlier) < steps.index(step.name)


def test_a_step_waiting_for_an_unknown_step_is_refused_at_assembly():
    def noop(_session: Session, _changes: object) -> None:
        return None

    waiting = CommitStep("waits", frozenset({"topic"}), noop, after=("nowhere",))
    with pytest.raises(ValueError, match="unknown step nowhere"):
        assemble([Contributions(commit_steps=(waiting,))])


def test_variant_reads_without_inventory_wired_fail_loudly(database):
    without_inventory = assemble(
        declaration
        for declaration in domains.DECLARATIONS
        if not any(isinstance(part, StockSource) for part in declaration.serves)
    )
    bare = Database(database.url, settings=database.settings, wiring=without_inventory)
    try:
        with bare.session(write=False) as session:
            variant = Variant(id=1, sku="A", name="A")
            with pytest.raises(NotWired, match="StockSource"):
                variant_reads(session, variants=[variant])
    finally:
        bare.dispose()
