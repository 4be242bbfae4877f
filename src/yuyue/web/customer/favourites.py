"""The customer's favourites (`engagement.favourites`): the heart on provider, service and
merchant pages, and the list of what one saved."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.middleware.csrf import get_token
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from yuyue.core.errors import DomainError
from yuyue.engagement import favourites
from yuyue.web.templatetags.favourites import save_button


@login_required(login_url="customer:sign-in")
@require_POST
def toggle(request, kind: str, target_id: int):
    try:
        if request.POST.get("action") == "remove":
            favourites.remove(actor=request.user, kind=kind, target_id=target_id)
        else:
            favourites.save(actor=request.user, kind=kind, target_id=target_id)
    except DomainError as exc:
        raise Http404 from exc
    if request.htmx:
        context = save_button(
            {"request": request, "csrf_token": get_token(request)}, kind, target_id
        )
        context["here"] = request.POST.get("next", "/")
        return render(request, "web/customer/_save.html", context)
    back = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}):
        back = "/"
    return HttpResponseRedirect(back)


@login_required(login_url="customer:sign-in")
def favourites_page(request):
    saved = favourites.favourites(actor=request.user)
    return render(
        request,
        "web/customer/favourites.html",
        {
            "providers": saved["provider"],
            "services": saved["service"],
            "merchants": saved["merchant"],
            "again": favourites.book_again(actor=request.user),
        },
    )
