r"""The signal is a posynomial in the head weights (§5).

Statement. For an exact head system with weights ``β``, the signal
``S_t(v; β) = [Δ̄(β)^t]_{τ, v}`` is a polynomial in ``β_1..β_H`` with
non-negative coefficients, homogeneous of degree ``t`` (or zero), and
non-decreasing in each ``β_h`` on the non-negative orthant: every partial
derivative ``∂S_t/∂β_h`` again has non-negative coefficients.

Checked symbolically with :func:`dagtheory.symbolic.signal_polynomial` on
small systems from ``rational_systems`` (``n ≤ 4``, ``H ≤ 2``) for ``t ≤ 4``.
"""

from hypothesis import strategies as st

from dagtheory.checks import theorem
from dagtheory.symbolic import signal_polynomial
from dagtheory.strategies import rational_systems

cases = st.tuples(rational_systems(max_heads=2, max_n=4, max_weight=3),
                  st.integers(1, 4), st.integers(0, 3))


@theorem("posynomial", strategy=cases)
def posynomial(case):
    """S_t(v; β) has non-negative coefficients, is homogeneous of degree t and monotone in β."""
    system, t, v = case
    v %= system.n
    poly = signal_polynomial(system, t, v)
    if poly.is_zero:
        return
    assert all(c >= 0 for c in poly.coeffs()), f"S_{t}({v}) = {poly.as_expr()} has a negative coefficient"
    assert poly.is_homogeneous and poly.total_degree() == t, (
        f"S_{t}({v}) = {poly.as_expr()} is not homogeneous of degree {t}")
    for symbol in poly.gens:
        derivative = poly.diff(symbol)
        assert all(c >= 0 for c in derivative.coeffs()), (
            f"∂S_{t}({v})/∂{symbol} = {derivative.as_expr()} has a negative coefficient")


STATEMENTS = [posynomial]
