"""Sink-rooted DAGs and head systems (§1 of docs/theory.md).

An attention head is a row-stochastic, causal matrix ``A`` (row ``i`` is the
query, the *receiver*; ``A[i, j] = 0`` for ``j > i``). Its graph ``G(A, θ)``
has an edge ``j → i`` (key ``j`` sends to query ``i``) whenever
``A[i, j] > θ``, plus self-loops from the diagonal. Edges only go forward in
token order, so the graph is a DAG whose common sink is the last token
``τ = n - 1``.

* A node with no directed path to ``τ`` is *cut off*; the library reports it.
* The *depth* ``L(G)`` is the number of edges on the longest path from any node
  to ``τ``, self-loops excluded.
* A *head system* is ``H`` heads on the same tokens with weights on the simplex:
  uniform by default, or the paper's *learned* weights, proportional to the
  Frobenius norm of each head's block of input columns of the out-projection.

This module also holds the forward walk ``P`` of §3 (``P[j, i] = A[i, j] /
Σ_k A[k, j]``), since every head carries one.
"""

import operator
from fractions import Fraction
from functools import cached_property

import networkx as nx
import numpy as np

from ._arith import leave_mass
from ._validation import (
    DEFAULT_ATOL,
    as_array,
    check_attention,
    check_staying,
    check_steps,
    check_threshold,
    check_weights,
    is_exact,
)
from .exceptions import InvalidInputError, InvalidTypeError, ZeroColumnError

__all__ = [
    "SinkDAG",
    "HeadSystem",
    "edge_list_attention",
    "forward_walk",
    "learned_head_weights",
    "longest_paths_to_sink",
]

_ZERO_COLUMN_POLICIES = ("raise", "sink")


def edge_list_attention(n, edges, *, exact=True, staying=None):
    """Attention from a directed edge list, by §1's edge-list construction.

    Every node gets a self-loop of weight 1, every edge ``s → t`` adds 1 at
    ``[t, s]``, and each row is divided by its sum.

    Parameters
    ----------
    n : int
        Number of tokens (at least 2); the sink is ``n - 1``.
    edges : iterable of (s, t)
        Directed edges with ``0 <= s < t < n``. A repeated edge adds again.
    exact : bool, keyword-only
        Return an exact ``Fraction`` array (default) or ``float64``.
    staying : mapping of int to number, keyword-only, optional
        Staying probabilities: token ``i`` keeps ``staying[i]`` of its row on its
        self-loop, and its in-edges share the rest in proportion to their
        counts. A token without in-edges keeps its whole row; tokens not in the
        mapping (or mapped to None) follow the construction above. Values lie in
        ``[0, 1]`` and are exact (Fraction or int) when ``exact`` is true.

    Returns
    -------
    ndarray, shape (n, n)

    Examples
    --------
    >>> edge_list_attention(3, [(0, 1), (1, 2)])
    array([[Fraction(1, 1), Fraction(0, 1), Fraction(0, 1)],
           [Fraction(1, 2), Fraction(1, 2), Fraction(0, 1)],
           [Fraction(0, 1), Fraction(1, 2), Fraction(1, 2)]], dtype=object)
    >>> edge_list_attention(3, [(0, 2), (1, 2)], staying={2: Fraction(9, 10)})[2]
    array([Fraction(1, 20), Fraction(1, 20), Fraction(9, 10)], dtype=object)
    """
    n = check_steps(n, name="n", minimum=2)
    counts = np.eye(n, dtype=np.int64)
    if isinstance(edges, (str, bytes)) or not hasattr(edges, "__iter__"):
        raise InvalidTypeError(f"edges must be an iterable of pairs (s, t); got {edges!r}")
    for position, edge in enumerate(edges):
        s, t = _edge_endpoints(edge, position)
        if not 0 <= s < t < n:
            raise InvalidInputError(
                f"edge {position} is ({s}, {t}); edges must go forward, 0 <= s < t < n = {n}"
            )
        counts[t, s] += 1
    totals = counts.sum(axis=1)
    if not exact:
        rows = counts / totals[:, None]
    else:
        rows = np.array([[Fraction(int(c), int(totals[i])) for c in row] for i, row in enumerate(counts)],
                        dtype=object)
    for i, stay in check_staying(staying, n, exact=exact).items():
        received = counts[i].copy()
        received[i] = 0
        if received.any():
            share = (1 - stay) / int(received.sum())
            rows[i] = [share * int(c) for c in received] if exact else share * received
            rows[i, i] = stay
    return rows


