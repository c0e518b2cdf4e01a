"""Seeds and error bars: the single- versus multi-head comparison, replicated over training seeds.

One parameter-matched family (:func:`dagtheory.torch.train.train_family`) is
trained per task and seed; every model is analyzed (:func:`~dagtheory.experiment.analyze_inputs`,
depth section included), and each number is then summarized over the ``k``
seeds by its mean and a 95 % confidence interval of Student's t:

.. math::

    \\bar x \\pm t_{0.975,\\,k-1} \\, s / \\sqrt{k},

with ``s`` the sample standard deviation over seeds (``ddof = 1``). With one
seed ``s`` is undefined, and so is the interval. The interval treats the seeds
as independent replicates of the whole pipeline (initialization, training data,
held-out data and the analyzer's token samples all come from the seed); it says
how far the mean over seeds may move with other seeds, not how much one model's
numbers vary over inputs (the analyzer's ± standard deviations say that).

The single- versus multi-head verdicts of :func:`dagtheory.experiment.paper_tables`
become, per claim, the number of seeds on which the claim holds on every layer
and for every multi-head model, and a comparison of means in which a difference
counts only when the two intervals do not overlap (``docs/analyzing.md``, section 8).
"""

import json
import math
import time
from pathlib import Path

import numpy as np

from . import __version__
from .exceptions import InvalidInputError, InvalidTypeError
from .experiment import PAPER_HEADS, PAPER_TASKS, analyze_inputs, paper_tables, write_text
from .report import format_number, to_json

__all__ = ["CONFIDENCE", "LAYER_METRICS", "confidence_interval", "replicate", "replication_markdown"]

#: Confidence level of every interval.
CONFIDENCE = 0.95

#: Per-layer metrics aggregated over seeds (keys of the analyzer's layer records).
LAYER_METRICS = ("minimax_fidelity", "mixing_time", "mixing_proxy", "fidelity_proxy", "amplification")

#: The claims compared between 1 head and more heads: (name, metric, better, description).
_CLAIMS = (
    ("fidelity", "minimax_fidelity", "higher", "higher non-sink minimax fidelity (§2)"),
    ("mixing", "mixing_proxy", "lower", "faster mixing: lower mixing proxy (§6)"),
    ("mixing_time", "mixing_time", "lower", "faster mixing: lower T_mix of P̄(α) (§3)"),
)

#: Training settings read back from the checkpoints' records (they hold with ``train=False`` too).
_TRAINING_KEYS = ("seq_len", "epochs", "steps_per_epoch", "batch_size", "lr")

_ONE_SEED = "one seed: the interval is undefined"
_BUDGET = "beyond the step budget on some seed: no interval"


def confidence_interval(values, *, level=CONFIDENCE):
    """Mean and Student-t confidence interval of independent replicates.

    Parameters
    ----------
    values : sequence of float
        One value per seed. ``nan`` (a mixing time beyond the step budget) or
        ``inf`` leaves the interval undefined.
    level : float, keyword-only
        Confidence level, ``0 < level < 1`` (default 0.95).

    Returns
    -------
    dict
        ``mean``, ``low``, ``high`` (``mean ∓ t_{(1+level)/2, k-1} · s / √k``),
        ``half_width``, ``std`` (``ddof = 1``), ``n`` (the number of values),
        ``values`` (as given, as floats) and ``note`` (``None``, or why the
        interval is undefined; then ``low``, ``high``, ``half_width`` are
        ``nan``, and ``mean`` too when a value is not finite).

    Raises
    ------
    InvalidInputError
        For no values or a level outside ``(0, 1)``.

    Examples
    --------
    Three seeds; the interval is the mean ± ``t_{0.975, 2} · s / √3``:

    >>> from scipy.stats import t
    >>> ci = confidence_interval([1.0, 2.0, 3.0])
    >>> ci["mean"], ci["std"], ci["n"]
    (2.0, 1.0, 3)
    >>> bool(np.isclose(ci["half_width"], t.ppf(0.975, 2) / np.sqrt(3)))
    True
    >>> round(ci["low"], 4), round(ci["high"], 4)
    (-0.4841, 4.4841)

    One seed gives a mean but no interval:

    >>> one = confidence_interval([0.5])
    >>> one["mean"], math.isnan(one["low"]), one["note"]
    (0.5, True, 'one seed: the interval is undefined')
    """
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1); got {level!r}")
    data = np.asarray([float(v) for v in values], dtype=float)
    if data.size == 0:
        raise InvalidInputError("values is empty; give one value per seed")
    result = {"mean": math.nan, "low": math.nan, "high": math.nan, "half_width": math.nan,
              "std": math.nan, "n": int(data.size), "values": data.tolist(), "note": None}
    if not np.isfinite(data).all():
        result["note"] = _BUDGET if np.isnan(data).any() else "a value is infinite: no interval"
        return result
    result["mean"] = float(data.mean())
    if data.size == 1:
        result["note"] = _ONE_SEED
        return result
    from scipy.stats import t

    std = float(data.std(ddof=1))
    half = float(t.ppf((1 + level) / 2, data.size - 1) * std / math.sqrt(data.size))
    result.update(std=std, half_width=half, low=result["mean"] - half, high=result["mean"] + half)
    return result


