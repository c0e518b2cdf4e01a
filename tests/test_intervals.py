"""Tests of dagtheory.intervals: rigorous enclosures and interval branch and bound."""

import itertools
import time
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Interval, Rational

from dagtheory.exceptions import InvalidInputError, InvalidTypeError
from dagtheory.intervals import IntervalProof, interval_enclosure, prove_nonnegative

x, y, z = sympy.symbols("x y z")
UNIT = {x: Interval(0, 1), y: Interval(0, 1)}
SQUARE = {x: Interval(-1, 1), y: Interval(-1, 1)}
QUARTIC = x**4 + y**4 - x * y + Rational(1, 5)
MOTZKIN = x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1
DISC = (x - Rational(3137, 10000)) ** 2 + (y - Rational(7291, 10000)) ** 2 - Rational(1, 10**6)


def _fraction(text):
    return Fraction(text)


def _volume(box):
    volume = Fraction(1)
    for low, high in box:
        volume *= _fraction(high) - _fraction(low)
    return volume


def _exact_at(expr, point):
    """``expr`` at a point of Fractions, as a Fraction (polynomials with rational coefficients)."""
    value = expr.xreplace({s: sympy.Rational(v.numerator, v.denominator) for s, v in point.items()})
    return Fraction(int(value.p), int(value.q))


# --------------------------------------------------------------------------- strategies

coefficients = st.fractions(min_value=-5, max_value=5, max_denominator=7)
monomials = st.tuples(st.integers(0, 4), st.integers(0, 4))
polynomials = st.lists(st.tuples(coefficients, monomials), min_size=1, max_size=6)
corners = st.floats(-3, 3, allow_nan=False)
widths = st.floats(0, 4, allow_nan=False)
fractions_01 = st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=5)


def _polynomial(terms):
    return sum((sympy.Rational(c.numerator, c.denominator) * x**a * y**b for c, (a, b) in terms),
               sympy.Integer(0))


# --------------------------------------------------------------------------- known answers

HOLDS_TABLE = [
    ("quartic", QUARTIC, SQUARE, None),
    ("motzkin", MOTZKIN, {x: Interval(-2, 2), y: Interval(-2, 2)}, "convex"),
    ("square at (1/3, 1/2)", sympy.expand((x - Rational(1, 3)) ** 2 + (y - Rational(1, 2)) ** 2), UNIT, None),
    ("(x - y)^2 expanded", x**2 - 2 * x * y + y**2, SQUARE, None),
    ("x y", x * y, UNIT, None),
    ("x + y - 2 x y", x + y - 2 * x * y, UNIT, "monotone"),
    ("x^3", x**3, {x: Interval(0, 1)}, None),
    ("x (1 - x), open ends", x * (1 - x), {x: Interval.open(0, 1)}, None),
    ("exp(x) - 1 - x", sympy.exp(x) - 1 - x, {x: Interval(-2, 2)}, None),
    ("x - 1 - log x", x - 1 - sympy.log(x), {x: Interval(Rational(1, 2), 3)}, None),
    ("cos x - 1 + x^2/2", sympy.cos(x) - 1 + x**2 / 2, {x: Interval(-1, 1)}, "convex"),
    ("a line of zeros in 3-D", x**2 + y**2 + z**2 - x * y - y * z - z * x,
     {x: Interval(-1, 1), y: Interval(-1, 1), z: Interval(-1, 1)}, None),
]


@pytest.mark.parametrize("name, expr, ranges, reason", HOLDS_TABLE, ids=[row[0] for row in HOLDS_TABLE])
def test_known_nonnegative_expressions_hold(name, expr, ranges, reason):
    proof = prove_nonnegative(expr, ranges, time_limit=15)
    assert proof.status == "holds", proof.detail
    assert proof and proof.counterexample is None
    assert proof.certificate["leaf_count"] == len(proof.certificate["leaves"])
    if reason is not None:
        assert reason in proof.certificate["reasons"]


