"""The merchant's reviews: every review of its orders, newest first, with the one reply each may
have (`engagement.reviews.reply_review`)."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.core.errors import DomainError
from yuyue.engagement import reviews
from yuyue.engagement.models import Review

from .desk import Desk, desk_page
from .views import _flash


@desk_page(roles=MANAGERS)
def review_list(request, desk: Desk):
    rows = (
        Review.objects.filter(merchant=desk.merchant)
        .select_related("customer", "service", "provider")
        .prefetch_related("photos")
        .order_by("-created_at")[:100]
    )
    return render(
        request,
        "web/merchant/reviews.html",
        {"desk": desk, "rows": rows, "flash": request.session.pop("flash", None)},
    )


@desk_page(roles=MANAGERS)
@require_POST
def reply(request, desk: Desk, review_id: int):
    try:
        if not Review.objects.filter(pk=review_id, merchant=desk.merchant).exists():
            raise DomainError("not_found")
        reviews.reply_review(
            actor=request.user, review_id=review_id, text=request.POST.get("text", "")
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Replied: everyone who reads the review sees it."))
    return HttpResponseRedirect(reverse("merchant:reviews") + f"#review-{review_id}")
