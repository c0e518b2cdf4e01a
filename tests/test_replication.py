"""Tests of dagtheory.replication: seeds, confidence intervals over seeds, and their outputs.

The interval arithmetic is checked against a hand computation with
``scipy.stats.t``; replication runs use tiny models (vocabulary 16,
``d_model`` 16, sequences of 8 tokens, a few training steps).
"""

import json
import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
stats = pytest.importorskip("scipy.stats")

from dagtheory.cli import main  # noqa: E402
from dagtheory.exceptions import InvalidInputError, InvalidTypeError  # noqa: E402
from dagtheory.report import format_number  # noqa: E402
from dagtheory.replication import (  # noqa: E402
    LAYER_METRICS,
    confidence_interval,
    replicate,
    replication_markdown,
)

TINY = dict(seq_len=8, epochs=1, steps_per_epoch=3, batch_size=4, samples=2, horizon=20,
            vocab_size=16, d_model=16, n_layers=2, d_mlp=32)

TINY_CLI = ["--seq-len", "8", "--epochs", "1", "--steps-per-epoch", "3", "--batch-size", "4",
            "--vocab-size", "16", "--d-model", "16", "--layers", "2", "--d-mlp", "32",
            "--samples", "2", "--horizon", "20", "--no-progress"]

CI_KEYS = {"mean", "low", "high", "half_width", "std", "n", "values", "note"}


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and do not slow down next to other processes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    """Two seeds, both tasks, heads 1 and 2, trained and analyzed once for the module."""
    out = tmp_path_factory.mktemp("replication")
    result = replicate(("copy", "cycle"), (1, 2), (0, 1), out_dir=out, **TINY)
    return out, result


# ---------------------------------------------------------------------------
# confidence_interval


@pytest.mark.parametrize("values", [[1.0, 2.0, 3.0], [0.25, 0.5], [3.0, 3.5, 2.0, 8.0, 1.0]])
def test_interval_matches_a_hand_computation(values):
    k = len(values)
    mean = sum(values) / k
    s = math.sqrt(sum((v - mean) ** 2 for v in values) / (k - 1))
    half = stats.t.ppf(0.975, k - 1) * s / math.sqrt(k)
    ci = confidence_interval(values)
    assert set(ci) == CI_KEYS and ci["n"] == k and ci["note"] is None and ci["values"] == values
    assert ci["mean"] == pytest.approx(mean, rel=1e-12)
    assert ci["std"] == pytest.approx(s, rel=1e-12)
    assert ci["half_width"] == pytest.approx(half, rel=1e-12)
    assert (ci["low"], ci["high"]) == pytest.approx((mean - half, mean + half), rel=1e-12)


def test_interval_known_value_and_level():
    ci = confidence_interval([1.0, 2.0, 3.0])
    assert ci["half_width"] == pytest.approx(4.302653 / math.sqrt(3), rel=1e-6)  # t table: 4.303
    wider = confidence_interval([1.0, 2.0, 3.0], level=0.99)
    assert wider["half_width"] == pytest.approx(stats.t.ppf(0.995, 2) / math.sqrt(3), rel=1e-12)
    assert confidence_interval([2.0, 2.0, 2.0])["half_width"] == 0.0


def test_interval_of_one_seed_is_undefined():
    ci = confidence_interval([0.7])
    assert ci["mean"] == 0.7 and ci["n"] == 1
    assert all(math.isnan(ci[key]) for key in ("low", "high", "half_width", "std"))
    assert ci["note"] == "one seed: the interval is undefined"


def test_interval_beyond_the_budget():
    ci = confidence_interval([10.0, float("nan"), 12.0])
    assert math.isnan(ci["mean"]) and math.isnan(ci["low"]) and "step budget" in ci["note"]


@pytest.mark.parametrize("values, level, message", [
    ([], 0.95, "values is empty"),
    ([1.0, 2.0], 1.0, "level must be in"),
    ([1.0, 2.0], 0.0, "level must be in"),
])
def test_interval_errors(values, level, message):
    with pytest.raises(InvalidInputError, match=message):
        confidence_interval(values, level=level)


# ---------------------------------------------------------------------------
# replicate


