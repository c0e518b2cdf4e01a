r"""Counterexamples to ``expr ≥ 0`` on a box, each checked in exact arithmetic.

A counterexample is a point ``p`` of the box with ``expr(p) < 0``. Finding one
is a global minimization problem, solved here heuristically: the box is
sampled (a scrambled Sobol sequence plus its corners and centre), the best
samples start local minimizations (L-BFGS-B with the box as bounds and the
gradient from sympy), and the lowest points found are turned into **rational**
points. A point only counts once the sign of ``expr`` there is decided
rigorously by :func:`verify_negative`:

* a rational value (``expr`` a rational function with rational coefficients)
  is compared with ``0`` exactly;
* any other value (``exp(1/3) - 2``) is evaluated by sympy to 60 significant
  digits with ``strict=True``, which raises instead of returning digits it
  cannot vouch for, so the sign of a non-zero result is the sign of the value.

Floats are never trusted: a float minimum of ``-1e-17`` is only a hint. The
search may miss a counterexample (a negative region far smaller than the
sample spacing, or outside the window searched on an unbounded range); a
``None`` answer proves nothing. :mod:`dagtheory.intervals` proves the
opposite statement; both find and check their rational points with the helpers
of the private module ``dagtheory._points``, whose :func:`verify_negative` and
:func:`rationalize` are public here.
"""

import itertools
import math
import time
from dataclasses import dataclass
from numbers import Integral, Real

import numpy as np
import sympy  # noqa: F401  (the Examples below use it)

from ._points import Range, candidate_points, evaluate, exact_value, numeric, rationalize, verify_negative
from ._validation import check_box, check_expression
from .exceptions import InvalidInputError

__all__ = ["Counterexample", "find_counterexample", "verify_negative", "rationalize"]

#: Scales of the windows searched on an unbounded range.
_WINDOWS = (1, 10, 10 ** 3, 10 ** 6)


@dataclass(frozen=True)
class Counterexample:
    """A rational point of the box where ``expr`` is verified negative.

    Attributes
    ----------
    point : dict
        Symbol → sympy Rational, inside the ranges (open ends respected).
    value : sympy.Expr
        The exact value of ``expr`` at ``point`` (negative).
    detail : str
        How the point was found.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> found = find_counterexample(x**2 - sympy.Rational(1, 4), {x: sympy.Interval(0, 1)})
    >>> found.point, found.value
    ({x: 0}, -1/4)
    """

    point: dict
    value: object
    detail: str


# --------------------------------------------------------------------------- search


def _windows(items):
    """Bounded float windows ``(lows, highs)`` to sample: the box, or several scales if unbounded."""
    scales = (1,) if all(item.bounded for item in items) else _WINDOWS
    windows = []
    for scale in scales:
        lows, highs = zip(*(_window(item, scale) for item in items))
        windows.append((np.array(lows), np.array(highs)))
    return windows


def _window(item, scale):
    if item.bounded:
        return float(item.low), float(item.high)
    if item.low.is_finite:
        return float(item.low), float(item.low) + scale
    if item.high.is_finite:
        return float(item.high) - scale, float(item.high)
    return -float(scale), float(scale)


def _samples(lows, highs, seed):
    """A scaled scrambled Sobol sample of the window, with its corners and centre."""
    from scipy.stats import qmc

    d = len(lows)
    unit = qmc.Sobol(d, scramble=True, rng=seed).random_base2(max(6, min(10, 4 + 2 * d)))
    extra = [np.full(d, 0.5)]
    if d <= 10:
        extra += [np.array(c, dtype=float) for c in itertools.product((0.0, 1.0), repeat=d)]
    unit = np.vstack([unit, np.array(extra)])
    return lows + unit * (highs - lows)


def _minimize(f, gradient, start, lows, highs):
    """A local minimizer of ``f`` from ``start`` within the window (L-BFGS-B)."""
    from scipy.optimize import minimize

    def fun(x):
        with np.errstate(all="ignore"):
            value = float(f(*x))
        return value if math.isfinite(value) else 1e300

    def jac(x):
        with np.errstate(all="ignore"):
            g = np.asarray(gradient(*x), dtype=float)
        return np.where(np.isfinite(g), g, 0.0)

    try:
        result = minimize(fun, start, jac=None if gradient is None else jac, method="L-BFGS-B",
                          bounds=list(zip(lows, highs)), options={"maxiter": 200})
    except (TypeError, ValueError, ZeroDivisionError, OverflowError, NameError):
        return start, fun(start)
    return result.x, float(result.fun)


