"""Which rate applies: variant (routing variant) > tag and channel > tag > channel > vendor."""

from decimal import Decimal

import pytest

from dropwire.catalog.models import CommissionRateRouting, Variant
from dropwire.payments.commission import AppliedRate, LineTerms, line_amounts
from dropwire.payments.models import CommissionRule
from dropwire.payments.rules import Rules
from dropwire.vendors.models import CommissionMethod, DropshipProvider, RateBase, RateType

VENDOR = DropshipProvider(
    id=1, commission_rate=Decimal(5), commission_rate_type=RateType.percentage
)


def _rule(rule_id: int, rate: int, **names: object) -> CommissionRule:
    return CommissionRule(
        id=rule_id,
        commission_rate=Decimal(rate),
        commission_rate_type=RateType.percentage,
        **names,
    )


RULES = Rules(
    [
        _rule(1, 10, channel_id=7),
        _rule(2, 20, tag="Summer"),
        _rule(3, 30, tag="summer", channel_id=7),
        _rule(4, 40, tag="summer", dropship_provider_id=2),  # another vendor's
        _rule(5, 50, channel_id=7, dropship_provider_id=1),
    ]
)


def _variant(tags: list[str], routing: CommissionRateRouting, rate: int | None = 60) -> Variant:
    return Variant(
        tags=tags,
        commission_rate=None if rate is None else Decimal(rate),
        commission_rate_type=RateType.percentage,
        commission_rate_routing=routing,
    )


@pytest.mark.parametrize(
    ("tags", "channel_id", "routing", "expected"),
    [
        (["summer"], 7, CommissionRateRouting.variant, "variant"),
        (["summer"], 7, CommissionRateRouting.dropship_provider, "rule:3"),
        (["SUMMER "], 8, CommissionRateRouting.dropship_provider, "rule:2"),
        ([], 7, CommissionRateRouting.dropship_provider, "rule:5"),
        ([], 8, CommissionRateRouting.dropship_provider, "vendor"),
    ],
)
def test_the_most_specific_rate_applies(tags, channel_id, routing, expected):
    rate = RULES.rate_for(vendor=VENDOR, channel_id=channel_id, variant=_variant(tags, routing))
    assert rate.source == expected


def test_variant_routing_without_a_rate_falls_back_to_the_rules():
    variant = _variant(["summer"], CommissionRateRouting.variant, rate=None)
    assert RULES.rate_for(vendor=VENDOR, channel_id=7, variant=variant).source == "rule:3"


def test_rounding_is_half_even_once_per_line():
    amounts = line_amounts(
        price=Decimal("0.25"),
        quantity=1,
        discount=Decimal(0),
        cost_price=None,
        rate=AppliedRate(Decimal(10), RateType.percentage, "vendor"),
        terms=LineTerms(CommissionMethod.retained, RateBase.sale_item, Decimal(100)),
        currency="USD",
    )
    assert (amounts.commission, amounts.payable) == (Decimal("0.02"), Decimal("0.23"))


def test_reverse_method_makes_the_commission_owed_by_the_vendor():
    amounts = line_amounts(
        price=Decimal(50),
        quantity=2,
        discount=Decimal(0),
        cost_price=None,
        rate=AppliedRate(Decimal(20), RateType.percentage, "vendor"),
        terms=LineTerms(CommissionMethod.reverse, RateBase.sale_item, Decimal(100)),
        currency="JPY",
    )
    assert (amounts.net, amounts.commission, amounts.payable) == (
        Decimal(100),
        Decimal(20),
        Decimal(-20),
    )
