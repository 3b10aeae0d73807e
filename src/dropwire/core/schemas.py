"""Pydantic bases for the API: camelCase on the wire, lenient about unknown fields on input.

Onport's clients send fields Dropwire does not use. An input model ignores them and remembers
their paths (`lineItems[0].variant.externalSku`) so the caller can be told; with a strict
`InputReport` active they are refused as before (422 "unknown field"). Each input model may
declare `ONPORT_ALIASES`: Onport's names for its fields, renamed before validation.

Every input string passes one check here: control characters (NUL first of all, which PostgreSQL
cannot store) and lone surrogates (which no database can encode) are refused with a 422 naming the
field, so both databases see the same, storable text.
"""

import re
import unicodedata
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import Enum
from typing import Annotated, Any, ClassVar, Literal, get_args, get_origin
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    PlainSerializer,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails

MAX_ID = 2**31 - 1
"""Ids are INTEGER columns (32-bit signed on PostgreSQL): no record can have a larger id."""

Id = Annotated[int, Field(ge=1, le=MAX_ID)]
"""A record id in a request body: outside 1..MAX_ID it is a 422 naming the field."""

MAX_UNITS = 1_000_000_000
"""The largest quantity of units a request may state."""

# Unicode's control characters (category Cc: U+0000-001F, U+007F-009F) but tab, newline and
# carriage return, and surrogates (Cs): one regex scan instead of a Python loop per character.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def unstorable_character(text: str) -> str | None:
    """A description of the first character we refuse to store in free text, if any."""
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    char, position = found.group(), found.start()
    if unicodedata.category(char) == "Cs":
        return f"unpaired surrogate U+{ord(char):04X} at position {position}"
    return f"control character U+{ord(char):04X} at position {position}"


# What, in a JSON body's bytes, can decode to such a character: an escape (`\u0000`, `\ud800`,
# `\b`, `\f`), DEL or U+0080-009F as UTF-8, a UTF-8-encoded surrogate (`json.loads` decodes bytes
# with "surrogatepass"), or anything once the body is UTF-16/32 (a NUL or a UTF-16 byte order mark).
# Raw control characters below U+0020 are no JSON the parser accepts.
_MAY_DECODE_UNSTORABLE = re.compile(
    rb"\\[ubf]|\x00|\x7f|\xc2[\x80-\x9f]|\xed[\xa0-\xbf]|^\xff\xfe|^\xfe\xff"
)
_IN_ASCII = (b"\\u", b"\\b", b"\\f", b"\x00", b"\x7f")


def may_hold_unstorable(raw: bytes) -> bool:
    """False when no value parsed from this JSON body can hold what `unstorable_in` refuses, so
    a body of plain text (nearly all of them) skips walking every string (one bytes scan)."""
    if raw.isascii():  # C-speed substring scans; the regex tries each alternative per byte
        return any(found in raw for found in _IN_ASCII)
    return _MAY_DECODE_UNSTORABLE.search(raw) is not None


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


_NOT_TEXT = (bool, int, float, Decimal, date, time, timedelta, UUID, BaseModel, type(None))
"""Types whose validated values hold no string (a nested input checks its own fields)."""


def may_hold_text(annotation: Any) -> bool:
    """Whether a field of this type can hold a string `unstorable_in` could refuse once
    validated: yes for str, Any, containers of those (dict keys too) and anything unknown."""
    origin = get_origin(annotation)
    if origin is None:
        if isinstance(annotation, type) and issubclass(annotation, Enum):
            return any(
                isinstance(m.value, str) and unstorable_character(m.value) for m in annotation
            )
        return not (isinstance(annotation, type) and issubclass(annotation, _NOT_TEXT))
    args = get_args(annotation)
    if origin is Annotated:
        return may_hold_text(args[0])
    if origin is Literal:
        return any(isinstance(value, str) and unstorable_character(value) for value in args)
    return not args or any(may_hold_text(arg) for arg in args)


