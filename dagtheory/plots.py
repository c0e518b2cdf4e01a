r"""Figures: signal curves at the sink (§2) and per-layer bar charts.

The signal at the sink ``S_t(v) = [Δ^t]_{τ, v}`` (§2) is drawn as one curve
per token ``v`` over ``t = 1..K``, in the style of the paper's Figure 3. The
minimax fidelity

.. math:: φ_{\min}^K = \min_{v∈S} \max_{1≤t≤K} S_t(v)

is the height of the lowest peak among the sources ``S``: a dashed horizontal
line marks it, and a ring marks the arg-min node's peak ``(t, φ_min^K)``.
Per-layer numbers (e.g. :func:`dagtheory.analysis.summarize`) are drawn as
grouped bars with error bars.

Every figure is a :class:`matplotlib.figure.Figure` with an Agg canvas
attached, built without ``pyplot``, so no global backend state is touched.
matplotlib is imported only when a figure is made; ``import dagtheory`` does
not import it. Install it with ``pip install 'dagtheory[plot]'``.
"""

import math
import os
import secrets
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path

import numpy as np

from ._validation import check_steps
from .examples import paper_example2
from .exceptions import InvalidInputError, InvalidTypeError
from .fidelity import minimax_fidelity, signal_curves

__all__ = ["signal_curves_figure", "example2_figure", "layer_bars_figure", "save_figure"]

#: Nodes beyond this count are drawn thin and grey, except the arg-min node, node 0 and the sink.
DEFAULT_MAX_CURVES = 12

#: Resolution of the PNG files written by :func:`save_figure`.
SAVE_DPI = 150

_MISSING_MATPLOTLIB = "plots need matplotlib: pip install 'dagtheory[plot]'"
_OTHER_NODES = "0.72"


def _figure_class():
    """``matplotlib.figure.Figure``, or an ImportError that says how to install matplotlib."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(_MISSING_MATPLOTLIB) from err
    return Figure


def _new_figure(**options):
    """A constrained-layout Figure with an Agg canvas, made without pyplot."""
    figure = _figure_class()(layout="constrained", **options)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure)
    return figure


def _value_text(value):
    """``= 3/8 (0.375)`` for a short Fraction, ``≈ 0.25`` for a long one, ``= 0.375`` for a float."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return f"= {value.numerator}"
        if value.denominator < 10_000:
            return f"= {value} ({float(value):.4g})"
        return f"≈ {float(value):.4g}"
    return f"= {float(value):.4g}"


def _node_label(node, n):
    return f"v = {node} (sink)" if node == n - 1 else f"v = {node}"


def _node_colors(n, highlighted, colormaps):
    """One colour per node; with ``highlighted`` given, grey for every other node."""
    if highlighted is None:
        cmap = colormaps["tab10" if n <= 10 else "tab20"]
        return [cmap(v % cmap.N) for v in range(n)]
    colors = [_OTHER_NODES] * n
    for color, node in zip(("C0", "C2", "C3"), highlighted):
        colors[node] = color
    return colors


def _format_signal_axes(ax, horizon, top):
    """Linear axes over ``t = 1..K`` and ``[0, top]`` with a small margin, integer steps, labels."""
    from matplotlib.ticker import MaxNLocator

    top = top if top > 0 else 1.0
    pad = 0.02 * max(horizon - 1, 1)
    ax.set_xlim(1 - pad, horizon + pad)
    ax.set_ylim(-0.03 * top, 1.06 * top)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step t")
    ax.set_ylabel("S_t(v), share of token v's signal at the sink")


