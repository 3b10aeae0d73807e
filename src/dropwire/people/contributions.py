"""What people plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.people.service import EVENT_KINDS, RESET_JOB_KIND

CONTRIBUTIONS = Contributions(
    job_kinds=(RESET_JOB_KIND,),  # "forgot password": the lookup and the email, off the request
    event_kinds=EVENT_KINDS,  # invitations and resets: their stored copies lose the link
)
