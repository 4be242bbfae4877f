"""The merchant's staff: who works here, in which role and at which halls; the owner invites by
phone, limits a manager's or clerk's role to some halls, and removes. The services the API and
the operators use (`catalog.people`, `accounts.services.revoke_staff_role`), so the rules of
who may grant what hold here as everywhere."""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts import services as accounts
from yuyue.accounts.auth import MANAGERS
from yuyue.accounts.models import StaffRole
from yuyue.catalog import people
from yuyue.catalog.models import Hall
from yuyue.core.errors import DomainError

from .desk import Desk, desk_page
from .views import _flash

ROLES = {
    StaffRole.OWNER: lambda: _("Owner"),
    StaffRole.MANAGER: lambda: _("Manager"),
    StaffRole.CLERK: lambda: _("Clerk"),
}


def _back():
    return HttpResponseRedirect(reverse("merchant:staff"))


@desk_page(roles=MANAGERS)
def staff(request, desk: Desk):
    rows = people.merchant_staff(actor=request.user, merchant_id=desk.merchant.pk)
    for r in rows:
        r.role_label = ROLES[r.role]()
        r.hall_ids = {h.pk for h in r.halls.all()}
        r.phone_shown = r.user.phone
    return render(
        request,
        "web/merchant/staff.html",
        {
            "desk": desk,
            "rows": rows,
            "halls": list(
                Hall.objects.filter(merchant=desk.merchant, active=True).order_by("name")
            ),
            "roles": [(r, ROLES[r]()) for r in (StaffRole.MANAGER, StaffRole.CLERK)],
            "may_grant": desk.role == StaffRole.OWNER,
            "flash": request.session.pop("flash", None),
            "kept": request.session.pop("staff_form", {}),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def invite(request, desk: Desk):
    form = {
        "phone": (request.POST.get("phone") or "").strip()[:32],
        "name": (request.POST.get("name") or "").strip()[:100],
        "role": request.POST.get("role") or "",
        "halls": request.POST.getlist("halls"),
    }
    try:
        if form["role"] not in (StaffRole.MANAGER, StaffRole.CLERK):
            raise DomainError("forbidden")
        people.invite_staff(
            actor=request.user,
            merchant_id=desk.merchant.pk,
            phone=form["phone"],
            role=form["role"],
            hall_ids=[h for h in form["halls"] if h.isdigit()],
            name=form["name"],
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
        request.session["staff_form"] = form  # nothing typed is lost
    else:
        _flash(request, _("Added: they are told, and sign in with their phone."))
    return _back()


@desk_page(roles=MANAGERS)
@require_POST
def halls(request, desk: Desk, user_id: int):
    try:
        people.set_staff_halls(
            actor=request.user,
            merchant_id=desk.merchant.pk,
            user_id=user_id,
            hall_ids=[h for h in request.POST.getlist("halls") if h.isdigit()],
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Halls saved."))
    return _back()


@desk_page(roles=MANAGERS)
@require_POST
def remove(request, desk: Desk, user_id: int):
    try:
        accounts.revoke_staff_role(
            actor=request.user, user_id=user_id, merchant_id=desk.merchant.pk
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Removed from the staff."))
    return _back()
