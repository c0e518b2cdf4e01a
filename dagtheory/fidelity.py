r"""Signal diffusion and fidelity (§2 of docs/theory.md).

One step of propagation is ``x ← Δ x`` with ``Δ = A`` (row = receiver). The
share of token ``v``'s signal present at the sink ``τ`` after ``t`` steps is

.. math:: S_t(v) = [Δ^t]_{τ, v},

the probability that the *backward* walk started at ``τ`` (from ``i`` move to
``j`` with probability ``Δ[i, j]``) is at ``v`` at time ``t``. It is computed by
iterating the row vector ``r_t = r_{t-1} Δ`` from ``r_0 = e_τ``, never by
forming matrix powers, on a whole stack ``(..., n, n)`` at once.

* node fidelity at horizon ``K``: ``φ_v^K = max_{1≤t≤K} S_t(v)``;
* infinite-horizon fidelity: ``φ_v = sup_{t≥1} S_t(v)`` (``horizon=None``);
* minimax fidelity: ``φ_min^K = min_{v∈S} φ_v^K`` over a source set ``S``;
* amplification: ``ρ = φ_min(Δ̄) / max_h φ_min(Δ^(h))``.

Infinite horizon
----------------
Because ``Δ`` is lower-triangular, the backward walk only moves to earlier
tokens. For a node with ``Δ[v, v] = 1`` (an absorbing node, such as token 0)
``S_t(v)`` is non-decreasing and its supremum is the absorption probability,
found exactly by a triangular back-substitution. For every other node the mass
``U_t(v)`` on non-absorbing nodes ``i ≥ v`` is non-increasing in ``t`` and
bounds every later ``S_{t'}(v)``; once the running maximum reaches ``U_t(v)``
the supremum is certified. Nodes still uncertified after ``max_steps`` carry
the error bound ``U_t(v) - max_t S_t(v)``.
"""

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

from ._arith import (leave_mass, min_last, one_like, row_times, scalar, suffix_sums, unit_roundoff, unit_rows,
                     where, zero_like, zeros_like_rows)
from ._backend import EXACT_OR_FLOAT64, choose_engine
from ._validation import check_attention, check_horizon, check_sources, check_steps, check_weights, is_exact
from .exceptions import ConvergenceWarning, InvalidInputError
from .graph import HeadSystem, SinkDAG, longest_paths_to_sink
from .resources import require_curves_memory

__all__ = [
    "NOT_ATTAINED",
    "NodeFidelity",
    "MinimaxResult",
    "Amplification",
    "signal_curves",
    "node_fidelity",
    "minimax_fidelity",
    "amplification",
]

#: Step reported for an infinite-horizon supremum that is a limit, never attained.
NOT_ATTAINED = -1

DEFAULT_MAX_STEPS = 100_000


#: Steps between two checks of the stopping and prefix rules of the fidelity loop.
_CHECK_EVERY = 4


@dataclass(frozen=True)
class NodeFidelity:
    """Node fidelity ``φ_v^K`` (§2) of every node.

    Attributes
    ----------
    value : ndarray, shape (..., n)
        ``φ_v^K`` (floats, or Fractions in exact mode).
    t : ndarray of int, shape (..., n)
        The first step at which ``S_t(v)`` reaches ``φ_v^K``; for an infinite
        horizon, :data:`NOT_ATTAINED` where the supremum is a limit.
    horizon : int or None
        ``K``; ``None`` for the infinite horizon.
    error_bound : ndarray, shape (..., n)
        Certified bound on ``φ_v - value`` (infinite horizon); zero otherwise.

    Examples
    --------
    :func:`node_fidelity` returns one. Head 2 of Example 2 (§2): at the
    infinite horizon ``u = 0`` and ``v = 1`` only approach ``1/4`` and ``3/4``
    (limits, so their step is :data:`NOT_ATTAINED`), while ``w`` and ``τ`` peak
    at step 1:

    >>> from dagtheory.examples import paper_example2
    >>> result = node_fidelity(paper_example2().heads[1], horizon=None)
    >>> [str(x) for x in result.value], result.horizon
    (['1/4', '3/4', '1/3', '1/3'], None)
    >>> result.t.tolist(), bool(result.t[0] == NOT_ATTAINED)
    ([-1, -1, 1, 1], True)
    >>> node_fidelity(paper_example2().heads[1], horizon=20).t.tolist()
    [20, 20, 1, 1]
    """

    value: Any
    t: Any
    horizon: Any
    error_bound: Any

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)


