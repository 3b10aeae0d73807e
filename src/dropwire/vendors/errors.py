"""The vendors domain's refusals."""

from dropwire.core.errors import Conflict


class VendorExternalIdTaken(Conflict):
    code = "vendor.external_id_taken"

    def __init__(self, message: str) -> None:
        super().__init__(message, "externalId")


class VendorInUse(Conflict):
    """A vendor with feeds or purchase orders cannot be deleted."""

    code = "vendor.in_use"
