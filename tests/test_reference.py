"""Tests of dagtheory.reference: the paper code's fidelity and mixing proxies (THEORY.md §6).

Known answers are derived by hand over the rationals. On the trained models of
``../shared/paper-checkpoints`` the attention is recomputed here from each state dict
with plain torch (float64), and the proxies are checked against independent
evaluations of §6's definitions: full matrix powers of ``Ā`` for the fidelity proxy,
a step kernel built entry by entry and matrix powers of it for the mixing proxy. Those
tests skip where torch or the checkpoints are absent.
"""

import functools
import re
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagtheory import HeadSystem, InvalidInputError, InvalidTypeError, forward_walk, hitting_times
from dagtheory.examples import paper_example2
from dagtheory.reference import (
    FidelityProxy,
    MixingProxy,
    MixingProxyEstimate,
    combine_heads,
    fidelity_proxy,
    mixing_proxy,
    mixing_proxy_mc,
    step_kernel,
)
from strategies import rational_system, to_float

F = Fraction
PROXIES_DOC = Path(__file__).resolve().parents[1] / "docs" / "proxies.md"

# --------------------------------------------------------------------------------------
# A hand-computed instance (§6): n = 4, sink τ = 3
# --------------------------------------------------------------------------------------

#: Column 0 sums to 3/2 and column 1 to 3/2 (clipping matters); column 2 sums to 1/2
#: (the missing half goes to τ).
HAND = np.array([
    [F(1), F(0), F(0), F(0)],
    [F(1, 2), F(1, 2), F(0), F(0)],
    [F(0), F(3, 4), F(1, 4), F(0)],
    [F(0), F(1, 4), F(1, 4), F(1, 2)],
], dtype=object)

#: K by hand. Row 0: C_0 = Ā[0,0] = 1, so the walk never leaves token 0.
#: Row 1: C_1 = 1/2, C_2 = 5/4 -> 1, so K[1,2] = 1/2 (not 3/4) and K[1,τ] = 1 - 1 = 0
#: although Ā[3,1] = 1/4. Row 2: C_2 = 1/4, K[2,τ] = 1 - 1/4 = 3/4 = Ā[3,2] + the missing 1/2.
HAND_KERNEL = np.array([
    [F(1), F(0), F(0), F(0)],
    [F(0), F(1, 2), F(1, 2), F(0)],
    [F(0), F(0), F(1, 4), F(3, 4)],
    [F(0), F(0), F(0), F(1)],
], dtype=object)


def hand_steps(max_steps):
    """Expected capped step counts under HAND_KERNEL, derived by hand.

    From 2: Pr[not at τ after t] = (1/4)^t. From 1: the walk is at 1 with probability
    (1/2)^t and at 2 with probability Σ_{s=1}^t (1/2)^s (1/4)^{t-s} = 2(1/2)^t - 2(1/4)^t,
    so Pr[not at τ after t] = 3(1/2)^t - 2(1/4)^t. Summing t = 0..M-1 (geometric sums):
    """
    m = max_steps
    from_1 = 6 * (1 - F(1, 2) ** m) - F(8, 3) * (1 - F(1, 4) ** m)
    from_2 = F(4, 3) * (1 - F(1, 4) ** m)
    return [F(m), from_1, from_2, F(0)]


def test_step_kernel_by_hand():
    kernel = step_kernel(HAND[None])
    assert kernel.dtype == object
    assert kernel.tolist() == HAND_KERNEL.tolist()


def test_step_kernel_is_not_the_forward_walk_of_section_3():
    # §3 normalizes column 1 by its sum 3/2: P[1] = (0, 1/3, 1/2, 1/6); §6 clips it in token order.
    walk = forward_walk(HAND)
    assert walk[1].tolist() == [F(0), F(1, 3), F(1, 2), F(1, 6)]
    assert step_kernel(HAND[None])[1].tolist() == [F(0), F(1, 2), F(1, 2), F(0)]
    assert walk[0, 0] == F(2, 3) and step_kernel(HAND[None])[0, 0] == 1


