r"""Figures: signal curves at the sink (§2), absorption (§3), attention graphs (§1), depth (§4), bars.

The signal at the sink ``S_t(v) = [Δ^t]_{τ, v}`` (§2) is drawn as one curve
per token ``v`` over ``t = 1..K``, in the style of the paper's Figure 3. The
minimax fidelity

.. math:: φ_{\min}^K = \min_{v∈S} \max_{1≤t≤K} S_t(v)

is the height of the lowest peak among the sources ``S``: a dashed horizontal
line marks it, and a ring marks the arg-min node's peak ``(t, φ_min^K)``.
Per-layer numbers (e.g. :func:`dagtheory.analysis.summarize`) are drawn as
grouped bars with error bars.

The other figures: :func:`absorption_cdf_figure` draws a walk's absorption CDF
``F_t(j)`` with the ``1 - ε`` level and ``T_mix(ε)`` (§3);
:func:`attention_heatmap_figure` draws each head's attention as a heat map with
its graph ``G(A, θ)`` over it (§1); :func:`depth_signal_figure` draws the depth
signal ``S^(ℓ)(v)`` over the layers of a stack (§4), like the signal curves;
:func:`effects_scatter_figure` draws predicted against measured effects of
removing each head, one colour per layer.

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

from ._validation import check_attention, check_eps, check_steps, check_threshold, is_exact
from .depth import DepthSignal
from .examples import paper_example2
from .exceptions import InvalidInputError, InvalidTypeError
from .fidelity import minimax_fidelity, signal_curves
from .graph import HeadSystem, SinkDAG
from .markov import _walk, absorption_cdf, mixing_time

__all__ = [
    "signal_curves_figure",
    "example2_figure",
    "layer_bars_figure",
    "absorption_cdf_figure",
    "attention_heatmap_figure",
    "depth_signal_figure",
    "effects_scatter_figure",
        "save_figure",
]

#: Nodes beyond this count are drawn thin and grey, except the arg-min node, node 0 and the sink.
DEFAULT_MAX_CURVES = 12

#: Largest horizon :func:`absorption_cdf_figure` picks by itself.
AUTO_HORIZON_CAP = 1000

#: Resolution of the PNG files written by :func:`save_figure`.
SAVE_DPI = 150

_MISSING_MATPLOTLIB = "plots need matplotlib: pip install 'dagtheory[plot]'"
_OTHER_NODES = "0.72"
_EDGE_RGB = (0.85, 0.33, 0.05)
_HEATMAP_CMAP = "Blues"
_SIGNAL_LABEL = "S_t(v), share of token v's signal at the sink"


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


def _format_signal_axes(ax, horizon, top, *, xlabel="step t", ylabel=_SIGNAL_LABEL):
    """Linear axes over ``1..K`` and ``[0, top]`` with a small margin, integer steps, labels."""
    from matplotlib.ticker import MaxNLocator

    top = top if top > 0 else 1.0
    pad = 0.02 * max(horizon - 1, 1)
    ax.set_xlim(1 - pad, horizon + pad)
    ax.set_ylim(-0.03 * top, 1.06 * top)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)


def _highlighted(count, limit, keep):
    """``None`` when all ``count`` curves get colours, else the sorted nodes ``keep`` that do."""
    limit = DEFAULT_MAX_CURVES if limit is None else limit
    limit = check_steps(limit, name="max_curves", minimum=1)
    return None if count <= limit else sorted(set(keep))


def _node_lines(ax, x, values, nodes, colors, highlighted, *, gid, label, marker, drawstyle="default"):
    """One line per node of ``nodes`` (column ``v`` of ``values``), thin and behind unless highlighted."""
    lines = {}
    for v in nodes:
        shown = highlighted is None or v in highlighted
        line, = ax.plot(x, values[:, v], color=colors[v], label=label(v), gid=f"{gid} {v}",
                        drawstyle=drawstyle, linewidth=1.6 if shown else 0.6,
                        marker=marker if shown else None, markersize=4, zorder=2 if shown else 1)
        lines[v] = line
    return lines


def _legend_nodes(lines, highlighted):
    """Legend handles: every line, or the highlighted ones and one for the grey rest."""
    from matplotlib.lines import Line2D

    if highlighted is None:
        return list(lines.values())
    others = Line2D([], [], color=_OTHER_NODES, linewidth=0.6,
                    label=f"{len(lines) - len(highlighted)} other nodes")
    return [lines[v] for v in highlighted] + [others]


def _draw_peak_curves(ax, x, values, minimax, *, max_curves, level_label, peak_label, marker):
    """Curves of every node, a dashed line at ``minimax.value`` and a ring at the arg-min node's peak.

    ``minimax`` has ``value``, ``node`` and ``at`` (the x of the peak). Curves
    have gids ``"signal v"``; the line ``"minimax"``, the ring ``"peak"``.
    Returns the legend handles of the nodes and of the two marks.
    """
    from matplotlib import colormaps

    n = values.shape[-1]
    node, peak = int(minimax.node), float(minimax.value)
    highlighted = _highlighted(n, max_curves, {0, n - 1, node})
    colors = _node_colors(n, highlighted, colormaps)
    lines = _node_lines(ax, x, values, range(n), colors, highlighted, gid="signal",
                        label=lambda v: _node_label(v, n), marker=marker)
    level = ax.axhline(peak, color="black", linestyle="--", linewidth=1, gid="minimax", zorder=3,
                       label=f"{level_label} {_value_text(minimax.value)} at v = {node}")
    ring, = ax.plot([minimax.at], [peak], linestyle="none", marker="o", markersize=9, gid="peak",
                    markerfacecolor="none", markeredgecolor=colors[node], markeredgewidth=1.8, zorder=4,
                    label=peak_label, clip_on=False)
    return _legend_nodes(lines, highlighted), [level, ring]


class _Peak:
    """The minimax mark of a figure: value, arg-min node and the x of its peak."""

    def __init__(self, value, node, at):
        self.value, self.node, self.at = value, int(node), int(at)


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
    curves = signal_curves(op, horizon)
    if curves.ndim != 2:
        raise InvalidInputError(
            f"a figure needs a single operator of shape (n, n); got a batch of shape {curves.shape[:-2]}"
        )
    result = minimax_fidelity(op, horizon, sources)
    values = np.asarray(curves, dtype=float)
    peak = _Peak(result.value, result.node, result.t)
    nodes, marks = _draw_peak_curves(
        ax, np.arange(1, horizon + 1), values, peak, max_curves=max_curves,
        level_label=rf"$\varphi_{{\min}}^{{{horizon}}}$", marker="." if horizon <= 30 else None,
        peak_label=f"peak of v = {peak.node} at t = {peak.at}")
    _format_signal_axes(ax, horizon, max(float(values.max()), float(result.value)))
    return result, nodes, marks


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


def _mixing_marks(walk, eps, horizon):
    """``T_mix(ε)`` within the budget (``nan`` beyond it, ``inf`` if never) and the horizon ``K``."""
    budget = max(AUTO_HORIZON_CAP, 0 if horizon is None else horizon)
    steps = mixing_time(walk, eps, max_steps=budget, over_budget="nan")
    if horizon is not None:
        return steps, horizon
    if not math.isfinite(steps):
        return steps, AUTO_HORIZON_CAP
    return steps, min(AUTO_HORIZON_CAP, steps + max(5, math.ceil(steps / 2)))


def _mixing_label(steps, eps, horizon):
    """``T_mix(ε) = 10``, ``= ∞``, ``> 1000`` or ``= 40, beyond K``."""
    name = f"$T_{{mix}}$({_short(eps)})"
    if math.isnan(steps):
        return f"{name} > {max(AUTO_HORIZON_CAP, horizon)}"
    if math.isinf(steps):
        return f"{name} = ∞ (a node never reaches τ)"
    return f"{name} = {steps}" + (f", beyond K = {horizon}" if steps > horizon else "")


def _short(value):
    """``1/4`` for a Fraction, ``0.25`` for a float."""
    return str(value) if isinstance(value, Fraction) else f"{float(value):g}"


def _draw_mixing_marks(ax, envelope_x, envelope, eps, steps, horizon):
    """The ``min_j F_t(j)`` band, the ``1 - ε`` level and the ``T_mix(ε)`` marker; their handles.

    The marker's label sits at its foot: right of it, below ``1 - ε``, every
    curve has already passed the level, so that corner is empty.
    """
    from matplotlib.lines import Line2D

    bottom, = ax.plot(envelope_x, envelope, color="black", alpha=0.3, linewidth=6, drawstyle="steps-post",
                      solid_joinstyle="miter", gid="envelope", zorder=1.5,
                      label=r"$\mathrm{min}_j\, F_t(j) = 1 - d(t)$")
    level = ax.axhline(float(1 - eps), color="black", linestyle="--", linewidth=1, gid="level", zorder=3,
                       label=f"1 − ε {_value_text(1 - eps)}")
    label = _mixing_label(steps, eps, horizon)
    if not math.isfinite(steps) or steps > horizon:
        return [bottom, level, Line2D([], [], linestyle="none", label=label)]
    marker = ax.axvline(steps, color="C3", linestyle=":", linewidth=1.6, gid="tmix", zorder=3, label=label)
    right = steps <= 0.7 * horizon
    ax.annotate(label, (steps, 0.0), xytext=(5 if right else -5, 5), textcoords="offset points",
                ha="left" if right else "right", va="bottom", color="C3", fontsize="small", gid="tmix label")
    return [bottom, level, marker]


def _draw_cdf_curves(ax, values, max_curves):
    """Step curves ``F_t(j)`` of the start nodes ``j ≠ τ``; their legend handles."""
    from matplotlib import colormaps

    horizon, sources = values.shape[0] - 1, values.shape[1] - 1
    slowest = int(np.argmin(values[:, :-1].sum(axis=0)))
    highlighted = _highlighted(sources, max_curves, {0, slowest})
    colors = _node_colors(sources, highlighted, colormaps)
    label = (lambda j: f"j = {j}") if highlighted is None else \
        (lambda j: f"j = {j} (slowest)" if j == slowest else f"j = {j}")
    lines = _node_lines(ax, np.arange(horizon + 1), values, range(sources), colors, highlighted, gid="cdf",
                        label=label, marker="." if horizon <= 30 else None, drawstyle="steps-post")
    return _legend_nodes(lines, highlighted)


def _format_cdf_axes(ax, horizon):
    """Linear axes over ``t = 0..K`` and ``[0, 1]`` with a small margin, integer steps, labels."""
    from matplotlib.ticker import MaxNLocator

    pad = 0.02 * max(horizon, 1)
    ax.set_xlim(-pad, horizon + pad)
    ax.set_ylim(-0.03, 1.06)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("step t")
    ax.set_ylabel("F_t(j), share of walks from j at τ by step t")


def absorption_cdf_figure(walk, horizon=None, *, eps=0.25, title=None, max_curves=DEFAULT_MAX_CURVES):
    """The absorption CDF ``F_t(j) = [P^t]_{j, τ}`` of every start node for ``t = 0..K`` (§3).

    One step curve per start node ``j ≠ τ`` (the sink's is constantly 1 and is
    left out); a wide grey band under the slowest node at each step,
    ``min_j F_t(j) = 1 - d(t)``; a dashed line at ``1 - ε``; and a dotted
    vertical marker at the mixing time ``T_mix(ε)``, the first step where the
    band reaches the dashed line, labelled with its value. Exact walks
    are computed exactly and drawn as floats.

    Parameters
    ----------
    walk : array_like of shape (n, n), SinkDAG or HeadSystem
        A forward walk ``P`` (upper-triangular, row-stochastic, sink absorbing),
        or what :func:`dagtheory.absorption_cdf` takes for one: a SinkDAG's walk,
        a HeadSystem's mixture walk ``P̄`` at its weights.
    horizon : int, optional
        ``K >= 1``. ``None`` (default) picks ``K = T_mix(ε) + max(5, ⌈T_mix(ε)/2⌉)``,
        at most :data:`AUTO_HORIZON_CAP` (1000); ``K`` is the cap when the walk does
        not mix within it or never mixes (a trapped or cut-off node).
    eps : float or Fraction, keyword-only
        ``0 < ε < 1`` (default 1/4).
    title : str, keyword-only, optional
        Axes title.
    max_curves : int, keyword-only
        Largest number of start nodes drawn each in its own colour (default 12).
        Beyond it only node 0 and the slowest start node, the one with the
        smallest ``Σ_{t≤K} F_t(j)`` (the latest expected arrival), are coloured;
        the others are thin and grey.

    Returns
    -------
    matplotlib.figure.Figure
        One axes. Curves have gids ``"cdf 0"``..``"cdf n-2"``, the band
        ``"envelope"``, the dashed line ``"level"`` and the marker ``"tmix"``
        (absent when ``T_mix(ε)`` is infinite or beyond ``K``; the legend then
        says why).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``horizon``, ``eps`` or ``max_curves`` has the wrong type.
    InvalidInputError
        If ``walk`` is a batch or not a forward walk, or an option is out of range.

    Warns
    -----
    TrappedNodeWarning
        When a node never reaches the sink, as :func:`dagtheory.mixing_time` does.

    Examples
    --------
    §3's instance: each head mixes in 10 steps, so ``K = 10 + 5``.

    >>> from dagtheory.examples import mixing_synergy
    >>> figure = absorption_cdf_figure(mixing_synergy().heads[0])
    >>> ax = figure.axes[0]
    >>> len(figure.axes), [line.get_gid() for line in ax.get_lines()][:4]
    (1, ['cdf 0', 'cdf 1', 'cdf 2', 'cdf 3'])
    >>> marker = [line for line in ax.get_lines() if line.get_gid() == "tmix"][0]
    >>> marker.get_xdata()[0], marker.get_label(), int(ax.get_lines()[0].get_xdata()[-1])
    (10, '$T_{mix}$(1/4) = 10', 15)
    """
    walk = _walk(walk)
    if walk.ndim != 2:
        raise InvalidInputError(
            f"a figure needs a single walk of shape (n, n); got a batch of shape {walk.shape[:-2]}"
        )
    horizon = None if horizon is None else check_steps(horizon, name="horizon", minimum=1)
    eps = check_eps(eps, exact=is_exact(walk))
    steps, horizon = _mixing_marks(walk, eps, horizon)
    values = np.asarray(absorption_cdf(walk, horizon), dtype=float)
    figure = _new_figure(figsize=(9.0, 4.6))
    ax = figure.add_subplot()
    nodes = _draw_cdf_curves(ax, values, max_curves)
    marks = _draw_mixing_marks(ax, np.arange(horizon + 1), values[:, :-1].min(axis=1), eps, steps, horizon)
    _format_cdf_axes(ax, horizon)
    ax.legend(handles=nodes + marks, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    if title is not None:
        ax.set_title(title)
    return figure


def _heatmap_input(attention, threshold):
    """Attention ``(H, n, n)`` (float, or exact as given), the threshold ``θ`` and whether it was one head."""
    if isinstance(attention, (SinkDAG, HeadSystem)):
        default = attention.threshold
        attention = attention.diffusion if isinstance(attention, SinkDAG) else attention.attention
    else:
        default = 0.0
        attention = check_attention(attention, name="attention", batch_label="head")
    if attention.ndim not in (2, 3):
        raise InvalidInputError(
            f"attention must have shape (n, n) or (H, n, n); got shape {attention.shape}"
        )
    threshold = default if threshold is None else check_threshold(threshold)
    return (attention[None] if attention.ndim == 2 else attention), threshold, attention.ndim == 2


def _check_head_labels(head_labels, count, single):
    """``head_labels`` as ``count`` strings; default ``head 1``, ``head 2``... (none for one bare head)."""
    if head_labels is None:
        return [None] if single else [f"head {h + 1}" for h in range(count)]
    if isinstance(head_labels, str) or not hasattr(head_labels, "__len__"):
        raise InvalidTypeError(f"head_labels must be a list of {count} str; got {head_labels!r}")
    if len(head_labels) != count:
        raise InvalidInputError(
            f"head_labels must have one label per head ({count}); got {len(head_labels)}: {list(head_labels)!r}"
        )
    return [str(label) for label in head_labels]


def _kept_edges(attention, threshold=0.0, max_edges_per_token=2):
    """The edges ``j → i`` that :func:`attention_heatmap_figure` draws for one head.

    The edges of ``G(A, θ)`` (§1: ``A[i, j] > θ``, ``j < i``) after keeping for
    each receiver ``i`` only its ``max_edges_per_token`` strongest incoming
    edges (ties: the earlier key first); ``None`` keeps every edge.

    Parameters
    ----------
    attention : ndarray, shape (n, n)
        Validated attention (float or exact).
    threshold : float or Fraction
    max_edges_per_token : int or None

    Returns
    -------
    list of (int, int, float)
        ``(j, i, A[i, j])`` sorted by receiver, then by decreasing weight.
    """
    n = attention.shape[-1]
    weights = np.asarray(attention, dtype=float)
    above = np.tril(np.asarray(attention > threshold, dtype=bool), -1)
    edges = []
    for i in range(1, n):
        keys = np.flatnonzero(above[i])
        keys = keys[np.argsort(-weights[i, keys], kind="stable")]
        edges.extend((int(j), i, float(weights[i, j])) for j in keys[:max_edges_per_token])
    return edges


def _arc(j, i, points=16):
    """Points of a quadratic Bézier curve from ``(j, j)`` through the control ``(i, j)`` to ``(i, i)``.

    In ``(key, query)`` coordinates it bulges into the upper triangle, which
    causal attention leaves empty, so arcs never cover the heat map.
    """
    t = np.linspace(0.0, 1.0, points)[:, None]
    start, control, end = np.array([j, j]), np.array([i, j]), np.array([i, i])
    return (1 - t) ** 2 * start + 2 * t * (1 - t) * control + t ** 2 * end


def _draw_edges(ax, edges, strongest, n):
    """Kept edges as arcs, wider and more opaque the heavier; a LineCollection with gid ``"edges"``.

    ``strongest`` is the heaviest kept edge of all heads, so widths compare
    across panels; arcs are thinner where there are many tokens.
    """
    from matplotlib.collections import LineCollection

    strength = [w / strongest for _, _, w in edges] if strongest > 0 else [1.0] * len(edges)
    scale = 1.0 if n <= 12 else max(0.35, 3.5 / math.sqrt(n))
    colors = [(*_EDGE_RGB, 0.15 + 0.85 * s) for s in strength]
    arcs = LineCollection([_arc(j, i) for j, i, _ in edges], colors=colors, gid="edges", zorder=3,
                          linewidths=[scale * (0.3 + 1.9 * s) for s in strength], capstyle="round")
    ax.add_collection(arcs)
    return arcs


def _draw_tokens(ax, n):
    """Tokens as dots on the diagonal (gid ``"tokens"``) and the sink as a ring (gid ``"sink"``)."""
    size = 4.5 if n <= 12 else max(0.8, 10.0 / math.sqrt(n))
    tokens, = ax.plot(range(n), range(n), linestyle="none", marker="o", markersize=size, color="black",
                      gid="tokens", zorder=4, label="token (on the diagonal)")
    sink, = ax.plot([n - 1], [n - 1], linestyle="none", marker="o", markersize=14 if n <= 12 else 9,
                    markerfacecolor="none", markeredgecolor="C3", markeredgewidth=1.8, gid="sink", zorder=5,
                    label=f"sink τ = {n - 1}", clip_on=False)
    return tokens, sink


def _format_heatmap_axes(ax, n, *, left, bottom):
    """Token ticks (all for small ``n``, a few integers otherwise); labels on the outer panels."""
    from matplotlib.ticker import MaxNLocator

    if n <= 12:
        ax.set_xticks(range(n))
        ax.set_yticks(range(n))
    else:
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    ax.set_xlim(-0.5, n - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    ax.tick_params(labelsize="small", labelleft=left, labelbottom=bottom)
    if bottom:
        ax.set_xlabel("key j")
    if left:
        ax.set_ylabel("query i")


def _heatmap_grid(figure, count):
    """A grid of about square shape with ``count`` axes sharing x and y; unused cells removed."""
    columns = math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    axes = np.atleast_1d(figure.subplots(rows, columns, sharex=True, sharey=True, squeeze=False)).ravel()
    for ax in axes[count:]:
        ax.remove()
    return list(axes[:count]), rows, columns


def attention_heatmap_figure(attention, *, threshold=None, title=None, head_labels=None, max_edges_per_token=2):
    """A heat map of each head's attention with its graph ``G(A, θ)`` (§1) drawn over it.

    One panel per head, in a grid of about square shape. Cell ``(i, j)`` (row =
    query ``i``, column = key ``j``) shows ``A[i, j]`` on a colour scale shared by
    every panel (one colorbar; square-root scale up to the 99th percentile of
    the causal entries, stronger cells saturate); the upper triangle, empty by
    causality, is left blank. Tokens are dots on the diagonal, the sink ``τ``
    is ringed, and each kept edge ``j → i`` is an arc from ``(j, j)`` to
    ``(i, i)`` through the blank upper triangle, wider and more opaque the
    heavier it is (relative to the heaviest drawn edge of all heads). Edges
    always run forward in token order (down and right).

    Edge pruning: the edges of ``G(A, θ)`` (``A[i, j] > θ``, ``j < i``); of those,
    each receiver ``i`` keeps only its ``max_edges_per_token`` strongest
    incoming edges (ties: the earlier key). So at most
    ``max_edges_per_token · (n - 1)`` arcs per head, readable for ``n = 100``.

    Parameters
    ----------
    attention : array_like of shape (n, n) or (H, n, n), SinkDAG or HeadSystem
        Causal row-stochastic attention, one matrix per head.
    threshold : float, keyword-only, optional
        ``θ >= 0``. ``None`` (default) uses the SinkDAG's or HeadSystem's own
        threshold, and §1's default ``θ = 0`` for an array.
    title : str, keyword-only, optional
        Figure title.
    head_labels : list of str, keyword-only, optional
        One panel title per head; default ``"head 1"``, ``"head 2"``... (none
        for a single (n, n) head).
    max_edges_per_token : int or None, keyword-only
        Incoming edges drawn per receiver (default 2; 0 draws none; ``None`` all).

    Returns
    -------
    matplotlib.figure.Figure
        ``H`` head axes, then the colorbar's axes. On each head axes: the image
        (``ax.images[0]``, gid ``"attention"``, its array the attention with the
        upper triangle masked), the arcs (a LineCollection, gid ``"edges"``, one
        segment per kept edge from ``(j, j)`` to ``(i, i)``), the dots
        (gid ``"tokens"``) and the sink ring (gid ``"sink"``).

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``threshold``, ``head_labels`` or ``max_edges_per_token`` has the wrong type.
    InvalidInputError
        If ``attention`` is not valid attention of shape (n, n) or (H, n, n),
        ``threshold`` is negative or ``head_labels`` has the wrong length.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> figure = attention_heatmap_figure(paper_example2())
    >>> len(figure.axes), [ax.get_title() for ax in figure.axes[:2]]
    (3, ['head 1', 'head 2'])
    >>> arcs = [c for c in figure.axes[1].collections if c.get_gid() == "edges"][0]
    >>> sorted((int(s[0][0]), int(s[-1][0])) for s in arcs.get_segments())
    [(0, 2), (1, 2), (1, 3), (2, 3)]
    """
    stack, threshold, single = _heatmap_input(attention, threshold)
    labels = _check_head_labels(head_labels, stack.shape[0], single)
    if max_edges_per_token is not None:
        max_edges_per_token = check_steps(max_edges_per_token, name="max_edges_per_token")
    values = np.asarray(stack, dtype=float)
    count, n = values.shape[0], values.shape[-1]
    columns = math.ceil(math.sqrt(count))
    side = 4.2 if count == 1 else min(3.4, 12.0 / columns + 0.4)
    figure = _new_figure(figsize=(side * columns + 1.2, side * math.ceil(count / columns) + 0.9))
    axes, rows, columns = _heatmap_grid(figure, count)
    image, saturated, handles = _draw_heads(axes, stack, values, labels, threshold, max_edges_per_token, columns)
    figure.colorbar(image, ax=axes, label="attention A[i, j]", shrink=0.6 if rows > 2 else 1.0, aspect=30,
                    extend="max" if saturated else "neither")
    kept = "every edge" if max_edges_per_token is None else f"strongest {max_edges_per_token} per query"
    handles[0].set_label(f"edge j → i with A[i, j] > θ = {_short(threshold)} ({kept})")
    figure.legend(handles=handles, loc="outside lower center", ncols=3 if columns > 1 else 1, fontsize="small",
                  frameon=False)
    if title is not None:
        figure.suptitle(title)
    return figure


def _color_scale(values):
    """Square-root colour scale from 0 to the 99th percentile of the causal entries (the rest saturate)."""
    from matplotlib.colors import PowerNorm

    n = values.shape[-1]
    causal = values[:, np.tril(np.ones((n, n), dtype=bool))]
    top = float(np.quantile(causal, 0.99))
    return PowerNorm(0.5, vmin=0.0, vmax=top if top > 0 else 1.0), top < causal.max()


def _draw_heads(axes, stack, values, labels, threshold, limit, columns):
    """Image, arcs and tokens on each head's axes; the first image, whether colours saturate, legend handles."""
    from matplotlib import colormaps
    from matplotlib.lines import Line2D

    n = values.shape[-1]
    norm, saturated = _color_scale(values)
    blank = np.triu(np.ones((n, n), dtype=bool), 1)
    edges = [_kept_edges(head, threshold, limit) for head in stack]
    strongest = max((w for kept in edges for _, _, w in kept), default=0.0)
    images = []
    for h, (ax, label) in enumerate(zip(axes, labels)):
        images.append(ax.imshow(np.ma.masked_array(values[h], mask=blank), cmap=colormaps[_HEATMAP_CMAP],
                                norm=norm, interpolation="nearest", gid="attention", zorder=1))
        _draw_edges(ax, edges[h], strongest, n)
        tokens, sink = _draw_tokens(ax, n)
        _format_heatmap_axes(ax, n, left=h % columns == 0, bottom=h >= len(axes) - columns)
        if label is not None:
            ax.set_title(label, fontsize="medium")
    edge = Line2D([], [], color=_EDGE_RGB, linewidth=1.4)
    return images[0], saturated, [edge, tokens, sink]


