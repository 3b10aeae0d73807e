"""The custom-fields domain's refusals."""

from dropwire.core.errors import Conflict, Invalid


class CustomFieldKeyTaken(Conflict):
    code = "custom_field.key_taken"

    def __init__(self, message: str) -> None:
        super().__init__(message, "key")


class UnknownCustomField(Invalid):
    """A synced value names a key no definition of the resource has."""

    code = "custom_field.unknown_key"


class CustomFieldValueInvalid(Invalid):
    """A value that is not of its definition's type."""

    code = "custom_field.invalid_value"
