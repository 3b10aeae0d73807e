"""What the feeds domain plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.feeds.connecting import connected_feed_variants
from dropwire.feeds.pull.tasks import SCHEDULED_FETCH, run_queued_feeds
from dropwire.feeds.tasks import FEED_HASHES, PARSE_WEBHOOK
from dropwire.inventory.detail import DetailSection, SectionName

CONTRIBUTIONS = Contributions(
    job_kinds=(SCHEDULED_FETCH,),  # a pull feed's schedule firing
    inbound_kinds=(PARSE_WEBHOOK,),  # `POST /webhooks/inventory-feeds/parse-webhooks.json`
    hash_owners=(FEED_HASHES,),
    pollers=(run_queued_feeds,),  # pull runs commit batch by batch, so they are not jobs
    serves=(DetailSection(SectionName.feed_variants, connected_feed_variants),),
)
