r"""Symbolic forms of the signal and the absorption CDF (§2, §3, §5 of docs/theory.md).

For a head system with exact (rational) attention, the signal at the sink under
weights ``β`` and the absorption CDF of the mixture walk under weights ``α``,

.. math::

    S_t(v; β) = [Δ̄(β)^t]_{τ, v},  \qquad  F_t(j; α) = [P̄(α)^t]_{j, τ},

are polynomials in the weights with non-negative rational coefficients
(posynomials), homogeneous of degree ``t`` (§5). They are built here as
``sympy.Poly`` objects by the same iterations the numeric code uses
(``r ← r Δ̄(β)`` and ``F ← P̄(α) F``), with polynomial entries and never a
matrix power.

For one head, ``S_t(v)`` for every ``t ≥ 1`` has a closed form in a symbol
``t``: row ``τ`` of ``P J^t P^{-1}`` from the Jordan form ``Δ = P J P^{-1}``
(§7's exact answers, such as Example 2's never-attained ``1/4``), whose limit
``t → ∞`` is :func:`limit_of`.

:func:`check_inequality` tries to decide ``expr ≥ 0`` over a box of variable
ranges and reports ``"holds"``, ``"refuted"`` (with a counterexample) or
``"undecided"``; it is how the steps of Theorems M1 and M2 are checked
symbolically.

This module imports sympy and is not imported by ``dagtheory`` itself.
"""

import dataclasses
import itertools
import math
import time
from dataclasses import dataclass
from fractions import Fraction
from numbers import Integral
from typing import Any, Optional

import numpy as np
import sympy

from ._validation import check_attention, check_bounded, check_box, check_expression
from ._verdicts import HOLDS, REFUTED, UNDECIDED
from .exceptions import InvalidInputError, InvalidTypeError
from .graph import HeadSystem, SinkDAG

__all__ = [
    "HOLDS",
    "REFUTED",
    "UNDECIDED",
    "BoundCheck",
    "beta_symbols",
    "step_symbol",
    "signal_polynomial",
    "absorption_polynomial",
    "signal_closed_form",
    "limit_of",
    "METHODS",
    "check_inequality",
    "check_bound",
    "check_closed_form_bound",
]



@dataclass(frozen=True)
class BoundCheck:
    """The outcome of :func:`check_inequality`.

    Attributes
    ----------
    status : {"holds", "refuted", "undecided"}
        ``"holds"``: ``expr ≥ 0`` was proved on the whole box; ``"refuted"``: a
        point with ``expr < 0`` was found; ``"undecided"``: neither.
    counterexample : dict or None
        For ``"refuted"``, a point (symbol → exact value) where ``expr < 0``,
        verified in exact (or rigorous high-precision) arithmetic.
    detail : str
        How the status was reached; for ``"undecided"``, what was tried.
    method : str
        The method that decided (``"sympy"``, ``"interval"``, ``"sos"``,
        ``"smt"``, ``"search"``, …); empty when undecided.
    certificate : dict or None
        For ``"holds"`` by a certificate method, the certificate (JSON-able):
        the interval partition with the reason each box was settled, the exact
        SOS decomposition, or the solver's answer.
    tried : tuple of str
        One line per method tried, in order, with its outcome.

    Examples
    --------
    :func:`check_inequality` returns one; it is true exactly when the
    inequality was proved:

    >>> x = sympy.Symbol("x")
    >>> check = check_inequality(x**2 - 1, {x: (0, 2)})
    >>> check.status, check.counterexample, bool(check)
    ('refuted', {x: 1/2}, False)
    >>> check.detail
    'sympy: solveset: expr < 0 on ...'
    >>> bool(check_inequality(x**2 - 1, {x: (1, 2)}))
    True
    """

    status: str
    counterexample: Optional[dict]
    detail: str
    method: str = ""
    certificate: Any = None
    tried: tuple = ()

    def __bool__(self):
        return self.status == HOLDS


# --------------------------------------------------------------------------- symbols


def beta_symbols(H):
    """The weight symbols ``β_1, …, β_H`` (positive sympy Symbols).

    Parameters
    ----------
    H : int
        Number of heads, ``H >= 1``.

    Returns
    -------
    tuple of sympy.Symbol

    Raises
    ------
    InvalidInputError
        If ``H`` is not a positive integer.

    Examples
    --------
    >>> beta_symbols(2)
    (β_1, β_2)
    >>> beta_symbols(2)[0].is_positive
    True
    """
    if isinstance(H, bool) or not isinstance(H, Integral) or H < 1:
        raise InvalidInputError(f"H must be a positive integer; got {H!r}")
    return tuple(sympy.Symbol(f"β_{h}", positive=True) for h in range(1, int(H) + 1))


