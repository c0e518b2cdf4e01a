"""Per-layer analysis of attention from a model (§2, §3, §6 together).

:func:`analyze_attention` takes the attention of a whole model, shape
``(L, H, T, T)`` or ``(S, L, H, T, T)`` for ``S`` input samples, and computes
for every sample and layer, in one batched pass:

* the paper's two proxies (§6): fidelity proxy (percent, sink included, with
  its arg-min node) and the exact mixing proxy;
* §2: minimax fidelity of the combined operator over the non-sink sources,
  every head's, and the amplification ratio;
* §3, for the mixture walk ``P̄(α) = Σ_h α_h P^(h)``: mixing time, mean and
  maximum hitting time, and the bounds of Theorems M1, M2 and M3;
* on request (``gamma``), §4 across the whole stack of each sample: the depth
  signal ``S^(ℓ)`` of the combined operators with the residual stream, the
  depth fidelity of every token and the depth minimax.

:func:`summarize` turns the per-sample arrays into mean and standard deviation
per layer.
"""

import math
import warnings
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ._validation import check_attention, check_eps, check_gamma, check_horizon, check_steps, check_weights
from .exceptions import InvalidInputError
from ._backend import choose_engine
from .depth import depth_signal
from .resources import require_memory
from .fidelity import _amplification
from .graph import mixture_walk_of_heads
from .markov import _head_forward_probability, _hitting_times, _mixing_bound, _mixing_time, closed_form_bound
from .reference import mixing_proxy_of_combined, proxy_from_fidelity

__all__ = ["LayerAnalysis", "analyze_attention", "summarize", "SUMMARY_METRICS"]

#: Mixing times beyond this many steps are reported as ``nan`` ("more than").
DEFAULT_MAX_STEPS = 100_000

#: The fields of :class:`LayerAnalysis` that are settings rather than per-sample arrays.
SETTINGS = ("horizon", "eps", "gamma")

#: The scalar metrics averaged by :func:`summarize`, in report order.
SUMMARY_METRICS = (
    "fidelity_proxy", "mixing_proxy", "minimax_fidelity", "best_head_fidelity",
    "amplification", "mixing_time", "hitting_time_mean", "hitting_time_max",
    "forward_probability", "m1_bound", "m2_bound", "m3_bound",
)


