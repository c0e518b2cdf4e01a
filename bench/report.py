"""Render bench/results.json as BENCHMARKS.md.

Usage::

    python bench/report.py [bench/results.json] [--out BENCHMARKS.md]

Written explanations for the targets live in bench/explanations.md, under the
headings ``## fidelity``, ``## mixing``, ``## analysis`` and ``## notes``; they are
copied into the report each time it is rendered, so regenerating the numbers
keeps the text.
"""

import argparse
import json
import math
import re
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
EXPLANATIONS = BENCH_DIR / "explanations.md"

__all__ = ["render", "write_report", "read_explanations"]


# --------------------------------------------------------------------------- formatting

def _time(seconds):
    if seconds is None:
        return "n/a"
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def _bytes(count):
    if count is None:
        return "n/a"
    if count >= 1e9:
        return f"{count / 1e9:.2f} GB"
    if count >= 1e6:
        return f"{count / 1e6:.1f} MB"
    return f"{count / 1e3:.0f} kB"


def _ratio(value):
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return f"{value:,.0f}×" if value >= 100 else f"{value:.3g}×"


def _num(value, digits=3):
    if value is None:
        return "n/a"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return f"{value:.{digits}g}"


def _exponent(value):
    return "n/a" if value is None else f"{value:.2f}"


def _runs(timing):
    calls = timing.get("calls_per_run", 1)
    return f"{timing['runs']}" + (f" × {calls} calls" if calls > 1 else "")


def _torch_cells(torch):
    """Time and difference cells of the torch backend (an error shows in the first)."""
    if not torch:
        return ["n/a", "n/a"]
    if "error" in torch:
        return ["error", torch["error"].replace("|", "\\|")[:80]]
    return [_time(torch["median_s"]), _num(torch["max_diff"], 2) + ("" if torch["agree"] else " **no**")]


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _not_run(entries, label):
    """Lines for skipped and failed configurations (with a blank line after them)."""
    lines = []
    for entry in entries:
        if entry.get("status") != "ok":
            where = label(entry)
            lines.append(f"- {where}: **{entry.get('status')}**: {entry.get('reason', '')}")
    return lines + [""] if lines else []


def read_explanations(path=EXPLANATIONS):
    """``{heading: text}`` from bench/explanations.md (HTML comments removed, empty sections dropped)."""
    path = Path(path)
    if not path.is_file():
        return {}
    text = re.sub(r"<!--.*?-->", "", path.read_text(), flags=re.S)
    sections, current = {}, None
    for line in text.splitlines():
        heading = re.match(r"^##\s+(\S+)", line)
        if heading:
            current = heading.group(1).strip().lower()
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
    return {k: "\n".join(v).strip() for k, v in sections.items() if "\n".join(v).strip()}


# --------------------------------------------------------------------------- sections

def _machine(results):
    m = results["machine"]
    blas = m.get("blas") or {}
    blas_text = " ".join(str(blas[k]) for k in ("name", "version") if blas.get(k)) or "unknown"
    if blas.get("openblas configuration"):
        blas_text += f" ({blas['openblas configuration']})"
    caches = ", ".join(f"{k} {v}" for k, v in sorted((m.get("caches") or {}).items())) or "unknown"
    load = lambda key: ", ".join(f"{x:.2f}" for x in m[key]) if m.get(key) else "n/a"  # noqa: E731
    backend = ", ".join(f"`{k}`: {'yes' if v else 'no'}" for k, v in (m.get("backend_keyword") or {}).items())
    rows = [
        ("CPU", m.get("cpu_model")),
        ("Cores available to the run", f"{m.get('cores_available')} (of {m.get('logical_cpus')} logical CPUs)"),
        ("Caches (per CPU 0)", caches),
        ("Memory", f"{_bytes(m.get('memory_total_bytes'))} total, "
                   f"{_bytes(m.get('memory_available_bytes'))} available at start"),
        ("Load average (1, 5, 15 min)", f"start {load('load_average_start')}; end {load('load_average_end')}"),
        ("Python", f"{m.get('python')} on {m.get('platform')}"),
        ("NumPy / BLAS", f"{m.get('numpy')} / {blas_text}"),
        ("SciPy", m.get("scipy")),
        ("PyTorch", m.get("torch") or "not installed"),
        ("dagtheory", f"{m.get('dagtheory')} (commit {m.get('git_commit') or 'unknown'})"),
        ("Thread variables", ", ".join(f"{k}={v}" for k, v in (m.get("thread_env") or {}).items()) or "none set"),
        ("`backend=` keyword", backend or "n/a"),
        ("Started (UTC)", m.get("started_utc")),
        ("Total benchmark time", _time(results.get("total_s"))),
    ]
    return ["## Machine", "", _table(["", ""], rows), ""]


