"""The customer's profile page: name, avatar, saved addresses (one the default, used to fill
the address of an order) and changing the phone number with a code sent to the new one. The
rules are `accounts.profile`, as the API's (`/api/me…`)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from yuyue.accounts import profile
from yuyue.core.errors import DomainError
from yuyue.core.throttle import client_address
from yuyue.notifications.delivery import SMS, WECHAT, set_muted, template_for
from yuyue.notifications.models import NoticeMute

from .onsite import _point

ACTIONS = ("name", "avatar", "address", "default", "delete", "phone_code", "phone", "wechat")
NOTICE_LABELS = {"booking.reminder": lambda: _("Reminders before a booking")}


def _beyond_the_app(user) -> list[dict]:
    """The kinds of notices sent beyond the app, by channel (a text, a WeChat message), and
    whether this person receives each."""
    muted = set(NoticeMute.objects.filter(user=user).values_list("kind", "channel"))
    return [
        {
            "kind": kind,
            "channel": channel,
            "value": f"{channel}:{kind}",
            "label": NOTICE_LABELS.get(kind, lambda k=kind: k)(),
            "on": (kind, channel) not in muted,
        }
        for channel, kinds in (
            (SMS, sorted(settings.YUYUE_SMS_KINDS)),
            (WECHAT, [k for k in settings.YUYUE_WECHAT_TEMPLATES if template_for(k)]),
        )
        for kind in kinds
        if kind in NOTICE_LABELS or channel == WECHAT
    ]


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def profile_page(request):
    user = request.user
    context = {
        "addresses": profile.my_addresses(actor=user),
        "step": "",
        "new_phone": "",
        "beyond": _beyond_the_app(user),
        "has_openid": bool(user.wx_openid),
        "wechat_channel": any(template_for(k) for k in settings.YUYUE_WECHAT_TEMPLATES),
    }
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            done = _act(request, action, context)
        except DomainError as exc:
            context["error"] = exc.message()
            context["error_at"] = action
            context["addresses"] = profile.my_addresses(actor=user)
            return render(request, "web/customer/profile.html", context, status=exc.status)
        if done is None and context["step"]:
            return render(request, "web/customer/profile.html", context)
        if done:
            request.session["flash_ok"] = done
        return HttpResponseRedirect(reverse("customer:profile"))
    context["ok"] = request.session.pop("flash_ok", None)
    return render(request, "web/customer/profile.html", context)


def _act(request, action: str, context: dict) -> str | None:
    """One of the page's forms: what it says when done (None when a next step is shown)."""
    user = request.user
    if action == "name":
        profile.set_name(actor=user, name=request.POST.get("name", ""))
        return _("Your name is saved.")
    elif action == "avatar":
        upload = request.FILES.get("avatar")
        if upload is None:
            raise DomainError("invalid_image", max_mb=5)
        profile.set_avatar(actor=user, data=upload.read(profile.MAX_AVATAR_BYTES + 1))
        return _("Your picture is saved.")
    elif action == "address":
        point = _point(request)
        profile.save_address(
            actor=user,
            address=request.POST.get("address", ""),
            label=request.POST.get("label", ""),
            lat=point[0] if point else None,
            lng=point[1] if point else None,
            default=request.POST.get("default") == "1",
        )
        return _("The address is saved.")
    elif action in ("default", "delete"):
        try:
            address_id = int(request.POST.get("address_id") or 0)
        except ValueError:
            address_id = 0
        if action == "default":
            profile.make_default(actor=user, address_id=address_id)
        else:
            profile.delete_address(actor=user, address_id=address_id)
    elif action == "phone_code":
        context["new_phone"] = request.POST.get("phone", "").strip()
        profile.send_phone_change_code(
            actor=user, phone=context["new_phone"], client=client_address(request)
        )
        context["step"] = "code"
        context["sent"] = True
    elif action == "phone":
        context["new_phone"] = request.POST.get("phone", "").strip()
        context["step"] = "code"
        profile.change_phone(
            actor=user,
            phone=context["new_phone"],
            code=request.POST.get("code", ""),
            client=client_address(request),
        )
        return _("Your phone number is changed.")
    elif action == "wechat":
        wanted = set(request.POST.getlist("kinds"))
        for c in context["beyond"]:
            set_muted(
                actor=user,
                kind=c["kind"],
                channel=c["channel"],
                muted=c["value"] not in wanted,
            )
        return _("Your choices are saved.")
    else:
        raise DomainError("invalid_input", "unknown action")
    return None