@dataclass(frozen=True)
class MinimaxResult:
    """Minimax fidelity ``φ_min^K = min_{v∈S} φ_v^K`` (§2).

    Attributes
    ----------
    value : float, Fraction or ndarray of shape (...)
        The minimax fidelity.
    node : int or ndarray
        The arg-min source (the smallest index among ties).
    t : int or ndarray
        The step at which that node peaks (:data:`NOT_ATTAINED` for a limit).
    sources : ndarray
        The source set ``S``.
    horizon : int or None
    error_bound : float, Fraction or ndarray
        Certified bound on the true value minus ``value`` (infinite horizon).
    fidelity : NodeFidelity
        ``φ_v^K`` of every node, sources or not, with peak steps and error bounds.

    Examples
    --------
    :func:`minimax_fidelity` returns one. Example 2's combined operator
    ``Δ̄(1/2, 1/2)`` (§2): the minimum ``5/12`` over the sources ``0, 1, 2`` is
    at ``w = 2``, reached at step 1:

    >>> from dagtheory.examples import paper_example2
    >>> result = minimax_fidelity(paper_example2(), horizon=20)
    >>> result.value, result.node, result.t, result.sources.tolist()
    (Fraction(5, 12), 2, 1, [0, 1, 2])
    >>> [round(float(x), 6) for x in result.per_node], float(result)
    ([0.99346, 0.449653, 0.416667, 0.416667], 0.416666...)

    A batch of operators gives arrays; indexing picks one:

    >>> batch = minimax_fidelity(paper_example2().attention, horizon=20)
    >>> batch.shape, batch[1].value
    ((2,), Fraction(871696090, 3486784401))
    """

    value: Any
    node: Any
    t: Any
    sources: Any
    horizon: Any
    error_bound: Any
    fidelity: NodeFidelity = field(repr=False)

    @property
    def per_node(self):
        """``φ_v^K`` for every node, shape ``(..., n)``."""
        return self.fidelity.value

    @property
    def shape(self):
        """Batch shape (``()`` for a single operator)."""
        return np.shape(self.fidelity.value)[:-1]

    def __float__(self):
        if self.shape:
            raise TypeError(f"float() needs a single operator; this result has batch shape {self.shape}")
        return float(self.value)

    def __getitem__(self, index):
        """The result for part of the batch: ``result[2]``, ``result[..., :-1]``."""
        if not self.shape:
            raise TypeError("the result of a single operator cannot be indexed")
        index = (index if isinstance(index, tuple) else (index,)) + (slice(None),)
        part = NodeFidelity(self.fidelity.value[index], self.fidelity.t[index], self.horizon,
                            self.fidelity.error_bound[index])
        return _minimax_from(part, self.sources)


@dataclass(frozen=True)
class Amplification:
    """Amplification ``ρ = φ_min(Δ̄) / max_h φ_min(Δ^(h))`` (§2).

    Attributes
    ----------
    per_head : ndarray, shape (..., H)
        Each head's minimax fidelity.
    best_head : int or ndarray
        Index of the best single head (smallest index among ties).
    best_value : float, Fraction or ndarray
        Its minimax fidelity.
    combined : float, Fraction or ndarray
        Minimax fidelity of ``Δ̄(β)``.
    ratio : float, Fraction or ndarray
        ``combined / best_value`` (``inf`` when only the combination reaches every source).
    amplifies : bool or ndarray
        ``ratio > 1``.
    heads : MinimaxResult
        Full per-head results (batch axis ``H`` last).
    combined_result : MinimaxResult
        Full result of the combined operator.

    Examples
    --------
    :func:`amplification` returns one. In Example 2 (§2) head 1 is the best
    single head with ``3/8``; the equal mixture reaches ``5/12``:

    >>> from dagtheory.examples import paper_example2
    >>> result = amplification(paper_example2(), horizon=20)
    >>> [str(x) for x in result.per_head], result.best_head
    (['3/8', '871696090/3486784401'], 0)
    >>> result.ratio, result.amplifies
    (Fraction(10, 9), True)
    >>> result.heads.node.tolist(), result.combined_result.node
    ([1, 0], 2)
    """

    per_head: Any
    best_head: Any
    best_value: Any
    combined: Any
    ratio: Any
    amplifies: Any
    heads: MinimaxResult
    combined_result: MinimaxResult


