"""What a vendor token may write, field by field: one table, one check.

Every endpoint a vendor token may write to calls `check_vendor_fields` with its resource's
`VendorWritable` (declared by the domain that owns it) and the parsed body before doing
anything. A vendor may write what it
reports about its own stock and how to reach it; never what steers routing (which vendor gets an
order, at what priority, to which countries), what connects its items to the merchant's catalog,
or what the merchant holds back. Anything not listed is a 403 naming the field. README's
"Security" section lists the fields (a test keeps the two in step).
"""

from dataclasses import dataclass

from pydantic import BaseModel

from dropwire.auth.errors import VendorFieldForbidden
from dropwire.auth.service import Principal


@dataclass(frozen=True)
class VendorWritable:
    """A resource a vendor token may write to, and the fields (as the API names them) it may
    set. The domain owning the resource declares it beside its schema, derived from it where
    the schema is the list (`feeds.schemas.FEED_VARIANT_WRITABLE`)."""

    name: str
    fields: frozenset[str]


def check_vendor_fields(principal: Principal, resource: VendorWritable, data: BaseModel) -> None:
    """Refuse (403) a vendor token's body that sets a field it may not write; admins pass."""
    if principal.is_admin:
        return
    for name, info in type(data).model_fields.items():
        if name not in data.model_fields_set:
            continue
        wire = info.alias or name
        if wire not in resource.fields:
            raise VendorFieldForbidden(
                f"A vendor token may not write the {resource.name}'s {wire}", field=wire
            )
