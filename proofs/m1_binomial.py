r"""Theorem M1 (§3): the distance to the sink is at most a binomial tail.

Statement. Let ``P`` be the forward walk of a causal row-stochastic head with
positive diagonal (so every column is non-zero and the walk is defined), with
forward probability ``p = min_{j≠τ} (1 - P[j, j])`` and depth ``L`` (longest
path to the sink in the walk's graph). If ``p > 0`` (no node is trapped; for
``p = 0`` the bound is read as the trivial ``d(t) ≤ 1``), then for every ``t ≥ 0``

    d(t) = max_j (1 - [P^t]_{j,τ}) ≤ Pr[Bin(t, p) ≤ L - 1].

Checked exactly (Fractions, ``math.comb``) for ``t ≤ 30`` on every head of
exact systems drawn by ``rational_systems(positive_diagonal=True)``. The exact
part checks M1's consequence ``T_mix(1/4) ≤ B(1/4)`` on §3's mixing instance.
Margin: the smallest gap ``Pr[Bin(t, p) ≤ L - 1] − d(t)``.
"""

import math

from dagtheory.checks import theorem
from dagtheory.examples import mixing_synergy
from dagtheory.markov import distance_to_sink, forward_probability, mixing_bound, mixing_time
from dagtheory.strategies import rational_systems

T_MAX = 30


def binomial_tail(t, p, below):
    """``Pr[Bin(t, p) ≤ below]``, exact for a Fraction ``p``."""
    return sum(math.comb(t, k) * p ** k * (1 - p) ** (t - k) for k in range(min(below, t) + 1))


def _synergy_heads():
    system = mixing_synergy()
    return all(mixing_time(walk) <= mixing_bound(walk).binomial for walk in system.walks)


def _m1_margin(system):
    """The smallest ``Pr[Bin(t, p) ≤ L - 1] − d(t)`` over heads and ``t ≤ 30``."""
    gaps = [1.0]
    for walk in system.walks:
        p, depth = forward_probability(walk), int(mixing_bound(walk).depth)
        if p > 0:
            gaps += [float(binomial_tail(t, p, depth - 1) - d)
                     for t, d in enumerate(distance_to_sink(walk, T_MAX))]
    return min(gaps)


@theorem("M1", strategy=rational_systems(max_heads=2, max_n=5, positive_diagonal=True),
         exact=_synergy_heads, margin=_m1_margin)
def m1(system):
    """d(t) ≤ Pr[Bin(t, p) ≤ L - 1] for t ≤ 30, for every head."""
    for h, walk in enumerate(system.walks):
        p, depth = forward_probability(walk), int(mixing_bound(walk).depth)
        if p == 0:
            continue
        distance = distance_to_sink(walk, T_MAX)
        for t, d in enumerate(distance):
            tail = binomial_tail(t, p, depth - 1)
            assert d <= tail, f"head {h}, t={t}: d(t)={d} > Pr[Bin({t},{p}) <= {depth - 1}]={tail}"


STATEMENTS = [m1]