def _verified(expr, items, x):
    """The first rational point near ``x`` where ``expr`` is verified negative, or None."""
    for point in candidate_points(items, x):
        if verify_negative(expr, point):
            return point
    return None


def _local_minima(f, gradient, samples, values, window, *, starts, deadline):
    """``(points, values)`` of local minimizations from the best samples, until the deadline."""
    order = np.argsort(values)[:starts]
    points, found = [], []
    for index in order:
        if time.perf_counter() > deadline:
            break
        x, value = _minimize(f, gradient, samples[index], *window)
        points.append(x)
        found.append(value)
    return points, found


def _check_search_options(starts, seed, time_limit):
    if isinstance(starts, bool) or not isinstance(starts, Integral) or starts < 0:
        raise InvalidInputError(f"starts must be a non-negative integer; got {starts!r}")
    if isinstance(seed, bool) or not isinstance(seed, Integral):
        raise InvalidInputError(f"seed must be an integer; got {seed!r}")
    if isinstance(time_limit, bool) or not isinstance(time_limit, Real) or not time_limit > 0:
        raise InvalidInputError(f"time_limit must be a positive number of seconds; got {time_limit!r}")


def find_counterexample(expr, ranges, *, starts=64, seed=0, time_limit=10.0):
    """Search for a rational point of the box where ``expr < 0``, verified exactly.

    Parameters
    ----------
    expr : sympy.Expr
        A real expression in the variables of ``ranges``.
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)
        The box; ranges may be open or unbounded (an unbounded range is
        searched on windows ``low .. low + 10**k``).
    starts : int, optional
        Number of local minimizations, started from the best samples.
    seed : int, optional
        Seed of the scrambled Sobol sample.
    time_limit : float, optional
        Seconds after which no new local minimization is started.

    Returns
    -------
    Counterexample or None
        None when no verified point was found (which proves nothing).

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a real expression, a variable has no range, a range
        is empty or malformed, or an option is out of range.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> box = {x: sympy.Interval(0, 1), y: sympy.Interval(0, 1)}
    >>> found = find_counterexample(x**2 + y**2 - x * y - sympy.Rational(1, 10), box)
    >>> found.point, found.value
    ({x: 0, y: 0}, -1/10)
    >>> find_counterexample(x**2 + y**2, box) is None
    True
    """
    start = time.perf_counter()
    _check_search_options(starts, seed, time_limit)
    expr = check_expression(expr)
    items = [Range.from_set(x, r) for x, r in check_box(expr, ranges).items()]
    if not items:
        found = verify_negative(expr, {})
        return Counterexample({}, expr, "the expression is a negative number") if found else None
    f, gradient = numeric(expr, [i.symbol for i in items])
    deadline = start + float(time_limit)
    for number, window in enumerate(_windows(items)):
        found = _search_window(expr, items, f, gradient, window,
                               starts=starts, seed=seed + number, deadline=deadline)
        if found is not None or time.perf_counter() > deadline:
            return found
    return None


def _search_window(expr, items, f, gradient, window, *, starts, seed, deadline):
    samples = _samples(*window, seed)
    values = evaluate(f, samples)
    negative = np.argsort(values)[:4]
    for index in negative[values[negative] < 0]:
        point = _verified(expr, items, samples[index])
        if point is not None:
            return _result(expr, point, "a Sobol sample point, rationalized")
    points, found = _local_minima(f, gradient, samples, values, window,
                                  starts=starts, deadline=deadline)
    for index in np.argsort(found)[:16]:
        if found[index] >= 0:
            break
        point = _verified(expr, items, points[index])
        if point is not None:
            return _result(expr, point, f"a local minimum ({found[index]:.3g}), rationalized")
    return None


def _result(expr, point, how):
    value = exact_value(expr, point)
    return Counterexample(point, value, f"{how}; exact value {value} < 0")