def _draw_signal_curves(ax, op, horizon, sources, *, max_curves=None):
    """Draw ``S_t(v)`` of every node, the ``φ_min^K`` line and the arg-min peak on ``ax``.

    Artists carry gids: ``"signal v"`` for node ``v``'s curve, ``"minimax"``
    for the dashed line and ``"peak"`` for the marker. No legend is drawn.

    Returns
    -------
    result : MinimaxResult
        ``φ_min^K`` of ``op`` over ``sources``.
    nodes : list of Artist
        Legend handles of the coloured curves (and one for the grey ones, if any).
    marks : list of Artist
        Legend handles of the ``φ_min^K`` line and the peak marker.
    """
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    curves = signal_curves(op, horizon)
    if curves.ndim != 2:
        raise InvalidInputError(
            f"a figure needs a single operator of shape (n, n); got a batch of shape {curves.shape[:-2]}"
        )
    result = minimax_fidelity(op, horizon, sources)
    values = np.asarray(curves, dtype=float)
    n = values.shape[-1]
    node, peak, steps = int(result.node), float(result.value), np.arange(1, horizon + 1)
    limit = DEFAULT_MAX_CURVES if max_curves is None else max_curves
    limit = check_steps(limit, name="max_curves", minimum=1)
    highlighted = None if n <= limit else sorted({0, n - 1, node})
    colors = _node_colors(n, highlighted, colormaps)
    dots = "." if horizon <= 30 else None
    lines = []
    for v in range(n):
        shown = highlighted is None or v in highlighted
        line, = ax.plot(steps, values[:, v], color=colors[v], label=_node_label(v, n), gid=f"signal {v}",
                        linewidth=1.6 if shown else 0.6, marker=dots if shown else None,
                        markersize=4, zorder=2 if shown else 1)
        lines.append(line)
    level = ax.axhline(peak, color="black", linestyle="--", linewidth=1, gid="minimax", zorder=3,
                       label=rf"$\varphi_{{\min}}^{{{horizon}}}$ {_value_text(result.value)} at v = {node}")
    ring, = ax.plot([int(result.t)], [peak], linestyle="none", marker="o", markersize=9, gid="peak",
                    markerfacecolor="none", markeredgecolor=colors[node], markeredgewidth=1.8, zorder=4,
                    label=f"peak of v = {node} at t = {int(result.t)}")
    _format_signal_axes(ax, horizon, max(float(values.max()), peak))
    if highlighted is None:
        return result, lines, [level, ring]
    others = Line2D([], [], color=_OTHER_NODES, linewidth=0.6, label=f"{n - len(highlighted)} other nodes")
    return result, [lines[v] for v in highlighted] + [others], [level, ring]


