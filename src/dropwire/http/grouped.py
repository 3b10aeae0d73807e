"""Write endpoints whose whole unit of work runs in a group transaction.

A sync write alone pays a transaction's fixed cost — its statements, the unit-of-work steps at
commit, the commit — for one record. Concurrent requests of such an endpoint instead hand their
work to the process's group transactions (`core.group_transaction`): one thread applies every
request that has arrived with the domain's set-based call, adds each request's idempotency
record and API-log row, and commits once. Each request is answered only after that commit, with
exactly the body it would have had alone (the endpoint's read model, rendered as FastAPI would).

The route learns from `FINISHED_KEY` that the request's unit of work is done: it commits nothing
more for it, and the API-log middleware writes no second row.
"""

from collections.abc import Callable, Hashable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy import Table
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from dropwire.apilog.models import ApiLog
from dropwire.core.db import Database
from dropwire.core.group_transaction import GroupCommitFailed, UnitKind, group_transactions
from dropwire.core.inserts import insert_rows
from dropwire.http.api_log_middleware import LOGGED_KEY, log_row
from dropwire.http.errors import unavailable_response
from dropwire.http.idempotency import CLAIM_KEY, remember_in
from dropwire.http.input_policy import ignored_header
from dropwire.http.routing import (
    FINISHED_KEY,
    commit_failure,
    release_request_session,
    request_session_began,
)

Work = TypeVar("Work")
API_LOGS = cast(Table, ApiLog.__table__)


@dataclass(frozen=True, eq=False)
class _Write(Generic[Work]):
    """One request: the domain's work and what its unit of work records beside it."""

    work: Work
    scope: Scope


class GroupedWrite(Generic[Work]):
    """An endpoint's unit of work in its set-based form.

    `apply_all(session, works)` gives, per work in order, the record to answer with (read by
    `read_model`, as the endpoint's `response_model` would be) or the `DomainError` that refused
    it, leaving nothing of a refused one behind. The records must be loaded as stored: each is
    read through `read_model` right after its call. Works with the same `record_key` (a retry,
    a quick second change) go to separate calls, so each answer shows the record as its own
    request left it, as it would alone.
    """

    def __init__(
        self,
        name: str,
        apply_all: Callable[[Session, list[Work]], Sequence[object]],
        read_model: type[BaseModel],
        record_key: Callable[[Work], Hashable],
    ) -> None:
        self.apply_all = apply_all
        self.read_model = read_model
        self.record_key = record_key
        self.kind: UnitKind[_Write[Work], Response] = UnitKind(name, self._apply_all)

    async def run(self, request: Request, work: Work) -> Response:
        """Apply `work` in the next group and answer it once the group has committed.

        Raises the `DomainError` that refused it (answered as usual, the request's unit of work
        then holding nothing). A failed group commit is a 503 that asks for a retry; a database
        error of this request alone is answered as a failed commit would be (409 for a unique
        key taken meanwhile). The request waits on the event loop, holding no thread."""
        if request_session_began(request):  # on SQLite it may hold the write slot the group needs
            await run_in_threadpool(release_request_session, request)
        database: Database = request.app.state.database
        combiner = group_transactions(database)
        try:
            response = await combiner.run_async(self.kind, _Write(work, request.scope))
        except GroupCommitFailed as failed:
            return unavailable_response(
                failed.kind, outcome_unknown=failed.outcome_unknown, what="nothing was saved"
            )
        except SQLAlchemyError as exc:  # its savepoint failed (a unique key taken meanwhile)
            return commit_failure(exc)
        request.scope[FINISHED_KEY] = True
        request.scope[LOGGED_KEY] = True
        return response

    def _apply_all(
        self, session: Session, writes: list[_Write[Work]]
    ) -> list[Response | Exception]:
        answers: list[Response | Exception] = []
        logged: list[dict[str, Any]] = []
        for run in self._runs(writes):
            outcomes = self.apply_all(session, [write.work for write in run])
            for write, outcome in zip(run, outcomes, strict=True):
                if isinstance(outcome, Exception):
                    answers.append(outcome)
                    continue
                response = Response(  # the bytes JSONResponse would make, serialized by pydantic
                    self.read_model.model_validate(outcome).model_dump_json(by_alias=True),
                    media_type="application/json",
                )
                claim = write.scope.get(CLAIM_KEY)
                if claim is not None:
                    ignored = ignored_header(write.scope)
                    remember_in(session, claim=claim, response=response, ignored_fields=ignored)
                logged.append(log_row(write.scope, response.status_code))
                answers.append(response)
        insert_rows(session.connection(), API_LOGS, logged)
        return answers

    def _runs(self, writes: list[_Write[Work]]) -> Iterator[list[_Write[Work]]]:
        """The writes in order, cut before a record that the run already changes."""
        run: list[_Write[Work]] = []
        keys: set[Hashable] = set()
        for write in writes:
            key = self.record_key(write.work)
            if key in keys:
                yield run
                run, keys = [], set()
            run.append(write)
            keys.add(key)
        if run:
            yield run
