"""Tests of dagtheory.fidelity: signal at the sink, node and minimax fidelity, amplification.

Every number checked is a quantity of docs/theory.md §2 (computed exactly, §7). Known answers
are exact ``Fraction``s. Independent references are computed here by *full matrix
powers* (sympy ``Matrix`` powers, or integer matrix products after clearing
denominators), never by the row-vector iteration the library uses.
"""

import math
import warnings
from fractions import Fraction
from functools import reduce

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from dagtheory import (
    NOT_ATTAINED,
    ConvergenceWarning,
    HeadSystem,
    InvalidInputError,
    InvalidTypeError,
    SinkDAG,
    amplification,
    minimax_fidelity,
    node_fidelity,
    signal_curves,
)
from dagtheory.examples import paper_example2
from strategies import float_attention, rational_attention, rational_system, to_float

# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def attention_from_weights(rows):
    """Exact causal attention from integer weights per row (row ``i`` has ``i + 1`` weights)."""
    n = len(rows)
    out = np.empty((n, n), dtype=object)
    for i, weights in enumerate(rows):
        assert len(weights) == i + 1
        total = sum(weights)
        for j in range(n):
            out[i, j] = Fraction(weights[j], total) if j <= i else Fraction(0)
    return out


def sympy_curves(attention, horizon):
    """``S_t(v) = [Δ^t]_{τ,v}`` (§2) for ``t = 1..horizon`` from sympy Matrix powers, as Fractions."""
    delta = sympy.Matrix([[sympy.Rational(a.numerator, a.denominator) for a in row]
                          for row in attention])
    tau = delta.rows - 1
    curves = []
    for t in range(1, horizon + 1):
        power = delta ** t
        curves.append([Fraction(int(power[tau, v].p), int(power[tau, v].q)) for v in range(delta.cols)])
    return curves


