r"""The forward walk and mixing (§3 of docs/theory.md).

The forward walk of a head moves from key ``j`` to a receiver ``i >= j`` with
probability ``P[j, i] = A[i, j] / Σ_k A[k, j]``; the sink ``τ`` is absorbing.
For a walk ``P`` (upper-triangular, row-stochastic):

* absorption CDF ``F_t(j) = [P^t]_{j, τ}``, by iterating ``F_t = P F_{t-1}``
  from ``F_0 = e_τ``;
* distance to the sink ``d(t) = max_j (1 - F_t(j))``;
* mixing time ``T_mix(ε) = min{t ≥ 0 : d(t) ≤ ε}`` (``ε = 1/4``), infinite when
  a node is trapped (``P[j, j] = 1``, ``j ≠ τ``) or cut off from the sink;
* expected hitting times ``m`` with ``(I - Q) m = 1`` on the transient block,
  solved by back-substitution since ``Q`` is triangular;
* forward probability ``p = min_{j≠τ} (1 - P[j, j])``.

Bounds. With ``L`` the depth of the walk's graph:

* **M1** ``d(t) ≤ Pr[Bin(t, p) ≤ L - 1]``, so ``T_mix(ε) ≤ B(ε) = min{t : Pr[Bin(t, p) ≤ L-1] ≤ ε}``;
* **M2** ``T_mix(ε) ≤ ⌈max(2L/p, 8 ln(1/ε)/p)⌉``;
* **M3** for the mixture ``P̄(α) = Σ_h α_h P^(h)``: ``p(P̄) ≥ p̄ = Σ_h α_h p_h`` and
  ``T_mix(P̄, ε) ≤ ⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉`` with ``N = n - 1``.

Every function accepts a walk array ``(..., n, n)``, a :class:`SinkDAG` (its
walk) or a :class:`HeadSystem` (its mixture walk ``P̄`` at the system's
weights), in float64 or exact Fraction arithmetic.
"""

import math
import warnings
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
from scipy import stats

from ._arith import (leave_mass, matrix_times_column, max_last, one_like, scalar, unit_rows, where, zero_like,
                     zeros_like_rows)
from ._backend import EXACT_OR_FLOAT64, choose_engine
from ._validation import check_eps, check_steps, check_walk, is_exact
from .exceptions import ConvergenceError, InvalidInputError, InvalidTypeError, TrappedNodeWarning
from .graph import HeadSystem, SinkDAG, forward_walk, longest_paths_to_sink
from .resources import require_curves_memory, require_memory

__all__ = [
    "MixingBound",
    "MixtureBound",
    "forward_walk",
    "absorption_cdf",
    "distance_to_sink",
    "mixing_time",
    "hitting_times",
    "forward_probability",
    "trapped_nodes",
    "mixing_bound",
    "closed_form_bound",
    "mixture_mixing_bound",
]

DEFAULT_MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class MixingBound:
    """Theorems M1 and M2 for a walk (§3).

    Attributes
    ----------
    p : float, Fraction or ndarray
        Forward probability ``min_{j≠τ} (1 - P[j, j])``.
    depth : int or ndarray
        ``L``, the longest path to the sink in the walk's graph.
    binomial : int, float or ndarray
        M1's ``B(ε)`` (``inf`` when ``p = 0``).
    closed_form : int, float or ndarray
        M2's ``⌈max(2L/p, 8 ln(1/ε)/p)⌉``.
    eps : float or Fraction

    Examples
    --------
    :func:`mixing_bound` returns one. The equal mixture of §3's instance
    leaves every non-sink node with probability at least ``p = 3/8`` at each
    step, and its longest path to the sink has ``L = 3`` edges:

    >>> from dagtheory.examples import mixing_synergy
    >>> bound = mixing_bound(mixing_synergy())
    >>> bound.p, bound.depth, bound.binomial, bound.closed_form, bound.eps
    (Fraction(3, 8), 3, 10, 30, Fraction(1, 4))
    >>> mixing_time(mixing_synergy()) <= bound.binomial
    True
    """

    p: Any
    depth: Any
    binomial: Any
    closed_form: Any
    eps: Any