def step_symbol():
    """The step symbol ``t`` of :func:`signal_closed_form` (a positive integer Symbol).

    Examples
    --------
    >>> t = step_symbol()
    >>> t, t.is_integer, t.is_positive
    (t, True, True)
    """
    return sympy.Symbol("t", integer=True, positive=True)


# --------------------------------------------------------------------------- validation


def _rational(value, name, index):
    """``value`` as a sympy Rational; floats are refused."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (Fraction, Integral, sympy.Rational)):
        raise InvalidTypeError(
            f"{name}{list(index)} = {value!r} is not exact; symbolic forms need exact "
            f"attention: build it from Fractions (e.g. HeadSystem.from_edges(..., exact=True))")
    value = Fraction(int(value)) if isinstance(value, Integral) else value
    if isinstance(value, sympy.Rational):
        return value
    return sympy.Rational(value.numerator, value.denominator)


def _exact_stack(array, name):
    """An object array of sympy Rationals with the shape of ``array``."""
    array = np.asarray(array, dtype=object)
    out = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape):
        out[index] = _rational(array[index], name, index)
    return out


def _check_system(system):
    if not isinstance(system, HeadSystem):
        raise InvalidTypeError(f"system must be a HeadSystem; got {type(system).__name__}")
    if not system.is_exact:
        raise InvalidTypeError(
            f"{system!r} holds float attention; symbolic forms need exact attention: "
            "build the system from Fractions (e.g. HeadSystem.from_edges(..., exact=True))")


def _check_symbols(symbols, H):
    if symbols is None:
        return beta_symbols(H)
    symbols = tuple(symbols)
    if len(symbols) != H or not all(isinstance(s, sympy.Symbol) for s in symbols):
        raise InvalidInputError(f"symbols must be {H} sympy Symbols; got {symbols!r}")
    return symbols


def _check_index(value, n, name):
    if isinstance(value, bool) or not isinstance(value, Integral) or not 0 <= value < n:
        raise InvalidInputError(f"{name} must be a token index in 0..{n - 1}; got {value!r}")
    return int(value)


def _check_t(t, minimum):
    if isinstance(t, bool) or not isinstance(t, Integral) or t < minimum:
        raise InvalidInputError(f"t must be an integer >= {minimum}; got {t!r}")
    return int(t)


# --------------------------------------------------------------------------- polynomials


def _linear_entries(stack, symbols):
    """The matrix ``Σ_h x_h M^(h)`` with ``Poly`` entries (``stack`` has shape (H, n, n))."""
    H, n, _ = stack.shape
    entries = [[None] * n for _ in range(n)]
    for i, j in itertools.product(range(n), range(n)):
        expr = sum((stack[h, i, j] * symbols[h] for h in range(H)), sympy.Integer(0))
        entries[i][j] = sympy.Poly(expr, *symbols, domain="QQ")
    return entries


def signal_polynomial(system, t, v, symbols=None):
    """``S_t(v; β) = [Δ̄(β)^t]_{τ, v}`` as a polynomial in ``β_1..β_H`` (§2, §5).

    Computed by iterating the row vector ``r ← r Δ̄(β)`` from ``r_0 = e_τ``,
    with polynomial entries. The result has non-negative rational coefficients
    and is homogeneous of degree ``t`` (or zero).

    Parameters
    ----------
    system : HeadSystem
        An exact system (Fraction attention).
    t : int
        Number of steps, ``t >= 1``.
    v : int
        Token index.
    symbols : sequence of sympy.Symbol, optional
        One per head; :func:`beta_symbols` by default.

    Returns
    -------
    sympy.Poly
        In ``symbols``, over ``QQ``.

    Raises
    ------
    InvalidTypeError
        If the system holds float attention.
    InvalidInputError
        If ``t < 1`` or ``v`` is out of range.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> signal_polynomial(paper_example2(), 1, 2)
    Poly(1/2*β_1 + 1/3*β_2, β_1, β_2, domain='QQ')
    >>> signal_polynomial(paper_example2(), 2, 1).as_expr()
    β_1**2/4 + 2*β_1*β_2/3 + 5*β_2**2/9
    """
    _check_system(system)
    n = system.n
    steps, v = _check_t(t, 1), _check_index(v, n, "v")
    symbols = _check_symbols(symbols, system.H)
    delta = _linear_entries(_exact_stack(system.attention, "attention"), symbols)
    zero = sympy.Poly(0, *symbols, domain="QQ")
    row = [zero] * (n - 1) + [sympy.Poly(1, *symbols, domain="QQ")]
    for _ in range(steps):
        row = [sum((row[i] * delta[i][j] for i in range(n) if not row[i].is_zero), zero)
               for j in range(n)]
    return row[v]


def absorption_polynomial(system, t, j, symbols=None):
    """``F_t(j; α) = [P̄(α)^t]_{j, τ}`` as a polynomial in ``α_1..α_H`` (§3).

    ``P̄(α) = Σ_h α_h P^(h)`` mixes the per-head forward walks
    (:attr:`HeadSystem.walks`). Computed by iterating the column
    ``F ← P̄(α) F`` from ``F_0 = e_τ``, with polynomial entries.

    Parameters
    ----------
    system : HeadSystem
        An exact system (Fraction attention).
    t : int
        Number of steps, ``t >= 0``.
    j : int
        Starting token.
    symbols : sequence of sympy.Symbol, optional
        One per head; :func:`beta_symbols` by default.

    Returns
    -------
    sympy.Poly
        In ``symbols``, over ``QQ``; homogeneous of degree ``t``.

    Raises
    ------
    InvalidTypeError
        If the system holds float attention.
    InvalidInputError
        If ``t < 0`` or ``j`` is out of range.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> a1, a2 = sympy.symbols("α_1 α_2", positive=True)
    >>> absorption_polynomial(paper_example2(), 1, 2, symbols=(a1, a2)).as_expr()
    α_1/2 + α_2/2
    """
    _check_system(system)
    n = system.n
    steps, j = _check_t(t, 0), _check_index(j, n, "j")
    symbols = _check_symbols(symbols, system.H)
    walk = _linear_entries(_exact_stack(system.walks, "walks"), symbols)
    zero = sympy.Poly(0, *symbols, domain="QQ")
    column = [zero] * (n - 1) + [sympy.Poly(1, *symbols, domain="QQ")]
    for _ in range(steps):
        column = [sum((walk[i][k] * column[k] for k in range(n) if not column[k].is_zero), zero)
                  for i in range(n)]
    return column[j]


# --------------------------------------------------------------------------- closed forms


def _single_head(attention):
    """A square sympy Matrix of Rationals from a SinkDAG or a 2-D exact array."""
    if isinstance(attention, SinkDAG):
        attention = attention.diffusion
    array = np.asarray(attention, dtype=object)
    if array.ndim != 2 or array.shape[0] != array.shape[1] or array.shape[0] < 2:
        raise InvalidInputError(
            f"attention must be one head of shape (n, n) with n >= 2; got shape {array.shape}")
    exact = _exact_stack(array, "attention")
    check_attention(exact, name="attention")  # causal, non-negative, rows summing to exactly 1
    return sympy.Matrix(exact.tolist())


def _jordan_power(J, t):
    """``J^t`` for a Jordan matrix ``J`` and a positive integer symbol ``t``."""
    n = J.shape[0]
    power = sympy.zeros(n, n)
    start = 0
    while start < n:
        end = start + 1
        while end < n and J[end - 1, end] == 1:
            end += 1
        lam = J[start, start]
        for i in range(start, end):
            for m in range(end - i):
                if lam == 0:
                    power[i, i + m] = sympy.KroneckerDelta(t, m)
                else:
                    power[i, i + m] = sympy.binomial(t, m) * lam ** (t - m)
        start = end
    return power


def signal_closed_form(attention, v, *, t=None):
    """``S_t(v) = [Δ^t]_{τ, v}`` of one exact head, for all ``t ≥ 1``, as an expression in ``t``.

    From the Jordan form ``Δ = P J P^{-1}``: ``S_t(v) = e_τ^T P J^t P^{-1} e_v``,
    with ``J^t`` written blockwise (``binomial(t, m) λ^{t-m}`` on the ``m``-th
    superdiagonal of a block of eigenvalue ``λ``). Diagonal entries of ``Δ``
    may be distinct or repeated.

    Parameters
    ----------
    attention : SinkDAG or array_like of shape (n, n)
        One head with exact (Fraction or integer) entries.
    v : int
        Token index.
    t : sympy.Symbol, optional
        The step symbol; :func:`step_symbol` by default.

    Returns
    -------
    sympy.Expr

    Raises
    ------
    InvalidTypeError
        If an entry is a float.
    InvalidInputError
        If the shape is wrong or ``v`` is out of range.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> head2 = paper_example2().attention[1]
    >>> S = signal_closed_form(head2, 0)
    >>> t = step_symbol()
    >>> [S.subs(t, k) for k in (1, 2, 3)]
    [0, 1/9, 5/27]
    >>> limit_of(S)
    1/4
    """
    matrix = _single_head(attention)
    n = matrix.shape[0]
    v = _check_index(v, n, "v")
    t = step_symbol() if t is None else t
    P, J = matrix.jordan_form()
    row = P[n - 1, :] * _jordan_power(J, t) * P.inv()[:, v]
    return sympy.powsimp(sympy.expand(row[0, 0]))


def limit_of(expr, t=None):
    """``lim_{t → ∞} expr`` (``sympy.limit``); ``t`` defaults to :func:`step_symbol`.

    Examples
    --------
    >>> t = step_symbol()
    >>> limit_of(sympy.Rational(1, 4) - sympy.Rational(1, 2) ** t)
    1/4
    """
    t = step_symbol() if t is None else t
    return sympy.limit(expr, t, sympy.oo)


# --------------------------------------------------------------------------- inequalities


def _is_negative(value):
    """True when the closed number ``value`` is provably negative."""
    value = sympy.sympify(value)
    if value.is_real is False:
        return False
    return bool(value.is_negative)


def _point_in(region):
    """One exact point of a solveset result, or None."""
    if isinstance(region, sympy.FiniteSet):
        return next(iter(region), None)
    if isinstance(region, sympy.Union):
        return next((p for p in map(_point_in, region.args) if p is not None), None)
    if isinstance(region, sympy.Interval):
        low, high = region.start, region.end
        if low.is_finite and high.is_finite:
            return (low + high) / 2
        if low.is_finite:
            return low + 1
        if high.is_finite:
            return high - 1
        return sympy.Integer(0)
    return None


def _samples(interval):
    """A few exact points of ``interval`` (endpoints that belong to it, interior points)."""
    low, high = interval.start, interval.end
    points = []
    if low.is_finite and high.is_finite:
        points += [low + (high - low) * sympy.Rational(k, 8) for k in range(9)]
    elif low.is_finite:
        points += [low + d for d in (0, sympy.Rational(1, 8), 1, 10, 1000)]
    elif high.is_finite:
        points += [high - d for d in (0, sympy.Rational(1, 8), 1, 10, 1000)]
    else:
        points += [sympy.Integer(d) for d in (-1000, -1, 0, 1, 1000)]
    return [p for p in points if interval.contains(p) == sympy.true]


#: Most points of the exact sample grid.
GRID_POINTS = 729


def _search(expr, ranges):
    """A sampled point of an exact grid (at most :data:`GRID_POINTS`) where ``expr < 0``, or None."""
    per_axis = max(2, int(GRID_POINTS ** (1 / len(ranges))))
    grids = [_thinned(_samples(ranges[x]), per_axis) for x in ranges]
    for point in itertools.product(*grids):
        at = dict(zip(ranges, point))
        try:
            if _is_negative(expr.subs(at)):
                return at
        except (TypeError, ValueError, ZeroDivisionError):
            continue
    return None


def _thinned(points, count):
    """At most ``count`` of ``points``, evenly spread, the ends kept."""
    if len(points) <= count:
        return points
    return [points[round(k * (len(points) - 1) / (count - 1))] for k in range(count)]


def _pieces(x, interval):
    """Substitutions ``x = f(u)`` (``u`` a fresh non-negative Dummy) covering ``interval``."""
    low, high = interval.start, interval.end
    u = sympy.Dummy(positive=True)
    w = sympy.Dummy(nonnegative=True)
    if low.is_infinite and high.is_infinite:
        return [sympy.Dummy(real=True)]
    if high.is_infinite:
        return [low + (u if interval.left_open else w)]
    if low.is_infinite:
        return [high - (u if interval.right_open else w)]
    pieces = [low + (high - low) / (1 + w)]  # (low, high]
    if interval.right_open:
        pieces = [high - (high - low) / (1 + w)]  # [low, high)
        if interval.left_open:
            pieces = [low + (high - low) * u / (1 + u)]  # (low, high)
    elif not interval.left_open:
        pieces.append(low)
    return pieces


#: Largest expressions (``sympy.count_ops``) that the sign method factors, and simplifies
#: (``simplify`` can take minutes on a 4-variable quartic).
FACTOR_OPS, SIMPLIFY_OPS = 80, 25


def _sign_forms(instance):
    """``instance``, then (when small) its factored and simplified forms, lazily."""
    yield instance
    ops = sympy.count_ops(instance)
    if ops <= FACTOR_OPS:
        yield sympy.factor(instance)
    if ops <= SIMPLIFY_OPS:
        yield sympy.simplify(instance)


def _proved_by_signs(expr, ranges, deadline):
    """Whether ``expr ≥ 0`` follows from sign assumptions after reparametrizing the box."""
    choices = [_pieces(x, ranges[x]) for x in ranges]
    for pieces in itertools.product(*choices):
        if time.monotonic() > deadline:
            return False
        instance = expr.subs(dict(zip(ranges, pieces)))
        if not any(form.is_nonnegative for form in _sign_forms(instance)):
            return False
    return True


def _solve_single(expr, x, interval):
    """``solveset(expr < 0)`` on ``interval``: a BoundCheck, or None when it gives no answer."""
    try:
        region = sympy.solveset(expr < 0, x, domain=interval)
    except (NotImplementedError, ValueError, TypeError):
        return None
    if region == sympy.S.EmptySet:
        return BoundCheck(HOLDS, None, f"solveset: no x in {interval} with expr < 0")
    point = _point_in(region)
    if point is not None and _is_negative(expr.subs(x, point)):
        return BoundCheck(REFUTED, {x: point}, f"solveset: expr < 0 on {region}")
    return None


def _sympy_stage(expr, ranges, budget):
    """The sympy methods: solveset in one variable, sign assumptions, an exact sample grid."""
    if len(ranges) == 1:
        (x, interval), = ranges.items()
        found = _solve_single(expr, x, interval)
        if found is not None:
            return found.status, found.counterexample, None, found.detail
    try:
        if _proved_by_signs(expr, ranges, time.monotonic() + budget):
            return HOLDS, None, None, "non-negative by sign assumptions on the box"
    except (TypeError, ValueError, NotImplementedError):
        pass
    point = _search(expr, ranges)
    if point is not None:
        return REFUTED, point, None, "expr < 0 at a sampled point of an exact grid"
    return UNDECIDED, None, None, "solveset, sign assumptions and an exact grid decided nothing"


def _search_stage(expr, ranges, budget):
    """Local minimization from many starts; a counterexample is verified exactly."""
    from .counterexamples import find_counterexample

    found = find_counterexample(expr, ranges, time_limit=budget)
    if found is None:
        return UNDECIDED, None, None, "no negative value found by multi-start local minimization"
    return REFUTED, found.point, None, found.detail


def _unbounded(ranges):
    return next((f"{x} has the unbounded range {r}" for x, r in ranges.items()
                 if not (r.inf.is_finite and r.sup.is_finite)), None)


def _interval_stage(expr, ranges, budget, max_boxes):
    """Interval branch and bound with outward rounding (needs a bounded box)."""
    from .intervals import prove_nonnegative, supports

    reason = _unbounded(ranges) if supports(expr) else "a function without an interval rule"
    if reason is not None:
        return None, None, None, f"not applicable: {reason}"
    proof = prove_nonnegative(expr, ranges, max_boxes=max_boxes, time_limit=budget)
    return proof.status, proof.counterexample, proof.certificate, proof.detail


def _sos_stage(expr, ranges, budget, degree):
    """An exact SOS certificate with the box's multipliers (polynomials only)."""
    from .sos import is_polynomial_problem, sos_certificate

    if not is_polynomial_problem(expr, ranges):
        return None, None, None, "not applicable: not a polynomial with rational coefficients and ends"
    certificate = sos_certificate(expr, ranges, max_degree=degree, time_limit=budget)
    if certificate is None:
        return UNDECIDED, None, None, "no certificate verified exactly"
    return HOLDS, None, certificate.to_dict(), (
        f"an exact sum-of-squares certificate of degree {certificate.degree}, verified in sympy")