def _check_tasks(tasks):
    if isinstance(tasks, str) or not hasattr(tasks, "__iter__"):
        raise InvalidTypeError(f"tasks must be a sequence of task names; got {tasks!r}")
    tasks = list(tasks)
    if not tasks:
        raise InvalidInputError("tasks is empty; give at least one of 'copy', 'cycle'")
    for task in tasks:
        if task not in PAPER_TASKS:
            raise InvalidInputError(f"tasks: unknown task {task!r}; expected one of {PAPER_TASKS}")
    if len(set(tasks)) != len(tasks):
        raise InvalidInputError(f"tasks has repeated names: {tasks}")
    return tasks


def _checkpoint(out_dir, seed, heads, task):
    from .torch.train import seed_folder

    return seed_folder(out_dir, seed) / f"{heads}_heads_{task}.pt"


def _require_checkpoints(out_dir, tasks, heads, seeds):
    missing = [str(_checkpoint(out_dir, s, h, t)) for s in seeds for t in tasks for h in heads
               if not _checkpoint(out_dir, s, h, t).is_file()]
    if missing:
        raise InvalidInputError(
            f"train=False needs the checkpoints in {out_dir}/seed{{S}}; missing {len(missing)}, "
            f"e.g. {missing[0]!r} (train them first, or pass train=True)")


def _bar(total, enabled):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="model", desc="replication")


def _train_all(tasks, heads, seeds, out_dir, bar, options):
    from .torch.train import train_family, seed_folder

    for seed in seeds:
        for task in tasks:
            if bar is not None:
                bar.set_description(f"training seed {seed}, {task}")
            train_family(task, heads, out_dir=seed_folder(out_dir, seed), seed=seed, progress=False,
                         **options)
            if bar is not None:
                bar.update(len(heads))


def _analyze_all(tasks, heads, seeds, out_dir, bar, analysis):
    """``{seed: report}``; each seed's ``report.json`` and ``paper.md`` are written in its folder."""
    from .torch.train import seed_folder

    reports = {}
    for seed in seeds:
        models = []
        for task in tasks:
            for h in heads:
                if bar is not None:
                    bar.set_description(f"analyzing seed {seed}, {task}, {_heads_label(h)}")
                report = analyze_inputs([_checkpoint(out_dir, seed, h, task)], seed=seed, **analysis)
                models += report["models"]
                if bar is not None:
                    bar.update()
        report["models"] = models
        write_text(seed_folder(out_dir, seed) / "report.json", to_json(report) + "\n")
        write_text(seed_folder(out_dir, seed) / "paper.md", paper_tables(report))
        reports[seed] = report
    return reports


def _training_record(out_dir, seed, heads, task):
    path = _checkpoint(out_dir, seed, heads, task).with_suffix(".json")
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
        return record, float(record["accuracy"]), float(record["history"][-1])
    except (OSError, ValueError, KeyError, IndexError, TypeError) as err:
        raise InvalidInputError(f"{path}: not a readable training record ({err})") from err


def _value(report, name, layer, metric):
    model = next(m for m in report["models"] if m["name"] == name)
    if metric == "depth":
        return float(model["depth"]["minimax"]["mean"])
    return float(model["layers"][layer][metric]["mean"])


def _aggregate_model(task, h, seeds, reports, out_dir, level):
    name = f"{h}_heads_{task}"
    first = next(m for m in reports[seeds[0]]["models"] if m["name"] == name)
    training = [_training_record(out_dir, s, h, task) for s in seeds]
    layers = [{"layer": layer, **{metric: confidence_interval(
        [_value(reports[s], name, layer, metric) for s in seeds], level=level) for metric in LAYER_METRICS}}
        for layer in range(first["layers_count"])]
    model = {"name": name, "heads": h, "parameters": int(training[0][0]["parameters"]),
             "layers_count": first["layers_count"],
             "accuracy": confidence_interval([r[1] for r in training], level=level),
             "final_loss": confidence_interval([r[2] for r in training], level=level),
             "layers": layers}
    if "depth" in first:
        model["depth_minimax"] = confidence_interval([_value(reports[s], name, 0, "depth") for s in seeds],
                                                     level=level)
    return model


