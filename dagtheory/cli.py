"""The ``dagtheory`` command.

Each subcommand prints a table, or JSON with ``--json``. Bad arguments and bad
input end with exit status 2 and a one-line message, never a traceback.
"""

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from . import __version__
from ._verdicts import HOLDS, REFUTED
from .exceptions import DagTheoryError
from .experiment import write_text
from .report import (
    example2_report,
    example2_table,
    format_table,
    mixing_example_report,
    mixing_example_table,
    to_json,
)

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``dagtheory <command>: error: <message>``."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(text, minimum, expected):
    """An int ``>= minimum`` from the command line; ``expected`` names it in the error."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
    return value


def _seed(text):
    return _integer(text, 0, "a non-negative integer seed")


def _positive_int(text):
    return _integer(text, 1, "a positive integer")


def _run_example2(args):
    report = example2_report(horizon=args.horizon)
    if args.plot:
        from .plots import save_figure

        for name, figure in _example2_panels(args.horizon).items():
            save_figure(figure, Path(args.plot) / f"{name}.png")
        print(f"wrote the Figure 3 panels of Example 2 to {args.plot}", file=sys.stderr)
    return to_json(report) if args.json else example2_table(report)


def _example2_panels(horizon):
    """The paper's Figure 3 for Example 2: the three panels together, then each on its own."""
    from .examples import paper_example2
    from .plots import example2_figure, signal_curves_figure

    system = paper_example2()
    panels = {"example2": example2_figure(horizon)}
    for h, head in enumerate(system.heads, start=1):
        panels[f"example2_head{h}"] = signal_curves_figure(head, horizon, title=f"Example 2, head {h}: S_t(v)")
    weights = ", ".join(str(w) for w in system.weights)
    panels["example2_combined"] = signal_curves_figure(
        system.combined(), horizon, title=f"Example 2, combined heads β = ({weights}): S_t(v)")
    return panels


def _run_mixing_example(args):
    report = mixing_example_report()
    return to_json(report) if args.json else mixing_example_table(report)


def _write_or_print(text, path):
    if path is None or str(path) == "-":
        print(text)
    else:
        write_text(path, text + ("" if text.endswith("\n") else "\n"))
        print(f"wrote {path}", file=sys.stderr)


def _run_analyze(args):
    from .experiment import markdown_report, read_tokens
    from .scale import analyze_at_scale

    tokens = read_tokens(args.tokens) if args.tokens else None
    gamma = _depth_gamma(args)
    try:
        report = analyze_at_scale(args.inputs, scheduler=args.scheduler, workers=args.workers,
                                  chunk_samples=args.chunk_samples, progress=args.progress,
                                  connect_timeout=args.connect_timeout, heads=args.heads, tokens=tokens,
                                  seed=args.seed, samples=args.samples, seq_len=args.seq_len,
                                  weights=args.weights, horizon=args.horizon, eps=args.eps,
                                  max_steps=args.max_steps, backend=args.backend, device=args.device,
                                  gamma=gamma)
    except DagTheoryError as err:
        if tokens is not None and str(err).startswith("tokens "):  # name the token file too
            raise type(err)(f"{args.tokens}: {err}") from err
        raise
    markdown = markdown_report(report)
    if args.json:
        _write_or_print(to_json(report), args.json)
    if args.markdown:
        _write_or_print(markdown, args.markdown)
    if args.report:
        from .report_folder import write_report_folder

        index = write_report_folder(report, args.report, tokens=tokens, seq_len=args.seq_len, heads=args.heads)
        print(f"wrote {index} (and index.html, report.json, figures/)", file=sys.stderr)
    return None if (args.json == "-" or args.markdown == "-") else markdown


def _depth_gamma(args):
    """``γ`` of the depth section: ``--gamma``, or 1/2 with ``--depth`` alone; ``None``: no depth section."""
    if args.gamma is not None:
        return args.gamma
    return 0.5 if args.depth else None


_REPLICATION_OPTIONS = ("seeds", "tasks", "heads", "seq_len", "epochs", "steps_per_epoch", "batch_size",
                        "vocab_size", "d_model", "layers", "d_mlp")


