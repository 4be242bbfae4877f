from django.contrib import admin

from .models import PriceList, PriceListItem, PublicDay


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant", "valid_from", "valid_until", "active")
    list_filter = ("active", "merchant")
    inlines = [PriceListItemInline]


@admin.register(PublicDay)
class PublicDayAdmin(admin.ModelAdmin):
    """Operators enter a year's holiday schedule here (or through /api/ops/public-days/{year})
    while the chinese-calendar package does not know it yet."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