def integer_power_curves(attention, horizon):
    """``S_t(v) = [Δ^t]_{τ,v}`` (§2) by full integer matrix products: ``Δ = M / d``, ``Δ^t = M^t / d^t``."""
    n = attention.shape[-1]
    d = reduce(math.lcm, (a.denominator for a in attention.ravel()), 1)
    m = [[int(a * d) for a in row] for row in attention]
    power, scale, curves = [row[:] for row in m], d, []
    for _ in range(horizon):
        curves.append([Fraction(power[n - 1][v], scale) for v in range(n)])
        power = [[sum(power[i][k] * m[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
        scale *= d
    return curves


def peak(curve):
    """``(max_t S_t, first t attaining it)`` of a curve indexed from ``t = 1`` (§2, φ_v^K)."""
    best = max(curve)
    return best, curve.index(best) + 1


def cut_off_by_search(attention):
    """Nodes with no directed path to the sink (§1), by a depth-first search on ``A[i, j] > 0``."""
    n = attention.shape[-1]
    reaches = {n - 1}
    for j in range(n - 2, -1, -1):
        if any(attention[i, j] > 0 and i in reaches for i in range(j + 1, n)):
            reaches.add(j)
    return [v for v in range(n) if v not in reaches]


def assert_exact(value, expected):
    """``value`` is an exact ``Fraction`` equal to ``expected`` (a float would compare equal too)."""
    assert isinstance(value, Fraction), f"expected an exact Fraction, got {value!r}"
    assert value == expected


# --------------------------------------------------------------------------------------
# Example 2 of §2
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example2():
    return paper_example2()


def test_example2_head1(example2):
    """§2 Example 2: φ_min(head 1) = 3/8 at horizon K = 20, attained by v = 1 at t = 3."""
    result = minimax_fidelity(example2.heads[0], horizon=20)
    assert_exact(result.value, Fraction(3, 8))
    assert (result.node, result.t) == (1, 3)


def test_example2_head2(example2):
    """§2 Example 2: φ_min(head 2) = 871696090/3486784401 at K = 20, by u = 0 at t = 20."""
    result = minimax_fidelity(example2.heads[1], horizon=20)
    assert_exact(result.value, Fraction(871696090, 3486784401))
    assert (result.node, result.t) == (0, 20)
    # By hand (§2): the backward walk stays at τ and at w w.p. 1/3 each step and is absorbed
    # at u only from w, so S_t(u) = Σ_{k=1}^{t-1} k / 3^{k+1}.
    assert result.value == sum(Fraction(k, 3 ** (k + 1)) for k in range(1, 20))


def test_example2_combined(example2):
    """§2 Example 2: φ_min(Δ̄(1/2, 1/2)) = 5/12 at K = 20, by w = 2 at t = 1."""
    result = minimax_fidelity(example2, horizon=20)
    assert_exact(result.value, Fraction(5, 12))
    assert (result.node, result.t) == (2, 1)
    # Δ̄[τ, w] = 1/2 · 1/2 + 1/2 · 1/3 (§2, multi-head operator).
    assert result.per_node[2] == Fraction(1, 2) * Fraction(1, 2) + Fraction(1, 2) * Fraction(1, 3)


def test_example2_amplification(example2):
    """§2 Example 2: ρ = (5/12)/(3/8) = 10/9 > 1, best single head 1 (index 0)."""
    result = amplification(example2, horizon=20)
    assert_exact(result.ratio, Fraction(10, 9))
    assert_exact(result.best_value, Fraction(3, 8))
    assert_exact(result.combined, Fraction(5, 12))
    assert result.best_head == 0
    assert result.amplifies is True
    assert list(result.per_head) == [Fraction(3, 8), Fraction(871696090, 3486784401)]
    assert result.combined_result.node == 2 and result.heads.node.tolist() == [1, 0]


def test_example2_head2_infinite_horizon(example2):
    """§2 Example 2: head 2's infinite-horizon minimax is exactly 1/4 at u = 0, never attained."""
    result = minimax_fidelity(example2.heads[1], horizon=None)
    assert_exact(result.value, Fraction(1, 4))
    assert result.node == 0
    assert result.t == NOT_ATTAINED
    assert result.error_bound == 0
    # Σ_{k≥1} k / 3^{k+1} = (1/9) / (1 - 1/3)^2 = 1/4 (§2), approached from below.
    curves = integer_power_curves(example2.heads[1].diffusion, 60)
    assert all(row[0] < Fraction(1, 4) for row in curves)
    assert Fraction(1, 4) - curves[-1][0] < Fraction(1, 10 ** 25)


def test_example2_infinite_horizon_node_fidelity(example2):
    """§2: infinite-horizon φ_v of head 1 is (1, 3/8, 1/2, 1/2); token 0 tends to 1 (sink fact)."""
    fidelity = node_fidelity(example2.heads[0], horizon=None)
    assert list(fidelity.value) == [1, Fraction(3, 8), Fraction(1, 2), Fraction(1, 2)]
    assert all(isinstance(v, Fraction) for v in fidelity.value)
    assert fidelity.t.tolist() == [NOT_ATTAINED, 3, 1, 1]
    assert fidelity.horizon is None
    assert all(e == 0 for e in fidelity.error_bound)


# --------------------------------------------------------------------------------------
# Known-answer table (§2), references from sympy Matrix powers
# --------------------------------------------------------------------------------------

KNOWN_SYSTEMS = {
    "two tokens": [[1], [1, 1]],
    "example 2, head 1": [[1], [1, 1], [0, 1, 1], [0, 0, 1, 1]],
    "example 2, head 2": [[1], [0, 1], [1, 1, 1], [0, 1, 1, 1]],
    "no self-attention": [[1], [1, 0], [0, 1, 0]],
    "uniform causal": [[1], [1, 1], [1, 1, 1], [1, 1, 1, 1]],
    "token 1 cut off": [[1], [1, 1], [1, 0, 1]],
    "sink attends only to itself": [[1], [1, 1], [0, 0, 1]],
    "five tokens": [[1], [2, 1], [0, 3, 1], [1, 0, 2, 1], [0, 1, 0, 3, 2]],
}


@pytest.mark.parametrize("horizon", [1, 4, 12])
@pytest.mark.parametrize("name", sorted(KNOWN_SYSTEMS))
def test_known_answer_table(name, horizon):
    """§2: signal_curves, node_fidelity and minimax_fidelity against sympy's ``(Δ^t)[τ, v]``."""
    attention = attention_from_weights(KNOWN_SYSTEMS[name])
    n = attention.shape[0]
    expected = sympy_curves(attention, horizon)

    curves = signal_curves(attention, horizon)
    assert curves.shape == (horizon, n)
    assert all(isinstance(s, Fraction) for s in curves.ravel())
    assert curves.tolist() == expected

    peaks = [peak([row[v] for row in expected]) for v in range(n)]
    fidelity = node_fidelity(attention, horizon)
    assert fidelity.value.tolist() == [value for value, _ in peaks]
    assert fidelity.t.tolist() == [t for _, t in peaks]
    assert fidelity.horizon == horizon
    assert all(e == 0 for e in fidelity.error_bound)

    for sources, nodes in [("non-sink", range(n - 1)), ("all", range(n)), ([-1, 0], [0, n - 1])]:
        result = minimax_fidelity(attention, horizon, sources)
        node = min(nodes, key=lambda v: (peaks[v][0], v))  # smallest index among ties
        assert_exact(result.value, peaks[node][0])
        assert (result.node, result.t) == (node, peaks[node][1])
        assert result.sources.tolist() == list(nodes)


def test_two_tokens_by_hand():
    """§2: for Δ = [[1, 0], [1/2, 1/2]], S_t(0) = 1 - 2^-t and S_t(1) = 2^-t."""
    attention = attention_from_weights([[1], [1, 1]])
    curves = signal_curves(attention, 5)
    assert curves[:, 0].tolist() == [1 - Fraction(1, 2 ** t) for t in range(1, 6)]
    assert curves[:, 1].tolist() == [Fraction(1, 2 ** t) for t in range(1, 6)]
    result = minimax_fidelity(attention, 4)
    assert_exact(result.value, Fraction(15, 16))
    assert (result.node, result.t) == (0, 4)
    result = minimax_fidelity(attention, 4, "all")
    assert_exact(result.value, Fraction(1, 2))
    assert (result.node, result.t) == (1, 1)


def test_no_self_attention_by_hand():
    """§2: with Δ[1,1] = Δ[2,2] = 0 the signal moves one token per step: S_1 = e_1, S_t = e_0 (t ≥ 2)."""
    attention = attention_from_weights([[1], [1, 0], [0, 1, 0]])
    assert signal_curves(attention, 3).tolist() == [[0, 1, 0], [1, 0, 0], [1, 0, 0]]
    fidelity = node_fidelity(attention, horizon=None)
    assert fidelity.value.tolist() == [1, 1, 0]
    # An attained supremum reports the first step reaching it (§2).
    assert fidelity.t.tolist()[:2] == [2, 1]


def test_cut_off_node_has_zero_fidelity():
    """§1/§2: token 1 has no path to the sink, so S_t(1) = 0 for all t and φ_1 = 0."""
    attention = attention_from_weights([[1], [1, 1], [1, 0, 1]])
    assert SinkDAG(attention).cut_off == [1]
    for horizon in (10, None):
        fidelity = node_fidelity(attention, horizon)
        assert_exact(fidelity.value[1], Fraction(0))
        assert fidelity.t[1] == 1  # S_1(1) = 0 already attains the maximum 0
        result = minimax_fidelity(attention, horizon)
        assert_exact(result.value, Fraction(0))
        assert result.node == 1


def test_head_system_stands_for_combined_operator(example2):
    """§2: a HeadSystem is evaluated at its combined operator Δ̄(β)."""
    direct = signal_curves(example2.combined().diffusion, 6)
    assert signal_curves(example2, 6).tolist() == direct.tolist()
    expected = sympy_curves(example2.combined().diffusion, 6)
    assert direct.tolist() == expected


# --------------------------------------------------------------------------------------
# Float path against the exact path (§7)
# --------------------------------------------------------------------------------------


@given(rational_attention(), st.integers(1, 25))
def test_float_matches_exact(attention, horizon):
    """§7: the float64 path of §2's S_t, φ_v^K and φ_min^K agrees with the exact path to 1e-12."""
    approx = to_float(attention)
    exact_curves = signal_curves(attention, horizon)
    float_curves = signal_curves(approx, horizon)
    assert float_curves.dtype == np.float64
    np.testing.assert_allclose(float_curves, to_float(exact_curves), rtol=0, atol=1e-12)

    exact_fid, float_fid = node_fidelity(attention, horizon), node_fidelity(approx, horizon)
    np.testing.assert_allclose(float_fid.value, to_float(exact_fid.value), rtol=0, atol=1e-12)

    for sources in ("non-sink", "all", [0]):
        exact_min = minimax_fidelity(attention, horizon, sources)
        float_min = minimax_fidelity(approx, horizon, sources)
        assert isinstance(float_min.value, float) and isinstance(exact_min.value, Fraction)
        assert abs(float_min.value - float(exact_min.value)) <= 1e-12


def _close(a, b):
    if math.isnan(a) or math.isinf(a):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


@given(rational_system(min_heads=2), st.integers(1, 15))
def test_amplification_float_matches_exact(system, horizon):
    """§2/§7: ρ, the best head's value and the combined value agree between float and exact."""
    attention, weights = system
    exact = amplification(attention, horizon, weights=weights)
    approx = amplification(to_float(attention), horizon, weights=to_float(weights))
    np.testing.assert_allclose(approx.per_head, to_float(exact.per_head), rtol=0, atol=1e-12)
    assert abs(approx.best_value - float(exact.best_value)) <= 1e-12
    assert abs(approx.combined - float(exact.combined)) <= 1e-12
    assert _close(float(approx.ratio), float(exact.ratio))
    if not math.isnan(float(exact.ratio)) and abs(float(exact.ratio) - 1) > 1e-9:
        assert approx.amplifies == exact.amplifies  # ties at ρ = 1 may round either way


@given(rational_system(min_heads=2, max_heads=3), st.integers(1, 12))
def test_amplification_definition(system, horizon):
    """§2: ρ = φ_min(Δ̄(β)) / max_h φ_min(Δ^(h)), each term a minimax of its own operator."""
    attention, weights = system
    result = amplification(attention, horizon, weights=weights)
    per_head = [minimax_fidelity(head, horizon).value for head in attention]
    combined = minimax_fidelity(HeadSystem(attention, weights), horizon).value
    assert list(result.per_head) == per_head
    best = max(per_head)
    assert result.best_head == per_head.index(best)
    assert_exact(result.best_value, best)
    assert_exact(result.combined, combined)
    if best > 0:
        assert_exact(result.ratio, combined / best)
        assert result.amplifies == (combined > best)
    else:
        assert result.ratio == math.inf if combined > 0 else math.isnan(result.ratio)
        assert result.amplifies == (combined > 0)


def test_amplification_when_only_the_combination_reaches_every_source():
    """§2: head 1 reaches only token 0, head 2 only token 1; Δ̄ reaches both, so ρ = inf > 1.

    Δ̄[τ] = (1/4, 1/4, 1/2) and tokens 0, 1 are absorbing, so S_t(0) = S_t(1) = (1 - 2^-t)/2
    and φ_min^3(Δ̄) = 7/16.
    """
    head1 = attention_from_weights([[1], [0, 1], [1, 0, 1]])
    head2 = attention_from_weights([[1], [0, 1], [0, 1, 1]])
    result = amplification(np.stack([head1, head2]), 3)
    assert list(result.per_head) == [0, 0]
    assert_exact(result.combined, Fraction(7, 16))
    assert result.combined_result.node == 0 and result.combined_result.t == 3
    assert result.ratio == math.inf
    assert result.amplifies is True


def _unreachable_system():
    """Two heads whose sink attends only to itself: no source reaches τ, in any operator."""
    alone = attention_from_weights([[1], [1, 1], [0, 0, 1]])
    return np.stack([alone, alone])


def test_amplification_with_no_reachable_source():
    """§2: φ_min is 0 for every head and for Δ̄, so ρ = 0/0 is nan and nothing amplifies."""
    result = amplification(_unreachable_system(), 5)
    assert result.best_value == 0 and result.combined == 0
    assert math.isnan(result.ratio)
    assert result.amplifies is False


def test_amplification_with_no_reachable_source_batched_is_silent():
    """§2: the batched exact 0/0 case gives nan ratios and amplifies False, without warnings."""
    batch = np.stack([_unreachable_system()] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = amplification(batch, 5)
    assert all(math.isnan(r) for r in result.ratio)
    assert not np.any(result.amplifies)


# --------------------------------------------------------------------------------------
# Batched input (§2, shapes (..., n, n))
# --------------------------------------------------------------------------------------


@given(rational_system(min_heads=2), st.integers(1, 10))
def test_exact_batch_equals_per_matrix(system, horizon):
    """§2: a stack (B, n, n) gives, in every field, the per-matrix results."""
    stack, _ = system
    batch, n = stack.shape[0], stack.shape[-1]
    curves = signal_curves(stack, horizon)
    assert curves.shape == (batch, horizon, n)
    fidelity = node_fidelity(stack, horizon)
    assert fidelity.value.shape == fidelity.t.shape == (batch, n)
    result = minimax_fidelity(stack, horizon, "all")
    assert result.shape == (batch,)
    assert np.shape(result.value) == np.shape(result.node) == np.shape(result.t) == (batch,)
    for i in range(batch):
        single = minimax_fidelity(stack[i], horizon, "all")
        assert curves[i].tolist() == signal_curves(stack[i], horizon).tolist()
        assert fidelity.value[i].tolist() == node_fidelity(stack[i], horizon).value.tolist()
        assert (result.value[i], result.node[i], result.t[i]) == (single.value, single.node, single.t)
        part = result[i]
        assert (part.value, part.node, part.t) == (single.value, single.node, single.t)
        assert_exact(part.value, single.value)
        assert float(part) == float(single.value)


@given(float_attention(batch=(2, 3), max_n=8), st.integers(1, 20))
def test_float_batch_equals_per_matrix(stack, horizon):
    """§2: a float stack (2, 3, n, n): `.value` has the batch shape, `result[i]` indexes it."""
    result = minimax_fidelity(stack, horizon)
    assert result.shape == (2, 3)
    assert result.value.shape == result.node.shape == result.t.shape == (2, 3)
    assert result[1].value.shape == (3,)
    np.testing.assert_array_equal(result[1].value, result.value[1])
    for i in range(2):
        for j in range(3):
            single = minimax_fidelity(stack[i, j], horizon)
            assert abs(result[i, j].value - single.value) <= 1e-14
            assert abs(result.value[i, j] - single.value) <= 1e-14
            assert result[i, j].node == single.node == result.node[i, j]
    with pytest.raises(TypeError, match="batch shape"):
        float(result)


@given(rational_system(min_heads=2, max_heads=3), st.integers(1, 8))
def test_amplification_batch(system, horizon):
    """§2: amplification over a batch (B, H, n, n) equals amplification per system."""
    attention, weights = system
    batch = np.stack([attention, attention[::-1]])
    result = amplification(batch, horizon, weights=weights)
    assert result.per_head.shape == (2, attention.shape[0])
    assert np.shape(result.combined) == np.shape(result.ratio) == np.shape(result.best_head) == (2,)
    for b in range(2):
        single = amplification(batch[b], horizon, weights=weights)
        assert result.per_head[b].tolist() == single.per_head.tolist()
        assert result.best_head[b] == single.best_head
        assert result.combined[b] == single.combined
        assert bool(result.amplifies[b]) == single.amplifies


# --------------------------------------------------------------------------------------
# Infinite horizon (§2, §7)
# --------------------------------------------------------------------------------------


@given(rational_attention(max_n=5))
def test_exact_supremum(attention):
    """§2: φ_v = sup_t S_t(v): ≥ every S_t (t ≤ 200); attained at the first reported t, else a limit."""
    fidelity = node_fidelity(attention, horizon=None)
    assert all(isinstance(v, Fraction) for v in fidelity.value)
    assert all(e == 0 for e in fidelity.error_bound)
    curves = integer_power_curves(attention, 200)
    for v in range(attention.shape[0]):
        curve = [row[v] for row in curves]
        value, t = fidelity.value[v], int(fidelity.t[v])
        assert all(s <= value for s in curve)
        if t == NOT_ATTAINED:
            assert all(s < value for s in curve)
            assert value - curve[-1] < 1e-9  # the limit is approached
        else:
            assert 1 <= t <= 200
            assert max(curve) == value == curve[t - 1]
            assert all(s < value for s in curve[: t - 1])  # the first step reaching it


@given(rational_attention(max_n=6))
def test_float_supremum_within_error_bound(attention):
    """§2/§7: numeric φ_v agrees with the exact supremum within its certified error bound + 1e-12."""
    exact = node_fidelity(attention, horizon=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        approx = node_fidelity(to_float(attention), horizon=None)
    assert np.all(approx.error_bound >= 0)
    gap = np.abs(approx.value - to_float(exact.value))
    assert np.all(gap <= approx.error_bound + 1e-12)


def test_uncertified_supremum_reports_error_bound():
    """§2: a supremum not certified within max_steps warns and carries a bound that holds."""
    attention = np.array([[1.0, 0.0, 0.0], [0.001, 0.999, 0.0], [0.0, 0.5, 0.5]])
    with pytest.warns(ConvergenceWarning, match="error bound"):
        approx = node_fidelity(attention, horizon=None, max_steps=3)
    exact = node_fidelity(
        attention_from_weights([[1], [1, 999], [0, 1, 1]]), horizon=None
    )
    assert approx.error_bound[1] > 0
    assert approx.error_bound[0] == approx.error_bound[2] == 0  # absorbing; certified at t = 1
    assert np.all(np.abs(approx.value - to_float(exact.value)) <= approx.error_bound + 1e-12)
    with pytest.warns(ConvergenceWarning):
        result = minimax_fidelity(attention, horizon=None, max_steps=3)
    # The minimax bound is the largest bound over the sources (§2): here node 1's.
    assert result.error_bound == approx.error_bound[1]
    assert abs(result.value - float(min(exact.value[:2]))) <= result.error_bound + 1e-12
    certified = node_fidelity(attention, horizon=None)
    assert np.all(certified.error_bound == 0)
    assert abs(certified.value[1] - float(exact.value[1])) <= 1e-12


@given(rational_attention(max_n=6))
def test_cut_off_nodes_have_zero_fidelity(attention):
    """§1/§2: a node with no path to the sink never sends signal there: φ_v = 0, any horizon."""
    cut = cut_off_by_search(attention)
    assert SinkDAG(attention).cut_off == cut
    for horizon in (7, None):
        fidelity = node_fidelity(attention, horizon)
        assert all(fidelity.value[v] == 0 for v in cut)
        # Every other source has a path of some length k to τ, so S_k(v) > 0. (The sink itself
        # may have φ_τ = 0: with A[τ, τ] = 0 the signal leaves it at the first step.)
        sources = range(attention.shape[0] - 1)
        assert all(fidelity.value[v] > 0 for v in sources if v not in cut)


def _no_other_absorbing(attention):
    """Give every token but 0 a diagonal below 1 (rows with only a self-weight get a neighbour)."""
    attention = attention.copy()
    for i in range(1, attention.shape[0]):
        if attention[i, i] == 1:
            attention[i, i] = attention[i, i - 1] = Fraction(1, 2)
    return attention


@given(rational_attention(max_n=6).map(_no_other_absorbing))
def test_attention_sink_fact(attention):
    """§2 attention-sink fact: diagonal below 1 except A[0, 0] gives S_t(0) → 1 and S_t(v) → 0."""
    fidelity = node_fidelity(attention, horizon=None)
    assert_exact(fidelity.value[0], Fraction(1))
    curves = integer_power_curves(attention, 200)
    assert 1 - curves[-1][0] < 1e-6
    assert all(s < 1e-6 for s in curves[-1][1:])
    t = int(fidelity.t[0])
    assert t == NOT_ATTAINED or curves[t - 1][0] == 1


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("horizon", [0, -3])
def test_horizon_must_be_positive(example2, horizon):
    """§2: the horizon K counts steps t = 1..K, so K ≥ 1."""
    for function in (signal_curves, node_fidelity, minimax_fidelity):
        with pytest.raises(InvalidInputError, match="horizon must be at least 1"):
            function(example2, horizon)
    with pytest.raises(ValueError, match="horizon"):
        amplification(example2, horizon)


@pytest.mark.parametrize("horizon", [2.5, 3.0, "3", True])
def test_horizon_must_be_an_int(example2, horizon):
    """§2: a non-integer horizon is refused with a TypeError naming it."""
    for function in (signal_curves, node_fidelity, minimax_fidelity):
        with pytest.raises(InvalidTypeError, match="horizon must be an int"):
            function(example2, horizon)


def test_signal_curves_needs_a_finite_horizon(example2):
    """§2: S_t is listed for t = 1..K, so signal_curves has no infinite horizon."""
    with pytest.raises(TypeError, match="horizon"):
        signal_curves(example2, None)


@pytest.mark.parametrize(
    "sources, message",
    [
        ("sinks", "sources must be"),
        ([], "non-empty"),
        ([4], "out of range"),
        ([-5], "out of range"),
        ([[0, 1]], "non-empty list of int"),
        ([0.5], "non-empty list of int"),
    ],
)
def test_bad_sources(example2, sources, message):
    """§2: the source set S is "non-sink", "all" or node indices 0..n-1."""
    with pytest.raises(InvalidInputError, match=message):
        minimax_fidelity(example2, 5, sources)


def test_float_of_single_and_batched_result(example2):
    """§2: float() unwraps one operator's minimax; a batched result refuses it."""
    assert float(minimax_fidelity(example2.heads[0], 20)) == 0.375
    batched = minimax_fidelity(example2.attention, 20)
    with pytest.raises(TypeError, match="batch shape"):
        float(batched)
    with pytest.raises(TypeError, match="cannot be indexed"):
        minimax_fidelity(example2.heads[0], 20)[0]
