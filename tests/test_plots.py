"""Figures (dagtheory/plots.py): the plotted numbers are the library's numbers.

Each figure is read back through its artists: curves, the ``φ_min^K`` line and
the peak marker carry gids (``"signal v"``, ``"minimax"``, ``"peak"``); bars
and error bars are the axes' containers. Known answers are §2's Example 2 at
``K = 20``: ``φ_min`` = 3/8 (head 1, node 1, t = 3), 871696090/3486784401
(head 2, node 0, t = 20) and 5/12 (combined, node 2, t = 1); and §3's mixing
instance, where each head has ``T_mix(1/4) = 10`` and the mixture 7.
"""

import math
import subprocess
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

from dagtheory import (  # noqa: E402
    HeadSystem,
    InvalidInputError,
    InvalidTypeError,
    TrappedNodeWarning,
    absorption_cdf,
    depth_signal,
    forward_walk,
    minimax_fidelity,
    signal_curves,
)
from dagtheory.examples import mixing_synergy, paper_example2  # noqa: E402
from dagtheory.plots import (  # noqa: E402
    AUTO_HORIZON_CAP,
    absorption_cdf_figure,
    attention_heatmap_figure,
    depth_signal_figure,
    example2_figure,
    layer_bars_figure,
    save_figure,
    signal_curves_figure,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MISSING = "plots need matplotlib: pip install 'dagtheory[plot]'"

SYSTEM = paper_example2()
EXAMPLE2 = [  # operator, φ_min^20, arg-min node, peak step
    (SYSTEM.heads[0], Fraction(3, 8), 1, 3),
    (SYSTEM.heads[1], Fraction(871696090, 3486784401), 0, 20),
    (SYSTEM, Fraction(5, 12), 2, 1),
]


def _line(ax, gid):
    (line,) = [line for line in ax.get_lines() if line.get_gid() == gid]
    return line


def _curves(ax, n):
    return np.stack([_line(ax, f"signal {v}").get_ydata() for v in range(n)], axis=-1)


def _legend_texts(legend):
    return [text.get_text() for text in legend.get_texts()]


def _random_operator(n, seed=0):
    rng = np.random.default_rng(seed)
    attention = np.tril(rng.uniform(0, 1, (n, n)) ** 4)
    return attention / attention.sum(axis=1, keepdims=True)


def _bars(ax):
    return [c for c in ax.containers if isinstance(c, BarContainer)]


def _errorbars(ax):
    return [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


# --- signal_curves_figure ------------------------------------------------------------------


@pytest.mark.parametrize("op, value, node, step", EXAMPLE2, ids=["head 1", "head 2", "combined"])
def test_signal_figure_plots_exact_minimax_and_curves(op, value, node, step):
    ax = signal_curves_figure(op, horizon=20).axes[0]
    assert list(_line(ax, "minimax").get_ydata()) == [float(value), float(value)]
    assert f"at v = {node}" in _line(ax, "minimax").get_label()
    peak = _line(ax, "peak")
    assert (list(peak.get_xdata()), list(peak.get_ydata())) == ([step], [float(value)])
    np.testing.assert_array_equal(_curves(ax, 4), np.asarray(signal_curves(op, 20), dtype=float))
    np.testing.assert_array_equal(_line(ax, "signal 0").get_xdata(), np.arange(1, 21))


def test_signal_figure_labels_axes_and_legend():
    figure = signal_curves_figure(SYSTEM.heads[0], horizon=20, title="head 1")
    ax = figure.axes[0]
    assert isinstance(figure.canvas, FigureCanvasAgg)
    assert ax.get_xlabel() == "step t"
    assert ax.get_ylabel() == "S_t(v), share of token v's signal at the sink"
    assert ax.get_title() == "head 1" and (ax.get_xscale(), ax.get_yscale()) == ("linear", "linear")
    texts = _legend_texts(ax.get_legend())
    assert texts[:4] == ["v = 0", "v = 1", "v = 2", "v = 3 (sink)"]
    assert "3/8 (0.375) at v = 1" in texts[4] and texts[5] == "peak of v = 1 at t = 3"
    assert _line(ax, "minimax").get_linestyle() == "--"


def test_signal_figure_long_fraction_is_shown_rounded():
    label = _line(signal_curves_figure(SYSTEM.heads[1], horizon=20).axes[0], "minimax").get_label()
    assert "≈ 0.25 at v = 0" in label and "871696090" not in label


def test_signal_figure_follows_sources():
    """φ_min over S = {0} only: head 1's node 0 peaks at its last step."""
    expected = minimax_fidelity(SYSTEM.heads[0], 20, [0])
    ax = signal_curves_figure(SYSTEM.heads[0], horizon=20, sources=[0]).axes[0]
    assert _line(ax, "minimax").get_ydata()[0] == float(expected.value) != 0.375
    assert "at v = 0" in _line(ax, "minimax").get_label()


def test_signal_figure_greys_out_nodes_beyond_max_curves():
    op = _random_operator(20)
    node = int(minimax_fidelity(op, 30).node)
    ax = signal_curves_figure(op, horizon=30).axes[0]
    kept = sorted({0, node, 19})
    grey = [v for v in range(20) if _line(ax, f"signal {v}").get_color() == "0.72"]
    assert grey == [v for v in range(20) if v not in kept]
    texts = _legend_texts(ax.get_legend())
    assert texts[:len(kept)] == [f"v = {v}" if v != 19 else "v = 19 (sink)" for v in kept]
    assert texts[len(kept)] == f"{20 - len(kept)} other nodes" and len(texts) == len(kept) + 3
    np.testing.assert_allclose(_curves(ax, 20), signal_curves(op, 30))
    wide = signal_curves_figure(op, horizon=30, max_curves=20).axes[0]
    assert len(_legend_texts(wide.get_legend())) == 22
    assert not any(_line(wide, f"signal {v}").get_color() == "0.72" for v in range(20))


def test_signal_figure_rejects_batches_and_bad_options():
    with pytest.raises(InvalidInputError, match=r"single operator of shape \(n, n\); got a batch of shape \(2,\)"):
        signal_curves_figure(np.asarray(SYSTEM.attention, dtype=float), horizon=5)
    with pytest.raises(InvalidInputError, match="max_curves must be at least 1; got 0"):
        signal_curves_figure(SYSTEM, horizon=5, max_curves=0)
    with pytest.raises(InvalidTypeError, match="horizon must be an int"):
        signal_curves_figure(SYSTEM, horizon=2.5)


# --- example2_figure -----------------------------------------------------------------------


def test_example2_figure_has_three_exact_panels():
    figure = example2_figure()
    assert len(figure.axes) == 3
    assert [ax.get_title() for ax in figure.axes] == ["head 1", "head 2", "combined, β = (1/2, 1/2)"]
    for ax, (op, value, node, step) in zip(figure.axes, EXAMPLE2):
        assert _line(ax, "minimax").get_ydata()[0] == float(value)
        assert _line(ax, "peak").get_xdata()[0] == step
        np.testing.assert_array_equal(_curves(ax, 4), np.asarray(signal_curves(op, 20), dtype=float))
    assert "ρ = 10/9" in figure.get_suptitle()
    assert _legend_texts(figure.legends[0]) == ["v = 0", "v = 1", "v = 2", "v = 3 (sink)"]


def test_example2_figure_other_horizon():
    """At K = 2 head 1 cannot reach u (τ→w→v→u needs 3 steps): φ_min = 0 at node 0."""
    ax = example2_figure(horizon=2).axes[0]
    assert _line(ax, "minimax").get_ydata()[0] == 0.0 and "at v = 0" in _line(ax, "minimax").get_label()
    assert len(_line(ax, "signal 0").get_xdata()) == 2


# --- layer_bars_figure ---------------------------------------------------------------------

SERIES = {
    "1 head": {"mean": np.array([0.5, 0.25, 0.125]), "std": np.array([0.1, 0.05, np.nan])},
    "4 heads": {"mean": np.array([0.75, 0.5, 0.375]), "std": np.array([0.02, 0.04, 0.06])},
}


def test_layer_bars_heights_error_bars_and_labels():
    ax = layer_bars_figure(SERIES, metric_label="minimax fidelity", title="per layer").axes[0]
    bars = _bars(ax)
    assert [bar.get_label() for bar in bars] == ["1 head", "4 heads"]
    for container, entry in zip(bars, SERIES.values()):
        assert [patch.get_height() for patch in container] == list(entry["mean"])
    errors = [np.asarray(c.lines[2][0].get_segments()) for c in _errorbars(ax)]
    assert [len(segments) for segments in errors] == [2, 3]  # no bar where std is nan
    np.testing.assert_allclose(errors[1][:, 1, 1] - errors[1][:, 0, 1], 2 * SERIES["4 heads"]["std"])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer 0", "layer 1", "layer 2"]
    assert (ax.get_ylabel(), ax.get_title()) == ("minimax fidelity", "per layer")
    assert _legend_texts(ax.get_legend()) == ["1 head", "4 heads"]
    centers = [[patch.get_x() + patch.get_width() / 2 for patch in c] for c in bars]
    assert all(a < b for a, b in zip(*centers))  # side by side within each layer


def test_layer_bars_non_finite_means_are_hatched_at_the_top():
    series = {"1 head": {"mean": [12.0, np.inf, np.nan], "std": [3.0, np.nan, np.nan]},
              "4 heads": {"mean": [7.0, 9.0, 30.0], "std": [1.0, 2.0, np.nan]}}
    ax = layer_bars_figure(series, metric_label="mixing time").axes[0]
    top = ax.get_ylim()[1]
    assert top >= 30.0
    first = list(_bars(ax)[0])
    assert first[0].get_height() == 12.0 and not first[0].get_hatch()
    for patch in first[1:]:
        assert (patch.get_height(), patch.get_gid(), patch.get_hatch()) == (top, "nonfinite", "///")
    assert sorted(t.get_text() for t in ax.texts) == ["> budget", "inf"]
    assert [len(c.lines[2][0].get_segments()) for c in _errorbars(ax)] == [1, 2]


def test_layer_bars_all_non_finite_and_log_scale():
    ax = layer_bars_figure({"a": {"mean": [np.inf], "std": [np.nan]}}, metric_label="m").axes[0]
    assert ax.get_ylim() == (0.0, 1.0) and not _errorbars(ax)
    ax = layer_bars_figure(SERIES, metric_label="m", log=True).axes[0]
    assert ax.get_yscale() == "log"
    assert [patch.get_height() for patch in _bars(ax)[1]] == [0.75, 0.5, 0.375]
    low, high = ax.get_ylim()
    assert 0 < low <= 0.125 and high >= 0.75 + 0.02


@pytest.mark.parametrize("series, error, message", [
    ([1, 2], InvalidTypeError, "series must be a dict"),
    ({}, InvalidInputError, "at least one entry"),
    ({"a": {"mean": [1.0]}}, InvalidInputError, r"""series\['a'\] needs "mean" and "std" arrays; got \['mean'\]"""),
    ({"a": {"mean": [1.0, 2.0], "std": [0.1]}}, InvalidInputError,
     r"""series\['a'\]\["std"\] must have shape \(2,\), one value per layer; got shape \(1,\)"""),
    ({"a": {"mean": [1.0], "std": [0.1]}, "b": {"mean": [[1.0]], "std": [0.1]}}, InvalidInputError,
     r"""series\['b'\]\["mean"\] must have shape \(1,\)"""),
    ({"a": {"mean": [], "std": []}}, InvalidInputError, r"must have shape \(L,\) with L >= 1 layers"),
    ({"a": {"mean": ["x"], "std": [0.1]}}, InvalidInputError, "must be numbers"),
])
def test_layer_bars_validation(series, error, message):
    with pytest.raises(error, match=message):
        layer_bars_figure(series, metric_label="m")


# --- save_figure ---------------------------------------------------------------------------


def test_save_figure_writes_png_atomically(tmp_path):
    target = tmp_path / "new" / "folder" / "example2.png"
    path = save_figure(example2_figure(horizon=5), str(target))
    assert path == target and path.read_bytes()[:8] == PNG_SIGNATURE
    assert sorted(p.name for p in target.parent.iterdir()) == ["example2.png"]
    bars = layer_bars_figure(SERIES, metric_label="m")
    size = path.stat().st_size
    save_figure(bars, path)  # replaces the old file
    assert path.read_bytes()[:8] == PNG_SIGNATURE and path.stat().st_size != size
    assert sorted(p.name for p in target.parent.iterdir()) == ["example2.png"]


def test_save_figure_failure_keeps_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "figure.png"
    path.write_bytes(b"old")
    figure = example2_figure(horizon=3)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(figure, "savefig", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        save_figure(figure, path)
    assert path.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["figure.png"]


def test_save_figure_rejects_non_figures(tmp_path):
    with pytest.raises(InvalidTypeError, match="figure must be a matplotlib Figure; got dict"):
        save_figure({}, tmp_path / "x.png")
    assert not any(tmp_path.iterdir())


# --- matplotlib stays optional -------------------------------------------------------------


def test_import_does_not_import_matplotlib_and_figures_avoid_pyplot():
    code = (
        "import sys, dagtheory, dagtheory.plots\n"
        "print('matplotlib' in sys.modules)\n"
        "dagtheory.plots.example2_figure(horizon=2)\n"
        "print('matplotlib' in sys.modules, 'matplotlib.pyplot' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True", "False"]


@pytest.mark.parametrize("make", [
    lambda: signal_curves_figure(SYSTEM, horizon=3),
    lambda: example2_figure(horizon=3),
    lambda: layer_bars_figure(SERIES, metric_label="m"),
    lambda: save_figure(object(), "unused.png"),
    lambda: absorption_cdf_figure(SYSTEM.heads[0], 3),
    lambda: attention_heatmap_figure(SYSTEM),
    lambda: depth_signal_figure(depth_signal(SYSTEM.heads)),
])
def test_missing_matplotlib_says_how_to_install(monkeypatch, make):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=MISSING.replace("[", r"\[").replace("]", r"\]")):
        make()



def test_new_figures_avoid_pyplot():
    code = (
        "import sys, dagtheory, dagtheory.plots as p\n"
        "from dagtheory.examples import paper_example2\n"
        "system = paper_example2()\n"
        "p.absorption_cdf_figure(system.heads[0]); p.attention_heatmap_figure(system)\n"
        "p.depth_signal_figure(dagtheory.depth_signal(system.heads))\n"
        "print('matplotlib.pyplot' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False"]


def _random_attention(heads, n, seed=0, temperature=0.5):
    """Softmax of random scores, masked causally: neither uniform nor one-hot."""
    scores = np.random.default_rng(seed).normal(size=(heads, n, n)) / temperature
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def _assert_png(path, minimum=10_000, maximum=5_000_000):
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE and minimum < len(data) < maximum


# --- absorption_cdf_figure -----------------------------------------------------------------

MIXING = mixing_synergy()


def _two_node_walk(p):
    """``d(t) = (1 - p)^t``: ``T_mix(1/4) = ⌈ln 4 / -ln(1 - p)⌉``."""
    return np.array([[1 - p, p], [0.0, 1.0]])


def _cdf_curves(ax, n):
    return np.stack([_line(ax, f"cdf {j}").get_ydata() for j in range(n - 1)], axis=-1)


@pytest.mark.parametrize("op, steps", [(MIXING.heads[0], 10), (MIXING.heads[1], 10), (MIXING, 7)],
                         ids=["head 1", "head 2", "mixture"])
def test_cdf_figure_plots_exact_curves_and_mixing_marker(op, steps):
    """§3's instance: the marker sits at T_mix(1/4) and K = T_mix + 5."""
    ax = absorption_cdf_figure(op).axes[0]
    horizon = steps + 5
    exact = absorption_cdf(op, horizon)
    assert exact.dtype == object and isinstance(exact[1, 0], Fraction)
    np.testing.assert_array_equal(_cdf_curves(ax, 5), np.asarray(exact[:, :-1], dtype=float))
    np.testing.assert_array_equal(_line(ax, "cdf 0").get_xdata(), np.arange(horizon + 1))
    assert _line(ax, "cdf 0").get_drawstyle() == "steps-post"
    assert "cdf 4" not in {line.get_gid() for line in ax.get_lines()}  # the sink's F is 1
    marker = _line(ax, "tmix")
    assert list(marker.get_xdata()) == [steps, steps] and marker.get_label() == f"$T_{{mix}}$(1/4) = {steps}"
    envelope = _line(ax, "envelope").get_ydata()
    np.testing.assert_array_equal(envelope, np.asarray(exact[:, :-1], dtype=float).min(axis=1))
    assert envelope[steps] >= 0.75 > envelope[steps - 1]  # d(t) ≤ ε first at T_mix
    level = _line(ax, "level")
    assert list(level.get_ydata()) == [0.75, 0.75] and level.get_label() == "1 − ε = 3/4 (0.75)"
    assert [t.get_text() for t in ax.texts] == [f"$T_{{mix}}$(1/4) = {steps}"]


def test_cdf_figure_labels_and_legend():
    figure = absorption_cdf_figure(MIXING.heads[0], title="head 1")
    ax = figure.axes[0]
    assert len(figure.axes) == 1 and isinstance(figure.canvas, FigureCanvasAgg)
    assert (ax.get_xlabel(), ax.get_title()) == ("step t", "head 1")
    assert ax.get_ylabel().startswith("F_t(j)")
    texts = _legend_texts(ax.get_legend())
    assert texts[:4] == ["j = 0", "j = 1", "j = 2", "j = 3"]
    assert texts[5:] == ["1 − ε = 3/4 (0.75)", "$T_{mix}$(1/4) = 10"] and "1 - d(t)" in texts[4]


@pytest.mark.parametrize("p, steps, horizon", [
    (0.5, 2, 7),          # T + 5 (the margin is at least 5)
    (0.01, 138, 207),     # T + ⌈T/2⌉
    (0.0015, 924, 1000),  # capped
])
def test_cdf_figure_auto_horizon(p, steps, horizon):
    assert math.ceil(math.log(4) / -math.log(1 - p)) == steps
    ax = absorption_cdf_figure(_two_node_walk(p)).axes[0]
    assert _line(ax, "cdf 0").get_xdata()[-1] == horizon
    assert _line(ax, "tmix").get_xdata()[0] == steps


def test_cdf_figure_without_a_marker_says_why():
    """Beyond the cap, beyond an explicit K, or never: no vertical line, the legend tells."""
    ax = absorption_cdf_figure(_two_node_walk(0.001)).axes[0]  # T_mix = 1386
    assert _line(ax, "cdf 0").get_xdata()[-1] == AUTO_HORIZON_CAP == 1000
    assert "tmix" not in {line.get_gid() for line in ax.get_lines()} and not ax.texts
    assert _legend_texts(ax.get_legend())[-1] == "$T_{mix}$(0.25) > 1000"
    ax = absorption_cdf_figure(MIXING.heads[0], 6).axes[0]
    assert len(_line(ax, "cdf 0").get_xdata()) == 7 and "tmix" not in {line.get_gid() for line in ax.get_lines()}
    assert _legend_texts(ax.get_legend())[-1] == "$T_{mix}$(1/4) = 10, beyond K = 6"
    trapped = [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]]
    with pytest.warns(TrappedNodeWarning, match=r"nodes \[0\]"):
        ax = absorption_cdf_figure(trapped, 20).axes[0]
    assert _legend_texts(ax.get_legend())[-1] == "$T_{mix}$(0.25) = ∞ (a node never reaches τ)"
    assert list(_line(ax, "cdf 0").get_ydata()) == [0.0] * 21


def test_cdf_figure_eps_and_explicit_horizon():
    ax = absorption_cdf_figure(MIXING.heads[0], 30, eps=Fraction(1, 10)).axes[0]
    assert len(_line(ax, "cdf 0").get_xdata()) == 31
    assert _line(ax, "level").get_ydata()[0] == 0.9
    envelope = _line(ax, "envelope").get_ydata()
    steps = int(_line(ax, "tmix").get_xdata()[0])
    assert envelope[steps] >= 0.9 > envelope[steps - 1]


def test_cdf_figure_greys_out_nodes_beyond_max_curves():
    walk = forward_walk(_random_operator(20))
    ax = absorption_cdf_figure(walk, 40).axes[0]
    values = absorption_cdf(walk, 40)
    slowest = int(np.argmin(values[:, :-1].sum(axis=0)))
    kept = sorted({0, slowest})
    grey = [j for j in range(19) if _line(ax, f"cdf {j}").get_color() == "0.72"]
    assert grey == [j for j in range(19) if j not in kept]
    texts = _legend_texts(ax.get_legend())
    assert f"j = {slowest} (slowest)" in texts[:len(kept)] and texts[len(kept)] == f"{19 - len(kept)} other nodes"
    np.testing.assert_allclose(_cdf_curves(ax, 20), values[:, :-1])
    wide = absorption_cdf_figure(walk, 40, max_curves=19).axes[0]
    assert not any(_line(wide, f"cdf {j}").get_color() == "0.72" for j in range(19))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"walk": np.asarray(MIXING.walks, dtype=float)}, InvalidInputError,
     r"single walk of shape \(n, n\); got a batch of shape \(2,\)"),
    ({"walk": [[1.0, 0.0], [0.5, 0.5]]}, InvalidInputError,
     r"P is not a forward walk: mass below the diagonal at row 1, column 0 \(value 0.5\)"),
    ({"horizon": 0}, InvalidInputError, "horizon must be at least 1; got 0"),
    ({"horizon": 2.5}, InvalidTypeError, "horizon must be an int; got 2.5"),
    ({"eps": 1.5}, InvalidInputError, "eps must lie strictly between 0 and 1; got 1.5"),
    ({"eps": "small"}, InvalidTypeError, "eps must be a real number; got 'small'"),
    ({"max_curves": 0}, InvalidInputError, "max_curves must be at least 1; got 0"),
])
def test_cdf_figure_validation(kwargs, error, message):
    kwargs = {"walk": MIXING.heads[0], **kwargs}
    with pytest.raises(error, match=message):
        absorption_cdf_figure(**kwargs)


