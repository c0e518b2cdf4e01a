"""``dagtheory demo``: the worked examples, then a small single-head and multi-head model.

The two models (copy task, sequence length 32) are trained once, in well under
two minutes on two CPU cores, and cached; later runs load them. Both are
analyzed on random sequences and the report folder receives ``analysis.md``,
``report.json`` and PNG figures.
"""

import json
from pathlib import Path

import numpy as np

from .experiment import analyze_inputs, markdown_report, write_text
from .report import (
    example2_report,
    example2_table,
    mixing_example_report,
    mixing_example_table,
    to_json,
)

__all__ = ["DEMO_MODEL", "DEMO_TRAINING", "DEMO_HEADS", "run_demo", "demo_models"]

#: Sizes of the demo models (parameter-matched: only the head split differs).
DEMO_MODEL = {"vocab_size": 64, "d_model": 64, "n_layers": 2, "d_mlp": 128, "max_len": 32}
#: Training run of the demo models.
DEMO_TRAINING = {"seq_len": 32, "epochs": 2, "steps_per_epoch": 75, "batch_size": 32, "seed": 0}
DEMO_HEADS = (1, 4)


def _cached(cache, heads):
    """True when every demo checkpoint is in ``cache`` with the current configuration."""
    for h in heads:
        record = cache / f"{h}_heads_copy.json"
        if not (cache / f"{h}_heads_copy.pt").is_file() or not record.is_file():
            return False
        config = json.loads(record.read_text())["config"]
        wanted = {**DEMO_TRAINING, "heads": h, "task": "copy"}
        if any(config.get(k) != v for k, v in wanted.items()) or \
                any(config["model"].get(k) != v for k, v in DEMO_MODEL.items()):
            return False
    return True


def demo_models(cache, *, progress=True):
    """Paths of the demo checkpoints, training them into ``cache`` first if needed.

    A checkpoint counts as cached when ``{H}_heads_copy.pt`` is in ``cache``
    beside its record ``{H}_heads_copy.json`` (written by
    :func:`~dagtheory.torch.train_family`) and the record's configuration is
    :data:`DEMO_TRAINING` and :data:`DEMO_MODEL`; otherwise both models are
    trained (well under two minutes on two CPU cores).

    Examples
    --------
    A cache that already holds checkpoints of the demo configuration (here
    untrained ones with hand-written records) is used as it is, without
    training:

    >>> import json, tempfile, torch
    >>> from dagtheory.torch import PaperTransformer
    >>> folder = tempfile.TemporaryDirectory()
    >>> cache = Path(folder.name)
    >>> for heads in DEMO_HEADS:
    ...     model = PaperTransformer(n_heads=heads, **DEMO_MODEL)
    ...     torch.save(model.state_dict(), cache / f"{heads}_heads_copy.pt")
    ...     config = {**DEMO_TRAINING, "heads": heads, "task": "copy", "model": DEMO_MODEL}
    ...     _ = (cache / f"{heads}_heads_copy.json").write_text(json.dumps({"config": config}))
    >>> [path.name for path in demo_models(cache, progress=False)]
    ['1_heads_copy.pt', '4_heads_copy.pt']
    >>> folder.cleanup()
    """
    cache = Path(cache)
    if not _cached(cache, DEMO_HEADS):
        from .torch import train_family

        train_family("copy", DEMO_HEADS, out_dir=cache, progress=progress, **DEMO_TRAINING,
                     **DEMO_MODEL)
    return [cache / f"{h}_heads_copy.pt" for h in DEMO_HEADS]


def _figures(report, paths, out):
    from .graph import HeadSystem
    from .plots import example2_figure, layer_bars_figure, save_figure, signal_curves_figure
    from .torch import extract_attention, learned_head_weights, load_checkpoint

    save_figure(example2_figure(20), out / "example2.png")
    for metric, label in (("minimax_fidelity", "φ_min, non-sink sources"),
                          ("mixing_proxy", "mixing proxy (steps)")):
        series = {f"{m['heads']} head{'s' if m['heads'] > 1 else ''}": {
            "mean": np.array([r[metric]["mean"] for r in m["layers"]], dtype=float),
            "std": np.array([r[metric]["std"] for r in m["layers"]], dtype=float)}
            for m in report["models"]}
        save_figure(layer_bars_figure(series, metric_label=label, title=f"copy task: {label}"),
                    out / f"{metric}.png")
    tokens = np.random.default_rng(0).integers(0, DEMO_MODEL["vocab_size"], DEMO_TRAINING["seq_len"])
    for path in paths:
        model = load_checkpoint(path)
        system = HeadSystem.from_attention(extract_attention(model, tokens)[0],
                                           learned_head_weights(model, 0))
        save_figure(signal_curves_figure(system, 100, title=f"{path.stem}, layer 0"),
                    out / f"signal_{path.stem}.png")


def run_demo(out, *, cache, progress=True):
    """Run the demo; returns the text it prints.

    Loads or trains the demo models (:func:`demo_models`), analyzes each on 4
    random sequences at horizon 100, and writes ``analysis.md``,
    ``report.json`` and PNG figures into ``out``. The text holds the tables of
    the two worked examples, the Markdown report and the list of files written.

    Examples
    --------
    ``dagtheory demo`` calls ``run_demo(out, cache=cache)`` with these
    defaults; even with the models cached, drawing the figures takes seconds,
    so it is not run here:

    >>> from dagtheory.cli import build_parser
    >>> args = build_parser().parse_args(["demo"])
    >>> args.out, args.cache, DEMO_HEADS, DEMO_TRAINING["seq_len"]
    ('demo-report', '.cache/demo-models', (1, 4), 32)

    The text starts with Example 2 (§2), computed exactly without any model:

    >>> print(example2_table(example2_report()).splitlines()[-2])
    ratio ρ = combined / best head (head 1) = 10/9 (1.111111111): the system amplifies
    """
    out = Path(out)
    paths = demo_models(cache, progress=progress)
    report = analyze_inputs(paths, samples=4, seed=0, horizon=100)
    write_text(out / "report.json", to_json(report) + "\n")
    markdown = markdown_report(report)
    write_text(out / "analysis.md", markdown)
    _figures(report, paths, out)
    return "\n".join([
        example2_table(example2_report()), "",
        mixing_example_table(mixing_example_report()), "",
        markdown,
        f"wrote {out}/analysis.md, {out}/report.json and figures ({', '.join(sorted(p.name for p in out.glob('*.png')))})",
    ])
