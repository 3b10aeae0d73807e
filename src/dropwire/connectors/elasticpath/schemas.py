"""The Elastic Path block of a channel body (`elasticPath`): what a store's settings accept and
show. The channels domain composes it into its bodies through the connector's `StoreSettings`."""

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from dropwire.core.schemas import ApiInput, ApiModel, HttpUrl


class StockMode(StrEnum):
    transactions = "transactions"  # classic inventory: increment/decrement by the difference
    locations = "locations"  # multi-location inventory: `set` at one location


Sku = Annotated[str, Field(min_length=1, max_length=255)]
OrderEvent = Annotated[str, Field(pattern=r"^order\.[a-z_]+$")]


class ElasticPathFields(ApiInput):
    """An Elastic Path store's settings (`parentChannel: elasticPath`); secrets are write-only."""

    base_url: HttpUrl | None = Field(
        default=None, description="https://useast.api.elasticpath.com, euwest, or custom"
    )
    client_id: Annotated[str, Field(min_length=1, max_length=255)] | None = None
    client_secret: Annotated[str, Field(min_length=1, max_length=1000)] | None = None
    webhook_secret: Annotated[str, Field(min_length=8, max_length=1000)] | None = None
    shipping_skus: list[Sku] | None = Field(default=None, max_length=50)
    inventory: StockMode | None = None
    location: Annotated[str, Field(min_length=1, max_length=255)] | None = Field(
        default=None, description="Multi-location inventory: the location slug to set"
    )
    observes: list[OrderEvent] | None = Field(default=None, max_length=20)
    publish_products: bool | None = Field(
        default=None, description="Create/update PCM products (by SKU) for published variants"
    )


class ElasticPathRead(ApiModel):
    base_url: str
    client_id: str
    client_secret_set: bool
    webhook_secret_set: bool
    shipping_skus: list[str]
    inventory: StockMode
    location: str | None
    observes: list[str]
    publish_products: bool
    integration_id: str | None
    webhook_path: str = Field(description="Where the store's integration delivers order events")
