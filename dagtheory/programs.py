r"""Weight programs for head systems (§5 of docs/theory.md).

Three programs choose the weights of a :class:`~dagtheory.graph.HeadSystem`.

* **P1, best mixing bound.** Maximize ``min_{j≠τ} Σ_h α_h (1 - P^(h)[j, j])`` over
  the simplex. The objective is the forward probability ``p`` of the mixture walk
  ``P̄(α)`` (§3), so the optimum gives the smallest closed-form bound
  ``⌈max(2N/p, 8 ln(1/ε)/p)⌉`` of Theorem M3's form. A linear program.
* **P2, one-step minimax fidelity.** Maximize ``min_{v∈S} Σ_h β_h Δ^(h)[τ, v]``,
  the minimax of ``S_1`` (§2). A linear program.
* **P3, minimax fidelity weights at horizon K.** Maximize ``φ_min^K(Δ̄(β))`` over
  the simplex. Each ``S_t(v; β) = [Δ̄(β)^t]_{τ, v}`` is a polynomial in ``β`` with
  non-negative coefficients (a posynomial), homogeneous of degree ``t`` and
  non-decreasing in every ``β_h``. The program is not convex; two tools follow
  from these facts.

  - *Sequential geometric programming* (``method="sgp"``, a lower bound that
    never decreases). At ``β⁰``, each source ``v`` peaks at
    ``t_v = argmax_{t≤K} S_t(v; β⁰)``. The local monomial
    ``S(β⁰) Π_h (β_h/β⁰_h)^{a_h}`` with ``a_h = β⁰_h ∂_h S / S`` never exceeds
    ``S_{t_v}(v; ·)`` (AM–GM), so the geometric program
    ``max γ  s.t.  γ ≤ monomial_v(β) ∀v,  Σ_h β_h ≤ 1`` has a solution at least
    as good as ``β⁰``. The gradients come from forward-mode differentiation of
    the row iteration ``r_t = r_{t-1} Δ̄``:
    ``dr_t^(h) = dr_{t-1}^(h) Δ̄ + r_{t-1} Δ^(h)``.
  - *Branch and bound* (``method="bnb"``, a certified upper bound). On a box
    ``[l, u]`` meeting the simplex, monotonicity gives
    ``φ_min ≤ min_v max_{t≤K} S_t(v; u)``. Boxes are split until the best upper
    bound is within ``tol`` of the best point found, or the budget runs out;
    the remaining gap is reported.

Linear programs are solved with cvxpy (HiGHS, then Clarabel, then SCS), geometric
programs with cvxpy's ``gp=True`` (Clarabel, then SCS). A solver that raises or
ends with a status other than ``OPTIMAL`` / ``OPTIMAL_INACCURATE`` hands over to
the next one; the result records the solver used and every fallback. When all
fail, :class:`SolverError` names each solver tried and why it failed.

The programs run in float64. Exact (``Fraction``) systems are converted to float
first.
"""

import contextlib
import math
import numbers
import os
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Any

import cvxpy as cp
import numpy as np

from ._arith import leave_mass
from ._validation import check_eps, check_horizon, check_sources, check_steps, check_weights
from .exceptions import DagTheoryError, InvalidInputError, InvalidTypeError
from .fidelity import minimax_fidelity, signal_curves
from .graph import HeadSystem
from .markov import closed_form_bound

__all__ = [
    "SolverError",
    "MixingWeights",
    "OneStepFidelity",
    "FidelityWeights",
    "LP_SOLVERS",
    "GP_SOLVERS",
    "optimal_mixing_weights",
    "optimal_one_step_fidelity",
    "optimal_fidelity_weights",
]

#: Solvers tried in order for the linear programs P1 and P2.
LP_SOLVERS = ("HIGHS", "CLARABEL", "SCS")

#: Solvers tried in order for the geometric programs of P3's ascent.
GP_SOLVERS = ("CLARABEL", "SCS")

#: Statuses accepted as a solution.
_SOLVED = (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)

#: Default iteration budgets of P3: GP steps per SGP run, boxes split by branch and bound.
_MAX_ITER = {"sgp": 100, "bnb": 20_000}

#: SGP's tolerance in branch and bound's first phase, when ``tol`` is coarser.
_SGP_TOL = 1e-6

#: Multiples of an SGP step tried along its log-space direction.
_EXTRAPOLATION = (2, 4, 8)

#: Extrapolated weights stay above ``e^-40`` (about 4e-18) times the largest, so no head is dropped.
_LOG_FLOOR = -40.0

#: Weights below this are candidates for dropping when an SGP run has converged.
_SMALL_WEIGHT = 1e-2

#: Boxes split per round of branch and bound (their children are evaluated in one batch).
_ROUND = 32

#: Entries of a stack of operators evaluated in one call (8e6 float64 = 64 MB).
_BATCH_ENTRIES = 8_000_000

#: Random points screened when ``starts`` asks for more starts than were given.
_SCREENED = 256

_METHODS = ("sgp", "bnb")


class SolverError(DagTheoryError, RuntimeError):
    """Every solver tried on a convex program failed or returned no solution."""


