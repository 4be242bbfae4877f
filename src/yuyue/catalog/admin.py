from django.contrib import admin, messages

from yuyue.core.errors import DomainError

from .models import Area, Category, FormField, Hall, Merchant, MerchantStatus, Service
from .services import set_merchant_status


class HallInline(admin.TabularInline):
    model = Hall
    extra = 0


def _status_action(status: str, label: str):
    def action(modeladmin, request, queryset):
        for merchant in queryset:
            try:
                set_merchant_status(actor=request.user, merchant=merchant, status=status)
            except DomainError as exc:
                messages.error(request, f"{merchant}: {exc.message()}")

    action.short_description = label
    action.__name__ = f"make_{status}"
    return action


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "timezone", "dispatch_policy", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    readonly_fields = ["status"]
    inlines = [HallInline]
    actions = [
        _status_action(MerchantStatus.ACTIVE, "Approve 审核通过"),
        _status_action(MerchantStatus.SUSPENDED, "Suspend 暂停"),
    ]


class FormFieldInline(admin.TabularInline):
    model = FormField
    extra = 0


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "kind", "duration_minutes", "base_price_fen", "active"]
    list_filter = ["kind", "active", "merchant"]
    search_fields = ["name"]
    inlines = [FormFieldInline]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]


@admin.register(Hall)
class HallAdmin(admin.ModelAdmin):
    list_display = ["name", "merchant", "active"]
    list_filter = ["merchant"]


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    """The districts a customer can choose when their browser does not say where they are."""

    list_display = ["city", "name", "lat", "lng", "position"]
    list_editable = ["position"]
