"""Hypothesis strategies for the test suite: exact (rational) and float causal attention."""

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st


@st.composite
def rational_attention(draw, n=None, *, min_n=2, max_n=6, max_weight=4, positive_diagonal=False):
    """An exact causal row-stochastic matrix of Fractions, shape (n, n)."""
    n = draw(st.integers(min_n, max_n)) if n is None else n
    rows = []
    for i in range(n):
        weights = draw(st.lists(st.integers(0, max_weight), min_size=i + 1, max_size=i + 1))
        if positive_diagonal and weights[i] == 0:
            weights[i] = 1
        if sum(weights) == 0:
            weights[i] = 1
        total = sum(weights)
        rows.append([Fraction(w, total) for w in weights] + [Fraction(0)] * (n - i - 1))
    return np.array(rows, dtype=object)


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


def to_float(array):
    """Float copy of an exact array."""
    return np.asarray(array, dtype=float)
