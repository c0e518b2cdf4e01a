r"""Rigorous interval enclosures, and branch and bound for ``expr ≥ 0`` on a box.

**Enclosures.** For an expression ``f`` and a box ``X = [l_1, h_1] × … × [l_d, h_d]``
an *enclosure* is a pair of floats ``(a, b)`` with ``a ≤ f(x) ≤ b`` for every
``x ∈ X``. It is computed by walking the expression tree once over a whole
batch of boxes (numpy arrays, one entry per box), replacing each operation by
its interval version: ``[a, b] + [c, d] = [a + c, b + d]``, a product takes
the minimum and maximum of the four endpoint products, an even power of an
interval containing ``0`` starts at ``0``, a division by an interval
containing ``0`` gives ``(-∞, ∞)``. Elementary functions (``exp``, ``log``,
``sqrt``, ``atan``, …) are monotone on their domains, so their range is
spanned by the images of the endpoints, computed with python-flint ``arb``
balls; ``sin`` and ``cos`` add ``±1`` when a peak may lie inside. Where an
expression is undefined on part of a box (``log`` of a negative number) the
enclosure is ``(-∞, ∞)``, which proves nothing.

**Why it is rigorous.** IEEE arithmetic rounds each ``+ − × ÷ sqrt`` to the
nearest float, an error of at most one unit in the last place (ulp). Every
lower bound is therefore moved one ulp down (``np.nextafter``) and every
upper bound one ulp up, unless an error-free transformation (TwoSum,
Dekker's TwoProduct) shows that the rounded result is already exact or on the
right side. Rational constants such as ``1/5`` are enclosed by the floats
just below and above them.

**Mean-value form.** A natural enclosure overestimates when a variable occurs
several times (``x**4 + y**4 - x*y`` on ``[-1, 1]²``). The centered form
``f(c) + Σ_i ∂_i f(X) (X_i − c_i)`` at the centre ``c`` shrinks quadratically
with the box; both are computed and intersected.

**Branch and bound.** :func:`prove_nonnegative` encloses all pending boxes
at once, settles those whose lower bound is ``≥ 0``, looks for a negative
midpoint (confirmed exactly at a rational point, see
:func:`dagtheory.counterexamples.verify_negative`), and bisects the rest.
Where the minimum of ``f`` is exactly ``0`` enclosures never reach ``≥ 0``, so
two local arguments are tried on unsettled boxes:

* *monotonicity*: if ``∂_i f ≥ 0`` on the box, ``f(x) ≥ f(x with x_i = l_i)``,
  so only the face ``x_i = l_i`` matters (``≤ 0``: the face ``x_i = h_i``); a
  box that shrinks to a point is decided by exact evaluation;
* *convexity*: if the interval Hessian is provably positive semidefinite on
  the box (diagonal dominance, or the 2 × 2 determinant test), then
  ``f(x) ≥ f(x̂) + ∇f(x̂)·(x − x̂)`` for any ``x̂`` of the box; ``x̂`` is a
  numerical minimizer made rational, and the affine bound is minimized over
  the box in exact arithmetic.

**Checking a certificate.** :func:`verify_interval_certificate` re-checks
a certificate from the certificate alone: the leaf boxes tile the box (exact
volumes, disjoint interiors), and every leaf's reason is proved again with
mpmath's interval arithmetic (``mpmath.iv``, 80 bits) and exact rational
arithmetic, sharing no code with the float enclosures above.

**Out of reach.** Some equality cases come back ``"undecided"`` (boxes
shrink to float resolution, or the budget runs out) and are left to other
engines (sums of squares, SMT):

* a zero at an irrational point (``(x**2 - 2)**2`` expanded, zero at ``√2``):
  the rational ``x̂`` has ``f(x̂) > 0`` but its supporting plane dips below 0;
* a zero at an irrational range endpoint (``2 - x**2`` on ``[0, √2]``): the
  box is the float hull of the range, slightly larger, where ``f < 0``;
* a zero where ``f`` is not twice differentiable or not convex nearby
  (``Abs(x) - x/2`` at 0, ``sqrt(x) - x`` at 0, ``x**2*y**2 + z**2 +
  (x - y)**2 - x*y*z/10`` at the origin);
* a zero where ``f`` is undefined (``1/x - 1`` on ``(0, 1]``: the closure is
  proved, and ``f`` is unbounded at 0).

Dimensions above 8 skip the convexity argument (the Hessian has ``d²``
entries); the enclosure, monotonicity and refutation steps have no limit.
"""

import contextlib
import functools
import math
import operator
import time
from collections import Counter
from dataclasses import dataclass, field
from fractions import Fraction
from numbers import Integral, Real
from typing import NamedTuple, Optional

import mpmath
import numpy as np
import sympy
from flint import arb, ctx
from mpmath import iv
from mpmath.libmp import from_man_exp, to_rational
from sympy.printing.pycode import PythonCodePrinter

from ._points import Range, candidate_points, compare, evaluate, exact_value, inside, numeric, verify_negative
from ._validation import check_bounded, check_box, check_expression
from ._verdicts import HOLDS, REFUTED, UNDECIDED
from .exceptions import InvalidInputError

__all__ = ["Enclosure", "IntervalProof", "interval_enclosure", "prove_nonnegative", "supports",
           "verify_interval_certificate"]


#: Bounds of the operands of an exact product/quotient check (no overflow, no underflow).
_TINY = 2.0 ** -960
_HUGE = 2.0 ** 995
#: Veltkamp's splitter 2**27 + 1 (Dekker's TwoProduct).
_SPLITTER = 134217729.0
#: Working precision (bits) of the arb evaluations of elementary functions.
_PREC = 96
#: Boxes enclosed per round, local arguments tried per round, Hessian size limit.
_CHUNK = 2048
_CONVEX_PER_ROUND = 32
_MAX_HESSIAN_DIM = 8
#: A box is small enough for the convexity argument below this relative width.
_LOCAL_WIDTH = 1.0 / 16
#: Denominator limits of the candidate minimizers of the convexity argument.
_CONVEX_DENOMINATORS = (1, 2, 3, 4, 6, 8, 12, 16, 10, 100, 10 ** 3, 10 ** 4, 10 ** 6, 10 ** 9)


class Enclosure(NamedTuple):
    """Float bounds ``lower ≤ f ≤ upper`` of an expression on each box of a batch.

    Attributes
    ----------
    lower, upper : numpy.ndarray of shape (m,)

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> lower, upper = interval_enclosure(x**2, [x], [[-1.0]], [[2.0]])
    >>> lower, upper
    (array([0.]), array([4.]))
    """

    lower: np.ndarray
    upper: np.ndarray


# --------------------------------------------------------------------------- rounding


def _down(x):
    return np.nextafter(x, -np.inf)


def _up(x):
    return np.nextafter(x, np.inf)


def _directed(value, err, trusted):
    """Lower and upper float bounds of ``value + err``, ``err`` the exact rounding error where trusted."""
    lower = np.where(trusted & (err >= 0), value, _down(value))
    upper = np.where(trusted & (err <= 0), value, _up(value))
    return lower, upper


def _sum(a, b):
    """Bounds of the exact ``a + b`` (Knuth's TwoSum gives the rounding error)."""
    s = a + b
    bb = s - a
    err = (a - (s - bb)) + (b - bb)
    return _directed(s, err, np.isfinite(s) & np.isfinite(err))


def _split(a):
    t = _SPLITTER * a
    high = t - (t - a)
    return high, a - high


