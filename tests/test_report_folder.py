"""The analyzer's report folder (dagtheory/report_folder.py) and the depth section of reports (§4).

The depth numbers of a report are checked against explicit rollout products of
hand-made layers (an independent path); the folder's pages against the files
they link; the figures' inputs against the analyzer's first sample.
"""

import json
import re
import sys
from fractions import Fraction

import numpy as np
import pytest

from dagtheory.examples import paper_example2
from dagtheory.exceptions import MissingDependencyError
from dagtheory.experiment import _input_attention, analyze_inputs, load_input, markdown_report, paper_tables
from dagtheory.report import to_json
from dagtheory.report_folder import _bar_groups, _first_sample, render_html, write_report_folder

pytest.importorskip("matplotlib")
pytest.importorskip("markdown")

EXAMPLE2 = np.asarray(paper_example2().attention, dtype=float)  # (2, 4, 4)


def rollout_row(layers, gamma):
    """``[R^(L) ⋯ R^(1)]_(τ, ·)`` by explicit products, for each prefix of ``layers`` (n, n)."""
    n = layers[0].shape[-1]
    product, rows = np.eye(n), []
    for op in layers:
        product = ((1 - gamma) * np.eye(n) + gamma * op) @ product
        rows.append(product[-1])
    return np.array(rows)


@pytest.fixture
def two_models(tmp_path):
    """``1_heads_toy.npy`` (head 1 of Example 2) and ``2_heads_toy.npy`` (both heads), two layers each."""
    single = np.stack([EXAMPLE2[:1], EXAMPLE2[:1]])      # (L, H, T, T) = (2, 1, 4, 4)
    both = np.stack([EXAMPLE2, EXAMPLE2[::-1]])          # layer 2 lists the heads the other way round
    paths = [tmp_path / "1_heads_toy.npy", tmp_path / "2_heads_toy.npy"]
    np.save(paths[0], single)
    np.save(paths[1], both)
    return paths


def test_depth_record_is_the_rollout_of_the_combined_layers(two_models):
    report = analyze_inputs(two_models, horizon=20, gamma=0.5)
    assert report["settings"]["gamma"] == 0.5
    single, both = (model["depth"] for model in report["models"])
    head1, combined = EXAMPLE2[0], EXAMPLE2.mean(axis=0)
    for depth, layers in ((single, [head1, head1]), (both, [combined, combined])):
        rows = rollout_row(layers, 0.5)
        np.testing.assert_allclose(depth["signal"]["mean"], rows, rtol=1e-14)
        np.testing.assert_allclose(depth["fidelity"]["mean"], rows.max(axis=0), rtol=1e-14)
        assert depth["minimax"]["mean"] == pytest.approx(rows.max(axis=0)[:-1].min(), rel=1e-14)
        np.testing.assert_allclose(depth["sink_share"]["mean"], rows[:, -1], rtol=1e-14)
        np.testing.assert_allclose(depth["layer_minimum"]["mean"], rows[:, :-1].min(axis=1), rtol=1e-14)
    # By hand: R = (I + A)/2 for head 1 (rows (1), (1/2, 1/2), (0, 1/2, 1/2), (0, 0, 1/2, 1/2)).
    # S^(1) = (0, 0, 1/4, 3/4); S^(2) = 1/4 R[w] + 3/4 R[τ] = (0, 1/16, 3/8, 9/16): u never reaches τ.
    np.testing.assert_allclose(single["signal"]["mean"], [[0, 0, 1 / 4, 3 / 4], [0, 1 / 16, 3 / 8, 9 / 16]])
    assert single["minimax"]["mean"] == 0 and list(single["minimax_node"]) == [0]


def test_depth_markdown_sections_and_comparison(two_models):
    report = analyze_inputs(two_models, horizon=20, gamma=1)
    text = markdown_report(report)
    assert text.count("### Across the stack (§4, γ = 1)") == 2
    assert "## Across the stack, models compared (§4)" in text
    # With γ = 1 the two-head stack's depth fidelity is §2's over t = 1, 2; u gets 1/9 (docs/theory.md).
    assert "| 2_heads_toy | 2 | 0.1111 (0) |" in text
    paper = paper_tables(report)
    assert "### Across the stack: depth fidelity (§4, γ = 1)" in paper
    assert "Across the stack (§4, γ = 1): the depth minimax fidelity of 2 heads is higher than that of 1 head" in paper


def test_reports_without_gamma_have_no_depth(two_models):
    report = analyze_inputs(two_models, horizon=20)
    assert all("depth" not in model for model in report["models"]) and report["settings"]["gamma"] is None
    assert "Across the stack" not in markdown_report(report) + paper_tables(report)


def links(text):
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)


