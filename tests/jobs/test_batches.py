"""A claimed batch runs in one transaction: a savepoint per job, set-based where a kind can."""

from sqlalchemy import select, update

from dropwire.core.time import utcnow
from dropwire.inventory.models import Warehouse
from dropwire.jobs import claiming, service
from dropwire.jobs.models import Job, JobState
from tests.jobs import handlers
from tests.jobs.test_queue import enqueue, state, warehouses


def applied(database):
    """Names written by `test.ordered`, in the order they were written."""
    with database.session(write=False) as session:
        return list(
            session.scalars(
                select(Warehouse.name).where(Warehouse.name.like("o-%")).order_by(Warehouse.id)
            )
        )


def test_a_failing_job_rolls_back_alone_and_the_rest_commit_together(database):
    handlers.FAILURES.clear()
    good = enqueue(database, "test.make_warehouse", {"name": "B1"})
    bad = enqueue(database, "test.flaky", {"key": "B2", "fail_times": 1})
    also = enqueue(database, "test.make_warehouse", {"name": "B3"})
    claimed = claiming.claim_batch(database, "w", 10)
    assert [job.id for job in claimed] == [good, bad, also]
    states = service.run_batch(database, "w", claimed)
    assert states == {good: JobState.succeeded, bad: JobState.queued, also: JobState.succeeded}
    assert (warehouses(database, "B1"), warehouses(database, "B2")) == (1, 0)
    assert warehouses(database, "B3") == 1
    failed = state(database, bad)
    assert "boom 1" in failed.last_error
    assert failed.run_at > utcnow()  # backed off
    assert (failed.attempts, failed.locked_by) == (1, None)


def test_a_batch_kind_gets_its_consecutive_jobs_in_one_call_and_a_key_chain_in_order(database):
    handlers.BATCH_CALLS.clear()
    a1 = enqueue(database, "test.ordered", {"name": "o-a1"}, ordering_key="rec:a")
    b1 = enqueue(database, "test.ordered", {"name": "o-b1"}, ordering_key="rec:b")
    a2 = enqueue(database, "test.ordered", {"name": "o-a2"}, ordering_key="rec:a")
    a3 = enqueue(database, "test.ordered", {"name": "o-a3"}, ordering_key="rec:a")
    claimed = claiming.claim_batch(database, "w", 10)
    assert [job.id for job in claimed] == [a1, a2, a3, b1]  # a chain runs right behind its head
    assert set(service.run_batch(database, "w", claimed).values()) == {JobState.succeeded}
    assert handlers.BATCH_CALLS == [["o-a1", "o-a2", "o-a3", "o-b1"]]
    assert applied(database) == ["o-a1", "o-a2", "o-a3", "o-b1"]
    assert [state(database, i).attempts for i in (a1, a2, a3, b1)] == [1, 1, 1, 1]


def test_a_chain_fits_in_the_batch_size(database):
    a1 = enqueue(database, "test.ordered", {"name": "o-a1"}, ordering_key="rec:a")
    a2 = enqueue(database, "test.ordered", {"name": "o-a2"}, ordering_key="rec:a")
    a3 = enqueue(database, "test.ordered", {"name": "o-a3"}, ordering_key="rec:a")
    b1 = enqueue(database, "test.ordered", {"name": "o-b1"}, ordering_key="rec:b")
    assert claiming.claim(database, "w", limit=3) == [a1, a2, b1]
    assert claiming.claim(database, "w", limit=3) == []  # a3 waits for a2, which is running
    assert state(database, a3).state == JobState.queued


def test_a_failed_job_holds_back_the_rest_of_its_chain(database):
    handlers.BATCH_CALLS.clear()
    a1 = enqueue(database, "test.ordered", {"name": "o-a1"}, ordering_key="rec:a")
    a2 = enqueue(database, "test.ordered", {"name": "o-a2", "fail": True}, ordering_key="rec:a")
    a3 = enqueue(database, "test.ordered", {"name": "o-a3"}, ordering_key="rec:a")
    b1 = enqueue(database, "test.ordered", {"name": "o-b1"}, ordering_key="rec:b")
    claimed = claiming.claim_batch(database, "w", 10)
    states = service.run_batch(database, "w", claimed)
    assert handlers.BATCH_CALLS == [["o-a1", "o-a2", "o-a3", "o-b1"]]  # failed whole, then 1 by 1
    assert states == {
        a1: JobState.succeeded,
        a2: JobState.queued,  # to be retried after a backoff
        a3: JobState.queued,  # given back unrun: it must not overtake a2
        b1: JobState.succeeded,
    }
    assert applied(database) == ["o-a1", "o-b1"]
    held_back = state(database, a3)
    assert (held_back.attempts, held_back.locked_by, held_back.last_error) == (0, None, None)
    assert "bad o-a2" in state(database, a2).last_error
    assert claiming.claim(database, "w", 10) == []  # a3 waits behind a2's retry
    with database.transaction() as session:
        session.execute(
            update(Job).where(Job.id == a2).values(payload={"name": "o-a2"}, run_at=utcnow())
        )
    service.run_pending(database)
    assert applied(database) == ["o-a1", "o-b1", "o-a2", "o-a3"]


