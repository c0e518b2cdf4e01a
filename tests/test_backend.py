"""The engine: backends (NumPy, torch CPU/CUDA), float32, early exit, memory (docs/performance.md)."""

import tracemalloc
from fractions import Fraction

import numpy as np
import pytest

from dagtheory import analysis, fidelity, markov, reference
from dagtheory._arith import leave_mass
from dagtheory._backend import Engine, choose_engine
from dagtheory._validation import check_attention
from dagtheory.exceptions import InvalidInputError
from dagtheory.graph import forward_walk


def softmax_attention(shape, n, seed=0, scale=1.0, heavy=()):
    """Seeded causal softmax attention; rows in ``heavy`` put 0.99 on their diagonal."""
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal(shape + (n, n)) * scale
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights /= weights.sum(axis=-1, keepdims=True)
    for row in heavy:
        weights[..., row, :] *= 0.01 / (1 - weights[..., row, row])[..., None]
        weights[..., row, row] = 0.99
    return weights


def full_running_max(diffusion, horizon):
    """Independent reference: all ``horizon`` steps of ``r ← r Δ``, no early exit, exact or float."""
    n = diffusion.shape[-1]
    zero = Fraction(0) if diffusion.dtype == object else 0.0
    rows = np.full(diffusion.shape[:-1], zero, dtype=diffusion.dtype)
    rows[..., -1] = 1 + zero
    best = np.full(rows.shape, zero, dtype=diffusion.dtype)
    first = np.zeros(rows.shape, dtype=int)
    for t in range(1, horizon + 1):
        rows = np.stack([rows[..., i:i + 1] * diffusion[..., i, :] for i in range(n)]).sum(axis=0)
        better = (rows > best) | (first == 0)
        best, first = np.where(better, rows, best), np.where(better, t, first)
    return best, first


# ---------------------------------------------------------------- early exit


@pytest.mark.parametrize("scale, heavy", [(1.0, ()), (3.0, ()), (0.3, (1, 5)), (10.0, (2,))])
def test_early_exit_matches_all_steps(scale, heavy):
    """§2: stopping once certified gives the values of all K steps (floats to 1e-13)."""
    attention = softmax_attention((3,), 40, seed=7, scale=scale, heavy=heavy)
    expected, _ = full_running_max(attention, 100)
    result = fidelity.node_fidelity(attention, 100)
    np.testing.assert_allclose(result.value, expected, rtol=1e-13, atol=1e-300)


def test_early_exit_is_exact_in_exact_mode():
    """§2: in exact arithmetic the certified stop returns exactly the values and steps of all K steps."""
    rng = np.random.default_rng(3)
    n = 7
    attention = np.empty((2, n, n), dtype=object)
    for b in range(2):
        for i in range(n):
            raw = [int(x) for x in rng.integers(0, 4, size=i + 1)]
            raw[i] += 1
            attention[b, i] = [Fraction(x, sum(raw)) for x in raw] + [Fraction(0)] * (n - i - 1)
    expected, first = full_running_max(attention, 30)
    result = fidelity.node_fidelity(attention, 30)
    assert result.value.tolist() == expected.tolist()
    assert result.t.tolist() == first.tolist()


def test_iteration_stops_and_shrinks_on_fast_mixing_heads(monkeypatch):
    """The loop stops well before K when every curve has peaked, and works on a shrinking prefix."""
    sizes = []
    original = fidelity.row_times

    def counting(rows, matrix):
        sizes.append(matrix.shape[-1])
        return original(rows, matrix)

    monkeypatch.setattr(fidelity, "row_times", counting)
    n = 30
    attention = np.zeros((n, n))
    attention[0, 0] = 1.0
    attention[np.arange(1, n), np.arange(n - 1)] = 1.0  # each token attends to its predecessor
    fidelity.node_fidelity(attention, 100)
    assert len(sizes) < 100 and sizes[-1] < n


# ---------------------------------------------------------------- backends


def test_choose_engine_defaults_and_tensor_selection():
    torch = pytest.importorskip("torch")
    assert choose_engine(np.eye(2)) == Engine("numpy", None, "float64")
    assert choose_engine(torch.eye(2)) == Engine("torch", "cpu", "float64")
    assert choose_engine(np.eye(2), backend="torch", dtype="float32") == Engine("torch", "cpu", "float32")


@pytest.mark.parametrize("kwargs, message", [
    ({"backend": "jax"}, "backend must be one of"),
    ({"dtype": "float16"}, "dtype must be float64 or float32"),
    ({"backend": "numpy", "device": "cuda"}, "numpy backend runs on the CPU"),
])
def test_bad_engine_choices_are_refused(kwargs, message):
    with pytest.raises(InvalidInputError, match=message):
        fidelity.minimax_fidelity(softmax_attention((), 5), 10, **kwargs)


def test_exact_input_refuses_the_torch_backend():
    from dagtheory.examples import paper_example2

    with pytest.raises(InvalidInputError, match="exact"):
        fidelity.minimax_fidelity(paper_example2().heads[0], 10, backend="torch")


def test_unavailable_device_is_named():
    torch = pytest.importorskip("torch")
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(InvalidInputError, match="device 'cuda' is not available"):
        fidelity.minimax_fidelity(softmax_attention((), 5), 10, backend="torch", device="cuda")


def _devices():
    torch = pytest.importorskip("torch")
    devices = ["cpu"]
    if torch.cuda.is_available():
        devices.append("cuda")
    return devices


ATTENTION = softmax_attention((2, 3), 24, seed=11, heavy=(3,))
WALKS = forward_walk(ATTENTION)

