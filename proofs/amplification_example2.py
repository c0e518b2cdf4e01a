r"""Example 2 (§2): the equal mixture amplifies by ρ = 10/9.

Statement. For §2's Example 2 (two edge-list heads on ``u, v, w, τ``, weights
``β = (1/2, 1/2)``) at horizon ``K = 20``, the best single head has minimax
fidelity ``3/8`` (head 1), the mixture ``5/12``, so ``ρ = 10/9 > 1``.

An exact computation with Fractions; there is nothing to draw.
"""

from fractions import Fraction

from dagtheory.checks import Statement
from dagtheory.examples import paper_example2
from dagtheory.fidelity import amplification


def _example2():
    result = amplification(paper_example2(), horizon=20)
    return (result.best_value == Fraction(3, 8) and result.combined == Fraction(5, 12)
            and result.ratio == Fraction(10, 9))


amplification_example2 = Statement(
    name="example2-amplification", kind="theorem", strategy=None, check=None,
    exact=_example2, docstring="ρ = 10/9 for Example 2 at horizon 20.")

STATEMENTS = [amplification_example2]
