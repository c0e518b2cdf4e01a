"""Tests of dagtheory.intervals.verify_interval_certificate: independent re-checks of certificates."""

import copy
import functools
import json
from fractions import Fraction

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st
from sympy import Interval, Rational

from dagtheory.exceptions import InvalidInputError, InvalidTypeError
from dagtheory.intervals import prove_nonnegative, verify_interval_certificate

x, y, z = sympy.symbols("x y z")
UNIT = {x: Interval(0, 1), y: Interval(0, 1)}
SQUARE = {x: Interval(-1, 1), y: Interval(-1, 1)}
CUBE = {x: Interval(-1, 1), y: Interval(-1, 1), z: Interval(-1, 1)}
QUARTIC = x**4 + y**4 - x * y + Rational(1, 5)
MOTZKIN = x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1

#: name → (expr, ranges, whether the certificate also proves its whole (float hull) box)
PROVED = {
    "quartic": (QUARTIC, SQUARE, True),
    "motzkin": (MOTZKIN, {x: Interval(-2, 2), y: Interval(-2, 2)}, True),
    "square at (1/3, 1/2)": (sympy.expand((x - Rational(1, 3)) ** 2 + (y - Rational(1, 2)) ** 2), UNIT, True),
    "(x - y)^2 expanded": (x**2 - 2 * x * y + y**2, SQUARE, True),
    "x y": (x * y, UNIT, True),
    "x + y - 2 x y": (x + y - 2 * x * y, UNIT, True),
    "x (1 - x), open ends": (x * (1 - x), {x: Interval.open(0, 1)}, True),
    "exp(x) - 1 - x": (sympy.exp(x) - 1 - x, {x: Interval(-2, 2)}, True),
    "x - 1 - log x": (x - 1 - sympy.log(x), {x: Interval(Rational(1, 2), 3)}, True),
    "cos x - 1 + x^2/2": (sympy.cos(x) - 1 + x**2 / 2, {x: Interval(-1, 1)}, True),
    "a line of zeros in 3-D": (x**2 + y**2 + z**2 - x * y - y * z - z * x, CUBE, True),
    "elementary functions": (sympy.exp(x) * sympy.atan(y) ** 2 + sympy.tanh(x) ** 2 + sympy.sinh(y) ** 2
                             + sympy.cosh(x) - 1 + sympy.asinh(x) ** 2 + sympy.erf(y) ** 2, SQUARE, True),
    "non-smooth functions": (sympy.Max(x, 1 - x) - Rational(1, 3) + sympy.Abs(y) + sympy.floor(y) + 1,
                             UNIT, True),
    "one-point ranges": (x * y - 1, {x: Interval(3, 3), y: Interval(Rational(1, 3), Rational(1, 3))}, False),
    "an irrational end": (x * (2 - x), {x: Interval(0, sympy.sqrt(2))}, True),
    "pi - 3": (sympy.pi - 3, {}, True),
}

#: Examples whose certificates have hundreds of leaves (about 0.3 s a verification): verified once.
SLOW = {"motzkin", "a line of zeros in 3-D"}


@functools.lru_cache(maxsize=None)
def _certificate(name):
    expr, ranges, _ = PROVED[name]
    proof = prove_nonnegative(expr, ranges, time_limit=15)
    assert proof.status == "holds", proof.detail
    return proof.certificate


def certificate(name):
    """A fresh (deep) copy of the certificate of ``PROVED[name]``, free to tamper with."""
    return copy.deepcopy(_certificate(name))


def verify(name, cert, *, ranges=None):
    """Verify ``cert`` for ``PROVED[name]`` on its ranges (or on ``ranges``)."""
    expr, own, _ = PROVED[name]
    return verify_interval_certificate(expr, cert, ranges=own if ranges is None else ranges)


def leaves(cert, reason, then=None):
    return [leaf for leaf in cert["leaves"] if leaf["reason"] == reason and leaf.get("then") == then]


def drop(cert, index):
    """``cert`` without leaf ``index``, its ``leaf_count`` and ``reasons`` made consistent again."""
    reason = cert["leaves"].pop(index)["reason"]
    cert["leaf_count"] -= 1
    cert["reasons"][reason] -= 1
    if not cert["reasons"][reason]:
        del cert["reasons"][reason]
    return cert


# --------------------------------------------------------------------------- proved examples verify


@pytest.mark.parametrize("name", PROVED)
def test_certificates_of_proved_examples_verify(name):
    assert verify(name, certificate(name)) is True


@pytest.mark.parametrize("name", [n for n, (_, _, whole) in PROVED.items() if whole and n not in SLOW])
def test_certificates_of_float_boxes_verify_without_ranges(name):
    expr, _, _ = PROVED[name]
    assert verify_interval_certificate(expr, certificate(name)) is True


def test_one_point_ranges_are_proved_only_on_the_ranges():
    expr, ranges, _ = PROVED["one-point ranges"]
    cert = certificate("one-point ranges")  # its box is the float hull of 1/3, a little wider
    assert verify_interval_certificate(expr, cert, ranges=ranges)
    assert not verify_interval_certificate(expr, cert)


