r"""The attention sink (§2): token 0 keeps all of its signal in the limit.

Statement. Let ``A`` be causal and row-stochastic with ``A[i, i] < 1`` for
every ``i ≥ 1`` (``A[0, 0] = 1`` always, by causality). Then the
infinite-horizon node fidelity of token 0 is ``φ_0 = sup_t S_t(0) = 1``: the
backward walk from the sink ``τ`` moves only to earlier tokens, leaves every
token ``i ≥ 1`` with positive probability, and is absorbed at token 0.

Checked exactly (``node_fidelity(horizon=None)`` on Fraction attention from
``rational_attention``, filtered to diagonals below 1).
"""

from fractions import Fraction

from dagtheory.checks import theorem
from dagtheory.fidelity import node_fidelity
from dagtheory.strategies import rational_attention

heads = rational_attention(max_n=6).filter(
    lambda A: all(A[i, i] < 1 for i in range(1, A.shape[0])))


@theorem("attention-sink", strategy=heads)
def attention_sink(attention):
    """φ_0 = 1 when every diagonal entry but A[0, 0] is below 1."""
    fidelity = node_fidelity(attention, horizon=None)
    value = fidelity.value[0]
    assert value == Fraction(1), f"φ_0 = {value}, not 1"
    assert fidelity.error_bound[0] == 0, f"φ_0 not certified (error bound {fidelity.error_bound[0]})"


STATEMENTS = [attention_sink]