def test_files_written(tiny_run):
    out, _ = tiny_run
    assert sorted(p.name for p in out.iterdir()) == [
        "copy_minimax_fidelity_ci.png", "copy_mixing_time_ci.png", "cycle_minimax_fidelity_ci.png",
        "cycle_mixing_time_ci.png", "replication.json", "replication.md", "seed0", "seed1"]
    for seed in (0, 1):
        names = sorted(p.name for p in (out / f"seed{seed}").iterdir())
        assert names == sorted([f"{h}_heads_{t}.{suffix}" for h in (1, 2) for t in ("copy", "cycle")
                                for suffix in ("pt", "json")] + ["paper.md", "report.json"])
    assert not list(out.rglob(".*.tmp"))
    for png in out.glob("*.png"):
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_json_schema(tiny_run):
    out, result = tiny_run
    data = json.loads((out / "replication.json").read_text())
    assert set(data) == {"dagtheory_version", "settings", "tasks"}
    settings = data["settings"]
    assert settings["seeds"] == [0, 1] and settings["heads"] == [1, 2] and settings["level"] == 0.95
    assert settings["tasks"] == ["copy", "cycle"] and settings["trained"] is True
    assert settings["seq_len"] == 8 and settings["epochs"] == 1 and settings["steps_per_epoch"] == 3
    assert set(settings["seconds"]) == {"train", "analyze"}
    assert set(data["tasks"]) == {"copy", "cycle"}
    for task, entry in data["tasks"].items():
        assert set(entry) == {"models", "claims"}
        assert [m["heads"] for m in entry["models"]] == [1, 2]
        for model in entry["models"]:
            assert model["name"] == f"{model['heads']}_heads_{task}"
            assert set(model) == {"name", "heads", "parameters", "layers_count", "accuracy", "final_loss",
                                  "layers", "depth_minimax"}
            assert model["parameters"] == entry["models"][0]["parameters"]
            assert len(model["layers"]) == model["layers_count"] == 2
            for ci in [model["accuracy"], model["final_loss"], model["depth_minimax"],
                       *[layer[m] for layer in model["layers"] for m in LAYER_METRICS]]:
                assert set(ci) == CI_KEYS and ci["n"] == 2 and len(ci["values"]) == 2
        claims = entry["claims"]
        assert set(claims) == {"fidelity", "mixing", "mixing_time", "amplification", "depth"}
        fidelity = claims["fidelity"]
        assert fidelity["seeds"] == 2 and 0 <= fidelity["seeds_held"] <= 2
        assert fidelity["per_heads"][0]["heads"] == 2
        for row in fidelity["per_heads"][0]["layers"]:
            assert row["intervals"] in {"overlap", "multi-head better", "1 head better"}


def test_aggregates_are_the_per_seed_numbers(tiny_run):
    out, result = tiny_run
    model = result["tasks"]["cycle"]["models"][1]
    per_seed = []
    for seed in (0, 1):
        report = json.loads((out / f"seed{seed}" / "report.json").read_text())
        record = next(m for m in report["models"] if m["name"] == "2_heads_cycle")
        per_seed.append(float(record["layers"][1]["minimax_fidelity"]["mean"]))
        training = json.loads((out / f"seed{seed}" / "2_heads_cycle.json").read_text())
        assert model["accuracy"]["values"][seed] == training["accuracy"]
        assert model["final_loss"]["values"][seed] == training["history"][-1]
    ci = model["layers"][1]["minimax_fidelity"]
    assert ci["values"] == pytest.approx(per_seed, rel=1e-12)
    half = stats.t.ppf(0.975, 1) * np.std(per_seed, ddof=1) / math.sqrt(2)
    assert ci["low"] == pytest.approx(np.mean(per_seed) - half, rel=1e-9)


def test_markdown_cells_and_verdicts(tiny_run):
    out, result = tiny_run
    text = (out / "replication.md").read_text()
    assert text == replication_markdown(result)
    assert "## Task: copy" in text and "## Task: cycle" in text
    ci = result["tasks"]["copy"]["models"][0]["layers"][0]["minimax_fidelity"]
    cell = (f"{format_number(ci['mean'], 4)} [{format_number(ci['low'], 3)}, "
            f"{format_number(ci['high'], 3)}]")
    assert f"| layer 0 | {cell} |" in text
    assert "seeds (every multi-head model, every layer)" in text
    assert "intervals: " in text


def test_same_seeds_same_numbers_and_reuse(tiny_run, tmp_path):
    out, result = tiny_run
    again = replicate(("copy",), (1, 2), (0, 1), out_dir=tmp_path, plots=False, **TINY)
    assert again["tasks"]["copy"] == result["tasks"]["copy"]
    reused = replicate(("copy",), (1, 2), (0, 1), out_dir=tmp_path, plots=False, train=False,
                       **{k: v for k, v in TINY.items() if k in ("samples", "horizon", "seq_len")})
    assert reused["tasks"]["copy"] == result["tasks"]["copy"]
    assert reused["settings"]["trained"] is False and reused["settings"]["epochs"] == 1


