"""Numerical edge cases of §2 and §3, each checked against an exact or independent value.

* float32 input at ``n = 4096`` is widened and accumulated in float64;
* near-one-hot attention whose ``1 - P[j, j]`` is below the unit roundoff;
* horizons of ``10⁴`` against closed forms, with memory that does not grow with ``K``;
* mixing times in the millions and billions, by doubling, against exact tails;
* thresholds ``ε`` far below the unit roundoff, hitting times beyond the float range.

Tolerances are stated where they are used, with the rounding count that justifies them
(``u = 2⁻⁵³ ≈ 1.1e-16``).
"""

import math
import time
import tracemalloc
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest

import dagtheory as dt
from dagtheory.exceptions import ConvergenceError, TrappedNodeWarning
from dagtheory.markov import trapped_nodes

U = 2.0 ** -53


def _relative_error(value, exact):
    value = np.asarray(value, dtype=float)
    exact = np.asarray([float(x) for x in np.ravel(exact)]).reshape(value.shape)
    return float(np.max(np.abs(value - exact) / np.where(exact == 0, 1.0, np.abs(exact))))


# ---------------------------------------------------------------- 1. n = 4096, float32 input

N_BIG = 4096


def _uniform_causal32(n):
    """Uniform causal attention ``A[i, j] = 1/(i+1)`` rounded to float32 (not exactly stochastic)."""
    rows = np.arange(1, n + 1, dtype=np.float32)[:, None]
    return np.tril(np.ones((n, n), dtype=np.float32)) / rows


def _bidiagonal32(n, keep):
    """``A[i, i] = keep``, ``A[i, i-1] = 1 - keep`` (``A[0, 0] = 1``), exact in float32 for dyadic ``keep``."""
    attention = np.zeros((n, n), dtype=np.float32)
    index = np.arange(1, n)
    attention[0, 0] = 1
    attention[index, index] = keep
    attention[index, index - 1] = 1 - keep
    return attention


def test_float32_uniform_attention_sums_in_float64():
    """§2 ``S_2(v) = Σ_i Δ[τ, i] Δ[i, v]`` over 4096 terms, against ``math.fsum``.

    The reference normalizes the widened float32 rows with ``fsum`` and sums the
    products (one rounding each, all positive) with ``fsum``: relative error ``≤ 2u``.
    A float64 accumulation of ``≤ 4096`` positive terms errs by at most
    ``4096 u ≈ 4.5e-13``; tolerance 1e-12. A float32 accumulation would err by about
    ``1e-7`` (the ``dtype="float32"`` run shows it, so the test tells the two apart).
    """
    attention = _uniform_causal32(N_BIG)
    curves = dt.signal_curves(attention, 2)
    assert curves.dtype == np.float64
    wide = attention.astype(np.float64)
    tau = N_BIG - 1
    sums = np.array([math.fsum(row) for row in wide])
    top = wide[tau] / sums[tau]
    checked = [0, 1, 2, 1000, 2047, 4000, N_BIG - 2, tau]
    reference = [math.fsum(top[v:] * (wide[v:, v] / sums[v:])) for v in checked]
    assert _relative_error(curves[1, checked], reference) < 1e-12
    assert _relative_error(curves[0, checked], top[checked]) < 1e-12
    low = dt.signal_curves(attention, 2, dtype="float32")
    assert _relative_error(low[1, checked], reference) > 1e-10


