"""Products and variants. SKUs are unique; matching may ignore case (a setting)."""

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dropwire.catalog.errors import HandleTaken, SkuTaken, UnknownVariant
from dropwire.catalog.models import ChannelVariant, Product, Variant
from dropwire.catalog.schemas import (
    ProductCreate,
    ProductUpdate,
    VariantCreate,
    VariantRead,
    VariantUpdate,
)
from dropwire.core.db import settings_of
from dropwire.core.errors import NotFound, UnknownReference
from dropwire.core.expressions import among, among_bound
from dropwire.core.unit_of_work import changes
from dropwire.core.wiring import wired

PUBLISH_KEY = "catalog.publish_variants"


def mark_for_publishing(session: Session, *, variant_id: int) -> None:
    """A connected variant is new or changed: the channels' publishing endpoints hear of it."""
    marked: set[int] = changes(session, topic=PUBLISH_KEY, empty=set)
    marked.add(variant_id)


def sku_key(sku: str) -> str:
    return sku.strip().lower()


def find_variant_by_sku(
    session: Session, *, sku: str, case_insensitive: bool | None = None
) -> Variant | None:
    """The variant with this SKU; ignoring case when asked (or when the setting says so)."""
    if case_insensitive is None:
        case_insensitive = settings_of(session).case_insensitive_skus
    exact = session.scalar(select(Variant).where(Variant.sku == sku))
    if exact is not None or not case_insensitive:
        return exact
    return session.scalars(
        select(Variant).where(Variant.sku_key == sku_key(sku)).order_by(Variant.id).limit(1)
    ).first()


@cache
def _variants_by_sku(dialect: str) -> Select[Variant]:
    return select(Variant).where(among_bound(Variant.sku, "skus", dialect))


def find_variants_by_sku(
    session: Session, *, skus: Collection[str], case_insensitive: bool | None = None
) -> dict[str, Variant]:
    """`find_variant_by_sku` for many SKUs in one or two statements: {sku asked: variant}."""
    if case_insensitive is None:
        case_insensitive = settings_of(session).case_insensitive_skus
    wanted = set(skus)
    if not wanted:
        return {}
    statement = _variants_by_sku(session.get_bind().dialect.name)
    exact = {v.sku: v for v in session.scalars(statement, {"skus": list(wanted)})}
    found = {sku: exact[sku] for sku in wanted if sku in exact}
    missing = wanted - found.keys()
    if missing and case_insensitive:
        by_key: dict[str, Variant] = {}
        for variant in session.scalars(
            select(Variant)
            .where(among(session, column=Variant.sku_key, values={sku_key(sku) for sku in missing}))
            .order_by(Variant.id)
        ):
            by_key.setdefault(variant.sku_key, variant)
        found.update({sku: by_key[sku_key(sku)] for sku in missing if sku_key(sku) in by_key})
    return found


def channel_variant_id(
    session: Session, *, channel_id: int, external_id: str | None, sku: str | None
) -> int:
    """The variant a channel names by its listing's id (else by SKU); 422 when none matches."""
    if external_id is not None:
        found = session.scalar(
            select(ChannelVariant.variant_id)
            .where(
                ChannelVariant.channel_id == channel_id, ChannelVariant.external_id == external_id
            )
            .order_by(ChannelVariant.id)
            .limit(1)
        )
        if found is None:
            raise UnknownVariant(
                "externalId", f"channel {channel_id} has no variant '{external_id}'"
            )
        return found
    variant = find_variant_by_sku(session, sku=sku or "")
    if variant is None:
        raise UnknownVariant("sku", f"no variant with SKU '{sku}'")
    return variant.id


def channel_link(session: Session, *, channel_id: int, variant_id: int) -> ChannelVariant:
    """The variant's listing on the channel, made (status pending) when there is none yet."""
    link = session.scalar(
        select(ChannelVariant).where(
            ChannelVariant.channel_id == channel_id, ChannelVariant.variant_id == variant_id
        )
    )
    if link is None:
        link = ChannelVariant(channel_id=channel_id, variant_id=variant_id)
        session.add(link)
    return link


def get_variant(session: Session, *, variant_id: int) -> Variant:
    variant = session.get(Variant, variant_id)
    if variant is None:
        raise NotFound("Variant", variant_id)
    return variant


