"""After-sales cases 售后: a customer asks for money back on a paid order (a reason, words,
photos, how much) while its settlement has not happened; settlement then waits until the case
closes. The merchant answers within YUYUE_CASE_ANSWER_HOURS; the platform decides within
YUYUE_CASE_DECIDE_HOURS of the answer: a refund of all or part through the refund path (paid
once, whoever decides at the same time: the case is claimed by one conditional UPDATE, and the
refund is keyed by the case), or closed with a reason. A deadline missed goes to the operators
(`escalate_overdue`, a periodic job). Both sides read the timeline; a refund decided on a case
against a provider goes on the provider's record (a breach, which dispatch weighs)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_operator, require_staff
from yuyue.billing.refunds import refund
from yuyue.billing.settlement import hold_settlement, release_settlement
from yuyue.core.audit import audit
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.images import clean_image
from yuyue.dispatch.models import Breach
from yuyue.notifications.sending import notify
from yuyue.orders.models import Booking, BookingStatus, PaymentStatus

from .models import OPEN_CASE, Case, CaseEvent, CasePhoto, CaseReason, CaseStatus

MAX_PHOTOS = 9
CASEABLE = (BookingStatus.COMPLETED, BookingStatus.CHECKED_IN, BookingStatus.NO_SHOW)


def _hold_key(case: Case) -> str:
    return f"case:{case.pk}"


def open_case(
    *,
    actor,
    booking_id: int,
    reason: str,
    text: str,
    amount_fen: int,
    photos: list[bytes] | None = None,
) -> Case:
    """The customer of a paid, finished order opens a case (one open at a time per order);
    its settlement waits from now on."""
    if reason not in CaseReason.values:
        raise DomainError("invalid_input", "Choose a reason.")
    text = (text or "").strip()
    if not 1 <= len(text) <= 2000:
        raise DomainError("reason_required")
    photos = photos or []
    if len(photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", max=MAX_PHOTOS)
    cleaned = [clean_image(p, max_bytes=8 * 1024 * 1024, max_side=1600) for p in photos]
    with transaction.atomic():
        booking = Booking.objects.select_for_update().filter(pk=booking_id).first()
        if booking is None or booking.customer_id != getattr(actor, "pk", None):
            raise DomainError("not_found")
        if booking.status not in CASEABLE or booking.payment_status not in (
            PaymentStatus.PAID,
            PaymentStatus.PARTIALLY_REFUNDED,
        ):
            raise DomainError("not_caseable")
        if isinstance(amount_fen, bool) or not isinstance(amount_fen, int):
            raise DomainError("invalid_amount", max=booking.price_fen)
        if not 1 <= amount_fen <= booking.price_fen:
            raise DomainError("invalid_amount", max=booking.price_fen)
        now = timezone.now()
        try:
            with transaction.atomic():
                case = Case.objects.create(
                    booking=booking,
                    customer_id=booking.customer_id,
                    merchant_id=booking.merchant_id,
                    provider_id=booking.provider_id,
                    reason=reason,
                    text=text,
                    amount_asked_fen=amount_fen,
                    answer_due=now + dt.timedelta(hours=settings.YUYUE_CASE_ANSWER_HOURS),
                )
        except IntegrityError as exc:
            raise DomainError("case_open") from exc
        hold_settlement(booking=booking, key=_hold_key(case), reason="after-sales case")
        for i, jpeg in enumerate(cleaned):
            photo = CasePhoto(case=case, position=i)
            photo.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)
        CaseEvent.objects.create(
            case=case, role="customer", kind="opened", text=text, amount_fen=amount_fen
        )
        audit(actor, "case.open", case, amount=amount_fen)
        _tell_merchant(case, "case.opened")
    return case


def _tell_merchant(case: Case, kind: str) -> None:
    from yuyue.accounts.models import MerchantStaff

    for user_id in MerchantStaff.objects.filter(
        merchant_id=case.merchant_id, role__in=MANAGERS
    ).values_list("user_id", flat=True):
        notify(user_id, kind, case_id=case.pk, booking_id=case.booking_id)


def answer_case(*, actor, case_id: int, text: str) -> Case:
    """The merchant's answer (its owners and managers), once; the platform decides next."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        raise DomainError("not_found")
    require_staff(actor, case.merchant_id, MANAGERS)
    text = (text or "").strip()
    if not 1 <= len(text) <= 2000:
        raise DomainError("reason_required")
    now = timezone.now()
    with transaction.atomic():
        if not Case.objects.filter(pk=case.pk, status=CaseStatus.OPEN).update(
            status=CaseStatus.ANSWERED,
            answer=text,
            answered_at=now,
            decide_due=now + dt.timedelta(hours=settings.YUYUE_CASE_DECIDE_HOURS),
        ):
            raise DomainError("case_decided")
        CaseEvent.objects.create(case=case, role="merchant", kind="answered", text=text)
        audit(actor, "case.answer", case)
        notify(case.customer_id, "case.answered", case_id=case.pk, booking_id=case.booking_id)
    case.refresh_from_db()
    return case


