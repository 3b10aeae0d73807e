"""Importing the application changes no process-wide setting: `csv`'s field-size limit is
raised where a reader is made (`core.csv_reader`), not when `feeds.pull.parsers` is imported."""

import subprocess
import sys

CHECK = """
import csv
before = csv.field_size_limit()
import dropwire.app, dropwire.domains, dropwire.feeds.pull.parsers, dropwire.imports.service
assert csv.field_size_limit() == before, csv.field_size_limit()
"""


def test_importing_the_app_leaves_the_csv_field_limit_alone():
    subprocess.run([sys.executable, "-c", CHECK], check=True, timeout=120)


def test_a_reader_takes_a_long_cell():
    from dropwire.core.csv_reader import reader

    cell = "x" * 200_000  # over csv's default limit of 128 KiB
    assert list(reader([f"sku,{cell}\n"])) == [["sku", cell]]
