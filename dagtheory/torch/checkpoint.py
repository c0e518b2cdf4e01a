"""Loading trained state dicts into :class:`~dagtheory.torch.PaperTransformer`, safely.

A checkpoint is a file written by ``torch.save(model.state_dict(), path)``. It is
read with ``torch.load(path, map_location="cpu", weights_only=True)`` and nothing
else: the restricted unpickler accepts tensors and plain containers only, so a
file that carries code (a pickle whose objects name arbitrary callables) is
refused before any of it runs.

The architecture is read from the tensors themselves (``token_emb.weight`` is
``(vocab_size, d_model)``, ``pos_emb.weight`` is ``(max_len, d_model)``, the
``layers.{l}`` prefixes count the blocks, ``layers.0.mlp.0.weight`` is
``(d_mlp, d_model)``). The head count cannot be read from shapes, since the
heads split the same ``d_model`` features; it comes from the ``heads`` argument
or from the file name ``{H}_heads_{task}.pt``. Every key and shape is checked
against the rebuilt module before any weight is copied.
"""

import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path

import torch

from .._validation import check_steps
from ..exceptions import InvalidInputError
from .model import PaperTransformer, check_options

__all__ = ["CheckpointError", "load_checkpoint"]

#: File names that carry the head count: ``{H}_heads_{task}.pt``.
NAME_PATTERN = re.compile(r"(?P<heads>\d+)_heads_(?P<task>\w+)\.pt")

_LAYER_KEY = re.compile(r"layers\.(\d+)\.")

#: How many offending keys a message lists before saying "and N more".
_SHOWN = 5


class CheckpointError(InvalidInputError):
    """A checkpoint file is unsafe, unreadable, or does not fit the model it should build."""


def _keys(names):
    names = sorted(names)
    shown = ", ".join(repr(n) for n in names[:_SHOWN])
    return shown + (f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else "")


def _refusal_reason(err):
    """The line of torch's weights-only message that says what it refused."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or "Unsupported" in line:
            return line.split(". Please")[0]
    return lines[-1] if lines else type(err).__name__


def _read(path):
    """``torch.load`` with ``weights_only=True``, its failures turned into CheckpointError."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"checkpoint {str(path)!r} was refused for safety: it holds objects other than "
            "tensors and plain containers (or pickle data the weights-only loader does not "
            "accept), and unpickling it could run code stored in the file "
            f"[{_refusal_reason(err)}]. Save weights with torch.save(model.state_dict(), path)"
        ) from err
    except (RuntimeError, EOFError, KeyError, ValueError, TypeError, AttributeError,
            IndexError) as err:
        raise CheckpointError(
            f"checkpoint {str(path)!r} could not be read as a PyTorch file "
            f"({type(err).__name__}: {err}); is it a file written by torch.save?"
        ) from err


def _check_state_dict(state, path):
    """The loaded object must map str keys to floating-point tensors."""
    if not isinstance(state, Mapping):
        raise CheckpointError(
            f"checkpoint {str(path)!r} holds a {type(state).__name__}, not a state dict; "
            "expected the mapping of parameter names to tensors written by "
            "torch.save(model.state_dict(), path)"
        )
    if not state:
        raise CheckpointError(f"checkpoint {str(path)!r} holds an empty dict, not a state dict")
    for key, value in state.items():
        if not isinstance(key, str):
            raise CheckpointError(f"checkpoint {str(path)!r} has a key {key!r} that is not a str")
        if not isinstance(value, torch.Tensor):
            raise CheckpointError(
                f"checkpoint {str(path)!r}: key {key!r} holds a {type(value).__name__}, not a tensor"
            )
        if not value.is_floating_point():
            raise CheckpointError(
                f"checkpoint {str(path)!r}: key {key!r} has dtype {value.dtype}; "
                "weights must be floating point"
            )
        if not torch.isfinite(value).all():
            raise CheckpointError(
                f"checkpoint {str(path)!r}: key {key!r} contains NaN or infinite values"
            )
        if not torch.isfinite(value.to(torch.float32)).all():
            raise CheckpointError(
                f"checkpoint {str(path)!r}: key {key!r} holds values too large for float32, the "
                "model's dtype"
            )
    return state


def _shape_of(state, key, ndim, path):
    if key not in state:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is missing key {key!r}, needed to read the architecture"
        )
    shape = tuple(state[key].shape)
    if len(shape) != ndim:
        raise CheckpointError(
            f"checkpoint {str(path)!r}: key {key!r} has shape {shape}; expected {ndim} dimensions"
        )
    return shape


def _infer_config(state, path):
    """vocab_size, d_model, max_len, n_layers and d_mlp from the tensor shapes."""
    vocab_size, d_model = _shape_of(state, "token_emb.weight", 2, path)
    max_len, _ = _shape_of(state, "pos_emb.weight", 2, path)
    indices = {int(m.group(1)) for key in state if (m := _LAYER_KEY.match(key))}
    if not indices:
        raise CheckpointError(f"checkpoint {str(path)!r} has no 'layers.{{l}}.' keys: no blocks")
    n_layers = max(indices) + 1
    d_mlp, _ = _shape_of(state, "layers.0.mlp.0.weight", 2, path)
    return dict(vocab_size=vocab_size, d_model=d_model, max_len=max_len,
                n_layers=n_layers, d_mlp=d_mlp)


