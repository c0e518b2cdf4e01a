r"""Exact points of a box, shared by the counterexample search and interval branch and bound.

A float point found by a numerical method proves nothing about the sign of
``expr`` there. The helpers below turn it into **rational** points inside the
variable ranges (open ends respected) and decide the sign of ``expr`` at such
a point rigorously:

* a rational value is compared with ``0`` exactly;
* any other value (``exp(1/3) - 2``) is evaluated by sympy to 60 significant
  digits with ``strict=True``, which raises instead of returning digits it
  cannot vouch for, so the sign of a non-zero result is the sign of the value.

The ranges come checked from :func:`dagtheory._validation.check_box`;
:class:`Range` is one of them in the form the searches read (ends, open
flags). Float evaluation (:func:`numeric`, :func:`evaluate`) is only ever a
hint about where to look.

:func:`verify_negative` and :func:`rationalize` are public through
:mod:`dagtheory.counterexamples`.
"""

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy

__all__ = [
    "Range",
    "candidate_points",
    "compare",
    "evaluate",
    "exact_value",
    "inside",
    "numeric",
    "rationalize",
    "verify_negative",
]

#: Denominator limits tried, simplest first, when a float is turned into a rational.
_DENOMINATORS = tuple(10 ** k for k in range(13))
#: Significant digits of the high-precision sign check of a transcendental value.
_DIGITS = 60


@dataclass(frozen=True)
class Range:
    """One checked variable range: sympy ends (possibly infinite) and whether they are open."""

    symbol: sympy.Symbol
    interval: sympy.Set
    low: sympy.Expr
    high: sympy.Expr
    open_low: bool
    open_high: bool

    @classmethod
    def from_set(cls, symbol, interval):
        """The record of a range checked by ``check_box`` (an Interval or a one-point FiniteSet)."""
        if isinstance(interval, sympy.FiniteSet):
            (point,) = interval.args
            return cls(symbol, interval, point, point, False, False)
        return cls(symbol, interval, interval.start, interval.end, bool(interval.left_open),
                   bool(interval.right_open))

    @property
    def bounded(self):
        """Whether both ends are finite."""
        return bool(self.low.is_finite and self.high.is_finite)


# --------------------------------------------------------------------------- exact comparisons


def _as_fraction(value):
    """A Fraction from an int, Fraction, float or sympy number (None for ±oo)."""
    if isinstance(value, sympy.Basic):
        if value.is_infinite:
            return None
        if value.is_Rational:
            return Fraction(int(value.p), int(value.q))
        return Fraction(float(value))
    return Fraction(value)


def compare(q, end):
    """Sign of ``q - end`` for a Fraction ``q`` and a finite sympy number ``end``; None if unknown."""
    if end.is_Rational:
        diff = q - Fraction(int(end.p), int(end.q))
        return (diff > 0) - (diff < 0)
    diff = sympy.Rational(q.numerator, q.denominator) - end
    return 1 if diff.is_positive else (-1 if diff.is_negative else None)


def inside(q, low, high, open_low, open_high):
    """Whether the Fraction ``q`` surely lies in the interval (sympy ends, possibly infinite)."""
    if low.is_finite:
        sign = compare(q, low)
        if sign is None or sign < 0 or (sign == 0 and open_low):
            return False
    if high.is_finite:
        sign = compare(q, high)
        if sign is None or sign > 0 or (sign == 0 and open_high):
            return False
    return True


def exact_value(expr, point):
    """``expr`` at the rational ``point``, or None when undefined, complex or not a number."""
    values = {x: sympy.Rational(v.numerator, v.denominator) if isinstance(v, Fraction)
              else sympy.Rational(v) for x, v in point.items()}
    try:
        value = expr.xreplace(values)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if value.free_symbols or value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo, sympy.I):
        return None
    return value if value.is_number else None


def verify_negative(expr, point):
    """Whether ``expr`` is provably negative at ``point`` (exact or rigorous high precision).

    Parameters
    ----------
    expr : sympy.Expr
    point : mapping of sympy.Symbol to a rational number
        Values for every free symbol of ``expr`` (ints, Fractions or sympy Rationals).

    Returns
    -------
    bool
        True only when the value is real and its sign is certainly negative: a
        rational value is compared exactly; any other value is evaluated with
        ``sympy.N(value, 60, strict=True)``, which refuses to return digits it
        cannot guarantee. Undefined values (``1/0``), complex values and values
        whose sign cannot be decided (an unsimplified zero) give False.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> verify_negative(x * y - 1, {x: sympy.Rational(1, 2), y: 1})
    True
    >>> verify_negative(x**2 - 2, {x: sympy.Rational(140, 99)})
    True
    >>> verify_negative(sympy.exp(x) - 2, {x: sympy.Rational(69, 100)})
    True
    >>> verify_negative(sympy.exp(x) - 2, {x: sympy.Rational(7, 10)})
    False
    >>> verify_negative(1 / x, {x: 0})
    False
    """
    value = exact_value(sympy.sympify(expr), point)
    if value is None:
        return False
    if value.is_Rational:
        return bool(value < 0)
    try:
        number = value.evalf(_DIGITS, strict=True)
    except (sympy.core.evalf.PrecisionExhausted, TypeError, ValueError, ZeroDivisionError):
        return False
    return bool(number.is_real and number.is_Number and number < 0)


