"""Predicted effects of removing a head (dagtheory/ablation.py) and their rank correlations.

The batched leave-one-out computation is checked against an independent one:
each head system without head ``r`` is built by hand as a :class:`HeadSystem`
of the other heads with renormalized weights, and §2's ``φ_min`` and ``ρ`` and
§3's ``T_mix`` of its mixture walk come from the public functions.
"""

import math
import warnings

import numpy as np
import pytest
from scipy.stats import spearmanr

from dagtheory import HeadSystem, InvalidInputError, amplification, minimax_fidelity, mixing_time
from dagtheory.ablation import leave_one_out_weights, predict_ablation, rank_correlations
from dagtheory.analysis import analyze_attention


def _causal_attention(shape, seed, temperature=1.0):
    """Softmax of random scores, masked above the diagonal: shape (..., T, T)."""
    rng = np.random.default_rng(seed)
    scores = rng.normal(scale=temperature, size=shape)
    n = shape[-1]
    scores = np.where(np.triu(np.ones((n, n), dtype=bool), 1), -np.inf, scores)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def _by_hand(attention, weights, horizon):
    """(Δφ_min, ΔT_mix, Δρ) per layer and removed head of one sample, head system by head system."""
    layers, heads = weights.shape
    out = np.full((3, layers, heads), np.nan)
    for layer in range(layers):
        full = HeadSystem(attention[layer], weights[layer])
        base = (float(minimax_fidelity(full.combined(), horizon)), mixing_time(full),
                float(amplification(full, horizon).ratio))
        for removed in range(heads):
            keep = [h for h in range(heads) if h != removed]
            system = HeadSystem(attention[layer, keep], weights[layer, keep] / weights[layer, keep].sum())
            values = (float(minimax_fidelity(system.combined(), horizon)), mixing_time(system),
                      float(amplification(system, horizon).ratio))
            out[:, layer, removed] = np.subtract(values, base)
    return out


def test_predictions_equal_head_systems_built_by_hand():
    attention = _causal_attention((3, 2, 4, 7, 7), seed=1, temperature=2.0)
    weights = np.array([[0.1, 0.2, 0.3, 0.4], [0.4, 0.3, 0.25, 0.05]])
    prediction = predict_ablation(attention, weights, horizon=12)
    for sample in range(3):
        expected = _by_hand(attention[sample], weights, 12)
        got = np.stack([prediction.delta_minimax_fidelity[sample], prediction.delta_mixing_time[sample],
                        prediction.delta_amplification[sample]])
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    means = prediction.mean()
    np.testing.assert_allclose(means["minimax_fidelity"], prediction.delta_minimax_fidelity.mean(axis=0))


def test_intact_numbers_are_the_analyzers():
    attention = _causal_attention((2, 3, 3, 6, 6), seed=2)
    weights = np.array([[0.2, 0.3, 0.5]] * 3)
    prediction = predict_ablation(attention, weights, horizon=20)
    analysis = analyze_attention(attention, weights, horizon=20)
    np.testing.assert_allclose(prediction.minimax_fidelity, analysis.minimax_fidelity, rtol=1e-12)
    np.testing.assert_array_equal(prediction.mixing_time, analysis.mixing_time)
    np.testing.assert_allclose(prediction.amplification, analysis.amplification, rtol=1e-12)


def test_uniform_weights_by_default():
    attention = _causal_attention((2, 3, 5, 5), seed=3)
    default = predict_ablation(attention, horizon=10)
    uniform = predict_ablation(attention, np.full(3, 1 / 3), horizon=10)
    np.testing.assert_array_equal(default.delta_minimax_fidelity, uniform.delta_minimax_fidelity)
    assert default.shape == (1, 2, 3)


def test_removing_a_head_of_weight_zero_changes_nothing():
    attention = _causal_attention((2, 1, 3, 6, 6), seed=4)
    prediction = predict_ablation(attention, [[0.5, 0.0, 0.5]], horizon=15)
    for name in ("delta_minimax_fidelity", "delta_mixing_time", "delta_amplification"):
        assert np.all(getattr(prediction, name)[:, 0, 1] == 0), name
    # ρ's best single head is over the heads in the system, so a zero-weight head never counts
    best = max(float(minimax_fidelity(attention[0, 0, h], 15)) for h in (0, 2))
    combined = float(minimax_fidelity(HeadSystem(attention[0, 0], [0.5, 0, 0.5]).combined(), 15))
    assert prediction.amplification[0, 0] == pytest.approx(combined / best, rel=1e-12)