def test_cdf_figure_renders(tmp_path):
    _assert_png(save_figure(absorption_cdf_figure(MIXING.heads[0]), tmp_path / "cdf.png"))
    walk = forward_walk(_random_attention(1, 60)[0])
    _assert_png(save_figure(absorption_cdf_figure(walk), tmp_path / "cdf60.png"))


# --- attention_heatmap_figure --------------------------------------------------------------

#: A hand-made head: receiver 3 ties its keys 1 and 2 at 0.3.
HAND = np.array([
    [1.0, 0.0, 0.0, 0.0],
    [0.6, 0.4, 0.0, 0.0],
    [0.1, 0.2, 0.7, 0.0],
    [0.05, 0.3, 0.3, 0.35],
])


def _arcs(ax):
    (arcs,) = [c for c in ax.collections if c.get_gid() == "edges"]
    return arcs


def _drawn_edges(ax):
    """``(j, i)`` of every arc, read from its end points ``(j, j)`` and ``(i, i)``."""
    edges = []
    for segment in _arcs(ax).get_segments():
        (j, j2), (i, i2) = segment[0], segment[-1]
        assert (j, i) == (j2, i2)
        edges.append((int(j), int(i)))
    return sorted(edges)


@pytest.mark.parametrize("options, edges", [
    ({}, [(0, 1), (0, 2), (1, 2), (1, 3), (2, 3)]),                              # θ = 0, 2 per query
    ({"max_edges_per_token": 1}, [(0, 1), (1, 2), (1, 3)]),                     # tie: the earlier key
    ({"max_edges_per_token": None}, [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]),
    ({"max_edges_per_token": None, "threshold": 0.15}, [(0, 1), (1, 2), (1, 3), (2, 3)]),
    ({"threshold": 0.3}, [(0, 1)]),                                              # strictly above θ
    ({"max_edges_per_token": 0}, []),
])
def test_heatmap_edge_pruning(options, edges):
    ax = attention_heatmap_figure(HAND, **options).axes[0]
    assert _drawn_edges(ax) == edges