def test_float32_uniform_attention_forward_probability():
    """§3 ``p = min_j Σ_{i>j} A[i, j] / Σ_i A[i, j]`` of 4096-term columns against ``fsum``.

    For uniform attention the minimum is at ``j = τ - 1``, ``(n-1)/(2n-1)`` before the
    float32 rounding of the entries (relative ``6e-8``, hence the loose 1e-6 there).
    Columns summed in float64: tolerance 1e-12 as above.
    """
    attention = _uniform_causal32(N_BIG)
    walk = dt.forward_walk(attention)
    assert walk.dtype == np.float64
    p = dt.forward_probability(walk)
    wide = attention.astype(np.float64)
    wide /= np.array([math.fsum(row) for row in wide])[:, None]
    leave = []
    for j in (0, 1, 2048, N_BIG - 3, N_BIG - 2):
        column = wide[j:, j]
        leave.append(math.fsum(column[1:]) / math.fsum(column))
    assert abs(p - leave[-1]) <= 1e-12 * leave[-1]
    assert p == pytest.approx(min(leave), rel=1e-12)
    assert p == pytest.approx((N_BIG - 1) / (2 * N_BIG - 1), rel=1e-6)


def test_float32_bidiagonal_hitting_times_are_exact_in_float64():
    """§3 hitting times of ``A[i,i] = 1/4``, ``A[i,i-1] = 3/4`` at n = 4096 (float32 input).

    The walk stays w.p. 1/4 and moves on w.p. 3/4, so ``m(j) = (4/3)(τ - j)`` for
    ``j ≥ 1`` and ``m(0) = 7/3 + m(1)`` (token 0 stays w.p. 4/7). A back-substitution of
    4096 steps errs by at most ~4096 roundings, relative ``4.5e-13`` in float64
    (tolerance 1e-12), about ``1e-5`` in float32.
    """
    attention = _bidiagonal32(N_BIG, 0.25)
    tau = N_BIG - 1
    exact = [Fraction(4, 3) * (tau - j) for j in range(N_BIG)]
    exact[0] = Fraction(7, 3) + exact[1]
    times = dt.hitting_times(dt.forward_walk(attention))
    assert times.dtype == np.float64
    assert _relative_error(times, exact) < 1e-12
    low = dt.hitting_times(dt.forward_walk(attention), dtype="float32")
    assert _relative_error(low, exact) > 1e-9


def test_float32_bidiagonal_fidelity_matches_binomial():
    """§2 on ``A[i,i] = A[i,i-1] = 1/2`` at n = 4096, K = 60 (float32 input).

    The backward walk from ``τ`` moves one token left w.p. 1/2, so
    ``S_t(τ - k) = C(t, k) / 2^t`` (``k ≥ 1``): it peaks at ``t = 2k - 1`` and ``2k``
    (equal values) for ``2k ≤ K``, at ``t = K`` beyond. ``C(60, 30) > 2^53``, so float64
    rounds; 60 steps of two-term sums err by at most ``~120u``: tolerance 1e-13.
    Tokens more than 60 to the left of ``τ`` are never reached (``φ = 0``).
    """
    horizon = 60
    attention = _bidiagonal32(N_BIG, 0.5)
    result = dt.node_fidelity(attention, horizon=horizon)
    tau = N_BIG - 1
    exact = np.zeros(N_BIG, dtype=object)
    steps = np.zeros(N_BIG, dtype=object)
    for k in range(1, horizon + 1):
        t = min(2 * k, horizon)
        exact[tau - k] = Fraction(math.comb(t, k), 2 ** t)
        steps[tau - k] = (2 * k - 1, 2 * k) if 2 * k <= horizon else (horizon,)
    exact[tau] = Fraction(1, 2)
    steps[tau] = (1,)
    assert _relative_error(result.value, exact) < 1e-13
    assert all(result.t[tau - k] in steps[tau - k] for k in range(horizon + 1))
    assert not result.value[: tau - horizon].any()


# ---------------------------------------------------------------- 2. near-one-hot attention


def _near_one_hot(q):
    """n = 5, sink 4, with ``q`` tiny; exact (Fraction) attention.

    * token 1 attends only to itself and only the sink attends to it (with ``q``):
      the walk leaves 1 w.p. ``q/(1+q)``, and ``P[1, 1] = 1/(1+q)`` rounds to 1;
    * row 2 is ``[q, 0, 1-q, 0, 0]``: ``Δ[2, 2] = 1 - q`` rounds to 1, yet token 2 is
      transient in §2 (its signal leaks to token 0).
    """
    one, half, quarter = Fraction(1), Fraction(1, 2), Fraction(1, 4)
    return np.array([
        [one, 0, 0, 0, 0],
        [0, one, 0, 0, 0],
        [q, 0, one - q, 0, 0],
        [half, 0, 0, half, 0],
        [0, q, quarter, quarter, half - q],
    ], dtype=object)


