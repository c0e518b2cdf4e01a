"""The analyzer's report as a self-contained folder: Markdown, HTML and PNG figures.

:func:`write_report_folder` takes a report of :func:`dagtheory.experiment.analyze_inputs`
(or of ``dagtheory analyze``) and writes, into one folder::

    index.md          the tables of the report (docs/analyzing.md) and the figures
    index.html        the same page rendered to HTML (needs the ``markdown`` package)
    report.json       the report itself
    figures/*.png     the figures

The figures are, for every model, of the first input sample:

* per layer, the signal at the sink ``S_t(v)`` of the combined operator
  ``Δ̄(β)`` with the ``φ_min^K`` line (§2, the paper's Figure 3 style);
* per layer, the absorption CDF ``F_t(j)`` of every start node of the mixture
  walk ``P̄(α)`` with ``T_mix(ε)`` marked (§3);
* per layer, a heat map of every head's attention with its DAG drawn over it (§1);
* when the report holds the depth analysis, the depth signal ``S^(ℓ)(v)`` across
  the stack (§4);

and, over models, bars per layer of the minimax fidelity, the fidelity proxy,
the mixing time and the mixing proxy, with one bar per model (per head count
for models named like the paper's checkpoints, ``4_heads_copy``), with error
bars over samples.

Everything is written atomically (a temporary file, then a rename), and every
link in the pages is relative, so the folder can be moved or archived whole.
"""

import html
import re
from pathlib import Path

import numpy as np

from .depth import depth_signal
from .exceptions import InvalidInputError, MissingDependencyError
from .experiment import (
    _PAPER_NAME,
    _by_task,
    _heads_label,
    _input_attention,
    load_input,
    markdown_report,
    paper_tables,
    write_text,
)
from .graph import HeadSystem
from .report import to_json

__all__ = ["write_report_folder", "render_html", "BAR_METRICS"]

#: The per-layer metrics drawn as bars, with their axis labels.
BAR_METRICS = (
    ("minimax_fidelity", "φ_min non-sink (§2)"),
    ("fidelity_proxy", "fidelity proxy % (§6)"),
    ("mixing_time", "T_mix(ε) of P̄(α) (§3)"),
    ("mixing_proxy", "mixing proxy (§6, steps)"),
)