def test_mixing_proxy_by_hand_three_steps():
    # M = 3: from 1, 1 + 1 + 5/8; from 2, 1 + 1/4 + 1/16; from 0, 3 (trapped); mean over 4 starts.
    result = mixing_proxy(HAND[None], max_steps=3)
    assert result.per_start.tolist() == [F(3), F(21, 8), F(21, 16), F(0)]
    assert result.value == F(111, 64)
    assert hand_steps(3) == [F(3), F(21, 8), F(21, 16), F(0)]


def test_mixing_proxy_by_hand_paper_cap():
    result = mixing_proxy(HAND[None])  # max_steps = 100, exact
    expected = hand_steps(100)
    assert isinstance(result, MixingProxy)
    assert result.per_start.tolist() == expected
    assert result.value == sum(expected) / 4
    assert isinstance(result.value, Fraction)


def test_mixing_proxy_float_matches_exact_by_hand():
    result = mixing_proxy(to_float(HAND)[None])
    np.testing.assert_allclose(result.per_start, [float(x) for x in hand_steps(100)], rtol=1e-13)


def test_mixing_proxy_below_hitting_times_of_the_kernel():
    # Uncapped, the expected steps are §3's hitting times of K: 10/3 from 1, 4/3 from 2.
    times = hitting_times(step_kernel(HAND[None]))
    assert times.tolist() == [np.inf, F(10, 3), F(4, 3), F(0)]
    per_start = mixing_proxy(HAND[None], max_steps=2000).per_start
    assert all(p < m for p, m in zip(per_start[1:3], times[1:3]))
    assert abs(per_start[1] - F(10, 3)) < F(1, 10**100)


def test_mixing_proxy_on_example2():
    # Ā of Example 2: K[1] = (0, 3/4, 1/4, 0), K[2] = (0, 0, 5/12, 7/12); with M = 2 by hand.
    attention = paper_example2().attention
    kernel = step_kernel(attention)
    assert kernel[1].tolist() == [F(0), F(3, 4), F(1, 4), F(0)]
    assert kernel[2].tolist() == [F(0), F(0), F(5, 12), F(7, 12)]
    assert mixing_proxy(attention, max_steps=2).per_start.tolist() == [F(2), F(2), F(17, 12), F(0)]


# --------------------------------------------------------------------------------------
# Fidelity proxy (§6 with §2's sources = all)
# --------------------------------------------------------------------------------------


def fraction_power_fidelity(matrix, horizon):
    """``max_{1≤t≤K} [Ā^t]_{τ,v}`` for every v, from exact full matrix powers."""
    n = len(matrix)
    rows = [[F(x) for x in row] for row in matrix]
    power = [[F(int(i == j)) for j in range(n)] for i in range(n)]
    best = [F(-1)] * n
    for _ in range(horizon):
        power = [[sum(power[i][k] * rows[k][j] for k in range(n)) for j in range(n)] for i in range(n)]
        best = [max(b, p) for b, p in zip(best, power[n - 1])]
    return best


def test_fidelity_proxy_example2_against_matrix_powers():
    system = paper_example2()
    combined = (system.attention[0] + system.attention[1]) / 2
    per_node = fraction_power_fidelity(combined, 20)
    assert per_node[2:] == [F(5, 12), F(5, 12)]  # w peaks at t = 1; the sink's Ā[τ,τ] = 5/12
    assert min(per_node[:2]) > F(5, 12)
    proxy = fidelity_proxy(system.attention, horizon=20)
    assert isinstance(proxy, FidelityProxy)
    assert proxy.percent == 100 * min(per_node) == F(125, 3)
    # w (node 2) ties with the sink (Ā[τ,τ] = 5/12); the smaller index is reported.
    assert (proxy.node, proxy.t, proxy.sink_decides) == (2, 1, False)


