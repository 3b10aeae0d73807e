"""The vendor portal's money: the signed-in vendor's balance, invoices and payments, and each as
CSV. Read-only (only the merchant settles); every query is limited to the visitor's vendor
through the same scoped statements the API's vendor tokens use."""

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from dropwire.http.deps import DbSession
from dropwire.payments import service as payments
from dropwire.payments.models import Payment, VendorInvoice
from dropwire.web.pages import VendorVisitor, WebRoute, render

router = APIRouter(route_class=WebRoute, prefix="/vendor")
SHOWN = 200


def _invoices(session: DbSession, visitor: VendorVisitor) -> list[Any]:
    statement = payments.invoices_visible(visitor.principal).order_by(VendorInvoice.id.desc())
    return list(session.scalars(statement.limit(SHOWN)))


def _payments(session: DbSession, visitor: VendorVisitor) -> list[Any]:
    statement = payments.payments_visible(visitor.principal).order_by(Payment.id.desc())
    return list(session.scalars(statement.limit(SHOWN)))


@router.get("/money")
def money(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    return render(
        request,
        "vendor/money.html",
        balances=payments.balances(session, vendor_id=visitor.dropship_provider_id or 0),
        invoices=_invoices(session, visitor),
        payments=[(p,) for p in _payments(session, visitor)],
        shown=SHOWN,
    )


def _csv(name: str, text: str) -> Response:
    return Response(
        text,
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


@router.get("/money/invoices.csv", response_class=Response)
def invoices_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    """The same columns as the API's `purchase-invoices.csv` for a vendor token."""
    return _csv("invoices", payments.invoices_csv(session, principal=visitor.principal))


@router.get("/money/payments.csv", response_class=Response)
def payments_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    return _csv("payments", payments.payments_csv(session, principal=visitor.principal))


@router.get("/money/balance.csv", response_class=Response)
def balance_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    return _csv(
        "balance",
        _rows(
            ["currency", "pending", "payable", "paid"],
            (
                [b["currency"], f"{b['pending']:.2f}", f"{b['payable']:.2f}", f"{b['paid']:.2f}"]
                for b in payments.balances(session, vendor_id=visitor.dropship_provider_id or 0)
            ),
        ),
    )


def _rows(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()