def _two_product(a, b):
    """``(p, err, trusted)``: ``p = fl(a b)`` and, where trusted, the exact ``a b - p``."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    err = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    trusted = (np.isfinite(p) & np.isfinite(err) & (np.abs(a) < _HUGE) & (np.abs(b) < _HUGE)
               & ((np.abs(p) > _TINY) | (a == 0) | (b == 0)))
    return p, err, trusted


def _product(a, b):
    """Bounds of the exact ``a * b``."""
    p, err, trusted = _two_product(a, b)
    return _directed(p, err, trusted)


def _quotient(a, b):
    """Bounds of the exact ``a / b`` (``b ≠ 0``), from the sign of the residual ``a - q b``."""
    q = a / b
    p, err, trusted = _two_product(q, b)
    residual = (a - p) - err  # exact sign: a - p is exact (Sterbenz), err is exact
    trusted = trusted & np.isfinite(residual) & ((np.abs(a) > _TINY) | (a == 0))
    return _directed(q, np.sign(residual) * np.sign(b), trusted)


def _sqrt(x):
    """Bounds of the exact ``sqrt(x)`` for ``x ≥ 0``."""
    s = np.sqrt(x)
    p, err, trusted = _two_product(s, s)
    residual = (x - p) - err  # the sign of sqrt(x) - s
    trusted = trusted & np.isfinite(residual) & ((np.abs(x) > _TINY) | (x == 0))
    return _directed(s, residual, trusted)


def _fraction_bounds(value):
    """The floats just below and above (or at) the Fraction ``value``."""
    try:
        nearest = float(value)
    except OverflowError:
        big = np.finfo(float).max
        return (big, math.inf) if value > 0 else (-math.inf, -big)
    low = nearest if Fraction(nearest) <= value else math.nextafter(nearest, -math.inf)
    high = nearest if Fraction(nearest) >= value else math.nextafter(nearest, math.inf)
    return low, high


def _arb_float(ball, side):
    """A float below (``side < 0``) or above the arb ball ``ball``."""
    if not ball.is_finite():
        return -math.inf if side < 0 else math.inf
    edge = ball.lower() if side < 0 else ball.upper()
    value = float(edge)
    if side < 0:
        return value if arb(value) <= edge else math.nextafter(value, -math.inf)
    return value if arb(value) >= edge else math.nextafter(value, math.inf)


def _arb_map(values, function, side):
    """Float bounds of ``function`` (arb → arb) at each finite value; NaN at the others."""
    values = np.asarray(values, dtype=float)
    unique, inverse = np.unique(values, return_inverse=True)
    with ctx.workprec(_PREC):
        bounds = [_arb_float(function(arb(v)), side) if math.isfinite(v) else math.nan
                  for v in unique.tolist()]
    return np.asarray(bounds, dtype=float)[inverse].reshape(values.shape)


# --------------------------------------------------------------------------- interval operations

_ONE = (np.float64(1.0), np.float64(1.0))


def _clean(lo, hi):
    """NaN bounds (``∞ - ∞``, ``0 · ∞``, undefined values) become ``(-∞, ∞)``."""
    lo, hi = np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    return np.where(np.isnan(lo), -np.inf, lo), np.where(np.isnan(hi), np.inf, hi)


def _entire_where(mask, interval):
    return np.where(mask, -np.inf, interval[0]), np.where(mask, np.inf, interval[1])


def _i_add(a, b):
    return _sum(a[0], b[0])[0], _sum(a[1], b[1])[1]


def _endpoint_product(x, y):
    """``_product`` of two endpoints, with ``0 · ±∞ = 0`` (intervals hold reals; ∞ only bounds them)."""
    low, high = _product(x, y)
    zero = ((x == 0) & np.isinf(y)) | (np.isinf(x) & (y == 0))
    return np.where(zero, 0.0, low), np.where(zero, 0.0, high)


def _i_mul(a, b):
    bounds = [_endpoint_product(x, y) for x in a for y in b]
    return (functools.reduce(np.minimum, [low for low, _ in bounds]),
            functools.reduce(np.maximum, [high for _, high in bounds]))


def _i_div(a, b):
    bounds = [_quotient(x, y) for x in a for y in b]
    low = functools.reduce(np.minimum, [lo for lo, _ in bounds])
    high = functools.reduce(np.maximum, [hi for _, hi in bounds])
    return _entire_where((b[0] <= 0) & (b[1] >= 0), (low, high))


def _magnitude(a):
    """The interval ``|a|``: ``[0, max]`` when ``a`` contains 0."""
    lo, hi = a
    return np.where(lo > 0, lo, np.where(hi < 0, -hi, 0.0)), np.maximum(-lo, hi)


def _power(base, n, side):
    """A lower (``side < 0``) or upper bound of ``base**n`` for ``base ≥ 0``, by squaring."""
    pick = 0 if side < 0 else 1
    result = None
    while True:
        if n & 1:
            result = base if result is None else _product(result, base)[pick]
        n >>= 1
        if not n:
            break
        base = _product(base, base)[pick]
        base = np.maximum(base, 0.0) if side < 0 else base
    return np.maximum(result, 0.0) if side < 0 else result


def _i_pow(a, n):
    """``a**n`` for an integer ``n``."""
    if n == 0:
        return _ONE
    if n < 0:
        return _i_div(_ONE, _i_pow(a, -n))
    if n == 1:
        return a
    if n % 2 == 0:
        mag_lo, mag_hi = _magnitude(a)
        return _power(mag_lo, n, -1), _power(mag_hi, n, 1)
    lo, hi = a
    low = np.where(lo >= 0, _power(np.abs(lo), n, -1), -_power(np.abs(lo), n, 1))
    high = np.where(hi >= 0, _power(np.abs(hi), n, 1), -_power(np.abs(hi), n, -1))
    return low, high


def _i_sqrt(a):
    lo, hi = a
    low = _sqrt(np.maximum(lo, 0.0))[0]
    high = _sqrt(np.maximum(hi, 0.0))[1]
    return _entire_where(lo < 0, (low, high))


def _i_rpow(a, exponent):
    """``a**exponent`` for a non-integer rational exponent (real only for ``a ≥ 0``)."""
    lo, hi = a
    e = arb(int(exponent.p)) / int(exponent.q)

    def power(ball):
        return ball ** e if ball != 0 else arb(0)

    if exponent > 0:
        low, high = _arb_map(np.maximum(lo, 0.0), power, -1), _arb_map(hi, power, 1)
        high = np.where(hi == np.inf, np.inf, high)
    else:
        low = np.where(hi == np.inf, 0.0, _arb_map(hi, power, -1))
        high = np.where(lo > 0, _arb_map(np.where(lo > 0, lo, 1.0), power, 1), np.inf)
    return _entire_where(lo < 0, (low, high))


def _may_contain(lo, hi, offset):
    """Whether ``[lo, hi]`` may contain ``offset + 2πk`` for an integer ``k`` (True when unsure)."""
    period = 2 * math.pi
    a, b = (lo - offset) / period, (hi - offset) / period
    sure = np.isfinite(a) & np.isfinite(b) & (np.abs(lo) < 1e6) & (np.abs(hi) < 1e6)
    return ~sure | (np.ceil(a - 1e-9) <= np.floor(b + 1e-9))


# --------------------------------------------------------------------------- expression tree


def _enclose(node, env, memo):
    """The enclosure ``(lo, hi)`` of a sympy node over the boxes of ``env`` (memoized)."""
    found = memo.get(node)
    if found is None:
        found = _clean(*_dispatch(node, env, memo))
        memo[node] = found
    return found


def _args(node, env, memo):
    return [_enclose(arg, env, memo) for arg in node.args]


def _dispatch(node, env, memo):
    if node.is_Symbol:
        if node not in env:
            raise InvalidInputError(f"the variable {node} has no interval; give it a column of the box")
        return env[node]
    if node.is_Number:
        return _number(node)
    for kind, handler in _HANDLERS:
        if isinstance(node, kind):
            return handler(node, env, memo)
    raise InvalidInputError(
        f"interval arithmetic does not support {type(node).__name__} (in {node}); supported: "
        "+, -, *, /, powers, exp, log, sqrt, sin, cos, atan, sinh, cosh, tanh, asinh, erf, "
        "Abs, Min, Max, floor, ceiling, sign")


def _number(node):
    if node.is_Float:
        node = sympy.Rational(node)
    if not node.is_Rational:
        raise InvalidInputError(f"interval arithmetic does not support the number {node}")
    low, high = _fraction_bounds(Fraction(int(node.p), int(node.q)))
    return np.float64(low), np.float64(high)


_CONSTANTS = {
    sympy.pi: arb.pi,
    sympy.E: lambda: arb(1).exp(),
    sympy.EulerGamma: arb.const_euler,
    sympy.Catalan: arb.const_catalan,
    sympy.GoldenRatio: lambda: (1 + arb(5).sqrt()) / 2,
}


def _constant(node, env, memo):
    maker = _CONSTANTS.get(node)
    if maker is None:
        raise InvalidInputError(f"interval arithmetic does not support the constant {node}")
    with ctx.workprec(_PREC):
        ball = maker()
    return np.float64(_arb_float(ball, -1)), np.float64(_arb_float(ball, 1))


def _add(node, env, memo):
    return functools.reduce(_i_add, _args(node, env, memo))


def _mul(node, env, memo):
    return functools.reduce(_i_mul, _args(node, env, memo))


def _pow(node, env, memo):
    base, exponent = node.args
    if exponent.is_Float:
        exponent = sympy.Rational(exponent)
    if exponent.is_Integer:
        return _i_pow(_enclose(base, env, memo), int(exponent))
    if exponent.is_Rational and exponent.q == 2:
        return _i_pow(_i_sqrt(_enclose(base, env, memo)), int(exponent.p))
    if exponent.is_Rational:
        return _i_rpow(_enclose(base, env, memo), exponent)
    rewritten = sympy.exp(exponent * sympy.log(base))
    if isinstance(rewritten, sympy.Pow):
        raise InvalidInputError(f"interval arithmetic does not support the power {node}")
    return _enclose(rewritten, env, memo)


def _increasing(method, at_minus_inf, at_plus_inf):
    """A handler for a function increasing on the real line, evaluated by arb."""
    def handler(node, env, memo):
        (lo, hi), = _args(node, env, memo)
        function = getattr(arb, method)
        low = np.where(lo == -np.inf, at_minus_inf, _arb_map(lo, function, -1))
        high = np.where(hi == np.inf, at_plus_inf, _arb_map(hi, function, 1))
        return low, high
    return handler


def _log(node, env, memo):
    (lo, hi), = _args(node, env, memo)
    low = np.where(lo > 0, _arb_map(np.where(lo > 0, lo, 1.0), arb.log, -1), -np.inf)
    high = np.where(hi > 0, _arb_map(np.where(hi > 0, hi, 1.0), arb.log, 1), np.inf)
    return _entire_where((lo < 0) | (hi <= 0), (low, high))


def _cosh(node, env, memo):
    mag_lo, mag_hi = _magnitude(*_args(node, env, memo))
    return _arb_map(mag_lo, arb.cosh, -1), _arb_map(mag_hi, arb.cosh, 1)


def _periodic(method, peak, trough):
    """A handler for sin or cos: endpoint values, widened to ±1 where a peak may lie inside."""
    def handler(node, env, memo):
        (lo, hi), = _args(node, env, memo)
        function = getattr(arb, method)
        low = np.minimum(_arb_map(lo, function, -1), _arb_map(hi, function, -1))
        high = np.maximum(_arb_map(lo, function, 1), _arb_map(hi, function, 1))
        low = np.where(_may_contain(lo, hi, trough), -1.0, low)
        return low, np.where(_may_contain(lo, hi, peak), 1.0, high)
    return handler


def _abs(node, env, memo):
    return _magnitude(*_args(node, env, memo))


def _fold(function):
    """A handler for Min or Max: ``function`` applied to the lower and to the upper bounds."""
    def handler(node, env, memo):
        args = _args(node, env, memo)
        return (functools.reduce(function, [a[0] for a in args]),
                functools.reduce(function, [a[1] for a in args]))
    return handler


def _rounding(function):
    def handler(node, env, memo):
        (lo, hi), = _args(node, env, memo)
        return function(lo), function(hi)
    return handler


_HANDLERS = (
    (sympy.Add, _add),
    (sympy.Mul, _mul),
    (sympy.Pow, _pow),
    (sympy.NumberSymbol, _constant),
    (sympy.exp, _increasing("exp", 0.0, np.inf)),
    (sympy.log, _log),
    (sympy.sin, _periodic("sin", math.pi / 2, -math.pi / 2)),
    (sympy.cos, _periodic("cos", 0.0, math.pi)),
    (sympy.atan, _increasing("atan", -2.0, 2.0)),
    (sympy.tanh, _increasing("tanh", -1.0, 1.0)),
    (sympy.sinh, _increasing("sinh", -np.inf, np.inf)),
    (sympy.asinh, _increasing("asinh", -np.inf, np.inf)),
    (sympy.erf, _increasing("erf", -1.0, 1.0)),
    (sympy.cosh, _cosh),
    (sympy.Abs, _abs),
    (sympy.Min, _fold(np.minimum)),
    (sympy.Max, _fold(np.maximum)),
    (sympy.floor, _rounding(np.floor)),
    (sympy.ceiling, _rounding(np.ceil)),
    (sympy.sign, _rounding(np.sign)),
)

#: Functions without a derivative everywhere: no mean-value form, monotonicity or convexity.
_NONSMOOTH = (sympy.Abs, sympy.Min, sympy.Max, sympy.floor, sympy.ceiling, sympy.sign)


def _natural(exprs, symbols, lows, highs):
    """Natural enclosures ``[(lo, hi), …]`` of several expressions, sharing subexpressions."""
    env = {s: (lows[:, i], highs[:, i]) for i, s in enumerate(symbols)}
    memo = {}
    shape = (lows.shape[0],)
    with np.errstate(all="ignore"):
        found = [_enclose(e, env, memo) for e in exprs]
    return [(np.broadcast_to(lo, shape).copy(), np.broadcast_to(hi, shape).copy()) for lo, hi in found]


def _constant_bounds(value):
    """Float bounds of a closed sympy number (``(-inf, inf)`` if unsupported)."""
    try:
        ((lo, hi),) = _natural([sympy.sympify(value)], (), np.zeros((1, 0)), np.zeros((1, 0)))
    except InvalidInputError:
        return -math.inf, math.inf
    return float(lo[0]), float(hi[0])


class _Function:
    """An expression, its gradient and (on demand) its Hessian, for enclosures."""

    def __init__(self, expr, symbols):
        self.expr, self.symbols = expr, tuple(symbols)
        probe = np.zeros((1, len(self.symbols)))
        _natural([expr], self.symbols, probe, probe)  # raises on an unsupported node
        self.smooth = not expr.has(*_NONSMOOTH)
        self.gradient = self._derivatives([sympy.diff(expr, s) for s in self.symbols])
        self._hessian = None

    def _derivatives(self, exprs):
        if not self.smooth:
            return None
        probe = np.zeros((1, len(self.symbols)))
        try:
            _natural(exprs, self.symbols, probe, probe)
        except InvalidInputError:
            return None
        return tuple(exprs)

    @property
    def hessian(self):
        """The upper triangle ``{(i, j): ∂_i ∂_j f}``, or None."""
        if self._hessian is None and self.gradient is not None:
            d = len(self.symbols)
            pairs = [(i, j) for i in range(d) for j in range(i, d)]
            exprs = self._derivatives([sympy.diff(self.gradient[i], self.symbols[j]) for i, j in pairs])
            self._hessian = dict(zip(pairs, exprs)) if exprs is not None else {}
        return self._hessian or None

    def enclose(self, lows, highs):
        """``(lo, hi, gradient)``: natural ∩ centered enclosure, and the gradient's enclosures."""
        exprs = [self.expr] + list(self.gradient or ())
        found = _natural(exprs, self.symbols, lows, highs)
        (lo, hi), gradient = found[0], found[1:]
        if not gradient:
            return lo, hi, None
        centre = np.clip(0.5 * lows + 0.5 * highs, lows, highs)
        total = _natural([self.expr], self.symbols, centre, centre)[0]
        with np.errstate(all="ignore"):
            for i, g in enumerate(gradient):
                offset = (_sum(lows[:, i], -centre[:, i])[0], _sum(highs[:, i], -centre[:, i])[1])
                total = _clean(*_i_add(total, _i_mul(g, offset)))
        finite = np.isfinite(lo) & np.isfinite(hi)
        lo = np.where(finite, np.maximum(lo, total[0]), lo)
        hi = np.where(finite, np.minimum(hi, total[1]), hi)
        return lo, hi, gradient

    def hessian_enclosure(self, lows, highs):
        """Arrays ``(lo, hi)`` of shape (m, d, d) enclosing the Hessian on each box."""
        pairs = list(self.hessian)
        found = _natural([self.hessian[p] for p in pairs], self.symbols, lows, highs)
        m, d = lows.shape
        lo, hi = np.empty((m, d, d)), np.empty((m, d, d))
        for (i, j), (a, b) in zip(pairs, found):
            lo[:, i, j] = lo[:, j, i] = a
            hi[:, i, j] = hi[:, j, i] = b
        return lo, hi


