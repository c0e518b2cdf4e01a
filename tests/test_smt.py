"""Tests of dagtheory.smt: deciding expr >= 0 on a box with z3."""

import itertools
import subprocess
import sys
import time

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Interval, Rational, oo

from dagtheory.exceptions import InvalidInputError, MissingDependencyError
from dagtheory.smt import SMTResult, is_rational_function_problem, smt_decide

z3 = pytest.importorskip("z3")

x, y = sympy.symbols("x y")
L, p = sympy.symbols("L p", positive=True)
n = sympy.Symbol("n", integer=True)
LINE = Interval(-oo, oo)
L_P_BOX = {L: Interval(1, oo), p: Interval.Lopen(0, 1)}

#: (expr, ranges): true statements.
HOLDS = [
    (x**4 - 4 * x**2 + 4, {x: (-3, 3)}),                       # zeros at ±√2
    (x**2 - 2 * x * y + y**2, {x: LINE, y: LINE}),              # zero on the line x = y
    (2 * L / p - L / p, L_P_BOX),                               # a rational function
    ((1 - p) / p, {p: Interval.Lopen(0, 1)}),
    (x**2 / (x**2 + 1), {x: LINE}),
    (x**3 - x**2, {x: Interval(1, oo)}),                        # a half-line
    (n**2 - n, {n: LINE}),                                      # integers only: fails at n = 1/2
    (x, {x: Interval(0, 1)}),
    (p, {p: (-1, 1)}),                                          # p is positive
    (x**2 + y**2 - 2 * x * y * Rational(99, 100), {x: (-10, 10), y: (-10, 10)}),
    (sympy.Integer(0), {}),
]

#: (expr, ranges): false statements.
REFUTED = [
    ((x - Rational(3137, 10000)) ** 2 + (y - Rational(7291, 10000)) ** 2 - Rational(1, 10**6),
     {x: (0, 1), y: (0, 1)}),
    (L / (2 * p) - 2 * L / p, L_P_BOX),
    (x**2 - 2, {x: (1, 2)}),
    (1 / (x - 1), {x: (0, 2)}),                                 # the denominator changes sign
    (10 - x, {x: Interval(0, oo)}),
    (p - Rational(1, 2), {p: Interval.Lopen(0, 1)}),
    (n**2 - n - Rational(1, 10), {n: (0, 5)}),
    (sympy.Integer(-3), {}),
]


def _in_box(point, ranges):
    for symbol, value in point.items():
        interval = ranges[symbol]
        if isinstance(interval, tuple):
            interval = Interval(*interval)
        if interval.contains(value) != sympy.true:
            return False
    return True


@pytest.mark.parametrize("expr, ranges", HOLDS)
def test_true_statements_hold(expr, ranges):
    result = smt_decide(expr, ranges)
    assert result.status == "holds" and result.counterexample is None and bool(result)
    assert "unsatisfiable" in result.detail


@pytest.mark.parametrize("expr, ranges", REFUTED)
def test_false_statements_are_refuted_with_an_exact_point(expr, ranges):
    result = smt_decide(expr, ranges)
    assert result.status == "refuted" and not result
    point = result.counterexample
    assert set(point) == expr.free_symbols
    assert all(isinstance(v, sympy.Rational) for v in point.values())
    assert _in_box(point, ranges)
    value = expr.subs(point)
    assert value.is_Rational and value < 0


def test_the_small_disc_is_found():
    expr = (x - Rational(3137, 10000)) ** 2 + (y - Rational(7291, 10000)) ** 2 - Rational(1, 10**6)
    point = smt_decide(expr, {x: (0, 1), y: (0, 1)}).counterexample
    assert abs(point[x] - Rational(3137, 10000)) < Rational(1, 1000)
    assert abs(point[y] - Rational(7291, 10000)) < Rational(1, 1000)


def test_integer_symbols_get_integer_counterexamples():
    point = smt_decide(n**2 - 5 * n + 5, {n: (0, 10)}).counterexample
    assert point[n].is_integer and point[n] in (2, 3)


def test_a_rational_function_holds_where_it_is_defined():
    result = smt_decide(1 / x**2, {x: (-1, 1)})
    assert result.status == "holds" and "x**2 ≠ 0" in result.detail


# --------------------------------------------------------------------------- algebraic models


def _sqrt2_model():
    ctx = z3.Context()
    v = z3.Real("x__0", ctx)
    solver = z3.Solver(ctx=ctx)
    solver.add(v * v == 2, v > 0)
    assert solver.check() == z3.sat
    assert z3.is_algebraic_value(solver.model().eval(v))
    return solver.model(), {x: v}


def test_an_algebraic_model_value_becomes_a_verified_rational():
    from dagtheory.smt import _counterexample

    model, variables = _sqrt2_model()
    # x - 1.41421357 < 0 at √2 = 1.41421356...: a coarse rational is not enough, a finer one is.
    expr = x - Rational(141421357, 10**8)
    point = _counterexample(z3, model, expr, {x: Interval(0, 2)}, variables)
    assert point is not None and expr.subs(point) < 0 and point[x].is_Rational


