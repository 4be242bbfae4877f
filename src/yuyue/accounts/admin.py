from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from yuyue.core.admin import ReadOnly
from yuyue.core.errors import DomainError

from .models import ApiToken, Credential, MerchantStaff, Provider, User
from .phones import normalize_phone, phone_index


class UserCreationForm(forms.ModelForm):
    phone = forms.CharField(max_length=32)
    password = forms.CharField(widget=forms.PasswordInput, min_length=8)

    class Meta:
        model = User
        fields = ["name", "is_operator", "is_staff"]

    def clean_phone(self):
        try:
            e164 = normalize_phone(self.cleaned_data["phone"])
        except DomainError as exc:
            raise forms.ValidationError(exc.message()) from exc
        if User.objects.filter(phone_index=phone_index(e164)).exists():
            raise forms.ValidationError("This phone number is already registered.")
        return e164

    def save(self, commit=True):
        user = super().save(commit=False)
        user.set_phone(self.cleaned_data["phone"])
        user.set_password(self.cleaned_data["password"])
        if commit:
            user.save()
        return user


class StaffInline(admin.TabularInline):
    """Shown on a person's page; roles are given and taken through the API only, whose service
    holds the rules (see MerchantStaffAdmin)."""

    model = MerchantStaff
    extra = 0
    readonly_fields = ["merchant", "role"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = UserCreationForm
    list_display = ["id", "name", "masked_phone", "is_active", "is_operator", "date_joined"]
    list_filter = ["is_active", "is_operator", "is_staff"]
    search_fields = ["name"]
    ordering = ["-date_joined"]
    readonly_fields = ["masked_phone", "wx_openid", "date_joined", "last_login"]
    fieldsets = [
        (None, {"fields": ["name", "masked_phone", "wx_openid", "password"]}),
        (
            "Roles",
            {
                "fields": [
                    "is_active",
                    "is_operator",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ]
            },
        ),
        ("Dates", {"fields": ["date_joined", "last_login"]}),
    ]
    add_fieldsets = [(None, {"fields": ["phone", "password", "name", "is_operator", "is_staff"]})]
    inlines = [StaffInline]

    def get_search_results(self, request, queryset, search_term):
        """A search that reads as a phone number finds the person through its keyed hash."""
        try:
            e164 = normalize_phone(search_term)
        except DomainError:
            return super().get_search_results(request, queryset, search_term)
        return queryset.filter(phone_index=phone_index(e164)), False


class CredentialInline(admin.TabularInline):
    model = Credential
    extra = 0
    exclude = ["number"]


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["display_name", "merchant", "gender", "rating", "verified", "active", "duty"]
    list_filter = ["verified", "active", "merchant", "gender"]
    search_fields = ["display_name"]
    filter_horizontal = ["services"]
    raw_id_fields = ["user"]
    inlines = [CredentialInline]  # scheduling/admin.py adds working hours and exceptions


@admin.register(MerchantStaff)
class MerchantStaffAdmin(ReadOnly):
    """Seen here, changed only through the API (`/api/ops/people/{id}/staff-roles`), whose
    service holds the rules on every path: owners give manager and clerk only, an owner's role
    is an operator's to change, a merchant keeps an owner, every change audited."""

    list_display = ["user", "merchant", "role"]
    list_filter = ["role", "merchant"]


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnly):
    list_display = ["user", "via", "created_at", "expires_at", "revoked_at"]
    exclude = ["key_hash"]