# --------------------------------------------------------------------------- public enclosure


def _check_boxes(lows, highs, d):
    lows = np.atleast_2d(np.asarray(lows, dtype=float))
    highs = np.atleast_2d(np.asarray(highs, dtype=float))
    if lows.shape != highs.shape or lows.ndim != 2 or lows.shape[1] != d:
        raise InvalidInputError(
            f"lows and highs must both have shape (m, {d}); got {lows.shape} and {highs.shape}")
    if not (np.isfinite(lows).all() and np.isfinite(highs).all()):
        raise InvalidInputError("lows and highs must be finite floats; they contain NaN or ±inf")
    bad = np.argwhere(lows > highs)
    if len(bad):
        r, i = bad[0]
        raise InvalidInputError(
            f"box {r} has lows[{r}, {i}] = {float(lows[r, i])!r} > highs[{r}, {i}] = {float(highs[r, i])!r}")
    return lows, highs


def supports(expr):
    """Whether :func:`interval_enclosure` can enclose ``expr`` (every node has an interval rule).

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> supports(sympy.exp(x) - x**2 / 3), supports(sympy.gamma(x))
    (True, False)
    """
    kinds = tuple(kind for kind, _ in _HANDLERS)
    for node in sympy.preorder_traversal(sympy.sympify(expr)):
        if node.is_Symbol or node.is_Rational or node.is_Float:
            continue
        if not isinstance(node, kinds) or (isinstance(node, sympy.NumberSymbol) and node not in _CONSTANTS):
            return False
    return True


def interval_enclosure(expr, symbols, lows, highs, *, centered=True):
    """Rigorous float bounds of ``expr`` on each box of a batch.

    Parameters
    ----------
    expr : sympy.Expr
        A real expression built from ``+ - * /``, powers, rational and named
        constants (``pi``, ``E``), ``exp``, ``log``, ``sqrt``, ``sin``, ``cos``,
        ``atan``, ``sinh``, ``cosh``, ``tanh``, ``asinh``, ``erf``, ``Abs``,
        ``Min``, ``Max``, ``floor``, ``ceiling`` and ``sign``.
    symbols : sequence of sympy.Symbol
        The variables, one per column of the boxes.
    lows, highs : array_like of shape (m, d)
        The boxes ``[lows[k, i], highs[k, i]]``, finite floats.
    centered : bool, optional
        Also compute the mean-value form and intersect (default True).

    Returns
    -------
    Enclosure
        ``(lower, upper)``, arrays of shape (m,) with ``lower ≤ expr ≤ upper``
        on each box; ``(-inf, inf)`` where ``expr`` may be undefined.

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a real expression, holds an unsupported function or
        a variable without a column, or the boxes are malformed.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> lows, highs = [[0.0, 0.0], [1.0, 2.0]], [[1.0, 1.0], [2.0, 3.0]]
    >>> interval_enclosure(x * y - x, [x, y], lows, highs, centered=False)
    Enclosure(lower=array([-1.,  0.]), upper=array([1., 5.]))
    >>> interval_enclosure(x * y - x, [x, y], lows, highs)  # the true ranges: [-1, 0], [1, 4]
    Enclosure(lower=array([-1.  ,  0.25]), upper=array([0.75, 4.25]))
    >>> lower, upper = interval_enclosure(sympy.exp(x), [x], [[0.0]], [[1.0]])
    >>> float(lower[0]), float(upper[0])
    (1.0, 2.7182818284590455)
    """
    expr = check_expression(expr)
    symbols = tuple(symbols)
    if not all(isinstance(s, sympy.Symbol) for s in symbols):
        raise InvalidInputError(f"symbols must be sympy Symbols; got {symbols!r}")
    missing = expr.free_symbols - set(symbols)
    if missing:
        raise InvalidInputError(f"expr has variables without a column: {sorted(map(str, missing))}")
    lows, highs = _check_boxes(lows, highs, len(symbols))
    function = _Function(expr, symbols)
    if not centered:
        return Enclosure(*_natural([expr], symbols, lows, highs)[0])
    lo, hi, _ = function.enclose(lows, highs)
    return Enclosure(lo, hi)


# --------------------------------------------------------------------------- exact evaluation


class _FractionPrinter(PythonCodePrinter):
    """Python code with ``Fraction`` constants, so a rational function evaluates exactly."""

    def _print_Rational(self, expr):
        return f"Fraction({expr.p}, {expr.q})"

    def _print_Integer(self, expr):
        return str(expr.p)


def _is_rational_function(expr, symbols):
    """A quotient of polynomials with rational coefficients (no function, no radical)."""
    return bool(expr.is_rational_function(*symbols)
                and not expr.atoms(sympy.Function, sympy.NumberSymbol, sympy.Float)
                and all(p.exp.is_Integer for p in expr.atoms(sympy.Pow)))


class _Exact:
    """Exact values of ``f`` and its gradient at rational points (Fractions when possible)."""

    def __init__(self, exprs, symbols):
        self.exprs, self.symbols = list(exprs), tuple(symbols)
        self.rational = all(_is_rational_function(e, self.symbols) for e in self.exprs)
        self._compiled = [sympy.lambdify(self.symbols, e, modules=[{"Fraction": Fraction}],
                                         printer=_FractionPrinter) for e in self.exprs] \
            if self.rational else None

    def number(self, q):
        return q if self.rational else sympy.Rational(q.numerator, q.denominator)

    def value(self, point, index=0):
        """The exact value at ``point`` (tuple of Fractions); None where undefined."""
        if self.rational:
            try:
                return Fraction(self._compiled[index](*point))
            except ZeroDivisionError:
                return None
        return exact_value(self.exprs[index], dict(zip(self.symbols, point)))


def _exact_sign(value):
    """The sign (-1, 0, 1) of an exact number, or None when it cannot be decided."""
    if value is None:
        return None
    if isinstance(value, Fraction):
        return (value > 0) - (value < 0)
    if value.is_Rational:
        return int(bool(value > 0)) - int(bool(value < 0))
    lo, hi = _constant_bounds(value)
    if lo > 0:
        return 1
    if hi < 0:
        return -1
    return 0 if value.is_zero else None


def _fraction_str(value):
    return str(Fraction(float(value)))