CASES = {
    "signal_curves": lambda **kw: fidelity.signal_curves(ATTENTION, 30, **kw),
    "node_fidelity": lambda **kw: fidelity.node_fidelity(ATTENTION, 60, **kw).value,
    "node_fidelity_t": lambda **kw: fidelity.node_fidelity(ATTENTION, 60, **kw).t,
    "supremum": lambda **kw: fidelity.node_fidelity(ATTENTION, None, **kw).value,
    "minimax_fidelity": lambda **kw: fidelity.minimax_fidelity(ATTENTION, 60, **kw).value,
    "amplification": lambda **kw: fidelity.amplification(ATTENTION, 60, **kw).ratio,
    "absorption_cdf": lambda **kw: markov.absorption_cdf(WALKS, 25, **kw),
    "distance_to_sink": lambda **kw: markov.distance_to_sink(WALKS, 25, **kw),
    "mixing_time": lambda **kw: markov.mixing_time(WALKS, **kw),
    "hitting_times": lambda **kw: markov.hitting_times(WALKS, **kw),
    "fidelity_proxy": lambda **kw: reference.fidelity_proxy(ATTENTION, **kw).percent,
    "mixing_proxy": lambda **kw: reference.mixing_proxy(ATTENTION, **kw).per_start,
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_torch_backend_matches_numpy(name):
    """Every iterated quantity: torch (each available device) equals NumPy to 1e-10 in float64."""
    expected = np.asarray(CASES[name](backend="numpy"), dtype=float)
    for device in _devices():
        got = np.asarray(CASES[name](backend="torch", device=device), dtype=float)
        assert isinstance(got, np.ndarray) and got.shape == expected.shape
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_tensor_input_selects_torch_and_matches():
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(ATTENTION)
    got = analysis.analyze_attention(tensor, horizon=60)
    expected = analysis.analyze_attention(ATTENTION, horizon=60)
    for name in analysis.SUMMARY_METRICS:
        np.testing.assert_allclose(getattr(got, name), getattr(expected, name), rtol=0, atol=1e-10)


def test_float32_inputs_are_computed_in_float64():
    """A float32 array gives exactly the float64 result of the same (widened) numbers."""
    single = ATTENTION.astype(np.float32)
    got = fidelity.minimax_fidelity(single, 60)
    expected = fidelity.minimax_fidelity(single.astype(np.float64), 60)
    assert np.array_equal(got.value, expected.value)


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_float32_on_request_is_close(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    got = fidelity.minimax_fidelity(ATTENTION, 60, backend=backend, dtype="float32").value
    expected = fidelity.minimax_fidelity(ATTENTION, 60).value
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    assert not np.array_equal(got, expected)  # it really ran in float32


# ---------------------------------------------------------------- memory and helpers


def test_peak_memory_is_linear_in_the_input():
    """No ``(horizon, n, n)`` intermediates: peak allocation stays a few inputs, not K of them."""
    attention = softmax_attention((4,), 200, seed=1)
    nbytes = attention.nbytes
    tracemalloc.start()
    try:
        fidelity.amplification(attention[None], 100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * nbytes


def test_leave_mass_fast_path_keeps_tiny_off_diagonal_mass():
    """Off-diagonal row sums: heavy diagonals are summed without cancellation."""
    matrix = softmax_attention((5,), 30, seed=2, heavy=(4, 9))
    matrix[..., 12, :] = 0.0
    matrix[..., 12, 12] = 1.0
    matrix[..., 12, 3] = 1e-20
    expected = np.where(np.eye(30, dtype=bool), 0.0, matrix).sum(axis=-1)
    got = leave_mass(matrix)
    np.testing.assert_allclose(got, expected, rtol=1e-14)
    assert (got[..., 12] == 1e-20).all()


def test_validation_does_not_modify_the_callers_array():
    """Renormalization happens on a copy unless the input was converted anyway."""
    attention = np.array([[1.0, 0.0], [0.3, 0.7000001]])
    copy = attention.copy()
    check_attention(attention)
    assert np.array_equal(attention, copy)
    torch = pytest.importorskip("torch")
    tensor = torch.from_numpy(copy.copy())
    check_attention(tensor)
    assert np.array_equal(tensor.numpy(), copy)


@pytest.mark.parametrize("row, column", [(250, 299), (130, 131), (5, 200)])
def test_causality_check_names_the_first_violation_in_large_inputs(row, column):
    attention = softmax_attention((2,), 300, seed=4)
    attention[1, row, column] = 0.5
    with pytest.raises(InvalidInputError, match=rf"batch 1, row {row}, column {column} \(value 0.5\)"):
        check_attention(attention)


def test_mixing_time_batch_compaction_keeps_each_walks_value():
    """Walks leave the batch as they mix; each keeps its own T_mix."""
    walks = forward_walk(softmax_attention((9,), 16, seed=5, heavy=(2,)))
    batched = markov.mixing_time(walks)
    assert batched.tolist() == [markov.mixing_time(w) for w in walks]
    assert np.isfinite(batched).all()


def test_stochastic_input_is_validated_without_a_copy():
    """Rows stochastic to rounding are used in place (read-only view); the caller's array is untouched."""
    attention = softmax_attention((3,), 50, seed=8)
    checked = check_attention(attention)
    assert np.shares_memory(checked, attention) and not checked.flags.writeable
    assert attention.flags.writeable
    off = attention.copy()
    off[0, 7] *= 1 + 1e-9  # within atol, beyond rounding: renormalized on a copy
    renormalized = check_attention(off)
    assert not np.shares_memory(renormalized, off)
    assert abs(renormalized[0, 7].sum() - 1) < 1e-15
