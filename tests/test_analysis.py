"""Tests of dagtheory.analysis: the analyzer's per-layer numbers (docs/theory.md §2, §3, §6).

Known answers on Example 2 (§2) are exact rationals, taken from docs/theory.md and
docs/proxies.md or derived by hand in the comments. Every batched number is compared
with the library's lower-level functions (``minimax_fidelity``, ``forward_walk``,
``mixing_time``, ``hitting_times``, ``mixing_bound``, ``dagtheory.reference``) called
one matrix at a time, never with the analyzer's own code path.
"""

import math
import re
import warnings
from dataclasses import fields
from fractions import Fraction

import numpy as np
import pytest

import dagtheory as dt
from dagtheory.analysis import SUMMARY_METRICS, LayerAnalysis, analyze_attention, summarize
from dagtheory.examples import paper_example2
from dagtheory.reference import fidelity_proxy, mixing_proxy

F = Fraction

#: §2's Example 2 as floats, shape (H, T, T) = (2, 4, 4): one layer, one sample.
EXAMPLE2 = np.asarray(paper_example2().attention, dtype=float)

#: Uniform causal attention on 4 tokens (every token attends equally to itself and its past).
UNIFORM = np.tril(np.ones((4, 4))) / np.arange(1, 5)[:, None]

#: Fields of shape (S, L, H); every other array field has shape (S, L).
PER_HEAD_FIELDS = ("weights", "head_fidelity")
STACK_FIELDS = ("stack_signal", "stack_fidelity", "stack_minimax", "stack_node")
ARRAY_FIELDS = tuple(f.name for f in fields(LayerAnalysis)
                     if f.name not in ("horizon", "eps", "gamma") + STACK_FIELDS)


def causal_softmax(rng, shape, scale=2.0):
    """Random float attention of shape ``(..., T, T)``: softmax of random scores, causal mask."""
    scores = scale * rng.normal(size=shape)
    size = shape[-1]
    scores = np.where(np.tril(np.ones((size, size), dtype=bool)), scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def m3_by_hand(n, p_bar, eps):
    """Theorem M3 (§3): ``⌈max(2N/p̄, 8 ln(1/ε)/p̄)⌉`` with ``N = n - 1``."""
    return math.ceil(max(2 * (n - 1) / p_bar, 8 * math.log(1 / eps) / p_bar))


def expected_numbers(heads, alpha, horizon, eps):
    """Every analyzer number of one layer ``(H, T, T)``, from the lower-level functions."""
    combined = np.tensordot(alpha, heads, axes=1)                 # Δ̄(β), §2
    minimax = dt.minimax_fidelity(combined, horizon)               # non-sink sources, §2
    per_head = [float(dt.minimax_fidelity(head, horizon)) for head in heads]
    over_all = dt.minimax_fidelity(combined, horizon, sources="all")   # §6's source set
    walks = [dt.forward_walk(head) for head in heads]
    mixture = sum(a * walk for a, walk in zip(alpha, walks))       # P̄(α), §3
    hitting = dt.hitting_times(mixture)[:-1]
    bound = dt.mixing_bound(mixture, eps)
    p_bar = sum(a * dt.forward_probability(walk) for a, walk in zip(alpha, walks))
    best = int(np.argmax(per_head))
    return {
        "weights": alpha,
        "fidelity_proxy": 100 * float(over_all),
        "fidelity_proxy_node": int(over_all.node),
        "sink_decides": int(over_all.node) == heads.shape[-1] - 1,
        "mixing_proxy": float(mixing_proxy(heads, alpha).value),
        "minimax_fidelity": float(minimax),
        "minimax_node": int(minimax.node),
        "minimax_step": int(minimax.t),
        "head_fidelity": per_head,
        "best_head": best,
        "best_head_fidelity": per_head[best],
        "amplification": float(minimax) / per_head[best],
        "mixing_time": dt.mixing_time(mixture, eps),
        "hitting_time_mean": hitting.mean(),
        "hitting_time_max": hitting.max(),
        "forward_probability": bound.p,
        "depth": bound.depth,
        "m1_bound": bound.binomial,
        "m2_bound": bound.closed_form,
        "p_bar": p_bar,
        "m3_bound": m3_by_hand(heads.shape[-1], p_bar, eps),
    }


def assert_same_numbers(actual, expected, rtol=1e-12):
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(actual[name], dtype=float), np.asarray(value, dtype=float),
                                   rtol=rtol, atol=0, err_msg=name)