# --------------------------------------------------------------------------- boxes


@dataclass
class _Boxes:
    """A batch of boxes: cover ``[lo, hi]``, and exact faces ``x_i = value`` (fixed dimensions)."""

    lo: np.ndarray
    hi: np.ndarray
    fixed: np.ndarray
    fix_lo: np.ndarray
    fix_hi: np.ndarray
    faces: np.ndarray  # object: None or (side, Fraction)

    def __len__(self):
        return self.lo.shape[0]

    def take(self, index):
        return _Boxes(*(getattr(self, f)[index] for f in _BOX_FIELDS))

    def effective(self):
        """The float box enclosures are computed on (a fixed dimension is its face value)."""
        return np.where(self.fixed, self.fix_lo, self.lo), np.where(self.fixed, self.fix_hi, self.hi)

    def copy(self):
        return _Boxes(*(getattr(self, f).copy() for f in _BOX_FIELDS))

    @staticmethod
    def concat(parts):
        parts = [p for p in parts if p is not None]
        return _Boxes(*(np.concatenate([getattr(p, f) for p in parts]) for f in _BOX_FIELDS))


_BOX_FIELDS = ("lo", "hi", "fixed", "fix_lo", "fix_hi", "faces")


@dataclass(frozen=True)
class _Axis:
    """One variable: its range, the float hull of it, and the exact box the proof covers."""

    item: Range
    outer_lo: float
    outer_hi: float
    proof_lo: Fraction
    proof_hi: Fraction


def _axis(item):
    def bounds(end):
        if end.is_Rational:
            return _fraction_bounds(Fraction(int(end.p), int(end.q)))
        return _constant_bounds(end)

    outer_lo, outer_hi = bounds(item.low)[0], bounds(item.high)[1]
    if not (math.isfinite(outer_lo) and math.isfinite(outer_hi)):
        raise InvalidInputError(
            f"the range of {item.symbol} has endpoints that cannot be enclosed: {item.interval}")

    def exact(end, fallback):
        return Fraction(int(end.p), int(end.q)) if end.is_Rational else Fraction(fallback)

    return _Axis(item, outer_lo, outer_hi, exact(item.low, outer_lo), exact(item.high, outer_hi))


def _initial_boxes(axes):
    d = len(axes)
    boxes = _Boxes(np.array([[a.outer_lo for a in axes]]), np.array([[a.outer_hi for a in axes]]),
                   np.zeros((1, d), bool), np.zeros((1, d)), np.zeros((1, d)),
                   np.full((1, d), None, dtype=object))
    for i, a in enumerate(axes):
        if a.proof_lo == a.proof_hi:
            _fix(boxes, 0, i, "point", a.proof_lo)
    return boxes


def _fix(boxes, r, i, side, value):
    boxes.fixed[r, i] = True
    boxes.fix_lo[r, i], boxes.fix_hi[r, i] = _fraction_bounds(value)
    boxes.faces[r, i] = (side, value)


# --------------------------------------------------------------------------- result


@dataclass(frozen=True)
class IntervalProof:
    """The outcome of :func:`prove_nonnegative`.

    Attributes
    ----------
    status : {"holds", "refuted", "undecided"}
    counterexample : dict or None
        For ``"refuted"``: symbol → sympy Rational inside the ranges, where
        ``expr`` is verified negative exactly.
    certificate : dict or None
        For ``"holds"``: ``{"variables", "box", "leaf_count", "reasons",
        "leaves"}``; each leaf has its box (exact endpoints as strings, the
        leaves tile the float hull of the ranges), the ``reason`` it was
        settled (``"enclosure"`` with its ``lower`` bound, ``"point"`` with the
        exact value, ``"convex"`` with the supporting point, value, gradient and
        bound, or ``"monotone"`` with its ``faces`` and the reason ``then``
        applied to the face).
    boxes : int
        Boxes enclosed.
    seconds : float
    detail : str
        One line: what was done, or why the answer is undecided.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> proof = prove_nonnegative(x**2 - x + 1, {x: sympy.Interval(-1, 1)})
    >>> proof.status, bool(proof), proof.certificate["leaf_count"] >= 1
    ('holds', True, True)
    """

    status: str
    counterexample: Optional[dict]
    certificate: Optional[dict]
    boxes: int
    seconds: float
    detail: str = field(default="")

    def __bool__(self):
        return self.status == HOLDS


# --------------------------------------------------------------------------- branch and bound


