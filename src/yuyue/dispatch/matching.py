"""Optimal matching of a dispatch round's open orders to eligible providers.

Cost of giving order i to provider j = travel minutes + rating penalty + fairness penalty
(today's load). Ineligible pairs cost INFEASIBLE and are never assigned. To assign as many orders
as possible first and only then minimise cost, every feasible pair earns a large bonus
(ASSIGN_BONUS, larger than any round's total cost), which `linear_sum_assignment` (optimal) then
trades against cost. Only candidates eligible for at least one order enter the matrix.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from .travel import HaversineEstimator, TravelEstimator

INFEASIBLE = 1e9
ASSIGN_BONUS = 1e6


@dataclass(frozen=True)
class OrderPoint:
    id: int
    lat: float
    lng: float


@dataclass(frozen=True)
class Candidate:
    id: int
    lat: float
    lng: float
    rating: float = 5.0
    load_today: int = 0


@dataclass(frozen=True)
class Weights:
    travel: float = 1.0  # per minute
    rating: float = 6.0  # per star below 5
    fairness: float = 4.0  # per order already done today


@dataclass(frozen=True)
class Assignment:
    order_id: int
    candidate_id: int
    travel_minutes: float
    cost: float


@dataclass
class Problem:
    orders: list[OrderPoint]
    candidates: list[Candidate]
    # eligible[i] = indices into `candidates` that may take orders[i]
    eligible: list[np.ndarray] = field(default_factory=list)


def _costs(problem: Problem, estimator: TravelEstimator, weights: Weights):
    used = sorted({int(j) for e in problem.eligible for j in e})
    if not problem.orders or not used:
        return used, None, None
    cands = [problem.candidates[j] for j in used]
    travel = estimator.matrix(
        np.array([[o.lat, o.lng] for o in problem.orders]),
        np.array([[c.lat, c.lng] for c in cands]),
    )
    extra = np.array(
        [weights.rating * (5.0 - c.rating) + weights.fairness * c.load_today for c in cands]
    )
    cost = weights.travel * travel + extra[None, :]
    mask = np.zeros_like(cost, dtype=bool)
    col = {j: k for k, j in enumerate(used)}
    for i, e in enumerate(problem.eligible):
        mask[i, [col[int(j)] for j in e]] = True
    return used, travel, np.where(mask, cost, np.inf), mask


def match_round(
    problem: Problem, *, estimator: TravelEstimator | None = None, weights: Weights = Weights()
) -> list[Assignment]:
    """The assignment that serves the most orders, and among those costs least in total."""
    estimator = estimator or HaversineEstimator()
    out = _costs(problem, estimator, weights)
    used, travel = out[0], out[1]
    if travel is None:
        return []
    cost, mask = out[2], out[3]
    solver_cost = np.where(mask, cost - ASSIGN_BONUS, INFEASIBLE)
    rows, cols = linear_sum_assignment(solver_cost)
    result = [
        Assignment(
            problem.orders[i].id,
            problem.candidates[used[k]].id,
            float(travel[i, k]),
            float(cost[i, k]),
        )
        for i, k in zip(rows, cols, strict=True)
        if mask[i, k]
    ]
    return sorted(result, key=lambda a: a.order_id)


def greedy_nearest(
    problem: Problem, *, estimator: TravelEstimator | None = None, weights: Weights = Weights()
) -> list[Assignment]:
    """The reference design's dispatcher: each order in turn takes its nearest free candidate."""
    estimator = estimator or HaversineEstimator()
    out = _costs(problem, estimator, weights)
    used, travel = out[0], out[1]
    if travel is None:
        return []
    cost, mask = out[2], out[3]
    taken: set[int] = set()
    result = []
    for i in range(len(problem.orders)):
        options = [k for k in np.flatnonzero(mask[i]) if k not in taken]
        if not options:
            continue
        k = min(options, key=lambda k: (travel[i, k], k))
        taken.add(k)
        result.append(
            Assignment(
                problem.orders[i].id,
                problem.candidates[used[k]].id,
                float(travel[i, k]),
                float(cost[i, k]),
            )
        )
    return result


def gini(values) -> float:
    v = np.sort(np.asarray(values, dtype=float))
    if v.size == 0 or v.sum() == 0:
        return 0.0
    n = v.size
    return float((2 * np.arange(1, n + 1) - n - 1).dot(v) / (n * v.sum()))
