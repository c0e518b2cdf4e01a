"""Tests of dagtheory.symbolic: polynomial and closed forms of §2/§3 quantities, and bound checks.

Every polynomial is checked against the exact numeric code (``signal_curves``,
``absorption_cdf``) at rational points of the simplex; closed forms against the
exact sequences; the M2 steps of §3 both as exact instances and as symbolic statements.
"""

import math
import random
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from dagtheory import HeadSystem, InvalidInputError, absorption_cdf, signal_curves
from dagtheory.examples import EXAMPLE2_EDGES, mixing_synergy, paper_example2
from dagtheory.exceptions import InvalidTypeError
from dagtheory.markov import closed_form_bound
from dagtheory.symbolic import (
    HOLDS,
    REFUTED,
    UNDECIDED,
    BoundCheck,
    absorption_polynomial,
    beta_symbols,
    check_closed_form_bound,
    check_inequality,
    limit_of,
    signal_closed_form,
    signal_polynomial,
    step_symbol,
)

SYSTEMS = {"example2": paper_example2, "mixing_synergy": mixing_synergy}


def _value(poly, point):
    """A Poly evaluated at a tuple of Fractions, as a Fraction."""
    symbols = poly.gens
    value = poly.as_expr().subs({s: sympy.Rational(x.numerator, x.denominator)
                                 for s, x in zip(symbols, point)})
    return Fraction(int(sympy.numer(value)), int(sympy.denom(value)))


def _simplex_point(rng, H):
    cuts = sorted(Fraction(rng.randint(0, 60), 60) for _ in range(H - 1))
    edges = [Fraction(0), *cuts, Fraction(1)]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


simplex2 = st.integers(min_value=0, max_value=97).map(lambda k: (Fraction(k, 97), Fraction(97 - k, 97)))


# --------------------------------------------------------------------------- symbols


def test_beta_symbols_are_positive_and_named():
    symbols = beta_symbols(3)
    assert [str(s) for s in symbols] == ["β_1", "β_2", "β_3"]
    assert all(s.is_positive for s in symbols)
    assert step_symbol().is_integer and step_symbol().is_positive


@pytest.mark.parametrize("H", [0, -1, 1.5, True, "2"])
def test_beta_symbols_rejects_bad_count(H):
    with pytest.raises(InvalidInputError, match="H must be a positive integer"):
        beta_symbols(H)


# --------------------------------------------------------------------------- signal polynomial


def test_signal_polynomial_known_answers():
    system = paper_example2()
    b1, b2 = beta_symbols(2)
    assert signal_polynomial(system, 1, 2).as_expr() == b1 / 2 + b2 / 3
    assert signal_polynomial(system, 1, 0).is_zero
    # Example 2 at β = (1/2, 1/2): φ_min(combined) = 5/12, attained by w at t = 1.
    assert _value(signal_polynomial(system, 1, 2), (Fraction(1, 2),) * 2) == Fraction(5, 12)


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_signal_polynomial_matches_signal_curves_at_random_points(name):
    system = SYSTEMS[name]()
    rng = random.Random(20240601)
    horizon = 5
    polys = {(t, v): signal_polynomial(system, t, v)
             for t in range(1, horizon + 1) for v in range(system.n)}
    for _ in range(6):
        beta = _simplex_point(rng, system.H)
        curves = signal_curves(system.combined(beta), horizon)
        for (t, v), poly in polys.items():
            assert _value(poly, beta) == curves[t - 1, v]


@given(simplex2)
def test_signal_polynomial_matches_signal_curves_hypothesis(beta):
    system = paper_example2()
    curves = signal_curves(system.combined(beta), 4)
    for v in range(system.n):
        assert _value(signal_polynomial(system, 4, v), beta) == curves[3, v]


@pytest.mark.parametrize("name", sorted(SYSTEMS))
@pytest.mark.parametrize("t", [1, 2, 3, 6])
def test_signal_polynomial_is_a_homogeneous_posynomial(name, t):
    system = SYSTEMS[name]()
    for v in range(system.n):
        poly = signal_polynomial(system, t, v)
        assert poly.domain == sympy.QQ
        assert all(c >= 0 for c in poly.coeffs())
        if not poly.is_zero:
            assert poly.is_homogeneous and poly.homogeneous_order() == t