def depth_signal_figure(depth, *, title=None, max_curves=DEFAULT_MAX_CURVES, log=False):
    """The depth signal ``S^(ℓ)(v)`` of every node over the layers ``ℓ = 1..L`` (§4).

    Drawn like :func:`signal_curves_figure` with the step ``t`` replaced by the
    layer ``ℓ``: one curve with markers per node, a dashed line at the depth
    minimax ``min_{v∈S} max_ℓ S^(ℓ)(v)`` labelled with its value and arg-min
    node, and a ring at that node's peak.

    Parameters
    ----------
    depth : DepthSignal
        From :func:`dagtheory.depth_signal` for one stack of layers (signal of
        shape (L, n), no batch axes).
    title : str, keyword-only, optional
        Axes title; ``γ`` is appended. Default: the sink and ``γ``.
    max_curves : int, keyword-only
        As for :func:`signal_curves_figure` (default 12).
    log : bool, keyword-only
        A logarithmic y axis (zeros are left out). It reads better when the
        sink keeps most of its own signal and the other tokens' shares are
        orders of magnitude smaller.

    Returns
    -------
    matplotlib.figure.Figure
        One axes. Curves have gids ``"signal 0"``, ``"signal 1"``..., the
        dashed line ``"minimax"`` and the ring ``"peak"``.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``depth`` is not a DepthSignal or ``max_curves`` is not an int.
    InvalidInputError
        If ``depth`` has batch axes or ``max_curves`` is below 1.

    Examples
    --------
    Example 2's two heads as two layers, with rollout's residual ``γ = 1/2``:

    >>> from dagtheory import depth_signal
    >>> from dagtheory.examples import paper_example2
    >>> figure = depth_signal_figure(depth_signal(paper_example2().heads))
    >>> ax = figure.axes[0]
    >>> ax.get_xlabel(), ax.get_title()
    ('layer ℓ', 'depth signal at the sink τ = 3 (γ = 1/2)')
    >>> minimax, peak = ax.get_lines()[4:]
    >>> minimax.get_gid(), float(minimax.get_ydata()[0]), peak.get_label()
    ('minimax', 0.041666..., 'peak of v = 0 at ℓ = 2')
    >>> depth_signal_figure(depth_signal(paper_example2().heads), log=True).axes[0].get_yscale()
    'log'
    """
    if not isinstance(depth, DepthSignal):
        raise InvalidTypeError(f"depth must be a DepthSignal (from depth_signal); got {type(depth).__name__}")
    signal = np.asarray(depth.signal)
    if signal.ndim != 2:
        raise InvalidInputError(
            f"a figure needs one stack of layers, signal of shape (L, n); got shape {signal.shape}"
        )
    values = np.asarray(signal, dtype=float)
    count, n = values.shape
    node = int(depth.node)
    peak = _Peak(depth.minimax, node, depth.layer[node])
    figure = _new_figure(figsize=(9.0, 4.6))
    ax = figure.add_subplot()
    nodes, marks = _draw_peak_curves(ax, np.arange(1, count + 1), values, peak, max_curves=max_curves,
                                     level_label=r"depth $\varphi_{\min}$", marker="o",
                                     peak_label=f"peak of v = {node} at ℓ = {peak.at}")
    _format_signal_axes(ax, count, max(float(values.max()), float(depth.minimax)), xlabel="layer ℓ",
                        ylabel=r"$S^{(\ell)}(v)$, share of token v's signal at the sink")
    if log:
        _log_axis(ax, values)
    ax.legend(handles=nodes + marks, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small",
              frameon=False)
    gamma = f"γ = {_short(depth.gamma)}"
    ax.set_title(f"{title} ({gamma})" if title is not None else f"depth signal at the sink τ = {n - 1} ({gamma})")
    return figure


