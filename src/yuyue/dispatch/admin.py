from django.contrib import admin

from yuyue.core.admin import ReadOnly

from .models import Application, Breach, LocationPing, Need, Offer


@admin.register(Offer)
class OfferAdmin(ReadOnly):
    list_display = ["booking", "provider", "round_no", "status", "sent_at", "expires_at"]
    list_filter = ["status"]


@admin.register(Breach)
class BreachAdmin(ReadOnly):
    list_display = ["provider", "booking", "kind", "at"]


class ApplicationInline(admin.TabularInline):
    model = Application
    extra = 0
    can_delete = False
    readonly_fields = ["provider", "price_fen", "message", "status", "created_at"]


@admin.register(Need)
class NeedAdmin(admin.ModelAdmin):
    list_display = ["title", "customer", "category", "budget_fen", "status", "starts_at"]
    list_filter = ["status", "category"]
    inlines = [ApplicationInline]
    readonly_fields = ["status", "booking"]


@admin.register(LocationPing)
class LocationPingAdmin(ReadOnly):
    list_display = ["booking", "provider", "lat", "lng", "at"]
