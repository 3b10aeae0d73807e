"""Pydantic bases for the API: camelCase on the wire, strict about unknown fields on input."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, ClassVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel

MAX_ID = 2**31 - 1
"""Ids are INTEGER columns (32-bit signed on PostgreSQL): no record can have a larger id."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
MAX_UNITS = 1_000_000_000
"""The largest quantity of units a request may state."""
"""A record id in a request body: outside 1..MAX_ID it is a 422 naming the field."""


class ApiModel(BaseModel):
    """Response shape: read from ORM objects, written with camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ApiInput(BaseModel):
    """Request shape: camelCase names, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    clearable: ClassVar[frozenset[str]] = frozenset()
    """Fields an update may set to null to clear them; null on any other field changes nothing."""

    def changes(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        """What an update sent: fields present in the body, null only where it means 'clear'."""
        sent: dict[str, Any] = self.model_dump(exclude_unset=True, exclude=exclude)
        return {k: v for k, v in sent.items() if v is not None or k in self.clearable}


def requires_one_of(*names: str, exactly: bool = False) -> dict[str, Any]:
    """JSON schema for a model rule "give (exactly) one of these fields", so the OpenAPI
    document states the rule its validator enforces."""
    branches = [{"required": [name]} for name in names]
    return {"oneOf" if exactly else "anyOf": branches}


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _money_json(value: Decimal) -> float:
    return float(value)


Money = Annotated[
    Decimal,
    Field(allow_inf_nan=False, ge=0, le=Decimal("999999999999.99")),
    AfterValidator(_two_places),
    PlainSerializer(_money_json, return_type=float, when_used="json"),
]
"""Exact in storage and in Python, a JSON number on the wire."""

Timestamp = datetime


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL with a host")
    return value


URL_REST = r"://[^\s/?#@]+(@[^\s/?#@]+)?([/?#][^\s]*)?$"
HTTP_URL_PATTERN = r"^https?" + URL_REST
HttpUrl = Annotated[
    str, Field(max_length=2048, pattern=HTTP_URL_PATTERN), AfterValidator(_http_url)
]
"""An http(s) URL kept exactly as given (pydantic's URL type would rewrite it)."""

Name = Annotated[str, Field(min_length=1, max_length=255)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255)]
