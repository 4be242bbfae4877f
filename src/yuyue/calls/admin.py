from django.contrib import admin

from .models import CallEvent, CallSession


class CallEventInline(admin.TabularInline):
    model = CallEvent
    extra = 0
    can_delete = False
    readonly_fields = ("at", "party", "kind", "detail")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(CallSession)
class CallSessionAdmin(admin.ModelAdmin):
    """The call record. Refunds go through the API (`/api/ops/calls/{id}/refund`), which books
    them in the ledger; nothing here changes money."""

    list_display = (
        "booking",
        "status",
        "metered_seconds",
        "charged_fen",
        "refunded_fen",
        "end_reason",
        "first_live_at",
        "ended_at",
    )
    list_filter = ("status", "end_reason")
    search_fields = ("booking__id",)
    inlines = [CallEventInline]
    readonly_fields = [f.name for f in CallSession._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
