"""The command line's contract under malformed arguments and files, and atomic writes.

Every bad argument and bad input ends with exit status 2 and exactly one line on
standard error, ``dagtheory <command>: error: ...``, that names the offending
file or value, and never a traceback. Files that carry code (pickles) are
refused without running it. Every file the package writes appears whole or
not at all.
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from dagtheory.cli import main

torch = pytest.importorskip("torch")

from dagtheory.torch import CheckpointError, PaperTransformer, load_checkpoint  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: The tiny paper-family model of these tests (2 heads, 1 layer, at most 6 tokens).
TINY = dict(vocab_size=16, d_model=8, n_layers=1, d_mlp=16, max_len=6)

#: Hypothesis settings of the fuzzers that run whole commands.
FAST = settings(max_examples=15, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=6, suppress_health_check=list(HealthCheck))


def _causal(n=4):
    rows = np.tril(np.ones((n, n)))
    return rows / rows.sum(axis=1, keepdims=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A folder with a tiny valid checkpoint and a valid attention array."""
    folder = tmp_path_factory.mktemp("fuzz")
    torch.manual_seed(0)
    torch.save(PaperTransformer(n_heads=2, **TINY).state_dict(), folder / "2_heads_copy.pt")
    np.save(folder / "good.npy", _causal()[None])
    return folder


def _state(files):
    return torch.load(files / "2_heads_copy.pt", weights_only=True)


def run_cli(argv, capsys):
    """``main(argv)``: its exit status and captured standard output and error."""
    try:
        status = main(argv)
    except SystemExit as exit_:
        status = exit_.code
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def assert_refused(argv, capsys, *needles, command=None):
    """Exit 2, one stderr line ``dagtheory <command>: error:`` naming every needle, no traceback."""
    status, out, err = run_cli(argv, capsys)
    command = argv[0] if command is None else command
    lines = err.splitlines()
    assert status == 2, (argv, status, err)
    assert len(lines) == 1, (argv, err)
    assert lines[0].startswith(f"dagtheory {command}: error: "), (argv, err)
    assert "Traceback" not in out + err
    for needle in needles:
        assert str(needle) in lines[0], (needle, lines[0])
    return lines[0]


# ---------------------------------------------------------------------------
# arguments


_NOT_POSITIVE_INTS = st.sampled_from(["0", "-1", "-99999999999999999999", "nan", "inf", "1.5", "1e3", "", " ",
                                      "x", "0x10", "--"]) | st.text(max_size=12)


def _is_positive_int(text):
    try:
        return int(text) >= 1
    except ValueError:
        return False


_INT_OPTIONS = [
    ("example2", "--horizon"), ("analyze", "--horizon"), ("analyze", "--samples"), ("analyze", "--seq-len"),
    ("analyze", "--heads"), ("analyze", "--max-steps"), ("analyze", "--workers"), ("analyze", "--chunk-samples"),
    ("reproduce", "--horizon"), ("reproduce", "--samples"), ("train", "--heads"), ("train", "--epochs"),
    ("train", "--steps-per-epoch"), ("train", "--batch-size"), ("train", "--seq-len"), ("train", "--vocab-size"),
    ("train", "--layers"), ("optimize", "--horizon"),
]

_PREFIX = {"analyze": ["analyze", "in.npy"], "reproduce": ["reproduce", "paper", "--checkpoints", "x"],
           "optimize": ["optimize", "example2"]}


@FAST
@given(option=st.sampled_from(_INT_OPTIONS), value=_NOT_POSITIVE_INTS)
def test_bad_counts_are_one_line_errors(option, value, capsys):
    assume(not _is_positive_int(value))
    command, flag = option
    argv = _PREFIX.get(command, [command]) + [f"{flag}={value}"]
    assert_refused(argv, capsys, flag)