def _check_policy(zero_columns):
    if zero_columns not in _ZERO_COLUMN_POLICIES:
        raise InvalidInputError(f"zero_columns must be 'raise' or 'sink'; got {zero_columns!r}")
    return zero_columns


def _edge_endpoints(edge, position):
    """The two int endpoints of an edge; bools, floats and strings are refused."""
    try:
        s, t = edge
        if isinstance(s, (bool, np.bool_)) or isinstance(t, (bool, np.bool_)):
            raise TypeError
        return operator.index(s), operator.index(t)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"edge {position} must be a pair (s, t) of ints; got {edge!r}") from err


def _zero_columns(column_sums, zero_columns):
    """Mask of all-zero columns; raises :class:`ZeroColumnError` under the "raise" policy."""
    zero = column_sums == 0
    if np.any(zero) and zero_columns == "raise":
        where = tuple(int(i) for i in np.argwhere(zero)[0])
        token = where[-1]
        batch = f" (batch index {where[:-1]})" if len(where) > 1 else ""
        raise ZeroColumnError(
            f"token {token}{batch} is attended to by no token, not even itself (column {token} "
            "of A is all zero), so the forward walk (§3) is undefined there; pass "
            "zero_columns='sink' to route its mass to the sink"
        )
    return zero


def _forward_walk(attention, zero_columns):
    """§3's walk of a validated attention array, batched over leading axes."""
    column_sums = attention.sum(axis=-2)
    zero = _zero_columns(column_sums, zero_columns)
    one = Fraction(1) if is_exact(attention) else 1.0
    walk = np.swapaxes(attention, -1, -2) / np.where(zero, one, column_sums)[..., :, None]
    if np.any(zero):
        walk = walk.copy()
        walk[..., -1] = np.where(zero, one, walk[..., -1])
    return walk


def mixture_walk_of_heads(attention, alpha, *, zero_columns="raise"):
    """``P̄(α) = Σ_h α_h P^(h)`` of validated float heads ``(..., H, n, n)``, in one pass.

    The per-head walks are never formed: ``P̄[j, i] = Σ_h (α_h / c_h[j]) A_h[i, j]``
    with ``c_h`` the column sums, a single contraction over heads. Weights
    ``alpha`` have shape ``(..., H)``.
    """
    column_sums = attention.sum(axis=-2)
    zero = _zero_columns(column_sums, _check_policy(zero_columns))
    scale = alpha[..., None] / np.where(zero, 1.0, column_sums)
    walk = np.ascontiguousarray(np.einsum("...hij,...hj->...ji", attention, scale))
    if np.any(zero):
        walk[..., -1] += (alpha[..., None] * zero).sum(axis=-2)
    return walk


def forward_walk(attention, *, zero_columns="raise"):
    """The forward walk ``P`` of attention ``A`` (§3), batched over leading axes.

    ``P[j, i] = A[i, j] / Σ_k A[k, j]``: from key ``j`` move to receiver
    ``i >= j`` in proportion to how much ``i`` attends to ``j``. The sink is
    absorbing.

    Parameters
    ----------
    attention : array_like, shape (..., n, n)
    zero_columns : {"raise", "sink"}, keyword-only
        What to do with a token nobody attends to (an all-zero column): raise
        :class:`~dagtheory.exceptions.ZeroColumnError` naming it, or send the
        walk from it straight to the sink.

    Returns
    -------
    ndarray, shape (..., n, n)
        Row-stochastic and upper-triangular.

    Examples
    --------
    >>> forward_walk([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.0, 0.5, 0.5]])
    array([[0.66666667, 0.33333333, 0.        ],
           [0.        , 0.5       , 0.5       ],
           [0.        , 0.        , 1.        ]])
    """
    return _forward_walk(check_attention(attention), _check_policy(zero_columns))


