r"""Theorem M3 (§3): mixing of the mixture walk.

Statement. For heads ``P^(1..H)`` on ``n`` tokens with forward probabilities
``p_h`` and weights ``α`` on the simplex, the mixture walk ``P̄(α)`` has

    p(P̄) ≥ p̄ = Σ_h α_h p_h   and   T_mix(P̄, ε) ≤ ⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉,

with ``N = n - 1`` and ``ε = 1/4``. Checked on float systems from
``head_systems`` (weights on the simplex, boundary included); systems whose
bound exceeds ``MAX_BOUND`` steps are not simulated. Margin: the smaller of
``p(P̄) − p̄`` and ``ε − d_P̄(B)`` at the bound ``B``.
"""

import math

from dagtheory.checks import theorem
from dagtheory.markov import distance_to_sink, mixing_time, mixture_mixing_bound
from dagtheory.strategies import head_systems

MAX_BOUND = 20_000
TOLERANCE = 1e-12


def _systems():
    return head_systems(max_heads=3, max_n=6)


def _m3_margin(system):
    bound = mixture_mixing_bound(system)
    slack = float(bound.p_mixture) - float(bound.p_bar)
    if bound.bound == math.inf or bound.bound > MAX_BOUND:
        return slack
    return min(slack, 0.25 - float(distance_to_sink(system.mixture_walk(), int(bound.bound))[-1]))


@theorem("M3", strategy=_systems(), margin=_m3_margin)
def m3(system):
    """p(P̄) ≥ Σ α_h p_h and T_mix(P̄) ≤ M3's bound."""
    bound = mixture_mixing_bound(system)
    assert float(bound.p_mixture) >= float(bound.p_bar) - TOLERANCE, (
        f"p(P̄)={bound.p_mixture} < Σ α_h p_h={bound.p_bar}")
    if bound.bound == math.inf or bound.bound > MAX_BOUND:
        return
    steps = mixing_time(system, max_steps=max(int(bound.bound), 1), over_budget="nan")
    assert not (isinstance(steps, float) and math.isnan(steps)) and steps <= bound.bound, (
        f"T_mix(P̄)={steps} > M3 bound {bound.bound}")


STATEMENTS = [m3]
