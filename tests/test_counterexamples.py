"""Tests of dagtheory.counterexamples: the search and its exact checks."""

from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Interval, Rational

from dagtheory.counterexamples import Counterexample, find_counterexample, rationalize, verify_negative
from dagtheory.exceptions import InvalidInputError

x, y = sympy.symbols("x y")
UNIT = {x: Interval(0, 1), y: Interval(0, 1)}
DISC = (x - Rational(3137, 10000)) ** 2 + (y - Rational(7291, 10000)) ** 2 - Rational(1, 10**6)


def _inside(point, ranges):
    return all(ranges[s].contains(v) == sympy.true for s, v in point.items())


def test_small_negative_disc_is_found_with_an_exact_point():
    found = find_counterexample(DISC, UNIT)
    assert isinstance(found, Counterexample)
    assert all(isinstance(v, sympy.Rational) for v in found.point.values())
    assert _inside(found.point, UNIT)
    assert found.value == DISC.subs(found.point) and found.value < 0


def test_nonnegative_expression_gives_none():
    assert find_counterexample(x**2 + y**2 - x * y, UNIT, time_limit=2) is None


def test_open_end_is_respected():
    ranges = {x: Interval.Lopen(0, 1)}
    found = find_counterexample(x - Rational(1, 1000), ranges)
    assert found is not None and 0 < found.point[x] < Rational(1, 1000)


@pytest.mark.parametrize("expr, interval", [
    (x**2 - 10 * x + 20, Interval(0, sympy.oo)),
    (100 - x, Interval(-sympy.oo, sympy.oo)),
    (x + 50, Interval(-sympy.oo, 0)),
])
def test_unbounded_ranges_are_searched_on_windows(expr, interval):
    found = find_counterexample(expr, {x: interval})
    assert found is not None and interval.contains(found.point[x]) == sympy.true
    assert found.value < 0


def test_transcendental_value_is_checked_in_high_precision():
    expr = sympy.sin(x) + Rational(1, 2)
    found = find_counterexample(expr, {x: Interval(0, 6)})
    assert found is not None
    assert not found.value.is_Rational
    assert sympy.N(found.value, 30) < 0


def test_constant_expression():
    assert find_counterexample(sympy.Integer(-1), {}).value == -1
    assert find_counterexample(sympy.Integer(1), {}) is None


@pytest.mark.parametrize("expr, point, expected", [
    (x * y - 1, {x: Rational(1, 2), y: 1}, True),
    (x - y, {x: 1, y: 1}, False),
    (x**2 - 2, {x: Rational(140, 99)}, True),
    (x**2 - 2, {x: Rational(99, 70)}, False),
    (sympy.exp(x) - 2, {x: Fraction(69, 100)}, True),
    (sympy.exp(x) - 2, {x: Fraction(7, 10)}, False),
    (1 / x - 1, {x: 0}, False),
    (sympy.sqrt(x) - 1, {x: -1}, False),
    (sympy.sqrt(2) * sympy.sqrt(3) - sympy.sqrt(6), {}, False),
])
def test_verify_negative(expr, point, expected):
    assert verify_negative(expr, point) is expected


@pytest.mark.parametrize("value, low, high, open_low, open_high, first", [
    (0.33333333, 0, 1, False, False, Rational(0)),
    (0.5, 0, 1, False, False, Rational(0)),
    (0.0, 0, 1, True, False, Rational(1, 8)),
    (1.0, 0, 1, False, True, Rational(7, 8)),
    (5.0, 0, 1, False, False, Rational(1)),
    (-7.25, -sympy.oo, sympy.oo, False, False, Rational(-7)),
])
def test_rationalize_first_candidates(value, low, high, open_low, open_high, first):
    assert next(rationalize(value, low, high, open_low, open_high)) == first


@settings(max_examples=60, deadline=None)
@given(st.floats(-10, 10), st.fractions(-5, 5, max_denominator=50), st.fractions(0, 5, max_denominator=50),
       st.booleans(), st.booleans())
def test_rationalize_stays_inside(value, low, width, open_low, open_high):
    high = low + width
    if width == 0 and (open_low or open_high):
        open_low = open_high = False
    start, end = Rational(low.numerator, low.denominator), Rational(high.numerator, high.denominator)
    interval = Interval(start, end, open_low, open_high)  # a FiniteSet when width == 0
    candidates = list(rationalize(value, start, end, open_low, open_high))
    assert candidates and len(set(candidates)) == len(candidates)
    assert all(interval.contains(q) == sympy.true for q in candidates)


@pytest.mark.parametrize("expr, ranges, message", [
    (x + y, {x: Interval(0, 1)}, r"every variable needs a range; missing \['y'\]"),
    (x, {x: Interval(1, 0)}, r"the range of x is empty; got EmptySet"),
    (x > 1, {x: Interval(0, 1)}, r"real-valued sympy expression"),
    (x, {x: Interval(0, sympy.Symbol("a"))}, r"the range of x has the end a, which is not a real number"),
])
def test_bad_input_is_refused_in_one_line(expr, ranges, message):
    with pytest.raises(InvalidInputError, match=message) as info:
        find_counterexample(expr, ranges)
    assert "\n" not in str(info.value)