class _Search:
    """The state of one branch and bound run."""

    def __init__(self, expr, axes, *, max_boxes, time_limit, start):
        self.axes, self.d = axes, len(axes)
        self.symbols = tuple(a.item.symbol for a in axes)
        self.function = _Function(expr, self.symbols)
        self.exact = _Exact([expr] + list(self.function.gradient or ()), self.symbols)
        self.numeric = numeric(expr, self.symbols)  # float f and gradient (lambdify)
        self.max_boxes, self.time_limit, self.start = max_boxes, time_limit, start
        widths = np.array([a.outer_hi - a.outer_lo for a in axes])
        self.widths = np.where(widths > 0, widths, 1.0)
        self.pending = _initial_boxes(axes)
        self.leaves, self.stuck, self.boxes = [], 0, 0
        self.lowest = math.inf
        self.counterexample, self.how = None, ""

    # ----------------------------------------------------------------- driver

    def run(self):
        while len(self.pending) and self.counterexample is None:
            reason = self._out_of_budget()
            if reason:
                return self._undecided(reason)
            self._round(self._next_batch())
        if self.counterexample is not None:
            return self._result(REFUTED, self.counterexample, None, self.how)
        if self.stuck:
            return self._undecided(
                f"{self.stuck} boxes could be neither settled nor split further (float resolution "
                "reached: a zero at an irrational point, a non-smooth zero, or expr undefined)")
        certificate = self._certificate()
        reasons = ", ".join(f"{n} {r}" for r, n in certificate["reasons"].items())
        return self._result(HOLDS, None, certificate,
                            f"proved on {certificate['leaf_count']} leaf boxes ({reasons})")

    def _elapsed(self):
        return time.perf_counter() - self.start

    def _out_of_budget(self):
        if self.boxes >= self.max_boxes:
            return f"box budget of {self.max_boxes} exhausted"
        if self._elapsed() > self.time_limit:
            return f"time limit of {self.time_limit:g} s reached"
        return ""

    def _next_batch(self):
        n = min(_CHUNK, len(self.pending), self.max_boxes - self.boxes)
        batch = self.pending.take(slice(0, n))
        self.pending = self.pending.take(slice(n, None))
        self.boxes += n
        return batch

    def _result(self, status, counterexample, certificate, what):
        seconds = self._elapsed()
        detail = f"{what}; {self.boxes} boxes enclosed in {seconds:.2f} s"
        return IntervalProof(status, counterexample, certificate, self.boxes, seconds, detail)

    def _undecided(self, reason):
        remaining = len(self.pending) + self.stuck
        what = (f"undecided: {reason}; {remaining} boxes remain unsettled, smallest lower bound "
                f"{self.lowest:.3g} in the last round")
        return self._result(UNDECIDED, None, None, what)

    # ----------------------------------------------------------------- one round

    def _round(self, batch):
        lo, hi, gradient = self.function.enclose(*batch.effective())
        done = lo >= 0
        if done.any():
            self.leaves.append((batch.take(done), "enclosure", [repr(float(v)) for v in lo[done]]))
        keep = ~done
        batch, lo = batch.take(keep), lo[keep]
        gradient = None if gradient is None else [(g[0][keep], g[1][keep]) for g in gradient]
        if not len(batch):
            return
        self.lowest = float(lo.min())
        middle = self._midpoint_values(batch)
        if self._refute_midpoints(batch, middle):
            return
        changed = self._monotone(batch, lo, hi[keep], gradient)
        points = batch.fixed.all(axis=1)
        self._points(batch.take(points))
        same = ~changed & ~points
        rest = self._convex(batch.take(same), lo[same], middle[same],
                            None if gradient is None else [(a[same], b[same]) for a, b in gradient])
        if self.counterexample is None:
            self.pending = _Boxes.concat([self.pending, batch.take(changed & ~points), rest])

    # ----------------------------------------------------------------- refutation

    def _sample_item(self, axis, lo, hi):
        """The part of the actual range (open ends respected) inside the float cover ``[lo, hi]``."""
        item = axis.item
        low, open_low, high, open_high = item.low, item.open_low, item.high, item.open_high
        if (compare(Fraction(lo), low) or 0) > 0:
            low, open_low = sympy.Rational(Fraction(lo)), False
        if (compare(Fraction(hi), high) or 0) < 0:
            high, open_high = sympy.Rational(Fraction(hi)), False
        return Range(item.symbol, None, low, high, open_low, open_high)

    def _refute_near(self, batch, r, x):
        """A verified counterexample near the float point ``x`` inside box ``r``, or None."""
        items = [self._sample_item(a, batch.lo[r, i], batch.hi[r, i]) for i, a in enumerate(self.axes)]
        for point in candidate_points(items, x):
            values = tuple(Fraction(int(v.p), int(v.q)) for v in point.values())
            if _exact_sign(self.exact.value(values)) == -1 and verify_negative(self.function.expr, point):
                return point
        return None

    def _midpoint_values(self, batch):
        """Float values of ``f`` at the box centres (+inf where undefined)."""
        lows, highs = batch.effective()
        return evaluate(self.numeric[0], np.clip(0.5 * lows + 0.5 * highs, lows, highs))

    def _refute_midpoints(self, batch, values):
        """Look for a verified counterexample near the most negative midpoints."""
        lows, highs = batch.effective()
        centre = np.clip(0.5 * lows + 0.5 * highs, lows, highs)
        for r in np.argsort(values)[:3]:
            if values[r] >= 0:
                break
            point = self._refute_near(batch, r, centre[r])
            if point is not None:
                self._refuted(point, "a rationalized midpoint")
                return True
        return False

    def _refuted(self, point, where):
        value = exact_value(self.function.expr, point)
        self.counterexample, self.how = point, f"refuted: expr = {value} < 0 at {where}"

    # ----------------------------------------------------------------- monotonicity

    def _monotone(self, batch, lo, hi, gradient):
        """Replace boxes where ``f`` is monotone in a free variable by the relevant face (in place)."""
        changed = np.zeros(len(batch), bool)
        if gradient is None:
            return changed
        glo = np.stack([g[0] for g in gradient], axis=1)
        ghi = np.stack([g[1] for g in gradient], axis=1)
        ok = (np.isfinite(lo) & np.isfinite(hi))[:, None] & ~batch.fixed
        rising = ok & (glo >= 0)
        falling = ok & (ghi <= 0) & ~rising
        for r, i in np.argwhere(rising | falling):
            if rising[r, i]:
                value = max(Fraction(float(batch.lo[r, i])), self.axes[i].proof_lo)
                _fix(batch, r, i, "low", value)
            else:
                value = min(Fraction(float(batch.hi[r, i])), self.axes[i].proof_hi)
                _fix(batch, r, i, "high", value)
            changed[r] = True
        return changed

    def _points(self, batch):
        """Decide boxes whose every variable is fixed, by exact evaluation."""
        for r in range(len(batch)):
            point = tuple(batch.faces[r, i][1] for i in range(self.d))
            value = self.exact.value(point)
            sign = _exact_sign(value)
            if sign is not None and sign >= 0:
                self.leaves.append((batch.take([r]), "point", [str(value)]))
                continue
            found = None if sign is None else self._refute_near(batch, r, np.array([float(v) for v in point]))
            if found is not None:
                self._refuted(found, "a point next to a monotone face")
                return
            self.stuck += 1

    # ----------------------------------------------------------------- convexity

    def _convex(self, batch, lo, middle, gradient):
        """Settle small boxes on which ``f`` is provably convex; returns the others, split.

        Tried first where ``f`` at the centre is smallest (a box around a zero
        of ``f``), at most ``_CONVEX_PER_ROUND`` Hessian-PSD boxes per round.
        """
        if gradient is None or self.d > _MAX_HESSIAN_DIM or not len(batch) or self.function.hessian is None:
            return self._split(batch, gradient)
        relative = np.where(batch.fixed, 0.0, (batch.hi - batch.lo) / self.widths).max(axis=1)
        chosen = np.flatnonzero((relative <= _LOCAL_WIDTH) & np.isfinite(lo))
        chosen = chosen[np.argsort(middle[chosen], kind="stable")][:4 * _CONVEX_PER_ROUND]
        settled = np.zeros(len(batch), bool)
        if len(chosen):
            hlo, hhi = self.function.hessian_enclosure(*batch.take(chosen).effective())
            tests = [_psd_test(hlo[t], hhi[t], ~batch.fixed[r]) for t, r in enumerate(chosen)]
            tried = [(r, test) for r, test in zip(chosen, tests) if test is not None]
            for r, test in tried[:_CONVEX_PER_ROUND]:
                if self.counterexample is not None or self._elapsed() > self.time_limit:
                    break
                record = self._convex_box(batch, r, test)
                if record is not None:
                    settled[r] = True
                    self.leaves.append((batch.take([r]), "convex", [record]))
        keep = ~settled
        return self._split(batch.take(keep), [(a[keep], b[keep]) for a, b in gradient])

    def _proof_box(self, batch, r):
        """Exact bounds per variable of box ``r`` ∩ the proved ranges (a face value where fixed)."""
        lows, highs = [], []
        for i, a in enumerate(self.axes):
            if batch.fixed[r, i]:
                value = batch.faces[r, i][1]
                lows.append(value)
                highs.append(value)
            else:
                lows.append(max(Fraction(float(batch.lo[r, i])), a.proof_lo))
                highs.append(min(Fraction(float(batch.hi[r, i])), a.proof_hi))
        return lows, highs

    def _minimizer(self, batch, r):
        """A numerical minimizer of ``f`` over box ``r`` (fixed variables at their face values)."""
        from scipy.optimize import minimize

        lows, highs = batch.effective()
        free = np.flatnonzero(~batch.fixed[r])
        base = np.clip(0.5 * lows[r] + 0.5 * highs[r], lows[r], highs[r])
        f, gradient = self.numeric

        def full(z):
            x = base.copy()
            x[free] = z
            return x

        def fun(z):
            with np.errstate(all="ignore"):
                value = float(f(*full(z)))
            return value if math.isfinite(value) else 1e300

        def jac(z):
            with np.errstate(all="ignore"):
                g = np.asarray(gradient(*full(z)), dtype=float)[free]
            return np.where(np.isfinite(g), g, 0.0)

        try:
            result = minimize(fun, base[free], jac=jac, method="L-BFGS-B",
                              bounds=list(zip(lows[r][free], highs[r][free])),
                              options={"maxiter": 100, "ftol": 1e-15, "gtol": 1e-12})
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
            return base
        return full(result.x)

    def _convex_box(self, batch, r, test):
        """The convexity argument on box ``r``: a certificate record, or None."""
        lows, highs = self._proof_box(batch, r)
        free = [i for i in range(self.d) if not batch.fixed[r, i]]
        for point in _convex_candidates(self._minimizer(batch, r), lows, highs, free):
            value = self.exact.value(point)
            sign = _exact_sign(value)
            if sign == -1:
                self._refute_at(point)
                return None
            bound = self._supporting_bound(point, value, lows, highs, free)
            sign = _exact_sign(bound)
            if sign is not None and sign >= 0:
                return {"hessian": test, "point": [str(v) for v in point], "value": str(value),
                        "lower": str(bound)}
        return None

    def _supporting_bound(self, point, value, lows, highs, free):
        """``min_box f(x̂) + ∇f(x̂)·(x − x̂)`` exactly, or None when a sign is undecidable."""
        if value is None:
            return None
        number = self.exact.number
        bound = value
        for i in free:
            g = self.exact.value(point, 1 + i)
            sign = _exact_sign(g)
            if sign is None:
                return None
            end = lows[i] if sign >= 0 else highs[i]
            bound = bound + g * number(end - point[i])
        return bound

    def _refute_at(self, point):
        items = [a.item for a in self.axes]
        contained = all(_range_contains(item, q) for item, q in zip(items, point))
        candidate = {a.item.symbol: sympy.Rational(q.numerator, q.denominator)
                     for a, q in zip(self.axes, point)}
        if contained and verify_negative(self.function.expr, candidate):
            self._refuted(candidate, "a rationalized local minimizer of a convex box")

    # ----------------------------------------------------------------- splitting

    def _split(self, batch, gradient):
        """Bisect each box along its most influential free variable; unsplittable boxes are stuck."""
        if not len(batch):
            return None
        lo, hi = batch.lo, batch.hi
        mid = np.clip(0.5 * lo + 0.5 * hi, lo, hi)
        splittable = ~batch.fixed & (lo < mid) & (mid < hi)
        score = (hi - lo) / self.widths
        if gradient is not None:
            magnitude = np.stack([np.maximum(np.abs(a), np.abs(b)) for a, b in gradient], axis=1)
            weighted = magnitude * (hi - lo)
            usable = (np.isfinite(weighted).all(axis=1) & (weighted.max(axis=1) > 0))[:, None]
            score = np.where(usable, weighted, score)
        score = np.where(splittable, score, -1.0)
        rows = np.arange(len(batch))
        dim = np.argmax(score, axis=1)
        ok = splittable[rows, dim]
        self.stuck += int((~ok).sum())
        batch, dim, mid = batch.take(ok), dim[ok], mid[ok]
        rows = np.arange(len(batch))
        left, right = batch.copy(), batch.copy()
        left.hi[rows, dim] = mid[rows, dim]
        right.lo[rows, dim] = mid[rows, dim]
        return _Boxes.concat([left, right])

    # ----------------------------------------------------------------- certificate

    def _certificate(self):
        leaves = [self._leaf(boxes, r, reason, data[r])
                  for boxes, reason, data in self.leaves for r in range(len(boxes))]
        return {
            "variables": [str(s) for s in self.symbols],
            "box": [[_fraction_str(a.outer_lo), _fraction_str(a.outer_hi)] for a in self.axes],
            "leaf_count": len(leaves),
            "reasons": dict(Counter(leaf["reason"] for leaf in leaves)),
            "leaves": leaves,
        }

    def _leaf(self, boxes, r, reason, data):
        leaf = {"box": [[_fraction_str(boxes.lo[r, i]), _fraction_str(boxes.hi[r, i])]
                        for i in range(self.d)]}
        faces = [{"variable": str(self.symbols[i]), "face": face[0], "value": str(face[1])}
                 for i, face in enumerate(boxes.faces[r]) if face is not None and face[0] != "point"]
        if faces:
            leaf.update(reason="monotone", faces=faces, then=reason)
        else:
            leaf["reason"] = reason
        if reason == "convex":
            leaf.update(data)
        else:
            leaf["lower"] = data
        return leaf


def _range_contains(item, q):
    """Whether the Fraction ``q`` lies in the actual range (open ends respected)."""
    return inside(q, item.low, item.high, item.open_low, item.open_high)


def _psd_test(lo, hi, free):
    """How the Hessian enclosure ``[lo, hi]`` restricted to ``free`` is proved PSD, or None."""
    idx = np.flatnonzero(free)
    sub_lo, sub_hi = lo[np.ix_(idx, idx)], hi[np.ix_(idx, idx)]
    if not (np.isfinite(sub_lo).all() and np.isfinite(sub_hi).all()):
        return None
    diagonal = np.diag(sub_lo)
    if (diagonal < 0).any():
        return None
    if len(idx) == 1:
        return "second derivative >= 0"
    magnitude = np.maximum(np.abs(sub_lo), np.abs(sub_hi))
    if len(idx) == 2:
        if _product(diagonal[0], diagonal[1])[0] >= _product(magnitude[0, 1], magnitude[0, 1])[1]:
            return "2x2 determinant"
        return None
    for i in range(len(idx)):
        total = np.float64(0.0)
        for j in range(len(idx)):
            if j != i:
                total = _sum(total, magnitude[i, j])[1]
        if diagonal[i] < total:
            return None
    return "diagonal dominance"


def _convex_candidates(x, lows, highs, free):
    """Rational points near the float point ``x`` in the exact box, simplest first."""
    seen = set()
    for limit in _CONVEX_DENOMINATORS + (None,):
        point = tuple(_rational_near(x[i], lows[i], highs[i], limit) if i in free else lows[i]
                      for i in range(len(x)))
        if point not in seen:
            seen.add(point)
            yield point


