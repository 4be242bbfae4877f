"""The merchant's after-sales cases: open ones first with their deadline, each answered once
(`engagement.cases.answer_case`); the platform decides after."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.core.errors import DomainError
from yuyue.engagement import cases
from yuyue.engagement.models import Case

from .desk import Desk, desk_page
from .views import _flash


@desk_page(roles=MANAGERS)
def case_list(request, desk: Desk):
    rows = list(
        Case.objects.filter(merchant=desk.merchant)
        .select_related("booking__service", "customer")
        .prefetch_related("photos")
        .order_by("status", "answer_due")[:100]
    )
    for c in rows:
        c.local_due = c.answer_due.astimezone(desk.tz)
    return render(
        request,
        "web/merchant/cases.html",
        {"desk": desk, "rows": rows, "flash": request.session.pop("flash", None)},
    )


@desk_page(roles=MANAGERS)
@require_POST
def answer(request, desk: Desk, case_id: int):
    try:
        if not Case.objects.filter(pk=case_id, merchant=desk.merchant).exists():
            raise DomainError("not_found")
        cases.answer_case(actor=request.user, case_id=case_id, text=request.POST.get("text", ""))
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Answered: the platform decides next."))
    return HttpResponseRedirect(reverse("merchant:cases"))
