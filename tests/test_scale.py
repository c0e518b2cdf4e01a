"""Tests of dagtheory.scale: the analyzer's tasks on Dask give the report of the plain loop.

Every report is compared with :func:`dagtheory.experiment.analyze_inputs` run in
process, through its JSON text, so equal means the same numbers to the last
digit. Inputs are small attention arrays written under ``tmp_path`` and, where
present, two of the paper's checkpoints (``../shared/paper-checkpoints``) on 3
samples of 8 tokens. One ``distributed.LocalCluster`` of two single-threaded
processes on 127.0.0.1 serves the tests that connect to a scheduler address.
"""

import importlib
import json
import sys
import time

import numpy as np
import pytest

import dagtheory
import dagtheory.scale
from dagtheory import InvalidInputError, InvalidTypeError, TrappedNodeWarning
from dagtheory.analysis import analyze_attention
from dagtheory.cli import main
from dagtheory.exceptions import DagTheoryError, MissingDependencyError, SchedulerError
from dagtheory.experiment import analyze_inputs
from dagtheory.report import to_json
from dagtheory.scale import analyze_at_scale, merge_analyses, sample_chunks

SAMPLES, LAYERS, HEADS, TOKENS = 5, 2, 3, 6
SMALL = {"samples": 3, "seq_len": 8}
UNREACHABLE = "tcp://127.0.0.1:1"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def causal_softmax(rng, shape):
    """Random float attention ``(..., T, T)``: softmax of random scores under a causal mask."""
    size = shape[-1]
    scores = np.where(np.tril(np.ones((size, size), dtype=bool)), 2 * rng.normal(size=shape), -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


@pytest.fixture
def arrays(tmp_path):
    """A 5-sample ``(S, L, H, T, T)`` .npy and an ``(L, H, T, T)`` .npz with head weights."""
    rng = np.random.default_rng(7)
    samples = tmp_path / "samples.npy"
    np.save(samples, causal_softmax(rng, (SAMPLES, LAYERS, HEADS, TOKENS, TOKENS)))
    weighted = tmp_path / "weighted.npz"
    np.savez(weighted, attention=causal_softmax(rng, (LAYERS, HEADS, TOKENS, TOKENS)),
             weights=rng.uniform(0.5, 1.5, size=(LAYERS, HEADS)))
    return [samples, weighted]


@pytest.fixture
def paper_models(checkpoints):
    pytest.importorskip("torch")
    return [checkpoints / "4_heads_copy.pt", checkpoints / "1_heads_cycle.pt"]


@pytest.fixture(scope="module")
def cluster_address():
    """The address of a LocalCluster of two single-threaded worker processes on loopback."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None,
                                  scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}) as cluster:
        yield cluster.scheduler_address


def same_report(first, second):
    return to_json(first) == to_json(second)


# ---------------------------------------------------------------------------
# chunks and merging


@pytest.mark.parametrize("samples, chunk, expected", [
    (0, 3, []), (1, 3, [(0, 1)]), (3, 3, [(0, 3)]), (7, 3, [(0, 3), (3, 6), (6, 7)]),
    (4, 1, [(0, 1), (1, 2), (2, 3), (3, 4)]),
])
def test_sample_chunks_cover_the_samples_in_order(samples, chunk, expected):
    assert sample_chunks(samples, chunk) == expected


def test_sample_chunks_refuse_bad_sizes():
    with pytest.raises(InvalidInputError, match="chunk_samples must be at least 1; got 0"):
        sample_chunks(4, 0)
    with pytest.raises(InvalidInputError, match="samples must be at least 0; got -1"):
        sample_chunks(-1, 2)
    with pytest.raises(InvalidTypeError, match="chunk_samples must be an int; got 2.5"):
        sample_chunks(4, 2.5)


def test_merged_chunks_equal_one_pass():
    attention = causal_softmax(np.random.default_rng(1), (SAMPLES, LAYERS, HEADS, TOKENS, TOKENS))
    for gamma in (None, 0.5):
        whole = analyze_attention(attention, horizon=30, gamma=gamma)
        merged = merge_analyses([analyze_attention(attention[start:stop], horizon=30, gamma=gamma)
                                 for start, stop in sample_chunks(SAMPLES, 2)])
        for name, value in vars(whole).items():
            if value is None:
                assert getattr(merged, name) is None, name
            else:
                assert np.array_equal(getattr(merged, name), value, equal_nan=True), name


def test_merge_refuses_mismatched_analyses():
    rng = np.random.default_rng(2)
    one = analyze_attention(causal_softmax(rng, (1, LAYERS, HEADS, TOKENS, TOKENS)), horizon=30)
    other_heads = analyze_attention(causal_softmax(rng, (1, LAYERS, 2, TOKENS, TOKENS)), horizon=30)
    other_horizon = analyze_attention(causal_softmax(rng, (1, LAYERS, HEADS, TOKENS, TOKENS)), horizon=10)
    with pytest.raises(InvalidInputError, match="at least one analysis"):
        merge_analyses([])
    with pytest.raises(InvalidInputError, match=r"analysis 1 has \(layers, heads\) = \(2, 2\)"):
        merge_analyses([one, other_heads])
    with pytest.raises(InvalidInputError, match="analysis 1 has horizon 10"):
        merge_analyses([one, other_horizon])


# ---------------------------------------------------------------------------
# in process: the same report as analyze_inputs


@pytest.mark.parametrize("scheduler", [None, "threads", "sync"])
def test_in_process_equals_analyze_inputs_on_arrays(arrays, scheduler):
    pytest.importorskip("dask")
    expected = analyze_inputs(arrays, horizon=30)
    report = analyze_at_scale(arrays, scheduler=scheduler, chunk_samples=2, horizon=30)
    assert same_report(report, expected)
    assert [m["samples"] for m in report["models"]] == [SAMPLES, 1]
    assert [m["weights_kind"] for m in report["models"]] == ["uniform", "learned"]


def test_in_process_equals_analyze_inputs_on_checkpoints(paper_models):
    pytest.importorskip("dask")
    expected = analyze_inputs(paper_models, **SMALL)
    report = analyze_at_scale(paper_models, chunk_samples=1, **SMALL)
    assert same_report(report, expected)
    assert [(m["name"], m["samples"], m["tokens"]) for m in report["models"]] == [
        ("4_heads_copy", 3, 8), ("1_heads_cycle", 3, 8)]


@pytest.mark.parametrize("chunk_samples", [1, 2, 4, 100])
def test_chunking_does_not_change_the_report(arrays, chunk_samples):
    pytest.importorskip("dask")
    expected = analyze_at_scale(arrays, scheduler="sync", chunk_samples=100, horizon=30, weights="uniform")
    report = analyze_at_scale(arrays, scheduler="threads", workers=2, chunk_samples=chunk_samples,
                              horizon=30, weights="uniform")
    assert same_report(report, expected)


def test_chunking_with_given_tokens(paper_models):
    pytest.importorskip("dask")
    tokens = np.random.default_rng(5).integers(0, 10, size=(5, 6))
    expected = analyze_inputs(paper_models[:1], tokens=tokens, horizon=20)
    report = analyze_at_scale(paper_models[:1], scheduler="sync", chunk_samples=2, tokens=tokens, horizon=20)
    assert same_report(report, expected)
    assert report["settings"]["samples"] == 5


def test_errors_name_the_input_and_the_chunk(tmp_path):
    pytest.importorskip("dask")
    attention = causal_softmax(np.random.default_rng(3), (SAMPLES, LAYERS, HEADS, TOKENS, TOKENS))
    attention[3, 1, 2, 4, 5] = 0.5  # above the diagonal, in sample 3
    path = tmp_path / "bad.npy"
    np.save(path, attention)
    with pytest.raises(InvalidInputError) as whole:
        analyze_at_scale([path], chunk_samples=SAMPLES)
    with pytest.raises(InvalidInputError) as in_process:
        analyze_inputs([path])
    assert str(whole.value) == str(in_process.value)
    with pytest.raises(InvalidInputError, match=r"bad\.npy, samples 2 to 3: attention is not causal"):
        analyze_at_scale([path], chunk_samples=2)
    with pytest.raises(InvalidInputError, match="weights must be 'learned' or 'uniform'; got 'best'"):
        analyze_at_scale([path], weights="best")
    with pytest.raises(InvalidInputError, match="does not exist"):
        analyze_at_scale([tmp_path / "missing.npy"])


def test_bad_scheduler_options_are_refused(arrays):
    with pytest.raises(InvalidInputError, match="scheduler must be one of threads, sync, processes or"):
        analyze_at_scale(arrays, scheduler="cluster")
    with pytest.raises(InvalidTypeError, match="scheduler must be a string"):
        analyze_at_scale(arrays, scheduler=3)
    with pytest.raises(InvalidInputError, match="workers must be at least 1; got 0"):
        analyze_at_scale(arrays, workers=0)
    with pytest.raises(InvalidInputError, match="chunk_samples must be at least 1; got 0"):
        analyze_at_scale(arrays, chunk_samples=0)
    with pytest.raises(InvalidInputError, match="connect_timeout must be a positive number"):
        analyze_at_scale(arrays, connect_timeout=0)


def test_progress_bar_on_request(arrays, capsys):
    pytest.importorskip("tqdm")
    analyze_at_scale(arrays, chunk_samples=2, progress=True, horizon=30)
    err = capsys.readouterr().err
    assert "dagtheory analyze" in err and "6/6" in err  # 2 prepare tasks, 3 + 1 chunks
    analyze_at_scale(arrays, chunk_samples=2, progress=False, horizon=30)
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------
# a LocalCluster on loopback, by its address


def test_cluster_equals_in_process(cluster_address, arrays, paper_models):
    inputs = paper_models + arrays
    expected = analyze_inputs(inputs, horizon=30, **SMALL)
    report = analyze_at_scale(inputs, scheduler=cluster_address, chunk_samples=2, horizon=30, **SMALL)
    assert same_report(report, expected)
    # The address without its protocol, and a client made by the caller, work the same.
    from distributed import Client

    bare = cluster_address.removeprefix("tcp://")
    assert same_report(analyze_at_scale(arrays, scheduler=bare, chunk_samples=1, horizon=30),
                       analyze_inputs(arrays, horizon=30))
    with Client(cluster_address) as client:
        report = analyze_at_scale(arrays, scheduler=client, horizon=30)
        assert client.status == "running"
    assert same_report(report, analyze_inputs(arrays, horizon=30))


def test_cluster_from_the_command_line(cluster_address, arrays, paper_models, tmp_path, capsys):
    inputs = [str(path) for path in paper_models + arrays]
    options = ["--samples", "3", "--seq-len", "8", "--horizon", "30"]
    assert main(["analyze", *inputs, *options, "--json", str(tmp_path / "local.json")]) == 0
    assert main(["analyze", *inputs, *options, "--json", str(tmp_path / "cluster.json"),
                 "--scheduler", cluster_address, "--chunk-samples", "1", "--no-progress"]) == 0
    assert "task" not in capsys.readouterr().err  # no progress bar
    local, cluster = (json.loads((tmp_path / name).read_text()) for name in ("local.json", "cluster.json"))
    assert cluster == local and len(cluster["models"]) == 4


def test_cluster_errors_and_warnings_reach_the_caller(cluster_address, tmp_path):
    upper = tmp_path / "upper.npy"
    np.save(upper, np.array([[[0.5, 0.5], [0.5, 0.5]]]))
    with pytest.raises(InvalidInputError, match=r"upper\.npy: attention is not causal"):
        analyze_at_scale([upper], scheduler=cluster_address)
    cut = np.array([[1, 0, 0], [0.5, 0.5, 0], [0.9, 0, 0.1]])  # node 1 never reaches the sink
    np.save(tmp_path / "cut.npy", np.stack([cut, cut]))
    with pytest.warns(TrappedNodeWarning):
        report = analyze_at_scale([tmp_path / "cut.npy"], scheduler=cluster_address)
    assert report["models"][0]["layers"][0]["mixing_time"]["mean"] == np.inf


def test_processes_scheduler_starts_and_closes_its_own_cluster(arrays):
    distributed = pytest.importorskip("distributed")
    report = analyze_at_scale(arrays[:1], scheduler="processes", workers=1, chunk_samples=2, horizon=30)
    assert same_report(report, analyze_inputs(arrays[:1], horizon=30))
    with pytest.raises(ValueError):
        distributed.Client.current()  # the client it made is closed


# ---------------------------------------------------------------------------
# an address that does not answer, and no dask at all


def test_unreachable_address_fails_quickly_with_a_clear_error(arrays, capsys):
    pytest.importorskip("distributed")
    started = time.perf_counter()
    message = r"no Dask scheduler answered at 'tcp://127\.0\.0\.1:1' within 0\.5 s"
    with pytest.raises(SchedulerError, match=message):
        analyze_at_scale(arrays, scheduler=UNREACHABLE, connect_timeout=0.5)
    assert time.perf_counter() - started < 10
    assert main(["analyze", str(arrays[0]), "--scheduler", "127.0.0.1:1", "--connect-timeout", "0.5"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dagtheory analyze: error: no Dask scheduler answered at '127.0.0.1:1'")
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.fixture
def without_dask(monkeypatch):
    """``dagtheory.scale`` imported afresh while ``import dask`` and ``import distributed`` fail."""
    monkeypatch.setattr(dagtheory, "scale", dagtheory.scale)  # restored after the test
    for name in ("dask", "distributed"):
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, "dagtheory.scale")
    return importlib.import_module("dagtheory.scale")


def test_without_dask_the_default_runs_in_a_loop(without_dask, arrays):
    report = without_dask.analyze_at_scale(arrays, chunk_samples=2, horizon=30)
    assert same_report(report, analyze_inputs(arrays, horizon=30))


@pytest.mark.parametrize("scheduler", ["threads", "sync", "processes", UNREACHABLE])
def test_without_dask_a_scheduler_asks_for_the_extra(without_dask, arrays, scheduler):
    with pytest.raises(ImportError, match=r'pip install "dagtheory\[dask\]"') as error:
        without_dask.analyze_at_scale(arrays, scheduler=scheduler)
    assert isinstance(error.value, MissingDependencyError) and isinstance(error.value, DagTheoryError)


def test_without_dask_the_command_ends_in_one_line(without_dask, arrays, capsys):
    assert main(["analyze", str(arrays[0]), "--scheduler", "processes"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dagtheory analyze: error: running the analyzer on Dask needs 'distributed'")
    assert err.count("\n") == 1