@pytest.mark.parametrize("exponent", [20, 300])
def test_near_one_hot_walk_quantities(exponent):
    """§3 with ``1 - P[1, 1]`` far below ``u``: p, trapped nodes, hitting times, M1/M2.

    The float walk's leave mass is the off-diagonal mass (relative error ``~u``), not
    ``1 - P[1, 1] = 0``. Against the exact walk of the same attention: tolerance 1e-14
    for single divisions and short sums.
    """
    q = Fraction(1, 10 ** exponent)
    exact_attention = _near_one_hot(q)
    attention = exact_attention.astype(float)
    walk, exact_walk = dt.forward_walk(attention), dt.forward_walk(exact_attention)
    assert walk[1, 1] == 1.0  # the rounding this test is about
    assert trapped_nodes(walk) == [] and dt.SinkDAG(attention).trapped == []

    leave = q / (1 + q)
    assert dt.forward_probability(exact_walk) == leave
    assert dt.forward_probability(walk) == pytest.approx(float(leave), rel=1e-14)

    exact_times = dt.hitting_times(exact_walk)
    assert exact_times[1] == 1 / leave == 10 ** exponent + 1
    times = dt.hitting_times(walk)
    assert np.isfinite(times).all()
    assert _relative_error(times, exact_times) < 1e-14

    bound = dt.mixing_bound(walk)
    assert bound.p == pytest.approx(float(leave), rel=1e-14) and bound.depth == 2
    # M2: ⌈max(2L/p, 8 ln 4 / p)⌉ = ⌈8 ln 4 (1 + q) / q⌉, an integer near 1.1·10^(e+1).
    with mpmath.workdps(60):
        closed = int(mpmath.ceil(8 * mpmath.log(4) * (1 + mpmath.mpf(q.numerator) / q.denominator)
                                 * q.denominator / q.numerator))
        # M1: Pr[Bin(t, p) <= 1] <= 1/4 first at t ≈ 2.6926/p (Poisson limit).
        lam = mpmath.findroot(lambda x: mpmath.exp(-x) * (1 + x) - mpmath.mpf(1) / 4, 2.7)
    assert bound.closed_form == pytest.approx(closed, rel=1e-14)
    assert bound.binomial == pytest.approx(float(lam / (mpmath.mpf(q.numerator) / q.denominator)), rel=1e-9)
    assert bound.binomial <= bound.closed_form


def test_near_one_hot_exact_binomial_bound_is_decided():
    """M1's ``B(ε)`` in exact mode at ``t ≈ 3·10²⁰``: decided in mpmath (far from ``ε``), no huge powers."""
    q = Fraction(1, 10 ** 20)
    exact_walk = dt.forward_walk(_near_one_hot(q))
    start = time.perf_counter()
    bound = dt.mixing_bound(exact_walk)
    assert time.perf_counter() - start < 10
    assert bound.p == q / (1 + q)
    assert bound.binomial == pytest.approx(float(dt.mixing_bound(exact_walk.astype(float)).binomial), rel=1e-12)


