"""Who is calling, and may they: bearer-token auth for the API and role checks for services."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS
from ninja.security import HttpBearer

from yuyue.core.errors import DomainError

from .models import MerchantStaff, StaffRole, User
from .tokens import MAX_KEY_LENGTH, live_user_params, live_user_sql, user_for_token


class BearerAuth(HttpBearer):
    """`Authorization: Bearer <token>`. With `deferred`, the token is not looked up here: the
    endpoint gets a `BearerKey` and its service takes the lookup along with its first read."""

    def __init__(self, *, deferred: bool = False) -> None:
        super().__init__()
        self.deferred = deferred

    def authenticate(self, request, token):
        if self.deferred:
            return BearerKey(token) if token and len(token) <= MAX_KEY_LENGTH else None
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


@dataclass(frozen=True)
class BearerKey:
    """A bearer token not yet looked up (`request.auth` of an endpoint with deferred auth).

    A service whose first statement reads anyway adds `sql()` (with `params()`) to it, so that a
    request costs one round trip to the database instead of two, and then calls `resolve` with
    what that expression gave. `user()` looks the token up on its own. Either way an unknown,
    revoked or expired token, or an inactive user, is `auth_required` (401)."""

    key: str

    @staticmethod
    def sql() -> str:
        return live_user_sql()

    def params(self) -> list:
        return live_user_params(self.key)

    def resolve(self, user_id: int | None) -> User:
        """The user the statement found: its key loaded, the other fields read when used."""
        if user_id is None:
            raise DomainError("auth_required")
        return User.from_db(DEFAULT_DB_ALIAS, ["id"], [user_id])

    def user(self) -> User:
        user = user_for_token(self.key)
        if user is None:
            raise DomainError("auth_required")
        return user


class OperatorAuth(BearerAuth):
    """A bearer token of one of the platform's operators. Anyone else is refused (`forbidden`)
    before the endpoint runs: before its path is read or anything it names is looked up, so no
    answer tells an outsider whether an id exists."""

    def authenticate(self, request, token):
        user = super().authenticate(request, token)
        if user is not None and not user.is_operator:
            raise DomainError("forbidden")
        return user


bearer = BearerAuth()
bearer_deferred = BearerAuth(deferred=True)
operator_bearer = OperatorAuth()

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


def staff_halls(user: User, merchant_id: int) -> frozenset[int] | None:
    """The halls a person's role at the merchant is limited to; None: every hall (operators,
    and staff not limited)."""
    if getattr(user, "is_operator", False) or not getattr(user, "pk", None):
        return None
    ids = frozenset(
        MerchantStaff.halls.through.objects.filter(
            merchantstaff__user=user, merchantstaff__merchant_id=merchant_id
        ).values_list("hall_id", flat=True)
    )
    return ids or None


def require_staff(
    user: User,
    merchant_id: int,
    roles=ANY_STAFF,
    *,
    hall_id: int | None = None,
    every_hall: bool = False,
) -> str:
    """The user's role at the merchant, if it is one of `roles`; operators act as owners.

    A role limited to some halls acts only on what is in them: a thing of another hall
    (`hall_id`), of no hall (an on-site order), or of every hall at once (`every_hall`, say a
    day closed for all halls) is refused with `wrong_hall`."""
    if getattr(user, "is_operator", False):
        return StaffRole.OWNER
    role = staff_role(user, merchant_id)
    if role not in roles:
        raise DomainError("forbidden")
    if hall_id is not None or every_hall:
        halls = staff_halls(user, merchant_id)
        if halls is not None and (every_hall or hall_id not in halls):
            raise DomainError("wrong_hall")
    return role


def require_operator(user: User) -> None:
    if not getattr(user, "is_operator", False):
        raise DomainError("forbidden")
