"""Tests of dagtheory.experiment and dagtheory.demo, and of the commands built on them.

The analyzer's records are checked against independent computations: the §2/§3/§6
numbers of each layer recomputed from the attention with the lower-level functions
(docs/theory.md), and on the paper's checkpoints (``../shared/paper-checkpoints``,
skipped where absent) with attention extracted by ``dagtheory.torch`` and the proxies
of ``dagtheory.reference`` (§6). The commands ``analyze``, ``reproduce``, ``train`` and
``demo`` run in process, writing only under ``tmp_path``.
"""

import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import dagtheory
from dagtheory import InvalidInputError
from dagtheory.analysis import SUMMARY_METRICS, analyze_attention, summarize
from dagtheory.cli import main
from dagtheory.experiment import (
    analyze_input,
    analyze_inputs,
    load_input,
    markdown_report,
    paper_tables,
    read_tokens,
    write_text,
)
from dagtheory.reference import fidelity_proxy, mixing_proxy
from dagtheory.report import to_json

LAYERS, HEADS, TOKENS = 2, 3, 5
PNG = b"\x89PNG\r\n\x1a\n"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def needs_torch():
    return pytest.importorskip("torch")


def causal_softmax(rng, shape):
    """Random float attention ``(..., T, T)``: softmax of random scores under a causal mask."""
    size = shape[-1]
    scores = np.where(np.tril(np.ones((size, size), dtype=bool)), 2 * rng.normal(size=shape), -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.fixture
def attention():
    return causal_softmax(np.random.default_rng(3), (LAYERS, HEADS, TOKENS, TOKENS))


@pytest.fixture
def npy_path(tmp_path, attention):
    path = tmp_path / "exported.npy"
    np.save(path, attention)
    return path


@pytest.fixture
def npz_path(tmp_path, attention):
    path = tmp_path / "with_weights.npz"
    np.savez(path, attention=attention, weights=np.array([[1.0, 2.0, 1.0], [3.0, 1.0, 1.0]]))
    return path


def copy_checkpoints(source, target, names):
    target.mkdir()
    for name in names:
        shutil.copyfile(source / name, target / name)
    return target


# --------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------

def test_load_npy(npy_path, attention):
    loaded = load_input(npy_path)
    assert (loaded.kind, loaded.name, loaded.source) == ("array", "exported", str(npy_path))
    assert loaded.model is None and loaded.weights is None
    np.testing.assert_array_equal(loaded.attention, attention)


def test_load_npz_with_weights(npz_path, attention):
    loaded = load_input(npz_path)
    assert (loaded.kind, loaded.name) == ("array", "with_weights")
    np.testing.assert_array_equal(loaded.attention, attention)
    np.testing.assert_array_equal(loaded.weights, [[1.0, 2.0, 1.0], [3.0, 1.0, 1.0]])


def test_load_npz_with_one_unnamed_array(tmp_path, attention):
    path = tmp_path / "single.npz"
    np.savez(path, attention)
    loaded = load_input(path)
    np.testing.assert_array_equal(loaded.attention, attention)
    assert loaded.weights is None


def test_load_npz_without_attention_is_refused(tmp_path, attention):
    path = tmp_path / "two.npz"
    np.savez(path, first=attention, second=attention)
    with pytest.raises(InvalidInputError, match=r"two\.npz: an \.npz needs an array named 'attention'"):
        load_input(path)


class _Alarm:
    """Unpickling this object calls :func:`_ring`, which writes a file: a visible side effect."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return _ring, (self.marker,)


def _ring(marker):
    Path(marker).write_text("unpickled")
    return marker


def test_pickled_npy_is_refused_without_running_code(tmp_path):
    payload = np.empty(1, dtype=object)
    payload[0] = _Alarm(tmp_path / "rang")
    path = tmp_path / "payload.npy"
    np.save(path, payload, allow_pickle=True)
    # The payload is live: unpickling it does write the file.
    np.load(path, allow_pickle=True)
    assert (tmp_path / "rang").read_text() == "unpickled"
    (tmp_path / "rang").unlink()
    with pytest.raises(ValueError, match=r"payload\.npy: refused, the file holds pickled objects"):
        load_input(path)
    assert not (tmp_path / "rang").exists()


def test_pickled_npz_is_refused_by_name(tmp_path):
    payload = np.empty(1, dtype=object)
    payload[0] = _Alarm(tmp_path / "rang")
    path = tmp_path / "payload.npz"
    np.savez(path, attention=payload)
    with pytest.raises(InvalidInputError, match=r"payload\.npz: refused"):
        load_input(path)
    assert not (tmp_path / "rang").exists()


def test_missing_input_names_the_path(tmp_path):
    path = tmp_path / "absent.npy"
    with pytest.raises(ValueError, match=re.escape(repr(str(path))) + " does not exist"):
        load_input(path)


def test_unknown_suffix_names_the_path(tmp_path):
    path = tmp_path / "attention.csv"
    path.write_text("1,0\n0.5,0.5\n")
    with pytest.raises(ValueError, match=re.escape(repr(str(path))) + r" has suffix '\.csv'"):
        load_input(path)


def test_unreadable_npy_names_the_path(tmp_path):
    path = tmp_path / "garbage.npy"
    path.write_bytes(b"not numpy at all")
    with pytest.raises(InvalidInputError, match=re.escape(str(path)) + ": "):
        load_input(path)


def test_read_tokens_npy(tmp_path):
    one, many = tmp_path / "one.npy", tmp_path / "many.npy"
    np.save(one, np.array([3, 1, 4, 1, 5]))
    np.save(many, np.array([[3, 1, 4], [1, 5, 9]]))
    assert read_tokens(one).tolist() == [[3, 1, 4, 1, 5]]
    assert read_tokens(many).tolist() == [[3, 1, 4], [1, 5, 9]]


def test_read_tokens_text(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("3 1 4 1\n\n 5 9 2 6 \n")
    tokens = read_tokens(path)
    assert tokens.tolist() == [[3, 1, 4, 1], [5, 9, 2, 6]]
    assert tokens.dtype.kind == "i"


def test_read_tokens_refuses_a_bad_token(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("3 1 x 1\n")
    with pytest.raises(InvalidInputError, match=r"tokens\.txt: tokens must be whitespace-separated ints"):
        read_tokens(path)


@pytest.mark.parametrize("content", [np.array([0.5, 1.5]), np.zeros((0,), dtype=int),
                                     np.zeros((1, 2, 3), dtype=int)])
def test_read_tokens_refuses_non_int_or_badly_shaped_arrays(tmp_path, content):
    path = tmp_path / "tokens.npy"
    np.save(path, content)
    with pytest.raises(InvalidInputError, match=r"tokens\.npy: expected int tokens"):
        read_tokens(path)


# --------------------------------------------------------------------------------------
# Reports
# --------------------------------------------------------------------------------------

def test_report_structure(npy_path, npz_path):
    report = analyze_inputs([npy_path, npz_path], horizon=20, samples=1)
    assert set(report) == {"dagtheory_version", "settings", "models"}
    assert report["dagtheory_version"] == dagtheory.__version__
    assert report["settings"] == {"horizon": 20, "eps": 0.25, "weights": "learned", "seed": 0,
                                  "samples": 1, "max_steps": 100_000, "backend": "numpy", "gamma": None}
    assert [m["name"] for m in report["models"]] == ["exported", "with_weights"]
    for model in report["models"]:
        assert (model["kind"], model["layers_count"], model["heads"], model["tokens"],
                model["samples"]) == ("array", LAYERS, HEADS, TOKENS, 1)
        assert [layer["layer"] for layer in model["layers"]] == list(range(LAYERS))
        for layer in model["layers"]:
            for name in SUMMARY_METRICS:
                assert set(layer[name]) == {"mean", "std"}, name
            for name in ("fidelity_proxy_node", "minimax_node", "best_head"):
                assert np.shape(layer[name]) == (1,), name
            assert 0 <= layer["sink_decides_share"] <= 1 and 0 <= layer["amplifies_share"] <= 1
    json.loads(to_json(report))


def test_report_numbers_are_the_layers_numbers(npz_path, attention):
    # Learned weights (§1) from the file; each layer's §2/§3/§6 numbers recomputed one
    # matrix at a time with the lower-level functions.
    model = analyze_inputs([npz_path], horizon=20)["models"][0]
    assert (model["weights_kind"], model["note"]) == ("learned", None)
    raw = np.array([[1.0, 2.0, 1.0], [3.0, 1.0, 1.0]])
    np.testing.assert_allclose(model["weights"], raw / raw.sum(axis=1, keepdims=True))
    for layer, record in enumerate(model["layers"]):
        heads, alpha = attention[layer], raw[layer] / raw[layer].sum()
        combined = np.tensordot(alpha, heads, axes=1)
        mixture = sum(a * dagtheory.forward_walk(head) for a, head in zip(alpha, heads))
        expected = {
            "fidelity_proxy": 100 * float(dagtheory.minimax_fidelity(combined, 20, sources="all")),
            "mixing_proxy": float(mixing_proxy(heads, alpha).value),
            "minimax_fidelity": float(dagtheory.minimax_fidelity(combined, 20)),
            "mixing_time": dagtheory.mixing_time(mixture),
            "hitting_time_max": dagtheory.hitting_times(mixture)[:-1].max(),
        }
        for name, value in expected.items():
            assert record[name]["mean"] == pytest.approx(value, rel=1e-10), name
            assert record[name]["std"] == 0, name


def test_arrays_without_weights_fall_back_to_uniform(npy_path, npz_path, attention):
    record = analyze_input(load_input(npy_path), horizon=20)
    assert record["weights_kind"] == "uniform"
    assert "no head weights" in record["note"] and "uniform" in record["note"]
    np.testing.assert_allclose(record["weights"], np.full((LAYERS, HEADS), 1 / HEADS))
    expected = summarize(analyze_attention(attention, horizon=20))
    for layer in range(LAYERS):
        mean = record["layers"][layer]["minimax_fidelity"]["mean"]
        assert mean == expected["minimax_fidelity"]["mean"][layer]
    # Asking for uniform weights explicitly is not a fallback: no note.
    chosen = analyze_input(load_input(npz_path), horizon=20, weights="uniform")
    assert (chosen["weights_kind"], chosen["note"]) == ("uniform", None)
    assert chosen["layers"][0]["minimax_fidelity"]["mean"] == record["layers"][0]["minimax_fidelity"]["mean"]


def test_unknown_weights_option_is_refused(npy_path):
    with pytest.raises(InvalidInputError, match="weights must be 'learned' or 'uniform'; got 'best'"):
        analyze_input(load_input(npy_path), weights="best")


def test_samples_of_an_array_are_its_leading_axis(tmp_path):
    rng = np.random.default_rng(5)
    stack = causal_softmax(rng, (4, LAYERS, HEADS, TOKENS, TOKENS))
    path = tmp_path / "stack.npy"
    np.save(path, stack)
    record = analyze_input(load_input(path), horizon=20)
    assert record["samples"] == 4
    per_sample = [float(fidelity_proxy(stack[s, 1]).percent) for s in range(4)]
    assert record["layers"][1]["fidelity_proxy"]["mean"] == pytest.approx(np.mean(per_sample), rel=1e-10)
    assert record["layers"][1]["fidelity_proxy"]["std"] == pytest.approx(np.std(per_sample, ddof=1), rel=1e-8)


def test_markdown_names_every_model_and_layer(npy_path, npz_path):
    report = analyze_inputs([npy_path, npz_path], horizon=20)
    text = markdown_report(report)
    assert text.startswith("# dagtheory analysis\n") and text.endswith("\n")
    assert "Horizon K = 20, ε = 0.25, learned head weights" in text
    for model in report["models"]:
        section = text.split(f"## {model['name']}\n", 1)[1].split("\n## ", 1)[0]
        assert f"{LAYERS} layers × {HEADS} heads, T = {TOKENS}" in section
        rows = [line for line in section.splitlines() if re.match(r"\| \d+ \|", line)]
        assert [int(row.split("|")[1]) for row in rows] == list(range(LAYERS))
        assert all(row.count("|") == 12 for row in rows)          # 11 columns
    assert "(the array carries no head weights, so uniform weights were used)" in text


def test_markdown_marks_mixing_beyond_the_budget(npy_path):
    report = analyze_inputs([npy_path], horizon=20, max_steps=1)
    assert math.isnan(report["models"][0]["layers"][0]["mixing_time"]["mean"])
    text = markdown_report(report)
    assert "> budget" in text and "more than 1 steps" in text


def test_write_text_is_atomic(tmp_path):
    target = tmp_path / "deep" / "report.md"
    text = "line\n" * 10_000 + "ünïcödé ⚑\n"
    assert write_text(target, text) == target
    assert target.read_text(encoding="utf-8") == text
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]
    write_text(target, "short\n")
    assert target.read_text(encoding="utf-8") == "short\n"
    # A write that fails part-way leaves the old file whole and no temporary file behind.
    with pytest.raises(TypeError):
        write_text(target, 12345)
    assert target.read_text(encoding="utf-8") == "short\n"
    assert [p.name for p in target.parent.iterdir()] == ["report.md"]


# --------------------------------------------------------------------------------------
# paper_tables on hand-made records (no checkpoints needed)
# --------------------------------------------------------------------------------------

def hand_model(name, minimax, mixing, amplification, sink):
    metrics = {"minimax_fidelity": minimax, "mixing_proxy": mixing, "amplification": amplification,
               "fidelity_proxy": minimax, "mixing_time": mixing}
    layers = [dict({k: {"mean": v[layer], "std": 0.0} for k, v in metrics.items()},
                   layer=layer, sink_decides_share=sink[layer]) for layer in range(len(minimax))]
    return {"name": name, "layers_count": len(minimax), "layers": layers}


def test_paper_tables_count_the_wins_per_layer():
    report = {"models": [
        hand_model("1_heads_copy", [0.5, 0.5, 0.5], [10.0, 10.0, 10.0], [1.0, 1.0, 1.0], [0, 0, 0]),
        hand_model("4_heads_copy", [0.6, 0.4, 0.7], [12.0, 8.0, 9.0], [1.2, 0.9, 1.0], [0, 0.5, 0]),
        hand_model("unrelated", [0.0], [0.0], [0.0], [1.0]),
    ]}
    text = paper_tables(report)
    assert "## Task: copy" in text and "unrelated" not in text
    assert ("- 4 heads vs 1 head: higher non-sink minimax fidelity on 2 of 3 layers, faster mixing "
            "(lower mixing proxy) on 2 of 3.") in text
    assert "- 4 heads: combined heads beat the best single head (ρ > 1) on 1 of 3 layers." in text
    assert "in: 4 heads: layer 1." in text


def test_paper_tables_without_a_single_head_model():
    report = {"models": [hand_model("4_heads_cycle", [0.6], [3.0], [1.1], [0])]}
    text = paper_tables(report)
    assert "No single-head model" in text
    assert "In no layer is the paper's proxy decided by the sink itself." in text


# --------------------------------------------------------------------------------------
# The paper's checkpoints (skipped where ../shared/paper-checkpoints is absent)
# --------------------------------------------------------------------------------------

def test_checkpoint_fidelity_proxy_by_an_independent_path(checkpoints):
    needs_torch()
    from dagtheory.torch import extract_attention, learned_head_weights, load_checkpoint

    path = checkpoints / "4_heads_copy.pt"
    record = analyze_input(load_input(path), samples=2, seed=0)
    assert (record["kind"], record["heads"], record["layers_count"], record["tokens"],
            record["samples"], record["weights_kind"]) == ("checkpoint", 4, 4, 100, 2, "learned")
    model = load_checkpoint(path, heads=4)
    # Two uniform random sequences of the model's maximum length, seed 0 (the analyzer's draw).
    tokens = np.random.default_rng(0).integers(0, 256, size=(2, 100))
    attention = extract_attention(model, tokens)                       # (2, L, H, T, T)
    weights = [learned_head_weights(model, layer) for layer in range(4)]
    np.testing.assert_allclose(record["weights"], weights, rtol=1e-12)
    for layer in range(4):
        # §6: the fidelity proxy of each sample, from dagtheory.reference, then the mean.
        per_sample = [float(fidelity_proxy(attention[s, layer], weights[layer]).percent) for s in range(2)]
        mean = record["layers"][layer]["fidelity_proxy"]["mean"]
        assert mean == pytest.approx(np.mean(per_sample), rel=1e-9)
        assert record["layers"][layer]["fidelity_proxy"]["std"] == pytest.approx(
            np.std(per_sample, ddof=1), rel=1e-6)


@pytest.fixture
def cycle_report(checkpoints):
    needs_torch()
    return analyze_inputs([checkpoints / "1_heads_cycle.pt", checkpoints / "4_heads_cycle.pt"],
                          samples=1, seed=0)


def test_paper_verdicts_follow_the_numbers(cycle_report):
    single, multi = cycle_report["models"]
    assert (single["name"], multi["name"]) == ("1_heads_cycle", "4_heads_cycle")
    text = paper_tables(cycle_report)

    def means(model, metric):
        return [layer[metric]["mean"] for layer in model["layers"]]

    fidelity_wins = sum(m > s for m, s in zip(means(multi, "minimax_fidelity"),
                                              means(single, "minimax_fidelity")))
    mixing_wins = sum(m < s for m, s in zip(means(multi, "mixing_proxy"), means(single, "mixing_proxy")))
    amplifies = sum(r > 1 for r in means(multi, "amplification"))
    assert (f"- 4 heads vs 1 head: higher non-sink minimax fidelity on {fidelity_wins} of 4 layers, "
            f"faster mixing (lower mixing proxy) on {mixing_wins} of 4.") in text
    assert f"- 4 heads: combined heads beat the best single head (ρ > 1) on {amplifies} of 4 layers." in text


def test_paper_tables_name_the_layers_the_sink_decides(cycle_report, checkpoints):
    from dagtheory.torch import extract_attention, load_checkpoint

    single, multi = cycle_report["models"]
    # docs/proxies.md, "On the paper's trained models": on the 1-head cycle model the sink
    # decides the fidelity proxy in every layer. Checked here on the extracted attention.
    model = load_checkpoint(checkpoints / "1_heads_cycle.pt")
    attention = extract_attention(model, np.random.default_rng(0).integers(0, 256, size=100))
    assert all(fidelity_proxy(attention[layer]).sink_decides for layer in range(4))
    assert [layer["sink_decides_share"] for layer in single["layers"]] == [1.0] * 4
    text = paper_tables(cycle_report)
    sentence = text.split("decided by the sink's own self-attention (its arg-min is the last token) in: ")[1]
    listed = [(heads, layer)
              for heads, layers in re.findall(r"(\d+) heads?: layers? ([\d, ]+)", sentence.split(". The non-sink")[0])
              for layer in re.findall(r"\d+", layers)]
    expected = [(str(h), str(layer)) for h, m in ((1, single), (4, multi))
                for layer in range(4) if m["layers"][layer]["sink_decides_share"] > 0]
    assert listed == expected
    assert expected[:4] == [("1", str(layer)) for layer in range(4)]


# --------------------------------------------------------------------------------------
# The commands
# --------------------------------------------------------------------------------------

def test_cli_analyze_prints_json(npy_path, capsys):
    assert main(["analyze", str(npy_path), "--json", "-", "--horizon", "20"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [m["name"] for m in report["models"]] == ["exported"]
    assert report["settings"]["horizon"] == 20
    assert len(report["models"][0]["layers"]) == LAYERS


def test_cli_analyze_writes_markdown(npy_path, tmp_path, capsys):
    out = tmp_path / "reports" / "analysis.md"
    assert main(["analyze", str(npy_path), "--markdown", str(out)]) == 0
    printed = capsys.readouterr().err
    assert f"wrote {out}" in printed
    text = out.read_text(encoding="utf-8")
    assert text == markdown_report(analyze_inputs([npy_path]))
    assert "## exported" in text


@pytest.mark.parametrize("name, content", [
    ("absent.npy", None),
    ("attention.csv", b"1,0\n"),
    ("garbage.npz", b"not an archive"),
])
def test_cli_analyze_bad_input_exits_2_with_one_line(tmp_path, capsys, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert main(["analyze", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("dagtheory analyze: error: ")
    assert name in lines[0] and "Traceback" not in captured.err


def test_cli_analyze_refuses_a_pickled_array(tmp_path, capsys):
    payload = np.empty(1, dtype=object)
    payload[0] = _Alarm(tmp_path / "rang")
    path = tmp_path / "payload.npy"
    np.save(path, payload, allow_pickle=True)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "refused" in err
    assert not (tmp_path / "rang").exists()


def test_cli_reproduce_paper(checkpoints, tmp_path, capsys):
    needs_torch()
    folder = copy_checkpoints(checkpoints, tmp_path / "checkpoints", ["1_heads_copy.pt", "4_heads_copy.pt"])
    out = tmp_path / "report"
    assert main(["reproduce", "paper", "--checkpoints", str(folder), "--out", str(out),
                 "--samples", "1"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# The paper's experiment, reproduced")
    names = {p.name for p in out.iterdir()}
    assert {"report.json", "analysis.md", "paper.md"} <= names
    pngs = sorted(n for n in names if n.endswith(".png"))
    assert pngs == sorted([f"copy_{m}.png" for m in ("minimax_fidelity", "fidelity_proxy", "mixing_proxy",
                                                       "mixing_time")]
                          + ["signal_1_heads_copy_layer0.png", "signal_4_heads_copy_layer0.png"])
    assert all((out / n).read_bytes().startswith(PNG) for n in pngs)
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [m["name"] for m in report["models"]] == ["1_heads_copy", "4_heads_copy"]
    assert report["settings"]["samples"] == 1
    assert "## Task: copy" in (out / "paper.md").read_text(encoding="utf-8")
    assert "## 4_heads_copy" in (out / "analysis.md").read_text(encoding="utf-8")


def test_cli_reproduce_without_checkpoints_exits_2(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["reproduce", "paper", "--checkpoints", str(tmp_path / "empty"), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "no checkpoints named like" in err


def test_cli_train_then_analyze(tmp_path, capsys):
    needs_torch()
    out = tmp_path / "runs"
    assert main(["train", "--task", "copy", "--heads", "1", "2", "--epochs", "1", "--steps-per-epoch", "2",
                 "--batch-size", "4", "--seq-len", "8", "--vocab-size", "16", "--layers", "1",
                 "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert f"saved to {out}" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "1_heads_copy.json", "1_heads_copy.pt", "2_heads_copy.json", "2_heads_copy.pt"]
    records = [json.loads((out / f"{h}_heads_copy.json").read_text()) for h in (1, 2)]
    assert [r["config"]["heads"] for r in records] == [1, 2]
    assert records[0]["parameters"] == records[1]["parameters"]           # parameter-matched
    assert all(r["config"]["model"]["n_layers"] == 1 and r["config"]["seq_len"] == 8 for r in records)

    tokens = tmp_path / "tokens.txt"
    tokens.write_text("1 2 3 4 5 6\n6 5 4 3 2 1\n0 0 0 0 0 0\n")
    checkpoints = [str(out / "1_heads_copy.pt"), str(out / "2_heads_copy.pt")]
    assert main(["analyze", *checkpoints, "--tokens", str(tokens), "--json", "-"]) == 0
    report = json.loads(capsys.readouterr().out)
    shapes = [(m["name"], m["heads"], m["layers_count"], m["samples"], m["tokens"]) for m in report["models"]]
    assert shapes == [
        ("1_heads_copy", 1, 1, 3, 6), ("2_heads_copy", 2, 1, 3, 6)]
    # A single head is its own best head: ρ = 1 (§2).
    assert report["models"][0]["layers"][0]["amplification"]["mean"] == 1.0


# --------------------------------------------------------------------------------------
# The demo, with tiny models
# --------------------------------------------------------------------------------------

TINY_MODEL = {"vocab_size": 16, "d_model": 16, "n_layers": 1, "d_mlp": 32, "max_len": 8}
TINY_TRAINING = {"seq_len": 8, "epochs": 1, "steps_per_epoch": 3, "batch_size": 4, "seed": 0}


def test_demo_writes_reports_and_reuses_its_cache(tmp_path, monkeypatch, capsys):
    needs_torch()
    from dagtheory import demo

    monkeypatch.setattr(demo, "DEMO_MODEL", dict(TINY_MODEL))
    monkeypatch.setattr(demo, "DEMO_TRAINING", dict(TINY_TRAINING))
    out, cache = tmp_path / "out", tmp_path / "cache"
    text = demo.run_demo(out, cache=cache, progress=False)

    names = {p.name for p in out.iterdir()}
    assert {"analysis.md", "report.json", "example2.png", "minimax_fidelity.png", "mixing_proxy.png",
            "signal_1_heads_copy.png", "signal_4_heads_copy.png"} <= names
    assert all((out / n).read_bytes().startswith(PNG) for n in names if n.endswith(".png"))
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [(m["name"], m["heads"], m["samples"], m["tokens"]) for m in report["models"]] == [
        ("1_heads_copy", 1, 4, 8), ("4_heads_copy", 4, 4, 8)]
    assert "10/9" in text                                   # Example 2's ρ (§2)
    assert (out / "analysis.md").read_text(encoding="utf-8") in text
    assert f"wrote {out}/analysis.md" in text

    checkpoints = [cache / "1_heads_copy.pt", cache / "4_heads_copy.pt"]
    long_ago = 1_000_000_000
    for path in checkpoints:
        os.utime(path, (long_ago, long_ago))

    # Same configuration, through the command: the cached models are loaded, not retrained.
    assert main(["demo", "--out", str(out), "--cache", str(cache), "--no-progress"]) == 0
    assert "10/9" in capsys.readouterr().out
    assert [p.stat().st_mtime for p in checkpoints] == [long_ago, long_ago]

    # A changed training configuration retrains both models.
    monkeypatch.setattr(demo, "DEMO_TRAINING", {**TINY_TRAINING, "seed": 1})
    demo.run_demo(out, cache=cache, progress=False)
    assert all(p.stat().st_mtime != long_ago for p in checkpoints)
    assert json.loads((cache / "4_heads_copy.json").read_text())["config"]["seed"] == 1


def test_read_tokens_refuses_lines_of_different_lengths(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("1 2 3\n4 5\n")
    with pytest.raises(InvalidInputError, match=r"same length; got lengths \[2, 3\]"):
        read_tokens(path)


def test_a_text_file_named_npy_is_not_called_a_pickle(tmp_path):
    path = tmp_path / "plain.npy"
    path.write_text("hello")
    with pytest.raises(InvalidInputError, match=r"plain\.npy: not a \.npy/\.npz file"):
        load_input(path)


@pytest.mark.parametrize("wins, total, expected", [(3, 3, "holds"), (0, 3, "does not hold"),
                                                    (1, 3, "holds in part (1 of 3)")])
def test_verdict_words(wins, total, expected):
    from dagtheory.experiment import _verdict

    assert _verdict(wins, total) == expected


def test_paper_tables_name_the_horizon_and_eps_of_the_run(tmp_path):
    from dagtheory.examples import paper_example2

    heads = np.asarray(paper_example2().attention, dtype=float)
    np.save(tmp_path / "1_heads_toy.npy", heads[:1])
    np.save(tmp_path / "2_heads_toy.npy", heads)
    report = analyze_inputs([tmp_path / "1_heads_toy.npy", tmp_path / "2_heads_toy.npy"], horizon=20, eps=0.1)
    text = paper_tables(report)
    assert "### Mixing time T_mix(1/10) of P̄(α) (§3)" in text
    assert "### Minimax fidelity φ_min^20, non-sink sources (§2)" in text
    assert "array, 1 layer × 1 head, T = 4" in markdown_report(report)
