"""Tests of dagtheory.programs: the weight programs P1, P2 and P3 of docs/theory.md §5.

Every number is checked against an independent computation made here:

* brute force over a grid of the simplex, every grid point evaluated in one batched
  call (``minimax_fidelity`` for P3, the LP objective by matrix products for P1/P2);
* ``scipy.optimize.linprog`` on the same linear programs (P1, P2);
* exact ``Fraction`` arithmetic (§7) at the returned weights (P3 on Example 2);
* Euler's identity and finite differences for the forward-mode gradients (P3's SGP).
"""

import dataclasses
import time
from fractions import Fraction

import cvxpy as cp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from dagtheory import (
    DagTheoryError,
    HeadSystem,
    InvalidInputError,
    InvalidTypeError,
    forward_probability,
    minimax_fidelity,
    mixture_mixing_bound,
    signal_curves,
)
from dagtheory.examples import mixing_synergy, paper_example2
from dagtheory.markov import closed_form_bound
from dagtheory.programs import (
    FidelityWeights,
    MixingWeights,
    SolverError,
    _peaks_and_gradients,
    optimal_fidelity_weights,
    optimal_mixing_weights,
    optimal_one_step_fidelity,
)
from strategies import float_attention

EXAMPLE2_BEST = 0.4297  # §2: optimizing β reaches about 0.4298 near β_1 ≈ 0.579


# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def random_attention(seed, heads, n, temperature):
    """Causal softmax attention of Gaussian scores, shape (heads, n, n), seeded."""
    scores = np.random.default_rng(seed).normal(scale=temperature, size=(heads, n, n))
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def compositions(heads, total):
    """Every tuple of ``heads`` non-negative ints summing to ``total``."""
    if heads == 1:
        yield (total,)
        return
    for first in range(total + 1):
        for rest in compositions(heads - 1, total - first):
            yield (first,) + rest


def simplex_grid(heads, per_side):
    """Every point ``k / per_side`` of the simplex with integer ``k`` summing to ``per_side``."""
    return np.array(list(compositions(heads, per_side)), dtype=float) / per_side


def grid_fidelity(attention, grid, horizon, sources="non-sink"):
    """``φ_min^K(Δ̄(β))`` at every grid point, in one batched call (§2)."""
    combined = np.tensordot(grid, attention, axes=1)
    return np.asarray(minimax_fidelity(combined, horizon, sources).value)


def linprog_max_min(coefficients):
    """``max_w min_i coefficients[i] · w`` over the simplex, by scipy's interior point."""
    rows, heads = coefficients.shape
    objective = np.zeros(heads + 1)
    objective[-1] = -1.0
    result = linprog(
        objective,
        A_ub=np.hstack([-coefficients, np.ones((rows, 1))]), b_ub=np.zeros(rows),
        A_eq=np.hstack([np.ones((1, heads)), np.zeros((1, 1))]), b_eq=[1.0],
        bounds=[(0, None)] * heads + [(None, None)], method="highs-ipm",
    )
    assert result.status == 0, result.message
    return -result.fun


def exact_fidelity(system, weights, horizon):
    """``φ_min^K`` of an exact system at float weights, read as exact binary fractions (§7)."""
    exact = [Fraction(float(w)) for w in weights]
    return minimax_fidelity(HeadSystem(system.attention, exact), horizon).value


def assert_on_simplex(weights, heads):
    assert weights.shape == (heads,)
    assert np.all(weights >= 0)
    assert abs(weights.sum() - 1) <= 1e-9


def assert_non_decreasing(history):
    assert len(history) >= 1
    assert all(later >= earlier for earlier, later in zip(history, history[1:])), history


# --------------------------------------------------------------------------------------
# P1: best mixing bound (§5, §3 Theorem M3)
# --------------------------------------------------------------------------------------


