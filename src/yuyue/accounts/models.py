"""People and their roles: customers, providers, merchant staff and platform operators."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from yuyue.core.crypto import EncryptedTextField, mask_phone

from .phones import normalize_phone, phone_index


def prior_rating() -> Decimal:
    """The rating of a provider or merchant no published review speaks for yet: the Bayesian
    prior's mean (engagement/reviews.py), so the new are neither five stars nor zero."""
    return Decimal(str(settings.YUYUE_RATING_PRIOR_MEAN)).quantize(Decimal("0.01"))


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, phone: str | None = None, password: str | None = None, **extra):
        user = self.model(**extra)
        if phone:
            user.set_phone(phone)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(
        self,
        phone_index: str | None = None,
        password: str | None = None,
        phone: str | None = None,
        **extra,
    ):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("is_operator", True)
        return self.create_user(phone=phone or phone_index, password=password, **extra)

    def get_by_phone(self, raw: str) -> User:
        return self.get(phone_index=phone_index(normalize_phone(raw)))


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Anyone with a phone number is a customer; other roles are added to it.

    The phone number is kept encrypted; `phone_index` (a keyed hash) finds a person by it.
    """

    phone_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    phone = EncryptedTextField(blank=True, default="")
    name = models.CharField(max_length=100, blank=True)
    # a square JPEG of at most 256 px, made by `profile.set_avatar` (kept in the database: no
    # shared file storage to run; served with its version in the address)
    avatar = models.BinaryField(null=True, blank=True, editable=False)
    avatar_version = models.PositiveIntegerField(default=0)
    wx_openid = models.CharField(max_length=64, unique=True, null=True, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May log into the admin.")
    is_operator = models.BooleanField(default=False, help_text="Platform operator 平台运营.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "phone_index"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self):
        return self.name or self.masked_phone or f"user {self.pk}"

    def set_phone(self, raw: str) -> None:
        e164 = normalize_phone(raw)
        self.phone = e164
        self.phone_index = phone_index(e164)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)


class Gender(models.TextChoices):
    FEMALE = "female", "female"
    MALE = "male", "male"
    UNDISCLOSED = "undisclosed", "undisclosed"


class Duty(models.TextChoices):
    """Whether a provider takes new orders now (接单状态); dispatch offers only to those on duty."""

    ON = "on_duty", "on duty"
    OFF = "off_duty", "off duty"
    RESTING = "resting", "resting"


class Provider(models.Model):
    """A person who delivers services 服务人员: cleaner, technician, caregiver, consultant."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="provider")
    merchant = models.ForeignKey(
        "catalog.Merchant",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="providers",
    )
    display_name = models.CharField(max_length=100)
    gender = models.CharField(max_length=12, choices=Gender.choices, default=Gender.UNDISCLOSED)
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    experience_years = models.PositiveSmallIntegerField(default=0)
    bio = models.TextField(blank=True)
    rating = models.DecimalField(max_digits=3, decimal_places=2, default=prior_rating)
    services = models.ManyToManyField("catalog.Service", blank=True, related_name="providers")
    # Home base and how far the provider travels for on-site work.
    lat = models.FloatField(null=True, blank=True, db_index=True)
    lng = models.FloatField(null=True, blank=True)
    service_radius_km = models.FloatField(default=10)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    verified = models.BooleanField(default=False, help_text="Real name and credentials checked.")
    active = models.BooleanField(default=True)
    duty = models.CharField(max_length=10, choices=Duty.choices, default=Duty.ON)
    max_open_orders = models.PositiveSmallIntegerField(default=5)
    price_fen = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The provider's own price per unit; empty: the service's."
    )
    reviews_count = models.PositiveIntegerField(default=0)
    rate_per_minute_fen = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="A consultant's rate for timed calls; empty: the service's.",
    )

    def __str__(self):
        return self.display_name

    @property
    def zone_name(self) -> str:
        """Working hours are read in the merchant's zone; a freelancer's own zone otherwise."""
        return self.merchant.timezone if self.merchant_id else self.timezone


