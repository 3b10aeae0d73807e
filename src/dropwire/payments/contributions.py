"""What the money domain plugs into the shared machinery (wired by `dropwire.domains`)."""

from dropwire.contributions import Contributions
from dropwire.payments.steps import INVOICE_WHAT_CHANGED
from dropwire.payments.tasks import JOB_KINDS
from dropwire.payments.transfers import send_due_transfers
from dropwire.payments.webhooks import EVENT_KINDS

CONTRIBUTIONS = Contributions(
    job_kinds=JOB_KINDS,  # queued settlements, scheduled payouts
    pollers=(send_due_transfers,),  # Stripe transfers, outside any transaction
    commit_steps=(INVOICE_WHAT_CHANGED,),  # vendor invoices follow what sales recorded
    event_kinds=EVENT_KINDS,
)