@pytest.mark.parametrize("weights, expected", [
    ([1, 0], F(3, 8) * 100),                          # head 1: v at t = 3, as §2's non-sink value
    ([0, 1], F(871696090, 3486784401) * 100),        # head 2: u at t = 20
])
def test_fidelity_proxy_example2_single_heads(weights, expected):
    attention = paper_example2().attention
    chosen = attention[weights.index(1)]
    assert 100 * min(fraction_power_fidelity(chosen, 20)) == expected
    assert fidelity_proxy(attention, weights, horizon=20).percent == expected


def test_sink_decides_when_its_self_attention_is_smallest():
    # S_t(τ) = Ā[τ,τ]^t peaks at t = 1 with 1/10, below φ_0 >= 1/2 and φ_1 >= 2/5.
    attention = np.array([[[F(1), F(0), F(0)], [F(1, 2), F(1, 2), F(0)],
                           [F(1, 2), F(2, 5), F(1, 10)]]], dtype=object)
    assert min(fraction_power_fidelity(attention[0], 100)) == F(1, 10)
    proxy = fidelity_proxy(attention)
    assert (proxy.percent, proxy.node, proxy.t, proxy.sink_decides) == (F(10), 2, 1, True)


def test_fidelity_proxy_batched_sink_decides_is_a_bool_array():
    attention = paper_example2().attention
    sink_small = np.array([[F(1), F(0), F(0), F(0)], [F(1, 2), F(1, 2), F(0), F(0)],
                           [F(0), F(1, 2), F(1, 2), F(0)], [F(1, 3), F(1, 3), F(1, 4), F(1, 12)]],
                          dtype=object)
    stack = np.stack([attention, np.stack([sink_small, sink_small])])  # (2, 2, 4, 4)
    proxy = fidelity_proxy(stack, horizon=20)
    assert isinstance(proxy.sink_decides, np.ndarray) and proxy.sink_decides.dtype == bool
    assert proxy.sink_decides.tolist() == [False, True]
    assert proxy.percent.tolist() == [F(125, 3), F(25, 3)]


def test_combine_heads_uniform_weighted_and_batched():
    attention = paper_example2().attention
    assert combine_heads(attention).tolist() == HeadSystem(attention).combined().diffusion.tolist()
    weighted = combine_heads(attention, [F(1, 3), F(2, 3)])
    assert weighted.tolist() == HeadSystem(attention, [F(1), F(2)]).combined().diffusion.tolist()
    batched = combine_heads(np.stack([attention, attention]), [[1, 0], [0, 1]])
    assert batched[0].tolist() == attention[0].tolist()
    assert batched[1].tolist() == attention[1].tolist()


# --------------------------------------------------------------------------------------
# Properties over generated systems
# --------------------------------------------------------------------------------------


@given(rational_system(max_n=5), st.integers(1, 6))
def test_kernel_properties_and_exact_float_agreement(system, max_steps):
    attention, weights = system
    kernel = step_kernel(attention, weights)
    n = kernel.shape[-1]
    assert all(sum(row) == 1 for row in kernel)
    assert all(kernel[c, k] == 0 for c in range(n) for k in range(c))
    assert kernel[0, 0] == 1 and kernel[n - 1, n - 1] == 1
    exact = mixing_proxy(attention, weights, max_steps=max_steps)
    assert exact.per_start[0] == max_steps and exact.per_start[-1] == 0
    assert all(1 <= p <= max_steps for p in exact.per_start[:-1])
    numeric = mixing_proxy(to_float(attention), to_float(weights), max_steps=max_steps)
    np.testing.assert_allclose(numeric.per_start, to_float(exact.per_start), rtol=1e-12)
    proxy = fidelity_proxy(attention, weights, horizon=max_steps)
    combined = combine_heads(attention, weights)
    assert proxy.percent <= 100 * combined[-1, -1]
    assert proxy.sink_decides == (proxy.node == n - 1)
    assert float(fidelity_proxy(to_float(attention), to_float(weights), horizon=max_steps).percent) \
        == pytest.approx(float(proxy.percent), rel=1e-12, abs=1e-12)