def test_signal_polynomial_accepts_own_symbols():
    x, y = sympy.symbols("x y")
    assert signal_polynomial(paper_example2(), 1, 2, symbols=(x, y)).gens == (x, y)


def test_signal_polynomial_refuses_float_systems():
    system = HeadSystem.from_edges(4, EXAMPLE2_EDGES, exact=False)
    with pytest.raises(InvalidTypeError, match="exact attention"):
        signal_polynomial(system, 2, 1)
    with pytest.raises(TypeError, match="Fractions"):
        absorption_polynomial(system, 2, 1)


@pytest.mark.parametrize("t, v, match", [(0, 1, "t must be an integer >= 1"),
                                         (1.0, 1, "t must be"),
                                         (2, 4, r"v must be a token index in 0\.\.3"),
                                         (2, -1, "v must be")])
def test_signal_polynomial_validates_arguments(t, v, match):
    with pytest.raises(InvalidInputError, match=match):
        signal_polynomial(paper_example2(), t, v)


def test_signal_polynomial_validates_symbols():
    with pytest.raises(InvalidInputError, match="symbols must be 2 sympy Symbols"):
        signal_polynomial(paper_example2(), 1, 1, symbols=beta_symbols(3))


def test_signal_polynomial_needs_a_head_system():
    with pytest.raises(InvalidTypeError, match="system must be a HeadSystem"):
        signal_polynomial(paper_example2().heads[0], 1, 1)


# --------------------------------------------------------------------------- absorption polynomial


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_absorption_polynomial_matches_absorption_cdf(name):
    system = SYSTEMS[name]()
    rng = random.Random(7)
    t_max = 6
    polys = {(t, j): absorption_polynomial(system, t, j)
             for t in range(t_max + 1) for j in range(system.n)}
    for _ in range(5):
        alpha = _simplex_point(rng, system.H)
        cdf = absorption_cdf(system.mixture_walk(alpha), t_max)
        for (t, j), poly in polys.items():
            assert _value(poly, alpha) == cdf[t, j]


@given(simplex2)
def test_absorption_polynomial_matches_absorption_cdf_hypothesis(alpha):
    system = mixing_synergy()
    cdf = absorption_cdf(system.mixture_walk(alpha), 7)
    for j in range(system.n):
        assert _value(absorption_polynomial(system, 7, j), alpha) == cdf[7, j]


def test_absorption_polynomial_is_homogeneous_with_nonnegative_coefficients():
    system = mixing_synergy()
    assert absorption_polynomial(system, 0, 4).as_expr() == 1
    assert absorption_polynomial(system, 0, 0).is_zero
    for j in range(system.n):
        poly = absorption_polynomial(system, 5, j)
        assert all(c >= 0 for c in poly.coeffs())
        assert poly.is_homogeneous and poly.homogeneous_order() == 5


def test_absorption_polynomial_validates_arguments():
    with pytest.raises(InvalidInputError, match="t must be an integer >= 0"):
        absorption_polynomial(mixing_synergy(), -1, 0)
    with pytest.raises(InvalidInputError, match="j must be a token index"):
        absorption_polynomial(mixing_synergy(), 1, 5)


# --------------------------------------------------------------------------- closed forms


def _sequence(expr, count):
    t = step_symbol()
    return [expr.subs(t, k) for k in range(1, count + 1)]


def test_example2_head2_closed_form_limit_is_one_quarter():
    head2 = paper_example2().attention[1]
    expr = signal_closed_form(head2, 0)
    exact = signal_curves(paper_example2().heads[1], 25)[:, 0]
    assert _sequence(expr, 25) == [sympy.Rational(x.numerator, x.denominator) for x in exact]
    assert limit_of(expr) == sympy.Rational(1, 4)
    # φ_min(head 2) at K = 20 (§2), never reaching its supremum 1/4.
    assert expr.subs(step_symbol(), 20) == sympy.Rational(871696090, 3486784401)


