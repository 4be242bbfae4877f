"""Endpoints that belong to no one part of the business."""

from django.conf import settings
from django.db import transaction
from ninja import Router

from yuyue.accounts.auth import bearer
from yuyue.core import sql
from yuyue.core.errors import DomainError
from yuyue.core.models import AuditLog

router = Router(tags=["platform"])


@router.get("/health", auth=None)
def health(request):
    AuditLog.objects.exists()  # the database answers
    return {"status": "ok"}


def _bench_insert(action: str) -> dict:
    if not settings.YUYUE_BENCH_ENDPOINTS:
        raise DomainError("not_found")
    with transaction.atomic():  # inserted as a booking's rows are (yuyue.core.sql)
        row = sql.insert(AuditLog(action=action))
    return {"id": row.pk}


@router.post("/_bench/insert", auth=None, include_in_schema=False)
def bench_insert(request):
    """The framework limit for bench/booking.py: one row inserted in one transaction."""
    return _bench_insert("bench.insert")


@router.post("/_bench/insert-authed", auth=bearer, include_in_schema=False)
def bench_insert_authed(request):
    """The same, behind the bearer-token check every booking passes first."""
    return _bench_insert("bench.insert_authed")
