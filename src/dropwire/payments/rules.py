"""Which rate applies to a line: the variant's (when its routing says so) > a rule naming tag and
channel > a rule naming the tag > a rule naming the channel > the vendor's. Among rules of one
kind, one for this vendor beats one for every vendor; a rule naming only a vendor ranks just
above the vendor's own rate. Ties go to the older rule."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dropwire.catalog.models import CommissionRateRouting
from dropwire.payments.commission import AppliedRate
from dropwire.payments.models import CommissionRule
from dropwire.vendors.models import DropshipProvider, RateType


class RatedVariant(Protocol):
    """What a rate reads of a variant (a `Variant`, or its columns read as a row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def tags(self) -> list[str]: ...
    @property
    def commission_rate(self) -> Decimal | None: ...
    @property
    def commission_rate_type(self) -> RateType: ...
    @property
    def commission_rate_routing(self) -> CommissionRateRouting: ...


@dataclass(frozen=True)
class Rules:
    """Every commission rule, read once for a batch of lines."""

    rules: Sequence[CommissionRule]
    _tags: dict[int, frozenset[str]] = field(default_factory=dict)

    @classmethod
    def load(cls, session: Session) -> "Rules":
        return cls(list(session.scalars(_EVERY_RULE)))

    def rate_for(
        self, *, vendor: DropshipProvider, channel_id: int | None, variant: RatedVariant | None
    ) -> AppliedRate:
        if (
            variant is not None
            and variant.commission_rate_routing == CommissionRateRouting.variant
            and variant.commission_rate is not None
        ):
            return AppliedRate(variant.commission_rate, variant.commission_rate_type, "variant")
        tags = self._tags_of(variant)
        best: tuple[tuple[int, int, int], CommissionRule] | None = None
        for rule in self.rules:
            rank = _rank(rule, vendor.id, channel_id, tags)
            if rank is not None and (best is None or rank < best[0]):
                best = (rank, rule)
        if best is not None:
            rule = best[1]
            return AppliedRate(rule.commission_rate, rule.commission_rate_type, f"rule:{rule.id}")
        return AppliedRate(vendor.commission_rate, vendor.commission_rate_type, "vendor")

    def _tags_of(self, variant: RatedVariant | None) -> frozenset[str]:
        if variant is None or not self.rules:
            return NO_TAGS
        if variant.id is None:  # not stored: nothing to remember it by
            return _tag_keys(variant.tags)
        tags = self._tags.get(variant.id)
        if tags is None:
            tags = self._tags[variant.id] = _tag_keys(variant.tags)
        return tags


_EVERY_RULE = select(CommissionRule).order_by(CommissionRule.id)  # built once: read per shipment


def _tag_keys(tags: Iterable[str]) -> frozenset[str]:
    return frozenset(tag.strip().lower() for tag in tags)


NO_TAGS: frozenset[str] = frozenset()


def _rank(
    rule: CommissionRule, vendor_id: int, channel_id: int | None, tags: frozenset[str]
) -> tuple[int, int, int] | None:
    """A smaller rank is more specific; None when the rule does not match the line."""
    if rule.dropship_provider_id is not None and rule.dropship_provider_id != vendor_id:
        return None
    if rule.channel_id is not None and rule.channel_id != channel_id:
        return None
    if rule.tag is not None and rule.tag.strip().lower() not in tags:
        return None
    if rule.tag is not None and rule.channel_id is not None:
        kind = 0
    elif rule.tag is not None:
        kind = 1
    elif rule.channel_id is not None:
        kind = 2
    else:
        kind = 3
    return (kind, 0 if rule.dropship_provider_id is not None else 1, rule.id)
