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

import math
import os
import re
import tempfile
from pathlib import Path

import numpy as np

from . import __version__
from .analysis import SUMMARY_METRICS, analyze_attention, summarize
from .exceptions import InvalidInputError
from .graph import HeadSystem
from .report import format_number, to_json

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
    """One analyzer input: a loaded checkpoint (``model``) or an attention array (``attention``)."""

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
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return data, None
        with data:
            keys = list(data.keys())
            if "attention" in keys:
                return data["attention"], data["weights"] if "weights" in keys else None
            if len(keys) == 1:
                return data[keys[0]], None
    except ValueError as err:
        raise InvalidInputError(f"{path}: refused, the file holds pickled objects ({err})") from err
    except (OSError, EOFError) as err:
        raise InvalidInputError(f"{path}: not a readable .npy/.npz file ({err})") from err
    raise InvalidInputError(f"{path}: an .npz needs an array named 'attention' (found {keys})")


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
    """``(samples, seq_len)`` uniform random tokens, as the paper's tasks draw them."""
    return np.random.default_rng(seed).integers(0, vocab_size, size=(samples, seq_len))


def read_tokens(path):
    """Token sequences from ``.npy`` (ints, ``(T,)`` or ``(S, T)``) or text (one sequence per line)."""
    path = Path(path)
    if path.suffix.lower() == ".npy":
        tokens = np.load(path, allow_pickle=False)
    else:
        lines = [line.split() for line in path.read_text().splitlines() if line.strip()]
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
        raise InvalidInputError(f"{path}: expected int tokens of shape (T,) or (S, T); got {tokens.shape}")
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
    """The head system of one layer of a checkpoint on one random sequence, and its learned weights."""
    if model_input.kind != "checkpoint":
        raise InvalidInputError(f"{model_input.source}: optimize takes example2 or a checkpoint (.pt)")
    attention, learned, _ = _model_attention(model_input, None, seed, 1, None)
    layers = attention.shape[1]
    if not -layers <= layer < layers:
        raise InvalidInputError(f"layer {layer} is out of range: the model has layers 0..{layers - 1}")
    return HeadSystem.from_attention(attention[0, layer]), learned[layer]


def analyze_input(model_input, *, tokens=None, seed=0, samples=1, seq_len=None, weights="learned",
                  horizon=100, eps=0.25, max_steps=100_000, backend=None, device=None):
    """The analyzer's record of one input (a dict ready for :func:`dagtheory.report.to_json`).

    ``backend`` and ``device`` choose where the iterations run (see docs/performance.md).
    """
    attention, used, note = _input_attention(model_input, tokens, seed, samples, seq_len, weights)
    analysis = _analyze_attention(model_input.source, attention, used, horizon, eps, max_steps,
                                  backend=backend, device=device)
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


def _analyze_attention(source, attention, used, horizon, eps, max_steps, *, backend=None, device=None):
    """:func:`analyze_attention`, with the input's ``source`` in front of any error message."""
    try:
        return analyze_attention(attention, used, horizon=horizon, eps=eps, max_steps=max_steps,
                                 backend=backend, device=device)
    except InvalidInputError as err:
        raise InvalidInputError(f"{source}: {err}") from err


def _model_record(name, source, kind, analysis, *, tokens, weights_kind, note):
    """One model's record of the report from its (merged) :class:`LayerAnalysis`."""
    samples_count, layers, heads = analysis.weights.shape
    return {
        "name": name, "source": source, "kind": kind,
        "layers_count": layers, "heads": heads, "tokens": tokens,
        "samples": samples_count, "weights_kind": weights_kind,
        "note": note, "weights": analysis.weights[0],
        "layers": _layer_records(analysis),
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
    """:func:`analyze_input` over many paths; returns the full report dict."""
    models = [analyze_input(load_input(p, heads=heads), **options) for p in paths]
    return _report(models, options)


def _report(models, options):
    """The report dict: version, the settings ``options`` asked for, and the model records."""
    settings = {key: options.get(key, default) for key, default in (
        ("horizon", 100), ("eps", 0.25), ("weights", "learned"), ("seed", 0), ("samples", 1),
        ("max_steps", 100_000), ("backend", "numpy"))}
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
    """The analyzer's report as Markdown: one table per model."""
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
                  f"{model['kind']}, {model['layers_count']} layers × {_heads_label(model['heads'])}, "
                  f"T = {model['tokens']}, {model['samples']} sample(s), {model['weights_kind']} weights"
                  + (f" ({model['note']})" if model["note"] else "") + ".",
                  "", _markdown_table(_MARKDOWN_COLUMNS, rows)]
    return "\n".join(parts) + "\n"


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text(path, text):
    """Write ``text`` atomically: a temporary file in the same folder, then a rename."""
    path = Path(path)
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


def _heads_label(count):
    return f"{count} head" + ("s" if count != 1 else "")


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
    return lines


def paper_tables(report):
    """The paper-style tables (Markdown) from a report over the paper's checkpoints."""
    parts = ["# The paper's experiment, reproduced", ""]
    for task, models in sorted(_by_task(report).items()):
        heads = sorted(models)
        layers = max(m["layers_count"] for m in models.values())
        parts += [f"## Task: {task}", ""]
        for title, metric in (("Mixing proxy (§6, exact; lower mixes faster)", "mixing_proxy"),
                              ("Mixing time T_mix(1/4) of P̄(α) (§3)", "mixing_time"),
                              ("Fidelity proxy, % (§6, sink included)", "fidelity_proxy"),
                              ("Minimax fidelity φ_min^100, non-sink sources (§2)", "minimax_fidelity"),
                              ("Amplification ρ = combined / best single head (§2)", "amplification")):
            nan = "> budget" if metric == "mixing_time" else "n/a"
            rows = [[f"layer {l}"] + [_cell(models[h]["layers"][l][metric], nan=nan) for h in heads]
                    for l in range(layers)]
            parts += [f"### {title}", "", _markdown_table(["layer"] + [_heads_label(h) for h in heads], rows), ""]
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


def reproduce_paper(checkpoints, out_dir, *, samples=4, seed=0, plots=True, **options):
    """Analyze every ``{H}_heads_{task}.pt`` in ``checkpoints`` and write the paper-style report.

    Writes ``report.json`` (the analyzer's schema), ``analysis.md`` (per-model
    tables), ``paper.md`` (the paper's tables and verdicts) and, with
    ``plots``, PNG figures into ``out_dir``. Returns the report dict.
    """
    checkpoints, out_dir = Path(checkpoints), Path(out_dir)
    paths = sorted((p for p in checkpoints.glob("*_heads_*.pt") if _PAPER_NAME.match(p.stem)),
                   key=lambda p: (_PAPER_NAME.match(p.stem).group(2), int(_PAPER_NAME.match(p.stem).group(1))))
    if not paths:
        raise InvalidInputError(f"no checkpoints named like '4_heads_copy.pt' in {checkpoints}")
    report = analyze_inputs(paths, seed=seed, samples=samples, **options)
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
