"""Seeded random causal softmax attention for the benchmarks.

Every matrix is a causal softmax (§1 of docs/theory.md): row ``i`` is

    A[i, j] = exp(z[i, j] / T) / Σ_{k ≤ i} exp(z[i, k] / T)   for j ≤ i,   0 for j > i,

with ``z ~ N(0, 1)`` i.i.d. and temperature ``T``. Entries above the diagonal
are exactly 0 (``exp(-inf)``), so the matrices pass the library's strict
causality check.

The array is written in place, one block of rows of one matrix at a time, so
the only memory beyond the result is one block (a few MB). A
``(12, 12, 2048, 2048)`` stack is 4.8 GB by itself; see :func:`attention_bytes`.

Matrix ``(l, h)`` draws from its own stream, seeded by ``(seed, l, h)``: the
first head of the first layer is the same matrix whatever ``L`` and ``H`` are,
and the result does not depend on the block size.
"""

import numpy as np

__all__ = ["attention_bytes", "random_attention"]

#: Target size of one generated block of rows, in bytes.
BLOCK_BYTES = 8 * 2**20


def attention_bytes(layers, heads, n, itemsize=8):
    """Bytes of a dense ``(layers, heads, n, n)`` float64 attention stack."""
    return int(layers) * int(heads) * int(n) * int(n) * int(itemsize)


def _fill_matrix(out, rng, temperature, block_rows):
    """Write one causal softmax matrix into ``out`` (shape ``(n, n)``), block by block."""
    n = out.shape[-1]
    columns = np.arange(n)
    for start in range(0, n, block_rows):
        stop = min(start + block_rows, n)
        block = out[start:stop]
        rng.standard_normal(out=block)
        if temperature != 1.0:
            block /= temperature
        above = columns[None, :] > np.arange(start, stop)[:, None]
        block[above] = -np.inf
        block -= block.max(axis=1, keepdims=True)
        np.exp(block, out=block)
        block /= block.sum(axis=1, keepdims=True)


def random_attention(layers, heads, n, *, temperature=1.0, seed=0, block_rows=None, out=None):
    """A seeded stack of random causal softmax attention, shape ``(layers, heads, n, n)``.

    Parameters
    ----------
    layers, heads, n : int
        Stack shape; ``n >= 2`` tokens.
    temperature : float
        Softmax temperature ``T > 0``: small values give peaked rows, large
        values rows close to uniform over ``j ≤ i``.
    seed : int
        Matrix ``(l, h)`` uses the stream seeded by ``(seed, l, h)``.
    block_rows : int, optional
        Rows generated at once (default: about 8 MB per block).
    out : ndarray, optional
        A C-contiguous float64 array of the right shape to fill instead of
        allocating one.

    Returns
    -------
    ndarray of float64, shape (layers, heads, n, n)
        Every matrix lower-triangular with rows summing to 1 (up to rounding).
    """
    layers, heads, n = int(layers), int(heads), int(n)
    if min(layers, heads) < 1 or n < 2:
        raise ValueError(f"need layers, heads >= 1 and n >= 2; got {layers}, {heads}, {n}")
    if not temperature > 0:
        raise ValueError(f"temperature must be positive; got {temperature}")
    shape = (layers, heads, n, n)
    if out is None:
        out = np.empty(shape, dtype=np.float64)
    elif out.shape != shape or out.dtype != np.float64 or not out.flags.c_contiguous:
        raise ValueError(f"out must be a C-contiguous float64 array of shape {shape}")
    if block_rows is None:
        block_rows = max(1, BLOCK_BYTES // (8 * n))
    for layer in range(layers):
        for head in range(heads):
            rng = np.random.default_rng([int(seed), layer, head])
            _fill_matrix(out[layer, head], rng, float(temperature), int(block_rows))
    return out
