"""Measured effects of interventions on heads: ablation and re-weighting, against the analyzer's predictions.

In a :class:`~dagtheory.torch.PaperTransformer`, head ``h`` of layer ``ℓ``
reaches the residual stream only through the columns ``h·d .. (h+1)·d - 1`` of
that layer's ``out_proj`` weight (``d = d_model / H``): the heads' outputs are
concatenated, then ``out_proj(x) = W x + b``. Multiplying those columns by
``s`` multiplies the head's contribution by ``s`` exactly; ``s = 0`` removes
it (ablation). The bias ``b`` belongs to no head and is left as it is.
:func:`head_scales` applies such scales for the duration of a ``with`` block
and then restores the original weights bit for bit.

Because §1's learned head weights are the normalized Frobenius norms of these
column blocks, scaling block ``h`` by ``s_h = t_h / w_h`` turns the learned
profile ``w`` into any target ``t`` on the simplex (the sum of the norms is
kept): :func:`reweighting_scales`.

:func:`evaluate` measures the mean cross-entropy and the accuracy of a model
on its task (copy or cycle) at positions ``1 .. T-1``, on held-out random
sequences; :func:`ablation_effects` measures the change of both when each
head alone is ablated. :func:`ablation_report` sets these measured effects
beside the analyzer's predicted ones (:func:`dagtheory.ablation.predict_ablation`)
with their Spearman rank correlations, and :func:`reweight_report` re-weights
every layer to the uniform or the P3-optimal profile (§5) and measures the
task and the analyzer's numbers again (``dagtheory ablate`` and ``dagtheory
reweight``; see docs/interventions.md).

Held-out sequences come from a :class:`torch.Generator` seeded with
``SeedSequence(seed, spawn_key=(EVALUATION_STREAM,))``, a stream that
:func:`~dagtheory.torch.train_model` never draws from (it seeds its training
and held-out data from ``SeedSequence(seed)`` without a spawn key), so the
evaluation sequences are not the training batches for any seed.
"""

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from .._validation import check_steps, check_weights
from ..ablation import PREDICTED_METRICS, predict_ablation, rank_correlations
from ..exceptions import InvalidInputError, InvalidTypeError
from .extract import _evaluating, extract_attention, learned_head_weights
from .model import PaperTransformer
from .train import copy_batch, cycle_batch

__all__ = [
    "EVALUATION_STREAM",
    "Evaluation",
    "AblationEffects",
    "evaluate",
    "head_scales",
    "reweighting_scales",
    "ablation_effects",
    "ablation_report",
    "reweight_report",
]

#: Spawn key of the held-out data's seed sequence (a stream training never uses).
EVALUATION_STREAM = 0x5EED_E7A1

#: A loss change counts as real when it exceeds this many standard errors (paired, over sequences).
SIGNIFICANCE = 2.0

_BATCHES = {"copy": copy_batch, "cycle": cycle_batch}
_TARGETS = ("uniform", "optimal")


@dataclass(frozen=True)
class Evaluation:
    """Loss and accuracy of a model on held-out sequences of its task.

    Attributes
    ----------
    loss : float
        Mean cross-entropy (natural log) over sequences and positions ``1 .. T-1``.
    loss_se : float
        Standard error of ``loss`` over the sequences (``nan`` for one sequence).
    accuracy : float
        Share of correct argmax predictions at positions ``1 .. T-1``.
    sequence_loss, sequence_accuracy : ndarray, shape (samples,)
        The same per sequence (for paired comparisons).
    task : str
    samples, seq_len, seed : int

    Examples
    --------
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=1, d_mlp=16, max_len=6)
    >>> result = evaluate(model, "copy", samples=4)
    >>> result.sequence_loss.shape, result.seq_len, 0 <= result.accuracy <= 1
    ((4,), 6, True)
    """

    loss: float
    loss_se: float
    accuracy: float
    sequence_loss: Any = field(repr=False)
    sequence_accuracy: Any = field(repr=False)
    task: str
    samples: int
    seq_len: int
    seed: int


