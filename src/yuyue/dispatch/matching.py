"""The matching core of a dispatch round: which provider gets which open order.

Pure numpy/scipy, no database: the dispatch service gathers the round's open orders, the
providers, and who is qualified for what (skill, service area, free time, cap on open orders are
all decided there), and calls `match_round`.

Eligibility
    For n orders and m candidates, either
    - a scipy.sparse array/matrix of shape (n, m), any format: a stored non-zero at (i, j) means
      candidates[j] may take orders[i] (the efficient form for 1,000 × 3,000: only the eligible
      pairs are stored, priced and handed to the solver), or
    - a sequence of n index collections (numpy int arrays, lists, sets, ranges): `eligible[i]`
      holds the indices into `candidates` qualified for orders[i], or
    - a dense boolean numpy array of shape (n, m).
    `eligibility_matrix()` turns any of them into the canonical CSR boolean array.

Cost of giving order i to candidate j, in minutes of travel (the weights are the round's, or the
order's own when its `OrderPoint.weights` is set: each merchant's policy, `POLICIES`):
    weights.travel × travel minutes
    + weights.rating × (5 − rating)                 (stars below five)
    + weights.fairness × (load_today + k)           (k orders already given to j in this round)
    + weights.record × breaches                     (commitments broken lately)
A provider with capacity c appears as c columns (copies k = 0 … c−1); since the fairness term
grows with k the copies fill in order, so the reported cost is always the marginal one.

`match_round` serves as many orders as possible and, among the assignments that serve that many,
returns one of least total cost — optimal, by `scipy.optimize.linear_sum_assignment` (dense) or
`scipy.sparse.csgraph.min_weight_full_bipartite_matching` (sparse), whichever is faster for the
problem's shape. Ineligible pairs (and pairs beyond `max_travel_minutes`) are never assigned;
orders with no eligible candidate are left out. The result depends only on the input, never on
hashing or time; it lists assignments in the orders' given order.

`greedy_nearest` is the reference design's dispatcher (each order in turn takes its nearest free
eligible candidate), kept as the baseline the benchmark compares against; `score` measures either.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy import sparse
from scipy.optimize import linear_sum_assignment
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

from .travel import HaversineEstimator, TravelEstimator

MAX_RATING = 5.0
# The sparse solver is used when at most this share of the (orders × columns) matrix is
# eligible; above it the dense one is faster (bench/dispatch.py measures both).
SPARSE_MAX_DENSITY = 0.25


@dataclass(frozen=True, slots=True)
class OrderPoint:
    """An open order's place (订单位置)."""

    id: Hashable
    lat: float
    lng: float
    weights: Weights | None = None  # this order's own cost terms (its merchant's policy)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A provider who may be offered orders in this round (候选服务人员).

    `rating` is 0–5 stars; `load_today` the orders they already did today; `capacity` how many
    orders they may take in this round (usually 1; 0 takes none); `breaches` the commitments they
    broke lately (`dispatch.record.recent_breaches`).
    """

    id: Hashable
    lat: float
    lng: float
    rating: float = MAX_RATING
    load_today: int = 0
    capacity: int = 1
    breaches: int = 0


@dataclass(frozen=True, slots=True)
class Weights:
    """Cost terms, all in minutes of travel.

    The defaults: a star of rating below five is worth 5 minutes of travel, each order a
    provider already has today (or takes earlier in this round) 3 minutes, and each commitment
    they broke lately 5 minutes, so that among providers a few minutes apart the better-rated,
    the less-loaded and the more reliable one gets the order.
    """

    travel: float = 1.0  # per minute of travel
    rating: float = 5.0  # per star below five
    fairness: float = 3.0  # per order already done today or taken in this round
    record: float = 5.0  # per breach in the provider's recent record

    def __post_init__(self):
        if min(self.travel, self.rating, self.fairness, self.record) < 0:
            raise ValueError("weights must not be negative")


DEFAULT_WEIGHTS = Weights()

# The merchants' dispatch policies (catalog.DispatchPolicy), as cost terms. "travel": least total
# travel among the assignments that serve the most orders. "balanced": travel first, but a star
# of rating is worth 2 minutes, each order already done today 1 and each recent breach 3, which
# only decides between providers a few minutes apart. "quality": a star is worth 10 minutes and
# a breach 15, so a better-rated, reliable provider comes from farther away; today's load barely
# counts. docs/dispatch.md shows what each costs in travel on the benchmark's city.
POLICIES = {
    "travel": Weights(travel=1.0, rating=0.0, fairness=0.0, record=0.0),
    "balanced": Weights(travel=1.0, rating=2.0, fairness=1.0, record=3.0),
    "quality": Weights(travel=1.0, rating=10.0, fairness=0.5, record=15.0),
}


@dataclass(frozen=True, slots=True)
class Assignment:
    order_id: Hashable
    candidate_id: Hashable
    travel_minutes: float
    cost: float


@dataclass
class Problem:
    """One round's input bundled: `match_round(problem, ...)` unpacks it."""

    orders: Sequence[OrderPoint]
    candidates: Sequence[Candidate]
    eligible: object = field(default_factory=list)  # any eligibility form (module docstring)


