"""Tests of dagtheory.torch: the paper's model, its checkpoints, attention extraction (§1).

Attention is checked against independent numpy recomputations from the weights,
learned head weights against a direct Frobenius-norm computation (§1), and the
rebuilt architecture against the published checkpoints (accuracy on their task).
"""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

import dagtheory  # noqa: E402
from dagtheory.exceptions import InvalidInputError, InvalidTypeError  # noqa: E402
from dagtheory.torch import (  # noqa: E402
    CheckpointError,
    PaperTransformer,
    copy_batch,
    cycle_batch,
    extract_attention,
    learned_head_weights,
    load_checkpoint,
    train_family,
    train_model,
)

CHECKPOINT_NAMES = [f"{h}_heads_{task}.pt" for h in (1, 4, 8, 16) for task in ("copy", "cycle")]

TINY = dict(vocab_size=16, d_model=16, n_layers=2, d_mlp=32, max_len=12)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models run fastest on one thread, and do not slow down next to other processes."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tiny_model(heads=2, seed=0, **options):
    torch.manual_seed(seed)
    return PaperTransformer(n_heads=heads, **{**TINY, **options}).eval()


def numpy_state(model_or_state):
    state = model_or_state.state_dict() if isinstance(model_or_state, nn.Module) else model_or_state
    return {key: value.detach().double().numpy() for key, value in state.items()}


def softmax_rows(scores):
    scores = scores - scores.max(axis=-1, keepdims=True)
    weights = np.exp(scores)
    return weights / weights.sum(axis=-1, keepdims=True)


def causal_softmax(q, k):
    """Per-head causal attention from q, k of shape (H, T, d), in float64."""
    length, width = q.shape[1], q.shape[2]
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(width)
    scores[:, np.triu(np.ones((length, length), dtype=bool), 1)] = -np.inf
    return softmax_rows(scores)