@dataclass(frozen=True)
class MixtureBound:
    """Theorem M3 for the mixture walk ``P̄(α)`` of a head system (§3).

    Attributes
    ----------
    alpha : ndarray, shape (H,)
    per_head_p : ndarray, shape (H,)
        Each head's forward probability ``p_h``.
    p_bar : float or Fraction
        ``Σ_h α_h p_h``.
    p_mixture : float or Fraction
        The mixture's own forward probability (``≥ p_bar`` by M3).
    bound : int or float
        ``⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉`` with ``N = n - 1``.
    per_head_bound : ndarray, shape (H,)
        The same bound with all weight on one head.
    best_head : int
        The head with the largest ``p_h``; its bound is the best single-head bound.
    eps : float or Fraction

    Examples
    --------
    :func:`mixture_mixing_bound` returns one. In §3's instance each head has
    ``p_h = 1/4``, so ``p̄ = 1/4``; the mixture's own forward probability is
    ``3/8``:

    >>> from dagtheory.examples import mixing_synergy
    >>> bound = mixture_mixing_bound(mixing_synergy())
    >>> [str(p) for p in bound.per_head_p], bound.p_bar, bound.p_mixture
    (['1/4', '1/4'], Fraction(1, 4), Fraction(3, 8))
    >>> bound.bound, bound.per_head_bound.tolist(), bound.best_head
    (45, [45.0, 45.0], 0)
    """

    alpha: Any
    per_head_p: Any
    p_bar: Any
    p_mixture: Any
    bound: Any
    per_head_bound: Any
    best_head: int
    eps: Any


def _walk(walk):
    """The validated walk of an array, a SinkDAG or a HeadSystem (its mixture walk)."""
    if isinstance(walk, SinkDAG):
        return walk.walk
    if isinstance(walk, HeadSystem):
        return walk.mixture_walk()
    return check_walk(walk)


def _cdf_columns(walk, steps):
    """Yield ``F_t = P F_{t-1}`` for ``t = 1..steps`` from ``F_0 = e_τ``."""
    columns = unit_rows(walk, -1)
    for _ in range(steps):
        columns = matrix_times_column(walk, columns)
        yield columns


def _miss_columns(walk, steps):
    """Yield the miss probabilities ``1 - F_t = P (1 - F_{t-1})`` for ``t = 1..steps``.

    ``P`` is row-stochastic, so this is ``1 - F_t`` without the cancellation of
    subtracting ``F_t`` from 1: a product of non-negative numbers keeps its
    relative accuracy, so distances far below the unit roundoff (``1e-300``)
    come out right instead of as 0.
    """
    columns = one_like(walk) - unit_rows(walk, -1)
    for _ in range(steps):
        columns = matrix_times_column(walk, columns)
        yield columns


def absorption_cdf(P, t_max, *, backend=None, device=None, dtype=None):
    """The absorption CDF ``F_t(j) = [P^t]_{j, τ}`` for ``t = 0..t_max`` (§3).

    Parameters
    ----------
    P : array_like of shape (..., n, n), SinkDAG or HeadSystem
    t_max : int
    backend, device, dtype : keyword-only
        Where the iteration runs: ``backend`` ``"numpy"`` or ``"torch"``
        (default: torch for a tensor input), ``device`` a torch device,
        ``dtype`` ``"float64"`` (default) or ``"float32"``. Results are NumPy.

    Returns
    -------
    ndarray, shape (..., t_max + 1, n)
        Row ``t`` holds ``F_t``; non-decreasing in ``t``.

    Examples
    --------
    >>> absorption_cdf([[0.5, 0.5], [0.0, 1.0]], 2)
    array([[0.  , 1.  ],
           [0.5 , 1.  ],
           [0.75, 1.  ]])
    """
    walk = _walk(P)
    steps = check_steps(t_max, name="t_max")
    require_curves_memory(walk.shape, steps + 1, "absorption_cdf")
    engine = choose_engine(P, backend, device, dtype, exact=is_exact(walk))
    operator = engine.put(walk)
    columns = [unit_rows(operator, -1), *_cdf_columns(operator, steps)]
    return np.stack([engine.get(c) for c in columns], axis=-2)


