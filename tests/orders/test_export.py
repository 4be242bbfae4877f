"""Exporting tomorrow's bookings to Excel, as a hall owner does."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import api_for, make_user
from yuyue.catalog.models import FieldType, FormField
from yuyue.core.models import AuditLog
from yuyue.scheduling.models import TimeSlot

SH = ZoneInfo("Asia/Shanghai")
VALID_ID = "11010519491231002X"


@pytest.fixture
def booked(hall_service, hall, tomorrow_local):
    FormField.objects.create(service=hall_service, key="name", label="姓名", type=FieldType.TEXT)
    FormField.objects.create(
        service=hall_service, key="id_number", label="身份证号", type=FieldType.ID_NUMBER
    )
    start = dt.datetime.combine(tomorrow_local, dt.time(9), tzinfo=SH)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=10,
    )
    status, body = api_for(make_user("Guest Ma")).post(
        "/api/bookings",
        {
            "slot_id": slot.pk,
            "places": 2,
            "participants": [
                {"answers": {"name": "张三", "id_number": VALID_ID}},
                {"answers": {"name": "李四", "id_number": VALID_ID}},
            ],
        },
    )
    assert status == 201, body
    return body


def sheet(user, merchant, day):
    status, content = api_for(user).get(
        f"/api/merchants/{merchant.pk}/bookings/export.xlsx",
        {"date_from": day.isoformat(), "date_to": day.isoformat()},
    )
    assert status == 200
    ws = load_workbook(io.BytesIO(content)).active
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_owner_export_one_row_per_participant(owner, merchant, booked, tomorrow_local):
    rows = sheet(owner, merchant, tomorrow_local)
    header, data = rows[0], rows[1:]
    assert header[-2:] == ["姓名", "身份证号"]
    assert len(data) == 2
    col = {h: i for i, h in enumerate(header)}
    assert [r[col["姓名"]] for r in data] == ["张三", "李四"]
    # date and time cells (sortable), in Shanghai time although stored in UTC
    assert data[0][col["Start 开始"]] == dt.time(9, 0)
    assert data[0][col["End 结束"]] == dt.time(10, 0)
    assert data[0][col["Date 日期"]] == dt.datetime.combine(tomorrow_local, dt.time())
    booked_at = data[0][col["Booked at 预约时间"]]
    assert isinstance(booked_at, dt.datetime) and booked_at.tzinfo is None
    assert abs(booked_at.replace(tzinfo=SH) - dt.datetime.now(SH)) < dt.timedelta(minutes=5)
    assert data[0][col["身份证号"]] == VALID_ID
    assert data[0][col["Code 核销码"]] == booked["code"]
    assert AuditLog.objects.filter(action="bookings.export").exists()


def test_clerk_export_is_masked(clerk, merchant, booked, tomorrow_local):
    rows = sheet(clerk, merchant, tomorrow_local)
    col = {h: i for i, h in enumerate(rows[0])}
    assert rows[1][col["身份证号"]] == "1101**********002X"
    assert "****" in rows[1][col["Customer phone 客户电话"]]


def test_strangers_cannot_export(customer, merchant, booked):
    status, body = api_for(customer).get(f"/api/merchants/{merchant.pk}/bookings/export.xlsx")
    assert (status, body["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    "name",
    [
        '=HYPERLINK("http://x","王")',
        "+1+cmd|' /C calc'!A0",
        "-2+3",
        "@SUM(1,1)",
        "\t=1+1",
        "\r=1+1",
    ],
)
def test_text_that_looks_like_a_formula_stays_text(owner, merchant, hall_service, hall, name):
    """Formula injection: what a customer typed is written as text, never as a formula."""
    FormField.objects.create(service=hall_service, key="name", label="姓名", type=FieldType.TEXT)
    start = dt.datetime.now(SH).replace(microsecond=0) + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    guest = make_user(name)  # the customer's own name, too
    status, body = api_for(guest).post(
        "/api/bookings", {"slot_id": slot.pk, "participants": [{"answers": {"name": name}}]}
    )
    assert status == 201, body
    status, content = api_for(owner).get(
        f"/api/merchants/{merchant.pk}/bookings/export.xlsx",
        {"date_from": start.date().isoformat(), "date_to": start.date().isoformat()},
    )
    assert status == 200
    ws = load_workbook(io.BytesIO(content)).active
    header = [c.value for c in ws[1]]
    for column in ("姓名", "Customer 客户"):
        cell = ws.cell(2, header.index(column) + 1)
        assert (cell.value.strip(), cell.data_type) == (name.strip(), "s")
        assert cell.quotePrefix
    with zipfile.ZipFile(io.BytesIO(content)) as xlsx:
        assert "<f>" not in xlsx.read("xl/worksheets/sheet1.xml").decode()  # no formula at all