@dataclass(frozen=True)
class MixingWeights:
    """Solution of P1, the best mixing bound (§5, §3 Theorem M3).

    Attributes
    ----------
    weights : ndarray, shape (H,)
        ``α`` on the simplex.
    p_bar : float
        The optimal value ``max_α min_{j≠τ} Σ_h α_h (1 - P^(h)[j, j])``, evaluated
        at ``weights``: the forward probability of the mixture walk ``P̄(α)``. It is
        at least Theorem M3's ``Σ_h α_h p_h``.
    bound : int or float
        ``⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉`` with ``N = n - 1`` (``inf`` when ``p̄ = 0``),
        a bound on ``T_mix(P̄(α), ε)``.
    eps : float
        ``ε``.
    status : str
        The solver's status (``cvxpy.OPTIMAL`` or ``cvxpy.OPTIMAL_INACCURATE``).
    solver : str
        The solver that produced the solution.
    fallbacks : tuple of (str, str)
        ``(solver, reason)`` for every solver that failed before it.

    Examples
    --------
    :func:`optimal_mixing_weights` returns one. In §3's instance each head has
    ``p = 1/4``; the equal mixture has ``3/8`` and the better bound:

    >>> from dagtheory.examples import mixing_synergy
    >>> result = optimal_mixing_weights(mixing_synergy())
    >>> result.weights.round(6), round(result.p_bar, 6), result.bound, result.eps
    (array([0.5, 0.5]), 0.375, 30, 0.25)
    >>> result.status in ("optimal", "optimal_inaccurate"), result.fallbacks
    (True, ())
    """

    weights: Any
    p_bar: float
    bound: Any
    eps: float
    status: str
    solver: str
    fallbacks: tuple = ()


@dataclass(frozen=True)
class OneStepFidelity:
    """Solution of P2, the one-step minimax fidelity (§5).

    Attributes
    ----------
    weights : ndarray, shape (H,)
        ``β`` on the simplex.
    value : float
        ``min_{v∈S} Σ_h β_h Δ^(h)[τ, v]`` at ``weights``.
    sources : ndarray
        The source set ``S``.
    status, solver, fallbacks
        As for :class:`MixingWeights`.

    Examples
    --------
    :func:`optimal_one_step_fidelity` returns one. In Example 2 (§2) the sink
    hears ``v = 1`` in one step only through head 2 (``1/3``) and ``w = 2``
    through both (``1/2`` and ``1/3``), so for ``S = {1, 2}`` all weight goes
    to head 2:

    >>> from dagtheory.examples import paper_example2
    >>> result = optimal_one_step_fidelity(paper_example2(), sources=[1, 2])
    >>> result.weights.round(6), round(result.value, 6), result.sources.tolist()
    (array([0., 1.]), 0.333333, [1, 2])
    """

    weights: Any
    value: float
    sources: Any
    status: str
    solver: str
    fallbacks: tuple = ()


@dataclass(frozen=True)
class FidelityWeights:
    """Solution of P3, minimax fidelity weights at horizon ``K`` (§5).

    Attributes
    ----------
    weights : ndarray, shape (H,)
        The best ``β`` found, on the simplex.
    value : float
        ``φ_min^K(Δ̄(β))`` at ``weights``, computed by
        :func:`~dagtheory.fidelity.minimax_fidelity`.
    history : tuple of float
        SGP: the true ``φ_min^K`` after each accepted step of the returned run,
        starting at its start. Branch and bound: the best value after each round,
        starting at the SGP value. Non-decreasing in both cases.
    method : str
        ``"sgp"`` or ``"bnb"``.
    upper_bound : float or None
        Branch and bound: a certified upper bound on ``max_β φ_min^K`` (up to
        floating-point rounding). ``None`` for SGP.
    gap : float or None
        ``upper_bound - value >= 0`` for branch and bound; ``None`` for SGP.
    iterations : int
        SGP: geometric programs solved in the returned run. Branch and bound:
        boxes split.
    converged : bool
        SGP: the last step gained less than ``tol`` (or ``φ_min`` is 0 at the
        start, see ``status``). Branch and bound: ``gap <= tol``.
    status : str
        Why the method stopped: ``"converged"``, ``"max_iter"``,
        ``"time_limit"``, ``"stalled"`` (SGP: the geometric program proposed a
        point worse by more than ``tol``, a sign of solver inaccuracy; the
        point was rejected) or ``"zero_fidelity"`` (SGP: some source has
        ``φ_v^K = 0`` at the start, hence on the whole face of the simplex
        spanned by its support, so every ``β`` there is optimal).
    solver : str or None
        The solver of the last geometric program (``None`` if none was solved).
    fallbacks : tuple of (str, str)
        ``(solver, reason)`` for every failed attempt on any geometric program.
    horizon : int
        ``K``.
    sources : ndarray
        The source set ``S``.

    Examples
    --------
    :func:`optimal_fidelity_weights` returns one. Example 2 (§2) at ``K = 20``:
    SGP starts from equal weights (``5/12``) and climbs to about ``0.4298``:

    >>> from dagtheory.examples import paper_example2
    >>> result = optimal_fidelity_weights(paper_example2(), horizon=20)
    >>> result.method, result.status, result.converged, result.upper_bound, result.gap
    ('sgp', 'converged', True, None, None)
    >>> round(result.history[0], 6), round(result.value, 4), result.horizon
    (0.416667, 0.4298, 20)
    >>> all(a <= b for a, b in zip(result.history, result.history[1:]))
    True
    """

    weights: Any
    value: float
    history: tuple
    method: str
    upper_bound: Any
    gap: Any
    iterations: int
    converged: bool
    status: str
    solver: Any = None
    fallbacks: tuple = ()
    horizon: int = 0
    sources: Any = None