@dataclass(frozen=True)
class LayerAnalysis:
    """Per-sample, per-layer numbers; every array has shape ``(S, L)`` unless noted.

    Attributes
    ----------
    weights : ndarray, shape (S, L, H)
        Head weights used (``β = α``).
    fidelity_proxy, fidelity_proxy_node, sink_decides
        §6's fidelity proxy in percent, its arg-min node, and whether that node is the sink.
    mixing_proxy
        §6's mixing proxy, exact.
    minimax_fidelity, minimax_node, minimax_step
        §2's ``φ_min^K`` of ``Δ̄(β)`` over non-sink sources, its arg-min and peak step.
    head_fidelity : ndarray, shape (S, L, H)
        Each head's ``φ_min^K``.
    best_head, best_head_fidelity, amplification
        The best single head, its value and ``ρ`` (§2).
    mixing_time
        ``T_mix(ε)`` of ``P̄(α)`` (§3); ``inf`` when trapped, ``nan`` beyond ``max_steps``.
    hitting_time_mean, hitting_time_max
        Mean and maximum over non-sink starts of the expected hitting time of ``P̄(α)``.
    forward_probability, depth, m1_bound, m2_bound
        ``p``, ``L`` and Theorems M1 and M2 for ``P̄(α)``.
    p_bar, m3_bound
        Theorem M3: ``p̄ = Σ_h α_h p_h`` and ``⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉``.
    horizon, eps : int, float
    stack_signal : ndarray, shape (S, L, n), or None
        §4's depth signal of each sample's stack of combined operators ``Δ̄(β)``
        (row ``ℓ - 1`` holds ``S^(ℓ)``); ``None`` unless ``gamma`` was given.
    stack_fidelity : ndarray, shape (S, n), or None
        Depth fidelity ``φ_v = max_ℓ S^(ℓ)(v)`` of every token.
    stack_minimax, stack_node : ndarray, shape (S,), or None
        Depth minimax fidelity over the non-sink tokens and its arg-min token.
    gamma : float or None
        ``γ`` of the residual operator ``R = (1 - γ) I + γ Δ̄`` (§4).

    Examples
    --------
    :func:`analyze_attention` returns one. Example 2 (§2) as one sample of one
    layer: head 1 reaches ``3/8``, head 2 about ``1/4``, their equal mixture
    ``5/12`` at node ``w = 2``, so ``ρ = 10/9``:

    >>> import numpy as np
    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> result = analyze_attention(heads, horizon=20)
    >>> result.shape, result.head_fidelity.shape
    ((1, 1), (1, 1, 2))
    >>> [round(float(x), 6) for x in result.head_fidelity[0, 0]], int(result.best_head[0, 0])
    ([0.375, 0.25], 0)
    >>> round(float(result.minimax_fidelity[0, 0]), 6), int(result.minimax_node[0, 0])
    (0.416667, 2)
    >>> result.sample(0)["amplification"].round(6), result.sample(0)["mixing_time"]
    (array([1.111111]), array([8.]))
    """

    weights: Any
    fidelity_proxy: Any
    fidelity_proxy_node: Any
    sink_decides: Any
    mixing_proxy: Any
    minimax_fidelity: Any
    minimax_node: Any
    minimax_step: Any
    head_fidelity: Any
    best_head: Any
    best_head_fidelity: Any
    amplification: Any
    mixing_time: Any
    hitting_time_mean: Any
    hitting_time_max: Any
    forward_probability: Any
    depth: Any
    m1_bound: Any
    m2_bound: Any
    p_bar: Any
    m3_bound: Any
    horizon: int
    eps: float
    stack_signal: Any = None
    stack_fidelity: Any = None
    stack_minimax: Any = None
    stack_node: Any = None
    gamma: Any = None

    @property
    def shape(self):
        """``(S, L)``: samples and layers."""
        return np.shape(self.minimax_fidelity)

    def sample(self, index):
        """The per-layer numbers of one sample, as a dict of arrays of shape ``(L,)`` (or ``(L, H)``)."""
        return {f.name: getattr(self, f.name)[index] for f in fields(self)
                if f.name not in SETTINGS and getattr(self, f.name) is not None}


def _stack(attention):
    """Attention as ``(S, L, H, T, T)``."""
    array = check_attention(attention, name="attention", batch_label="batch")
    if array.ndim < 3 or array.ndim > 5:
        raise InvalidInputError(
            "attention must have shape (H, T, T), (L, H, T, T) or (S, L, H, T, T); "
            f"got shape {array.shape}"
        )
    if np.asarray(array).dtype == object:
        array = array.astype(float)
    return array.reshape((1,) * (5 - array.ndim) + array.shape)


def _weights(weights, shape):
    samples, layers, heads = shape[:3]
    if weights is None:
        return np.full((samples, layers, heads), 1.0 / heads)
    array = check_weights(weights, heads, exact=False)
    if array.ndim > 2:
        raise InvalidInputError(f"weights must have shape ({heads},) or ({layers}, {heads}); got {array.shape}")
    if array.ndim == 2 and array.shape[0] != layers:
        raise InvalidInputError(
            f"weights of shape {array.shape} need one row per layer ({layers} layers)"
        )
    return np.broadcast_to(array, (samples, layers, heads)).copy()