@FAST
@given(option=st.sampled_from([("analyze", "--seed"), ("optimize", "--seed"), ("train", "--seed")]),
       value=st.sampled_from(["-1", "-99999999999999999999", "nan", "1.5", "x", ""]))
def test_bad_seeds_name_the_value(option, value, capsys):
    command, flag = option
    line = assert_refused(_PREFIX.get(command, [command]) + [f"{flag}={value}"], capsys, flag)
    assert repr(value) in line or value in line


@FAST
@given(option=st.sampled_from([("analyze", "--gamma"), ("reproduce", "--gamma"), ("analyze", "--connect-timeout"),
                               ("analyze", "--eps"), ("optimize", "--time-limit")]),
       value=st.sampled_from(["nan", "-1", "0", "-inf", "x", ""]))
def test_bad_numbers_are_one_line_errors(option, value, capsys, files):
    command, flag = option
    prefix = {"analyze": ["analyze", str(files / "good.npy")]}.get(command, _PREFIX.get(command, [command]))
    assert_refused(prefix + [f"{flag}={value}", "--horizon", "3"] if command == "analyze" else
                   prefix + [f"{flag}={value}"], capsys, value if value else flag)


_COMMANDS = ["example2", "mixing-example", "analyze", "reproduce", "train", "optimize", "check", "demo"]


@FAST
@given(command=st.sampled_from(_COMMANDS), name=st.text(alphabet="abcdefghij-_", min_size=1, max_size=8))
def test_unknown_options_are_reported_by_their_command(command, name, capsys):
    option = f"--zz{name}"
    argv = _PREFIX.get(command, [command]) + [option]
    assert_refused(argv, capsys, "unrecognized arguments", option)


@pytest.mark.parametrize("argv, needle", [
    (["mixing-example", "stray"], "unrecognized arguments: stray"),
    (["analyze"], "INPUT"),
    (["reproduce", "paper"], "--checkpoints"),
    (["reproduce", "other", "--checkpoints", "x"], "'other'"),
    (["train", "--heads"], "--heads"),
    (["train", "--task", "sort"], "'sort'"),
    (["analyze", "in.npy", "--weights", "best"], "'best'"),
    (["analyze", "in.npy", "--backend", "jax"], "'jax'"),
    (["check", "--profile", "fast"], "'fast'"),
    (["optimize", "example2", "--method", "x"], "'x'"),
    (["optimize", "example2", "--layer", "one"], "'one'"),
])
def test_argument_errors_are_one_line(argv, needle, capsys):
    assert_refused(argv, capsys, needle)


@pytest.mark.parametrize("argv, needle", [(["bogus"], "'bogus'"), (["--bogus"], "--bogus")])
def test_top_level_argument_errors_are_one_line(argv, needle, capsys):
    status, out, err = run_cli(argv, capsys)
    assert status == 2 and err.count("\n") == 1 and err.startswith("dagtheory: error: ") and needle in err


def test_runtime_errors_of_options_name_the_value(files, capsys):
    good, model = str(files / "good.npy"), str(files / "2_heads_copy.pt")
    assert_refused(["analyze", good, "--scheduler", "nowhere"], capsys, "'nowhere'")
    assert_refused(["analyze", good, "--backend", "torch", "--device", "warp"], capsys, "'warp'")
    assert_refused(["analyze", model, "--seq-len", "99999"], capsys, "99999")
    assert_refused(["analyze", model, "--heads", "3"], capsys, "heads=3")
    assert_refused(["optimize", model, "--layer", "99999999999999999999"], capsys, "99999999999999999999")
    assert_refused(["optimize", "example2", "--time-limit", "nan"], capsys, "nan")
    assert_refused(["check", "no-such-theorem"], capsys, "no-such-theorem")
    assert_refused(["check", "--proofs", str(files / "none")], capsys, "none")
    assert_refused(["reproduce", "paper", "--checkpoints", str(files / "none")], capsys, "none")
    assert_refused(["train", "--heads", "3", "--out", str(files / "runs")], capsys, "3 heads")
    assert_refused(["train", "--seq-len", "1", "--heads", "1", "--out", str(files / "runs")], capsys, "got 1")