def test_near_one_hot_mixing_time():
    """§3 ``T_mix`` when ``P[1, 1]`` rounds to 1: huge and finite, never ``inf`` or "trapped".

    From token 1 the miss probability is ``(1/(1+q))^t`` and it dominates ``d(t)`` at
    these times (the other tokens miss with probability ``~2^-t``), so
    ``T_mix(1/4) = ⌈ln 4 / ln(1+q)⌉ ≈ 1.39·10²⁰``. The float walk stores ``q`` to ``u``
    and ``exp``/``log1p`` round a few times: relative tolerance 1e-13.
    """
    q = Fraction(1, 10 ** 20)
    walk = dt.forward_walk(_near_one_hot(q).astype(float))
    with warnings.catch_warnings():
        warnings.simplefilter("error", TrappedNodeWarning)
        with pytest.raises(ConvergenceError, match="exceeds max_steps"):
            dt.mixing_time(walk)
        assert math.isnan(dt.mixing_time(walk, over_budget="nan"))
        start = time.perf_counter()
        result = dt.mixing_time(walk, max_steps=10 ** 21)
        assert time.perf_counter() - start < 2
    with mpmath.workdps(60):
        exact = int(mpmath.ceil(mpmath.log(4) / mpmath.log1p(mpmath.mpf(1) / 10 ** 20)))
    assert isinstance(result, int)
    assert abs(result - exact) <= 1e-13 * exact


def test_near_one_hot_fidelity():
    """§2 with ``Δ[2, 2] = 1 - q`` rounding to 1: token 2 is transient, its leak reaches token 0.

    Finite horizon K = 50 and the infinite horizon against exact arithmetic on the same
    attention. The float run sees ``Δ[2, 2] = 1``; the values differ from the exact ones
    by ``~Kq`` plus ``~K·u`` of rounding: tolerance 1e-13.
    """
    q = Fraction(1, 10 ** 20)
    exact_attention = _near_one_hot(q)
    attention = exact_attention.astype(float)
    assert attention[2, 2] == 1.0
    for horizon in (50, None):
        exact = dt.node_fidelity(exact_attention, horizon=horizon)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            value = dt.node_fidelity(attention, horizon=horizon)
        assert _relative_error(value.value, exact.value) < 1e-13
        assert not np.any(value.error_bound)
    limit = dt.node_fidelity(exact_attention, horizon=None).value
    # Token 1 (absorbing) catches q/(1/2 + q) of the sink's signal; token 0 the mass through 2 and 3.
    assert limit[1] == q / (Fraction(1, 2) + q)
    assert float(limit[0]) == pytest.approx(1 - float(limit[1]), rel=1e-15)


# ---------------------------------------------------------------- 3. horizons of 10^4

HORIZON = 10_000


def test_two_token_signal_at_horizon_10k():
    """``A = [[1, 0], [a, 1-a]]``, ``a = 2^-13`` (exact): ``S_t(1) = (1-a)^t``, ``S_t(0) = 1 - (1-a)^t``.

    ``10⁴`` steps, each a two-term sum: relative error ``≤ 2·10⁴ u ≈ 2e-12``; tolerance 1e-11.
    """
    a = 2.0 ** -13
    attention = np.array([[1.0, 0.0], [a, 1 - a]])
    curves = dt.signal_curves(attention, HORIZON)
    assert curves.shape == (HORIZON, 2)
    with mpmath.workdps(40):
        stay = 1 - mpmath.mpf(a)
        checked = [1, 2, 77, 1000, 5000, HORIZON]
        sink = [stay ** t for t in checked]
        leak = [1 - x for x in sink]
    assert _relative_error(curves[[t - 1 for t in checked], 1], sink) < 1e-11
    assert _relative_error(curves[[t - 1 for t in checked], 0], leak) < 1e-11
    fidelity = dt.node_fidelity(attention, horizon=HORIZON)
    assert fidelity.t.tolist() == [HORIZON, 1]
    assert _relative_error(fidelity.value, [leak[-1], sink[0]]) < 1e-11


BAND_N = 64
BAND_A = Fraction(1001, 2 ** 18)  # 1001 ∤ k·2^18 for k < 64: no two steps tie at a peak


def _band_pmf(t, k):
    """``C(t, k) a^k (1-a)^(t-k)`` in 40-digit mpmath (``a`` exact)."""
    a = mpmath.mpf(BAND_A.numerator) / BAND_A.denominator
    return mpmath.binomial(t, k) * a ** k * (1 - a) ** (t - k)