def test_heatmap_edges_heavier_are_wider():
    arcs = _arcs(attention_heatmap_figure(HAND, max_edges_per_token=None).axes[0])
    order = [(int(s[0][0]), int(s[-1][0])) for s in arcs.get_segments()]
    widths = dict(zip(order, arcs.get_linewidths()))
    alphas = dict(zip(order, arcs.get_colors()[:, 3]))
    assert widths[(0, 1)] == max(widths.values()) and widths[(0, 3)] == min(widths.values())
    assert alphas[(0, 1)] == max(alphas.values()) == 1.0 and alphas[(0, 3)] == min(alphas.values())
    assert widths[(1, 3)] == widths[(2, 3)]


def test_heatmap_example2_images_equal_attention():
    figure = attention_heatmap_figure(SYSTEM, title="Example 2")
    assert len(figure.axes) == 3 and figure.get_suptitle() == "Example 2"
    heads = figure.axes[:2]
    assert [ax.get_title() for ax in heads] == ["head 1", "head 2"]
    for ax, attention in zip(heads, SYSTEM.attention):
        (image,) = ax.images
        data = image.get_array()
        assert image.get_gid() == "attention" and image.norm is heads[0].images[0].norm  # one shared scale
        np.testing.assert_array_equal(data.mask, np.triu(np.ones((4, 4), dtype=bool), 1))
        np.testing.assert_array_equal(data.data[~data.mask], np.asarray(attention, dtype=float)[~data.mask])
        assert list(_line(ax, "tokens").get_xdata()) == [0, 1, 2, 3]
        assert (list(_line(ax, "sink").get_xdata()), list(_line(ax, "sink").get_ydata())) == ([3], [3])
        assert [int(t) for t in ax.get_xticks()] == [0, 1, 2, 3]
    assert _drawn_edges(heads[0]) == [(0, 1), (1, 2), (2, 3)]
    assert _drawn_edges(heads[1]) == [(0, 2), (1, 2), (1, 3), (2, 3)]
    assert [ax.get_xlabel() for ax in heads] == ["key j", "key j"]
    assert [ax.get_ylabel() for ax in heads] == ["query i", ""]
    assert figure.axes[2].get_ylabel() == "attention A[i, j]"
    texts = _legend_texts(figure.legends[0])
    assert texts == ["edge j → i with A[i, j] > θ = 0 (strongest 2 per query)", "token (on the diagonal)",
                     "sink τ = 3"]