@pytest.fixture(scope="module")
def example2():
    return analyze_attention(EXAMPLE2, horizon=20)


# --------------------------------------------------------------------------------------
# Example 2 of §2, as floats (one sample, one layer)
# --------------------------------------------------------------------------------------

def test_example2_is_one_sample_one_layer(example2):
    assert example2.shape == (1, 1)
    assert (example2.horizon, example2.eps) == (20, 0.25)
    np.testing.assert_array_equal(example2.weights, [[[0.5, 0.5]]])


def test_example2_fidelity_and_amplification(example2):
    # §2, Example 2 at K = 20: heads 3/8 and 871696090/3486784401, Δ̄(1/2, 1/2) 5/12 at
    # node w (2), step 1; best head 1 (index 0); ρ = (5/12)/(3/8) = 10/9.
    assert example2.minimax_fidelity[0, 0] == pytest.approx(5 / 12, rel=1e-13)
    assert (example2.minimax_node[0, 0], example2.minimax_step[0, 0]) == (2, 1)
    np.testing.assert_allclose(example2.head_fidelity[0, 0], [3 / 8, 871696090 / 3486784401],
                               rtol=1e-13)
    assert example2.best_head[0, 0] == 0
    assert example2.best_head_fidelity[0, 0] == pytest.approx(3 / 8, rel=1e-13)
    assert example2.amplification[0, 0] == pytest.approx(10 / 9, rel=1e-13)


def test_example2_fidelity_proxy_is_minimax_over_all_nodes(example2):
    # §6: 100 · φ_min^K(Ā) with the sink among the sources. On Example 2 the sink
    # (Ā[τ, τ] = 5/12) ties with w, and the smaller index (w = 2) is reported: 125/3 %.
    combined = 0.5 * EXAMPLE2[0] + 0.5 * EXAMPLE2[1]
    over_all = dt.minimax_fidelity(combined, 20, sources="all")
    assert example2.fidelity_proxy[0, 0] == pytest.approx(100 * float(over_all), rel=1e-13)
    assert example2.fidelity_proxy[0, 0] == pytest.approx(125 / 3, rel=1e-13)
    assert example2.fidelity_proxy_node[0, 0] == over_all.node == 2
    assert not example2.sink_decides[0, 0]


def test_example2_mixing_proxy(example2):
    # §6 (docs/proxies.md, "On Example 2"): per start (100, 40/7, 12/7, 0), mean 188/7.
    assert example2.mixing_proxy[0, 0] == pytest.approx(float(mixing_proxy(EXAMPLE2).value), rel=1e-13)
    assert example2.mixing_proxy[0, 0] == pytest.approx(188 / 7, rel=1e-12)


def test_example2_mixture_walk(example2):
    # §3: P̄(α) = Σ_h α_h P^(h), built here from each head's forward walk.
    mixture = 0.5 * dt.forward_walk(EXAMPLE2[0]) + 0.5 * dt.forward_walk(EXAMPLE2[1])
    assert example2.mixing_time[0, 0] == dt.mixing_time(mixture) == 8   # docs/proxies.md: T_mix(1/4) = 8
    hitting = dt.hitting_times(mixture)
    # docs/proxies.md: hitting times of P̄ are (58/9, 34/9, 2, 0); the analyzer averages the
    # non-sink starts: (58/9 + 34/9 + 2) / 3 = 110/27, maximum 58/9.
    np.testing.assert_allclose(hitting, [58 / 9, 34 / 9, 2, 0], rtol=1e-13)
    assert example2.hitting_time_mean[0, 0] == pytest.approx(hitting[:-1].mean(), rel=1e-13)
    assert example2.hitting_time_mean[0, 0] == pytest.approx(110 / 27, rel=1e-13)
    assert example2.hitting_time_max[0, 0] == pytest.approx(58 / 9, rel=1e-13)


