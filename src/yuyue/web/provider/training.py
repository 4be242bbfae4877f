"""A provider's training: the courses they can take (required ones first, passed ones marked),
a course's lessons and its quiz (`catalog.training`)."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.accounts.models import Provider
from yuyue.catalog import training
from yuyue.core.errors import DomainError

from .views import _flash, provider_page


@provider_page
def courses(request, provider: Provider):
    return render(
        request,
        "web/provider/training.html",
        {
            "provider": provider,
            "courses": training.courses_for(provider),
            "flash": request.session.pop("flash", None),
        },
    )


@provider_page
def course(request, provider: Provider, course_id: int):
    try:
        shown = training.course_for(provider, course_id)
    except DomainError as exc:
        raise Http404 from exc
    questions = list(shown.questions.all())
    if request.method == "POST":
        answers = []
        for q in questions:
            raw = request.POST.get(f"q{q.pk}", "")
            answers.append(int(raw) if raw.isdigit() else None)
        try:
            training.take_quiz(actor=request.user, course_id=shown.pk, answers=answers)
        except DomainError as exc:
            _flash(request, exc.message(), "error")
            return HttpResponseRedirect(request.path)
        _flash(request, _("Passed: the course is done."))
        return HttpResponseRedirect(reverse("provider:training"))
    return render(
        request,
        "web/provider/course.html",
        {
            "provider": provider,
            "course": shown,
            "lessons": list(shown.lessons.all()),
            "questions": questions,
            "done": shown.completions.filter(provider=provider).exists(),
            "flash": request.session.pop("flash", None),
        },
    )
