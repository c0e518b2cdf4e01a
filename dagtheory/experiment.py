"""The analyzer and the paper's experiment: models or attention files in, reports out.

Inputs are checkpoints of the paper's model family (``.pt`` state dicts, read
safely through :mod:`dagtheory.torch`) or attention arrays exported from any
framework (``.npy`` or ``.npz`` of shape ``(H, T, T)``, ``(L, H, T, T)`` or
``(S, L, H, T, T)``). Each becomes a model record: per layer, the paper's
proxies (§6), minimax fidelity and amplification (§2), the mixture walk's
mixing and hitting times and the M1/M2/M3 bounds (§3), as mean and standard
deviation over input samples. Records are written as JSON (schema in
``docs/analyzing.md``), Markdown and PNG figures.
"""

import contextlib
import math
import os
import re
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np

from . import __version__
from .analysis import SUMMARY_METRICS, _mean_and_std, analyze_attention, summarize
from .exceptions import InvalidInputError, InvalidTypeError
from .graph import HeadSystem
from .report import format_number, to_json
from .resources import require_memory

__all__ = [
    "ModelInput",
    "load_input",
    "random_tokens",
    "read_tokens",
    "analyze_input",
    "optimize_inputs",
    "analyze_inputs",
    "markdown_report",
    "write_text",
    "paper_tables",
    "reproduce_paper",
    "PAPER_HEADS",
    "PAPER_TASKS",
]

PAPER_HEADS = (1, 4, 8, 16)
PAPER_TASKS = ("copy", "cycle")
_CHECKPOINT_SUFFIXES = (".pt", ".pth", ".bin")
_ARRAY_SUFFIXES = (".npy", ".npz")


class ModelInput:
    """One analyzer input: a loaded checkpoint (``model``) or an attention array (``attention``).

    :func:`load_input` builds one from a file; one can also be built around
    attention already in memory.

    Examples
    --------
    Example 2's two heads (§2) as one layer, with head weights ``(3/4, 1/4)``:

    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> model_input = ModelInput("example2", "in memory", attention=heads, weights=[[0.75, 0.25]])
    >>> model_input.kind, model_input.source, model_input.model is None
    ('array', 'in memory', True)
    >>> record = analyze_input(model_input, horizon=20)
    >>> record["weights_kind"], round(float(record["layers"][0]["minimax_fidelity"]["mean"]), 6)
    ('learned', 0.397786)
    """

    def __init__(self, name, source, *, model=None, attention=None, weights=None):
        self.name, self.source = name, str(source)
        self.model, self.attention, self.weights = model, attention, weights

    @property
    def kind(self):
        """``"checkpoint"`` or ``"array"``."""
        return "checkpoint" if self.model is not None else "array"


_NUMPY_MAGIC = (b"\x93NUMPY", b"PK\x03\x04")


def _load_array(path):
    """Attention (and optional weights) from ``.npy``/``.npz``, never unpickling objects."""
    with open(path, "rb") as stream:
        if not stream.read(6).startswith(_NUMPY_MAGIC):
            raise InvalidInputError(f"{path}: not a .npy/.npz file (wrong magic bytes)")
    try:
        with open(path, "rb") as stream:
            if stream.read(6) == _NUMPY_MAGIC[0]:
                stream.seek(0)
                _require_array_memory(path, stream)
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return data, None
        with data:
            keys = list(data.keys())
            name = "attention" if "attention" in keys else keys[0] if len(keys) == 1 else None
            if name is not None:
                with data.zip.open(f"{name}.npy") as stream:
                    _require_array_memory(path, stream)
            if "attention" in keys:
                return data["attention"], data["weights"] if "weights" in keys else None
            if len(keys) == 1:
                return data[keys[0]], None
    except ValueError as err:
        if "pickle" not in str(err):  # a truncated or corrupt header, not an object array
            raise InvalidInputError(f"{path}: not a readable .npy/.npz file ({err})") from err
        raise InvalidInputError(f"{path}: refused, the file holds pickled objects ({err})") from err
    except (OSError, EOFError) as err:
        raise InvalidInputError(f"{path}: not a readable .npy/.npz file ({err})") from err
    raise InvalidInputError(f"{path}: an .npz needs an array named 'attention' (found {keys})")


def _require_array_memory(path, stream):
    """Refuse an array whose float64 copy would exceed the memory limit, from its header alone."""
    version = np.lib.format.read_magic(stream)
    read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                   else np.lib.format.read_array_header_2_0)
    shape, _, dtype = read_header(stream)
    count = math.prod(shape)
    require_memory(count * (dtype.itemsize + 8), f"{path}: reading an array of shape {shape} ({dtype})",
                   hint="save fewer samples per file")


