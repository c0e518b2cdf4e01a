r"""Deciding ``f ≥ 0`` on a box with the SMT solver z3 (nonlinear real arithmetic).

To decide whether a rational function ``f`` of real variables satisfies
``f ≥ 0`` on a box, ask z3 whether the negation is satisfiable:

.. math::

    \exists x : \; x \in B \;\wedge\; f(x) < 0 \;?

* ``unsat`` means no point of the box makes ``f`` negative: ``f ≥ 0`` holds.
  z3 decides this with nlsat, a complete procedure for the theory of the real
  numbers (cylindrical algebraic decomposition driven by conflict analysis), so
  it proves statements that have equality cases, such as
  ``x⁴ − 4x² + 4 = (x² − 2)² ≥ 0`` with zeros at ``±√2``, where interval
  arithmetic and strict sum-of-squares certificates cannot.
* ``sat`` comes with a model. Its values may be real algebraic numbers; they
  are replaced by nearby rationals inside the box, and a point is reported only
  after ``f`` has been evaluated there exactly (sympy) and found negative.
* ``unknown`` (a timeout, a resource limit) means nothing is known.

Rational functions. ``f`` is written ``N / D`` with polynomials ``N`` and
``D`` (``sympy.together``), and ``f < 0`` is asserted as
``(D > 0 ∧ N < 0) ∨ (D < 0 ∧ N > 0)``: exactly the points where ``f`` is
defined and negative. So ``"holds"`` means ``f ≥ 0`` at every point of the box
where ``D ≠ 0``; z3's division (total, with ``x / 0`` unspecified) is never used.

Variables are reals; a symbol declared ``integer`` becomes an integer variable.
A symbol's sign assumptions (``positive``, ``nonnegative``, ``negative``,
``nonpositive``) narrow its range, so a counterexample always respects them.

z3 is optional: this module imports without it, and the functions that need it
raise :class:`~dagtheory.exceptions.MissingDependencyError` with the install
command (``pip install z3-solver``).
"""

import time
from dataclasses import dataclass
from fractions import Fraction
from typing import Optional

import sympy
from sympy import QQ
from sympy.polys.polyerrors import CoercionFailed, PolynomialError

from ._validation import check_box, check_expression, check_rational_ends
from ._verdicts import HOLDS, REFUTED, UNDECIDED
from .exceptions import InvalidInputError, InvalidTypeError, MissingDependencyError

__all__ = [
    "SMTResult",
    "is_rational_function_problem",
    "smt_decide",
]

#: The statuses of an :class:`SMTResult` (the same strings as ``dagtheory.symbolic``).
#: Decimal digits of the rational approximations tried for an algebraic model value.
_APPROXIMATION_DIGITS = (6, 12, 24, 48, 96)

_INSTALL_HINT = "pip install z3-solver"


@dataclass(frozen=True)
class SMTResult:
    """The outcome of :func:`smt_decide`.

    Attributes
    ----------
    status : {"holds", "refuted", "undecided"}
        ``"holds"``: z3 showed ``expr < 0`` unsatisfiable on the box;
        ``"refuted"``: a point with ``expr < 0`` was found and checked exactly;
        ``"undecided"``: neither (timeout, unknown, or no exact point verified).
    counterexample : dict or None
        For ``"refuted"``, symbol → sympy Rational (or Integer) where ``expr < 0``.
    detail : str
        How the status was reached.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> result = smt_decide(x**2 - 1, {x: (0, 2)})
    >>> result.status, bool(result)
    ('refuted', False)
    >>> value = (x**2 - 1).subs(result.counterexample)
    >>> value.is_Rational and value < 0
    True
    """

    status: str
    counterexample: Optional[dict]
    detail: str

    def __bool__(self):
        return self.status == HOLDS


# --------------------------------------------------------------------------- validation


def _fraction_parts(expr, variables):
    """``(N, D)`` as ``Poly`` over ``QQ`` with ``expr = N / D``, or an InvalidInputError."""
    gens = tuple(variables) or (sympy.Dummy("c"),)
    numerator, denominator = sympy.fraction(sympy.together(expr))
    try:
        return (sympy.Poly(numerator, *gens, domain=QQ), sympy.Poly(denominator, *gens, domain=QQ))
    except (PolynomialError, CoercionFailed) as err:
        raise InvalidInputError(
            "smt_decide applies to polynomials and rational functions with rational "
            f"coefficients only; got {expr}") from err


