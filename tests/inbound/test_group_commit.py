"""Async accepts share a group commit: every 200 is durable, a failed group answers 503 to all."""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import Connection, Table, select, text
from sqlalchemy.orm import Session

from dropwire.core.db import Database
from dropwire.core.group_commit import GroupCommitFailed, GroupCommitter, Planner, Row
from dropwire.core.inserts import insert_rows
from dropwire.core.time import utcnow
from dropwire.jobs.models import Job

SALE = "/webhooks/custom-channels/manual-sale.json"


def sale(external_id: str) -> str:
    return json.dumps(
        {"externalId": external_id, "lineItems": [{"quantity": 1, "variant": {"sku": "S"}}]}
    )


def stored_sale_jobs(database: Database, channel_id: int, *external_ids: str) -> int:
    """Queued manual sales of the channel naming these externalIds (a job per request)."""
    wanted = set(external_ids)
    with database.session(write=False) as session:
        payloads = session.scalars(select(Job.payload).where(Job.kind == "inbound.manual_sale"))
        return sum(
            1
            for payload in payloads
            if payload["ownerId"] == channel_id
            for item in payload["items"]
            if item.get("externalId") in wanted
        )


@pytest.fixture
def shop(live_client: httpx.Client) -> dict[str, object]:
    return dict(live_client.post("/api/custom-channels.json", json={"name": "Shop"}).json())


def test_concurrent_accepts_are_each_stored_when_answered(live_server, shop, database):
    """16 clients through a real server: each 200 is checked against the database at once."""
    channel_id = int(str(shop["channelId"]))
    headers = {"jetti-webhook-hash": str(shop["webhookHash"]), "content-type": "application/json"}

    def send(n: int) -> tuple[int, int]:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            answer = http.post(SALE, content=sale(f"c-{n}"), headers=headers)
        stored = stored_sale_jobs(database, channel_id, f"c-{n}")
        return answer.status_code, stored

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(send, range(300)))
    assert outcomes == [(200, 1)] * 300
    assert stored_sale_jobs(database, channel_id, *(f"c-{n}" for n in range(300))) == 300