def _rational_near(value, low, high, limit):
    """A rational near ``value`` inside ``[low, high]``: a bound when very close, else limit_denominator."""
    width = high - low
    exact = Fraction(float(value))
    if abs(exact - low) <= width * Fraction(1, 10 ** 9):
        return low
    if abs(exact - high) <= width * Fraction(1, 10 ** 9):
        return high
    q = exact if limit is None else exact.limit_denominator(limit)
    return min(max(q, low), high)


# --------------------------------------------------------------------------- entry point


def _check_budget(max_boxes, time_limit):
    if isinstance(max_boxes, bool) or not isinstance(max_boxes, Integral) or max_boxes < 1:
        raise InvalidInputError(f"max_boxes must be a positive integer; got {max_boxes!r}")
    if isinstance(time_limit, bool) or not isinstance(time_limit, Real) or not time_limit > 0:
        raise InvalidInputError(f"time_limit must be a positive number of seconds; got {time_limit!r}")


def _prove_constant(expr, start):
    sign = _exact_sign(expr)
    seconds = time.perf_counter() - start
    if sign is not None and sign >= 0:
        certificate = {"variables": [], "box": [], "leaf_count": 1, "reasons": {"point": 1},
                       "leaves": [{"box": [], "reason": "point", "lower": str(expr)}]}
        return IntervalProof(HOLDS, None, certificate, 0, seconds, f"the number {expr} is >= 0")
    if sign == -1:
        return IntervalProof(REFUTED, {}, None, 0, seconds, f"the number {expr} is negative")
    return IntervalProof(UNDECIDED, None, None, 0, seconds, f"the sign of {expr} could not be decided")


def prove_nonnegative(expr, ranges, *, max_boxes=20000, time_limit=30.0):
    """Prove or refute ``expr ≥ 0`` on a bounded box by rigorous interval branch and bound.

    Parameters
    ----------
    expr : sympy.Expr
        A real expression supported by :func:`interval_enclosure`.
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)
        A bounded range for every free symbol of ``expr``. Open ends are
        proved on the closure (a stronger statement); a counterexample always
        lies in the actual range.
    max_boxes : int, optional
        Budget of box enclosures.
    time_limit : float, optional
        Budget in seconds (checked between rounds and local arguments).

    Returns
    -------
    IntervalProof
        ``"holds"`` with a certificate whose leaf boxes tile the box,
        ``"refuted"`` with an exact rational counterexample, or
        ``"undecided"`` with what remained when the budget ran out.

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a real expression or holds an unsupported function,
        a variable has no range, a range is unbounded, empty or malformed, or
        a budget is not positive.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> box = {x: sympy.Interval(-1, 1), y: sympy.Interval(-1, 1)}
    >>> prove_nonnegative(x**4 + y**4 - x * y + sympy.Rational(1, 5), box).status
    'holds'
    >>> proof = prove_nonnegative(x**2 + y**2 - sympy.Rational(1, 2), box)
    >>> proof.status, proof.counterexample
    ('refuted', {x: 0, y: 0})
    >>> prove_nonnegative(x * y, {x: sympy.Interval(0, 1), y: sympy.Interval(0, 1)}).status
    'holds'
    """
    start = time.perf_counter()
    _check_budget(max_boxes, time_limit)
    expr = check_expression(expr)
    box = check_bounded(check_box(expr, ranges), "interval branch and bound")
    axes = [_axis(Range.from_set(x, interval)) for x, interval in box.items()]
    if not axes:
        return _prove_constant(expr, start)
    search = _Search(expr, axes, max_boxes=max_boxes, time_limit=float(time_limit), start=start)
    return search.run()


# --------------------------------------------------------------------------- independent re-enclosure
#
# The verifier re-encloses with mpmath's interval arithmetic (``mpmath.iv``,
# outward rounding at _VERIFY_PREC bits); nothing below shares code with the
# float enclosures above.

#: Working precision (bits) of the mpmath.iv re-enclosures.
_VERIFY_PREC = 80
#: Bisections of a leaf before its re-enclosure gives up.
_VERIFY_PIECES = 64


class _Unverified(Exception):
    """A part of a certificate that cannot be read or does not check out."""


@contextlib.contextmanager
def _iv_precision(bits):
    saved = iv.prec
    iv.prec = bits
    try:
        yield
    finally:
        iv.prec = saved


def _iv_entire():
    return iv.mpf([-mpmath.inf, mpmath.inf])


def _iv_ends(X):
    """The exact endpoints of an ``iv.mpf`` as mpmath ``mpf`` numbers."""
    low, high = X._mpi_
    return mpmath.mp.make_mpf(low), mpmath.mp.make_mpf(high)


def _iv_fraction(q):
    """An ``iv.mpf`` enclosing the Fraction ``q``."""
    return _iv_quotient(q.numerator, q.denominator, iv.prec)


@functools.lru_cache(maxsize=4096)
def _iv_quotient(p, q, prec):
    return iv.mpf(p) / q


def _iv_interval(low, high):
    """An ``iv.mpf`` enclosing the exact interval ``[low, high]`` (Fractions)."""
    return iv.mpf([_iv_fraction(low).a, _iv_fraction(high).b])


def _iv_to_fraction(end):
    """The exact rational value of a finite ``mpf`` endpoint."""
    if not mpmath.isfinite(end):
        raise _Unverified(f"the endpoint {end} is not finite")
    p, q = to_rational(end._mpf_)
    return Fraction(p, q)


def _iv_eval(node, env, memo):
    """The ``iv.mpf`` enclosure of a sympy node on the boxes of ``env`` (symbol → iv.mpf)."""
    found = memo.get(node)
    if found is None:
        found = _iv_dispatch(node, env, memo)
        if any(mpmath.isnan(end) for end in _iv_ends(found)):
            found = _iv_entire()
        memo[node] = found
    return found


def _iv_args(node, env, memo):
    return [_iv_eval(arg, env, memo) for arg in node.args]


def _iv_dispatch(node, env, memo):
    if node.is_Symbol:
        return env[node]
    if node.is_Rational or node.is_Float:
        q = sympy.Rational(node)
        return _iv_fraction(Fraction(int(q.p), int(q.q)))
    for kind, handler in _IV_HANDLERS:
        if isinstance(node, kind):
            return handler(node, env, memo)
    raise _Unverified(f"no interval rule for {type(node).__name__}")


def _iv_divide(a, b):
    return _iv_entire() if b.a <= 0 <= b.b else a / b


def _iv_int_power(X, n):
    return X ** n if n >= 0 else _iv_divide(iv.mpf(1), X ** -n)


def _iv_pow(node, env, memo):
    base, exponent = node.args
    if exponent.is_Float:
        exponent = sympy.Rational(exponent)
    if exponent.is_Integer:
        return _iv_int_power(_iv_eval(base, env, memo), int(exponent))
    if not exponent.is_Rational:
        return _iv_eval(sympy.exp(exponent * sympy.log(base)), env, memo)
    X = _iv_eval(base, env, memo)
    if not X.a >= 0:
        return _iv_entire()
    if exponent.q == 2:
        return _iv_int_power(iv.sqrt(X), int(exponent.p))
    return X ** _iv_fraction(Fraction(int(exponent.p), int(exponent.q)))


def _iv_log(node, env, memo):
    (X,) = _iv_args(node, env, memo)
    return iv.log(X) if X.a >= 0 and X.b > 0 else _iv_entire()


def _iv_monotone(point, at_minus_inf, at_plus_inf, *, even=False):
    """A handler for a function increasing on the reals, from its values at the endpoints.

    ``point`` maps a one-point ``iv.mpf`` to an ``iv.mpf`` enclosing the value
    there; an ``even`` function is increasing on ``[0, ∞)`` and evaluated at ``|x|``.
    """
    def handler(node, env, memo):
        (X,) = _iv_args(node, env, memo)
        low, high = _iv_ends(abs(X) if even else X)
        lower = at_minus_inf if low == -mpmath.inf else point(iv.mpf(low)).a
        upper = at_plus_inf if high == mpmath.inf else point(iv.mpf(high)).b
        return iv.mpf([lower, upper])
    return handler


def _iv_tanh(t):
    return 1 - 2 / (iv.exp(2 * t) + 1)


def _iv_asinh(t):
    size = abs(t)
    value = iv.log(size + iv.sqrt(size * size + 1))
    return value if t.a >= 0 else -value


def _iv_erf(t):
    """``erf`` at a point by python-flint ``arb`` (``mpmath.iv.erf`` does not converge)."""
    p, q = to_rational(_iv_ends(t)[0]._mpf_)
    with ctx.workprec(_VERIFY_PREC):
        ball = (arb(p) / q).erf()
    return iv.mpf([_arb_exact_mpf(ball.lower()), _arb_exact_mpf(ball.upper())])


def _arb_exact_mpf(exact):
    """An exact arb number (a ball of radius 0) as an mpmath ``mpf``."""
    man, exp = exact.man_exp()
    return mpmath.mp.make_mpf(from_man_exp(int(man), int(exp)))


def _iv_abs(node, env, memo):
    return abs(*_iv_args(node, env, memo))


def _iv_fold(function):
    """A handler for Min or Max: ``function`` of the lower and of the upper endpoints."""
    def handler(node, env, memo):
        ends = [_iv_ends(X) for X in _iv_args(node, env, memo)]
        return iv.mpf([function(e[0] for e in ends), function(e[1] for e in ends)])
    return handler


def _iv_rounding(function):
    def handler(node, env, memo):
        low, high = _iv_ends(*_iv_args(node, env, memo))
        return iv.mpf([function(low), function(high)])
    return handler


_IV_CONSTANTS = {sympy.pi: "pi", sympy.E: "e", sympy.EulerGamma: "euler",
                 sympy.Catalan: "catalan", sympy.GoldenRatio: "phi"}


def _iv_constant(node, env, memo):
    return iv.mpf(getattr(iv, _IV_CONSTANTS[node]))


def _iv_reduce(function):
    def handler(node, env, memo):
        return functools.reduce(function, _iv_args(node, env, memo))
    return handler


def _iv_unary(function):
    def handler(node, env, memo):
        return function(*_iv_args(node, env, memo))
    return handler


