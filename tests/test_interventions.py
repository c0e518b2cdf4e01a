"""Interventions on heads (dagtheory/torch/interventions.py) and the ablate/reweight commands.

A tiny model is trained for a few dozen steps; every test that changes its
weights does so inside :func:`head_scales` (which restores them) or on a copy.
"""

import copy
import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from dagtheory import InvalidInputError, InvalidTypeError  # noqa: E402
from dagtheory.ablation import predict_ablation  # noqa: E402
from dagtheory.cli import main  # noqa: E402
from dagtheory.torch import (  # noqa: E402
    PaperTransformer,
    ablation_effects,
    evaluate,
    extract_attention,
    head_scales,
    learned_head_weights,
    reweight_report,
    reweighting_scales,
    train_model,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")

TINY = dict(seq_len=8, epochs=1, steps_per_epoch=40, batch_size=16, progress=False, vocab_size=16,
            d_model=16, n_layers=2, d_mlp=32)


@pytest.fixture(scope="module")
def tiny(one_torch_thread):
    return train_model("copy", 4, seed=3, **TINY).model


def _learned(model):
    return np.stack([learned_head_weights(model, layer) for layer in range(model.n_layers)])


def _state(model):
    return {key: value.clone() for key, value in model.state_dict().items()}


def _logits(model, seed=0):
    tokens = torch.randint(16, (4, 8), generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        return model.eval()(tokens)


def test_scale_one_reproduces_the_logits_exactly(tiny):
    before = _logits(tiny)
    with head_scales(tiny, np.ones((2, 4))):
        during = _logits(tiny)
    assert torch.equal(before, during)


def test_ablation_equals_zeroing_the_columns_by_hand(tiny):
    scales = np.ones((2, 4))
    scales[1, 2] = 0.0
    with head_scales(tiny, scales):
        ablated = _logits(tiny)
    by_hand = copy.deepcopy(tiny)
    with torch.no_grad():
        by_hand.layers[1].attn.out_proj.weight[:, 8:12] = 0.0
    assert torch.equal(ablated, _logits(by_hand))
    assert not torch.equal(ablated, _logits(tiny))


def test_the_model_is_restored_bit_for_bit_even_after_an_error(tiny):
    state = _state(tiny)
    with pytest.raises(RuntimeError, match="inside"):
        with head_scales(tiny, np.full((2, 4), 0.3)):
            raise RuntimeError("inside the block")
    with head_scales(tiny, np.zeros((2, 4))):
        pass
    assert all(torch.equal(state[key], value) for key, value in tiny.state_dict().items())


def test_a_head_with_a_zero_slice_changes_neither_loss_nor_predictions(tiny):
    model = copy.deepcopy(tiny)
    with torch.no_grad():
        model.layers[0].attn.out_proj.weight[:, 4:8] = 0.0  # head 1 of layer 0
    effects = ablation_effects(model, "copy", samples=16)
    assert effects.loss[0, 1] == 0.0 and effects.accuracy[0, 1] == 0.0 and effects.loss_se[0, 1] == 0.0
    assert np.any(effects.loss != 0.0)
    tokens = np.random.default_rng(0).integers(0, 16, size=(3, 8))
    prediction = predict_ablation(extract_attention(model, tokens), _learned(model), horizon=20)
    for name in ("delta_minimax_fidelity", "delta_mixing_time", "delta_amplification"):
        assert np.all(getattr(prediction, name)[:, 0, 1] == 0.0), name


def test_evaluate_is_deterministic_and_seeded(tiny):
    first, second = evaluate(tiny, "copy", samples=8), evaluate(tiny, "copy", samples=8)
    other = evaluate(tiny, "copy", samples=8, seed=1)
    np.testing.assert_array_equal(first.sequence_loss, second.sequence_loss)
    assert first.loss != other.loss
    assert first.loss == pytest.approx(first.sequence_loss.mean())
    assert first.loss_se == pytest.approx(first.sequence_loss.std(ddof=1) / np.sqrt(8))
    assert (first.samples, first.seq_len, first.task) == (8, 8, "copy")


def test_evaluate_scores_positions_one_onwards():
    model = PaperTransformer(vocab_size=4, d_model=4, n_heads=1, n_layers=1, d_mlp=4, max_len=5).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.zero_()
    result = evaluate(model, "cycle", samples=3, seq_len=5)
    assert result.loss == pytest.approx(np.log(4))  # uniform logits
    assert result.sequence_accuracy.shape == (3,)


def test_evaluate_refuses_bad_input(tiny):
    with pytest.raises(InvalidInputError, match="task must be one of"):
        evaluate(tiny, "reverse")
    with pytest.raises(InvalidInputError, match="seq_len = 9 is longer than the model's max_len = 8"):
        evaluate(tiny, "copy", seq_len=9)
    with pytest.raises(InvalidInputError, match="samples must be at least 1"):
        evaluate(tiny, "copy", samples=0)
    with pytest.raises(InvalidTypeError, match="PaperTransformer; got Linear"):
        evaluate(torch.nn.Linear(2, 2), "copy")


def test_head_scales_refuses_bad_scales(tiny):
    with pytest.raises(InvalidInputError, match=r"shape \(2, 4\), one per layer and head; got shape \(4,\)"):
        with head_scales(tiny, np.ones(4)):
            pass
    bad = np.ones((2, 4))
    bad[1, 3] = np.inf
    with pytest.raises(InvalidInputError, match="inf .not finite. at layer 1, head 3"):
        with head_scales(tiny, bad):
            pass


@pytest.mark.parametrize("target", [np.full(4, 0.25), np.array([[0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.5, 0.0]])])
def test_reweighting_reaches_the_target_profile_and_restores(tiny, target):
    state = _state(tiny)
    expected = np.broadcast_to(target, (2, 4))
    with head_scales(tiny, reweighting_scales(tiny, target)):
        np.testing.assert_allclose(_learned(tiny), expected, atol=1e-6)
    assert all(torch.equal(state[key], value) for key, value in tiny.state_dict().items())


def test_reweighting_cannot_revive_a_zero_block(tiny):
    model = copy.deepcopy(tiny)
    with torch.no_grad():
        model.layers[1].attn.out_proj.weight[:, :4] = 0.0
    with pytest.raises(InvalidInputError, match="head 0 of layer 1, whose out-projection block is zero"):
        reweighting_scales(model, np.full(4, 0.25))
    with pytest.raises(InvalidInputError, match=r"target must have shape \(4,\) or \(2, 4\)"):
        reweighting_scales(model, np.ones(3))


def test_reweight_report_to_uniform(tiny):
    report = reweight_report(tiny, "copy", "uniform", samples=2, eval_samples=8)
    assert report["target"] == [[0.25] * 4] * 2 and report["p3"] is None
    np.testing.assert_allclose(report["reweighted"]["weights"], 0.25, atol=1e-6)
    assert report["verdict"] in ("helps", "hurts", "unchanged")
    assert len(report["fidelity_raised"]) == 2 and len(report["original"]["layers"]) == 2


# ---------------------------------------------------------------------------
# the commands


@pytest.fixture(scope="module")
def checkpoint(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoints") / "4_heads_copy.pt"
    torch.save(tiny.state_dict(), path)
    return path


def test_ablate_end_to_end(checkpoint, tmp_path, capsys):
    out, folder = tmp_path / "ablation.json", tmp_path / "report"
    status = main(["ablate", str(checkpoint), "--samples", "2", "--eval-samples", "8", "--json", str(out),
                   "--report", str(folder)])
    assert status == 0
    printed = capsys.readouterr().out
    assert "pred. Δφ_min" in printed and "Spearman" in printed
    report = json.loads(out.read_text())
    assert report["model"] == "4_heads_copy" and report["task"] == "copy"
    assert set(report) >= {"settings", "baseline", "heads", "correlations", "seconds"}
    assert report["settings"]["samples"] == 2 and report["settings"]["eval_samples"] == 8
    assert len(report["heads"]) == 8
    head = report["heads"][5]
    assert (head["layer"], head["head"]) == (1, 1)
    assert set(head["predicted"]) == {"minimax_fidelity", "mixing_time", "amplification"}
    assert set(head["measured"]) == {"loss", "loss_se", "accuracy"}
    overall = [c for c in report["correlations"] if c["layer"] is None]
    assert len(overall) == 6 and set(overall[0]) == {"predicted", "measured", "layer", "rho", "pvalue", "n",
                                                     "defined", "reason"}
    for name in ("index.md", "index.html", "report.json", "figures/ablation_scatter.png"):
        assert (folder / name).is_file(), name
    assert "figures/ablation_scatter.png" in (folder / "index.md").read_text()


def test_reweight_end_to_end(checkpoint, tmp_path):
    out = tmp_path / "optimal.json"
    assert main(["reweight", str(checkpoint), "--to", "optimal", "--samples", "1", "--eval-samples", "4",
                 "--starts", "1", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["to"] == "optimal" and len(report["p3"]) == 2
    np.testing.assert_allclose(np.sum(report["target"], axis=1), 1.0)
    np.testing.assert_allclose(report["reweighted"]["weights"], report["target"], atol=1e-6)


def test_commands_refuse_bad_input_in_one_line(checkpoint, tmp_path, capsys):
    assert main(["ablate", str(tmp_path / "missing.pt")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    unnamed = tmp_path / "model.pt"
    unnamed.write_bytes(checkpoint.read_bytes())
    assert main(["reweight", str(unnamed), "--to", "uniform"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dagtheory reweight: error: cannot tell the task") and err.count("\n") == 1
    with pytest.raises(SystemExit) as stop:
        main(["ablate", str(checkpoint), "--samples", "0"])
    assert stop.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_ablate_on_a_shared_checkpoint(checkpoints, tmp_path):
    out = tmp_path / "shared.json"
    assert main(["ablate", str(checkpoints / "4_heads_cycle.pt"), "--samples", "1", "--eval-samples", "4",
                 "--seq-len", "24", "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["task"] == "cycle" and len(report["heads"]) == 16
    assert report["baseline"]["accuracy"] > 0.9