def _better(multi, single, better):
    """Whether ``multi`` beats ``single``; ``nan`` (beyond the step budget) counts as +inf."""
    multi = math.inf if math.isnan(multi) else multi
    single = math.inf if math.isnan(single) else single
    return multi > single if better == "higher" else multi < single


def _interval_verdict(multi, single, better):
    """The comparison of two intervals: which side is better when they do not overlap."""
    if multi["n"] < 2:
        return "undefined (one seed)"
    all_nan = [all(math.isnan(v) for v in ci["values"]) for ci in (multi, single)]
    if better == "lower" and all_nan[1] and np.isfinite(multi["high"]):
        return "multi-head better (1 head beyond the step budget on every seed)"
    if better == "lower" and all_nan[0] and np.isfinite(single["high"]):
        return "1 head better (multi-head beyond the step budget on every seed)"
    if not (np.isfinite(multi["high"]) and np.isfinite(single["high"])):
        return "undetermined (no interval)"
    multi_above = multi["low"] > single["high"]
    multi_below = multi["high"] < single["low"]
    if not (multi_above or multi_below):
        return "overlap"
    return "multi-head better" if multi_above == (better == "higher") else "1 head better"


def _claim(task_models, reports, seeds, metric, better):
    """Per-seed counts and interval comparisons of one claim for one task."""
    single = task_models.get(1)
    layers = range(single["layers_count"])
    multi = [h for h in sorted(task_models) if h != 1]
    holds, per_heads = 0, []
    for seed in seeds:
        report = reports[seed]
        wins = [_better(_value(report, task_models[h]["name"], l, metric),
                        _value(report, single["name"], l, metric), better) for h in multi for l in layers]
        holds += all(wins)
    for h in multi:
        rows = []
        for l in layers:
            seeds_won = sum(_better(_value(reports[s], task_models[h]["name"], l, metric),
                                    _value(reports[s], single["name"], l, metric), better) for s in seeds)
            rows.append({"layer": l, "seeds_won": seeds_won, "intervals": _interval_verdict(
                task_models[h]["layers"][l][metric], single["layers"][l][metric], better)})
        per_heads.append({"heads": h, "seeds_all_layers": sum(
            all(_better(_value(reports[s], task_models[h]["name"], l, metric),
                        _value(reports[s], single["name"], l, metric), better) for l in layers)
            for s in seeds), "layers": rows})
    return {"metric": metric, "better": better, "seeds_held": holds, "seeds": len(seeds), "per_heads": per_heads}


def _depth_claim(task_models, reports, seeds):
    single = task_models[1]
    multi = [h for h in sorted(task_models) if h != 1]
    holds = sum(all(_value(reports[s], task_models[h]["name"], 0, "depth") >
                    _value(reports[s], single["name"], 0, "depth") for h in multi) for s in seeds)
    per_heads = [{"heads": h, "seeds_won": sum(_value(reports[s], task_models[h]["name"], 0, "depth") >
                                               _value(reports[s], single["name"], 0, "depth") for s in seeds),
                  "intervals": _interval_verdict(task_models[h]["depth_minimax"], single["depth_minimax"],
                                                 "higher")} for h in multi]
    return {"metric": "depth_minimax", "better": "higher", "seeds_held": holds, "seeds": len(seeds),
            "per_heads": per_heads}


def _amplification_claim(task_models, reports, seeds):
    multi = [h for h in sorted(task_models) if h != 1]
    holds = sum(all(_value(reports[s], task_models[h]["name"], l, "amplification") > 1
                    for h in multi for l in range(task_models[h]["layers_count"])) for s in seeds)
    return {"metric": "amplification", "better": "higher than 1", "seeds_held": holds, "seeds": len(seeds)}


def _claims(task_models, reports, seeds):
    if 1 not in task_models or len(task_models) < 2:
        return {}
    claims = {name: _claim(task_models, reports, seeds, metric, better) for name, metric, better, _ in _CLAIMS}
    claims["amplification"] = _amplification_claim(task_models, reports, seeds)
    if all("depth_minimax" in m for m in task_models.values()):
        claims["depth"] = _depth_claim(task_models, reports, seeds)
    return claims


