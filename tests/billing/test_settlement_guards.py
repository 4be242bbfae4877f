"""Settlement never splits money a refund is owed, and a refund never takes money settlement or
a kept fee already moved out of escrow: both claim under the order's row lock, settlement waits
while a refund of the order is claimed but not posted, refunds after settlement or a kept rest are
refused. Otherwise an order's refund would be paid from other orders' escrow."""

from __future__ import annotations

import datetime as dt
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from tests.billing.fake_gateways import FakeWeChatPay
from tests.billing.test_payments import book
from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Refund, Transfer
from yuyue.billing.refunds import escrow_held
from yuyue.billing.settlement import settle_order
from yuyue.orders.models import Booking


@pytest.fixture
def wechat(settings):
    fake = FakeWeChatPay().start()
    settings.YUYUE_WECHATPAY = fake.settings()
    yield fake
    fake.stop()


class _Down(BaseHTTPRequestHandler):
    """WeChat Pay having a bad moment: every request answered with a 500."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = b'{"code":"SYSTEM_ERROR","message":"try again"}'
        self.send_response(500)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def wechat_down():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Down)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.mark.django_db(transaction=True)
def test_settlement_waits_while_a_refund_is_in_flight(
    wechat, wechat_down, settings, customer, open_slot, merchant, operator
):
    """WeChat Pay fails when an operator refunds part of an order: the refund stays
    claimed (the money is owed back) but is not posted. Settlement must not split the whole of
    what escrow holds then — it would hand out the refund's money and the refund, once done,
    would take it from other orders' escrow — so it waits and comes back later."""
    from django_tasks_db.models import DBTaskResult

    from tests.billing.test_gateways import post_notify, start

    merchant.commission_bp = 1000
    merchant.save()
    customer.wx_openid = "o-inflight"
    customer.save()
    order = book(customer, open_slot)
    status, paid = start(customer, order["id"], "wechat")
    assert status == 201, paid
    assert post_notify("wechat", *wechat.notification(paid["out_trade_no"]))[0] == 200
    assert escrow_held(order["id"]) == 2000

    settings.YUYUE_WECHATPAY = {
        "platform": {**settings.YUYUE_WECHATPAY["platform"], "api_base": wechat_down}
    }
    status, problem = api_for(operator).post(
        f"/api/ops/bookings/{order['id']}/refunds",
        {"amount_fen": 500, "reason": "part"},
        headers={"Idempotency-Key": "inflight"},
    )
    assert status >= 500 and problem["code"] == "gateway_error", problem
    claimed = Refund.objects.get()
    assert claimed.amount_fen == 500 and not claimed.gateway_refund_id
    assert not Transfer.objects.filter(key=f"refund:{claimed.key}").exists()

    Booking.objects.filter(pk=order["id"]).update(status="checked_in")
    assert settle_order(booking_id=order["id"]) is None
    assert escrow_held(order["id"]) == 2000  # nothing split while 500 of it is owed back
    assert ledger.account(AccountKind.PLATFORM_REVENUE).balance == 0
    again = DBTaskResult.objects.get(status="READY", task_path__endswith="settle_order_job")
    assert again.args_kwargs["args"] == [order["id"]]
    assert again.run_after > timezone.now() + dt.timedelta(minutes=9)

    settings.YUYUE_WECHATPAY = wechat.settings()  # WeChat Pay is back: the retry finishes it
    status, body = api_for(operator).post(
        f"/api/ops/bookings/{order['id']}/refunds",
        {"amount_fen": 500, "reason": "part"},
        headers={"Idempotency-Key": "inflight"},
    )
    assert status == 201 and body["gateway_refund_id"], body
    assert escrow_held(order["id"]) == 1500
    assert settle_order(booking_id=order["id"]) is not None
    assert escrow_held(order["id"]) == 0
    assert ledger.account(AccountKind.PLATFORM_REVENUE).balance == 150  # 10 % of 1500


def test_no_refund_once_what_escrow_held_was_kept(customer, open_slot, operator):
    """A no-show's kept share has left escrow for commission and the merchant: a refund after
    it would be paid from other orders' escrow, so it is refused like one after settlement."""
    from tests.billing.test_loyalty import pay_wallet
    from tests.billing.test_payments import top_up
    from yuyue.billing.refunds import settle_no_show

    open_slot.service.refund_rules = {"no_show_percent": 50}
    open_slot.service.save()
    top_up(customer, 5000)
    order, other = book(customer, open_slot), book(customer, open_slot)
    for paid in (order, other):  # the other order's 2000 stays in escrow
        assert pay_wallet(customer, paid["id"], no_coupon=True)[0] == 200
    Booking.objects.filter(pk=order["id"]).update(status="no_show")
    settle_no_show(booking_id=order["id"])
    assert escrow_held(order["id"]) == 0
    status, problem = api_for(operator).post(
        f"/api/ops/bookings/{order['id']}/refunds",
        {"amount_fen": 100, "reason": "goodwill"},
        headers={"Idempotency-Key": "after-kept"},
    )
    assert (status, problem["code"]) == (409, "order_settled")
    assert escrow_held(order["id"]) == 0 and not Refund.objects.filter(amount_fen=100).exists()
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == escrow_held(other["id"]) == 2000