def test_mixing_proxy_stops_early_and_stays_exact(monkeypatch):
    """§6: a walk that reaches τ surely settles; the loop stops and the counts are exact."""
    import dagtheory.reference as reference_module

    calls = []
    original = reference_module.column_stepper

    def counting_stepper(matrix):
        step = original(matrix)
        return lambda columns: calls.append(1) or step(columns)

    monkeypatch.setattr(reference_module, "column_stepper", counting_stepper)
    n = 6
    chain = [[Fraction(int(j == max(i - 1, 0) or (i == 0 and j == 0))) for j in range(n)] for i in range(n)]
    result = mixing_proxy([chain], max_steps=100)
    # Token 0 never moves (K[0, 0] = 1); token c walks n-1-c steps to the sink.
    assert result.per_start.tolist() == [100, 4, 3, 2, 1, 0]
    assert 0 < len(calls) < 20


def test_mixing_proxy_float_matches_the_full_iteration(monkeypatch):
    """§6: stopping once settled, on a shrinking prefix of starts, gives the sum over all M steps
    of 1 - F_t (independent loop)."""
    import dagtheory.reference as reference_module

    sizes = []
    original = reference_module.column_stepper
    monkeypatch.setattr(reference_module, "column_stepper",
                        lambda matrix: sizes.append(matrix.shape[-1]) or original(matrix))
    rng = np.random.default_rng(5)
    scores = np.where(np.tril(np.ones((40, 40), bool)), rng.normal(size=(3, 40, 40)) * 2, -np.inf)
    attention = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    kernel = step_kernel(attention)
    absorbed = np.zeros(40)
    absorbed[-1] = 1.0
    expected = np.zeros(40)
    for _ in range(100):
        expected += 1.0 - absorbed
        absorbed = kernel @ absorbed
    np.testing.assert_allclose(mixing_proxy(attention).per_start, expected, rtol=1e-12)
    assert sizes[0] == 40 and min(sizes) < 40  # the prefix did shrink


# --------------------------------------------------------------------------------------
# Real attention from the paper's checkpoints
# --------------------------------------------------------------------------------------

MODELS = [f"{heads}_heads_{task}" for heads in (1, 4, 8, 16) for task in ("copy", "cycle")]
TOKENS = 100  # the models' maximum sequence length


