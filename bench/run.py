"""Benchmarks of the dagtheory engine against the baselines of bench/baselines.py.

Usage::

    python bench/run.py                  # full grid -> bench/results.json and BENCHMARKS.md
    python bench/run.py --quick          # tiny sizes, 1 repeat -> bench/results-quick.json
    python bench/run.py --only fidelity,bandwidth --repeats 3

Benchmarks (each configuration runs in its own subprocess unless ``--in-process``;
baseline and engine run there on the same inputs):

* ``bandwidth``: this machine's read bandwidth, the best of a one-thread
  ``np.add.reduce`` and a BLAS matrix-vector product over a large float64 array.
  It defines the memory-bandwidth floor of the other benchmarks.
* ``fidelity``: §2's minimax fidelity (non-sink sources, horizon 100) of every
  matrix of an ``(L, H, n, n)`` stack, engine (``minimax_fidelity``) against the
  matrix-power baseline. Where the baseline would exceed its FLOP budget it runs
  on the first ``k`` matrices of the stack only and its time is scaled by
  ``L·H / k``; the engine always runs on the whole stack. Values must agree to
  ``1e-12`` (absolute) on the matrices both computed.
* ``mixing``: §6's exact mixing proxy (``mixing_proxy``) against the pure-Python
  Monte-Carlo estimator with 500 walks per start; agreement means
  ``|exact - estimate| <= z_max · stderr``.
* ``analysis``: ``analyze_attention`` of a whole ``(L, H, n, n)`` stack,
  GPT-2 small's ``(12, 12, 1024)`` included; peak RSS of each subprocess.

A configuration whose predicted peak memory exceeds the memory available is
skipped and recorded as such. The prediction is ``base RSS + factor × input
bytes``; the factor starts from a default and is then taken from the largest
completed configuration of the same benchmark.
"""

import argparse
import gc
import importlib.metadata
import importlib.util
import inspect
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

from baselines import fidelity_matrix_power, mixing_proxy_monte_carlo  # noqa: E402
from inputs import attention_bytes, random_attention  # noqa: E402

RESULT_PREFIX = "BENCH-RESULT "

FULL = {
    "mode": "full",
    "seed": 0,
    "temperature": 1.0,
    "horizon": 100,
    "repeats": 5,
    "min_repeats": 3,
    "baseline_repeats": 3,
    "time_budget_s": 120.0,
    "baseline_time_budget_s": 60.0,
    "fast_sample_s": 0.05,
    "baseline_flop_budget": 2e11,
    "bytes_per_matrix": "full",
    "fidelity_tolerance": 1e-12,
    "torch_tolerance": 1e-10,
    "torch": True,
    "fidelity": {"sizes": [100, 256, 512, 1024, 2048], "heads": [1, 12], "layers": [4, 12]},
    "mixing": {"sizes": [100, 256], "heads": [1, 12], "layers": [1, 12], "num_walks": 500,
               "max_steps": 100,
               "z_max": 4.0},
    "analysis": {"sizes": [100, 256, 512, 1024, 2048], "heads": [1, 12], "layers": [4, 12]},
    "gpt2": {"layers": 12, "heads": 12, "n": 1024},
    "targets": {"fidelity_n": 512, "fidelity_speedup": 50.0, "mixing_n": 100,
                "mixing_speedup": 1000.0, "analysis_seconds": 60.0, "cores": 2},
    "bandwidth_bytes": 2**30,
    "memory_limit_bytes": None,
    "memory_factors": {"fidelity": 3.5, "mixing": 4.0, "analysis": 6.0},
}

QUICK = dict(
    FULL,
    mode="quick",
    repeats=1,
    min_repeats=1,
    baseline_repeats=1,
    time_budget_s=10.0,
    baseline_time_budget_s=10.0,
    fast_sample_s=0.0,
    fidelity={"sizes": [16, 64], "heads": [1, 2], "layers": [2]},
    mixing={"sizes": [12, 24], "heads": [2], "layers": [1, 2], "num_walks": 500, "max_steps": 100,
            "z_max": 4.0},
    analysis={"sizes": [16], "heads": [2], "layers": [2]},
    gpt2={"layers": 2, "heads": 2, "n": 64},
    targets=dict(FULL["targets"], fidelity_n=64, mixing_n=12),
    bandwidth_bytes=64 * 2**20,
)

BENCHMARKS = ("bandwidth", "fidelity", "mixing", "analysis")


# --------------------------------------------------------------------------- helpers