def _band_fidelity_exact():
    """``φ_v^K`` and peak steps of the bidiagonal head (40 digits; steps exact).

    The backward walk moves left w.p. ``a``: ``S_t(τ - k) = C(t, k) a^k (1-a)^(t-k)``,
    increasing while ``(t + 1) a < k``, so it peaks at ``t* = min(⌊k/a⌋, K)`` (an exact
    Fraction floor); ``S_t(0) = Pr[Bin(t, a) ≥ τ]`` only grows (peak at ``K``).
    """
    tau = BAND_N - 1
    values, steps = [None] * BAND_N, [None] * BAND_N
    with mpmath.workdps(40):
        for k in range(1, tau):
            t = min(math.floor(k / BAND_A), HORIZON)
            values[tau - k], steps[tau - k] = _band_pmf(t, k), t
        values[tau], steps[tau] = 1 - mpmath.mpf(BAND_A.numerator) / BAND_A.denominator, 1
        values[0], steps[0] = 1 - mpmath.fsum(_band_pmf(HORIZON, i) for i in range(tau)), HORIZON
    return values, steps


def _band_attention():
    a = float(BAND_A)
    attention = np.zeros((BAND_N, BAND_N))
    index = np.arange(1, BAND_N)
    attention[0, 0] = 1
    attention[index, index] = 1 - a
    attention[index, index - 1] = a
    return attention


def test_bidiagonal_fidelity_at_horizon_10k():
    """Node and minimax fidelity at K = 10⁴, n = 64, against exact binomial values.

    ``a = 1001/2^18`` and ``1 - a`` are exact floats. ``10⁴`` two-term steps: relative
    error ``≲ 2·10⁴ u``; tolerance 1e-11. Peaks of tokens with ``k ≥ 39`` lie beyond K
    (reported at ``t = K``); the others are interior and unique.
    """
    values, steps = _band_fidelity_exact()
    attention = _band_attention()
    result = dt.node_fidelity(attention, horizon=HORIZON)
    assert _relative_error(result.value, values) < 1e-11
    assert result.t.tolist() == steps
    assert HORIZON in steps[1:-1] and min(steps[1:-1]) < HORIZON
    minimax = dt.minimax_fidelity(attention, horizon=HORIZON)
    node = min(range(BAND_N - 1), key=lambda v: values[v])
    assert (minimax.node, minimax.t) == (node, steps[node])
    assert abs(minimax.value - float(values[node])) <= 1e-11 * float(values[node])
    curves = dt.signal_curves(attention, HORIZON)
    with mpmath.workdps(40):
        last = [values[0], _band_pmf(HORIZON, BAND_N - 2), _band_pmf(HORIZON, BAND_N - 31)]
    assert _relative_error(curves[HORIZON - 1, [0, 1, 30]], last) < 1e-11


def test_node_fidelity_memory_does_not_grow_with_horizon():
    """``node_fidelity`` at K = 10⁴ holds ``(n,)`` vectors, not the ``K × n`` curve (``K·n·8`` bytes)."""
    attention = _band_attention()
    dt.node_fidelity(attention, horizon=10)  # warm up imports and caches
    tracemalloc.start()
    try:
        dt.node_fidelity(attention, horizon=HORIZON)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < HORIZON * BAND_N * 8 / 20


# ---------------------------------------------------------------- 4. mixing times in the millions


def _chain(length, q):
    """A walk through ``length`` transient tokens in a row, each left w.p. ``q`` (to the next one)."""
    walk = np.zeros((length + 1, length + 1))
    for j in range(length):
        walk[j, j], walk[j, j + 1] = 1 - q, q
    walk[length, length] = 1
    return walk


