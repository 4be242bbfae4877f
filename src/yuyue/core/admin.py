from django.contrib import admin

from .models import AuditLog, IdempotencyRecord


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnly):
    list_display = ["at", "actor", "action", "target_type", "target_id"]
    list_filter = ["action", "target_type"]
    search_fields = ["action", "target_id"]
    date_hierarchy = "at"


@admin.register(IdempotencyRecord)
class IdempotencyAdmin(ReadOnly):
    list_display = ["created_at", "user", "scope", "key", "status"]