def _jsonable(value):
    """Plain JSON types from numpy scalars and arrays (inf and nan stay floats)."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def current_rss():
    """Resident set size of this process in bytes (0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def peak_rss():
    """Peak resident set size of this process in bytes (``ru_maxrss``, kB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def memory_available():
    """``MemAvailable`` from /proc/meminfo in bytes, or ``None``."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def measure(function, repeats, *, min_repeats=1, budget_s=math.inf, fast_sample_s=0.0,
            warmup=False):
    """Time ``function()`` with :func:`time.perf_counter`; returns ``(timing, last result)``.

    Up to ``repeats`` samples; after ``min_repeats`` samples it stops as soon as
    the samples so far took ``budget_s`` in total. When one call is shorter than
    ``fast_sample_s``, each sample times ``number`` calls (enough to last about
    ``fast_sample_s``) and records the time per call. ``warmup`` makes one untimed
    call first (for backends that initialize themselves on first use).
    """
    times, number, result = [], 1, None
    if warmup:
        function()
    gc.collect()
    started = time.perf_counter()
    while len(times) < max(1, repeats):
        result = None  # the previous result is freed before the next call
        begin = time.perf_counter()
        for _ in range(number):
            result = function()
        elapsed = (time.perf_counter() - begin) / number
        if not times and number == 1 and fast_sample_s > 0 and elapsed < fast_sample_s / 2:
            number = max(1, min(1000, int(fast_sample_s / max(elapsed, 1e-7))))
            continue  # the first call was a warm-up; sample again with `number` calls
        times.append(elapsed)
        if len(times) >= min_repeats and time.perf_counter() - started >= budget_s:
            break
    timing = {"median_s": statistics.median(times), "min_s": min(times), "times_s": times,
              "runs": len(times), "calls_per_run": number}
    return timing, result


def _supports_backend(function):
    try:
        return "backend" in inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False


def _numpy_kwargs(function):
    """``{"backend": "numpy"}`` where the engine function takes a backend, else ``{}``."""
    return {"backend": "numpy"} if _supports_backend(function) else {}


def _torch_usable(function, config):
    """Whether to time ``function``'s torch backend: asked for, accepted and installed."""
    return (config.get("torch", True) and _supports_backend(function)
            and importlib.util.find_spec("torch") is not None)


def _torch_kwargs(function):
    """``backend="torch"`` on the CPU (``device="cpu"`` where the function takes a device)."""
    kwargs = {"backend": "torch"}
    if "device" in inspect.signature(function).parameters:
        kwargs["device"] = "cpu"
    return kwargs


def _torch_measure(config, function, compare, *args, **kwargs):
    """Time the torch backend of ``function`` and compare it with ``compare(result)``.

    Returns the entry's ``"torch"`` dict; an exception becomes ``{"error": ...}`` so that
    an unfinished backend does not take the numpy measurements down with it.
    """
    try:
        timing, result = measure(lambda: function(*args, **kwargs, **_torch_kwargs(function)),
                                 config["repeats"], warmup=True, **_timing_args(config))
        difference = compare(result)
    except Exception as error:  # noqa: BLE001 - recorded in the results
        return {"error": f"{type(error).__name__}: {error}"}
    return dict(timing, max_diff=difference, agree=difference <= config["torch_tolerance"],
                warmup_calls=1)


def _max_abs_diff(a, b):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(a - b))
    return float(np.max(diff)) if diff.size else 0.0


