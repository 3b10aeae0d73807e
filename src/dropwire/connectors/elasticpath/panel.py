"""The Elastic Path connector's panel on the dashboard's channels page (secrets never shown)."""

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.apilog.redaction import masked_url
from dropwire.channels.connectors import PanelRow
from dropwire.connectors.elasticpath.models import ElasticPathStore


def _set(value: bool) -> str:
    return "set (never shown)" if value else "not set"


def store_panel(session: Session, channel_ids: Sequence[int]) -> Mapping[int, list[PanelRow]]:
    """Each Elastic Path channel's store settings; a channel without them says so."""
    stores = {
        store.channel_id: store
        for store in session.scalars(
            select(ElasticPathStore).where(ElasticPathStore.channel_id.in_(channel_ids))
        )
    }
    panels: dict[int, list[PanelRow]] = {}
    for channel_id in channel_ids:
        store = stores.get(channel_id)
        if store is None:
            panels[channel_id] = [PanelRow("Elastic Path store", "no store settings", error=True)]
            continue
        location = f" at location {store.location}" if store.location else ""
        panels[channel_id] = [
            PanelRow(
                "Elastic Path store",
                masked_url(store.base_url) or "",
                code=True,
                testid="ep-base-url",
            ),
            PanelRow("Client id", store.client_id, code=True),
            PanelRow("Client secret", _set(store.client_secret_set), testid="ep-client-secret"),
            PanelRow("Webhook secret", _set(store.webhook_secret_set), testid="ep-webhook-secret"),
            PanelRow(
                "Order events in",
                f"{store.webhook_path} · {', '.join(store.observes or [])}",
            ),
            PanelRow("Stock", f"{store.inventory}{location}"),
            PanelRow("Shipping SKUs", ", ".join(store.shipping_skus or []) or "—"),
            PanelRow("Publish products", "yes" if store.publish_products else "no"),
            PanelRow("Integration", store.integration_id or "not registered"),
        ]
    return panels