def test_one_seed_says_the_interval_is_undefined(tmp_path):
    result = replicate(("copy",), (1, 2), (4,), out_dir=tmp_path, plots=False, **TINY)
    ci = result["tasks"]["copy"]["models"][0]["layers"][0]["mixing_time"]
    assert ci["note"] == "one seed: the interval is undefined"
    rows = result["tasks"]["copy"]["claims"]["fidelity"]["per_heads"][0]["layers"]
    assert {row["intervals"] for row in rows} == {"undefined (one seed)"}
    text = (tmp_path / "replication.md").read_text()
    assert "[undefined]" in text and "With one seed the interval is undefined." in text


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(tasks=("reverse",)), InvalidInputError, "tasks: unknown task 'reverse'"),
    (dict(tasks="copy"), InvalidTypeError, "tasks must be a sequence"),
    (dict(tasks=()), InvalidInputError, "tasks is empty"),
    (dict(seeds=(0, 0)), InvalidInputError, "seeds has repeated values"),
    (dict(seeds=()), InvalidInputError, "seeds is empty"),
    (dict(heads=(1, 3)), InvalidInputError, "d_model = 16 is not divisible by 3 heads"),
    (dict(level=1.5), InvalidInputError, "level must be in"),
])
def test_errors_before_training(tmp_path, kwargs, error, message):
    options = dict(tasks=("copy",), heads=(1, 2), seeds=(0,), out_dir=tmp_path / "out", **TINY)
    with pytest.raises(error, match=message):
        replicate(**{**options, **kwargs})
    assert not (tmp_path / "out").exists()


def test_reuse_needs_the_checkpoints(tmp_path):
    with pytest.raises(InvalidInputError, match=r"train=False needs the checkpoints .* missing 2"):
        replicate(("copy",), (1, 2), (0,), out_dir=tmp_path, train=False)


# ---------------------------------------------------------------------------
# The command line


def test_train_seeds_cli(tmp_path, capsys):
    argv = ["train", "--task", "cycle", "--heads", "1", "2", "--seeds", "0", "2", "--epochs", "1",
            "--steps-per-epoch", "2", "--batch-size", "4", "--seq-len", "8", "--vocab-size", "16",
            "--layers", "1", "--out", str(tmp_path), "--no-progress"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split() == ["seed", "heads", "parameters", "final", "loss", "accuracy"]
    assert f"saved to {tmp_path}/seed{{S}}" in out
    for seed in (0, 2):
        assert sorted(p.name for p in (tmp_path / f"seed{seed}").glob("*.pt")) == [
            "1_heads_cycle.pt", "2_heads_cycle.pt"]
    assert main(["reproduce", "paper", "--checkpoints", str(tmp_path / "seed2"), "--out", str(tmp_path / "r"),
                 "--samples", "1", "--horizon", "10", "--no-plots"]) == 0
    assert "## Task: cycle" in (tmp_path / "r" / "paper.md").read_text()


def test_train_seed_and_seeds_together_is_an_error(tmp_path, capsys):
    assert main(["train", "--seed", "1", "--seeds", "2", "3", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == "dagtheory train: error: --seed and --seeds cannot be used together; give one of them\n"
    assert not list(tmp_path.iterdir())


def test_reproduce_train_end_to_end(tmp_path, capsys):
    out = tmp_path / "rep"
    argv = ["reproduce", "paper", "--train", "--seeds", "0", "1", "--tasks", "copy", "--heads", "1", "2",
            "--out", str(out), "--no-plots", *TINY_CLI]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("# Single- versus multi-head, replicated over seeds")
    assert f"wrote {out}/replication.json" in printed
    data = json.loads((out / "replication.json").read_text())
    assert data["settings"]["seeds"] == [0, 1] and data["settings"]["d_model"] == 16
    reference = replicate(("copy",), (1, 2), (0, 1), out_dir=tmp_path / "api", plots=False, **TINY)
    assert json.loads(json.dumps(reference["tasks"]["copy"]["models"][1]["layers"][0]["mixing_proxy"])) == \
        data["tasks"]["copy"]["models"][1]["layers"][0]["mixing_proxy"]


@pytest.mark.parametrize("argv, message", [
    (["--train", "--checkpoints", "x"], "--checkpoints and --train cannot be used together"),
    (["--train", "--seed", "3"], "--seed is the analysis seed of --checkpoints; with --train give --seeds"),
    (["--seeds", "0", "1", "--checkpoints", "x"], "--seeds only apply with --train"),
    (["--epochs", "2", "--seq-len", "8"], "--seq-len, --epochs only apply with --train"),
    ([], "give --checkpoints DIR (the models to analyze) or --train"),
    (["--train", "--seeds", "0", "0", "--no-progress"], "seeds has repeated values: [0, 0]"),
    (["--train", "--heads", "1", "3", "--no-progress"], "d_model = 64 is not divisible by 3 heads"),
])
def test_reproduce_option_errors(tmp_path, capsys, argv, message):
    out = tmp_path / "out"
    assert main(["reproduce", "paper", "--out", str(out), *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dagtheory reproduce: error: ") and err.count("\n") == 1
    assert message in err
    assert not out.exists()


def test_reproduce_bad_option_values_exit_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["reproduce", "paper", "--train", "--seeds", "-1"])
    assert info.value.code == 2
    assert "expected a non-negative integer seed, got -1" in capsys.readouterr().err
