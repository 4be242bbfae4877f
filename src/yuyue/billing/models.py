"""Money: a double-entry ledger in integer fen, with holds (two-phase transfers).

Every movement is a Transfer whose entries sum to zero (PostgreSQL refuses an unbalanced one at
commit with a deferred constraint trigger; on SQLite the ledger service checks). An account's
`balance` is the sum of its entries, kept in the same transaction by a conditional UPDATE that
refuses to take an account below what it holds (`balance >= held`) unless it is an account of the
outside world (`allow_negative`, e.g. gateway clearing). Transfers and holds carry a unique key, so
a retried call (a gateway notifying twice) is applied once.
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class AccountKind(models.TextChoices):
    CUSTOMER_CASH = "customer_cash", "customer cash 余额"
    CUSTOMER_BONUS = "customer_bonus", "customer bonus 赠送金"
    PROVIDER_FROZEN = "provider_frozen", "provider earnings, frozen"
    PROVIDER_AVAILABLE = "provider_available", "provider earnings, available"
    MERCHANT_SHARE = "merchant_share", "merchant share"
    PLATFORM_REVENUE = "platform_revenue", "platform revenue"
    GATEWAY_CLEARING = "gateway_clearing", "gateway clearing"
    PROMOTION_EXPENSE = "promotion_expense", "promotion expense"
    PAYOUT_CLEARING = "payout_clearing", "payouts in flight"
    ORDER_ESCROW = "order_escrow", "paid orders awaiting settlement"


class LedgerAccount(models.Model):
    code = models.CharField(
        max_length=80, unique=True, help_text="kind:owner, e.g. customer_cash:user:12"
    )
    kind = models.CharField(max_length=24, choices=AccountKind.choices)
    owner_type = models.CharField(max_length=16, blank=True)
    owner_id = models.BigIntegerField(null=True, blank=True)
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    allow_negative = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="ledger_held_not_negative"),
            models.CheckConstraint(
                condition=Q(allow_negative=True) | Q(balance__gte=F("held")),
                name="ledger_never_below_zero",
            ),
        ]

    def __str__(self):
        return self.code

    @property
    def available(self) -> int:
        return self.balance - self.held


class Transfer(models.Model):
    key = models.CharField(max_length=120, unique=True, help_text="Idempotency key.")
    kind = models.CharField(max_length=32)
    memo = models.CharField(max_length=200, blank=True)
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="transfers"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.kind} {self.key}"


class Entry(models.Model):
    transfer = models.ForeignKey(Transfer, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.BigIntegerField(help_text="Signed fen: + credits the account's owner.")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_not_zero"),
        ]
        indexes = [models.Index(fields=["account", "transfer"])]


class HoldStatus(models.TextChoices):
    PENDING = "pending", "pending"
    POSTED = "posted", "posted"
    VOIDED = "voided", "voided"


class Hold(models.Model):
    """Money set aside on an account, later posted (for that amount or less) or voided."""

    key = models.CharField(max_length=120, unique=True)
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="holds")
    amount = models.BigIntegerField()
    status = models.CharField(max_length=8, choices=HoldStatus.choices, default=HoldStatus.PENDING)
    posted_amount = models.BigIntegerField(default=0)
    transfer = models.OneToOneField(
        Transfer, null=True, blank=True, on_delete=models.PROTECT, related_name="hold"
    )
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="holds"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="hold_positive"),
            models.CheckConstraint(
                condition=Q(posted_amount__gte=0) & Q(posted_amount__lte=F("amount")),
                name="hold_posted_within_amount",
            ),
        ]


class PaymentPurpose(models.TextChoices):
    ORDER = "order", "an order"
    TOP_UP = "top_up", "a wallet top-up"
    PACKAGE = "package", "every unpaid date of a package 包月"


class PaymentStatus(models.TextChoices):
    CREATED = "created", "created"
    PAID = "paid", "paid"
    FAILED = "failed", "failed"
    CLOSED = "closed", "closed"


class Payment(models.Model):
    """One attempt to collect money through a gateway (or the wallet)."""

    out_trade_no = models.CharField(max_length=40, unique=True)
    purpose = models.CharField(max_length=8, choices=PaymentPurpose.choices)
    customer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="payments")
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="payments"
    )
    gateway = models.CharField(max_length=12)
    amount_fen = models.BigIntegerField()
    status = models.CharField(
        max_length=8, choices=PaymentStatus.choices, default=PaymentStatus.CREATED
    )
    gateway_txn_id = models.CharField(max_length=64, null=True, blank=True, unique=True)
    refunded_fen = models.BigIntegerField(default=0)
    bonus_fen = models.BigIntegerField(
        default=0, help_text="Wallet payments: the part paid from bonus (refunded to bonus first)."
    )
    plan = models.ForeignKey(
        "billing.TopUpPlan", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    series = models.ForeignKey(
        "orders.Series", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    package = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shares",
        help_text="A date's share of a package paid through a gateway: the package's payment, "
        "whose trade the gateway knows (the share's refunds go against it).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gte=0), name="payment_not_negative"),
            models.CheckConstraint(
                condition=Q(refunded_fen__gte=0) & Q(refunded_fen__lte=F("amount_fen")),
                name="payment_refund_within_amount",
            ),
        ]

    @property
    def trade(self) -> Payment:
        """The payment the gateway knows: a package's for a date's share, else this one."""
        return self.package if self.package_id else self


class GatewayNotification(models.Model):
    """Every asynchronous notification a gateway sent, once per its id: repeats are answered
    from here and change nothing."""

    gateway = models.CharField(max_length=12)
    notification_id = models.CharField(max_length=64)
    out_trade_no = models.CharField(max_length=40)
    payload = models.JSONField()
    result = models.CharField(max_length=24)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["gateway", "notification_id"], name="notification_once"
            ),
        ]


class WithdrawalStatus(models.TextChoices):
    REQUESTED = "requested", "requested"
    REJECTED = "rejected", "rejected"
    PAID = "paid", "paid out"


class Withdrawal(models.Model):
    """A provider takes earnings out: the money is held at request, paid out or released."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="withdrawals"
    )
    amount_fen = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=WithdrawalStatus.choices, default=WithdrawalStatus.REQUESTED
    )
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="withdrawal")
    payout_id = models.CharField(max_length=64, blank=True)
    decided_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="withdrawal_positive"),
        ]


