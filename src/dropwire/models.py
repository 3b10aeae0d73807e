"""Imports every domain's tables so the metadata is complete (for Alembic and the tests)."""

from dropwire.apilog import models as apilog_models
from dropwire.auth import models as auth_models
from dropwire.catalog import models as catalog_models
from dropwire.channels import models as channels_models
from dropwire.connectors.elasticpath import models as elasticpath_models
from dropwire.core.db import Base
from dropwire.customfields import models as customfields_models
from dropwire.delivery import models as delivery_models
from dropwire.exports import models as exports_models
from dropwire.feeds import models as feeds_models
from dropwire.http import idempotency
from dropwire.imports import models as imports_models
from dropwire.inventory import models as inventory_models
from dropwire.jobs import models as jobs_models
from dropwire.mail import models as mail_models
from dropwire.payments import models as payments_models
from dropwire.people import models as people_models
from dropwire.rates import models as rates_models
from dropwire.sales import models as sales_models
from dropwire.vendors import models as vendors_models
from dropwire.web import models as web_models

__all__ = [
    "Base",
    "apilog_models",
    "auth_models",
    "catalog_models",
    "channels_models",
    "customfields_models",
    "delivery_models",
    "elasticpath_models",
    "exports_models",
    "feeds_models",
    "idempotency",
    "imports_models",
    "inventory_models",
    "jobs_models",
    "mail_models",
    "payments_models",
    "people_models",
    "rates_models",
    "sales_models",
    "vendors_models",
    "web_models",
]
