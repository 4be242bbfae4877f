"""The demo's life after orders: reviews with a reply, an after-sales case, a chat and a question
to the desk, past orders to book again. Called by `load_demo`, after the merchants and people."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Service


def past_order(customer, service, provider, *, days_ago: int, code: str, **fields):
    """A chosen-provider order of the service that ended `days_ago` days ago, completed unless
    `fields` say otherwise (at the demo's Nanjing Road address by default)."""

    from yuyue.orders.models import Booking, BookingStatus, Channel

    end = timezone.now() - dt.timedelta(days=days_ago)
    values = {
        "status": BookingStatus.COMPLETED,
        "address": "上海市黄浦区南京东路 100 号",
        "lat": 31.2366,
        "lng": 121.4797,
        **fields,
    }
    return Booking.objects.create(
        customer=customer,
        merchant=service.merchant,
        service=service,
        provider=provider,
        channel=Channel.CHOSEN,
        starts_at=end - dt.timedelta(minutes=service.duration_minutes),
        ends_at=end,
        price_fen=service.base_price_fen,
        code=code,
        **values,
    )


def reviews(ppl: dict) -> None:
    """Three finished cleanings of last week, reviewed (one answered by the merchant)."""

    from yuyue.engagement.models import Review
    from yuyue.engagement.reviews import reply_review, write_review

    cleaning = Service.objects.get(merchant__slug="cleanhome", name__startswith="日常保洁")
    if Review.objects.filter(merchant=cleaning.merchant).exists():
        return
    said = [
        (5, 5, "阿姨很准时，厨房擦得特别干净。"),
        (4, 5, "整体不错，下次希望带自己的抹布。"),
        (5, 4, ""),
    ]
    providers = list(Provider.objects.filter(merchant=cleaning.merchant).order_by("pk")[:3])
    customers = [ppl["customer1"], ppl["customer2"], ppl["customer3"]]
    for i, (service_score, provider_score, text) in enumerate(said):
        booking = past_order(
            customers[i], cleaning, providers[i], days_ago=3 + i, code=f"DEMOREVIEW{i}"
        )
        review = write_review(
            actor=customers[i],
            booking_id=booking.pk,
            service_score=service_score,
            provider_score=provider_score,
            text=text,
            anonymous=i == 2,
        )
        if i == 1:
            reply_review(
                actor=ppl["clean_owner"], review_id=review.pk, text="谢谢建议，我们会备好工具。"
            )


def case(ppl: dict) -> None:
    """An after-sales case waiting for CleanHome's answer: yesterday's cleaning, paid from
    the wallet, a stain on the carpet."""

    from yuyue.billing.payments import pay_with_wallet
    from yuyue.engagement.cases import open_case
    from yuyue.engagement.models import Case
    from yuyue.orders.models import Booking, BookingStatus

    cleaning = Service.objects.get(merchant__slug="cleanhome", name__startswith="日常保洁")
    if Case.objects.filter(merchant=cleaning.merchant).exists():
        return
    customer = ppl["customer2"]
    provider = Provider.objects.filter(merchant=cleaning.merchant).order_by("pk")[3]
    booking = past_order(
        customer,
        cleaning,
        provider,
        days_ago=1,
        code="DEMOCASE01",
        status=BookingStatus.AWAITING_PAYMENT,
        payment_status="unpaid",
        address="上海市静安区南京西路 1266 号",
        lat=31.2290,
        lng=121.4480,
    )
    from yuyue.billing import ledger
    from yuyue.billing.models import AccountKind
    from yuyue.billing.payments import wallet

    with transaction.atomic():  # the money this order took, so the wallet still holds ¥200
        ledger.post_transfer(
            key=f"demo:case-order:{booking.pk}",
            kind="top_up",
            memo="demo money for the order under an after-sales case",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -booking.price_fen),
                (wallet(customer.pk), booking.price_fen),
            ],
        )
    pay_with_wallet(actor=customer, booking_id=booking.pk)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.COMPLETED)
    open_case(
        actor=customer,
        booking_id=booking.pk,
        reason="damage",
        text="擦地时把地毯弄上了清洁剂的污渍，希望退一部分费用。",
        amount_fen=cleaning.base_price_fen // 2,
    )


