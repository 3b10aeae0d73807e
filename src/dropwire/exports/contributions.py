"""What the exports package plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.exports.service import RENDER_EXPORT

CONTRIBUTIONS = Contributions(job_kinds=(RENDER_EXPORT,))  # CSV exports, rendered in the background