def distance_to_sink(P, t_max, *, backend=None, device=None, dtype=None):
    """``d(t) = max_j (1 - F_t(j))`` for ``t = 0..t_max`` (§3).

    Parameters
    ----------
    P : array_like of shape (..., n, n), SinkDAG or HeadSystem
    t_max : int
    backend, device, dtype : keyword-only
        As for :func:`absorption_cdf`.

    Returns
    -------
    ndarray, shape (..., t_max + 1)

    Notes
    -----
    The miss probabilities ``1 - F_t = P (1 - F_{t-1})`` are iterated
    directly (non-negative products, no subtraction from 1), so ``d(t)`` keeps
    its relative accuracy far below the unit roundoff.

    Examples
    --------
    >>> distance_to_sink([[0.5, 0.5], [0.0, 1.0]], 3)
    array([1.   , 0.5  , 0.25 , 0.125])
    """
    walk = _walk(P)
    steps = check_steps(t_max, name="t_max")
    engine = choose_engine(P, backend, device, dtype, exact=is_exact(walk))
    operator = engine.put(walk)
    start = one_like(walk) - unit_rows(operator, -1)
    misses = np.stack([engine.get(c) for c in [start, *_miss_columns(operator, steps)]], axis=-2)
    return misses.max(axis=-1)


def _cut_off(walk):
    """Nodes with no path to the sink in the walk's graph, as a mask ``(..., n)``."""
    return longest_paths_to_sink(np.triu(walk > 0, 1)) < 0


def trapped_nodes(P):
    """Non-sink nodes the walk never leaves (``P[j, j] = 1``), for a single walk.

    Examples
    --------
    >>> trapped_nodes([[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    [0]
    """
    walk = _walk(P)
    if walk.ndim != 2:
        raise TypeError("trapped_nodes takes one walk; index the batch first")
    return [int(j) for j in np.flatnonzero(leave_mass(walk)[:-1] == 0)]


def _warn_trapped(walk, stuck):
    where = tuple(int(i) for i in np.argwhere(stuck.any(axis=-1))[0]) if walk.ndim > 2 else ()
    single = walk[where]
    trapped = [int(j) for j in np.flatnonzero(leave_mass(single)[:-1] == 0)]
    cut_off = [int(j) for j in np.flatnonzero(stuck[where])]
    batch = f" (batch index {where})" if where else ""
    warnings.warn(
        f"the walk{batch} never reaches the sink from nodes {cut_off} (trapped nodes, "
        f"P[j, j] = 1: {trapped}); T_mix = inf", TrappedNodeWarning, stacklevel=3,
    )


