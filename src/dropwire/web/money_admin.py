"""The merchant's money pages: what is owed to each vendor (per currency), paying vendors in a
payout run (choose, review the totals, pay: the payout-run service the API calls), a run's
payments and its CSV for the bank."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from dropwire.core.errors import DomainError, Invalid
from dropwire.core.time import utcnow
from dropwire.http.deps import DbSession
from dropwire.payments.payouts import run_csv, run_payouts
from dropwire.web import money_pages
from dropwire.web.pages import AdminVisitor, CheckedForm, WebRoute, render, set_flash

router = APIRouter(route_class=WebRoute)


@router.get("/money")
def money(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    rows = money_pages.owed(session, now=utcnow())
    return render(
        request,
        "money.html",
        rows=rows,
        payable=money_pages.totals_by_currency(rows),
        payments=list(session.execute(money_pages.payments().limit(50))),
    )


def _chosen(values: list[str]) -> list[int]:
    chosen = sorted({int(v) for v in values if v.strip().isdigit() and int(v) < 2**31})
    if not chosen:
        raise Invalid("vendor", "Choose at least one vendor to pay.")
    return chosen


@router.get("/money/payout")
def payout_choose(request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    """Step 1: the vendors with something payable now; step 2 (`?vendor=...&review=1`): the
    chosen vendors' totals, and the button that pays them."""
    now = utcnow()
    reviewing = request.query_params.get("review") == "1"
    chosen = _chosen(request.query_params.getlist("vendor")) if reviewing else None
    rows = [
        row for row in money_pages.owed(session, now=now, vendor_ids=chosen) if row.payable_now > 0
    ]
    return render(
        request,
        "payout.html",
        rows=rows,
        reviewing=reviewing,
        totals=money_pages.totals_by_currency(rows),
    )


@router.post("/money/payout")
def payout_pay(session: DbSession, _: AdminVisitor, posted: CheckedForm) -> Response:
    """Pay the chosen vendors what is payable now; the run's page shows its payments."""
    try:
        run, paid = run_payouts(session, vendor_ids=_chosen(_values(posted, "vendor")))
    except DomainError as exc:
        session.rollback()
        response = RedirectResponse("/money/payout", status_code=303)
        set_flash(response, "error", exc.message)
        return response
    response = RedirectResponse(f"/money/runs/{run}", status_code=303)
    if paid:
        set_flash(response, "ok", f"Payout run {run}: {len(paid)} payment(s) made.")
    else:
        set_flash(response, "error", "Nothing was payable for those vendors any more.")
    return response


def _values(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str)]


@router.get("/money/runs/{run}.csv", response_class=Response)
def payout_run_csv(run: str, session: DbSession, _: AdminVisitor) -> Response:
    return Response(
        run_csv(session, run=run[:64]),
        media_type="text/csv",
        headers={"Content-Disposition": f'attachment; filename="payout-{run[:64]}.csv"'},
    )


@router.get("/money/runs/{run}")
def payout_run(run: str, request: Request, session: DbSession, _: AdminVisitor) -> HTMLResponse:
    rows = list(session.execute(money_pages.payments(run=run[:64])))
    return render(request, "payout_run.html", run=run[:64], payments=rows)