def test_example2_m1_m2(example2):
    mixture = 0.5 * dt.forward_walk(EXAMPLE2[0]) + 0.5 * dt.forward_walk(EXAMPLE2[1])
    bound = dt.mixing_bound(mixture)
    assert example2.forward_probability[0, 0] == pytest.approx(bound.p, rel=1e-13)
    assert (example2.depth[0, 0], example2.m1_bound[0, 0], example2.m2_bound[0, 0]) == (
        bound.depth, bound.binomial, bound.closed_form)
    # By hand (§1 edge lists, §3 forward walk): P^(1) leaves 0, 1, 2 with 1/3, 1/2, 1/2 and
    # P^(2) with 1/4, 2/5, 1/2; P̄ leaves them with 7/24, 9/20, 1/2, so p = 7/24. The
    # support holds the path 0 → 1 → 2 → 3, so L = 3.
    p = F(7, 24)
    assert example2.forward_probability[0, 0] == pytest.approx(float(p), rel=1e-13)
    assert example2.depth[0, 0] == 3
    # M2: ⌈max(2·3·24/7, 8·ln 4·24/7)⌉ = ⌈max(20.57, 38.02)⌉ = 39.
    assert example2.m2_bound[0, 0] == math.ceil(max(6 / p, 8 * math.log(4) / p)) == 39
    # M1: the least t with Pr[Bin(t, 7/24) ≤ 2] ≤ 1/4, summed exactly.
    def tail(t):
        return sum(math.comb(t, k) * p ** k * (1 - p) ** (t - k) for k in range(3))
    least = next(t for t in range(3, 100) if tail(t) <= F(1, 4))
    assert example2.m1_bound[0, 0] == least


def test_example2_m3(example2):
    # Theorem M3 (§3): p̄ = (1/3 + 1/4)/2 = 7/24 (per-head p above), N = 3, ε = 1/4.
    p_bar = F(1, 2) * (F(1, 3) + F(1, 4))
    assert example2.p_bar[0, 0] == pytest.approx(float(p_bar), rel=1e-13)
    assert example2.m3_bound[0, 0] == m3_by_hand(4, float(p_bar), 0.25) == 39


def test_exact_attention_is_analyzed_as_floats(example2):
    exact = analyze_attention(paper_example2().attention, horizon=20)
    for name in ARRAY_FIELDS:
        np.testing.assert_allclose(np.asarray(getattr(exact, name), dtype=float),
                                   np.asarray(getattr(example2, name), dtype=float), rtol=1e-13,
                                   err_msg=name)


def test_eps_changes_mixing_numbers_only():
    # §3: T_mix(ε) is non-increasing in ε; the fidelities (§2) do not depend on ε.
    loose = analyze_attention(EXAMPLE2, horizon=20, eps=0.5)
    tight = analyze_attention(EXAMPLE2, horizon=20, eps=0.01)
    mixture = 0.5 * dt.forward_walk(EXAMPLE2[0]) + 0.5 * dt.forward_walk(EXAMPLE2[1])
    assert loose.mixing_time[0, 0] == dt.mixing_time(mixture, 0.5)
    assert tight.mixing_time[0, 0] == dt.mixing_time(mixture, 0.01)
    assert loose.mixing_time[0, 0] < tight.mixing_time[0, 0]
    assert tight.m3_bound[0, 0] == m3_by_hand(4, 7 / 24, 0.01)
    # At ε = 1/2 the depth term wins in M3: ⌈max(2·3·24/7, 8 ln 2·24/7)⌉ = ⌈20.57⌉ = 21.
    assert loose.m3_bound[0, 0] == m3_by_hand(4, 7 / 24, 0.5) == 21
    assert loose.minimax_fidelity[0, 0] == tight.minimax_fidelity[0, 0]


# --------------------------------------------------------------------------------------
# Batches: (S, L, H, T, T) in one pass equals one matrix at a time
# --------------------------------------------------------------------------------------