def _diffusion(op):
    """The validated ``Δ`` of a SinkDAG, a HeadSystem (its combined operator) or an array."""
    if isinstance(op, SinkDAG):
        return op.diffusion
    if isinstance(op, HeadSystem):
        return op.combined().diffusion
    return check_attention(op, name="op")


def _signal_rows(diffusion, steps):
    """Yield ``r_t = r_{t-1} Δ`` for ``t = 1..steps`` from ``r_0 = e_τ``."""
    rows = unit_rows(diffusion, -1)
    for _ in range(steps):
        rows = row_times(rows, diffusion)
        yield rows


def signal_curves(op, horizon, *, backend=None, device=None, dtype=None):
    """The signal at the sink ``S_t(v)`` for ``t = 1..horizon`` (§2).

    Parameters
    ----------
    op : SinkDAG, HeadSystem or array_like of shape (..., n, n)
        A HeadSystem stands for its combined operator ``Δ̄(β)``.
    horizon : int
        ``K >= 1``.
    backend, device, dtype : keyword-only
        Where the iteration runs (see :doc:`/performance`): ``backend`` is
        ``"numpy"`` or ``"torch"`` (default: torch for a tensor input),
        ``device`` a torch device, ``dtype`` ``"float64"`` (default) or ``"float32"``.

    Returns
    -------
    ndarray, shape (..., horizon, n)
        Row ``t - 1`` holds ``S_t``.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> head1 = paper_example2().heads[0]
    >>> [str(s) for s in signal_curves(head1, 3)[:, 1]]
    ['0', '1/4', '3/8']
    """
    diffusion = _diffusion(op)
    steps = check_horizon(horizon, allow_none=False)
    require_curves_memory(diffusion.shape, steps, "signal_curves")
    engine = choose_engine(op, backend, device, dtype, exact=is_exact(diffusion))
    rows = _signal_rows(engine.put(diffusion), steps)
    return np.stack([engine.get(row) for row in rows], axis=-2)


def _settled(rows, best, transient, dropped, slack, roundoff):
    """Nodes whose running maximum no later step can change, and the transient tail mass.

    ``tail[v] = Σ_{i ≥ v, transient} r_t(i) + dropped`` (``dropped``: shape ``(..., 1)``) bounds every later
    ``S_{t'}(v)`` (see :func:`_running_max`).
    """
    tail = suffix_sums(where(transient, rows, zero_like(rows))) + dropped
    settled = where(transient, best >= tail * slack, tail <= best * roundoff)
    return settled, tail


def _prefix_length(settled, tail, best, dropped, roundoff):
    """The shortest prefix ``m`` of tokens that still needs iterating.

    Every node at or beyond ``m`` must be settled, and the transient mass
    beyond ``m`` (dropped from then on) together with the mass dropped before
    must stay within ``u`` times the running maximum of every unsettled node.
    """
    m = settled.shape[-1]
    open_nodes = ~settled
    last_open = int(_last_true(open_nodes.reshape(-1, m).any(0))) + 1
    budget = where(open_nodes, best, float("inf") if roundoff else zero_like(best))
    allowed = min_last(budget)[..., None] * roundoff - dropped if roundoff else -dropped
    fits = (tail - dropped <= allowed).reshape(-1, m).all(0)
    # The tail mass only shrinks with the index, so ``fits`` is False then True.
    return last_open + int((~fits[last_open:]).sum())


def _last_true(mask):
    """Index of the last True entry of a 1-d mask (``-1`` when none)."""
    indices = mask.nonzero()
    indices = indices[0] if isinstance(indices, tuple) else indices[:, 0]
    return indices.max() if len(indices) else -1