def mixing_time(P, eps=0.25, *, max_steps=DEFAULT_MAX_STEPS, over_budget="raise", backend=None,
                device=None, dtype=None):
    """The mixing time ``T_mix(ε) = min{t ≥ 0 : d(t) ≤ ε}`` (§3).

    Parameters
    ----------
    P : array_like of shape (..., n, n), SinkDAG or HeadSystem
        A HeadSystem stands for its mixture walk ``P̄`` at its weights.
    eps : float or Fraction
        ``0 < ε < 1`` (default 1/4). In exact mode a float is read by its
        decimal text (``0.1`` is ``1/10``).
    max_steps : int, keyword-only
        Iteration budget.
    over_budget : {"raise", "nan"}, keyword-only
        A walk still above ``ε`` after ``max_steps`` steps raises
        :class:`~dagtheory.exceptions.ConvergenceError` (default), or is
        reported as ``nan``, meaning "more than ``max_steps``".
    backend, device, dtype : keyword-only
        As for :func:`absorption_cdf`.

    Returns
    -------
    int, math.inf or ndarray
        An int for one walk (``math.inf`` with a :class:`TrappedNodeWarning`
        naming the nodes when some node never reaches the sink); for a batch, a
        float array of integers and ``inf``.

    Notes
    -----
    ``d(t)`` comes from the miss probabilities ``1 - F_t = P (1 - F_{t-1})``
    (no subtraction from 1, so ``ε`` may be far below the unit roundoff).
    Walks of a batch that have mixed leave the iteration: once fewer than half
    of the walks being iterated are still above ``ε``, the rest continue alone.
    A float walk still above ``ε`` after ``max(4096, 2n)`` steps (or surely
    so, from its slowest node's staying probability) is finished by doubling
    on its transient block in ``O(n³ log T)``, exactly; see
    :func:`_doubling_mixing_times` and docs/performance.md. A ``T_mix`` in the
    billions takes milliseconds.

    Examples
    --------
    >>> from dagtheory.examples import mixing_synergy
    >>> system = mixing_synergy()
    >>> mixing_time(system.heads[0]), mixing_time(system.heads[1]), mixing_time(system)
    (10, 10, 7)
    """
    walk = _walk(P)
    eps = check_eps(eps, exact=is_exact(walk))
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    if over_budget not in ("raise", "nan"):
        raise InvalidInputError(f"over_budget must be 'raise' or 'nan'; got {over_budget!r}")
    engine = choose_engine(P, backend, device, dtype, exact=is_exact(walk))
    return _mixing_time(walk, eps, max_steps, over_budget, engine)


def _mixing_time(walk, eps, max_steps, over_budget, engine=EXACT_OR_FLOAT64):
    """:func:`mixing_time` of a validated walk stack.

    The miss probabilities ``1 - F_t`` are iterated for at most
    :func:`_doubling_after` steps; float walks still above ``ε`` then go to
    :func:`_doubling_mixing_times` (``O(n³ log T)``). Exact walks iterate to
    ``max_steps``.
    """
    stuck = _cut_off(walk)
    never = stuck.any(axis=-1)
    if never.any():
        _warn_trapped(walk, stuck)
    result = np.where(never, math.inf, -1.0).reshape(-1)
    counts = {}  # exact step counts beyond 2**53 from the doubling, for a single walk
    active = np.flatnonzero(result == -1)
    flat = walk.reshape((-1,) + walk.shape[-2:])
    exact = is_exact(walk)
    plain = max_steps if exact else min(max_steps, _doubling_after(walk.shape[-1]))
    if not exact and plain < max_steps:
        # Staying put at j for t steps has probability (1 - ℓ_j)^t, so d(t) > ε while
        # t < ln ε / ln(1 - ℓ_j): walks that surely outlast the plain steps skip them.
        active = active[_staying_steps(flat[active], eps) <= plain]
    operator = engine.put(flat[active])
    columns = one_like(walk) - unit_rows(operator, -1)
    for t in range(1, plain + 1):
        if not active.size:
            break
        columns = matrix_times_column(operator, columns)
        mixed = engine.get(max_last(columns) <= eps)
        result[active[mixed & (result[active] == -1)]] = t
        if 2 * mixed.sum() >= active.size:
            keep = engine.put_mask(np.flatnonzero(~mixed))
            operator, columns, active = operator[keep], columns[keep], active[~mixed]
    slow = np.flatnonzero(result == -1)
    if slow.size and plain < max_steps:
        times = _doubling_mixing_times(flat[slow], eps, max_steps, engine.dtype)
        result[slow] = [-1.0 if time is None else float(time) for time in times]
        counts = {int(i): time for i, time in zip(slow, times) if time is not None}
    result = result.reshape(walk.shape[:-2])
    if (result == -1).any() and over_budget == "nan":
        result = np.where(result == -1, math.nan, result)
    elif (result == -1).any():
        bound = mixing_bound(walk, eps).closed_form
        raise ConvergenceError(
            f"T_mix({eps}) exceeds max_steps = {max_steps}; Theorem M2 bounds it by "
            f"{np.max(bound)}; raise max_steps to compute it"
        )
    if walk.ndim == 2:
        return float(result) if not np.isfinite(result) else counts.get(0, int(result))
    return result


#: Plain steps of :func:`mixing_time` before a slow float walk switches to doubling.
DOUBLING_AFTER = 4096


