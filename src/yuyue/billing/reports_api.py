"""Money reports for operators (all merchants) and merchants' owners and managers (their own)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Query, Router, Schema

from yuyue.accounts.auth import bearer, operator_bearer
from yuyue.core.errors import DomainError
from yuyue.core.schemas import Day

from . import reports
from .models import ReconciliationRun

router = Router(tags=["reports"])
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_DOC = {"responses": {200: {"description": "An Excel workbook", "content": {XLSX: {}}}}}


class RevenueRow(Schema):
    merchant_id: int
    merchant: str
    category_id: int | None
    category: str
    orders: int
    paid_fen: int
    discounts_fen: int
    refunds_fen: int
    commission_fen: int
    merchant_fen: int
    provider_fen: int


class RevenueOut(Schema):
    date_from: dt.date
    date_to: dt.date
    timezone: str
    rows: list[RevenueRow]
    totals: dict[str, int]


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get("/reports/revenue", response=RevenueOut, auth=bearer)
def revenue(request, date_from: dt.date, date_to: dt.date, merchant_id: int | None = None):
    """Revenue by merchant and category (operators; a merchant's owner or manager with their
    merchant_id). Days in the platform's zone; amounts in fen."""
    return reports.revenue(
        actor=request.auth, date_from=date_from, date_to=date_to, merchant_id=merchant_id
    )


@router.get("/reports/revenue.xlsx", auth=bearer, response={200: None}, openapi_extra=XLSX_DOC)
def revenue_xlsx(request, date_from: dt.date, date_to: dt.date, merchant_id: int | None = None):
    """The revenue report as .xlsx (yuan with two decimals)."""
    report = reports.revenue(
        actor=request.auth, date_from=date_from, date_to=date_to, merchant_id=merchant_id
    )
    return _xlsx(reports.revenue_xlsx(report), f"revenue-{date_from}-{date_to}.xlsx")


class RunOut(Schema):
    gateway: str
    day: dt.date
    ran_at: dt.datetime
    matched: int
    ok: bool
    discrepancies: list[dict]


class ReconcileIn(Schema):
    day: Day
    gateway: str = "sandbox"


@router.post("/ops/reconciliations", response=RunOut, auth=operator_bearer)
def reconcile(request, body: ReconcileIn):
    """Reconcile a day now (again: the day's result is replaced). The worker does yesterday at
    02:00 every night."""
    return reports.reconcile(actor=request.auth, day=body.day, gateway=body.gateway)


@router.get("/ops/reconciliations", response=list[RunOut], auth=operator_bearer)
def reconciliations(request, limit: int = Query(30, ge=1, le=366)):
    reports._require_operator(request.auth)
    return list(ReconciliationRun.objects.all()[:limit])


@router.get(
    "/ops/reconciliations/{day}.xlsx",
    auth=operator_bearer,
    response={200: None},
    openapi_extra=XLSX_DOC,
)
def reconciliation_xlsx(request, day: dt.date, gateway: str = "sandbox"):
    reports._require_operator(request.auth)
    run = ReconciliationRun.objects.filter(day=day, gateway=gateway).first()
    if run is None:
        raise DomainError("not_found")
    return _xlsx(reports.reconciliation_xlsx(run), f"reconciliation-{gateway}-{day}.xlsx")
