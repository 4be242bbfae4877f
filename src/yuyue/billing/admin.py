from django.contrib import admin

from yuyue.core.admin import ReadOnly

from .models import (
    Entry,
    Hold,
    LedgerAccount,
    MembershipLevel,
    PointsEntry,
    PriceList,
    PriceListItem,
    TopUpPlan,
    Transfer,
)


class EntryInline(admin.TabularInline):
    model = Entry
    extra = 0
    can_delete = False
    readonly_fields = ["account", "amount"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(LedgerAccount)
class AccountAdmin(ReadOnly):
    list_display = ["code", "kind", "balance", "held"]
    list_filter = ["kind"]
    search_fields = ["code"]


@admin.register(Transfer)
class TransferAdmin(ReadOnly):
    list_display = ["created_at", "kind", "key", "booking"]
    list_filter = ["kind"]
    search_fields = ["key"]
    inlines = [EntryInline]


@admin.register(Hold)
class HoldAdmin(ReadOnly):
    list_display = ["key", "account", "amount", "status", "posted_amount", "created_at"]
    list_filter = ["status"]


@admin.register(TopUpPlan)
class TopUpPlanAdmin(admin.ModelAdmin):
    list_display = ("name", "pay_fen", "bonus_fen", "active")
    list_filter = ("active",)


@admin.register(MembershipLevel)
class MembershipLevelAdmin(admin.ModelAdmin):
    list_display = ("name", "min_spend_fen", "discount_bp")


@admin.register(PointsEntry)
class PointsEntryAdmin(admin.ModelAdmin):
    """Points move only through payments, refunds and expiry: read only here."""

    list_display = ("customer", "kind", "delta", "remaining", "expires_at", "booking", "created_at")
    list_filter = ("kind",)
    readonly_fields = [f.name for f in PointsEntry._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant", "valid_from", "valid_until", "active")
    list_filter = ("active", "merchant")
    inlines = [PriceListItemInline]