class ApiModel(BaseModel):
    """Response shape: read from ORM objects, written with camelCase names."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, from_attributes=True)


@dataclass
class InputReport:
    """What the input models of one request (or one async item) ignored."""

    strict: bool = False
    ignored: list[str] = field(default_factory=list)


class _Validation:
    """The validation of one top-level input: whether a model inside it kept unknown fields (or
    took an input passed in as a value), so that its tree is walked once, at the top, only then."""

    __slots__ = ("unsettled",)

    def __init__(self) -> None:
        self.unsettled = False


_STRICT = _Validation()
"""The validation of a strict input: each model splits its own keys (`_strictly`)."""

_REPORT: ContextVar[InputReport | None] = ContextVar("dropwire_input_report", default=None)
_VALIDATION: ContextVar[_Validation | None] = ContextVar("dropwire_input_validation", default=None)
_KNOWN: dict[type[BaseModel], frozenset[str]] = {}
_IGNORED = "_ignored"
"""Where an input keeps the paths it ignored: a key of its `__pydantic_private__`, not a private
attribute (pydantic calls Python for every instance of a model that declares one)."""


class _Collecting:
    """The context of one `input_report`: a class, not a generator context manager, because
    every write request enters one and the generator machinery cost more than the report."""

    __slots__ = ("_report", "_token")

    def __init__(self, report: InputReport) -> None:
        self._report = report

    def __enter__(self) -> InputReport:
        self._token = _REPORT.set(self._report)
        return self._report

    def __exit__(self, *_exc: object) -> None:
        _REPORT.reset(self._token)


def input_report(*, strict: bool) -> _Collecting:
    """Collect (or, when strict, refuse) unknown fields of the input models validated inside."""
    return _Collecting(InputReport(strict=strict))


def _known_keys(model: type[BaseModel]) -> frozenset[str]:
    known = _KNOWN.get(model)
    if known is None:
        names = set(model.model_fields)
        names.update(info.alias for info in model.model_fields.values() if info.alias)
        known = _KNOWN[model] = frozenset(names)
    return known


COMPANY_ID = 1
"""Onport scopes every record to a company; a Dropwire installation is one company."""


class CompanyRecord(ApiModel):
    """A response record that carries Onport's `companyId`."""

    company_id: int = Field(default=COMPANY_ID, description="Always 1: one company per server")


class ApiInput(BaseModel):
    """Request shape: camelCase names; unknown fields ignored and reported (see the module).

    pydantic keeps unknown fields as extras (`extra="allow"`, found in Rust); the top-level
    input takes them off every model inside it once validated (`_settle`), so they never reach
    `model_dump` or `model_fields_set`. A nested model costs one short Python call.
    """

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="allow",
        str_strip_whitespace=True,
        json_schema_extra=lambda schema: state_storable_text(schema),
    )
    ONPORT_ALIASES: ClassVar[Mapping[str, str]] = {}
    """Onport's field name → ours (camelCase); ours wins when both are sent."""

    @model_validator(mode="wrap")
    @classmethod
    def _input_policy(cls, data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        validation = _VALIDATION.get()
        if validation is None:
            return _validate_top(cls, data, handler)
        if validation is _STRICT:
            return _strictly(cls, data, handler)
        if cls.ONPORT_ALIASES and isinstance(data, dict):
            data = _with_our_names(cls, data)
        model = handler(data)
        if model.__pydantic_extra__ or model is data:
            validation.unsettled = True
        return model

    @property
    def ignored_fields(self) -> tuple[str, ...]:
        """Paths of the fields this input (and its nested inputs) ignored."""
        private = self.__pydantic_private__
        return private.get(_IGNORED, ()) if private else ()

    clearable: ClassVar[frozenset[str]] = frozenset()
    """Fields an update may set to null to clear them; null on any other field changes nothing."""

    def changes(self, *, exclude: set[str] | None = None) -> dict[str, Any]:
        """What an update sent: fields present in the body, null only where it means 'clear'."""
        sent: dict[str, Any] = self.model_dump(exclude_unset=True, exclude=exclude)
        return {k: v for k, v in sent.items() if v is not None or k in self.clearable}

    @field_validator("*", mode="after")
    @classmethod
    def _storable_text(cls, value: Any) -> Any:
        """No control characters or lone surrogates in any string of any field (422 naming it).

        Declared for every field, run only on those whose type can hold a string (see
        `__get_pydantic_core_schema__`)."""
        if isinstance(value, str) and _UNSTORABLE.search(value) is None:
            return value  # nearly every value: one regex scan, no walk
        if not isinstance(value, BaseModel):  # nested inputs check their own fields
            found = unstorable_in(value)
            if found:
                raise ValueError(f"{found[0]}: {found[1]}" if found[0] else found[1])
        return value

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[BaseModel], handler: GetCoreSchemaHandler, /
    ) -> CoreSchema:
        """Narrow `_storable_text` to the fields whose type can hold a string: a Python call for
        each int, bool, Decimal, date or nested input was most of what the check cost."""
        validators = cls.__pydantic_decorators__.field_validators
        check = validators["_storable_text"]
        fields = tuple(
            name for name, info in cls.__pydantic_fields__.items() if may_hold_text(info.annotation)
        )
        validators["_storable_text"] = replace(check, info=replace(check.info, fields=fields))
        return handler(source)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: CoreSchema, handler: GetJsonSchemaHandler, /
    ) -> JsonSchemaValue:
        """The schema states no `additionalProperties`: unknown fields are ignored, not kept."""
        json_schema = handler(schema)
        handler.resolve_ref_schema(json_schema).pop("additionalProperties", None)
        return json_schema


