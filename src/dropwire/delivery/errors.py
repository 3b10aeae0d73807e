"""Outbound delivery's refusals."""

from dropwire.core.errors import Invalid


class DeliveryInFlight(Invalid):
    """A delivery being sent right now cannot be retried until that attempt ends."""

    code = "delivery.in_flight"