def _ensure_sku_free(session: Session, sku: str, own_id: int | None) -> None:
    clash = find_variant_by_sku(session, sku=sku)
    if clash is not None and clash.id != own_id:
        raise SkuTaken(f"SKU '{sku}' is already used by variant {clash.id}")


def _product_for(session: Session, product_id: int | None, name: str) -> Product:
    if product_id is None:
        product = Product(name=name)
        session.add(product)
        session.flush()
        return product
    existing = session.get(Product, product_id)
    if existing is None:
        raise UnknownReference("productId", f"product {product_id} does not exist")
    return existing


def _flush(session: Session, sku: str) -> None:
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent writer took the SKU first
        raise SkuTaken(f"SKU '{sku}' is already used by another variant") from exc


def create_variant(session: Session, *, data: VariantCreate) -> Variant:
    _ensure_sku_free(session, data.sku, None)
    product = _product_for(session, data.product_id, data.name)
    fields: dict[str, Any] = data.model_dump(exclude_none=True, exclude={"product_id"})
    variant = Variant(product_id=product.id, sku_key=sku_key(data.sku), **fields)
    session.add(variant)
    _flush(session, data.sku)
    mark_for_publishing(session, variant_id=variant.id)
    return variant


def update_variant(session: Session, *, variant: Variant, data: VariantUpdate) -> Variant:
    changes: dict[str, Any] = data.changes()
    if changes.get("sku") is not None and changes["sku"] != variant.sku:
        _ensure_sku_free(session, changes["sku"], variant.id)
        variant.sku_key = sku_key(changes["sku"])
    if changes.get("product_id") is not None:
        _product_for(session, changes["product_id"], variant.name)
    for name, value in changes.items():
        if value is None and name in (
            "sku",
            "name",
            "product_id",
            "inventory_policy",
            "commission_rate_type",
            "commission_rate_routing",
            "grams",
        ):
            continue
        setattr(variant, name, value)
    if session.is_modified(variant):
        mark_for_publishing(session, variant_id=variant.id)
    _flush(session, variant.sku)
    return variant


def get_product(session: Session, *, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("Product", product_id)
    return product


def _ensure_handle_free(session: Session, handle: str | None, own_id: int | None) -> None:
    if handle is None:
        return
    clash = session.scalar(
        select(Product.id).where(Product.handle == handle).order_by(Product.id).limit(1)
    )
    if clash is not None and clash != own_id:
        raise HandleTaken(f"The handle '{handle}' is already product {clash}'s")


def create_product(session: Session, *, data: ProductCreate) -> Product:
    """A product with no variants yet (they are added to it by its id)."""
    _ensure_handle_free(session, data.handle, None)
    product = Product(**data.model_dump())
    session.add(product)
    session.flush()
    return product


def update_product(session: Session, *, product: Product, data: ProductUpdate) -> Product:
    """Change what the product's listing says; its variants are published again, as their
    publishing body carries the product."""
    changed = data.changes()
    if changed.get("handle") is not None:
        _ensure_handle_free(session, changed["handle"], product.id)
    for name, value in changed.items():
        setattr(product, name, value)
    if session.is_modified(product):
        for variant in product.variants:
            mark_for_publishing(session, variant_id=variant.id)
    session.flush()
    return product


StockTotals = Callable[[Session, Sequence[int]], dict[int, tuple[int, int]]]


@dataclass(frozen=True)
class StockSource:
    """The inventory core, which sits above the catalog, says what is stocked and allocated
    (wired by the entry points: a process without it fails to read a variant, never answers
    zero stock)."""

    totals: StockTotals


def stock_totals(session: Session, *, variant_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """{variant_id: (stocked, allocated)} summed over every location."""
    source = wired(session, kind=StockSource)
    return source.totals(session, variant_ids) if variant_ids else {}


def variant_reads(session: Session, *, variants: Sequence[Variant]) -> list[VariantRead]:
    """Variants with their stock totals, in one query for the whole page."""
    totals = stock_totals(session, variant_ids=[v.id for v in variants])
    reads = []
    for variant in variants:
        stocked, allocated = totals.get(variant.id, (0, 0))
        read = VariantRead.model_validate(variant)
        read.inventory_quantity = stocked
        read.inventory_allocated = allocated
        read.inventory_available = stocked - allocated
        reads.append(read)
    return reads