def test_a_json_round_trip_verifies():
    for name in ("x - 1 - log x", "(x - y)^2 expanded"):
        assert verify(name, json.loads(json.dumps(certificate(name))))


def test_every_leaf_reason_is_exercised():
    seen = {(leaf["reason"], leaf.get("then"), leaf.get("hessian"))
            for name in PROVED for leaf in _certificate(name)["leaves"]}
    assert {reason for reason, _, _ in seen} == {"enclosure", "point", "monotone", "convex"}
    assert {then for _, then, _ in seen} >= {"enclosure", "point", "convex"}
    tests = {"second derivative >= 0", "2x2 determinant", "diagonal dominance"}
    assert {test for _, _, test in seen} >= tests


def test_narrower_ranges_verify_and_wider_ones_do_not():
    cert = certificate("quartic")
    narrower = {x: Interval(0, Rational(1, 3)), y: (-1, Rational(1, 7))}
    assert verify("quartic", cert, ranges=narrower)
    assert not verify("quartic", cert, ranges={x: Interval(-1, 2), y: Interval(-1, 1)})


def test_a_coarse_handmade_certificate_verifies_by_bisection(monkeypatch):
    cert = {"variables": ["x", "y"], "box": [["-1", "1"], ["-1", "1"]], "leaf_count": 1,
            "reasons": {"enclosure": 1}, "leaves": [{"box": [["-1", "1"], ["-1", "1"]],
                                                     "reason": "enclosure", "lower": "0.0"}]}
    assert verify_interval_certificate(QUARTIC, cert)  # one iv enclosure is not enough
    monkeypatch.setattr("dagtheory.intervals._VERIFY_PIECES", 0)
    assert not verify_interval_certificate(QUARTIC, cert)


# --------------------------------------------------------------------------- tampering


def test_a_dropped_leaf_leaves_a_gap():
    cert = certificate("quartic")
    assert not verify("quartic", drop(copy.deepcopy(cert), 0))
    del cert["leaves"][0]  # and the summary no longer matches
    assert not verify("quartic", cert)


def test_a_shrunk_leaf_box_leaves_a_gap():
    cert = certificate("quartic")
    side = cert["leaves"][0]["box"][0]
    side[1] = str((Fraction(side[0]) + Fraction(side[1])) / 2)
    assert not verify("quartic", cert)


def test_overlapping_leaves_with_the_right_total_volume_fail():
    cert = certificate("quartic")
    sizes = {}
    for k, leaf in enumerate(cert["leaves"]):
        size = tuple(Fraction(b) - Fraction(a) for a, b in leaf["box"])
        if size in sizes:
            cert["leaves"][k]["box"] = copy.deepcopy(cert["leaves"][sizes[size]]["box"])
            break
        sizes[size] = k
    else:
        pytest.fail("no two leaves of the same size")
    assert not verify("quartic", cert)


def test_a_box_larger_than_its_leaves_fails():
    cert = certificate("quartic")
    cert["box"][0][1] = "2"
    assert not verify_interval_certificate(QUARTIC, cert)


@pytest.mark.parametrize("name, wrong", [
    ("quartic", QUARTIC - Rational(1, 10)),
    ("quartic", QUARTIC.subs(y, z)),
    ("motzkin", MOTZKIN - Rational(1, 10**6)),
    ("square at (1/3, 1/2)", (x - Rational(1, 3)) ** 2 + (y - Rational(1, 2)) ** 2 - Rational(1, 10**9)),
    ("x - 1 - log x", x - 1 - sympy.log(x) - Rational(1, 10**6)),
    ("x + y - 2 x y", x + y - 3 * x * y),
])
def test_a_wrong_expression_fails(name, wrong):
    assert not verify_interval_certificate(wrong, certificate(name))


@pytest.mark.parametrize("lower", ["-0.5", "100.0", "1/3", "nan", "inf", "zero", None, 0.5])
def test_a_changed_enclosure_lower_bound_fails(lower):
    cert = certificate("quartic")
    leaves(cert, "enclosure")[0]["lower"] = lower
    assert not verify("quartic", cert)


@pytest.mark.parametrize("name, reason, then, new", [
    ("quartic", "enclosure", None, "point"),
    ("quartic", "monotone", "point", "point"),  # the face is no longer applied: not a point
    ("(x - y)^2 expanded", "convex", None, "enclosure"),
    ("x - 1 - log x", "convex", None, "enclosure"),
    ("quartic", "enclosure", None, "trusted"),
])
def test_a_changed_reason_fails(name, reason, then, new):
    cert = certificate(name)
    leaves(cert, reason, then)[0]["reason"] = new
    cert["reasons"] = {}
    for leaf in cert["leaves"]:
        cert["reasons"][leaf["reason"]] = cert["reasons"].get(leaf["reason"], 0) + 1
    assert not verify(name, cert)


def test_a_changed_then_reason_fails():
    cert = certificate("square at (1/3, 1/2)")
    leaves(cert, "monotone", "convex")[0]["then"] = "enclosure"
    assert not verify("square at (1/3, 1/2)", cert)