def test_the_old_holder_of_a_taken_over_job_applies_nothing_of_it(database):
    kept = enqueue(database, "test.make_warehouse", {"name": "L1"})
    taken = enqueue(database, "test.make_warehouse", {"name": "L2"})
    claimed = claiming.claim_batch(database, "slow", 10)
    with database.transaction() as session:  # its lease ran out and another worker took it
        session.execute(update(Job).where(Job.id == taken).values(locked_by="fast"))
    assert service.run_batch(database, "slow", claimed) == {kept: JobState.succeeded, taken: None}
    assert (warehouses(database, "L1"), warehouses(database, "L2")) == (1, 0)
    job = state(database, taken)
    assert (job.state, job.locked_by) == (JobState.running, "fast")


def test_a_batch_whose_commit_fails_marks_nothing_done_then_runs_job_by_job(database):
    ok = enqueue(database, "test.make_warehouse", {"name": "C1"})
    poison = enqueue(database, "test.commit_fails", {"name": "C2"}, max_attempts=1)
    claimed = claiming.claim_batch(database, "w", 10)
    states = service.run_batch(database, "w", claimed)
    assert states == {ok: JobState.succeeded, poison: JobState.dead}
    assert (warehouses(database, "C1"), warehouses(database, "C2")) == (1, 0)  # C1 once
    assert state(database, ok).attempts == 1
    assert "foreign key" in state(database, poison).last_error.lower()


def test_the_next_claim_commits_with_the_finished_batch_and_keys_keep_their_order(database):
    first = enqueue(database, "test.make_warehouse", {"name": "N1"}, ordering_key="rec:n")
    behind = enqueue(database, "test.make_warehouse", {"name": "N2"}, ordering_key="rec:n")
    other = enqueue(database, "test.make_warehouse", {"name": "N3"})
    claimed = claiming.claim_batch(database, "w", 1)
    assert [job.id for job in claimed] == [first]
    states, following = service.run_and_claim(database, "w", claimed, limit=10)
    assert states == {first: JobState.succeeded}
    # the claim ran after the completion: `behind` is claimable now, or (PostgreSQL, one
    # statement, one snapshot) on the next claim; never before `first` is done
    assert other in [job.id for job in following]
    assert {job.id for job in following} <= {behind, other}
    assert all(state(database, job.id).locked_by == "w" for job in following)
    done = dict(states)
    while following:
        more, following = service.run_and_claim(database, "w", following, limit=10)
        done.update(more)
        if not following:
            following = claiming.claim_batch(database, "w", 10)
    assert done == dict.fromkeys((first, behind, other), JobState.succeeded)
    assert [state(database, i).attempts for i in (first, behind, other)] == [1, 1, 1]
    with database.session(write=False) as session:
        names = session.scalars(
            select(Warehouse.name).where(Warehouse.name.like("N%")).order_by(Warehouse.id)
        ).all()
    assert names.index("N1") < names.index("N2")


def test_a_batch_that_lost_a_job_claims_nothing_next(database):
    kept = enqueue(database, "test.make_warehouse", {"name": "T1"})
    taken = enqueue(database, "test.make_warehouse", {"name": "T2"})
    claimed = claiming.claim_batch(database, "slow", 2)
    waiting = enqueue(database, "test.make_warehouse", {"name": "T3"})
    with database.transaction() as session:  # its lease ran out and another worker took it
        session.execute(update(Job).where(Job.id == taken).values(locked_by="fast"))
    states, following = service.run_and_claim(database, "slow", claimed, limit=10)
    assert (states, following) == ({kept: JobState.succeeded, taken: None}, [])
    job = state(database, waiting)  # the batch's claim was rolled back with it
    assert (job.state, job.locked_by, job.attempts) == (JobState.queued, None, 0)
    assert (warehouses(database, "T1"), warehouses(database, "T2")) == (1, 0)


def test_a_failing_handler_runs_once_per_attempt_and_the_others_commit_once(database):
    handlers.FAILURES.clear()
    ok = enqueue(database, "test.make_warehouse", {"name": "F1"})
    bad = enqueue(database, "test.flaky", {"key": "F2", "fail_times": 5})
    claimed = claiming.claim_batch(database, "w", 10)
    states, _ = service.run_and_claim(database, "w", claimed, limit=10)
    assert states == {ok: JobState.succeeded, bad: JobState.queued}
    assert handlers.FAILURES["F2"] == 1  # rolled back with the batch, not run a second time
    assert (warehouses(database, "F1"), warehouses(database, "F2")) == (1, 0)