def test_outputs_that_cannot_be_written_are_named(files, capsys):
    good = str(files / "good.npy")
    assert_refused(["analyze", good, "--horizon", "3", "--json", str(files)], capsys, str(files), "folder")
    assert_refused(["analyze", good, "--horizon", "3", "--markdown", good + "/x.md"], capsys, good)
    assert_refused(["analyze", good, "--horizon", "3", "--report", good], capsys, good)
    assert_refused(["example2", "--plot", good], capsys, good)
    assert_refused(["train", "--heads", "1", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1",
                    "--seq-len", "4", "--vocab-size", "4", "--layers", "1", "--no-progress", "--out", good],
                   capsys, good)
    assert (files / "good.npy").is_file() and np.load(good).shape == (1, 4, 4)


def test_the_meta_device_is_refused(files, capsys):
    # Regression: 'meta' tensors hold no values; the iterations raised a RuntimeError with a traceback.
    assert_refused(["analyze", str(files / "good.npy"), "--horizon", "3", "--backend", "torch",
                    "--device", "meta"], capsys, "meta")


# ---------------------------------------------------------------------------
# attention arrays


def _with_nan(a):
    a = a.copy()
    a[..., 2, 1] = np.nan
    return a


def _with_inf(a):
    a = a.copy()
    a[..., 2, 1] = np.inf
    return a


def _with_negative(a):
    a = a.copy()
    a[..., 2, 0] += 0.5
    a[..., 2, 1] -= 0.5
    return a


def _row_off(a):
    a = a.copy()
    a[..., 3, 0] += 1e-3
    return a


def _non_causal(a):
    a = a.copy()
    a[..., 1, 1] -= 0.25
    a[..., 1, 3] += 0.25
    return a


_CORRUPTIONS = {"nan": (_with_nan, "nan"), "inf": (_with_inf, "inf"), "negative": (_with_negative, "negative"),
                "row off by 1e-3": (_row_off, "sums to"), "non-causal": (_non_causal, "causal")}

_BAD_ARRAYS = {
    "one_d": (np.full(4, 0.25), "shape (4,)"),
    "six_d": (np.broadcast_to(_causal(), (1, 1, 1, 1, 4, 4)).copy(), "(1, 1, 1, 1, 4, 4)"),
    "non_square": (np.full((1, 4, 3), 1 / 3), "square"),
    "n0": (np.ones((1, 0, 0)), "n = 0"),
    "n1": (np.ones((1, 1, 1)), "n = 1"),
    "empty_heads": (np.ones((0, 4, 4)), "empty"),
    "empty_samples": (np.ones((0, 1, 1, 4, 4)), "empty"),
    "int": (np.tril(np.ones((1, 4, 4), dtype=int)), "sums to"),
    "bool": (np.tril(np.ones((1, 4, 4), dtype=bool)), "bool"),
    "complex": (_causal()[None].astype(complex), "complex"),
    "strings": (np.array([["a", "b"], ["c", "d"]]), "<U1"),
}


@pytest.mark.parametrize("name", sorted(_BAD_ARRAYS))
def test_malformed_arrays_name_the_file(name, tmp_path, capsys):
    array, needle = _BAD_ARRAYS[name]
    path = tmp_path / f"{name}.npy"
    np.save(path, array)
    assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path), needle)


@SLOW
@given(corruption=st.sampled_from(sorted(_CORRUPTIONS)), heads=st.integers(1, 3),
       shape=st.sampled_from(["HTT", "LHTT", "SLHTT"]), suffix=st.sampled_from([".npy", ".npz"]))