def _option_name(dest):
    return "--" + dest.replace("_", "-")


def _run_reproduce(args):
    from .exceptions import InvalidInputError
    from .experiment import reproduce_paper

    given = [_option_name(d) for d in _REPLICATION_OPTIONS if getattr(args, d) is not None]
    if args.train:
        if args.checkpoints is not None:
            raise InvalidInputError("--checkpoints and --train cannot be used together: --train trains "
                                    "its own checkpoints into --out")
        if args.seed is not None:
            raise InvalidInputError("--seed is the analysis seed of --checkpoints; with --train give --seeds")
        return _run_replication(args)
    if given:
        raise InvalidInputError(f"{', '.join(given)} only apply with --train")
    if args.checkpoints is None:
        raise InvalidInputError("give --checkpoints DIR (the models to analyze) or --train")
    args.seed = 0 if args.seed is None else args.seed
    out = Path(args.out)
    reproduce_paper(args.checkpoints, out, samples=args.samples, seed=args.seed,
                    plots=not args.no_plots, horizon=args.horizon, gamma=args.gamma)
    return (out / "paper.md").read_text() + f"\nwrote {out}/report.json, analysis.md, paper.md and figures"


def _run_replication(args):
    from .replication import replicate

    sizes = {key: getattr(args, key) for key in ("vocab_size", "d_model", "d_mlp") if getattr(args, key)}
    if args.layers is not None:
        sizes["n_layers"] = args.layers
    training = {key: getattr(args, key) for key in ("seq_len", "epochs", "steps_per_epoch", "batch_size")
                if getattr(args, key) is not None}
    replicate(tuple(args.tasks or ("copy", "cycle")), tuple(args.heads or (1, 4, 8, 16)),
              tuple(args.seeds if args.seeds is not None else (0, 1, 2)), out_dir=args.out,
              samples=args.samples, horizon=args.horizon, gamma=args.gamma, plots=not args.no_plots,
              progress=not args.no_progress, **training, **sizes)
    out = Path(args.out)
    return ((out / "replication.md").read_text()
            + f"\nwrote {out}/replication.json, replication.md, figures and seed*/ (checkpoints, reports)")


def _run_train(args):
    from .exceptions import InvalidInputError
    from .torch.train import train_family, train_seeds

    if args.seed is not None and args.seeds is not None:
        raise InvalidInputError("--seed and --seeds cannot be used together; give one of them")
    options = dict(seq_len=args.seq_len, epochs=args.epochs, steps_per_epoch=args.steps_per_epoch,
                   batch_size=args.batch_size, progress=not args.no_progress, max_len=args.seq_len,
                   vocab_size=args.vocab_size, n_layers=args.layers)
    if args.seeds is None:
        runs = {args.seed or 0: train_family(args.task, args.heads, out_dir=args.out,
                                             seed=args.seed or 0, **options)}
    else:
        runs = train_seeds(args.task, args.heads, args.seeds, out_dir=args.out, **options)
    rows = [[str(seed), f"{r.config['heads']}", r.parameters, f"{r.history[-1]:.4g}", f"{r.accuracy:.4f}"]
            for seed, results in runs.items() for r in results]
    headers = ["seed", "heads", "parameters", "final loss", "accuracy"]
    if args.seeds is None:  # one family: the table of one seed, as before --seeds existed
        return format_table(headers[1:], [row[1:] for row in rows]) + f"\nsaved to {args.out}"
    return format_table(headers, rows) + f"\nsaved to {args.out}/seed{{S}}"


def _run_demo(args):
    from .demo import run_demo

    return run_demo(Path(args.out), cache=Path(args.cache), progress=not args.no_progress)


def _run_optimize(args):
    from .weighting import weights_report, weights_table

    if args.target == "example2":
        from .examples import paper_example2

        system, learned, title = paper_example2(), None, "Example 2 (theory §2): head weights compared"
        horizon = args.horizon or 20
    else:
        from .experiment import load_input, optimize_inputs

        system, learned = optimize_inputs(load_input(args.target), args.layer, seed=args.seed)
        title = f"{args.target}, layer {args.layer}: head weights compared"
        horizon = args.horizon or 100
    report = weights_report(system, learned=learned, horizon=horizon, method=args.method,
                            time_limit=args.time_limit)
    return to_json(report) if args.json else weights_table(report, title)