def signal_curves_figure(op, horizon=100, sources="non-sink", *, title=None, max_curves=None):
    """The signal at the sink ``S_t(v)`` of every node for ``t = 1..K`` (§2, the paper's Figure 3).

    One curve per node; a dashed line at the minimax fidelity ``φ_min^K``
    over ``sources``, labelled with its value and arg-min node; a ring at that
    node's peak ``(t, φ_min^K)``. Exact inputs are drawn as floats; the label
    keeps the exact value.

    Parameters
    ----------
    op : SinkDAG, HeadSystem or array_like of shape (n, n)
        A HeadSystem stands for its combined operator ``Δ̄(β)``.
    horizon : int
        ``K >= 1`` (default 100).
    sources : "non-sink", "all" or list of int
        The source set ``S`` of ``φ_min^K``, as for :func:`dagtheory.minimax_fidelity`.
    title : str, keyword-only, optional
        Axes title.
    max_curves : int, keyword-only, optional
        Largest number of nodes drawn each in its own colour (default 12). Beyond
        it only the arg-min node, node 0 and the sink are coloured and listed in
        the legend; the other nodes are drawn thin and grey.

    Returns
    -------
    matplotlib.figure.Figure
        One axes. Curves have gids ``"signal 0"``, ``"signal 1"``..., the
        dashed line ``"minimax"`` and the peak marker ``"peak"``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``horizon`` or ``max_curves`` is not an int.
    InvalidInputError
        If ``op`` is a batch of operators or not valid attention, or
        ``horizon``, ``sources`` or ``max_curves`` is out of range.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> figure = signal_curves_figure(paper_example2().heads[0], horizon=20, title="head 1")
    >>> ax = figure.axes[0]
    >>> [line.get_label() for line in ax.get_lines()][:4], ax.get_xlabel()
    (['v = 0', 'v = 1', 'v = 2', 'v = 3 (sink)'], 'step t')
    >>> {line.get_gid(): float(line.get_ydata()[0]) for line in ax.get_lines()[4:]}
    {'minimax': 0.375, 'peak': 0.375}
    """
    figure = _new_figure(figsize=(9.0, 4.6))
    ax = figure.add_subplot()
    _, nodes, marks = _draw_signal_curves(ax, op, horizon, sources, max_curves=max_curves)
    ax.legend(handles=nodes + marks, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    if title is not None:
        ax.set_title(title)
    return figure


def example2_figure(horizon=20):
    """§2's Example 2: ``S_t(v)`` of head 1, head 2 and their combination, side by side.

    Parameters
    ----------
    horizon : int
        ``K >= 1`` (default 20, the horizon of the worked example).

    Returns
    -------
    matplotlib.figure.Figure
        Three axes sharing the y axis, drawn as in :func:`signal_curves_figure`.

    Examples
    --------
    >>> figure = example2_figure()
    >>> [ax.get_title() for ax in figure.axes]
    ['head 1', 'head 2', 'combined, β = (1/2, 1/2)']
    >>> [ax.get_lines()[-2].get_ydata()[0] for ax in figure.axes]
    [0.375, 0.2499999970..., 0.4166666666...]
    """
    system = paper_example2()
    weights = ", ".join(str(w) for w in system.weights)
    panels = [(f"head {h + 1}", head) for h, head in enumerate(system.heads)]
    panels.append((f"combined, β = ({weights})", system.combined()))
    figure = _new_figure(figsize=(13.0, 4.4))
    axes = figure.subplots(1, len(panels), sharey=True)
    results = []
    for ax, (label, op) in zip(axes, panels):
        result, nodes, marks = _draw_signal_curves(ax, op, horizon, "non-sink")
        ax.legend(handles=marks, loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize="small",
                  frameon=False)
        ax.set_title(label)
        results.append(result)
    figure.legend(handles=nodes, loc="outside right upper", fontsize="small", frameon=False)
    for ax in axes[1:]:
        ax.set_ylabel("")
    best = max(result.value for result in results[:-1])
    ratio = f"; ρ {_value_text(results[-1].value / best)}" if best > 0 else ""
    figure.suptitle(f"Example 2 (theory §2): signal at the sink τ = {system.n - 1}, K = {horizon}{ratio}")
    return figure


def _check_series(series):
    """``series`` as a list of ``(label, mean, std)`` float arrays of one length ``L``."""
    if not isinstance(series, Mapping):
        raise InvalidTypeError(
            f"series must be a dict of label -> {{'mean', 'std'}}; got {type(series).__name__}"
        )
    if not series:
        raise InvalidInputError("series must hold at least one entry; got an empty dict")
    checked, length = [], None
    for label, entry in series.items():
        if not isinstance(entry, Mapping) or "mean" not in entry or "std" not in entry:
            keys = sorted(entry) if isinstance(entry, Mapping) else type(entry).__name__
            raise InvalidInputError(f'series[{label!r}] needs "mean" and "std" arrays; got {keys}')
        arrays = []
        for key in ("mean", "std"):
            try:
                array = np.asarray(entry[key], dtype=float)
            except (TypeError, ValueError) as err:
                raise InvalidInputError(
                    f'series[{label!r}]["{key}"] must be numbers; got {entry[key]!r}'
                ) from err
            if length is None and array.ndim == 1 and array.size:
                length = array.shape[0]
            if array.ndim != 1 or array.shape[0] != length:
                expected = f"({length},), one value per layer" if length else "(L,) with L >= 1 layers"
                raise InvalidInputError(f'series[{label!r}]["{key}"] must have shape {expected}; '
                                        f"got shape {array.shape}")
            arrays.append(array)
        checked.append((str(label), *arrays))
    return checked


def _value_range(checked, log):
    """Axis limits ``(bottom, top)`` that hold every finite bar and error bar, with headroom."""
    spread = [np.where(np.isfinite(std), std, 0) for _, _, std in checked]
    means = np.concatenate([mean for _, mean, _ in checked])
    highs = np.concatenate([mean + s for (_, mean, _), s in zip(checked, spread)])
    lows = np.concatenate([mean - s for (_, mean, _), s in zip(checked, spread)])
    finite = np.isfinite(means)
    if log:
        positive = means[finite & (means > 0)]
        if positive.size == 0:
            return 0.1, 10.0
        return float(positive.min()) / 2, float(highs[finite].max()) * 3
    if not finite.any():
        return 0.0, 1.0
    high, low = float(highs[finite].max()), float(lows[finite].min())
    return min(0.0, 1.1 * low), (1.18 * high if high > 0 else 1.0)


def _series_color(index):
    from matplotlib import colormaps, colors

    return colors.to_rgba(colormaps["tab10"](index % 10))


def _draw_series(ax, x, label, mean, std, *, width, color, top):
    """One series: bars with error bars, and hatched full-height bars where the mean is not finite."""
    finite = np.isfinite(mean)
    bars = ax.bar(x, np.where(finite, mean, top), width=width, color=color, label=label,
                  edgecolor=color, linewidth=0.8)
    for patch, position, value in zip(bars.patches, x, mean):
        if math.isfinite(value):
            continue
        patch.set_facecolor((*color[:3], 0.25))
        patch.set_hatch("///")
        patch.set_gid("nonfinite")
        text = "> budget" if math.isnan(value) else f"{value:g}"
        ax.annotate(text, (position, top), xytext=(0, -4), textcoords="offset points", rotation=90,
                    ha="center", va="top", fontsize="small",
                    bbox={"boxstyle": "round,pad=0.2", "facecolor": "white", "edgecolor": "none"})
    shown = finite & np.isfinite(std)
    if shown.any():
        ax.errorbar(x[shown], mean[shown], yerr=std[shown], fmt="none", ecolor="black", elinewidth=1,
                    capsize=3, label=f"_{label} std")
    return bars


def layer_bars_figure(series, *, metric_label, title=None, log=False):
    """Grouped bars per layer, one bar per series, with one-standard-deviation error bars.

    Parameters
    ----------
    series : dict
        ``{label: {"mean": array (L,), "std": array (L,)}}``, e.g. one entry of
        :func:`dagtheory.analysis.summarize` per model (``"1 head"``, ``"4 heads"``).
        A ``nan`` std draws no error bar. A non-finite mean draws a hatched bar
        up to the top of the axis, marked ``inf`` (``inf``) or ``> budget``
        (``nan``: beyond the step budget, as :func:`~dagtheory.analysis.summarize` reports).
    metric_label : str, keyword-only
        The y-axis label.
    title : str, keyword-only, optional
    log : bool, keyword-only
        Logarithmic y axis (non-positive means then have no visible bar).

    Returns
    -------
    matplotlib.figure.Figure
        One axes; groups ``"layer 0"``..``"layer L-1"``; ``ax.containers`` holds
        one bar container per series (in order, labelled) and its error bars.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``series`` is not a dict.
    InvalidInputError
        If ``series`` is empty, an entry lacks ``"mean"`` or ``"std"``, or the
        arrays do not all have shape ``(L,)``.

    Examples
    --------
    >>> import numpy as np
    >>> series = {"1 head": {"mean": np.array([0.5, 0.25]), "std": np.array([0.1, np.nan])},
    ...           "4 heads": {"mean": np.array([0.75, np.inf]), "std": np.array([0.05, np.nan])}}
    >>> figure = layer_bars_figure(series, metric_label="minimax fidelity")
    >>> ax = figure.axes[0]
    >>> [t.get_text() for t in ax.get_xticklabels()], [c.get_label() for c in ax.containers[::2]]
    (['layer 0', 'layer 1'], ['1 head', '4 heads'])
    >>> [float(bar.get_height()) for bar in ax.containers[0]]
    [0.5, 0.25]
    """
    checked = _check_series(series)
    if not isinstance(metric_label, str):
        raise InvalidTypeError(f"metric_label must be a str; got {metric_label!r}")
    count, layers = len(checked), checked[0][1].shape[0]
    figure = _new_figure(figsize=(min(14.0, max(6.5, 2.5 + layers * (0.28 * count + 0.3))), 4.2))
    ax = figure.add_subplot()
    if log:
        ax.set_yscale("log")
    bottom, top = _value_range(checked, log)
    width = 0.8 / count
    groups = np.arange(layers, dtype=float)
    for index, (label, mean, std) in enumerate(checked):
        _draw_series(ax, groups + (index - (count - 1) / 2) * width, label, mean, std,
                     width=width, color=_series_color(index), top=top)
    ax.set_ylim(bottom, top)
    ax.set_xticks(groups, [f"layer {i}" for i in range(layers)], rotation=45 if layers > 8 else 0)
    ax.set_ylabel(metric_label)
    ax.yaxis.grid(True, color="0.9", zorder=0)
    ax.set_axisbelow(True)
    if title is not None:
        ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    return figure


def save_figure(figure, path):
    """Write ``figure`` as a PNG to ``path`` atomically, creating parent folders.

    The image goes to a temporary file in the same folder first and replaces
    ``path`` only when complete, so a reader never sees a partial file.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    path : str or os.PathLike
        Written as PNG whatever its suffix.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    InvalidTypeError
        If ``figure`` is not a matplotlib Figure.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> path = save_figure(example2_figure(horizon=5), folder / "figures" / "example2.png")
    >>> path.read_bytes()[:8], sorted(p.name for p in path.parent.iterdir())
    (b'\\x89PNG\\r\\n\\x1a\\n', ['example2.png'])
    """
    if not isinstance(figure, _figure_class()):
        raise InvalidTypeError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        with open(temporary, "xb") as stream:  # the usual permissions, unlike mkstemp's 0600
            figure.savefig(stream, format="png", dpi=SAVE_DPI)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return path
