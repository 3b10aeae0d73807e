from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.http.deps import AdminPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.jobs import service
from dropwire.jobs.models import Job
from dropwire.jobs.schemas import JobRead

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Jobs"])

FILTERS = fields_of(
    Job,
    "id",
    "kind",
    "state",
    "priority",
    "attempts",
    "ordering_key",
    "run_at",
    "created_at",
    "finished_at",
)


@router.get("/jobs.json", response_model=list[JobRead])
def list_jobs(
    session: DbSession,
    _: AdminPrincipal,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    rows = paginate(session, select(Job), query, FILTERS, response, [Job.id])
    return respond(session, query, response, rows, JobRead)


@router.post("/jobs/{job_id}/retry.json", response_model=JobRead)
def retry_job(job_id: PathId, session: DbSession, _: AdminPrincipal) -> Job:
    return service.retry(session, service.get(session, job_id))