Eligibility = sparse.sparray | sparse.spmatrix | np.ndarray | Sequence[Iterable[int]]
Solver = Literal["auto", "dense", "sparse"]


# --- eligibility ------------------------------------------------------------------------------


def eligibility_matrix(eligible: Eligibility, n_orders: int, n_candidates: int) -> sparse.csr_array:
    """Any accepted eligibility form as an (n_orders × n_candidates) CSR boolean array with
    sorted column indices and no duplicates."""
    shape = (n_orders, n_candidates)
    if sparse.issparse(eligible):
        if eligible.shape != shape:
            raise ValueError(f"eligibility is {eligible.shape}, expected {shape}")
        matrix = sparse.csr_array(eligible).astype(bool)
        matrix.eliminate_zeros()
    elif isinstance(eligible, np.ndarray) and eligible.ndim == 2:
        if eligible.dtype != bool:
            raise ValueError("a dense eligibility array must be boolean (or give index arrays)")
        if eligible.shape != shape:
            raise ValueError(f"eligibility is {eligible.shape}, expected {shape}")
        matrix = sparse.csr_array(eligible)
    else:
        rows = list(eligible)
        if len(rows) != n_orders:
            raise ValueError(f"eligibility has {len(rows)} rows for {n_orders} orders")
        parts = [
            np.fromiter(r, dtype=np.int64, count=len(r))
            if isinstance(r, set | frozenset)
            else np.asarray(r, dtype=np.int64).ravel()
            for r in rows
        ]
        counts = np.fromiter((p.size for p in parts), dtype=np.int64, count=n_orders)
        indices = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        if indices.size and (indices.min() < 0 or indices.max() >= n_candidates):
            raise ValueError("eligibility names a candidate index out of range")
        indptr = np.concatenate([[0], np.cumsum(counts)])
        matrix = sparse.csr_array((np.ones(indices.size, dtype=bool), indices, indptr), shape=shape)
    matrix.sum_duplicates()  # also sorts the indices of each row
    return matrix


# --- pricing ----------------------------------------------------------------------------------


def _pair_minutes(estimator: TravelEstimator, origins: np.ndarray, destinations: np.ndarray):
    """Minutes for each pair origins[k] → destinations[k]."""
    if hasattr(estimator, "pairwise"):
        return np.asarray(estimator.pairwise(origins, destinations), dtype=float)
    # Only the protocol's matrix(): price the distinct points once, then pick the pairs.
    uo, oi = np.unique(origins, axis=0, return_inverse=True)
    ud, di = np.unique(destinations, axis=0, return_inverse=True)
    return np.asarray(estimator.matrix(uo, ud), dtype=float)[oi.ravel(), di.ravel()]


@dataclass
class _Pairs:
    """The eligible (order, candidate-copy) pairs of a round, priced."""

    order: np.ndarray  # order index per pair
    cand: np.ndarray  # candidate index per pair
    travel: np.ndarray  # minutes
    cost: np.ndarray  # marginal cost of this copy


def _price(orders, candidates, eligible, estimator, weights, max_travel_minutes):
    """The priced pairs, each candidate's number of copies, and each pair's copy number."""
    n, m = len(orders), len(candidates)
    matrix = eligibility_matrix(eligible, n, m)
    order = np.repeat(np.arange(n), np.diff(matrix.indptr))
    cand = matrix.indices.astype(np.int64)
    capacity = np.fromiter((c.capacity for c in candidates), dtype=np.int64, count=m)
    keep = capacity[cand] > 0
    order, cand = order[keep], cand[keep]
    o_xy = np.array([(o.lat, o.lng) for o in orders], dtype=float).reshape(-1, 2)
    c_xy = np.array([(c.lat, c.lng) for c in candidates], dtype=float).reshape(-1, 2)
    travel = _pair_minutes(estimator, o_xy[order], c_xy[cand]) if order.size else np.zeros(0)
    keep = np.isfinite(travel)  # an estimator may answer inf/nan for "unreachable"
    if max_travel_minutes is not None:
        keep &= travel <= max_travel_minutes
    order, cand, travel = order[keep], cand[keep], travel[keep]
    rating = np.clip([c.rating for c in candidates], 0.0, MAX_RATING)
    load = np.fromiter((c.load_today for c in candidates), dtype=float, count=m)
    breaches = np.fromiter((c.breaches for c in candidates), dtype=float, count=m)
    w_travel, w_rating, w_fair, w_record = _order_weights(orders, weights)
    w_fair = w_fair[order] if np.ndim(w_fair) else w_fair
    if np.ndim(w_travel):
        w_travel, w_rating, w_record = w_travel[order], w_rating[order], w_record[order]
    cost = (
        w_travel * travel
        + w_rating * (MAX_RATING - rating[cand])
        + w_fair * load[cand]
        + w_record * breaches[cand]
    )

    # Capacity > 1: one column per copy, copy k costs k more orders of fairness. A provider never
    # needs more copies than the orders eligible for them.
    degree = np.bincount(cand, minlength=m)
    copies = np.minimum(capacity, degree)
    if order.size and copies.max() > 1:
        reps = copies[cand]
        first = np.cumsum(reps) - reps
        idx = np.repeat(np.arange(order.size), reps)
        k = np.arange(idx.size) - np.repeat(first, reps)
        order, cand, travel = order[idx], cand[idx], travel[idx]
        cost = cost[idx] + (w_fair[idx] if np.ndim(w_fair) else w_fair) * k
        return _Pairs(order, cand, travel, cost), copies, k
    return _Pairs(order, cand, travel, cost), copies, np.zeros(order.size, dtype=np.int64)


