"""Streaming readers of a downloaded feed file: each yields (row number, mapped raw values).

Raw values are what the file says (strings for CSV and XML, JSON values for JSON), keyed by
feed-variant field; `mapping.to_feed_variant` turns them into a validated item. A reader raises
`FileProblem` when the file as a whole is unusable (a missing column, a DTD, broken XML or JSON):
that fails the run. Memory stays flat whatever the file's size.
"""

import codecs
import operator
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import ijson
import jmespath
from lxml import etree

from dropwire.core import csv_reader
from dropwire.feeds.models import DELIMITER_CHARS, Delimiter, InventoryFeed, ResourceType
from dropwire.feeds.pull.mapping import (
    HEADER_FIELDS,
    REQUIRED,
    SIMPLE_JSON_PATH,
    FeedMapping,
)

Record = tuple[int, dict[str, Any]]
MAX_LINE_CHARS = 4 * 1024 * 1024
"""The longest physical CSV line read: a file without newlines is refused once this much of it
is read, never read whole into memory (a quoted cell may span lines, up to the field limit)."""


class FileProblem(Exception):
    """The file cannot be read as the feed says; nothing from it is applied."""


def detect_encoding(path: Path) -> str:
    """UTF-8 (with or without a BOM) if every byte decodes as such, else Latin-1."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as file:
        head = file.read(3)
        bom = head == codecs.BOM_UTF8
        file.seek(0)
        try:
            while chunk := file.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return "latin-1"
    return "utf-8-sig" if bom else "utf-8"


def records(
    feed: InventoryFeed,
    mapping: FeedMapping,
    path: Path,
    encoding: str,
) -> Iterator[Record]:
    """The file's items, one at a time."""
    kind = ResourceType(feed.resource_type)
    if kind is ResourceType.csv:
        return _csv(feed, mapping, path, encoding)
    if kind is ResourceType.xml:
        return _xml(mapping, path)
    return _json(mapping, path)


# --- CSV ---------------------------------------------------------------------------------


def _csv(
    feed: InventoryFeed,
    mapping: FeedMapping,
    path: Path,
    encoding: str,
) -> Iterator[Record]:
    delimiter = DELIMITER_CHARS[Delimiter(feed.delimiter)]
    with path.open("r", encoding=encoding, newline="") as file:
        reader = csv_reader.reader(_capped_lines(file), delimiter=delimiter)
        columns: dict[str, int] = {}
        fields = dict(mapping.fields)
        row = 0
        if feed.csv_has_header:
            header = next(reader, None)
            row = 1
            if header is None:
                return
            columns = {name.strip(): index for index, name in enumerate(header)}
            default = fields == HEADER_FIELDS
            if default:
                fields = {name: name for name in fields if name in columns}
            missing = [
                f"{name} ('{selector}')"
                for name, selector in fields.items()
                if selector not in columns
            ]
            missing += [name for name in REQUIRED if name not in fields]
            if missing:
                raise FileProblem(
                    "the header has no column for "
                    + ", ".join(missing)
                    + f" (columns: {', '.join(list(columns)[:30])})"
                )
        positions = [
            (name, columns[str(sel)] if feed.csv_has_header else int(sel))
            for name, sel in fields.items()
        ]
        if len(positions) == 1:  # itemgetter of one index would not return a tuple
            positions.append(positions[0])
        names = [name for name, _ in positions]
        pick = operator.itemgetter(*(index for _, index in positions))
        width = max(index for _, index in positions) + 1
        for cells in reader:
            row += 1
            if len(cells) <= 1 and (not cells or not cells[0].strip()):
                continue  # a blank line
            if len(cells) >= width:
                yield row, dict(zip(names, pick(cells), strict=True))
                continue
            yield (
                row,
                {name: cells[index] if index < len(cells) else None for name, index in positions},
            )


def _capped_lines(file: Any) -> Iterator[str]:
    """The file's lines, each read at most `MAX_LINE_CHARS` at a time (`readline(limit)`)."""
    number = 0
    while line := file.readline(MAX_LINE_CHARS + 1):
        number += 1
        if len(line) > MAX_LINE_CHARS:
            raise FileProblem(f"line {number} is longer than {MAX_LINE_CHARS} characters")
        yield line


# --- XML ---------------------------------------------------------------------------------


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


_CHILD_PATH = re.compile(r"^[A-Za-z_][\w.-]*(/[A-Za-z_][\w.-]*)*$")
_ATTRIBUTE = re.compile(r"^@([A-Za-z_][\w.-]*)$")


