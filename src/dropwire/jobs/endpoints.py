from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import select

from dropwire.core.settings import Settings
from dropwire.http.deps import AdminPrincipal, DbSession, PathId, get_settings
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


AppSettings = Annotated[Settings, Depends(get_settings)]


@router.get("/jobs.json", response_model=list[JobRead])
def list_jobs(
    session: DbSession,
    _: AdminPrincipal,
    settings: AppSettings,
    response: Response,
    query: Annotated[ListQuery, Depends(list_query)],
) -> Any:
    jobs = paginate(
        session,
        stmt=select(Job),
        query=query,
        fields=FILTERS,
        response=response,
        default_order=[Job.id],
    )
    shown = [JobRead.model_validate(job).shown(settings.api_log_body_bytes) for job in jobs]
    return respond(session, query=query, response=response, items=shown, read=JobRead)


@router.post("/jobs/{job_id}/retry.json", response_model=JobRead)
def retry_job(
    job_id: PathId, session: DbSession, _: AdminPrincipal, settings: AppSettings
) -> JobRead:
    job = service.retry(session, job=service.get(session, job_id=job_id))
    return JobRead.model_validate(job).shown(settings.api_log_body_bytes)
