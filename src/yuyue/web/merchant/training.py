"""The merchant's training courses for its providers: the courses made (how many providers have
passed each) and a form for a new one: up to two lessons and three quiz questions, required
before going on duty or not (`catalog.training`)."""

from __future__ import annotations

from django.db.models import Count
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import gettext as _

from yuyue.accounts.auth import MANAGERS
from yuyue.catalog import training
from yuyue.catalog.models import Course
from yuyue.core.errors import DomainError
from yuyue.web.amounts import whole

from .desk import Desk, desk_page
from .views import _flash

LESSONS, QUESTIONS = 2, 3


@desk_page(roles=MANAGERS)
def courses(request, desk: Desk):
    post = request.POST
    if request.method == "POST":
        lessons = [
            {k: post.get(f"lesson{n}-{k}", "") for k in ("title", "text", "link")}
            for n in range(LESSONS)
        ]
        questions = [
            {
                "text": post.get(f"q{n}-text", ""),
                "choices": post.get(f"q{n}-choices", "").splitlines(),
                "answer": whole(post.get(f"q{n}-answer")) - 1,
            }
            for n in range(QUESTIONS)
        ]
        try:
            training.create_course(
                actor=request.user,
                merchant_id=desk.merchant.pk,
                title=post.get("title", ""),
                required=post.get("required") == "1",
                lessons=[x for x in lessons if x["title"].strip() or x["text"].strip()],
                questions=[q for q in questions if q["text"].strip()],
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("The course is ready: your providers see it now."))
        return HttpResponseRedirect(request.get_full_path())
    made = (
        Course.objects.filter(merchant=desk.merchant)
        .annotate(passed=Count("completions"))
        .order_by("-created_at")
    )
    return render(
        request,
        "web/merchant/training.html",
        {
            "desk": desk,
            "made": made,
            "lessons": range(LESSONS),
            "questions": range(QUESTIONS),
            "flash": request.session.pop("flash", None),
        },
    )