def test_example2_head1_closed_form_maximum_is_three_eighths_at_step_three():
    expr = signal_closed_form(paper_example2().heads[0], 1)
    exact = signal_curves(paper_example2().heads[0], 40)[:, 1]
    values = _sequence(expr, 40)
    assert values == [sympy.Rational(x.numerator, x.denominator) for x in exact]
    assert max(values) == sympy.Rational(3, 8)
    assert values.index(max(values)) + 1 == 3
    assert all(a >= b for a, b in zip(values[2:], values[3:]))
    assert limit_of(expr) == 0


@pytest.mark.parametrize("head", [0, 1])
def test_closed_form_matches_every_token(head):
    system = paper_example2()
    exact = signal_curves(system.heads[head], 12)
    for v in range(system.n):
        expr = signal_closed_form(system.attention[head], v)
        assert _sequence(expr, 12) == [sympy.Rational(x.numerator, x.denominator) for x in exact[:, v]]


def test_closed_form_with_a_nontrivial_jordan_block():
    half = Fraction(1, 2)
    attention = [[Fraction(1), 0, 0], [half, half, 0], [0, half, half]]
    expr = signal_closed_form(attention, 1)
    exact = signal_curves([[Fraction(x) for x in row] for row in attention], 15)[:, 1]
    assert _sequence(expr, 15) == [sympy.Rational(x.numerator, x.denominator) for x in exact]
    assert expr.has(step_symbol())
    assert limit_of(signal_closed_form(attention, 0)) == 1


def test_closed_form_refuses_floats_and_bad_shapes():
    with pytest.raises(InvalidTypeError, match="not exact"):
        signal_closed_form([[1.0, 0.0], [0.5, 0.5]], 0)
    with pytest.raises(InvalidInputError, match="shape"):
        signal_closed_form(paper_example2().attention, 0)
    with pytest.raises(InvalidInputError, match="v must be"):
        signal_closed_form(paper_example2().attention[0], 9)


# --------------------------------------------------------------------------- bound checks


def _binomial_tail(t, p, below):
    return sum(math.comb(t, k) * p ** k * (1 - p) ** (t - k) for k in range(min(below, t) + 1))


@pytest.mark.parametrize("length", [1, 2, 3, 4])
@pytest.mark.parametrize("p", [Fraction(1, 10), Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)])
def test_m2_closed_form_dominates_the_binomial_bound(length, p):
    eps = Fraction(1, 4)
    rp = sympy.Rational(p.numerator, p.denominator)
    closed = int(sympy.ceiling(sympy.Max(2 * length / rp, 8 * sympy.log(4) / rp)))
    tail = _binomial_tail(closed, p, length - 1)
    check = check_inequality(sympy.Rational(eps - tail), {})
    assert check.status == HOLDS, check


def test_closed_form_bound_is_proved_for_every_p_up_to_depth_50():
    check = check_closed_form_bound(50, Fraction(1, 4))
    assert check.status == HOLDS and check.method == "interval"
    depths = check.certificate["depths"]
    assert [d["L"] for d in depths] == list(range(1, 51))
    # Independent: at rational p on either side of each jump of B = ⌈c/p⌉ the exact tail is below 1/4,
    # and the certificate's largest enclosure bounds the exact tail at a checked b.
    for depth in (1, 3, 6, 20, 50):
        for p in (Fraction(1, 97), Fraction(2, 7), Fraction(1, 2), Fraction(1)):
            closed = int(closed_form_bound(depth, p, Fraction(1, 4)))
            assert _binomial_tail(closed, p, depth - 1) <= Fraction(1, 4)
    record = depths[5]
    assert record["b_checked"] == [12, 23]
    worst = max(_binomial_tail(b, Fraction(12, b), 5) for b in range(12, 24))
    middle, radius = (float(x) for x in record["max_tail"].strip("[]").split(" +/- "))
    assert abs(float(worst) - middle) <= radius