def _max_rel_diff(a, b):
    """``max |a - b| / max(1, |a|)``, equal infinities and nans counting as 0."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    with np.errstate(invalid="ignore"):
        diff = np.where(same, 0.0, np.abs(a - b) / np.maximum(1.0, np.abs(a)))
    diff = np.where(np.isnan(diff), np.inf, diff)
    return float(np.max(diff)) if diff.size else 0.0


def bytes_per_matrix(n, mode="full"):
    """Bytes of one float64 ``n × n`` attention matrix read per pass: all of it, or its lower triangle."""
    if mode == "full":
        return 8 * n * n
    if mode == "triangle":
        return 8 * n * (n + 1) // 2
    raise ValueError(f"bytes_per_matrix must be 'full' or 'triangle'; got {mode!r}")


def baseline_matrix_count(matrices, n, horizon, flop_budget):
    """Matrices the matrix-power baseline runs on: all, unless ``2 (K-1) n³`` each exceeds the budget."""
    per_matrix = 2.0 * max(horizon - 1, 1) * float(n) ** 3
    return int(max(1, min(matrices, flop_budget // per_matrix)))


def _timing_args(config, baseline=False):
    if baseline:
        return {"min_repeats": 1, "budget_s": config["baseline_time_budget_s"]}
    return {"min_repeats": config["min_repeats"], "budget_s": config["time_budget_s"],
            "fast_sample_s": config["fast_sample_s"]}


# --------------------------------------------------------------------------- benchmarks

def bench_bandwidth(config):
    """Read bandwidth: the best of ``np.add.reduce`` (one thread) and a BLAS ``dgemv`` over one array."""
    size = int(config["bandwidth_bytes"]) // 8
    columns = 4096
    rows = max(1, size // columns)
    array = np.ones((rows, columns))  # written once, so every page is resident
    vector = np.ones(columns)
    nbytes = array.nbytes
    repeats = max(3, config["repeats"])
    reduce_timing, _ = measure(lambda: np.add.reduce(array, axis=None), repeats)
    gemv_timing, _ = measure(lambda: array @ vector, repeats)
    reduce_bw = nbytes / reduce_timing["median_s"]
    gemv_bw = nbytes / gemv_timing["median_s"]
    return {
        "array_bytes": nbytes,
        "reduce": dict(reduce_timing, bytes_per_s=reduce_bw),
        "gemv": dict(gemv_timing, bytes_per_s=gemv_bw),
        "read_bytes_per_s": max(reduce_bw, gemv_bw),
        "method": "reduce" if reduce_bw >= gemv_bw else "gemv",
    }


def bench_fidelity(config, layers, heads, n, attention=None):
    """§2 minimax fidelity of every matrix of an ``(L, H, n, n)`` stack: engine vs matrix powers."""
    from dagtheory.fidelity import minimax_fidelity

    horizon = config["horizon"]
    if attention is None:
        attention = random_attention(layers, heads, n, temperature=config["temperature"],
                                     seed=config["seed"])
    matrices = layers * heads
    flat = attention.reshape(matrices, n, n)

    def engine():
        return minimax_fidelity(attention, horizon, "non-sink", **_numpy_kwargs(minimax_fidelity))

    engine_timing, result = measure(engine, config["repeats"], **_timing_args(config))
    engine_values = np.asarray(result.value, dtype=float).reshape(matrices)
    engine_per_node = np.asarray(result.per_node, dtype=float).reshape(matrices, n)
    del result

    count = baseline_matrix_count(matrices, n, horizon, config["baseline_flop_budget"])
    subset = flat[:count]
    baseline_timing, baseline = measure(lambda: fidelity_matrix_power(subset, horizon, "non-sink"),
                                        config["baseline_repeats"], **_timing_args(config, True))
    scaled = baseline_timing["median_s"] * matrices / count
    value_diff = _max_abs_diff(engine_values[:count], baseline.value)
    node_diff = _max_abs_diff(engine_per_node[:count], baseline.per_node)
    per_matrix = bytes_per_matrix(n, config["bytes_per_matrix"])
    entry = {
        "layers": layers, "heads": heads, "n": n, "matrices": matrices, "horizon": horizon,
        "input_bytes": attention.nbytes,
        "engine": engine_timing,
        "baseline": dict(baseline_timing, matrices=count, subset=count < matrices,
                         scaled_median_s=scaled),
        "ratio": scaled / engine_timing["median_s"],
        "max_abs_diff_value": value_diff,
        "max_abs_diff_per_node": node_diff,
        "tolerance": config["fidelity_tolerance"],
        "agree": max(value_diff, node_diff) <= config["fidelity_tolerance"],
        "minimax_value_range": [float(engine_values.min()), float(engine_values.max())],
        "bytes_read": horizon * matrices * per_matrix,
        "bytes_per_matrix": config["bytes_per_matrix"],
    }
    if _torch_usable(minimax_fidelity, config):
        def compare(other):
            return max(
                _max_abs_diff(np.asarray(other.value, dtype=float).reshape(matrices), engine_values),
                _max_abs_diff(np.asarray(other.per_node, dtype=float).reshape(matrices, n),
                              engine_per_node))
        entry["torch"] = _torch_measure(config, minimax_fidelity, compare, attention, horizon,
                                        "non-sink")
        entry["torch"]["diff_kind"] = "absolute"
    return entry


def bench_mixing(config, layers, heads, n, attention=None):
    """§6 mixing proxy of ``L`` layers of ``H`` heads: exact engine vs pure-Python Monte Carlo.

    The engine computes every layer in one call; the baseline estimates one
    layer after another. Agreement is judged on the worst layer.
    """
    from dagtheory.reference import combine_heads, mixing_proxy, mixing_proxy_mc

    spec = config["mixing"]
    max_steps, walks = spec["max_steps"], spec["num_walks"]
    if attention is None:
        attention = random_attention(layers, heads, n, temperature=config["temperature"],
                                     seed=config["seed"])

    def engine():
        return mixing_proxy(attention, None, max_steps, **_numpy_kwargs(mixing_proxy))

    engine_timing, exact = measure(engine, config["repeats"], **_timing_args(config))
    exact_values = np.atleast_1d(np.asarray(exact.value, dtype=float))
    combined = np.asarray(combine_heads(attention), dtype=float)

    def baseline():
        return [mixing_proxy_monte_carlo(layer, walks, max_steps, config["seed"], with_stderr=True)
                for layer in combined]

    baseline_timing, estimates = measure(baseline, config["baseline_repeats"],
                                         **_timing_args(config, True))
    z_scores = []
    for estimate, exact_value in zip(estimates, exact_values):
        difference = abs(estimate.value - exact_value)
        if estimate.stderr > 0:
            z_scores.append(difference / estimate.stderr)
        else:
            z_scores.append(0.0 if difference <= 1e-12 else math.inf)
    worst = int(np.argmax(z_scores))
    reference_timing, reference = measure(
        lambda: mixing_proxy_mc(attention, None, max_steps, walks, config["seed"]),
        config["baseline_repeats"], **_timing_args(config, True))
    entry = {
        "layers": layers, "heads": heads, "n": n, "num_walks": walks, "max_steps": max_steps,
        "input_bytes": attention.nbytes,
        "engine": engine_timing, "exact_value": float(exact_values[worst]),
        "baseline": baseline_timing, "mc_value": estimates[worst].value,
        "mc_stderr": estimates[worst].stderr, "worst_layer": worst,
        "z": z_scores[worst], "z_max": spec["z_max"], "agree": z_scores[worst] <= spec["z_max"],
        "ratio": baseline_timing["median_s"] / engine_timing["median_s"],
        "reference_mc": dict(reference_timing,
                             value=float(np.atleast_1d(np.asarray(reference.value, dtype=float))[worst]),
                             stderr=float(np.atleast_1d(np.asarray(reference.stderr, dtype=float))[worst])),
        "bytes_read": layers * max_steps * bytes_per_matrix(n, config["bytes_per_matrix"]),
        "bytes_per_matrix": config["bytes_per_matrix"],
    }
    if _torch_usable(mixing_proxy, config):
        entry["torch"] = _torch_measure(
            config, mixing_proxy, lambda other: _max_rel_diff(exact.per_start, other.per_start),
            attention, None, max_steps)
        entry["torch"]["diff_kind"] = "relative"
    return entry


#: Fields of LayerAnalysis compared between backends, and summarized in the results.
ANALYSIS_FIELDS = ("fidelity_proxy", "mixing_proxy", "minimax_fidelity", "best_head_fidelity",
                   "amplification", "mixing_time", "hitting_time_mean", "hitting_time_max",
                   "m1_bound", "m2_bound", "m3_bound")


def _analysis_summary(analysis):
    summary = {}
    for name in ANALYSIS_FIELDS:
        values = np.asarray(getattr(analysis, name), dtype=float)
        finite = values[np.isfinite(values)]
        summary[name] = {
            "min": float(finite.min()) if finite.size else None,
            "median": float(np.median(finite)) if finite.size else None,
            "max": float(finite.max()) if finite.size else None,
            "non_finite": int(values.size - finite.size),
        }
    return summary


def bench_analysis(config, layers, heads, n, attention=None):
    """``analyze_attention`` (fidelity, proxies, mixing time, hitting times, bounds) of one stack."""
    from dagtheory.analysis import analyze_attention

    horizon = config["horizon"]
    if attention is None:
        attention = random_attention(layers, heads, n, temperature=config["temperature"],
                                     seed=config["seed"])

    def engine():
        return analyze_attention(attention, horizon=horizon, **_numpy_kwargs(analyze_attention))

    timing, analysis = measure(engine, config["repeats"], **_timing_args(config))
    entry = {
        "layers": layers, "heads": heads, "n": n, "horizon": horizon,
        "input_bytes": attention.nbytes,
        "engine": timing,
        "summary": _analysis_summary(analysis),
        "bytes_read": layers * heads * bytes_per_matrix(n, config["bytes_per_matrix"]),
        "bytes_per_matrix": config["bytes_per_matrix"],
    }
    if _torch_usable(analyze_attention, config):
        entry["torch"] = _torch_measure(
            config, analyze_attention,
            lambda other: max(_max_rel_diff(getattr(analysis, name), getattr(other, name))
                              for name in ANALYSIS_FIELDS),
            attention, horizon=horizon)
        entry["torch"]["diff_kind"] = "relative"
    return entry


def run_task(task):
    """Run one benchmark configuration in this process; adds input generation time and memory."""
    config, kind = task["config"], task["kind"]
    base = current_rss()
    started = time.perf_counter()
    if kind == "bandwidth":
        entry = bench_bandwidth(config)
    else:
        layers, heads, n = task.get("layers", 1), task["heads"], task["n"]
        begin = time.perf_counter()
        attention = random_attention(layers, heads, n, temperature=config["temperature"],
                                     seed=config["seed"])
        generate_s = time.perf_counter() - begin
        if kind == "fidelity":
            entry = bench_fidelity(config, layers, heads, n, attention)
        elif kind == "mixing":
            entry = bench_mixing(config, layers, heads, n, attention)
        elif kind == "analysis":
            entry = bench_analysis(config, layers, heads, n, attention)
        else:
            raise ValueError(f"unknown benchmark {kind!r}")
        entry["generate_s"] = generate_s
    entry.update(status="ok", wall_s=time.perf_counter() - started, base_rss_bytes=base,
                 peak_rss_bytes=peak_rss())
    if "torch" in entry and "torch" in sys.modules:  # imported by the engine's torch backend
        entry["torch"]["threads"] = sys.modules["torch"].get_num_threads()
    return _jsonable(entry)


# --------------------------------------------------------------------------- orchestration

def _tasks(config, only):
    """Benchmark configurations in run order (smallest input first within each benchmark)."""
    tasks = []
    if "bandwidth" in only:
        tasks.append({"kind": "bandwidth"})
    if "fidelity" in only:
        spec = config["fidelity"]
        grid = [(l, h, n) for n in spec["sizes"] for h in spec["heads"] for l in spec["layers"]]
        for layers, heads, n in sorted(grid, key=lambda c: (c[0] * c[1] * c[2] ** 2, c)):
            tasks.append({"kind": "fidelity", "layers": layers, "heads": heads, "n": n})
    if "mixing" in only:
        spec = config["mixing"]
        for n in spec["sizes"]:
            for layers in spec.get("layers", [1]):
                for heads in spec["heads"]:
                    tasks.append({"kind": "mixing", "layers": layers, "heads": heads, "n": n})
    if "analysis" in only:
        spec, gpt2 = config["analysis"], config["gpt2"]
        grid = {(l, h, n) for n in spec["sizes"] for h in spec["heads"] for l in spec["layers"]}
        grid.add((gpt2["layers"], gpt2["heads"], gpt2["n"]))
        for layers, heads, n in sorted(grid, key=lambda c: (c[0] * c[1] * c[2] ** 2, c)):
            tasks.append({"kind": "analysis", "layers": layers, "heads": heads, "n": n})
    return tasks


class MemoryGuard:
    """Predicts a configuration's peak RSS and refuses those that would not fit."""

    #: Inputs smaller than this say little about the engine's memory factor.
    LEARN_MIN_BYTES = 32 * 2**20

    def __init__(self, config):
        self.factors = dict(config["memory_factors"])
        self.learned_from = {}
        self.limit = config.get("memory_limit_bytes")
        self.base = 200 * 2**20

    def input_bytes(self, task):
        if task["kind"] == "bandwidth":
            return 0
        return attention_bytes(task.get("layers", 1), task["heads"], task["n"])

    def check(self, task, config):
        """``(predicted bytes, limit bytes, reason or None)``."""
        if task["kind"] == "bandwidth":
            predicted = self.base + 2 * config["bandwidth_bytes"]
        else:
            predicted = self.base + self.factors[task["kind"]] * self.input_bytes(task)
        available = memory_available()
        limit = self.limit if self.limit is not None else (0.9 * available if available else None)
        if limit is not None and predicted > limit:
            factor = self.factors.get(task["kind"])
            source = self.learned_from.get(task["kind"], "default")
            return predicted, limit, (
                f"predicted peak {predicted / 1e9:.1f} GB (factor {factor:.2f} × input "
                f"{self.input_bytes(task) / 1e9:.2f} GB, factor from {source}) exceeds the "
                f"limit {limit / 1e9:.1f} GB")
        return predicted, limit, None

    def learn(self, task, entry):
        size = self.input_bytes(task)
        if task["kind"] == "bandwidth" or size < self.LEARN_MIN_BYTES:
            return
        if not entry.get("peak_rss_bytes") or not entry.get("base_rss_bytes"):
            return
        self.base = max(self.base, entry["base_rss_bytes"])
        factor = (entry["peak_rss_bytes"] - entry["base_rss_bytes"]) / size
        self.factors[task["kind"]] = max(factor, 1.0)
        self.learned_from[task["kind"]] = f"L={task['layers']} H={task['heads']} n={task['n']}"


