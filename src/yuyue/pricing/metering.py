"""What a call costs: the billing rules of a timed remote service, as pure functions.

A service's `call_rules` (JSON) are read once into `Rules` when a call is booked and kept with
the call, so a later change of the service never re-prices a call already made. Rates are fen per
minute; metered time is whole seconds on the server's clock.

- per_second: ⌊seconds × rate / 60⌋ (the customer never pays for a fraction of a fen);
- per_minute: every started minute at the full rate (61 s = 2 minutes);
- a call shorter than `grace_seconds` is free; once it reaches them the whole call is billed;
- a billed call costs at least `minimum_fen`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from yuyue.core.errors import DomainError

PER_SECOND, PER_MINUTE = "per_second", "per_minute"
PAUSE, STOP = "pause", "stop"
MAX_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Rules:
    billing: str = PER_SECOND
    grace_seconds: int = 20
    minimum_fen: int = 0
    hold_minutes: int = 0  # 0: hold the booked length at the start; N: hold N minutes, extend
    extend_minutes: int = 5  # each extension of the hold while the call runs on
    warn_seconds: int = 60  # both sides are warned this long before the hold or time runs out
    heartbeat_gap_seconds: int = 15  # a side silent this long counts as gone
    media_grace_seconds: int = 5  # audio lost this long (reported by a side) pauses the meter
    on_drop: str = PAUSE  # a side gone: pause the meter (and wait) or stop the call
    rejoin_seconds: int = 120  # paused this long: the call ends
    max_minutes: int = 180  # the longest call a customer may book
    reminders: tuple[int, ...] = (15, 0)  # minutes before the start

    def as_dict(self) -> dict:
        data = asdict(self)
        data["reminders"] = list(self.reminders)
        return data


_INTS = {
    "grace_seconds": (0, 3600),
    "minimum_fen": (0, 10**9),
    "hold_minutes": (0, 24 * 60),
    "extend_minutes": (1, 24 * 60),
    "warn_seconds": (0, 3600),
    "heartbeat_gap_seconds": (2, 3600),
    "media_grace_seconds": (0, 600),
    "rejoin_seconds": (0, 24 * 3600),
    "max_minutes": (1, 24 * 60),
}


def rules_from(data: dict | None) -> Rules:
    """Rules from a service's `call_rules`; unknown keys or bad values are a clear problem."""
    data = dict(data or {})
    known = {f.name for f in fields(Rules)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise DomainError("invalid_call_rules", detail=f"unknown: {', '.join(unknown)}")
    for name, (low, high) in _INTS.items():
        if name in data:
            value = data[name]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise DomainError("invalid_call_rules", detail=f"{name}: {low}..{high}")
    if data.get("billing", PER_SECOND) not in (PER_SECOND, PER_MINUTE):
        raise DomainError("invalid_call_rules", detail="billing: per_second or per_minute")
    if data.get("on_drop", PAUSE) not in (PAUSE, STOP):
        raise DomainError("invalid_call_rules", detail="on_drop: pause or stop")
    if "reminders" in data:
        reminders = data["reminders"]
        if not isinstance(reminders, list) or not all(
            isinstance(m, int) and not isinstance(m, bool) and 0 <= m <= 7 * 24 * 60
            for m in reminders
        ):
            raise DomainError("invalid_call_rules", detail="reminders: minutes before the start")
        data["reminders"] = tuple(sorted(set(reminders), reverse=True))
    return Rules(**data)


def charge(seconds: int, rate_fen: int, rules: Rules) -> int:
    """The price of `seconds` of metered time at `rate_fen` per minute."""
    if seconds < 0:
        raise ValueError("negative metered time")
    if seconds == 0 or seconds < rules.grace_seconds:
        return 0
    if rules.billing == PER_MINUTE:
        price = -(-seconds // 60) * rate_fen
    else:
        price = seconds * rate_fen // 60
    return max(price, rules.minimum_fen)


def affordable_seconds(amount_fen: int, rate_fen: int, rules: Rules) -> int:
    """The longest metered time whose price is within `amount_fen` (charge is monotone)."""
    if charge(MAX_SECONDS, rate_fen, rules) <= amount_fen:
        return MAX_SECONDS
    low, high = 0, MAX_SECONDS  # charge(low) <= amount < charge(high)
    while high - low > 1:
        mid = (low + high) // 2
        if charge(mid, rate_fen, rules) <= amount_fen:
            low = mid
        else:
            high = mid
    return low


def rate_for(service, provider) -> int:
    """The price of a minute: the consultant's own rate, else the service's."""
    return (
        provider.rate_per_minute_fen
        if provider.rate_per_minute_fen is not None
        else (service.base_price_fen)
    )


def hold_seconds(rules: Rules, booked_seconds: int) -> int:
    """How much of the booked length the first hold on the wallet covers."""
    return (
        booked_seconds if not rules.hold_minutes else min(booked_seconds, rules.hold_minutes * 60)
    )


def first_hold_fen(rules: Rules, rate_fen: int, booked_seconds: int) -> int:
    """What the wallet must hold when the meter of a call of this length first starts: checked
    when the call is booked, put on the wallet when it goes live."""
    return charge(hold_seconds(rules, booked_seconds), rate_fen, rules)