def _smt_stage(expr, ranges, budget):
    """z3's nonlinear real arithmetic (polynomials and rational functions)."""
    from .smt import is_rational_function_problem, smt_decide

    if not is_rational_function_problem(expr, ranges):
        return None, None, None, "not applicable: not a rational function with rational coefficients and ends"
    result = smt_decide(expr, ranges, timeout=budget)
    certificate = {"solver": "z3", "answer": "unsat"} if result.status == HOLDS else None
    return result.status, result.counterexample, certificate, result.detail


#: The methods of :func:`check_inequality`, in the order they are tried, with their shares of the
#: time (a method gets its share of what is left among itself and the methods after it; a single
#: sympy call is not interrupted, so sympy's share is checked between its steps).
METHODS = {"sympy": 0.05, "search": 0.1, "interval": 0.45, "sos": 0.2, "smt": 0.2}


def _check_methods(methods):
    methods = tuple(METHODS) if methods is None else tuple(methods)
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise InvalidInputError(f"methods must be a non-empty subset of {list(METHODS)}; got {list(methods)}")
    return methods


def _check_budget(value, name, kind):
    if isinstance(value, bool) or not isinstance(value, kind) or not value > 0 or value == math.inf:
        raise InvalidInputError(f"{name} must be a positive finite number; got {value!r}")
    return value


