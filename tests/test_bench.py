"""The benchmark suite in bench/: baselines against the engine, inputs, and the results layout.

Tiny sizes only; the benchmarks themselves run with ``python bench/run.py``.
"""

import copy
import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import baselines  # noqa: E402
import inputs  # noqa: E402
import report  # noqa: E402
import run  # noqa: E402

from dagtheory import minimax_fidelity  # noqa: E402
from dagtheory.examples import paper_example2  # noqa: E402
from dagtheory.reference import combine_heads, mixing_proxy  # noqa: E402


# --------------------------------------------------------------------------- inputs

def test_random_attention_is_causal_softmax_and_reproducible():
    a = inputs.random_attention(2, 3, 17, seed=5, temperature=0.7)
    assert a.shape == (2, 3, 17, 17) and a.dtype == np.float64
    assert not np.triu(a, 1).any()
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-14)
    # Same seed, any block size, any stack shape: the same matrices.
    assert np.array_equal(a, inputs.random_attention(2, 3, 17, seed=5, temperature=0.7, block_rows=4))
    assert np.array_equal(a[0, 0], inputs.random_attention(1, 1, 17, seed=5, temperature=0.7)[0, 0])
    assert not np.array_equal(a, inputs.random_attention(2, 3, 17, seed=6, temperature=0.7))
    assert inputs.attention_bytes(12, 12, 1024) == 12 * 12 * 1024 * 1024 * 8


def test_random_attention_rejects_bad_arguments():
    with pytest.raises(ValueError):
        inputs.random_attention(1, 1, 1)
    with pytest.raises(ValueError):
        inputs.random_attention(1, 1, 4, temperature=0)
    with pytest.raises(ValueError):
        inputs.random_attention(1, 1, 4, out=np.empty((1, 1, 4, 5)))


# --------------------------------------------------------------------------- fidelity baseline

@pytest.mark.parametrize("n", [6, 11, 20])
@pytest.mark.parametrize("horizon", [1, 7, 100])
@pytest.mark.parametrize("sources", ["non-sink", "all", [0, 3, -1]])
def test_matrix_power_fidelity_matches_engine(n, horizon, sources):
    attention = inputs.random_attention(2, 3, n, seed=n, temperature=0.4)
    engine = minimax_fidelity(attention, horizon, sources)
    baseline = baselines.fidelity_matrix_power(attention, horizon, sources)
    assert baseline.value.shape == (2, 3) and baseline.per_node.shape == (2, 3, n)
    assert np.max(np.abs(np.asarray(engine.value) - baseline.value)) <= 1e-12
    assert np.max(np.abs(np.asarray(engine.per_node) - baseline.per_node)) <= 1e-12
    assert np.array_equal(np.asarray(engine.node), baseline.node)


def test_matrix_power_fidelity_reproduces_example_2():
    heads = np.asarray(paper_example2().attention, dtype=float)
    result = baselines.fidelity_matrix_power(heads, 20)
    assert result.value[0] == pytest.approx(3 / 8, abs=1e-15)
    assert result.value[1] == pytest.approx(871696090 / 3486784401, abs=1e-15)
    assert list(result.node) == [1, 0]
    assert result.t[0, 1] == 3
    combined = baselines.fidelity_matrix_power(heads.mean(axis=0), 20)
    assert float(combined.value) == pytest.approx(5 / 12, abs=1e-15) and int(combined.node) == 2


def test_source_indices():
    assert list(baselines.source_indices("non-sink", 4)) == [0, 1, 2]
    assert list(baselines.source_indices("all", 4)) == [0, 1, 2, 3]
    assert list(baselines.source_indices([3, -1, 0], 4)) == [0, 3]
    with pytest.raises(ValueError):
        baselines.source_indices("some", 4)


# --------------------------------------------------------------------------- Monte-Carlo baseline

@pytest.mark.parametrize("n, heads, seed", [(6, 1, 0), (12, 3, 1), (20, 2, 2)])
def test_monte_carlo_baseline_estimates_the_exact_proxy(n, heads, seed):
    attention = inputs.random_attention(1, heads, n, seed=seed, temperature=0.5)[0]
    exact = float(mixing_proxy(attention).value)
    estimate = baselines.mixing_proxy_monte_carlo(combine_heads(attention), 500, 100, seed,
                                                  with_stderr=True)
    assert estimate.num_walks == 500 and estimate.stderr > 0
    assert abs(estimate.value - exact) <= 5 * estimate.stderr


