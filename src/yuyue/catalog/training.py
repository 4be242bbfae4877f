"""Training for providers: a course is lessons (text, a link to a video or a picture) and a short
quiz; passing the quiz (every answer right) records the course as completed, once. A merchant's
owners and managers make courses for their providers, operators for every provider; a course
marked required must be passed before a provider goes on duty (`people.set_duty` asks
`missing_required`)."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import Q

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.accounts.models import Provider
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from .models import Course, CourseCompletion, Lesson, QuizQuestion

MAX_LESSONS, MAX_QUESTIONS, MAX_CHOICES = 20, 10, 6


def create_course(
    *,
    actor,
    title: str,
    lessons: list[dict],
    questions: list[dict],
    required: bool = False,
    merchant_id: int | None = None,
) -> Course:
    """A course of `lessons` ({title, text, link}) and a quiz of `questions` ({text, choices,
    answer: the index of the right choice})."""
    if merchant_id is None:
        if not getattr(actor, "is_operator", False):
            raise DomainError("forbidden")
    else:
        require_staff(actor, merchant_id, MANAGERS)
    title = (title or "").strip()
    if not title or len(title) > 100:
        raise DomainError("invalid_input", "A title of 1 to 100 characters.")
    lessons = [_lesson(n, lesson) for n, lesson in enumerate(lessons or [])]
    questions = [_question(n, q) for n, q in enumerate(questions or [])]
    if not lessons or len(lessons) > MAX_LESSONS:
        raise DomainError("invalid_input", f"1 to {MAX_LESSONS} lessons.")
    if not questions or len(questions) > MAX_QUESTIONS:
        raise DomainError("invalid_input", f"A quiz of 1 to {MAX_QUESTIONS} questions.")
    with transaction.atomic():
        course = Course.objects.create(merchant_id=merchant_id, title=title, required=required)
        Lesson.objects.bulk_create([Lesson(course=course, **lesson) for lesson in lessons])
        QuizQuestion.objects.bulk_create([QuizQuestion(course=course, **q) for q in questions])
        audit(actor, "course.create", course, required=required, merchant=merchant_id)
    return course


def _lesson(n: int, lesson: dict) -> dict:
    title = str(lesson.get("title") or "").strip()[:100]
    text = str(lesson.get("text") or "").strip()
    link = str(lesson.get("link") or "").strip()
    if not (title or text) or len(text) > 5000:
        raise DomainError("invalid_input", f"Lesson {n + 1}: a title or a text (up to 5000).")
    if link and not link.startswith("https://"):
        raise DomainError("invalid_input", f"Lesson {n + 1}: a link starts with https://.")
    return {"position": n, "title": title or f"{n + 1}", "text": text, "link": link[:200]}


def _question(n: int, q: dict) -> dict:
    text = str(q.get("text") or "").strip()
    choices = [str(c).strip() for c in q.get("choices") or [] if str(c).strip()]
    answer = q.get("answer")
    if (
        not text
        or len(text) > 300
        or not 2 <= len(choices) <= MAX_CHOICES
        or not isinstance(answer, int)
        or isinstance(answer, bool)
        or not 0 <= answer < len(choices)
    ):
        raise DomainError(
            "invalid_input",
            f"Question {n + 1}: a text, 2 to {MAX_CHOICES} choices and which one is right.",
        )
    return {"position": n, "text": text, "choices": choices, "answer": answer}


def _courses_for(provider: Provider):
    whose = Q(merchant__isnull=True)
    if provider.merchant_id:
        whose |= Q(merchant_id=provider.merchant_id)
    return Course.objects.filter(whose, active=True)


def courses_for(provider: Provider) -> list[Course]:
    """The courses a provider can take (the platform's and their merchant's), required first,
    each with `done`."""
    passed = set(
        CourseCompletion.objects.filter(provider=provider).values_list("course_id", flat=True)
    )
    courses = list(_courses_for(provider).order_by("-required", "title", "pk"))
    for c in courses:
        c.done = c.pk in passed
    return courses


def missing_required(provider: Provider) -> list[Course]:
    """The required courses the provider has not passed yet."""
    return list(
        _courses_for(provider)
        .filter(required=True)
        .exclude(completions__provider=provider)
        .order_by("title", "pk")
    )


def course_for(provider: Provider, course_id: int) -> Course:
    """A course the provider may take (another merchant's is not found)."""
    course = _courses_for(provider).filter(pk=course_id).first()
    if course is None:
        raise DomainError("not_found")
    return course


def take_quiz(*, actor, course_id: int, answers: list[int | None]) -> CourseCompletion:
    """Answer the course's quiz: every answer right records the course as passed (once);
    otherwise `quiz_failed` says how many were right, and nothing is recorded."""
    provider = Provider.objects.filter(user_id=getattr(actor, "pk", None)).first()
    if provider is None:
        raise DomainError("forbidden")
    course = course_for(provider, course_id)
    questions = list(course.questions.all())
    right = sum(1 for n, q in enumerate(questions) if n < len(answers) and answers[n] == q.answer)
    if right < len(questions):
        raise DomainError("quiz_failed", right=right, of=len(questions))
    try:
        with transaction.atomic():
            done = CourseCompletion.objects.create(provider=provider, course=course)
            audit(actor, "course.passed", course, provider=provider.pk)
    except IntegrityError:  # passed before (or twice at once): the first stands
        done = CourseCompletion.objects.get(provider=provider, course=course)
    return done