def _number_check(expr):
    """The verdict on a closed number ``expr``."""
    if expr.is_nonnegative:
        return BoundCheck(HOLDS, None, f"the number {expr} is non-negative", method="sympy")
    if _is_negative(expr):
        return BoundCheck(REFUTED, {}, f"the number {expr} is negative", method="sympy")
    return BoundCheck(UNDECIDED, None, f"the sign of {expr} could not be decided")


def check_inequality(expr, ranges=None, *, methods=None, time_limit=60.0, max_boxes=200_000,
                     sos_degree=None):
    """Decide ``expr ≥ 0`` for all values of its variables in the given ranges.

    The methods are tried in order of cost until one decides:

    1. ``"sympy"``: ``solveset`` in one variable, sign assumptions after
       reparametrizing the box, and an exact grid of sample points;
    2. ``"search"``: local minimization from many starts
       (:func:`dagtheory.counterexamples.find_counterexample`);
    3. ``"interval"``: interval branch and bound with outward rounding, with
       monotonicity and convexity arguments on small boxes
       (:func:`dagtheory.intervals.prove_nonnegative`; bounded boxes only);
    4. ``"sos"``: a sum-of-squares certificate with the box's multipliers,
       rounded to rationals and verified exactly
       (:func:`dagtheory.sos.sos_certificate`; polynomials only);
    5. ``"smt"``: z3's decision procedure for nonlinear real arithmetic
       (:func:`dagtheory.smt.smt_decide`; rational functions only).

    ``"holds"`` always rests on a proof (sympy's assumptions, an interval
    partition, an exact SOS identity, or z3's ``unsat``), named in ``method``
    with its ``certificate``; ``"refuted"`` always carries an exact point where
    ``expr`` was verified negative in exact (or rigorous high-precision)
    arithmetic; ``"undecided"`` lists in ``tried`` what each method did.

    Parameters
    ----------
    expr : sympy.Expr or number
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high), optional
        The box; a pair ``(low, high)`` means the closed interval. Every free
        symbol of ``expr`` must have a range with exact (or ``±oo``) ends.
    methods : sequence of str, keyword-only, optional
        A subset of :data:`METHODS`, tried in the given order; all by default.
        ``("sympy",)`` is the procedure of earlier versions.
    time_limit : float, keyword-only
        Seconds for all methods together (each gets a share, :data:`METHODS`).
    max_boxes : int, keyword-only
        Box budget of the interval branch and bound.
    sos_degree : int, keyword-only, optional
        Highest degree of the SOS multipliers tried (the smallest that fits by default).

    Returns
    -------
    BoundCheck

    Raises
    ------
    InvalidInputError
        If a free symbol of ``expr`` has no range, a range is empty or
        malformed, a budget is not a positive number, or a method that needs
        a box is asked for alone on an unbounded range.

    Examples
    --------
    >>> L, p = sympy.symbols("L p", positive=True)
    >>> box = {L: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    >>> check_inequality(2 * L / p - L / p, box).status
    'holds'
    >>> check = check_inequality(L / (2 * p) - 2 * L / p, box)
    >>> check.status, check.counterexample
    ('refuted', {L: 1, p: 1/8})

    A polynomial with negative terms, proved by interval branch and bound:

    >>> x, y = sympy.symbols("x y")
    >>> check = check_inequality(x**4 + y**4 - x*y + sympy.Rational(1, 5), {x: (-1, 1), y: (-1, 1)})
    >>> check.status, check.method
    ('holds', 'interval')
    """
    expr = check_expression(expr)
    ranges = check_box(expr, ranges)
    methods = _check_methods(methods)
    _check_budget(time_limit, "time_limit", (int, float))
    _check_budget(max_boxes, "max_boxes", Integral)
    if methods == ("interval",):
        check_bounded(ranges, "interval branch and bound")
    fixed = {x: r.inf for x, r in ranges.items() if r.inf == r.sup}  # one-point ranges
    expr = expr.subs(fixed) if fixed else expr
    ranges = {x: r for x, r in ranges.items() if x not in fixed and x in expr.free_symbols}
    check = _number_check(expr) if not ranges else _run_methods(
        expr, ranges, methods, time.monotonic() + time_limit, max_boxes=int(max_boxes), sos_degree=sos_degree)
    if check.status == REFUTED and fixed:
        check = dataclasses.replace(check, counterexample={**fixed, **check.counterexample})
    return check