def _doubling_after(n):
    """Plain steps before doubling: ``max(DOUBLING_AFTER, 2n)``.

    By then the plain steps have cost ``2n³`` or more, the order of the
    ``O(n³ log T)`` doubling itself, so the switch never costs much more than
    the plain iteration would.
    """
    return max(DOUBLING_AFTER, 2 * n)


def _staying_steps(walks, eps):
    """``max_j ln ε / ln(1 - ℓ_j)`` over non-sink nodes, a lower bound on ``T_mix(ε)`` of each walk."""
    leave = np.minimum(leave_mass(np.asarray(walks, dtype=np.float64))[..., :-1], 1.0)
    with np.errstate(divide="ignore"):
        return (math.log(eps) / np.log1p(-leave)).max(axis=-1)


def _doubling_mixing_times(walks, eps, max_steps, dtype="float64"):
    """``T_mix(ε)`` of float walks ``(B, n, n)`` with no cut-off node, by doubling.

    On the transient block ``Q`` (the sink dropped) the miss probabilities are
    ``1 - F_t = Q^t 1`` and ``d(t) = max_j (Q^t 1)_j`` is non-increasing in
    ``t``. The powers ``Q^(2^k)`` are formed by repeated squaring until
    ``d(2^k) ≤ ε`` for every walk or ``2^k ≥ max_steps``; ``Q`` is
    non-negative and upper-triangular, so every product is a sum of
    non-negative terms (no cancellation). The diagonal of ``Q^(2^k)`` is set to
    ``exp(2^k log1p(-ℓ_j))`` from the off-diagonal leave mass ``ℓ_j`` (never
    from ``P[j, j]``, which rounds to 1 when ``ℓ_j < 1e-16``), so a near-trapped
    node keeps its leave probability in every power. Then binary lifting finds
    the largest ``t < 2^K`` with ``d(t) > ε`` (``t`` grows by ``2^k`` whenever
    ``max(Q^(2^k) v) > ε`` for the current ``v = Q^t 1``, from the largest
    ``k`` down), and ``T_mix = t + 1``. ``O(B n³ log T)`` time and
    ``O(B n² log T)`` memory.

    Returns a list of Python ints, ``None`` where ``T_mix > max_steps``.
    """
    walks = np.asarray(walks, dtype=np.float64)
    leave = np.minimum(leave_mass(walks)[:, :-1], 1.0)
    with np.errstate(divide="ignore"):
        log_stay = np.log1p(-leave).astype(dtype)
    power = walks[:, :-1, :-1].astype(dtype)
    index = np.arange(power.shape[-1])
    powers, length = [], 1
    while True:
        with np.errstate(under="ignore"):
            power[:, index, index] = np.exp(length * log_stay)
        powers.append(power)
        miss = power.sum(axis=-1).max(axis=-1)
        if bool((miss <= eps).all()) or length >= max_steps:
            break
        require_memory(power.nbytes * (len(powers) + 2),
                       f"mixing_time by doubling on {len(walks)} walks of {walks.shape[-1]} tokens beyond "
                       f"{length} steps", hint="lower max_steps")
        with np.errstate(under="ignore"):
            power = power @ power
        length *= 2
    vector = np.ones(power.shape[:-1], dtype=dtype)
    steps = [0] * len(walks)
    for k in range(len(powers) - 1, -1, -1):
        with np.errstate(under="ignore"):
            moved = np.einsum("bij,bj->bi", powers[k], vector)
        above = moved.max(axis=-1) > eps
        vector = np.where(above[:, None], moved, vector)
        steps = [s + (1 << k) * bool(a) for s, a in zip(steps, above)]
    return [s + 1 if s + 1 <= max_steps and d <= eps else None for s, d in zip(steps, miss)]


