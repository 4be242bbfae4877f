"""Demo data: a service hall with 3 halls and 14 days of slots, a home-cleaning company with 10
providers, customers and an operator. Running it again adds nothing twice."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from yuyue.accounts.models import MerchantStaff, Provider, StaffRole, User
from yuyue.accounts.phones import normalize_phone, phone_index
from yuyue.catalog.models import (
    Area,
    Category,
    DeadlineRule,
    FieldType,
    FormField,
    Hall,
    Merchant,
    MerchantStatus,
    Service,
    ServiceKind,
)
from yuyue.core.timeutil import zone
from yuyue.demo import engagement
from yuyue.scheduling.models import SlotTemplate, WorkingHours
from yuyue.scheduling.services import fill_slots_from_template

PASSWORD = "yuyue-demo-2026"
PEOPLE = {
    "operator": ("+8613800000001", "运营 Operator Wang"),
    "hall_owner": ("+8613800000002", "服务中心主任 Owner Zhao"),
    "hall_clerk": ("+8613800000003", "窗口 Clerk Sun"),
    "clean_owner": ("+8613800000004", "洁家到家 Owner Qian"),
    "customer1": ("+8613900000001", "顾客 Chen Jing"),
    "customer2": ("+8613900000002", "顾客 Li Lei"),
    "customer3": ("+8613900000003", "顾客 Han Meimei"),
    "consultant1": ("+8613600000001", "律师 Lawyer Gao"),
    "consultant2": ("+8613600000002", "心理咨询师 Counsellor Xu"),
    "applicant": ("+8613500000001", "申请人 Applicant Ma"),
    "seller": ("+8613500000002", "想开店的 Seller Tang"),
}
DEMO_WALLET_FEN = 20_000  # each demo customer starts with ¥200 to pay for calls
PROVIDER_NAMES = [
    "刘阿姨 Liu",
    "张阿姨 Zhang",
    "王师傅 Wang",
    "赵阿姨 Zhao",
    "孙师傅 Sun",
    "周阿姨 Zhou",
    "吴师傅 Wu",
    "郑阿姨 Zheng",
    "冯师傅 Feng",
    "陈阿姨 Chen",
]
PROVIDER_PHONES = [f"+86137000000{i:02d}" for i in range(len(PROVIDER_NAMES))]


AREAS = [  # district centres
    ("上海", "黄浦", 31.2317, 121.4846),
    ("上海", "静安", 31.2290, 121.4480),
    ("上海", "徐汇", 31.1883, 121.4365),
    ("上海", "长宁", 31.2204, 121.4245),
    ("上海", "浦东", 31.2215, 121.5440),
    ("上海", "虹口", 31.2646, 121.5050),
    ("北京", "东城", 39.9288, 116.4163),
    ("北京", "朝阳", 39.9219, 116.4436),
    ("北京", "海淀", 39.9599, 116.2981),
]


def person(phone: str, name: str, **extra) -> User:
    user = User.objects.filter(phone_index=phone_index(normalize_phone(phone))).first()
    if user is None:
        user = User.objects.create_user(phone=phone, password=PASSWORD, name=name, **extra)
    return user


class Command(BaseCommand):
    help = "Load the demo merchants, people and calendars (idempotent)."

    @transaction.atomic
    def handle(self, *args, **options):
        ppl = {k: person(p, n) for k, (p, n) in PEOPLE.items() if k != "operator"}
        operator = person(*PEOPLE["operator"], is_operator=True, is_staff=True, is_superuser=True)
        ppl["operator"] = operator

        gov, _ = Category.objects.get_or_create(
            slug="public-services", defaults={"name": "政务服务 Public services"}
        )
        created_slots = self._citizen_hall(ppl, gov)
        self._areas()
        self._cleanhome(ppl)
        self._application(ppl)
        self._consultations(ppl, timezone.now().year)  # tops up the customers' wallets too
        engagement.reviews(ppl)
        engagement.case(ppl)
        engagement.chat(ppl)
        engagement.announcements(ppl)
        engagement.training(ppl)
        engagement.past_orders(ppl)
        self._store_and_promotions(ppl)  # last: it summarises the figures of every order made
        self.stdout.write(
            f"demo ready: {Merchant.objects.count()} merchants, "
            f"{created_slots} new slots; password for every demo login: {PASSWORD}"
        )

    def _areas(self) -> None:
        """Districts to choose from when the browser does not say where the customer is."""
        for i, (city, name, lat, lng) in enumerate(AREAS):
            Area.objects.update_or_create(
                city=city, name=name, defaults={"lat": lat, "lng": lng, "position": i}
            )

    def _citizen_hall(self, ppl: dict, gov: Category) -> int:
        """The hall: its staff, three halls, passports (with a booking form) and the social
        insurance desk, and two weeks of slots. Returns how many slots were new."""
        hall_m, _ = Merchant.objects.get_or_create(
            slug="citizen-hall",
            defaults=dict(
                name="市民服务中心 Citizen Service Hall",
                status=MerchantStatus.ACTIVE,
                address="上海市浦东新区合欢路2号",
                lat=31.2204,
                lng=121.5443,
                timezone="Asia/Shanghai",
            ),
        )
        MerchantStaff.objects.get_or_create(
            user=ppl["hall_owner"], merchant=hall_m, defaults={"role": StaffRole.OWNER}
        )
        MerchantStaff.objects.get_or_create(
            user=ppl["hall_clerk"], merchant=hall_m, defaults={"role": StaffRole.CLERK}
        )
        halls = [
            Hall.objects.get_or_create(merchant=hall_m, name=n)[0]
            for n in ("A 厅 Hall A", "B 厅 Hall B", "C 厅 Hall C")
        ]
        passport, created = Service.objects.get_or_create(
            merchant=hall_m,
            name="出入境证件办理 Passport & travel permits",
            defaults=dict(
                kind=ServiceKind.HALL_SLOT,
                category=gov,
                duration_minutes=60,
                per_user_limit=1,
                max_places_per_booking=3,
                deadline_rule=DeadlineRule.BEFORE_START,
                deadline_minutes=30,
            ),
        )
        if created:
            for i, (key, label, ftype, extra) in enumerate(
                [
                    ("name", "姓名 Name", FieldType.TEXT, {}),
                    ("phone", "手机号 Phone", FieldType.PHONE, {}),
                    ("id_number", "身份证号 ID number", FieldType.ID_NUMBER, {}),
                    (
                        "purpose",
                        "事项 Purpose",
                        FieldType.CHOICE,
                        {"choices": ["首次申请 first", "换发 renewal", "补发 replacement"]},
                    ),
                ]
            ):
                FormField.objects.create(
                    service=passport, key=key, label=label, type=ftype, position=i, **extra
                )
        return self._hall_slots(ppl["operator"], hall_m, gov, passport, halls)

    def _hall_slots(self, operator, hall_m, gov, passport, halls) -> int:
        social, _ = Service.objects.get_or_create(
            merchant=hall_m,
            name="社保咨询 Social insurance desk",
            defaults=dict(
                kind=ServiceKind.HALL_SLOT,
                category=gov,
                duration_minutes=60,
                per_user_limit=2,
                deadline_rule=DeadlineRule.SLOT_END,
            ),
        )
        rows = [
            {
                "weekdays": [0, 1, 2, 3, 4, 5],
                "start": f"{h:02d}:00",
                "end": f"{h + 1:02d}:00",
                "capacity": 10,
            }
            for h in (9, 10, 11)
        ]
        rows += [
            {"weekdays": [0, 1, 2, 3, 4, 5], "start": "13:30", "end": "14:30", "capacity": 10},
            {"weekdays": [0, 1, 2, 3, 4, 5], "start": "14:30", "end": "15:30", "capacity": 10},
            {"weekdays": [0, 1, 2, 3, 4, 5], "start": "15:30", "end": "16:30", "capacity": 10},
            # The last hour takes everyone who comes (no capacity).
            {"weekdays": [0, 1, 2, 3, 4, 5], "start": "16:30", "end": "17:30", "capacity": None},
        ]
        today = timezone.now().astimezone(zone(hall_m.timezone)).date()
        created_slots = 0
        for service in (passport, social):
            for hall in halls if service is passport else halls[:1]:
                template, _ = SlotTemplate.objects.get_or_create(
                    service=service, hall=hall, name="工作日 Weekdays", defaults={"rows": rows}
                )
                created_slots += len(
                    fill_slots_from_template(
                        actor=operator,
                        template=template,
                        date_from=today,
                        date_to=today + dt.timedelta(days=13),
                    ).created
                )
        return created_slots

    def _cleanhome(self, ppl: dict) -> None:
        """CleanHome: two on-site services and ten verified cleaners around central Shanghai."""
        home, _ = Category.objects.get_or_create(
            slug="home-cleaning", defaults={"name": "家政保洁 Home cleaning"}
        )
        clean_m, _ = Merchant.objects.get_or_create(
            slug="cleanhome",
            defaults=dict(
                name="洁家到家 CleanHome",
                status=MerchantStatus.ACTIVE,
                address="上海市静安区南京西路1266号",
                lat=31.2304,
                lng=121.4737,
                timezone="Asia/Shanghai",
            ),
        )
        MerchantStaff.objects.get_or_create(
            user=ppl["clean_owner"], merchant=clean_m, defaults={"role": StaffRole.OWNER}
        )
        cleaning, _ = Service.objects.get_or_create(
            merchant=clean_m,
            name="日常保洁 Home cleaning (2 h)",
            defaults=dict(
                kind=ServiceKind.ON_SITE,
                category=home,
                duration_minutes=120,
                base_price_fen=12000,
                buffer_minutes=30,
                step_minutes=30,
                cancel_policy="before_start",
            ),
        )
        deep, _ = Service.objects.get_or_create(
            merchant=clean_m,
            name="深度保洁 Deep cleaning (4 h)",
            defaults=dict(
                kind=ServiceKind.ON_SITE,
                category=home,
                duration_minutes=240,
                base_price_fen=32000,
                buffer_minutes=30,
                step_minutes=30,
            ),
        )
        year = timezone.now().year
        for i, (phone, name) in enumerate(zip(PROVIDER_PHONES, PROVIDER_NAMES, strict=True)):
            user = person(phone, name)
            provider, made = Provider.objects.get_or_create(
                user=user,
                defaults=dict(
                    merchant=clean_m,
                    display_name=name,
                    gender="female" if "阿姨" in name else "male",
                    birth_year=year - 28 - i * 2,
                    experience_years=1 + i,
                    rating=4.5 + (i % 5) / 10,
                    verified=True,
                    lat=31.2304 + ((i % 5) - 2) * 0.02,
                    lng=121.4737 + ((i // 5) - 0.5) * 0.04,
                    service_radius_km=10,
                    # most on duty; some resting or off duty, as a real crew is
                    duty=("resting" if i % 4 == 3 else "off_duty" if i % 7 == 6 else "on_duty"),
                ),
            )
            if made:
                provider.services.add(cleaning, *([deep] if i % 2 == 0 else []))
                WorkingHours.objects.bulk_create(
                    WorkingHours(provider=provider, weekday=d, start=dt.time(8), end=dt.time(18))
                    for d in range(6)
                )

    def _application(self, ppl: dict) -> None:
        """Someone waiting for a review: an application to CleanHome with two documents."""
        import io

        from PIL import Image

        from yuyue.accounts.models import ProviderApplication
        from yuyue.catalog.onboarding import submit_application

        applicant = ppl["applicant"]
        if ProviderApplication.objects.filter(user=applicant).exists():
            return

        def picture(colour) -> bytes:
            out = io.BytesIO()
            Image.new("RGB", (480, 300), colour).save(out, "PNG")
            return out.getvalue()

        cleaning = Service.objects.get(merchant__slug="cleanhome", name__startswith="日常保洁")
        submit_application(
            actor=applicant,
            real_name="马丽",
            id_number="11010519491231002X",
            service_ids=[cleaning.pk],
            lat=31.2304,
            lng=121.4737,
            radius_km=6,
            price_fen=13800,
            merchant_id=cleaning.merchant_id,
            documents=[("photo", picture((210, 190, 170))), ("id_front", picture((225, 230, 240)))],
        )

    def _store_and_promotions(self, ppl: dict) -> None:
        """The hall's store page (announcement, introduction, opening hours), a coupon in the
        claim centre, a merchant application waiting for the operator, and the figures of the
        last fortnight summarised for the merchants' dashboards."""
        import datetime as dt
        import io

        from PIL import Image

        from yuyue.billing.coupons import create_coupon
        from yuyue.billing.figures import summarise_recent
        from yuyue.billing.models import Coupon
        from yuyue.catalog.models import MerchantApplication
        from yuyue.catalog.onboarding import submit_merchant_application

        hall_m = Merchant.objects.get(slug="citizen-hall")
        if not hall_m.introduction:
            hall_m.introduction = "办理护照、社保等业务，请按预约时间到场，携带身份证原件。"
            hall_m.announcement = "元旦假期（1月1日）暂停办理，预约请选其他日期。"
            hall_m.opening_hours = [
                {"weekday": d, "open": "09:00", "close": "17:30"} for d in range(6)
            ]
            hall_m.save()
        if not Coupon.objects.filter(merchant=hall_m).exists():
            now = timezone.now()
            create_coupon(
                actor=ppl["hall_owner"],
                merchant_id=hall_m.pk,
                name="新客立减 ¥5",
                kind="fixed",
                value_fen=500,
                new_customers_only=True,
                valid_from=now,
                valid_until=now + dt.timedelta(days=60),
                total_limit=500,
            )
        if not MerchantApplication.objects.filter(applicant=ppl["seller"]).exists():
            licence = io.BytesIO()
            Image.new("RGB", (900, 640), (244, 236, 214)).save(licence, "PNG")
            submit_merchant_application(
                actor=ppl["seller"],
                business_name="唐美美容 Tang Beauty",
                contact_name="唐女士",
                contact_phone="13500000002",
                address="上海市徐汇区淮海中路 1000 号",
                lat=31.2150,
                lng=121.4580,
                licence=licence.getvalue(),
            )
        summarise_recent(days=14)

    def _consultations(self, ppl: dict, year: int) -> None:
        """A consultancy selling voice calls by the minute, and money in the customers' wallets."""
        from yuyue.billing import ledger
        from yuyue.billing.models import AccountKind, Transfer
        from yuyue.billing.payments import wallet

        advice, _ = Category.objects.get_or_create(slug="advice", defaults={"name": "咨询 Advice"})
        counsel_m, _ = Merchant.objects.get_or_create(
            slug="mingli",
            defaults=dict(
                name="明理咨询 Mingli Counsel",
                status=MerchantStatus.ACTIVE,
                address="上海市黄浦区中山东一路18号",
                lat=31.2400,
                lng=121.4900,
                timezone="Asia/Shanghai",
            ),
        )
        call, _ = Service.objects.get_or_create(
            merchant=counsel_m,
            name="语音咨询 Advice by voice call",
            defaults=dict(
                kind=ServiceKind.REMOTE,
                category=advice,
                duration_minutes=30,
                step_minutes=15,
                base_price_fen=300,
                call_rules={"billing": "per_second", "grace_seconds": 20, "reminders": [15, 0]},
                refund_rules={"free_hours": 2, "fee_percent": 50, "no_show_percent": 50},
            ),
        )
        for key, rate, bio in (
            ("consultant1", 500, "婚姻家事、劳动合同 Family and labour law, 12 years."),
            ("consultant2", 300, "情绪与压力 Stress and anxiety, 8 years."),
        ):
            provider, made = Provider.objects.get_or_create(
                user=ppl[key],
                defaults=dict(
                    merchant=counsel_m,
                    display_name=PEOPLE[key][1],
                    experience_years=8,
                    bio=bio,
                    verified=True,
                    rate_per_minute_fen=rate,
                ),
            )
            if made:
                provider.services.add(call)
                WorkingHours.objects.bulk_create(
                    WorkingHours(provider=provider, weekday=d, start=dt.time(9), end=dt.time(21))
                    for d in range(7)
                )
        for key in ("customer1", "customer2", "customer3"):
            user = ppl[key]
            if not Transfer.objects.filter(key=f"demo:wallet:{user.pk}").exists():
                ledger.post_transfer(
                    key=f"demo:wallet:{user.pk}",
                    kind="top_up",
                    memo="demo money",
                    legs=[
                        (ledger.account(AccountKind.GATEWAY_CLEARING), -DEMO_WALLET_FEN),
                        (wallet(user.pk), DEMO_WALLET_FEN),
                    ],
                )