def _validate_top(model: type[ApiInput], data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
    """A top-level input (not inside another): its whole tree's ignored fields are settled and
    reported here, once."""
    if not isinstance(data, dict):
        return handler(data)
    report = _REPORT.get()
    if report is not None and report.strict:
        token = _VALIDATION.set(_STRICT)
        try:
            return _strictly(model, data, handler)
        finally:
            _VALIDATION.reset(token)
    validation = _Validation()
    token = _VALIDATION.set(validation)
    try:
        validated = handler(_with_our_names(model, data) if model.ONPORT_ALIASES else data)
    finally:
        _VALIDATION.reset(token)
    if validation.unsettled or validated.__pydantic_extra__:
        ignored = _settle(validated)
        if report is not None:
            report.ignored.extend(ignored)
    return validated


def _with_our_names(model: type[ApiInput], data: dict[str, Any]) -> dict[str, Any]:
    """`data` with Onport's names of the model's fields renamed to ours; ours wins when both are
    sent (and of two Onport names for one field, the first sent)."""
    aliases = model.ONPORT_ALIASES
    if aliases.keys().isdisjoint(data):
        return data
    known = _known_keys(model)
    renamed: dict[str, Any] = {}
    for key, value in data.items():
        if key in known or key not in aliases:
            renamed[key] = value
        else:
            renamed.setdefault(aliases[key], value)
    return renamed


def _drop_extras(model: ApiInput) -> tuple[str, ...]:
    """Take the extras pydantic kept off `model`; the unknown ones among them (the others are a
    field also sent by another of its names, or an Onport name that lost to ours)."""
    extra = model.__pydantic_extra__
    if not extra:
        return ()
    cls = type(model)
    known = _known_keys(cls)
    unknown = tuple(key for key in extra if key not in known and key not in cls.ONPORT_ALIASES)
    model.__pydantic_fields_set__.difference_update(
        key for key in extra if key not in cls.model_fields
    )
    extra.clear()
    return unknown


def _settle(model: ApiInput) -> tuple[str, ...]:
    """Drop the extras of `model` and of the inputs inside it, remember on each input the paths
    it ignored (`ignored_fields`) and return those of `model`: its own first, in the order sent,
    then its fields' in their order (`lineItems[0].variant.externalSku`)."""
    private = model.__pydantic_private__
    if private and _IGNORED in private:  # settled before: an input passed in as a value
        ignored: tuple[str, ...] = private[_IGNORED]
        return ignored
    paths = list(_drop_extras(model))
    fields = type(model).model_fields
    for name, value in model.__dict__.items():
        wire = fields[name].alias or name if name in fields else name
        if isinstance(value, ApiInput):
            paths.extend(f"{wire}.{path}" for path in _settle(value))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, ApiInput):
                    paths.extend(f"{wire}[{index}].{path}" for path in _settle(item))
    if paths:
        if private is None:
            object.__setattr__(model, "__pydantic_private__", {_IGNORED: tuple(paths)})
        else:
            private[_IGNORED] = tuple(paths)
    return tuple(paths)


