"""A real call: two headless Chromium pages with fake microphones join over yuyue's websocket,
connect over WebRTC, talk, and hang up; the meter and the bill agree with the server's record."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.browser import launched
from tests.calls.conftest import move_to_now, next_start, top_up
from tests.conftest import make_user
from tests.livesrv import LiveServer, current_database_url
from tests.web.conftest import axe_violations, shoot
from yuyue.accounts.models import Provider
from yuyue.accounts.tokens import issue_token
from yuyue.billing.payments import wallet
from yuyue.calls.models import CallEvent, CallSession
from yuyue.catalog.models import Service, ServiceKind
from yuyue.orders.models import BookingStatus
from yuyue.orders.services import book_provider
from yuyue.scheduling.models import WorkingHours

MEDIA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
RATE = 600  # fen a minute: 10 fen a second


def wait_for(page, expression: str, timeout: float = 30.0):
    try:
        page.wait_for_function(expression, timeout=timeout * 1000)
    except Exception as exc:
        seen = page.evaluate("JSON.stringify(window.yuyueCall)")
        status = page.inner_text("#status")
        raise AssertionError(f"{expression} not true: {status} {seen} {CONSOLE}") from exc
    return page.evaluate(expression)


CONSOLE: list[str] = []


@pytest.fixture
def booked_call(merchant):
    service = Service.objects.create(
        merchant=merchant,
        name="Tutoring by voice",
        kind=ServiceKind.REMOTE,
        duration_minutes=10,
        step_minutes=1,
        base_price_fen=RATE,
        call_rules={"grace_seconds": 0, "billing": "per_second", "reminders": []},
    )
    consultant = Provider.objects.create(
        user=make_user("Tutor Xu"), merchant=merchant, display_name="Xu", verified=True
    )
    consultant.services.add(service)
    for day in range(7):
        WorkingHours.objects.create(
            provider=consultant, weekday=day, start=dt.time(0), end=dt.time(23, 59)
        )
    customer = make_user("Student Ma")
    top_up(customer, 20_000)
    booking = book_provider(
        actor=customer,
        service_id=service.pk,
        provider_id=consultant.pk,
        starts_at=next_start(3),
        minutes=10,
    )
    return move_to_now(booking), customer, consultant.user


@pytest.mark.django_db(transaction=True)
def test_two_browsers_talk_and_the_bill_matches_the_record(booked_call, playwright_running):
    booking, customer, consultant = booked_call
    tokens = {
        "customer": issue_token(user=customer, via="password")[0],
        "consultant": issue_token(user=consultant, via="password")[0],
    }
    server = LiveServer(current_database_url(), asgi=True).start()
    try:
        with launched(playwright_running, *MEDIA, "--allow-loopback-in-peer-connection") as browser:
            pages = {}
            for side in ("customer", "consultant"):
                page = browser.new_context().new_page()
                page.on("console", lambda m, side=side: CONSOLE.append(f"{side}: {m.text}"))
                page.goto(f"{server.url}/calls/{booking.pk}/#token={tokens[side]}")
                pages[side] = page
            for side, page in pages.items():
                assert wait_for(page, "window.yuyueCall.rtc === 'connected'"), side
                assert wait_for(
                    page, "window.yuyueCall.state && window.yuyueCall.state.status === 'live'"
                )
            # talk a little: at least 6 metered seconds (the meter runs once both pages report
            # audio, which a loaded machine takes a moment for; pages beat every second)
            wait_for(pages["customer"], "window.yuyueCall.state.elapsed_seconds >= 6", 30)
            shown = pages["customer"].evaluate("window.yuyueCall.state")
            assert shown["elapsed_seconds"] >= 5 and shown["cost_fen"] >= 50
            pages["customer"].click("#hangup")
            ended = {side: wait_for(page, "window.yuyueCall.ended") for side, page in pages.items()}
            banner = pages["customer"].inner_text("#ended")
            # reopened after the end, the page shows the call's bill, not 00:00 / ¥0.00
            again = browser.new_context().new_page()
            again.goto(f"{server.url}/calls/{booking.pk}/#token={tokens['customer']}")
            reopened = wait_for(again, "window.yuyueCall.ended")
            reopened_page = {k: again.inner_text(f"#{k}") for k in ("elapsed", "cost", "ended")}
            again.wait_for_timeout(300)  # the socket has closed: the bill is still what shows
            reopened_status = again.inner_text("#status")
            browser.close()
    finally:
        server.stop()

    call = CallSession.objects.get(booking=booking)
    assert call.status == "ended" and call.end_reason == "hangup_customer"
    assert call.metered_seconds >= 6
    assert call.charged_fen == call.metered_seconds * RATE // 60
    for side in ("customer", "consultant"):
        assert ended[side]["charged_fen"] == call.charged_fen
        assert ended[side]["seconds"] == call.metered_seconds
    assert f"¥{call.charged_fen / 100:.2f}" in banner
    assert (reopened["seconds"], reopened["charged_fen"]) == (
        call.metered_seconds,
        call.charged_fen,
    )
    assert reopened_page["cost"] == f"¥{call.charged_fen / 100:.2f}"
    assert reopened_page["elapsed"] != "00:00"
    assert f"¥{call.charged_fen / 100:.2f}" in reopened_page["ended"]
    assert "disconnected" not in reopened_status
    cash = wallet(customer.pk)
    assert (cash.balance, cash.held) == (20_000 - call.charged_fen, 0)
    booking.refresh_from_db()
    assert (booking.status, booking.price_fen) == (BookingStatus.COMPLETED, call.charged_fen)
    kinds = list(CallEvent.objects.filter(call=call).values_list("party", "kind"))
    assert ("customer", "join") in kinds and ("consultant", "join") in kinds
    # the meter started when both pages said their audio was connected, not when they joined
    events = {(e.party, e.kind): e.at for e in CallEvent.objects.filter(call=call).order_by("-at")}
    audio = max(events["customer", "media"], events["consultant", "media"])
    assert (
        events["system", "live"]
        == audio
        > max(events["customer", "join"], events["consultant", "join"])
    )
    assert ("customer", "hangup") in kinds and kinds.count(("system", "ended")) == 1


@pytest.mark.django_db(transaction=True)
def test_the_call_page_signs_in_by_itself_and_refuses_strangers(booked_call, playwright_running):
    from yuyue.accounts.models import User

    booking, customer, _ = booked_call
    stranger = make_user("Stranger Fu", password="stranger-pass")
    # Read before Playwright starts: a query inside its block runs in a context of its own,
    # whose database connection nothing closes (it kept the test database from being dropped).
    phone = User.objects.get(pk=stranger.pk).phone
    server = LiveServer(current_database_url(), asgi=True).start()
    try:
        with launched(playwright_running, *MEDIA) as browser:
            page = browser.new_context().new_page()
            page.goto(f"{server.url}/calls/{booking.pk}/")
            assert page.is_visible("#login")
            page.fill("#phone", phone)
            page.fill("#password", "stranger-pass")
            page.click("#login button")
            page.wait_for_function(
                "document.getElementById('status').textContent.includes('not yours')"
            )
            assert page.evaluate("window.yuyueCall.state") is None  # nothing was shown
            browser.close()
    finally:
        server.stop()
    assert not CallSession.objects.get(booking=booking).events.exists()


@pytest.mark.django_db(transaction=True)
def test_a_call_not_open_yet_says_why_and_the_page_keeps_it(booked_call, playwright_running):
    booking, customer, _ = booked_call
    later = book_provider(
        actor=customer,
        service_id=booking.service_id,
        provider_id=booking.provider_id,
        starts_at=next_start(3) + dt.timedelta(minutes=30),  # after the first call's time
        minutes=10,
    )
    token = issue_token(user=customer, via="password")[0]
    server = LiveServer(current_database_url(), asgi=True).start()
    try:
        with launched(playwright_running, *MEDIA) as browser:
            page = browser.new_context().new_page()
            page.goto(f"{server.url}/calls/{later.pk}/#token={token}")
            refused = wait_for(page, "window.yuyueCall.refused")
            page.wait_for_timeout(300)  # after the socket closed
            status = page.inner_text("#status")
            hangup_disabled = page.is_disabled("#hangup")  # nothing to hang up
            shoot(page, "call-not-open")
            violations = axe_violations(page)
            browser.close()
    finally:
        server.stop()
    assert refused["code"] == "call_not_open"
    assert status == refused["detail"] and "10" in status  # the room opens 10 minutes before
    assert violations == [] and hangup_disabled