def hitting_times(P, *, backend=None, device=None, dtype=None):
    """Expected hitting times ``m(j) = E_j[time to reach τ]`` (§3).

    Solves ``(I - Q) m = 1`` on the transient block by back-substitution
    (``Q`` is triangular), ``O(n²)``, exact in exact mode.

    Parameters
    ----------
    P : array_like of shape (..., n, n), SinkDAG or HeadSystem
    backend, device, dtype : keyword-only
        As for :func:`absorption_cdf`.

    Returns
    -------
    ndarray, shape (..., n)
        ``0`` at the sink, ``inf`` where the walk may never reach it.

    Examples
    --------
    >>> hitting_times([[0.5, 0.5], [0.0, 1.0]])
    array([2., 0.])
    """
    walk = _walk(P)
    engine = choose_engine(P, backend, device, dtype, exact=is_exact(walk))
    return _hitting_times(walk, engine)


def _hitting_times(walk, engine=EXACT_OR_FLOAT64):
    """:func:`hitting_times` of a validated walk stack; one back-substitution for the batch."""
    n = walk.shape[-1]
    operator = engine.put(walk)
    one, zero = one_like(walk), zero_like(walk)
    leave = leave_mass(operator)
    stuck = leave == 0
    doomed = leave == 0  # nodes from which a trapped node is reachable: m = inf exactly
    doomed[..., -1] = False
    leave = where(stuck, one, leave)
    times = zeros_like_rows(operator)
    for j in range(n - 2, -1, -1):
        moves, later = operator[..., j, j + 1:], times[..., j + 1:]
        doomed[..., j] = stuck[..., j] | ((moves > 0) & doomed[..., j + 1:]).any(-1)
        with np.errstate(invalid="ignore", over="ignore"):
            expected = where(moves > 0, moves * later, zero).sum(-1)
            times[..., j] = where(stuck[..., j], math.inf, (one + expected) / leave[..., j])
    times, doomed = engine.get(times), engine.get(doomed)
    if not is_exact(times):
        overflow = np.isinf(times) & ~doomed
        if overflow.any():
            nodes = sorted({int(j) for j in np.argwhere(overflow)[:, -1]})
            warnings.warn(
                f"expected hitting times of nodes {nodes} exceed the float range "
                f"({np.finfo(engine.dtype).max:.3g}) and are reported as inf although the walk "
                "reaches the sink from them; exact (Fraction) input gives their values",
                RuntimeWarning, stacklevel=3,
            )
    return times


def forward_probability(P):
    """``p = min_{j≠τ} (1 - P[j, j])`` (§3).

    Examples
    --------
    >>> forward_probability([[0.75, 0.25], [0.0, 1.0]])
    0.25
    """
    walk = _walk(P)
    return scalar(leave_mass(walk)[..., :-1].min(axis=-1))


def _head_forward_probability(attention):
    """``p`` of every head's walk ``P^(h)`` from validated float attention, without forming ``P``.

    ``1 - P[j, j] = Σ_{i > j} A[i, j] / Σ_i A[i, j]``; a column nobody attends
    to (routed to the sink) leaves with probability 1.
    """
    columns = np.swapaxes(attention, -1, -2)
    sums = columns.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        leave = np.where(sums > 0, leave_mass(columns) / sums, 1.0)
    return leave[..., :-1].min(axis=-1)


def _binomial_tail(t, p, below):
    """``Pr[Bin(t, p) <= below]``, exact for a Fraction ``p``."""
    if isinstance(p, Fraction):
        return sum(math.comb(t, k) * p ** k * (1 - p) ** (t - k) for k in range(min(below, t) + 1))
    if t < 2 ** 1000:
        return float(stats.binom.cdf(below, float(t), float(p)))
    # t beyond the float range (p subnormal): the same sum in mpmath, each term from
    # log C(t, k) = Σ_{i<k} ln(t - i) - ln k! (no difference of huge log-gammas).
    import mpmath

    with mpmath.workdps(30):
        t, p = mpmath.mpf(t), mpmath.mpf(float(p))
        log_stay, log_p = mpmath.log1p(-p), mpmath.log(p)
        terms, log_choose = [], mpmath.mpf(0)
        for k in range(below + 1):
            terms.append(mpmath.exp(log_choose + k * log_p + (t - k) * log_stay))
            log_choose += mpmath.log(t - k) - mpmath.log(k + 1)
        return float(mpmath.fsum(terms))