def _running_max(diffusion, steps):
    """``max_{t≤steps} S_t`` and the first ``t`` attaining it, stopping once certified.

    After step ``t`` all later signal at ``v`` comes from the mass ``r_t(i)`` on
    transient nodes ``i ≥ v`` (mass only moves to earlier tokens, and an
    absorbing node keeps its mass). So ``U_t(v) = Σ_{i ≥ v, transient} r_t(i)``
    bounds every later ``S_{t'}(v)``: a transient node whose running maximum
    is at least ``U_t(v)`` (times ``1 + 2Kn·u`` for the rounding of the
    remaining steps, ``u`` the unit roundoff) has peaked. An absorbing node's
    signal only grows, by at most ``U_t(v)`` in total: it is settled once
    ``U_t(v) ≤ u · S_t(v)``, i.e. the remaining inflow is below the last digit.

    Two savings follow. Once the nodes from ``m`` on are settled and the
    transient mass there is below ``u`` times the running maximum of every
    unsettled node, the iteration continues on the prefix ``[0, m)`` only
    (``O(m²)`` per step instead of ``O(n²)``), the dropped mass being added to
    every later ``U_t``. When every node is settled the loop stops. In exact
    arithmetic (``u = 0``) only exactly-zero mass is dropped, and values and
    steps are exactly those of the full iteration. The rules are checked every
    ``_CHECK_EVERY`` steps.
    """
    n = diffusion.shape[-1]
    roundoff = unit_roundoff(diffusion)
    slack = 1 + 2 * steps * n * roundoff
    transient = leave_mass(diffusion) > 0
    rows = row_times(unit_rows(diffusion, -1), diffusion)
    best, first = rows + zero_like(rows), zeros_like_rows(diffusion, integer=True) + 1
    dropped = zeros_like_rows(best[..., None])  # shape (..., 1)
    m = n
    for t in range(2, steps + 1):
        rows = row_times(rows, diffusion[..., :m, :m])
        better = rows > best[..., :m]
        best[..., :m] = where(better, rows, best[..., :m])
        first[..., :m] = where(better, t, first[..., :m])
        if t == steps or t % _CHECK_EVERY:
            continue
        settled, tail = _settled(rows, best[..., :m], transient[..., :m], dropped, slack, roundoff)
        if bool(settled.all()):
            break
        m_new = _prefix_length(settled, tail, best[..., :m], dropped, roundoff)
        if m_new < m:
            dropped = tail[..., m_new:m_new + 1]
            rows, m = rows[..., :m_new], m_new
    return best, first


def _absorption_limits(diffusion, absorbing):
    """``lim_t S_t(v)`` at absorbing nodes (0 elsewhere), by back-substitution on ``g (I - Q) = e_τ``."""
    n = diffusion.shape[-1]
    zero, one = zero_like(diffusion), one_like(diffusion)
    leave = np.where(absorbing, one, leave_mass(diffusion))
    visits = np.full(diffusion.shape[:-1], zero, dtype=diffusion.dtype)
    limits = np.full(diffusion.shape[:-1], zero, dtype=diffusion.dtype)
    for j in range(n - 1, -1, -1):
        inflow = (visits[..., j + 1:] * diffusion[..., j + 1:, j]).sum(axis=-1)
        if j == n - 1:
            inflow = inflow + one
        limits[..., j] = np.where(absorbing[..., j], inflow, zero)
        visits[..., j] = np.where(absorbing[..., j], zero, inflow / leave[..., j])
    return limits


def _supremum(diffusion, engine, max_steps):
    """Infinite-horizon node fidelity with certificates (see the module notes)."""
    n = diffusion.shape[-1]
    zero = zero_like(diffusion)
    absorbing = leave_mass(diffusion) == 0
    reachable = longest_paths_to_sink(np.swapaxes(np.tril(diffusion > 0, -1), -1, -2)) >= 0
    operator = engine.put(diffusion)
    transient = engine.put_mask(~absorbing)
    pending = engine.put_mask(~absorbing & reachable)
    best = zeros_like_rows(operator)
    first = zeros_like_rows(operator, integer=True)
    rows = unit_rows(operator, -1)
    for t in range(1, max(max_steps, n) + 1):
        previous, rows = rows, row_times(rows, operator)
        better = (rows > best) | (first == 0)
        best = where(better, rows, best)
        first = where(better, t, first)
        tail = suffix_sums(where(transient, rows, zero))
        pending &= best < tail
        if t >= n and not bool(pending.any()):
            break
    inflow = engine.get(row_times(where(transient, previous, zero), operator))
    best, first, tail, pending = (engine.get(a) for a in (best, first, tail, pending))
    limits = _absorption_limits(diffusion, absorbing)
    never = absorbing & (inflow > 0)
    value = np.where(absorbing, limits, best)
    first = np.where(never, NOT_ATTAINED, first)
    error = np.where(pending, tail - best, zero)
    if np.any(pending):
        warnings.warn(
            f"{int(pending.sum())} node fidelities were not certified within {t} steps; "
            f"largest error bound {float(np.max(error)):.3g} (see error_bound)",
            ConvergenceWarning, stacklevel=3,
        )
    return value, first, error