def test_p1_mixing_instance_known_answer():
    # §3's instance: 1 - diag(P) is (1/2, 1/4, 1/2, 1/2) for head 1 and (1/4, 1/2, 1/2, 1/2)
    # for head 2, so the best α is (1/2, 1/2) with p = 3/8 and bound ⌈8 ln 4 / (3/8)⌉ = 30.
    result = optimal_mixing_weights(mixing_synergy())
    assert isinstance(result, MixingWeights)
    np.testing.assert_allclose(result.weights, [0.5, 0.5], atol=1e-7)
    assert result.p_bar == pytest.approx(0.375, abs=1e-9)
    assert result.bound == 30
    assert result.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
    assert result.solver == "HIGHS" and result.fallbacks == ()
    # Every head alone gives M3's bound 45: the mixture weights beat them.
    assert list(mixture_mixing_bound(mixing_synergy()).per_head_bound) == [45.0, 45.0]


@pytest.mark.parametrize("seed", range(3))
def test_p1_value_is_the_mixture_forward_probability(seed):
    system = HeadSystem(random_attention(seed, 3, 7, 1.0))
    result = optimal_mixing_weights(system, eps=0.1)
    mixture = system.mixture_walk(result.weights)
    assert result.p_bar == pytest.approx(forward_probability(mixture), abs=1e-12)
    assert result.bound == closed_form_bound(system.n - 1, result.p_bar, 0.1)
    # p(P̄) ≥ Σ α_h p_h (Theorem M3).
    per_head = np.asarray(forward_probability(system.walks))
    assert result.p_bar >= result.weights @ per_head - 1e-12


@pytest.mark.parametrize("heads, per_side", [(2, 2000), (3, 80)])
@pytest.mark.parametrize("seed", range(3))
def test_p1_against_grid_and_linprog(heads, per_side, seed):
    system = HeadSystem(random_attention(100 + seed, heads, 6, 2.0))
    leave = 1 - np.diagonal(system.walks, axis1=-2, axis2=-1)[:, :-1].T
    grid = simplex_grid(heads, per_side)
    best_on_grid = (leave @ grid.T).min(axis=0).max()
    result = optimal_mixing_weights(system)
    assert_on_simplex(result.weights, heads)
    assert result.p_bar >= best_on_grid - 1e-9
    # A concave piecewise-linear objective: within max|c| · (ℓ1 distance to the grid).
    assert result.p_bar <= best_on_grid + np.abs(leave).max() * 2 * heads / per_side
    assert result.p_bar == pytest.approx(linprog_max_min(leave), abs=1e-7)
    clarabel = optimal_mixing_weights(system, solver="CLARABEL")
    assert clarabel.solver == "CLARABEL"
    assert clarabel.p_bar == pytest.approx(result.p_bar, abs=1e-6)


# --------------------------------------------------------------------------------------
# P2: one-step minimax fidelity (§5)
# --------------------------------------------------------------------------------------


def test_p2_example2_known_answers():
    # Row τ = 3 is (0, 0, 1/2, 1/2) in head 1 and (0, 1/3, 1/3, 1/3) in head 2.
    result = optimal_one_step_fidelity(paper_example2(), sources=[1, 2])
    np.testing.assert_allclose(result.weights, [0.0, 1.0], atol=1e-7)
    assert result.value == pytest.approx(1 / 3, abs=1e-9)
    assert list(result.sources) == [1, 2]
    # With u = 0 a source no head's sink attends to it in one step: the optimum is 0.
    assert optimal_one_step_fidelity(paper_example2()).value == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("heads, per_side", [(2, 2000), (3, 80)])
@pytest.mark.parametrize("sources", ["non-sink", "all", [1, 3, 4]])
def test_p2_against_grid_linprog_and_s1(heads, per_side, sources):
    system = HeadSystem(random_attention(7 * heads, heads, 6, 1.0))
    result = optimal_one_step_fidelity(system, sources=sources)
    assert_on_simplex(result.weights, heads)
    one_step = system.attention[:, -1, result.sources].T
    grid = simplex_grid(heads, per_side)
    best_on_grid = (one_step @ grid.T).min(axis=0).max()
    assert result.value >= best_on_grid - 1e-9
    assert result.value <= best_on_grid + one_step.max() * 2 * heads / per_side
    assert result.value == pytest.approx(linprog_max_min(one_step), abs=1e-7)
    # The value is the minimax of S_1 (§2), recomputed from the combined operator.
    recomputed = minimax_fidelity(system.with_weights(result.weights), horizon=1, sources=sources)
    assert result.value == pytest.approx(float(recomputed), abs=1e-12)