def load_input(path, *, heads=None):
    """Read one analyzer input by its suffix.

    Parameters
    ----------
    path : str or Path
        ``.pt``/``.pth``/``.bin`` (a paper-family checkpoint; needs torch) or
        ``.npy``/``.npz`` (attention, optionally with ``weights`` of shape
        ``(L, H)`` in an ``.npz``).
    heads : int, optional
        Head count of a checkpoint whose file name does not say it.

    Returns
    -------
    ModelInput
        Named after the file's stem.

    Raises
    ------
    InvalidInputError
        For a missing file, an unknown suffix or an unreadable or unsafe file.

    Examples
    --------
    Example 2's attention (§2) in an ``.npz`` with head weights, one row per
    layer:

    >>> import tempfile
    >>> from dagtheory.examples import paper_example2
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "example2.npz"
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> np.savez(path, attention=heads, weights=np.array([[0.75, 0.25]]))
    >>> model_input = load_input(path)
    >>> model_input.name, model_input.kind, model_input.attention.shape, model_input.weights.tolist()
    ('example2', 'array', (2, 4, 4), [[0.75, 0.25]])
    >>> load_input(Path(folder.name) / "notes.txt")
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: input '...notes.txt' does not exist or is not a file

    A checkpoint (needs PyTorch; here a tiny untrained model of the paper's
    family) takes its head count from the file name:

    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from dagtheory.torch import PaperTransformer
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> torch.save(model.state_dict(), Path(folder.name) / "2_heads_copy.pt")
    >>> checkpoint = load_input(Path(folder.name) / "2_heads_copy.pt")
    >>> checkpoint.name, checkpoint.kind, checkpoint.model.n_heads, checkpoint.model.n_layers
    ('2_heads_copy', 'checkpoint', 2, 2)
    >>> folder.cleanup()
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(f"input {str(path)!r} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in _ARRAY_SUFFIXES:
        attention, weights = _load_array(path)
        return ModelInput(path.stem, path, attention=attention, weights=weights)
    if suffix in _CHECKPOINT_SUFFIXES:
        try:
            from .torch import load_checkpoint
        except ImportError as err:
            raise InvalidInputError(
                f"{path}: reading checkpoints needs PyTorch (pip install 'dagtheory[torch]')"
            ) from err
        return ModelInput(path.stem, path, model=load_checkpoint(path, heads=heads))
    raise InvalidInputError(
        f"input {str(path)!r} has suffix {suffix!r}; expected a checkpoint (.pt) or attention (.npy, .npz)"
    )


def random_tokens(samples, seq_len, vocab_size, seed=0):
    """``(samples, seq_len)`` uniform random tokens, as the paper's tasks draw them.

    Examples
    --------
    >>> tokens = random_tokens(3, 8, vocab_size=16, seed=1)
    >>> tokens.shape, bool(((0 <= tokens) & (tokens < 16)).all())
    ((3, 8), True)
    >>> bool((tokens == random_tokens(3, 8, vocab_size=16, seed=1)).all())
    True
    """
    return np.random.default_rng(seed).integers(0, vocab_size, size=(samples, seq_len))


def read_tokens(path):
    """Token sequences from ``.npy`` (ints, ``(T,)`` or ``(S, T)``) or text (one sequence per line).

    Returns
    -------
    ndarray of int, shape (S, T)

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> text = Path(folder.name) / "tokens.txt"
    >>> _ = text.write_text("1 2 3 4\\n5 6 7 8\\n")
    >>> read_tokens(text).tolist()
    [[1, 2, 3, 4], [5, 6, 7, 8]]
    >>> np.save(Path(folder.name) / "tokens.npy", np.array([9, 8, 7]))
    >>> read_tokens(Path(folder.name) / "tokens.npy").tolist()
    [[9, 8, 7]]
    >>> folder.cleanup()
    """
    path = Path(path)
    if path.suffix.lower() == ".npy":
        tokens = _load_array(path)[0]
    else:
        try:
            lines = [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        except UnicodeDecodeError as err:
            raise InvalidInputError(f"{path}: a token file must be UTF-8 text or .npy ({err})") from err
        if len({len(line) for line in lines}) > 1:
            raise InvalidInputError(
                f"{path}: every line must hold a sequence of the same length; got lengths "
                f"{sorted({len(line) for line in lines})}"
            )
        try:
            tokens = np.array([[int(t) for t in line] for line in lines])
        except ValueError as err:
            raise InvalidInputError(f"{path}: tokens must be whitespace-separated ints ({err})") from err
    tokens = np.atleast_2d(tokens)
    if tokens.ndim != 2 or tokens.dtype.kind not in "iu" or tokens.size == 0:
        raise InvalidInputError(
            f"{path}: expected int tokens of shape (T,) or (S, T); got {tokens.dtype} of shape {tokens.shape}")
    return tokens


def _model_attention(model_input, tokens, seed, samples, seq_len):
    from .torch import extract_attention, learned_head_weights

    model = model_input.model
    config = model.config
    if tokens is None:
        tokens = random_tokens(samples, seq_len or config["max_len"], config["vocab_size"], seed)
    attention = extract_attention(model, np.atleast_2d(tokens))
    learned = np.stack([learned_head_weights(model, layer) for layer in range(config["n_layers"])])
    return attention, learned, tokens


def optimize_inputs(model_input, layer, *, seed=0):
    """The head system of one layer of a checkpoint on one random sequence, and its learned weights.

    Returns
    -------
    system : HeadSystem
        The layer's heads on one random sequence (``seed``) of the model's
        maximum length, with uniform weights.
    learned : ndarray, shape (H,)
        §1's learned weights of that layer.

    Examples
    --------
    A tiny untrained two-head checkpoint (needs PyTorch), then its heads'
    weightings compared (§5):

    >>> import tempfile
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from dagtheory.torch import PaperTransformer
    >>> from dagtheory.weighting import weights_report
    >>> folder = tempfile.TemporaryDirectory()
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> torch.save(model.state_dict(), Path(folder.name) / "2_heads_copy.pt")
    >>> system, learned = optimize_inputs(load_input(Path(folder.name) / "2_heads_copy.pt"), 1)
    >>> system.H, system.n, learned.shape, round(float(learned.sum()), 6)
    (2, 6, (2,), 1.0)
    >>> report = weights_report(system, learned=learned, horizon=10)
    >>> [row["weighting"] for row in report["rows"]][:2]
    ['learned (§1)', 'uniform']
    >>> folder.cleanup()
    """
    if model_input.kind != "checkpoint":
        raise InvalidInputError(f"{model_input.source}: optimize takes example2 or a checkpoint (.pt)")
    attention, learned, _ = _model_attention(model_input, None, seed, 1, None)
    layers = attention.shape[1]
    if not -layers <= layer < layers:
        raise InvalidInputError(f"layer {layer} is out of range: the model has layers 0..{layers - 1}")
    return HeadSystem.from_attention(attention[0, layer]), learned[layer]


def analyze_input(model_input, *, tokens=None, seed=0, samples=1, seq_len=None, weights="learned",
                  horizon=100, eps=0.25, max_steps=100_000, backend=None, device=None, gamma=None):
    """The analyzer's record of one input (a dict ready for :func:`dagtheory.report.to_json`).

    ``backend`` and ``device`` choose where the iterations run (see docs/performance.md).
    With ``gamma`` (``0 < γ ≤ 1``) the record also holds the depth analysis of
    the whole stack (§4, key ``"depth"``; see docs/analyzing.md).

    Examples
    --------
    Example 2's heads (§2) as an attention array without head weights, so
    uniform weights are used and the record says so:

    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> record = analyze_input(ModelInput("example2", "in memory", attention=heads), horizon=20)
    >>> record["kind"], record["layers_count"], record["heads"], record["tokens"], record["weights_kind"]
    ('array', 1, 2, 4, 'uniform')
    >>> record["note"]
    'the array carries no head weights, so uniform weights were used'
    >>> layer = record["layers"][0]
    >>> round(float(layer["minimax_fidelity"]["mean"]), 6), round(float(layer["amplification"]["mean"]), 6)
    (0.416667, 1.111111)
    >>> float(layer["mixing_time"]["mean"]), layer["minimax_node"].tolist()
    (8.0, [2])

    A checkpoint runs on random token sequences (needs PyTorch; here a tiny
    untrained model) with its learned weights:

    >>> import tempfile
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from dagtheory.torch import PaperTransformer
    >>> folder = tempfile.TemporaryDirectory()
    >>> model = PaperTransformer(vocab_size=16, d_model=8, n_heads=2, n_layers=2, d_mlp=16, max_len=6)
    >>> torch.save(model.state_dict(), Path(folder.name) / "2_heads_copy.pt")
    >>> record = analyze_input(load_input(Path(folder.name) / "2_heads_copy.pt"), samples=3, horizon=20)
    >>> record["kind"], record["layers_count"], record["heads"], record["tokens"], record["samples"]
    ('checkpoint', 2, 2, 6, 3)
    >>> record["weights_kind"], record["weights"].shape
    ('learned', (2, 2))
    >>> folder.cleanup()
    """
    attention, used, note = _input_attention(model_input, tokens, seed, samples, seq_len, weights)
    analysis = _analyze_attention(model_input.source, attention, used, horizon, eps, max_steps,
                                  backend=backend, device=device, gamma=gamma)
    return _model_record(model_input.name, model_input.source, model_input.kind, analysis,
                         tokens=int(np.shape(attention)[-1]), weights_kind=_weights_kind(used), note=note)


def _check_weights_option(weights):
    if weights not in ("learned", "uniform"):
        raise InvalidInputError(f"weights must be 'learned' or 'uniform'; got {weights!r}")


def _input_attention(model_input, tokens, seed, samples, seq_len, weights):
    """Attention of one input, the head weights to use (``None``: uniform) and a note."""
    _check_weights_option(weights)
    note = None
    if model_input.kind == "checkpoint":
        attention, learned, tokens = _model_attention(model_input, tokens, seed, samples, seq_len)
    else:
        attention, learned = model_input.attention, model_input.weights
        if weights == "learned" and learned is None:
            note = "the array carries no head weights, so uniform weights were used"
    used = learned if weights == "learned" and learned is not None else None
    return attention, used, note


def _weights_kind(used):
    return "learned" if used is not None else "uniform"


def _analyze_attention(source, attention, used, horizon, eps, max_steps, *, backend=None, device=None,
                       gamma=None):
    """:func:`analyze_attention`, with the input's ``source`` in front of any error message."""
    try:
        return analyze_attention(attention, used, horizon=horizon, eps=eps, max_steps=max_steps,
                                 backend=backend, device=device, gamma=gamma)
    except InvalidInputError as err:
        raise InvalidInputError(f"{source}: {err}") from err
    except InvalidTypeError as err:
        raise InvalidTypeError(f"{source}: {err}") from err