def test_quartic_is_proved_within_seconds_and_its_leaves_tile_the_box():
    start = time.perf_counter()
    proof = prove_nonnegative(QUARTIC, SQUARE)
    assert proof.status == "holds"
    assert time.perf_counter() - start < 5
    leaves = proof.certificate["leaves"]
    assert proof.certificate["box"] == [["-1", "1"], ["-1", "1"]]
    assert sum(_volume(leaf["box"]) for leaf in leaves) == 4
    for a, b in itertools.combinations(leaves, 2):  # interiors are disjoint
        assert any(_fraction(p[1]) <= _fraction(q[0]) or _fraction(q[1]) <= _fraction(p[0])
                   for p, q in zip(a["box"], b["box"]))


def _iv_lower(expr, box, pieces):
    """The smallest mpmath.iv lower bound of a polynomial over a grid of sub-boxes of ``box``."""
    poly = sympy.Poly(expr, x, y)
    (x0, x1), (y0, y1) = [(_fraction(lo), _fraction(hi)) for lo, hi in box]

    def exact(q):  # sub-box ends are dyadic, so their float values are exact
        assert Fraction(float(q)) == q
        return float(q)

    lowest = mpmath.inf
    for i, j in itertools.product(range(pieces), repeat=2):
        X = mpmath.iv.mpf([exact(x0 + (x1 - x0) * i / pieces), exact(x0 + (x1 - x0) * (i + 1) / pieces)])
        Y = mpmath.iv.mpf([exact(y0 + (y1 - y0) * j / pieces), exact(y0 + (y1 - y0) * (j + 1) / pieces)])
        total = mpmath.iv.mpf(0)
        for (ex, ey), coeff in poly.terms():
            total += mpmath.iv.mpf(int(coeff.p)) / int(coeff.q) * X**ex * Y**ey
        lowest = min(lowest, total.a)
    return lowest


def test_quartic_leaf_bounds_rechecked_independently():
    proof = prove_nonnegative(QUARTIC, SQUARE)
    enclosure = [leaf for leaf in proof.certificate["leaves"] if leaf["reason"] == "enclosure"]
    for leaf in enclosure[:4]:  # mpmath.iv on a grid of sub-boxes: f >= 0 there too
        assert float(leaf["lower"]) >= 0
        assert _iv_lower(QUARTIC, leaf["box"], 16) >= 0
    for leaf in proof.certificate["leaves"]:  # every claimed bound is below f at the corners
        for corner in itertools.product(*leaf["box"]):
            value = _exact_at(QUARTIC, dict(zip((x, y), map(_fraction, corner))))
            assert value >= 0
            if leaf["reason"] == "enclosure":
                assert Fraction(float(leaf["lower"])) <= value


def test_motzkin_zeros_are_settled_by_the_convexity_argument():
    proof = prove_nonnegative(MOTZKIN, {x: Interval(-2, 2), y: Interval(-2, 2)})
    convex = [leaf for leaf in proof.certificate["leaves"] if leaf["reason"] == "convex"]
    assert {tuple(leaf["point"]) for leaf in convex if leaf["value"] == "0"} == {
        ("1", "1"), ("1", "-1"), ("-1", "1"), ("-1", "-1")}
    assert sum(_volume(leaf["box"]) for leaf in proof.certificate["leaves"]) == 16


def test_monotone_leaves_name_their_faces():
    proof = prove_nonnegative(x + y - 2 * x * y, UNIT)
    monotone = [leaf for leaf in proof.certificate["leaves"] if leaf["reason"] == "monotone"]
    assert monotone
    for leaf in monotone:
        assert {face["variable"] for face in leaf["faces"]} <= {"x", "y"}
        assert all(face["face"] in ("low", "high") for face in leaf["faces"])
        assert leaf["then"] in ("enclosure", "point", "convex")


# --------------------------------------------------------------------------- refutation


def test_small_negative_disc_is_refuted_with_an_exact_point():
    proof = prove_nonnegative(DISC, UNIT)
    assert proof.status == "refuted" and not proof
    point = proof.counterexample
    assert set(point) == {x, y}
    assert all(isinstance(v, sympy.Rational) and 0 <= v <= 1 for v in point.values())
    assert DISC.subs(point) < 0