def test_one_head_removal_is_undefined():
    attention = _causal_attention((2, 1, 5, 5), seed=5)
    prediction = predict_ablation(attention, horizon=10)
    assert prediction.defined.tolist() == [[False], [False]]
    assert np.isnan(prediction.delta_minimax_fidelity).all()
    assert np.isnan(prediction.delta_mixing_time).all() and np.isnan(prediction.delta_amplification).all()
    results = rank_correlations(prediction.mean(), {"loss": [[0.3], [0.1]]})
    assert all(not r.defined and math.isnan(r.rho) for r in results)
    assert "no head's removal is defined" in results[0].reason


def test_last_head_of_positive_weight_cannot_be_removed():
    weights = leave_one_out_weights([[0.0, 1.0, 0.0]])
    assert np.isnan(weights[0, 1]).all()
    np.testing.assert_array_equal(weights[0, 0], [0.0, 1.0, 0.0])


def test_leave_one_out_weights_renormalize():
    weights = leave_one_out_weights(np.array([[0.1, 0.2, 0.7], [1.0, 1.0, 2.0]]))
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0)
    np.testing.assert_allclose(weights[1, 2], [0.5, 0.5, 0.0])
    assert (np.diagonal(weights, axis1=-2, axis2=-1) == 0).all()


@pytest.mark.parametrize("bad, match", [([-0.1, 1.1], "non-negative"), ([np.nan, 1.0], "finite")])
def test_leave_one_out_weights_refuse_bad_weights(bad, match):
    with pytest.raises(InvalidInputError, match=match):
        leave_one_out_weights(bad)


def test_predict_ablation_refuses_bad_input():
    attention = _causal_attention((2, 3, 5, 5), seed=6)
    with pytest.raises(InvalidInputError, match=r"weights must have shape \(3,\) or \(2, 3\)"):
        predict_ablation(attention, np.ones((3, 3)))
    with pytest.raises(InvalidInputError, match="weights has a negative entry -1"):
        predict_ablation(attention, [1, -1, 1])
    with pytest.raises(InvalidInputError):
        predict_ablation(np.ones((3, 5, 5)))  # not causal


def test_spearman_matches_scipy_on_a_hand_example():
    predicted = np.array([[0.3, -0.1, 0.2, 0.0], [0.5, 0.4, -0.2, 0.1]])
    measured = np.array([[1.0, 2.5, 0.1, 3.0], [0.2, 0.3, 0.9, 0.0]])
    results = rank_correlations({"phi": predicted}, {"loss": measured})
    overall, first, second = results
    expected = spearmanr(predicted.ravel(), measured.ravel())
    assert (overall.layer, overall.n) == (None, 8)
    assert overall.rho == pytest.approx(expected.statistic) and overall.pvalue == pytest.approx(expected.pvalue)
    for result, layer in ((first, 0), (second, 1)):
        expected = spearmanr(predicted[layer], measured[layer])
        assert result.layer == layer and result.rho == pytest.approx(expected.statistic)
        assert result.pvalue == pytest.approx(expected.pvalue)
    # by hand: ranks of layer 0 are (4, 1, 3, 2) and (2, 3, 1, 4): d² = 4+4+4+4, ρ = 1 - 6·16/60
    assert first.rho == pytest.approx(1 - 6 * 16 / (4 * 15))


def test_non_finite_heads_are_left_out():
    predicted = np.array([[np.nan, 1.0, 2.0, 3.0, np.inf]])
    measured = np.array([[9.0, 1.0, 3.0, 2.0, 0.0]])
    result = rank_correlations({"p": predicted}, {"m": measured}, per_layer=False)[0]
    assert result.n == 3 and result.rho == pytest.approx(spearmanr([1, 2, 3], [1, 3, 2]).statistic)


def test_constant_or_short_input_is_undefined_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        constant = rank_correlations({"p": [[1.0, 1.0, 1.0, 1.0]]}, {"m": [[0.1, 0.2, 0.3, 0.4]]})[0]
        short = rank_correlations({"p": [[1.0, 2.0]]}, {"m": [[0.1, 0.2]]})[0]
    assert not constant.defined and math.isnan(constant.rho) and math.isnan(constant.pvalue)
    assert constant.reason == "the predicted effect is constant (1) over the 4 heads"
    assert not short.defined and short.reason.startswith("fewer than 3 heads")


def test_rank_correlations_refuse_mismatched_shapes():
    with pytest.raises(InvalidInputError, match="one shape"):
        rank_correlations({"p": np.zeros((2, 3))}, {"m": np.zeros((3, 2))})
    with pytest.raises(InvalidInputError, match=r"predicted\['p'\] must have shape \(L, H\)"):
        rank_correlations({"p": np.zeros(3)}, {"m": np.zeros((1, 3))})