# --------------------------------------------------------------------------------------
# P3: Example 2 (§2, §5)
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example2_line():
    """φ_min^20 along β = (s, 1 - s) for 20001 values of s, and the best of them."""
    system = paper_example2()
    s = np.linspace(0.0, 1.0, 20001)
    values = grid_fidelity(np.asarray(system.attention, dtype=float), np.stack([s, 1 - s], 1), 20)
    return s, values


def test_p3_sgp_example2(example2_line):
    system = paper_example2()
    result = optimal_fidelity_weights(system, horizon=20)
    assert isinstance(result, FidelityWeights)
    assert result.method == "sgp" and result.converged and result.status == "converged"
    assert result.upper_bound is None and result.gap is None
    assert result.value >= EXAMPLE2_BEST
    assert 0.57 <= result.weights[0] <= 0.59
    assert_on_simplex(result.weights, 2)
    assert_non_decreasing(result.history)
    assert result.history[0] == pytest.approx(5 / 12, abs=1e-15)  # uniform start (§2)
    assert result.history[-1] == pytest.approx(result.value, abs=1e-15)
    exact = float(exact_fidelity(system, result.weights, 20))
    assert result.value == pytest.approx(exact, abs=1e-12)
    s, values = example2_line
    assert result.value >= values.max() - 1e-6
    assert abs(s[np.argmax(values)] - result.weights[0]) <= 1e-3


def test_p3_bnb_example2_certifies(example2_line):
    result = optimal_fidelity_weights(paper_example2(), horizon=20, method="bnb", tol=1e-4)
    assert result.method == "bnb" and result.converged and result.status == "converged"
    assert result.upper_bound >= result.value >= EXAMPLE2_BEST
    assert result.gap == pytest.approx(result.upper_bound - result.value, abs=1e-15)
    assert 0 <= result.gap <= 1e-3
    assert result.upper_bound >= example2_line[1].max()
    assert_non_decreasing(result.history)
    assert result.value == pytest.approx(
        float(exact_fidelity(paper_example2(), result.weights, 20)), abs=1e-12)


def test_p3_exact_and_float_systems_agree():
    exact = optimal_fidelity_weights(paper_example2(), horizon=20)
    floats = HeadSystem(np.asarray(paper_example2().attention, dtype=float))
    numeric = optimal_fidelity_weights(floats, horizon=20)
    np.testing.assert_allclose(numeric.weights, exact.weights, atol=1e-9)
    assert numeric.value == pytest.approx(exact.value, abs=1e-12)


def test_p3_start_at_a_vertex_stays_on_it():
    # A head with start weight 0 stays at 0; from e_1 the value is head 1's 3/8 (§2).
    result = optimal_fidelity_weights(paper_example2(), horizon=20, start=[1, 0])
    np.testing.assert_array_equal(result.weights, [1.0, 0.0])
    assert result.value == pytest.approx(3 / 8, abs=1e-15)
    both = optimal_fidelity_weights(paper_example2(), horizon=20, start=[[1, 0], [1, 1]])
    assert both.value >= EXAMPLE2_BEST


def test_p3_sources_all_includes_the_sink():
    result = optimal_fidelity_weights(paper_example2(), horizon=20, sources="all")
    assert list(result.sources) == [0, 1, 2, 3]
    system = HeadSystem(np.asarray(paper_example2().attention, dtype=float), result.weights)
    assert result.value == pytest.approx(float(minimax_fidelity(system, 20, "all")), abs=1e-12)
    assert_non_decreasing(result.history)


def test_p3_zero_fidelity_everywhere():
    # At K = 1 no head carries u = 0 to the sink, so φ_min ≡ 0 on the simplex.
    result = optimal_fidelity_weights(paper_example2(), horizon=1)
    assert result.value == 0 and result.status == "zero_fidelity" and result.converged
    assert result.iterations == 0 and result.history == (0.0,)


# --------------------------------------------------------------------------------------
# P3: generated systems against a 41-per-side grid of the simplex (§5)
# --------------------------------------------------------------------------------------

GENERATED = [(0, 2.0), (1, 1.0), (2, 0.5), (3, 4.0), (4, 1.0)]


