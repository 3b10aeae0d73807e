"""Pydantic bases for the API: camelCase on the wire, strict about unknown fields on input.

Every input string passes one check here: control characters (NUL first of all, which PostgreSQL
cannot store) and lone surrogates (which no database can encode) are refused with a 422 naming the
field, so both databases see the same, storable text.
"""

import unicodedata
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator
from pydantic.alias_generators import to_camel

_TEXT_WHITESPACE = frozenset("\t\n\r")


def unstorable_character(text: str) -> str | None:
    """A description of the first character we refuse to store in free text, if any."""
    for position, char in enumerate(text):
        if char in _TEXT_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category == "Cc":
            return f"control character U+{ord(char):04X} at position {position}"
        if category == "Cs":
            return f"unpaired surrogate U+{ord(char):04X} at position {position}"
    return None


def unstorable_in(value: Any, where: str = "") -> tuple[str, str] | None:
    """(path inside `value`, problem) for the first string or dict key we refuse to store."""
    if isinstance(value, str):
        problem = unstorable_character(value)
        return (where, f"contains a {problem}") if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            found = unstorable_in(key, inner) or unstorable_in(item, inner)
            if found:
                return found
    elif isinstance(value, list | tuple | set | frozenset):
        for index, item in enumerate(value):
            found = unstorable_in(item, f"{where}[{index}]")
            if found:
                return found
    return None


class ApiModel(BaseModel):
    """Response shape: read from ORM objects, written with camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


class ApiInput(BaseModel):
    """Request shape: camelCase names, unknown fields rejected."""

    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", str_strip_whitespace=True
    )

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """No control characters or lone surrogates in any string of any field (422 naming it)."""
        if not isinstance(value, BaseModel):  # nested inputs check their own fields
            found = unstorable_in(value)
            if found:
                raise ValueError(f"{found[0]}: {found[1]}" if found[0] else found[1])
        return value


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


def check_url(value: str, schemes: tuple[str, ...]) -> str:
    """A URL we may later connect to: known scheme, a host, a port in 1..65535, no whitespace or
    control characters anywhere (they split or smuggle requests). Returned exactly as given."""
    if any(char.isspace() or unicodedata.category(char) in ("Cc", "Cs") for char in value):
        raise ValueError("must not contain whitespace or control characters")
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError as exc:  # urlsplit refuses bad ports and brackets
        raise ValueError(f"is not a valid URL: {exc}") from exc
    if parts.scheme.lower() not in schemes:
        raise ValueError(f"must be a URL with one of the schemes {', '.join(schemes)}")
    if not parts.hostname:
        raise ValueError("must name a host")
    if port is not None and not 1 <= port <= 65535:
        raise ValueError("port must be between 1 and 65535")
    return value


def _http_url(value: str) -> str:
    return check_url(value, ("http", "https"))


HttpUrl = Annotated[str, Field(max_length=2048), AfterValidator(_http_url)]
"""An http(s) URL kept exactly as given (pydantic's URL type would rewrite it)."""

Name = Annotated[str, Field(min_length=1, max_length=255)]
ExternalId = Annotated[str, Field(min_length=1, max_length=255)]