def _run_isolated(task, config):
    command = [sys.executable, str(Path(__file__).resolve()), "--worker",
               json.dumps({**task, "config": config})]
    process = subprocess.run(command, capture_output=True, text=True, cwd=str(ROOT))
    for line in reversed(process.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX):])
    reason = "killed by signal %d" % -process.returncode if process.returncode < 0 else \
        "exit status %d" % process.returncode
    if process.returncode == -9:
        reason += " (likely out of memory)"
    return {"status": "failed", "reason": reason, "stderr_tail": process.stderr[-2000:]}


def _describe(task, entry):
    label = task["kind"]
    if task["kind"] != "bandwidth":
        label += f" L={task.get('layers', 1)} H={task['heads']} n={task['n']}"
    if entry["status"] != "ok":
        return f"{label}: {entry['status']}: {entry.get('reason', '')}"
    if task["kind"] == "bandwidth":
        return (f"{label}: reduce {entry['reduce']['bytes_per_s'] / 1e9:.1f} GB/s, "
                f"gemv {entry['gemv']['bytes_per_s'] / 1e9:.1f} GB/s")
    engine = entry["engine"]
    text = f"{label}: engine {engine['median_s']:.4g} s ({engine['runs']} runs)"
    if task["kind"] == "fidelity":
        base = entry["baseline"]
        text += (f", baseline {base['median_s']:.4g} s on {base['matrices']}/{entry['matrices']} "
                 f"matrices -> {base['scaled_median_s']:.4g} s, ratio {entry['ratio']:.1f}x, "
                 f"max|diff| {max(entry['max_abs_diff_value'], entry['max_abs_diff_per_node']):.2g}"
                 f" ({'agree' if entry['agree'] else 'DISAGREE'})")
    elif task["kind"] == "mixing":
        text += (f", Monte Carlo {entry['baseline']['median_s']:.4g} s, ratio {entry['ratio']:.0f}x, "
                 f"exact {entry['exact_value']:.5g} vs MC {entry['mc_value']:.5g} "
                 f"± {entry['mc_stderr']:.2g} (z = {entry['z']:.2f}, "
                 f"{'agree' if entry['agree'] else 'DISAGREE'})")
    elif entry.get("peak_rss_bytes"):
        text += f", peak RSS {entry['peak_rss_bytes'] / 1e9:.2f} GB"
    if "torch" in entry:
        torch = entry["torch"]
        text += (f"; torch error: {torch['error']}" if "error" in torch else
                 f"; torch {torch['median_s']:.4g} s, diff {torch['max_diff']:.2g}")
    return text