def test_heatmap_sixteen_heads_grid_labels_and_scale():
    attention = _random_attention(16, 100)
    figure = attention_heatmap_figure(attention)
    heads = figure.axes[:16]
    assert len(figure.axes) == 17
    assert [ax.get_title() for ax in heads] == [f"head {h}" for h in range(1, 17)]
    assert [ax.get_xlabel() for ax in heads] == [""] * 12 + ["key j"] * 4
    assert [ax.get_ylabel() for ax in heads] == ["query i", "", "", ""] * 4
    assert len(heads[0].get_xticks()) <= 6  # sparse ticks
    norm = heads[0].images[0].norm
    causal = attention[:, np.tril(np.ones((100, 100), dtype=bool))]
    assert norm.vmin == 0 and norm.vmax == pytest.approx(np.quantile(causal, 0.99))
    for h, ax in enumerate(heads):
        edges = _drawn_edges(ax)
        assert len(edges) == 1 + 2 * 98  # receiver 1 has one key before it, the others keep 2
        strongest = np.argsort(-np.tril(attention[h], -1)[99], kind="stable")[:2]
        assert sorted((int(j), 99) for j in strongest) == [e for e in edges if e[1] == 99]


def test_heatmap_single_head_and_own_threshold():
    figure = attention_heatmap_figure(HAND)
    assert len(figure.axes) == 2 and figure.axes[0].get_title() == ""
    assert attention_heatmap_figure(HAND, head_labels=["mine"]).axes[0].get_title() == "mine"
    system = HeadSystem(np.stack([HAND, HAND]), threshold=0.25)
    figure = attention_heatmap_figure(system, max_edges_per_token=None)
    assert [_drawn_edges(ax) for ax in figure.axes[:2]] == [[(0, 1), (1, 3), (2, 3)]] * 2
    assert "θ = 0.25 (every edge)" in _legend_texts(figure.legends[0])[0]
    assert _drawn_edges(attention_heatmap_figure(system.heads[0]).axes[0]) == [(0, 1), (1, 3), (2, 3)]