def test_closed_form_bound_rejects_bad_arguments():
    with pytest.raises(InvalidInputError, match="max_depth"):
        check_closed_form_bound(0)
    with pytest.raises(InvalidInputError, match="eps"):
        check_closed_form_bound(3, 0.25)
    with pytest.raises(InvalidInputError, match="eps"):
        check_closed_form_bound(3, Fraction(5, 4))


def test_chernoff_step_holds_beyond_its_threshold():
    # M2: for t >= 8 ln(1/ε)/p, e^{-tp/8} <= ε (here ε = 1/4, p = 1/2).
    t = sympy.Symbol("t", positive=True)
    check = check_inequality(sympy.Rational(1, 4) - sympy.exp(-t / 16),
                             {t: sympy.Interval(16 * sympy.log(4), sympy.oo)})
    assert check.status == HOLDS and check.counterexample is None


def test_chernoff_step_fails_below_its_threshold():
    t = sympy.Symbol("t", positive=True)
    expr = sympy.Rational(1, 4) - sympy.exp(-t / 16)
    check = check_inequality(expr, {t: (1, 20)})
    assert check.status == REFUTED
    assert expr.subs(check.counterexample).is_negative


def test_mean_step_of_m2_holds_symbolically():
    # t = 2L/p + s with s >= 0 gives μ/2 = tp/2 >= L - 1.
    s, p, length = sympy.symbols("s p L", positive=True)
    t = 2 * length / p + s
    box = {s: sympy.Interval(0, sympy.oo), p: sympy.Interval.Lopen(0, 1),
           length: sympy.Interval(1, sympy.oo)}
    assert check_inequality(t * p / 2 - (length - 1), box).status == HOLDS