#: T = 8 tokens, so that 2N/p̄ can exceed 8 ln(1/ε)/p̄ in Theorem M3 (§3).
SAMPLES, LAYERS, HEADS, TOKENS, HORIZON = 3, 2, 3, 8, 30


@pytest.fixture(scope="module")
def batch():
    rng = np.random.default_rng(7)
    attention = causal_softmax(rng, (SAMPLES, LAYERS, HEADS, TOKENS, TOKENS))
    # Learned-like weights (§1): raw positive importances per layer, not normalized.
    importances = rng.uniform(0.5, 2.0, size=(LAYERS, HEADS))
    result = analyze_attention(attention, importances, horizon=HORIZON)
    return attention, importances, result


def test_batch_field_shapes(batch):
    _, _, result = batch
    assert result.shape == (SAMPLES, LAYERS)
    for name in ARRAY_FIELDS:
        expected = (SAMPLES, LAYERS, HEADS) if name in PER_HEAD_FIELDS else (SAMPLES, LAYERS)
        assert np.shape(getattr(result, name)) == expected, name
    assert (result.horizon, result.eps) == (HORIZON, 0.25)


def test_batch_weights_are_normalized_per_layer(batch):
    # §1: head weights are divided by their sum; the same row serves every sample.
    _, importances, result = batch
    normalized = importances / importances.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(result.weights, np.broadcast_to(normalized, result.weights.shape),
                               rtol=1e-15)


def test_batch_equals_lower_level_functions_one_matrix_at_a_time(batch):
    attention, importances, result = batch
    for s in range(SAMPLES):
        for layer in range(LAYERS):
            alpha = importances[layer] / importances[layer].sum()
            expected = expected_numbers(attention[s, layer], alpha, HORIZON, 0.25)
            actual = {name: getattr(result, name)[s, layer] for name in expected}
            assert_same_numbers(actual, expected, rtol=1e-10)


def test_batch_equals_per_sample_and_layer_calls(batch):
    attention, importances, result = batch
    for s in range(SAMPLES):
        for layer in range(LAYERS):
            single = analyze_attention(attention[s, layer], importances[layer], horizon=HORIZON)
            assert single.shape == (1, 1)
            for name in ARRAY_FIELDS:
                np.testing.assert_allclose(
                    np.asarray(getattr(result, name)[s, layer], dtype=float),
                    np.asarray(getattr(single, name)[0, 0], dtype=float), rtol=1e-12, err_msg=name)


def test_model_shape_is_one_sample(batch):
    attention, importances, result = batch
    model = analyze_attention(attention[1], importances, horizon=HORIZON)
    assert model.shape == (1, LAYERS)
    np.testing.assert_allclose(model.minimax_fidelity[0], result.minimax_fidelity[1], rtol=1e-12)


def test_sample_method_gives_one_sample_per_layer(batch):
    _, _, result = batch
    one = result.sample(2)
    assert set(one) == set(ARRAY_FIELDS)
    assert one["minimax_fidelity"].shape == (LAYERS,)
    assert one["head_fidelity"].shape == (LAYERS, HEADS)
    np.testing.assert_array_equal(one["mixing_time"], result.mixing_time[2])


def test_weights_of_one_row_broadcast_to_every_layer(batch):
    attention, _, _ = batch
    row = np.array([0.2, 0.5, 0.3])
    broadcast = analyze_attention(attention, row, horizon=HORIZON)
    tiled = analyze_attention(attention, np.tile(row, (LAYERS, 1)), horizon=HORIZON)
    np.testing.assert_allclose(broadcast.weights, np.broadcast_to(row, (SAMPLES, LAYERS, HEADS)))
    for name in ARRAY_FIELDS:
        np.testing.assert_array_equal(getattr(broadcast, name), getattr(tiled, name), err_msg=name)


def test_default_weights_are_uniform(batch):
    attention, _, _ = batch
    result = analyze_attention(attention[:1], horizon=HORIZON)
    np.testing.assert_allclose(result.weights, np.full((1, LAYERS, HEADS), 1 / HEADS))
    expected = expected_numbers(attention[0, 0], np.full(HEADS, 1 / HEADS), HORIZON, 0.25)
    assert_same_numbers({name: getattr(result, name)[0, 0] for name in expected}, expected, rtol=1e-10)