def longest_paths_to_sink(edges):
    """Longest path length (in edges, self-loops excluded) from each node to the sink.

    Parameters
    ----------
    edges : ndarray of bool, shape (..., n, n)
        ``edges[..., j, i]`` is True for an edge ``j → i`` (only ``j < i`` is read).

    Returns
    -------
    ndarray of int, shape (..., n)
        ``-1`` where the node has no path to the sink (cut off).

    Examples
    --------
    >>> e = np.zeros((4, 4), dtype=bool)
    >>> e[0, 1] = e[1, 3] = e[0, 3] = True
    >>> longest_paths_to_sink(e)
    array([ 2,  1, -1,  0])
    """
    edges = np.asarray(edges, dtype=bool)
    if edges.ndim < 2 or edges.shape[-1] != edges.shape[-2] or edges.shape[-1] == 0:
        raise InvalidInputError(
            f"edges must be a square boolean array, shape (..., n, n) with n >= 1; got shape {edges.shape}")
    n = edges.shape[-1]
    longest = np.full(edges.shape[:-1], -1, dtype=np.int64)
    longest[..., n - 1] = 0
    for j in range(n - 2, -1, -1):
        candidates = np.where(edges[..., j, j + 1:], longest[..., j + 1:], -1)
        best = candidates.max(axis=-1)
        longest[..., j] = np.where(best >= 0, best + 1, -1)
    return longest


def learned_head_weights(out_proj, heads):
    """The paper's learned head weights (§1) from an out-projection.

    Head ``h``'s importance is the Frobenius norm of the input columns
    ``h·d .. (h+1)·d - 1`` of ``out_proj`` (``E = H·d``); the weights are the
    importances divided by their sum.

    Parameters
    ----------
    out_proj : array_like, shape (E_out, E)
        The out-projection's weight (as in ``torch.nn.Linear.weight``).
    heads : int
        Number of heads ``H``; must divide ``E``.

    Returns
    -------
    ndarray, shape (H,)

    Examples
    --------
    >>> W = np.zeros((4, 4)); W[:, :2] = 1.0; W[:, 2:] = 2.0
    >>> learned_head_weights(W, 2)
    array([0.33333333, 0.66666667])
    """
    heads = check_steps(heads, name="heads", minimum=1)
    matrix = as_array(out_proj, "out_proj").astype(float)
    if matrix.ndim != 2:
        raise InvalidInputError(f"out_proj must be a matrix (E_out, E); got shape {matrix.shape}")
    if matrix.shape[1] % heads:
        raise InvalidInputError(
            f"out_proj has {matrix.shape[1]} input columns, not divisible by {heads} heads"
        )
    if not np.isfinite(matrix).all():
        raise InvalidInputError("out_proj contains NaN or infinite values")
    blocks = matrix.reshape(matrix.shape[0], heads, -1)
    importance = np.sqrt((blocks ** 2).sum(axis=(0, 2)))
    return check_weights(importance, heads, exact=False, name="learned head importances")


class _OnTokens:
    """Shared views of an object holding attention ``(..., n, n)`` in ``self._attention``."""

    @property
    def n(self):
        """Number of tokens."""
        return self._attention.shape[-1]

    @property
    def sink(self):
        """The sink ``τ = n - 1``."""
        return self.n - 1

    @property
    def is_exact(self):
        """True when the weights are exact rationals (§7)."""
        return is_exact(self._attention)