def _model_record(name, source, kind, analysis, *, tokens, weights_kind, note):
    """One model's record of the report from its (merged) :class:`LayerAnalysis`."""
    samples_count, layers, heads = analysis.weights.shape
    record = {
        "name": name, "source": source, "kind": kind,
        "layers_count": layers, "heads": heads, "tokens": tokens,
        "samples": samples_count, "weights_kind": weights_kind,
        "note": note, "weights": analysis.weights[0],
        "layers": _layer_records(analysis),
    }
    if analysis.stack_signal is not None:
        record["depth"] = _depth_record(analysis)
    return record


def _stat(values):
    """``{"mean", "std"}`` over the sample axis, as :func:`~dagtheory.analysis.summarize` reduces metrics."""
    mean, std = _mean_and_std(values)
    return {"mean": mean, "std": std}


def _depth_record(analysis):
    """§4 across the stack: depth signal, per-token depth fidelity and the depth minimax."""
    signal = np.asarray(analysis.stack_signal, dtype=float)
    return {
        "gamma": analysis.gamma,
        "minimax": _stat(analysis.stack_minimax),
        "minimax_node": analysis.stack_node,
        "fidelity": _stat(analysis.stack_fidelity),
        "layer_minimum": _stat(signal[..., :-1].min(axis=-1)),
        "sink_share": _stat(signal[..., -1]),
        "signal": _stat(signal),
    }


