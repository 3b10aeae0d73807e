from datetime import datetime

from pydantic import Field, computed_field

from dropwire.core.schemas import CompanyRecord
from dropwire.exports.models import ExportStatus


class DataExportRead(CompanyRecord):
    id: int
    export_type: str
    status: ExportStatus
    inventory_feed_id: int | None
    dropship_provider_id: int | None
    content_type: str
    rows: int
    problem: str | None
    queued_at: datetime = Field(validation_alias="created_at")
    started_at: datetime | None
    completed_at: datetime | None
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def file_uri(self) -> str | None:
        """Where the finished file is downloaded (with the same token)."""
        if self.status != ExportStatus.complete:
            return None
        return f"/api/data-exports/{self.id}/download"
