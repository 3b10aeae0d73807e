"""The Elastic Path connector's refusals."""

from dropwire.core.errors import Invalid


class StoreSettingsInvalid(Invalid):
    """The channel's store settings are missing, incomplete or point somewhere refused."""

    code = "elasticpath.invalid_settings"


class InvalidStoreEvent(Invalid):
    """A delivery from the store that is not an integration event Dropwire understands."""

    code = "elasticpath.invalid_event"


class OrderWithoutItems(Invalid):
    """The store's order holds only shipping or discounts: nothing to sell."""

    code = "elasticpath.order_without_items"
