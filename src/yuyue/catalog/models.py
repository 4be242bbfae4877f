"""Merchants, their halls and stores, categories, services and booking forms."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from yuyue.accounts.models import prior_rating


class MerchantStatus(models.TextChoices):
    PENDING = "pending", "pending approval"
    ACTIVE = "active", "active"
    SUSPENDED = "suspended", "suspended"


class DispatchPolicy(models.TextChoices):
    """What a dispatch round weighs besides travel (`dispatch.matching.POLICIES`)."""

    TRAVEL = "travel", "least travel"
    BALANCED = "balanced", "balanced"
    QUALITY = "quality", "quality first"


class Merchant(models.Model):
    """A company, salon or service hall 商家 / 服务厅 that sells services."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    address = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    status = models.CharField(
        max_length=12, choices=MerchantStatus.choices, default=MerchantStatus.PENDING
    )
    commission_bp = models.PositiveIntegerField(
        default=1000, help_text="Platform commission in basis points of the order (1000 = 10%)."
    )
    provider_share_bp = models.PositiveIntegerField(
        default=7000, help_text="The provider's part of what remains after the commission."
    )
    dispatch_policy = models.CharField(
        max_length=10,
        choices=DispatchPolicy.choices,
        default=DispatchPolicy.BALANCED,
        help_text="What dispatch rounds optimise for this merchant's orders (docs/dispatch.md).",
    )
    introduction = models.TextField(blank=True, help_text="Shown on the store page.")
    announcement = models.CharField(
        max_length=500, blank=True, help_text="A notice at the top of the store page."
    )
    opening_hours = models.JSONField(
        default=list,
        blank=True,
        help_text='[{"weekday": 0, "open": "09:00", "close": "18:00"}, …]; a day left out is '
        "closed.",
    )
    logo = models.FileField(upload_to="merchant-logos/%Y/%m/", blank=True)
    # what the merchant's providers may set themselves (empty: no bound)
    provider_price_min_fen = models.PositiveBigIntegerField(null=True, blank=True)
    provider_price_max_fen = models.PositiveBigIntegerField(null=True, blank=True)
    provider_hours_start = models.TimeField(
        null=True, blank=True, help_text="Providers' own working hours begin no earlier."
    )
    rating = models.DecimalField(
        max_digits=3,
        decimal_places=2,
        default=prior_rating,
        help_text="Bayesian average of its reviews (the prior's mean while it has none).",
    )
    reviews_count = models.PositiveIntegerField(default=0)
    provider_hours_end = models.TimeField(
        null=True, blank=True, help_text="Providers' own working hours end no later."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.name


class MerchantPhoto(models.Model):
    """A picture of the store, shown on its page in `position` order."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="merchant-photos/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class Hall(models.Model):
    """A hall, room or store 服务厅 / 门店 of a merchant where hall-slot services happen."""

    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="halls")
    name = models.CharField(max_length=200)
    address = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    active = models.BooleanField(default=True)

    def __str__(self):
        return f"{self.merchant} · {self.name}"


class Area(models.Model):
    """A city's district (or a whole city): where a customer says they are when the browser does
    not tell, its centre standing for the point (`catalog.places`)."""

    city = models.CharField(max_length=50)
    name = models.CharField(max_length=50)
    lat = models.FloatField()
    lng = models.FloatField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "city", "name"]
        constraints = [models.UniqueConstraint(fields=["city", "name"], name="one_area_name")]

    def __str__(self):
        return f"{self.city} {self.name}"


class Category(models.Model):
    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=80, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    review_dimensions = models.JSONField(
        default=list,
        blank=True,
        help_text='What customers score besides the service as a whole: [{"key": "punctuality", '
        '"label": "准时 Punctuality"}, …] (at most 5).',
    )

    class Meta:
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class ServiceKind(models.TextChoices):
    HALL_SLOT = "hall_slot", "capacity slots at a place"
    ON_SITE = "on_site", "on-site service"
    REMOTE = "remote", "timed remote session"


class CancelPolicy(models.TextChoices):
    NEVER = "never", "never"
    ANY_TIME = "any_time", "any time"
    BEFORE_START = "before_start", "only before start"


class DeadlineRule(models.TextChoices):
    SLOT_END = "slot_end", "until the slot ends"
    BEFORE_START = "before_start", "X minutes before start"


class Service(models.Model):
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="services")
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="services"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=12, choices=ServiceKind.choices)
    duration_minutes = models.PositiveIntegerField(default=60)
    base_price_fen = models.PositiveBigIntegerField(default=0)
    active = models.BooleanField(default=True)
    # hall-slot rules
    per_user_limit = models.PositiveSmallIntegerField(
        default=1, help_text="Bookings one customer may hold in one slot."
    )
    max_places_per_booking = models.PositiveSmallIntegerField(default=10)
    deadline_rule = models.CharField(
        max_length=12, choices=DeadlineRule.choices, default=DeadlineRule.BEFORE_START
    )
    deadline_minutes = models.PositiveIntegerField(
        default=0, help_text="With 'before start': booking closes this many minutes before."
    )
    cancel_policy = models.CharField(
        max_length=12, choices=CancelPolicy.choices, default=CancelPolicy.BEFORE_START
    )
    # provider time rules (on-site and remote)
    buffer_minutes = models.PositiveIntegerField(
        default=0, help_text="Travel / rest time kept free after each job."
    )
    pricing = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"peak": [{"start": "18:00", "end": "21:00", "percent": 20}], '
        '"weekend_percent": 10, "holiday_percent": 30, "per_m2_fen": 0, "per_person_fen": 0, '
        '"free_km": 3, "per_km_fen": 200}',
    )
    refund_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='{"free_hours": 24, "fee_percent": 20, "travel_fee_fen": 3000}: free until '
        "free_hours before the start, then fee_percent kept; once the provider has departed the "
        "travel fee is kept too; nothing back after the service started.",
    )
    step_minutes = models.PositiveIntegerField(
        default=30, help_text="Start times go in these steps."
    )
    call_rules = models.JSONField(
        default=dict,
        blank=True,
        help_text='Timed remote services: {"billing": "per_second" | "per_minute", '
        '"grace_seconds": 20, "minimum_fen": 0, "hold_minutes": 0 (0: the booked length), '
        '"extend_minutes": 5, "warn_seconds": 60, "heartbeat_gap_seconds": 15, '
        '"on_drop": "pause" | "stop", "rejoin_seconds": 120, "max_minutes": 180, '
        '"reminders": [15, 0]}. The base price is the rate per minute.',
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gt=0), name="service_duration_pos"
            ),
            models.CheckConstraint(condition=Q(step_minutes__gt=0), name="service_step_pos"),
            models.CheckConstraint(condition=Q(per_user_limit__gt=0), name="service_limit_pos"),
            models.CheckConstraint(
                condition=Q(max_places_per_booking__gt=0), name="service_max_places_pos"
            ),
        ]

    def __str__(self):
        return self.name


class FieldType(models.TextChoices):
    TEXT = "text", "text"
    NUMBER = "number", "number"
    PHONE = "phone", "phone number"
    ID_NUMBER = "id_number", "Chinese resident ID number"
    CHOICE = "choice", "choice"
    DATE = "date", "date"


class FormField(models.Model):
    """One question of a service's booking form, answered once per participant."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="form_fields")
    key = models.SlugField(max_length=40)
    label = models.CharField(max_length=100)
    type = models.CharField(max_length=12, choices=FieldType.choices)
    required = models.BooleanField(default=True)
    choices = models.JSONField(default=list, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    max_length = models.PositiveIntegerField(default=100)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "key"], name="form_field_unique_key")
        ]

    def __str__(self):
        return f"{self.service}: {self.label}"