def _task_of(path, task):
    """The task of a checkpoint: ``--task``, else the name ``{H}_heads_{task}.pt``."""
    from .experiment import _PAPER_NAME

    if task is not None:
        return task
    match = _PAPER_NAME.match(Path(path).stem)
    if match is None or match.group(2) not in ("copy", "cycle"):
        raise ValueError(f"cannot tell the task of {str(path)!r} from its name ({{H}}_heads_{{task}}.pt); "
                         "pass --task copy or --task cycle")
    return match.group(2)


def _checkpoint_model(path):
    from .experiment import load_input

    model_input = load_input(path)
    if model_input.model is None:
        raise ValueError(f"{path}: ablate and reweight need a checkpoint (.pt), not an attention array")
    return model_input


def _run_ablate(args):
    from .torch.interventions import _ablation_markdown, _ablation_text, ablation_report

    task = _task_of(args.checkpoint, args.task)
    model_input = _checkpoint_model(args.checkpoint)
    report = ablation_report(model_input.model, task, name=model_input.name, samples=args.samples,
                             eval_samples=args.eval_samples, seq_len=args.seq_len, seed=args.seed,
                             weights=args.weights)
    if args.json:
        _write_or_print(to_json(report), args.json)
    if args.report:
        _ablation_folder(report, Path(args.report))
    return None if args.json == "-" else _ablation_text(report)


def _ablation_folder(report, folder):
    import numpy as np

    from .plots import effects_scatter_figure, save_figure
    from .report_folder import render_html
    from .torch.interventions import _ablation_markdown

    layers, heads = report["layers"], report["heads_per_layer"]

    def grid(get):
        values = [get(h) for h in report["heads"]]
        return np.array([np.nan if v is None else v for v in values], dtype=float).reshape(layers, heads)

    predicted = {label: grid(lambda h, m=metric: h["predicted"][m])
                 for label, metric in (("Δφ_min", "minimax_fidelity"), ("ΔT_mix", "mixing_time"),
                                       ("Δρ", "amplification"))}
    figure = effects_scatter_figure(predicted, grid(lambda h: h["measured"]["loss"]),
                                    measured_label="measured Δ loss (head ablated)",
                                    title=f"{report['model']}: predicted vs measured effect of removing a head")
    save_figure(figure, folder / "figures" / "ablation_scatter.png")
    markdown = _ablation_markdown(report, figure="figures/ablation_scatter.png")
    write_text(folder / "index.md", markdown)
    write_text(folder / "index.html", render_html(markdown, title=f"Head ablation: {report['model']}"))
    write_text(folder / "report.json", to_json(report) + "\n")
    print(f"wrote {folder / 'index.md'} (and index.html, report.json, figures/)", file=sys.stderr)


def _run_reweight(args):
    from .torch.interventions import _reweight_text, reweight_report

    task = _task_of(args.checkpoint, args.task)
    model_input = _checkpoint_model(args.checkpoint)
    report = reweight_report(model_input.model, task, args.to, name=model_input.name, samples=args.samples,
                             eval_samples=args.eval_samples, seq_len=args.seq_len, seed=args.seed,
                             starts=args.starts)
    if args.json:
        _write_or_print(to_json(report), args.json)
    return None if args.json == "-" else _reweight_text(report)


def _add_intervention_options(command):
    command.add_argument("checkpoint", metavar="CHECKPOINT", help="a paper-family checkpoint {H}_heads_{task}.pt")
    command.add_argument("--task", choices=("copy", "cycle"), default=None,
                         help="the model's task (default: from the file name)")
    command.add_argument("--samples", type=_positive_int, default=8, metavar="N",
                         help="random sequences whose attention the analyzer reads (default 8)")
    command.add_argument("--eval-samples", type=_positive_int, default=64, metavar="N",
                         help="held-out sequences of the task for loss and accuracy (default 64)")
    command.add_argument("--seq-len", type=_positive_int, default=None, metavar="T",
                         help="sequence length (default: the model's maximum)")
    command.add_argument("--seed", type=_seed, default=0)
    command.add_argument("--json", metavar="OUT", help="write the JSON report to OUT ('-': print it)")


