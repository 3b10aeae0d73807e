from datetime import timedelta

from sqlalchemy import func, select, update

from dropwire.core.time import utcnow
from dropwire.inventory.models import Warehouse
from dropwire.jobs import claiming, service
from dropwire.jobs.models import Job, JobState
from tests.jobs import handlers


def enqueue(database, kind, payload, **options):
    with database.transaction() as session:
        job = service.enqueue(session, kind=kind, payload=payload, **options)
        return job.id if job else None


def warehouses(database, name):
    with database.session(write=False) as session:
        return session.scalar(
            select(func.count()).select_from(Warehouse).where(Warehouse.name == name)
        )


def state(database, job_id):
    with database.session(write=False) as session:
        return session.get(Job, job_id)


def test_handler_and_completion_commit_together(database):
    job_id = enqueue(database, "test.make_warehouse", {"name": "J1"})
    assert service.run_pending(database) == 1
    assert warehouses(database, "J1") == 1
    job = state(database, job_id)
    assert job.state == JobState.succeeded
    assert job.attempts == 1


def test_priority_then_run_at_then_id(database):
    late = enqueue(database, "test.make_warehouse", {"name": "late"}, priority=50)
    first = enqueue(database, "test.make_warehouse", {"name": "first"}, priority=10)
    future = enqueue(
        database, "test.make_warehouse", {"name": "future"}, run_at=utcnow() + timedelta(hours=1)
    )
    assert claiming.claim(database, "w", limit=5) == [first, late]
    assert future not in claiming.claim(database, "w", limit=5)


def test_ordering_key_keeps_updates_in_order(database):
    a1 = enqueue(database, "test.make_warehouse", {"name": "a1"}, ordering_key="rec:a", priority=50)
    a2 = enqueue(database, "test.make_warehouse", {"name": "a2"}, ordering_key="rec:a", priority=1)
    b1 = enqueue(database, "test.make_warehouse", {"name": "b1"}, ordering_key="rec:b", priority=60)
    claimed = claiming.claim(database, "w", limit=10)
    assert claimed == [a1, b1]  # a2 waits for a1 despite its better priority
    for job_id in claimed:
        service.run(database, job_id, "w")
    assert claiming.claim(database, "w", limit=10) == [a2]


def test_dedupe_key_keeps_one_pending_job(database):
    first = enqueue(database, "test.make_warehouse", {"name": "d"}, dedupe_key="once")
    assert enqueue(database, "test.make_warehouse", {"name": "d"}, dedupe_key="once") is None
    service.run_pending(database)
    assert state(database, first).state == JobState.succeeded
    assert enqueue(database, "test.make_warehouse", {"name": "d"}, dedupe_key="once") is not None


def test_failures_back_off_then_die_and_retry_reruns(database):
    handlers.FAILURES.clear()
    job_id = enqueue(database, "test.flaky", {"key": "F", "fail_times": 3}, max_attempts=2)
    service.run_pending(database)
    job = state(database, job_id)
    assert job.state == JobState.queued
    assert job.run_at > utcnow()
    assert "boom 1" in job.last_error
    with database.transaction() as session:
        session.execute(update(Job).values(run_at=utcnow()))
    service.run_pending(database)
    job = state(database, job_id)
    assert job.state == JobState.dead
    assert "boom 2" in job.last_error
    assert warehouses(database, "F") == 0
    with database.transaction() as session:
        service.retry(session, job=session.get(Job, job_id))
    service.run_pending(database)  # third failure
    with database.transaction() as session:
        session.execute(update(Job).values(run_at=utcnow()))
    service.run_pending(database)
    assert state(database, job_id).state == JobState.succeeded
    assert warehouses(database, "F") == 1


def test_backoff_grows_with_jitter():
    early = [service.backoff(1).total_seconds() for _ in range(20)]
    later = [service.backoff(6).total_seconds() for _ in range(20)]
    assert max(early) <= 2
    assert min(later) >= 32
    assert len(set(later)) > 1
    assert service.backoff(100).total_seconds() <= 6 * 3600


def test_unknown_kind_fails_the_job(database):
    job_id = enqueue(database, "nobody.handles.this", {}, max_attempts=1)
    service.run_pending(database)
    job = state(database, job_id)
    assert job.state == JobState.dead
    assert "no handler" in job.last_error


def test_expired_lease_returns_the_job(database):
    job_id = enqueue(database, "test.make_warehouse", {"name": "lease"})
    assert claiming.claim(database, "dead-worker") == [job_id]
    assert claiming.claim(database, "other") == []
    with database.transaction() as session:
        session.execute(update(Job).values(lease_expires_at=utcnow() - timedelta(seconds=1)))
    assert claiming.claim(database, "other") == [job_id]
    assert service.run(database, job_id, "dead-worker") is None  # the old owner may not finish it
    assert service.run(database, job_id, "other") == JobState.succeeded
    assert warehouses(database, "lease") == 1