def replicate(tasks=PAPER_TASKS, heads=PAPER_HEADS, seeds=(0, 1, 2), *, out_dir, seq_len=32, epochs=2,
              steps_per_epoch=100, batch_size=32, lr=3e-3, samples=4, horizon=100, gamma=0.5, train=True, plots=True,
              progress=False, level=CONFIDENCE, **options):
    """Train (or reuse) the parameter-matched family per task and seed, analyze it, aggregate over seeds.

    Parameters
    ----------
    tasks : sequence of {"copy", "cycle"}
    heads : sequence of int
        Head counts of every family, each dividing ``d_model`` (default 64).
    seeds : sequence of int
        Distinct non-negative training seeds; seed ``S`` also draws the
        analyzer's ``samples`` token sequences.
    out_dir : str or os.PathLike, keyword-only
        Checkpoints go to ``out_dir/seed{S}/{H}_heads_{task}.pt`` (+ ``.json``)
        with each seed's ``report.json`` and ``paper.md``; the aggregate to
        ``out_dir/replication.json``, ``out_dir/replication.md`` and, with
        ``plots``, ``out_dir/{task}_{metric}_ci.png``.
    seq_len : int, keyword-only
        Sequence length of training and analysis (also the models' ``max_len``).
    epochs, steps_per_epoch, batch_size : int, keyword-only
        Training loop of every model (:func:`dagtheory.torch.train.train_model`).
    lr : float, keyword-only
        AdamW learning rate (default ``3e-3``: at ``1e-3`` the cycle task needs
        about 300 steps to be learned, at ``3e-3`` about 150).
    samples, horizon, gamma : keyword-only
        The analyzer's random sequences per model, horizon ``K`` and ``γ`` of
        the depth section.
    train : bool, keyword-only
        ``False`` reuses the checkpoints already in ``out_dir/seed{S}``.
    plots : bool, keyword-only
        Write the PNG figures (needs matplotlib).
    progress : bool, keyword-only
        A tqdm bar on standard error, one step per model trained or analyzed.
    level : float, keyword-only
        Confidence level of the intervals (default 0.95).
    **options
        More :func:`~dagtheory.torch.train.train_model` options: ``eval_batch``,
        ``device``, ``vocab_size``, ``d_model``, ``n_layers``, ``d_mlp``, ``dropout``.

    Returns
    -------
    dict
        The content of ``replication.json`` (schema in ``docs/analyzing.md``, section 8).

    Raises
    ------
    InvalidInputError, InvalidTypeError
        For bad tasks, heads, seeds or sizes (before any training), or, with
        ``train=False``, a missing checkpoint.

    Examples
    --------
    Two seeds of a tiny family (needs PyTorch), one training step each:

    >>> import tempfile
    >>> import pytest; torch = pytest.importorskip("torch")
    >>> folder = tempfile.TemporaryDirectory()
    >>> result = replicate(("copy",), (1, 2), (0, 1), out_dir=folder.name, seq_len=6, epochs=1,
    ...                    steps_per_epoch=1, batch_size=2, samples=1, horizon=10, plots=False,
    ...                    vocab_size=8, d_model=8, n_layers=1, d_mlp=16)
    >>> model = result["tasks"]["copy"]["models"][1]
    >>> model["name"], model["parameters"], model["layers"][0]["minimax_fidelity"]["n"]
    ('2_heads_copy', 768, 2)
    >>> result["tasks"]["copy"]["claims"]["fidelity"]["seeds"]
    2
    >>> sorted(p.name for p in Path(folder.name).iterdir())
    ['replication.json', 'replication.md', 'seed0', 'seed1']
    >>> folder.cleanup()
    """
    from .torch.train import _check_heads, _check_seeds

    tasks, seeds = _check_tasks(tasks), _check_seeds(seeds)
    heads = _check_heads(heads, options.get("d_model", 64))
    if not 0 < level < 1:
        raise InvalidInputError(f"level must be in (0, 1); got {level!r}")
    out_dir = Path(out_dir)
    training = dict(seq_len=seq_len, epochs=epochs, steps_per_epoch=steps_per_epoch, batch_size=batch_size,
                    lr=lr, max_len=seq_len, **options)
    if not train:
        _require_checkpoints(out_dir, tasks, heads, seeds)
    seconds = {"train": 0.0}
    bar = _bar(len(tasks) * len(heads) * len(seeds) * (2 if train else 1), progress)
    try:
        start = time.perf_counter()
        if train:
            _train_all(tasks, heads, seeds, out_dir, bar, training)
        seconds["train"] = time.perf_counter() - start
        analysis = dict(samples=samples, horizon=horizon, gamma=gamma, seq_len=seq_len)
        reports = _analyze_all(tasks, heads, seeds, out_dir, bar, analysis)
        seconds["analyze"] = time.perf_counter() - start - seconds["train"]
    finally:
        if bar is not None:
            bar.close()
    result = _result(tasks, heads, seeds, reports, out_dir, level, seconds, train,
                     dict(training, samples=samples, horizon=horizon, gamma=gamma))
    write_text(out_dir / "replication.json", json.dumps(_jsonable(result), indent=2) + "\n")
    write_text(out_dir / "replication.md", replication_markdown(result))
    if plots:
        _figures(result, out_dir)
    return result