def _check_table(results):
    """The table of ``dagtheory check``, then the evidence of each result.

    A ``holds`` gets one line of evidence (the searches that found no
    counterexample, or the exact check), so the table never reads as a proof;
    a refuted statement gets its counterexample, re-verified in exact
    arithmetic, and the check's message.
    """
    rows = [[r.name, r.kind, r.status, r.method or "-", r.examples, f"{r.seconds:.1f}"] for r in results]
    lines = [format_table(["name", "kind", "status", "method", "examples", "seconds"], rows)]
    holds = [r for r in results if r.status == HOLDS]
    if holds:
        lines += ["", "evidence for 'holds' (a search that finds no counterexample is not a proof):"]
        lines += [f"  {r.name}: {r.message or 'no check ran'}" for r in holds]
    for r in results:
        if r.status != HOLDS:
            lines += ["", *_outcome_lines(r)]
    return "\n".join(lines)


def _outcome_lines(result):
    """A refuted or undecided result: what decided, its message and its counterexample."""
    by = f"{result.status} by {result.method}" if result.method else result.status
    if result.counterexample is None:
        return [f"{result.name} ({by}): {result.message}"]
    label = ("counterexample (shrunk, verified exactly)" if result.status == REFUTED
             else "counterexample (not confirmed in exact arithmetic)")
    return [f"{result.name} ({by}): {label}", f"  message: {result.message}",
            _matrix_text(result.counterexample)]


def _matrix_text(value, indent="  "):
    """A counterexample for the terminal: matrices as aligned rows, heads one after another."""
    if isinstance(value, dict):
        return "\n".join(f"{indent}{key}:\n{_matrix_text(item, indent + '  ')}" for key, item in value.items())
    if isinstance(value, (list, tuple)) and value and all(isinstance(row, (list, tuple)) for row in value):
        if all(isinstance(cell, (list, tuple)) for row in value for cell in row):
            return "\n\n".join(_matrix_text(head, indent) for head in value)
        width = max(len(str(cell)) for row in value for cell in row)
        return "\n".join(indent + "  ".join(str(cell).rjust(width) for cell in row) for row in value)
    return indent + json.dumps(value, ensure_ascii=False, default=str)


def _run_check(args):
    from .checks import run_checks

    results = run_checks(args.theorems or None, profile=args.profile, path=args.proofs,
                         hunts=not args.no_hunts)
    refuted = [r.name for r in results if r.kind == "theorem" and r.status == REFUTED]
    if args.json:
        text = to_json([r.to_dict() for r in results])
    else:
        text = _check_table(results)
    print(text)
    if refuted:
        print(f"dagtheory check: refuted theorems: {', '.join(refuted)}", file=sys.stderr)
        raise SystemExit(1)
    return None


def _add_analysis_options(command):
    command.add_argument("--horizon", type=_positive_int, default=100, metavar="K",
                         help="horizon K of the fidelities (default 100)")
    command.add_argument("--seed", type=_seed, default=0, help="seed of the random token samples")
    command.add_argument("--samples", type=_positive_int, default=1, metavar="N",
                         help="random token sequences per model (default 1)")


