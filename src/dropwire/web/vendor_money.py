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


def _invoices(session: DbSession, visitor: VendorVisitor, limit: int | None) -> list[Any]:
    statement = payments.invoices_visible(visitor.principal).order_by(VendorInvoice.id.desc())
    return list(session.scalars(statement.limit(limit) if limit else statement))


def _payments(session: DbSession, visitor: VendorVisitor, limit: int | None) -> list[Any]:
    statement = payments.payments_visible(visitor.principal).order_by(Payment.id.desc())
    return list(session.scalars(statement.limit(limit) if limit else statement))


@router.get("/money")
def money(request: Request, session: DbSession, visitor: VendorVisitor) -> HTMLResponse:
    return render(
        request,
        "vendor/money.html",
        balances=payments.balances(session, vendor_id=visitor.dropship_provider_id or 0),
        invoices=_invoices(session, visitor, SHOWN),
        payments=[(p,) for p in _payments(session, visitor, SHOWN)],
        shown=SHOWN,
    )


def _csv(name: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return Response(
        out.getvalue(),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _when(value: Any) -> str:
    return value.isoformat() if value is not None else ""


@router.get("/money/invoices.csv", response_class=Response)
def invoices_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    return _csv(
        "invoices",
        [
            "reference",
            "type",
            "status",
            "currency",
            "net",
            "commission",
            "shipping",
            "payable",
            "issuedAt",
            "payableAt",
            "paidAt",
            "payment",
        ],
        (
            [
                i.reference,
                i.type,
                i.status,
                i.currency,
                f"{i.net:.2f}",
                f"{i.commission:.2f}",
                f"{i.shipping:.2f}",
                f"{i.payable:.2f}",
                _when(i.issued_at),
                _when(i.payable_at),
                _when(i.paid_at),
                f"DW-{i.payment_id}" if i.payment_id else "",
            ]
            for i in _invoices(session, visitor, None)
        ),
    )


@router.get("/money/payments.csv", response_class=Response)
def payments_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    return _csv(
        "payments",
        ["payment", "status", "currency", "amount", "source", "reference", "createdAt", "error"],
        (
            [
                f"DW-{p.id}",
                p.status,
                p.currency,
                f"{p.amount:.2f}",
                p.source,
                p.external_id or p.reference or "",
                _when(p.created_at),
                p.error or "",
            ]
            for p in _payments(session, visitor, None)
        ),
    )


@router.get("/money/balance.csv", response_class=Response)
def balance_csv(session: DbSession, visitor: VendorVisitor) -> Response:
    return _csv(
        "balance",
        ["currency", "pending", "payable", "paid"],
        (
            [b["currency"], f"{b['pending']:.2f}", f"{b['payable']:.2f}", f"{b['paid']:.2f}"]
            for b in payments.balances(session, vendor_id=visitor.dropship_provider_id or 0)
        ),
    )