def test_counterexample_respects_an_open_end():
    proof = prove_nonnegative(x - Rational(1, 1000), {x: Interval.Lopen(0, 1)})
    assert proof.status == "refuted"
    value = proof.counterexample[x]
    assert 0 < value < Rational(1, 1000)


def test_negative_constant_is_refuted_and_positive_one_holds():
    assert prove_nonnegative(sympy.pi - 3, {}).status == "holds"
    refuted = prove_nonnegative(3 - sympy.pi, {})
    assert refuted.status == "refuted" and refuted.counterexample == {}


def test_one_point_ranges_are_decided_exactly():
    third = Interval(Rational(1, 3), Rational(1, 3))  # a FiniteSet
    assert prove_nonnegative(x * y - 1, {x: Interval(3, 3), y: third}).status == "holds"
    proof = prove_nonnegative(x * y - 1, {x: Interval(2, 2), y: third})
    assert proof.status == "refuted" and proof.counterexample == {x: 2, y: Rational(1, 3)}


small_rationals = st.fractions(min_value=-2, max_value=2, max_denominator=4)


@settings(max_examples=20, deadline=None)
@given(polynomials, small_rationals, small_rationals, st.fractions(1, 2, max_denominator=3), fractions_01)
def test_answers_agree_with_exact_values(terms, x0, y0, width, ts):
    expr = _polynomial(terms) + 1
    ranges = {x: Interval(x0, x0 + width), y: Interval(y0, y0 + width)}
    proof = prove_nonnegative(expr, ranges, max_boxes=200, time_limit=0.5)
    if proof.status == "refuted":
        point = proof.counterexample
        assert all(ranges[s].contains(v) == sympy.true for s, v in point.items())
        assert expr.subs(point) < 0
    if proof.status == "holds":
        for tx, ty in ts:  # rational points of the box
            px = x0 + width * Fraction(tx).limit_denominator(64)
            py = y0 + width * Fraction(ty).limit_denominator(64)
            assert _exact_at(expr, {x: px, y: py}) >= 0
        hull = proof.certificate["box"]  # the float hull of the ranges of the variables of expr
        for name, (lo, hi) in zip(proof.certificate["variables"], hull):
            low = {"x": x0, "y": y0}[name]
            assert _fraction(lo) <= low and low + width <= _fraction(hi)
        assert sum(_volume(leaf["box"]) for leaf in proof.certificate["leaves"]) == _volume(hull)


# --------------------------------------------------------------------------- limits and budgets


def test_box_budget_is_respected_and_reported():
    start = time.perf_counter()
    proof = prove_nonnegative(MOTZKIN, {x: Interval(-2, 2), y: Interval(-2, 2)}, max_boxes=100)
    assert time.perf_counter() - start < 3
    assert proof.status == "undecided" and proof.boxes <= 100
    assert "box budget of 100 exhausted" in proof.detail
    assert "remain unsettled" in proof.detail and "smallest lower bound" in proof.detail
    assert proof.certificate is None and proof.counterexample is None


def test_time_budget_is_respected():
    start = time.perf_counter()
    proof = prove_nonnegative(MOTZKIN, {x: Interval(-2, 2), y: Interval(-2, 2)}, time_limit=0.05)
    assert time.perf_counter() - start < 2
    assert proof.status == "undecided" and "time limit" in proof.detail


def test_zero_at_an_irrational_point_stays_undecided():
    proof = prove_nonnegative(sympy.expand((x**2 - 2) ** 2), {x: Interval(0, 2)}, time_limit=5)
    assert proof.status == "undecided"
    assert "unsettled" in proof.detail


def test_undefined_at_an_open_end_stays_undecided():
    proof = prove_nonnegative(1 / x - 1, {x: Interval.Lopen(0, 1)}, max_boxes=300)
    assert proof.status == "undecided"


# --------------------------------------------------------------------------- enclosures


def _between(value, lower, upper):
    return Fraction(float(lower)) <= value <= Fraction(float(upper))


