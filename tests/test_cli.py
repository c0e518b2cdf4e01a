"""The dagtheory command (dagtheory/cli.py), in process and as a console script."""

import json
import re
import shutil
import subprocess
import sys

import pytest

import dagtheory
from dagtheory.cli import main


def test_example2_table(capsys):
    assert main(["example2"]) == 0
    out = capsys.readouterr().out
    assert "3/8 (0.375)" in out and "871696090/3486784401" in out and "10/9" in out


def test_example2_json_and_horizon(capsys):
    assert main(["example2", "--json", "--horizon", "20"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["horizon"] == 20
    assert [op["minimax"]["exact"] for op in data["operators"]] == [
        "3/8", "871696090/3486784401", "5/12"]
    assert data["ratio"]["exact"] == "10/9"


def test_mixing_example_json(capsys):
    assert main(["mixing-example", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [w["mixing_time"] for w in data["walks"]] == [10, 10, 7]


@pytest.mark.parametrize("argv", [["example2", "--horizon", "0"], ["example2", "--horizon", "x"],
                                  ["nonsense"]])
def test_bad_arguments_exit_2_without_traceback(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "error" in err and "Traceback" not in err


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert dagtheory.__version__ in capsys.readouterr().out
    assert main([]) == 0
    assert "example2" in capsys.readouterr().out


def test_console_script_runs():
    script = shutil.which("dagtheory", path=str(__import__("pathlib").Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "dagtheory"]
    done = subprocess.run(command + ["example2", "--json"], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout)["ratio"]["exact"] == "10/9"


def test_analyze_warns_in_one_line_and_marks_undefined_ratios(tmp_path, capsys):
    """§2/§3 on a head system where node 1 is cut off: ρ = 0/0 is 'n/a', not '> budget',
    and the trapped-node warning is one line without a source location."""
    import numpy as np

    cut = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.9, 0, 0.1]])
    path = tmp_path / "cut.npy"
    np.save(path, np.stack([cut, cut]))
    assert main(["analyze", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err.startswith("dagtheory: warning: ") and "warnings.warn" not in captured.err
    row = [line for line in captured.out.splitlines() if line.startswith("| 0 |")][0]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[5] == "n/a" and cells[6] == "inf"


def test_errors_in_array_files_name_the_file(tmp_path, capsys):
    import numpy as np

    path = tmp_path / "upper.npy"
    np.save(path, np.array([[[0.5, 0.5], [0.5, 0.5]]]))
    assert main(["analyze", str(path)]) == 2
    assert "upper.npy: attention is not causal" in capsys.readouterr().err


def test_check_command_json_reports_statuses(capsys):
    """§8: a theorem holds; the false statement is refuted with its counterexample in the JSON,
    and each result is its full ``to_dict()``: the message, the method and the searches too."""
    from dagtheory.hunts import STAGES

    assert main(["check", "M3", "FALSE_COMBINED", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    keys = {"name", "kind", "status", "examples", "seconds", "counterexample", "message", "method", "searches"}
    assert set(rows["M3"]) == set(rows["FALSE_COMBINED"]) == keys
    assert (rows["M3"]["kind"], rows["M3"]["status"], rows["M3"]["counterexample"]) == ("theorem", "holds", None)
    assert rows["M3"]["method"] == "search" and rows["M3"]["message"].startswith("no counterexample: hypothesis ")
    assert set(rows["M3"]["searches"]) == set(STAGES)
    assert rows["M3"]["examples"] == sum(stage["examples"] for stage in rows["M3"]["searches"].values())
    false = rows["FALSE_COMBINED"]
    assert false["kind"] == "conjecture" and false["status"] == "refuted" and false["counterexample"]
    assert false["method"] in STAGES and false["message"].startswith("combined minimax ")
    assert false["searches"]["exact"]["confirmed"] >= 1


def test_check_command_table_has_the_method_and_the_evidence(capsys):
    """The text table: a method column, one line of evidence per 'holds' (never read as a proof),
    and the refuted statement's counterexample, verified exactly, with its message."""
    assert main(["check", "M3", "FALSE_COMBINED"]) == 0
    out = capsys.readouterr().out
    header, rule, *rows = out.split("\n\n")[0].splitlines()
    assert header.split() == ["name", "kind", "status", "method", "examples", "seconds"]
    cells = {row.split()[0]: row.split() for row in rows}
    assert cells["M3"][1:4] == ["theorem", "holds", "search"]
    assert cells["FALSE_COMBINED"][1:3] == ["conjecture", "refuted"]
    method = cells["FALSE_COMBINED"][3]
    assert "evidence for 'holds' (a search that finds no counterexample is not a proof):" in out
    assert re.search(r"^  M3: no counterexample: hypothesis \d+ examples", out, re.MULTILINE)
    assert f"FALSE_COMBINED (refuted by {method}): counterexample (shrunk, verified exactly)\n" in out
    assert re.search(r"^  message: combined minimax \S+ > best single head", out, re.MULTILINE)
    assert "FALSE_COMBINED:" not in out  # no evidence line for a refuted statement


def test_check_command_no_hunts_samples_only(capsys):
    """--no-hunts is the procedure of earlier versions: C1 (false) then 'holds' on 50 sampled systems."""
    assert main(["check", "C1", "--json", "--no-hunts"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "holds" and list(row["searches"]) == ["hypothesis"]
    assert row["message"] == "no counterexample: hypothesis 50 examples"
    assert main(["check", "C1", "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["status"] == "refuted" and row["method"] == "enumeration"


def test_check_table_of_undecided_and_exact_results():
    """An exact check refutes without a counterexample; a float counterexample not confirmed exactly
    is marked as such; a holds by the exact check gives its detail as evidence."""
    from dagtheory.checks import CheckResult
    from dagtheory.cli import _check_table

    results = [CheckResult("ratio", "theorem", "holds", 0, 0.01, None, "exact: exact check holds", "exact"),
               CheckResult("bound", "theorem", "refuted", 0, 0.02, None, "exact: exact check failed", "exact"),
               CheckResult("float", "conjecture", "undecided", 7, 0.03, [[1.0, 0.0], [0.5, 0.5]],
                           "x < 0 in floating point only", "local_search")]
    lines = _check_table(results).splitlines()
    assert lines[0].split() == ["name", "kind", "status", "method", "examples", "seconds"]
    assert lines[2].split() == ["ratio", "theorem", "holds", "exact", "0", "0.0"]
    assert lines[5:] == [
        "",
        "evidence for 'holds' (a search that finds no counterexample is not a proof):",
        "  ratio: exact: exact check holds",
        "",
        "bound (refuted by exact): exact: exact check failed",
        "",
        "float (undecided by local_search): counterexample (not confirmed in exact arithmetic)",
        "  message: x < 0 in floating point only",
        "  1.0  0.0",
        "  0.5  0.5",
    ]


def test_check_command_exits_1_when_a_theorem_is_refuted(tmp_path, capsys):
    """A planted wrong bound (M2 with 2L/p replaced by L/(2p), no log term) in a user's proofs folder."""
    (tmp_path / "wrong.py").write_text(
        "import math\n"
        "from hypothesis import strategies as st\n"
        "from dagtheory.checks import theorem\n"
        "import dagtheory\n"
        "from dagtheory.examples import mixing_synergy\n\n"
        "@theorem('wrong-m2', strategy=st.just(0))\n"
        "def wrong(_):\n"
        "    walk = mixing_synergy().heads[0]\n"
        "    bound = dagtheory.mixing_bound(walk)\n"
        "    assert dagtheory.mixing_time(walk) <= math.ceil(bound.depth / (2 * bound.p)), 'T_mix too large'\n\n"
        "STATEMENTS = [wrong]\n"
    )
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--proofs", str(tmp_path)])
    assert exit_info.value.code == 1
    captured = capsys.readouterr()
    assert "wrong-m2" in captured.out and "refuted" in captured.out
    assert re.search(r"^wrong-m2 \(refuted by \w+\): counterexample \(shrunk, verified exactly\)$", captured.out,
                     re.MULTILINE)
    assert "  message: T_mix too large" in captured.out
    assert "refuted theorems: wrong-m2" in captured.err


def test_check_command_unknown_name(capsys):
    assert main(["check", "M9"]) == 2
    assert "M9" in capsys.readouterr().err


def test_analyze_backend_torch_matches_numpy(tmp_path, capsys):
    """`--backend torch` runs the iterations in PyTorch; the report's numbers agree to 1e-10."""
    import numpy as np

    pytest.importorskip("torch")
    rng = np.random.default_rng(2)
    scores = np.where(np.tril(np.ones((12, 12), bool)), rng.normal(size=(2, 3, 12, 12)), -np.inf)
    path = tmp_path / "attention.npy"
    np.save(path, np.exp(scores) / np.exp(scores).sum(-1, keepdims=True))
    reports = {}
    for backend in ("numpy", "torch"):
        assert main(["analyze", str(path), "--backend", backend, "--device", "cpu", "--json", "-"]) == 0
        reports[backend] = json.loads(capsys.readouterr().out)
    assert reports["torch"]["settings"]["backend"] == "torch"
    layers = [r["models"][0]["layers"] for r in (reports["numpy"], reports["torch"])]
    for numpy_layer, torch_layer in zip(*layers):
        for metric in ("minimax_fidelity", "mixing_proxy", "hitting_time_mean", "mixing_time"):
            assert torch_layer[metric]["mean"] == pytest.approx(numpy_layer[metric]["mean"], abs=1e-10)


def test_analyze_refuses_an_unavailable_device(tmp_path, capsys):
    import numpy as np

    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    path = tmp_path / "attention.npy"
    np.save(path, np.array([[[1.0, 0.0], [0.5, 0.5]]]))
    assert main(["analyze", str(path), "--backend", "torch", "--device", "cuda"]) == 2
    assert "device 'cuda' is not available" in capsys.readouterr().err


def test_example2_plot_writes_the_figure3_panels(tmp_path, capsys):
    from dagtheory.cli import _example2_panels

    assert main(["example2", "--plot", str(tmp_path / "figure3")]) == 0
    assert "10/9" in capsys.readouterr().out
    names = sorted(p.name for p in (tmp_path / "figure3").iterdir())
    assert names == ["example2.png", "example2_combined.png", "example2_head1.png", "example2_head2.png"]
    assert all((tmp_path / "figure3" / n).read_bytes()[:4] == b"\x89PNG" for n in names)
    # Each single panel's φ_min line sits at the theory's value (§2 Example 2, K = 20).
    levels = {name: [line for line in figure.axes[0].get_lines() if line.get_gid() == "minimax"][0].get_ydata()[0]
              for name, figure in _example2_panels(20).items() if name != "example2"}
    assert levels["example2_head1"] == 3 / 8 and levels["example2_combined"] == pytest.approx(5 / 12, abs=1e-15)
    assert levels["example2_head2"] == pytest.approx(871696090 / 3486784401, abs=1e-15)


def test_analyze_depth_and_report_on_two_checkpoints(checkpoints, tmp_path, capsys):
    pytest.importorskip("markdown")
    out = tmp_path / "report"
    argv = [str(checkpoints / "1_heads_copy.pt"), str(checkpoints / "4_heads_copy.pt"), "--seq-len", "12",
            "--horizon", "20", "--samples", "2", "--depth", "--report", str(out), "--json", str(tmp_path / "r.json")]
    assert main(["analyze", *argv]) == 0
    text = capsys.readouterr().out
    assert text.count("### Across the stack (§4, γ = 0.5)") == 2 and "models compared (§4)" in text
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["settings"]["gamma"] == 0.5
    assert [len(m["depth"]["fidelity"]["mean"]) for m in report["models"]] == [12, 12]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert {"bars_copy_minimax_fidelity.png", "4_heads_copy_attention_layer3.png", "1_heads_copy_depth.png",
            "4_heads_copy_absorption_layer0.png", "1_heads_copy_signal_layer2.png"} <= figures
    assert len(figures) == 4 + 2 * (4 * 3 + 1)
    index = (out / "index.md").read_text()
    assert "# The paper's comparisons" in index and "Across the stack: depth fidelity" in index


@pytest.mark.parametrize("gamma", ["0", "1.5", "x"])
def test_analyze_refuses_a_bad_gamma(gamma, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(tmp_path / "missing.npy"), "--gamma", gamma])
    assert exit_info.value.code == 2
    assert "expected a number in (0, 1]" in capsys.readouterr().err