def _closed_form_one(length, p, eps):
    """M2's ``⌈max(2L/p, 8 ln(1/ε)/p)⌉`` for one walk; ``inf`` when ``p = 0``; exact for Fractions."""
    if p == 0:
        return math.inf
    if not isinstance(p, Fraction):
        bound = max(2 * length / p, -8 * math.log(eps) / p)  # -log ε: 1/ε overflows for a subnormal ε
        if math.isfinite(bound):
            return math.ceil(bound)
        # p subnormal: the quotients overflow the float range, not the integers.
        p = Fraction(float(p))
        return math.ceil(max(Fraction(2 * int(length)) / p, Fraction(-8 * math.log(eps)) / p))
    import sympy

    p = sympy.Rational(p.numerator, p.denominator)
    log_term = 8 * sympy.log(1 / sympy.Rational(eps.numerator, eps.denominator)) / p
    return int(sympy.ceiling(sympy.Max(2 * int(length) / p, log_term)))


def _tail_at_most(t, p, below, eps):
    """``Pr[Bin(t, p) <= below] <= eps``; decided exactly for Fractions.

    For a Fraction ``p`` and a large ``t`` the exact sum has numerators of
    ``t``-fold powers, so the tail is first evaluated in 60-digit mpmath
    (terms from ``log C(t, k)``, no cancellation); only a tail within
    ``1e-45`` relative of ``eps`` is summed exactly.
    """
    if not isinstance(p, Fraction) or t <= 2000:
        return _binomial_tail(t, p, below) <= eps
    import mpmath

    with mpmath.workdps(60):
        q = mpmath.mpf(p.numerator) / p.denominator
        log_stay, log_p, log_choose, terms = mpmath.log1p(-q), mpmath.log(q), mpmath.mpf(0), []
        for k in range(min(below, t) + 1):
            terms.append(mpmath.exp(log_choose + k * log_p + (t - k) * log_stay))
            log_choose += mpmath.log(t - k) - mpmath.log(k + 1)
        tail, limit = mpmath.fsum(terms), mpmath.mpf(eps.numerator) / eps.denominator
        if abs(tail - limit) > limit * mpmath.mpf(10) ** -45:
            return bool(tail <= limit)
    return _binomial_tail(t, p, below) <= eps


def _binomial_bound_one(length, p, eps, upper):
    """M1's ``B(ε)`` by bisection on ``t ∈ [L, upper]``: the tail is non-increasing in ``t``."""
    if upper == math.inf:
        return math.inf
    low, high = int(length), int(upper)
    while low < high:
        middle = (low + high) // 2
        if _tail_at_most(middle, p, int(length) - 1, eps):
            high = middle
        else:
            low = middle + 1
    return low


def _elementwise(function, *arrays):
    """Apply a scalar function over broadcast arrays (exact Fractions stay exact)."""
    with np.errstate(all="ignore"):
        return np.asarray(np.frompyfunc(function, len(arrays), 1)(*arrays), dtype=object)


def _as_count(value):
    """Step counts: an int (or ``math.inf``) for one walk, a float array for a batch."""
    if value.ndim:
        return value.astype(float)
    value = value.item()
    return value if value == math.inf else int(value)


def closed_form_bound(depth, p, eps=0.25):
    """Theorem M2's ``⌈max(2L/p, 8 ln(1/ε)/p)⌉`` (§3), elementwise over arrays.

    With ``depth = n - 1`` and ``p = p̄`` it is Theorem M3's bound for a mixture.
    Exact (an int, by sympy) when ``p`` is a Fraction; ``inf`` where ``p = 0``.

    Examples
    --------
    >>> closed_form_bound(3, 0.25)
    45
    >>> closed_form_bound([3, 11], [0.25, 0.5]).tolist()
    [45.0, 44.0]
    """
    p_array = np.asarray(p, dtype=object if isinstance(p, Fraction) else None)
    exact = p_array.dtype == object
    eps = check_eps(eps, exact=exact)
    if not exact:
        p_array = _check_bound_argument(p_array, "p", upper=1)
    depth = _check_bound_argument(np.asarray(depth), "depth", upper=math.inf)
    return _as_count(_elementwise(_closed_form_one, depth, p_array, eps))