def _strictly(model: type[ApiInput], data: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
    """Strict input, the rare path: each model splits its own keys and refuses unknown ones."""
    if not isinstance(data, dict):
        return handler(data)
    known = _known_keys(model)
    kept: dict[str, Any] = {}
    unknown: list[str] = []
    for key, value in data.items():
        if key in known:
            kept[key] = value
        elif key in model.ONPORT_ALIASES:  # ours wins when both are sent
            kept.setdefault(model.ONPORT_ALIASES[key], value)
        else:
            unknown.append(key)
    if unknown:
        _refuse(model, kept, handler, unknown, data)
    validated = handler(kept)
    _drop_extras(validated)  # a field sent by two of its names
    return validated


def _refuse(
    model: type[BaseModel],
    kept: dict[str, Any],
    handler: ModelWrapValidatorHandler[Any],
    unknown: list[str],
    data: dict[str, Any],
) -> None:
    """Strict input: unknown fields are errors, reported with the other problems of the model."""
    errors: list[Any] = []
    try:
        handler(kept)
    except ValidationError as exc:
        errors.extend(exc.errors())
    errors.extend(
        InitErrorDetails(type="extra_forbidden", loc=(key,), input=data[key]) for key in unknown
    )
    raise ValidationError.from_exception_data(model.__name__, errors)


STORABLE_TEXT = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
"""The OpenAPI pattern of every free-text input: what `unstorable_character` refuses, stated."""


def state_storable_text(schema: dict[str, Any]) -> None:
    """Give each string property of an input schema the control-character rule as a pattern
    (unless it has a stricter pattern or format of its own)."""

    def visit(node: dict[str, Any]) -> None:
        if node.get("type") == "string" and "pattern" not in node and "format" not in node:
            node["pattern"] = STORABLE_TEXT
        for branch in node.get("anyOf", []):
            visit(branch)
        if isinstance(node.get("items"), dict):
            visit(node["items"])

    for prop in schema.get("properties", {}).values():
        visit(prop)


def requires_one_of(*names: str, exactly: bool = False) -> Callable[[dict[str, Any]], None]:
    """JSON schema for a model rule "give (exactly) one of these fields", so the OpenAPI
    document states the rule its validator enforces."""
    # The validators treat null as absent, so a branch is satisfied only by a non-null value.
    branches = [
        {"required": [name], "properties": {name: {"not": {"type": "null"}}}} for name in names
    ]

    def extend(schema: dict[str, Any]) -> None:
        state_storable_text(schema)
        schema["oneOf" if exactly else "anyOf"] = branches

    return extend


def _two_places(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _money_json(value: Decimal) -> float:
    return float(value)


MONEY_MAX = Decimal("999999999999.99")

Money = Annotated[
    Decimal,
    Field(allow_inf_nan=False, ge=0, le=MONEY_MAX),
    AfterValidator(_two_places),
    PlainSerializer(_money_json, return_type=float, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "number", "minimum": 0, "maximum": float(MONEY_MAX)},
                {"type": "string", "pattern": r"^\+?[0-9]{1,12}(\.[0-9]{1,2})?$"},
            ]
        },
        mode="validation",
    ),
]
"""Exact in storage and in Python, a JSON number on the wire. Input may also be a decimal string
(`"12.50"`); the schema states that form as a pattern, since any other string is refused."""

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


# What `check_url` accepts, said in the schema too (clients and fuzzers read it there): no
# whitespace or control characters, a host (or a bracketed IPv6 address), a port in 1..65535.
_PLAIN = r"\s\x00-\x1f\x7f-\x9f"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
_H = "[0-9A-Fa-f]{1,4}"
_IPV6 = "|".join(  # the textual forms of an IPv6 address, "::" standing for 1 to 7 groups
    (
        rf"({_H}:){{7}}{_H}",
        rf"({_H}:){{1,7}}:",
        *(rf"({_H}:){{1,{6 - n}}}(:{_H}){{1,{n + 1}}}" for n in range(6)),
        rf":((:{_H}){{1,7}}|:)",
    )
)
URL_REST = (
    rf"://([^{_PLAIN}/?#@\[\]]+@)?(\[({_IPV6})\]|[^{_PLAIN}/?#@:\[\]]+)(:{_PORT})?"
    rf"([/?#][^{_PLAIN}]*)?$"
)
HTTP_URL_PATTERN = r"^https?" + URL_REST
HttpUrl = Annotated[
    str, Field(max_length=2048, pattern=HTTP_URL_PATTERN), AfterValidator(_http_url)
]
"""An http(s) URL kept exactly as given (pydantic's URL type would rewrite it)."""


def _number_as_text(value: Any) -> Any:
    """Onport's clients send ids as numbers where Dropwire stores text (`externalId: 1234`)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


NumberAsText = BeforeValidator(_number_as_text)
"""Accept an integer for a text identifier (an external id, a SKU, a barcode, a reference)."""

Name = Annotated[str, Field(min_length=1, max_length=255)]
ExternalId = Annotated[str, NumberAsText, Field(min_length=1, max_length=255)]
