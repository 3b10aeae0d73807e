"""The async twin of manual-sale, and the sales part of a variant's inventory pop-up."""

from functools import cache
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from dropwire.channels.service import get_channel
from dropwire.core.db import settings_of
from dropwire.core.errors import DomainError
from dropwire.core.expressions import among_bound
from dropwire.core.schemas import input_report
from dropwire.inbound.registry import Applied, InboundKind, Owner, external_id_of
from dropwire.sales import manual
from dropwire.sales.models import Sale, SaleItem
from dropwire.sales.schemas import ManualSale


def _manual_sale(session: Session, channel_id: int, item: dict[str, Any]) -> Applied:
    data = ManualSale.model_validate(item)
    _sale, changed = manual.upsert_manual_sale(
        session, channel=get_channel(session, channel_id=channel_id), data=data, actor="inbound"
    )
    return Applied(external_id=data.external_id, skipped=not changed)


def _manual_sales(
    session: Session, channel_id: int, items: list[dict[str, Any]]
) -> list[Applied | Exception]:
    """Queued sales of one channel in one transaction, in the order the channel sent them, as
    one batch (`manual.upsert_manual_sales`): a bad one fails alone."""
    channel = get_channel(session, channel_id=channel_id)
    strict = settings_of(session).strict_input
    outcomes: list[Applied | Exception] = []
    valid: list[tuple[int, ManualSale, str | None]] = []
    for item in items:
        try:
            with input_report(strict=strict) as report:
                data = ManualSale.model_validate(item)
        except (DomainError, ValidationError) as exc:
            outcomes.append(exc)
            continue
        ignored = f"ignored fields: {', '.join(report.ignored)}" if report.ignored else None
        valid.append((len(outcomes), data, ignored))
        outcomes.append(Applied(external_id=data.external_id))
    applied = manual.upsert_manual_sales(
        session, channel=channel, sales=[data for _, data, _ in valid], actor="inbound"
    )
    for (position, data, ignored), outcome in zip(valid, applied, strict=True):
        if isinstance(outcome, DomainError):
            outcomes[position] = outcome
        else:
            outcomes[position] = Applied(
                external_id=data.external_id, skipped=not outcome[1], note=ignored
            )
    return outcomes


def _sale_exists(session: Session, channel_id: int, item: dict[str, Any]) -> bool:
    return (
        session.scalar(
            select(Sale.id).where(
                Sale.channel_id == channel_id, Sale.external_id == external_id_of(item)
            )
        )
        is not None
    )


@cache
def _known_sales(dialect: str) -> Select[str]:
    """The external ids bound as `external_ids` that the channel has sales for (a group
    commit's planning read: one statement text for any number of ids on PostgreSQL)."""
    return select(Sale.external_id).where(
        Sale.channel_id == bindparam("channel_id"),
        among_bound(Sale.external_id, "external_ids", dialect),
    )


def _sales_created(session: Session, channel_id: int, items: list[dict[str, Any]]) -> list[bool]:
    """Which items would create their sale: one query for all of them."""
    external_ids = {e for item in items if (e := external_id_of(item)) is not None}
    params = {"channel_id": channel_id, "external_ids": list(external_ids)}
    statement = _known_sales(session.get_bind().dialect.name)
    known = set(session.scalars(statement, params)) if external_ids else set()
    return [external_id_of(item) not in known for item in items]


MANUAL_SALE = InboundKind(
    name="inbound.manual_sale",
    owner=Owner.custom_channel,
    apply=_manual_sale,
    record_key=lambda channel_id, item: (
        f"sale:{channel_id}:{external_id_of(item)}" if external_id_of(item) else None
    ),
    creates=lambda session, channel_id, item: not _sale_exists(session, channel_id, item),
    creates_all=_sales_created,
    batch=False,
    # a request is one job, applied with the channel's other queued sales in one batch;
    # the channel's key keeps every sale's updates in the order they were sent
    apply_batch=_manual_sales,
    owner_key=lambda channel_id: f"sale-batch:{channel_id}",
)


def recent_sales(session: Session, variant_id: int) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SaleItem, Sale)
        .join(Sale, Sale.id == SaleItem.sale_id)
        .where(SaleItem.variant_id == variant_id)
        .order_by(SaleItem.id.desc())
        .limit(10)
    ).all()
    return [
        {
            "saleId": sale.id,
            "reference": sale.reference,
            "saleItemId": item.id,
            "quantity": item.quantity,
            "quantityShipped": item.quantity_shipped,
            "quantityCancelled": item.quantity_cancelled,
            "inventoryStatus": sale.inventory_status,
            "createdAt": sale.created_at.isoformat(),
        }
        for item, sale in rows
    ]