def _layer_records(analysis):
    summary = summarize(analysis)
    records = []
    for layer in range(analysis.shape[1]):
        record = {"layer": layer}
        for name in SUMMARY_METRICS:
            record[name] = {"mean": summary[name]["mean"][layer], "std": summary[name]["std"][layer]}
        record["fidelity_proxy_node"] = analysis.fidelity_proxy_node[:, layer]
        record["sink_decides_share"] = summary["sink_decides_share"][layer]
        record["minimax_node"] = analysis.minimax_node[:, layer]
        record["best_head"] = analysis.best_head[:, layer]
        record["amplifies_share"] = summary["amplifies_share"][layer]
        records.append(record)
    return records


def analyze_inputs(paths, *, heads=None, **options):
    """:func:`analyze_input` over many paths; returns the full report dict.

    Examples
    --------
    Head 1 of Example 2 (§2) alone and both heads together, saved as
    attention arrays:

    >>> import tempfile
    >>> from dagtheory.examples import paper_example2
    >>> folder = tempfile.TemporaryDirectory()
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> np.save(Path(folder.name) / "1_heads_copy.npy", heads[:1])
    >>> np.save(Path(folder.name) / "2_heads_copy.npy", heads)
    >>> report = analyze_inputs(sorted(Path(folder.name).glob("*.npy")), horizon=20)
    >>> report["settings"]["horizon"], [model["name"] for model in report["models"]]
    (20, ['1_heads_copy', '2_heads_copy'])
    >>> [round(float(m["layers"][0]["minimax_fidelity"]["mean"]), 6) for m in report["models"]]
    [0.375, 0.416667]
    >>> folder.cleanup()
    """
    models = [analyze_input(load_input(p, heads=heads), **options) for p in paths]
    return _report(models, options)


def _report(models, options):
    """The report dict: version, the settings ``options`` asked for, and the model records."""
    settings = {key: options.get(key, default) for key, default in (
        ("horizon", 100), ("eps", 0.25), ("weights", "learned"), ("seed", 0), ("samples", 1),
        ("max_steps", 100_000), ("backend", "numpy"), ("gamma", None))}
    settings["backend"] = settings["backend"] or "numpy"
    if options.get("tokens") is not None:
        settings["samples"] = int(np.atleast_2d(options["tokens"]).shape[0])
    return {"dagtheory_version": __version__, "settings": settings, "models": models}


