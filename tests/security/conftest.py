"""The loopback webhook receiver and relay of the delivery tests, shared here."""

from tests.delivery.conftest import receiver, relay  # noqa: F401