def _run_methods(expr, ranges, methods, deadline, *, max_boxes, sos_degree):
    """Try ``methods`` in order until one decides; the verdict records every attempt."""
    stages = {"sympy": _sympy_stage, "search": _search_stage,
              "interval": lambda e, r, b: _interval_stage(e, r, b, max_boxes),
              "sos": lambda e, r, b: _sos_stage(e, r, b, sos_degree), "smt": _smt_stage}
    tried = []
    for name in methods:
        budget = max(_stage_budget(methods, name, deadline - time.monotonic()), 0.5)
        start = time.monotonic()
        status, point, certificate, detail = stages[name](expr, ranges, budget)
        tried.append(f"{name}: {detail} ({time.monotonic() - start:.2f} s)")
        if status in (HOLDS, REFUTED):
            return BoundCheck(status, point, f"{name}: {detail}", method=name,
                              certificate=certificate, tried=tuple(tried))
    return BoundCheck(UNDECIDED, None, "neither proved nor refuted; " + "; ".join(tried), tried=tuple(tried))


def _stage_budget(methods, name, left):
    """``name``'s share of the ``left`` seconds among itself and the methods after it."""
    later = sum(METHODS[m] for m in methods[methods.index(name):])
    return left * METHODS[name] / later if METHODS[name] else left


