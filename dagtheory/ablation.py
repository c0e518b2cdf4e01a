r"""Predicted effects of removing one head (§1, §2, §3), and their rank correlation with measured ones.

For a layer with heads ``A^(1..H)`` and weights ``w`` on the simplex (§1's
learned weights, or uniform), removing head ``r`` leaves the head system of
the other heads with the weights renormalized:

.. math:: w^{(-r)}_h = \frac{w_h [h \ne r]}{\sum_{k \ne r} w_k}.

:func:`predict_ablation` computes, for every sample, layer and removed head,
the change from the intact system of

* the minimax fidelity ``φ_min^K`` of the combined operator ``Δ̄(w)`` over the
  non-sink sources (§2);
* the mixing time ``T_mix(ε)`` of the mixture walk ``P̄(w)`` (§3);
* the amplification ``ρ = φ_min(Δ̄) / max_h φ_min(Δ^(h))`` (§2), where the
  best single head is taken over the heads *in the system*: those with a
  positive weight. A head of weight 0 adds nothing to ``Δ̄`` or ``P̄`` and is
  treated as absent, so removing it changes none of the three numbers.

Removing head ``r`` is *undefined* when no other head has a positive weight
(a one-head layer, or the last head of positive weight): nothing is left to
analyze. Its effects are ``nan`` and :func:`rank_correlations` leaves them
out.

The computation is batched: the ``H`` leave-one-out weight vectors and the
intact one form a batch axis of ``H + 1`` weight vectors, so one call of
:func:`~dagtheory.minimax_fidelity` and one of :func:`~dagtheory.mixing_time`
cover every sample, layer and removed head; the per-head fidelities (which do
not depend on the weights) come from one more call. There is no Python loop
over samples or heads.

:func:`rank_correlations` compares predicted and measured effects (e.g. the
change in loss when the head's contribution is zeroed in the model, see
:func:`dagtheory.torch.ablation_effects`) by Spearman's rank correlation
(:func:`scipy.stats.spearmanr`), per layer and over all heads of the model.
The heads whose effects are not both finite are left out; with fewer than 3
heads left, or a constant effect, the correlation is reported as undefined
(``rho`` and ``pvalue`` are ``nan``, ``reason`` says why) instead of calling
``spearmanr`` on it.
"""

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._validation import check_attention, check_eps, check_horizon, check_steps, check_weights
from .exceptions import InvalidInputError, InvalidTypeError
from .fidelity import minimax_fidelity
from .graph import mixture_walk_of_heads
from .markov import mixing_time

__all__ = [
    "PREDICTED_METRICS",
    "AblationPrediction",
    "RankCorrelation",
    "leave_one_out_weights",
    "predict_ablation",
    "rank_correlations",
]

#: The predicted effects, in report order: minimax fidelity, mixing time, amplification.
PREDICTED_METRICS = ("minimax_fidelity", "mixing_time", "amplification")

#: Fewest heads (with both effects finite) for which a rank correlation is reported.
MIN_PAIRS = 3