def _check_bound_argument(values, name, *, upper):
    """Real, finite values in ``[0, upper]`` (``depth``: whole numbers), named in the error."""
    if values.dtype.kind not in "iuf":
        raise InvalidTypeError(f"{name} must hold real numbers; got dtype {values.dtype} ({values.tolist()!r})")
    values = values.astype(float)
    bad = ~np.isfinite(values) | (values < 0) | (values > upper)
    if name == "depth":
        bad |= values != np.round(values)
    if bad.any():
        where = np.argwhere(bad)[0]
        value = values[tuple(where)]
        limits = "a whole number >= 0" if name == "depth" else f"in [0, {upper}]"
        raise InvalidInputError(f"{name} must be finite and {limits}; got {float(value)!r}"
                                + (f" at index {tuple(int(i) for i in where)}" if values.ndim else ""))
    return values


def _mixing_bound(walk, eps):
    """:func:`mixing_bound` of a validated walk stack and a checked ``eps``."""
    p = leave_mass(walk)[..., :-1].min(axis=-1)
    depth = longest_paths_to_sink(np.triu(walk > 0, 1)).max(axis=-1)
    closed = _elementwise(_closed_form_one, depth, p, eps)
    binomial = _elementwise(_binomial_bound_one, depth, p, eps, closed)
    return MixingBound(p=scalar(p), depth=scalar(depth), binomial=_as_count(binomial),
                       closed_form=_as_count(closed), eps=eps)


def mixing_bound(P, eps=0.25):
    """Theorems M1 and M2 (§3): ``p``, ``L``, ``B(ε)`` and the closed form.

    Parameters
    ----------
    P : array_like of shape (..., n, n), SinkDAG or HeadSystem
    eps : float or Fraction

    Returns
    -------
    MixingBound

    Examples
    --------
    >>> from dagtheory.examples import mixing_synergy
    >>> bound = mixing_bound(mixing_synergy().heads[0])
    >>> bound.p, bound.depth, bound.binomial, bound.closed_form
    (Fraction(1, 4), 3, 15, 45)
    """
    walk = _walk(P)
    return _mixing_bound(walk, check_eps(eps, exact=is_exact(walk)))


def mixture_mixing_bound(system, alpha=None, eps=0.25):
    """Theorem M3 (§3) for the mixture walk ``P̄(α)`` of a head system.

    Parameters
    ----------
    system : HeadSystem
    alpha : array_like of shape (H,), optional
        Defaults to the system's weights.
    eps : float or Fraction

    Returns
    -------
    MixtureBound

    Examples
    --------
    >>> from dagtheory.examples import mixing_synergy
    >>> bound = mixture_mixing_bound(mixing_synergy())
    >>> bound.p_bar, bound.p_mixture, bound.bound
    (Fraction(1, 4), Fraction(3, 8), 45)
    """
    if not isinstance(system, HeadSystem):
        raise TypeError(f"mixture_mixing_bound takes a HeadSystem; got {type(system).__name__}")
    alpha = system._simplex(alpha, "alpha")
    eps = check_eps(eps, exact=system.is_exact)
    per_head_p = np.asarray(forward_probability(system.walks), dtype=system.walks.dtype)
    p_bar = (alpha * per_head_p).sum()
    n_minus_1 = system.n - 1
    bound = _elementwise(_closed_form_one, n_minus_1, p_bar, eps)
    per_head = _elementwise(_closed_form_one, n_minus_1, per_head_p, eps)
    return MixtureBound(
        alpha=alpha, per_head_p=per_head_p, p_bar=scalar(p_bar),
        p_mixture=forward_probability(system.mixture_walk(alpha)),
        bound=_as_count(bound), per_head_bound=np.asarray(per_head, dtype=float),
        best_head=int(np.argmax(per_head_p)), eps=eps,
    )