def check_bound(quantity, bound, ranges=None, **options):
    """Decide ``quantity <= bound`` for every parameter value in ``ranges``.

    A thin reading of :func:`check_inequality` on ``bound - quantity`` (same
    options): the answer is ``holds`` (with a proof), ``refuted`` (with an
    exactly checked counterexample) or ``undecided``.

    Examples
    --------
    >>> L, p = sympy.symbols("L p", positive=True)
    >>> ranges = {L: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    >>> check_bound(L / p, 2 * L / p, ranges).status
    'holds'
    >>> check_bound(2 * L / p, L / (2 * p), ranges).status
    'refuted'
    """
    quantity, bound = check_expression(quantity), check_expression(bound)
    return check_inequality(bound - quantity, ranges, **options)


# --------------------------------------------------------------------------- Theorem M2 over a range


def _binomial_tail(b, p, k):
    """``Pr[Bin(b, p) ≤ k]`` for an arb ball (or exact Fraction) ``p``."""
    return sum(math.comb(b, j) * p ** j * (1 - p) ** (b - j) for j in range(min(k, b) + 1))


def _poisson_cdf(c, k):
    """``Pr[Poisson(c) ≤ k]`` for an arb ball ``c``."""
    return sum(c ** j / math.factorial(j) for j in range(k + 1)) * (-c).exp()