def scaling_exponent(points):
    """Least-squares slope of ``log(time)`` against ``log(n)``; ``None`` with fewer than two sizes."""
    points = sorted((n, t) for n, t in points if t and t > 0)
    if len({n for n, _ in points}) < 2:
        return None
    x = np.log([n for n, _ in points])
    y = np.log([t for _, t in points])
    return float(np.polyfit(x, y, 1)[0])


def _scaling(entries, series):
    """Exponents per (H, L) for each ``series`` (name -> function(entry) -> time)."""
    groups = {}
    for entry in entries:
        if entry.get("status") == "ok":
            groups.setdefault((entry["heads"], entry.get("layers", 1)), []).append(entry)
    table = []
    for (heads, layers), group in sorted(groups.items()):
        row = {"heads": heads, "layers": layers, "sizes": sorted(e["n"] for e in group)}
        for name, pick in series.items():
            points = [(e["n"], pick(e)) for e in group]
            row[name] = scaling_exponent(points)
            largest = sorted(points)[-3:]
            row[name + "_largest3"] = scaling_exponent(largest) if len(points) > 3 else row[name]
        table.append(row)
    return table


def add_floors(results):
    """Bandwidth floor ``bytes_read / read bandwidth`` and the measured multiple of it."""
    bandwidth = results.get("bandwidth") or {}
    rate = bandwidth.get("read_bytes_per_s") if bandwidth.get("status") == "ok" else None
    for kind in ("fidelity", "mixing", "analysis"):
        for entry in results.get(kind, []):
            if entry.get("status") != "ok":
                continue
            if rate:
                entry["floor_s"] = entry["bytes_read"] / rate
                entry["floor_multiple"] = entry["engine"]["median_s"] / entry["floor_s"]
            else:
                entry["floor_s"] = entry["floor_multiple"] = None