def test_folder_holds_pages_json_and_every_linked_figure(two_models, tmp_path):
    report = analyze_inputs(two_models, horizon=20, gamma=0.5)
    index = write_report_folder(report, tmp_path / "out")
    folder = index.parent
    text = index.read_text()
    assert text.startswith("# dagtheory analysis") and "# The paper's comparisons" in text
    images = links(text)
    # Bars per metric for the task "toy", and per model and layer: signal, absorption, attention; depth.
    expected = {f"figures/bars_toy_{m}.png" for m in
                ("minimax_fidelity", "fidelity_proxy", "mixing_time", "mixing_proxy")}
    for name in ("1_heads_toy", "2_heads_toy"):
        expected |= {f"figures/{name}_{kind}_layer{layer}.png" for kind in ("signal", "absorption", "attention")
                     for layer in (0, 1)} | {f"figures/{name}_depth.png"}
    assert set(images) == expected and len(images) == len(expected)
    assert sorted(p.relative_to(folder).as_posix() for p in (folder / "figures").iterdir()) == sorted(expected)
    for image in images:
        assert (folder / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = (folder / "index.html").read_text()
    assert sorted(re.findall(r'<img alt="[^"]*" src="([^"]+)"', page)) == sorted(images)
    assert page.count("<table>") == text.count("\n|---") and "<h1" in page
    assert json.loads((folder / "report.json").read_text()) == json.loads(to_json(report))
    assert not list(folder.rglob("*.tmp"))


def test_folder_without_figures(two_models, tmp_path):
    report = analyze_inputs(two_models, horizon=20)
    index = write_report_folder(report, tmp_path / "pages", figures=False)
    assert sorted(p.name for p in index.parent.iterdir()) == ["index.html", "index.md", "report.json"]
    assert not links(index.read_text())


def test_figures_use_the_first_sample_and_the_reported_weights(tmp_path):
    attention = np.stack([np.stack([EXAMPLE2]), np.stack([EXAMPLE2[::-1]])])  # (S, L, H, T, T) = (2, 1, 2, 4, 4)
    path = tmp_path / "samples.npz"
    np.savez(path, attention=attention, weights=np.array([[3.0, 1.0]]))
    report = analyze_inputs([path], horizon=20)
    first, weights = _first_sample(report["models"][0], report["settings"], None, None, None)
    np.testing.assert_array_equal(first, attention[0])
    np.testing.assert_allclose(weights, [[0.75, 0.25]])


def test_a_changed_input_is_named(tmp_path):
    path = tmp_path / "changed.npy"
    np.save(path, EXAMPLE2)
    report = analyze_inputs([path], horizon=20)
    np.save(path, np.stack([EXAMPLE2, EXAMPLE2]))
    with pytest.raises(ValueError, match=r"changed.npy: its attention has \(layers, heads\) = \(2, 2\) now"):
        write_report_folder(report, tmp_path / "out")


def test_checkpoint_figures_use_the_analyzer_first_sequence(checkpoints):
    model_input = load_input(checkpoints / "4_heads_copy.pt")
    settings = {"seed": 3}
    record = {"source": str(checkpoints / "4_heads_copy.pt"), "weights": np.full((4, 4), 0.25)}
    first, _ = _first_sample(record, settings, None, 12, None)
    analyzed, _, _ = _input_attention(model_input, None, 3, 5, 12, "uniform")
    np.testing.assert_allclose(first, analyzed[0], rtol=0, atol=1e-12)
    tokens = np.arange(24).reshape(2, 12)
    first, _ = _first_sample(record, settings, tokens, None, None)
    analyzed, _, _ = _input_attention(model_input, tokens, 3, 1, None, "uniform")
    np.testing.assert_allclose(first, analyzed[0], rtol=0, atol=1e-12)


def test_bar_groups_by_task_then_the_rest(two_models, tmp_path):
    other = tmp_path / "exported.npy"
    np.save(other, EXAMPLE2)
    report = analyze_inputs([*two_models, other], horizon=20)
    groups = _bar_groups(report)
    assert [(group, list(models)) for group, models in groups] == [
        ("toy", ["1 head", "2 heads"]), ("", ["exported"])]


def test_render_html_needs_markdown(monkeypatch):
    monkeypatch.setitem(sys.modules, "markdown", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'dagtheory\[plot\]'"):
        render_html("# x")


def test_render_html_escapes_the_title():
    assert "<title>a &lt;b&gt;</title>" in render_html("text", "a <b>")


def test_exact_gamma_fraction_is_reported(two_models):
    report = analyze_inputs(two_models[:1], horizon=20, gamma=Fraction(1, 2))
    assert json.loads(to_json(report))["models"][0]["depth"]["gamma"] == 0.5


def test_depth_figure_goes_logarithmic_when_the_sink_dominates():
    from dagtheory.report_folder import _sink_dominates

    assert _sink_dominates(np.array([[0.001, 0.002, 0.5], [0.003, 0.004, 0.25]]))
    assert not _sink_dominates(np.array([[0, 1 / 16, 3 / 8, 9 / 16]]))