@dataclass(frozen=True)
class AblationEffects:
    """Measured effects of ablating each head alone; arrays of shape ``(L, H)``.

    Attributes
    ----------
    baseline : Evaluation
        The intact model.
    loss, accuracy : ndarray, shape (L, H)
        ``[l, h]``: loss (accuracy) with head ``h`` of layer ``l`` ablated,
        minus the intact model's, on the same sequences.
    loss_se : ndarray, shape (L, H)
        Standard error of the loss change, paired over sequences.

    Examples
    --------
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=1, d_mlp=16, max_len=6)
    >>> effects = ablation_effects(model, "copy", samples=4)
    >>> effects.loss.shape, effects.baseline.samples
    ((1, 2), 4)
    """

    baseline: Evaluation
    loss: Any
    accuracy: Any
    loss_se: Any


def _check_model(model):
    if not isinstance(model, PaperTransformer):
        raise InvalidTypeError(f"model must be a dagtheory.torch.PaperTransformer; got {type(model).__name__}")
    return model


def _check_task(task):
    if task not in _BATCHES:
        raise InvalidInputError(f"task must be one of {tuple(_BATCHES)}; got {task!r}")
    return task


def _seq_len(model, seq_len):
    max_len = model.config["max_len"]
    if seq_len is None:
        seq_len = max_len
    seq_len = check_steps(seq_len, name="seq_len", minimum=2)
    if seq_len > max_len:
        raise InvalidInputError(f"seq_len = {seq_len} is longer than the model's max_len = {max_len}")
    return seq_len


def _generator(seed):
    seed = check_steps(seed, name="seed", minimum=0)
    state = np.random.SeedSequence(seed, spawn_key=(EVALUATION_STREAM,)).generate_state(2, dtype=np.uint32)
    return torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))


def _standard_error(values):
    values = np.asarray(values, dtype=float)
    if values.size < 2:
        return math.nan
    return float(values.std(ddof=1) / math.sqrt(values.size))


def evaluate(model, task, *, samples=64, seq_len=None, seed=0):
    """Mean cross-entropy and accuracy of a model on held-out sequences of its task.

    Parameters
    ----------
    model : PaperTransformer
    task : {"copy", "cycle"}
        ``copy``: the target is the input; ``cycle``: the target at ``i`` is
        the input at ``i - 1``.
    samples : int, keyword-only
        Number of held-out sequences (all run in one batch).
    seq_len : int, keyword-only
        Their length ``T`` (default: the model's ``max_len``).
    seed : int, keyword-only
        Seeds the held-out generator (see the module notes: a stream training
        never uses).

    Returns
    -------
    Evaluation

    Raises
    ------
    InvalidTypeError
        A model that is not a PaperTransformer, or a non-int size or seed.
    InvalidInputError
        An unknown task, ``samples < 1``, ``seq_len`` below 2 or above ``max_len``.

    Notes
    -----
    Loss and accuracy are taken at positions ``1 .. T-1`` (position 0 of the
    cycle task is unpredictable for a causal model). The model runs in eval
    mode without gradients (training flags are restored afterwards), and the
    cross-entropy is computed in float64; the same call gives the same
    numbers.

    Examples
    --------
    >>> import torch
    >>> from dagtheory.torch import PaperTransformer
    >>> _ = torch.manual_seed(0)
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=1, d_mlp=16, max_len=6)
    >>> first, second = evaluate(model, "cycle", samples=8), evaluate(model, "cycle", samples=8)
    >>> first.loss == second.loss, first.samples, first.seq_len
    (True, 8, 6)
    """
    _check_model(model)
    task = _check_task(task)
    samples = check_steps(samples, name="samples", minimum=1)
    seq_len = _seq_len(model, seq_len)
    vocab_size = model.config["vocab_size"]
    inputs, targets = _BATCHES[task](samples, seq_len, vocab_size, _generator(seed))
    device = next(model.parameters()).device
    with _evaluating(model):
        logits = model(inputs.to(device))[:, 1:].to("cpu", torch.float64)
    targets = targets[:, 1:]
    losses = F.cross_entropy(logits.reshape(-1, vocab_size), targets.reshape(-1), reduction="none")
    sequence_loss = losses.view(samples, seq_len - 1).mean(dim=1).numpy()
    sequence_accuracy = (logits.argmax(dim=-1) == targets).double().mean(dim=1).numpy()
    return Evaluation(loss=float(sequence_loss.mean()), loss_se=_standard_error(sequence_loss),
                      accuracy=float(sequence_accuracy.mean()), sequence_loss=sequence_loss,
                      sequence_accuracy=sequence_accuracy, task=task, samples=samples, seq_len=seq_len,
                      seed=seed)