def test_rational_constant_is_enclosed_by_neighbouring_floats():
    lower, upper = interval_enclosure(sympy.Rational(1, 10) + 0 * x, [x], [[0.0]], [[0.0]])
    assert Fraction(float(lower[0])) < Fraction(1, 10) < Fraction(float(upper[0]))
    assert np.nextafter(lower[0], np.inf) == upper[0]


@pytest.mark.parametrize("expr, low, high, expected", [
    (x**2, -1.0, 2.0, (0.0, 4.0)),
    (x**3, -1.0, 2.0, (-1.0, 8.0)),
    (x**-2, 1.0, 2.0, (0.25, 1.0)),
    (sympy.sqrt(x), 4.0, 9.0, (2.0, 3.0)),
    (sympy.Abs(x), -3.0, 2.0, (0.0, 3.0)),
    (sympy.floor(x), -0.5, 1.5, (-1.0, 1.0)),
    (sympy.Max(x, 1 - x), 0.0, 1.0, (0.0, 1.0)),
    (sympy.exp(x), 0.0, 0.0, (1.0, 1.0)),
    (sympy.sin(x), 0.0, 7.0, (-1.0, 1.0)),
    (sympy.cos(x), 0.0, 0.0, (1.0, 1.0)),
])
def test_exact_enclosures(expr, low, high, expected):
    lower, upper = interval_enclosure(expr, [x], [[low]], [[high]], centered=False)
    assert (lower[0], upper[0]) == expected


@pytest.mark.parametrize("expr, low, high", [
    (1 / x, -1.0, 1.0), (sympy.log(x), -1.0, 1.0), (sympy.sqrt(x), -1.0, 1.0)])
def test_undefined_somewhere_gives_the_whole_line(expr, low, high):
    lower, upper = interval_enclosure(expr, [x], [[low]], [[high]])
    assert lower[0] == -np.inf and upper[0] == np.inf


def test_log_at_zero_is_unbounded_below_only():
    lower, upper = interval_enclosure(sympy.log(x), [x], [[0.0]], [[1.0]])
    assert lower[0] == -np.inf and 0 <= upper[0] < 1e-300


def test_centered_form_tightens_the_natural_enclosure():
    box = ([[0.25, 0.25]], [[0.5, 0.5]])
    natural = interval_enclosure(QUARTIC, [x, y], *box, centered=False)
    centered = interval_enclosure(QUARTIC, [x, y], *box)
    assert centered.lower[0] > natural.lower[0] and centered.upper[0] <= natural.upper[0]


@settings(max_examples=60, deadline=None)
@given(polynomials, corners, corners, widths, widths, fractions_01, st.booleans())
def test_enclosure_contains_exact_values_of_random_polynomials(terms, x0, y0, wx, wy, ts, centered):
    expr = _polynomial(terms)
    low, high = np.array([x0, y0]), np.array([x0 + wx, y0 + wy])
    lower, upper = interval_enclosure(expr, [x, y], [low], [high], centered=centered)
    for tx, ty in ts:
        px, py = np.clip(low + np.array([tx, ty]) * (high - low), low, high)
        exact = sum((c * Fraction(px) ** a * Fraction(py) ** b for c, (a, b) in terms), Fraction(0))
        assert _between(exact, lower[0], upper[0])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 3), st.floats(0.01, 3), st.floats(0, 3), fractions_01)
def test_enclosure_contains_values_of_exp_log_sqrt(choice, x0, wx, ts):
    expressions = [
        sympy.exp(x) - 3 * sympy.log(x) + sympy.sqrt(x),
        sympy.exp(-x**2) * sympy.log(1 + x),
        sympy.sqrt(x**3 + 1) - sympy.exp(x / 3),
        sympy.atan(x) + sympy.sin(3 * x) - sympy.cos(x) ** 2 + sympy.tanh(x - 1),
    ]
    expr = expressions[choice]
    lower, upper = interval_enclosure(expr, [x], [[x0]], [[x0 + wx]])
    f = sympy.lambdify(x, expr, modules="mpmath")
    with mpmath.workdps(60):
        for t, _ in ts:
            point = min(max(x0 + t * wx, x0), x0 + wx)
            value = f(mpmath.mpf(point))
            assert mpmath.mpf(float(lower[0])) <= value <= mpmath.mpf(float(upper[0]))


