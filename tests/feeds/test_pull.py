"""Pull feeds against real local servers: an HTTP server with basic auth and a pyftpdlib server."""

import base64
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import ThreadedFTPServer
from typer.testing import CliRunner

from dropwire.jobs import service as jobs
from dropwire.jobs.models import Job
from tests.feeds.conftest import catalog_variant

USER, PASSWORD = "vendor", "p@ss:word"


@pytest.fixture(autouse=True)
def _local_servers_allowed(configure):
    """The servers are on 127.0.0.1, which the outbound guard refuses unless allowed."""
    configure(allow_private_targets="true")


class Files:
    """What the HTTP server serves: path -> (status, body); `cut` paths close mid-file."""

    def __init__(self) -> None:
        self.bodies: dict[str, tuple[int, bytes]] = {}
        self.cut: set[str] = set()
        self.seen_auth: list[str | None] = []


class _Handler(BaseHTTPRequestHandler):
    files: Files

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        auth = self.headers.get("Authorization")
        self.files.seen_auth.append(auth)
        expected = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        if self.path.startswith("/private/") and auth != expected:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="feeds"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path.startswith("/api/") and auth != "Bearer tok-123":
            self.send_response(401)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        name = self.path.split("/")[-1]
        if name not in self.files.bodies:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, body = self.files.bodies[name]
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if name in self.files.cut:
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


@pytest.fixture
def http_files() -> Iterator[tuple[Files, str]]:
    files = Files()
    handler = type("Handler", (_Handler,), {"files": files})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield files, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def ftp_dir(tmp_path: Path) -> Iterator[tuple[Path, int]]:
    authorizer = DummyAuthorizer()
    authorizer.add_user(USER, PASSWORD, str(tmp_path), perm="elr")
    handler = type("Ftp", (FTPHandler,), {"authorizer": authorizer, "passive_ports": None})
    server = ThreadedFTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"timeout": 0.1}, daemon=True)
    thread.start()
    yield tmp_path, server.address[1]
    server.close_all()