def test_no_verified_point_gives_none():
    from dagtheory.smt import _counterexample

    model, variables = _sqrt2_model()
    assert _counterexample(z3, model, (x**2 - 2) ** 2, {x: Interval(0, 2)}, variables) is None


# --------------------------------------------------------------------------- budgets


def test_a_hard_instance_with_a_tiny_timeout_is_undecided_promptly():
    variables = sympy.symbols("v0:6")
    expr = sympy.expand(sum(
        (variables[i] * variables[(i + 1) % 6] - variables[(i + 2) % 6] ** 2 + Rational(1, 3)) ** 2
        for i in range(6))) * (1 + variables[0] ** 2) - Rational(1, 10**4)
    start = time.monotonic()
    result = smt_decide(expr, {v: (-2, 2) for v in variables}, timeout=0.05)
    assert result.status == "undecided" and result.counterexample is None
    assert "unknown" in result.detail
    assert time.monotonic() - start < 5


# --------------------------------------------------------------------------- agreement with sampling


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=6, max_size=6), st.integers(-4, 12))
def test_answers_agree_with_exact_sampling(coefficients, constant):
    monomials = [x**2, y**2, x * y, x, y, x**2 * y**2]
    expr = sum(c * m for c, m in zip(coefficients, monomials)) + Rational(constant, 4)
    ranges = {x: (-1, 1), y: (0, 2)}
    result = smt_decide(expr, ranges, timeout=5.0)
    grid = list(itertools.product([Rational(k, 4) for k in range(-4, 5)],
                                  [Rational(k, 4) for k in range(0, 9)]))
    negative_somewhere = any(expr.subs({x: a, y: b}) < 0 for a, b in grid)
    if result.status == "holds":
        assert not negative_somewhere
    if result.status == "refuted":
        assert expr.subs(result.counterexample) < 0 and _in_box(result.counterexample, ranges)
    if negative_somewhere:
        assert result.status != "holds"


def test_sos_certified_statements_hold_in_z3_too():
    from dagtheory.sos import sos_certificate

    expr = x**4 + y**4 - x * y + Rational(1, 5)
    ranges = {x: (-1, 1), y: (-1, 1)}
    assert sos_certificate(expr, ranges) is not None
    assert smt_decide(expr, ranges).status == "holds"


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize("expr, match", [
    (sympy.sin(x), "rational functions with rational coefficients only; got sin"),
    (sympy.sqrt(x), "rational functions with rational coefficients only"),
    (x**y, "rational functions with rational coefficients only"),
    (sympy.sqrt(2) * x, "rational functions with rational coefficients only"),
    (0.5 * x, "float coefficient 0.5"),
])
def test_non_rational_functions_are_refused(expr, match):
    with pytest.raises(InvalidInputError, match=match):
        smt_decide(expr, {x: (1, 2), y: (1, 2)})


@pytest.mark.parametrize("ranges, match", [
    ({}, r"missing \['x'\]"),
    ({x: Interval(2, 1)}, "range of x is empty"),
    ({x: (2, 1)}, "range of x is empty"),
    ({x: Interval.open(1, 1)}, "range of x is empty"),
    ({x: (0, sympy.sqrt(2))}, "neither rational nor"),
    ({x: (0, 0.5)}, "float end 0.5"),
    ({x: "0..1"}, "must be a sympy.Interval or a"),
])
def test_bad_ranges_are_refused(ranges, match):
    with pytest.raises(InvalidInputError, match=match):
        smt_decide(x**2 + 1, ranges)


def test_a_range_emptied_by_assumptions_is_refused():
    with pytest.raises(InvalidInputError, match="range of p is empty once its sign assumptions"):
        smt_decide(p, {p: (-2, -1)})


@pytest.mark.parametrize("timeout", [0, -1, "1", True])
def test_bad_timeouts_are_refused(timeout):
    with pytest.raises(InvalidInputError, match="timeout must be"):
        smt_decide(x, {x: (0, 1)}, timeout=timeout)


@pytest.mark.parametrize("expr, ranges, expected", [
    (2 * L / p - L / p, L_P_BOX, True),
    (x**2 - 1, {x: (0, 2)}, True),
    (sympy.sqrt(p), L_P_BOX, False),
    (sympy.exp(x), {x: (0, 1)}, False),
    (x, {}, False),
    (x, {x: (1, 0)}, False),
])
def test_is_rational_function_problem(expr, ranges, expected):
    assert is_rational_function_problem(expr, ranges) is expected


# --------------------------------------------------------------------------- z3 is optional


def test_without_z3_the_call_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "z3", None)   # makes `import z3` raise ImportError
    assert is_rational_function_problem(x, {x: (0, 1)})
    with pytest.raises(MissingDependencyError, match="pip install z3-solver"):
        smt_decide(x, {x: (0, 1)})


def test_without_z3_the_module_still_imports():
    code = ("import sys; sys.modules['z3'] = None; import dagtheory.smt as smt; "
            "print(smt.is_rational_function_problem(1, {}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_result_is_a_frozen_dataclass():
    result = smt_decide(x, {x: (0, 1)})
    assert isinstance(result, SMTResult)
    with pytest.raises(AttributeError):
        result.status = "refuted"
