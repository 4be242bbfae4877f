from django import template

register = template.Library()


@register.filter
def duration(minutes) -> str:
    """Minutes as a customer reads them: 45 → "45 min", 120 → "2 h", 90 → "1 h 30 min"."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(minutes, 60)
    h, m = ("小时", "分钟") if _chinese() else ("h", "min")
    if not hours:
        return f"{rest} {m}"
    return f"{hours} {h}" + (f" {rest} {m}" if rest else "")


_WEEKDAYS_ZH = "一二三四五六日"
_WEEKDAYS_EN = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _chinese() -> bool:
    from django.utils import translation

    return (translation.get_language() or "zh-hans").lower().startswith("zh")


@register.filter
def day(value) -> str:
    """A date (or an aware datetime already on the merchant's clock) the way the page's language
    writes it: 12月7日 周一, or Mon 7 Dec."""
    if value is None or value == "":
        return ""
    if _chinese():
        return f"{value.month}月{value.day}日 周{_WEEKDAYS_ZH[value.weekday()]}"
    return f"{_WEEKDAYS_EN[value.weekday()]} {value.day} {_MONTHS_EN[value.month - 1]}"


@register.filter
def moment(value) -> str:
    """A datetime on the merchant's clock with its day: 12月7日 周一 09:00, or Mon 7 Dec 09:00."""
    if value is None or value == "":
        return ""
    return f"{day(value)} {value:%H:%M}"


@register.filter
def weekday(value) -> str:
    """周一 or Mon."""
    if _chinese():
        return f"周{_WEEKDAYS_ZH[value.weekday()]}"
    return _WEEKDAYS_EN[value.weekday()]


@register.filter
def moment_in(value, tz) -> str:
    """An instant on the clock of zone `tz`, written as `moment` writes it."""
    if value is None or value == "":
        return ""
    return moment(value.astimezone(tz))


def status_labels() -> dict:
    from django.utils.translation import gettext_lazy as _

    return {
        "awaiting_payment": _("Waiting for payment"),
        "awaiting_provider": _("Finding a provider"),
        "booked": _("Booked"),
        "accepted": _("Accepted"),
        "departed": _("On the way"),
        "arrived": _("Arrived"),
        "in_service": _("In service"),
        "checked_in": _("Checked in"),
        "completed": _("Completed"),
        "no_show": _("Missed"),
        "cancelled": _("Cancelled"),
        "cancelled_by_staff": _("Cancelled by the merchant"),
        "expired": _("Expired unpaid"),
        "in_call": _("In the call"),
    }


@register.filter
def status(code) -> str:
    """A booking's status in the page's language."""
    return str(status_labels().get(str(code), code))


@register.filter
def pay_status(code) -> str:
    from django.utils.translation import gettext as _

    labels = {
        "not_required": _("Nothing to pay"),
        "unpaid": _("Not paid yet"),
        "paid": _("Paid"),
        "metered": _("Billed by the minute"),
        "partially_refunded": _("Partly refunded"),
        "refunded": _("Refunded"),
    }
    return labels.get(str(code), str(code))


@register.filter
def clock(value) -> str:
    """09:30 of a datetime already on the merchant's clock (Django's date filter would move it
    to the site's zone)."""
    if value is None or value == "":
        return ""
    return f"{value:%H:%M}"


@register.filter
def call_minutes(milliseconds) -> str:
    """A call's metered time in minutes, one decimal (the meter counts milliseconds)."""
    try:
        return f"{int(milliseconds) / 60000:.1f}"
    except (TypeError, ValueError):
        return ""


@register.filter
def talk_time(seconds) -> str:
    """Whole seconds as a call's length: 65 → "1 min 5 s" / "1分5秒", 3600 → "1 h" / "1小时"."""
    try:
        seconds = int(seconds)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    units = ("小时", "分", "秒") if _chinese() else (" h", " min", " s")
    parts = [f"{n}{u}" for n, u in zip((hours, minutes, secs), units, strict=True) if n]
    return ("" if _chinese() else " ").join(parts) or f"0{units[2]}"


@register.filter
def add_days(value, days) -> object:
    """A date `days` later (the week's Monday plus 2: its Wednesday)."""
    import datetime as dt

    return value + dt.timedelta(days=int(days))


@register.filter
def weekday_number(value) -> str:
    """0 → 周一 / Mon."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return ""
    return f"周{_WEEKDAYS_ZH[n]}" if _chinese() else _WEEKDAYS_EN[n]


@register.filter
def percent_bp(value) -> str:
    """Basis points as a percentage: 500 → "5", 250 → "2.5"."""
    try:
        return f"{int(value) / 100:g}"
    except (TypeError, ValueError):
        return ""


@register.filter
def stars(value) -> str:
    """3 → ★★★☆☆."""
    try:
        n = max(0, min(5, int(value)))
    except (TypeError, ValueError):
        return ""
    return "★" * n + "☆" * (5 - n)


@register.filter
def masked_name(value) -> str:
    """A name as others see it beside a review: its first character, then asterisks."""
    name = (value or "").strip()
    return (name[:1] + "**") if name else "**"


@register.filter
def case_status(code) -> str:
    """An after-sales case's state in the page's language."""
    from django.utils.translation import gettext as _

    labels = {
        "open": _("Waiting for the merchant"),
        "answered": _("Waiting for the platform"),
        "refunding": _("Refund on its way"),
        "refunded": _("Refunded"),
        "closed": _("Closed"),
    }
    return labels.get(str(code), str(code))


@register.filter
def document_kind(code) -> str:
    """A provider application's kind of picture in the page's language."""
    from django.utils.translation import gettext as _

    labels = {
        "photo": _("Photo of yourself"),
        "id_front": _("ID card, front"),
        "id_back": _("ID card, back"),
        "health": _("Health certificate"),
        "skill": _("Skill certificate"),
    }
    return labels.get(str(code), str(code))
