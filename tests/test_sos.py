"""Tests of dagtheory.sos: exact sum-of-squares certificates on boxes."""

import dataclasses
import itertools
import json
import time
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Interval, Rational, oo

from dagtheory.exceptions import InvalidInputError, InvalidTypeError
from dagtheory.sos import (
    SOSCertificate,
    is_polynomial_problem,
    sos_certificate,
    verify_sos_certificate,
)

x, y, z = sympy.symbols("x y z")
SQUARE = {x: (-1, 1), y: (-1, 1)}

#: (expr, ranges, options): statements that are true with a margin, so certifiable.
CERTIFIABLE = [
    (x**4 + y**4 - x * y + Rational(1, 5), SQUARE, {}),
    (x**2 - x + 1, {x: (-5, 5)}, {}),
    (x**3 - x + 1, {x: (0, 2)}, {}),                           # odd degree
    (x, {x: (1, 2)}, {}),                                      # linear, via x − 1 ≥ 0
    (sympy.Integer(3), {}, {}),                                # a constant
    (x**2 - 2 * x * y + y**2 + 1, {x: Interval(-oo, oo), y: Interval(-oo, oo)}, {}),
    (x * y + 1, {x: Interval(0, oo), y: Interval(0, oo)}, {"preordering": True}),
    (Rational(9, 10) - x**2 - x * y * z,
     {x: (Rational(-1, 2), Rational(1, 2)), y: (-1, 1), z: (-1, 1)}, {}),
    (x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + Rational(101, 100),      # Motzkin + 1/100
     {x: (-2, 2), y: (-2, 2)}, {"max_degree": 8}),
]

#: False statements (a point of the box makes expr negative): never certified.
FALSE = [
    (x**2 - Rational(1, 4), {x: (0, 1)}),
    (x * y, SQUARE),
    (x**4 + y**4 - x * y, SQUARE),
    (1 - x**2 - y**2, SQUARE),
    (-sympy.Integer(1), {}),
    (x - 1, {x: Interval(0, oo)}),
]


def _psd_by_sympy(gram):
    """An independent exact test (sympy's own) that a Gram matrix is PSD."""
    return sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row]
                         for row in gram]).is_positive_semidefinite


@pytest.mark.parametrize("expr, ranges, options", CERTIFIABLE)
def test_certificates_of_true_statements_verify_exactly(expr, ranges, options):
    certificate = sos_certificate(expr, ranges, **options)
    assert isinstance(certificate, SOSCertificate)
    assert verify_sos_certificate(expr, certificate, ranges=ranges)
    assert sympy.expand(certificate.as_expr() - expr) == 0
    assert all(_psd_by_sympy(Q) for Q in certificate.grams if len(Q) <= 10)
    assert certificate.multipliers[0] == 1 and certificate.margin > 0


def test_brief_examples_and_their_degrees():
    quartic = sos_certificate(x**4 + y**4 - x * y + Rational(1, 5), SQUARE)
    assert quartic.degree == 4 and quartic.variables == (x, y)
    assert {sympy.expand(g) for g in quartic.multipliers[1:]} >= {
        x + 1, 1 - x, sympy.expand((x + 1) * (1 - x)), y + 1, 1 - y}
    quadratic = sos_certificate(x**2 - x + 1, {x: (-5, 5)})
    assert quadratic.degree == 2 and quadratic.bases[0] == (1, x)


@pytest.mark.parametrize("expr, ranges", FALSE)
def test_false_statements_never_get_a_certificate(expr, ranges):
    assert sos_certificate(expr, ranges) is None


def test_a_zero_inside_the_box_gives_none():
    # (x - 1/2)^2 >= 0 is true, but its zero at 1/2 forces a singular Gram matrix.
    assert sos_certificate((x - Rational(1, 2)) ** 2, {x: (0, 1)}) is None


def test_scs_also_gives_a_verified_certificate():
    expr = x**4 + y**4 - x * y + Rational(1, 5)
    certificate = sos_certificate(expr, SQUARE, solver="SCS")
    assert certificate is not None and verify_sos_certificate(expr, certificate)


