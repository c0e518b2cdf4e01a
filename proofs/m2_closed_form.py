r"""Theorem M2 (§3): the closed-form mixing bound.

Statement. For the forward walk ``P`` of a causal row-stochastic head with
forward probability ``p > 0`` and depth ``L``,

    T_mix(ε) ≤ ⌈max(2L/p, 8 ln(1/ε)/p)⌉      (ε = 1/4).

Property part: float heads from ``causal_attention`` at temperatures
0.3–10 (positive diagonals, so the walk is defined); walks whose bound exceeds
``MAX_BOUND`` steps are outside the checked range and pass vacuously.
Exact part: by M1 it is enough that ``Pr[Bin(B, p) ≤ L - 1] ≤ 1/4`` at the
closed form ``B``; this is proved for every ``p ∈ (0, 1]`` and every depth
``L ≤ 50`` by :func:`dagtheory.symbolic.check_closed_form_bound` (arb-ball
enclosures of the binomial tail at the worst ``p`` of each value of ``B``, and a
Poisson bound for all larger ``B`` at once). Margin: ``ε − d(B)``.
"""

import math
from fractions import Fraction

from hypothesis import strategies as st

from dagtheory.checks import theorem
from dagtheory.graph import SinkDAG
from dagtheory.markov import distance_to_sink, mixing_bound, mixing_time
from dagtheory.symbolic import check_closed_form_bound
from dagtheory.strategies import causal_attention

#: Walks whose bound is larger than this many steps are not simulated.
MAX_BOUND = 20_000

EPS = Fraction(1, 4)

#: Depths covered by the exact part.
MAX_DEPTH = 50

float_heads = st.sampled_from((0.3, 1.0, 3.0, 10.0)).flatmap(
    lambda temperature: causal_attention(max_n=8, temperature=temperature))


def _tail_at_closed_form():
    return check_closed_form_bound(MAX_DEPTH, EPS)


def check_mixing_bound(attention, bound_of):
    """``T_mix ≤ bound_of(depth, p)`` for the walk of ``attention``."""
    walk = SinkDAG(attention).walk
    bounds = mixing_bound(walk)
    p, depth = float(bounds.p), int(bounds.depth)
    if p <= 0:
        return
    bound = bound_of(depth, p)
    if bound > MAX_BOUND:
        return
    steps = mixing_time(walk, max_steps=max(bound, 1), over_budget="nan")
    assert not (isinstance(steps, float) and math.isnan(steps)) and steps <= bound, (
        f"T_mix={steps} > bound {bound} (L={depth}, p={p:.6g})")


def closed_form(depth, p):
    return math.ceil(max(2 * depth / p, 8 * math.log(4) / p))


def _m2_margin(attention):
    """``ε − d(B)`` at M2's bound ``B``: negative exactly when ``T_mix > B``."""
    walk = SinkDAG(attention).walk
    bounds = mixing_bound(walk)
    p, depth = float(bounds.p), int(bounds.depth)
    if p <= 0 or closed_form(depth, p) > MAX_BOUND:
        return 1.0
    return float(EPS) - float(distance_to_sink(walk, closed_form(depth, p))[-1])


@theorem("M2", strategy=float_heads, exact=_tail_at_closed_form, margin=_m2_margin)
def m2(attention):
    """T_mix(1/4) ≤ ⌈max(2L/p, 8 ln 4/p)⌉."""
    check_mixing_bound(attention, closed_form)


STATEMENTS = [m2]
