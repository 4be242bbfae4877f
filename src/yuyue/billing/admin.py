from django.contrib import admin, messages
from django.http import HttpResponse
from django.utils.html import format_html, format_html_join

from yuyue.core.admin import ReadOnly
from yuyue.core.errors import DomainError

from .models import (
    Entry,
    Hold,
    LedgerAccount,
    MembershipLevel,
    PointsEntry,
    ReconciliationRun,
    SandboxTransaction,
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
    """A plan's amounts are fixed once it exists (payments started under them are credited under
    them): retire it and create another to change the offer."""

    list_display = ("name", "pay_fen", "bonus_fen", "active")
    list_filter = ("active",)

    def get_readonly_fields(self, request, obj=None):
        return ("pay_fen", "bonus_fen") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(MembershipLevel)
class MembershipLevelAdmin(admin.ModelAdmin):
    """Platform levels (no merchant) and merchants' own; an order gets the better of the two."""

    list_display = ("name", "merchant", "min_spend_fen", "discount_bp")
    list_filter = (("merchant", admin.EmptyFieldListFilter),)
    list_select_related = ("merchant",)
    raw_id_fields = ("merchant",)


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


@admin.register(ReconciliationRun)
class ReconciliationRunAdmin(ReadOnly):
    """A day's reconciliation with a gateway (the nightly job's or an operator's): read here,
    run again or download as .xlsx with the actions."""

    list_display = ["day", "gateway", "ok", "matched", "problems", "ran_at"]
    list_filter = ["gateway", "ok"]
    date_hierarchy = "day"
    fields = ["gateway", "day", "ran_at", "ok", "matched", "discrepancy_table"]
    readonly_fields = fields
    actions = ["reconcile_again", "download_xlsx"]

    @admin.display(description="Discrepancies 差异")
    def problems(self, run):
        return len(run.discrepancies)

    @admin.display(description="Discrepancies 差异")
    def discrepancy_table(self, run):
        if not run.discrepancies:
            return "—"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    p.get("type", ""),
                    p.get("kind", ""),
                    p.get("reference", p.get("account", p.get("transfer", ""))),
                    p.get("out_trade_no", ""),
                    p.get("amount_fen", p.get("balance_fen", "")),
                    p.get("ours_fen", p.get("entries_fen", "")),
                )
                for p in run.discrepancies
            ),
        )
        return format_html(
            "<table><tr><th>type</th><th>kind</th><th>reference</th><th>order no.</th>"
            "<th>gateway fen</th><th>ours fen</th></tr>{}</table>",
            rows,
        )

    @admin.action(description="Reconcile again 重新对账")
    def reconcile_again(self, request, queryset):
        from .reports import reconcile

        for run in queryset:
            try:
                again = reconcile(day=run.day, gateway=run.gateway, actor=request.user)
            except DomainError as exc:
                messages.error(request, f"{run.gateway} {run.day}: {exc.message()}")
                continue
            messages.info(
                request, f"{again}: {again.matched} matched, {len(again.discrepancies)} problems"
            )

    @admin.action(description="Download .xlsx 下载")
    def download_xlsx(self, request, queryset):
        from .reports import reconciliation_xlsx
        from .reports_api import XLSX

        run = queryset.order_by("-day").first()
        response = HttpResponse(reconciliation_xlsx(run), content_type=XLSX)
        response["Content-Disposition"] = (
            f'attachment; filename="reconciliation-{run.gateway}-{run.day}.xlsx"'
        )
        return response


@admin.register(SandboxTransaction)
class SandboxTransactionAdmin(ReadOnly):
    """The sandbox gateway's own book (the outside party's record reconciliation compares)."""

    list_display = ["at", "kind", "reference", "out_trade_no", "amount_fen"]
    list_filter = ["kind"]
    search_fields = ["reference", "out_trade_no"]