def split_heads(x, heads):
    length, width = x.shape
    return x.reshape(length, heads, width // heads).transpose(1, 0, 2)


def manual_first_layer(state, heads, tokens):
    """Layer 0 of the paper's transformer recomputed from the state dict (numpy, float64)."""
    tokens = np.asarray(tokens)
    x = state["token_emb.weight"][tokens] + state["pos_emb.weight"][: len(tokens)]
    eps = np.finfo(np.float32).eps  # nn.RMSNorm's default for float32 input
    x = x / np.sqrt((x ** 2).mean(axis=-1, keepdims=True) + eps) * state["layers.0.ln1.weight"]

    def project(name):
        return x @ state[f"layers.0.attn.{name}.weight"].T + state[f"layers.0.attn.{name}.bias"]

    return causal_softmax(split_heads(project("W_q"), heads), split_heads(project("W_k"), heads))


def frobenius_weights(out_proj, heads):
    """§1's learned weights, written out directly."""
    width = out_proj.shape[1] // heads
    norms = np.array([np.linalg.norm(out_proj[:, h * width:(h + 1) * width]) for h in range(heads)])
    return norms / norms.sum()


def accuracy(model, task, sequences, seed):
    """Share of correct predictions at positions 1..T-1 on random sequences of length 100."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randint(256, (sequences, 100), generator=generator)
    targets = inputs if task == "copy" else torch.roll(inputs, 1, dims=1)
    with torch.no_grad():
        predictions = model(inputs).argmax(dim=-1)
    return (predictions[:, 1:] == targets[:, 1:]).double().mean().item()


def check_attention_properties(attention):
    assert attention.dtype == np.float64
    np.testing.assert_allclose(attention.sum(axis=-1), 1.0, atol=1e-6)
    length = attention.shape[-1]
    above = np.triu(np.ones((length, length), dtype=bool), 1)
    assert np.all(attention[..., above] == 0)
    assert np.all(attention >= 0)


# ---------------------------------------------------------------------------
# package


def test_import_dagtheory_does_not_import_torch():
    code = "import sys, dagtheory; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_public_names():
    import dagtheory.torch as bridge

    assert sorted(bridge.__all__) == sorted([
        "PaperTransformer", "CheckpointError", "load_checkpoint", "extract_attention",
        "learned_head_weights", "TrainResult", "copy_batch", "cycle_batch", "train_model",
        "train_family", "train_seeds", "seed_folder", "Evaluation", "AblationEffects", "evaluate",
        "head_scales", "reweighting_scales", "ablation_effects", "ablation_report", "reweight_report",
    ])
    for name in bridge.__all__:
        assert getattr(bridge, name).__doc__, name
    assert issubclass(CheckpointError, InvalidInputError)
    assert issubclass(CheckpointError, ValueError)


# ---------------------------------------------------------------------------
# PaperTransformer


@pytest.mark.parametrize("heads", [1, 4, 8, 16])
def test_parameter_count_does_not_depend_on_heads(heads):
    model = PaperTransformer(n_heads=heads)
    assert sum(p.numel() for p in model.parameters()) == 172_800
    assert model.config == dict(vocab_size=256, d_model=64, n_heads=heads, n_layers=4, d_mlp=128,
                                max_len=100, causal=True, dropout=0.1)


def test_state_dict_layout():
    state = PaperTransformer().state_dict()
    block = ["attn.W_q.weight", "attn.W_q.bias", "attn.W_k.weight", "attn.W_k.bias",
             "attn.W_v.weight", "attn.W_v.bias", "attn.out_proj.weight", "attn.out_proj.bias",
             "ln1.weight", "mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "ln2.weight"]
    expected = (["token_emb.weight", "pos_emb.weight"]
                + [f"layers.{l}.{key}" for l in range(4) for key in block]
                + ["out_proj.weight", "out_proj.bias"])
    assert list(state) == expected
    assert state["layers.3.mlp.0.weight"].shape == (128, 64)
    assert state["out_proj.weight"].shape == (256, 64)


def test_forward_shapes_and_attention_is_causal():
    model = tiny_model(heads=4)
    tokens = torch.randint(16, (3, 7))
    logits, attention = model(tokens, return_attention=True)
    assert logits.shape == (3, 7, 16)
    assert attention.shape == (3, 2, 4, 7, 7)
    assert torch.equal(model(tokens), logits)
    check_attention_properties(attention.detach().double().numpy())


def test_dropout_acts_in_training_only():
    model = tiny_model(dropout=0.5)
    tokens = torch.randint(16, (2, 6))
    assert torch.equal(model(tokens), model(tokens))
    model.train()
    assert not torch.equal(model(tokens), model(tokens))


@pytest.mark.parametrize("options, error, message", [
    (dict(d_model=64, n_heads=3), InvalidInputError, "d_model = 64 is not divisible by n_heads = 3"),
    (dict(n_layers=0), InvalidInputError, "n_layers must be at least 1; got 0"),
    (dict(max_len=10.0), InvalidTypeError, "max_len must be an int"),
    (dict(dropout=1.0), InvalidInputError, r"dropout must lie in \[0, 1\)"),
    (dict(causal="yes"), InvalidTypeError, "causal must be True or False"),
])
def test_model_rejects_bad_config(options, error, message):
    with pytest.raises(error, match=message):
        PaperTransformer(**options)


def test_forward_rejects_long_sequences():
    with pytest.raises(InvalidInputError, match="length 13, longer than max_len = 12"):
        tiny_model()(torch.zeros(1, 13, dtype=torch.long))


# ---------------------------------------------------------------------------
# shared checkpoints


@pytest.mark.parametrize("name", CHECKPOINT_NAMES)
def test_shared_checkpoint_loads_and_solves_its_task(checkpoints, name):
    model = load_checkpoint(checkpoints / name)
    heads, _, task = name[:-3].split("_")
    assert not model.training
    assert model.config["n_heads"] == int(heads)
    assert sum(p.numel() for p in model.parameters()) == 172_800
    assert accuracy(model, task, sequences=8, seed=1) >= 0.99


def test_checkpoint_attention_matches_manual_recomputation(checkpoints):
    path = checkpoints / "4_heads_cycle.pt"
    model = load_checkpoint(path)
    state = numpy_state(torch.load(path, map_location="cpu", weights_only=True))
    tokens = np.random.default_rng(0).integers(0, 256, size=30)
    attention = extract_attention(model, tokens)
    assert attention.shape == (4, 4, 30, 30)
    check_attention_properties(attention)
    np.testing.assert_allclose(attention[0], manual_first_layer(state, 4, tokens), atol=1e-5)


def test_checkpoint_learned_weights_match_frobenius_norms(checkpoints):
    path = checkpoints / "8_heads_copy.pt"
    model = load_checkpoint(path)
    state = numpy_state(torch.load(path, map_location="cpu", weights_only=True))
    for layer in range(4):
        expected = frobenius_weights(state[f"layers.{layer}.attn.out_proj.weight"], 8)
        np.testing.assert_allclose(learned_head_weights(model, layer), expected, rtol=1e-12)


# ---------------------------------------------------------------------------
# extract_attention on PaperTransformer


def test_extract_single_and_batched():
    model = tiny_model(heads=4)
    tokens = np.random.default_rng(1).integers(0, 16, size=(3, 9))
    batched = extract_attention(model, tokens)
    assert batched.shape == (3, 2, 4, 9, 9)
    check_attention_properties(batched)
    for row, sequence in enumerate(tokens):
        single = extract_attention(model, list(sequence))
        assert single.shape == (2, 4, 9, 9)
        np.testing.assert_allclose(single, batched[row], atol=1e-6)


def test_extract_matches_manual_recomputation():
    model = tiny_model(heads=4, seed=3)
    tokens = [5, 0, 15, 7, 7, 2, 9, 11]
    attention = extract_attention(model, torch.tensor(tokens))
    np.testing.assert_allclose(attention[0], manual_first_layer(numpy_state(model), 4, tokens),
                               atol=1e-6)


def test_extract_restores_training_flags():
    model = tiny_model()
    model.train()
    model.layers[1].eval()
    extract_attention(model, [1, 2, 3])
    assert model.training and model.layers[0].training and not model.layers[1].training
    assert all(p.grad is None for p in model.parameters())


def test_extract_output_feeds_head_system():
    model = tiny_model(heads=4)
    attention = extract_attention(model, [3, 1, 4, 1, 5, 9, 2, 6])
    system = dagtheory.HeadSystem.from_attention(attention[1], weights=learned_head_weights(model, 1))
    assert system.H == 4 and system.n == 8
    assert 0.0 <= float(dagtheory.minimax_fidelity(system)) <= 1.0


@pytest.mark.parametrize("tokens, error, message", [
    ([1, 2, 16], InvalidInputError, r"tokens holds 16 at index 2; token ids must lie in \[0, 16\)"),
    ([[1, 2], [-1, 3]], InvalidInputError, r"tokens holds -1 at index \(1, 0\)"),
    ([0.0, 1.0], InvalidTypeError, "tokens must be integer ids; got dtype float64"),
    (torch.tensor([True, False]), InvalidTypeError, "got a tensor of dtype torch.bool"),
    (list(range(13)), InvalidInputError, "length 13, longer than the model's max_len = 12"),
    ([[[1]]], InvalidInputError, r"shape \(T,\) or \(B, T\); got shape \(1, 1, 1\)"),
    ([], InvalidInputError, "tokens is empty"),
    ([[1, 2], [3]], InvalidInputError, "tokens is ragged"),
])
def test_extract_rejects_bad_tokens(tokens, error, message):
    with pytest.raises(error, match=message):
        extract_attention(tiny_model(), tokens)


def test_extract_rejects_models_without_attention():
    with pytest.raises(InvalidTypeError, match="found no attention in Sequential"):
        extract_attention(nn.Sequential(nn.Embedding(4, 2)), [1, 2])
    with pytest.raises(InvalidTypeError, match="model must be a torch.nn.Module"):
        extract_attention(lambda x: x, [1, 2])


# ---------------------------------------------------------------------------
# nn.MultiheadAttention and nn.TransformerEncoder


class CausalStack(nn.Module):
    """Embedding, then MultiheadAttention layers with a causal float mask and residuals."""

    def __init__(self, layers=2, d=8, heads=2, batch_first=True, positional=False):
        super().__init__()
        self.batch_first, self.positional = batch_first, positional
        self.emb = nn.Embedding(20, d)
        self.attn = nn.ModuleList(nn.MultiheadAttention(d, heads, batch_first=batch_first)
                                  for _ in range(layers))

    def forward(self, tokens):
        x = self.emb(tokens)
        length = tokens.shape[1]
        mask = torch.triu(torch.full((length, length), float("-inf")), 1)
        if not self.batch_first:
            x = x.transpose(0, 1)
        for attn in self.attn:
            if self.positional:  # need_weights=False, passed by position
                out, _ = attn(x, x, x, None, False, mask)
            else:
                out, _ = attn(x, x, x, attn_mask=mask)
            x = x + out
        return x


def manual_mha(module, x):
    """Per-head causal attention of an nn.MultiheadAttention on x (T, d), and its output."""
    w = module.in_proj_weight.detach().double().numpy()
    b = module.in_proj_bias.detach().double().numpy()
    q, k, v = np.split(x @ w.T + b, 3, axis=-1)
    heads = module.num_heads
    attention = causal_softmax(split_heads(q, heads), split_heads(k, heads))
    mixed = (attention @ split_heads(v, heads)).transpose(1, 0, 2).reshape(x.shape)
    out = mixed @ module.out_proj.weight.detach().double().numpy().T
    return attention, out + module.out_proj.bias.detach().double().numpy()


@pytest.mark.parametrize("batch_first, positional", [(True, False), (False, False), (True, True)])
def test_multihead_attention_matches_in_proj_computation(batch_first, positional):
    torch.manual_seed(0)
    model = CausalStack(batch_first=batch_first, positional=positional)
    tokens = torch.randint(20, (2, 6))
    attention = extract_attention(model, tokens)
    assert attention.shape == (2, 2, 2, 6, 6)
    check_attention_properties(attention)
    for row in range(2):
        x = model.emb.weight.detach().double().numpy()[tokens[row].numpy()]
        for layer, module in enumerate(model.attn):
            expected, out = manual_mha(module, x)
            np.testing.assert_allclose(attention[row, layer], expected, atol=1e-6)
            x = x + out


def test_multihead_attention_learned_weights():
    torch.manual_seed(1)
    model = CausalStack(layers=3, d=12, heads=3)
    for layer in range(3):
        expected = frobenius_weights(model.attn[layer].out_proj.weight.detach().double().numpy(), 3)
        np.testing.assert_allclose(learned_head_weights(model, layer), expected, rtol=1e-12)
    np.testing.assert_allclose(learned_head_weights(model, -1), learned_head_weights(model, 2))
    with pytest.raises(InvalidInputError, match=r"3 attention layer\(s\), so layer must lie in 0\.\.2"):
        learned_head_weights(model, 3)
    with pytest.raises(InvalidTypeError, match="found no attention out-projection"):
        learned_head_weights(nn.Linear(2, 2), 0)


def test_paper_model_learned_weights_layer_range():
    model = tiny_model(heads=4)
    expected = frobenius_weights(numpy_state(model)["layers.1.attn.out_proj.weight"], 4)
    np.testing.assert_allclose(learned_head_weights(model, 1), expected, rtol=1e-12)
    with pytest.raises(InvalidInputError, match=r"layer 2 is out of range.*0\.\.1 \(or -2\.\.-1"):
        learned_head_weights(model, 2)
    with pytest.raises(InvalidTypeError, match="layer must be an int"):
        learned_head_weights(model, 1.0)


class EncoderModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(20, 16)
        layer = nn.TransformerEncoderLayer(16, 2, dim_feedforward=32, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers=2, enable_nested_tensor=False)

    def forward(self, tokens):
        mask = nn.Transformer.generate_square_subsequent_mask(tokens.shape[1])
        return self.encoder(self.emb(tokens), mask=mask, is_causal=True)


def test_transformer_encoder_weights_despite_fast_path():
    torch.manual_seed(2)
    model = EncoderModel()
    tokens = torch.randint(20, (3, 5))
    attention = extract_attention(model, tokens)
    assert attention.shape == (3, 2, 2, 5, 5)
    check_attention_properties(attention)
    x = model.emb.weight.detach().double().numpy()[tokens[0].numpy()]
    expected, _ = manual_mha(model.encoder.layers[0].self_attn, x)
    np.testing.assert_allclose(attention[0, 0], expected, atol=1e-6)
    assert torch.backends.mha.get_fastpath_enabled()
    assert model.training


# ---------------------------------------------------------------------------
# HuggingFace transformers


def tiny_gpt2(implementation):
    transformers = pytest.importorskip("transformers")
    config = transformers.GPT2Config(n_layer=2, n_head=2, n_embd=16, vocab_size=50, n_positions=32,
                                     bos_token_id=0, eos_token_id=0,
                                     attn_implementation=implementation)
    torch.manual_seed(0)
    return transformers.GPT2LMHeadModel(config)


def test_huggingface_gpt2_attention():
    model = tiny_gpt2("eager")
    tokens = np.random.default_rng(2).integers(0, 50, size=(3, 7))
    attention = extract_attention(model, tokens)
    assert attention.shape == (3, 2, 2, 7, 7)
    check_attention_properties(attention)
    np.testing.assert_allclose(extract_attention(model, tokens[1]), attention[1], atol=1e-6)
    with pytest.raises(InvalidInputError, match="tokens holds 50 at index 0"):
        extract_attention(model, [50, 1])


def test_huggingface_without_weights_says_how_to_get_them():
    model = tiny_gpt2("sdpa")
    with pytest.raises(InvalidInputError, match='attn_implementation="eager"'):
        extract_attention(model, [1, 2, 3])


# ---------------------------------------------------------------------------
# hostile and broken checkpoint files


class Payload:
    """Unpickling this creates the file ``marker``: code carried by a pickle."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_payload_really_runs_under_plain_pickle(tmp_path):
    marker = tmp_path / "ran"
    pickle.loads(pickle.dumps(Payload(marker)))
    assert marker.exists()


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("writer", ["torch.save", "pickle protocol 2", "pickle default protocol"])
def test_pickle_with_code_is_refused(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "4_heads_copy.pt"
    if writer == "torch.save":
        torch.save({"token_emb.weight": Payload(marker)}, path)
    elif writer == "pickle protocol 2":
        path.write_bytes(pickle.dumps({"token_emb.weight": Payload(marker)}, protocol=2))
    else:
        path.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(CheckpointError, match="refused for safety: it holds objects other than tensors"):
        load_checkpoint(path)
    assert not marker.exists()


def save_tiny(path, edit=None, heads=2):
    state = tiny_model(heads=heads).state_dict()
    if edit:
        edit(state)
    torch.save(state, path)
    return path


def test_tiny_checkpoint_round_trip(tmp_path):
    path = save_tiny(tmp_path / "2_heads_copy.pt")
    model = load_checkpoint(path)
    assert model.config == dict(TINY, n_heads=2, causal=True, dropout=0.1)
    for key, value in tiny_model(heads=2).state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert load_checkpoint(path, heads=2).config["n_heads"] == 2
    with pytest.raises(CheckpointError, match=r"named for 2 heads but heads=4 was given"):
        load_checkpoint(path, heads=4)
    renamed = path.rename(tmp_path / "tiny.pt")
    assert load_checkpoint(renamed, heads=4).config["n_heads"] == 4
    assert load_checkpoint(renamed, heads=2, causal=False).config["causal"] is False


def _delete(key):
    return lambda state: state.pop(key)


@pytest.mark.parametrize("edit, message", [
    (_delete("layers.1.attn.W_k.bias"), "missing key.*'layers.1.attn.W_k.bias'"),
    (_delete("token_emb.weight"), "missing key 'token_emb.weight', needed to read the architecture"),
    (lambda s: s.update({"extra.weight": torch.zeros(2)}), "unexpected key.*'extra.weight'"),
    (lambda s: s.update({"layers.0.mlp.2.bias": torch.zeros(5)}),
     r"key 'layers.0.mlp.2.bias' has shape \(5,\); expected \(16,\)"),
    (lambda s: s.update({"layers.0.ln1.weight": [1.0] * 16}),
     "key 'layers.0.ln1.weight' holds a list, not a tensor"),
    (lambda s: s.update({"out_proj.bias": torch.zeros(16, dtype=torch.long)}),
     "key 'out_proj.bias' has dtype torch.int64"),
    (lambda s: s["out_proj.bias"].fill_(float("nan")), "key 'out_proj.bias' contains NaN"),
])
def test_broken_state_dict_is_refused_naming_the_key(tmp_path, edit, message):
    path = save_tiny(tmp_path / "2_heads_copy.pt", edit)
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(path)


def test_non_state_dict_files_are_refused(tmp_path):
    torch.save([torch.zeros(2)], tmp_path / "list.pt")
    with pytest.raises(CheckpointError, match="holds a list, not a state dict"):
        load_checkpoint(tmp_path / "list.pt", heads=2)
    (tmp_path / "empty.pt").write_bytes(b"")
    with pytest.raises(CheckpointError, match="could not be read as a PyTorch file"):
        load_checkpoint(tmp_path / "empty.pt", heads=2)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="junk.pt"):
        load_checkpoint(tmp_path / "junk.pt", heads=2)
    with pytest.raises(FileNotFoundError, match="no checkpoint file"):
        load_checkpoint(tmp_path / "absent.pt", heads=2)


def test_head_count_must_be_known_and_divide_d_model(tmp_path):
    path = save_tiny(tmp_path / "model.pt")
    with pytest.raises(CheckpointError, match=r"cannot tell the number of heads.*pass heads=H"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="d_model = 16, not divisible by 3 heads"):
        load_checkpoint(path, heads=3)
    with pytest.raises(InvalidTypeError, match="unknown model option 'width'"):
        load_checkpoint(path, heads=2, width=3)
    with pytest.raises(CheckpointError, match=r"'pos_emb.weight' has shape \(12, 16\); expected \(20, 16\)"):
        load_checkpoint(path, heads=2, max_len=20)


# ---------------------------------------------------------------------------
# training


def test_batches():
    inputs, targets = copy_batch(3, 5, 7, torch.Generator().manual_seed(0))
    assert inputs.shape == (3, 5) and inputs.dtype == torch.long
    assert torch.equal(inputs, targets) and inputs.max() < 7 and inputs.min() >= 0
    again, _ = copy_batch(3, 5, 7, torch.Generator().manual_seed(0))
    assert torch.equal(inputs, again)
    inputs, targets = cycle_batch(2, 6, 9, torch.Generator().manual_seed(1))
    for i in range(6):
        assert torch.equal(targets[:, i], inputs[:, i - 1])


TRAIN = dict(seq_len=8, epochs=2, steps_per_epoch=3, batch_size=4, progress=False,
             vocab_size=16, d_model=16, n_layers=1, d_mlp=32)


def test_family_round_trip(tmp_path):
    results = train_family("cycle", (1, 2), out_dir=tmp_path, seed=5, **TRAIN)
    assert [r.config["heads"] for r in results] == [1, 2]
    assert results[0].parameters == results[1].parameters == 2848
    record = json.loads((tmp_path / "2_heads_cycle.json").read_text())
    assert record["parameters"] == 2848 and record["seed"] == 5 and record["epochs"] == 2
    assert record["history"] == results[1].history and len(record["history"]) == 2
    assert record["accuracy"] == results[1].accuracy
    assert record["config"]["model"]["n_heads"] == 2 and record["config"]["task"] == "cycle"

    model = load_checkpoint(tmp_path / "2_heads_cycle.pt")
    assert model.config["n_heads"] == 2 and model.config["max_len"] == 8
    for key, value in results[1].model.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    attention = extract_attention(model, [1, 5, 2, 9, 0, 15, 3, 3])
    assert attention.shape == (1, 2, 8, 8)
    system = dagtheory.HeadSystem.from_attention(attention[0])
    value = float(dagtheory.minimax_fidelity(system))
    assert np.isfinite(value) and 0.0 <= value <= 1.0


def test_same_seed_same_weights_and_caller_rng_untouched():
    state = torch.get_rng_state()
    first = train_model("copy", 2, seed=3, **TRAIN)
    assert torch.equal(torch.get_rng_state(), state)
    second = train_model("copy", 2, seed=3, **TRAIN)
    third = train_model("copy", 2, seed=4, **TRAIN)
    assert first.history == second.history and first.accuracy == second.accuracy
    for key, value in first.model.state_dict().items():
        assert torch.equal(second.model.state_dict()[key], value), key
    assert not torch.equal(first.model.out_proj.weight, third.model.out_proj.weight)


def test_training_learns_the_cycle_task():
    result = train_model("cycle", 2, seq_len=8, epochs=2, steps_per_epoch=40, batch_size=16,
                         lr=1e-2, dropout=0.0, progress=False, vocab_size=16, d_model=16,
                         n_layers=1, d_mlp=32)
    assert result.history[-1] < result.history[0]
    assert result.accuracy >= 0.9


def test_progress_bar_reports(capsys):
    train_model("copy", 1, **{**TRAIN, "progress": True, "epochs": 1})
    assert "1 heads, copy" in capsys.readouterr().err


@pytest.mark.parametrize("call, message", [
    (lambda: train_model("reverse", **TRAIN), "task must be one of"),
    (lambda: train_model("copy", 2, **{**TRAIN, "max_len": 4}), "seq_len = 8 is longer than max_len = 4"),
    (lambda: train_model("copy", 2, **{**TRAIN, "lr": 0.0}), "lr must be finite and positive"),
    (lambda: train_model("copy", 3, **TRAIN), "not divisible by n_heads = 3"),
])
def test_training_rejects_bad_options(call, message):
    with pytest.raises(InvalidInputError, match=message):
        call()


def test_family_checks_heads_before_training(tmp_path):
    with pytest.raises(InvalidInputError, match="d_model = 16 is not divisible by 3 heads"):
        train_family("copy", (2, 3), out_dir=tmp_path / "out", **TRAIN)
    assert not (tmp_path / "out").exists()


def test_train_seeds_one_family_per_seed_folder(tmp_path):
    from dagtheory.torch.train import seed_folder, train_seeds

    runs = train_seeds("copy", (1, 2), (3, 7), out_dir=tmp_path, **{**TRAIN, "epochs": 1})
    assert sorted(runs) == [3, 7]
    for seed in (3, 7):
        assert [r.config["seed"] for r in runs[seed]] == [seed, seed]
        folder = seed_folder(tmp_path, seed)
        assert folder == tmp_path / f"seed{seed}"
        assert sorted(p.name for p in folder.iterdir()) == [
            "1_heads_copy.json", "1_heads_copy.pt", "2_heads_copy.json", "2_heads_copy.pt"]
        assert json.loads((folder / "2_heads_copy.json").read_text())["seed"] == seed
    alone = train_model("copy", 2, seed=7, **{**TRAIN, "epochs": 1})
    assert alone.history == runs[7][1].history
    assert not torch.equal(runs[3][1].model.out_proj.weight, runs[7][1].model.out_proj.weight)


@pytest.mark.parametrize("seeds, error, message", [
    ((), InvalidInputError, "seeds is empty"),
    ((1, 1), InvalidInputError, r"seeds has repeated values: \[1, 1\]"),
    ((0, -1), InvalidInputError, "seeds"),
    (3, InvalidTypeError, "seeds must be a sequence of ints; got 3"),
])
def test_train_seeds_checks_seeds_before_training(tmp_path, seeds, error, message):
    from dagtheory.torch.train import train_seeds

    with pytest.raises(error, match=message):
        train_seeds("copy", (1, 2), seeds, out_dir=tmp_path / "out", **TRAIN)
    assert not (tmp_path / "out").exists()