@pytest.fixture(scope="module")
def generated():
    """Five 3-head systems (n = 12) with φ_min^30 at all 861 points k/40 of the simplex."""
    grid = simplex_grid(3, 40)
    assert len(grid) == 861
    cases = {}
    for seed, temperature in GENERATED:
        attention = random_attention(seed, 3, 12, temperature)
        cases[seed, temperature] = (attention, grid_fidelity(attention, grid, 30))
    return cases


@pytest.mark.parametrize("seed, temperature", GENERATED)
def test_p3_sgp_reaches_the_grid_optimum(generated, seed, temperature):
    attention, on_grid = generated[seed, temperature]
    # SGP ascends to a local optimum; `starts=8` adds the 7 best of a fixed random sample
    # of the simplex as starting points (the documented guard against a poor one).
    result = optimal_fidelity_weights(HeadSystem(attention), 30, starts=8)
    assert result.value >= on_grid.max() - 1e-6
    assert_on_simplex(result.weights, 3)
    assert_non_decreasing(result.history)
    recomputed = minimax_fidelity(HeadSystem(attention, result.weights), 30)
    assert result.value == pytest.approx(float(recomputed), rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("seed, temperature", GENERATED)
def test_p3_bnb_bound_dominates_the_grid(generated, seed, temperature):
    attention, on_grid = generated[seed, temperature]
    result = optimal_fidelity_weights(HeadSystem(attention), 30, method="bnb", max_iter=300)
    assert result.upper_bound >= on_grid.max()
    assert result.upper_bound >= result.value
    assert result.gap == pytest.approx(result.upper_bound - result.value, abs=1e-15)
    assert result.converged == (result.gap <= 1e-6)
    assert result.iterations <= 300
    assert_non_decreasing(result.history)
    recomputed = minimax_fidelity(HeadSystem(attention, result.weights), 30)
    assert result.value == pytest.approx(float(recomputed), rel=1e-12, abs=1e-15)


@st.composite
def small_systems(draw):
    heads = draw(st.integers(2, 4))
    attention = draw(float_attention(min_n=2, max_n=8, batch=(heads,)))
    return attention, draw(st.integers(1, 12))


@settings(max_examples=15)
@given(small_systems())
def test_p3_invariants_on_generated_systems(case):
    attention, horizon = case
    system = HeadSystem(attention)
    result = optimal_fidelity_weights(system, horizon, max_iter=5)
    assert_on_simplex(result.weights, system.H)
    assert_non_decreasing(result.history)
    assert result.history[0] == pytest.approx(float(minimax_fidelity(system, horizon)), rel=1e-12)
    assert result.value == pytest.approx(
        float(minimax_fidelity(system.with_weights(result.weights), horizon)), rel=1e-12, abs=0.0)
    # The branch-and-bound bound dominates φ_min at the vertices, the centre and random points.
    bound = optimal_fidelity_weights(system, horizon, method="bnb", max_iter=40)
    points = np.vstack([np.eye(system.H), np.full(system.H, 1 / system.H),
                        np.random.default_rng(0).dirichlet(np.ones(system.H), 50)])
    assert bound.upper_bound >= grid_fidelity(attention, points, horizon).max() - 1e-12
    assert bound.upper_bound >= bound.value >= result.history[0] - 1e-12


def test_forward_mode_gradients():
    # ∂_h S_t(v; β) at each source's peak step: Euler's identity for a polynomial homogeneous
    # of degree t, Σ_h β_h ∂_h S_t = t S_t, and central differences along the simplex.
    attention = random_attention(5, 4, 9, 1.0)
    beta = np.array([0.1, 0.2, 0.3, 0.4])
    horizon = 15
    sources = np.arange(8)
    peaks, gradients = _peaks_and_gradients(attention, beta, horizon, sources)
    curves = signal_curves(np.tensordot(beta, attention, axes=1), horizon)[:, sources]
    steps = np.argmax(curves, axis=0) + 1
    np.testing.assert_allclose(peaks, curves.max(axis=0), rtol=1e-12)
    np.testing.assert_allclose(gradients @ beta, steps * peaks, rtol=1e-10)
    h = 1e-6
    for direction in np.eye(4)[1:] - np.eye(4)[0]:
        plus = signal_curves(np.tensordot(beta + h * direction, attention, axes=1), horizon)
        minus = signal_curves(np.tensordot(beta - h * direction, attention, axes=1), horizon)
        difference = (plus[steps - 1, sources] - minus[steps - 1, sources]) / (2 * h)
        np.testing.assert_allclose(gradients @ direction, difference, rtol=1e-5, atol=1e-9)


# --------------------------------------------------------------------------------------
# P3 at scale and budgets
# --------------------------------------------------------------------------------------


def test_p3_sgp_sixteen_heads_hundred_tokens():
    system = HeadSystem(random_attention(2024, 16, 100, 1.0))
    started = time.perf_counter()
    result = optimal_fidelity_weights(system, horizon=100, max_iter=3)
    elapsed = time.perf_counter() - started
    assert_on_simplex(result.weights, 16)
    assert_non_decreasing(result.history)
    assert result.iterations <= 3 and result.status in ("max_iter", "converged")
    assert result.value > result.history[0]
    assert elapsed < 60, f"three SGP steps took {elapsed:.1f} s"


def test_p3_time_limit_reports_an_honest_gap():
    system = HeadSystem(random_attention(1, 3, 12, 1.0))
    result = optimal_fidelity_weights(system, 30, method="bnb", time_limit=1e-9)
    assert result.status == "time_limit" and not result.converged
    assert result.gap is not None and result.gap >= 0
    sgp = optimal_fidelity_weights(system, 30, time_limit=1e-9)
    assert sgp.status == "time_limit" and sgp.history == (sgp.value,)


def test_p3_bnb_budget_reports_an_honest_gap(generated):
    attention, on_grid = generated[1, 1.0]
    result = optimal_fidelity_weights(HeadSystem(attention), 30, method="bnb", max_iter=1)
    assert result.status == "max_iter" and not result.converged and result.iterations == 1
    assert result.gap > 1e-6 and result.upper_bound >= on_grid.max()


def test_bnb_in_slices_matches_one_batch(monkeypatch):
    # Stacks too large for one call are evaluated in slices; the result must not change.
    whole = optimal_fidelity_weights(paper_example2(), horizon=20, method="bnb", tol=1e-4)
    monkeypatch.setattr("dagtheory.programs._BATCH_ENTRIES", 16 * 5)
    sliced = optimal_fidelity_weights(paper_example2(), horizon=20, method="bnb", tol=1e-4)
    assert sliced.iterations == whole.iterations
    assert sliced.value == whole.value and sliced.upper_bound == whole.upper_bound


def test_results_are_frozen():
    result = optimal_fidelity_weights(paper_example2(), horizon=20, max_iter=1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.value = 1.0
    with pytest.raises(ValueError):
        result.weights[0] = 1.0


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [optimal_mixing_weights, optimal_one_step_fidelity,
                                      optimal_fidelity_weights])
def test_not_a_head_system(function):
    with pytest.raises(InvalidTypeError, match="takes a HeadSystem; got ndarray"):
        function(np.asarray(paper_example2().attention, dtype=float))


@pytest.mark.parametrize("options, error, message", [
    ({"method": "newton"}, InvalidInputError, 'method must be "sgp" or "bnb"; got \'newton\''),
    ({"horizon": 0}, InvalidInputError, "horizon must be at least 1; got 0"),
    ({"horizon": 2.5}, InvalidTypeError, "horizon must be an int; got 2.5"),
    ({"horizon": None}, InvalidTypeError, "horizon must be an int; got None"),
    ({"tol": 0}, InvalidInputError, "tol must be finite and > 0; got 0"),
    ({"tol": "small"}, InvalidTypeError, "tol must be a real number"),
    ({"max_iter": 0}, InvalidInputError, "max_iter must be at least 1; got 0"),
    ({"starts": 0}, InvalidInputError, "starts must be at least 1; got 0"),
    ({"time_limit": -1.0}, InvalidInputError, "time_limit must be finite and > 0"),
    ({"start": [1, 2, 3]}, InvalidInputError, r"start must have length 2 \(one per head\)"),
    ({"start": [1, -1]}, InvalidInputError, "start has a negative entry -1"),
    ({"sources": "some"}, InvalidInputError, 'sources must be "non-sink", "all"'),
    ({"solver": 5}, InvalidTypeError, "solver must be a name or a sequence of names; got 5"),
    ({"solver": []}, InvalidInputError, "solver must be a non-empty name"),
])
def test_p3_bad_options(options, error, message):
    arguments = {"horizon": 20, **options}
    with pytest.raises(error, match=message):
        optimal_fidelity_weights(paper_example2(), **arguments)


def test_p1_bad_eps():
    with pytest.raises(InvalidInputError, match="eps must lie strictly between 0 and 1; got 1"):
        optimal_mixing_weights(mixing_synergy(), eps=1)


# --------------------------------------------------------------------------------------
# Solver failures and fallbacks
# --------------------------------------------------------------------------------------


def fail_for(monkeypatch, failing):
    """Make ``Problem.solve`` raise cvxpy's SolverError for the solvers named in ``failing``."""
    original = cp.Problem.solve

    def solve(self, *args, **kwargs):
        if failing is all or kwargs.get("solver") in failing:
            raise cp.error.SolverError(f"simulated failure of {kwargs.get('solver')}")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(cp.Problem, "solve", solve)


def test_lp_falls_back_to_the_next_solver(monkeypatch):
    fail_for(monkeypatch, {"HIGHS"})
    result = optimal_mixing_weights(mixing_synergy())
    assert result.solver == "CLARABEL"
    assert result.fallbacks == (("HIGHS", "SolverError: simulated failure of HIGHS"),)
    np.testing.assert_allclose(result.weights, [0.5, 0.5], atol=1e-6)
    assert optimal_one_step_fidelity(mixing_synergy()).fallbacks[0][0] == "HIGHS"


def test_lp_status_failure_falls_back(monkeypatch):
    # A solver that ends with a status other than optimal counts as a failure.
    original_solve, original_status = cp.Problem.solve, cp.Problem.status

    def solve(self, *args, **kwargs):
        self.simulated = kwargs.get("solver") == "HIGHS"
        return None if self.simulated else original_solve(self, *args, **kwargs)

    def status(self):
        return cp.INFEASIBLE if getattr(self, "simulated", False) else original_status.fget(self)

    monkeypatch.setattr(cp.Problem, "solve", solve)
    monkeypatch.setattr(cp.Problem, "status", property(status))
    result = optimal_one_step_fidelity(paper_example2(), sources=[1, 2])
    assert result.solver == "CLARABEL"
    assert result.fallbacks == (("HIGHS", f"status {cp.INFEASIBLE}"),)
    assert result.value == pytest.approx(1 / 3, abs=1e-6)


def test_gp_falls_back_to_the_next_solver(monkeypatch):
    fail_for(monkeypatch, {"CLARABEL"})
    result = optimal_fidelity_weights(paper_example2(), horizon=20, max_iter=3)
    assert result.solver == "SCS"
    assert len(result.fallbacks) == result.iterations
    assert all(name == "CLARABEL" for name, _ in result.fallbacks)
    assert_non_decreasing(result.history)
    assert result.value >= 5 / 12


@pytest.mark.parametrize("call", [
    lambda: optimal_mixing_weights(mixing_synergy()),
    lambda: optimal_one_step_fidelity(mixing_synergy()),
])
def test_every_lp_solver_fails(monkeypatch, call):
    fail_for(monkeypatch, all)
    message = r"Tried HIGHS, CLARABEL, SCS: HIGHS \(SolverError"
    with pytest.raises(SolverError, match=message) as info:
        call()
    assert isinstance(info.value, DagTheoryError) and isinstance(info.value, RuntimeError)


def test_every_gp_solver_fails(monkeypatch):
    fail_for(monkeypatch, all)
    with pytest.raises(SolverError, match="geometric program.*Tried CLARABEL, SCS"):
        optimal_fidelity_weights(paper_example2(), horizon=20)
    with pytest.raises(SolverError, match="Tried MOSEK"):
        optimal_fidelity_weights(paper_example2(), horizon=20, solver="mosek")


def test_p3_single_start_can_stop_at_a_local_optimum(generated):
    """§5: SGP is a local method; on this system one start from uniform weights stops below the
    grid's best point, which is why the default runs several starts."""
    attention, on_grid = generated[0, 2.0]
    single = optimal_fidelity_weights(HeadSystem(attention), 30, starts=1)
    assert single.value < on_grid.max() - 1e-6