def test_check_inequality_holds_and_refutes():
    length, p = sympy.symbols("L p", positive=True)
    box = {length: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    assert check_inequality(2 * length / p - length / p, box).status == HOLDS
    wrong = length / (2 * p) - 2 * length / p
    check = check_inequality(wrong, box)
    assert check.status == REFUTED
    assert wrong.subs(check.counterexample).is_negative
    assert not check


def test_check_inequality_proves_what_sympy_alone_could_not():
    # x^x >= e^(-1/e) ≈ 0.69: sympy's methods leave it undecided, intervals prove it.
    x = sympy.Symbol("x", positive=True)
    expr, box = x ** x - sympy.Rational(1, 2), {x: sympy.Interval(sympy.Rational(1, 10), 1)}
    assert check_inequality(expr, box, methods=("sympy",)).status == UNDECIDED
    check = check_inequality(expr, box)
    assert check.status == HOLDS and check.method == "interval"
    assert check.certificate["leaf_count"] == len(check.certificate["leaves"]) > 0


def test_check_inequality_undecided_instead_of_crashing():
    x = sympy.Symbol("x", positive=True)
    check = check_inequality(sympy.gamma(x) - sympy.Rational(1, 2), {x: sympy.Interval.Lopen(0, 1)},
                             time_limit=5)
    assert check.status == UNDECIDED and check.counterexample is None and not check
    assert [line.split(":")[0] for line in check.tried] == ["sympy", "search", "interval", "sos", "smt"]
    assert "not applicable" in check.tried[3] and "not applicable" in check.tried[4]


def test_check_inequality_on_numbers():
    assert check_inequality(sympy.Rational(1, 3)).status == HOLDS
    assert check_inequality(sympy.log(2) - 1).status == REFUTED


def test_check_inequality_needs_every_range():
    x, y = sympy.symbols("x y")
    with pytest.raises(InvalidInputError, match=r"missing \['y'\]"):
        check_inequality(x + y, {x: (0, 1)})
    with pytest.raises(InvalidInputError, match="range of x"):
        check_inequality(x, {x: [0, 1, 2]})


def test_check_inequality_refutes_a_small_hole_at_an_exact_point():
    x, y = sympy.symbols("x y")
    hole = (x - sympy.Rational(3137, 10000))**2 + (y - sympy.Rational(7291, 10000))**2 - sympy.Rational(1, 10**6)
    assert check_inequality(hole, {x: (0, 1), y: (0, 1)}, methods=("sympy",)).status == UNDECIDED
    check = check_inequality(hole, {x: (0, 1), y: (0, 1)})
    assert check.status == REFUTED and check.method in {"search", "interval", "smt"}
    point = check.counterexample
    assert all(isinstance(value, sympy.Rational) for value in point.values())
    assert hole.subs(point) < 0 and all(0 <= value <= 1 for value in point.values())


def test_check_inequality_proves_a_polynomial_with_negative_terms():
    x, y = sympy.symbols("x y")
    check = check_inequality(x**4 + y**4 - x*y + sympy.Rational(1, 5), {x: (-1, 1), y: (-1, 1)})
    assert check.status == HOLDS and check.method == "interval"
    leaves = check.certificate["leaves"]
    area = sum((Fraction(b[0][1]) - Fraction(b[0][0])) * (Fraction(b[1][1]) - Fraction(b[1][0]))
               for b in (leaf["box"] for leaf in leaves))
    assert area == 4                                   # the leaves cover [-1, 1]²


def test_check_inequality_decides_a_zero_at_irrational_points_with_z3():
    x = sympy.Symbol("x")
    check = check_inequality(sympy.expand((x**2 - 2)**2) * (1 + x**2), {x: (-3, 3)},
                             methods=("search", "interval", "sos", "smt"), time_limit=20)
    assert check.status == HOLDS and check.method == "smt"
    assert check.certificate == {"solver": "z3", "answer": "unsat"}


@pytest.mark.parametrize("ranges, options, match", [
    ("empty", {}, "the range of x is empty"),
    ("unbounded", {"methods": ("interval",)}, "x has the unbounded range .*needs a bounded box"),
    ("missing", {}, r"every variable needs a range; missing \['y'\]"),
    ("ok", {"methods": ("magic",)}, "methods must be a non-empty subset"),
    ("ok", {"time_limit": 0}, "time_limit must be a positive finite number; got 0"),
    ("ok", {"max_boxes": 2.5}, "max_boxes must be a positive finite number; got 2.5"),
])
def test_check_inequality_refuses_bad_input_in_one_line(ranges, options, match):
    x, y = sympy.symbols("x y")
    box = {"empty": {x: sympy.Interval(2, 1), y: (0, 1)}, "unbounded": {x: (0, sympy.oo), y: (0, 1)},
           "missing": {x: (0, 1)}, "ok": {x: (0, 1), y: (0, 1)}}[ranges]
    with pytest.raises(InvalidInputError, match=match) as error:
        check_inequality(x * y + 1, box, **options)
    assert "\n" not in str(error.value)


def test_check_inequality_with_a_one_point_range():
    x, y = sympy.symbols("x y")
    check = check_inequality(x * y - 1, {x: (1, 1), y: (0, 2)})
    assert check.status == REFUTED and check.counterexample[x] == 1
    assert (x * y - 1).subs(check.counterexample) < 0


_COEFFICIENTS = st.fractions(min_value=-2, max_value=2, max_denominator=8)


@settings(max_examples=15, deadline=None)
@given(st.lists(_COEFFICIENTS, min_size=6, max_size=6), st.fractions(min_value=0, max_value=3, max_denominator=8))
def test_check_inequality_never_gives_a_wrong_verdict(coefficients, shift):
    """Random quadratics in two variables: a holds is never contradicted on an exact grid, and
    a refutation is an exact point of the box where the polynomial is negative."""
    x, y = sympy.symbols("x y")
    monomials = (x**2, y**2, x * y, x, y, sympy.Integer(1))
    expr = sum(sympy.Rational(c.numerator, c.denominator) * m for c, m in zip(coefficients, monomials))
    expr += sympy.Rational(shift.numerator, shift.denominator)
    check = check_inequality(expr, {x: (-1, 1), y: (-1, 1)}, time_limit=10)
    if check.status == HOLDS:
        grid = [sympy.Rational(k, 8) for k in range(-8, 9)]
        assert all(expr.subs({x: a, y: b}) >= 0 for a in grid for b in grid), check
    elif check.status == REFUTED:
        point = check.counterexample
        assert all(-1 <= point[v] <= 1 for v in (x, y)) and expr.subs(point) < 0, check
