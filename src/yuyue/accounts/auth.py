"""Who is calling, and may they: bearer-token auth for the API and role checks for services."""

from __future__ import annotations

from ninja.security import HttpBearer

from yuyue.core.errors import DomainError

from .models import MerchantStaff, StaffRole, User
from .tokens import user_for_token


class BearerAuth(HttpBearer):
    def authenticate(self, request, token):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


bearer = BearerAuth()

MANAGERS = (StaffRole.OWNER, StaffRole.MANAGER)
ANY_STAFF = (StaffRole.OWNER, StaffRole.MANAGER, StaffRole.CLERK)


def staff_role(user: User, merchant_id: int) -> str | None:
    if not getattr(user, "pk", None):
        return None
    return (
        MerchantStaff.objects.filter(user=user, merchant_id=merchant_id)
        .values_list("role", flat=True)
        .first()
    )


def require_staff(user: User, merchant_id: int, roles=ANY_STAFF) -> str:
    """The user's role at the merchant, if it is one of `roles`; operators act as owners."""
    if getattr(user, "is_operator", False):
        return StaffRole.OWNER
    role = staff_role(user, merchant_id)
    if role not in roles:
        raise DomainError("forbidden")
    return role


def require_operator(user: User) -> None:
    if not getattr(user, "is_operator", False):
        raise DomainError("forbidden")