def _problem(expr, ranges):
    """``(expr, box, numerator, denominator)`` of a rational-function problem, validated."""
    expr = check_expression(expr, floats="refuse")
    box = check_rational_ends(check_box(expr, ranges), "smt_decide")
    numerator, denominator = _fraction_parts(expr, tuple(box))
    if denominator.is_zero:
        raise InvalidInputError(f"expr has a zero denominator; got {expr}")
    return expr, box, numerator, denominator


def is_rational_function_problem(expr, ranges):
    """Whether :func:`smt_decide` applies to ``expr ≥ 0`` on ``ranges``.

    True when ``expr`` is a polynomial or a rational function with rational
    coefficients and every free symbol has a non-empty range with rational or
    infinite ends. Does not need z3.

    Parameters
    ----------
    expr : sympy.Expr or number
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)

    Returns
    -------
    bool

    Examples
    --------
    >>> L, p = sympy.symbols("L p", positive=True)
    >>> box = {L: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    >>> is_rational_function_problem(2 * L / p - L / p, box)
    True
    >>> is_rational_function_problem(sympy.sqrt(p), box), is_rational_function_problem(L, {})
    (False, False)
    """
    try:
        _problem(expr, ranges)
    except (InvalidInputError, InvalidTypeError):
        return False
    return True


# --------------------------------------------------------------------------- translation to z3


def _import_z3():
    try:
        import z3
    except ImportError as err:
        raise MissingDependencyError(
            f"smt_decide needs the z3 SMT solver, which is not installed: {_INSTALL_HINT}") from err
    return z3


def _z3_variables(z3, box, ctx):
    """One z3 variable per symbol (``Int`` for integer symbols), as reals, with unique names."""
    variables = {}
    for i, x in enumerate(box):
        name = f"{x}__{i}"
        if x.is_integer:
            variables[x] = z3.ToReal(z3.Int(name, ctx))
        else:
            variables[x] = z3.Real(name, ctx)
    return variables


def _z3_rational(z3, value, ctx):
    value = QQ.to_sympy(value) if not isinstance(value, sympy.Rational) else value
    return z3.RealVal(f"{value.p}/{value.q}", ctx)


def _z3_polynomial(z3, poly, variables, ctx):
    """``Σ c · Π x_i^e_i`` from the terms of a ``Poly``; powers are written as products."""
    z = [variables[x] for x in variables]
    terms = []
    for exponents, coefficient in poly.terms():
        factors = [_z3_rational(z3, coefficient, ctx)]
        for var, e in zip(z, exponents):
            factors += [var] * e
        terms.append(factors[0] if len(factors) == 1 else z3.Product(*factors))
    return z3.Sum(*terms) if len(terms) > 1 else (terms[0] if terms else z3.RealVal(0, ctx))


def _z3_box(z3, box, variables, ctx):
    """The constraints ``x ∈ interval`` (open and infinite ends respected)."""
    constraints = []
    for x, interval in box.items():
        v = variables[x]
        if isinstance(interval, sympy.FiniteSet):
            constraints.append(v == _z3_rational(z3, interval.args[0], ctx))
            continue
        if interval.start.is_finite:
            low = _z3_rational(z3, interval.start, ctx)
            constraints.append(v > low if interval.left_open else v >= low)
        if interval.end.is_finite:
            high = _z3_rational(z3, interval.end, ctx)
            constraints.append(v < high if interval.right_open else v <= high)
    return constraints


def _z3_negative(z3, numerator, denominator, variables, ctx):
    """``N / D < 0`` without division: ``(D > 0 ∧ N < 0) ∨ (D < 0 ∧ N > 0)``."""
    N = _z3_polynomial(z3, numerator, variables, ctx)
    if denominator.is_ground:
        return N < 0 if denominator.LC() > 0 else N > 0
    D = _z3_polynomial(z3, denominator, variables, ctx)
    return z3.Or(z3.And(D > 0, N < 0), z3.And(D < 0, N > 0))


# --------------------------------------------------------------------------- models to exact points


def _model_values(z3, model, variables, digits):
    """Exact rationals of the model; algebraic values approximated to ``digits`` digits."""
    point = {}
    for x, v in variables.items():
        value = model.eval(v, model_completion=True)
        if z3.is_algebraic_value(value):
            value = value.approx(digits)
        if z3.is_int_value(value):
            point[x] = sympy.Integer(value.as_long())
        elif z3.is_rational_value(value):
            fraction = value.as_fraction()
            point[x] = sympy.Rational(fraction.numerator, fraction.denominator)
        else:
            return None
    return point


