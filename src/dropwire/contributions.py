"""What a domain contributes to the shared machinery, declared in one object per domain.

Each domain package has a `contributions.py` whose `CONTRIBUTIONS` lists its job kinds, async
inbound kinds, hash owners, commit steps, outbound event kinds, transports, worker pollers and
what it serves another domain (`serves`: objects of types that domain defines, such as
inventory's `catalog.service.StockSource`). The entry points (`dropwire.domains`) list every
domain's declaration in one place and `assemble` them into the `Wiring` their `Database`
carries; nothing registers itself by being imported.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from dropwire.core.unit_of_work import CommitStep, CommitSteps
from dropwire.core.wiring import Wiring
from dropwire.delivery.kinds import EventKind, EventKinds
from dropwire.delivery.transports import NamedTransport, Transports
from dropwire.inbound.registry import HashOwner, HashOwners, InboundKind, InboundKinds
from dropwire.inbound.service import job_kind
from dropwire.jobs.registry import JobKind, JobKinds
from dropwire.jobs.worker import Poller, Pollers


@dataclass(frozen=True)
class Contributions:
    """One domain's part of the wiring (every field optional)."""

    job_kinds: tuple[JobKind, ...] = ()
    inbound_kinds: tuple[InboundKind, ...] = ()  # each also becomes the job kind applying it
    hash_owners: tuple[HashOwner, ...] = ()
    commit_steps: tuple[CommitStep, ...] = ()  # ordered among all domains' by `after`
    event_kinds: tuple[EventKind, ...] = ()
    transports: tuple[NamedTransport, ...] = ()
    pollers: tuple[Poller, ...] = ()
    serves: tuple[object, ...] = ()  # parts another domain looks up by their type


def assemble(declarations: Iterable[Contributions]) -> Wiring:
    """The wiring of these declarations; a name declared twice or a step waiting for an
    unknown one is an error here, at start-up."""
    declared = tuple(declarations)
    inbound = [kind for each in declared for kind in each.inbound_kinds]
    return Wiring(
        (
            JobKinds(
                [
                    *(kind for each in declared for kind in each.job_kinds),
                    *(job_kind(kind) for kind in inbound),
                ]
            ),
            InboundKinds(inbound),
            HashOwners(owner for each in declared for owner in each.hash_owners),
            CommitSteps([step for each in declared for step in each.commit_steps]),
            EventKinds(kind for each in declared for kind in each.event_kinds),
            Transports(transport for each in declared for transport in each.transports),
            Pollers(tuple(poller for each in declared for poller in each.pollers)),
            *(part for each in declared for part in each.serves),
        )
    )
