"""`{% save_button "service" service.pk %}`: the heart that saves a provider, service or
merchant to one's favourites (a sign-in link for someone not signed in)."""

from django import template

from yuyue.engagement.favourites import saved_ids

register = template.Library()


@register.inclusion_tag("web/customer/_save.html", takes_context=True)
def save_button(context, kind: str, target_id: int) -> dict:
    request = context["request"]
    return {
        "kind": kind,
        "target_id": target_id,
        "saved": target_id in saved_ids(request.user, kind),
        "signed_in": request.user.is_authenticated,
        "here": request.get_full_path(),
        "csrf_token": context.get("csrf_token"),
    }