def _verified_negative(expr, box, point):
    """Whether ``point`` lies in ``box`` and ``expr`` is exactly a negative rational there."""
    if point is None or not all(box[x].contains(v) == sympy.true for x, v in point.items()):
        return False
    if any(x.is_integer and not v.is_integer for x, v in point.items()):
        return False
    value = expr.xreplace(point)
    return bool(value.is_Rational and value < 0)


def _counterexample(z3, model, expr, box, variables):
    """An exact point of the box where ``expr < 0``, from a z3 model, or None."""
    for digits in _APPROXIMATION_DIGITS:
        point = _model_values(z3, model, variables, digits)
        if _verified_negative(expr, box, point):
            return point
    return None


# --------------------------------------------------------------------------- the decision


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float, Fraction)) or not timeout > 0:
        raise InvalidInputError(f"timeout must be a positive number of seconds; got {timeout!r}")
    return float(timeout)


def _solver(z3, box, ctx, timeout):
    logic = "QF_NIRA" if any(x.is_integer for x in box) else "QF_NRA"
    solver = z3.SolverFor(logic, ctx=ctx)
    solver.set("timeout", max(1, int(timeout * 1000)))
    return solver


def smt_decide(expr, ranges, *, timeout=10.0):
    """Decide ``expr ≥ 0`` on a box with z3: ``"holds"``, ``"refuted"`` or ``"undecided"``.

    Asks z3 for a point of the box where ``expr < 0`` (module docstring).
    Unsatisfiable: ``"holds"``. Satisfiable: the model is turned into exact
    rationals inside the box (algebraic values are approximated ever more
    finely) and ``"refuted"`` is returned only once ``expr`` has been evaluated
    negative there in exact arithmetic; otherwise ``"undecided"``. A timeout or
    an ``unknown`` answer gives ``"undecided"``.

    Parameters
    ----------
    expr : sympy.Expr or number
        A polynomial or rational function with rational coefficients. For a
        rational function, ``"holds"`` speaks of the points where its
        denominator is non-zero.
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)
        The box; a pair means the closed interval. Open and infinite ends are
        allowed. Every free symbol of ``expr`` needs a range.
    timeout : float, default 10.0
        Seconds z3 may spend (its ``timeout`` parameter).

    Returns
    -------
    SMTResult

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a rational function with rational coefficients, a
        free symbol has no range, a range is empty or malformed, or
        ``timeout`` is not positive.
    MissingDependencyError
        If z3 is not installed (``pip install z3-solver``).

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> smt_decide(x**4 - 4*x**2 + 4, {x: (-3, 3)}).status     # (x² − 2)², zeros at ±√2
    'holds'
    >>> smt_decide(x**2 - 2*x*y + y**2, {x: sympy.Interval(-sympy.oo, sympy.oo),
    ...                                  y: sympy.Interval(-sympy.oo, sympy.oo)}).status
    'holds'
    >>> L, p = sympy.symbols("L p", positive=True)
    >>> box = {L: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    >>> smt_decide(2 * L / p - L / p, box).status
    'holds'
    >>> result = smt_decide(L / (2 * p) - 2 * L / p, box)
    >>> result.status, (L / (2 * p) - 2 * L / p).subs(result.counterexample) < 0
    ('refuted', True)
    """
    expr, box, numerator, denominator = _problem(expr, ranges)
    timeout = _check_timeout(timeout)
    z3 = _import_z3()
    ctx = z3.Context()
    variables = _z3_variables(z3, box, ctx)
    solver = _solver(z3, box, ctx, timeout)
    solver.add(*_z3_box(z3, box, variables, ctx))
    solver.add(_z3_negative(z3, numerator, denominator, variables, ctx))
    start = time.monotonic()
    answer = solver.check()
    elapsed = f"{time.monotonic() - start:.3g} s"
    where = "" if denominator.is_ground else f" (at every point where {denominator.as_expr()} ≠ 0)"
    if answer == z3.unsat:
        return SMTResult(HOLDS, None, f"z3: expr < 0 is unsatisfiable on the box{where}; {elapsed}")
    if answer == z3.sat:
        point = _counterexample(z3, solver.model(), expr, box, variables)
        if point is not None:
            return SMTResult(REFUTED, point, f"z3: model with expr < 0, checked exactly; {elapsed}")
        return SMTResult(UNDECIDED, None, f"z3: a model with expr < 0, but no exact rational "
                                          f"point near it verified; {elapsed}")
    return SMTResult(UNDECIDED, None, f"z3: unknown ({solver.reason_unknown()}); {elapsed}")
