from django.contrib import admin

from .models import PriceList, PriceListItem


class PriceListItemInline(admin.TabularInline):
    model = PriceListItem
    extra = 0


@admin.register(PriceList)
class PriceListAdmin(admin.ModelAdmin):
    list_display = ("name", "merchant", "valid_from", "valid_until", "active")
    list_filter = ("active", "merchant")
    inlines = [PriceListItemInline]
