"""A pull feed's `mapping`: which part of the file is an item and which part each field.

`{"items": <selector of each item>, "fields": {<feed-variant field>: <selector>}}`. CSV: no
`items`, selectors are column names (0-based indexes without a header row). XML: `items` is a
path of element names (`//product`, `/catalog/product`), fields are XPath relative to the item.
JSON: JMESPath; without a mapping each item is a parse-webhook object. Checked when a feed is
saved, so a run never starts with a mapping it cannot use.
"""

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import jmespath
from jmespath.exceptions import JMESPathError
from lxml import etree
from pydantic import ValidationError

from dropwire.feeds.errors import InvalidMapping
from dropwire.feeds.models import DecimalNotation, ResourceType
from dropwire.feeds.schemas import REPORTED_FIELDS, FeedVariantData

# What a mapping may name: a feed item's fields (the schema's), but its per-location quantities.
FIELDS = tuple(name for name in REPORTED_FIELDS if name != "locations")
# A CSV file with a header and no mapping: columns named like the fields (all but `options`).
HEADER_FIELDS = {name: name for name in FIELDS if name != "options"}
REQUIRED = ("vendorSku", "inventoryQuantity")
PRICES = ("costPrice", "price", "compareAtPrice")
LISTS = ("images", "tags")
ITEM_PATH = re.compile(r"^(//|/)?[\w.-]+(:[\w.-]+)?(/[\w.-]+(:[\w.-]+)?)*$")
SIMPLE_JSON_PATH = re.compile(r"^([A-Za-z_]\w*(\.[A-Za-z_]\w*)*)?(\[\*?\])?$")


@dataclass(frozen=True)
class FeedMapping:
    items: str | None
    fields: dict[str, str | int]  # feed-variant field (camelCase) -> selector
    default_json: bool = False  # no mapping: each JSON item is a parse-webhook object


def parse_mapping(
    resource_type: ResourceType | str, mapping: dict[str, Any] | None, csv_has_header: bool
) -> FeedMapping | None:
    """The feed's mapping, checked; raises InvalidMapping naming what is wrong."""
    kind = ResourceType(resource_type)
    if kind is ResourceType.webhook:
        return None
    mapping = mapping or {}
    unknown = set(mapping) - {"items", "fields"}
    if unknown:
        raise InvalidMapping(f"unknown keys {sorted(unknown)}; expected items and fields")
    if not mapping:
        if kind is ResourceType.json:
            return FeedMapping(items=None, fields={}, default_json=True)
        if kind is ResourceType.csv and csv_has_header:  # columns named like the fields
            return FeedMapping(items=None, fields=dict(HEADER_FIELDS))
        raise InvalidMapping(
            f"a {kind.value} feed needs a mapping: "
            + ("items, " if kind is ResourceType.xml else "")
            + "fields.vendorSku and fields.inventoryQuantity",
        )
    fields = mapping.get("fields")
    if not isinstance(fields, dict):
        raise InvalidMapping("fields is missing: it must map feed-variant fields to selectors")
    missing = [name for name in REQUIRED if name not in fields]
    if missing:
        raise InvalidMapping("fields." + " and fields.".join(missing) + " missing")
    unknown_fields = sorted(set(fields) - set(FIELDS))
    if unknown_fields:
        raise InvalidMapping(f"unknown fields {unknown_fields}; known: {', '.join(FIELDS)}")
    items = mapping.get("items")
    if kind is ResourceType.csv:
        if items is not None:
            raise InvalidMapping("items is not used for CSV feeds (each row is an item)")
        return FeedMapping(
            None, {k: _csv_selector(k, v, csv_has_header) for k, v in fields.items()}
        )
    if not isinstance(items, str) or not items.strip():
        raise InvalidMapping(f"items is missing: the {kind.value} selector of each item")
    checked: dict[str, str | int] = {}
    for name, selector in fields.items():
        if not isinstance(selector, str) or not selector.strip():
            raise InvalidMapping(f"fields.{name} must be a non-empty selector")
        checked[name] = selector.strip()
    if kind is ResourceType.xml:
        if not ITEM_PATH.match(items.strip()):
            raise InvalidMapping("items must be a path of element names, e.g. //product")
        for name, selector in checked.items():
            try:
                etree.XPath(str(selector))
            except etree.XPathSyntaxError as exc:
                raise InvalidMapping(f"fields.{name}: not an XPath ({exc})") from exc
        if "options" in checked:
            raise InvalidMapping("fields.options is only available for JSON feeds")
        return FeedMapping(items.strip(), checked)
    for name, selector in [("items", items), *checked.items()]:
        try:
            jmespath.compile(str(selector))
        except JMESPathError as exc:
            raise InvalidMapping(f"{name}: not a JMESPath expression ({exc})") from exc
    return FeedMapping(items.strip(), checked)


def _csv_selector(name: str, selector: Any, has_header: bool) -> str | int:
    if has_header:
        if not isinstance(selector, str) or not selector.strip():
            raise InvalidMapping(f"fields.{name} must be a column name")
        return selector.strip()
    if isinstance(selector, str) and selector.strip().isdigit():
        return int(selector)
    if not isinstance(selector, int) or isinstance(selector, bool) or selector < 0:
        raise InvalidMapping(
            f"fields.{name} must be a 0-based column index (the file has no header)"
        )
    return selector


# --- values ------------------------------------------------------------------------------


