r"""Example 2 (§2): the equal mixture amplifies by ρ = 10/9.

Statement. For §2's Example 2 (two edge-list heads on ``u, v, w, τ``, weights
``β = (1/2, 1/2)``) at horizon ``K = 20``, the best single head has minimax
fidelity ``3/8`` (head 1), the mixture ``5/12``, so ``ρ = 10/9 > 1``.
Moreover the amplification is not special to ``β = (1/2, 1/2)``: every weight
``β_1 ∈ [1/3, 9/10]`` gives a combined minimax fidelity above ``3/8``.

Assumptions: exact rational weights; horizon 20; sources ``u, v, w``.
The first part is an exact computation with Fractions; the second a
Hypothesis property over rational ``β_1`` in the interval, each checked exactly.
"""

from fractions import Fraction

from hypothesis import strategies as st

from dagtheory.checks import Statement, theorem
from dagtheory.examples import paper_example2
from dagtheory.fidelity import amplification, minimax_fidelity

_WEIGHTS = st.fractions(min_value=Fraction(1, 3), max_value=Fraction(9, 10), max_denominator=60)


def _example2():
    result = amplification(paper_example2(), horizon=20)
    return (result.best_value == Fraction(3, 8) and result.combined == Fraction(5, 12)
            and result.ratio == Fraction(10, 9))


amplification_example2 = Statement(
    name="example2-amplification", kind="theorem", strategy=None, check=None,
    exact=_example2, docstring="ρ = 10/9 for Example 2 at horizon 20.")



def _interval_margin(beta_1):
    return float(minimax_fidelity(paper_example2().combined([beta_1, 1 - beta_1]), 20).value - Fraction(3, 8))


@theorem("example2-amplification-interval", strategy=_WEIGHTS, margin=_interval_margin)
def amplification_interval(beta_1):
    """φ_min^20(Δ̄(β_1, 1 - β_1)) > 3/8 for β_1 in [1/3, 9/10]."""
    value = minimax_fidelity(paper_example2().combined([beta_1, 1 - beta_1]), 20).value
    assert value > Fraction(3, 8), f"β_1 = {beta_1}: φ_min = {value} <= 3/8"


STATEMENTS = [amplification_example2, amplification_interval]
