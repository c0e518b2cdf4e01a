"""Figures (dagtheory/plots.py): the plotted numbers are the library's numbers.

Each figure is read back through its artists: curves, the ``φ_min^K`` line and
the peak marker carry gids (``"signal v"``, ``"minimax"``, ``"peak"``); bars
and error bars are the axes' containers. Known answers are §2's Example 2 at
``K = 20``: ``φ_min`` = 3/8 (head 1, node 1, t = 3), 871696090/3486784401
(head 2, node 0, t = 20) and 5/12 (combined, node 2, t = 1).
"""

import subprocess
import sys
from fractions import Fraction

import numpy as np
import pytest

pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402

from dagtheory import InvalidInputError, InvalidTypeError, minimax_fidelity, signal_curves  # noqa: E402
from dagtheory.examples import paper_example2  # noqa: E402
from dagtheory.plots import (  # noqa: E402
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
])
def test_missing_matplotlib_says_how_to_install(monkeypatch, make):
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=MISSING.replace("[", r"\[").replace("]", r"\]")):
        make()