def test_corrupted_attention_names_the_file_and_the_fault(corruption, heads, shape, suffix, files, capsys):
    corrupt, needle = _CORRUPTIONS[corruption]
    array = corrupt(np.broadcast_to(_causal(), (1,) * (len(shape) - 3) + (heads, 4, 4)).copy())
    path = files / f"corrupt{suffix}"
    if suffix == ".npy":
        np.save(path, array)
    else:
        np.savez(path, attention=array)
    assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path), needle)


def _write_bytes(path, data):
    path.write_bytes(data)
    return path


def test_unreadable_array_files_name_the_file(tmp_path, capsys):
    good = tmp_path / "good.npy"
    np.save(good, _causal()[None])
    cases = {
        "truncated": (_write_bytes(tmp_path / "truncated.npy", good.read_bytes()[:100]), "not a readable"),
        "empty": (_write_bytes(tmp_path / "empty.npy", b""), "not a .npy/.npz file"),
        "text": (_write_bytes(tmp_path / "text.npy", b"1 2 3\n"), "not a .npy/.npz file"),
        "object": (tmp_path / "object.npy", "pickled objects"),
        "no attention": (tmp_path / "none.npz", "'attention'"),
        "bad weights": (tmp_path / "weights.npz", "weights"),
        "object weights": (tmp_path / "objw.npz", "pickled objects"),
    }
    np.save(tmp_path / "object.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
    np.savez(tmp_path / "none.npz", first=_causal()[None], second=_causal()[None])
    np.savez(tmp_path / "weights.npz", attention=_causal()[None], weights=np.ones((3, 3)))
    np.savez(tmp_path / "objw.npz", attention=_causal()[None], weights=np.array([None], dtype=object))
    for name, (path, needle) in cases.items():
        assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path), needle)


@FAST
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".npy", ".npz", ".pt", ".bin"]))
def test_random_bytes_are_refused(data, suffix, files, capsys):
    path = _write_bytes(files / f"2_heads_random{suffix}", data)
    assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path))


# ---------------------------------------------------------------------------
# token files


_BAD_TOKEN_TEXT = {
    "words.txt": ("1 2 x\n", "ints"),
    "floats.txt": ("1.5 2\n", "ints"),
    "ragged.txt": ("1 2 3\n1 2\n", "same length"),
    "empty.txt": ("", "int tokens"),
    "blank.txt": ("\n \n", "int tokens"),
    "vocabulary.txt": ("1 2 300\n", "300"),
    "negative.txt": ("1 -2 3\n", "-2"),
    "long.txt": (" ".join(["1"] * 50) + "\n", "length 50"),
    "huge.txt": ("99999999999999999999999 1\n", "object"),
}


@pytest.mark.parametrize("name", sorted(_BAD_TOKEN_TEXT))
def test_malformed_token_files_name_the_file(name, files, capsys):
    text, needle = _BAD_TOKEN_TEXT[name]
    path = files / name
    path.write_text(text)
    assert_refused(["analyze", str(files / "2_heads_copy.pt"), "--tokens", str(path), "--horizon", "3"],
                   capsys, str(path), needle)


def test_malformed_binary_token_files_name_the_file(tmp_path, files, capsys):
    cases = {
        "latin1.txt": (_write_bytes(tmp_path / "latin1.txt", b"\xff\xfe 1 2\n"), "UTF-8"),
        "floats.npy": (tmp_path / "floats.npy", "float64"),
        "cube.npy": (tmp_path / "cube.npy", "(1, 1, 4)"),
        "object.npy": (tmp_path / "object.npy", "pickled objects"),
        "random.npy": (_write_bytes(tmp_path / "random.npy", b"\x01\x02garbage"), "not a .npy"),
        "bool.npy": (tmp_path / "bool.npy", "bool"),
        "empty.npy": (tmp_path / "empty.npy", "(1, 0)"),
        "missing.txt": (tmp_path / "missing.txt", "No such file"),
    }
    np.save(tmp_path / "floats.npy", np.ones((1, 4)))
    np.save(tmp_path / "cube.npy", np.ones((1, 1, 4), dtype=int))
    np.save(tmp_path / "object.npy", np.array([1, None], dtype=object), allow_pickle=True)
    np.save(tmp_path / "bool.npy", np.ones((1, 4), dtype=bool))
    np.save(tmp_path / "empty.npy", np.ones((1, 0), dtype=int))
    for name, (path, needle) in cases.items():
        assert_refused(["analyze", str(files / "2_heads_copy.pt"), "--tokens", str(path), "--horizon", "3"],
                       capsys, str(path), needle)


