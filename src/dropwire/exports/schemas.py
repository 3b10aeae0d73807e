from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, Field, computed_field

from dropwire.core.schemas import ApiInput, CompanyRecord, Name
from dropwire.exports.models import ExportStatus, TemplateFormat, TemplateResource


class DataExportRead(CompanyRecord):
    id: int
    export_type: str
    status: ExportStatus
    inventory_feed_id: int | None
    template_id: int | None
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


FieldPath = Annotated[
    str,
    Field(
        min_length=1,
        max_length=255,
        description="A field as the API shows it (`reference`, `saleDefaults.notes`)",
    ),
]


class TemplateColumn(ApiInput):
    field: FieldPath
    header: Annotated[str, Field(min_length=1, max_length=255)] | None = None


class TemplateFields(ApiInput):
    name: Name | None = None
    format: TemplateFormat | None = None
    columns: list[TemplateColumn | FieldPath] | None = Field(
        default=None, min_length=1, max_length=200
    )


class TemplateCreate(TemplateFields):
    name: Name
    resource: TemplateResource
    columns: list[TemplateColumn | FieldPath] = Field(min_length=1, max_length=200)


class TemplateUpdate(TemplateFields):
    pass


class TemplateRead(CompanyRecord):
    id: int
    name: str
    resource: TemplateResource
    format: TemplateFormat
    columns: list[dict[str, str]]
    created_at: datetime
    updated_at: datetime


class TemplateExport(ApiInput):
    """`POST /templates/{id}/export.json`: the list filters the export runs with."""

    where: dict[str, Any] | None = Field(
        default=None, description="As a list's where, in JSON: {field: value | {$op: value}}"
    )
    date_from: AwareDatetime | None = Field(default=None, description="created at or after")
    date_to: AwareDatetime | None = Field(default=None, description="created before")