def _ceiling(ball):
    """``⌈x⌉`` for the real number ``x`` inside ``ball``, when the ball decides it."""
    floor = (-ball).floor()
    if not floor.is_exact():
        raise InvalidInputError(f"the ceiling of {ball} is not decided at this precision")
    return -int(floor.unique_fmpz())


def _depth_certificate(depth, eps, log_term):
    """One depth ``L``: every ``b = ⌈c/p⌉`` below the Poisson threshold checked, or a failing ``b``.

    ``c = max(2L, 8 ln(1/ε))``; for ``⌈c/p⌉ = b`` the tail is largest at ``p = c/b``
    (it decreases in ``p``). From ``b₁`` on, ``C(b,j) p^j (1-p)^{b-j} ≤ c^j e^{-c} e^{pj} / j!``
    bounds the tail by ``e^{ck/b₁} Pr[Poisson(c) ≤ k]``.
    """
    from flint import arb

    k = depth - 1
    c = arb(2 * depth) if arb(2 * depth) > log_term else log_term
    poisson = _poisson_cdf(c, k)
    if not poisson < eps:
        return None, {"L": depth, "poisson_limit": str(poisson)}
    first = _ceiling(c)
    last = first if k == 0 else max(first, _ceiling(c * k / (eps / poisson).log()))
    worst = arb(0)
    for b in range(first, last):
        tail = _binomial_tail(b, c / b, k)
        if not tail < eps:
            return None, {"L": depth, "b": b, "tail": str(tail)}
        worst = tail if tail.upper() > worst.upper() else worst
    beyond = (c * k / last).exp() * poisson
    if not beyond < eps:
        return None, {"L": depth, "b": last, "poisson_bound": str(beyond)}
    return True, {"L": depth, "c": str(c), "b_checked": [first, last - 1] if last > first else [],
                  "tails": last - first, "max_tail": str(worst), "poisson_from": last,
                  "poisson_bound": str(beyond)}


