from django.contrib import admin

from yuyue.core.admin import ReadOnly

from .models import Entry, Hold, LedgerAccount, Transfer


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
