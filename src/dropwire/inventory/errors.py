from dropwire.core.errors import DomainError, FieldProblem


class InsufficientStock(DomainError):
    """An allocation asked for more than a location has available; nothing was allocated."""

    def __init__(self, variant_id: int, location_id: int, requested: int, field: str) -> None:
        message = (
            f"Not enough stock of variant {variant_id} at location {location_id} "
            f"to allocate {requested}"
        )
        super().__init__(message, [FieldProblem(field, message)], 422)
        self.variant_id = variant_id
        self.location_id = location_id