def _walk_numbers(stack, alpha, eps, max_steps, zero_columns, engine):
    """§3 numbers of the mixture walk ``P̄(α)`` for every sample and layer."""
    mixture = mixture_walk_of_heads(stack, alpha, zero_columns=zero_columns)
    times = _hitting_times(mixture, engine)[..., :-1]
    bound = _mixing_bound(mixture, eps)
    p_bar = (alpha * _head_forward_probability(stack)).sum(axis=-1)
    return {
        "mixing_time": _mixing_time(mixture, eps, max_steps, "nan", engine),
        "hitting_time_mean": times.mean(axis=-1),
        "hitting_time_max": times.max(axis=-1),
        "forward_probability": np.asarray(bound.p, dtype=float),
        "depth": np.asarray(bound.depth),
        "m1_bound": np.asarray(bound.binomial, dtype=float),
        "m2_bound": np.asarray(bound.closed_form, dtype=float),
        "p_bar": p_bar,
        "m3_bound": np.asarray(closed_form_bound(mixture.shape[-1] - 1, p_bar, eps), dtype=float),
    }


def analyze_attention(attention, weights=None, *, horizon=100, eps=0.25,
                      max_steps=DEFAULT_MAX_STEPS, zero_columns="raise", backend=None, device=None,
                      dtype=None, gamma=None):
    """Every per-layer number of the analyzer for attention of shape ``(S, L, H, T, T)``.

    The attention is validated once; every iteration then runs batched over
    samples, layers and heads (see docs/performance.md).

    Parameters
    ----------
    attention : array_like
        ``(H, T, T)``, ``(L, H, T, T)`` or ``(S, L, H, T, T)`` float attention.
    weights : array_like of shape (H,) or (L, H), optional
        Head weights per layer (e.g. §1's learned weights); uniform by default.
    horizon : int
        ``K`` for the fidelities (default 100, the paper's).
    eps : float
        ``ε`` for mixing (default 1/4).
    max_steps : int, keyword-only
        Mixing times beyond this are reported as ``nan``.
    zero_columns : {"raise", "sink"}, keyword-only
        Forward-walk policy for tokens nobody attends to (§3).
    backend, device, dtype : keyword-only
        Where the iterations run (NumPy by default, torch for a tensor input),
        as for :func:`dagtheory.signal_curves`.
    gamma : float, optional, keyword-only
        When given (``0 < γ ≤ 1``), also §4's depth signal of every sample's
        stack of combined operators, with residual operators
        ``R^(ℓ) = (1 - γ) I + γ Δ̄^(ℓ)`` (see :func:`dagtheory.depth_signal`).

    Returns
    -------
    LayerAnalysis

    Examples
    --------
    >>> import numpy as np
    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> result = analyze_attention(heads, horizon=20)
    >>> result.shape, round(float(result.amplification[0, 0]), 6), float(result.mixing_time[0, 0])
    ((1, 1), 1.111111, 8.0)

    Across the stack (§4): with ``γ = 1`` and the same layer twice, the depth
    signal is §2's ``S_1``, ``S_2`` of ``Δ̄``; token ``u`` keeps least, ``1/9``:

    >>> result = analyze_attention(np.stack([heads, heads]), horizon=20, gamma=1)
    >>> result.stack_signal.shape, round(float(result.stack_minimax[0]), 6), int(result.stack_node[0])
    ((1, 2, 4), 0.111111, 0)
    """
    _require_analysis_memory(attention)
    stack = _stack(attention)
    horizon = check_horizon(horizon, allow_none=False)
    eps = check_eps(eps, exact=False)
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    gamma = None if gamma is None else check_gamma(gamma, exact=False)
    alpha = _weights(weights, stack.shape)
    engine = choose_engine(attention, backend, device, dtype)
    combined = np.einsum("...h,...hij->...ij", alpha, stack)
    amp = _amplification(stack, alpha, horizon, np.arange(stack.shape[-1] - 1), None, engine,
                         combined=combined)
    proxy = proxy_from_fidelity(amp.combined_result.fidelity)
    return LayerAnalysis(
        weights=alpha,
        fidelity_proxy=np.asarray(proxy.percent, dtype=float),
        fidelity_proxy_node=np.asarray(proxy.node),
        sink_decides=np.asarray(proxy.sink_decides, dtype=bool),
        mixing_proxy=np.asarray(mixing_proxy_of_combined(combined, engine=engine).value, dtype=float),
        minimax_fidelity=np.asarray(amp.combined, dtype=float),
        minimax_node=np.asarray(amp.combined_result.node),
        minimax_step=np.asarray(amp.combined_result.t),
        head_fidelity=np.asarray(amp.per_head, dtype=float),
        best_head=np.asarray(amp.best_head),
        best_head_fidelity=np.asarray(amp.best_value, dtype=float),
        amplification=np.asarray(amp.ratio, dtype=float),
        **_walk_numbers(stack, alpha, eps, max_steps, zero_columns, engine),
        horizon=horizon, eps=eps,
        **_stack_numbers(combined, gamma),
    )