def _result(tasks, heads, seeds, reports, out_dir, level, seconds, trained, settings):
    first = reports[seeds[0]]
    record = _training_record(out_dir, seeds[0], heads[0], tasks[0])[0]["config"]
    settings.update({key: record[key] for key in _TRAINING_KEYS if key in record})
    settings = dict(settings, tasks=tasks, heads=heads, seeds=seeds, level=level, trained=trained,
                    eps=first["settings"]["eps"], max_steps=first["settings"]["max_steps"],
                    analysis_seed="the training seed",
                    seconds={key: round(value, 1) for key, value in seconds.items()})
    settings.pop("max_len", None)
    result = {"dagtheory_version": __version__, "settings": settings, "tasks": {}}
    for task in tasks:
        task_models = {h: _aggregate_model(task, h, seeds, reports, out_dir, level) for h in heads}
        result["tasks"][task] = {"models": [task_models[h] for h in heads],
                                 "claims": _claims(task_models, reports, seeds)}
    return result


def _jsonable(value):
    """Non-finite floats as the strings ``"nan"``, ``"inf"``, ``"-inf"`` (strict JSON)."""
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _interval_cell(ci, digits=4):
    if math.isnan(ci["mean"]):
        beyond = sum(math.isnan(v) for v in ci["values"])
        return f"> budget on {beyond} of {ci['n']} seeds" if beyond else "n/a"
    text = format_number(ci["mean"], digits)
    if math.isnan(ci["low"]):
        return text + " [undefined]"
    return f"{text} [{format_number(ci['low'], 3)}, {format_number(ci['high'], 3)}]"


def _table(headers, rows):
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


_TITLES = {
    "minimax_fidelity": "Minimax fidelity φ_min, non-sink sources (§2; higher keeps more signal)",
    "mixing_time": "Mixing time T_mix of P̄(α) (§3; lower mixes faster)",
    "mixing_proxy": "Mixing proxy (§6; lower mixes faster)",
    "fidelity_proxy": "Fidelity proxy, % (§6, sink included)",
    "amplification": "Amplification ρ = combined / best single head (§2)",
}


def _heads_label(h):
    return f"{h} head" + ("s" if h != 1 else "")


def _claim_lines(claims):
    if not claims:
        return ["No single-head model: the single- versus multi-head claim cannot be checked."]
    lines = []
    for name, _, _, text in _CLAIMS:
        claim = claims[name]
        lines.append(f"**{text}**: holds on {claim['seeds_held']} of {claim['seeds']} seeds "
                     "(every multi-head model, every layer).")
        for entry in claim["per_heads"]:
            layers = "; ".join(f"layer {r['layer']}: {r['seeds_won']} of {claim['seeds']} seeds, "
                               f"intervals: {r['intervals']}" for r in entry["layers"])
            lines.append(f"  - {_heads_label(entry['heads'])} vs 1 head: every layer on "
                         f"{entry['seeds_all_layers']} of {claim['seeds']} seeds; {layers}.")
    amplification = claims["amplification"]
    lines.append(f"**combined heads beat the best single head (ρ > 1)** on every layer of every multi-head "
                 f"model on {amplification['seeds_held']} of {amplification['seeds']} seeds.")
    if "depth" in claims:
        depth = claims["depth"]
        lines.append(f"**higher depth minimax fidelity across the stack (§4)**: holds on {depth['seeds_held']} "
                     f"of {depth['seeds']} seeds (every multi-head model).")
        lines += [f"  - {_heads_label(e['heads'])} vs 1 head: {e['seeds_won']} of {depth['seeds']} seeds, "
                  f"intervals: {e['intervals']}." for e in depth["per_heads"]]
    return lines