@pytest.fixture
def refusing_jobs(database: Database) -> Iterator[None]:
    """Jobs whose ordering key or payload holds `fail-` are refused: at COMMIT on PostgreSQL
    (a deferred constraint trigger, raising a serialization failure), at INSERT on SQLite."""
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(
                text(
                    """
                    CREATE OR REPLACE FUNCTION dropwire_test_refuse_job() RETURNS trigger AS $$
                    BEGIN
                      IF NEW.ordering_key LIKE '%fail-%' OR NEW.payload::text LIKE '%fail-%' THEN
                        RAISE EXCEPTION 'refused at commit' USING ERRCODE = '40001';
                      END IF;
                      RETURN NEW;
                    END $$ LANGUAGE plpgsql
                    """
                )
            )
            connection.execute(
                text(
                    "CREATE CONSTRAINT TRIGGER dropwire_test_refuse_job AFTER INSERT ON jobs "
                    "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
                    "EXECUTE FUNCTION dropwire_test_refuse_job()"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE TRIGGER dropwire_test_refuse_job BEFORE INSERT ON jobs "
                    "WHEN NEW.ordering_key LIKE '%fail-%' OR NEW.payload LIKE '%fail-%' "
                    "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                )
            )
    yield
    drop_refusal(database)


def drop_refusal(database: Database) -> None:
    with database.engine.begin() as connection:
        if database.dialect == "postgresql":
            connection.execute(text("DROP TRIGGER IF EXISTS dropwire_test_refuse_job ON jobs"))
            connection.execute(text("DROP FUNCTION IF EXISTS dropwire_test_refuse_job()"))
        else:
            connection.execute(text("DROP TRIGGER IF EXISTS dropwire_test_refuse_job"))


@pytest.mark.usefixtures("refusing_jobs")
def test_a_failed_group_commit_answers_503_stores_nothing_and_a_retry_works(
    live_server, shop, database
):
    channel_id = int(str(shop["channelId"]))
    headers = {"jetti-webhook-hash": str(shop["webhookHash"]), "content-type": "application/json"}
    refused = [f"fail-{n}" for n in range(8)]
    others = [f"ok-{n}" for n in range(24)]

    def send(external_id: str) -> httpx.Response:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            return http.post(SALE, content=sale(external_id), headers=headers)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = dict(zip(refused + others, pool.map(send, refused + others), strict=True))
    for external_id in refused:
        answer = answers[external_id]
        assert answer.status_code == 503, answer.text
        assert answer.headers["Retry-After"] == "1"
        assert "nothing" in answer.json()["message"]
    assert stored_sale_jobs(database, channel_id, *refused) == 0
    for external_id in others:  # grouped with a refused one: 503 and not stored; else stored
        stored = stored_sale_jobs(database, channel_id, external_id)
        assert (answers[external_id].status_code, stored) in ((200, 1), (503, 0))

    drop_refusal(database)
    retried = [send(external_id) for external_id in refused]
    assert [answer.status_code for answer in retried] == [200] * len(refused)
    assert stored_sale_jobs(database, channel_id, *refused) == len(refused)


def job_rows(*keys: str) -> list[Row]:
    table = Job.__table__
    assert isinstance(table, Table)
    now = utcnow()
    return [
        (
            table,
            {
                "kind": "test.group",
                "payload": {},
                "priority": 100,
                "state": "queued",
                "attempts": 0,
                "max_attempts": 1,
                "run_at": now,
                "ordering_key": key,
                "created_at": now,
                "updated_at": now,
            },
        )
        for key in keys
    ]


def group_keys(database: Database) -> list[str]:
    with database.session(write=False) as session:
        return sorted(session.scalars(select(Job.ordering_key).where(Job.kind == "test.group")))


def rows_of(_reading: Session, keys: list[str]) -> list[list[Row]]:
    return [job_rows(key) for key in keys]


async def _blocked_then_grouped(
    committer: GroupCommitter, follower_keys: list[str]
) -> list[BaseException | None]:
    """The first request's planner holds the committer until every other request has queued,
    so those others are committed as one group (the first may take a few of them along)."""
    release = threading.Event()

    def first(reading: Session, keys: list[str]) -> list[list[Row]]:
        assert release.wait(10)
        return rows_of(reading, keys)

    waiting = [asyncio.ensure_future(committer.append(first, "first"))]
    waiting += [asyncio.ensure_future(committer.append(rows_of, key)) for key in follower_keys]
    await asyncio.sleep(0)  # every append above has queued its entry
    release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    return [outcome if isinstance(outcome, BaseException) else None for outcome in outcomes]


def test_requests_queued_during_a_commit_share_the_next_one(database):
    committer = GroupCommitter(database, window=0.0)
    keys = [f"k-{n:02}" for n in range(40)]
    try:
        outcomes = asyncio.run(_blocked_then_grouped(committer, keys))
    finally:
        committer.stop()
    assert outcomes == [None] * 41
    assert group_keys(database) == sorted(["first", *keys])
    assert committer.entries == 41
    assert committer.groups <= 2  # 41 requests, at most two commits


@pytest.mark.usefixtures("refusing_jobs")
def test_one_refused_row_fails_its_whole_group_and_stores_none_of_it(database):
    committer = GroupCommitter(database, window=0.0)
    keys = [f"k-{n:02}" for n in range(20)] + ["fail-1"]
    try:
        outcomes = asyncio.run(_blocked_then_grouped(committer, keys))
    finally:
        committer.stop()
    stored = group_keys(database)
    # the first request alone, or with some followers, committed; the group holding
    # `fail-1` failed whole: each of its requests got GroupCommitFailed and none is stored
    assert "fail-1" not in stored
    for key, outcome in zip(["first", *keys], outcomes, strict=True):
        assert (outcome is None) == (key in stored)
        assert outcome is None or isinstance(outcome, GroupCommitFailed)
    assert isinstance(outcomes[-1], GroupCommitFailed)
    assert len(stored) < len(keys)


def test_a_refused_request_fails_alone(database):
    class Refused(Exception):
        pass

    def refuse_b(reading: Session, keys: list[str]) -> list[list[Row] | Exception]:
        return [Refused() if key == "b" else job_rows(key) for key in keys]

    async def run(committer: GroupCommitter) -> list[object]:
        return await asyncio.gather(
            *(committer.append(refuse_b, key) for key in ("a", "b", "c")),
            return_exceptions=True,
        )

    committer = GroupCommitter(database)
    try:
        outcomes = asyncio.run(run(committer))
    finally:
        committer.stop()
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], Refused)
    assert group_keys(database) == ["a", "c"]


def test_a_hash_is_checked_without_waiting_for_a_writer(live_server, shop, database):
    """Authentication only reads: while another transaction holds the database for writing
    (SQLite: the process's write slot; PostgreSQL: the jobs table locked), a wrong hash is
    still refused at once instead of waiting behind it."""
    headers = {"jetti-webhook-hash": "not-a-hash", "content-type": "application/json"}
    with database.transaction() as holding:
        if database.dialect == "postgresql":
            holding.execute(text("LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE"))
        else:
            holding.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write slot is ours
        with httpx.Client(base_url=live_server, timeout=10) as http:
            answer = http.post(SALE, content=sale("w-1"), headers=headers)
    assert answer.status_code == 401