def _check_scales(scales, layers, heads):
    try:
        array = np.asarray(scales, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidTypeError(f"scales must be numbers of shape ({layers}, {heads}); got {scales!r}") from err
    if array.shape != (layers, heads):
        raise InvalidInputError(
            f"scales must have shape ({layers}, {heads}), one per layer and head; got shape {array.shape}")
    bad = np.argwhere(~np.isfinite(array))
    if bad.size:
        layer, head = (int(i) for i in bad[0])
        raise InvalidInputError(f"scales holds {array[layer, head]} (not finite) at layer {layer}, head {head}")
    return array


@contextmanager
def head_scales(model, scales):
    """Scale each head's contribution before the out-projection, inside a ``with`` block.

    Parameters
    ----------
    model : PaperTransformer
    scales : array_like of float, shape (L, H)
        ``scales[l, h]`` multiplies the output of head ``h`` of layer ``l``
        before ``out_proj``; 0 ablates the head, 1 leaves it.

    Yields
    ------
    PaperTransformer
        The same model, with the columns of every ``layers[l].attn.out_proj.weight``
        that read head ``h`` multiplied by ``scales[l, h]``.

    Raises
    ------
    InvalidTypeError, InvalidInputError
        A model that is not a PaperTransformer; scales of the wrong shape or
        not finite.

    Notes
    -----
    The weights are edited in place (the bias is untouched) and copied back
    from a saved clone when the block ends, also on an error, so the model is
    restored bit for bit. Do not train or save the model inside the block.

    Examples
    --------
    >>> import torch
    >>> from dagtheory.torch import PaperTransformer, learned_head_weights
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=1, d_mlp=16, max_len=6)
    >>> before = model.layers[0].attn.out_proj.weight.clone()
    >>> with head_scales(model, [[0.0, 1.0]]):
    ...     learned_head_weights(model, 0)
    array([0., 1.])
    >>> bool(torch.equal(model.layers[0].attn.out_proj.weight, before))
    True
    """
    _check_model(model)
    layers, heads = model.n_layers, model.n_heads
    scales = _check_scales(scales, layers, heads)
    width = model.config["d_model"] // heads
    saved = [block.attn.out_proj.weight.detach().clone() for block in model.layers]
    try:
        with torch.no_grad():
            for layer, block in enumerate(model.layers):
                weight = block.attn.out_proj.weight
                factor = torch.as_tensor(np.repeat(scales[layer], width), dtype=weight.dtype, device=weight.device)
                weight.mul_(factor)
        yield model
    finally:
        with torch.no_grad():
            for block, weight in zip(model.layers, saved):
                block.attn.out_proj.weight.copy_(weight)


def _learned(model):
    return np.stack([learned_head_weights(model, layer) for layer in range(model.n_layers)])


def reweighting_scales(model, target):
    """Scales for :func:`head_scales` that turn the learned head weights (§1) into ``target``.

    Parameters
    ----------
    model : PaperTransformer
    target : array_like, shape (H,) or (L, H)
        Head weights per layer (each row renormalized to the simplex).

    Returns
    -------
    ndarray, shape (L, H)
        ``target / learned``: after scaling, the norms of the out-projection
        blocks are ``target`` times their former sum, so
        :func:`~dagtheory.torch.learned_head_weights` gives ``target``.

    Raises
    ------
    InvalidInputError
        A target of the wrong shape or negative, or one that gives weight to a
        head whose out-projection block is zero (no scale can revive it).

    Examples
    --------
    >>> import numpy as np
    >>> from dagtheory.torch import PaperTransformer, learned_head_weights
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> with head_scales(model, reweighting_scales(model, [0.25, 0.75])):
    ...     learned_head_weights(model, 1).round(6)
    array([0.25, 0.75])
    """
    _check_model(model)
    layers, heads = model.n_layers, model.n_heads
    try:
        array = np.asarray(target, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidTypeError(f"target must be numbers of shape ({layers}, {heads}); got {target!r}") from err
    if array.ndim not in (1, 2) or array.shape[-1] != heads or (array.ndim == 2 and array.shape[0] != layers):
        raise InvalidInputError(
            f"target must have shape ({heads},) or ({layers}, {heads}); got shape {array.shape}")
    target = np.broadcast_to(check_weights(array, heads, exact=False, name="target"), (layers, heads))
    learned = _learned(model)
    dead = np.argwhere((learned == 0) & (target > 0))
    if dead.size:
        layer, head = (int(i) for i in dead[0])
        raise InvalidInputError(
            f"target gives weight {target[layer, head]:.6g} to head {head} of layer {layer}, whose out-projection "
            "block is zero; no scale can give it weight")
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(learned > 0, target / np.where(learned > 0, learned, 1.0), 0.0)


def ablation_effects(model, task, *, samples=64, seq_len=None, seed=0):
    """Measured change of loss and accuracy when each head alone is ablated.

    Parameters
    ----------
    model : PaperTransformer
    task : {"copy", "cycle"}
    samples, seq_len, seed : keyword-only
        As for :func:`evaluate`; every ablation is measured on the same
        held-out sequences as the intact model.

    Returns
    -------
    AblationEffects

    Notes
    -----
    One :func:`evaluate` per layer and head (``L · H + 1`` batched forward
    passes); the head's contribution is zeroed by :func:`head_scales`.

    Examples
    --------
    >>> import numpy as np
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> effects = ablation_effects(model, "copy", samples=8, seed=1)
    >>> effects.loss.shape, bool(np.isfinite(effects.loss_se).all())
    ((2, 2), True)
    """
    _check_model(model)
    layers, heads = model.n_layers, model.n_heads
    options = dict(samples=samples, seq_len=seq_len, seed=seed)
    baseline = evaluate(model, task, **options)
    loss, accuracy, loss_se = (np.empty((layers, heads)) for _ in range(3))
    for layer in range(layers):
        for head in range(heads):
            scales = np.ones((layers, heads))
            scales[layer, head] = 0.0
            with head_scales(model, scales):
                ablated = evaluate(model, task, **options)
            loss[layer, head] = ablated.loss - baseline.loss
            accuracy[layer, head] = ablated.accuracy - baseline.accuracy
            loss_se[layer, head] = _standard_error(ablated.sequence_loss - baseline.sequence_loss)
    return AblationEffects(baseline=baseline, loss=loss, accuracy=accuracy, loss_se=loss_se)


# ---------------------------------------------------------------------------
# reports


def _number(value):
    """A float for JSON: ``None`` for nan (undefined); inf stays inf (written as "inf")."""
    value = float(value)
    return None if math.isnan(value) else value


def _tokens(model, samples, seq_len, seed):
    from ..experiment import random_tokens

    samples = check_steps(samples, name="samples", minimum=1)
    return random_tokens(samples, _seq_len(model, seq_len), model.config["vocab_size"], seed)


def _check_weights_kind(weights):
    if weights not in ("learned", "uniform"):
        raise InvalidInputError(f'weights must be "learned" or "uniform"; got {weights!r}')
    return weights


def _correlation_records(correlations):
    return [dict(predicted=c.predicted, measured=c.measured, layer=c.layer, rho=_number(c.rho),
                 pvalue=_number(c.pvalue), n=c.n, defined=c.defined, reason=c.reason) for c in correlations]


def ablation_report(model, task, *, name=None, samples=8, eval_samples=64, seq_len=None, seed=0,
                    weights="learned", horizon=100, eps=0.25):
    """Predicted and measured effects of ablating each head, and their rank correlations.

    Parameters
    ----------
    model : PaperTransformer
    task : {"copy", "cycle"}
    name : str, keyword-only, optional
        The model's name in the report.
    samples : int, keyword-only
        Random token sequences (seeded by ``seed``) whose attention the
        analyzer reads; the predictions are averaged over them.
    eval_samples : int, keyword-only
        Held-out sequences of the task for the measured effects.
    seq_len : int, keyword-only
        Length of both kinds of sequence (default: the model's ``max_len``).
    seed : int, keyword-only
    weights : {"learned", "uniform"}, keyword-only
        Head weights of the analyzed systems (§1).
    horizon, eps : keyword-only
        ``K`` of the fidelities, ``ε`` of the mixing time.

    Returns
    -------
    dict
        The schema of docs/interventions.md: ``settings``, ``baseline``,
        ``heads`` (one record per layer and head: learned weight, predicted and
        measured effects), ``correlations``, ``seconds``.

    Examples
    --------
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> report = ablation_report(model, "copy", samples=2, eval_samples=4)
    >>> len(report["heads"]), sorted(report["heads"][0]["predicted"])
    (4, ['amplification', 'minimax_fidelity', 'mixing_time'])
    >>> [c["layer"] for c in report["correlations"][:3]]
    [None, 0, 1]
    """
    _check_model(model)
    task, weights = _check_task(task), _check_weights_kind(weights)
    started = time.perf_counter()
    tokens = _tokens(model, samples, seq_len, seed)
    attention = extract_attention(model, tokens)
    learned = _learned(model)
    prediction = predict_ablation(attention, learned if weights == "learned" else None, horizon=horizon, eps=eps)
    predicted = prediction.mean()
    predicted_seconds = time.perf_counter() - started
    measured = ablation_effects(model, task, samples=eval_samples, seq_len=seq_len, seed=seed)
    correlations = rank_correlations(predicted, {"loss": measured.loss, "accuracy": measured.accuracy})
    heads = [dict(layer=layer, head=head, learned_weight=float(learned[layer, head]),
                  weight=float(prediction.weights[layer, head]), defined=bool(prediction.defined[layer, head]),
                  predicted={m: _number(predicted[m][layer, head]) for m in PREDICTED_METRICS},
                  measured=dict(loss=float(measured.loss[layer, head]),
                                loss_se=_number(measured.loss_se[layer, head]),
                                accuracy=float(measured.accuracy[layer, head])))
             for layer in range(model.n_layers) for head in range(model.n_heads)]
    base_layers = [dict(layer=layer, **{m: _number(np.mean(getattr(prediction, m)[:, layer]))
                                        for m in PREDICTED_METRICS}) for layer in range(model.n_layers)]
    return dict(
        model=name, task=task, heads_per_layer=model.n_heads, layers=model.n_layers,
        settings=dict(samples=len(tokens), eval_samples=eval_samples, seq_len=int(tokens.shape[1]), seed=seed,
                      weights=weights, horizon=prediction.horizon, eps=prediction.eps),
        baseline=dict(loss=measured.baseline.loss, loss_se=_number(measured.baseline.loss_se),
                      accuracy=measured.baseline.accuracy, layers=base_layers),
        heads=heads, correlations=_correlation_records(correlations),
        seconds=dict(predicted=predicted_seconds, measured=time.perf_counter() - started - predicted_seconds),
    )


def _optimal_target(attention, horizon, starts, time_limit):
    """P3 (§5) per layer on one sample's attention ``(L, H, T, T)``: weights and a record per layer."""
    from ..graph import HeadSystem
    from ..programs import optimal_fidelity_weights

    targets, records = [], []
    for layer, heads in enumerate(attention):
        if heads.shape[0] == 1:
            targets.append(np.ones(1))
            records.append(dict(layer=layer, value=None, status="one head"))
            continue
        result = optimal_fidelity_weights(HeadSystem(heads), horizon=horizon, starts=starts,
                                          time_limit=time_limit)
        targets.append(np.asarray(result.weights, dtype=float))
        records.append(dict(layer=layer, value=float(result.value), status=result.status))
    return np.stack(targets), records


def _analyzer_layers(attention, weights, horizon, eps):
    from ..analysis import analyze_attention, summarize

    summary = summarize(analyze_attention(attention, weights, horizon=horizon, eps=eps))
    return [dict(layer=layer, minimax_fidelity=_number(summary["minimax_fidelity"]["mean"][layer]),
                 mixing_time=_number(summary["mixing_time"]["mean"][layer]),
                 amplification=_number(summary["amplification"]["mean"][layer]))
            for layer in range(attention.shape[1])]


def _side(evaluation, attention, weights, horizon, eps):
    return dict(loss=evaluation.loss, loss_se=_number(evaluation.loss_se), accuracy=evaluation.accuracy,
                weights=weights, layers=_analyzer_layers(attention, weights, horizon, eps))


def _verdict(change, se):
    """``"helps"``/``"hurts"``: the loss fell/rose by more than SIGNIFICANCE standard errors."""
    if change == 0:
        return "unchanged"
    if not math.isfinite(se):
        return "undetermined"
    if change > SIGNIFICANCE * se:
        return "hurts"
    if change < -SIGNIFICANCE * se:
        return "helps"
    return "unchanged"


def reweight_report(model, task, to, *, name=None, samples=8, eval_samples=64, seq_len=None, seed=0,
                    horizon=100, eps=0.25, starts=4, time_limit=60.0):
    """Re-weight every layer's heads to the uniform or P3-optimal profile; the task and analyzer before and after.

    Parameters
    ----------
    model : PaperTransformer
    task : {"copy", "cycle"}
    to : {"uniform", "optimal"}
        Target head weights per layer: ``1/H`` each, or P3's minimax fidelity
        weights (§5, :func:`dagtheory.optimal_fidelity_weights` at ``horizon``
        with ``starts`` starts) of the layer's heads on the first analyzed
        sequence of the original model.
    name, samples, eval_samples, seq_len, seed, horizon, eps : keyword-only
        As for :func:`ablation_report`.
    starts : int, keyword-only
        SGP starts of P3.
    time_limit : float, keyword-only
        Seconds allowed to P3 per layer.

    Returns
    -------
    dict
        ``original`` and ``reweighted`` (loss, its standard error, accuracy,
        head weights and per-layer ``minimax_fidelity``, ``mixing_time``,
        ``amplification`` of the analyzer, with attention re-extracted from the
        re-weighted model), ``target`` and ``scales`` (L × H), ``p3`` (for
        ``"optimal"``), ``change`` (paired loss change and its standard error,
        accuracy change), ``fidelity_raised`` per layer and ``verdict``
        (``"helps"``, ``"hurts"`` or ``"unchanged"``: the loss change beyond
        ±2 standard errors, or not; ``"undetermined"`` with one held-out
        sequence and a loss change); see docs/interventions.md.

    Examples
    --------
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> report = reweight_report(model, "copy", "uniform", samples=2, eval_samples=4)
    >>> report["target"]
    [[0.5, 0.5], [0.5, 0.5]]
    >>> report["verdict"] in ("helps", "hurts", "unchanged"), len(report["reweighted"]["layers"])
    (True, 2)
    """
    _check_model(model)
    task = _check_task(task)
    if to not in _TARGETS:
        raise InvalidInputError(f"to must be one of {_TARGETS}; got {to!r}")
    started = time.perf_counter()
    tokens = _tokens(model, samples, seq_len, seed)
    attention, learned = extract_attention(model, tokens), _learned(model)
    p3 = None
    if to == "uniform":
        target = np.full(learned.shape, 1.0 / model.n_heads)
    else:
        target, p3 = _optimal_target(attention[0], horizon, starts, time_limit)
    scales = reweighting_scales(model, target)
    options = dict(samples=eval_samples, seq_len=seq_len, seed=seed)
    before = evaluate(model, task, **options)
    with head_scales(model, scales):
        after = evaluate(model, task, **options)
        attention_after, learned_after = extract_attention(model, tokens), _learned(model)
    original = _side(before, attention, learned, horizon, eps)
    reweighted = _side(after, attention_after, learned_after, horizon, eps)
    change = float(after.loss - before.loss)
    change_se = _standard_error(after.sequence_loss - before.sequence_loss)
    raised = [r["minimax_fidelity"] > o["minimax_fidelity"]
              for o, r in zip(original["layers"], reweighted["layers"])]
    return dict(
        model=name, task=task, to=to, heads_per_layer=model.n_heads, layers=model.n_layers,
        settings=dict(samples=len(tokens), eval_samples=eval_samples, seq_len=int(tokens.shape[1]), seed=seed,
                      horizon=horizon, eps=eps, starts=starts, significance=SIGNIFICANCE),
        target=target.tolist(), scales=scales.tolist(), p3=p3, original=original, reweighted=reweighted,
        change=dict(loss=change, loss_se=_number(change_se), accuracy=float(after.accuracy - before.accuracy)),
        fidelity_raised=raised, verdict=_verdict(change, change_se),
        seconds=time.perf_counter() - started,
    )


# ---------------------------------------------------------------------------
# tables (for the command line and the report folder)


def _cell(value, digits=4):
    if value is None:
        return "undefined"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _ablation_rows(report):
    return [[str(h["layer"]), str(h["head"]), _cell(h["learned_weight"]),
             *(_cell(h["predicted"][m]) for m in PREDICTED_METRICS),
             _cell(h["measured"]["loss"]), _cell(h["measured"]["accuracy"])] for h in report["heads"]]


_HEAD_HEADERS = ["layer", "head", "learned weight", "pred. Δφ_min", "pred. ΔT_mix", "pred. Δρ",
                 "meas. Δloss", "meas. Δaccuracy"]
_CORRELATION_HEADERS = ["predicted", "measured", "layer", "Spearman ρ", "p-value", "heads", "note"]


def _correlation_rows(report):
    return [[f"Δ{c['predicted']}", f"Δ{c['measured']}", "all" if c["layer"] is None else str(c["layer"]),
             _cell(c["rho"], 3), _cell(c["pvalue"], 3), str(c["n"]), c["reason"] or ""]
            for c in report["correlations"]]


def _ablation_summary(report):
    s, b = report["settings"], report["baseline"]
    return (f"{report['model'] or 'model'} ({report['task']}, {report['layers']} layers × "
            f"{report['heads_per_layer']} heads): loss {b['loss']:.4g} ± {_cell(b['loss_se'], 2)}, "
            f"accuracy {b['accuracy']:.4f} on {s['eval_samples']} held-out sequences; predictions from "
            f"{s['samples']} sequences, {s['weights']} weights, K = {s['horizon']}, ε = {s['eps']}")


def _ablation_text(report):
    from ..report import format_table

    return "\n".join([_ablation_summary(report), "", format_table(_HEAD_HEADERS, _ablation_rows(report)), "",
                      "Spearman rank correlation, predicted vs measured effect of removing a head",
                      format_table(_CORRELATION_HEADERS, _correlation_rows(report))])


def _ablation_markdown(report, figure=None):
    from ..experiment import _markdown_table

    lines = [f"# Head ablation: {report['model'] or 'model'}", "", _ablation_summary(report), "",
             "Predicted effects: change of the analyzer's numbers when the head is removed from the layer's "
             "head system (weights renormalized; mean over samples). Measured effects: change of loss and "
             "accuracy when the head's contribution is zeroed before the out-projection. "
             "See docs/interventions.md.", "", "## Per head", "",
             _markdown_table(_HEAD_HEADERS, _ablation_rows(report)), "", "## Rank correlations", "",
             _markdown_table(_CORRELATION_HEADERS, _correlation_rows(report))]
    if figure is not None:
        lines += ["", "## Predicted against measured", "", f"![predicted vs measured effects]({figure})"]
    return "\n".join(lines) + "\n"


def _reweight_text(report):
    from ..report import format_table

    rows = []
    for side in ("original", "reweighted"):
        for layer in report[side]["layers"]:
            rows.append([side, str(layer["layer"]), _cell(layer["minimax_fidelity"]),
                         _cell(layer["mixing_time"]), _cell(layer["amplification"])])
    change = report["change"]
    lines = [f"{report['model'] or 'model'} ({report['task']}), heads re-weighted to the {report['to']} profile",
             f"loss {report['original']['loss']:.4g} -> {report['reweighted']['loss']:.4g} "
             f"(change {change['loss']:+.4g} ± {_cell(change['loss_se'], 2)}), accuracy "
             f"{report['original']['accuracy']:.4f} -> {report['reweighted']['accuracy']:.4f}",
             f"minimax fidelity raised in layers {[i for i, r in enumerate(report['fidelity_raised']) if r]}; "
             f"verdict: re-weighting {report['verdict']} the task "
             f"(loss change beyond ±{report['settings']['significance']:g} standard errors)", "",
             format_table(["model", "layer", "φ_min", "T_mix", "ρ"], rows)]
    return "\n".join(lines)
