"""The one rule for vendor-owned records: a vendor's token sees its own vendor's rows, nothing else.

Each domain states once which column names a record's vendor (`visible_to`), and both its list
and its get start from that statement, so a new endpoint cannot forget the scope.
"""

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dropwire.auth.service import Principal
from dropwire.core.errors import NotFound

Record = TypeVar("Record")


def visible_to(
    statement: Select[Record],
    principal: Principal | None,
    vendor_column: InstrumentedAttribute[Any],
) -> Select[Record]:
    """Admins and internal callers (no principal) see every row; a vendor only its own."""
    if principal is None or principal.is_admin:
        return statement
    return statement.where(vendor_column == principal.dropship_provider_id)


def one_visible(
    session: Session,
    *,
    statement: Select[Record],
    what: str,
    record_id: int,
) -> Record:
    """The single row of a scoped statement, or a 404 that does not tell 'not yours' apart."""
    record = session.scalar(statement)
    if record is None:
        raise NotFound(what, record_id)
    return record
