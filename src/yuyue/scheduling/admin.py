from django.contrib import admin, messages

from yuyue.accounts.admin import ProviderAdmin
from yuyue.core.admin import ReadOnly
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone

from .models import AvailabilityException, ProviderReservation, SlotTemplate, TimeSlot, WorkingHours
from .services import close_slot, open_slot


def _slot_action(fn, label):
    def action(modeladmin, request, queryset):
        for slot in queryset.select_related("service__merchant"):
            try:
                fn(actor=request.user, slot=slot)
            except DomainError as exc:
                messages.error(request, f"{slot}: {exc.message()}")

    action.short_description = label
    action.__name__ = fn.__name__
    return action


@admin.register(TimeSlot)
class TimeSlotAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "service",
        "hall",
        "local_start",
        "capacity",
        "booked",
        "cancelled",
        "cancelled_by_staff",
        "status",
    ]
    list_filter = ["status", "service__merchant", "service", "hall"]
    date_hierarchy = "starts_at"
    readonly_fields = ["booked", "cancelled", "cancelled_by_staff", "status"]
    actions = [_slot_action(close_slot, "Close 关闭预约"), _slot_action(open_slot, "Open 开放预约")]

    @admin.display(description="start (merchant's zone)", ordering="starts_at")
    def local_start(self, slot):
        return slot.starts_at.astimezone(zone(slot.service.merchant.timezone)).strftime(
            "%Y-%m-%d %H:%M"
        )

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("service__merchant", "hall")


@admin.register(SlotTemplate)
class SlotTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "hall"]


@admin.register(ProviderReservation)
class ReservationAdmin(ReadOnly):
    list_display = ["provider", "starts_at", "ends_at", "blocked_until", "active"]
    list_filter = ["active"]


class HoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class ExceptionInline(admin.TabularInline):
    model = AvailabilityException
    extra = 0


# A provider's page in the back office shows their hours (accounts knows nothing of scheduling).
ProviderAdmin.inlines = [*ProviderAdmin.inlines, HoursInline, ExceptionInline]