@functools.lru_cache(maxsize=None)
def layer_attention(path):
    """Attention ``(L, H, T, T)``, raw learned importances ``(L, H)`` and predictions ``(T,)``.

    Rebuilt from the state dict in float64 (architecture of the checkpoints' README),
    on seeded random tokens; returns numpy arrays.
    """
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    state = {k: v.to(torch.float64) for k, v in
             torch.load(path, map_location="cpu", weights_only=True).items()}
    heads = int(Path(path).name.split("_")[0])
    size = 64 // heads
    eps = torch.finfo(torch.float32).eps  # nn.RMSNorm's default for the float32 model
    tokens = torch.as_tensor(np.random.default_rng(0).integers(0, 256, size=TOKENS))
    x = state["token_emb.weight"][tokens] + state["pos_emb.weight"][:TOKENS]
    causal = torch.ones(TOKENS, TOKENS, dtype=torch.bool).tril()
    attention, importances, layer = [], [], 0
    while f"layers.{layer}.ln1.weight" in state:
        p = f"layers.{layer}."

        def linear(name, h):
            return fn.linear(h, state[p + name + ".weight"], state[p + name + ".bias"])

        h = fn.rms_norm(x, (64,), state[p + "ln1.weight"], eps)
        q, k, v = (linear(f"attn.{name}", h).reshape(TOKENS, heads, size).transpose(0, 1)
                   for name in ("W_q", "W_k", "W_v"))
        scores = (q @ k.transpose(-1, -2) / size ** 0.5).masked_fill(~causal, float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        x = x + linear("attn.out_proj", (weights @ v).transpose(0, 1).reshape(TOKENS, 64))
        h = fn.rms_norm(x, (64,), state[p + "ln2.weight"], eps)
        x = x + linear("mlp.2", torch.relu(linear("mlp.0", h)))
        out_proj = state[p + "attn.out_proj.weight"].numpy()
        importances.append([np.sqrt((out_proj[:, i * size:(i + 1) * size] ** 2).sum())
                            for i in range(heads)])  # §1: Frobenius norm of column block i
        attention.append(weights.numpy())
        layer += 1
    predictions = fn.linear(x, state["out_proj.weight"], state["out_proj.bias"]).argmax(-1)
    return np.stack(attention), np.array(importances), predictions.numpy(), tokens.numpy()


def model_attention(checkpoints, name):
    pytest.importorskip("torch")
    return layer_attention(str(checkpoints / f"{name}.pt"))


def reference_fidelity(combined, horizon=100):
    """§6 by definition: 100 · max_{1≤t≤K} [Ā^t]_{τ,v} for every v, from full matrix powers."""
    power, best = np.eye(len(combined)), np.zeros(len(combined))
    for _ in range(horizon):
        power = power @ combined  # Ā^t
        best = np.maximum(best, power[-1])
    np.testing.assert_allclose(power, np.linalg.matrix_power(combined, horizon), rtol=1e-9, atol=1e-300)
    return 100 * best


def reference_kernel(combined):
    """§6's K, entry by entry."""
    n = len(combined)
    kernel = np.zeros((n, n))
    for c in range(n - 1):
        running, previous = 0.0, 0.0
        for k in range(n - 1):
            running += combined[k, c]
            capped = min(running, 1.0)
            kernel[c, k] = max(0.0, capped - previous)
            previous = capped
        kernel[c, n - 1] = 1.0 - previous
    kernel[n - 1, n - 1] = 1.0
    return kernel


def reference_steps(combined, max_steps=100):
    """Σ_{t<M} Pr_c[not at τ after t steps] = Σ_{t<M} (1 - [K^t]_{c,τ}), from full matrix powers."""
    kernel = reference_kernel(combined)
    power, total = np.eye(len(kernel)), np.zeros(len(kernel))
    for _ in range(max_steps):
        total += 1.0 - power[:, -1]
        power = power @ kernel  # K^(t+1)
    return total


def normalized(weights):
    return weights / weights.sum()


def test_rebuilt_models_solve_their_tasks(checkpoints):
    # The attention below is that of the trained models: the rebuilt forward pass solves the task.
    for name in ("4_heads_copy", "1_heads_cycle"):
        _, _, predictions, tokens = model_attention(checkpoints, name)
        target = tokens if name.endswith("copy") else np.roll(tokens, 1)
        assert (predictions[1:] == target[1:]).mean() >= 0.99


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("learned", [True, False], ids=["learned", "uniform"])
def test_fidelity_proxy_on_checkpoints(checkpoints, name, learned):
    attention, importances, _, _ = model_attention(checkpoints, name)
    for layer in range(len(attention)):
        weights = importances[layer] if learned else np.ones(attention.shape[1])
        combined = np.tensordot(normalized(weights), attention[layer], axes=(0, 0))
        per_node = reference_fidelity(combined)
        proxy = fidelity_proxy(attention[layer], importances[layer] if learned else None)
        assert proxy.percent == pytest.approx(per_node.min(), rel=1e-9)
        assert per_node[proxy.node] == pytest.approx(per_node.min(), rel=1e-9)
        if proxy.sink_decides:  # then the proxy is the sink's self-attention
            assert proxy.percent == pytest.approx(100 * combined[-1, -1], rel=1e-9)


@pytest.mark.parametrize("name", MODELS)
@pytest.mark.parametrize("learned", [True, False], ids=["learned", "uniform"])
def test_mixing_proxy_on_checkpoints(checkpoints, name, learned):
    attention, importances, _, _ = model_attention(checkpoints, name)
    for layer in range(len(attention)):
        weights = importances[layer] if learned else np.ones(attention.shape[1])
        combined = np.tensordot(normalized(weights), attention[layer], axes=(0, 0))
        expected = reference_steps(combined)
        result = mixing_proxy(attention[layer], importances[layer] if learned else None)
        np.testing.assert_allclose(result.per_start, expected, rtol=1e-12, atol=0)
        assert result.value == pytest.approx(expected.mean(), rel=1e-12)
        assert result.per_start[0] == pytest.approx(100, rel=1e-15)


@pytest.mark.parametrize("name", ["8_heads_cycle", "1_heads_copy"])
def test_batched_layers_equal_per_layer(checkpoints, name):
    attention, importances, _, _ = model_attention(checkpoints, name)
    fidelity = fidelity_proxy(attention, importances)
    mixing = mixing_proxy(attention, importances)
    assert fidelity.percent.shape == fidelity.node.shape == fidelity.sink_decides.shape == (4,)
    assert mixing.per_start.shape == (4, TOKENS)
    for layer in range(len(attention)):
        single = fidelity_proxy(attention[layer], importances[layer])
        assert fidelity.percent[layer] == pytest.approx(single.percent, rel=1e-12)
        assert (fidelity.node[layer], fidelity.t[layer]) == (single.node, single.t)
        assert fidelity.sink_decides[layer] == single.sink_decides
        alone = mixing_proxy(attention[layer], importances[layer])
        np.testing.assert_allclose(mixing.per_start[layer], alone.per_start, rtol=1e-12)


@pytest.mark.parametrize("name", [m for m in MODELS if m.endswith("cycle")])
def test_sink_decision_is_recorded_on_cycle_models(checkpoints, name):
    attention, importances, _, _ = model_attention(checkpoints, name)
    proxy = fidelity_proxy(attention, importances)
    assert isinstance(proxy.sink_decides, np.ndarray)
    assert proxy.sink_decides.dtype == bool and proxy.sink_decides.shape == (len(attention),)
    weights = importances / importances.sum(axis=1, keepdims=True)
    sink_self = (weights * attention[:, :, -1, -1]).sum(axis=1)  # Ā[τ,τ] of every layer
    np.testing.assert_array_equal(proxy.sink_decides, proxy.node == TOKENS - 1)
    assert np.all(proxy.percent <= 100 * sink_self * (1 + 1e-12))


def test_monte_carlo_brackets_the_exact_mixing_proxy(checkpoints):
    attention, importances, _, _ = model_attention(checkpoints, "4_heads_copy")
    exact = mixing_proxy(attention[0], importances[0])
    estimate = mixing_proxy_mc(attention[0], importances[0], num_simulations=400, seed=1)
    assert isinstance(estimate, MixingProxyEstimate) and estimate.num_simulations == 400
    assert 0 < estimate.stderr < 0.1
    assert abs(estimate.value - exact.value) <= 4 * estimate.stderr


def test_monte_carlo_brackets_long_walks(checkpoints):
    # 1-head cycle model: walks of about 50 steps, many of them capped at 100.
    attention, importances, _, _ = model_attention(checkpoints, "1_heads_cycle")
    exact = mixing_proxy(attention[1:3], importances[1:3])
    estimate = mixing_proxy_mc(attention[1:3], importances[1:3], num_simulations=200, seed=2)
    assert np.shape(estimate.value) == np.shape(estimate.stderr) == (2,)
    assert np.all(np.abs(estimate.value - exact.value) <= 4 * estimate.stderr)


# --------------------------------------------------------------------------------------
# Monte Carlo on small exact instances
# --------------------------------------------------------------------------------------


def test_monte_carlo_on_the_hand_instance():
    exact = float(mixing_proxy(HAND[None]).value)
    estimate = mixing_proxy_mc(HAND[None], num_simulations=4000, seed=3)
    assert abs(estimate.value - exact) <= 4 * estimate.stderr
    # Token 0 never moves and counts 100 steps, so the estimate is at least 100/4.
    assert estimate.value >= 25


def test_monte_carlo_is_reproducible_and_seeded():
    first = mixing_proxy_mc(HAND[None], num_simulations=50, seed=7)
    again = mixing_proxy_mc(HAND[None], num_simulations=50, seed=7)
    other = mixing_proxy_mc(HAND[None], num_simulations=50, seed=8)
    assert (first.value, first.stderr) == (again.value, again.stderr)
    assert (first.value, first.stderr) != (other.value, other.stderr)


def test_monte_carlo_deterministic_walk_has_no_noise():
    # Column 1 puts all its mass on receiver 2, column 2 on τ: 1 -> 2 -> τ surely; 0 never moves.
    attention = np.array([[[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]], dtype=float)
    exact = mixing_proxy(attention, max_steps=10)
    assert exact.per_start.tolist() == [10, 2, 1, 0]
    estimate = mixing_proxy_mc(attention, max_steps=10, num_simulations=20)
    assert (estimate.value, estimate.stderr) == (13 / 4, 0.0)


# --------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", [fidelity_proxy, mixing_proxy, mixing_proxy_mc, step_kernel,
                                      combine_heads])
