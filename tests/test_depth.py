"""§4 depth signal (dagtheory/depth.py): rollout products, §2 on constant layers, bad input."""

from fractions import Fraction as F

import numpy as np
import pytest

from dagtheory import HeadSystem, InvalidInputError
from dagtheory.depth import depth_signal
from dagtheory.examples import paper_example2
from dagtheory.fidelity import signal_curves

# Three layers on four tokens, exact: a hand-checked example.
LAYER1 = [[1, 0, 0, 0], [F(1, 2), F(1, 2), 0, 0], [0, F(1, 2), F(1, 2), 0], [0, 0, F(1, 2), F(1, 2)]]
LAYER2 = [[1, 0, 0, 0], [0, 1, 0, 0], [F(1, 2), 0, F(1, 2), 0], [F(1, 4), F(1, 4), F(1, 4), F(1, 4)]]
LAYER3 = [[1, 0, 0, 0], [F(1, 3), F(2, 3), 0, 0], [0, 0, 1, 0], [0, F(1, 2), 0, F(1, 2)]]


def rollout(layers, gamma):
    """Attention rollout R^(L) ⋯ R^(1) by explicit matrix products (the independent method)."""
    product = None
    for layer in layers:
        matrix = np.array(layer, dtype=object)
        n = matrix.shape[0]
        identity = np.array([[F(int(i == j)) for j in range(n)] for i in range(n)], dtype=object)
        residual = (1 - gamma) * identity + gamma * matrix
        product = residual if product is None else residual.dot(product)
    return product


def test_three_layers_by_hand():
    """§4: S^(1..3) for γ = 1/2, worked out by hand."""
    result = depth_signal([LAYER1, LAYER2, LAYER3])
    # S^(1) = e_τ R1 = [0, 0, 1/4, 3/4].
    assert result.signal[0].tolist() == [0, 0, F(1, 4), F(3, 4)]
    # e_τ R2 = [1/8, 1/8, 1/8, 5/8]; times R1 (rows [1,0,0,0], [1/4,3/4,0,0], [0,1/4,3/4,0], [0,0,1/4,3/4]).
    assert result.signal[1].tolist() == [F(5, 32), F(1, 8), F(1, 4), F(15, 32)]
    assert sum(result.signal[2]) == 1


@pytest.mark.parametrize("gamma", [F(1, 2), F(1, 3), 1])
def test_last_layer_is_the_sinks_row_of_rollout(gamma):
    """§4: S^(L) = [R^(L) ⋯ R^(1)]_{τ,·}, and every S^(ℓ) is the rollout of the first ℓ layers."""
    layers = [LAYER1, LAYER2, LAYER3]
    result = depth_signal(layers, gamma=gamma)
    for depth in range(1, 4):
        assert result.signal[depth - 1].tolist() == rollout(layers[:depth], F(gamma))[-1].tolist()
    fidelity = [max(result.signal[:, v]) for v in range(4)]
    assert result.fidelity.tolist() == fidelity
    assert result.minimax == min(fidelity[:3])


def test_constant_layers_without_residual_are_section_2():
    """§4 with γ = 1 and the same operator in every layer is §2's S_t, t = layer."""
    head = paper_example2().heads[0]
    result = depth_signal([head] * 5, gamma=1)
    assert result.signal.tolist() == signal_curves(head, 5).tolist()


def test_float_batches_match_per_sample_rollout():
    rng = np.random.default_rng(0)
    n = 9
    scores = np.where(np.tril(np.ones((n, n), bool)), rng.normal(size=(2, 4, n, n)), -np.inf)
    layers = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    result = depth_signal(layers, gamma=0.5)
    assert result.signal.shape == (2, 4, n) and np.shape(result.minimax) == (2,)
    for sample in range(2):
        product = np.eye(n)
        for depth in range(4):
            product = (0.5 * np.eye(n) + 0.5 * layers[sample, depth]) @ product
            np.testing.assert_allclose(result.signal[sample, depth], product[-1], rtol=1e-13)
    assert (result.layer >= 1).all() and (result.layer <= 4).all()


def test_head_systems_stand_for_their_combined_operator():
    system = paper_example2()
    from_systems = depth_signal([system, system])
    from_arrays = depth_signal([system.combined().diffusion] * 2)
    assert from_systems.signal.tolist() == from_arrays.signal.tolist()
    assert isinstance(system, HeadSystem)


@pytest.mark.parametrize("gamma", [0, 1.5, -0.5, True, "half"])
def test_bad_gamma_is_refused(gamma):
    with pytest.raises(InvalidInputError, match="gamma"):
        depth_signal([LAYER1], gamma=gamma)


def test_bad_layers_are_refused():
    with pytest.raises(InvalidInputError, match=r"shape \(\.\.\., L, n, n\)"):
        depth_signal(LAYER1)
    with pytest.raises(InvalidInputError, match="not causal"):
        depth_signal([[[0.5, 0.5], [0.5, 0.5]]])
    small = HeadSystem.from_attention(np.array([[[1.0, 0.0], [0.5, 0.5]]]))
    with pytest.raises(InvalidInputError, match="same number of tokens"):
        depth_signal([paper_example2(), small])


def test_attention_flow_hand_solved():
    """§4 flow on two layers of three tokens (γ = 1), solved by hand: from token 0 the
    paths through (1,0) and (1,1) carry 1/2 + 1/4; token 1 sends 1/4 through each of
    (1,1) and (1,2); token 2 only 1/4 through (1,2)."""
    from dagtheory.depth import attention_flow

    first = [[1, 0, 0], [0.5, 0.5, 0], [0, 0.5, 0.5]]
    second = [[1, 0, 0], [0, 1, 0], [0.5, 0.25, 0.25]]
    np.testing.assert_allclose(attention_flow([first, second], gamma=1), [0.75, 0.5, 0.25])
    assert attention_flow([first, second], source=1, gamma=1) == pytest.approx(0.5)
    # One layer without residual: the flow is the sink's attention itself.
    np.testing.assert_allclose(attention_flow([second], gamma=1), second[-1])


def test_attention_flow_refuses_batches():
    from dagtheory.depth import attention_flow

    with pytest.raises(InvalidInputError, match=r"one stack of layers \(L, n, n\)"):
        attention_flow(np.ones((2, 1, 2, 2)) * np.array([[1.0, 0.0], [0.5, 0.5]]))