def _targets(results, notes):
    targets = results.get("targets") or {}
    lines = ["## Targets", ""]
    if results.get("mode") != "full":
        lines += ["*Quick mode: the sizes below are stand-ins for the target sizes; "
                  "the verdicts say nothing about the targets.*", ""]
    status = lambda t: "**met**" if t.get("met") else ("not measured" if t.get("measured") is None  # noqa: E731
                                                      else "**not met**")
    rows = []
    for key in ("fidelity", "mixing", "analysis"):
        target = targets.get(key)
        if not target:
            continue
        if key == "analysis":
            measured = _time(target.get("measured"))
            extra = f"peak RSS {_bytes(target.get('peak_rss_bytes'))}; {target.get('cores_available')} cores"
            if not target.get("cores_match"):
                extra += " (**not** the 2 cores of the target)"
        else:
            measured = f"{_ratio(target.get('measured'))} (smallest over H, L)"
            configs = target.get("configs") or []
            if key == "fidelity":
                extra = "; ".join(f"L={c['layers']} H={c['heads']}: {_ratio(c['ratio'])}, "
                                  f"max diff {_num(c['max_abs_diff'], 2)}" for c in configs)
            else:
                extra = "; ".join(f"L={c.get('layers', 1)} H={c['heads']}: {_ratio(c['ratio'])}, "
                                  f"z = {c['z']:.2f}" for c in configs)
        rows.append((target["title"], status(target), measured, extra or "n/a"))
    lines += [_table(["Target", "Status", "Measured", "Details"], rows), ""]
    for key, heading in (("fidelity", "Minimax fidelity"), ("mixing", "Mixing proxy"),
                         ("analysis", "GPT-2-sized analysis")):
        lines += [f"### {heading}", "", notes.get(key, "*No explanation written yet "
                                                     f"(bench/explanations.md, section `## {key}`).*"), ""]
    return lines


def _bandwidth(results):
    entry = results.get("bandwidth")
    lines = ["## Memory bandwidth", ""]
    if not entry or entry.get("status") != "ok":
        reason = (entry or {}).get("reason", "not run")
        return lines + [f"Not measured ({reason}); the floor columns below are n/a.", ""]
    rows = []
    for key, what in (("reduce", "`np.add.reduce` over the array (one thread)"),
                      ("gemv", "BLAS `array @ vector` (dgemv, BLAS threads)")):
        timing = entry[key]
        rows.append((what, _bytes(entry["array_bytes"]), _time(timing["median_s"]), _runs(timing),
                     f"{timing['bytes_per_s'] / 1e9:.1f} GB/s"))
    lines += [_table(["Read", "Array", "Median", "Runs", "Bandwidth"], rows), ""]
    lines += [
        f"The **floor** is the time to read, at the better of these two rates "
        f"({entry['read_bytes_per_s'] / 1e9:.1f} GB/s, `{entry['method']}`), the attention bytes an "
        "iteration must touch: for minimax fidelity `horizon × L·H × b(n)` (every step of "
        "`r_t = r_{t-1} Δ` reads every matrix once), for the exact mixing proxy `max_steps × b(n)` "
        "(every step of `F_t = K F_{t-1}` reads the kernel once), and for the full analysis one "
        "pass over the input, `L·H × b(n)`. Here "
        f"`b(n) = {_bytes_rule(results)}`. The \"× floor\" columns are the measured median "
        "divided by that floor: 1 would be a pure streaming read; below 1 means the engine reads "
        "less than the floor assumes (the triangle only, or data held in cache between steps).",
        "",
    ]
    return lines