@pytest.mark.parametrize("shape, message", [
    ((HEADS + 1,), r"weights must have length 3 \(one per head\); got shape \(4,\)"),
    ((LAYERS + 1, HEADS), r"weights of shape \(3, 3\) need one row per layer \(2 layers\)"),
    ((LAYERS, HEADS - 1), r"weights must have length 3 .*got shape \(2, 2\)"),
])
def test_wrong_weights_shape_is_refused(batch, shape, message):
    attention, _, _ = batch
    with pytest.raises(ValueError, match=message):
        analyze_attention(attention, np.ones(shape), horizon=HORIZON)


def test_weights_with_three_axes_are_refused_by_name(batch):
    attention, _, _ = batch
    with pytest.raises(dt.InvalidInputError, match="weights"):
        analyze_attention(attention, np.ones((SAMPLES + 1, LAYERS, HEADS)), horizon=HORIZON)


def test_negative_weights_are_refused():
    with pytest.raises(dt.InvalidInputError, match="negative entry -1"):
        analyze_attention(EXAMPLE2, [1.0, -1.0], horizon=20)


@pytest.mark.parametrize("shape", [(4, 4), (1, 1, 1, 2, 4, 4)])
def test_attention_of_wrong_rank_is_refused(shape):
    message = r"\(H, T, T\), \(L, H, T, T\) or \(S, L, H, T, T\); got shape " + re.escape(str(shape))
    with pytest.raises(dt.InvalidInputError, match=message):
        analyze_attention(np.broadcast_to(UNIFORM, shape), horizon=5)


@pytest.mark.parametrize("option", [{"horizon": 0}, {"eps": 1.0}, {"eps": 0.0}, {"max_steps": 0}])
def test_bad_scalars_are_refused(option):
    # Decisions, item 9: horizon ≥ 1, 0 < ε < 1, max_steps ≥ 1.
    with pytest.raises(dt.InvalidInputError):
        analyze_attention(EXAMPLE2, **{"horizon": 20, **option})


def test_zero_column_policy():
    # §3, zero columns: token 1 of this head is attended by nobody, itself included.
    head = np.array([[1.0, 0, 0], [1.0, 0, 0], [0.5, 0, 0.5]])
    with pytest.raises(dt.ZeroColumnError):
        analyze_attention(head[None], horizon=10)
    result = analyze_attention(head[None], horizon=10, zero_columns="sink")
    walk = dt.forward_walk(head, zero_columns="sink")
    assert result.mixing_time[0, 0] == dt.mixing_time(walk)
    assert result.hitting_time_max[0, 0] == pytest.approx(dt.hitting_times(walk)[:-1].max())


# --------------------------------------------------------------------------------------
# Walks that do not mix: beyond the budget (nan) and trapped (inf)
# --------------------------------------------------------------------------------------

def test_mixing_time_beyond_budget_is_nan():
    # §3 T_mix of Example 2's mixture is 8 (docs/proxies.md) and that of the uniform
    # head is smaller; a budget between the two leaves only Example 2 unresolved.
    uniform_time = dt.mixing_time(dt.forward_walk(UNIFORM))
    assert uniform_time < 8
    budget = uniform_time
    mixture = 0.5 * dt.forward_walk(EXAMPLE2[0]) + 0.5 * dt.forward_walk(EXAMPLE2[1])
    with pytest.raises(dt.ConvergenceError):
        dt.mixing_time(mixture, max_steps=budget)
    stack = np.stack([EXAMPLE2, np.stack([UNIFORM, UNIFORM])])[:, None]   # (S, L, H, T, T) = (2, 1, 2, 4, 4)
    result = analyze_attention(stack, horizon=20, max_steps=budget)
    assert math.isnan(result.mixing_time[0, 0])
    assert result.mixing_time[1, 0] == uniform_time
    # Everything else is unaffected by the budget.
    assert result.m3_bound[0, 0] == 39 and result.minimax_fidelity[0, 0] == pytest.approx(5 / 12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        summary = summarize(result)
    assert math.isnan(summary["mixing_time"]["mean"][0])
    single = summarize(analyze_attention(EXAMPLE2, horizon=20, max_steps=budget))
    assert math.isnan(single["mixing_time"]["mean"][0])


#: Token 1 attends to itself and nobody later attends to it: trapped in the forward walk (§3).
TRAPPED = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5]])


