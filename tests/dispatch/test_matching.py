"""The matching core of a dispatch round, without a database.

Optimal against brute force on small instances (capacity 1 and more), never an ineligible pair,
unassignable orders left out, fairness and rating steering work, determinism, the greedy
baseline's known-worse cases, and the travel estimator.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from yuyue.dispatch.matching import (
    DEFAULT_WEIGHTS,
    Assignment,
    Candidate,
    OrderPoint,
    Problem,
    Weights,
    eligibility_matrix,
    gini,
    greedy_nearest,
    match_round,
    provider_loads,
    score,
)
from yuyue.dispatch.travel import HaversineEstimator, TravelEstimator, get_estimator

EST = HaversineEstimator()
TRAVEL_ONLY = Weights(rating=0, fairness=0)
BASE = (31.23, 121.47)
KM_LAT = 1 / 111.195  # degrees of latitude per km


def north(km: float) -> tuple[float, float]:
    """A point `km` north of BASE."""
    return BASE[0] + km * KM_LAT, BASE[1]


def random_round(seed: int, n: int = 5, m: int = 6, density: float = 0.6, max_capacity: int = 1):
    rng = np.random.default_rng(seed)
    orders = [
        OrderPoint(f"o{i}", 31.2 + rng.random() * 0.1, 121.4 + rng.random() * 0.1) for i in range(n)
    ]
    candidates = [
        Candidate(
            100 + j,
            31.2 + rng.random() * 0.1,
            121.4 + rng.random() * 0.1,
            rating=round(float(rng.uniform(3.0, 5.0)), 1),
            load_today=int(rng.integers(0, 5)),
            capacity=int(rng.integers(1, max_capacity + 1)),
        )
        for j in range(m)
    ]
    eligible = [np.flatnonzero(rng.random(m) < density) for _ in range(n)]
    return orders, candidates, eligible


def brute_force(orders, candidates, eligible, weights=DEFAULT_WEIGHTS, max_travel=None):
    """(most orders served, least total cost) over every choice of candidate-or-none per order,
    within each candidate's capacity. A provider taking t orders pays fairness for
    load_today, load_today + 1, ... load_today + t - 1."""
    t = EST.matrix([(o.lat, o.lng) for o in orders], [(c.lat, c.lng) for c in candidates])
    options = []
    for i, row in enumerate(eligible):
        ok = [j for j in row if max_travel is None or t[i, j] <= max_travel]
        options.append([None, *ok])
    best = (0, 0.0)
    for choice in itertools.product(*options):
        counts = Counter(j for j in choice if j is not None)
        if any(n > candidates[j].capacity for j, n in counts.items()):
            continue
        cost = sum(weights.travel * t[i, j] for i, j in enumerate(choice) if j is not None)
        for j, taken in counts.items():
            c = candidates[j]
            cost += taken * weights.rating * (5 - c.rating)
            cost += weights.fairness * sum(c.load_today + k for k in range(taken))
        served = len(choice) - choice.count(None)
        if served > best[0] or (served == best[0] and cost < best[1]):
            best = (served, cost)
    return best


def check_feasible(result, orders, candidates, eligible):
    order_index = {o.id: i for i, o in enumerate(orders)}
    cand_index = {c.id: j for j, c in enumerate(candidates)}
    assert len({a.order_id for a in result}) == len(result), "an order assigned twice"
    for a in result:
        assert cand_index[a.candidate_id] in set(eligible[order_index[a.order_id]])
    counts = Counter(a.candidate_id for a in result)
    for j, c in enumerate(candidates):
        assert counts[c.id] <= c.capacity, f"candidate {j} over capacity"


def total(result):
    return sum(a.cost for a in result)


# --- optimality -------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_optimal_matches_brute_force_5x6(seed):
    orders, candidates, eligible = random_round(seed, 5, 6, density=0.5)
    result = match_round(orders, candidates, eligible, estimator=EST)
    served, cost = brute_force(orders, candidates, eligible)
    check_feasible(result, orders, candidates, eligible)
    assert len(result) == served
    assert total(result) == pytest.approx(cost, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 5),
    m=st.integers(1, 6),
    density=st.floats(0.1, 1.0),
    max_capacity=st.integers(1, 3),
    solver=st.sampled_from(["auto", "dense", "sparse"]),
)
def test_optimal_matches_brute_force_with_capacity(seed, n, m, density, max_capacity, solver):
    orders, candidates, eligible = random_round(seed, n, m, density, max_capacity)
    result = match_round(orders, candidates, eligible, estimator=EST, solver=solver)
    served, cost = brute_force(orders, candidates, eligible)
    check_feasible(result, orders, candidates, eligible)
    assert len(result) == served
    assert total(result) == pytest.approx(cost, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), limit=st.floats(1.0, 30.0))
def test_max_travel_minutes_is_a_hard_limit_and_still_optimal(seed, limit):
    orders, candidates, eligible = random_round(seed, 4, 5, density=0.8)
    result = match_round(orders, candidates, eligible, estimator=EST, max_travel_minutes=limit)
    assert all(a.travel_minutes <= limit for a in result)
    served, cost = brute_force(orders, candidates, eligible, max_travel=limit)
    assert (len(result), total(result)) == (served, pytest.approx(cost, abs=1e-9))


def test_dense_and_sparse_solvers_agree_on_a_larger_round():
    orders, candidates, eligible = random_round(7, 80, 120, density=0.1, max_capacity=2)
    dense = match_round(orders, candidates, eligible, solver="dense")
    sparse_ = match_round(orders, candidates, eligible, solver="sparse")
    assert len(dense) == len(sparse_)
    assert total(dense) == pytest.approx(total(sparse_), abs=1e-6)
    check_feasible(dense, orders, candidates, eligible)
    check_feasible(sparse_, orders, candidates, eligible)


def test_serving_more_orders_beats_a_cheaper_round():
    # Serving both orders needs the far provider; one order alone could have a 0-minute trip.
    orders = [OrderPoint(1, *north(0)), OrderPoint(2, *north(0))]
    near, far = Candidate(10, *north(0)), Candidate(11, *north(20))
    result = match_round(orders, [near, far], [[0, 1], [0]], estimator=EST)
    assert {(a.order_id, a.candidate_id) for a in result} == {(1, 11), (2, 10)}


# --- eligibility ------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), density=st.floats(0.0, 1.0))
def test_never_assigns_an_ineligible_pair_in_any_eligibility_form(seed, density):
    orders, candidates, eligible = random_round(seed, 6, 8, density, max_capacity=2)
    n, m = len(orders), len(candidates)
    mask = np.zeros((n, m), dtype=bool)
    for i, row in enumerate(eligible):
        mask[i, row] = True
    forms = [
        eligible,
        [set(map(int, row)) for row in eligible],
        [list(map(int, row)) for row in eligible],
        mask,
        sparse.csr_array(mask),
        sparse.coo_matrix(mask.astype(np.int8)),
    ]
    results = [match_round(orders, candidates, form, estimator=EST) for form in forms]
    check_feasible(results[0], orders, candidates, eligible)
    assert all(r == results[0] for r in results[1:])
    check_feasible(greedy_nearest(orders, candidates, mask), orders, candidates, eligible)


def test_orders_without_an_eligible_candidate_are_left_out():
    orders = [OrderPoint(1, *north(0)), OrderPoint(2, *north(1)), OrderPoint(3, *north(2))]
    candidates = [Candidate(10, *north(0)), Candidate(11, *north(2))]
    result = match_round(orders, candidates, [[0], [], [0, 1]], estimator=EST)
    assert [(a.order_id, a.candidate_id) for a in result] == [(1, 10), (3, 11)]
    assert greedy_nearest(orders, candidates, [[], [], []]) == []
    assert match_round(orders, candidates, [[], [], []]) == []
    assert match_round([], candidates, []) == []
    assert match_round(orders, [], [[], [], []]) == []


def test_a_provider_with_no_capacity_takes_nothing():
    orders = [OrderPoint(1, *north(0))]
    candidates = [Candidate(10, *north(0), capacity=0), Candidate(11, *north(5))]
    assert [a.candidate_id for a in match_round(orders, candidates, [[0, 1]])] == [11]
    assert [a.candidate_id for a in greedy_nearest(orders, candidates, [[0, 1]])] == [11]


def test_eligibility_matrix_checks_its_input():
    m = eligibility_matrix([[2, 0, 2], [], {1}], 3, 3)
    assert m.toarray().tolist() == [[True, False, True], [False] * 3, [False, True, False]]
    with pytest.raises(ValueError, match="out of range"):
        eligibility_matrix([[3]], 1, 3)
    with pytest.raises(ValueError, match="out of range"):
        eligibility_matrix([[-1]], 1, 3)
    with pytest.raises(ValueError, match="rows"):
        eligibility_matrix([[0]], 2, 3)
    with pytest.raises(ValueError, match="expected"):
        eligibility_matrix(sparse.csr_array((2, 2), dtype=bool), 3, 3)
    with pytest.raises(ValueError, match="boolean"):
        eligibility_matrix(np.zeros((1, 3), dtype=int), 1, 3)


# --- what the cost steers ---------------------------------------------------------------------


def test_fairness_shifts_work_to_the_less_loaded():
    orders = [OrderPoint(1, *north(0))]
    busy = Candidate(1, *north(0), load_today=4)
    idle = Candidate(2, *north(1), load_today=0)  # about 3 minutes further
    both = [[0, 1]]
    assert match_round(orders, [busy, idle], both, estimator=EST)[0].candidate_id == 2
    assert match_round(orders, [busy, idle], both, weights=TRAVEL_ONLY)[0].candidate_id == 1


def test_fairness_spreads_a_round_over_providers_and_lowers_the_load_gini():
    # Three orders; the three nearest providers already did 3 orders today, three idle ones
    # wait about 3 minutes further away.
    orders = [OrderPoint(i, *north(0.1 * i)) for i in range(3)]
    candidates = [
        Candidate(j, *north(0.1 * j if j < 3 else 1 + 0.1 * j), load_today=3 if j < 3 else 0)
        for j in range(6)
    ]
    everyone = [range(6)] * 3
    fair = match_round(orders, candidates, everyone, weights=Weights(rating=0, fairness=5))
    near = match_round(orders, candidates, everyone, weights=TRAVEL_ONLY)
    assert {a.candidate_id for a in fair} == {3, 4, 5}
    assert {a.candidate_id for a in near} == {0, 1, 2}
    assert score(fair, orders, candidates).load_gini < score(near, orders, candidates).load_gini


def test_rating_prefers_the_better_provider_at_a_similar_distance():
    orders = [OrderPoint(1, *north(0))]
    low, high = Candidate(1, *north(0), rating=3.0), Candidate(2, *north(1), rating=5.0)
    assert match_round(orders, [low, high], [[0, 1]])[0].candidate_id == 2
    assert match_round(orders, [low, high], [[0, 1]], weights=TRAVEL_ONLY)[0].candidate_id == 1


def test_capacity_lets_one_provider_take_several_orders_at_a_rising_marginal_cost():
    orders = [OrderPoint(i, *north(0)) for i in range(3)]
    near = Candidate(10, *north(0), capacity=2, load_today=1)
    far = Candidate(11, *north(30))
    weights = Weights(rating=0, fairness=2)
    result = match_round(orders, [near, far], [[0, 1]] * 3, weights=weights)
    assert Counter(a.candidate_id for a in result) == {10: 2, 11: 1}
    near_costs = sorted(a.cost for a in result if a.candidate_id == 10)
    assert near_costs == pytest.approx([2.0, 4.0])  # load 1, then 2
    loads = provider_loads(result, [near, far])
    assert loads.tolist() == [3.0, 1.0]
    greedy = greedy_nearest(orders, [near, far], [[0, 1]] * 3, weights=weights)
    assert [a.candidate_id for a in greedy] == [10, 10, 11]
    assert [a.cost for a in greedy[:2]] == pytest.approx([2.0, 4.0])


def test_weights_must_not_be_negative():
    with pytest.raises(ValueError):
        Weights(fairness=-1)


# --- determinism ------------------------------------------------------------------------------


def test_same_round_same_answer_even_with_exact_ties():
    # Identical providers at the same spot: every assignment ties; the answer must not wander.
    orders = [OrderPoint(i, *north(0)) for i in range(4)]
    candidates = [Candidate(j, *north(0)) for j in range(6)]
    everyone = [range(6)] * 4
    first = match_round(orders, candidates, everyone)
    for _ in range(5):
        assert match_round(orders, candidates, everyone) == first
        assert match_round(orders, candidates, everyone, solver="dense") == match_round(
            orders, candidates, everyone, solver="dense"
        )
    assert [a.order_id for a in first] == [0, 1, 2, 3]  # in the orders' given order
    greedy = greedy_nearest(orders, candidates, everyone)
    assert [a.candidate_id for a in greedy] == [0, 1, 2, 3]  # ties: the earlier candidate


def test_problem_bundle_gives_the_same_answer():
    orders, candidates, eligible = random_round(3, 5, 6)
    bundle = Problem(orders, candidates, eligible)
    assert match_round(bundle, estimator=EST) == match_round(orders, candidates, eligible)
    assert greedy_nearest(bundle) == greedy_nearest(orders, candidates, eligible)
    with pytest.raises(TypeError):
        match_round(orders, candidates)


# --- the greedy baseline ----------------------------------------------------------------------


def test_greedy_travels_further_where_the_optimal_round_does_not():
    # On one street: A (first in line) grabs P, 0.9 km away, which leaves B the 3 km trip to Q;
    # the optimal round sends Q to A (1 km) and P to B (1.1 km).
    orders = [OrderPoint("A", *north(0)), OrderPoint("B", *north(2))]
    candidates = [Candidate("P", *north(0.9)), Candidate("Q", *north(-1))]
    everyone = [[0, 1], [0, 1]]
    greedy = greedy_nearest(orders, candidates, everyone, weights=TRAVEL_ONLY)
    best = match_round(orders, candidates, everyone, weights=TRAVEL_ONLY)
    assert {(a.order_id, a.candidate_id) for a in greedy} == {("A", "P"), ("B", "Q")}
    assert {(a.order_id, a.candidate_id) for a in best} == {("A", "Q"), ("B", "P")}
    g = score(greedy, orders, candidates).total_travel
    o = score(best, orders, candidates).total_travel
    assert o < g
    assert g / EST.minutes_per_km == pytest.approx(3.9, abs=0.01)
    assert o / EST.minutes_per_km == pytest.approx(2.1, abs=0.01)


def test_greedy_strands_an_order_the_optimal_round_serves():
    # Order 2 comes first and takes its nearest provider, the only one order 1 may have.
    orders = [OrderPoint(2, *north(0)), OrderPoint(1, *north(10))]
    candidates = [Candidate(10, *north(1)), Candidate(11, *north(-2))]
    eligible = [[0, 1], [0]]
    assert len(greedy_nearest(orders, candidates, eligible)) == 1
    best = match_round(orders, candidates, eligible)
    assert {(a.order_id, a.candidate_id) for a in best} == {(2, 11), (1, 10)}


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 12),
    m=st.integers(1, 12),
    density=st.floats(0.05, 1.0),
    max_capacity=st.integers(1, 2),
    travel_only=st.booleans(),
)
def test_optimal_is_never_worse_than_greedy(seed, n, m, density, max_capacity, travel_only):
    orders, candidates, eligible = random_round(seed, n, m, density, max_capacity)
    weights = TRAVEL_ONLY if travel_only else Weights()
    best = match_round(orders, candidates, eligible, weights=weights)
    greedy = greedy_nearest(orders, candidates, eligible, weights=weights)
    check_feasible(greedy, orders, candidates, eligible)
    assert len(best) >= len(greedy)
    if len(best) == len(greedy):
        assert total(best) <= total(greedy) + 1e-9


# --- scoring ----------------------------------------------------------------------------------


def test_score_of_a_round():
    orders = [OrderPoint(i, *north(0)) for i in range(4)]
    candidates = [Candidate(10, *north(0), load_today=2), Candidate(11, *north(0))]
    result = [Assignment(0, 10, 2.0, 3.0), Assignment(1, 11, 4.0, 5.0), Assignment(2, 11, 9, 9)]
    s = score(result, orders, candidates)
    assert (s.orders, s.assigned, s.share_assigned) == (4, 3, 0.75)
    assert (s.total_travel, s.mean_travel, s.p50_travel) == (15.0, 5.0, 4.0)
    assert s.p95_travel == pytest.approx(8.5)
    assert s.total_cost == 17.0
    assert s.load_gini == gini([3, 2]) == pytest.approx(0.1)
    empty = score([], orders, candidates)
    assert empty.assigned == 0 and math.isnan(empty.p95_travel)


def test_gini():
    assert gini([1, 1, 1, 1]) == 0
    assert gini([0, 0, 0, 4]) == 0.75
    assert gini([]) == 0 and gini([0, 0]) == 0
    assert gini(np.array([2.0, 1.0])) == pytest.approx(1 / 6)


# --- travel -----------------------------------------------------------------------------------


def test_haversine_estimator():
    est = HaversineEstimator(speed_kmh=30, detour=1.5)
    assert est.minutes(*north(0), *north(10)) == pytest.approx(10 * 1.5 / 30 * 60, rel=1e-3)
    assert est.minutes(31.0, 121.0, 31.0, 121.0) == 0
    origins = np.array([north(0), north(1), north(2)])
    destinations = np.array([north(5), north(7)])
    matrix = est.matrix(origins, destinations)
    assert matrix.shape == (3, 2)
    assert matrix[1, 1] == pytest.approx(est.minutes(*origins[1], *destinations[1]))
    assert matrix[2, 0] == pytest.approx(3 * est.minutes_per_km, rel=1e-3)
    pairs = est.pairwise(origins[:2], destinations)
    assert pairs == pytest.approx([matrix[0, 0], matrix[1, 1]])
    # Shanghai to Beijing, roughly 1,070 km in a straight line.
    assert est.km([(31.23, 121.47)], [(39.90, 116.41)])[0, 0] == pytest.approx(1068, abs=10)
    with pytest.raises(ValueError):
        HaversineEstimator(speed_kmh=0)


class MatrixOnly:
    """An estimator with only the protocol's two methods (no pairwise fast path)."""

    def __init__(self):
        self.inner = HaversineEstimator()

    def minutes(self, from_lat, from_lng, to_lat, to_lng):
        return self.inner.minutes(from_lat, from_lng, to_lat, to_lng)

    def matrix(self, origins, destinations):
        return self.inner.matrix(origins, destinations)


