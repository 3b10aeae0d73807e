"""What mail plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.delivery.transports import NamedTransport
from dropwire.mail.outbox import EMAIL
from dropwire.mail.transport import batch_seconds, send_email, send_emails

CONTRIBUTIONS = Contributions(
    transports=(  # over SMTP
        NamedTransport(EMAIL, send_email, send_many=send_emails, lease=batch_seconds),
    ),
)