def test_monte_carlo_baseline_on_example_2():
    combined = np.asarray(combine_heads(paper_example2().attention), dtype=float)
    exact = float(mixing_proxy(paper_example2().attention).value)
    assert exact == pytest.approx(26.857143, abs=1e-6)
    estimate = baselines.mixing_proxy_monte_carlo(combined, 500, with_stderr=True)
    assert abs(estimate.value - exact) <= 5 * estimate.stderr
    # Token 0 never moves: max_steps = 1 makes every non-sink start count exactly one step.
    assert baselines.mixing_proxy_monte_carlo(combined, 10, max_steps=1) == pytest.approx(3 / 4)


def test_monte_carlo_baseline_is_seeded_and_checks_arguments():
    combined = combine_heads(inputs.random_attention(1, 2, 8, seed=3)[0])
    first = baselines.mixing_proxy_monte_carlo(combined, 50, seed=7)
    assert isinstance(first, float)
    assert first == baselines.mixing_proxy_monte_carlo(combined, 50, seed=7)
    with pytest.raises(ValueError):
        baselines.mixing_proxy_monte_carlo(combined, 1)
    with pytest.raises(ValueError):
        baselines.mixing_proxy_monte_carlo(np.ones((2, 3)))


# --------------------------------------------------------------------------- run.py helpers

def test_measure_counts_runs_and_respects_the_budget():
    calls = []
    timing, result = run.measure(lambda: calls.append(1) or len(calls), 4)
    assert timing["runs"] == 4 and result == 4 and len(timing["times_s"]) == 4
    timing, _ = run.measure(lambda: None, 5, min_repeats=2, budget_s=0.0)
    assert timing["runs"] == 2
    timing, _ = run.measure(lambda: None, 3, fast_sample_s=0.01)
    assert timing["runs"] == 3 and timing["calls_per_run"] > 1


def test_sizes_floors_and_exponents():
    assert run.baseline_matrix_count(144, 100, 100, 2e11) == 144
    assert run.baseline_matrix_count(144, 512, 100, 2e11) == 7
    assert run.baseline_matrix_count(144, 2048, 100, 2e11) == 1
    assert run.bytes_per_matrix(4) == 128 and run.bytes_per_matrix(4, "triangle") == 80
    sizes = [100, 256, 512, 1024]
    assert run.scaling_exponent([(n, 3e-9 * n**3) for n in sizes]) == pytest.approx(3.0)
    assert run.scaling_exponent([(n, 2e-7 * n**2) for n in sizes]) == pytest.approx(2.0)
    assert run.scaling_exponent([(100, 1.0)]) is None


def _tiny_config(**changes):
    config = copy.deepcopy(run.QUICK)
    config.update(
        fidelity={"sizes": [8, 12], "heads": [1, 2], "layers": [1]},
        mixing={"sizes": [8], "heads": [2], "num_walks": 50, "max_steps": 100, "z_max": 5.0},
        analysis={"sizes": [8], "heads": [2], "layers": [1]},
        gpt2={"layers": 1, "heads": 2, "n": 12},
        targets=dict(run.QUICK["targets"], fidelity_n=12, mixing_n=8),
        bandwidth_bytes=2**20, torch=False, fast_sample_s=0.0,
    )
    config.update(changes)
    return config


def test_quick_run_produces_the_expected_results():
    results = run.run_benchmarks(_tiny_config(), isolate=False, log=None)
    assert {"mode", "config", "machine", "bandwidth", "fidelity", "mixing", "analysis",
            "scaling", "targets", "total_s"} <= set(results)
    assert results["bandwidth"]["status"] == "ok" and results["bandwidth"]["read_bytes_per_s"] > 0
    assert {"cpu_model", "cores_available", "numpy", "blas", "torch"} <= set(results["machine"])

    assert len(results["fidelity"]) == 4
    for entry in results["fidelity"]:
        assert entry["status"] == "ok", entry
        assert {"engine", "baseline", "ratio", "max_abs_diff_value", "max_abs_diff_per_node",
                "agree", "bytes_read", "floor_s", "floor_multiple"} <= set(entry)
        assert entry["agree"] and entry["baseline"]["matrices"] == entry["matrices"]
        assert entry["engine"]["runs"] >= 1 and entry["engine"]["median_s"] > 0
    (mixing,) = results["mixing"]
    assert mixing["status"] == "ok" and mixing["agree"]
    assert {"exact_value", "mc_value", "mc_stderr", "z", "ratio", "reference_mc"} <= set(mixing)
    assert {(e["layers"], e["heads"], e["n"]) for e in results["analysis"]} == {(1, 2, 8), (1, 2, 12)}
    assert all(e["status"] == "ok" and "summary" in e for e in results["analysis"])

    scaling = results["scaling"]["fidelity"]
    assert {(r["heads"], r["layers"]) for r in scaling} == {(1, 1), (2, 1)}
    assert all(r["engine"] is not None and r["baseline"] is not None for r in scaling)
    targets = results["targets"]
    assert set(targets) == {"fidelity", "mixing", "analysis"}
    assert all({"title", "met", "measured", "stand_in"} <= set(t) for t in targets.values())
    assert targets["analysis"]["measured"] > 0 and targets["fidelity"]["configs"]

    json.dumps(results)
    text = report.render(results, explanations={"fidelity": "Because."})
    for heading in ("## Targets", "## Machine", "## Memory bandwidth", "## Minimax fidelity (§2)",
                    "## Mixing proxy (§6)", "## Full analysis", "Because.", "Quick mode"):
        assert heading in text


