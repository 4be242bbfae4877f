"""Optimal dispatch matching: optimal by brute force, never ineligible, better than greedy."""

from __future__ import annotations

import itertools

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from yuyue.dispatch.matching import (
    Candidate,
    OrderPoint,
    Problem,
    Weights,
    gini,
    greedy_nearest,
    match_round,
)
from yuyue.dispatch.travel import HaversineEstimator

EST = HaversineEstimator()


def random_problem(seed, n=5, m=6, density=0.7):
    rng = np.random.default_rng(seed)
    orders = [
        OrderPoint(i, 31.2 + rng.random() * 0.1, 121.4 + rng.random() * 0.1) for i in range(n)
    ]
    cands = [
        Candidate(
            100 + j,
            31.2 + rng.random() * 0.1,
            121.4 + rng.random() * 0.1,
            rating=float(4 + rng.random()),
            load_today=int(rng.integers(0, 4)),
        )
        for j in range(m)
    ]
    eligible = [np.flatnonzero(rng.random(m) < density) for _ in range(n)]
    return Problem(orders, cands, eligible)


def brute_force(problem, weights=None):
    """(most orders served, least total cost) over every partial assignment."""
    weights = weights or Weights()
    n, m = len(problem.orders), len(problem.candidates)
    o = np.array([[x.lat, x.lng] for x in problem.orders])
    c = np.array([[x.lat, x.lng] for x in problem.candidates])
    t = EST.matrix(o, c)
    best = (0, 0.0)
    for perm in itertools.permutations(list(range(m)) + [None] * n, n):
        served, cost = 0, 0.0
        for i, j in enumerate(perm):
            if j is None or j not in set(problem.eligible[i]):
                continue
            cand = problem.candidates[j]
            served += 1
            cost += (
                weights.travel * t[i, j]
                + weights.rating * (5 - cand.rating)
                + weights.fairness * cand.load_today
            )
        if served > best[0] or (served == best[0] and cost < best[1]):
            best = (served, cost)
    return best


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6), n=st.integers(1, 4), m=st.integers(1, 5))
def test_optimal_against_brute_force(seed, n, m):
    problem = random_problem(seed, n, m)
    got = match_round(problem, estimator=EST)
    served, cost = brute_force(problem)
    assert len(got) == served
    assert abs(sum(a.cost for a in got) - cost) < 1e-6
    for a in got:  # never an ineligible pair, each provider at most once
        i = [o.id for o in problem.orders].index(a.order_id)
        j = [c.id for c in problem.candidates].index(a.candidate_id)
        assert j in set(problem.eligible[i])
    assert len({a.candidate_id for a in got}) == len(got)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10**6))
def test_never_worse_than_greedy(seed):
    problem = random_problem(seed, 6, 7, density=0.5)
    opt, greedy = match_round(problem, estimator=EST), greedy_nearest(problem, estimator=EST)
    assert len(opt) >= len(greedy)
    if len(opt) == len(greedy):
        assert sum(a.cost for a in opt) <= sum(a.cost for a in greedy) + 1e-9


def test_greedy_loses_where_optimal_wins():
    # Order 2 comes first and takes its nearest provider A; order 1, whom only A may serve, is
    # stranded. The optimal round gives order 2 the slightly farther B and serves both.
    orders = [OrderPoint(2, 31.20, 121.40), OrderPoint(1, 31.30, 121.40)]
    cands = [Candidate(10, 31.21, 121.40), Candidate(11, 31.18, 121.40)]
    problem = Problem(orders, cands, [np.array([0, 1]), np.array([0])])
    greedy = greedy_nearest(problem, estimator=EST, weights=Weights(rating=0, fairness=0))
    opt = match_round(problem, estimator=EST, weights=Weights(rating=0, fairness=0))
    assert len(greedy) == 1  # order 1 stranded
    assert {(a.order_id, a.candidate_id) for a in opt} == {(2, 11), (1, 10)}


def test_no_eligible_candidate_leaves_the_order_open():
    problem = Problem(
        [OrderPoint(1, 31.2, 121.4)], [Candidate(9, 31.2, 121.4)], [np.array([], dtype=int)]
    )
    assert match_round(problem) == []


def test_fairness_shifts_work_to_the_less_loaded():
    orders = [OrderPoint(1, 31.2, 121.4)]
    busy = Candidate(1, 31.2, 121.4, load_today=5)
    idle = Candidate(2, 31.201, 121.401, load_today=0)  # ~0.2 min further away
    problem = Problem(orders, [busy, idle], [np.array([0, 1])])
    assert match_round(problem)[0].candidate_id == 2
    assert match_round(problem, weights=Weights(fairness=0))[0].candidate_id == 1


def test_gini():
    assert gini([1, 1, 1, 1]) == 0
    assert gini([0, 0, 0, 4]) == 0.75