def _cell(stat, digits=4, nan="n/a"):
    mean, std = stat["mean"], stat["std"]
    if isinstance(mean, float) and math.isnan(mean):
        return nan
    text = format_number(float(mean), digits)
    if np.isfinite(mean) and std and np.isfinite(std) and std > 0:
        text += f" ± {format_number(float(std), 2)}"
    return text


def _nodes(values):
    unique = sorted({int(v) for v in np.atleast_1d(values)})
    return ",".join(str(v) for v in unique[:3]) + ("…" if len(unique) > 3 else "")


_MARKDOWN_COLUMNS = (
    "layer", "fidelity proxy % (node)", "mixing proxy", "φ_min non-sink (node)",
    "best head φ_min (head)", "ρ", "T_mix", "mean / max hitting", "M1", "M2", "M3",
)


def _markdown_row(record):
    sink = " ⚑" if record["sink_decides_share"] > 0 else ""
    return [
        str(record["layer"]),
        f"{_cell(record['fidelity_proxy'])} ({_nodes(record['fidelity_proxy_node'])}){sink}",
        _cell(record["mixing_proxy"]),
        f"{_cell(record['minimax_fidelity'])} ({_nodes(record['minimax_node'])})",
        f"{_cell(record['best_head_fidelity'])} ({_nodes(record['best_head'])})",
        _cell(record["amplification"]),
        _cell(record["mixing_time"], 6, nan="> budget"),
        f"{_cell(record['hitting_time_mean'])} / {_cell(record['hitting_time_max'])}",
        _cell(record["m1_bound"], 4), _cell(record["m2_bound"], 4), _cell(record["m3_bound"], 4),
    ]


def _markdown_table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def markdown_report(report):
    """The analyzer's report as Markdown: one table per model.

    Examples
    --------
    >>> import tempfile
    >>> from dagtheory.examples import paper_example2
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = Path(folder.name) / "example2.npy"
    >>> np.save(path, np.asarray(paper_example2().attention, dtype=float))
    >>> text = markdown_report(analyze_inputs([path], horizon=20))
    >>> print(text.splitlines()[0])
    # dagtheory analysis
    >>> print(text[text.index("## example2"):].rstrip())
    ## example2
    <BLANKLINE>
    array, 1 layer × 2 heads, T = 4, 1 sample(s), uniform weights (the array carries no head weights, ...).
    <BLANKLINE>
    | layer | fidelity proxy % (node) | mixing proxy | φ_min non-sink (node) | best head φ_min (head) | ρ | ...
    |---|---|---|---|---|---|---|---|---|---|---|
    | 0 | 41.67 (2) | 26.86 | 0.4167 (2) | 0.375 (0) | 1.111 | 8 | 4.074 / 6.444 | 13 | 39 | 39 |
    >>> folder.cleanup()
    """
    settings = report["settings"]
    parts = [
        "# dagtheory analysis",
        "",
        f"Horizon K = {settings['horizon']}, ε = {settings['eps']}, {settings['weights']} head weights, "
        f"random token samples drawn with seed {settings['seed']} unless given. Cells are mean ± standard "
        "deviation over samples; nodes are the arg-min nodes seen. ⚑ marks a fidelity proxy "
        "decided by the sink's own self-attention in some sample. T_mix, hitting times and the "
        "M1/M2/M3 bounds are for the mixture walk P̄(α) (§3); \"> budget\" means more than "
        f"{settings['max_steps']} steps.",
    ]
    for model in report["models"]:
        rows = [_markdown_row(r) for r in model["layers"]]
        parts += ["", f"## {model['name']}", "",
                  f"{model['kind']}, {_count_label(model['layers_count'], 'layer')} × {_heads_label(model['heads'])}, "
                  f"T = {model['tokens']}, {model['samples']} sample(s), {model['weights_kind']} weights"
                  + (f" ({model['note']})" if model["note"] else "") + ".",
                  "", _markdown_table(_MARKDOWN_COLUMNS, rows)]
        if "depth" in model:
            parts += ["", *_depth_markdown(model["depth"])]
    parts += _depth_comparison([m for m in report["models"] if "depth" in m])
    return "\n".join(parts) + "\n"


#: Tokens listed by name in a model's depth section: those with the lowest depth fidelity.
DEPTH_LOWEST_TOKENS = 5