class Refund(models.Model):
    """Money going back to the customer for a payment, exactly once per key."""

    key = models.CharField(max_length=120, unique=True)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    amount_fen = models.BigIntegerField()
    reason = models.CharField(max_length=200, blank=True)
    gateway_refund_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="refund_positive"),
        ]


class CouponKind(models.TextChoices):
    THRESHOLD = "threshold", "满减: value off when the order reaches the threshold"
    PERCENT = "percent", "percentage off, capped"
    FIXED = "fixed", "fixed amount off"


class Coupon(models.Model):
    """A coupon customers claim in the claim centre and spend on an order."""

    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=CouponKind.choices)
    threshold_fen = models.BigIntegerField(default=0)
    value_fen = models.BigIntegerField(default=0)
    percent = models.PositiveSmallIntegerField(default=0)
    cap_fen = models.BigIntegerField(default=0)
    new_customers_only = models.BooleanField(default=False)
    merchant = models.ForeignKey(
        "catalog.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.ForeignKey(
        "catalog.Category", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    valid_from = models.DateTimeField()
    valid_until = models.DateTimeField()
    per_customer_limit = models.PositiveSmallIntegerField(default=1)
    total_limit = models.PositiveIntegerField()
    claimed = models.PositiveIntegerField(default=0)
    public = models.BooleanField(
        default=True, help_text="Shown in the claim centre; if not, only handed out by staff."
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(claimed__lte=F("total_limit")), name="coupon_never_over_issued"
            ),
            models.CheckConstraint(condition=Q(percent__lte=100), name="coupon_percent_range"),
        ]

    def __str__(self):
        return self.name


class CouponHolder(models.Model):
    """How many of a coupon one customer has claimed: the per-customer limit's guard."""

    coupon = models.ForeignKey(Coupon, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["coupon", "customer"], name="coupon_holder_once")
        ]


class CouponClaim(models.Model):
    coupon = models.ForeignKey(Coupon, on_delete=models.PROTECT, related_name="claims")
    customer = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="coupons")
    used_on = models.OneToOneField(
        "orders.Booking",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupon_claim",
    )
    discount_fen = models.BigIntegerField(default=0)
    claimed_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)


class TopUpPlan(models.Model):
    """A stored-value plan: pay ¥500, get ¥550. The bonus is kept apart from cash."""

    name = models.CharField(max_length=100)
    pay_fen = models.PositiveBigIntegerField()
    bonus_fen = models.PositiveBigIntegerField(default=0)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pay_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(pay_fen__gt=0), name="plan_pay_positive"),
        ]

    def __str__(self):
        return self.name


class MembershipLevel(models.Model):
    """A level reached by accumulated spend (paid minus refunded), with its discount: the
    platform's levels (no merchant) count spend everywhere, a merchant's levels count spend at
    that merchant and apply to its orders only."""

    merchant = models.ForeignKey(
        "catalog.Merchant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="membership_levels",
        help_text="Empty: a platform-wide level.",
    )
    name = models.CharField(max_length=60)
    min_spend_fen = models.PositiveBigIntegerField()
    discount_bp = models.PositiveIntegerField(default=0, help_text="Basis points: 500 = 5 %.")

    class Meta:
        ordering = ["min_spend_fen"]
        constraints = [
            models.CheckConstraint(condition=Q(discount_bp__lte=5000), name="level_discount_cap"),
            models.UniqueConstraint(
                fields=["merchant", "min_spend_fen"], name="level_threshold_once_per_merchant"
            ),
            models.UniqueConstraint(
                fields=["min_spend_fen"],
                condition=Q(merchant__isnull=True),
                name="level_threshold_once_platform",
            ),
        ]

    def __str__(self):
        return self.name