def check_closed_form_bound(max_depth=50, eps=Fraction(1, 4)):
    """Prove ``Pr[Bin(B, p) ≤ L - 1] ≤ ε`` at M2's ``B = ⌈max(2L/p, 8 ln(1/ε)/p)⌉`` (§3).

    With Theorem M1 (``d(t) ≤ Pr[Bin(t, p) ≤ L - 1]``) this is Theorem M2,
    ``T_mix(ε) ≤ B``, for every ``p ∈ (0, 1]`` and every depth ``L ≤ max_depth``,
    rigorously and without Chernoff's inequality:

    * ``B`` takes the value ``b`` exactly for ``p ∈ [c/b, c/(b-1)) ∩ (0, 1]`` with
      ``c = max(2L, 8 ln(1/ε))``; the tail decreases in ``p``, so its supremum
      there is its value at ``p = c/b``;
    * for ``b`` from ``⌈c⌉`` up to a threshold ``b₁`` the tail at ``c/b`` is
      enclosed in arb balls (python-flint, rigorous outward rounding) and
      checked below ``ε``;
    * for every ``b ≥ b₁`` at once, ``C(b, j) ≤ b^j/j!`` and ``1 - p ≤ e^{-p}``
      give ``tail ≤ e^{c k / b₁} Pr[Poisson(c) ≤ k]`` (``k = L - 1``), checked
      below ``ε``.

    Parameters
    ----------
    max_depth : int
        Largest depth ``L`` (at least 1).
    eps : Fraction or int
        The threshold, ``0 < ε < 1``, exact.

    Returns
    -------
    BoundCheck
        ``"holds"`` with ``method="interval"`` and a certificate per depth
        (the range of ``b`` checked, the largest tail enclosure, the Poisson
        threshold and bound), or ``"undecided"`` naming the depth where the
        enclosures did not settle it.

    Examples
    --------
    >>> check = check_closed_form_bound(max_depth=3)
    >>> check.status, check.method
    ('holds', 'interval')
    >>> [(c["L"], c["b_checked"], c["poisson_from"]) for c in check.certificate["depths"]]
    [(1, [], 12), (2, [], 12), (3, [], 12)]
    >>> check_closed_form_bound(max_depth=50).certificate["depths"][5]["b_checked"]
    [12, 23]
    """
    from flint import arb

    if isinstance(max_depth, bool) or not isinstance(max_depth, Integral) or max_depth < 1:
        raise InvalidInputError(f"max_depth must be a positive integer; got {max_depth!r}")
    if isinstance(eps, bool) or not isinstance(eps, (Fraction, Integral)) or not 0 < eps < 1:
        raise InvalidInputError(f"eps must be an exact Fraction strictly between 0 and 1; got {eps!r}")
    eps_ball = arb(eps.numerator) / eps.denominator
    log_term = 8 * (1 / eps_ball).log()
    depths = []
    for depth in range(1, int(max_depth) + 1):
        settled, record = _depth_certificate(depth, eps_ball, log_term)
        if settled is None:
            return BoundCheck(UNDECIDED, None, f"depth L = {depth}: not settled by the enclosures ({record})",
                              tried=("interval: arb enclosures of the binomial tail",))
        depths.append(record)
    detail = (f"Pr[Bin(B, p) <= L-1] <= {eps} for all p in (0, 1] and L <= {max_depth}: "
              f"{sum(d['tails'] for d in depths)} binomial tails enclosed in arb balls, a Poisson bound beyond")
    return BoundCheck(HOLDS, None, detail, method="interval",
                      certificate={"eps": str(eps), "max_depth": int(max_depth), "depths": depths})