class SinkDAG(_OnTokens):
    """One attention head as a validated sink-rooted DAG (§1).

    Parameters
    ----------
    attention : array_like, shape (n, n)
        Row-stochastic causal attention (floats, or Fraction for exact mode).
    threshold : float, keyword-only
        ``θ``: edges are the entries ``> θ``. It shapes the graph views
        (:attr:`depth`, :attr:`cut_off`, :meth:`to_networkx`); the numeric
        quantities (:attr:`diffusion`, :attr:`walk`) always use the full weights.
    zero_columns : {"raise", "sink"}, keyword-only
        Policy for the forward walk at tokens nobody attends to (§3).
    atol : float, keyword-only
        Tolerance on row sums of numeric input.

    Examples
    --------
    >>> dag = SinkDAG.from_edges(4, [(0, 1), (1, 2), (2, 3)])
    >>> dag.n, dag.sink, dag.depth, dag.cut_off
    (4, 3, 3, [])
    >>> dag.diffusion[3]
    array([Fraction(0, 1), Fraction(0, 1), Fraction(1, 2), Fraction(1, 2)], dtype=object)
    """

    def __init__(self, attention, *, threshold=0.0, zero_columns="raise", atol=DEFAULT_ATOL):
        array = check_attention(attention, atol=atol)
        if array.ndim != 2:
            raise InvalidInputError(
                f"SinkDAG holds one head, shape (n, n); got shape {array.shape}. "
                "Use HeadSystem.from_attention for a stack of heads"
            )
        array = array if array.flags.owndata else array.copy()  # detached from the caller's array
        array.setflags(write=False)
        self._attention = array
        self.threshold = check_threshold(threshold)
        self.zero_columns = _check_policy(zero_columns)

    @classmethod
    def from_attention(cls, attention, threshold=0.0, **options):
        """Build from an attention matrix ``A`` (§1); see the class for the options."""
        return cls(attention, threshold=threshold, **options)

    @classmethod
    def from_edges(cls, n, edges, *, exact=True):
        """Build from a directed edge list by §1's edge-list construction (exact by default)."""
        return cls(edge_list_attention(n, edges, exact=exact))

    @property
    def diffusion(self):
        """The diffusion operator ``Δ = A`` (§2), read-only."""
        return self._attention

    @cached_property
    def walk(self):
        """The forward walk ``P`` (§3), read-only."""
        walk = _forward_walk(self._attention, self.zero_columns)
        walk.setflags(write=False)
        return walk

    @cached_property
    def _edges(self):
        """``edges[j, i]``: True for an edge ``j → i`` of ``G(A, θ)``, self-loops excluded."""
        return np.tril(self._attention > self.threshold, -1).T

    @cached_property
    def _longest(self):
        return longest_paths_to_sink(self._edges)

    @property
    def depth(self):
        """``L(G)``: edges on the longest path from any node to the sink (self-loops excluded)."""
        return int(self._longest.max())

    @property
    def cut_off(self):
        """Nodes with no directed path to the sink, by index."""
        return [int(j) for j in np.flatnonzero(self._longest < 0)]

    @property
    def trapped(self):
        """Non-sink nodes whose forward walk never leaves them (no mass off the diagonal of ``P``)."""
        return [int(j) for j in np.flatnonzero(leave_mass(self.walk)[:-1] == 0)]

    def edges(self):
        """Edges ``(j, i, weight)`` of ``G(A, θ)`` with ``j < i``, weight ``A[i, j]``."""
        sources, targets = np.nonzero(self._edges)
        return [(int(j), int(i), self._attention[i, j]) for j, i in zip(sources, targets)]

    def to_networkx(self, *, self_loops=True):
        """The head graph as a ``networkx.DiGraph`` with edge attribute ``weight``.

        Self-loops (the diagonal entries above the threshold) are included by
        default, as in §1; pass ``self_loops=False`` before using networkx's
        DAG algorithms.

        Examples
        --------
        >>> g = SinkDAG.from_edges(3, [(0, 1), (1, 2)]).to_networkx(self_loops=False)
        >>> sorted(g.edges), g.graph["sink"]
        ([(0, 1), (1, 2)], 2)
        """
        graph = nx.DiGraph(sink=self.sink)
        graph.add_nodes_from(range(self.n))
        graph.add_weighted_edges_from(self.edges())
        if self_loops:
            graph.add_weighted_edges_from(
                (i, i, self._attention[i, i]) for i in range(self.n)
                if self._attention[i, i] > self.threshold
            )
        return graph

    def __repr__(self):
        mode = "exact" if self.is_exact else "float64"
        return f"SinkDAG(n={self.n}, depth={self.depth}, cut_off={self.cut_off}, {mode})"