def past_orders(ppl: dict) -> None:
    """Deep cleanings customers 2 and 3 had last month (they had the daily cleaning too):
    customer 1, who had only the daily one, is offered the deep one as booked by customers
    like them, and everyone has something to book again."""

    from yuyue.orders.models import Booking

    deep = Service.objects.get(merchant__slug="cleanhome", name__startswith="深度保洁")
    if Booking.objects.filter(code__startswith="DEMOPAST").exists():
        return
    provider = Provider.objects.filter(merchant=deep.merchant).order_by("pk").first()
    for i, who in enumerate((ppl["customer2"], ppl["customer3"])):
        past_order(who, deep, provider, days_ago=20 + i, code=f"DEMOPAST{i:02d}")


def chat(ppl: dict) -> None:
    """A customer and the cleaner of last week's order talking (the last message not read
    yet), and a question to CleanHome's desk waiting for an answer."""
    from yuyue.engagement import chat
    from yuyue.engagement.models import Message
    from yuyue.orders.models import Booking

    if Message.objects.filter(client_key__startswith="demo:chat:").exists():
        return
    booking = Booking.objects.get(code="DEMOREVIEW0")
    customer, cleaner = ppl["customer1"], booking.provider.user
    talk = chat.open_order_chat(actor=customer, booking_id=booking.pk)
    said = [
        (customer, "阿姨您好，下周还能约您吗？我的电话 13800138000"),
        (cleaner, "可以的，周二上午九点我有空。"),
        (customer, "好的，那就周二，谢谢！"),
    ]
    for i, (who, text) in enumerate(said):
        message, _ = chat.send_message(
            actor=who, conversation_id=talk.pk, text=text, key=f"demo:chat:{i}"
        )
        if i < 2:
            reader = cleaner if who == customer else customer
            chat.mark_read(actor=reader, conversation_id=talk.pk, up_to=message.pk)
    desk = chat.open_support(actor=ppl["customer3"], merchant_id=booking.merchant_id)
    chat.send_message(
        actor=ppl["customer3"],
        conversation_id=desk.pk,
        text="请问周末上门要加价吗？",
        key="demo:chat:desk",
    )


def announcements(ppl: dict) -> None:
    """The platform tells customers about the holidays; the cleaning company tells its cleaners
    something; the service hall tells its customers about a closed morning."""
    from yuyue.catalog.models import Merchant
    from yuyue.engagement import announcements as said
    from yuyue.engagement.models import Announcement, Audience

    if Announcement.objects.exists():
        return
    month = timezone.now() + dt.timedelta(days=30)
    said.publish(
        actor=ppl["operator"],
        audience=Audience.CUSTOMERS,
        title="元旦期间服务照常 Open over New Year",
        body="上门服务与咨询照常预约；政务大厅 1 月 1 日休息。 Visits and calls as usual; "
        "the service hall is closed on 1 January.",
        ends_at=month,
    )
    clean = Merchant.objects.get(slug="cleanhome")
    said.publish(
        actor=ppl["clean_owner"],
        merchant_id=clean.pk,
        audience=Audience.PROVIDERS,
        title="入户请戴鞋套 Shoe covers in every home",
        body="新鞋套已到，请到门店领取。 New shoe covers at the shop: pick yours up.",
        ends_at=month,
    )


def training(ppl: dict) -> None:
    """CleanHome's required course: its crew have passed it; a newcomer takes it first."""
    from yuyue.catalog import training as courses
    from yuyue.catalog.models import Course, CourseCompletion, Merchant

    if Course.objects.exists():
        return
    clean = Merchant.objects.get(slug="cleanhome")
    course = courses.create_course(
        actor=ppl["clean_owner"],
        merchant_id=clean.pk,
        title="入户服务规范 Service in a customer's home",
        required=True,
        lessons=[
            {
                "title": "进门 At the door",
                "text": "敲门自我介绍，出示工牌，穿上鞋套。\nKnock, say who you are, show your "
                "badge, put shoe covers on.",
            },
            {
                "title": "离开 Leaving",
                "text": "请顾客验收，带走垃圾。\nAsk the customer to check the work; take the "
                "rubbish with you.",
            },
        ],
        questions=[
            {
                "text": "进门第一件事？ The first thing at the door?",
                "choices": ["直接开始打扫 Start cleaning", "自我介绍并出示工牌 Say who you are"],
                "answer": 1,
            }
        ],
    )
    CourseCompletion.objects.bulk_create(
        [
            CourseCompletion(provider=p, course=course)
            for p in Provider.objects.filter(merchant=clean)
        ]
    )