def test_jobs_api_and_retry(client, database):
    job_id = enqueue(database, "nobody.handles.this", {}, max_attempts=1)
    service.run_pending(database)
    listing = client.get("/api/jobs.json?where[state]=dead").json()
    assert [j["id"] for j in listing] == [job_id]
    retried = client.post(f"/api/jobs/{job_id}/retry.json")
    assert retried.status_code == 200
    assert retried.json()["state"] == "queued"
    assert client.post("/api/jobs/999/retry.json").status_code == 404


def test_prune_removes_old_succeeded_jobs(database):
    job_id = enqueue(database, "test.make_warehouse", {"name": "old"})
    service.run_pending(database)
    with database.transaction() as session:
        session.execute(update(Job).values(finished_at=utcnow() - timedelta(days=8)))
        assert service.prune(session) == 1
    assert state(database, job_id) is None


def test_a_job_committed_after_a_later_one_of_its_key_was_taken_waits_for_it(database):
    """Two transactions enqueueing under one key can commit out of id order (two API
    processes): the earlier job, seen only after the later one was claimed, must not run
    beside it."""
    earlier = enqueue(database, "test.make_warehouse", {"name": "e"}, ordering_key="rec:late")
    later = enqueue(database, "test.make_warehouse", {"name": "l"}, ordering_key="rec:late")
    with database.transaction() as session:  # as if `later` was claimed before `earlier` was seen
        session.execute(
            update(Job).where(Job.id == later).values(state=JobState.running, locked_by="w1")
        )
    assert claiming.claim(database, "w2", limit=10) == []
    assert service.run(database, later, "w1") == JobState.succeeded
    assert claiming.claim(database, "w2", limit=10) == [earlier]


def test_a_claim_takes_the_first_runnable_jobs_among_the_front_of_a_long_line(database):
    """With one key's long line at the front, a claim probes the front only (`FRONT_PER_JOB`):
    it takes the line's head, a prefix of what probing the whole queue would take; the next
    claim, finding nothing runnable at the front (the head runs), looks further and takes the
    other key's head, so a long line never hides the jobs behind it."""
    line = [
        enqueue(database, "test.make_warehouse", {"name": f"line-{n}"}, ordering_key="rec:line")
        for n in range(3 * claiming.FRONT_PER_JOB)
    ]
    behind = enqueue(database, "test.make_warehouse", {"name": "behind"}, ordering_key="rec:b")
    assert claiming.claim(database, "w1", limit=2) == [line[0]]
    assert claiming.claim(database, "w2", limit=2) == [behind]
    assert claiming.claim(database, "w3", limit=2) == []  # the line waits for its head
    assert service.run(database, line[0], "w1") == JobState.succeeded
    assert claiming.claim(database, "w1", limit=2) == [line[1]]


def test_a_line_whose_head_backs_off_holds_back_only_its_own_key(database):
    """The head failed and waits to retry; its line fills the front, yet the jobs of other keys
    behind it are claimed."""
    head = enqueue(
        database,
        "test.make_warehouse",
        {"name": "waiting"},
        ordering_key="rec:slow",
        run_at=utcnow() + timedelta(hours=1),
    )
    for n in range(3 * claiming.FRONT_PER_JOB):
        enqueue(database, "test.make_warehouse", {"name": f"slow-{n}"}, ordering_key="rec:slow")
    others = [
        enqueue(database, "test.make_warehouse", {"name": f"other-{n}"}, ordering_key=f"rec:{n}")
        for n in range(2)
    ]
    assert claiming.claim(database, "w", limit=1) == [others[0]]
    assert claiming.claim(database, "w", limit=5) == [others[1]]
    assert state(database, head).state == JobState.queued


def test_a_claim_past_the_front_takes_each_keys_first_job_and_every_keyless_one(database):
    """Past the front, a claim looks key by key (`claiming._heads_of_keys`): each key's first
    unfinished job is a candidate, and so is every job without a key; the rest of a key's line
    waits for its head, and a key whose first job runs gives none."""
    line = [
        enqueue(database, "test.make_warehouse", {"name": f"line-{n}"}, ordering_key="rec:line")
        for n in range(3 * claiming.FRONT_PER_JOB)
    ]
    running = enqueue(database, "test.make_warehouse", {"name": "r0"}, ordering_key="rec:run")
    behind_running = enqueue(
        database, "test.make_warehouse", {"name": "r1"}, ordering_key="rec:run"
    )
    keyless = [enqueue(database, "test.make_warehouse", {"name": f"free-{n}"}) for n in range(2)]
    second_line = [
        enqueue(database, "test.make_warehouse", {"name": f"two-{n}"}, ordering_key="rec:two")
        for n in range(2)
    ]
    with database.transaction() as session:
        session.execute(
            update(Job)
            .where(Job.id.in_([line[0], running]))
            .values(state=JobState.running, locked_by="w0")
        )
    # the front of a claim of 3 is the first 12 queued jobs: the line's and the running key's
    taken = claiming.claim(database, "w1", limit=3)
    assert taken == [*keyless, second_line[0]]  # queue order
    assert behind_running not in taken and line[1] not in taken
    assert claiming.claim(database, "w2", limit=10) == []