@FAST
@given(lines=st.lists(st.text(alphabet="0123456789 -x.\t", max_size=12), max_size=4))
def test_fuzzed_token_text_is_accepted_or_refused_cleanly(lines, files, capsys):
    path = files / "fuzzed.txt"
    path.write_text("\n".join(lines))
    status, out, err = run_cli(["analyze", str(files / "2_heads_copy.pt"), "--tokens", str(path), "--horizon",
                                "3"], capsys)
    assert "Traceback" not in out + err
    if status != 0:
        assert status == 2 and err.count("\n") == 1 and err.startswith("dagtheory analyze: error: ")
        assert str(path) in err or "2_heads_copy.pt: attention needs at least 2 tokens" in err


# ---------------------------------------------------------------------------
# checkpoints


def _without(state, key):
    state = dict(state)
    del state[key]
    return state


def _with(state, key, value):
    return {**state, key: value}


_BAD_STATES = {
    "missing": (lambda s: _without(s, "out_proj.weight"), "missing key(s) 'out_proj.weight'"),
    "extra": (lambda s: _with(s, "extra.weight", torch.zeros(2)), "unexpected key(s) 'extra.weight'"),
    "shape": (lambda s: _with(s, "out_proj.weight", torch.zeros(3, 3)), "shape (3, 3)"),
    "int dtype": (lambda s: _with(s, "out_proj.weight", s["out_proj.weight"].long()), "torch.int64"),
    "bool dtype": (lambda s: _with(s, "out_proj.weight", s["out_proj.weight"] > 0), "torch.bool"),
    "complex dtype": (lambda s: _with(s, "out_proj.weight", s["out_proj.weight"].to(torch.complex64)),
                      "complex64"),
    "nan": (lambda s: _with(s, "layers.0.attn.W_q.weight", torch.full((8, 8), float("nan"))), "NaN"),
    "beyond float32": (lambda s: _with(s, "layers.0.attn.W_q.weight", torch.full((8, 8), 1e300,
                                                                                  dtype=torch.float64)),
                       "too large for float32"),
    "no vocabulary": (lambda s: _with(s, "token_emb.weight", torch.zeros(0, 8)), "vocab_size"),
    "no positions": (lambda s: _with(s, "pos_emb.weight", torch.zeros(0, 8)), "max_len"),
    "one position": (lambda s: _with(s, "pos_emb.weight", torch.zeros(1, 8)), "n = 1"),
    "no layers": (lambda s: {k: v for k, v in s.items() if not k.startswith("layers.")}, "layers"),
    "a list": (lambda s: [1, 2, 3], "holds a list"),
    "an empty dict": (lambda s: {}, "empty dict"),
    "int keys": (lambda s: {1: torch.zeros(1)}, "not a str"),
}


@pytest.mark.parametrize("name", sorted(_BAD_STATES))
def test_malformed_checkpoints_name_the_file_and_the_fault(name, files, tmp_path, capsys):
    change, needle = _BAD_STATES[name]
    path = tmp_path / "2_heads_copy.pt"
    torch.save(change(_state(files)), path)
    assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path), needle)