#: Peak working memory of :func:`analyze_attention`, in float64 ``(T, T)`` matrices per sample and
#: layer, beyond one float64 copy of the input (5.1–5.3 measured with tracemalloc; docs/guarantees.md).
ANALYSIS_MATRICES = 6


def _require_analysis_memory(attention):
    """Refuse attention whose analysis would need more memory than the limit, before any copy."""
    shape = tuple(int(size) for size in np.shape(attention))
    if len(shape) < 3:
        return  # _stack names the wrong shape
    tokens, layers = shape[-1], math.prod(shape[:-3])
    needed = 8 * (math.prod(shape) + ANALYSIS_MATRICES * layers * tokens * tokens)
    require_memory(needed, f"analyze_attention on attention of shape {shape}",
                   hint="analyze fewer samples or layers at a time (dagtheory analyze --chunk-samples)")


def _stack_numbers(combined, gamma):
    """§4 numbers of each sample's stack of combined operators ``(S, L, n, n)``; none without ``gamma``."""
    if gamma is None:
        return {}
    depth = depth_signal(combined, gamma)
    return {"stack_signal": depth.signal, "stack_fidelity": depth.fidelity,
            "stack_minimax": np.asarray(depth.minimax, dtype=float), "stack_node": np.asarray(depth.node),
            "gamma": depth.gamma}


def _mean_and_std(values):
    values = np.asarray(values, dtype=float)
    finite = np.where(np.isfinite(values), values, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(finite, axis=0)
        std = np.nanstd(finite, axis=0, ddof=1) if values.shape[0] > 1 else np.zeros(values.shape[1:])
    # A metric that is infinite (or beyond the budget) in any sample stays so in the mean.
    mean = np.where(np.isinf(values).any(axis=0), math.inf, mean)
    mean = np.where(np.isnan(values).any(axis=0), math.nan, mean)
    return mean, np.where(np.isfinite(mean), std, math.nan)


def summarize(analysis):
    """Mean and standard deviation over samples of every scalar metric, per layer.

    Returns
    -------
    dict
        ``{metric: {"mean": ndarray (L,), "std": ndarray (L,)}}`` for
        :data:`SUMMARY_METRICS`, plus ``"sink_decides_share"`` (fraction of
        samples whose fidelity proxy is decided by the sink) and
        ``"amplifies_share"`` (fraction with ``ρ > 1``).

    Examples
    --------
    Two samples of one layer: Example 2 (§2, ``ρ = 10/9``) and the same system
    with head 1 taken twice (``ρ = 1``):

    >>> import numpy as np
    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> samples = np.stack([heads, heads[[0, 0]]])[:, None]
    >>> samples.shape
    (2, 1, 2, 4, 4)
    >>> summary = summarize(analyze_attention(samples, horizon=20))
    >>> rho = summary["amplification"]
    >>> round(float(rho["mean"][0]), 6), round(float(rho["std"][0]), 6)
    (1.055556, 0.078567)
    >>> float(summary["amplifies_share"][0]), round(float(summary["minimax_fidelity"]["mean"][0]), 6)
    (0.5, 0.395833)
    """
    summary = {}
    for name in SUMMARY_METRICS:
        mean, std = _mean_and_std(getattr(analysis, name))
        summary[name] = {"mean": mean, "std": std}
    summary["sink_decides_share"] = np.asarray(analysis.sink_decides, dtype=float).mean(axis=0)
    summary["amplifies_share"] = (np.asarray(analysis.amplification) > 1).mean(axis=0)
    return summary