class HeadSystem(_OnTokens):
    """Heads on the same tokens with weights on the simplex (§1).

    Parameters
    ----------
    attention : array_like, shape (H, n, n)
        One attention matrix per head.
    weights : None, array_like of shape (H,), or "learned"
        ``None`` gives uniform weights; an array is checked (non-negative,
        finite, length ``H``) and renormalized; ``"learned"`` computes §1's
        learned weights from ``out_proj``.
    out_proj : array_like, shape (E_out, E), keyword-only
        Out-projection for ``weights="learned"``.
    threshold, zero_columns, atol
        As for :class:`SinkDAG`, applied to every head.

    Examples
    --------
    >>> system = HeadSystem.from_edges(4, [[(0, 1), (1, 2), (2, 3)], [(0, 2), (1, 3), (2, 3)]])
    >>> system.H, system.n, system.weights
    (2, 4, array([Fraction(1, 2), Fraction(1, 2)], dtype=object))
    >>> system.combined().diffusion[3]
    array([Fraction(0, 1), Fraction(1, 6), Fraction(5, 12), Fraction(5, 12)], dtype=object)
    """

    def __init__(self, attention, weights=None, *, out_proj=None, threshold=0.0,
                 zero_columns="raise", atol=DEFAULT_ATOL):
        array = check_attention(attention, atol=atol, batch_label="head")
        if array.ndim != 3:
            raise InvalidInputError(
                f"HeadSystem needs attention of shape (H, n, n); got shape {array.shape}"
            )
        array = array if array.flags.owndata else array.copy()  # detached from the caller's array
        array.setflags(write=False)
        self._attention = array
        self.threshold = check_threshold(threshold)
        self.zero_columns = _check_policy(zero_columns)
        self._weights = self._resolve_weights(weights, out_proj)
        self._weights.setflags(write=False)

    def _resolve_weights(self, weights, out_proj):
        count = self.H
        if isinstance(weights, str):
            if weights != "learned":
                raise InvalidInputError(f'weights must be None, an array or "learned"; got {weights!r}')
            if out_proj is None:
                raise InvalidInputError('weights="learned" needs out_proj, the (E, E) out-projection')
            if self.is_exact:
                raise InvalidTypeError(
                    "learned weights are norms (irrational in general); an exact system needs "
                    "exact weights, so pass float attention or explicit Fraction weights"
                )
            return learned_head_weights(out_proj, count)
        if out_proj is not None:
            raise InvalidInputError('out_proj is only used with weights="learned"')
        if weights is None:
            unit = Fraction(1, count) if self.is_exact else 1.0 / count
            return np.array([unit] * count, dtype=object if self.is_exact else float)
        weights = check_weights(weights, count, exact=self.is_exact)
        if weights.ndim != 1:
            raise InvalidInputError(f"weights must have shape ({count},); got {weights.shape}")
        return weights

    @classmethod
    def from_attention(cls, attention, weights=None, **options):
        """Build from attention of shape ``(H, n, n)``; see the class for the options."""
        return cls(attention, weights, **options)

    @classmethod
    def from_edges(cls, n, edge_lists, weights=None, *, exact=True):
        """Build one head per edge list by §1's edge-list construction (exact by default)."""
        stacked = np.stack([edge_list_attention(n, edges, exact=exact) for edges in edge_lists])
        return cls(stacked, weights)

    @property
    def attention(self):
        """The stacked attention, shape ``(H, n, n)``, read-only."""
        return self._attention

    @property
    def weights(self):
        """Head weights on the simplex, shape ``(H,)``."""
        return self._weights

    @property
    def H(self):
        """Number of heads."""
        return self._attention.shape[0]

    @cached_property
    def heads(self):
        """The heads as a list of :class:`SinkDAG`."""
        return [SinkDAG(a, threshold=self.threshold, zero_columns=self.zero_columns)
                for a in self._attention]

    @cached_property
    def walks(self):
        """Each head's forward walk ``P^(h)`` (§3), shape ``(H, n, n)``."""
        walks = _forward_walk(self._attention, self.zero_columns)
        walks.setflags(write=False)
        return walks

    def _simplex(self, weights, name):
        """``weights`` checked and renormalized as one point of the simplex (shape ``(H,)``)."""
        if weights is None:
            return self._weights
        weights = check_weights(weights, self.H, exact=self.is_exact, name=name)
        if weights.ndim != 1:
            raise InvalidInputError(f"{name} must have shape ({self.H},); got shape {weights.shape}")
        return weights

    def combined(self, weights=None):
        """The :class:`SinkDAG` of ``Δ̄(β) = Σ_h β_h Δ^(h)`` (§2); ``β`` defaults to :attr:`weights`."""
        beta = self._simplex(weights, "weights")
        total = (beta[:, None, None] * self._attention).sum(axis=0)
        return SinkDAG(total, threshold=self.threshold, zero_columns=self.zero_columns)

    def mixture_walk(self, alpha=None):
        """``P̄(α) = Σ_h α_h P^(h)``, the mixture of per-head walks (§3).

        This is the paper's multi-head walk. It is not the walk of the combined
        attention, which is ``system.combined().walk``.
        """
        alpha = self._simplex(alpha, "alpha")
        return (alpha[:, None, None] * self.walks).sum(axis=0)

    def with_weights(self, weights):
        """The same heads with other weights."""
        return HeadSystem(self._attention, weights, threshold=self.threshold,
                          zero_columns=self.zero_columns)

    def __repr__(self):
        mode = "exact" if self.is_exact else "float64"
        weights = ", ".join(str(w) if self.is_exact else f"{w:.4g}" for w in self._weights)
        return f"HeadSystem(H={self.H}, n={self.n}, weights=[{weights}], {mode})"