def test_unreadable_checkpoints_name_the_file(files, tmp_path, capsys):
    empty = _write_bytes(tmp_path / "2_heads_empty.pt", b"")
    random = _write_bytes(tmp_path / "2_heads_random.pt", bytes(range(256)) * 3)
    archive = tmp_path / "2_heads_zip.pt"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("hello.txt", "not a torch file")
    truncated = _write_bytes(tmp_path / "2_heads_cut.pt", (files / "2_heads_copy.pt").read_bytes()[:400])
    unnamed = tmp_path / "model.pt"
    shutil.copy(files / "2_heads_copy.pt", unnamed)
    for path, needle in [(empty, "could not be read"), (random, "2_heads_random.pt"),
                         (archive, "could not be read"), (truncated, "2_heads_cut.pt"), (unnamed, "--heads H")]:
        assert_refused(["analyze", str(path), "--horizon", "3"], capsys, str(path), needle)
        assert_refused(["optimize", str(path)], capsys, str(path))


def test_a_checkpoint_with_other_float_dtypes_still_loads(files, tmp_path):
    path = tmp_path / "2_heads_copy.pt"
    torch.save({k: v.double() for k, v in _state(files).items()}, path)
    assert load_checkpoint(path).config["n_heads"] == 2


# ---------------------------------------------------------------------------
# pickles that carry code


