"""True and false statements with known answers, for the benchmark of the checkers (bench/checks.py).

Bounds: ``expr ≥ 0`` over a box, each with its truth worked out by hand (a
factorization, a known minimum, or an explicit point). Statements about the
library's quantities are in :func:`statements`.
"""

import sympy
from sympy import Rational as R

x, y, z, w = sympy.symbols("x y z w")
L, p, t = sympy.symbols("L p t", positive=True)

UNIT = (0, 1)
SYMMETRIC = (-1, 1)


def _motzkin():
    return x**4 * y**2 + x**2 * y**4 - 3 * x**2 * y**2 + 1


#: name -> (expr, ranges, true?, why)
BOUNDS = {
    "quartic-margin": (x**4 + y**4 - x*y + R(1, 5), {x: SYMMETRIC, y: SYMMETRIC}, True,
                       "min 3/40 at x = y = ±1/2"),
    "quadratic-1d": (x**2 - x + 1, {x: (-5, 5)}, True, "min 3/4 at x = 1/2"),
    "motzkin": (_motzkin(), {x: (-2, 2), y: (-2, 2)}, True, "AM-GM; zeros at (±1, ±1), not SOS"),
    "square-irrational-zero": (sympy.expand((x**2 - 2)**2), {x: (-3, 3)}, True, "(x² - 2)², zeros at ±√2"),
    "quadratic-form-3d": (x**2 + y**2 + z**2 - x*y - y*z - z*x, {x: SYMMETRIC, y: SYMMETRIC, z: SYMMETRIC},
                          True, "half the sum of squared differences; zero on the diagonal"),
    "am-gm-3": (x**3 + y**3 + z**3 - 3*x*y*z, {x: UNIT, y: UNIT, z: UNIT}, True,
                "AM-GM; zero on the diagonal"),
    "product-of-boxes": (sympy.expand((1 - x**2) * (1 - y**2)), {x: SYMMETRIC, y: SYMMETRIC}, True,
                         "(1 - x²)(1 - y²); zero on the boundary"),
    "chebyshev-shift": (4*x**3 - 3*x + 1, {x: SYMMETRIC}, True, "(x + 1)(2x - 1)²; zeros at -1, 1/2"),
    "quartic-4d": (x**4 + y**4 + z**4 + w**4 - x*y*z*w - x*w / 4 + R(1, 100),
                   {x: SYMMETRIC, y: SYMMETRIC, z: SYMMETRIC, w: SYMMETRIC}, True,
                   "a margin case: minimum ≈ 0.0017 near x = w = ±0.3, y = z = 0"),
    "rational-unbounded": (2 * L / p - L / p, {L: (1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}, True,
                           "L/p > 0"),
    "schur": (x * (x - y) * (x - z) + y * (y - x) * (y - z) + z * (z - x) * (z - y),
              {x: UNIT, y: UNIT, z: UNIT}, True, "Schur's inequality; zeros on the diagonal and at (s, s, 0)"),
    "small-hole": ((x - R(3137, 10000))**2 + (y - R(7291, 10000))**2 - R(1, 10**6), {x: UNIT, y: UNIT}, False,
                   "negative in a disc of radius 1e-3"),
    "quartic-dip": ((x - R(1, 7))**4 + (y - R(1, 7))**4 - (x - R(1, 7)) * (y - R(1, 7)) + R(1, 8) - R(1, 10**4),
                    {x: SYMMETRIC, y: SYMMETRIC}, False, "-1/10⁴ at x = y = 1/7 ± 1/2, negative within ~0.01"),
    "motzkin-dip": (_motzkin().subs({x: x - R(1, 7), y: y - R(1, 7)}, simultaneous=True) - R(1, 1000),
                    {x: (-2, 2), y: (-2, 2)}, False, "-1/1000 at (8/7, 8/7)"),
    "irrational-dip": (sympy.expand((x**2 - 2)**2) - R(1, 10**8), {x: (-3, 3)}, False,
                       "negative within 4e-5 of ±√2"),
    "diagonal-dip": (x**2 + y**2 + z**2 - x*y - y*z - z*x + (x + y + z - R(3, 7))**2 - R(1, 10**6),
                     {x: SYMMETRIC, y: SYMMETRIC, z: SYMMETRIC}, False, "negative only within ~1e-3 of (1/7, 1/7, 1/7)"),
    "small-hole-3d": ((x - R(3137, 10000))**2 + (y - R(7291, 10000))**2 + (z - R(1234, 10000))**2 - R(1, 10**6),
                      {x: UNIT, y: UNIT, z: UNIT}, False, "negative in a ball of radius 1e-3"),
    # Not polynomial.
    "x-to-the-x": (x**x - R(1, 2), {x: sympy.Interval.Lopen(0, 1)}, True, "min e^(-1/e) ≈ 0.692"),
    "exp-tangent": (sympy.exp(x) - 1 - x, {x: (-2, 2)}, True, "convex, tangent at 0"),
    "log-taylor": (sympy.log(1 + x) - x + x**2 / 2, {x: (0, 1)}, True, "derivative x²/(1+x) ≥ 0, zero at 0"),
    "sin-taylor": (sympy.sin(x) - x + x**3 / 6, {x: (0, 2)}, True, "alternating Taylor series; zero at 0"),
    "entropy-irrational": (x * sympy.log(x) + sympy.exp(-1), {x: sympy.Interval.Lopen(0, 1)}, True,
                           "min 0 at x = 1/e"),
    "chernoff-step": (R(1, 4) - sympy.exp(-t / 16), {t: sympy.Interval(16 * sympy.log(4), sympy.oo)}, True,
                      "e^(-t/16) ≤ 1/4 from t = 16 ln 4"),
    "exp-dip": (sympy.exp(x) - 1 - x - x**2 * R(51, 100), {x: (0, 1)}, False, "negative near 0: e^x - 1 - x ≈ x²/2"),
    "log-hole": (sympy.log(1 + (x - R(1, 3))**2 + (y - R(2, 7))**2) - R(1, 10**6), {x: UNIT, y: UNIT}, False,
                 "negative in a disc of radius ≈ 1e-3"),
}


# --------------------------------------------------------------------------- statements

#: Theorems of proofs/ (true) and its conjectures, with their known answers (C1: docs/theory.md §3).
PROOFS = {"M1": True, "M2": True, "M3": True, "attention-sink": True, "cross-head": True,
          "posynomial": True, "example2-amplification-interval": True, "C1": False, "FALSE_COMBINED": False}


def _theorem(name, strategy, check, margin=None):
    """A conjecture, with its margin where the installed checker knows margins."""
    import inspect

    from dagtheory.checks import theorem

    options = {"margin": margin} if margin and "margin" in inspect.signature(theorem).parameters else {}
    return theorem(name, kind="conjecture", strategy=strategy, **options)(check)


def _slow_mixture(system):
    """Heads that each mix within 150 steps give a mixture that mixes within 130 (false, rare)."""
    import math

    from dagtheory.markov import mixing_time

    per_head = [mixing_time(walk, max_steps=150, over_budget="nan") for walk in system.walks]
    if any(math.isnan(steps) or steps == math.inf for steps in per_head):
        return
    mixture = mixing_time(system, max_steps=130, over_budget="nan")
    assert not math.isnan(mixture), f"heads mix in {per_head} <= 150 steps; the mixture needs more than 130"


def _d10(attention):
    from dagtheory.graph import SinkDAG
    from dagtheory.markov import distance_to_sink

    return distance_to_sink(SinkDAG(attention).walk, 10)[10]


def _outside_window(attention):
    """d(10) is never within 1e-7 of 0.31831 (false: d(10) is continuous in the entries)."""
    assert abs(_d10(attention) - R(31831, 100000)) > R(1, 10**7), "d(10) within 1e-7 of 0.31831"


def _window_margin(attention):
    return float(abs(_d10(attention) - R(31831, 100000)) - R(1, 10**7))


def _every_token_reaches_the_sink(attention):
    """φ_min^20 > 0 when every row i ≥ 1 has two non-zero entries (false: a token nobody attends to)."""
    import numpy as np

    from dagtheory.fidelity import minimax_fidelity

    if any(np.count_nonzero(np.asarray(attention)[i]) < 2 for i in range(1, len(attention))):
        return
    value = minimax_fidelity(attention, horizon=20).value
    assert value > 0, f"φ_min^20 = {value}"


def _combined_walk_no_slower(system):
    """The walk of Ā mixes no slower than the mixture of walks P̄ (false, docs/checking.md)."""
    import math

    from dagtheory.markov import mixing_time

    mixture = mixing_time(system, max_steps=5_000, over_budget="nan")
    combined = mixing_time(system.combined(), max_steps=5_000, over_budget="nan")
    if math.isnan(mixture) or math.isnan(combined):
        return
    assert combined <= mixture, f"combined walk {combined} > mixture {mixture}"


def statements():
    """name -> (Statement, true?): the statements of proofs/ and planted false ones."""
    from dagtheory.checks import discover
    from dagtheory.strategies import causal_attention, head_systems

    found = {s.name: s for s in discover()}
    cases = {name: (found[name], truth) for name, truth in PROOFS.items()}
    planted = {
        "rare-slow-mixture": _theorem("rare-slow-mixture", head_systems(min_heads=2, max_heads=2, max_n=5),
                                      _slow_mixture),
        "d10-window": _theorem("d10-window", causal_attention(n=3, temperature=1.0), _outside_window,
                               margin=_window_margin),
        "every-token-reaches-sink": _theorem("every-token-reaches-sink", causal_attention(max_n=5),
                                             _every_token_reaches_the_sink),
        "combined-walk-vs-mixture": _theorem("combined-walk-vs-mixture",
                                             head_systems(min_heads=2, max_heads=3, max_n=6),
                                             _combined_walk_no_slower),
    }
    cases.update({name: (statement, False) for name, statement in planted.items()})
    return cases