@pytest.mark.parametrize("attention, options, error, message", [
    (np.broadcast_to(HAND, (2, 2, 4, 4)), {}, InvalidInputError,
     r"attention must have shape \(n, n\) or \(H, n, n\); got shape \(2, 2, 4, 4\)"),
    ([[0.5, 0.5], [0.5, 0.5]], {}, InvalidInputError, "attention is not causal"),
    (HAND, {"threshold": -1}, InvalidInputError, "threshold must be finite and >= 0; got -1"),
    (HAND, {"threshold": "0"}, InvalidTypeError, "threshold must be a real number; got '0'"),
    (SYSTEM, {"head_labels": ["a"]}, InvalidInputError,
     r"head_labels must have one label per head \(2\); got 1: \['a'\]"),
    (SYSTEM, {"head_labels": "ab"}, InvalidTypeError, "head_labels must be a list of 2 str; got 'ab'"),
    (HAND, {"max_edges_per_token": -1}, InvalidInputError, "max_edges_per_token must be at least 0; got -1"),
    (HAND, {"max_edges_per_token": 1.5}, InvalidTypeError, "max_edges_per_token must be an int; got 1.5"),
])
def test_heatmap_validation(attention, options, error, message):
    with pytest.raises(error, match=message):
        attention_heatmap_figure(attention, **options)