def test_trapped_node_gives_infinite_times_and_bounds():
    walk = dt.forward_walk(TRAPPED)
    assert dt.markov.trapped_nodes(walk) == [1]
    with pytest.warns(dt.TrappedNodeWarning, match=r"\[1\]"):
        result = analyze_attention(TRAPPED[None], horizon=10)
    # §3: T_mix = ∞ and m(1) = ∞ (item 28); p = 0 so M1, M2 and M3 are ∞ (item 26).
    for name in ("mixing_time", "hitting_time_mean", "hitting_time_max", "m1_bound", "m2_bound",
                 "m3_bound"):
        assert getattr(result, name)[0, 0] == math.inf, name
    assert result.forward_probability[0, 0] == 0 and result.p_bar[0, 0] == 0
    summary = summarize(result)
    assert summary["mixing_time"]["mean"][0] == math.inf
    assert summary["m3_bound"]["mean"][0] == math.inf


def test_infinite_sample_makes_the_mean_infinite():
    # Two samples of a one-layer, one-head model: one trapped, one mixing.
    stack = np.stack([TRAPPED, np.tril(np.ones((3, 3))) / np.arange(1, 4)[:, None]])[:, None, None]
    with pytest.warns(dt.TrappedNodeWarning):
        result = analyze_attention(stack, horizon=10)
    assert result.mixing_time[0, 0] == math.inf and np.isfinite(result.mixing_time[1, 0])
    assert summarize(result)["mixing_time"]["mean"][0] == math.inf


# --------------------------------------------------------------------------------------
# summarize
# --------------------------------------------------------------------------------------

def test_summarize_mean_and_std_over_samples(batch):
    _, _, result = batch
    summary = summarize(result)
    assert set(summary) == set(SUMMARY_METRICS) | {"sink_decides_share", "amplifies_share"}
    for name in SUMMARY_METRICS:
        values = np.asarray(getattr(result, name), dtype=float)
        assert np.isfinite(values).all(), name
        np.testing.assert_allclose(summary[name]["mean"], values.mean(axis=0), rtol=1e-13, err_msg=name)
        np.testing.assert_allclose(summary[name]["std"], values.std(axis=0, ddof=1), rtol=1e-10,
                                   atol=1e-300, err_msg=name)
        assert summary[name]["mean"].shape == summary[name]["std"].shape == (LAYERS,)


def test_summarize_single_sample_has_zero_std(example2):
    summary = summarize(example2)
    for name in SUMMARY_METRICS:
        assert summary[name]["std"].tolist() == [0.0], name
        assert summary[name]["mean"][0] == pytest.approx(float(getattr(example2, name)[0, 0])), name


def test_sink_decides_share():
    # §6 (docs/proxies.md, "On Example 2"): this head's sink attends to itself with 1/10,
    # below every other node's peak, so the sink decides the fidelity proxy (10 %).
    low = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0.4, 0.1]])
    high = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.2, 0.2, 0.6]])
    stack = np.stack([low, high, low, low])[:, None, None]                  # (4, 1, 1, 3, 3)
    result = analyze_attention(stack, horizon=100)
    direct = [fidelity_proxy(head[None]).sink_decides for head in (low, high, low, low)]
    assert direct == [True, False, True, True]
    np.testing.assert_array_equal(result.sink_decides[:, 0], direct)
    assert result.fidelity_proxy[0, 0] == pytest.approx(10.0)
    assert summarize(result)["sink_decides_share"].tolist() == [0.75]


