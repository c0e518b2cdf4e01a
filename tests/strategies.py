"""Test-suite strategies built on the public ones of :mod:`dagtheory.strategies`."""

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from dagtheory._arith import to_float  # noqa: F401  (used by the tests)
from dagtheory.strategies import rational_attention  # noqa: F401  (used by the tests)


@st.composite
def rational_system(draw, *, min_heads=1, max_heads=3, min_n=2, max_n=6, positive_diagonal=False):
    """A stack (H, n, n) of exact heads and exact weights on the simplex."""
    n = draw(st.integers(min_n, max_n))
    heads = draw(st.integers(min_heads, max_heads))
    attention = np.stack([draw(rational_attention(n, positive_diagonal=positive_diagonal))
                          for _ in range(heads)])
    raw = draw(st.lists(st.integers(0, 5), min_size=heads, max_size=heads).filter(any))
    weights = np.array([Fraction(w, sum(raw)) for w in raw], dtype=object)
    return attention, weights


@st.composite
def float_attention(draw, *, min_n=2, max_n=12, batch=(), temperature=None):
    """Random float causal attention (softmax of Gaussian scores), shape batch + (n, n)."""
    n = draw(st.integers(min_n, max_n))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.1, 1.0, 5.0])) if temperature is None else temperature
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=scale, size=batch + (n, n))
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)