@dataclass(frozen=True)
class AblationPrediction:
    """Predicted effects of removing each head; arrays of shape ``(S, L, H)`` unless noted.

    Attributes
    ----------
    weights : ndarray, shape (L, H)
        The intact system's head weights (on the simplex, per layer).
    minimax_fidelity, mixing_time, amplification : ndarray, shape (S, L)
        The intact system's ``φ_min^K`` (§2), ``T_mix(ε)`` of ``P̄`` (§3) and
        ``ρ`` (§2), per sample and layer.
    delta_minimax_fidelity, delta_mixing_time, delta_amplification : ndarray, shape (S, L, H)
        ``[s, l, r]``: the value without head ``r`` minus the intact value;
        ``nan`` where removing ``r`` is undefined (no other head of positive
        weight).
    defined : ndarray of bool, shape (L, H)
        Where removing the head leaves a head system.
    horizon : int
        ``K`` of the fidelities.
    eps : float
        ``ε`` of the mixing time.

    Examples
    --------
    Example 2 (§2) as one layer: without head 2 the system is head 1 alone,
    ``φ_min = 3/8`` instead of ``5/12``:

    >>> import numpy as np
    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> prediction = predict_ablation(heads, horizon=20)
    >>> prediction.delta_minimax_fidelity.shape
    (1, 1, 2)
    >>> round(float(prediction.delta_minimax_fidelity[0, 0, 1]), 6), round(3 / 8 - 5 / 12, 6)
    (-0.041667, -0.041667)
    >>> prediction.mean()["amplification"].round(6)
    array([[-0.111111, -0.111111]])
    """

    weights: Any
    minimax_fidelity: Any
    mixing_time: Any
    amplification: Any
    delta_minimax_fidelity: Any
    delta_mixing_time: Any
    delta_amplification: Any
    defined: Any
    horizon: int
    eps: float

    @property
    def shape(self):
        """``(S, L, H)``: samples, layers and heads."""
        return np.shape(self.delta_minimax_fidelity)

    def mean(self):
        """Mean effect over samples, ``{metric: ndarray (L, H)}`` for :data:`PREDICTED_METRICS`.

        A non-finite effect in any sample (an infinite mixing time) makes the
        mean non-finite; an undefined removal stays ``nan``.
        """
        return {name: np.mean(getattr(self, f"delta_{name}"), axis=0) for name in PREDICTED_METRICS}


@dataclass(frozen=True)
class RankCorrelation:
    """Spearman's rank correlation between one predicted and one measured effect.

    Attributes
    ----------
    predicted, measured : str
        Names of the two effects.
    layer : int or None
        The layer, or ``None`` for all heads of all layers together.
    rho, pvalue : float
        :func:`scipy.stats.spearmanr`'s statistic and two-sided p-value;
        ``nan`` when undefined.
    n : int
        Heads used (both effects finite).
    reason : str or None
        Why the correlation is undefined (``None`` when it is defined).

    Examples
    --------
    >>> result = rank_correlations({"a": [[1.0, 2.0, 3.0]]}, {"b": [[1.0, 3.0, 2.0]]})[0]
    >>> result.layer, result.rho, result.n, result.defined
    (None, 0.5, 3, True)
    """

    predicted: str
    measured: str
    layer: Any
    rho: float
    pvalue: float
    n: int
    reason: Any = None

    @property
    def defined(self):
        """Whether the correlation has a value."""
        return self.reason is None


def _check_stack(attention):
    array = check_attention(attention, name="attention", batch_label="batch")
    if array.dtype == object:
        array = array.astype(float)
    if array.ndim < 3 or array.ndim > 5:
        raise InvalidInputError(
            "attention must have shape (H, T, T), (L, H, T, T) or (S, L, H, T, T); "
            f"got shape {array.shape}"
        )
    return array.reshape((1,) * (5 - array.ndim) + array.shape)


def _layer_weights(weights, layers, heads):
    if weights is None:
        return np.full((layers, heads), 1.0 / heads)
    array = check_weights(weights, heads, exact=False)
    if array.ndim > 2 or (array.ndim == 2 and array.shape[0] != layers):
        raise InvalidInputError(
            f"weights must have shape ({heads},) or ({layers}, {heads}), one row per layer; got {array.shape}"
        )
    return np.broadcast_to(array, (layers, heads)).astype(float)