def test_amplifies_share():
    # §2: Example 2 amplifies (ρ = 10/9); two copies of its first head give ρ = 1 exactly,
    # which does not count (amplifies means ρ > 1).
    same = np.stack([EXAMPLE2[0], EXAMPLE2[0]])
    stack = np.stack([EXAMPLE2, same, EXAMPLE2])[:, None]                    # (3, 1, 2, 4, 4)
    result = analyze_attention(stack, horizon=20)
    ratios = [float(dt.amplification(heads, 20).ratio) for heads in (EXAMPLE2, same, EXAMPLE2)]
    assert ratios[1] == 1.0
    np.testing.assert_allclose(result.amplification[:, 0], ratios, rtol=1e-13)
    assert summarize(result)["amplifies_share"][0] == pytest.approx(2 / 3)


# §4 across the stack (gamma): the analyzer's depth numbers are those of depth_signal on the
# stack of combined operators Δ̄(β) of each sample.


def test_stack_fields_are_absent_without_gamma(batch):
    _, _, result = batch
    assert all(getattr(result, name) is None for name in STACK_FIELDS) and result.gamma is None
    assert not set(STACK_FIELDS) & set(result.sample(0))


def test_stack_fields_match_depth_signal_per_sample(batch):
    attention, importances, _ = batch
    result = analyze_attention(attention, importances, horizon=HORIZON, gamma=0.5)
    assert result.gamma == 0.5
    assert np.shape(result.stack_signal) == (SAMPLES, LAYERS, TOKENS)
    assert np.shape(result.stack_fidelity) == (SAMPLES, TOKENS)
    alpha = importances / importances.sum(axis=-1, keepdims=True)
    for sample in range(SAMPLES):
        # An independent path: explicit rollout products R^(ℓ)…R^(1) of each sample's layers.
        product = np.eye(TOKENS)
        for layer in range(LAYERS):
            combined = np.einsum("h,hij->ij", alpha[layer], attention[sample, layer])
            product = (0.5 * np.eye(TOKENS) + 0.5 * combined) @ product
            np.testing.assert_allclose(result.stack_signal[sample, layer], product[-1], rtol=1e-12, atol=1e-15)
        expected = dt.depth_signal(np.einsum("lh,lhij->lij", alpha, attention[sample]), 0.5)
        np.testing.assert_allclose(result.stack_fidelity[sample], expected.fidelity, rtol=1e-13)
        assert result.stack_minimax[sample] == pytest.approx(expected.minimax, rel=1e-13)
        assert result.stack_node[sample] == expected.node


def test_stack_of_example2_repeated_with_gamma_one_is_section2():
    # With γ = 1 and the same layer twice, S^(ℓ) = [Ā^ℓ]_(τ,·) is §2's S_ℓ (computed exactly):
    # S_1 = (0, 1/6, 5/12, 5/12) is the sink's row of Ā(1/2, 1/2).
    system = paper_example2()
    heads = np.asarray(system.attention, dtype=float)
    result = analyze_attention(np.stack([heads, heads]), horizon=20, gamma=1)
    exact = dt.signal_curves(system.combined(), horizon=2)
    assert [str(x) for x in exact[0]] == ["0", "1/6", "5/12", "5/12"]
    np.testing.assert_allclose(result.stack_signal[0], np.asarray(exact, dtype=float), rtol=1e-15, atol=1e-16)
    # S_2 = (1/9, 53/144, 25/72, 25/144): depth fidelity (1/9, 53/144, 5/12) over u, v, w.
    assert [str(x) for x in exact[1]] == ["1/9", "53/144", "25/72", "25/144"]
    np.testing.assert_allclose(result.stack_fidelity[0, :-1], [1 / 9, 53 / 144, 5 / 12], rtol=1e-15)
    assert result.stack_minimax[0] == pytest.approx(1 / 9, rel=1e-15) and result.stack_node[0] == 0


@pytest.mark.parametrize("gamma", [0, 1.5, float("nan"), "half"])
def test_bad_gamma_is_refused_before_any_work(gamma):
    heads = np.asarray(paper_example2().attention, dtype=float)
    with pytest.raises(ValueError, match="gamma"):
        analyze_attention(heads, horizon=20, gamma=gamma)