def _depth_markdown(depth):
    """A model's §4 section: depth minimax, the tokens that keep least, and the per-layer table."""
    fidelity = np.asarray(depth["fidelity"]["mean"], dtype=float)[:-1]
    lowest = np.argsort(fidelity, kind="stable")[:DEPTH_LOWEST_TOKENS]
    rows = [[str(layer + 1), _cell(_item(depth["layer_minimum"], layer)), _cell(_item(depth["sink_share"], layer))]
            for layer in range(len(depth["sink_share"]["mean"]))]
    return [
        f"### Across the stack (§4, γ = {format_number(depth['gamma'], 4)})",
        "",
        f"Depth minimax fidelity φ_min = {_cell(depth['minimax'])} (token {_nodes(depth['minimax_node'])}). "
        f"Mean depth fidelity of the non-sink tokens: min {format_number(float(fidelity.min()), 4)}, median "
        f"{format_number(float(np.median(fidelity)), 4)}, max {format_number(float(fidelity.max()), 4)}; "
        "lowest: " + ", ".join(f"token {v} ({format_number(float(fidelity[v]), 4)})" for v in lowest) + ".",
        "",
        _markdown_table(["after layer ℓ", "min over non-sink tokens of S^(ℓ)(v)", "S^(ℓ)(τ), at the sink"], rows),
    ]


def _item(stat, index):
    """Entry ``index`` of a ``{"mean", "std"}`` pair of arrays, as a pair of floats."""
    return {"mean": float(np.asarray(stat["mean"])[index]), "std": float(np.asarray(stat["std"])[index])}


def _depth_comparison(models):
    """The §4 numbers of several models side by side (single- versus multi-head across the stack)."""
    if len(models) < 2:
        return []
    rows = [[m["name"], str(m["heads"]), f"{_cell(m['depth']['minimax'])} ({_nodes(m['depth']['minimax_node'])})",
             format_number(float(np.median(np.asarray(m["depth"]["fidelity"]["mean"], dtype=float)[:-1])), 4),
             _cell(_item(m["depth"]["sink_share"], -1))] for m in models]
    return ["", "## Across the stack, models compared (§4)", "",
            _markdown_table(["model", "heads", "depth φ_min (token)", "median depth fidelity",
                             "S^(L)(τ), at the sink"], rows)]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Write ``text`` atomically: a temporary file in the same folder, then a rename.

    Missing parent folders are created; returns the path.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.TemporaryDirectory()
    >>> path = write_text(Path(folder.name) / "report" / "paper.md", "# Paper\\n")
    >>> path.name, path.read_text()
    ('paper.md', '# Paper\\n')
    >>> sorted(p.name for p in path.parent.iterdir())
    ['paper.md']
    >>> folder.cleanup()
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


@contextlib.contextmanager
def _atomic_path(path):
    """A temporary path beside ``path`` for a writer that takes a path (``torch.save``).

    When the block ends without error the temporary file replaces ``path``;
    otherwise it is removed and ``path`` is left as it was.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"cannot write {str(path)!r}: it is a folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(handle)
    try:
        yield Path(temporary)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_PAPER_NAME = re.compile(r"^(\d+)_heads_(\w+)$")


def _by_task(report):
    """``{task: {heads: model}}`` for models named like the paper's checkpoints."""
    table = {}
    for model in report["models"]:
        match = _PAPER_NAME.match(model["name"])
        if match:
            table.setdefault(match.group(2), {})[int(match.group(1))] = model
    return table


def _mean(model, layer, metric):
    return float(model["layers"][layer][metric]["mean"])


def _count_label(count, noun):
    return f"{count} {noun}" + ("s" if count != 1 else "")


def _heads_label(count):
    return _count_label(count, "head")


def _eps_text(eps):
    """``1/4`` for 0.25, ``1/10`` for 0.1; other values as they are."""
    simple = Fraction(str(eps)).limit_denominator(100)
    return str(simple) if float(simple) == float(eps) else format_number(float(eps), 4)


def _verdict(wins, total):
    if wins == total:
        return "holds"
    return "does not hold" if wins == 0 else f"holds in part ({wins} of {total})"


def _claims(models):
    """Per-layer verdicts of the paper's two claims for one task, then an overall verdict."""
    heads = sorted(models)
    single = models.get(1)
    if single is None:
        return ["No single-head model: the single- versus multi-head claim cannot be checked."]
    layers = range(single["layers_count"])
    lines, fidelity, mixing, amplified, compared = [], 0, 0, 0, 0
    for h in heads[1:]:
        wins_fidelity = sum(_mean(models[h], l, "minimax_fidelity") > _mean(single, l, "minimax_fidelity")
                            for l in layers)
        wins_mixing = sum(_mean(models[h], l, "mixing_proxy") < _mean(single, l, "mixing_proxy")
                          for l in layers)
        fidelity, mixing, compared = fidelity + wins_fidelity, mixing + wins_mixing, compared + len(layers)
        lines.append(f"{_heads_label(h)} vs 1 head: higher non-sink minimax fidelity on {wins_fidelity} of "
                     f"{len(layers)} layers, faster mixing (lower mixing proxy) on "
                     f"{wins_mixing} of {len(layers)}.")
    total_layers = sum(models[h]["layers_count"] for h in heads[1:])
    for h in heads[1:]:
        amplifies = sum(_mean(models[h], l, "amplification") > 1 for l in range(models[h]["layers_count"]))
        amplified += amplifies
        lines.append(f"{_heads_label(h)}: combined heads beat the best single head (ρ > 1) on {amplifies} of "
                     f"{models[h]['layers_count']} layers.")
    lines.append(f"Verdict: \"multi-head propagates signal better than single-head at equal parameters\" "
                 f"{_verdict(fidelity, compared)} for §2's fidelity and {_verdict(mixing, compared)} for "
                 f"mixing; \"combined heads beat the best single head\" {_verdict(amplified, total_layers)}.")
    return lines + _depth_claims(models)


