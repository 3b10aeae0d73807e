"""What the imports package plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.imports.service import APPLY_IMPORT

CONTRIBUTIONS = Contributions(job_kinds=(APPLY_IMPORT,))  # CSV imports, applied in the background
