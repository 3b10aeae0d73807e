"""What mail plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.delivery.transports import NamedTransport
from dropwire.mail.outbox import EMAIL
from dropwire.mail.transport import send_email

CONTRIBUTIONS = Contributions(
    transports=(NamedTransport(EMAIL, send_email),),  # email deliveries go out over SMTP
)
