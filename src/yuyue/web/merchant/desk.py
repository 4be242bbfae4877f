"""Who is at the merchant's desk: the signed-in person's workplaces and the one they work at
now (kept in the session, switched with ?m=<merchant id>), with their role there."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from yuyue.accounts.auth import ANY_STAFF
from yuyue.accounts.models import StaffRole
from yuyue.catalog.models import Merchant
from yuyue.catalog.people import workplaces
from yuyue.core.timeutil import zone

SESSION_KEY = "desk_merchant"


@dataclass
class Desk:
    merchant: Merchant
    role: str
    places: list = field(default_factory=list)  # every (merchant, role) of the person

    @property
    def full(self) -> bool:
        """Owners and managers see customers' phones and answers whole; clerks masked."""
        return self.role in (StaffRole.OWNER, StaffRole.MANAGER)

    @property
    def tz(self):
        return zone(self.merchant.timezone)


def desk_page(view=None, *, roles=ANY_STAFF):
    """Signed in and working for a merchant in one of `roles`; the view gets the `Desk`."""

    def decorate(view):
        @login_required(login_url="customer:sign-in")
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            places = workplaces(request.user)
            if not places:
                return render(request, "web/merchant/not_staff.html", status=403)
            wanted = request.GET.get("m") or request.session.get(SESSION_KEY)
            merchant, role = next(
                ((m, r) for m, r in places if str(m.pk) == str(wanted)), places[0]
            )
            request.session[SESSION_KEY] = merchant.pk
            if role not in roles:
                return render(request, "web/merchant/not_allowed.html", status=403)
            request.desk = Desk(merchant, role, places)
            return view(request, request.desk, *args, **kwargs)

        return wrapped

    return decorate(view) if view is not None else decorate
