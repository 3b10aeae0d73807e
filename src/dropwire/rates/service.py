"""Shipping rates from each vendor's rate table: flat, by weight band, by destination country.

A parcel's weight is the sum of its units' `grams` (the variant's, or the cart's). The rates
that apply are the vendor's rows whose countries include the destination (or name none) and
whose band holds the weight, cheapest first. Carrier-bought labels are not part of this.
"""

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import Variant
from dropwire.catalog.service import find_variants_by_sku
from dropwire.core.errors import Invalid, NotFound
from dropwire.rates.models import ShippingRate
from dropwire.rates.schemas import Quote, RateCreate, RateUpdate, RouteShipments, VendorShipment
from dropwire.sales.models import Purchase
from dropwire.sales.service import DefaultRouting, candidate_sources_for
from dropwire.vendors.models import DropshipProvider


def create(session: Session, *, data: RateCreate) -> ShippingRate:
    if session.get(DropshipProvider, data.dropship_provider_id) is None:
        raise NotFound("Dropship provider", data.dropship_provider_id)
    rate = ShippingRate(**data.model_dump(exclude_none=True))
    session.add(rate)
    session.flush()
    return rate


def update(session: Session, *, rate: ShippingRate, data: RateUpdate) -> ShippingRate:
    for name, value in data.changes().items():
        if value is None and name not in RateUpdate.clearable:
            continue
        setattr(rate, name, [] if name == "countries" and value is None else value)
    low, high = rate.min_grams, rate.max_grams
    if low is not None and high is not None and high <= low:
        raise Invalid("maxGrams", "maxGrams must be above minGrams")
    session.flush()
    return rate


def get(session: Session, *, rate_id: int) -> ShippingRate:
    rate = session.get(ShippingRate, rate_id)
    if rate is None:
        raise NotFound("Shipping rate", rate_id)
    return rate


def quotes(
    session: Session, *, vendor_ids: set[int], country: str | None, grams: dict[int, int]
) -> dict[int, list[Quote]]:
    """Per vendor, the rates that apply to its parcel (`grams[vendor]`), cheapest first."""
    found: dict[int, list[Quote]] = {vendor_id: [] for vendor_id in vendor_ids}
    if not vendor_ids:
        return found
    rows = session.scalars(
        select(ShippingRate)
        .where(ShippingRate.dropship_provider_id.in_(vendor_ids))
        .order_by(ShippingRate.price, ShippingRate.id)
    )
    for rate in rows:
        weight = grams[rate.dropship_provider_id]
        if rate.countries and (country or "").upper() not in rate.countries:
            continue
        if rate.min_grams is not None and weight < rate.min_grams:
            continue
        if rate.max_grams is not None and weight >= rate.max_grams:
            continue
        quote = Quote.model_validate({**_fields(rate), "grams": weight})
        found[rate.dropship_provider_id].append(quote)
    return found


def _fields(rate: ShippingRate) -> dict[str, Any]:
    names = ("id", "dropship_provider_id", "name", "code", "carrier", "service_level", "price")
    return {name: getattr(rate, name) for name in names}


def purchase_rates(session: Session, *, purchase: Purchase) -> list[Quote]:
    """The vendor's rates for this purchase order's open units (all units once shipped)."""
    if purchase.dropship_provider_id is None:
        raise Invalid("id", "an in-house purchase order has no vendor rate table")
    variant_ids = {item.variant_id for item in purchase.items if item.variant_id}
    weights = (
        dict(
            session.execute(
                select(Variant.id, Variant.grams).where(Variant.id.in_(variant_ids))
            ).all()
        )
        if variant_ids
        else {}
    )
    open_units = sum(item.quantity_open for item in purchase.items)
    grams = sum(
        (item.quantity_open if open_units else item.quantity) * weights.get(item.variant_id or 0, 0)
        for item in purchase.items
    )
    vendor = purchase.dropship_provider_id
    country = purchase.sale.receiver_country
    return quotes(session, vendor_ids={vendor}, country=country, grams={vendor: grams})[vendor]


def route_shipments(session: Session, *, data: RouteShipments) -> list[VendorShipment]:
    """Where each cart item would be routed (as a sale's line would be now) and, per vendor,
    the rates its parcel may ship with. Items in-house or with no source have no vendor."""
    country = data.destination.country.upper() if data.destination.country else None
    variants = _variants(session, data)
    sources = candidate_sources_for(
        session, variants=[v for v in variants if v is not None], country=country
    )
    ranking = DefaultRouting()
    shares: dict[int | None, list[dict[str, Any]]] = defaultdict(list)
    grams: dict[int | None, int] = defaultdict(int)
    for index, (item, variant) in enumerate(zip(data.items, variants, strict=True)):
        if variant is None:
            raise Invalid(f"items[{index}]", "no variant with this sku or variantId")
        ranked = ranking.rank(sources.get(variant.id, []), item.quantity)
        source = ranked[0] if ranked and ranked[0].available >= item.quantity else None
        vendor_id = source.vendor.id if source is not None and source.vendor else None
        unit = item.grams if item.grams is not None else variant.grams
        shares[vendor_id].append(
            {"sku": variant.sku, "variantId": variant.id, "quantity": item.quantity}
        )
        grams[vendor_id] += unit * item.quantity
    vendor_ids = {vendor for vendor in shares if vendor is not None}
    rates = quotes(
        session, vendor_ids=vendor_ids, country=country, grams={v: grams[v] for v in vendor_ids}
    )
    result = []
    for vendor_id, items in shares.items():
        vendor_rates = rates.get(vendor_id, []) if vendor_id is not None else []
        result.append(
            VendorShipment(
                dropship_provider_id=vendor_id,
                items=items,
                grams=grams[vendor_id],
                rates=vendor_rates,
                cheapest=vendor_rates[0].price if vendor_rates else None,
            )
        )
    return result


def _variants(session: Session, data: RouteShipments) -> list[Variant | None]:
    by_sku = find_variants_by_sku(session, skus={i.sku for i in data.items if i.sku})
    ids = {i.variant_id for i in data.items if i.variant_id and not i.sku}
    by_id = {v.id: v for v in session.scalars(select(Variant).where(Variant.id.in_(ids)))}
    return [
        by_sku.get(item.sku) if item.sku else by_id.get(item.variant_id or 0) for item in data.items
    ]