def test_heatmap_renders(tmp_path):
    _assert_png(save_figure(attention_heatmap_figure(SYSTEM), tmp_path / "example2.png"))
    _assert_png(save_figure(attention_heatmap_figure(_random_attention(4, 50)), tmp_path / "four.png"))


# --- depth_signal_figure -------------------------------------------------------------------


@pytest.mark.parametrize("gamma", [Fraction(1, 2), 1])
def test_depth_figure_plots_exact_signal(gamma):
    depth = depth_signal(SYSTEM.heads, gamma)
    ax = depth_signal_figure(depth).axes[0]
    np.testing.assert_array_equal(_curves(ax, 4), np.asarray(depth.signal, dtype=float))
    np.testing.assert_array_equal(_line(ax, "signal 0").get_xdata(), [1, 2])
    assert _line(ax, "signal 0").get_marker() == "o"
    node = int(depth.node)
    assert list(_line(ax, "minimax").get_ydata()) == [float(depth.minimax)] * 2
    assert _line(ax, "minimax").get_linestyle() == "--" and f"at v = {node}" in _line(ax, "minimax").get_label()
    peak = _line(ax, "peak")
    assert (list(peak.get_xdata()), list(peak.get_ydata())) == ([int(depth.layer[node])], [float(depth.minimax)])
    assert ax.get_xlabel() == "layer ℓ" and f"(γ = {gamma})" in ax.get_title()