def test_single_matrix_is_refused(function):
    with pytest.raises(InvalidInputError, match=r"shape \(\.\.\., H, T, T\).*\(1, T, T\)"):
        function(to_float(HAND))


@pytest.mark.parametrize("function", [fidelity_proxy, mixing_proxy, mixing_proxy_mc, step_kernel])
def test_weights_of_wrong_length_are_refused(function):
    with pytest.raises(ValueError, match=r"head_weights must have length 2 \(one per head\); got shape \(3,\)"):
        function(paper_example2().attention, [1, 1, 1])


def test_weights_that_do_not_broadcast_are_refused():
    stack = np.stack([paper_example2().attention] * 2)
    with pytest.raises(InvalidInputError, match="must broadcast"):
        mixing_proxy(stack, [[1, 1], [1, 1], [1, 1]])


def test_negative_weights_are_refused():
    with pytest.raises(InvalidInputError, match="head_weights has a negative entry -1 at index 1"):
        fidelity_proxy(paper_example2().attention, [1, -1])


def test_not_attention_is_refused():
    bad = to_float(HAND)[None].copy()
    bad[0, 0, 1] = 0.5
    with pytest.raises(InvalidInputError, match="attn is not causal: mass above the diagonal at head 0"):
        mixing_proxy(bad)


