"""Reading CSV whose cells may be long (a product description, an HTML body).

`csv` refuses a cell over its field-size limit (128 KiB by default); the limit is process-wide,
so it is raised where a reader is made, not as a side effect of importing a module."""

import csv
from collections.abc import Iterable
from typing import Any

FIELD_LIMIT = 16 * 1024 * 1024
"""The longest cell read, in characters."""


def reader(lines: Iterable[str], *, delimiter: str = ",") -> Any:
    """`csv.reader` of `lines` taking cells up to `FIELD_LIMIT`."""
    if csv.field_size_limit() < FIELD_LIMIT:
        csv.field_size_limit(FIELD_LIMIT)
    return csv.reader(lines, delimiter=delimiter)