def _bytes_rule(results):
    mode = results["config"].get("bytes_per_matrix", "full")
    return "8 n²" if mode == "full" else "8 n(n+1)/2 (lower triangle)"


def _fidelity(results):
    config = results["config"]
    entries = results.get("fidelity", [])
    has_torch = any("torch" in e for e in entries)
    lines = [
        "## Minimax fidelity (§2)", "",
        f"`minimax_fidelity(attention, {config['horizon']}, 'non-sink')` on the whole `(L, H, n, n)` "
        "stack (engine) against `bench/baselines.py::fidelity_matrix_power`, which forms "
        "`M_t = M_{t-1} Δ` with full `n × n` products and reads `S_t = M_t[τ, :]` (`O(K·n³)` per "
        "matrix). Both run in one process on the same inputs. Where "
        f"`2 (K−1) n³` per matrix would exceed the baseline's budget of "
        f"{config['baseline_flop_budget']:.3g} FLOP, the baseline runs on the first *k* matrices of "
        "the stack only and its time is scaled by `L·H / k` (column \"baseline, all\"); the engine "
        "always runs on the whole stack. \"max diff\" is the largest absolute difference of the "
        "per-node fidelities `φ_v^K` and of the minimax values on the matrices both computed; "
        f"they must agree to {config['fidelity_tolerance']:g}.",
        "",
    ]
    header = ["L", "H", "n", "engine", "runs", "baseline (k matrices)", "runs", "baseline, all",
              "ratio", "max diff", "agree", "floor", "× floor"]
    if has_torch:
        header += ["torch", "torch diff"]
    rows = []
    for e in entries:
        if e.get("status") != "ok":
            continue
        base = e["baseline"]
        row = [e["layers"], e["heads"], e["n"], _time(e["engine"]["median_s"]), _runs(e["engine"]),
               f"{_time(base['median_s'])} ({base['matrices']}/{e['matrices']})", _runs(base),
               _time(base["scaled_median_s"]), _ratio(e["ratio"]),
               _num(max(e["max_abs_diff_value"], e["max_abs_diff_per_node"]), 2),
               "yes" if e["agree"] else "**no**", _time(e.get("floor_s")), _num(e.get("floor_multiple"))]
        if has_torch:
            row += _torch_cells(e.get("torch"))
        rows.append(row)
    lines += [_table(header, rows), ""]
    lines += _not_run(entries, lambda e: f"L={e.get('layers')} H={e.get('heads')} n={e.get('n')}")
    lines += ["Scaling exponents, slope of `log(time)` against `log(n)` (least squares; "
              "\"largest 3\" uses only the three largest n):", ""]
    rows = [(r["heads"], r["layers"], ", ".join(map(str, r["sizes"])), _exponent(r.get("engine")),
             _exponent(r.get("engine_largest3")), _exponent(r.get("baseline")),
             _exponent(r.get("baseline_largest3")))
            for r in results.get("scaling", {}).get("fidelity", [])]
    lines += [_table(["H", "L", "n", "engine", "engine, largest 3", "baseline", "baseline, largest 3"],
                     rows), ""]
    return lines