def make_feed(client, vendor, **fields):
    body = {"dropshipProviderId": vendor["id"], "fetchFrequency": "never", **fields}
    response = client.post("/api/inventory-feeds.json", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def fetch(client, database, feed_id, expect=202):
    response = client.post(f"/api/inventory-feeds/{feed_id}/fetch.json")
    assert response.status_code == expect, response.text
    run_pull(database)
    return client.get(f"/api/inventory-feed-runs/{response.json()['id']}.json").json()


def run_pull(database):
    from dropwire.feeds.pull.tasks import run_queued_feeds

    while run_queued_feeds(database):
        pass


def items(client, feed_id):
    rows = client.get(
        f"/api/inventory-feed-variants.json?where[inventoryFeedId]={feed_id}&limit=500"
    )
    return {v["externalId"]: v for v in rows.json()}


CSV = 'sku;qty;cost;title\nA-1;5;10,50;Tent\nB-2;0;1.234,00;"Stove; gas"\nC-3;7;3,00;Mug\n'


def test_csv_over_http_with_basic_auth_in_the_url(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["stock.csv"] = (200, CSV.encode())
    variant = catalog_variant(client, "A-1")
    host = base.removeprefix("http://")
    feed = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"http://{USER}:p%40ss%3Aword@{host}/private/stock.csv",
        delimiter="semicolon",
        decimalNotation="comma",
        mapping={
            "fields": {
                "vendorSku": "sku",
                "inventoryQuantity": "qty",
                "costPrice": "cost",
                "name": "title",
            }
        },
    )
    assert "p%40ss" not in feed["resourceLocation"]
    run = fetch(client, database, feed["id"])
    assert run["status"] == "succeeded", run
    assert (run["rowsRead"], run["rowsCreated"], run["bytes"]) == (3, 3, len(CSV))
    stored = items(client, feed["id"])
    assert stored["B-2"]["costPrice"] == 1234.0
    assert stored["B-2"]["name"] == "Stove; gas"
    assert stored["A-1"]["variantId"] == variant["id"]
    detail = client.get(f"/api/variants/{variant['id']}/inventory.json").json()
    assert detail["available"] == 5
    again = fetch(client, database, feed["id"])
    assert (again["rowsUnchanged"], again["rowsUpdated"], again["rowsCreated"]) == (3, 0, 0)
    runs = client.get(f"/api/inventory-feeds/{feed['id']}/runs.json").json()
    assert [r["id"] for r in runs] == [again["id"], run["id"]]


def test_http_401_and_404_fail_the_run(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["stock.csv"] = (200, CSV.encode())
    no_auth = make_feed(
        client, vendor, resourceType="csv", resourceLocation=f"{base}/private/stock.csv"
    )
    run = fetch(client, database, no_auth["id"])
    assert run["status"] == "failed"
    assert "HTTP 401" in run["problem"] and "nothing was applied" in run["problem"]
    missing = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/gone.csv")
    run = fetch(client, database, missing["id"])
    assert run["status"] == "failed" and "HTTP 404" in run["problem"]


def test_server_closing_mid_file_applies_nothing(client, database, vendor, http_files):
    files, base = http_files
    body = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},{n}\n" for n in range(2000))
    files.bodies["cut.csv"] = (200, body.encode())
    files.cut.add("cut.csv")
    feed = make_feed(
        client, vendor, resourceType="csv", resourceLocation=f"{base}/cut.csv", fetchCleanup=True
    )
    run = fetch(client, database, feed["id"])
    assert run["status"] == "failed"
    assert "broke off" in run["problem"]
    assert run["batchesApplied"] == 0 and items(client, feed["id"]) == {}


def test_malformed_row_among_good_ones_fails_only_that_row(client, database, vendor, http_files):
    files, base = http_files
    body = "vendorSku,inventoryQuantity,price\nA,1,2.50\nB,lots,1\nC,3,x\n,4,1\nD,-2,1\nE,5,1\n"
    files.bodies["mixed.csv"] = (200, body.encode())
    feed = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/mixed.csv")
    run = fetch(client, database, feed["id"])
    assert run["status"] == "partial"
    assert (run["rowsRead"], run["rowsCreated"], run["rowsFailed"]) == (6, 2, 4)
    assert [(e["row"], e["field"]) for e in run["errors"]] == [
        (3, "inventoryQuantity"),
        (4, "price"),
        (5, "vendorSku"),
        (6, "inventoryQuantity"),
    ]
    assert set(items(client, feed["id"])) == {"A", "E"}


def test_latin1_bom_tab_and_index_columns(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["latin.csv"] = (200, "X1\tCafé crème\t4\n".encode("latin-1"))
    files.bodies["bom.csv"] = (200, "\ufeffvendorSku,inventoryQuantity\nÜ-1,2\n".encode())
    latin = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"{base}/latin.csv",
        delimiter="tab",
        csvHasHeader=False,
        mapping={"fields": {"vendorSku": 0, "name": 1, "inventoryQuantity": 2}},
    )
    run = fetch(client, database, latin["id"])
    assert (run["status"], run["encoding"]) == ("succeeded", "latin-1")
    assert items(client, latin["id"])["X1"]["name"] == "Café crème"
    bom = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/bom.csv")
    run = fetch(client, database, bom["id"])
    assert (run["status"], run["encoding"]) == ("succeeded", "utf-8-sig")
    assert items(client, bom["id"])["Ü-1"]["inventoryQuantity"] == 2


XML = b"""<?xml version="1.0"?>
<catalog><products>
  <product id="p1"><sku>X-1</sku><stock><qty>4</qty></stock><price>9.99</price></product>
  <product id="p2"><sku>X-2</sku><stock><qty>0</qty></stock><price>1.00</price></product>
</products><other><product id="no"><sku>NOPE</sku></product></other></catalog>
"""


def test_xml_over_ftp_with_credentials_in_the_url(client, database, vendor, ftp_dir):
    root, port = ftp_dir
    (root / "stock.xml").write_bytes(XML)
    feed = make_feed(
        client,
        vendor,
        resourceType="xml",
        resourceLocation=f"ftp://{USER}:p%40ss%3Aword@127.0.0.1:{port}/stock.xml",
        mapping={
            "items": "/catalog/products/product",
            "fields": {
                "externalId": "@id",
                "vendorSku": "sku",
                "inventoryQuantity": "stock/qty",
                "price": "price",
            },
        },
    )
    run = fetch(client, database, feed["id"])
    assert run["status"] == "succeeded", run
    stored = items(client, feed["id"])
    assert set(stored) == {"p1", "p2"}
    assert stored["p1"]["vendorSku"] == "X-1" and stored["p1"]["price"] == 9.99
    wrong = make_feed(
        client,
        vendor,
        resourceType="xml",
        resourceLocation=f"ftp://{USER}:wrong@127.0.0.1:{port}/stock.xml",
        mapping={"items": "//product", "fields": {"vendorSku": "sku", "inventoryQuantity": "q"}},
    )
    run = fetch(client, database, wrong["id"])
    assert run["status"] == "failed" and "530" in run["problem"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<catalog><product><sku>OK-1</sku><qty>1</qty></product>
<product><sku>&lol9;</sku><qty>1</qty></product></catalog>
"""


def test_billion_laughs_fails_the_run_and_applies_nothing(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["lol.xml"] = (200, BILLION_LAUGHS)
    feed = make_feed(
        client,
        vendor,
        resourceType="xml",
        resourceLocation=f"{base}/lol.xml",
        mapping={"items": "//product", "fields": {"vendorSku": "sku", "inventoryQuantity": "qty"}},
    )
    run = fetch(client, database, feed["id"])
    assert run["status"] == "failed"
    assert "DTD" in run["problem"] and "nothing was applied" in run["problem"]
    assert items(client, feed["id"]) == {}


def test_json_mapping_default_shape_and_bearer_token(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["stock.json"] = (
        200,
        b'{"data": {"products": [{"code": "J-1", "stock": {"available": 3}, "tags": ["a", "b"]},'
        b' {"code": "J-2", "stock": {"available": 6.0}}]}}',
    )
    files.bodies["default.json"] = (
        200,
        b'{"items": [{"externalId": "d1", "vendorSku": "D-1", "inventoryQuantity": 2,'
        b' "options": [{"name": "Size", "value": "M"}]}]}',
    )
    mapped = make_feed(
        client,
        vendor,
        resourceType="json",
        resourceLocation=f"{base}/api/stock.json",
        authenticationToken="tok-123",
        mapping={
            "items": "data.products",
            "fields": {"vendorSku": "code", "inventoryQuantity": "stock.available", "tags": "tags"},
        },
    )
    assert mapped["authenticationTokenSet"] is True and "tok-123" not in str(mapped)
    run = fetch(client, database, mapped["id"])
    assert run["status"] == "succeeded", run
    stored = items(client, mapped["id"])
    assert stored["J-1"]["tags"] == ["a", "b"] and stored["J-2"]["inventoryQuantity"] == 6
    assert "Bearer tok-123" in files.seen_auth
    default = make_feed(
        client, vendor, resourceType="json", resourceLocation=f"{base}/default.json"
    )
    run = fetch(client, database, default["id"])
    assert run["status"] == "succeeded", run
    assert items(client, default["id"])["d1"]["options"][0]["value"] == "M"


def test_file_over_the_size_limit_fails(client, database, vendor, http_files, configure):
    files, base = http_files
    files.bodies["big.csv"] = (200, b"vendorSku,inventoryQuantity\n" + b"S,1\n" * 1000)
    feed = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/big.csv")
    configure(feed_max_bytes="2048")
    run = fetch(client, database, feed["id"])
    assert run["status"] == "failed" and "DROPWIRE_FEED_MAX_BYTES" in run["problem"]


def test_diff_cleanup_and_the_guard(client, database, vendor, http_files):
    files, base = http_files
    full = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},{n + 1}\n" for n in range(10))
    files.bodies["s.csv"] = (200, full.encode())
    feed = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"{base}/s.csv",
        fetchCleanup=True,
        cleanupGuardPercent=20,
    )
    assert fetch(client, database, feed["id"])["rowsCreated"] == 10
    one_changed = full.replace("S3,4", "S3,40")
    files.bodies["s.csv"] = (200, one_changed.encode())
    run = fetch(client, database, feed["id"])
    assert (run["rowsUnchanged"], run["rowsUpdated"]) == (9, 1)
    # 1 of 10 missing: within the guard, cleaned up
    files.bodies["s.csv"] = (200, one_changed.replace("S9,10\n", "").encode())
    run = fetch(client, database, feed["id"])
    assert (run["status"], run["rowsCleaned"]) == ("succeeded", 1)
    assert items(client, feed["id"])["S9"]["inventoryQuantity"] == 0
    # 5 of 10 missing: held, nothing applied, then approved
    half = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},99\n" for n in range(5))
    files.bodies["s.csv"] = (200, half.encode())
    held = fetch(client, database, feed["id"])
    assert held["status"] == "held", held
    assert "missing from the file" in held["problem"]
    assert items(client, feed["id"])["S0"]["inventoryQuantity"] == 1
    approved = client.post(f"/api/inventory-feed-runs/{held['id']}/approve.json")
    assert approved.status_code == 200 and approved.json()["status"] == "queued"
    run_pull(database)
    done = client.get(f"/api/inventory-feed-runs/{held['id']}.json").json()
    assert (done["status"], done["rowsCleaned"]) == ("succeeded", 4)
    stored = items(client, feed["id"])
    assert stored["S0"]["inventoryQuantity"] == 99 and stored["S8"]["inventoryQuantity"] == 0
    # a broken file (every quantity 0) is held; discarding it keeps the stock
    zeros = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},0\n" for n in range(10))
    files.bodies["s.csv"] = (200, zeros.encode())
    held = fetch(client, database, feed["id"])
    assert held["status"] == "held"
    discarded = client.post(f"/api/inventory-feed-runs/{held['id']}/discard.json").json()
    assert discarded["status"] == "discarded"
    assert items(client, feed["id"])["S0"]["inventoryQuantity"] == 99


@pytest.mark.parametrize("guard", [20, 0])
def test_rows_read_ahead_of_the_writes_keep_the_file_order(
    client, database, vendor, http_files, monkeypatch, configure, guard
):
    """Rows to write gather across batches; a key seen again later in the file still ends as the
    file's last row says, even when that row equals what was stored before the run. Guarded,
    the run writes after its one reading; unguarded, as it reads."""
    from dropwire.feeds.pull import runs

    configure(feed_batch_size=2)
    monkeypatch.setattr(runs, "_TALLY_EVERY", 3600.0)  # writes by size alone: deterministic
    files, base = http_files
    first = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},{n + 1}\n" for n in range(6))
    files.bodies["o.csv"] = (200, first.encode())
    feed = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"{base}/o.csv",
        cleanupGuardPercent=guard,
    )
    assert fetch(client, database, feed["id"])["rowsCreated"] == 6
    # batches: [S0 S1] written; [S2 S3] S2 waits; [S2 S4]: S2 back to its stored value
    again = "vendorSku,inventoryQuantity\nS0,10\nS1,20\nS2,30\nS3,4\nS2,3\nS4,5\nS5,6\n"
    files.bodies["o.csv"] = (200, again.encode())
    run = fetch(client, database, feed["id"])
    assert (run["status"], run["rowsUpdated"], run["rowsUnchanged"]) == ("succeeded", 4, 3)
    assert (run["batchesApplied"], run["rowsAppliedThrough"]) == (4, 8)
    stored = {k: v["inventoryQuantity"] for k, v in items(client, feed["id"]).items()}
    assert stored == {"S0": 10, "S1": 20, "S2": 3, "S3": 4, "S4": 5, "S5": 6}


class _Progress:
    def __init__(self) -> None:
        self.reads: list[int] = []

    def downloaded(self, size: int) -> None:
        pass

    def read(self, rows: int) -> None:
        self.reads.append(rows)


@pytest.mark.parametrize(("kept_rows", "readings"), [(50_000, 1), (1, 2)])
def test_a_guarded_rerun_reads_its_file_once_unless_it_changes_too_much(
    client, database, vendor, http_files, monkeypatch, configure, kept_rows, readings
):
    """The guard needs the whole file before anything is written; the rows to write are kept
    from that one reading. When too many changed to keep, the file is read again: same end."""
    from dropwire.feeds.pull import runs

    configure(feed_batch_size=2)
    monkeypatch.setattr(runs, "_DEFERRED_ROWS", kept_rows)
    files, base = http_files
    first = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},{n + 1}\n" for n in range(8))
    files.bodies["g.csv"] = (200, first.encode())
    feed = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"{base}/g.csv",
        fetchCleanup=True,
        cleanupGuardPercent=20,
    )
    assert fetch(client, database, feed["id"])["rowsCreated"] == 8
    again = "vendorSku,inventoryQuantity\nS0,1\nS1,20\nS2,3\nS3,4\nS4,50\nS5,6\nS6,7\nS9,1\n"
    files.bodies["g.csv"] = (200, again.encode())
    progress = _Progress()
    run = runs.run_now(database, feed["id"], progress=progress)
    restarts = sum(1 for a, b in zip(progress.reads, progress.reads[1:], strict=False) if b < a)
    assert restarts + 1 == readings, progress.reads
    assert (run.status, run.rows_read, run.rows_created, run.rows_updated) == (
        "succeeded",
        8,
        1,
        2,
    )
    assert (run.rows_unchanged, run.rows_cleaned, run.batches_applied) == (5, 1, 4)
    stored = {k: v["inventoryQuantity"] for k, v in items(client, feed["id"]).items()}
    assert stored == {f"S{n}": q for n, q in enumerate([1, 20, 3, 4, 50, 6, 7, 0])} | {"S9": 1}


def test_no_cleanup_after_a_failed_download(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["s.csv"] = (200, b"vendorSku,inventoryQuantity\nA,1\nB,2\n")
    feed = make_feed(
        client, vendor, resourceType="csv", resourceLocation=f"{base}/s.csv", fetchCleanup=True
    )
    fetch(client, database, feed["id"])
    files.bodies["s.csv"] = (500, b"oops")
    assert fetch(client, database, feed["id"])["status"] == "failed"
    assert {k: v["inventoryQuantity"] for k, v in items(client, feed["id"]).items()} == {
        "A": 1,
        "B": 2,
    }


def test_one_run_per_feed_and_the_schedule(client, database, vendor, http_files):
    files, base = http_files
    files.bodies["s.csv"] = (200, b"vendorSku,inventoryQuantity\nA,1\n")
    feed = make_feed(
        client,
        vendor,
        resourceType="csv",
        resourceLocation=f"{base}/s.csv",
        fetchFrequency="custom",
        fetchIntervalMinutes=30,
    )
    jobs.run_pending(database)  # the first firing is due now: it queues a run
    queued = client.get(f"/api/inventory-feeds/{feed['id']}/runs.json").json()
    assert [(r["status"], r["trigger"]) for r in queued] == [("queued", "schedule")]
    refused = client.post(f"/api/inventory-feeds/{feed['id']}/fetch.json")
    assert refused.status_code == 409
    run_pull(database)
    assert client.get(f"/api/inventory-feeds/{feed['id']}/runs.json").json()[0]["status"] == (
        "succeeded"
    )
    with database.session(write=False) as session:
        pending = session.query(Job).filter(Job.state == "queued").all()
        nexts = [j for j in pending if j.kind == "feeds.scheduled_fetch"]
    assert len(nexts) == 1
    gap = (nexts[0].run_at - nexts[0].created_at).total_seconds()
    assert 29 * 60 < gap <= 30 * 60 + 5


def test_mapping_is_checked_when_saved(client, vendor):
    cases = [
        ({"resourceType": "xml"}, "items"),
        (
            {"resourceType": "xml", "mapping": {"items": "//p", "fields": {"vendorSku": "s"}}},
            "fields.inventoryQuantity",
        ),
        (
            {"resourceType": "csv", "mapping": {"fields": {"inventoryQuantity": "q"}}},
            "fields.vendorSku",
        ),
        (
            {
                "resourceType": "json",
                "mapping": {"items": "a[?", "fields": {"vendorSku": "s", "inventoryQuantity": "q"}},
            },
            "JMESPath",
        ),
        ({"resourceType": "csv", "fetchFrequency": "custom"}, "fetchIntervalMinutes"),
    ]
    for body, named in cases:
        response = client.post(
            "/api/inventory-feeds.json", json={"dropshipProviderId": vendor["id"], **body}
        )
        assert response.status_code == 422, body
        assert named in response.text, response.text


def test_cli_fetch_prints_the_run(client, database, vendor, http_files, cli_in_this_process):
    from dropwire.cli import app

    files, base = http_files
    files.bodies["s.csv"] = (200, b"vendorSku,inventoryQuantity\nA,1\nB,2\n")
    feed = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/s.csv")
    result = CliRunner().invoke(app, ["feed", "fetch", str(feed["id"]), "--json"])
    assert result.exit_code == 0, result.output
    assert '"status": "succeeded"' in result.output and '"rowsCreated": 2' in result.output


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/stock.csv", "ftp://bob:pw@127.0.0.1:9/s.csv"])
def test_sources_refuse_non_public_hosts_before_connecting(tmp_path, url):
    from dropwire.core.outbound import AddressPolicy
    from dropwire.feeds.pull.sources import Limits, SourceError, download

    limits = Limits(max_bytes=1024, connect_timeout=1, read_timeout=1, policy=AddressPolicy())
    with pytest.raises(SourceError, match="refused"):
        download(url, tmp_path / "file", limits)


def _held_run(client, database, vendor, http_files):
    """A feed of 10 items, then a file with 5 of them: held by the guard."""
    files, base = http_files
    full = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},{n + 1}\n" for n in range(10))
    files.bodies["s.csv"] = (200, full.encode())
    feed = make_feed(
        client, vendor, resourceType="csv", resourceLocation=f"{base}/s.csv", fetchCleanup=True
    )
    assert fetch(client, database, feed["id"])["status"] == "succeeded"
    half = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},77\n" for n in range(5))
    files.bodies["s.csv"] = (200, half.encode())
    held = fetch(client, database, feed["id"])
    assert held["status"] == "held", held
    return feed, held


def test_approving_applies_the_file_that_was_held(client, database, vendor, http_files):
    from dropwire.feeds.pull.runs import held_file

    files, _ = http_files
    feed, held = _held_run(client, database, vendor, http_files)
    kept = held_file(database.settings, held["id"])
    assert kept.exists() and kept.stat().st_size == held["bytes"]
    # the vendor has since put yet another file up: approving must not fetch it
    files.bodies["s.csv"] = (200, b"vendorSku,inventoryQuantity\nS0,5000\n")
    requests_before = len(files.seen_auth)
    assert client.post(f"/api/inventory-feed-runs/{held['id']}/approve.json").status_code == 200
    run_pull(database)
    done = client.get(f"/api/inventory-feed-runs/{held['id']}.json").json()
    assert (done["status"], done["rowsRead"], done["rowsCleaned"]) == ("succeeded", 5, 5)
    assert len(files.seen_auth) == requests_before  # no second download
    stored = items(client, feed["id"])
    assert stored["S0"]["inventoryQuantity"] == 77 and stored["S9"]["inventoryQuantity"] == 0
    assert not kept.exists()
    again = client.post(f"/api/inventory-feed-runs/{held['id']}/approve.json")
    assert again.status_code == 409


def test_discarding_or_expiry_deletes_the_held_file(client, database, vendor, http_files):
    from datetime import timedelta

    from sqlalchemy import update

    from dropwire.core.time import utcnow
    from dropwire.feeds.models import InventoryFeedRun
    from dropwire.feeds.pull.runs import claim_next_run, held_file

    feed, held = _held_run(client, database, vendor, http_files)
    assert held_file(database.settings, held["id"]).exists()
    client.post(f"/api/inventory-feed-runs/{held['id']}/discard.json")
    assert not held_file(database.settings, held["id"]).exists()
    assert items(client, feed["id"])["S0"]["inventoryQuantity"] == 1

    second = fetch(client, database, feed["id"])
    assert second["status"] == "held" and held_file(database.settings, second["id"]).exists()
    with database.transaction() as session:
        session.execute(
            update(InventoryFeedRun)
            .where(InventoryFeedRun.id == second["id"])
            .values(finished_at=utcnow() - timedelta(days=8))
        )
    assert claim_next_run(database, "test") is None
    expired = client.get(f"/api/inventory-feed-runs/{second['id']}.json").json()
    assert expired["status"] == "discarded" and "nobody approved it" in expired["problem"]
    assert not held_file(database.settings, second["id"]).exists()


def test_a_held_file_older_than_a_good_run_cannot_be_approved(client, database, vendor, http_files):
    files, _ = http_files
    feed, held = _held_run(client, database, vendor, http_files)
    full = "vendorSku,inventoryQuantity\n" + "".join(f"S{n},3\n" for n in range(10))
    files.bodies["s.csv"] = (200, full.encode())
    assert fetch(client, database, feed["id"])["status"] == "succeeded"
    refused = client.post(f"/api/inventory-feed-runs/{held['id']}/approve.json")
    assert refused.status_code == 409 and "newer file" in refused.text
    assert items(client, feed["id"])["S9"]["inventoryQuantity"] == 3


def test_a_run_whose_worker_died_fails_and_the_feed_runs_again(
    client, database, vendor, http_files
):
    from datetime import timedelta

    from sqlalchemy import update

    from dropwire.core.time import utcnow
    from dropwire.feeds.models import InventoryFeedRun
    from dropwire.feeds.pull.runs import claim_next_run

    files, base = http_files
    files.bodies["s.csv"] = (200, b"vendorSku,inventoryQuantity\nA,1\n")
    feed = make_feed(client, vendor, resourceType="csv", resourceLocation=f"{base}/s.csv")
    first = client.post(f"/api/inventory-feeds/{feed['id']}/fetch.json").json()
    assert claim_next_run(database, "doomed-worker") == first["id"]  # claimed, then it dies
    # its lease still runs: one run per feed holds
    assert client.post(f"/api/inventory-feeds/{feed['id']}/fetch.json").status_code == 409
    with database.transaction() as session:
        session.execute(
            update(InventoryFeedRun)
            .where(InventoryFeedRun.id == first["id"])
            .values(lease_expires_at=utcnow() - timedelta(seconds=1))
        )
    run = fetch(client, database, feed["id"])  # the lease ran out: the feed may run again
    assert run["status"] == "succeeded" and run["id"] != first["id"]
    dead = client.get(f"/api/inventory-feed-runs/{first['id']}.json").json()
    assert dead["status"] == "failed"
    assert dead["problem"] == "the worker running it stopped; no batch was applied"
    assert items(client, feed["id"])["A"]["inventoryQuantity"] == 1