_IV_HANDLERS = (
    (sympy.Add, _iv_reduce(operator.add)),
    (sympy.Mul, _iv_reduce(operator.mul)),
    (sympy.Pow, _iv_pow),
    (sympy.NumberSymbol, _iv_constant),
    (sympy.exp, _iv_unary(iv.exp)),
    (sympy.log, _iv_log),
    (sympy.sin, _iv_unary(iv.sin)),
    (sympy.cos, _iv_unary(iv.cos)),
    (sympy.atan, _iv_monotone(lambda t: iv.atan2(t, iv.mpf(1)), -2, 2)),
    (sympy.tanh, _iv_monotone(_iv_tanh, -1, 1)),
    (sympy.sinh, _iv_monotone(lambda t: (iv.exp(t) - iv.exp(-t)) / 2, -mpmath.inf, mpmath.inf)),
    (sympy.asinh, _iv_monotone(_iv_asinh, -mpmath.inf, mpmath.inf)),
    (sympy.erf, _iv_monotone(_iv_erf, -1, 1)),
    (sympy.cosh, _iv_monotone(lambda t: (iv.exp(t) + iv.exp(-t)) / 2, 1, mpmath.inf, even=True)),
    (sympy.Abs, _iv_abs),
    (sympy.Min, _iv_fold(min)),
    (sympy.Max, _iv_fold(max)),
    (sympy.floor, _iv_rounding(mpmath.floor)),
    (sympy.ceiling, _iv_rounding(mpmath.ceil)),
    (sympy.sign, _iv_rounding(mpmath.sign)),
)


# --------------------------------------------------------------------------- reading a certificate


def _read_fraction(text):
    """An exact rational from a certificate string (``"-3/4"``, ``"0.5"``)."""
    if not isinstance(text, str):
        raise _Unverified(f"expected a number as a string; got {text!r}")
    return Fraction(text)


def _read_float(text):
    """The exact value of a float written by ``repr`` (an enclosure's lower bound)."""
    if not isinstance(text, str):
        raise _Unverified(f"expected a float as a string; got {text!r}")
    return Fraction(float(text))


def _read_box(rows, d):
    """A box as ``[(low, high), …]`` of Fractions, ``low ≤ high``."""
    if not isinstance(rows, list) or len(rows) != d:
        raise _Unverified(f"a box needs {d} [low, high] pairs; got {rows!r}")
    box = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 2:
            raise _Unverified(f"a box side must be a [low, high] pair; got {row!r}")
        low, high = _read_fraction(row[0]), _read_fraction(row[1])
        if low > high:
            raise _Unverified(f"a box side is empty: {row!r}")
        box.append((low, high))
    return box


def _read_faces(faces, names):
    """Monotone faces as ``[(index, side, value), …]``, at most one per variable."""
    if not isinstance(faces, list) or not faces:
        raise _Unverified(f"a monotone leaf needs a list of faces; got {faces!r}")
    read = [(names.index(face["variable"]), face["face"], _read_fraction(face["value"])) for face in faces]
    if len({i for i, _, _ in read}) != len(read) or any(side not in ("low", "high") for _, side, _ in read):
        raise _Unverified(f"faces must be low or high, one per variable; got {faces!r}")
    return read


def _symbols_by_name(expr, names):
    """The symbols of the certificate's variables: those of ``expr`` where it has them."""
    if not (isinstance(names, list) and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)):
        raise _Unverified(f"variables must be distinct names; got {names!r}")
    own = {}
    for s in expr.free_symbols:
        if s.name not in names or s.name in own:
            raise _Unverified(f"the variable {s.name} of expr is missing or ambiguous")
        own[s.name] = s
    return tuple(own.get(n, sympy.Symbol(n)) for n in names)


def _check_summary(certificate):
    """``leaf_count`` and ``reasons`` agree with the leaves."""
    leaves = certificate["leaves"]
    if not isinstance(leaves, list) or not all(isinstance(leaf, dict) for leaf in leaves):
        raise _Unverified("leaves must be a list of dicts")
    if certificate["leaf_count"] != len(leaves):
        raise _Unverified("leaf_count differs from the number of leaves")
    if certificate["reasons"] != dict(Counter(leaf["reason"] for leaf in leaves)):
        raise _Unverified("reasons differ from the leaves' reasons")
    return leaves


# --------------------------------------------------------------------------- covering


def _volume(box, dims):
    volume = Fraction(1)
    for i in dims:
        volume *= box[i][1] - box[i][0]
    return volume


def _ranks(boxes, dims):
    """Integer arrays ``(lows, highs)``: each endpoint replaced by its exact rank along its axis."""
    lows, highs = np.zeros((len(boxes), len(dims)), int), np.zeros((len(boxes), len(dims)), int)
    for k, i in enumerate(dims):
        order = {v: r for r, v in enumerate(sorted({b[i][e] for b in boxes for e in (0, 1)}))}
        lows[:, k] = [order[b[i][0]] for b in boxes]
        highs[:, k] = [order[b[i][1]] for b in boxes]
    return lows, highs


def _interiors_disjoint(boxes, dims):
    """Whether no two full-dimensional boxes share an interior point (sort and sweep on the first axis)."""
    boxes = [b for b in boxes if all(b[i][0] < b[i][1] for i in dims)]
    if len(boxes) < 2 or not dims:
        return len(boxes) < 2
    lows, highs = _ranks(boxes, dims)
    order = np.argsort(lows[:, 0], kind="stable")
    lows, highs = lows[order], highs[order]
    for k in range(len(boxes)):
        end = np.searchsorted(lows[:, 0], highs[k, 0], side="left")
        others = slice(k + 1, end)
        if ((lows[others] < highs[k]) & (lows[k] < highs[others])).all(axis=1).any():
            return False
    return True


def _tiles(box, leaves):
    """Whether the leaf boxes lie in ``box``, their volumes add up to its volume and their
    interiors are disjoint (volumes over the axes where ``box`` has a positive width)."""
    if not all(lo <= a and b <= hi for leaf in leaves for (a, b), (lo, hi) in zip(leaf, box)):
        return False
    dims = [i for i, (lo, hi) in enumerate(box) if lo < hi]
    if sum(_volume(leaf, dims) for leaf in leaves) != _volume(box, dims):
        return False
    return _interiors_disjoint(leaves, dims)


def _outer_rational(end, side):
    """A rational at or below (``side < 0``) or above the real number ``end``."""
    if end.is_Rational:
        return Fraction(int(end.p), int(end.q))
    low, high = _iv_ends(_iv_eval(sympy.sympify(end), {}, {}))
    return _iv_to_fraction(low if side < 0 else high)


# --------------------------------------------------------------------------- exact numbers


def _exact_fraction(value):
    return Fraction(int(value.p), int(value.q))


def _number_sign(value):
    """The sign (-1, 0, 1) of an exact sympy number, or None when it cannot be decided."""
    if value.is_Rational:
        return int(value.p > 0) - int(value.p < 0)
    low, high = _iv_ends(_iv_eval(value, {}, {}))
    if low > 0:
        return 1
    if high < 0:
        return -1
    return 0 if value.is_zero is True else None


def _same_value(text, value):
    """Whether a recorded exact value is ``value`` (rationals compared exactly)."""
    if value.is_Rational:
        return _read_fraction(text) == _exact_fraction(value)
    return text == str(value)


# --------------------------------------------------------------------------- checking leaves


def _read_point(texts, region):
    """The exact point ``x̂`` of a convex leaf, or None when it lies outside ``region``."""
    if not isinstance(texts, list) or len(texts) != len(region):
        raise _Unverified(f"a point needs {len(region)} coordinates; got {texts!r}")
    point = [_read_fraction(q) for q in texts]
    return point if all(lo <= q <= hi for q, (lo, hi) in zip(point, region)) else None


def _bisect(region):
    """The two halves of ``region`` across its widest side; None for a point."""
    i = max(range(len(region)), key=lambda k: region[k][1] - region[k][0], default=None)
    if i is None or region[i][0] == region[i][1]:
        return None
    lo, hi = region[i]
    middle = (lo + hi) / 2
    return [region[:i] + [(lo, middle)] + region[i + 1:], region[:i] + [(middle, hi)] + region[i + 1:]]