def _mixing(results):
    entries = results.get("mixing", [])
    spec = results["config"]["mixing"]
    has_torch = any("torch" in e for e in entries)
    lines = [
        "## Mixing proxy (§6)", "",
        "`mixing_proxy(attention)` (engine: the exact expectation, by iterating `1 − F_t = K (1 − F_{t−1})`) "
        "against `bench/baselines.py::mixing_proxy_monte_carlo`: plain Python, "
        f"{spec['num_walks']} walks per start, each step drawing `r ~ U[0, 1)` and scanning the "
        f"running column sums, walks capped at {spec['max_steps']} steps. L layers of H heads: "
        "the engine computes every layer in one call, the baseline estimates one layer after "
        "another from the combined attention `Ā` (uniform weights). Agreement (worst layer): "
        f"`|exact − estimate| ≤ {spec['z_max']:g} · stderr`, with the Monte-Carlo standard error "
        "`sqrt(Σ_c s_c² / N) / n`. \"vectorized MC\" is the library's own NumPy estimator "
        "`mixing_proxy_mc`, for reference.",
        "",
    ]
    header = ["L", "H", "n", "exact", "runs", "Monte Carlo", "runs", "ratio", "exact value",
              "MC estimate ± stderr", "z", "agree", "vectorized MC", "× floor"]
    if has_torch:
        header += ["torch", "torch rel. diff"]
    rows = []
    for e in entries:
        if e.get("status") != "ok":
            continue
        row = [e.get("layers", 1), e["heads"], e["n"], _time(e["engine"]["median_s"]), _runs(e["engine"]),
               _time(e["baseline"]["median_s"]), _runs(e["baseline"]), _ratio(e["ratio"]),
               f"{e['exact_value']:.5f}", f"{e['mc_value']:.5f} ± {e['mc_stderr']:.2g}",
               f"{e['z']:.2f}", "yes" if e["agree"] else "**no**",
               _time(e["reference_mc"]["median_s"]), _num(e.get("floor_multiple"))]
        if has_torch:
            row += _torch_cells(e.get("torch"))
        rows.append(row)
    lines += [_table(header, rows), ""]
    lines += _not_run(entries, lambda e: f"L={e.get('layers', 1)} H={e.get('heads')} n={e.get('n')}")
    rows = [(r["layers"], r["heads"], ", ".join(map(str, r["sizes"])), _exponent(r.get("engine")),
             _exponent(r.get("baseline"))) for r in results.get("scaling", {}).get("mixing", [])]
    lines += ["Scaling exponents (time against n):", "",
              _table(["L", "H", "n", "exact", "Monte Carlo"], rows), ""]
    return lines


def _analysis(results):
    entries = results.get("analysis", [])
    gpt2 = results["config"]["gpt2"]
    has_torch = any("torch" in e for e in entries)
    lines = [
        "## Full analysis", "",
        f"`analyze_attention(attention, horizon={results['config']['horizon']})` of one sample "
        "of an `(L, H, n, n)` stack: fidelity proxy, exact mixing proxy, minimax fidelity of every "
        "head and of the combination, amplification, mixing time, hitting times and the M1/M2/M3 "
        "bounds. Each configuration runs in its own process; \"peak RSS\" is that process's "
        "`ru_maxrss` (input generation included). \"× one pass\" is the median time divided by "
        "the time to read the input once at the measured bandwidth.",
        "",
    ]
    header = ["L", "H", "n", "input", "median", "runs", "peak RSS", "× one pass", "generation"]
    if has_torch:
        header += ["torch", "torch rel. diff"]
    rows = []
    for e in entries:
        if e.get("status") != "ok":
            continue
        label = f"**{e['n']}**" if (e["layers"], e["heads"], e["n"]) == (gpt2["layers"], gpt2["heads"], gpt2["n"]) \
            else e["n"]
        row = [e["layers"], e["heads"], label, _bytes(e["input_bytes"]), _time(e["engine"]["median_s"]),
               _runs(e["engine"]), _bytes(e.get("peak_rss_bytes")), _num(e.get("floor_multiple")),
               _time(e.get("generate_s"))]
        if has_torch:
            row += _torch_cells(e.get("torch"))
        rows.append(row)
    lines += [_table(header, rows), ""]
    lines += _not_run(entries, lambda e: f"L={e.get('layers')} H={e.get('heads')} n={e.get('n')}")
    match = [e for e in entries if e.get("status") == "ok"
             and (e["layers"], e["heads"], e["n"]) == (gpt2["layers"], gpt2["heads"], gpt2["n"])]
    if match:
        summary = match[0]["summary"]
        rows = [(name, _num(s["min"], 4), _num(s["median"], 4), _num(s["max"], 4), s["non_finite"])
                for name, s in summary.items()]
        lines += [f"What the ({gpt2['layers']}, {gpt2['heads']}, {gpt2['n']}) analysis found, "
                  "over its layers (a sanity check that the numbers are finite):", "",
                  _table(["metric", "min", "median", "max", "non-finite"], rows), ""]
    rows = [(r["heads"], r["layers"], ", ".join(map(str, r["sizes"])), _exponent(r.get("engine")),
             _exponent(r.get("engine_largest3"))) for r in results.get("scaling", {}).get("analysis", [])]
    lines += ["Scaling exponents (time against n):", "",
              _table(["H", "L", "n", "exponent", "largest 3"], rows), ""]
    return lines