def _ok(entries, **match):
    return [e for e in entries if e.get("status") == "ok"
            and all(e.get(k) == v for k, v in match.items())]


def evaluate_targets(results, config):
    """The three targets: met or not, with the measured numbers."""
    spec, stand_in = config["targets"], config["mode"] != "full"
    targets = {}
    rows = _ok(results.get("fidelity", []), n=spec["fidelity_n"])
    targets["fidelity"] = {
        "title": f"Minimax fidelity ≥ {spec['fidelity_speedup']:g}× faster than the matrix-power "
                 f"baseline at n = {spec['fidelity_n']}, identical values",
        "n": spec["fidelity_n"], "required": spec["fidelity_speedup"],
        "configs": [{"layers": e["layers"], "heads": e["heads"], "ratio": e["ratio"],
                     "max_abs_diff": max(e["max_abs_diff_value"], e["max_abs_diff_per_node"]),
                     "agree": e["agree"]} for e in rows],
        "measured": min((e["ratio"] for e in rows), default=None),
        "met": bool(rows) and all(e["ratio"] >= spec["fidelity_speedup"] and e["agree"] for e in rows),
    }
    rows = _ok(results.get("mixing", []), n=spec["mixing_n"])
    targets["mixing"] = {
        "title": f"Exact mixing proxy ≥ {spec['mixing_speedup']:g}× faster than the 500-walk "
                 f"Monte-Carlo estimate at n = {spec['mixing_n']}",
        "n": spec["mixing_n"], "required": spec["mixing_speedup"],
        "configs": [{"layers": e.get("layers", 1), "heads": e["heads"], "ratio": e["ratio"],
                     "z": e["z"], "agree": e["agree"]} for e in rows],
        "measured": min((e["ratio"] for e in rows), default=None),
        "met": bool(rows) and all(e["ratio"] >= spec["mixing_speedup"] and e["agree"] for e in rows),
    }
    gpt2 = config["gpt2"]
    rows = _ok(results.get("analysis", []), layers=gpt2["layers"], heads=gpt2["heads"], n=gpt2["n"])
    cores = results.get("machine", {}).get("cores_available")
    entry = rows[0] if rows else None
    targets["analysis"] = {
        "title": f"GPT-2-small-sized stack ({gpt2['layers']} layers × {gpt2['heads']} heads, "
                 f"n = {gpt2['n']}) fully analyzed in under {spec['analysis_seconds']:g} s on "
                 f"{spec['cores']} CPU cores",
        "required": spec["analysis_seconds"],
        "measured": entry["engine"]["median_s"] if entry else None,
        "peak_rss_bytes": entry["peak_rss_bytes"] if entry else None,
        "cores_available": cores,
        "cores_match": cores == spec["cores"],
        "met": bool(entry) and entry["engine"]["median_s"] < spec["analysis_seconds"],
    }
    for target in targets.values():
        target["stand_in"] = stand_in
    return targets