class RowError(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def number(text: str, notation: DecimalNotation | str) -> Decimal:
    """'1.234,50' (comma notation) or '1,234.50' (decimal notation) as a Decimal."""
    cleaned = text.strip().replace(" ", "").replace("\u00a0", "")
    if notation == DecimalNotation.comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"'{text}' is not a number") from None
    if not value.is_finite():
        raise ValueError(f"'{text}' is not a number")
    return value


def external_id_of(raw: dict[str, Any]) -> str | None:
    """The item's key: externalId, or vendorSku when the file has no separate id."""
    for name in ("externalId", "vendorSku"):
        value = raw.get(name)
        if value is None or isinstance(value, (dict, list, bool)):
            continue
        text = str(value).strip()
        if text:
            return text
    return None


def quantity_of(raw: dict[str, Any], notation: DecimalNotation | str) -> int | None:
    """The row's quantity if it reads as a whole number (the guard's count of zeros)."""
    value = raw.get("inventoryQuantity")
    if value.__class__ is str and value.isascii() and value.isdigit():
        return int(value)  # the common case, as `number` would read it
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, (str, Decimal, float)):
            parsed = number(str(value), notation)
            return int(parsed) if parsed == parsed.to_integral_value() else None
    except ValueError:
        return None
    return None


def to_feed_variant(raw: dict[str, Any], notation: DecimalNotation | str) -> FeedVariantData:
    """A mapped row as a validated feed variant; raises RowError naming the bad field."""
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        try:
            values[name] = _coerce(name, value, notation)
        except ValueError as exc:
            raise RowError(name, str(exc)) from None
    for name in REQUIRED:
        if name not in values:
            raise RowError(name, "missing")
    values.setdefault("externalId", values["vendorSku"])
    try:
        return FeedVariantData.model_validate(values)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error.get("loc", ())) or "item"
        raise RowError(field, str(error.get("msg", "invalid"))) from None


def _coerce(name: str, value: Any, notation: DecimalNotation | str) -> Any:
    if name not in FIELDS:  # a parse-webhook object's other fields: the schema judges them
        return value
    if name == "inventoryQuantity":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        parsed = number(str(value), notation)
        if parsed != parsed.to_integral_value():
            raise ValueError(f"'{value}' is not a whole number")
        return int(parsed)
    if name in PRICES:
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return Decimal(str(value))
        return number(str(value), notation)
    if name in LISTS:
        if isinstance(value, list):
            return [str(v).strip() for v in value if str(v).strip()]
        return [part.strip() for part in re.split(r"[|,;]", str(value)) if part.strip()]
    if name == "options":
        return value
    if isinstance(value, (dict, list)):
        raise ValueError("expected a single value, got a structure")
    return str(value).strip()


# --- the fast path -----------------------------------------------------------------------

_TEXT_LIMITS = {
    "externalId": 255,
    "vendorSku": 255,
    "name": 255,
    "barcode": 64,
    "externalGroupId": 255,
}
_LIST_LIMITS = {"images": (50, 2048), "tags": (250, 255)}  # (items, characters per item)
# A field's stored name by its name in a file (the schema's camelCase aliases).
_SNAKE = {info.alias or name: name for name, info in FeedVariantData.model_fields.items()}
_POLICIES = frozenset(("track", "continue", "deny"))
_MAX_QUANTITY = 100_000_000
_MAX_MONEY = Decimal("999999999999.99")
_CENT = Decimal("0.01")
_LIST_SPLIT = re.compile(r"[|,;]")


def plain_feed_variant(
    raw: dict[str, Any], notation: DecimalNotation | str
) -> tuple[str, dict[str, Any]] | None:
    """(externalId, the fields as stored) for a row of plain text that is plainly valid.

    The pull runs' fast path: most rows of a vendor's file are short text, well inside every
    limit, and validating each through the schema would cost more than the rest of the run.
    This accepts only what `to_feed_variant` would accept unchanged and gives the same values
    (`incoming` of it); on any doubt (a control or unusual character, a number with separators,
    a limit reached, a missing field) it returns None and the row takes the full validation,
    which names the problem exactly.
    """
    values: dict[str, Any] = {}
    comma = notation == DecimalNotation.comma
    for name, value in raw.items():
        if value is None:
            continue
        if value.__class__ is not str:
            return None
        text = value.strip()
        if not text:
            continue
        if not text.isprintable():
            return None
        if name == "inventoryQuantity":
            if not (text.isascii() and text.isdigit()):
                return None
            quantity = int(text)
            if quantity > _MAX_QUANTITY:
                return None
            values["inventory_quantity"] = quantity
        elif name in _TEXT_LIMITS:
            if len(text) > _TEXT_LIMITS[name]:
                return None
            values[_SNAKE[name]] = text
        elif name in PRICES:
            if comma:  # '12,50'; a '.' there groups thousands: the full path reads it
                if "." in text:
                    return None
                digits = text.replace(",", ".", 1)
            else:
                digits = text
            if not (digits.isascii() and digits.replace(".", "", 1).isdigit()):
                return None
            amount = Decimal(digits)
            if amount > _MAX_MONEY:
                return None
            values[_SNAKE[name]] = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
        elif name in _LIST_LIMITS:
            most, longest = _LIST_LIMITS[name]
            parts = [part.strip() for part in _LIST_SPLIT.split(text) if part.strip()]
            if len(parts) > most or any(len(part) > longest for part in parts):
                return None
            values[name] = parts
        elif name == "inventoryPolicy" and text in _POLICIES:
            values["inventory_policy"] = text
        else:
            return None
    if "vendor_sku" not in values or "inventory_quantity" not in values:
        return None
    return values.pop("external_id", values["vendor_sku"]), values