class _Verifier:
    """Re-checks the leaves of a certificate for ``expr ≥ 0`` on ``target`` (exact sides)."""

    def __init__(self, expr, symbols, target):
        self.expr, self.symbols, self.target = expr, symbols, target
        self.names = [s.name for s in symbols]
        self.smooth = not expr.has(*_NONSMOOTH)
        self._derivatives = {}

    def derivative(self, *indices):
        """``∂_i … f`` (cached); only for smooth ``f``."""
        if not self.smooth:
            raise _Unverified("expr is not smooth: no derivative argument applies")
        if indices not in self._derivatives:
            self._derivatives[indices] = sympy.diff(self.expr, *(self.symbols[i] for i in indices))
        return self._derivatives[indices]

    def leaf(self, leaf, box):
        """Whether ``expr ≥ 0`` on the leaf box ∩ the target, by the leaf's reason."""
        region = [(max(a, lo), min(b, hi)) for (a, b), (lo, hi) in zip(box, self.target)]
        if any(lo > hi for lo, hi in region):
            return True  # the leaf lies outside the target
        if leaf["reason"] != "monotone":
            return self.settle(leaf["reason"], leaf, region)
        region = self.apply_faces(_read_faces(leaf["faces"], self.names), region)
        return region is not None and self.settle(leaf["then"], leaf, region)

    def apply_faces(self, faces, region):
        """``region`` reduced to the faces one at a time, each once its derivative check passes."""
        while faces:
            found = next(((face, reduced) for face in faces
                          for reduced in [self.face(region, face)] if reduced is not None), None)
            if found is None:
                return None
            faces.remove(found[0])
            region = found[1]
        return region

    def face(self, region, face):
        """``region`` with ``x_i`` at the face value when ``∂_i f`` has the needed sign; else None."""
        i, side, value = face
        lo, hi = region[i]
        if (side == "low" and value > lo) or (side == "high" and value < hi):
            return None
        swept = list(region)
        swept[i] = (value, hi) if side == "low" else (lo, value)
        slope = self.derivative(i) if side == "low" else -self.derivative(i)
        if not self.nonnegative(slope, swept):
            return None
        fixed = list(region)
        fixed[i] = (value, value)
        return fixed

    def settle(self, reason, leaf, region):
        checks = {"enclosure": self.enclosure, "point": self.point, "convex": self.convex}
        if reason not in checks:
            raise _Unverified(f"unknown reason {reason!r}")
        return checks[reason](leaf, region)

    # ----------------------------------------------------------------- enclosures

    def env(self, region):
        return {s: _iv_interval(lo, hi) for s, (lo, hi) in zip(self.symbols, region)}

    def lower_ok(self, expr, region, centred):
        """Whether the natural (or else the centred) ``iv`` enclosure of ``expr`` is ``≥ 0``."""
        env, memo = self.env(region), {}
        if _iv_eval(expr, env, memo).a >= 0:
            return True
        if not centred:
            return False
        centre = [(lo + hi) / 2 for lo, hi in region]
        total = _iv_eval(expr, self.env([(c, c) for c in centre]), {})
        for i, (lo, hi) in enumerate(region):
            if lo < hi:
                offset = _iv_interval(lo - centre[i], hi - centre[i])
                total = total + _iv_eval(self.derivative(i), env, memo) * offset
        return bool(total.a >= 0)

    def nonnegative(self, expr, region, *, centred=False):
        """Whether ``expr ≥ 0`` on ``region``, bisecting into at most ``_VERIFY_PIECES`` pieces."""
        pending, budget = [region], _VERIFY_PIECES
        while pending:
            piece = pending.pop()
            if self.lower_ok(expr, piece, centred):
                continue
            budget -= 1
            halves = _bisect(piece)
            if budget < 0 or halves is None:
                return False
            pending += halves
        return True

    def enclosure(self, leaf, region):
        """Recorded lower bound ``≥ 0`` and not above ``f`` at the centre; ``iv`` shows ``f ≥ 0``."""
        lower = _read_float(leaf["lower"])
        centre = [((lo + hi) / 2,) * 2 for lo, hi in region]
        at_centre = _iv_eval(self.expr, self.env(centre), {})
        if lower < 0 or not at_centre.b >= _iv_fraction(lower).a:
            return False
        return self.nonnegative(self.expr, region, centred=self.smooth)

    # ----------------------------------------------------------------- exact arguments

    def exact(self, expr, point):
        value = exact_value(expr, dict(zip(self.symbols, point)))
        if value is None:
            raise _Unverified(f"{expr} is undefined at {point}")
        return value

    def point(self, leaf, region):
        """A one-point region: the exact value is the recorded one and ``≥ 0``."""
        if any(lo != hi for lo, hi in region):
            return False
        value = self.exact(self.expr, [lo for lo, _ in region])
        sign = _number_sign(value)
        return _same_value(leaf["lower"], value) and sign is not None and sign >= 0

    def convex(self, leaf, region):
        """The Hessian test on ``region`` and the exact supporting-plane bound at ``x̂`` are ``≥ 0``."""
        point = _read_point(leaf["point"], region)
        if point is None:
            return False
        free = [i for i, (lo, hi) in enumerate(region) if lo < hi]
        if not self.psd(leaf["hessian"], region, free):
            return False
        value = self.exact(self.expr, point)
        if not _same_value(leaf["value"], value):
            return False
        bound = value
        for i in free:
            slope = self.exact(self.derivative(i), point)
            sign = _number_sign(slope)
            if sign is None:
                return False
            end = region[i][0] if sign >= 0 else region[i][1]
            bound += slope * sympy.Rational(end - point[i])
        sign = _number_sign(bound)
        return sign is not None and sign >= 0

    def psd(self, test, region, free):
        """The named test proves the Hessian (free variables) positive semidefinite on ``region``."""
        env, memo = self.env(region), {}
        H = {(i, j): _iv_eval(self.derivative(i, j), env, memo) for i in free for j in free if i <= j}
        diagonal = [H[i, i].a for i in free]
        if not free or not all(h >= 0 for h in diagonal):
            return False
        if test == "second derivative >= 0":
            return len(free) == 1
        magnitude = {key: abs(h).b for key, h in H.items() if key[0] != key[1]}
        if test == "2x2 determinant" and len(free) == 2:
            (m,) = magnitude.values()
            return bool((diagonal[0] * diagonal[1] - m * m).a >= 0)
        if test == "diagonal dominance":
            rows = [diagonal[k] - sum((magnitude[min(i, j), max(i, j)] for j in free if j != i), iv.mpf(0))
                    for k, i in enumerate(free)]
            return all(row.a >= 0 for row in rows)
        return False


# --------------------------------------------------------------------------- verification entry point

#: What a malformed or failing certificate may raise inside the verifier: all of it means False.
_UNREADABLE = (_Unverified, ArithmeticError, AttributeError, IndexError, KeyError, RecursionError,
               TypeError, ValueError, mpmath.libmp.NoConvergence)


def _target(box, symbols, ranges):
    """The closure of checked ``ranges`` as exact sides (outward where an end is irrational),
    the certificate's ``box`` on the other variables; None when ``box`` misses part of it."""
    target, names = list(box), [s.name for s in symbols]
    for symbol, interval in ranges.items():
        i = names.index(symbol.name)
        side = (_outer_rational(interval.inf, -1), _outer_rational(interval.sup, 1))
        if not (box[i][0] <= side[0] and side[1] <= box[i][1]):
            return None
        target[i] = side
    return target


def _verify(expr, certificate, ranges):
    symbols = _symbols_by_name(expr, certificate["variables"])
    box = _read_box(certificate["box"], len(symbols))
    leaves = _check_summary(certificate)
    boxes = [_read_box(leaf["box"], len(symbols)) for leaf in leaves]
    target = box if ranges is None else _target(box, symbols, ranges)
    if target is None or not _tiles(box, boxes):
        return False
    verifier = _Verifier(expr, symbols, target)
    return all(verifier.leaf(leaf, leaf_box) for leaf, leaf_box in zip(leaves, boxes))


def verify_interval_certificate(expr, certificate, *, ranges=None):
    """Re-check an interval certificate of ``expr ≥ 0`` from the certificate alone.

    Nothing of the branch and bound is reused: enclosures are recomputed with
    ``mpmath.iv`` (outward rounding at 80 bits; the natural interval extension,
    else the mean-value form, with up to 64 bisections of a leaf where both
    are too wide), and every other step is exact arithmetic with Fractions and
    sympy Rationals. Each leaf is checked on its box ∩ the target (the
    closure of ``ranges``, or the certificate's box).

    Parameters
    ----------
    expr : sympy.Expr or number
        The expression the certificate should prove non-negative.
    certificate : dict
        ``IntervalProof.certificate`` of :func:`prove_nonnegative` (or the same
        dict read back from JSON).
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high), optional
        The box to prove. The certificate's box must contain its closure, and
        each leaf is checked on its intersection with it. Without ``ranges``
        the whole certificate box is the target; a certificate of ranges whose
        ends are not floats (``1/3``, ``sqrt(2)``, a one-point range
        ``[1/3, 1/3]``) proves only those ranges, not the float hull recorded
        as its box, so give them to verify it.

    Returns
    -------
    bool
        True exactly when every check below passes; False when one fails or
        part of the certificate cannot be read (never raises for that).

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a real expression, ``certificate`` is not a dict,
        or a range is malformed.
    InvalidTypeError
        If ``ranges`` is not a mapping.

    Notes
    -----
    What is checked, with leaf boxes, faces and points read as exact Fractions:

    * *Summary*: ``variables`` are distinct names holding every variable of
      ``expr``, ``leaf_count`` and ``reasons`` agree with ``leaves``.
    * *Covering*: every leaf box lies in the certificate's box, their volumes
      (over the axes where the box has a positive width) add up to the box's
      volume, and no two full-dimensional leaves share an interior point
      (endpoints ranked exactly per axis, then a sort and sweep along the
      first axis). Closed boxes with disjoint interiors and the full volume
      cover the box. With ``ranges``, the box contains their closure.
    * ``"enclosure"``: the recorded lower bound (a float) is ``≥ 0`` and not
      above ``expr`` at the leaf's centre, and ``mpmath.iv`` shows ``expr ≥ 0``
      on the leaf.
    * ``"point"``: every side of the leaf (after its faces) is one point; the
      exact value there equals the recorded one and is ``≥ 0`` (exactly for
      rationals, by ``mpmath.iv`` otherwise).
    * ``"monotone"``: one face at a time, ``mpmath.iv`` shows ``∂_i expr ≥ 0``
      (face ``"low"``, whose value must be at or below the leaf's side) or
      ``≤ 0`` (``"high"``) on the leaf with ``x_i`` swept from the face; the
      leaf shrinks to the face and the ``then`` reason is checked there.
    * ``"convex"``: ``x̂`` lies in the leaf, the named Hessian test
      (``"second derivative >= 0"``, ``"2x2 determinant"``, ``"diagonal
      dominance"``) holds on ``mpmath.iv`` enclosures of the second
      derivatives over the leaf, the recorded ``f(x̂)`` is the exact value, and
      the supporting plane ``f(x̂) + ∇f(x̂)·(x − x̂)``, minimized exactly over
      the leaf, is ``≥ 0``.

    Examples
    --------
    >>> import copy
    >>> x, y = sympy.symbols("x y")
    >>> quartic = x**4 + y**4 - x * y + sympy.Rational(1, 5)
    >>> box = {x: sympy.Interval(-1, 1), y: sympy.Interval(-1, 1)}
    >>> certificate = prove_nonnegative(quartic, box).certificate
    >>> verify_interval_certificate(quartic, certificate, ranges=box)
    True
    >>> verify_interval_certificate(quartic - sympy.Rational(1, 10), certificate)
    False
    >>> tampered = copy.deepcopy(certificate)
    >>> leaf = next(leaf for leaf in tampered["leaves"] if leaf["reason"] == "enclosure")
    >>> leaf["lower"] = "-0.5"
    >>> verify_interval_certificate(quartic, tampered)
    False
    >>> tampered = copy.deepcopy(certificate)
    >>> tampered["leaves"][0]["box"][0][1] = "1/4"  # a leaf shrunk: a gap in the covering
    >>> verify_interval_certificate(quartic, tampered)
    False
    """
    expr = check_expression(expr)
    if not isinstance(certificate, dict):
        raise InvalidInputError(
            f"certificate must be the dict of IntervalProof.certificate; got {type(certificate).__name__}")
    ranges = None if ranges is None else check_box(expr, ranges)
    try:
        with _iv_precision(_VERIFY_PREC):
            return bool(_verify(expr, certificate, ranges))
    except _UNREADABLE:
        return False