class _Payload:
    """Unpickling this would create ``marker`` (it names a callable that runs code)."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class _OpenPayload(_Payload):
    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("payload", [_Payload, _OpenPayload])
def test_a_checkpoint_carrying_code_is_refused_without_running_it(payload, tmp_path, capsys):
    marker = tmp_path / "marker"
    path = tmp_path / "2_heads_copy.pt"
    torch.save({"token_emb.weight": torch.zeros(16, 8), "evil": payload(marker)}, path)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "refused for safety" in message and "objects other than tensors" in message
    assert "GLOBAL" in message  # the essential cause: which callable the pickle names
    for argv in (["analyze", str(path), "--horizon", "3"], ["optimize", str(path)]):
        assert_refused(argv, capsys, str(path), "refused for safety", "objects other than tensors")
    assert not marker.exists()


def test_an_array_carrying_code_is_refused_without_running_it(tmp_path, files, capsys):
    marker = tmp_path / "marker"
    path = tmp_path / "evil.npy"
    np.save(path, np.array([_Payload(marker)], dtype=object), allow_pickle=True)
    archive = tmp_path / "evil.npz"
    np.savez(archive, attention=np.array([_Payload(marker)], dtype=object))
    assert_refused(["analyze", str(path)], capsys, str(path), "pickled objects")
    assert_refused(["analyze", str(archive)], capsys, str(archive), "pickled objects")
    assert_refused(["analyze", str(files / "2_heads_copy.pt"), "--tokens", str(path)], capsys, str(path),
                   "pickled objects")
    assert not marker.exists()


# ---------------------------------------------------------------------------
# the console script, in a subprocess


def _console_script():
    script = Path(sys.executable).with_name("dagtheory")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dagtheory"]


def test_the_console_script_prints_one_line_errors(tmp_path):
    marker = tmp_path / "marker"
    evil = tmp_path / "2_heads_copy.pt"
    torch.save({"evil": _Payload(marker)}, evil)
    random = _write_bytes(tmp_path / "random.npy", b"\x93NUMPY\x01\x00garbage")
    for argv, needle in [(["example2", "--horizon", "-1"], "-1"), (["analyze", str(evil)], str(evil)),
                         (["analyze", str(random)], str(random))]:
        done = subprocess.run(_console_script() + argv, capture_output=True, text=True, timeout=120)
        lines = done.stderr.splitlines()
        assert done.returncode == 2, done.stderr
        assert len(lines) == 1 and lines[0].startswith(f"dagtheory {argv[0]}: error: ") and needle in lines[0]
        assert "Traceback" not in done.stdout + done.stderr
    assert not marker.exists()


# ---------------------------------------------------------------------------
# atomic writes


def _leftovers(folder):
    return sorted(p.name for p in Path(folder).rglob("*") if p.name.endswith(".tmp"))


def test_write_text_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    from dagtheory import experiment

    target = experiment.write_text(tmp_path / "report.json", "old\n")
    real_fdopen = os.fdopen

    class Half:
        def __init__(self, stream):
            self.stream = stream

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.stream.close()

        def write(self, text):
            self.stream.write(text[: len(text) // 2])
            self.stream.flush()
            raise KeyboardInterrupt

    monkeypatch.setattr(experiment.os, "fdopen", lambda *a, **k: Half(real_fdopen(*a, **k)))
    with pytest.raises(KeyboardInterrupt):
        experiment.write_text(target, "new and much longer\n" * 100)
    monkeypatch.undo()
    assert target.read_text() == "old\n" and _leftovers(tmp_path) == []


def test_write_text_refuses_a_folder(tmp_path):
    from dagtheory.experiment import write_text

    with pytest.raises(IsADirectoryError, match="it is a folder"):
        write_text(tmp_path, "text")
    assert _leftovers(tmp_path.parent) == []


def test_save_figure_leaves_the_old_file_when_interrupted(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from dagtheory.plots import example2_figure, save_figure

    target = tmp_path / "example2.png"
    target.write_bytes(b"old")

    def broken(self, stream, **options):
        stream.write(b"\x89PNG partial")
        raise OSError("disk full")

    monkeypatch.setattr(Figure, "savefig", broken)
    with pytest.raises(OSError, match="disk full"):
        save_figure(example2_figure(horizon=3), target)
    assert target.read_bytes() == b"old" and _leftovers(tmp_path) == []


def test_the_report_folder_is_whole_files_or_old_ones_when_interrupted(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    from dagtheory.experiment import analyze_inputs
    from dagtheory.report_folder import write_report_folder

    source = tmp_path / "example.npy"
    np.save(source, _causal()[None])
    out = tmp_path / "report"
    report = analyze_inputs([source], horizon=3)
    write_report_folder(report, out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    calls = []
    real = Figure.savefig

    def fails_on_the_third(self, stream, **options):
        calls.append(1)
        if len(calls) == 3:
            stream.write(b"\x89PNG partial")
            raise KeyboardInterrupt
        return real(self, stream, **options)

    monkeypatch.setattr(Figure, "savefig", fails_on_the_third)
    with pytest.raises(KeyboardInterrupt):
        write_report_folder(analyze_inputs([source], horizon=4), out)
    monkeypatch.undo()
    after = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after.keys() == before.keys() and _leftovers(out) == []
    for path, data in after.items():
        if path.suffix == ".png":
            assert data.startswith(b"\x89PNG\r\n\x1a\n") and not data.startswith(b"\x89PNG partial")
    assert after[out / "index.md"] == before[out / "index.md"]
    assert json.loads(after[out / "report.json"]) == json.loads(before[out / "report.json"])


def test_training_leaves_the_old_checkpoint_when_saving_is_interrupted(tmp_path, monkeypatch):
    from dagtheory.torch import train as training

    options = dict(seq_len=4, epochs=1, steps_per_epoch=1, batch_size=1, progress=False, vocab_size=4,
                   d_model=4, n_layers=1, d_mlp=8)
    training.train_family("copy", (1,), out_dir=tmp_path, **options)
    old = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert sorted(old) == ["1_heads_copy.json", "1_heads_copy.pt"]

    def broken(obj, path, *args, **kwargs):
        Path(path).write_bytes(b"PK\x03\x04 partial")
        raise OSError("disk full")

    monkeypatch.setattr(training.torch, "save", broken)
    with pytest.raises(OSError, match="disk full"):
        training.train_family("copy", (1,), out_dir=tmp_path, seed=1, **options)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == old
    load_checkpoint(tmp_path / "1_heads_copy.pt")