class Credential(models.Model):
    """A certificate or licence of a provider (health certificate, caregiver licence…)."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="credentials")
    kind = models.CharField(max_length=60)
    number = EncryptedTextField(blank=True, default="")
    issued_by = models.CharField(max_length=100, blank=True)
    valid_until = models.DateField(null=True, blank=True)
    verified = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.kind} of {self.provider}"


class StaffRole(models.TextChoices):
    OWNER = "owner", "owner"
    MANAGER = "manager", "manager"
    CLERK = "clerk", "clerk"


class MerchantStaff(models.Model):
    """A person working for one merchant, as owner, manager or clerk, at every hall or only at
    some (`halls`)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="staff_roles")
    merchant = models.ForeignKey("catalog.Merchant", on_delete=models.CASCADE, related_name="staff")
    role = models.CharField(max_length=10, choices=StaffRole.choices)
    halls = models.ManyToManyField(
        "catalog.Hall",
        blank=True,
        related_name="staff",
        help_text="The halls this role is limited to (hall admins); none: every hall.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "merchant"], name="staff_one_role_per_merchant")
        ]
        verbose_name_plural = "merchant staff"

    def __str__(self):
        return f"{self.user} · {self.role} · {self.merchant}"


class ApiToken(models.Model):
    """A bearer token for the API (what a mini-program sends). Only its hash is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    via = models.CharField(max_length=16, help_text="password, otp or wechat")


class OneTimeCode(models.Model):
    """A login code sent to a phone. Only its hash is stored; attempts are counted."""

    phone_index = models.CharField(max_length=64, db_index=True)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


class Address(models.Model):
    """A customer's saved address (home, office, a parent's flat), at most one the default."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="addresses")
    label = models.CharField(max_length=30, blank=True)
    address = models.CharField(max_length=300)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-is_default", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(is_default=True), name="one_default_address"
            )
        ]

    def __str__(self):
        return self.label or self.address


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", "waiting for a review"
    APPROVED = "approved", "approved"
    REJECTED = "rejected", "rejected"


class ProviderApplication(models.Model):
    """A person asking to become a provider, for the platform or for one merchant: real name and
    ID number (encrypted; checked by the real-name verifier), skills, area, price, documents.
    Reviewed by an operator or the merchant's managers; a rejected one carries the reason and
    can be sent again (`catalog.onboarding`)."""

    user = models.OneToOneField(User, on_delete=models.PROTECT, related_name="application")
    merchant = models.ForeignKey(
        "catalog.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    real_name = models.CharField(max_length=50)
    id_number = EncryptedTextField()
    service_ids = models.JSONField(default=list)
    lat = models.FloatField()
    lng = models.FloatField()
    radius_km = models.FloatField(default=10)
    price_fen = models.PositiveBigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    reason = models.CharField(max_length=300, blank=True)
    real_name_note = models.CharField(max_length=200, blank=True)
    reviewed_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    provider = models.OneToOneField(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )
    rounds = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)


class DocumentKind(models.TextChoices):
    PHOTO = "photo", "photo of the person"
    ID_FRONT = "id_front", "ID card, front"
    ID_BACK = "id_back", "ID card, back"
    HEALTH = "health", "health certificate"
    SKILL = "skill", "skill certificate"


class ApplicationDocument(models.Model):
    """A picture sent with an application: re-encoded without metadata (`core.images`) and kept
    through Django's storage API (local files by default, object storage by setting)."""

    application = models.ForeignKey(
        ProviderApplication, on_delete=models.CASCADE, related_name="documents"
    )
    kind = models.CharField(max_length=10, choices=DocumentKind.choices)
    file = models.FileField(upload_to="applications/%Y/%m/")
    round = models.PositiveSmallIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