def _node_fidelity(diffusion, horizon, max_steps, engine=EXACT_OR_FLOAT64):
    """Node fidelity of a validated ``Δ`` stack, iterated on ``engine``."""
    if horizon is None:
        value, first, error = _supremum(diffusion, engine, max_steps)
    else:
        value, first = (engine.get(a) for a in _running_max(engine.put(diffusion), horizon))
        error = np.full(value.shape, zero_like(diffusion), dtype=value.dtype)
    return NodeFidelity(value, first, horizon, error)


def node_fidelity(op, horizon=100, *, max_steps=DEFAULT_MAX_STEPS, backend=None, device=None,
                  dtype=None):
    """Node fidelity ``φ_v^K = max_{1≤t≤K} S_t(v)`` of every node (§2).

    Parameters
    ----------
    op : SinkDAG, HeadSystem or array_like of shape (..., n, n)
    horizon : int or None
        ``K``; ``None`` gives the infinite-horizon supremum ``φ_v``, exact in
        exact mode and with a certified error bound in numeric mode.
    max_steps : int, keyword-only
        Step budget for the infinite horizon.
    backend, device, dtype : keyword-only
        Where the iteration runs, as for :func:`signal_curves`.

    Returns
    -------
    NodeFidelity

    Notes
    -----
    For a finite horizon the iteration stops before ``K`` once every node's
    maximum is certified (the condition is in :func:`_running_max`'s notes and
    docs/performance.md); the result is that of all ``K`` steps.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> head2 = paper_example2().heads[1]
    >>> node_fidelity(head2, horizon=None).value[0]
    Fraction(1, 4)
    """
    diffusion = _diffusion(op)
    horizon = check_horizon(horizon)
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    engine = choose_engine(op, backend, device, dtype, exact=is_exact(diffusion))
    return _node_fidelity(diffusion, horizon, max_steps, engine)


def _minimax_from(fidelity, sources):
    values = fidelity.value[..., sources]
    position = np.argmin(values, axis=-1)
    node = sources[position]
    picked = np.take_along_axis(values, position[..., None], axis=-1)[..., 0]
    steps = np.take_along_axis(fidelity.t, node[..., None], axis=-1)[..., 0]
    errors = np.max(fidelity.error_bound[..., sources], axis=-1)
    return MinimaxResult(
        value=scalar(picked), node=scalar(node), t=scalar(steps), sources=sources,
        horizon=fidelity.horizon, error_bound=scalar(errors), fidelity=fidelity,
    )


def minimax_fidelity(op, horizon=100, sources="non-sink", *, max_steps=DEFAULT_MAX_STEPS,
                     backend=None, device=None, dtype=None):
    """Minimax fidelity ``φ_min^K = min_{v∈S} φ_v^K`` (§2).

    Parameters
    ----------
    op : SinkDAG, HeadSystem or array_like of shape (..., n, n)
        Leading batch axes are computed in one vectorized pass.
    horizon : int or None
        ``K`` (default 100); ``None`` for the infinite horizon.
    sources : "non-sink", "all" or list of int
        The source set ``S``: every node but the sink (default, the paper's
        worked examples), every node (the paper's code, §6), or explicit nodes.
    max_steps : int, keyword-only
        Step budget for the infinite horizon.
    backend, device, dtype : keyword-only
        Where the iteration runs, as for :func:`signal_curves`.

    Returns
    -------
    MinimaxResult
        ``float(result)`` gives the value for a single operator.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> result = minimax_fidelity(paper_example2().heads[0], horizon=20)
    >>> result.value, result.node, result.t
    (Fraction(3, 8), 1, 3)
    """
    diffusion = _diffusion(op)
    horizon = check_horizon(horizon)
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    sources = check_sources(sources, diffusion.shape[-1])
    engine = choose_engine(op, backend, device, dtype, exact=is_exact(diffusion))
    return _minimax_from(_node_fidelity(diffusion, horizon, max_steps, engine), sources)


