"""What an order costs the customer at payment: the one computation behind the price the customer
is shown (`GET /api/bookings/{id}/pay/preview`) and the price a payment charges.

The discounts come off in a fixed order, each on what the previous left:
1. the membership level (the better of the platform's and the order's merchant's, never both);
2. a coupon — the best the customer holds, a named one, or none — on the price after the level;
3. points (wallet payments only), 1 point = 1 fen, at most YUYUE_POINTS_MAX_PERCENT of the price
   and never more than what is left.
What is left is due; a wallet pays it from cash first, then from stored-value bonus. Every
discount is promotion expense: escrow receives the full price.
"""

from __future__ import annotations

from dataclasses import dataclass

from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking

from . import loyalty
from .coupons import applies, choose_claim, discount
from .models import CouponClaim, MembershipLevel


@dataclass
class Checkout:
    price_fen: int
    level: MembershipLevel | None
    level_fen: int
    claim: CouponClaim | None
    coupon_fen: int
    points: int  # points spent; each is worth 1 fen
    due_fen: int
    from_cash: int = 0
    from_bonus: int = 0
    short: int = 0  # what the wallet lacks to pay `due_fen`

    @property
    def discount_fen(self) -> int:
        return self.level_fen + self.coupon_fen + self.points


def compute(
    booking: Booking, *, coupon: str | int | None = "auto", points: int = 0, wallet: bool = True
) -> Checkout:
    """The discounts and what is due for paying `booking` now. Reads only; the payment applies
    them under its guards (the coupon once, the points by conditional updates)."""
    price = booking.price_fen
    level, level_fen = loyalty.order_level(booking.customer_id, booking.merchant_id, price)
    level_fen = min(level_fen, price)
    after_level = price - level_fen
    claim = choose_claim(booking, coupon, after_level)
    coupon_fen = 0
    if claim is not None:
        if not applies(claim.coupon, booking, amount_fen=after_level):
            raise DomainError("coupon_not_applicable")
        coupon_fen = discount(claim.coupon, after_level)
    room = after_level - coupon_fen
    used = loyalty.points_usable(points, price_fen=price, room_fen=room) if wallet else 0
    due = room - used
    out = Checkout(price, level, level_fen, claim, coupon_fen, used, due)
    if wallet:
        out.from_cash, out.from_bonus, out.short = loyalty.wallet_split(booking.customer_id, due)
    return out