def test_depth_figure_example2_values_and_labels():
    """γ = 1: S^(1) = Δ^(1)[τ] = (0, 0, 1/2, 1/2), S^(2) = (Δ^(1) Δ^(2))[τ] = (1/6, 1/3, 1/3, 1/6)."""
    depth = depth_signal(SYSTEM.heads, gamma=1)
    half, third, sixth = Fraction(1, 2), Fraction(1, 3), Fraction(1, 6)
    assert [list(row) for row in depth.signal] == [[0, 0, half, half], [sixth, third, third, sixth]]
    ax = depth_signal_figure(depth, title="two heads as layers").axes[0]
    assert ax.get_title() == "two heads as layers (γ = 1)"
    texts = _legend_texts(ax.get_legend())
    assert texts[:4] == ["v = 0", "v = 1", "v = 2", "v = 3 (sink)"]
    assert "= 1/6 (0.1667) at v = 0" in texts[4] and texts[5] == "peak of v = 0 at ℓ = 2"
    assert depth_signal_figure(depth_signal(SYSTEM.heads)).axes[0].get_title() == \
        "depth signal at the sink τ = 3 (γ = 1/2)"


def test_depth_figure_random_stack_greys_out_nodes():
    layers = _random_attention(4, 20, seed=3)
    depth = depth_signal(layers)
    ax = depth_signal_figure(depth).axes[0]
    np.testing.assert_array_equal(_curves(ax, 20), depth.signal)
    kept = sorted({0, 19, int(depth.node)})
    grey = [v for v in range(20) if _line(ax, f"signal {v}").get_color() == "0.72"]
    assert grey == [v for v in range(20) if v not in kept]
    assert _line(ax, "minimax").get_ydata()[0] == depth.minimax
    assert ax.get_title() == "depth signal at the sink τ = 19 (γ = 0.5)"