def _extractor(selector: str) -> Any:
    """The value a field's selector picks from an item. The two common shapes (a path of child
    elements, an attribute) are read directly, several times cheaper than by XPath and with the
    same result; anything else is evaluated as XPath."""
    attribute = _ATTRIBUTE.match(selector)
    if attribute:
        name = attribute.group(1)
        return lambda element: _plain_text(element.get(name))
    if _CHILD_PATH.match(selector):
        return lambda element: _element_text(element.find(selector))
    xpath = etree.XPath(selector)
    return lambda element: _xpath_value(xpath(element))


def _plain_text(value: str | None) -> str | None:
    return None if value is None else value.strip()


def _element_text(element: Any) -> str | None:
    if element is None:
        return None
    if len(element) == 0:  # a leaf: its own text (the string value XPath would give)
        return (element.text or "").strip()
    return "".join(element.itertext()).strip()


def _refuse_dtd(element: Any) -> None:
    docinfo = element.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise FileProblem("the file declares a DTD (<!DOCTYPE ...>); DTDs and entities are refused")


def _xml(mapping: FeedMapping, path: Path) -> Iterator[Record]:
    assert mapping.items is not None
    selector = mapping.items
    anchored = selector.startswith("/") and not selector.startswith("//")
    steps = [step.split(":")[-1] for step in selector.strip("/").split("/")]
    extractors = [(name, _extractor(str(sel))) for name, sel in mapping.fields.items()]
    context = etree.iterparse(
        str(path),
        events=("end",),
        tag=f"{{*}}{steps[-1]}",  # the parser reports only elements named like an item
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
    )
    row = 0
    checked = False
    check_path = anchored or len(steps) > 1  # //product: every element so named is an item
    try:
        for _event, element in context:
            if not checked:  # before the first item is handed out
                checked = True
                _refuse_dtd(element)
            if check_path and not _path_matches(element, steps, anchored):
                continue
            row += 1
            yield row, {name: extract(element) for name, extract in extractors}
            element.clear(keep_tail=True)
            parent = element.getparent()
            while parent is not None and element.getprevious() is not None:
                del parent[0]
        if not checked and context.root is not None:  # a file without items
            _refuse_dtd(context.root)
    except etree.XMLSyntaxError as exc:
        raise FileProblem(f"not well-formed XML after item {row}: {exc}") from exc


def _path_matches(element: Any, steps: list[str], anchored: bool) -> bool:
    chain: list[str] = []
    node = element
    while node is not None:
        chain.append(_local(node.tag))
        node = node.getparent()
    chain.reverse()
    if anchored:
        return chain == steps
    return chain[-len(steps) :] == steps


def _xpath_value(result: Any) -> Any:
    if isinstance(result, list):
        if not result:
            return None
        result = result[0]
    if isinstance(result, bool):
        return str(result).lower()
    if isinstance(result, float):
        return str(int(result)) if result.is_integer() else str(result)
    if isinstance(result, str):
        return str(result).strip()
    if hasattr(result, "text"):
        return "".join(result.itertext()).strip()
    return None if result is None else str(result)


# --- JSON --------------------------------------------------------------------------------


def _json(mapping: FeedMapping, path: Path) -> Iterator[Record]:
    extractors = {name: jmespath.compile(str(sel)) for name, sel in mapping.fields.items()}
    try:
        for row, item in enumerate(_json_items(mapping, path), start=1):
            if mapping.default_json:
                yield row, _default_item(item)
                continue
            yield row, {name: _plain(expr.search(item)) for name, expr in extractors.items()}
    except ijson.JSONError as exc:
        raise FileProblem(f"not valid JSON: {exc}") from exc


def _json_items(mapping: FeedMapping, path: Path) -> Iterator[Any]:
    if mapping.default_json:
        with path.open("rb") as file:
            head = file.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
        prefix = "item" if head.startswith(b"[") else "items.item"
        with path.open("rb") as file:
            yield from ijson.items(file, prefix)
        return
    items = mapping.items or ""
    if SIMPLE_JSON_PATH.match(items):  # a plain path: streamed
        base = re.sub(r"\[\*?\]$", "", items)
        prefix = f"{base}.item" if base else "item"
        with path.open("rb") as file:
            yield from ijson.items(file, prefix)
        return
    with path.open("rb") as file:  # a real JMESPath query needs the document (bounded in size)
        document = next(ijson.items(file, ""), None)
    found = jmespath.search(items, document)
    if not isinstance(found, list):
        raise FileProblem(f"items '{items}' does not select a list")
    yield from found


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value() and "." not in str(value):
        return int(value)
    return value


def _default_item(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        return {"item": item}
    return {key: _plain(value) for key, value in item.items()}