_HTML_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       line-height: 1.45; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; font-size: 0.9em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }}
th {{ background: #f3f3f3; }}
td:first-child, th:first-child {{ text-align: left; }}
img {{ max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }}
code {{ background: #f6f6f6; padding: 0 0.2em; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""


def render_html(markdown_text, title="dagtheory report"):
    """A standalone HTML page of ``markdown_text`` (tables included), with a small style sheet.

    Parameters
    ----------
    markdown_text : str
    title : str
        The page's ``<title>``.

    Returns
    -------
    str

    Raises
    ------
    MissingDependencyError
        If the ``markdown`` package is not installed (``pip install 'dagtheory[plot]'``).

    Examples
    --------
    >>> page = render_html("# Title\\n\\n| a | b |\\n|---|---|\\n| 1 | 2 |\\n")
    >>> "<h1" in page and "<table>" in page and "<td>2</td>" in page
    True
    """
    try:
        import markdown
    except ImportError as err:
        raise MissingDependencyError(
            "the HTML report needs the markdown package: pip install 'dagtheory[plot]'") from err
    body = markdown.markdown(markdown_text, extensions=["tables"])
    return _HTML_PAGE.format(title=html.escape(title), body=body)


def write_report_folder(report, out_dir, *, tokens=None, seq_len=None, heads=None, figures=True):
    """Write ``report`` into the folder ``out_dir``: index.md, index.html, report.json, figures/.

    The figures of each model are drawn from its first input sample, read
    again from the model's ``source`` (a checkpoint is run once more on the
    first token sequence the analyzer used, so ``tokens`` and ``seq_len`` must
    be those given to the analyzer).

    Parameters
    ----------
    report : dict
        A report of :func:`dagtheory.experiment.analyze_inputs` or
        :func:`dagtheory.scale.analyze_at_scale`, in memory.
    out_dir : str or Path
        Created if needed; files of an earlier report there are replaced.
    tokens, seq_len, heads : optional, keyword-only
        As given to the analyzer.
    figures : bool, keyword-only
        Draw the figures (needs matplotlib); ``False`` writes the pages only.

    Returns
    -------
    Path
        The path of ``index.md``.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from dagtheory.examples import paper_example2
    >>> from dagtheory.experiment import analyze_inputs
    >>> folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "example2.npy", np.asarray(paper_example2().attention, dtype=float))
    >>> report = analyze_inputs([folder / "example2.npy"], horizon=20, gamma=0.5)
    >>> index = write_report_folder(report, folder / "report")
    >>> sorted(p.name for p in index.parent.iterdir())
    ['figures', 'index.html', 'index.md', 'report.json']
    >>> sorted(p.name for p in (index.parent / "figures").iterdir())
    ['bars_fidelity_proxy.png', 'bars_minimax_fidelity.png', 'bars_mixing_proxy.png', 'bars_mixing_time.png',
     'example2_absorption_layer0.png', 'example2_attention_layer0.png', 'example2_depth.png',
     'example2_signal_layer0.png']
    """
    out_dir = Path(out_dir)
    settings = report["settings"]
    sections = _bar_sections(report, out_dir) if figures else []
    for model in report["models"] if figures else ():
        sections += _model_sections(model, settings, out_dir, tokens, seq_len, heads)
    text = _index_markdown(report, sections)
    write_text(out_dir / "report.json", to_json(report) + "\n")
    write_text(out_dir / "index.html", render_html(text, "dagtheory analysis"))
    return write_text(out_dir / "index.md", text)


def _index_markdown(report, sections):
    """The page: the analyzer's tables, the paper's when its checkpoints are there, then the figures."""
    parts = [markdown_report(report).rstrip("\n")]
    if _by_task(report):
        parts.append(paper_tables(report).replace("# The paper's experiment, reproduced",
                                                  "# The paper's comparisons", 1).rstrip("\n"))
    if sections:
        parts.append("# Figures\n\nEach model's figures are of its first input sample; bars are mean ± one "
                     "standard deviation over samples.")
        parts += sections
    return "\n\n".join(parts) + "\n"


def _image(path, out_dir, caption):
    return f"![{caption}]({path.relative_to(out_dir).as_posix()})"


def _file_name(text):
    """A model name as a safe file-name stem."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("._") or "model"


def _bar_groups(report):
    """``[(group, {label: model})]``: one group per task of paper-named models, one for the rest."""
    groups = [(task, {_heads_label(h): m for h, m in sorted(models.items())})
              for task, models in sorted(_by_task(report).items())]
    rest = {m["name"]: m for m in report["models"] if not _PAPER_NAME.match(m["name"])}
    if rest:
        groups.append(("", rest))
    return groups


def _bar_sections(report, out_dir):
    from .plots import layer_bars_figure, save_figure

    sections = []
    for group, models in _bar_groups(report):
        lines = [f"## Per layer, {'task ' + group if group else 'models'} compared"]
        for metric, label in BAR_METRICS:
            series = {name: {"mean": _layer_values(model, metric, "mean"),
                             "std": _layer_values(model, metric, "std")} for name, model in models.items()}
            title = f"{group}: {label} per layer" if group else f"{label} per layer"
            path = out_dir / "figures" / f"bars_{group + '_' if group else ''}{metric}.png"
            save_figure(layer_bars_figure(series, metric_label=label, title=title,
                                          log=metric == "mixing_time" and _spread(series)), path)
            lines.append(_image(path, out_dir, title))
        sections.append("\n\n".join(lines))
    return sections


def _layer_values(model, metric, key):
    return np.array([float(layer[metric][key]) for layer in model["layers"]], dtype=float)


def _spread(series):
    """Whether finite positive means span more than two decades (then a log axis reads better)."""
    values = np.concatenate([s["mean"] for s in series.values()])
    values = values[np.isfinite(values) & (values > 0)]
    return values.size > 1 and values.max() / values.min() > 100


def _first_sample(model, settings, tokens, seq_len, heads):
    """Attention ``(L, H, T, T)`` of the model's first sample and its head weights ``(L, H)``."""
    model_input = load_input(model["source"], heads=heads)
    first = None if tokens is None else np.atleast_2d(tokens)[:1]
    attention, _, _ = _input_attention(model_input, first, settings["seed"], 1, seq_len, "uniform")
    attention = np.asarray(attention, dtype=float)
    attention = attention.reshape((1,) * (5 - attention.ndim) + attention.shape)[0]
    weights = np.asarray(model["weights"], dtype=float)
    if attention.shape[:2] != weights.shape:
        raise InvalidInputError(
            f"{model['source']}: its attention has (layers, heads) = {attention.shape[:2]} now but "
            f"{weights.shape} in the report; was the file changed?"
        )
    return attention, weights


def _model_sections(model, settings, out_dir, tokens, seq_len, heads):
    from .plots import (absorption_cdf_figure, attention_heatmap_figure, depth_signal_figure, save_figure,
                        signal_curves_figure)

    attention, weights = _first_sample(model, settings, tokens, seq_len, heads)
    stem, name = _file_name(model["name"]), model["name"]
    figures_dir = out_dir / "figures"
    lines = [f"## {name}"]
    for layer in range(attention.shape[0]):
        system = HeadSystem.from_attention(attention[layer], weights[layer])
        drawn = [
            (f"signal_layer{layer}", signal_curves_figure(
                system, settings["horizon"], title=f"{name}, layer {layer}: S_t(v) of Δ̄(β)")),
            (f"absorption_layer{layer}", absorption_cdf_figure(
                system.mixture_walk(), eps=settings["eps"],
                title=f"{name}, layer {layer}: absorption CDF of P̄(α)")),
            (f"attention_layer{layer}", attention_heatmap_figure(
                attention[layer], title=f"{name}, layer {layer}: attention and DAG of each head")),
        ]
        lines.append(f"### Layer {layer}")
        for suffix, figure in drawn:
            path = figures_dir / f"{stem}_{suffix}.png"
            save_figure(figure, path)
            lines.append(_image(path, out_dir, figure.axes[0].get_title() or suffix))
    if "depth" in model:
        combined = np.einsum("lh,lhij->lij", weights, attention)
        depth = depth_signal(combined, model["depth"]["gamma"])
        path = figures_dir / f"{stem}_depth.png"
        figure = depth_signal_figure(depth, title=f"{name}: depth signal across the stack",
                                     log=_sink_dominates(depth.signal))
        save_figure(figure, path)
        lines += ["### Across the stack (§4)", _image(path, out_dir, f"{name}: depth signal")]
    return ["\n\n".join(lines)]


def _sink_dominates(signal):
    """Whether every non-sink share is below a tenth of the largest share (then a log axis reads better)."""
    signal = np.asarray(signal, dtype=float)
    return bool(signal[..., :-1].max() < 0.1 * signal.max())