@pytest.mark.parametrize("call, message", [
    (lambda a: mixing_proxy(a, max_steps=0), "max_steps must be at least 1; got 0"),
    (lambda a: mixing_proxy_mc(a, max_steps=0), "max_steps must be at least 1; got 0"),
    (lambda a: mixing_proxy_mc(a, num_simulations=1), "num_simulations must be at least 2; got 1"),
    (lambda a: fidelity_proxy(a, horizon=0), "horizon must be at least 1; got 0"),
])
def test_step_counts_below_minimum_are_refused(call, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        call(paper_example2().attention)


def test_non_integer_steps_are_refused():
    with pytest.raises(InvalidTypeError, match="max_steps must be an int"):
        mixing_proxy(paper_example2().attention, max_steps=2.5)
    with pytest.raises(InvalidTypeError, match="horizon must be an int; got None"):
        fidelity_proxy(paper_example2().attention, horizon=None)


def test_float_weights_on_exact_attention_are_refused():
    with pytest.raises(InvalidTypeError, match="head_weights must be exact"):
        mixing_proxy(paper_example2().attention, [0.3, 0.7])


# --------------------------------------------------------------------------------------
# docs/proxies.md
# --------------------------------------------------------------------------------------


def test_proxies_doc_python_blocks_run():
    blocks = re.findall(r"```python\n(.*?)```", PROXIES_DOC.read_text(), re.S)
    assert blocks
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for block in blocks:
            exec(compile(block, str(PROXIES_DOC), "exec"), {})