# --------------------------------------------------------------------------------------
# Input checks and the solver chain
# --------------------------------------------------------------------------------------


def _check_system(system, function):
    if not isinstance(system, HeadSystem):
        raise InvalidTypeError(
            f"{function} takes a HeadSystem; got {type(system).__name__}. "
            "Build one with HeadSystem(attention) from an (H, n, n) array"
        )


def _solver_names(solver, default):
    """The solvers to try, in order: the default chain (those installed) or the caller's."""
    if solver is None:
        installed = set(cp.installed_solvers())
        chain = tuple(name for name in default if name in installed)
        return chain or default
    names = (solver,) if isinstance(solver, str) else solver
    try:
        names = tuple(names)
    except TypeError as err:
        raise InvalidTypeError(
            f"solver must be a name or a sequence of names; got {solver!r}") from err
    if not names or not all(isinstance(name, str) and name for name in names):
        raise InvalidInputError(
            f"solver must be a non-empty name or sequence of names; got {solver!r}")
    return tuple(name.upper() for name in names)


@contextlib.contextmanager
def _quiet_stdout():
    """Silence the C-level standard output (HiGHS prints a banner whatever its options say)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _solve(problem, solvers, program, **options):
    """Solve with the first solver that succeeds; return ``(solver, status, fallbacks)``."""
    failures = []
    for name in solvers:
        try:
            with warnings.catch_warnings(), _quiet_stdout():
                warnings.filterwarnings("ignore", message="Solution may be inaccurate")
                problem.solve(solver=name, **options)
        except cp.error.SolverError as err:
            failures.append((name, f"SolverError: {err}"))
            continue
        if problem.status in _SOLVED:
            return name, problem.status, tuple(failures)
        failures.append((name, f"status {problem.status}"))
    reasons = "; ".join(f"{name} ({reason})" for name, reason in failures)
    raise SolverError(
        f"{program}: every solver failed. Tried {', '.join(solvers)}: {reasons}. "
        "Install another solver or pass solver=[...]"
    )


def _on_simplex(values):
    """Solver output as a point of the simplex: negatives (solver noise) clipped, sum 1."""
    weights = np.clip(np.asarray(values, dtype=float).ravel(), 0.0, None)
    total = weights.sum()
    if not total > 0 or not np.isfinite(total):
        raise SolverError(f"the solver returned weights {values!r}, not a point of the simplex")
    weights = weights / total
    weights.setflags(write=False)
    return weights


# --------------------------------------------------------------------------------------
# P1 and P2: linear programs
# --------------------------------------------------------------------------------------


def _max_min_linear(coefficients, solvers, program):
    """``max_w min_i coefficients[i] · w`` over the simplex, as an LP."""
    weights = cp.Variable(coefficients.shape[1], nonneg=True, name="weights")
    level = cp.Variable(name="level")
    problem = cp.Problem(cp.Maximize(level),
                         [coefficients @ weights >= level, cp.sum(weights) == 1])
    name, status, fallbacks = _solve(problem, solvers, program)
    point = _on_simplex(weights.value)
    return point, float(np.min(coefficients @ point)), status, name, fallbacks


def optimal_mixing_weights(system, *, eps=0.25, solver=None):
    """P1 (§5): the mixture weights ``α`` with the best mixing bound.

    Solves the linear program

        maximize  min_{j≠τ} Σ_h α_h (1 - P^(h)[j, j])  over the simplex,

    whose objective is the forward probability ``p`` of the mixture walk
    ``P̄(α) = Σ_h α_h P^(h)`` (§3), and reports the bound
    ``⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉`` (Theorem M3's form with ``N = n - 1``) at the
    optimum.

    Parameters
    ----------
    system : HeadSystem
        Exact systems are converted to float.
    eps : float, keyword-only
        ``ε`` of the mixing time, strictly between 0 and 1.
    solver : str or sequence of str, keyword-only
        cvxpy solver names to try in order; default :data:`LP_SOLVERS`.

    Returns
    -------
    MixingWeights

    Raises
    ------
    InvalidTypeError
        When ``system`` is not a HeadSystem.
    ZeroColumnError
        When a head's forward walk is undefined (§3).
    SolverError
        When every solver fails.

    Notes
    -----
    ``1 - P^(h)[j, j]`` is computed as the off-diagonal mass of row ``j``, as
    :func:`~dagtheory.markov.forward_probability` does, so a small leaving
    probability is not lost to rounding. Putting all weight on one head gives
    that head's ``p``; the optimum can exceed every head's ``p`` (§3's instance:
    ``1/4`` for each head, ``3/8`` for the equal mixture), because the diagonal
    of ``P̄`` averages the heads' diagonals node by node.

    Examples
    --------
    >>> from dagtheory.examples import mixing_synergy
    >>> result = optimal_mixing_weights(mixing_synergy())
    >>> result.weights.round(6), result.p_bar, result.bound
    (array([0.5, 0.5]), 0.375, 30)
    """
    _check_system(system, "optimal_mixing_weights")
    eps = check_eps(eps, exact=False)
    leave = np.asarray(leave_mass(system.walks), dtype=float)[:, :-1].T
    weights, p_bar, status, name, fallbacks = _max_min_linear(
        leave, _solver_names(solver, LP_SOLVERS), "P1 (best mixing bound, §5)")
    p_bar = max(p_bar, 0.0)
    bound = closed_form_bound(system.n - 1, p_bar, eps)
    return MixingWeights(weights=weights, p_bar=p_bar, bound=bound, eps=eps, status=status,
                         solver=name, fallbacks=fallbacks)


def optimal_one_step_fidelity(system, sources="non-sink", *, solver=None):
    """P2 (§5): the weights ``β`` maximizing the one-step minimax fidelity.

    Solves the linear program

        maximize  min_{v∈S} Σ_h β_h Δ^(h)[τ, v]  over the simplex,

    the best ``min_{v∈S} S_1(v; β)`` (§2).

    Parameters
    ----------
    system : HeadSystem
        Exact systems are converted to float.
    sources : "non-sink", "all" or list of int
        The source set ``S`` (§2).
    solver : str or sequence of str, keyword-only
        cvxpy solver names to try in order; default :data:`LP_SOLVERS`.

    Returns
    -------
    OneStepFidelity

    Raises
    ------
    InvalidTypeError
        When ``system`` is not a HeadSystem.
    SolverError
        When every solver fails.

    Examples
    --------
    In Example 2 the sink attends to ``v = 1`` only through head 2, so the best
    one-step weights for ``S = {1, 2}`` put everything on head 2:

    >>> from dagtheory.examples import paper_example2
    >>> result = optimal_one_step_fidelity(paper_example2(), sources=[1, 2])
    >>> result.weights.round(6), round(result.value, 6)
    (array([0., 1.]), 0.333333)
    """
    _check_system(system, "optimal_one_step_fidelity")
    nodes = check_sources(sources, system.n)
    attention = np.asarray(system.attention, dtype=float)
    one_step = attention[:, -1, nodes].T
    weights, value, status, name, fallbacks = _max_min_linear(
        one_step, _solver_names(solver, LP_SOLVERS), "P2 (one-step minimax fidelity, §5)")
    return OneStepFidelity(weights=weights, value=value, sources=nodes, status=status,
                           solver=name, fallbacks=fallbacks)


# --------------------------------------------------------------------------------------
# P3: sequential geometric programming
# --------------------------------------------------------------------------------------


def _combine(heads, weights):
    """``Δ̄ = Σ_h β_h Δ^(h)`` for one point ``(H,)`` or a stack ``(m, H)`` of points."""
    return np.tensordot(weights, heads, axes=1)


def _chunks(count, n):
    """Slices of a stack of ``count`` operators ``(n, n)``, about 64 MB of float64 each."""
    size = max(1, _BATCH_ENTRIES // (n * n))
    return [slice(first, first + size) for first in range(0, count, size)]


def _minimax_values(heads, weights, horizon, sources):
    """``φ_min^K`` at a point or a stack of points of the simplex.

    A stack is evaluated in one batched call of ``minimax_fidelity`` (in slices
    only when the operators would take more than about 64 MB).
    """
    if np.ndim(weights) == 1:
        return minimax_fidelity(_combine(heads, weights), horizon, sources).value
    if not len(weights):
        return np.empty(0)
    return np.concatenate([
        np.atleast_1d(np.asarray(minimax_fidelity(_combine(heads, weights[part]), horizon,
                                                  sources).value, dtype=float))
        for part in _chunks(len(weights), heads.shape[-1])
    ])


def _peaks_and_gradients(heads, beta, horizon, sources):
    """Each source's peak ``S_{t_v}(v; β)`` and its gradient ``∂_h S_{t_v}(v; β)``.

    Forward mode on the row iteration: ``r_t = r_{t-1} Δ̄`` and, for all heads at
    once, ``dr_t = dr_{t-1} Δ̄ + r_{t-1} Δ^(h)`` (an ``(H, n)`` array). ``t_v`` is
    the first step attaining the maximum over ``t ≤ K``.
    """
    count, n = heads.shape[0], heads.shape[-1]
    combined = _combine(heads, beta)
    row = np.zeros(n)
    row[-1] = 1.0
    tangent = np.zeros((count, n))
    best = np.full(n, -1.0)
    best_tangent = np.zeros((count, n))
    for _ in range(horizon):
        tangent = tangent @ combined + row @ heads
        row = row @ combined
        better = row > best
        best = np.where(better, row, best)
        best_tangent = np.where(better, tangent, best_tangent)
    return best[sources], best_tangent[:, sources].T


class _LocalProgram:
    """The geometric program of an SGP step, compiled once and re-solved with new data.

    ``max γ  s.t.  γ ≤ S_v Π_h x_h^{a_vh} ∀v,  Σ_h β⁰_h x_h ≤ 1`` in the variable
    ``x = β / β⁰ > 0``. The peaks ``S_v``, exponents ``a`` and base point ``β⁰``
    are cvxpy parameters, so cvxpy compiles the problem once (it is DPP) and later
    solves only refill the data.
    """

    def __init__(self, count_sources, count_heads):
        self.peaks = cp.Parameter(count_sources, pos=True, name="peaks")
        self.exponents = cp.Parameter((count_sources, count_heads), name="exponents")
        self.base = cp.Parameter(count_heads, pos=True, name="base")
        self.scale = cp.Variable(count_heads, pos=True, name="scale")
        level = cp.Variable(pos=True, name="level")
        monomials = cp.multiply(self.peaks, cp.gmatmul(self.exponents, self.scale))
        self.problem = cp.Problem(
            cp.Maximize(level),
            [level <= monomials, cp.sum(cp.multiply(self.base, self.scale)) <= 1],
        )

    def solve(self, peaks, exponents, base, solvers):
        """``β = β⁰ x`` at the optimum, with the solver used and the fallbacks."""
        self.peaks.value, self.exponents.value, self.base.value = peaks, exponents, base
        name, _, fallbacks = _solve(self.problem, solvers,
                                    "a geometric program of P3's ascent (§5)", gp=True)
        return base * np.asarray(self.scale.value, dtype=float).ravel(), name, fallbacks


def _ascent_step(heads, beta, horizon, sources, solvers, programs):
    """One SGP step from ``β⁰ = beta``: the solution of the local geometric program.

    Heads with ``β⁰_h = 0`` stay at 0: the local monomial lives on the support of
    ``β⁰``. The variable is ``x = β / β⁰``, which keeps the monomials'
    coefficients equal to the peak values ``S_{t_v}(v; β⁰)``. ``programs`` caches
    one compiled :class:`_LocalProgram` per support size.
    """
    peaks, gradients = _peaks_and_gradients(heads, beta, horizon, sources)
    support = beta > 0
    base = beta[support]
    exponents = base * gradients[:, support] / peaks[:, None]
    key = (peaks.size, base.size)
    if key not in programs:
        programs[key] = _LocalProgram(*key)
    solution, name, fallbacks = programs[key].solve(peaks, exponents, base, solvers)
    step = np.zeros_like(beta)
    step[support] = solution
    return _on_simplex(step), name, fallbacks


@dataclass
class _Run:
    """One SGP run from one start."""

    weights: Any
    value: float
    history: list
    steps: int = 0
    status: str = "max_iter"
    solver: Any = None
    fallbacks: tuple = ()


def _extrapolate(heads, previous, step, horizon, sources):
    """The GP step, or a longer step along its log-space direction when that is better.

    SGP's steps are multiplicative, ``β¹ = β⁰ ρ``, and slow where the optimum lies on
    the boundary of the simplex (a weight shrinks by a similar factor at each
    step). The points ``β⁰ ρ^λ`` (normalized) for ``λ = 2, 4, 8`` are evaluated
    with the GP point in one batch, and the best is returned with its value (the GP
    point on ties).
    """
    support = previous > 0
    ratio = np.log(step[support]) - np.log(previous[support]) if np.all(step[support] > 0) else None
    points = [step]
    if ratio is not None:
        for power in _EXTRAPOLATION:
            logs = np.log(previous[support]) + power * ratio
            point = np.zeros_like(previous)
            point[support] = np.exp(np.maximum(logs - logs.max(), _LOG_FLOOR))
            points.append(point / point.sum())
    values = _minimax_values(heads, np.array(points), horizon, sources)
    best = int(np.argmax(values))
    return points[best], float(values[best])


def _ascend(run, heads, horizon, sources, tol, max_iter, solvers, deadline, programs):
    """SGP steps from the run's point until a stopping rule fires; updates ``run``."""
    while run.steps < max_iter:
        if run.value <= 0:
            run.status = "zero_fidelity"
            return
        if deadline is not None and time.perf_counter() > deadline:
            run.status = "time_limit"
            return
        candidate, run.solver, failed = _ascent_step(heads, run.weights, horizon, sources, solvers,
                                                     programs)
        run.steps += 1
        run.fallbacks += failed
        candidate, value = _extrapolate(heads, run.weights, candidate, horizon, sources)
        if value < run.value:
            run.status = "converged" if run.value - value <= tol else "stalled"
            return
        gain, run.weights, run.value = value - run.value, candidate, value
        run.history.append(value)
        if gain < tol:
            run.status = "converged"
            return
    run.status = "max_iter"


def _drop_small_heads(heads, weights, value, horizon, sources):
    """A better point with some small weights (below 1e-2) set to 0, or ``None``.

    SGP's iterates stay in the interior, so an optimum on the boundary of the
    simplex is only approached. Dropping each small head alone, and all of them
    together, is tried in one batch; the best point is returned if it beats
    ``value``.
    """
    small = np.flatnonzero((weights > 0) & (weights < _SMALL_WEIGHT))
    if not small.size or small.size == np.count_nonzero(weights):
        return None
    subsets = [[k] for k in small] + ([list(small)] if small.size > 1 else [])
    points = np.repeat(weights[None, :], len(subsets), axis=0)
    for row, subset in enumerate(subsets):
        points[row, subset] = 0.0
    points /= points.sum(axis=-1, keepdims=True)
    values = _minimax_values(heads, points, horizon, sources)
    best = int(np.argmax(values))
    return (points[best], float(values[best])) if values[best] > value else None


def _sgp_run(heads, start, horizon, sources, tol, max_iter, solvers, deadline, programs):
    """SGP from one start: ascend, then move to a face of the simplex when that is better."""
    value = float(_minimax_values(heads, start, horizon, sources))
    run = _Run(start, value, [value])
    while True:
        _ascend(run, heads, horizon, sources, tol, max_iter, solvers, deadline, programs)
        if run.status != "converged":
            return run
        dropped = _drop_small_heads(heads, run.weights, run.value, horizon, sources)
        if dropped is None:
            return run
        run.weights, run.value = dropped
        run.history.append(run.value)


def _screened_starts(heads, horizon, sources, count):
    """The ``count`` best of a fixed random sample of the simplex (interior points)."""
    sample = np.random.default_rng(0).dirichlet(np.ones(heads.shape[0]), size=_SCREENED)
    values = _minimax_values(heads, sample, horizon, sources)
    return sample[np.argsort(-values, kind="stable")[:count]]


def _starts(heads, horizon, sources, start, starts):
    count = heads.shape[0]
    if start is None:
        given = np.full((1, count), 1.0 / count)
    else:
        given = check_weights(start, count, exact=False, name="start")
        if given.ndim > 2:
            raise InvalidInputError(
                f"start must have shape ({count},) or (m, {count}); got {given.shape}")
        given = given.reshape(-1, count)
    starts = check_steps(starts, name="starts", minimum=1)
    if starts > len(given):
        given = np.vstack([given, _screened_starts(heads, horizon, sources, starts - len(given))])
    return given


def _sgp(heads, horizon, sources, starts, tol, max_iter, solvers, deadline):
    """The best SGP run over the starts (ties go to the earliest start)."""
    best, fallbacks, programs = None, (), {}
    for start in starts:
        run = _sgp_run(heads, start, horizon, sources, tol, max_iter, solvers, deadline, programs)
        fallbacks += run.fallbacks
        if best is None or run.value > best.value:
            best = run
    best.fallbacks = fallbacks
    return best


# --------------------------------------------------------------------------------------
# P3: branch and bound
# --------------------------------------------------------------------------------------


def _tighten(lower, upper):
    """Shrink boxes to their intersection with the simplex's affine hull (twice suffices)."""
    for _ in range(2):
        upper = np.minimum(upper, 1.0 - (lower.sum(axis=-1, keepdims=True) - lower))
        lower = np.maximum(lower, 1.0 - (upper.sum(axis=-1, keepdims=True) - upper))
    return lower, upper


def _feasible(lower, upper):
    """Boxes that meet the simplex: ``Σ l ≤ 1 ≤ Σ u`` and ``l ≤ u``."""
    slack = 1e-12
    return ((lower.sum(axis=-1) <= 1 + slack) & (upper.sum(axis=-1) >= 1 - slack)
            & np.all(lower <= upper + slack, axis=-1))


def _inner_points(lower, upper):
    """A point of each box on the simplex: ``l + (1 - Σl) (u - l) / Σ(u - l)``."""
    width = np.clip(upper - lower, 0.0, None)
    total = width.sum(axis=-1, keepdims=True)
    share = np.divide(width, total, out=np.zeros_like(width), where=total > 0)
    points = lower + (1.0 - lower.sum(axis=-1, keepdims=True)) * share
    points = np.clip(points, 0.0, None)
    return points / points.sum(axis=-1, keepdims=True)


def _upper_bounds(heads, upper, horizon, sources):
    """``min_v max_{t≤K} S_t(v; u)`` for a stack of upper corners, capped at 1.

    ``u`` is off the simplex (``s = Σ u ≥ 1``); by homogeneity
    ``S_t(v; u) = s^t S_t(v; u/s)``, so one batched call of
    :func:`~dagtheory.fidelity.signal_curves` on the normalized corners gives all.
    """
    if not len(upper):
        return np.empty(0)
    total = upper.sum(axis=-1)
    bounds = []
    for part in _chunks(len(upper), heads.shape[-1]):
        corners = upper[part] / total[part, None]
        curves = signal_curves(_combine(heads, corners), horizon)[..., sources]
        growth = np.exp(np.arange(1, horizon + 1)[None, :] * np.log(total[part])[:, None])
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.where(curves > 0, curves * growth[:, :, None], 0.0)
        bounds.append(scaled.max(axis=1).min(axis=-1))
    return np.minimum(np.concatenate(bounds), 1.0)


def _split(lower, upper):
    """Halve each box along its longest edge; the children, stacked."""
    rows = np.arange(len(lower))
    edge = np.argmax(upper - lower, axis=-1)
    middle = (lower[rows, edge] + upper[rows, edge]) / 2
    left_upper, right_lower = upper.copy(), lower.copy()
    left_upper[rows, edge] = middle
    right_lower[rows, edge] = middle
    return np.vstack([lower, right_lower]), np.vstack([left_upper, upper])


def _bnb(heads, horizon, sources, incumbent, value, tol, max_boxes, deadline):
    """Best-first branch and bound on boxes ∩ simplex; returns the incumbent and the bounds."""
    lower, upper = _tighten(np.zeros((1, heads.shape[0])), np.ones((1, heads.shape[0])))
    bounds = _upper_bounds(heads, upper, horizon, sources)
    history, processed, status = [value], 0, "max_iter"
    while True:
        live = bounds > value
        lower, upper, bounds = lower[live], upper[live], bounds[live]
        ceiling = max(value, float(bounds.max()) if len(bounds) else value)
        if ceiling - value <= tol:
            status = "converged"
            break
        if processed >= max_boxes:
            break
        if deadline is not None and time.perf_counter() > deadline:
            status = "time_limit"
            break
        order = np.argsort(-bounds, kind="stable")
        chosen = order[:min(_ROUND, max_boxes - processed)]
        kept = np.setdiff1d(np.arange(len(bounds)), chosen)
        processed += len(chosen)
        child_lower, child_upper = _tighten(*_split(lower[chosen], upper[chosen]))
        good = _feasible(child_lower, child_upper)
        child_lower, child_upper = child_lower[good], child_upper[good]
        points = _inner_points(child_lower, child_upper)
        values = _minimax_values(heads, points, horizon, sources)
        if len(values) and values.max() > value:
            incumbent, value = points[int(np.argmax(values))], float(values.max())
        child_bounds = np.maximum(_upper_bounds(heads, child_upper, horizon, sources), values)
        lower = np.vstack([lower[kept], child_lower])
        upper = np.vstack([upper[kept], child_upper])
        bounds = np.concatenate([bounds[kept], child_bounds])
        history.append(value)
    return incumbent, value, ceiling, history, processed, status


# --------------------------------------------------------------------------------------
# P3: the public entry point
# --------------------------------------------------------------------------------------


def _check_positive(value, name, *, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be a real number; got {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name} must be finite and > 0; got {value!r}")
    return float(value)


def optimal_fidelity_weights(system, horizon=100, *, sources="non-sink", method="sgp", tol=1e-6,
                             max_iter=None, start=None, starts=1, time_limit=None, solver=None):
    """P3 (§5): head weights ``β`` maximizing the minimax fidelity ``φ_min^K(Δ̄(β))``.

    Parameters
    ----------
    system : HeadSystem
        Exact systems are converted to float: the programs run in float64.
    horizon : int
        ``K >= 1``.
    sources : "non-sink", "all" or list of int, keyword-only
        The source set ``S`` (§2).
    method : {"sgp", "bnb"}, keyword-only
        ``"sgp"``: sequential geometric programming, a monotone ascent to a
        local optimum (a lower bound). ``"bnb"``: SGP for a first incumbent,
        then branch and bound for a certified upper bound and a better point.
    tol : float, keyword-only
        SGP stops when a step gains less than ``tol``; branch and bound stops
        when the upper bound is within ``tol`` of the best value.
    max_iter : int, keyword-only
        SGP: geometric programs per start (default 100). Branch and bound:
        boxes split (default 20000); its SGP phase uses SGP's default budget
        and ``min(tol, 1e-6)``.
    start : array_like of shape (H,) or (m, H), keyword-only
        SGP's starting point(s); default uniform. A head with start weight 0
        stays at 0 (the local monomial lives on the support of the start), so
        start from the interior to let every head move.
    starts : int, keyword-only
        Number of SGP runs (default 1; 8 is a good choice against poor local optima). Beyond the given starts, the best points of a fixed
        (seeded) random sample of 256 interior points, screened in one batched
        evaluation, are used. The best run is returned. SGP finds a local
        optimum; several starts guard against a poor one.
    time_limit : float, keyword-only
        Wall-clock budget in seconds for the whole call (checked between
        steps); ``None`` for no limit.
    solver : str or sequence of str, keyword-only
        cvxpy solvers for the geometric programs, tried in order; default
        :data:`GP_SOLVERS`.

    Returns
    -------
    FidelityWeights
        ``value`` is ``minimax_fidelity`` at ``weights``. For ``"bnb"``,
        ``upper_bound`` and ``gap = upper_bound - value`` are reported whether
        or not the gap closed within the budget.

    Raises
    ------
    InvalidTypeError
        When ``system`` is not a HeadSystem, or an option has the wrong type.
    InvalidInputError
        For an unknown method, a horizon below 1, or a bad option value.
    SolverError
        When every solver fails on a geometric program.

    Notes
    -----
    *SGP.* At ``β⁰`` every source ``v`` peaks at ``t_v``; its gradient
    ``∂_h S_{t_v}(v; β⁰)`` comes from forward-mode differentiation of the row
    iteration (no polynomial is expanded, no matrix power formed). The local
    monomial ``S(β⁰) Π_h (β_h/β⁰_h)^{a_h}``, ``a_h = β⁰_h ∂_h S / S``, never exceeds
    ``S_{t_v}(v; ·) ≤ φ_v^K``, and equals it at ``β⁰``. The geometric program
    ``max γ s.t. γ ≤ monomial_v(β), Σ_h β_h ≤ 1`` is solved with
    ``cvxpy`` (``gp=True``); its solution is normalized to the simplex (the
    values are non-decreasing in ``β``, so this cannot lower them) and accepted
    only if the true ``φ_min^K`` does not decrease. Two additions speed the
    ascent without giving up monotonicity, since every candidate is judged by
    its true ``φ_min^K``: the GP step ``β¹ = β⁰ ρ`` is compared, in one batched
    evaluation, with the longer steps ``β⁰ ρ^λ`` (``λ = 2, 4, 8``) and the best
    is taken; and when a run has converged with some weights below ``1e-2``,
    setting them to 0 is tried (the iterates of a geometric program stay in the
    interior, so an optimum on the boundary is otherwise only approached) and
    the ascent continues on that face if it is better. ``history`` records the
    accepted values.

    SGP finds a local optimum: on random 3-head systems (``n = 12``, ``K = 30``)
    about one in eight single-start runs ended below the best point of a
    41-per-side grid of the simplex; with ``starts=8`` none of 160 did.

    *Branch and bound.* Boxes ``[l, u]`` in ``R^H`` are kept only when they meet
    the simplex (``Σ l ≤ 1 ≤ Σ u``) and are tightened to
    ``u_h ≤ 1 - Σ_{k≠h} l_k`` and ``l_h ≥ 1 - Σ_{k≠h} u_k``. A box's upper bound is
    ``min_v max_{t≤K} S_t(v; u)`` at its tightened upper corner (off the simplex;
    monotonicity makes it a bound). Each round splits the 32 boxes with the
    largest upper bounds along their longest edges and evaluates all children
    in one batch: ``φ_min^K`` at the point ``l + (1 - Σl)(u - l)/Σ(u - l)`` of
    each child (one call of ``minimax_fidelity``) and the children's upper
    bounds (one call of ``signal_curves``). Boxes whose bound does not exceed
    the best value are dropped. The bound is certified for the floating-point
    iterates; rounding is not accounted for. The number of boxes grows
    quickly with ``H``: the method is practical for a few heads.

    Examples
    --------
    Example 2 (§2) at ``K = 20``: equal weights give ``5/12``, the best weights
    about ``0.4298``.

    >>> from dagtheory.examples import paper_example2
    >>> result = optimal_fidelity_weights(paper_example2(), horizon=20)
    >>> round(result.value, 4), result.weights.round(3), result.status
    (0.4298, array([0.579, 0.421]), 'converged')
    >>> certified = optimal_fidelity_weights(paper_example2(), horizon=20, method="bnb", tol=1e-4)
    >>> certified.upper_bound >= certified.value >= result.value, certified.gap <= 1e-4
    (True, True)
    """
    _check_system(system, "optimal_fidelity_weights")
    if not isinstance(method, str) or method not in _METHODS:
        raise InvalidInputError(f'method must be "sgp" or "bnb"; got {method!r}')
    horizon = check_horizon(horizon, allow_none=False)
    nodes = check_sources(sources, system.n)
    tol = _check_positive(tol, "tol")
    time_limit = _check_positive(time_limit, "time_limit", allow_none=True)
    if max_iter is None:
        max_iter = _MAX_ITER[method]
    max_iter = check_steps(max_iter, name="max_iter", minimum=1)
    solvers = _solver_names(solver, GP_SOLVERS)
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    heads = np.asarray(system.attention, dtype=float)
    points = _starts(heads, horizon, nodes, start, starts)
    if method == "sgp":
        run = _sgp(heads, horizon, nodes, points, tol, max_iter, solvers, deadline)
    else:
        run = _sgp(heads, horizon, nodes, points, min(tol, _SGP_TOL), _MAX_ITER["sgp"], solvers,
                   deadline)
    common = dict(method=method, solver=run.solver, fallbacks=run.fallbacks, horizon=horizon,
                  sources=nodes)
    if method == "sgp":
        return _result(heads, run.weights, run.history, iterations=run.steps, upper_bound=None,
                       converged=run.status in ("converged", "zero_fidelity"), status=run.status,
                       **common)
    weights, _, ceiling, history, boxes, status = _bnb(
        heads, horizon, nodes, run.weights, run.value, tol, max_iter, deadline)
    return _result(heads, weights, history, iterations=boxes, upper_bound=ceiling,
                   converged=status == "converged", status=status, **common)


def _result(heads, weights, history, *, upper_bound, **fields):
    """The frozen result, with the value recomputed by ``minimax_fidelity`` at ``weights``."""
    weights = np.array(weights, dtype=float)
    weights.setflags(write=False)
    value = float(_minimax_values(heads, weights, fields["horizon"], fields["sources"]))
    gap = None
    if upper_bound is not None:
        upper_bound = max(float(upper_bound), value)
        gap = upper_bound - value
    return FidelityWeights(weights=weights, value=value, history=tuple(float(h) for h in history),
                           upper_bound=upper_bound, gap=gap, **fields)