def _chain_mixing_time(length, q, eps):
    """Exact ``T_mix`` of :func:`_chain`: from token 0, ``d(t) = Pr[Bin(t, q) ≤ length - 1]``.

    Evaluated in 60-digit mpmath (no cancellation: a sum of positive terms), found by
    bisection; returns ``T`` and the relative margins of ``ε`` to ``d(T)`` and ``d(T-1)``.
    """
    with mpmath.workdps(60):
        q, eps = mpmath.mpf(q), mpmath.mpf(eps)

        def distance(t):
            return mpmath.fsum(mpmath.binomial(t, i) * q ** i * (1 - q) ** (t - i) for i in range(length))

        low, high = 1, 1
        while distance(high) > eps:
            high *= 2
        while low < high:
            middle = (low + high) // 2
            low, high = (low, middle) if distance(middle) <= eps else (middle + 1, high)
        margins = (eps - distance(low)) / eps, (distance(low - 1) - eps) / eps
        return low, [float(m) for m in margins]


@pytest.mark.parametrize("length, q, eps, max_steps", [
    (1, 2.0 ** -20, 0.25, 10 ** 7),        # ⌈ln 4 / -ln(1 - 2^-20)⌉ ≈ 1.45e6
    (3, 2.0 ** -20, 0.25, 10 ** 7),        # negative binomial: ≈ 4.1e6
    (1, 1e-9, 0.1, 10 ** 10),              # ≈ 2.3e9
    (2, 2.0 ** -31, 0.1, 10 ** 10),        # ≈ 8.4e9
])
def test_large_mixing_times_exact(length, q, eps, max_steps):
    """``T_mix`` in the millions and billions, exactly, in milliseconds (doubling, not iteration).

    The margins of ``ε`` to ``d(T)`` and ``d(T - 1)`` exceed ``1e-10`` relative (about
    ``q``), while the doubling's miss probabilities err by a few ``u`` per squaring
    (``log₂ T`` squarings): the computed ``T`` must be the exact one.
    """
    exact, margins = _chain_mixing_time(length, q, eps)
    assert min(margins) > 1e-11
    walk = _chain(length, q)
    start = time.perf_counter()
    result = dt.mixing_time(walk, eps, max_steps=max_steps)
    elapsed = time.perf_counter() - start
    assert result == exact and isinstance(result, int)
    assert elapsed < 1.0  # measured: a few milliseconds
    assert dt.mixing_time(walk, eps, max_steps=exact) == exact
    assert math.isnan(dt.mixing_time(walk, eps, max_steps=exact - 1, over_budget="nan"))


def test_doubling_matches_plain_iteration_after_the_switch():
    """A walk with ``T_mix`` just past the plain phase (4096 steps): the doubling's ``T``
    satisfies ``d(T) ≤ ε < d(T - 1)`` for the plainly iterated ``d`` (:func:`distance_to_sink`)."""
    walk = _chain(3, 5e-4)
    result = dt.mixing_time(walk)
    assert 4096 < result < 10_000
    distance = dt.distance_to_sink(walk, result)
    assert distance[-1] <= 0.25 < distance[-2]
    assert result == _chain_mixing_time(3, 5e-4, 0.25)[0]


def test_large_mixing_times_in_a_batch_and_on_torch():
    """A batch mixing a fast walk, a slow one and a trapped one; torch gives the same counts."""
    fast = _chain(3, 0.5)
    slow = _chain(3, 2.0 ** -20)
    trapped = _chain(3, 0.5)
    trapped[1] = [0, 1, 0, 0]
    batch = np.stack([fast, slow, trapped])
    slow_time = _chain_mixing_time(3, 2.0 ** -20, 0.25)[0]
    with pytest.warns(TrappedNodeWarning):
        result = dt.mixing_time(batch, max_steps=10 ** 7)
    assert result.tolist() == [dt.mixing_time(fast), slow_time, math.inf]
    pytest.importorskip("torch")
    assert dt.mixing_time(slow, max_steps=10 ** 7, backend="torch") == slow_time
    with pytest.warns(TrappedNodeWarning):
        assert dt.mixing_time(batch, max_steps=10 ** 7, backend="torch").tolist() == result.tolist()


