"""What the channels domain plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.channels.store_messages import TELL_CONNECTORS
from dropwire.contributions import Contributions

CONTRIBUTIONS = Contributions(
    commit_steps=(TELL_CONNECTORS,),  # stock and products out, through each channel's connector
)