@pytest.mark.parametrize("change", ["side", "value", "variable", "extra", "none"])
def test_a_changed_monotone_face_fails(change):
    cert = certificate("x + y - 2 x y")
    leaf = leaves(cert, "monotone", "enclosure")[0]
    face = leaf["faces"][0]
    if change == "side":
        face["face"] = "high" if face["face"] == "low" else "low"
    elif change == "value":
        face["value"] = str(Fraction(face["value"]) + Fraction(1, 4))
    elif change == "variable":
        face["variable"] = "w"
    elif change == "extra":
        leaf["faces"].append(dict(face))
    else:
        leaf["faces"] = []
    assert not verify("x + y - 2 x y", cert)


@pytest.mark.parametrize("field, value", [
    ("point", ["3", "3"]),  # outside the leaf
    ("point", ["1"]),
    ("hessian", "diagonal dominance?"),
    ("hessian", "second derivative >= 0"),  # a 1-D test on a 2-D leaf
    ("value", "1"),
    ("value", "one"),
])
def test_a_changed_convex_record_fails(field, value):
    cert = certificate("(x - y)^2 expanded")
    leaves(cert, "convex")[0][field] = value
    assert not verify("(x - y)^2 expanded", cert)


def test_a_changed_point_value_fails():
    cert = certificate("quartic")
    leaves(cert, "monotone", "point")[0]["lower"] = "1/2"
    assert not verify("quartic", cert)
    cert = certificate("x - 1 - log x")  # a transcendental value is compared as written
    leaves(cert, "monotone", "point")[0]["lower"] = "1/8 - log(9/7)"
    assert not verify("x - 1 - log x", cert)


@pytest.mark.parametrize("key, value", [
    ("variables", ["x", "w"]),
    ("variables", ["x", "x"]),
    ("variables", "xy"),
    ("box", [["-1", "1"]]),
    ("box", [["1", "-1"], ["-1", "1"]]),
    ("leaf_count", 3),
    ("reasons", {"enclosure": 28}),
    ("leaves", "all of them"),
])
def test_unreadable_or_inconsistent_parts_give_false(key, value):
    cert = certificate("quartic")
    cert[key] = value
    assert not verify("quartic", cert)


@pytest.mark.parametrize("cert", [{}, {"variables": ["x", "y"]}, {"leaves": None}])
def test_incomplete_certificates_give_false(cert):
    assert verify_interval_certificate(QUARTIC, cert) is False


def test_an_unsupported_expression_gives_false():
    cert = certificate("x y")
    assert verify_interval_certificate(sympy.gamma(x) * y, cert) is False


# --------------------------------------------------------------------------- bad arguments


def test_bad_arguments_are_refused():
    cert = certificate("x y")
    with pytest.raises(InvalidInputError, match=r"certificate must be the dict of IntervalProof.certificate"):
        verify_interval_certificate(x * y, [cert])
    with pytest.raises(InvalidInputError, match=r"expr must be a real-valued sympy expression"):
        verify_interval_certificate(x > y, cert)
    with pytest.raises(InvalidTypeError, match=r"ranges must be a mapping"):
        verify_interval_certificate(x * y, cert, ranges=[(x, Interval(0, 1))])
    with pytest.raises(InvalidInputError, match=r"every variable needs a range; missing \['y'\]"):
        verify_interval_certificate(x * y, cert, ranges={x: Interval(0, 1)})


# --------------------------------------------------------------------------- property

coefficients = st.fractions(min_value=-5, max_value=5, max_denominator=7)
monomials = st.tuples(st.integers(0, 2), st.integers(0, 2))
polynomials = st.lists(st.tuples(coefficients, monomials), min_size=1, max_size=4)
small_rationals = st.fractions(min_value=-2, max_value=2, max_denominator=4)
widths = st.fractions(1, 2, max_denominator=3)
shifts = st.sampled_from([Rational(0), Rational(1, 10), Rational(1)])


def _polynomial(terms):
    return sum((Rational(c.numerator, c.denominator) * x**a * y**b for c, (a, b) in terms), sympy.Integer(0))


@settings(max_examples=15, deadline=None)
@given(polynomials, st.booleans(), shifts, small_rationals, small_rationals, widths)
def test_certificates_of_random_polynomials_verify(terms, square, shift, x0, y0, width):
    p = _polynomial(terms)  # p**2 + shift (zeros where p vanishes) or p + shift, expanded
    expr = sympy.expand(p**2 + shift if square else p + shift)
    ranges = {x: Interval(x0, x0 + width), y: Interval(y0, y0 + width)}
    proof = prove_nonnegative(expr, ranges, max_boxes=200, time_limit=0.5)
    if proof.status == "holds":
        cert = proof.certificate
        assert verify_interval_certificate(expr, cert, ranges=ranges)
        if cert["leaf_count"] > 1:
            assert not verify_interval_certificate(expr, drop(copy.deepcopy(cert), -1), ranges=ranges)
