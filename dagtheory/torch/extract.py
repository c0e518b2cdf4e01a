"""Attention matrices and learned head weights (§1) read from PyTorch models.

For every layer ``ℓ`` and head ``h`` a causal transformer computes a
row-stochastic matrix ``A^(ℓ,h)`` (row ``i`` = query ``i`` = receiver): the
softmax of its scores, which is exactly §1's attention head. This module runs a
model on a token sequence and returns those matrices as float64 arrays of shape
``(L, H, T, T)``, ready for :class:`dagtheory.HeadSystem`, and computes §1's
learned head weights from a layer's out-projection.

Three kinds of model are read:

* :class:`~dagtheory.torch.PaperTransformer`, through its ``return_attention``;
* HuggingFace ``transformers`` models, through ``output_attentions=True`` (the
  model must use an attention implementation that returns weights, e.g.
  ``attn_implementation="eager"``);
* any module built from :class:`torch.nn.MultiheadAttention` (including
  :class:`torch.nn.TransformerEncoder`), through hooks that make every such
  module return its per-head weights.
"""

import numbers
from contextlib import contextmanager

import numpy as np
import torch
from torch import nn

from ..exceptions import InvalidInputError, InvalidTypeError
from ..graph import learned_head_weights as _weights_from_out_proj
from ..resources import require_memory
from .model import PaperTransformer

__all__ = ["extract_attention", "learned_head_weights"]

# Positional parameters of nn.MultiheadAttention.forward after (query, key, value).
_MHA_OPTIONAL = ("key_padding_mask", "need_weights", "attn_mask", "average_attn_weights",
                 "is_causal")


# ---------------------------------------------------------------------------
# tokens


def _as_tokens(tokens):
    """A (T,) or (B, T) integer tensor from a list, an array or a tensor."""
    if isinstance(tokens, torch.Tensor):
        tensor = tokens.detach()
        if tensor.dtype == torch.bool or tensor.is_floating_point() or tensor.is_complex():
            raise InvalidTypeError(f"tokens must be integer ids; got a tensor of dtype {tensor.dtype}")
    else:
        try:
            array = np.asarray(tokens)
        except ValueError as err:
            raise InvalidInputError(
                f"tokens is ragged: its rows have different lengths ({err})"
            ) from err
        if array.size and array.dtype.kind not in "iu":
            raise InvalidTypeError(f"tokens must be integer ids; got dtype {array.dtype}")
        tensor = torch.as_tensor(array.astype(np.int64, copy=False))
    if tensor.ndim not in (1, 2):
        raise InvalidInputError(
            f"tokens must have shape (T,) or (B, T); got shape {tuple(tensor.shape)}"
        )
    if 0 in tensor.shape:
        raise InvalidInputError(f"tokens is empty: shape {tuple(tensor.shape)}")
    return tensor.to(torch.long)


def _check_vocabulary(tokens, vocab_size):
    bad = (tokens < 0) | (tokens >= vocab_size)
    if bad.any():
        where = tuple(int(i) for i in bad.nonzero()[0])
        index = where[0] if len(where) == 1 else where
        raise InvalidInputError(
            f"tokens holds {int(tokens[where])} at index {index}; token ids must lie in "
            f"[0, {vocab_size})"
        )


def _check_length(tokens, max_len):
    length = tokens.shape[-1]
    if length > max_len:
        raise InvalidInputError(
            f"tokens has length {length}, longer than the model's max_len = {max_len}"
        )


def _is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# running a model


@contextmanager
def _evaluating(model):
    """Eval mode and no gradients; every submodule's training flag restored afterwards."""
    flags = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        for module, training in flags:
            module.training = training


@contextmanager
def _without_mha_fastpath():
    """Turn off PyTorch's fused transformer paths, which can bypass the hooked modules."""
    backend = getattr(torch.backends, "mha", None)
    if backend is None or not hasattr(backend, "set_fastpath_enabled"):
        yield
        return
    previous = backend.get_fastpath_enabled()
    backend.set_fastpath_enabled(False)
    try:
        yield
    finally:
        backend.set_fastpath_enabled(previous)


def _check_module(model):
    if not isinstance(model, nn.Module):
        raise InvalidTypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")