def test_batch_of_boxes_is_vectorized():
    lows = np.array([[0.0, 0.0], [1.0, -1.0], [-2.0, 0.5]])
    highs = lows + 0.5
    lower, upper = interval_enclosure(x * y - y**2, [x, y], lows, highs)
    assert lower.shape == upper.shape == (3,)
    assert (lower <= upper).all()


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("ranges, error, message", [
    ({x: Interval(0, sympy.oo)}, InvalidInputError,
     r"x has the unbounded range Interval\(0, oo\); interval branch and bound needs a bounded box"),
    ({x: Interval(1, 0)}, InvalidInputError, r"the range of x is empty; got EmptySet"),
    ({y: Interval(0, 1)}, InvalidInputError, r"every variable needs a range; missing \['x'\]"),
    ({x: "0..1"}, InvalidInputError, r"the range of x must be a sympy.Interval or a \(low, high\) pair"),
    ([(x, Interval(0, 1))], InvalidTypeError, r"ranges must be a mapping"),
])
def test_bad_ranges_are_refused_in_one_line(ranges, error, message):
    with pytest.raises(error, match=message) as info:
        prove_nonnegative(x + 1, ranges)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("expr, message", [
    (x > 0, r"expr must be a real-valued sympy expression; got StrictGreaterThan"),
    (sympy.I * x, r"expr must be real and finite; it contains I"),
    (sympy.gamma(x), r"interval arithmetic does not support gamma"),
    (sympy.Matrix([x]), r"expr must be a real-valued sympy expression"),
])
def test_bad_expressions_are_refused_in_one_line(expr, message):
    with pytest.raises(InvalidInputError, match=message) as info:
        prove_nonnegative(expr, {x: Interval(0, 1)})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("options, message", [
    ({"max_boxes": 0}, "max_boxes must be a positive integer"),
    ({"time_limit": -1}, "time_limit must be a positive number"),
])
def test_bad_budgets_are_refused(options, message):
    with pytest.raises(InvalidInputError, match=message):
        prove_nonnegative(x, {x: Interval(0, 1)}, **options)


def test_bad_boxes_are_refused():
    with pytest.raises(InvalidInputError, match=r"lows\[0, 0\] = 1.0 > highs\[0, 0\] = 0.0"):
        interval_enclosure(x, [x], [[1.0]], [[0.0]])
    with pytest.raises(InvalidInputError, match=r"must both have shape \(m, 2\)"):
        interval_enclosure(x * y, [x, y], [[0.0]], [[1.0]])
    with pytest.raises(InvalidInputError, match=r"variables without a column: \['y'\]"):
        interval_enclosure(x * y, [x], [[0.0]], [[1.0]])


def test_result_is_a_frozen_dataclass():
    proof = prove_nonnegative(x, {x: Interval(0, 1)})
    assert isinstance(proof, IntervalProof)
    with pytest.raises(AttributeError):
        proof.status = "refuted"


def test_zero_times_infinity_in_endpoint_products_is_zero():
    # intervals hold real numbers; ±inf only bounds them, so [0, 1e-3] * [-inf, -1] = [-inf, 0]
    x = sympy.Symbol("x")
    low, high = interval_enclosure(x * sympy.log(x), [x], np.array([[0.0]]), np.array([[1e-3]]),
                                   centered=False)
    assert low[0] == -np.inf and -1e-2 < high[0] <= 0


def test_a_function_undefined_at_an_open_end_is_proved_when_its_enclosure_stays_finite():
    x = sympy.Symbol("x", positive=True)
    proof = prove_nonnegative(x**x - sympy.Rational(1, 2), {x: sympy.Interval.Lopen(0, 1)})
    assert proof.status == "holds"