class Unreachable(MatrixOnly):
    """Everything further than 2 km north is unreachable (an infinite estimate)."""

    def matrix(self, origins, destinations):
        out = super().matrix(origins, destinations)
        return np.where(np.asarray(destinations)[None, :, 0] > north(2)[0], np.inf, out)


def test_a_plugged_in_estimator_without_pairwise_gives_the_same_round():
    orders, candidates, eligible = random_round(11, 8, 10, density=0.5, max_capacity=2)
    assert isinstance(MatrixOnly(), TravelEstimator)
    assert match_round(orders, candidates, eligible, estimator=MatrixOnly()) == pytest.approx(
        match_round(orders, candidates, eligible, estimator=EST)
    )


def test_an_unreachable_estimate_is_never_assigned():
    orders = [OrderPoint(1, *north(0))]
    candidates = [Candidate(10, *north(3)), Candidate(11, *north(1), rating=0)]
    result = match_round(orders, candidates, [[0, 1]], estimator=Unreachable())
    assert [a.candidate_id for a in result] == [11]


def test_get_estimator():
    assert isinstance(get_estimator(None), HaversineEstimator)
    assert isinstance(get_estimator(""), HaversineEstimator)
    assert isinstance(get_estimator("yuyue.dispatch.travel.HaversineEstimator"), HaversineEstimator)
    plugged = get_estimator(f"{__name__}.MatrixOnly")
    assert isinstance(plugged, MatrixOnly)
    with pytest.raises(ImportError):
        get_estimator("yuyue.dispatch.travel.NoSuchEstimator")
    with pytest.raises(ImportError):
        get_estimator("HaversineEstimator")
    with pytest.raises(TypeError):
        get_estimator("math.sqrt")
