"""What a call costs, at the edges of each rule."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from yuyue.core.errors import DomainError
from yuyue.pricing.metering import (
    MAX_SECONDS,
    PER_MINUTE,
    Rules,
    affordable_seconds,
    charge,
    rules_from,
)

PER_SEC = Rules(billing="per_second", grace_seconds=20)
PER_MIN = Rules(billing="per_minute", grace_seconds=20)


@pytest.mark.parametrize(
    "seconds, per_second, per_minute",
    [
        (0, 0, 0),
        (19, 0, 0),  # under the grace period: free
        (20, 40, 120),  # from the grace period on, the whole call is billed
        (59, 118, 120),
        (60, 120, 120),
        (61, 122, 240),  # a started minute is a whole minute
        (119, 238, 240),
        (120, 240, 240),
        (121, 242, 360),
    ],
)
def test_edges_at_120_fen_a_minute(seconds, per_second, per_minute):
    assert charge(seconds, 120, PER_SEC) == per_second
    assert charge(seconds, 120, PER_MIN) == per_minute


def test_fractions_of_a_fen_go_to_the_customer():
    assert charge(61, 100, Rules(grace_seconds=0)) == 101  # 101.67 fen
    assert charge(1, 59, Rules(grace_seconds=0)) == 0


def test_minimum_charge_applies_only_to_billed_calls():
    rules = Rules(grace_seconds=20, minimum_fen=500)
    assert charge(19, 120, rules) == 0
    assert charge(20, 120, rules) == 500
    assert charge(300, 120, rules) == 600


@given(
    st.integers(0, 10**6),
    st.integers(1, 10_000),
    st.sampled_from(["per_second", "per_minute"]),
    st.integers(0, 120),
    st.integers(0, 5000),
)
def test_affordable_is_the_longest_time_within_the_amount(amount, rate, billing, grace, minimum):
    rules = Rules(billing=billing, grace_seconds=grace, minimum_fen=minimum)
    seconds = affordable_seconds(amount, rate, rules)
    assert charge(seconds, rate, rules) <= amount
    assert seconds == MAX_SECONDS or charge(seconds + 1, rate, rules) > amount


def test_rules_from_a_service_are_checked():
    assert rules_from({"billing": PER_MINUTE, "reminders": [0, 15]}).reminders == (15, 0)
    for bad in (
        {"billing": "per_hour"},
        {"grace_seconds": -1},
        {"grace_seconds": "20"},
        {"on_drop": "hang"},
        {"reminders": [-5]},
        {"surprise": 1},
        {"minimum_fen": True},
    ):
        with pytest.raises(DomainError) as err:
            rules_from(bad)
        assert err.value.code == "invalid_call_rules"
