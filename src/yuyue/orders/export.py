"""Bookings to Excel: one row per participant, times in the merchant's zone, answers as columns."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from yuyue.accounts.auth import staff_role
from yuyue.accounts.models import StaffRole
from yuyue.catalog.models import FieldType, FormField
from yuyue.core.audit import audit
from yuyue.core.crypto import mask_id_number, mask_phone
from yuyue.core.sheets import LocalTime, append_row
from yuyue.core.timeutil import zone

BASE_COLUMNS = [
    "Booking 预约号",
    "Code 核销码",
    "Status 状态",
    "Service 服务",
    "Hall 服务厅",
    "Date 日期",
    "Start 开始",
    "End 结束",
    "Places 人数",
    "Participant 参与人",
    "Customer 客户",
    "Customer phone 客户电话",
    "Booked at 预约时间",
    "Cancelled at 取消时间",
    "Cancelled by 取消人",
    "Cancel reason 取消原因",
    "Checked in at 核销时间",
]


def export_bookings_xlsx(*, actor, merchant, bookings) -> bytes:
    """The booking list as .xlsx. Clerks see phone and ID numbers masked; owners and managers
    see them whole. The export itself is audited."""
    full = bool(getattr(actor, "is_operator", False)) or staff_role(actor, merchant.pk) in (
        StaffRole.OWNER,
        StaffRole.MANAGER,
    )
    tz = zone(merchant.timezone)
    bookings = list(
        bookings.select_related(
            "service", "slot__hall", "customer", "cancelled_by"
        ).prefetch_related("participants")
    )
    fields = list(
        FormField.objects.filter(service_id__in={b.service_id for b in bookings}).order_by(
            "position", "id"
        )
    )
    columns: dict[str, FormField] = {}
    for f in fields:
        columns.setdefault(f.key, f)

    def answer(field: FormField, value):
        if value is None:
            return ""
        if not full and field.type == FieldType.ID_NUMBER:
            return mask_id_number(str(value))
        if not full and field.type == FieldType.PHONE:
            return mask_phone(str(value))
        if field.type == FieldType.DATE:
            return dt.date.fromisoformat(value)  # a date cell
        return value

    wb = Workbook()
    ws = wb.active
    ws.title = "Bookings 预约"
    append_row(ws, BASE_COLUMNS + [f.label for f in columns.values()])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.freeze_panes = "A2"
    rows = 0
    for b in bookings:
        participants = list(b.participants.all()) or [None]
        for p in participants:
            answers = (p.answers or {}) if p else {}
            append_row(
                ws,
                [
                    b.pk,
                    b.code,
                    b.get_status_display(),
                    b.service.name,
                    b.slot.hall.name if b.slot_id else "",
                    b.starts_at.astimezone(tz).date(),
                    LocalTime(b.starts_at),
                    LocalTime(b.ends_at),
                    b.places,
                    (p.position + 1) if p else 1,
                    b.customer.name,
                    b.customer.phone if full else b.customer.masked_phone,
                    b.created_at,
                    b.cancelled_at,
                    str(b.cancelled_by) if b.cancelled_by_id else "",
                    b.cancel_reason,
                    b.checked_in_at,
                ]
                + [answer(f, answers.get(key)) for key, f in columns.items()],
                tz=tz,
            )
            rows += 1
    for i, header in enumerate(ws[1], start=1):
        ws.column_dimensions[get_column_letter(i)].width = max(12, min(40, len(header.value) + 4))
    audit(actor, "bookings.export", merchant, rows=rows, full=full)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
