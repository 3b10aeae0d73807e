"""The auth domain's refusals: people, tokens and what a token may do."""

from dropwire.core.errors import Conflict, Forbidden, Invalid, TooManyRequests


class PasswordTooShort(Invalid):
    code = "user.password_too_short"

    def __init__(self, minimum: int) -> None:
        super().__init__("password", f"must be at least {minimum} characters")


class EmailTaken(Conflict):
    code = "user.email_taken"


class CannotDeactivateSelf(Invalid):
    code = "user.cannot_deactivate_self"


class AdminOnly(Forbidden):
    """The endpoint needs an admin token; a vendor-scoped one was presented."""

    code = "auth.admin_only"


class VendorFieldForbidden(Forbidden):
    """A vendor token may write only some fields of a resource."""

    code = "auth.vendor_field_forbidden"


class TooManyFailedLogins(TooManyRequests):
    code = "auth.too_many_failed_logins"

    def __init__(self, wait: int) -> None:
        super().__init__(f"Too many failed logins; try again in {wait} seconds", wait)