class MerchantApplicationStatus(models.TextChoices):
    PENDING = "pending", "waiting for review"
    APPROVED = "approved", "approved"
    REJECTED = "rejected", "rejected"


class MerchantApplication(models.Model):
    """Someone applies to sell on the platform: the business, a contact, its zone and address,
    and a picture of its business licence. An operator approves (the merchant is made, the
    applicant its owner) or rejects with a reason the applicant reads and answers by sending
    the application again."""

    applicant = models.OneToOneField(
        "accounts.User", on_delete=models.PROTECT, related_name="merchant_application"
    )
    business_name = models.CharField(max_length=200)
    contact_name = models.CharField(max_length=50)
    contact_phone = models.CharField(max_length=32)
    timezone = models.CharField(max_length=64, default="Asia/Shanghai")
    address = models.CharField(max_length=300)
    lat = models.FloatField()
    lng = models.FloatField()
    licence = models.FileField(upload_to="merchant-licences/%Y/%m/")
    status = models.CharField(
        max_length=10,
        choices=MerchantApplicationStatus.choices,
        default=MerchantApplicationStatus.PENDING,
    )
    reason = models.CharField(max_length=300, blank=True)
    rounds = models.PositiveSmallIntegerField(default=1)
    merchant = models.OneToOneField(
        Merchant, null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )
    reviewed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"{self.business_name} ({self.status})"


class ServicePhoto(models.Model):
    """A picture of a service, shown on its page in `position` order."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="service-photos/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class Course(models.Model):
    """A training course for providers: lessons to read or watch, then a short quiz. The
    platform's (no merchant) are for every provider, a merchant's for its own; a `required`
    course must be passed before a provider goes on duty."""

    merchant = models.ForeignKey(
        Merchant, null=True, blank=True, on_delete=models.CASCADE, related_name="courses"
    )
    title = models.CharField(max_length=100)
    required = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)


class Lesson(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="lessons")
    position = models.PositiveSmallIntegerField()
    title = models.CharField(max_length=100)
    text = models.TextField(max_length=5000, blank=True)
    link = models.URLField(blank=True, help_text="A video or picture to look at (https).")

    class Meta:
        ordering = ["position"]


class QuizQuestion(models.Model):
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField()
    text = models.CharField(max_length=300)
    choices = models.JSONField(help_text="The answers to choose from, as shown.")
    answer = models.PositiveSmallIntegerField(help_text="The right one's index in `choices`.")

    class Meta:
        ordering = ["position"]


class CourseCompletion(models.Model):
    """A provider passed a course's quiz (once; retaking it after a pass changes nothing)."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="completions"
    )
    course = models.ForeignKey(Course, on_delete=models.CASCADE, related_name="completions")
    completed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["provider", "course"], name="course_passed_once")
        ]