def _unit_interval(text):
    """A number ``0 < x <= 1``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text!r}") from None
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1], got {text}")
    return value


def _memory_size(text):
    """A size such as ``8G`` (or ``none``), in bytes."""
    from .resources import parse_size

    try:
        return text if text.strip().lower() == "none" else parse_size(text)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _add_memory_option(command):
    command.add_argument("--memory-limit", type=_memory_size, default=None, metavar="SIZE",
                         help="refuse work that would need more memory than SIZE (e.g. 8G, 512M, none), "
                              "before allocating it (default: $DAGTHEORY_MEMORY_LIMIT, else 80%% of the "
                              "physical memory); see docs/guarantees.md")


def _apply_memory_limit(args):
    """Set ``--memory-limit`` here and, through the environment, in worker processes started from here."""
    limit = getattr(args, "memory_limit", None)
    if limit is None:
        return
    from .resources import ENVIRONMENT_VARIABLE, set_memory_limit

    set_memory_limit(None if limit == "none" else limit)
    os.environ[ENVIRONMENT_VARIABLE] = "none" if limit == "none" else str(limit)


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _add_scale_options(command):
    group = command.add_argument_group(
        "running on Dask", "The work is split into tasks, one per input and chunk of samples (docs/scale.md). "
        "The report does not depend on these options.")
    group.add_argument("--scheduler", default=None, metavar="threads|sync|processes|ADDRESS",
                       help="threads: Dask's threaded scheduler in this process (the default; a plain loop "
                            "without dask installed); sync: one task at a time; processes: a local cluster "
                            "of worker processes; ADDRESS (tcp://HOST:PORT): an existing dask.distributed "
                            "scheduler")
    group.add_argument("--workers", type=_positive_int, default=None, metavar="N",
                       help="threads (threads) or worker processes (processes); default: one per CPU")
    group.add_argument("--chunk-samples", type=_positive_int, default=4, metavar="N",
                       help="samples of one input per task (default 4)")
    group.add_argument("--connect-timeout", type=_positive_float, default=10.0, metavar="SECONDS",
                       help="how long to wait for the scheduler at ADDRESS (default 10)")
    group.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                       help="show a progress bar of completed tasks on standard error "
                            "(default: when it is a terminal)")


def _add_commands(commands):
    analyze = commands.add_parser(
        "analyze", help="analyze checkpoints or attention arrays, per layer",
        description="Per model and layer: the paper's proxies (§6), minimax fidelity and "
                    "amplification (§2), mixing and hitting times of the mixture walk and the "
                    "M1/M2/M3 bounds (§3). INPUT is a paper-family checkpoint (.pt) or attention "
                    "saved as .npy/.npz of shape (H, T, T), (L, H, T, T) or (S, L, H, T, T).",
    )
    analyze.add_argument("inputs", nargs="+", metavar="INPUT")
    analyze.add_argument("--tokens", metavar="FILE", help="token sequences (.npy or text, one per line)")
    _add_analysis_options(analyze)
    analyze.add_argument("--seq-len", type=_positive_int, default=None, metavar="T",
                         help="length of random token sequences (default: the model's maximum)")
    analyze.add_argument("--heads", type=_positive_int, default=None,
                         help="head count of checkpoints whose file name does not say it")
    analyze.add_argument("--weights", choices=("learned", "uniform"), default="learned",
                         help="head weights: §1's learned weights (default) or uniform")
    analyze.add_argument("--eps", type=float, default=0.25, help="ε of the mixing time (default 0.25)")
    analyze.add_argument("--max-steps", type=_positive_int, default=100_000,
                         help="mixing times beyond this are reported as '> budget'")
    analyze.add_argument("--backend", choices=("numpy", "torch"), default=None,
                         help="where the iterations run (default numpy; see docs/performance.md)")
    analyze.add_argument("--device", default=None, metavar="DEV",
                         help="torch device for --backend torch: cpu (default), cuda, cuda:1, ...")
    analyze.add_argument("--depth", action="store_true",
                         help="add the depth section (§4): each model's whole stack, the depth fidelity "
                              "of every token and, for several models, their comparison")
    analyze.add_argument("--gamma", type=_unit_interval, default=None, metavar="G",
                         help="γ of the residual operator (1-γ)I + γΔ̄ of the depth section (default 0.5, "
                              "attention rollout's; 1 ignores the residual stream); implies --depth")
    analyze.add_argument("--json", metavar="OUT", help="write the JSON report to OUT ('-': print it)")
    analyze.add_argument("--markdown", metavar="OUT", help="write the Markdown report to OUT ('-': print it)")
    analyze.add_argument("--report", metavar="DIR",
                         help="write a self-contained report folder: index.md, index.html, report.json and "
                              "PNG figures (signal curves, absorption CDFs, attention heat maps with their "
                              "DAGs, per-layer bars, and the depth signal with --depth)")
    _add_memory_option(analyze)
    _add_scale_options(analyze)
    analyze.set_defaults(run=_run_analyze)

    reproduce = commands.add_parser(
        "reproduce", help="reproduce the paper's experiment on its eight checkpoints",
        description="Analyze every {H}_heads_{task}.pt in --checkpoints and write the paper-style "
                    "tables (Markdown, JSON) and figures (PNG). With --train, train the "
                    "parameter-matched family per task and seed instead, analyze every model and "
                    "write means over seeds with 95%% confidence intervals (replication.md, .json).",
    )
    reproduce.add_argument("target", choices=("paper",))
    reproduce.add_argument("--checkpoints", default=None, metavar="DIR")
    reproduce.add_argument("--out", default="paper-report", metavar="DIR")
    _add_analysis_options(reproduce)
    reproduce.set_defaults(samples=4, seed=None)
    reproduce.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    reproduce.add_argument("--gamma", type=_unit_interval, default=0.5, metavar="G",
                           help="γ of the depth comparison across the stack (§4; default 0.5)")
    _add_memory_option(reproduce)
    replication = reproduce.add_argument_group(
        "seeds and error bars (--train)", "Train one family per task and seed into --out/seed{S}/ "
        "(long: about 10 minutes on two CPU cores at the defaults; docs/analyzing.md, section 8).")
    replication.add_argument("--train", action="store_true",
                             help="train and analyze the family per task and seed instead of --checkpoints")
    replication.add_argument("--seeds", type=_seed, nargs="+", default=None, metavar="S",
                             help="training seeds (default 0 1 2)")
    replication.add_argument("--tasks", choices=("copy", "cycle"), nargs="+", default=None,
                             help="tasks (default copy cycle)")
    replication.add_argument("--heads", type=_positive_int, nargs="+", default=None, metavar="H",
                             help="head counts (default 1 4 8 16)")
    replication.add_argument("--seq-len", type=_positive_int, default=None, metavar="T",
                             help="sequence length of training and analysis (default 32)")
    replication.add_argument("--epochs", type=_positive_int, default=None, help="default 2")
    replication.add_argument("--steps-per-epoch", type=_positive_int, default=None, help="default 100")
    replication.add_argument("--batch-size", type=_positive_int, default=None, help="default 32")
    replication.add_argument("--vocab-size", type=_positive_int, default=None, help="default 256")
    replication.add_argument("--d-model", type=_positive_int, default=None, help="default 64")
    replication.add_argument("--layers", type=_positive_int, default=None, help="default 4")
    replication.add_argument("--d-mlp", type=_positive_int, default=None, help="default 128")
    replication.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    reproduce.set_defaults(run=_run_reproduce)

    train = commands.add_parser(
        "train", help="train parameter-matched models over head counts",
        description="Train one model of the paper's family per head count on the copy or cycle "
                    "task; save each state_dict with a JSON record of its run.",
    )
    train.add_argument("--task", choices=("copy", "cycle"), default="copy")
    train.add_argument("--heads", type=_positive_int, nargs="+", default=[1, 4, 8, 16])
    train.add_argument("--epochs", type=_positive_int, default=10)
    train.add_argument("--steps-per-epoch", type=_positive_int, default=200)
    train.add_argument("--batch-size", type=_positive_int, default=32)
    train.add_argument("--seq-len", type=_positive_int, default=100, metavar="T")
    train.add_argument("--vocab-size", type=_positive_int, default=256)
    train.add_argument("--layers", type=_positive_int, default=4)
    train.add_argument("--seed", type=_seed, default=None, help="seed of the family (default 0)")
    train.add_argument("--seeds", type=_seed, nargs="+", default=None, metavar="S",
                       help="one family per seed, saved in DIR/seed{S}/ (instead of --seed)")
    train.add_argument("--out", default="runs", metavar="DIR")
    train.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    train.set_defaults(run=_run_train)

    optimize = commands.add_parser(
        "optimize", help="learned, uniform and optimal head weights side by side (§5)",
        description="Solve P3 (minimax fidelity weights, by sequential geometric programming or "
                    "branch and bound) and P1 (best mixing bound) for Example 2 or one layer of a "
                    "checkpoint, and compare them with the learned and uniform weights.",
    )
    optimize.add_argument("target", metavar="example2|CHECKPOINT")
    optimize.add_argument("--layer", type=int, default=0, help="layer of the checkpoint (default 0)")
    optimize.add_argument("--horizon", type=_positive_int, default=None, metavar="K",
                          help="horizon K (default 20 for example2, 100 for a checkpoint)")
    optimize.add_argument("--method", choices=("sgp", "bnb"), default="sgp")
    optimize.add_argument("--seed", type=_seed, default=0, help="seed of the random token sequence")
    optimize.add_argument("--time-limit", type=float, default=120.0, metavar="SECONDS",
                          help="budget for P3 (default 120 s)")
    optimize.add_argument("--json", action="store_true", help="print JSON")
    optimize.set_defaults(run=_run_optimize)

    check = commands.add_parser(
        "check", help="run the theorem modules of proofs/ (exact checks and hunts for counterexamples)",
        description="Run each theorem and conjecture of proofs/: its exact or symbolic check, and a hunt "
                    "for counterexamples to its property (Hypothesis, small-scope enumeration, structured "
                    "strategies, local search); every counterexample is verified in exact arithmetic. "
                    "Exit status 1 when a theorem (not a conjecture) is refuted.",
    )
    check.add_argument("theorems", nargs="*", metavar="THEOREM", help="names to run (default: all)")
    check.add_argument("--profile", choices=("ci", "thorough"), default="ci",
                       help="ci: fast and deterministic (default); thorough: long hunts, minutes per statement")
    check.add_argument("--no-hunts", action="store_true",
                       help="sample with Hypothesis only (the procedure of earlier versions)")
    check.add_argument("--proofs", default=None, metavar="DIR", help="folder of theorem modules")
    check.add_argument("--json", action="store_true", help="print JSON")
    check.set_defaults(run=_run_check)

    ablate = commands.add_parser(
        "ablate", help="predicted vs measured effects of removing each head",
        description="For each layer and head: the analyzer's predicted change of minimax fidelity (§2), "
                    "mixing time (§3) and amplification when the head is removed from the layer's head "
                    "system, the measured change of loss and accuracy when the head's contribution is "
                    "zeroed in the model, and their Spearman rank correlations (docs/interventions.md).",
    )
    _add_intervention_options(ablate)
    ablate.add_argument("--weights", choices=("learned", "uniform"), default="learned",
                        help="head weights of the analyzed systems (default: §1's learned weights)")
    ablate.add_argument("--report", metavar="DIR",
                        help="write index.md, index.html, report.json and a scatter plot into DIR")
    ablate.set_defaults(run=_run_ablate)

    reweight = commands.add_parser(
        "reweight", help="re-weight heads to the uniform or P3-optimal profile and measure the task",
        description="Scale each head's block of the out-projection so that the learned head weights (§1) "
                    "become uniform or P3-optimal (§5); report loss, accuracy and the analyzer's per-layer "
                    "numbers before and after (docs/interventions.md).",
    )
    _add_intervention_options(reweight)
    reweight.add_argument("--to", choices=("uniform", "optimal"), required=True)
    reweight.add_argument("--starts", type=_positive_int, default=4, metavar="N",
                          help="SGP starts of P3 for --to optimal (default 4)")
    reweight.set_defaults(run=_run_reweight)

    demo = commands.add_parser(
        "demo", help="the worked examples, then two small trained models analyzed",
        description="Print the worked examples; train (or load from the cache) a small single-head "
                    "and a small multi-head model on the copy task; analyze both and write a report.",
    )
    demo.add_argument("--out", default="demo-report", metavar="DIR")
    demo.add_argument("--cache", default=".cache/demo-models", metavar="DIR")
    demo.add_argument("--no-progress", action="store_true")
    demo.set_defaults(run=_run_demo)


def build_parser():
    """The argument parser of the ``dagtheory`` command.

    Examples
    --------
    >>> parser = build_parser()
    >>> args = parser.parse_args(["example2", "--horizon", "10", "--json"])
    >>> args.command, args.horizon, args.json
    ('example2', 10, True)
    >>> args = parser.parse_args(["analyze", "4_heads_copy.pt", "--samples", "8"])
    >>> args.inputs, args.samples, args.horizon, args.weights, args.eps
    (['4_heads_copy.pt'], 8, 100, 'learned', 0.25)
    """
    parser = _Parser(
        prog="dagtheory",
        description="The theory of multi-head attention as sink-rooted DAGs: "
                    "fidelity, mixing and head weights, exact and fast.",
    )
    parser.add_argument("--version", action="version", version=f"dagtheory {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser._subcommands = commands.choices
    example2 = commands.add_parser(
        "example2", help="Example 2 of the theory (§2): amplification by mixing two heads, exactly",
        description="Per-head and combined minimax fidelity of Example 2, the arg-min node and "
                    "step, and the amplification ratio, in exact rational arithmetic.",
    )
    example2.add_argument("--horizon", type=_positive_int, default=20, metavar="K",
                          help="horizon K (default 20)")
    example2.add_argument("--json", action="store_true",
                          help="print JSON (exact rationals as strings beside floats)")
    example2.add_argument("--plot", metavar="DIR",
                          help="also write the paper's Figure 3 panels as PNG files into DIR: "
                               "example2.png (all three) and example2_head1/head2/combined.png")
    example2.set_defaults(run=_run_example2)
    mixing = commands.add_parser(
        "mixing-example", help="the mixing instance of the theory (§3): a mixture that mixes faster",
        description="Exact mixing times, distances and the M1/M2/M3 bounds of §3's instance.",
    )
    mixing.add_argument("--json", action="store_true", help="print JSON")
    mixing.set_defaults(run=_run_mixing_example)
    _add_commands(commands)
    return parser


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"dagtheory: warning: {message}", file=sys.stderr if file is None else file)


def main(argv=None):
    """Run the ``dagtheory`` command; returns the exit status.

    Parameters
    ----------
    argv : list of str, optional
        The arguments after ``dagtheory``; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 2 for bad input (with a one-line message on standard
        error).

    Raises
    ------
    SystemExit
        From argument parsing (status 2 for bad arguments, 0 for ``--help`` and
        ``--version``), and with status 1 when ``check`` refutes a theorem.

    Examples
    --------
    >>> main(["example2"])
    Example 2 (theory §2): sources u, v, w = 0, 1, 2; sink τ = 3; weights (1/2, 1/2)
    <BLANKLINE>
    operator  minimax fidelity (K = 20)  ...
    ...
    combined  5/12 (0.4166666667)  ...
    <BLANKLINE>
    ratio ρ = combined / best head (head 1) = 10/9 (1.111111111): the system amplifies
    at the infinite horizon ρ = 10/9 (1.111111111)
    0

    A missing input is reported on standard error and gives status 2; a bad
    argument stops argument parsing:

    >>> main(["optimize", "no-such-file.pt"])
    2
    >>> main(["example2", "--horizon", "0"])
    Traceback (most recent call last):
    ...
    SystemExit: 2
    """
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = parser if args.command is None else parser._subcommands[args.command]
        command.error(f"unrecognized arguments: {' '.join(extra)}")
    if args.command is None:
        parser.print_help()
        return 0
    show, warnings.showwarning = warnings.showwarning, _one_line_warning
    try:
        _apply_memory_limit(args)
        text = args.run(args)
        if text is not None:
            print(text)
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except (DagTheoryError, ValueError, TypeError, OSError) as err:
        print(f"dagtheory {args.command}: error: {err}", file=sys.stderr)
        return 2
    finally:
        warnings.showwarning = show
    return 0


if __name__ == "__main__":
    sys.exit(main())
