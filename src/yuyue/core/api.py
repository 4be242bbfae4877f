"""Endpoints that belong to no one part of the business."""

from django.conf import settings
from ninja import Router

from yuyue.core.errors import DomainError

from .models import AuditLog

router = Router(tags=["platform"])


@router.get("/health", auth=None)
def health(request):
    AuditLog.objects.exists()  # the database answers
    return {"status": "ok"}


@router.post("/_bench/insert", auth=None, include_in_schema=False)
def bench_insert(request):
    """The framework limit for bench/booking.py: one row inserted in one transaction."""
    if not settings.YUYUE_BENCH_ENDPOINTS:
        raise DomainError("not_found")
    from django.db import transaction

    with transaction.atomic():
        row = AuditLog.objects.create(action="bench.insert")
    return {"id": row.pk}