def test_an_idempotent_accept_commits_with_its_key_and_replays(live_client, shop, database):
    """With an Idempotency-Key (a caller holding an API token) the request queues in its own
    unit of work, so the key's record commits with the jobs: the retry replays, queues nothing."""
    channel_id = int(str(shop["channelId"]))
    headers = {
        "jetti-webhook-hash": str(shop["webhookHash"]),
        "content-type": "application/json",
        "Idempotency-Key": "sale-i-1",
    }
    first = live_client.post(SALE, content=sale("i-1"), headers=headers)
    again = live_client.post(SALE, content=sale("i-1"), headers=headers)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json() == first.json() == {"queued": 1}
    assert stored_sale_jobs(database, channel_id, "i-1") == 1


@pytest.fixture
def slow_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows keyed `slow-...` take 0.3 s to insert, so the next group is taken meanwhile."""
    from dropwire.core import group_commit

    def insert_slowly(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if any(str(row.get("ordering_key", "")).startswith("slow-") for row in rows):
            time.sleep(0.3)
        insert_rows(connection, table, rows)

    monkeypatch.setattr(group_commit, "insert_rows", insert_slowly)


async def _a_slow_group_then_another(
    committer: GroupCommitter, first: str, others: list[str]
) -> tuple[list[str], list[BaseException | None], bool]:
    """`first` alone in a slow group; `others` appended once it is being stored. Returns the
    order the requests were answered in, their outcomes, and whether `others` were planned
    before `first` was answered (the groups overlapped)."""
    answered: list[str] = []
    planned = threading.Event()

    def noting(reading: Session, keys: list[str]) -> list[list[Row]]:
        planned.set()
        return rows_of(reading, keys)

    async def append(planner: Planner, key: str) -> BaseException | None:
        try:
            await committer.append(planner, key)
        except Exception as exc:
            return exc
        finally:
            answered.append(key)
        return None

    slow = asyncio.ensure_future(append(rows_of, first))
    await asyncio.sleep(0.1)  # taken, planned, and inserting
    rest = [asyncio.ensure_future(append(noting, key)) for key in others]
    overlapped = await asyncio.to_thread(planned.wait, 5) and not slow.done()
    outcomes = await asyncio.gather(slow, *rest)
    return answered, outcomes, overlapped


def _with_two_committers(database, first, others):
    committer = GroupCommitter(database, window=0.0, threads=2)
    try:
        return asyncio.run(_a_slow_group_then_another(committer, first, others))
    finally:
        committer.stop()


@pytest.mark.usefixtures("slow_store")
def test_two_committers_overlap_yet_store_in_the_order_they_took_their_groups(database):
    """The second group is planned while the first is stored, but stores (gets its ids and
    becomes visible) only after the first has: ids follow commit order, so a claim (first in
    line among the committed jobs of a key) never sees a key's later job before an earlier one."""
    others = [f"next-{n}" for n in range(10)]
    answered, outcomes, overlapped = _with_two_committers(database, "slow-1", others)
    assert outcomes == [None] * 11
    assert overlapped
    assert answered[0] == "slow-1"
    with database.session(write=False) as session:
        by_id = list(
            session.scalars(
                select(Job.ordering_key).where(Job.kind == "test.group").order_by(Job.id)
            )
        )
    assert by_id == ["slow-1", *others]


@pytest.mark.usefixtures("slow_store", "refusing_jobs")
def test_with_two_committers_a_failed_group_fails_its_own_requests_only(database):
    others = [f"ok-{n}" for n in range(10)]
    _answered, outcomes, overlapped = _with_two_committers(database, "slow-fail-1", others)
    assert overlapped
    assert isinstance(outcomes[0], GroupCommitFailed)
    assert outcomes[1:] == [None] * 10
    assert group_keys(database) == sorted(others)


def test_a_committer_whose_idle_connection_was_closed_takes_a_fresh_one(
    database, postgres_only, monkeypatch
):
    """The server closing the committer's idle connection (a restart, an idle timeout) costs
    no request: an idle committer gives its connection back, and the pool pings the next."""
    from dropwire.core import group_commit

    monkeypatch.setattr(group_commit, "HELD_IDLE_SECONDS", 0.05)
    committer = GroupCommitter(database, window=0.0, threads=1)

    async def append(key: str) -> None:
        await committer.append(rows_of, key)

    try:
        asyncio.run(append("before"))
        with database.engine.connect() as admin:
            closed = admin.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    " AND query LIKE 'INSERT INTO%unnest%'"
                )
            )
        assert closed >= 1  # the committer's, and any pooled one that inserted last
        time.sleep(0.1)
        asyncio.run(append("after"))
    finally:
        committer.stop()
    assert group_keys(database) == ["after", "before"]