@pytest.mark.parametrize("depth, options, error, message", [
    (np.zeros((2, 4)), {}, InvalidTypeError, "depth must be a DepthSignal .*; got ndarray"),
    (depth_signal(np.stack([_random_attention(2, 4, seed=1), _random_attention(2, 4, seed=2)])), {},
     InvalidInputError, r"signal of shape \(L, n\); got shape \(2, 2, 4\)"),
    (depth_signal(SYSTEM.heads), {"max_curves": 0}, InvalidInputError, "max_curves must be at least 1; got 0"),
])
def test_depth_figure_validation(depth, options, error, message):
    with pytest.raises(error, match=message):
        depth_signal_figure(depth, **options)


def test_depth_figure_renders(tmp_path):
    _assert_png(save_figure(depth_signal_figure(depth_signal(SYSTEM.heads)), tmp_path / "depth.png"))
    stack = depth_signal(_random_attention(4, 30, seed=5))
    _assert_png(save_figure(depth_signal_figure(stack), tmp_path / "depth30.png"))


def test_effects_scatter_draws_every_finite_head_in_its_layer_colour(tmp_path):
    from dagtheory.plots import effects_scatter_figure

    predicted = {"Δφ_min": np.array([[-0.1, 0.0, 0.2], [np.nan, -0.3, 0.1]]),
                 "ΔT_mix": np.array([[1.0, 2.0, np.inf], [0.0, 1.0, -1.0]])}
    measured = np.array([[0.5, 0.1, 0.0], [0.9, 0.3, 0.2]])
    figure = effects_scatter_figure(predicted, measured, title="ablation")
    first, second = figure.axes
    assert [c.get_label() for c in first.collections] == ["layer 0", "layer 1"]
    np.testing.assert_array_equal(first.collections[0].get_offsets(), [[-0.1, 0.5], [0.0, 0.1], [0.2, 0.0]])
    np.testing.assert_array_equal(first.collections[1].get_offsets(), [[-0.3, 0.3], [0.1, 0.2]])
    colors = [tuple(c.get_facecolor()[0]) for c in first.collections]
    assert colors[0] != colors[1]
    assert first.get_title() == "Δφ_min (1 head not drawn)" and second.get_title() == "ΔT_mix (1 head not drawn)"
    assert first.get_ylabel() == "measured Δ loss" and figure.get_suptitle() == "ablation"
    _assert_png(save_figure(figure, tmp_path / "scatter.png"))


@pytest.mark.parametrize("predicted, measured, error, message", [
    ([1.0], np.zeros((1, 1)), InvalidTypeError, "predicted must be a dict"),
    ({}, np.zeros((1, 1)), InvalidInputError, "at least one entry"),
    ({"a": np.zeros((2, 2))}, np.zeros((2, 3)), InvalidInputError,
     r"predicted\['a'\] must have shape \(2, 3\), the shape of measured; got shape \(2, 2\)"),
    ({"a": np.zeros((2, 2))}, np.zeros(4), InvalidInputError, r"measured must have shape \(L, H\)"),
])
def test_effects_scatter_validation(predicted, measured, error, message):
    from dagtheory.plots import effects_scatter_figure

    with pytest.raises(error, match=message):
        effects_scatter_figure(predicted, measured)
