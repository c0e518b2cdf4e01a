"""Resource guards (dagtheory/resources.py): the memory limit and the refusals before allocation."""

import tracemalloc

import numpy as np
import pytest

import dagtheory as dt
from dagtheory import resources
from dagtheory.analysis import ANALYSIS_MATRICES, analyze_attention
from dagtheory.exceptions import InvalidInputError, InvalidTypeError, ResourceLimitError
from dagtheory.resources import format_size, get_memory_limit, memory_limit, parse_size, require_memory

GIB = 2 ** 30


@pytest.mark.parametrize("text, size", [
    ("8G", 8 * GIB), ("8g", 8 * GIB), ("8GB", 8 * GIB), ("8 GiB", 8 * GIB), ("512M", 512 * 2 ** 20),
    ("1.5K", 1536), ("1000000", 1_000_000), ("2T", 2 * 2 ** 40), (".5M", 2 ** 19), ("NONE", None),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["", "G", "8X", "-1G", "1e9", "8 G B", "0", "0.1"])
def test_parse_size_refuses_with_the_text(text):
    with pytest.raises(InvalidInputError, match=repr(text).replace("(", r"\(").replace(".", r"\.")
                       if text else "size"):
        parse_size(text)


@pytest.mark.parametrize("value", [8, 8.0, True, None])
def test_parse_size_needs_a_string(value):
    with pytest.raises(InvalidTypeError, match="string"):
        parse_size(value)


def test_format_size():
    assert [format_size(n) for n in (0, 1023, 1024, 3 * 2 ** 20, int(2.5 * GIB), 2 ** 41)] == [
        "0 B", "1023 B", "1 KiB", "3 MiB", "2.5 GiB", "2 TiB"]


@pytest.fixture
def unset_limit(monkeypatch):
    """No limit set from Python for the test, whatever was set before."""
    monkeypatch.setattr(resources, "_limit", resources._UNSET)
    monkeypatch.delenv(resources.ENVIRONMENT_VARIABLE, raising=False)


def test_limit_precedence(unset_limit, monkeypatch):
    monkeypatch.setattr(resources, "_physical_memory", lambda: 10 * GIB)
    assert get_memory_limit() == 8 * GIB                       # 80 % of physical memory
    monkeypatch.setattr(resources, "_physical_memory", lambda: None)
    assert get_memory_limit() is None                          # unknown: no limit
    monkeypatch.setenv(resources.ENVIRONMENT_VARIABLE, "3G")
    assert get_memory_limit() == 3 * GIB                       # the environment
    with memory_limit(12345):
        assert get_memory_limit() == 12345                     # set from Python wins
        with memory_limit(None):
            assert get_memory_limit() is None
        assert get_memory_limit() == 12345
    assert get_memory_limit() == 3 * GIB


def test_a_bad_environment_value_is_named(unset_limit, monkeypatch):
    monkeypatch.setenv(resources.ENVIRONMENT_VARIABLE, "lots")
    with pytest.raises(InvalidInputError, match="DAGTHEORY_MEMORY_LIMIT.*'lots'"):
        get_memory_limit()


@pytest.mark.parametrize("limit, error", [(0, InvalidInputError), (-5, InvalidInputError), (1.5, InvalidTypeError),
                                          (True, InvalidTypeError), ("big", InvalidInputError)])
def test_bad_limits_are_refused(limit, error):
    with pytest.raises(error):
        dt.set_memory_limit(limit)


def test_require_memory_names_size_limit_and_hint():
    with memory_limit("1M"):
        require_memory(2 ** 20, "exactly the limit")
        with pytest.raises(ResourceLimitError, match=r"^the job would need about 3 MiB of working memory, above "
                                                     r"the memory limit of 1 MiB; use less; or raise the limit"):
            require_memory(3 * 2 ** 20, "the job", hint="use less")
    assert issubclass(ResourceLimitError, MemoryError) and issubclass(ResourceLimitError, dt.DagTheoryError)


def causal_head(n):
    return np.tril(np.ones((n, n))) / np.arange(1, n + 1)[:, None]


def test_analysis_of_a_huge_stack_is_refused_before_allocating():
    # A GPT-2-sized stack of 64 samples as a zero-copy view: 72 GiB if it were real, 108 GiB with the
    # analysis' own arrays (6 matrices of 8 MiB per sample and layer).
    huge = np.broadcast_to(causal_head(1024), (64, 12, 12, 1024, 1024))
    tracemalloc.start()
    try:
        with memory_limit("4G"), pytest.raises(ResourceLimitError,
                                               match=r"analyze_attention on attention of shape \(64, 12, 12, 1024, "
                                                     r"1024\) would need about 108 GiB .* limit of 4 GiB"):
            analyze_attention(huge)
        assert tracemalloc.get_traced_memory()[1] < 2 ** 20
    finally:
        tracemalloc.stop()


def test_depth_of_a_huge_stack_is_refused_before_allocating():
    huge = np.broadcast_to(causal_head(2048), (32, 48, 2048, 2048))
    with memory_limit("8G"), pytest.raises(ResourceLimitError, match=r"depth_signal on layers of shape"):
        dt.depth_signal(huge)


@pytest.mark.parametrize("shape", [(1, 4, 4, 256, 256), (2, 2, 12, 128, 128), (1, 2, 1, 384, 384)])
def test_the_analysis_estimate_bounds_the_measured_peak(shape):
    rng = np.random.default_rng(0)
    scores = np.where(np.tril(np.ones(shape[-2:])) > 0, rng.normal(size=shape), -np.inf)
    attention = np.exp(scores - scores.max(axis=-1, keepdims=True))
    attention /= attention.sum(axis=-1, keepdims=True)
    samples_layers, tokens = np.prod(shape[:-3]), shape[-1]
    estimate = 8 * (attention.size + ANALYSIS_MATRICES * samples_layers * tokens ** 2)
    tracemalloc.start()
    try:
        analyze_attention(attention, horizon=50)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # An upper estimate, and not a wild one: within a factor 3 of what was used.
    assert peak <= estimate <= 3 * (peak + attention.nbytes)


def test_the_analysis_runs_under_a_limit_it_fits():
    attention = causal_head(8)[None]
    with memory_limit("1M"):
        result = analyze_attention(attention, horizon=10)
    assert result.shape == (1, 1)


def test_cli_memory_limit_refuses_in_one_line(tmp_path, capsys, monkeypatch):
    from dagtheory.cli import main

    # The command sets the limit and the environment variable: both are restored after the test.
    monkeypatch.setattr(resources, "_limit", resources._UNSET)
    monkeypatch.setenv(resources.ENVIRONMENT_VARIABLE, "")
    path = tmp_path / "stack.npy"
    np.save(path, np.broadcast_to(causal_head(300), (4, 4, 300, 300)))
    # Reading the file needs 22 MiB (float64 as stored, and the analyzer's copy); the analysis 27.5 MiB.
    assert main(["analyze", str(path), "--memory-limit", "10M"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"dagtheory analyze: error: {path}: reading an array of shape "
                                                   "(4, 4, 300, 300) (float64) would need about 22 MiB")
    assert main(["analyze", str(path), "--memory-limit", "25M"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("dagtheory analyze: error: analyze_attention on attention of "
                                                   "shape (4, 4, 300, 300) would need about 27.5 MiB")
    with pytest.raises(SystemExit) as exit_info:
        main(["analyze", str(path), "--memory-limit", "10Q"])
    assert exit_info.value.code == 2 and "cannot read the size '10Q'" in capsys.readouterr().err
    monkeypatch.setattr(resources, "_limit", resources._UNSET)
    assert main(["analyze", str(path), "--memory-limit", "none", "--horizon", "5"]) == 0


def test_long_curves_are_refused_but_the_fidelity_alone_runs():
    head = causal_head(100)
    with memory_limit("1M"):
        with pytest.raises(ResourceLimitError, match=r"signal_curves of 1 matrices of 100 tokens over 10000 steps "
                                                     r"would need about 15\.3 MiB"):
            dt.signal_curves(head, 10_000)
        with pytest.raises(ResourceLimitError, match=r"absorption_cdf of 1 matrices of 100 tokens over 10001 steps"):
            dt.absorption_cdf(dt.forward_walk(head), 10_000)
        # The fidelity keeps no curves: it runs under the same limit.
        assert dt.minimax_fidelity(head, 10_000).value > 0


def test_doubling_for_huge_mixing_times_is_refused_before_squaring():
    # Two transient nodes that leave with probability 1e-9 each: T_mix ≈ 1.4e9 needs ~31 squarings.
    walk = np.array([[1 - 1e-9, 1e-9, 0.0], [0.0, 1 - 1e-9, 1e-9], [0.0, 0.0, 1.0]])
    assert dt.mixing_time(walk, max_steps=10 ** 12) > 10 ** 9
    with memory_limit(100), pytest.raises(ResourceLimitError, match=r"mixing_time by doubling on 1 walks of 3 tokens"):
        dt.mixing_time(walk, max_steps=10 ** 12)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_arrays_on_disk_are_refused_from_their_header(tmp_path, suffix):
    from dagtheory.experiment import load_input

    attention = np.broadcast_to(causal_head(64), (8, 2, 4, 64, 64)).astype(np.float32)
    path = tmp_path / f"big{suffix}"
    np.save(path, attention) if suffix == ".npy" else np.savez(path, attention=attention)
    with memory_limit("1M"), pytest.raises(ResourceLimitError, match=rf"big\{suffix}: reading an array of shape "
                                                                     r"\(8, 2, 4, 64, 64\) \(float32\) would need "
                                                                     r"about 3 MiB"):
        load_input(path)
    with memory_limit("4M"):
        assert load_input(path).attention.shape == (8, 2, 4, 64, 64)


def test_extraction_is_refused_before_running_the_model():
    torch = pytest.importorskip("torch")
    from dagtheory.torch import PaperTransformer, extract_attention

    torch.manual_seed(0)
    model = PaperTransformer(vocab_size=16, d_model=16, n_heads=4, n_layers=3, max_len=64)
    tokens = np.zeros((10, 64), dtype=int)
    # 10 sequences × 3 layers × 4 heads × 64² entries, in float32 and float64: 5.6 MiB.
    with memory_limit("2M"), pytest.raises(ResourceLimitError, match=r"extract_attention of 10 sequence\(s\) of "
                                                                     r"64 tokens from 3 layers × 4 heads would need "
                                                                     r"about 5\.62 MiB"):
        extract_attention(model, tokens)
    with memory_limit("8M"):
        assert extract_attention(model, tokens).shape == (10, 3, 4, 64, 64)