def _depth_claims(models):
    """The single- versus multi-head claim across the whole stack (§4), when depth was analyzed."""
    heads = [h for h in sorted(models) if "depth" in models[h]]
    if 1 not in heads or len(heads) < 2:
        return []
    single = float(models[1]["depth"]["minimax"]["mean"])
    wins = [h for h in heads[1:] if float(models[h]["depth"]["minimax"]["mean"]) > single]
    return [f"Across the stack (§4, γ = {format_number(models[1]['depth']['gamma'], 4)}): the depth minimax "
            f"fidelity of {', '.join(_heads_label(h) for h in wins) or 'no multi-head model'} is higher than "
            f"that of 1 head ({format_number(single, 4)}); the claim {_verdict(len(wins), len(heads) - 1)} "
            "across the stack."]


def paper_tables(report):
    """The paper-style tables (Markdown) from a report over the paper's checkpoints.

    Models are grouped by the names ``{H}_heads_{task}``; others are left out.

    Examples
    --------
    Head 1 of Example 2 (§2) as a one-head model and both heads as a two-head
    model of the copy task, saved as attention arrays:

    >>> import tempfile
    >>> from dagtheory.examples import paper_example2
    >>> folder = tempfile.TemporaryDirectory()
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> np.save(Path(folder.name) / "1_heads_copy.npy", heads[:1])
    >>> np.save(Path(folder.name) / "2_heads_copy.npy", heads)
    >>> tables = paper_tables(analyze_inputs(sorted(Path(folder.name).glob("*.npy")), horizon=20))
    >>> print(tables[tables.index("### Amplification"):tables.index("### Who")].rstrip())
    ### Amplification ρ = combined / best single head (§2)
    <BLANKLINE>
    | layer | 1 head | 2 heads |
    |---|---|---|
    | layer 0 | 1 | 1.111 |
    >>> for line in tables.splitlines():
    ...     if line.startswith("- "):
    ...         print(line)
    - 2 heads vs 1 head: higher non-sink minimax fidelity on 1 of 1 layers, faster mixing (lower mixing proxy) on 0 of 1.
    - 2 heads: combined heads beat the best single head (ρ > 1) on 1 of 1 layers.
    - Verdict: "multi-head ..." holds for §2's fidelity and does not hold for mixing; "combined heads ..." holds.
    >>> folder.cleanup()
    """
    parts = ["# The paper's experiment, reproduced", ""]
    settings = report.get("settings", {})
    horizon, eps = settings.get("horizon", 100), _eps_text(settings.get("eps", 0.25))
    for task, models in sorted(_by_task(report).items()):
        heads = sorted(models)
        layers = max(m["layers_count"] for m in models.values())
        parts += [f"## Task: {task}", ""]
        for title, metric in (("Mixing proxy (§6, exact; lower mixes faster)", "mixing_proxy"),
                              (f"Mixing time T_mix({eps}) of P̄(α) (§3)", "mixing_time"),
                              ("Fidelity proxy, % (§6, sink included)", "fidelity_proxy"),
                              (f"Minimax fidelity φ_min^{horizon}, non-sink sources (§2)", "minimax_fidelity"),
                              ("Amplification ρ = combined / best single head (§2)", "amplification")):
            nan = "> budget" if metric == "mixing_time" else "n/a"
            rows = [[f"layer {l}"] + [_cell(models[h]["layers"][l][metric], nan=nan) for h in heads]
                    for l in range(layers)]
            parts += [f"### {title}", "", _markdown_table(["layer"] + [_heads_label(h) for h in heads], rows), ""]
        parts += _depth_table(models, heads)
        sink = [f"{_heads_label(h)}: layer{'s' if len(ls) > 1 else ''} {', '.join(map(str, ls))}"
                for h in heads
                if (ls := [l for l in range(models[h]["layers_count"])
                           if models[h]["layers"][l]["sink_decides_share"] > 0])]
        parts += ["### Who decides the fidelity proxy", ""]
        parts += [("The paper's proxy is decided by the sink's own self-attention (its arg-min is "
                   f"the last token) in: {'; '.join(sink)}. The non-sink minimax fidelity of the same "
                   "layers is in the table above.") if sink else
                  "In no layer is the paper's proxy decided by the sink itself.", ""]
        parts += ["### Does the paper's claim hold here?", ""] + [f"- {line}" for line in _claims(models)] + [""]
    return "\n".join(parts)


