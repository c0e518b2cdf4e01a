r"""Depth: composing the operators of successive layers (§4 of docs/theory.md).

A real network applies a different combined operator ``Δ̄^(ℓ)`` in each layer
``ℓ = 1..L``. With the residual stream, layer ``ℓ`` acts by

.. math:: R^{(ℓ)} = (1 - γ) I + γ Δ̄^{(ℓ)}

(``γ = 1/2`` is attention rollout's convention, ``γ = 1`` ignores the residual
stream), and the **depth signal** of token ``v`` at the sink after ``ℓ`` layers is

.. math:: S^{(ℓ)}(v) = [R^{(ℓ)} ⋯ R^{(1)}]_{τ, v}.

``S^{(L)}`` is the sink's row of attention rollout. Depth fidelity and minimax
are those of §2 with the step ``t`` replaced by the layer index:
``φ_v = max_{1≤ℓ≤L} S^{(ℓ)}(v)`` and ``φ_min = min_{v∈S} φ_v``.

Each ``S^{(ℓ)}`` is a row vector ``e_τ R^{(ℓ)} R^{(ℓ-1)} ⋯ R^{(1)}``, computed by
``r ← r R^{(k)}`` for ``k = ℓ, …, 1`` — never by forming matrix products. All
``L`` target layers advance together: at step ``j`` the row for target ``ℓ``
multiplies by ``R^{(ℓ-j)}``, so ``L`` steps of one batched matrix–vector
product give every ``S^{(ℓ)}``.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._arith import one_like, row_times, scalar, zero_like
from ._validation import check_attention, check_gamma, check_sources, is_exact
from .exceptions import InvalidInputError
from .graph import HeadSystem, SinkDAG
from .resources import require_memory

__all__ = ["DepthSignal", "depth_signal", "attention_flow"]


@dataclass(frozen=True)
class DepthSignal:
    """The depth signal of a stack of layers and its fidelities (§4).

    Attributes
    ----------
    signal : ndarray, shape (..., L, n)
        Row ``ℓ - 1`` holds ``S^(ℓ)``.
    fidelity : ndarray, shape (..., n)
        ``φ_v = max_ℓ S^(ℓ)(v)``.
    layer : ndarray of int, shape (..., n)
        The first layer (1-based) at which ``φ_v`` is reached.
    minimax : float, Fraction or ndarray
        ``min_{v∈S} φ_v``.
    node : int or ndarray
        The arg-min source (the smallest index among ties).
    gamma : float or Fraction

    Examples
    --------
    :func:`depth_signal` returns one. Example 2's combined operator (§2) as
    two layers, exactly, with the default ``γ = 1/2``:

    >>> from dagtheory.examples import paper_example2
    >>> result = depth_signal([paper_example2(), paper_example2()])
    >>> [[str(x) for x in row] for row in result.signal]
    [['0', '1/12', '5/24', '17/24'], ['1/36', '101/576', '85/288', '289/576']]
    >>> [str(x) for x in result.fidelity], result.layer.tolist()
    (['1/36', '101/576', '85/288', '17/24'], [2, 2, 2, 1])
    >>> result.minimax, result.node, result.gamma
    (Fraction(1, 36), 0, Fraction(1, 2))
    """

    signal: Any
    fidelity: Any
    layer: Any
    minimax: Any
    node: Any
    gamma: Any


def _operators(layers):
    """Validated combined operators ``(..., L, n, n)`` from an array or a list of systems."""
    if not isinstance(layers, (list, tuple)):
        shape = tuple(int(size) for size in np.shape(layers))
        # The validated copy, the residual operators and one temporary of their size.
        require_memory(3 * 8 * math.prod(shape), f"depth_signal on layers of shape {shape}",
                       hint="analyze fewer samples at a time")
    if isinstance(layers, (list, tuple)) and layers and all(
            isinstance(item, (HeadSystem, SinkDAG)) for item in layers):
        stack = [item.combined().diffusion if isinstance(item, HeadSystem) else item.diffusion
                 for item in layers]
        if len({op.shape for op in stack}) != 1:
            raise InvalidInputError(
                f"every layer needs the same number of tokens; got {[op.shape[-1] for op in stack]}"
            )
        layers = np.stack(stack)
    operators = check_attention(layers, name="layers", batch_label="layer")
    if operators.ndim < 3:
        raise InvalidInputError(
            f"layers must have shape (..., L, n, n), one combined operator per layer; "
            f"got shape {operators.shape}"
        )
    return operators


def _residual(operators, gamma):
    """``R = (1 - γ) I + γ Δ̄`` for every layer of the stack."""
    n = operators.shape[-1]
    identity = np.where(np.eye(n, dtype=bool), one_like(operators), zero_like(operators))
    return (one_like(operators) - gamma) * identity + gamma * operators


def depth_signal(layers, gamma=0.5, sources="non-sink"):
    """The depth signal ``S^(ℓ)(v) = [R^(ℓ) ⋯ R^(1)]_{τ, v}`` and its fidelities (§4).

    Parameters
    ----------
    layers : array_like of shape (..., L, n, n), or list of HeadSystem / SinkDAG
        One combined operator ``Δ̄^(ℓ)`` per layer, first layer first; a
        HeadSystem stands for its combined operator. Exact (Fraction) input
        gives exact results.
    gamma : float or Fraction
        Weight of attention against the residual stream, ``0 < γ ≤ 1``
        (default 1/2, attention rollout's; 1 ignores the residual).
    sources : "non-sink", "all" or list of int
        The source set of the minimax, as in §2.

    Returns
    -------
    DepthSignal

    Examples
    --------
    Two layers on three tokens, exactly; ``S^(2)`` is the sink's row of the
    rollout ``R^(2) R^(1)``:

    >>> from fractions import Fraction as F
    >>> first = [[1, 0, 0], [F(1, 2), F(1, 2), 0], [0, 0, 1]]
    >>> second = [[1, 0, 0], [0, 1, 0], [0, F(1, 2), F(1, 2)]]
    >>> result = depth_signal([first, second])
    >>> [[str(x) for x in row] for row in result.signal]
    [['0', '0', '1'], ['1/16', '3/16', '3/4']]
    >>> result.minimax, result.node
    (Fraction(1, 16), 0)
    """
    operators = _operators(layers)
    exact = is_exact(operators)
    gamma = check_gamma(gamma, exact=exact)
    sources = check_sources(sources, operators.shape[-1])
    residual = _residual(operators, gamma)
    signal = _layer_rows(residual)
    best = signal.max(axis=-2)
    layer = np.argmax(signal == best[..., None, :], axis=-2) + 1
    values = best[..., sources]
    position = np.argmin(values, axis=-1)
    minimax = np.take_along_axis(values, position[..., None], axis=-1)[..., 0]
    return DepthSignal(signal=signal, fidelity=best, layer=layer, minimax=scalar(minimax),
                       node=scalar(sources[position]), gamma=gamma)


def _layer_rows(residual):
    """``S^(ℓ)`` for every ``ℓ``, shape ``(..., L, n)``: all targets advance together.

    Row ``ℓ`` starts at ``e_τ`` and at step ``j = 0..ℓ-1`` multiplies by
    ``R^(ℓ-j)``; rows whose chain is finished are carried unchanged.
    """
    count, n = residual.shape[-3], residual.shape[-1]
    rows = np.zeros(residual.shape[:-1], dtype=residual.dtype)
    rows[...] = zero_like(residual)
    rows[..., -1] = one_like(residual)
    target = np.arange(count)  # row index ℓ - 1
    for step in range(count):
        source = target - step  # the layer applied now, 0-based; < 0 once the chain is done
        active = source >= 0
        operators = residual[..., np.clip(source, 0, None), :, :]
        moved = row_times(rows, operators)
        rows = np.where(active[:, None], moved, rows)
    return rows


def attention_flow(layers, source=None, gamma=0.5):
    """Attention flow (§4): the maximum flow from input token ``v`` to the sink.

    The layered graph has a node ``(ℓ, i)`` for every layer boundary
    ``ℓ = 0..L`` and token ``i``, and an edge ``(ℓ-1, j) → (ℓ, i)`` of capacity
    ``R^(ℓ)[i, j]`` (the residual operator of :func:`depth_signal`: how much
    receiver ``i`` of layer ``ℓ`` takes from token ``j`` below it). The flow of
    token ``v`` is the maximum flow from ``(0, v)`` to ``(L, τ)``, solved by
    networkx (preflow-push), one flow problem per source on one shared graph.

    Parameters
    ----------
    layers : array_like of shape (L, n, n), or list of HeadSystem / SinkDAG
        One combined operator per layer, first layer first (no extra batch axes).
    source : int, list of int or None
        Input tokens; ``None`` (default) for every token.
    gamma : float or Fraction
        As for :func:`depth_signal`.

    Returns
    -------
    float or ndarray
        The flow value of ``source`` (a float), or one per token of the list.

    Examples
    --------
    One layer without residual: the flow of token ``v`` is the sink's weight on it.

    >>> attention_flow([[[1.0, 0.0], [0.25, 0.75]]], gamma=1)
    array([0.25, 0.75])
    """
    import networkx as nx

    operators = _operators(layers)
    if operators.ndim != 3:
        raise InvalidInputError(f"attention_flow takes one stack of layers (L, n, n); got shape {operators.shape}")
    residual = np.asarray(_residual(operators, check_gamma(gamma, exact=is_exact(operators))), dtype=float)
    count, n = residual.shape[0], residual.shape[-1]
    nodes = check_sources("all" if source is None else np.atleast_1d(source).tolist(), n)
    graph = nx.DiGraph()
    for layer, receiver, key in zip(*np.nonzero(residual)):
        graph.add_edge((int(layer), int(key)), (int(layer) + 1, int(receiver)),
                       capacity=float(residual[layer, receiver, key]))
    sink = (count, n - 1)
    values = np.array([nx.maximum_flow_value(graph, (0, int(v)), sink) if graph.has_node((0, int(v)))
                       and graph.has_node(sink) else 0.0 for v in nodes])
    return float(values[0]) if source is not None and np.ndim(source) == 0 else values