def _git_commit():
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=str(ROOT), timeout=10)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cache_sizes():
    caches = {}
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    for index in sorted(base.glob("index*")) if base.is_dir() else []:
        try:
            level = (index / "level").read_text().strip()
            kind = (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind != "Instruction":
            caches[f"L{level}"] = size
    return caches


def _blas_info():
    try:
        info = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return {k: info.get(k) for k in ("name", "version", "openblas configuration") if info.get(k)}
    except Exception:  # numpy < 1.26 or an unusual build
        return {}


def _package_version(name):
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info():
    """What the report's machine table shows."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count()
    total = None
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    total = int(line.split()[1]) * 1024
    except OSError:
        pass
    from dagtheory.analysis import analyze_attention
    from dagtheory.fidelity import minimax_fidelity
    from dagtheory.reference import mixing_proxy
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "cores_available": cores,
        "caches": _cache_sizes(),
        "memory_total_bytes": total,
        "memory_available_bytes": memory_available(),
        "load_average_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": np.__version__,
        "blas": _blas_info(),
        "scipy": _package_version("scipy"),
        "torch": _package_version("torch"),
        "dagtheory": _package_version("dagtheory"),
        "git_commit": _git_commit(),
        "thread_env": {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                                                  "MKL_NUM_THREADS") if k in os.environ},
        "backend_keyword": {f.__name__: _supports_backend(f)
                            for f in (minimax_fidelity, mixing_proxy, analyze_attention)},
        "started_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def _print(text):
    print(text, flush=True)


def run_benchmarks(config, *, only=BENCHMARKS, isolate=True, log=_print):
    """Run the selected benchmarks; returns the results dict written to results.json."""
    results = {"mode": config["mode"], "config": config, "machine": machine_info(),
               "bandwidth": None, "fidelity": [], "mixing": [], "analysis": []}
    guard = MemoryGuard(config)
    started = time.perf_counter()
    for task in _tasks(config, only):
        predicted, limit, refusal = guard.check(task, config)
        if refusal:
            entry = {"status": "skipped", "reason": refusal}
        elif isolate:
            entry = _run_isolated(task, config)
        else:
            try:
                entry = run_task({**task, "config": config})
            except Exception as error:  # noqa: BLE001 - recorded like a failed subprocess
                entry = {"status": "failed", "reason": f"{type(error).__name__}: {error}"}
            entry["peak_rss_bytes"] = None  # not meaningful inside a shared process
        entry.update({k: v for k, v in task.items() if k != "kind"})
        entry["predicted_peak_bytes"] = predicted
        if entry["status"] == "ok" and isolate:
            guard.learn(task, entry)
        if task["kind"] == "bandwidth":
            results["bandwidth"] = entry
        else:
            results[task["kind"]].append(entry)
        if log:
            log(_describe(task, entry))
    add_floors(results)
    results["scaling"] = {
        "fidelity": _scaling(results["fidelity"], {
            "engine": lambda e: e["engine"]["median_s"],
            "baseline": lambda e: e["baseline"]["scaled_median_s"]}),
        "mixing": _scaling(results["mixing"], {
            "engine": lambda e: e["engine"]["median_s"],
            "baseline": lambda e: e["baseline"]["median_s"]}),
        "analysis": _scaling(results["analysis"], {"engine": lambda e: e["engine"]["median_s"]}),
    }
    results["targets"] = evaluate_targets(results, config)
    results["machine"]["load_average_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    results["total_s"] = time.perf_counter() - started
    return _jsonable(results)


def build_config(args):
    config = json.loads(json.dumps(QUICK if args.quick else FULL))  # a deep copy
    if args.repeats is not None:
        config["repeats"] = args.repeats
        config["min_repeats"] = min(config["min_repeats"], args.repeats)
    if args.baseline_repeats is not None:
        config["baseline_repeats"] = args.baseline_repeats
    if args.time_budget is not None:
        config["time_budget_s"] = args.time_budget
    if args.memory_limit_gb is not None:
        config["memory_limit_bytes"] = int(args.memory_limit_gb * 1e9)
    if args.bytes_per_matrix is not None:
        config["bytes_per_matrix"] = args.bytes_per_matrix
    if args.seed is not None:
        config["seed"] = args.seed
    if args.no_torch:
        config["torch"] = False
    return config


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="tiny sizes, 1 repeat (a smoke test)")
    parser.add_argument("--repeats", type=int, help="timed runs per engine measurement (default 5)")
    parser.add_argument("--baseline-repeats", type=int, help="timed runs per baseline (default 3)")
    parser.add_argument("--time-budget", type=float,
                        help="stop repeating an engine measurement once its runs took this many "
                             "seconds and at least 3 runs are done (default 120)")
    parser.add_argument("--only", default=",".join(BENCHMARKS),
                        help=f"comma-separated subset of {','.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, help="results JSON (default bench/results.json, "
                                                 "bench/results-quick.json with --quick)")
    parser.add_argument("--markdown", type=Path, help="report path (default BENCHMARKS.md at the "
                                                      "repository root; bench/BENCHMARKS-quick.md with --quick)")
    parser.add_argument("--no-report", action="store_true", help="write results.json only")
    parser.add_argument("--in-process", action="store_true",
                        help="run every configuration in this process (no peak RSS per configuration)")
    parser.add_argument("--memory-limit-gb", type=float,
                        help="skip configurations predicted to need more (default 90%% of MemAvailable)")
    parser.add_argument("--bytes-per-matrix", choices=("full", "triangle"),
                        help="attention bytes read per matrix and pass for the bandwidth floor "
                             "(default full: n² float64)")
    parser.add_argument("--seed", type=int, help="input seed (default 0)")
    parser.add_argument("--no-torch", action="store_true",
                        help="do not time the torch backend even where the engine offers one")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        entry = run_task(json.loads(args.worker))
        print(RESULT_PREFIX + json.dumps(entry), flush=True)
        return 0

    only = tuple(name.strip() for name in args.only.split(",") if name.strip())
    unknown = set(only) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmarks {sorted(unknown)}; choose from {', '.join(BENCHMARKS)}")
    config = build_config(args)
    out = args.out or BENCH_DIR / ("results-quick.json" if args.quick else "results.json")
    results = run_benchmarks(config, only=only, isolate=not args.in_process)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {out} ({results['total_s']:.1f} s)")
    if not args.no_report:
        from report import write_report
        markdown = args.markdown or (BENCH_DIR / "BENCHMARKS-quick.md" if args.quick
                                     else ROOT / "BENCHMARKS.md")
        write_report(results, markdown)
        print(f"wrote {markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
