"""Elastic Path payloads → Dropwire shapes, following the Onport order template.

Line `externalId` = `{orderId}_{itemId}` (never changes: order states flow back by it), price =
the taxed unit amount / 100, items whose SKU is a shipping SKU become shipping lines, items with
a negative price (discount lines) are left out.
"""

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

ORDER_EVENTS = frozenset(
    {
        "order.created",
        "order.updated",
        "order.paid",
        "order.authorized",
        "order.fulfilled",
        "order.cancelled",
        "order.refunded",
    }
)
_PAYMENT = {"paid": "paid", "partially_paid": "partiallyPaid"}


class BadEvent(ValueError):
    """A delivery we cannot read (logged, answered 422; never retried by us)."""


@dataclass(frozen=True)
class Event:
    id: str
    triggered_by: str
    order_id: str | None
    order: dict[str, Any] | None  # `{data, included}`; None when only `{type, id}` came


def _resource(body: dict[str, Any]) -> Any:
    payload = body.get("payload")
    if payload is not None:
        return payload
    resources = body.get("resources")
    if isinstance(resources, str):
        try:
            return json.loads(resources)
        except ValueError as exc:
            raise BadEvent("resources is not valid JSON") from exc
    if isinstance(resources, list):  # legacy: a list of partial objects; the first is the order
        return resources[0] if resources else None
    return resources


def parse_event(body: Any) -> Event:
    """Either format: current (`triggered_by` + `payload`) or legacy (`trigger` + `resources`)."""
    if not isinstance(body, dict):
        raise BadEvent("the body must be a JSON object")
    event_id = body.get("id")
    trigger = body.get("triggered_by") or body.get("trigger")
    if not isinstance(event_id, str) or not event_id or len(event_id) > 128:
        raise BadEvent("id: the event id is missing")
    if not isinstance(trigger, str) or not trigger:
        raise BadEvent("triggered_by: the event name is missing")
    resource = _resource(body)
    if not isinstance(resource, dict):
        return Event(event_id, trigger, None, None)
    data = resource.get("data") if "data" in resource else resource
    if not isinstance(data, dict):
        return Event(event_id, trigger, None, None)
    if isinstance(data.get("attributes"), dict):  # JSON:API style, if it ever appears
        data = {**data["attributes"], **{k: v for k, v in data.items() if k != "attributes"}}
    order_id = data.get("id")
    order_id = str(order_id) if isinstance(order_id, (str, int)) else None
    has_order = "data" in resource and any(k in data for k in ("status", "payment", "meta"))
    order = {"data": data, "included": resource.get("included") or {}} if has_order else None
    return Event(event_id, trigger, order_id, order)


def updated_at(order: dict[str, Any]) -> datetime | None:
    stamp = ((order.get("data") or {}).get("meta") or {}).get("timestamps", {}).get("updated_at")
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None


def _unit_amount(item: dict[str, Any]) -> int | None:
    try:
        amount = item["meta"]["display_price"]["with_tax"]["unit"]["amount"]
    except (KeyError, TypeError):
        amount = (item.get("unit_price") or {}).get("amount")
    return amount if isinstance(amount, int) else None


def _price(amount: int | None) -> str | None:
    return None if amount is None else str(Decimal(amount) / 100)


def line_key(order_id: str, item_id: str) -> str:
    return f"{order_id}_{item_id}"


def item_id_of(line_external_id: str, order_id: str) -> str | None:
    """The store's item id in a line key; both `_` (the template) and `-` (its prose) parse."""
    for separator in ("_", "-"):
        prefix = f"{order_id}{separator}"
        if line_external_id.startswith(prefix):
            return line_external_id[len(prefix) :]
    return None


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    if not name:
        return None, None
    first, _, last = name.strip().partition(" ")
    return first or None, last or None


def _address(prefix: str, address: Any) -> dict[str, Any]:
    if not isinstance(address, dict):
        return {}
    fields = {
        "first_name": address.get("first_name"),
        "last_name": address.get("last_name"),
        "company": address.get("company_name"),
        "address1": address.get("line_1"),
        "address2": address.get("line_2"),
        "city": address.get("city"),
        "province": address.get("county") or address.get("region"),
        "zip": address.get("postcode"),
        "country": address.get("country"),
    }
    if prefix == "receiver":
        fields["phone"] = address.get("phone_number")
    return {f"{prefix}_{k}": v for k, v in fields.items() if v not in (None, "")}


def manual_sale(order: dict[str, Any], shipping_skus: list[str]) -> dict[str, Any]:
    """The manual-sale body (snake_case field names) for this order."""
    data = order.get("data") or {}
    order_id = str(data.get("id"))
    items = (order.get("included") or {}).get("items") or []
    shipping_set = {sku.strip().lower() for sku in shipping_skus}
    lines: list[dict[str, Any]] = []
    shipping: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("id") is None:
            continue
        sku = str(item.get("sku") or "")
        amount = _unit_amount(item)
        if sku.strip().lower() in shipping_set:
            shipping.append(
                {
                    "code": "shipping-fee",
                    "name": item.get("name") or "Shipping Fee",
                    "service_level": sku,
                    "price": _price(amount),
                }
            )
            continue
        if amount is not None and amount < 0:
            continue
        variant = {"sku": sku or None, "external_id": item.get("product_id") or None}
        lines.append(
            {
                "external_id": line_key(order_id, str(item["id"])),
                "name": item.get("name"),
                "quantity": item.get("quantity"),
                "price": _price(amount),
                "taxable": False,
                "variant": {k: v for k, v in variant.items() if v},
            }
        )
    customer = data.get("customer") or data.get("contact") or {}
    first, last = _split_name(customer.get("name"))
    stamps = (data.get("meta") or {}).get("timestamps") or {}
    defaults: dict[str, Any] = {
        "date_ordered": stamps.get("created_at"),
        "payment_status": _PAYMENT.get(str(data.get("payment")), "notPaid"),
        **_address("receiver", data.get("shipping_address")),
        **_address("billing", data.get("billing_address")),
    }
    instructions = (data.get("shipping_address") or {}).get("instructions")
    if instructions:
        defaults["notes"] = instructions
    if data.get("status") == "cancelled":
        defaults["cancelled"] = True
        defaults["cancel_reason"] = "customer"
    return {
        "external_id": order_id,
        "sale_defaults": {k: v for k, v in defaults.items() if v is not None},
        "customer": {
            k: v
            for k, v in {
                "first_name": first,
                "last_name": last,
                "email": customer.get("email"),
            }.items()
            if v
        },
        "line_items": lines,
        "shipping": shipping,
        "options": {
            "elasticPath": {
                "status": data.get("status"),
                "payment": data.get("payment"),
                "shipping": data.get("shipping"),
                "orderNumber": data.get("order_number"),
            }
        },
    }