def leave_one_out_weights(weights):
    """The weights of each head system with one head removed, renormalized.

    Parameters
    ----------
    weights : array_like, shape (..., H)
        Non-negative head weights (each row is renormalized).

    Returns
    -------
    ndarray, shape (..., H, H)
        ``[..., r, :]`` are the weights without head ``r``: 0 at ``r``, the
        others divided by their sum. A row is ``nan`` where no other head has
        a positive weight (removal undefined).

    Examples
    --------
    >>> leave_one_out_weights([0.5, 0.5, 0.0])
    array([[0. , 1. , 0. ],
           [1. , 0. , 0. ],
           [0.5, 0.5, 0. ]])
    >>> leave_one_out_weights([1.0])
    array([[nan]])
    """
    array = np.asarray(weights, dtype=float)
    if array.ndim < 1 or array.shape[-1] < 1:
        raise InvalidInputError(f"weights must have shape (..., H) with H >= 1; got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0):
        raise InvalidInputError(f"weights must be finite and non-negative; got {array!r}")
    heads = array.shape[-1]
    kept = array[..., None, :] * (1.0 - np.eye(heads))
    total = kept.sum(axis=-1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total > 0, kept / np.where(total > 0, total, 1.0), np.nan)


def _ratio(combined, best):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.divide(combined, best)


def predict_ablation(attention, weights=None, *, horizon=100, eps=0.25, max_steps=100_000):
    """Predicted change of ``φ_min``, ``T_mix`` and ``ρ`` when each head is removed (§2, §3).

    Parameters
    ----------
    attention : array_like
        ``(H, T, T)``, ``(L, H, T, T)`` or ``(S, L, H, T, T)`` float attention
        (``S`` input samples, ``L`` layers).
    weights : array_like of shape (H,) or (L, H), optional
        Head weights per layer (§1's learned weights, say); uniform by default.
    horizon : int, keyword-only
        ``K`` of the minimax fidelity (default 100).
    eps : float, keyword-only
        ``ε`` of the mixing time (default 1/4).
    max_steps : int, keyword-only
        Mixing times beyond this are ``nan`` ("more than").

    Returns
    -------
    AblationPrediction

    Raises
    ------
    InvalidInputError
        Attention of the wrong shape or not causal and row-stochastic, or
        weights of the wrong shape or negative.

    Notes
    -----
    One batch of ``H + 1`` weight vectors per layer (the intact weights, then
    the ``H`` leave-one-out ones) goes through
    :func:`~dagtheory.minimax_fidelity` and :func:`~dagtheory.mixing_time` at
    once; memory is about ``S · L · (H + 1)`` matrices of ``T × T`` floats.

    Examples
    --------
    Two copies of one head and a third head: removing a copy leaves the
    system almost as it was, removing the third head changes it most:

    >>> import numpy as np
    >>> from dagtheory.examples import paper_example2
    >>> one, two = np.asarray(paper_example2().attention, dtype=float)
    >>> prediction = predict_ablation(np.stack([one, one, two]), horizon=20)
    >>> prediction.delta_minimax_fidelity.round(4)
    array([[[ 0.0051,  0.0051, -0.0365]]])
    >>> predict_ablation(one[None], horizon=20).defined
    array([[False]])
    """
    stack = _check_stack(attention)
    horizon = check_horizon(horizon, allow_none=False)
    eps = check_eps(eps, exact=False)
    max_steps = check_steps(max_steps, name="max_steps", minimum=1)
    _, layers, heads = stack.shape[:3]
    base = _layer_weights(weights, layers, heads)
    base = base / base.sum(axis=-1, keepdims=True)
    removed = leave_one_out_weights(base)                                  # (L, H, H)
    defined = np.isfinite(removed).all(axis=-1)                            # (L, H)
    variants = np.concatenate([base[:, None], np.where(defined[..., None], removed, base[:, None])], axis=1)
    combined = np.einsum("lrh,slhij->slrij", variants, stack)               # (S, L, H+1, T, T)
    fidelity = np.asarray(minimax_fidelity(combined, horizon).value, dtype=float)
    walks = mixture_walk_of_heads(stack[:, :, None], variants[None])
    steps = np.asarray(mixing_time(walks, eps, max_steps=max_steps, over_budget="nan"), dtype=float)
    per_head = np.asarray(minimax_fidelity(stack, horizon).value, dtype=float)  # (S, L, H)
    present = variants > 0                                                 # (L, H+1, H)
    best = np.where(present[None], per_head[:, :, None, :], -np.inf).max(axis=-1)
    rho = _ratio(fidelity, best)
    deltas = {name: np.where(defined[None], values[..., 1:] - values[..., :1], np.nan)
              for name, values in (("minimax_fidelity", fidelity), ("mixing_time", steps),
                                   ("amplification", rho))}
    return AblationPrediction(
        weights=base, minimax_fidelity=fidelity[..., 0], mixing_time=steps[..., 0], amplification=rho[..., 0],
        delta_minimax_fidelity=deltas["minimax_fidelity"], delta_mixing_time=deltas["mixing_time"],
        delta_amplification=deltas["amplification"], defined=defined, horizon=horizon, eps=eps,
    )


def _effects(effects, name):
    if not isinstance(effects, dict) or not effects:
        raise InvalidTypeError(f"{name} must be a non-empty dict of name -> array (L, H); got {effects!r}")
    arrays = {}
    for key, value in effects.items():
        try:
            array = np.asarray(value, dtype=float)
        except (TypeError, ValueError) as err:
            raise InvalidInputError(f"{name}[{key!r}] must be numbers; got {value!r}") from err
        if array.ndim != 2:
            raise InvalidInputError(f"{name}[{key!r}] must have shape (L, H); got shape {array.shape}")
        arrays[str(key)] = array
    return arrays


def _spearman(x, y, predicted, measured, layer):
    keep = np.isfinite(x) & np.isfinite(y)
    undefined = x.size > 0 and not np.isfinite(x).any()
    x, y, n = x[keep], y[keep], int(keep.sum())
    reason = None
    if undefined:
        reason = "no head's removal is defined here (each leaves no head of positive weight, e.g. one head)"
    elif n < MIN_PAIRS:
        reason = f"fewer than {MIN_PAIRS} heads with both effects defined and finite ({n})"
    elif np.all(x == x[0]):
        reason = f"the predicted effect is constant ({x[0]:.6g}) over the {n} heads"
    elif np.all(y == y[0]):
        reason = f"the measured effect is constant ({y[0]:.6g}) over the {n} heads"
    if reason is not None:
        return RankCorrelation(predicted, measured, layer, math.nan, math.nan, n, reason)
    from scipy.stats import spearmanr

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        result = spearmanr(x, y)
    rho, pvalue = float(result.statistic), float(result.pvalue)
    if not math.isfinite(rho):
        return RankCorrelation(predicted, measured, layer, math.nan, math.nan, n,
                               "scipy.stats.spearmanr returned nan")
    return RankCorrelation(predicted, measured, layer, rho, pvalue, n)


def rank_correlations(predicted, measured, *, per_layer=True):
    """Spearman's rank correlation of every predicted effect with every measured one.

    Parameters
    ----------
    predicted, measured : dict of str to array_like of shape (L, H)
        Effects per layer and head (e.g. :meth:`AblationPrediction.mean` and
        the measured changes of loss and accuracy). All arrays have one shape.
    per_layer : bool, keyword-only
        Also correlate within each layer (default); the overall correlation
        (``layer=None``) pools all heads of all layers.

    Returns
    -------
    list of RankCorrelation
        For each predicted, then each measured effect: the overall
        correlation, then one per layer.

    Raises
    ------
    InvalidInputError
        Arrays that are not numbers of shape ``(L, H)``, or of different shapes.

    Notes
    -----
    Heads where either effect is not finite (``nan``: removal undefined;
    ``inf``) are left out. With fewer than 3 heads left, or a constant effect,
    the correlation is undefined: ``rho = pvalue = nan`` and ``reason`` says
    why (``spearmanr`` itself would return ``nan`` with a warning there).

    Examples
    --------
    >>> results = rank_correlations({"dphi": [[0.1, 0.2, 0.3, 0.4]]},
    ...                             {"dloss": [[1.0, 4.0, 9.0, 16.0]], "dacc": [[0.0, 0.0, 0.0, 0.0]]})
    >>> [(r.measured, r.layer, r.rho) for r in results]
    [('dloss', None, 1.0), ('dloss', 0, 1.0), ('dacc', None, nan), ('dacc', 0, nan)]
    >>> results[2].reason
    'the measured effect is constant (0) over the 4 heads'
    """
    predicted, measured = _effects(predicted, "predicted"), _effects(measured, "measured")
    shapes = {a.shape for a in (*predicted.values(), *measured.values())}
    if len(shapes) > 1:
        raise InvalidInputError(f"predicted and measured effects must all have one shape (L, H); got {sorted(shapes)}")
    results = []
    for p_name, p in predicted.items():
        for m_name, m in measured.items():
            results.append(_spearman(p.ravel(), m.ravel(), p_name, m_name, None))
            if per_layer:
                results += [_spearman(p[layer], m[layer], p_name, m_name, layer) for layer in range(p.shape[0])]
    return results