def test_degree_raising_finds_a_higher_certificate():
    motzkin = x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + Rational(101, 100)
    box = {x: (-2, 2), y: (-2, 2)}
    certificate = sos_certificate(motzkin, box, max_degree=8)
    assert certificate is not None and certificate.degree in (6, 8)
    assert verify_sos_certificate(motzkin, certificate)


# --------------------------------------------------------------------------- tampering


def _replace_gram(certificate, j, a, b, delta):
    grams = [[list(row) for row in Q] for Q in certificate.grams]
    grams[j][a][b] += delta
    return dataclasses.replace(certificate, grams=tuple(tuple(map(tuple, Q)) for Q in grams))


@pytest.fixture(scope="module")
def quartic():
    expr = x**4 + y**4 - x * y + Rational(1, 5)
    return expr, sos_certificate(expr, SQUARE)


@pytest.mark.parametrize("j, a, b, delta", [
    (0, 0, 0, Fraction(1, 1000)),          # diagonal: the identity breaks
    (0, 1, 2, Fraction(1, 10**9)),         # one off-diagonal entry: not even symmetric
    (1, 0, 0, Fraction(-1, 10**12)),       # a multiplier's Gram matrix
])
def test_a_tampered_gram_entry_fails_verification(quartic, j, a, b, delta):
    expr, certificate = quartic
    assert verify_sos_certificate(expr, certificate)
    assert not verify_sos_certificate(expr, _replace_gram(certificate, j, a, b, delta))


def test_an_identity_that_holds_with_an_indefinite_gram_fails(quartic):
    # Move weight between the diagonal and the off-diagonal pair of the same monomial
    # (z_0 z_0 = 1 and z_1 z_1 = x^2 = z_0 z_3): the identity stays exact, Q_0 turns indefinite.
    expr, certificate = quartic
    basis = certificate.bases[0]
    i_one, i_x, i_xx = basis.index(1), basis.index(x), basis.index(x**2)
    big = Fraction(10**6)
    grams = [[list(row) for row in Q] for Q in certificate.grams]
    grams[0][i_x][i_x] -= 2 * big
    grams[0][i_one][i_xx] += big
    grams[0][i_xx][i_one] += big
    tampered = dataclasses.replace(certificate, grams=tuple(tuple(map(tuple, Q)) for Q in grams))
    assert sympy.expand(tampered.as_expr() - expr) == 0
    assert not verify_sos_certificate(expr, tampered)


def test_a_multiplier_that_is_not_a_box_factor_fails(quartic):
    expr, certificate = quartic
    multipliers = list(certificate.multipliers)
    multipliers[1] = -multipliers[1]
    assert not verify_sos_certificate(expr, dataclasses.replace(certificate, multipliers=tuple(multipliers)))


def test_a_wider_box_or_another_polynomial_fails(quartic):
    expr, certificate = quartic
    assert verify_sos_certificate(expr, certificate, ranges={x: (0, 1), y: (-1, Rational(1, 2))})
    assert not verify_sos_certificate(expr, certificate, ranges={x: (-2, 1), y: (-1, 1)})
    assert not verify_sos_certificate(expr + 1, certificate)
    assert not verify_sos_certificate(expr + z, certificate)


def test_verify_refuses_what_is_not_a_certificate(quartic):
    expr, certificate = quartic
    with pytest.raises(InvalidTypeError, match="SOSCertificate"):
        verify_sos_certificate(expr, certificate.to_dict())
    with pytest.raises(InvalidInputError, match="polynomials"):
        verify_sos_certificate(sympy.sin(x), certificate)


def test_to_dict_is_json_and_exact(quartic):
    _, certificate = quartic
    data = json.loads(json.dumps(certificate.to_dict()))
    assert data["variables"] == ["x", "y"] and data["box"] == {"x": ["-1", "1"], "y": ["-1", "1"]}
    assert data["degree"] == 4 and len(data["terms"]) == len(certificate.grams)
    for term, Q, basis in zip(data["terms"], certificate.grams, certificate.bases):
        assert [[Fraction(v) for v in row] for row in term["gram"]] == [list(row) for row in Q]
        assert term["basis"] == [str(m) for m in basis]