def replication_markdown(result):
    """``replication.md``: per task, tables of ``mean [low, high]`` cells and the per-seed verdicts.

    Parameters
    ----------
    result : dict
        What :func:`replicate` returns (or ``replication.json`` read back).

    Returns
    -------
    str

    Examples
    --------
    A hand-made result of one task, one model and two seeds:

    >>> ci = confidence_interval([0.5, 0.7])
    >>> layer = {"layer": 0, **{metric: ci for metric in LAYER_METRICS}}
    >>> model = {"name": "1_heads_copy", "heads": 1, "parameters": 100, "layers_count": 1,
    ...          "accuracy": confidence_interval([1.0, 1.0]), "final_loss": ci, "layers": [layer]}
    >>> result = {"settings": {"seeds": [0, 1], "level": 0.95, "seq_len": 8, "epochs": 1,
    ...                        "steps_per_epoch": 2, "samples": 1, "horizon": 10, "eps": 0.25},
    ...           "tasks": {"copy": {"models": [model], "claims": {}}}}
    >>> text = replication_markdown(result)
    >>> print(text[text.index("### Minimax"):text.index("### Mixing time")].rstrip())
    ### Minimax fidelity φ_min, non-sink sources (§2; higher keeps more signal)
    <BLANKLINE>
    | layer | 1 head |
    |---|---|
    | layer 0 | 0.6 [-0.671, 1.87] |
    """
    settings = result["settings"]
    seeds = settings["seeds"]
    level = format_number(100 * settings["level"], 3)
    parts = ["# Single- versus multi-head, replicated over seeds", "",
             f"Seeds {', '.join(map(str, seeds))} ({len(seeds)}); sequence length {settings['seq_len']}, "
             f"{settings['epochs']} epochs × {settings['steps_per_epoch']} steps; the analyzer's "
             f"{settings['samples']} random sequences per model, K = {settings['horizon']}, "
             f"ε = {settings['eps']}. Cells are `mean [low, high]`: the mean over seeds of each model's "
             f"mean over samples, and its {level} % Student-t confidence interval over seeds "
             "(mean ± t·s/√k)." + (" With one seed the interval is undefined." if len(seeds) == 1 else "")]
    for task, entry in result["tasks"].items():
        models = entry["models"]
        labels = [_heads_label(m["heads"]) for m in models]
        layers = max(m["layers_count"] for m in models)
        parts += ["", f"## Task: {task}", "", "### Training", "",
                  _table(["", *labels], [["parameters", *[str(m["parameters"]) for m in models]],
                                         ["held-out accuracy", *[_interval_cell(m["accuracy"]) for m in models]],
                                         ["final loss", *[_interval_cell(m["final_loss"]) for m in models]]])]
        for metric in LAYER_METRICS:
            rows = [[f"layer {l}", *[_interval_cell(m["layers"][l][metric]) if l < m["layers_count"] else ""
                                     for m in models]] for l in range(layers)]
            parts += ["", f"### {_TITLES[metric]}", "", _table(["layer", *labels], rows)]
        if all("depth_minimax" in m for m in models):
            parts += ["", "### Across the stack: depth minimax fidelity (§4)", "",
                      _table(["", *labels], [["depth φ_min", *[_interval_cell(m["depth_minimax"])
                                                              for m in models]]])]
        parts += ["", "### Does the claim hold, seed by seed?", ""] + [
            line if line.startswith("  ") else f"- {line}" for line in _claim_lines(entry["claims"])]
    return "\n".join(parts) + "\n"


def _figures(result, out_dir):
    from .plots import layer_bars_figure, save_figure

    level = format_number(100 * result["settings"]["level"], 3)
    for task, entry in result["tasks"].items():
        for metric, label in (("minimax_fidelity", "φ_min non-sink"), ("mixing_time", "T_mix(1/4)")):
            series = {_heads_label(m["heads"]): {
                "mean": np.array([l[metric]["mean"] for l in m["layers"]], dtype=float),
                "std": np.array([l[metric]["half_width"] for l in m["layers"]], dtype=float)}
                for m in entry["models"]}
            title = (f"{task}: {label} per layer, mean over {len(result['settings']['seeds'])} seeds; "
                     f"error bars: {level} % interval half-width")
            figure = layer_bars_figure(series, metric_label=label, title=title)
            save_figure(figure, Path(out_dir) / f"{task}_{metric}_ci.png")
