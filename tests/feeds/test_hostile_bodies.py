"""Hostile pull-feed bodies from a real local HTTP server, fetched by a real run in a separate
process whose peak memory (`ru_maxrss`) is measured: it stays under the bound README states."""

import json
import subprocess
import sys
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from dropwire.core.db import Database

BOUND_MIB = 64
"""README: a pull-feed run adds at most 64 MiB to its worker's memory, whatever it is sent."""
MIB = 1024 * 1024


def _gzip_of_nuls(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MIB)
    return b"".join(packer.compress(block) for _ in range(size // MIB)) + packer.flush()


BODIES = {
    # 1 GiB of NUL bytes, no newline: about 1 MiB on the wire
    "bomb.csv": (_gzip_of_nuls(1024 * MIB), "gzip"),
    # 96 MiB in one line, sent as is
    "line.csv": (b"sku,qty\n" + b"A" * (96 * MIB), None),
    # an honest compressed file, in two gzip members
    "stock.csv": (
        zlib.compress(b"sku,qty\nA-1,5\n", wbits=31) + zlib.compress(b"B-2,7\n", wbits=31),
        "gzip",
    ),
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        body, coding = BODIES[self.path.rsplit("/", 1)[-1]]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if coding:
            self.send_header("Content-Encoding", coding)
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


FETCH = """
import json, resource, sys
from dropwire import domains
from dropwire.core.settings import Settings
from dropwire.feeds.pull import runs

settings = Settings(database_url=sys.argv[1], allow_private_targets=True, _env_file=None)
database = domains.database(settings=settings)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
run = runs.run_now(database, int(sys.argv[2]))
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": str(run.status), "problem": run.problem,
                  "rows": run.rows_created, "grew_kib": peak - before}))
"""


def _feed(client, server: str, name: str) -> int:  # type: ignore[no-untyped-def]
    vendor = client.post("/api/dropship-providers.json", json={"name": "V"}).json()
    feed = client.post(
        "/api/inventory-feeds.json",
        json={
            "dropshipProviderId": vendor["id"],
            "fetchFrequency": "never",
            "resourceType": "csv",
            "resourceLocation": f"{server}/{name}",
            "mapping": {"fields": {"vendorSku": "sku", "inventoryQuantity": "qty"}},
        },
    )
    assert feed.status_code == 201, feed.text
    return int(feed.json()["id"])


def test_a_compressed_feed_is_decoded(client, database: Database, server: str, configure) -> None:
    from dropwire.feeds.pull import runs

    configure(allow_private_targets=True)
    run = runs.run_now(database, _feed(client, server, "stock.csv"))
    assert (run.status, run.rows_created, run.problem) == ("succeeded", 2, None)


@pytest.mark.parametrize(
    ("name", "refusal"),
    [("bomb.csv", "decompression bomb"), ("line.csv", "longer than")],
)
def test_a_hostile_body_keeps_the_worker_under_its_memory_bound(
    client, database: Database, server: str, name: str, refusal: str
) -> None:
    fetched = subprocess.run(
        [sys.executable, "-c", FETCH, database.url, str(_feed(client, server, name))],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert fetched.returncode == 0, fetched.stderr
    result = json.loads(fetched.stdout.strip().splitlines()[-1])
    assert result["status"].endswith("failed") and result["rows"] == 0, result
    assert refusal in result["problem"], result
    assert result["grew_kib"] < BOUND_MIB * 1024, result