def _method(results):
    c = results["config"]
    return [
        "## Method", "",
        f"- Inputs: `bench/inputs.py`, seeded random causal softmax attention (logits N(0, 1), "
        f"temperature {c['temperature']:g}, seed {c['seed']}), float64, generated in place block "
        "by block. Matrix `(l, h)` depends only on the seed and its position, so the first matrices "
        "of every stack coincide.",
        f"- Times are `time.perf_counter` medians. Engines: up to {c['repeats']} runs, at least "
        f"{c['min_repeats']}, fewer once the runs took {c['time_budget_s']:g} s"
        + (f"; calls shorter than {c['fast_sample_s'] * 1e3 / 2:g} ms are timed in loops of several "
           "calls lasting about "
           f"{c['fast_sample_s'] * 1e3:g} ms each, after one warm-up call (\"× k calls\")"
           if c.get("fast_sample_s") else "")
        + f". Baselines: up to {c['baseline_repeats']} runs, at least 1, fewer once the runs took "
        f"{c['baseline_time_budget_s']:g} s. The torch backend, where timed, gets one untimed "
        "warm-up call. The run count of every cell is in the tables.",
        "- Every configuration runs in a fresh subprocess that generates its input and runs baseline "
        "and engine on it. A configuration is skipped when its predicted peak memory (base RSS + "
        "factor × input bytes, the factor learned from the largest completed configuration of the "
        "same benchmark) exceeds 90% of the memory available when it would start; skipped "
        "configurations are listed under their table with the prediction.",
        "- Full results, every individual time included: `bench/results.json`.",
        "",
    ]


def render(results, explanations=None):
    """BENCHMARKS.md as a string."""
    notes = read_explanations() if explanations is None else explanations
    quick = results.get("mode") != "full"
    lines = ["# Benchmarks", ""]
    if quick:
        lines += ["> **Quick mode** (`bench/run.py --quick`): tiny sizes and single runs, a smoke "
                  "test of the benchmark code. These numbers are not benchmarks.", ""]
    lines += ["Generated by `python bench/run.py` from `bench/results.json`; regenerate the "
              "text alone with `python bench/report.py`. Section numbers (§) refer to "
              "docs/theory.md.", ""]
    lines += _targets(results, notes)
    if notes.get("notes"):
        lines += ["## Notes", "", notes["notes"], ""]
    lines += _machine(results)
    lines += _method(results)
    lines += _bandwidth(results)
    lines += _fidelity(results)
    lines += _mixing(results)
    lines += _analysis(results)
    return "\n".join(lines).rstrip() + "\n"


def write_report(results, path, explanations=None):
    """Render ``results`` and write the Markdown to ``path``."""
    Path(path).write_text(render(results, explanations))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Render bench results as Markdown.")
    parser.add_argument("results", nargs="?", type=Path, default=BENCH_DIR / "results.json")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: BENCHMARKS.md at the repository root "
                             "(bench/BENCHMARKS-quick.md for quick-mode results)")
    args = parser.parse_args(argv)
    results = json.loads(args.results.read_text())
    out = args.out or (ROOT / "BENCHMARKS.md" if results.get("mode") == "full"
                       else BENCH_DIR / "BENCHMARKS-quick.md")
    write_report(results, out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
