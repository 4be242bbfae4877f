"""Engagement API: reviews (write, read a provider's or a merchant's) and after-sales cases for
the customer; the merchant's answers and replies; the operators' decisions. The same services
as the pages (`reviews`, `cases`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer, operator_bearer
from yuyue.core.errors import DomainError

from . import cases, reviews
from .models import Case

router = Router(tags=["engagement"])
staff_router = Router(tags=["merchant staff"])
ops_router = Router(tags=["operators"])


class ReviewIn(Schema):
    service_score: int = Field(ge=1, le=5)
    provider_score: int | None = Field(None, ge=1, le=5)
    dimensions: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict)
    text: str = Field("", max_length=1000)
    anonymous: bool = Field(False, strict=True)


class ReviewOut(Schema):
    id: int
    booking_id: int
    service_score: int
    provider_score: int | None
    dimensions: dict
    text: str
    anonymous: bool
    status: str
    reply: str
    created_at: dt.datetime


@router.post("/bookings/{booking_id}/review", response={201: ReviewOut}, auth=bearer)
def write_review(request, booking_id: int, body: ReviewIn):
    """Review a finished order (its customer, once, within the window)."""
    review = reviews.write_review(actor=request.auth, booking_id=booking_id, **body.dict())
    return Status(201, review)


class CaseIn(Schema):
    reason: Literal["quality", "not_done", "damage", "conduct", "other"]
    text: str = Field(min_length=1, max_length=2000)
    amount_fen: int = Field(ge=1, le=100_000_000_00)


class CaseEventOut(Schema):
    at: dt.datetime
    role: str
    kind: str
    text: str
    amount_fen: int


class CaseOut(Schema):
    id: int
    booking_id: int
    reason: str
    text: str
    amount_asked_fen: int
    status: str
    answer: str
    answer_due: dt.datetime
    decide_due: dt.datetime | None
    escalated_at: dt.datetime | None
    refund_fen: int
    decision_note: str
    events: list[CaseEventOut]


def case_out(case: Case) -> dict:
    return {
        **{k: getattr(case, k) for k in CaseOut.model_fields if k != "events"},
        "events": list(case.events.all()),
    }


@router.post("/bookings/{booking_id}/cases", response={201: CaseOut}, auth=bearer)
def open_case(request, booking_id: int, body: CaseIn):
    """Ask for money back on a finished, paid order: its settlement waits while the case is
    open."""
    case = cases.open_case(actor=request.auth, booking_id=booking_id, **body.dict())
    return Status(201, case_out(case))


@router.get("/cases/{case_id}", response=CaseOut, auth=bearer)
def get_case(request, case_id: int):
    """A case and its timeline: to its customer, the merchant's managers and operators."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not cases.may_read(request.auth, case):
        raise DomainError("not_found")
    return case_out(case)


class StaffTextIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


@staff_router.post("/merchants/{merchant_id}/cases/{case_id}/answer", response=CaseOut, auth=bearer)
def answer_case(request, merchant_id: int, case_id: int, body: StaffTextIn):
    """The merchant's answer to a case (owners and managers), once."""
    if not Case.objects.filter(pk=case_id, merchant_id=merchant_id).exists():
        raise DomainError("not_found")
    return case_out(cases.answer_case(actor=request.auth, case_id=case_id, text=body.text))


@staff_router.post(
    "/merchants/{merchant_id}/reviews/{review_id}/reply", response=ReviewOut, auth=bearer
)
def reply_review(request, merchant_id: int, review_id: int, body: StaffTextIn):
    """The merchant's one reply to a review of its orders."""
    from .models import Review

    if not Review.objects.filter(pk=review_id, merchant_id=merchant_id).exists():
        raise DomainError("not_found")
    return reviews.reply_review(actor=request.auth, review_id=review_id, text=body.text)


class CaseDecisionIn(Schema):
    refund_fen: int = Field(ge=0, le=100_000_000_00, description="0 closes without a refund")
    note: str = Field(min_length=1, max_length=300)


@ops_router.post("/cases/{case_id}/decide", response=CaseOut, auth=operator_bearer)
def decide_case(request, case_id: int, body: CaseDecisionIn):
    """Refund all or part of the order (paid once, whoever decides at the same time), or close
    with a note."""
    case = cases.decide_case(
        actor=request.auth, case_id=case_id, refund_fen=body.refund_fen, note=body.note
    )
    return case_out(case)
