"""The value routes every resource with custom fields serves, added to its domain's router.

`GET /custom-field-{resource}s.json` lists values (Onport's joining resources, with
`include[0][model]=CustomField`), `PUT /{records}/{id}/sync-custom-fields.json` upserts them by
key. The domain passes how a vendor's values are scoped (`scope`, None: admins only) and how one
of its records is found for the caller (`find`: a 404 when the caller may not see it).
"""

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dropwire.auth.service import Principal
from dropwire.core.errors import Forbidden
from dropwire.customfields import service
from dropwire.customfields.models import VALUE_MODELS, CustomFieldResource
from dropwire.customfields.relations import MODEL_NAMES, VALUE_READS, VALUE_RELATIONS
from dropwire.customfields.schemas import SyncCustomFields
from dropwire.http.deps import CurrentPrincipal, DbSession, PathId
from dropwire.http.listing import ListQuery, fields_of, list_query, paginate, respond

Listing = Annotated[ListQuery, Depends(list_query)]
VendorScope = Callable[[int], ColumnElement[bool]]
Find = Callable[[Session, int, Principal], object]


def add_value_routes(
    router: APIRouter,
    *,
    resource: CustomFieldResource,
    list_paths: Sequence[str],
    records_path: str,
    scope: VendorScope | None,
    find: Find,
) -> None:
    model, column = VALUE_MODELS[resource]
    read = VALUE_READS[resource]
    filters = fields_of(model, "id", "custom_field_id", column, "value", "created_at", "updated_at")
    what = MODEL_NAMES[resource]

    def vendor_allowed(principal: Principal) -> None:
        if not principal.is_admin and scope is None:
            raise Forbidden(f"A vendor token may not read or write {what} values")

    def list_values(
        session: DbSession, principal: CurrentPrincipal, response: Response, query: Listing
    ) -> Any:
        vendor_allowed(principal)
        statement = select(model)
        if not principal.is_admin and scope is not None:
            assert principal.dropship_provider_id is not None
            statement = statement.where(scope(principal.dropship_provider_id))
        rows = paginate(
            session,
            stmt=statement,
            query=query,
            fields=filters,
            response=response,
            default_order=[model.id],
            relations=VALUE_RELATIONS,
        )
        return respond(
            session,
            query=query,
            response=response,
            items=rows,
            read=read,
            relations=VALUE_RELATIONS,
        )

    def sync_values(
        record_id: PathId, data: SyncCustomFields, session: DbSession, principal: CurrentPrincipal
    ) -> Any:
        vendor_allowed(principal)
        find(session, record_id, principal)
        return service.sync(
            session,
            resource=resource,
            record_id=record_id,
            entries=data.custom_fields,
            vendor_token=not principal.is_admin,
        )

    list_values.__name__ = f"list_{resource}_custom_field_values"
    sync_values.__name__ = f"sync_{resource}_custom_fields"
    for index, path in enumerate(list_paths):  # the first is the documented one, then aliases
        router.add_api_route(
            path,
            list_values,
            methods=["GET"],
            response_model=list[read],  # type: ignore[valid-type]
            include_in_schema=index == 0,
        )
    router.add_api_route(
        f"{records_path}/{{record_id}}/sync-custom-fields.json",
        sync_values,
        methods=["PUT"],
        response_model=list[read],  # type: ignore[valid-type]
    )