def _depth_table(models, heads):
    """One row per §4 number across the stack, one column per head count (models with depth only)."""
    heads = [h for h in heads if "depth" in models[h]]
    if not heads:
        return []
    gamma = format_number(models[heads[0]]["depth"]["gamma"], 4)
    depth = {h: models[h]["depth"] for h in heads}
    rows = [["depth φ_min (non-sink)"] + [_cell(depth[h]["minimax"]) for h in heads],
            ["arg-min token(s)"] + [_nodes(depth[h]["minimax_node"]) for h in heads],
            ["median depth fidelity"] + [format_number(float(np.median(
                np.asarray(depth[h]["fidelity"]["mean"], dtype=float)[:-1])), 4) for h in heads],
            ["S^(L)(τ), at the sink"] + [_cell(_item(depth[h]["sink_share"], -1)) for h in heads]]
    return [f"### Across the stack: depth fidelity (§4, γ = {gamma})", "",
            _markdown_table([""] + [_heads_label(h) for h in heads], rows), ""]


def reproduce_paper(checkpoints, out_dir, *, samples=4, seed=0, plots=True, gamma=0.5, **options):
    """Analyze every ``{H}_heads_{task}.pt`` in ``checkpoints`` and write the paper-style report.

    Writes ``report.json`` (the analyzer's schema), ``analysis.md`` (per-model
    tables), ``paper.md`` (the paper's tables and verdicts) and, with
    ``plots``, PNG figures into ``out_dir``. Returns the report dict.

    Examples
    --------
    Two tiny untrained checkpoints of the paper's family, one and two heads
    (needs PyTorch), one sample each, without figures:

    >>> import tempfile
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> from dagtheory.torch import PaperTransformer
    >>> folder = tempfile.TemporaryDirectory()
    >>> checkpoints, out = Path(folder.name) / "checkpoints", Path(folder.name) / "report"
    >>> checkpoints.mkdir()
    >>> for heads in (1, 2):
    ...     model = PaperTransformer(vocab_size=16, d_model=8, n_heads=heads, n_layers=2, d_mlp=16,
    ...                              max_len=6)
    ...     torch.save(model.state_dict(), checkpoints / f"{heads}_heads_copy.pt")
    >>> report = reproduce_paper(checkpoints, out, samples=1, horizon=10, plots=False)
    >>> [(m["name"], m["heads"], m["layers_count"]) for m in report["models"]]
    [('1_heads_copy', 1, 2), ('2_heads_copy', 2, 2)]
    >>> sorted(p.name for p in out.iterdir())
    ['analysis.md', 'paper.md', 'report.json']
    >>> print((out / "paper.md").read_text().splitlines()[0])
    # The paper's experiment, reproduced
    >>> folder.cleanup()
    """
    checkpoints, out_dir = Path(checkpoints), Path(out_dir)
    paths = sorted((p for p in checkpoints.glob("*_heads_*.pt") if _PAPER_NAME.match(p.stem)),
                   key=lambda p: (_PAPER_NAME.match(p.stem).group(2), int(_PAPER_NAME.match(p.stem).group(1))))
    if not paths:
        raise InvalidInputError(f"no checkpoints named like '4_heads_copy.pt' in {checkpoints}")
    report = analyze_inputs(paths, seed=seed, samples=samples, gamma=gamma, **options)
    write_text(out_dir / "report.json", to_json(report) + "\n")
    write_text(out_dir / "analysis.md", markdown_report(report))
    write_text(out_dir / "paper.md", paper_tables(report))
    if plots:
        _paper_figures(report, paths, out_dir, seed)
    return report


def _paper_figures(report, paths, out_dir, seed):
    from .plots import layer_bars_figure, save_figure, signal_curves_figure

    for task, models in sorted(_by_task(report).items()):
        for metric, label in (("minimax_fidelity", "φ_min non-sink"), ("fidelity_proxy", "fidelity proxy %"),
                              ("mixing_proxy", "mixing proxy (steps)"), ("mixing_time", "T_mix(1/4)")):
            series = {_heads_label(h): {
                "mean": np.array([r[metric]["mean"] for r in m["layers"]], dtype=float),
                "std": np.array([r[metric]["std"] for r in m["layers"]], dtype=float)}
                for h, m in sorted(models.items())}
            figure = layer_bars_figure(series, metric_label=label, title=f"{task}: {label} per layer")
            save_figure(figure, out_dir / f"{task}_{metric}.png")
    for path in paths:
        model_input = load_input(path)
        attention, learned, _ = _model_attention(model_input, None, seed, 1, None)
        system = HeadSystem.from_attention(attention[0, 0], learned[0])
        figure = signal_curves_figure(system, 100, title=f"{path.stem}, layer 0: S_t(v) of Δ̄(β)")
        save_figure(figure, out_dir / f"signal_{path.stem}_layer0.png")
