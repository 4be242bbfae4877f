"""Background jobs run by the real database-backed worker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import make_user
from yuyue.accounts.models import ApiToken, OneTimeCode
from yuyue.accounts.tokens import issue_token
from yuyue.core.models import IdempotencyRecord
from yuyue.core.periodic import ensure_periodic_jobs


@pytest.mark.django_db(transaction=True)
def test_purge_runs_in_the_worker_and_schedules_itself():
    user = make_user()
    now = timezone.now()
    OneTimeCode.objects.create(
        phone_index="x", code_hash="h", expires_at=now - dt.timedelta(days=2)
    )
    fresh_code = OneTimeCode.objects.create(
        phone_index="y", code_hash="h", expires_at=now + dt.timedelta(minutes=5)
    )
    _, old_token = issue_token(user=user, via="password")
    ApiToken.objects.filter(pk=old_token.pk).update(expires_at=now - dt.timedelta(seconds=1))
    _, live_token = issue_token(user=user, via="password")
    old = IdempotencyRecord.objects.create(
        user=user, key="a", scope="s", request_hash="h", status=201, body={}
    )
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=now - dt.timedelta(days=3))
    IdempotencyRecord.objects.create(
        user=user, key="b", scope="s", request_hash="h", status=201, body={}
    )

    assert sorted(ensure_periodic_jobs()) == [
        "yuyue.accounts.tasks.purge_sign_in_job",
        "yuyue.billing.tasks.expire_points_job",
        "yuyue.billing.tasks.mark_no_shows_job",
        "yuyue.billing.tasks.reconcile_job",
        "yuyue.billing.tasks.summarise_figures_job",
        "yuyue.billing.tasks.summarise_month_job",
        "yuyue.calls.tasks.sweep_calls_job",
        "yuyue.core.tasks.purge_expired",
        "yuyue.dispatch.tasks.dispatch_round_job",
        "yuyue.dispatch.tasks.purge_positions_job",
        "yuyue.engagement.tasks.escalate_cases_job",
        "yuyue.notifications.tasks.send_deliveries_job",
        "yuyue.orders.tasks.expire_unpaid_job",
        "yuyue.orders.tasks.send_reminders_job",
        "yuyue.pricing.tasks.holiday_calendar_job",
    ]
    assert ensure_periodic_jobs() == []  # one waiting run is enough

    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)

    assert list(OneTimeCode.objects.values_list("pk", flat=True)) == [fresh_code.pk]
    assert list(ApiToken.objects.values_list("pk", flat=True)) == [live_token.pk]
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["b"]
    for path, counts in (
        ("yuyue.core.tasks.purge_expired", {"idempotency": 1}),
        ("yuyue.accounts.tasks.purge_sign_in_job", {"otp": 1, "tokens": 1}),
    ):
        purge = DBTaskResult.objects.filter(task_path=path)
        assert purge.get(status="SUCCESSFUL").return_value == counts
        following = purge.get(status="READY")
        assert following.run_after > timezone.now() + dt.timedelta(minutes=55)


def test_the_console_hides_per_job_lines_but_not_failures(monkeypatch):
    import logging

    from yuyue.core.logs import QuietJobs

    def record(name, level):
        return logging.LogRecord(name, level, __file__, 1, "m", None, None)

    quiet = QuietJobs()
    assert not quiet.filter(record("django_tasks", logging.INFO))
    assert quiet.filter(record("django_tasks", logging.ERROR))
    assert quiet.filter(record("yuyue.notify", logging.INFO))
    monkeypatch.setenv("YUYUE_JOB_LOGS", "1")
    assert quiet.filter(record("django_tasks", logging.INFO))


def test_console_log_lines_are_stamped_in_utc_like_the_api():
    """The process runs in Asia/Shanghai; a log line's time must still match the API's UTC."""
    import logging

    console = next(h for h in logging.getLogger().handlers if h.name == "console")
    record = logging.LogRecord(
        "yuyue.api", logging.WARNING, __file__, 1, "refund failed", None, None
    )
    record.created = dt.datetime(2026, 12, 4, 18, 36, 58, 150000, tzinfo=dt.UTC).timestamp()
    record.msecs = 150
    line = console.format(record)
    assert line == "2026-12-04T18:36:58.150Z WARNING yuyue.api refund failed"