def _heads_and_weights(system, weights):
    if isinstance(system, HeadSystem):
        attention = system.attention
        weights = system.weights if weights is None else system.with_weights(weights).weights
        return attention, weights
    attention = check_attention(system, name="attention", batch_label="head")
    if attention.ndim < 3:
        raise InvalidInputError(
            f"amplification needs several heads, shape (..., H, n, n); got shape {attention.shape}"
        )
    count = attention.shape[-3]
    if weights is None:
        weights = np.full(count, one_like(attention) / count, dtype=attention.dtype)
    return attention, check_weights(weights, count, exact=is_exact(attention))


def _exact_ratio(combined, best):
    if best == 0:
        return float("inf") if combined > 0 else float("nan")
    return combined / best


def _ratio(combined, best):
    """``combined / best``, exact for Fractions, ``inf`` where only the combination is positive."""
    if isinstance(combined, Fraction) or (isinstance(combined, np.ndarray) and combined.dtype == object):
        return scalar(np.frompyfunc(_exact_ratio, 2, 1)(combined, best))
    with np.errstate(divide="ignore", invalid="ignore"):
        return scalar(np.divide(np.asarray(combined, dtype=float), np.asarray(best, dtype=float)))


def _greater_than_one(ratio):
    with np.errstate(invalid="ignore"):
        above = np.asarray(ratio > 1, dtype=bool)
    return bool(above) if above.ndim == 0 else above


def amplification(system, horizon=100, sources="non-sink", *, weights=None,
                  max_steps=DEFAULT_MAX_STEPS, backend=None, device=None, dtype=None):
    """Amplification ``ρ = φ_min(Δ̄(β)) / max_h φ_min(Δ^(h))`` (§2).

    All heads are computed in one batched pass, then their combination.

    Parameters
    ----------
    system : HeadSystem or array_like of shape (..., H, n, n)
    horizon, sources, max_steps
        As for :func:`minimax_fidelity`.
    weights : array_like of shape (H,) or (..., H), keyword-only
        ``β``; defaults to the system's weights (uniform for a raw array).
    backend, device, dtype : keyword-only
        Where the iteration runs, as for :func:`signal_curves`.

    Returns
    -------
    Amplification

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> result = amplification(paper_example2(), horizon=20)
    >>> result.best_head, result.best_value, result.combined, result.ratio
    (0, Fraction(3, 8), Fraction(5, 12), Fraction(10, 9))
    """
    attention, beta = _heads_and_weights(system, weights)
    horizon = check_horizon(horizon)
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    engine = choose_engine(system, backend, device, dtype, exact=is_exact(attention))
    return _amplification(attention, beta, horizon, check_sources(sources, attention.shape[-1]),
                          max_steps, engine)


def _amplification(attention, beta, horizon, sources, max_steps, engine=EXACT_OR_FLOAT64, *,
                   combined=None):
    """:func:`amplification` of validated heads ``(..., H, n, n)`` and weights ``(..., H)``.

    ``combined`` may pass ``Δ̄(β)`` when the caller has it already.
    """
    batch = np.broadcast_shapes(attention.shape[:-3], beta.shape[:-1])
    attention = np.broadcast_to(attention, batch + attention.shape[-3:])
    if combined is None:
        combined = (beta[..., :, None, None] * attention).sum(axis=-3)
    heads = _minimax_from(_node_fidelity(attention, horizon, max_steps, engine), sources)
    combined_result = _minimax_from(_node_fidelity(combined, horizon, max_steps, engine), sources)
    per_head = np.asarray(heads.value, dtype=combined.dtype)
    best_head = np.argmax(per_head, axis=-1)
    best_value = scalar(np.take_along_axis(per_head, best_head[..., None], axis=-1)[..., 0])
    ratio = _ratio(combined_result.value, best_value)
    return Amplification(
        per_head=per_head, best_head=scalar(best_head), best_value=best_value,
        combined=combined_result.value, ratio=ratio, amplifies=_greater_than_one(ratio),
        heads=heads, combined_result=combined_result,
    )
