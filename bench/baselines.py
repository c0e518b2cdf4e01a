"""Baselines written from the definitions of docs/theory.md, independent of the engine.

* :func:`fidelity_matrix_power`: §2's node and minimax fidelity by the obvious
  route, forming the matrix powers ``Δ^t`` with full ``n × n`` products,
  ``O(K · n³)`` per matrix.
* :func:`mixing_proxy_monte_carlo`: §6's Monte-Carlo mixing estimator in plain
  Python (lists of floats, :class:`random.Random`), one walk at a time.

Neither validates its input: both expect valid causal, row-stochastic
attention (§1), such as :func:`inputs.random_attention` produces.
"""

import math
import random
from typing import Any, NamedTuple

import numpy as np

__all__ = ["MatrixPowerFidelity", "MonteCarloEstimate", "fidelity_matrix_power",
           "mixing_proxy_monte_carlo", "source_indices"]


class MatrixPowerFidelity(NamedTuple):
    """Result of :func:`fidelity_matrix_power`.

    value : ndarray, shape (...)
        ``φ_min^K = min_{v ∈ S} φ_v^K``.
    node : ndarray of int, shape (...)
        The arg-min source (smallest index among ties).
    per_node : ndarray, shape (..., n)
        ``φ_v^K = max_{1 ≤ t ≤ K} S_t(v)`` for every node.
    t : ndarray of int, shape (..., n)
        The first step at which ``S_t(v)`` reaches ``φ_v^K``.
    """

    value: Any
    node: Any
    per_node: Any
    t: Any


class MonteCarloEstimate(NamedTuple):
    """Result of :func:`mixing_proxy_monte_carlo` with ``with_stderr=True``."""

    value: float
    stderr: float
    num_walks: int


def source_indices(sources, n):
    """The source set ``S`` of §2: ``"non-sink"`` (``0..n-2``), ``"all"`` or explicit indices."""
    if isinstance(sources, str):
        if sources == "non-sink":
            return np.arange(n - 1)
        if sources == "all":
            return np.arange(n)
        raise ValueError(f"sources must be 'non-sink', 'all' or a list of indices; got {sources!r}")
    indices = sorted({int(s) % n for s in sources})
    if not indices:
        raise ValueError("sources is empty")
    return np.asarray(indices)


def fidelity_matrix_power(attention, horizon=100, sources="non-sink"):
    """Node and minimax fidelity (§2) from full matrix powers of ``Δ = A``.

    Implements, literally,

        S_t(v) = [Δ^t]_{τ, v},   φ_v^K = max_{1 ≤ t ≤ K} S_t(v),   φ_min^K = min_{v ∈ S} φ_v^K,

    with ``M_1 = Δ`` and ``M_t = M_{t-1} Δ`` as full ``n × n`` products (batched
    over leading axes with :func:`numpy.matmul`), and ``S_t = M_t[τ, :]``, the
    last row (``τ = n - 1``). Cost ``O(K · n³)`` per matrix, against
    ``O(K · n²)`` for the row-vector iteration of §2.

    Parameters
    ----------
    attention : array_like, shape (..., n, n)
        Causal, row-stochastic attention (not validated).
    horizon : int
        ``K >= 1``.
    sources : "non-sink", "all" or list of int
        The source set of §2 (default: every node but the sink).

    Returns
    -------
    MatrixPowerFidelity
    """
    delta = np.asarray(attention, dtype=np.float64)
    horizon = int(horizon)
    if horizon < 1:
        raise ValueError(f"horizon must be >= 1; got {horizon}")
    n = delta.shape[-1]
    power = delta.copy()
    best = power[..., -1, :].copy()
    first = np.ones(best.shape, dtype=np.int64)
    for t in range(2, horizon + 1):
        power = power @ delta
        signal = power[..., -1, :]
        better = signal > best
        best = np.where(better, signal, best)
        first = np.where(better, t, first)
    chosen = source_indices(sources, n)
    values = best[..., chosen]
    position = np.argmin(values, axis=-1)
    return MatrixPowerFidelity(
        value=np.take_along_axis(values, position[..., None], axis=-1)[..., 0],
        node=chosen[position],
        per_node=best,
        t=first,
    )


def mixing_proxy_monte_carlo(combined_attention, num_walks=500, max_steps=100, seed=0, *,
                             with_stderr=False):
    """The Monte-Carlo mixing estimator of §6, in plain Python.

    For every start ``c`` other than the sink ``τ = n - 1``, ``num_walks`` walks
    are simulated one at a time. A walk at ``c`` draws ``r ~ U[0, 1)`` and scans
    the running column sums ``C_k = Σ_{k' ≤ k} Ā[k', c]`` for ``k = 0, 1, …``,
    moving to the first ``k`` with ``C_k ≥ r``, or to ``τ`` when there is none.
    It stops at ``τ`` or after ``max_steps`` steps. The estimate is the mean over
    all ``n`` starts (``τ`` counting 0 steps) of the mean step count.

    Parameters
    ----------
    combined_attention : array_like, shape (n, n)
        The combined attention ``Ā = Σ_h w_h A^(h)`` (unnormalized columns are
        read as they are, as §6 prescribes).
    num_walks : int
        Walks per start (at least 2 for the standard error).
    max_steps : int
        Cap on each walk's length.
    seed : int
        Seed of the :class:`random.Random` generator.
    with_stderr : bool, keyword-only
        Return a :class:`MonteCarloEstimate` with the standard error
        ``sqrt(Σ_c s_c² / N) / n`` (sample variances ``s_c²`` of the step counts
        from each start, ``N = num_walks``) instead of the bare mean.

    Returns
    -------
    float or MonteCarloEstimate
    """
    matrix = np.asarray(combined_attention, dtype=np.float64)
    if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
        raise ValueError(f"combined_attention must have shape (n, n); got {matrix.shape}")
    num_walks, max_steps = int(num_walks), int(max_steps)
    if num_walks < 2 or max_steps < 1:
        raise ValueError("need num_walks >= 2 and max_steps >= 1")
    n = matrix.shape[0]
    sink = n - 1
    columns = matrix.T.tolist()  # columns[c][k] = Ā[k][c], plain floats
    draw = random.Random(seed).random
    total_mean = 0.0
    total_variance = 0.0
    for start in range(sink):
        count = 0
        count_squared = 0
        for _ in range(num_walks):
            position = start
            steps = 0
            while position != sink and steps < max_steps:
                r = draw()
                column = columns[position]
                running = 0.0
                target = sink
                for k in range(n):
                    running += column[k]
                    if running >= r:
                        target = k
                        break
                position = target
                steps += 1
            count += steps
            count_squared += steps * steps
        mean = count / num_walks
        total_mean += mean
        total_variance += (count_squared - count * mean) / (num_walks - 1)
    value = total_mean / n
    if not with_stderr:
        return value
    stderr = math.sqrt(max(total_variance, 0.0) / num_walks) / n
    return MonteCarloEstimate(value=value, stderr=stderr, num_walks=num_walks)
