"""What people plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.people.service import EVENT_KINDS

CONTRIBUTIONS = Contributions(
    event_kinds=EVENT_KINDS,  # invitations and resets: their stored copies lose the link
)
