"""Training: a merchant's managers (or operators, for everyone) make courses of lessons and a
quiz; a provider passes by answering every question right (recorded once); a required course
keeps a provider off duty until passed; another merchant's course is not theirs to take."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from yuyue.accounts.models import Provider
from yuyue.catalog import training
from yuyue.catalog.models import Course, CourseCompletion
from yuyue.catalog.people import set_duty
from yuyue.core.errors import DomainError

pytestmark = pytest.mark.django_db

LESSON = {"title": "Shoe covers", "text": "Put them on at the door.", "link": ""}
QUESTION = {"text": "When do shoe covers go on?", "choices": ["At the door", "Never"], "answer": 0}


def course(actor, merchant_id=None, required=True, **extra):
    return training.create_course(
        actor=actor,
        merchant_id=merchant_id,
        title=extra.pop("title", "Hygiene at home"),
        required=required,
        lessons=extra.pop("lessons", [LESSON]),
        questions=extra.pop("questions", [QUESTION]),
    )


def test_a_required_course_keeps_a_provider_off_duty_until_passed(owner, merchant, provider):
    made = course(owner, merchant.pk)
    Provider.objects.filter(pk=provider.pk).update(duty="off_duty")
    with pytest.raises(DomainError) as refused:
        set_duty(actor=provider.user, duty="on_duty")
    assert refused.value.code == "training_required" and "Hygiene at home" in str(refused.value)
    assert Provider.objects.get(pk=provider.pk).duty == "off_duty"
    set_duty(actor=provider.user, duty="resting")  # resting needs no course
    with pytest.raises(DomainError) as refused:
        training.take_quiz(actor=provider.user, course_id=made.pk, answers=[1])
    assert refused.value.code == "quiz_failed" and refused.value.params == {"right": 0, "of": 1}
    assert not CourseCompletion.objects.exists()
    first = training.take_quiz(actor=provider.user, course_id=made.pk, answers=[0])
    again = training.take_quiz(actor=provider.user, course_id=made.pk, answers=[0])
    assert first.pk == again.pk and CourseCompletion.objects.count() == 1  # once
    assert set_duty(actor=provider.user, duty="on_duty").duty == "on_duty"
    assert [c.done for c in training.courses_for(provider)] == [True]


def test_whose_courses_a_provider_takes(operator, owner, merchant, other_merchant, provider):
    other_owner = make_user("Moon owner")
    from yuyue.accounts.models import MerchantStaff, StaffRole

    MerchantStaff.objects.create(user=other_owner, merchant=other_merchant, role=StaffRole.OWNER)
    everyone = course(operator, None, required=False, title="Platform rules")
    theirs = course(other_owner, other_merchant.pk, title="Moon only")
    mine = course(owner, merchant.pk, required=False, title="Ours")
    assert {c.title for c in training.courses_for(provider)} == {"Platform rules", "Ours"}
    assert training.missing_required(provider) == []  # the other merchant's does not bind them
    with pytest.raises(DomainError) as refused:
        training.take_quiz(actor=provider.user, course_id=theirs.pk, answers=[0])
    assert refused.value.code == "not_found"
    assert {everyone.pk, mine.pk} == {c.pk for c in training.courses_for(provider)}


@pytest.mark.parametrize(
    "bad",
    [
        {"title": " "},
        {"lessons": []},
        {"questions": []},
        {"questions": [{**QUESTION, "choices": ["only one"]}]},
        {"questions": [{**QUESTION, "answer": 5}]},
        {"questions": [{**QUESTION, "answer": True}]},
        {"lessons": [{**LESSON, "link": "javascript:alert(1)"}]},
    ],
)
def test_a_bad_course_is_refused_and_nothing_is_made(owner, merchant, bad):
    with pytest.raises(DomainError) as refused:
        course(owner, merchant.pk, **bad)
    assert refused.value.code == "invalid_input"
    assert not Course.objects.exists()


def test_only_managers_and_operators_make_courses(clerk, customer, merchant):
    for actor, merchant_id in ((clerk, merchant.pk), (customer, None)):
        with pytest.raises(DomainError) as refused:
            course(actor, merchant_id)
        assert refused.value.code == "forbidden"
