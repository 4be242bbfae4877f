from django import forms
from django.contrib import admin, messages
from django.shortcuts import render

from yuyue.core.crypto import mask_id_number, mask_phone
from yuyue.core.errors import DomainError

from .models import Booking, BookingEvent, Participant
from .services import cancel_booking_by_staff


class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    fields = ["position", "masked_answers"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="answers (masked)")
    def masked_answers(self, p):
        kinds = {f.key: f.type for f in p.booking.service.form_fields.all()}
        out = []
        for key, value in (p.answers or {}).items():
            if kinds.get(key) == "id_number":
                value = mask_id_number(value)
            elif kinds.get(key) == "phone":
                value = mask_phone(value)
            out.append(f"{key}: {value}")
        return "; ".join(out)


class EventInline(admin.TabularInline):
    model = BookingEvent
    extra = 0
    readonly_fields = [
        "step",
        "from_status",
        "to_status",
        "actor",
        "role",
        "at",
        "lat",
        "lng",
        "note",
    ]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


@admin.action(description="Cancel with a reason 取消预约")
def cancel_with_reason(modeladmin, request, queryset):
    if "apply" in request.POST:
        form = ReasonForm(request.POST)
        if form.is_valid():
            for booking in queryset:
                try:
                    cancel_booking_by_staff(
                        actor=request.user, booking=booking, reason=form.cleaned_data["reason"]
                    )
                except DomainError as exc:
                    messages.error(request, f"booking {booking.pk}: {exc.message()}")
            return None
    return render(
        request,
        "admin/orders/cancel_reason.html",
        {"bookings": queryset, "form": ReasonForm(), "action": "cancel_with_reason"},
    )


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "channel",
        "status",
        "payment_status",
        "merchant",
        "service",
        "starts_at",
        "places",
        "price_fen",
    ]
    list_filter = ["status", "channel", "payment_status", "merchant", "service"]
    date_hierarchy = "starts_at"
    search_fields = ["code"]
    inlines = [ParticipantInline, EventInline]
    actions = [cancel_with_reason]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Booking._meta.fields]
