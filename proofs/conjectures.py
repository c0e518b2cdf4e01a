r"""Conjectures (§8), stated so that a search can refute them.

C1 (mixing of mixtures). For heads whose walks have no trapped node,
``T_mix(P̄(α)) ≤ max_h T_mix(P^(h))``: mixing heads never mixes slower than
the slowest head. Checked on float systems from ``head_systems``; systems with
a head that does not mix within ``MAX_STEPS`` steps are skipped. Margin:
``ε − d_P̄(T)`` at ``T = max_h T_mix(P^(h))``, negative exactly when the mixture
has not mixed by then. **Refuted**: the small-scope enumeration finds a
three-token, two-head edge-list system whose heads mix in 6 and 5 steps and
whose equal mixture needs 7 (docs/theory.md, §3 Conjecture C1).

FALSE_COMBINED ("the combination never beats the best head"). The minimax
fidelity of ``Δ̄(β)`` is at most ``max_h`` of the heads' minimax fidelities,
at horizon ``K = 20``. This is false: §2's Example 2 has ``ρ = 10/9``. It is
kept as a conjecture that the checks must refute, on exact two-head systems
from ``rational_systems``. Margin: the best head's value minus the mixture's.
"""

import math

from dagtheory.checks import theorem
from dagtheory.fidelity import amplification
from dagtheory.markov import distance_to_sink, mixing_time
from dagtheory.strategies import head_systems, rational_systems

MAX_STEPS = 5_000
HORIZON = 20
EPS = 0.25


def _c1_margin(system):
    """``ε − d_P̄(T)`` at ``T = max_h T_mix(P^(h))`` (0 when a head does not mix in the budget)."""
    per_head = [mixing_time(walk, max_steps=MAX_STEPS, over_budget="nan") for walk in system.walks]
    if any(math.isnan(steps) or steps == math.inf for steps in per_head):
        return 1.0
    slowest = int(max(per_head))
    return EPS - float(distance_to_sink(system.mixture_walk(), slowest)[-1])


@theorem("C1", kind="conjecture", strategy=head_systems(min_heads=2, max_heads=3, max_n=6),
         margin=_c1_margin)
def c1(system):
    """T_mix(P̄(α)) ≤ max_h T_mix(P^(h))."""
    per_head = [mixing_time(walk, max_steps=MAX_STEPS, over_budget="nan") for walk in system.walks]
    if any(math.isnan(steps) or steps == math.inf for steps in per_head):
        return
    slowest = max(per_head)
    mixture = mixing_time(system, max_steps=max(int(slowest), 1), over_budget="nan")
    assert not math.isnan(mixture) and mixture <= slowest, (
        f"T_mix(P̄) > {slowest} = max_h T_mix (per head {per_head}): the mixture has not mixed "
        f"after {slowest} steps")


def _combined_margin(system):
    result = amplification(system, horizon=HORIZON)
    return float(result.best_value - result.combined)


@theorem("FALSE_COMBINED", kind="conjecture",
         strategy=rational_systems(min_heads=2, max_heads=2, max_n=4), margin=_combined_margin)
def false_combined(system):
    """φ_min(Δ̄(β)) ≤ max_h φ_min(Δ^(h)) at horizon 20."""
    result = amplification(system, horizon=HORIZON)
    assert result.combined <= result.best_value, (
        f"combined minimax {result.combined} > best single head {result.best_value} "
        f"(head {result.best_head}, ρ = {result.ratio})")


STATEMENTS = [c1, false_combined]