class PointsKind(models.TextChoices):
    EARN = "earn", "earned on spend"
    REDEEM = "redeem", "redeemed as a discount"
    EXPIRE = "expire", "expired"
    REVERSE = "reverse", "taken back after a refund"
    RESTORE = "restore", "given back after a refund"


class PointsEntry(models.Model):
    """A customer's points move, once per key. Positive entries are lots that expire; their
    `remaining` is consumed oldest first. The balance is the sum of `delta`, which always equals
    the sum of `remaining` (tested)."""

    customer = models.ForeignKey(
        "accounts.User", on_delete=models.PROTECT, related_name="points_entries"
    )
    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=8, choices=PointsKind.choices)
    delta = models.BigIntegerField()
    remaining = models.BigIntegerField(default=0)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["customer", "expires_at"])]
        constraints = [
            models.CheckConstraint(condition=Q(remaining__gte=0), name="points_remaining_nonneg"),
            models.CheckConstraint(
                condition=Q(remaining__lte=F("delta")) | Q(remaining=0),
                name="points_remaining_within_lot",
            ),
        ]


class SandboxTransaction(models.Model):
    """The sandbox gateway's own book of what it captured, refunded and paid out — kept by the
    'outside party', apart from our payments, so that reconciliation compares two records."""

    kind = models.CharField(max_length=8)  # payment, refund, payout
    reference = models.CharField(max_length=64, unique=True)  # its transaction / refund / payout id
    out_trade_no = models.CharField(max_length=40, blank=True)
    amount_fen = models.BigIntegerField()
    at = models.DateTimeField(db_index=True)

    def __str__(self):
        return f"{self.kind} {self.reference} {self.amount_fen}"


class ReconciliationRun(models.Model):
    """One day's reconciliation of our records and the ledger against a gateway's statement.
    Running a day again replaces its result."""

    gateway = models.CharField(max_length=12)
    day = models.DateField()
    ran_at = models.DateTimeField()
    matched = models.PositiveIntegerField(default=0)
    discrepancies = models.JSONField(default=list)
    ok = models.BooleanField(default=False)

    class Meta:
        ordering = ["-day"]
        constraints = [
            models.UniqueConstraint(fields=["gateway", "day"], name="reconciliation_once_a_day")
        ]

    def __str__(self):
        return f"{self.gateway} {self.day}: {'ok' if self.ok else 'discrepancies'}"


class DayFigures(models.Model):
    """One merchant's local day summarised by `billing.figures.summarise_day` (a job), per
    service, hall and provider, so that the dashboard reads a few rows a day instead of every
    order. A day's rows are replaced whole each time it is summarised. Rows with no service
    carry a provider's working seconds of the day (for utilisation)."""

    merchant = models.ForeignKey("catalog.Merchant", on_delete=models.CASCADE, related_name="+")
    day = models.DateField(help_text="The merchant's local day the orders take place.")
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    hall = models.ForeignKey(
        "catalog.Hall", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    provider = models.ForeignKey(
        "accounts.Provider", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    bookings = models.PositiveIntegerField(default=0)
    places = models.PositiveIntegerField(default=0)
    done = models.PositiveIntegerField(default=0, help_text="Checked in or completed.")
    cancelled = models.PositiveIntegerField(default=0, help_text="By the customer.")
    cancelled_by_staff = models.PositiveIntegerField(default=0)
    no_shows = models.PositiveIntegerField(default=0)
    arrivals = models.PositiveIntegerField(default=0)
    on_time = models.PositiveIntegerField(default=0)
    paid_fen = models.BigIntegerField(default=0, help_text="Orders paid: their price (GMV).")
    refunded_fen = models.BigIntegerField(default=0)
    busy_seconds = models.BigIntegerField(default=0, help_text="Providers' time in orders.")
    work_seconds = models.BigIntegerField(default=0, help_text="Providers' working time.")
    summarised_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["merchant", "day"])]
        verbose_name_plural = "day figures"


class SettlementHold(models.Model):
    """Settlement of an order waits while a hold on it is not released (an after-sales case is
    open). `key` names who holds it, so the holder releases its own."""

    booking = models.ForeignKey("orders.Booking", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=80, unique=True)
    reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["booking", "released_at"])]
