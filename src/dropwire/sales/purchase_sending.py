"""A purchase order reaches its vendor by the vendor's `purchaseOrderDelivery`: an email with
its PDFs, a signed webhook, or the portal (nothing is sent). `send_purchase` sends it again.

Emails of one purchase order keep their order and are composed when sent, from the order as it
stands then; an update that finds the previous email of the same order still waiting (no attempt
yet) is carried by it instead of adding a second one, so a vendor gets one email per event,
never two for one burst of changes.
"""

from sqlalchemy import select, update
from sqlalchemy.orm import Session, joinedload, undefer

from dropwire.core.db import settings_of
from dropwire.core.time import utcnow
from dropwire.delivery import outbox
from dropwire.mail import outbox as mail_outbox
from dropwire.mail.composing import Composed, Composer, NotComposed
from dropwire.mail.defaults import PURCHASE_UPDATED
from dropwire.mail.models import EmailMessage
from dropwire.mail.service import render_event
from dropwire.sales.models import Purchase
from dropwire.sales.payloads import purchase_body
from dropwire.sales.purchase_documents import attachments, email_context, purchase_document
from dropwire.vendors.models import DropshipProvider, PurchaseOrderDelivery

SENT, FAILED = "sent", "failed"


def _ordering_key(purchase: Purchase, vendor: DropshipProvider) -> str:
    return f"purchase-email:{purchase.id}:{vendor.id}"


def email_purchase(
    session: Session, *, purchase: Purchase, vendor: DropshipProvider, event: str
) -> EmailMessage | None:
    """`purchase.{event}` by email to the vendor's addresses, with both PDFs attached: recorded
    here, composed from the order as it stands when it is sent (`PURCHASE_EMAILS`)."""
    recipients = vendor.mail_recipients
    if not recipients:
        return None
    key = _ordering_key(purchase, vendor)
    name = f"purchase.{event}"
    if (
        name == PURCHASE_UPDATED
        and (waiting := mail_outbox.waiting(session, ordering_key=key)) is not None
    ):
        return mail_outbox.renew(waiting)
    return mail_outbox.record_email(
        session,
        event=name,
        to=recipients,
        to_name=vendor.name,
        parts=None,
        subject_type="purchase",
        subject_id=purchase.id,
        purchase_id=purchase.id,
        dropship_provider_id=vendor.id,
        ordering_key=key,
    )


def _compose_purchase_email(session: Session, message: EmailMessage) -> Composed:
    """A purchase order's email and its two PDFs, from the vendor's view of the order now."""
    purchase = session.get(Purchase, message.purchase_id or 0)
    if purchase is None:
        raise NotComposed(f"purchase order {message.purchase_id} no longer exists")
    vendor = session.get(DropshipProvider, message.dropship_provider_id or 0)
    settings = settings_of(session)
    document = purchase_document(purchase, vendor, settings, message.event.split(".")[-1])
    context = email_context(document, purchase.id, settings)
    return Composed(
        render_event(session, event=message.event, context=context), attachments(document)
    )


def _load_purchases(session: Session, messages: list[EmailMessage]) -> object:
    """The purchase orders (lines, sales and their lines) and vendors of these emails, a
    statement per table instead of several per email."""
    purchase_ids = {message.purchase_id for message in messages if message.purchase_id}
    vendor_ids = {m.dropship_provider_id for m in messages if m.dropship_provider_id}
    purchases = session.scalars(
        select(Purchase)
        .where(Purchase.id.in_(purchase_ids))
        .options(
            joinedload(Purchase.sale),
            undefer(Purchase.sale_defaults),
            undefer(Purchase.sale_currency),
        )
    ).all()
    vendors = session.scalars(
        select(DropshipProvider).where(DropshipProvider.id.in_(vendor_ids))
    ).all()
    return purchases, vendors


PURCHASE_EMAILS = Composer("purchase.", _compose_purchase_email, prepare=_load_purchases)


def webhook_purchase(
    session: Session, *, purchase: Purchase, vendor: DropshipProvider, event: str
) -> None:
    if not vendor.order_endpoint:
        return
    outbox.record(
        session,
        event=f"purchase.{event}",
        url=vendor.order_endpoint,
        body=purchase_body(purchase, event),
        subject_type="purchase",
        subject_id=purchase.id,
        dropship_provider_id=vendor.id,
        channel_id=purchase.sale.channel_id,
        hash_header=vendor.webhook_secret,
    )


def purchase_changed(
    session: Session, *, purchase: Purchase, vendor: DropshipProvider, event: str
) -> None:
    """Tell `vendor` about the event the way it receives purchase orders."""
    method = vendor.delivery_method
    if method == PurchaseOrderDelivery.email:
        email_purchase(session, purchase=purchase, vendor=vendor, event=event)
    elif method == PurchaseOrderDelivery.webhook:
        webhook_purchase(session, purchase=purchase, vendor=vendor, event=event)


def send_purchase(session: Session, *, purchase: Purchase) -> Purchase:
    """Send the purchase order to its vendor again, as it stands, by the vendor's method; with
    the portal nothing leaves, and the order counts as sent (it is there to read)."""
    vendor = session.get(DropshipProvider, purchase.dropship_provider_id or 0)
    if vendor is None:
        return purchase
    event = "cancelled" if purchase.cancellation_status == "full" else "created"
    if vendor.delivery_method == PurchaseOrderDelivery.portal:
        purchase.send_status, purchase.sent_at = SENT, utcnow()
    else:
        purchase_changed(session, purchase=purchase, vendor=vendor, event=event)
    session.flush()
    return purchase


def purchase_message_finished(
    session: Session, subject_type: str, subject_id: int, state: str
) -> None:
    """A purchase order's message settled: the order shows whether it reached its vendor."""
    if subject_type != "purchase":
        return
    values: dict[str, object] = {"send_status": SENT if state == "delivered" else FAILED}
    if state == "delivered":
        values["sent_at"] = utcnow()
    session.execute(
        update(Purchase)
        .where(Purchase.id == subject_id)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
