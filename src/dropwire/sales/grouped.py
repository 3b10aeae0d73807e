"""Manual-sale upserts of concurrent requests, applied together (`http.grouped`).

Alone, a one-line sale costs about as much as a batch of a hundred (its statements do not grow
with its size, and most of its time is the transaction's fixed cost); applied together,
concurrent requests share those statements and one commit.
"""

from dataclasses import dataclass
from functools import cache
from itertools import groupby

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, lazyload

from dropwire.channels.models import Channel
from dropwire.core.errors import DomainError, NotFound
from dropwire.core.expressions import among_bound
from dropwire.sales.manual import stored_sales, upsert_manual_sales
from dropwire.sales.models import Sale
from dropwire.sales.schemas import ManualSale


@dataclass(frozen=True, eq=False)
class SaleUpsert:
    """One manual-sale request: a sale of a channel, by an API user."""

    channel_id: int
    data: ManualSale
    actor: str | None

    def sale_key(self) -> tuple[int, str]:
        """The sale it creates or changes."""
        return self.channel_id, self.data.external_id


def upsert_sales(session: Session, upserts: list[SaleUpsert]) -> list[Sale | DomainError]:
    """Each upsert as `upsert_manual_sale` alone would apply it, in order; per upsert its sale,
    loaded as stored (one statement per relation for all), or why it was refused.

    A run of upserts for the same channel by the same user is one `upsert_manual_sales` batch.
    """
    wanted = {upsert.channel_id for upsert in upserts}
    statement = _channels(session.get_bind().dialect.name)
    channels = {
        channel.id: channel for channel in session.scalars(statement, {"ids": list(wanted)})
    }
    changed: set[int] = set()  # sales stored before: read back for the answer
    outcomes: list[Sale | DomainError] = []
    for (channel_id, actor), same in groupby(upserts, key=lambda u: (u.channel_id, u.actor)):
        run = [upsert.data for upsert in same]
        channel = channels.get(channel_id)
        if channel is None:
            outcomes.extend(NotFound("Channel", channel_id) for _ in run)
            continue
        stored = stored_sales(
            session, channel=channel, external_ids={data.external_id for data in run}
        )
        changed.update(sale.id for sale in stored.values())
        made = upsert_manual_sales(session, channel=channel, sales=run, actor=actor, stored=stored)
        outcomes.extend(o if isinstance(o, DomainError) else o[0] for o in made)
    _load_as_stored(session, changed)
    return outcomes


@cache
def _channels(dialect: str) -> Select[Channel]:
    """The channels bound as `ids`, without their custom-channel row (not used here)."""
    return (
        select(Channel)
        .where(among_bound(Channel.id, "ids", dialect))
        .options(lazyload(Channel.custom_channel))
    )


def _load_as_stored(session: Session, sale_ids: set[int]) -> None:
    """Read changed sales and their lines, purchase orders and shipments back as stored (what
    the answer shows), all at once. A sale created here is whole as made: nothing to read."""
    if sale_ids:
        session.flush()
        session.scalars(
            select(Sale).where(Sale.id.in_(sale_ids)).execution_options(populate_existing=True)
        ).all()