def _order_weights(orders, weights: Weights):
    """(travel, rating, fairness, record) weights: scalars when every order uses `weights`,
    else one of each per order (an order's own `weights` first)."""
    if all(o.weights is None or o.weights == weights for o in orders):
        return weights.travel, weights.rating, weights.fairness, weights.record
    own = [o.weights or weights for o in orders]
    return (
        np.array([w.travel for w in own]),
        np.array([w.rating for w in own]),
        np.array([w.fairness for w in own]),
        np.array([w.record for w in own]),
    )


# --- the optimal round ------------------------------------------------------------------------


def _solve(rows: np.ndarray, cols: np.ndarray, cost: np.ndarray, shape, solver: Solver):
    """Indices (into the pair arrays) of a maximum-cardinality, then minimum-cost matching."""
    n_rows, n_cols = shape
    shifted = cost + 1.0  # strictly positive: the sparse solver ignores zero weights
    # Leaving an order out costs more than any matching can save, so more orders always win.
    big = (min(n_rows, n_cols) + 1) * (float(shifted.max()) + 1.0)
    if solver == "auto":
        solver = "sparse" if rows.size <= SPARSE_MAX_DENSITY * n_rows * n_cols else "dense"
    if solver == "dense":
        dense = np.full(shape, big)
        dense[rows, cols] = shifted
        r, c = linear_sum_assignment(dense)
    elif solver == "sparse":
        # One dummy column per order ("left unassigned") so a full matching always exists.
        graph = sparse.csr_array(
            (
                np.concatenate([shifted, np.full(n_rows, big)]),
                (
                    np.concatenate([rows, np.arange(n_rows)]),
                    np.concatenate([cols, n_cols + np.arange(n_rows)]),
                ),
            ),
            shape=(n_rows, n_cols + n_rows),
        )
        r, c = min_weight_full_bipartite_matching(graph)
        real = c < n_cols
        r, c = r[real], c[real]
    else:
        raise ValueError(f"unknown solver {solver!r}")
    # Map each matched (row, column) back to its pair; pairs not eligible (the dense filler)
    # are not found and drop out.
    key = rows.astype(np.int64) * n_cols + cols
    order = np.argsort(key, kind="stable")
    wanted = r.astype(np.int64) * n_cols + c
    pos = np.searchsorted(key, wanted, sorter=order)
    pos = np.minimum(pos, key.size - 1)
    hit = key[order[pos]] == wanted
    return order[pos[hit]]


def match_round(
    orders: Sequence[OrderPoint] | Problem,
    candidates: Sequence[Candidate] | None = None,
    eligible: Eligibility | None = None,
    *,
    estimator: TravelEstimator | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    max_travel_minutes: float | None = None,
    solver: Solver = "auto",
) -> list[Assignment]:
    """The assignment that serves the most orders and, among those, costs least in total.

    `eligible` in any form of the module docstring; `estimator` defaults to HaversineEstimator();
    `max_travel_minutes` makes farther pairs ineligible. `match_round(problem, ...)` with a
    `Problem` works too. `solver` is for measuring: "auto" picks the faster optimal solver.
    """
    orders, candidates, eligible = _unpack(orders, candidates, eligible)
    if not orders or not candidates:
        return []
    pairs, copies, k = _price(
        orders, candidates, eligible, estimator or HaversineEstimator(), weights, max_travel_minutes
    )
    if pairs.order.size == 0:
        return []
    # Only orders with an eligible candidate become rows; only candidate copies eligible for
    # some order become columns.
    row_of, rows = np.unique(pairs.order, return_inverse=True)
    first_col = np.cumsum(copies) - copies
    cols = first_col[pairs.cand] + k
    n_cols = int(copies.sum())
    picked = _solve(rows.ravel(), cols, pairs.cost, (row_of.size, n_cols), solver)
    picked = picked[np.argsort(pairs.order[picked], kind="stable")]
    return [
        Assignment(
            orders[pairs.order[p]].id,
            candidates[pairs.cand[p]].id,
            float(pairs.travel[p]),
            float(pairs.cost[p]),
        )
        for p in picked
    ]


