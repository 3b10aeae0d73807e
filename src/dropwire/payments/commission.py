"""The commission of one invoice line, exactly as the contract states it.

`net = price * quantity - discount * split / 100`; the commission is `net * rate / 100`
(percentage) or `rate * quantity` (fixed); `payable = net - commission`, or with the cost price
as base `costPrice * quantity` (the commission is then what is left of net). Under the reverse
method the vendor collected, so what it owes the merchant is the commission (payable negative).
Each amount is rounded half-even to the currency's minor unit once, on the line.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache

from dropwire.vendors.models import CommissionMethod, RateBase, RateType

# ISO 4217 currencies whose minor unit is not 2 digits.
_MINOR_UNITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"), 0),
    **dict.fromkeys(("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}
HUNDRED = Decimal(100)


@cache
def quantum(currency: str) -> Decimal:
    """The smallest amount of `currency` (0.01 for most)."""
    return Decimal(1).scaleb(-_MINOR_UNITS.get(currency.upper(), 2))


def round_money(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(quantum(currency), rounding=ROUND_HALF_EVEN)


@dataclass(frozen=True)
class AppliedRate:
    """The rate that applied to a line, and where it came from (variant, rule:N, vendor)."""

    rate: Decimal
    rate_type: RateType
    source: str


@dataclass(frozen=True)
class LineTerms:
    """The vendor's settings that shape a line, frozen with it."""

    method: CommissionMethod
    base: RateBase
    discount_split: Decimal


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    commission: Decimal
    payable: Decimal


def line_amounts(
    *,
    price: Decimal,
    quantity: int,
    discount: Decimal,
    cost_price: Decimal | None,
    rate: AppliedRate,
    terms: LineTerms,
    currency: str,
) -> LineAmounts:
    """Net, commission and payable of `quantity` units; `discount` is for those units."""
    net = round_money(price * quantity - discount * terms.discount_split / HUNDRED, currency)
    if terms.base == RateBase.inventory_feed_variant:
        payable = round_money((cost_price or Decimal(0)) * quantity, currency)
        commission = net - payable
    else:
        if rate.rate_type == RateType.fixed:
            commission = round_money(rate.rate * quantity, currency)
        else:
            commission = round_money(net * rate.rate / HUNDRED, currency)
        payable = net - commission
    if terms.method == CommissionMethod.reverse:
        payable = -commission
    return LineAmounts(net=net, commission=commission, payable=payable)


def share(amount: Decimal, part: int, whole: int, currency: str) -> Decimal:
    """`part` of `whole` units' `amount`, rounded; taking every part leaves nothing behind
    when each share is computed from what remains (`amount` and `whole` being the rest)."""
    if part >= whole:
        return amount
    return round_money(amount * part / whole, currency)