def _check_effects(values, name, shape=None):
    try:
        array = np.asarray(values, dtype=float)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(f"{name} must be numbers of shape (L, H); got {values!r}") from err
    if array.ndim != 2 or (shape is not None and array.shape != shape):
        expected = f"{shape}, the shape of measured" if shape is not None else "(L, H)"
        raise InvalidInputError(f"{name} must have shape {expected}; got shape {array.shape}")
    return array


def effects_scatter_figure(predicted, measured, *, measured_label="measured Δ loss", title=None):
    """Predicted against measured effects of an intervention per head, one colour per layer.

    Parameters
    ----------
    predicted : dict
        ``{label: array (L, H)}``: one panel per entry, e.g. the predicted
        change of ``φ_min`` (§2), ``T_mix`` (§3) and ``ρ`` when each head is
        removed (:func:`dagtheory.ablation.predict_ablation`).
    measured : array_like, shape (L, H)
        The measured effect of the same heads (the y axis of every panel).
    measured_label : str, keyword-only
    title : str, keyword-only, optional

    Returns
    -------
    matplotlib.figure.Figure
        One axes per predicted entry; in each, one scatter collection per
        layer (labelled ``"layer l"``). Heads whose two effects are not both
        finite are not drawn; the panel title counts them.

    Raises
    ------
    ImportError
        If matplotlib is not installed.
    InvalidTypeError
        If ``predicted`` is not a dict.
    InvalidInputError
        If ``predicted`` is empty or an array is not of shape ``(L, H)``.

    Examples
    --------
    >>> import numpy as np
    >>> predicted = {"Δφ_min": np.array([[-0.1, 0.0], [-0.2, np.nan]])}
    >>> figure = effects_scatter_figure(predicted, [[0.5, 0.1], [0.9, 0.3]])
    >>> ax = figure.axes[0]
    >>> [c.get_label() for c in ax.collections], [len(c.get_offsets()) for c in ax.collections]
    (['layer 0', 'layer 1'], [2, 1])
    >>> ax.get_title()
    'Δφ_min (1 head not drawn)'
    """
    if not isinstance(predicted, Mapping):
        raise InvalidTypeError(f"predicted must be a dict of label -> array (L, H); got {type(predicted).__name__}")
    if not predicted:
        raise InvalidInputError("predicted must hold at least one entry; got an empty dict")
    measured = _check_effects(measured, "measured")
    panels = [(str(label), _check_effects(values, f"predicted[{label!r}]", measured.shape))
              for label, values in predicted.items()]
    figure = _new_figure(figsize=(4.2 * len(panels) + 1.2, 4.0))
    axes = figure.subplots(1, len(panels), sharey=True, squeeze=False)[0]
    for ax, (label, values) in zip(axes, panels):
        shown = np.isfinite(values) & np.isfinite(measured)
        for layer in range(measured.shape[0]):
            keep = shown[layer]
            ax.scatter(values[layer, keep], measured[layer, keep], color=_series_color(layer),
                       label=f"layer {layer}", s=28, alpha=0.85, edgecolors="none")
        missing = int((~shown).sum())
        ax.set_title(label if not missing else f"{label} ({missing} head{'s' * (missing > 1)} not drawn)")
        ax.set_xlabel(f"predicted {label}")
        ax.axhline(0.0, color="0.8", linewidth=0.8, zorder=0)
        ax.axvline(0.0, color="0.8", linewidth=0.8, zorder=0)
    axes[0].set_ylabel(measured_label)
    axes[-1].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    if title is not None:
        figure.suptitle(title)
    return figure


def _log_axis(ax, values):
    """A log y axis from half the smallest positive value to twice the largest (zeros are masked)."""
    positive = values[values > 0]
    ax.set_yscale("log", nonpositive="mask")
    if positive.size:
        ax.set_ylim(0.5 * float(positive.min()), 2.0 * float(positive.max()))


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
