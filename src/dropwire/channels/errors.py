"""The channels domain's refusals."""

from dropwire.core.errors import Conflict, Invalid


class SettingNotForChannel(Invalid):
    """Settings of one kind of channel (Elastic Path, custom) sent for another kind."""

    code = "channel.setting_not_for_channel"


class CustomChannelExists(Conflict):
    code = "channel.custom_channel_exists"


class BatchTooLarge(Invalid):
    code = "channel.batch_too_large"


class VendorLacksSku(Invalid):
    """A listing names a vendor SKU that none of the vendor's feeds holds."""

    code = "channel.vendor_lacks_sku"
