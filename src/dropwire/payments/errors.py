"""Errors of the money domain, each with a stable code (the contract's `code`)."""

from collections.abc import Sequence

from dropwire.core.errors import DomainError, FieldProblem, Invalid


class InvoicesNotPayable(DomainError):
    """Some invoices named for a payment are not this vendor's, not open, not yet payable, or
    not of one currency."""

    code = "payment.invoices_not_payable"

    def __init__(self, field: str, problems: Sequence[str]) -> None:
        message = "; ".join(problems)
        super().__init__(message, [FieldProblem(field, message)])


class NothingToInvoice(Invalid):
    code = "invoice.nothing_to_invoice"

    def __init__(self) -> None:
        super().__init__("purchaseItems", "no shipped units are waiting to be invoiced")


class PaymentMethodUnusable(Invalid):
    code = "payment.method_unusable"


class NotPositive(Invalid):
    code = "payment.amount_not_positive"