def test_configurations_over_the_memory_limit_are_skipped():
    config = _tiny_config(memory_limit_bytes=1)
    results = run.run_benchmarks(config, only=("fidelity", "analysis"), isolate=False, log=None)
    assert results["bandwidth"] is None
    assert results["fidelity"] and all(e["status"] == "skipped" for e in results["fidelity"])
    assert all("exceeds the limit" in e["reason"] for e in results["analysis"])
    assert results["targets"]["fidelity"]["met"] is False
    assert results["targets"]["fidelity"]["measured"] is None
    text = report.render(results, explanations={})
    assert "**skipped**" in text and "No explanation written yet" in text


def test_explanations_are_read_by_heading(tmp_path):
    path = tmp_path / "explanations.md"
    path.write_text("# title\n\n## fidelity\nLine one.\n<!-- hidden -->\n\n## mixing\n<!-- only a comment -->\n")
    assert report.read_explanations(path) == {"fidelity": "Line one."}
    assert report.read_explanations(tmp_path / "missing.md") == {}


def test_matrix_power_fidelity_two_tokens_closed_form():
    # A = [[1, 0], [1/2, 1/2]]: S_t(0) = 1 - 2^-t, so φ_0^K = 1 - 2^-K and the sink's φ is 1/2.
    result = baselines.fidelity_matrix_power([[1.0, 0.0], [0.5, 0.5]], 5, "all")
    assert list(result.per_node) == [1 - 2**-5, 0.5]
    assert float(result.value) == 0.5 and int(result.node) == 1
    assert list(result.t) == [5, 1]


# --------------------------------------------------------------------------- checkers' benchmark

def test_checks_benchmark_grades_and_reports():
    import check_cases
    import checks

    assert checks._grade("holds", True) == "correct" and checks._grade("refuted", False) == "correct"
    assert checks._grade("holds", False) == "wrong" and checks._grade("refuted", True) == "wrong"
    assert checks._grade("undecided", True) == "undecided"
    rows = [{"kind": "bounds", "name": "small-hole", "truth": False,
             "old": {"status": "undecided", "seconds": 0.2, "grade": "undecided"},
             "new": {"status": "refuted", "method": "search", "seconds": 0.3, "grade": "correct"}},
            {"kind": "statements", "name": "C1", "truth": False,
             "old": {"status": "holds", "seconds": 0.4, "grade": "wrong"},
             "new": {"status": "refuted", "method": "enumeration", "seconds": 0.9, "grade": "correct"}}]
    text = checks.report({"date": "today", "machine": "here", "profile": "ci", "rows": rows})
    assert "| polynomial bounds (1) | new | 1/1 | 0 |" in text
    assert "| statements (1) | old | 0/1 | 1 |" in text
    assert "| bound `small-hole` | false | undecided | refuted (search) | 0.30 |" in text
    from dagtheory.checks import discover

    assert set(check_cases.PROOFS) <= {statement.name for statement in discover()}


def test_checking_page_tables_come_from_the_stored_results():
    import checks

    page = checks.DOCS.read_text()
    stored = json.loads(checks.RESULTS.read_text())
    assert checks.report(stored) in page
    thorough = json.loads((BENCH / "proofs-thorough.json").read_text())
    assert checks.proofs_table(thorough) in page
    assert {row["name"]: row["status"] for row in thorough}["C1"] == "refuted"