def _resolve_heads(heads, path):
    match = NAME_PATTERN.fullmatch(Path(path).name)
    if heads is not None:
        heads = check_steps(heads, name="heads", minimum=1)
        if match is not None and int(match.group("heads")) != heads:
            raise CheckpointError(
                f"{str(path)!r} is named for {match.group('heads')} heads but heads={heads} was "
                "given; rename the file or drop the head count"
            )
        return heads
    if match is None:
        raise CheckpointError(
            f"cannot tell the number of heads of {str(path)!r}: the state dict does not record "
            "it and the file name does not follow '{H}_heads_{task}.pt'; pass heads=H "
            "(--heads H on the command line)"
        )
    return int(match.group("heads"))


def _compare(model, state, path):
    """Every key present, no extra key, every shape equal; raise naming the first fault."""
    expected = model.state_dict()
    missing = expected.keys() - state.keys()
    if missing:
        raise CheckpointError(
            f"checkpoint {str(path)!r} is missing key(s) {_keys(missing)} of the model "
            f"{model.config}"
        )
    unexpected = state.keys() - expected.keys()
    if unexpected:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has unexpected key(s) {_keys(unexpected)}, which the "
            f"model {model.config} does not have"
        )
    for key, tensor in expected.items():
        if state[key].shape != tensor.shape:
            raise CheckpointError(
                f"checkpoint {str(path)!r}: key {key!r} has shape {tuple(state[key].shape)}; "
                f"expected {tuple(tensor.shape)} for the model {model.config}"
            )


def load_checkpoint(path, *, heads=None, **config):
    """Load a trained state dict into a :class:`~dagtheory.torch.PaperTransformer`.

    Parameters
    ----------
    path : str or os.PathLike
        A file written by ``torch.save(model.state_dict(), path)``.
    heads : int, optional, keyword-only
        Number of attention heads. By default it is read from a file name of
        the form ``{H}_heads_{task}.pt`` (the paper's naming); when given it
        takes precedence over the name.
    **config
        Further :class:`~dagtheory.torch.PaperTransformer` options
        (``causal``, ``dropout``, or a size to insist on). Sizes are otherwise
        read from the tensor shapes; a size that disagrees with them fails the
        shape check.

    Returns
    -------
    PaperTransformer
        On the CPU, in eval mode.

    Raises
    ------
    CheckpointError
        The file holds code or other objects besides tensors (refused without
        running any of it), is not a PyTorch file, is not a state dict, has a
        value that is not a finite floating-point tensor, misses or adds keys, has a
        tensor of the wrong shape (the message names the key, expected and
        actual shapes), or its head count is unknown or does not divide
        ``d_model``.
    FileNotFoundError
        No file at ``path``.
    InvalidTypeError
        An unknown option in ``config``.

    See Also
    --------
    dagtheory.torch.extract_attention

    Notes
    -----
    ``torch.load`` runs with ``map_location="cpu"`` and ``weights_only=True``
    only; there is no switch to unpickle arbitrary objects.

    Examples
    --------
    >>> import tempfile, torch
    >>> from pathlib import Path
    >>> from dagtheory.torch import PaperTransformer, load_checkpoint
    >>> trained = PaperTransformer(d_model=16, n_heads=2, n_layers=1, d_mlp=32, max_len=8)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     torch.save(trained.state_dict(), Path(folder) / "2_heads_copy.pt")
    ...     model = load_checkpoint(Path(folder) / "2_heads_copy.pt")
    >>> model.config["n_heads"], model.config["max_len"], model.training
    (2, 8, False)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     torch.save([1, 2, 3], Path(folder) / "list.pt")
    ...     load_checkpoint(Path(folder) / "list.pt", heads=2)
    Traceback (most recent call last):
    ...
    dagtheory.torch.checkpoint.CheckpointError: checkpoint '...list.pt' holds a list, not a state dict; ...
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"no checkpoint file at {path!r}")
    check_options(config)
    heads = _resolve_heads(heads, path)
    state = _check_state_dict(_read(path), path)
    sizes = _infer_config(state, path)
    if sizes["d_model"] % heads:
        raise CheckpointError(
            f"checkpoint {str(path)!r} has d_model = {sizes['d_model']}, not divisible by "
            f"{heads} heads"
        )
    sizes.update(config)
    try:
        model = PaperTransformer(n_heads=heads, **sizes)
    except InvalidInputError as err:
        raise CheckpointError(f"checkpoint {str(path)!r} does not describe a model: {err}") from err
    _compare(model, state, path)
    model.load_state_dict(state, strict=True)
    return model.eval()