def decide_case(*, actor, case_id: int, refund_fen: int, note: str) -> Case:
    """An operator refunds `refund_fen` (all or part of what was paid) or, with 0, closes the
    case; either way with a note both sides read. One decision wins: the case is claimed by a
    conditional UPDATE, and the refund is keyed by the case, so it is paid once."""
    require_operator(actor)
    note = (note or "").strip()[:300]
    if not note:
        raise DomainError("reason_required")
    case = Case.objects.select_related("booking").filter(pk=case_id).first()
    if case is None:
        raise DomainError("not_found")
    if isinstance(refund_fen, bool) or not isinstance(refund_fen, int):
        raise DomainError("invalid_amount", max=case.booking.price_fen)
    if not 0 <= refund_fen <= case.booking.price_fen:
        raise DomainError("invalid_amount", max=case.booking.price_fen)
    now = timezone.now()
    if case.status == CaseStatus.REFUNDING:
        # the refund this operator decided, its payment unfinished (the gateway failed): they
        # ask again to finish it; anyone else, or another amount, finds the case decided
        if refund_fen != case.refund_fen or case.decided_by_id != actor.pk:
            raise DomainError("case_decided")
    else:
        fields = {
            "status": CaseStatus.REFUNDING if refund_fen else CaseStatus.CLOSED,
            "refund_fen": refund_fen,
            "decision_note": note,
            "decided_by": actor,
            "decided_at": now,
        }
        if naive := race_control("decide_case_claim"):
            claimed = naive(case=case, fields=fields)
        else:
            claimed = Case.objects.filter(
                pk=case.pk, status__in=(CaseStatus.OPEN, CaseStatus.ANSWERED)
            ).update(**fields)
        if not claimed:
            raise DomainError("case_decided")
        if not refund_fen:
            with transaction.atomic():
                CaseEvent.objects.create(case=case, role="operator", kind="closed", text=note)
                release_settlement(key=_hold_key(case))
                audit(actor, "case.close", case, note=note)
                notify(case.customer_id, "case.closed", case_id=case.pk, booking_id=case.booking_id)
            case.refresh_from_db()
            return case
    # outside any transaction: the gateway is called (keyed, so a retry never pays twice)
    refund(
        actor=actor,
        booking_id=case.booking_id,
        amount_fen=refund_fen,
        key=f"case:{case.pk}",
        reason=f"after-sales: {note}"[:200],
    )
    with transaction.atomic():
        if Case.objects.filter(pk=case.pk, status=CaseStatus.REFUNDING).update(
            status=CaseStatus.REFUNDED
        ):
            CaseEvent.objects.create(
                case=case, role="operator", kind="refunded", text=note, amount_fen=refund_fen
            )
            if case.provider_id is not None:
                Breach.objects.create(
                    provider_id=case.provider_id,
                    booking_id=case.booking_id,
                    kind="complaint",
                    note=f"after-sales case {case.pk}: {case.reason}"[:300],
                )
            release_settlement(key=_hold_key(case))
            audit(actor, "case.refund", case, amount=refund_fen)
            notify(
                case.customer_id,
                "case.refunded",
                case_id=case.pk,
                booking_id=case.booking_id,
                amount_fen=refund_fen,
            )
    case.refresh_from_db()
    return case


def escalate_overdue(now: dt.datetime | None = None) -> int:
    """Cases whose merchant did not answer, or whose platform did not decide, in time: marked
    escalated and put before the operators (once each)."""
    from yuyue.accounts.models import User

    now = now or timezone.now()
    late = list(
        Case.objects.filter(escalated_at__isnull=True, status__in=OPEN_CASE).filter(_overdue(now))
    )
    operators = list(User.objects.filter(is_operator=True).values_list("pk", flat=True))
    for case in late:
        with transaction.atomic():
            if Case.objects.filter(pk=case.pk, escalated_at__isnull=True).update(escalated_at=now):
                CaseEvent.objects.create(case=case, role="system", kind="escalated")
                for uid in operators:
                    notify(uid, "case.escalated", case_id=case.pk)
    return len(late)


def _overdue(now):
    from django.db.models import Q

    return Q(status=CaseStatus.OPEN, answer_due__lte=now) | Q(
        status=CaseStatus.ANSWERED, decide_due__lte=now
    )


def may_read(user, case: Case) -> bool:
    if not getattr(user, "pk", None):
        return False
    if user.is_operator or case.customer_id == user.pk:
        return True
    try:
        require_staff(user, case.merchant_id, MANAGERS)
    except DomainError:
        return False
    return True
