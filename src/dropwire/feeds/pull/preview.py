"""A test fetch: the first rows of a pull feed's file as the mapping reads them, nothing stored.

A merchant setting up a feed wants to see, before saving or running it, whether the address
answers and whether the mapping finds the SKU and the quantity in each row. The preview reads
the same source with the same guards (address policy, timeouts) and the same parser and mapping
as a run, but stops after a few rows and a small number of bytes.
"""

import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from dropwire.core.errors import DomainError
from dropwire.core.outbound import AddressPolicy
from dropwire.core.settings import Settings
from dropwire.feeds.models import InventoryFeed, ResourceType
from dropwire.feeds.pull.mapping import RowError, external_id_of, parse_mapping, to_feed_variant
from dropwire.feeds.pull.parsers import FileProblem, Record, detect_encoding, records
from dropwire.feeds.pull.sources import Limits, SourceError, TooLarge, download
from dropwire.feeds.schemas import FeedVariantData

PREVIEW_ROWS = 10
PREVIEW_BYTES = 256 * 1024
"""A preview reads at most this much of the file: enough for its first rows."""


@dataclass(frozen=True)
class PreviewRow:
    row: int
    item: FeedVariantData | None
    field: str | None = None
    problem: str | None = None


@dataclass(frozen=True)
class Preview:
    rows: list[PreviewRow]
    bytes: int = 0
    truncated: bool = False
    problem: str | None = None


def preview_feed(settings: Settings, feed: InventoryFeed, *, rows: int = PREVIEW_ROWS) -> Preview:
    """The first `rows` items of the feed's file, mapped; `feed` need not be stored."""
    if feed.resource_type == ResourceType.webhook or not feed.resource_location:
        return Preview([], problem="a pull feed needs a file type (CSV, XML, JSON) and an address")
    try:
        mapping = parse_mapping(feed.resource_type, feed.mapping, feed.csv_has_header)
    except DomainError as exc:
        detail = "; ".join(p.message for p in exc.errors) or exc.message
        return Preview([], problem=f"mapping: {detail}")
    if mapping is None:
        return Preview([], problem="this feed is not a pull feed")
    limits = Limits(
        max_bytes=min(PREVIEW_BYTES, settings.feed_max_bytes),
        connect_timeout=settings.feed_connect_timeout,
        read_timeout=settings.feed_read_timeout,
        policy=AddressPolicy.from_settings(settings),
    )
    with tempfile.TemporaryDirectory(prefix="dropwire-preview-") as folder:
        path = Path(folder) / "head"
        truncated = False
        try:
            size = download(feed.resource_location, path, limits, token=feed.authentication_token)
        except TooLarge:
            size, truncated = path.stat().st_size, True
        except SourceError as exc:
            return Preview([], problem=str(exc))
        encoding = detect_encoding(path) if feed.resource_type == ResourceType.csv else "utf-8"
        try:
            shown = _mapped(feed, records(feed, mapping, path, encoding), rows)
        except FileProblem as exc:
            return Preview([], bytes=size, truncated=truncated, problem=str(exc))
    return Preview(shown, bytes=size, truncated=truncated)


def _mapped(feed: InventoryFeed, found: Iterator[Record], limit: int) -> list[PreviewRow]:
    shown: list[PreviewRow] = []
    for row, raw in found:
        if len(shown) >= limit:
            break
        if external_id_of(raw) is None:
            shown.append(PreviewRow(row, None, "vendorSku", "no vendor SKU or external id"))
            continue
        try:
            shown.append(PreviewRow(row, to_feed_variant(raw, feed.decimal_notation)))
        except RowError as exc:
            shown.append(PreviewRow(row, None, exc.field, exc.message))
    return shown
