"""`POST /auth/login`: a user's email and password for a bearer token scoped like the user."""

from fastapi import APIRouter, Request

from dropwire.auth.errors import TooManyFailedLogins
from dropwire.auth.schemas import LoginRequest, LoginResponse
from dropwire.auth.service import Principal, create_api_user
from dropwire.auth.throttle import SignInThrottle
from dropwire.auth.users import verify_password
from dropwire.core.errors import Unauthorized
from dropwire.http.deps import DbSession
from dropwire.http.routing import UnitOfWorkRoute

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Auth"])


@router.post("/auth/login", response_model=LoginResponse)
def login(data: LoginRequest, request: Request, session: DbSession) -> LoginResponse:
    """A new API token for this user: admin scope for `api`, the vendor's for `dropship_provider`.

    A wrong password, an unknown or disabled user and a role the user does not have all get
    the same 401, so the answer reveals nothing. Failures are throttled per account and per
    client address with the web sign-in's counters; a throttled attempt (429 with
    `Retry-After`) is refused before the password is checked.
    """
    throttle: SignInThrottle = request.app.state.sign_in_throttle
    address = request.client.host if request.client else "unknown"
    wait = throttle.retry_after(data.email, address)
    if wait:
        raise TooManyFailedLogins(wait)
    user = verify_password(session, email=data.email, password=data.password)
    vendor_user = user is not None and user.dropship_provider_id is not None
    if user is None or vendor_user != (data.role == "dropship_provider"):
        throttle.failed(data.email, address)
        raise Unauthorized("Wrong email, password or role")
    api_user, token = create_api_user(
        session, name=f"login: {user.email}", dropship_provider_id=user.dropship_provider_id
    )
    request.state.principal = Principal(  # the API log names who logged in
        api_user_id=api_user.id,
        name=api_user.name,
        scope=api_user.scope,
        dropship_provider_id=api_user.dropship_provider_id,
    )
    return LoginResponse(
        token=token,
        id=api_user.id,
        role=data.role,
        dropship_provider_id=user.dropship_provider_id,
        email=user.email,
    )
