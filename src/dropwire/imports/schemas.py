from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, computed_field, model_validator

from dropwire.core.schemas import ApiInput, CompanyRecord, Id
from dropwire.imports.models import ImportStatus, ImportType


class DataImportCreate(ApiInput):
    """`POST /data-imports.json`: the CSV text and what it holds."""

    import_type: ImportType
    content: Annotated[str, Field(min_length=1, description="The CSV file's text, header first")]
    inventory_feed_id: Id | None = Field(default=None, description="Required for cost_prices")
    file_name: Annotated[str, Field(max_length=255)] | None = None

    @model_validator(mode="after")
    def _feed(self) -> "DataImportCreate":
        if self.import_type == ImportType.cost_prices and self.inventory_feed_id is None:
            raise ValueError("inventoryFeedId is required for a cost_prices import")
        return self


class DataImportRead(CompanyRecord):
    id: int
    import_type: ImportType
    status: ImportStatus
    inventory_feed_id: int | None
    dropship_provider_id: int | None
    file_name: str | None
    rows_read: int
    rows_applied: int
    rows_failed: int
    errors: list[dict[str, Any]] = Field(description="The first 100 refused rows' problems")
    problem: str | None
    queued_at: datetime = Field(validation_alias="created_at")
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def error_report_uri(self) -> str | None:
        """The refused rows as CSV, each with its `error` (once the import is done)."""
        if self.status in (ImportStatus.pending, ImportStatus.processing) or not self.rows_failed:
            return None
        return f"/api/data-imports/{self.id}/errors.csv"
