r"""The paper code's proxies, exactly (§6 of docs/theory.md).

The paper's public code reports two numbers per layer of a trained model. Both
start from the combined attention of the layer's heads,

.. math:: Ā = Σ_h w_h A^{(h)},

with the paper's *learned* weights ``w`` (§1: Frobenius norms of the
out-projection's column blocks, normalized) or uniform weights.

* **Fidelity proxy**: ``100 · φ_min^K(Ā)`` at horizon ``K = 100`` with the
  source set *all nodes*, the sink included (§2 with ``sources="all"``).
  Since ``S_t(τ) = Ā[τ, τ]^t``, the sink's own term is ``φ_τ^K = Ā[τ, τ]``:
  the proxy never exceeds ``100 · Ā[τ, τ]``, and when the sink's
  self-attention is the smallest peak the sink alone decides it.
* **Mixing proxy**: the expected length of a Monte-Carlo walk that reads the
  *unnormalized* columns of ``Ā``. From ``c ≠ τ``, with running column sums
  ``C_k = Σ_{k' ≤ k} Ā[k', c]``, the walk draws ``r ~ U[0, 1)`` and moves to
  the first ``k`` with ``C_k ≥ r``, or to ``τ`` when there is none. Its step
  kernel is

  .. math::

     K[c, k] = \max(0, \min(C_k, 1) - \min(C_{k-1}, 1))  \quad (k < τ),
     \qquad K[c, τ] = 1 - \min(C_{τ-1}, 1),

  with ``K[τ, τ] = 1``. Walks stop at ``τ`` or after ``max_steps = 100``
  steps; the proxy is the mean over all starts (``τ`` included, 0 steps) of
  the expected step count,
  ``mean_c Σ_{t=0}^{max_steps-1} Pr_c[not at τ after t steps]``.

:func:`mixing_proxy` computes that expectation exactly (the miss probabilities
``1 - F_t = K (1 - F_{t-1})`` from ``1 - e_τ``, ``O(max_steps · n²)``, stopping
once every start is settled), in float64 or over the rationals;
:func:`mixing_proxy_mc` is the Monte-Carlo estimator itself, kept only as a
cross-check. ``K`` is not §3's forward walk ``P``: columns are read without
normalization and clipped at 1 in token order, so in particular token 0
(whose column starts with ``Ā[0, 0] = 1``) never moves and always counts
``max_steps`` steps. docs/proxies.md lists every difference from the
quantities of §2 and §3.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._arith import (column_stepper, diagonal, one_like, scalar, to_float, unit_roundoff, unit_rows,
                     where, zero_like)
from ._validation import check_attention, check_horizon, check_steps, check_weights, is_exact
from .exceptions import InvalidInputError
from ._backend import EXACT_OR_FLOAT64, choose_engine
from .fidelity import MinimaxResult, _last_true, _minimax_from, _node_fidelity

__all__ = [
    "FidelityProxy",
    "MixingProxy",
    "MixingProxyEstimate",
    "combine_heads",
    "fidelity_proxy",
    "step_kernel",
    "mixing_proxy",
    "mixing_proxy_mc",
]

#: Horizon of the paper's fidelity proxy and step cap of its mixing proxy.
PAPER_STEPS = 100


@dataclass(frozen=True)
class FidelityProxy:
    """The paper's fidelity proxy ``100 · φ_min^K(Ā)`` over all nodes (§6).

    Attributes
    ----------
    percent : float, Fraction or ndarray of shape (...)
        ``100 · min_{v} max_{1≤t≤K} [Ā^t]_{τ, v}``, the sink counted as a source.
    node : int or ndarray of int
        The arg-min node (the smallest index among ties).
    t : int or ndarray of int
        The first step at which that node's signal peaks.
    sink_decides : bool or ndarray of bool
        True where the arg-min node is the sink itself: the proxy is then the
        sink's self-attention ``100 · Ā[τ, τ]``.
    minimax : MinimaxResult
        The full §2 result for ``sources="all"`` (per-node fidelities included).

    Examples
    --------
    :func:`fidelity_proxy` returns one. Example 2 (§2) at horizon 20: ``w = 2``
    and the sink tie at ``5/12``, so the proxy is ``100 · 5/12`` and the sink
    does not decide it (the smaller index is reported):

    >>> from dagtheory.examples import paper_example2
    >>> proxy = fidelity_proxy(paper_example2().attention, horizon=20)
    >>> proxy.percent, proxy.node, proxy.sink_decides
    (Fraction(125, 3), 2, False)
    >>> [round(float(x), 6) for x in proxy.minimax.per_node], proxy.minimax.sources.tolist()
    ([0.99346, 0.449653, 0.416667, 0.416667], [0, 1, 2, 3])
    """

    percent: Any
    node: Any
    t: Any
    sink_decides: Any
    minimax: MinimaxResult = field(repr=False)


@dataclass(frozen=True)
class MixingProxy:
    """The exact value of the paper's Monte-Carlo mixing proxy (§6).

    Attributes
    ----------
    value : float, Fraction or ndarray of shape (...)
        Mean over all starts (the sink included) of the expected step count.
    per_start : ndarray, shape (..., n)
        ``Σ_{t=0}^{max_steps-1} Pr_c[not at τ after t steps]`` for every start ``c``.

    Examples
    --------
    :func:`mixing_proxy` returns one; exact input gives Fractions. Example 2
    (§2) with walks capped at 2 steps: token 0 never moves (2 steps), the sink
    counts 0:

    >>> from dagtheory.examples import paper_example2
    >>> result = mixing_proxy(paper_example2().attention, max_steps=2)
    >>> [str(x) for x in result.per_start], result.value
    (['2', '2', '17/12', '0'], Fraction(65, 48))
    """

    value: Any
    per_start: Any


@dataclass(frozen=True)
class MixingProxyEstimate:
    """A Monte-Carlo estimate of the paper's mixing proxy (§6).

    Attributes
    ----------
    value : float or ndarray of shape (...)
        Mean over all starts of the mean step count of the simulated walks.
    stderr : float or ndarray of shape (...)
        Standard error of ``value``, from the per-walk step counts of each
        start (``sqrt(Σ_c s_c² / N) / n``, sample variances ``s_c²``).
    num_simulations : int
        Walks ``N`` per start.

    Examples
    --------
    :func:`mixing_proxy_mc` returns one. With walks capped at 2 steps,
    Example 2's exact value is ``65/48`` (see :class:`MixingProxy`); the
    estimate lies within a few standard errors of it:

    >>> from dagtheory.examples import paper_example2
    >>> estimate = mixing_proxy_mc(paper_example2().attention, max_steps=2, num_simulations=400)
    >>> estimate.num_simulations, 0 < estimate.stderr < 0.05
    (400, True)
    >>> abs(estimate.value - 65 / 48) < 4 * estimate.stderr
    True
    """

    value: Any
    stderr: Any
    num_simulations: int


def _heads(attn):
    attention = check_attention(attn, name="attn", batch_label="head")
    if attention.ndim < 3:
        raise InvalidInputError(
            f"attn must have shape (..., H, T, T), heads on axis -3; got shape {attention.shape}. "
            "Pass a single head as shape (1, T, T)"
        )
    return attention


def _head_weights(head_weights, attention):
    count = attention.shape[-3]
    if head_weights is None:
        return np.full(count, one_like(attention) / count, dtype=attention.dtype)
    weights = check_weights(head_weights, count, exact=is_exact(attention), name="head_weights")
    try:
        np.broadcast_shapes(attention.shape[:-3], weights.shape[:-1])
    except ValueError as err:
        raise InvalidInputError(
            f"head_weights of shape {weights.shape} do not match attn of shape {attention.shape}: "
            "their leading axes must broadcast"
        ) from err
    return weights


def combine_heads(attn, head_weights=None):
    """The combined attention ``Ā = Σ_h w_h A^(h)`` of §6 (the ``Δ̄(β)`` of §2).

    Parameters
    ----------
    attn : array_like, shape (..., H, T, T)
        Heads on axis ``-3``; each head is causal, row-stochastic attention (§1).
    head_weights : array_like of shape (H,) or (..., H), optional
        Non-negative head weights, divided by their sum (raw importances are
        fine). ``None`` gives uniform weights ``1/H``. Leading axes broadcast
        against those of ``attn``.

    Returns
    -------
    ndarray, shape (..., T, T)
        ``float64``, or exact ``Fraction`` when ``attn`` and the weights are exact.

    Raises
    ------
    InvalidInputError
        For attention that is not causal and row-stochastic, fewer than three
        axes, or weights of the wrong length.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> combine_heads(paper_example2().attention)[3]
    array([Fraction(0, 1), Fraction(1, 6), Fraction(5, 12), Fraction(5, 12)], dtype=object)
    >>> combine_heads([[[1.0, 0.0], [0.5, 0.5]], [[1.0, 0.0], [0.0, 1.0]]], head_weights=[3, 1])
    array([[1.   , 0.   ],
           [0.375, 0.625]])
    """
    attention = _heads(attn)
    weights = _head_weights(head_weights, attention)
    return (weights[..., :, None, None] * attention).sum(axis=-3)


def fidelity_proxy(attn, head_weights=None, horizon=PAPER_STEPS, *, backend=None, device=None,
                   dtype=None):
    """The paper's fidelity proxy ``100 · φ_min^K(Ā)``, sink included in the sources (§6).

    Parameters
    ----------
    attn : array_like, shape (..., H, T, T)
        One or more layers of heads; the whole stack is computed in one pass.
    head_weights : array_like of shape (H,) or (..., H), optional
        Head weights (the paper's learned weights, or ``None`` for uniform).
    horizon : int
        ``K >= 1`` (the paper uses 100).
    backend, device, dtype : keyword-only
        Where the iteration runs (see :func:`dagtheory.signal_curves`).

    Returns
    -------
    FidelityProxy

    Raises
    ------
    InvalidInputError
        For invalid attention or weights, or ``horizon < 1``.

    See Also
    --------
    dagtheory.minimax_fidelity : the §2 quantity, with the non-sink source set by default.

    Notes
    -----
    This is ``100 * minimax_fidelity(combine_heads(attn, head_weights), horizon,
    sources="all")``. The sink's own term is ``φ_τ^K = Ā[τ, τ]``, so the proxy
    is at most ``100 · Ā[τ, τ]``.

    Examples
    --------
    Example 2 of §2 at horizon 20: the sink ties with ``w`` (both ``5/12``) and the
    smaller index is reported.

    >>> from dagtheory.examples import paper_example2
    >>> proxy = fidelity_proxy(paper_example2().attention, horizon=20)
    >>> proxy.percent, proxy.node, proxy.t, proxy.sink_decides
    (Fraction(125, 3), 2, 1, False)
    """
    horizon = check_horizon(horizon, allow_none=False)
    combined = combine_heads(attn, head_weights)
    engine = choose_engine(attn, backend, device, dtype, exact=is_exact(combined))
    return proxy_from_fidelity(_node_fidelity(combined, horizon, None, engine))


def proxy_from_fidelity(fidelity):
    """The :class:`FidelityProxy` of the node fidelities of ``Ā`` (sources: all nodes)."""
    n = fidelity.value.shape[-1]
    result = _minimax_from(fidelity, np.arange(n))
    decides = np.asarray(result.node) == n - 1
    return FidelityProxy(
        percent=scalar(result.value * 100),
        node=result.node,
        t=result.t,
        sink_decides=bool(decides) if decides.ndim == 0 else decides,
        minimax=result,
    )


def _kernel(combined):
    """``K`` of §6 from the columns of ``Ā`` (``(..., n, n)``), all columns at once.

    Works on the transpose (row ``c`` of it is column ``c`` of ``Ā``), so the
    running sums run along contiguous memory.
    """
    zero, one = zero_like(combined), one_like(combined)
    columns = np.ascontiguousarray(np.swapaxes(combined, -1, -2))
    capped = np.minimum(np.cumsum(columns, axis=-1), one)  # [..., c, k] = min(C_k, 1)
    kernel = np.maximum(zero, np.diff(capped, axis=-1, prepend=zero))
    kernel[..., -1] = one - capped[..., :, -2]
    kernel[..., -1, :] = zero
    kernel[..., -1, -1] = one
    return kernel


def step_kernel(attn, head_weights=None):
    """The step kernel ``K`` of the paper's Monte-Carlo mixing walk (§6).

    Parameters
    ----------
    attn : array_like, shape (..., H, T, T)
    head_weights : array_like of shape (H,) or (..., H), optional

    Returns
    -------
    ndarray, shape (..., T, T)
        Row ``c`` is the law of the next state from ``c``:
        ``K[c, k] = max(0, min(C_k, 1) - min(C_{k-1}, 1))`` for ``k < τ``,
        ``K[c, τ] = 1 - min(C_{τ-1}, 1)`` and ``K[τ, τ] = 1``, where
        ``C_k = Σ_{k' ≤ k} Ā[k', c]``. Upper-triangular and row-stochastic.

    See Also
    --------
    dagtheory.forward_walk : §3's walk ``P``, which normalizes the columns instead.

    Examples
    --------
    Column 1 sums to ``3/2``: its mass is clipped at 1 in token order, so the
    edge ``1 → τ`` is lost. Column 2 sums to ``1/2``: the missing half goes to ``τ``.

    >>> from fractions import Fraction as F
    >>> A = [[1, 0, 0, 0], [F(1, 2), F(1, 2), 0, 0],
    ...      [0, F(3, 4), F(1, 4), 0], [0, F(1, 4), F(1, 4), F(1, 2)]]
    >>> [[str(x) for x in row] for row in step_kernel([A])]
    [['1', '0', '0', '0'], ['0', '1/2', '1/2', '0'], ['0', '0', '1/4', '3/4'], ['0', '0', '0', '1']]
    """
    return _kernel(combine_heads(attn, head_weights))


def _steps_per_start(kernel, max_steps):
    """``Σ_{t<max_steps} Pr_c[not at τ after t steps]``, stopping once settled.

    The probability of not being at ``τ`` after ``t`` steps is
    ``M_t = 1 - F_t = K M_{t-1}`` from ``M_0 = 1 - e_τ`` (``K`` is
    row-stochastic, so this is ``1 - K F_{t-1}`` without its cancellation: the
    small probabilities keep their digits). ``M_t`` never increases, so the
    steps still to come add at most ``r = (max_steps - 1 - t) M_t(c)``.

    * A start is settled when ``r ≤ u`` times its running total (``u`` the unit
      roundoff; zero in exact arithmetic, where only ``M_t(c) = 0`` settles); a
      start that can never move (``K[c, c] = 1``) counts ``max_steps`` exactly.
    * The walk only moves to later tokens, so the starts left to iterate are
      a prefix: once every start from ``m`` on has ``r ≤ u`` (every running
      total of a non-sink start is at least 1, so neither they nor the starts
      they feed can change by more than ``u`` of their totals), the iteration
      continues on ``K[:m, :m]`` only.

    Every ``_CHECK_EVERY`` steps the prefix is shortened and the loop stops if
    every start is settled.
    """
    n = kernel.shape[-1]
    one = one_like(kernel)
    roundoff = unit_roundoff(kernel)
    stuck = diagonal(kernel) == one
    stuck[..., -1] = False
    missing = one - unit_rows(kernel, -1)
    total = missing + zero_like(missing)  # a copy, in any backend
    m, step = n, column_stepper(kernel)
    for t in range(1, max_steps):
        missing = step(missing)
        total[..., :m] += missing
        if t % _CHECK_EVERY:
            continue
        remaining = missing * (max_steps - 1 - t)
        if bool((stuck[..., :m] | (remaining <= total[..., :m] * roundoff)).all()):
            break
        open_starts = (remaining > roundoff).reshape(-1, m).any(0)
        m_new = int(_last_true(open_starts)) + 1
        if m_new < m:
            m, missing = m_new, missing[..., :m_new]
            step = column_stepper(kernel[..., :m, :m])
    return where(stuck, one * max_steps, total)


#: Steps between two checks of the stopping rule of :func:`_steps_per_start`.
_CHECK_EVERY = 8


def mixing_proxy(attn, head_weights=None, max_steps=PAPER_STEPS, *, backend=None, device=None,
                 dtype=None):
    """The exact value of the paper's Monte-Carlo mixing proxy (§6).

    Parameters
    ----------
    attn : array_like, shape (..., H, T, T)
        One or more layers of heads; the whole stack is computed in one pass.
    head_weights : array_like of shape (H,) or (..., H), optional
        Head weights (the paper's learned weights, or ``None`` for uniform).
    max_steps : int
        Cap on the length of each walk (the paper uses 100); at least 1.
    backend, device, dtype : keyword-only
        Where the iteration runs (see :func:`dagtheory.signal_curves`).

    Returns
    -------
    MixingProxy
        Exact ``Fraction`` values for exact input.

    Raises
    ------
    InvalidInputError
        For invalid attention or weights, or ``max_steps < 1``.

    See Also
    --------
    step_kernel : the walk's kernel ``K``.
    mixing_proxy_mc : the Monte-Carlo estimator of the same number.
    dagtheory.mixing_time, dagtheory.hitting_times : the §3 quantities.

    Notes
    -----
    A walk capped at ``M = max_steps`` steps takes ``min(T_τ, M)`` steps, whose
    mean is ``Σ_{t=0}^{M-1} Pr_c[T_τ > t]``. These probabilities come from
    iterating the column vector ``1 - F_t = K (1 - F_{t-1})`` (never matrix
    powers), ``O(M · T²)`` per layer, stopping once the remaining steps cannot
    change the sums (see ``_steps_per_start``). Token 0 is absorbing under ``K`` (its column starts
    with ``Ā[0, 0] = 1``), so ``per_start[0] == max_steps`` always.

    Examples
    --------
    Example 2 of §2: token 0 never moves; token 1 stays put with probability
    ``3/4`` (4 steps on average), then moves to 2, which stays put with
    probability ``5/12`` (``12/7`` steps) before the walk reaches ``τ``.

    >>> from dagtheory.examples import paper_example2
    >>> result = mixing_proxy(paper_example2().attention)
    >>> [round(float(x), 6) for x in result.per_start]
    [100.0, 5.714286, 1.714286, 0.0]
    >>> round(float(result.value), 6)
    26.857143
    >>> mixing_proxy(paper_example2().attention, max_steps=2).per_start
    array([Fraction(2, 1), Fraction(2, 1), Fraction(17, 12), Fraction(0, 1)], dtype=object)
    """
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    combined = combine_heads(attn, head_weights)
    engine = choose_engine(attn, backend, device, dtype, exact=is_exact(combined))
    return mixing_proxy_of_combined(combined, max_steps, engine)


def mixing_proxy_of_combined(combined, max_steps=PAPER_STEPS, engine=EXACT_OR_FLOAT64):
    """:func:`mixing_proxy` of validated combined attention ``Ā`` (``(..., T, T)``)."""
    per_start = engine.get(_steps_per_start(engine.put(_kernel(combined)), max_steps))
    return MixingProxy(value=scalar(per_start.sum(axis=-1) / per_start.shape[-1]), per_start=per_start)


def _walk_lengths(combined, max_steps, count, rng):
    """Step counts of ``count`` walks from every start ``c < τ``, shape ``(n - 1, count)``."""
    n = combined.shape[-1]
    sink = n - 1
    table = np.ascontiguousarray(np.cumsum(combined, axis=0).T)  # table[c, k] = C_k of column c
    position = np.repeat(np.arange(sink), count)
    steps = np.zeros(position.shape, dtype=np.int64)
    for _ in range(max_steps):
        walking = np.flatnonzero(position != sink)
        if walking.size == 0:
            break
        draws = rng.random(walking.size)
        here = position[walking]
        order = np.argsort(here, kind="stable")
        columns, starts = np.unique(here[order], return_index=True)
        ends = np.append(starts[1:], order.size)
        target = np.empty_like(here)
        for column, lo, hi in zip(columns, starts, ends):
            group = order[lo:hi]
            target[group] = np.searchsorted(table[column], draws[group], side="left")
        position[walking] = np.minimum(target, sink)
        steps[walking] += 1
    return steps.reshape(sink, count)


def mixing_proxy_mc(attn, head_weights=None, max_steps=PAPER_STEPS, num_simulations=500, seed=0):
    """The paper's Monte-Carlo estimator of its mixing proxy (§6), as a cross-check.

    From every start ``c ≠ τ``, ``num_simulations`` walks draw ``r ~ U[0, 1)``
    and move to the first ``k`` with ``C_k ≥ r`` (clipped to ``τ``), until
    they reach ``τ`` or have taken ``max_steps`` steps. The estimate is the
    mean over all starts (``τ`` counting 0) of the mean step count.

    Parameters
    ----------
    attn : array_like, shape (..., H, T, T)
        Batches are simulated one after the other, from the same generator.
    head_weights : array_like of shape (H,) or (..., H), optional
    max_steps : int
        Cap on each walk's length (at least 1).
    num_simulations : int
        Walks per start (at least 2, for the standard error).
    seed : int, numpy Generator or None
        Passed to :func:`numpy.random.default_rng`.

    Returns
    -------
    MixingProxyEstimate

    Raises
    ------
    InvalidInputError
        For invalid attention or weights, ``max_steps < 1`` or ``num_simulations < 2``.

    See Also
    --------
    mixing_proxy : the exact expectation this estimates.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> estimate = mixing_proxy_mc(paper_example2().attention, num_simulations=2000)
    >>> abs(estimate.value - 26.857143) < 4 * estimate.stderr
    True
    """
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    count = check_steps(num_simulations, name="num_simulations", minimum=2)
    combined = to_float(combine_heads(attn, head_weights))
    rng = np.random.default_rng(seed)
    n = combined.shape[-1]
    batch = combined.shape[:-2]
    value = np.empty(batch)
    stderr = np.empty(batch)
    for index in np.ndindex(batch):
        lengths = _walk_lengths(combined[index], max_steps, count, rng)
        value[index] = lengths.mean(axis=1).sum() / n
        stderr[index] = np.sqrt(lengths.var(axis=1, ddof=1).sum() / count) / n
    return MixingProxyEstimate(value=scalar(value), stderr=scalar(stderr), num_simulations=count)
