"""The feeds domain's refusals: feeds, their items, their mapping and their runs."""

from datetime import datetime

from dropwire.core.errors import Conflict, Invalid, TooManyRequests


class InvalidMapping(Invalid):
    """A pull feed's mapping (items selector, field selectors) is not usable."""

    code = "feed.invalid_mapping"

    def __init__(self, message: str) -> None:
        super().__init__("mapping", message)


class RequiredSetting(Invalid):
    """A feed or feed-item setting needed by another one the request chose."""

    code = "feed.setting_required"


class VendorSkuRequired(Invalid):
    code = "feed.vendor_sku_required"


class VendorSkuTaken(Conflict):
    """Another item of a case-insensitive feed holds the same vendor SKU."""

    code = "feed.vendor_sku_taken"


class VariantAlreadyStocked(Conflict):
    """Another item of the feed is already connected to the variant."""

    code = "feed.variant_already_stocked"


class FeedStockAllocated(Conflict):
    """Stock of the feed (or of one item) is allocated to open sales; ship or cancel first."""

    code = "feed.stock_allocated"


class DailySkuLimitReached(TooManyRequests):
    code = "feed.daily_sku_limit"

    def __init__(self, limit: int, *, resets_at: datetime, now: datetime) -> None:
        super().__init__(
            f"Daily SKU limit of {limit} feed variants reached; "
            f"it resets at {resets_at.isoformat()}",
            retry_after=max(1, int((resets_at - now).total_seconds())),
        )


class NotAPullFeed(Invalid):
    code = "feed.not_a_pull_feed"


class RunInProgress(Conflict):
    """Another run of the feed is queued or running."""

    code = "feed_run.in_progress"


class RunNotHeld(Conflict):
    """Only a held run can be approved or discarded."""

    code = "feed_run.not_held"


class RunSuperseded(Conflict):
    """A newer run of the feed applied a newer file; the held one can only be discarded."""

    code = "feed_run.superseded"
