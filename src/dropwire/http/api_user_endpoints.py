"""`/api/users.json`: API users and their tokens as Onport's CLI lists and creates them.

Admins see and create every API user; a vendor token sees its own vendor's and creates tokens
scoped to its vendor only (it can never widen its scope).
"""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import Select, case, select

from dropwire.auth.models import ApiUser
from dropwire.auth.schemas import ApiUserCreate, ApiUserCreated, ApiUserRead
from dropwire.auth.scope import one_visible, visible_to
from dropwire.auth.service import Principal, create_token, revoke_api_user
from dropwire.http.deps import CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["API users"])
Listing = Annotated[ListQuery, Depends(list_query)]

ROLE = case((ApiUser.scope == "vendor", "dropship_provider"), else_="api")
USER_FILTERS = {
    **fields_of(
        ApiUser,
        "id",
        "name",
        "email",
        "first_name",
        "last_name",
        "dropship_provider_id",
        "created_at",
        "revoked_at",
    ),
    "role": ROLE,
}


def _visible(principal: Principal) -> Select[ApiUser]:
    return visible_to(select(ApiUser), principal, ApiUser.dropship_provider_id)


@router.get("/users.json", response_model=list[ApiUserRead])
def list_users(
    session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
) -> Any:
    rows = paginate(
        session,
        stmt=_visible(principal),
        query=query,
        fields=USER_FILTERS,
        response=response,
        default_order=[ApiUser.id],
    )
    return respond(session, query=query, response=response, items=rows, read=ApiUserRead)


@router.post("/users.json", response_model=ApiUserCreated, status_code=201)
def create_user(data: ApiUserCreate, session: DbSession, principal: CurrentPrincipal) -> Any:
    """A new API user and its token (shown once). Role `api` or `admin`: the whole account;
    `dropship_provider`: one vendor's (`dropshipProviderId`; a vendor token's own)."""
    user, token = create_token(session, data=data, principal=principal)
    return ApiUserCreated.model_validate(
        {**ApiUserRead.model_validate(user).model_dump(), "token": token}
    )


@router.get("/users/{user_id}.json", response_model=ApiUserRead)
def get_user(user_id: PathId, session: DbSession, principal: CurrentPrincipal) -> ApiUser:
    statement = _visible(principal).where(ApiUser.id == user_id)
    return one_visible(session, statement=statement, what="User", record_id=user_id)


@router.delete("/users/{user_id}.json", status_code=204)
def revoke_user(user_id: PathId, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Revokes the user's token (the record stays, for the API log)."""
    statement = _visible(principal).where(ApiUser.id == user_id)
    one_visible(session, statement=statement, what="User", record_id=user_id)
    revoke_api_user(session, api_user_id=user_id, principal=principal)
    return Response(status_code=204)
