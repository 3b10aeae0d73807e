"""The sales domain's front door: every operation other packages call, listed in one place.

Behind it, one module per operation (`manual`, `purchasing`, `shipping`, `cancelling`,
`rerouting`, `returns`, `editing`, `queries`) is the domain's own business. Other packages use
this module for what sales *do* (sales in: `upsert_manual_sale(s)`, `update_sale`; reading one
record: `get_sale`, `get_purchase`, `get_fulfillment`; what happens afterwards: `ship`,
`mark_delivered`, `cancel`, `cancel_purchase`, `move_to_vendor`, `create_return`; which
sources could supply a line: `DefaultRouting`, `candidate_sources_for`), and
`sales.models`, `sales.schemas`, `sales.errors`, `sales.events` and `sales.vendor_view` for what
sales *are* (`tests/architecture/test_sales_front.py` checks it).
"""

from dropwire.sales.cancelling import cancel, cancel_purchase
from dropwire.sales.editing import update_sale
from dropwire.sales.manual import upsert_manual_sale, upsert_manual_sales
from dropwire.sales.purchase_documents import purchase_document
from dropwire.sales.purchase_sending import send_purchase
from dropwire.sales.queries import get_fulfillment, get_purchase, get_sale
from dropwire.sales.rerouting import move_to_vendor
from dropwire.sales.returns import create_return
from dropwire.sales.routing import DefaultRouting, candidate_sources_for
from dropwire.sales.shipping import mark_delivered, ship

__all__ = [
    "DefaultRouting",
    "cancel",
    "cancel_purchase",
    "candidate_sources_for",
    "create_return",
    "get_fulfillment",
    "get_purchase",
    "get_sale",
    "mark_delivered",
    "move_to_vendor",
    "purchase_document",
    "send_purchase",
    "ship",
    "update_sale",
    "upsert_manual_sale",
    "upsert_manual_sales",
]