# --------------------------------------------------------------------------- soundness on random input


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(-4, 4), min_size=6, max_size=6), st.integers(-8, 60))
def test_a_certificate_is_never_wrong_on_random_quadratics(coefficients, constant):
    monomials = [x**2, y**2, x * y, x, y, sympy.Integer(1)]
    expr = sum(c * m for c, m in zip(coefficients, monomials)) + Rational(constant, 4)
    certificate = sos_certificate(expr, SQUARE, time_limit=5.0)
    if certificate is None:
        return
    assert verify_sos_certificate(expr, certificate)
    grid = [Rational(k, 4) for k in range(-4, 5)]
    assert all(expr.subs({x: a, y: b}) >= 0 for a, b in itertools.product(grid, grid))


# --------------------------------------------------------------------------- input validation


@pytest.mark.parametrize("expr, match", [
    (sympy.sin(x), "polynomials with rational coefficients only; got sin"),
    (1 / x, "polynomials with rational coefficients only; got 1/x"),
    (sympy.sqrt(x), "polynomials with rational coefficients only"),
    (sympy.sqrt(2) * x, "polynomials with rational coefficients only"),
    (0.5 * x, "float coefficient 0.5"),
])
def test_non_polynomials_are_refused(expr, match):
    with pytest.raises(InvalidInputError, match=match):
        sos_certificate(expr, {x: (1, 2)})


@pytest.mark.parametrize("ranges, match", [
    ({}, r"missing \['x'\]"),
    ({x: Interval(2, 1)}, "range of x is empty"),
    ({x: (2, 1)}, "range of x is empty"),
    ({x: Interval.open(1, 1)}, "range of x is empty"),
    ({x: (0, sympy.sqrt(2))}, "neither rational nor"),
    ({x: (0, 0.5)}, "float end 0.5"),
    ({x: [0, 1]}, "must be a sympy.Interval or a"),
    ({"x": (0, 1)}, "keys of ranges must be sympy Symbols"),
])
def test_bad_ranges_are_refused(ranges, match):
    with pytest.raises(InvalidInputError, match=match):
        sos_certificate(x**2 + 1, ranges)


@pytest.mark.parametrize("options, match", [
    ({"degree": -2}, "degree must be"),
    ({"degree": 2}, "at least the degree of expr"),
    ({"time_limit": 0}, "time_limit must be"),
    ({"solver": "MOSEK_NOT_HERE"}, "solver must be one of"),
])
def test_bad_options_are_refused(options, match):
    with pytest.raises(InvalidInputError, match=match):
        sos_certificate(x**4 + 1, {x: (0, 1)}, **options)


def test_a_one_point_range_is_allowed():
    certificate = sos_certificate(x**2 + y**2 + 1, {x: Interval(1, 1), y: (0, 1)})
    assert certificate is not None and verify_sos_certificate(x**2 + y**2 + 1, certificate)


@pytest.mark.parametrize("expr, ranges, expected", [
    (x**2 - x * y + Rational(1, 3), SQUARE, True),
    (sympy.Integer(2), {}, True),
    (x**2, {}, False),
    (1 / x, {x: (1, 2)}, False),
    (sympy.exp(x), {x: (1, 2)}, False),
    (0.1 * x, {x: (1, 2)}, False),
    (x, {x: (2, 1)}, False),
    (x, {x: (0, sympy.pi)}, False),
])
def test_is_polynomial_problem(expr, ranges, expected):
    assert is_polynomial_problem(expr, ranges) is expected


# --------------------------------------------------------------------------- budget


def test_a_tiny_time_limit_answers_promptly():
    variables = sympy.symbols("v0:4")
    expr = sum(v**6 for v in variables) - sympy.Mul(*variables[:3]) + Rational(1, 10)
    start = time.monotonic()
    certificate = sos_certificate(expr, {v: (-1, 1) for v in variables}, time_limit=0.01)
    assert time.monotonic() - start < 10
    assert certificate is None or verify_sos_certificate(expr, certificate)
