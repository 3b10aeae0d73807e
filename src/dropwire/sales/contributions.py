"""What the sales domain plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.inventory.detail import DetailSection, SectionName
from dropwire.sales.purchase_sending import PURCHASE_EMAILS
from dropwire.sales.tasks import MANUAL_SALE, recent_sales
from dropwire.sales.webhooks import EVENT_KINDS, SEND_SALES_EVENTS

CONTRIBUTIONS = Contributions(
    inbound_kinds=(MANUAL_SALE,),  # `POST /webhooks/custom-channels/manual-sale.json`
    commit_steps=(SEND_SALES_EVENTS,),  # purchase orders, fulfillments, returns → webhooks
    event_kinds=EVENT_KINDS,
    serves=(
        DetailSection(SectionName.recent_sales, recent_sales),
        PURCHASE_EMAILS,  # purchase-order emails, composed when sent
    ),
)