def _device(model):
    parameter = next(model.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


def _attention_modules(model):
    return [m for m in model.modules() if isinstance(m, nn.MultiheadAttention)]


def _is_huggingface(model):
    if any(cls.__name__ == "PreTrainedModel" for cls in type(model).__mro__):
        return True
    config = getattr(model, "config", None)
    return config is not None and not isinstance(config, dict) and hasattr(config, "output_attentions")


def _limits(model):
    """``(vocab_size, max_len)`` of a token model, ``None`` where unknown."""
    if isinstance(model, PaperTransformer):
        return model.config["vocab_size"], model.config["max_len"]
    if not _is_huggingface(model):
        return None, None
    config = model.config
    vocab_size = getattr(config, "vocab_size", None)
    lengths = [getattr(config, name, None) for name in ("n_positions", "max_position_embeddings")]
    lengths = [n for n in lengths if _is_int(n)]
    return (vocab_size if _is_int(vocab_size) else None), (lengths[0] if lengths else None)


def _layers_and_heads(model):
    """``(L, H)`` of a PaperTransformer or a HuggingFace model; ``None`` where the config does not say."""
    if isinstance(model, PaperTransformer):
        return model.config["n_layers"], model.config["n_heads"]
    if not _is_huggingface(model):
        return None
    config = model.config
    layers = [getattr(config, name, None) for name in ("num_hidden_layers", "n_layer")]
    heads = [getattr(config, name, None) for name in ("num_attention_heads", "n_head")]
    layers, heads = [n for n in layers if _is_int(n)], [n for n in heads if _is_int(n)]
    return (layers[0], heads[0]) if layers and heads else None


def _require_extraction_memory(model, batch_shape):
    """Refuse before running the model when its attention, kept in float32 and float64, exceeds the limit."""
    sizes = _layers_and_heads(model)
    if sizes is None:
        return
    (samples, length), (layers, heads) = batch_shape, sizes
    require_memory((4 + 8) * samples * layers * heads * length * length,
                   f"extract_attention of {samples} sequence(s) of {length} tokens from {layers} layers × "
                   f"{heads} heads", hint="extract fewer or shorter sequences at a time")


def _paper_attention(model, tokens):
    _, attention = model(tokens, return_attention=True)
    return attention


def _huggingface_attention(model, tokens):
    config = model.config
    outputs = model(input_ids=tokens, output_attentions=True)
    attentions = getattr(outputs, "attentions", None)
    if not attentions or any(a is None for a in attentions):
        implementation = getattr(config, "_attn_implementation", None)
        raise InvalidInputError(
            f"{type(model).__name__} returned no attention weights with output_attentions=True "
            f"(attention implementation {implementation!r}); build the model with "
            'attn_implementation="eager" (or call model.set_attn_implementation("eager"))'
        )
    return torch.stack(tuple(attentions), dim=1)


def _kwargs_with_weights(module, args, kwargs):
    """Forward pre-hook: ask nn.MultiheadAttention for unaveraged per-head weights."""
    kwargs = dict(kwargs)
    kwargs.update(zip(_MHA_OPTIONAL, args[3:]))
    kwargs["need_weights"] = True
    kwargs["average_attn_weights"] = False
    return args[:3], kwargs


def _hooked_attention(model, tokens, modules):
    captured = {id(m): [] for m in modules}

    def keep(module, args, kwargs, output):
        weights = output[1]
        captured[id(module)].append(weights.unsqueeze(0) if weights.ndim == 3 else weights)

    handles = []
    try:
        for module in modules:
            handles.append(module.register_forward_pre_hook(_kwargs_with_weights, with_kwargs=True))
            handles.append(module.register_forward_hook(keep, with_kwargs=True))
        with _without_mha_fastpath():
            model(tokens)
    finally:
        for handle in handles:
            handle.remove()
    layers = [w for m in modules for w in captured[id(m)]]
    if not layers:
        raise InvalidInputError(
            f"{type(model).__name__} holds nn.MultiheadAttention modules but none of them ran "
            "when the model was called on the tokens"
        )
    shapes = {tuple(w.shape) for w in layers}
    if len(shapes) > 1:
        raise InvalidInputError(
            f"the attention modules of {type(model).__name__} give weights of different shapes "
            f"{sorted(shapes)}; they cannot be stacked as (B, L, H, T, T)"
        )
    return torch.stack(layers, dim=1)


def _to_numpy(attention):
    """float64 numpy with each row divided by its sum (removes float32 rounding)."""
    array = attention.detach().to("cpu", torch.float64).numpy()
    sums = array.sum(axis=-1, keepdims=True)
    return np.divide(array, sums, out=array.copy(), where=sums > 0)


def extract_attention(model, tokens):
    """Every layer's and head's attention matrix ``A`` (§1) on a token sequence.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`~dagtheory.torch.PaperTransformer`; a HuggingFace
        ``transformers`` model (called as ``model(input_ids=...,
        output_attentions=True)``; it needs an attention implementation that
        returns weights, such as ``attn_implementation="eager"``); or any module
        whose forward takes a ``(B, T)`` tensor of token ids and runs
        :class:`torch.nn.MultiheadAttention` modules.
    tokens : array_like of int, shape (T,) or (B, T)
        Token ids (a list, a numpy array or a tensor).

    Returns
    -------
    ndarray of float64, shape (L, H, T, T) or (B, L, H, T, T)
        ``[..., l, h, i, j]`` is how much query ``i`` attends to key ``j`` in
        head ``h`` of layer ``l``. For ``nn.MultiheadAttention`` the layers are
        the modules in module order (a module called twice gives two layers).

    Raises
    ------
    InvalidTypeError
        Tokens that are not integers, or a model without attention.
    InvalidInputError
        Tokens of the wrong shape, out of the vocabulary (the message names the
        value and its index) or longer than the model's ``max_len``; a
        HuggingFace model that returns no weights.

    See Also
    --------
    dagtheory.HeadSystem.from_attention : analyze one layer's heads.

    Notes
    -----
    The model runs in eval mode (no dropout) under ``torch.no_grad()``; the
    training flags of all its submodules are restored afterwards. For
    ``nn.MultiheadAttention`` the hooks force ``need_weights=True`` and
    ``average_attn_weights=False`` and PyTorch's fused attention path is
    switched off during the call (a process-wide setting, restored
    afterwards). The probabilities are cast to float64 and every row is
    divided by its sum, which removes the float32 rounding of the softmax
    (about 1e-7) so rows sum to 1 to float64 precision.

    Examples
    --------
    >>> import torch
    >>> from dagtheory.torch import PaperTransformer, extract_attention
    >>> _ = torch.manual_seed(0)
    >>> model = PaperTransformer(vocab_size=16, d_model=16, n_heads=2, n_layers=3, max_len=8)
    >>> attention = extract_attention(model, [3, 1, 4, 1, 5, 9])
    >>> attention.shape, attention.dtype
    ((3, 2, 6, 6), dtype('float64'))
    >>> bool(abs(attention.sum(axis=-1) - 1).max() < 1e-12), float(attention[0, 0, 0, 1])
    (True, 0.0)
    >>> extract_attention(model, [[3, 1], [4, 1]]).shape
    (2, 3, 2, 2, 2)
    >>> extract_attention(model, [3, 16])
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: tokens holds 16 at index 1; token ids must lie in [0, 16)
    """
    _check_module(model)
    tokens = _as_tokens(tokens)
    vocab_size, max_len = _limits(model)
    if vocab_size is not None:
        _check_vocabulary(tokens, vocab_size)
    if max_len is not None:
        _check_length(tokens, max_len)
    single = tokens.ndim == 1
    batch = tokens.unsqueeze(0) if single else tokens
    _require_extraction_memory(model, tuple(batch.shape))
    if isinstance(model, PaperTransformer):
        run = _paper_attention
    elif _is_huggingface(model):
        run = _huggingface_attention
    elif modules := _attention_modules(model):
        def run(model, tokens):
            return _hooked_attention(model, tokens, modules)
    else:
        raise InvalidTypeError(
            f"found no attention in {type(model).__name__}: expected a PaperTransformer, a "
            "HuggingFace transformers model or a module containing torch.nn.MultiheadAttention"
        )
    with _evaluating(model):
        attention = run(model, batch.to(_device(model)))
    array = _to_numpy(attention)
    return array[0] if single else array


def _check_layer(layer, count):
    if not _is_int(layer):
        raise InvalidTypeError(f"layer must be an int; got {layer!r}")
    if not -count <= layer < count:
        raise InvalidInputError(
            f"layer {layer} is out of range: the model has {count} attention layer(s), "
            f"so layer must lie in 0..{count - 1} (or -{count}..-1 from the end)"
        )
    return int(layer) % count


def learned_head_weights(model, layer):
    """§1's learned head weights of one layer, from its out-projection.

    Head ``h``'s importance is the Frobenius norm of the input columns
    ``h·d .. (h+1)·d - 1`` of the layer's out-projection weight; the weights are
    the importances divided by their sum.

    Parameters
    ----------
    model : torch.nn.Module
        A :class:`~dagtheory.torch.PaperTransformer` (reads
        ``layers[layer].attn.out_proj.weight``) or a module containing
        :class:`torch.nn.MultiheadAttention` (reads ``out_proj.weight`` of the
        ``layer``-th such module in module order, with its ``num_heads``).
    layer : int
        Layer index; negative values count from the end.

    Returns
    -------
    ndarray of float64, shape (H,)
        On the simplex.

    Raises
    ------
    InvalidInputError
        ``layer`` out of range (the message gives the valid range).
    InvalidTypeError
        A non-int ``layer``, or a model with no out-projection this reads.

    See Also
    --------
    dagtheory.learned_head_weights : the same from a weight matrix.

    Examples
    --------
    >>> import torch
    >>> from dagtheory.torch import PaperTransformer, learned_head_weights
    >>> model = PaperTransformer(d_model=8, n_heads=2, n_layers=1)
    >>> with torch.no_grad():
    ...     _ = model.layers[0].attn.out_proj.weight.copy_(torch.tensor([[1.0] * 4 + [2.0] * 4] * 8))
    >>> learned_head_weights(model, 0)
    array([0.33333333, 0.66666667])
    >>> learned_head_weights(model, 1)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: layer 1 is out of range: the model has 1 attention layer(s), ...
    """
    _check_module(model)
    if isinstance(model, PaperTransformer):
        projections = [(block.attn.out_proj.weight, model.n_heads) for block in model.layers]
    else:
        modules = _attention_modules(model)
        if not modules:
            raise InvalidTypeError(
                f"found no attention out-projection in {type(model).__name__}: expected a "
                "PaperTransformer or a module containing torch.nn.MultiheadAttention"
            )
        projections = [(m.out_proj.weight, m.num_heads) for m in modules]
    weight, heads = projections[_check_layer(layer, len(projections))]
    return _weights_from_out_proj(weight.detach().to("cpu", torch.float64).numpy(), heads)
