"""Custom-field values of sales (admins only) and of purchase orders (a vendor its own)."""

from fastapi import APIRouter

from dropwire.customfields.models import CustomFieldResource
from dropwire.customfields.routes import add_value_routes
from dropwire.http.routing import UnitOfWorkRoute
from dropwire.sales import queries

router = APIRouter(route_class=UnitOfWorkRoute, tags=["Custom fields"])

add_value_routes(
    router,
    resource=CustomFieldResource.sale,
    list_paths=("/custom-field-sales.json",),
    records_path="/sales",
    scope=None,  # a vendor's view of a sale is `vendor_view`'s, which has no custom fields
    find=lambda session, sale_id, _principal: queries.get_sale(session, sale_id=sale_id),
)
add_value_routes(
    router,
    resource=CustomFieldResource.purchase,
    list_paths=("/custom-field-purchases.json", "/custom-field-dropshipments.json"),
    records_path="/purchases",
    scope=queries.vendor_purchase_custom_fields,
    find=lambda session, purchase_id, principal: queries.get_purchase(
        session, purchase_id=purchase_id, principal=principal
    ),
)