def test_over_budget_is_reported_without_iterating():
    """``T_mix > max_steps`` (default 10⁶) is found in milliseconds, not after 10⁶ steps."""
    walk = _chain(2, 1e-7)
    start = time.perf_counter()
    with pytest.raises(ConvergenceError, match="exceeds max_steps = 1000000"):
        dt.mixing_time(walk)
    assert math.isnan(dt.mixing_time(np.stack([walk, walk]), over_budget="nan")[0])
    assert time.perf_counter() - start < 1.0


# ---------------------------------------------------------------- 5. other float edges


def test_eps_far_below_the_unit_roundoff():
    """``d(t) = 2^-t``: ``T_mix(1e-300) = 997`` and ``T_mix(1e-310) = 1030`` (subnormal ε).

    Iterating ``F_t`` and subtracting from 1 stops at ``d = 0`` after 54 steps; the miss
    probabilities ``1 - F_t = P (1 - F_{t-1})`` are exact powers of 2 here. Exact mode agrees.
    """
    walk = np.array([[0.5, 0.5], [0.0, 1.0]])
    assert dt.mixing_time(walk, 1e-300) == 997 == math.ceil(300 * math.log2(10))
    assert dt.mixing_time(walk, 1e-310) == 1030
    exact_walk = np.array([[Fraction(1, 2), Fraction(1, 2)], [0, Fraction(1)]], dtype=object)
    assert dt.mixing_time(exact_walk, Fraction(1, 10 ** 300)) == 997
    distance = dt.distance_to_sink(walk, 1000)
    assert distance.tolist() == [2.0 ** -t for t in range(1001)]


def test_eps_close_to_one():
    """The largest float below 1 is a valid ε; ``d(1) = 1/2`` is below it."""
    eps = 1 - 2.0 ** -53
    assert dt.mixing_time(np.array([[0.5, 0.5], [0.0, 1.0]]), eps) == 1
    walk = _chain(1, 2.0 ** -20)
    # d(1) = 1 - 2^-20 is already below 1 - 2^-53 (also on the doubling path's staying bound).
    assert dt.mixing_time(walk, eps) == 1


def test_hitting_times_beyond_the_float_range():
    """A subnormal leave probability: the exact ``m(0) = 1/q`` exceeds ``1.8e308``.

    The float result is ``inf`` with a warning saying so (not "never reaches the sink");
    exact input gives the value; ``1e-300`` still fits and is exact to ``u``.
    """
    q = 1e-310
    walk = np.array([[1.0, q, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    with pytest.warns(RuntimeWarning, match="exceed the float range"):
        times = dt.hitting_times(walk)
    assert times[0] == math.inf and times[1] == 2
    exact = dt.hitting_times(np.array([[1 - Fraction(q), Fraction(q), 0], [0, Fraction(1, 2), Fraction(1, 2)],
                                       [0, 0, Fraction(1)]], dtype=object))
    assert exact[0] == 1 / Fraction(q) + 2
    walk[0, 1] = 1e-300
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert dt.hitting_times(walk)[0] == pytest.approx(1e300 + 2, rel=2 * U)
    # A genuinely trapped node stays inf without the overflow warning.
    trapped = np.array([[0.5, 0.5, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert dt.hitting_times(trapped)[:2].tolist() == [math.inf, math.inf]


def test_mixing_bound_with_a_subnormal_forward_probability():
    """M1/M2 with ``p = 1e-310``: the bounds (~1e311) exceed the float range and are exact ints."""
    q = 1e-310
    walk = np.array([[1.0, q, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    bound = dt.mixing_bound(walk)
    assert bound.p == q and bound.depth == 2
    assert isinstance(bound.closed_form, int) and isinstance(bound.binomial, int)
    with mpmath.workdps(60):
        p = mpmath.mpf(q)
        closed = 8 * mpmath.log(4) / p
        lam = mpmath.findroot(lambda x: mpmath.exp(-x) * (1 + x) - mpmath.mpf(1) / 4, 2.7)
        assert abs(bound.closed_form - closed) <= 1e-14 * closed
        assert abs(bound.binomial - lam / p) <= 1e-9 * lam / p
