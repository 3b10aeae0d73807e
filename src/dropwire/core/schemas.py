"""Pydantic bases for the API: camelCase on the wire, strict about unknown fields on input."""

from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    """Response shape: read from ORM objects, written with camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ApiInput(BaseModel):
    """Request shape: camelCase names, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )


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


HttpUrl = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]
"""An http(s) URL kept exactly as given (pydantic's URL type would rewrite it)."""

Name = Annotated[str, Field(min_length=1, max_length=255)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255)]