# --------------------------------------------------------------------------- rational points


def rationalize(value, low, high, open_low=False, open_high=False):
    """Rational numbers near ``value`` inside an interval, simplest first.

    Parameters
    ----------
    value : float or rational
        The number to approximate; a value outside the interval is first
        moved onto it (or just inside an open end).
    low, high : number or sympy number
        The interval's ends; ``-oo``/``oo`` (or None) for an unbounded side.
    open_low, open_high : bool
        Whether the ends are excluded.

    Yields
    ------
    sympy.Rational
        Distinct candidates inside the interval: ``limit_denominator`` at
        ``1, 10, 100, …, 10**12``, then the exact binary value of ``value``,
        then points at dyadic fractions of the width on either side of it
        (which reach just inside an open end that ``value`` sits on).

    Examples
    --------
    >>> list(rationalize(0.33333333, 0, 1))[:3]
    [0, 1/3, 33333333/100000000]
    >>> next(rationalize(0.0, 0, 1, open_low=True))
    1/8
    >>> next(rationalize(5.0, 0, 1))
    1
    """
    low = -sympy.oo if low is None else sympy.sympify(low)
    high = sympy.oo if high is None else sympy.sympify(high)
    target = _clamp(Fraction(value) if not isinstance(value, sympy.Basic) else _as_fraction(value),
                    low, high)
    seen = set()
    for q in itertools.chain(_near(target), _inward(target, low, high, open_low, open_high)):
        if q not in seen and inside(q, low, high, open_low, open_high):
            seen.add(q)
            yield sympy.Rational(q.numerator, q.denominator)


def _clamp(target, low, high):
    if low.is_finite and (compare(target, low) or 0) < 0:
        return _as_fraction(low)
    if high.is_finite and (compare(target, high) or 0) > 0:
        return _as_fraction(high)
    return target


def _near(target):
    for limit in _DENOMINATORS:
        yield target.limit_denominator(limit)
    yield target


def _inward(target, low, high, open_low, open_high):
    """Points just inside the end ``target`` sits on (dyadic steps of the width)."""
    width = (_as_fraction(high) - _as_fraction(low)) if low.is_finite and high.is_finite else None
    step = width if width is not None else Fraction(max(1, math.ceil(abs(target))))
    for k in (3, 6, 10, 20, 40, 60):
        delta = step / 2 ** k
        yield target + delta
        yield target - delta


def candidate_points(items, x):
    """Rational points (symbol → Rational) near the float point ``x``, by levels of simplicity.

    ``items`` holds one :class:`Range` per coordinate of ``x``; every point lies in them.
    """
    lists = [list(itertools.islice(rationalize(v, i.low, i.high, i.open_low, i.open_high), 20))
             for v, i in zip(x, items)]
    if not all(lists):
        return
    seen = set()
    for level in range(max(map(len, lists))):
        point = tuple(values[min(level, len(values) - 1)] for values in lists)
        if point not in seen:
            seen.add(point)
            yield dict(zip((i.symbol for i in items), point))


# --------------------------------------------------------------------------- float hints


def numeric(expr, symbols):
    """Vectorized float ``f`` and gradient of ``expr`` (numpy, scipy special functions).

    The gradient is taken with real stand-ins for the symbols (so ``Abs'`` is
    ``sign``); it is None where sympy cannot write it as code.
    """
    modules = ["scipy", "numpy"]
    f = sympy.lambdify(symbols, expr, modules=modules)
    real = [sympy.Dummy(real=True) for _ in symbols]
    try:
        derivatives = [sympy.diff(expr.xreplace(dict(zip(symbols, real))), r) for r in real]
        gradient = sympy.lambdify(real, derivatives, modules=modules)
    except (TypeError, ValueError, NameError, SyntaxError, NotImplementedError):
        gradient = None
    return f, gradient


def evaluate(f, points):
    """``f`` at each row of ``points``; non-finite or failing values become +inf."""
    with np.errstate(all="ignore"):
        try:
            values = np.asarray(f(*points.T), dtype=float)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
            return np.full(len(points), np.inf)
    values = np.broadcast_to(values, (len(points),)).copy()
    values[~np.isfinite(values)] = np.inf
    return values