def greedy_nearest(
    orders: Sequence[OrderPoint] | Problem,
    candidates: Sequence[Candidate] | None = None,
    eligible: Eligibility | None = None,
    *,
    estimator: TravelEstimator | None = None,
    weights: Weights = DEFAULT_WEIGHTS,
    max_travel_minutes: float | None = None,
) -> list[Assignment]:
    """The reference design's dispatcher, as a baseline: each order in the given order takes its
    nearest eligible candidate with capacity left (ties: the earlier candidate). `weights` only
    price the result, they do not steer the choice."""
    orders, candidates, eligible = _unpack(orders, candidates, eligible)
    if not orders or not candidates:
        return []
    pairs, _, k = _price(
        orders, candidates, eligible, estimator or HaversineEstimator(), weights, max_travel_minutes
    )
    first = k == 0  # one entry per eligible (order, candidate); pairs are grouped by order
    order, cand = pairs.order[first], pairs.cand[first]
    travel, cost = pairs.travel[first], pairs.cost[first]
    bounds = np.searchsorted(order, np.arange(len(orders) + 1))
    left = np.fromiter((c.capacity for c in candidates), dtype=np.int64, count=len(candidates))
    taken = np.zeros(len(candidates), dtype=np.int64)
    fairness = [(o.weights or weights).fairness for o in orders]
    result = []
    for i in range(len(orders)):
        lo, hi = bounds[i], bounds[i + 1]
        free = np.flatnonzero(left[cand[lo:hi]] > 0)
        if free.size == 0:
            continue
        p = lo + free[np.argmin(travel[lo:hi][free])]  # first minimum: lowest candidate index
        j = cand[p]
        result.append(
            Assignment(
                orders[i].id,
                candidates[j].id,
                float(travel[p]),
                float(cost[p] + fairness[i] * taken[j]),
            )
        )
        left[j] -= 1
        taken[j] += 1
    return result


def _unpack(orders, candidates, eligible):
    if isinstance(orders, Problem):
        if candidates is not None or eligible is not None:
            raise TypeError("give either a Problem or orders, candidates and eligible")
        return list(orders.orders), list(orders.candidates), orders.eligible
    if candidates is None or eligible is None:
        raise TypeError("match_round needs orders, candidates and eligible")
    return list(orders), list(candidates), eligible


# --- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoundScore:
    orders: int
    assigned: int
    share_assigned: float
    total_travel: float  # minutes
    mean_travel: float  # minutes per assigned order
    p50_travel: float
    p95_travel: float
    total_cost: float
    load_gini: float  # of load_today + orders taken in this round, over all candidates


def gini(values: Iterable[float]) -> float:
    """Gini coefficient of non-negative values: 0 when equal, → 1 when one has everything."""
    v = np.sort(np.asarray(list(values) if not isinstance(values, np.ndarray) else values, float))
    if v.size == 0 or v.sum() == 0:
        return 0.0
    n = v.size
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def provider_loads(assignments: Iterable[Assignment], candidates: Sequence[Candidate]):
    """Each candidate's load after the round: today's load + orders assigned now."""
    index = {c.id: j for j, c in enumerate(candidates)}
    load = np.fromiter((c.load_today for c in candidates), dtype=float, count=len(candidates))
    for a in assignments:
        load[index[a.candidate_id]] += 1
    return load


def score(
    assignments: Sequence[Assignment], orders: Sequence[OrderPoint], candidates: Sequence[Candidate]
) -> RoundScore:
    """Total, per-order, p50 and p95 travel, share of orders assigned and Gini of provider load.
    Travel statistics of an empty assignment are NaN."""
    travel = np.array([a.travel_minutes for a in assignments], dtype=float)
    empty = travel.size == 0
    return RoundScore(
        orders=len(orders),
        assigned=len(assignments),
        share_assigned=len(assignments) / len(orders) if orders else 0.0,
        total_travel=float(travel.sum()),
        mean_travel=float("nan") if empty else float(travel.mean()),
        p50_travel=float("nan") if empty else float(np.percentile(travel, 50)),
        p95_travel=float("nan") if empty else float(np.percentile(travel, 95)),
        total_cost=float(sum(a.cost for a in assignments)),
        load_gini=gini(provider_loads(assignments, candidates)),
    )
