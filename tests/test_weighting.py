"""Head weightings compared (dagtheory/weighting.py) and the optimize command (§5)."""

import json
import math

import numpy as np
import pytest

import dagtheory as dt
import dagtheory.programs
from dagtheory.cli import main
from dagtheory.examples import paper_example2
from dagtheory.weighting import weights_report, weights_table


@pytest.fixture(scope="module")
def example2_report():
    return weights_report(paper_example2(), horizon=20)


def test_rows_recompute_independently(example2_report):
    """Each row's φ_min^20 (§2), p̄ and M3 bound (§3) recomputed from its weights."""
    system = dt.HeadSystem(np.asarray(paper_example2().attention, dtype=float))
    p_heads = np.array([dt.forward_probability(walk) for walk in system.walks])
    for row in example2_report["rows"]:
        beta = row["weights"]
        assert row["minimax_fidelity"] == pytest.approx(
            float(dt.minimax_fidelity(system.combined(beta), 20)), abs=1e-12)
        assert row["p_bar"] == pytest.approx(float(beta @ p_heads), abs=1e-12)
        n_minus_1 = system.n - 1
        expected = math.ceil(max(2 * n_minus_1 / row["p_bar"], 8 * math.log(4) / row["p_bar"]))
        assert row["m3_bound"] == expected
        p_mixture = dt.forward_probability(system.mixture_walk(beta))
        assert row["p_mixture"] == pytest.approx(p_mixture, abs=1e-12) and p_mixture >= row["p_bar"] - 1e-12
        tighter = math.ceil(max(2 * n_minus_1 / p_mixture, 8 * math.log(4) / p_mixture))
        assert row["mixing_bound"] == tighter <= expected
        assert row["mixing_time"] == dt.mixing_time(system.mixture_walk(beta))


def test_example2_rows(example2_report):
    """§2: uniform gives 5/12; P3 reaches ≥ 0.4297 near β₁ ≈ 0.579; P1 puts all weight on head 1
    (p = 1/3 against 1/4 for head 2, §3)."""
    uniform, optimum, mixing = example2_report["rows"]
    assert uniform["weighting"] == "uniform"
    assert uniform["minimax_fidelity"] == pytest.approx(5 / 12, abs=1e-12)
    assert optimum["minimax_fidelity"] >= 0.4297 and 0.57 <= optimum["weights"][0] <= 0.59
    np.testing.assert_allclose(mixing["weights"], [1.0, 0.0], atol=1e-7)
    assert mixing["mixing_bound"] == dt.programs.optimal_mixing_weights(paper_example2()).bound
    assert example2_report["gain"] == pytest.approx(optimum["minimax_fidelity"] - 5 / 12, abs=1e-12)
    assert example2_report["upper_bound"] is None


def test_branch_and_bound_report_certifies(example2_report):
    report = weights_report(paper_example2(), horizon=20, method="bnb")
    best = report["rows"][1]["minimax_fidelity"]
    assert report["upper_bound"] >= best and report["gap"] <= 1e-3
    assert "branch and bound: φ_min <=" in weights_table(report, "t")


def test_learned_weights_come_first():
    system = dt.HeadSystem(np.asarray(paper_example2().attention, dtype=float))
    report = weights_report(system, learned=[0.25, 0.75], horizon=20)
    learned = report["rows"][0]
    assert learned["weighting"].startswith("learned")
    assert learned["minimax_fidelity"] == pytest.approx(
        float(dt.minimax_fidelity(system.combined([0.25, 0.75]), 20)), abs=1e-12)
    assert report["gain"] == pytest.approx(report["rows"][2]["minimax_fidelity"] - learned["minimax_fidelity"])


def test_optimize_command_example2(capsys):
    assert main(["optimize", "example2", "--json"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["horizon"] == 20
    assert [row["weighting"] for row in data["rows"]] == [
        "uniform", "P3 optimal fidelity (sgp)", "P1 best mixing bound"]
    assert "HiGHS" not in captured.out
    assert main(["optimize", "example2"]) == 0
    assert "P3 gains +0.0131" in capsys.readouterr().out


def test_optimize_command_on_a_checkpoint(checkpoints, capsys):
    path = checkpoints / "4_heads_copy.pt"
    assert main(["optimize", str(path), "--layer", "1", "--json", "--time-limit", "30"]) == 0
    data = json.loads(capsys.readouterr().out)
    learned, uniform, optimum, _ = data["rows"]
    assert learned["weighting"].startswith("learned") and data["heads"] == 4
    assert optimum["minimax_fidelity"] >= max(learned["minimax_fidelity"], uniform["minimax_fidelity"]) - 1e-12


def test_optimize_command_errors(tmp_path, checkpoints, capsys):
    assert main(["optimize", str(checkpoints / "4_heads_copy.pt"), "--layer", "9"]) == 2
    assert "layer 9 is out of range" in capsys.readouterr().err
    array = tmp_path / "a.npy"
    np.save(array, np.asarray(paper_example2().attention, dtype=float))
    assert main(["optimize", str(array)]) == 2
    assert "optimize takes example2 or a checkpoint" in capsys.readouterr().err
