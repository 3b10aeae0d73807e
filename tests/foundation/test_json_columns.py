"""JSON columns come back as they were stored, whichever parser reads them (`core.db.read_json`:
pydantic-core's, else `json.loads` for what it refuses)."""

import json
from decimal import Decimal

import pytest
from sqlalchemy import JSON, text

from dropwire.core.db import Database, read_json

STORED = [
    '{"firstName": "Zoë", "tags": ["a", "b"], "nested": {"n": 1}}',
    '{"big": 123456789012345678901234567890, "price": 12.5, "none": null}',
    '{"twice": 1, "twice": 2}',
    '{"lone": "\\ud800"}',  # a lone surrogate's escape: pydantic-core refuses it, json does not
]


@pytest.mark.parametrize("stored", STORED)
def test_a_json_value_reads_back_as_json_loads_reads_it(database: Database, stored: str) -> None:
    cast = "CAST(:stored AS JSON)" if database.engine.dialect.name == "postgresql" else ":stored"
    statement = text(f"SELECT {cast} AS value").columns(value=JSON)
    with database.engine.connect() as connection:
        value = connection.execute(statement, {"stored": stored}).scalar_one()
    assert value == json.loads(stored)


def test_read_json_takes_text_and_bytes() -> None:
    assert read_json('{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    assert read_json(b'{"a": "\\ud800"}') == {"a": "\ud800"}
    assert read_json("0.1") == float(Decimal("0.1"))
