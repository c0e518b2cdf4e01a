"""Training :class:`~dagtheory.torch.PaperTransformer` models on the paper's two tasks.

Inputs are uniform random tokens ``x_0 .. x_{T-1}`` from ``[0, V)``. The targets:

* ``copy``: ``y_i = x_i`` (a head attending to itself suffices);
* ``cycle``: ``y_i = x_{i-1}``, cyclically, so ``y_0 = x_{T-1}``, which a causal
  model cannot see; accuracy is therefore measured at positions ``1 .. T-1``.

A family of models differs only in the head count ``H``: ``d_model`` is fixed,
so every member has the same number of parameters (the heads split the same
features). Training is seeded and deterministic: the weights' initialization
and dropout come from ``torch.manual_seed(seed)`` (inside a forked RNG, so the
caller's global state is left as it was) and the data from a
:class:`torch.Generator` seeded from the same ``seed``. On the CPU the same
seed gives bit-identical weights.
"""

import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from .. import __version__
from .._validation import check_steps
from ..exceptions import InvalidInputError, InvalidTypeError
from ..experiment import _atomic_path, write_text
from .model import PaperTransformer, check_options

try:
    from tqdm import tqdm
except ImportError:  # pragma: no cover - tqdm ships with the torch extra's usual installs
    tqdm = None

__all__ = ["TrainResult", "copy_batch", "cycle_batch", "train_model", "train_family", "train_seeds",
           "seed_folder"]

TASKS = ("copy", "cycle")


def _random_tokens(batch_size, seq_len, vocab_size, generator):
    batch_size = check_steps(batch_size, name="batch_size", minimum=1)
    seq_len = check_steps(seq_len, name="seq_len", minimum=1)
    vocab_size = check_steps(vocab_size, name="vocab_size", minimum=1)
    return torch.randint(vocab_size, (batch_size, seq_len), generator=generator)


def copy_batch(batch_size, seq_len, vocab_size, generator=None):
    """A batch of the ``copy`` task: the target is the input.

    Parameters
    ----------
    batch_size, seq_len, vocab_size : int
    generator : torch.Generator, optional
        Source of randomness (PyTorch's global one when omitted).

    Returns
    -------
    inputs, targets : torch.LongTensor, shape (batch_size, seq_len)

    Examples
    --------
    >>> import torch
    >>> inputs, targets = copy_batch(2, 5, 10, torch.Generator().manual_seed(0))
    >>> inputs.shape, bool((targets == inputs).all())
    (torch.Size([2, 5]), True)
    """
    inputs = _random_tokens(batch_size, seq_len, vocab_size, generator)
    return inputs, inputs.clone()


def cycle_batch(batch_size, seq_len, vocab_size, generator=None):
    """A batch of the ``cycle`` task: ``target[i] = input[i - 1]``, cyclically.

    Parameters
    ----------
    batch_size, seq_len, vocab_size : int
    generator : torch.Generator, optional
        Source of randomness (PyTorch's global one when omitted).

    Returns
    -------
    inputs, targets : torch.LongTensor, shape (batch_size, seq_len)
        ``targets[:, 0]`` is ``inputs[:, -1]``.

    Examples
    --------
    >>> import torch
    >>> inputs, targets = cycle_batch(1, 4, 10, torch.Generator().manual_seed(0))
    >>> bool((targets[0, 1:] == inputs[0, :-1]).all()), bool(targets[0, 0] == inputs[0, -1])
    (True, True)
    """
    inputs = _random_tokens(batch_size, seq_len, vocab_size, generator)
    return inputs, torch.roll(inputs, shifts=1, dims=1)


_BATCHES = {"copy": copy_batch, "cycle": cycle_batch}


@dataclass(frozen=True)
class TrainResult:
    """A trained model and the record of its run.

    Attributes
    ----------
    model : PaperTransformer
        In eval mode.
    config : dict
        The run's configuration: task, heads, seq_len, epochs,
        steps_per_epoch, batch_size, lr, seed, eval_batch, device and, under
        ``"model"``, the model's constructor arguments.
    history : list of float
        Mean training loss (cross-entropy over all positions) of every epoch.
    accuracy : float
        Share of correct next-token predictions on ``eval_batch`` held-out
        sequences, at positions ``1 .. T-1``.
    parameters : int
        Number of trainable parameters.

    Examples
    --------
    :func:`train_model` returns one (here a tiny model, a few steps):

    >>> result = train_model("copy", 2, seq_len=6, epochs=2, steps_per_epoch=1, batch_size=2,
    ...                      progress=False, vocab_size=8, d_model=8, n_layers=1, d_mlp=16)
    >>> result.config["task"], result.config["heads"], result.config["model"]["d_model"]
    ('copy', 2, 8)
    >>> len(result.history), result.parameters, result.model.training
    (2, 768, False)
    >>> 0.0 <= result.accuracy <= 1.0
    True
    """

    model: PaperTransformer = field(repr=False)
    config: dict
    history: list
    accuracy: float
    parameters: int


def _check_task(task):
    if task not in TASKS:
        raise InvalidInputError(f"task must be one of {TASKS}; got {task!r}")
    return task


def _check_lr(lr):
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise InvalidTypeError(f"lr must be a real number; got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise InvalidInputError(f"lr must be finite and positive; got {lr!r}")
    return float(lr)


def _model_config(seq_len, model_config):
    check_options(model_config)
    config = dict(model_config)
    config.setdefault("max_len", seq_len)
    if isinstance(config["max_len"], int) and seq_len > config["max_len"]:
        raise InvalidInputError(
            f"seq_len = {seq_len} is longer than max_len = {config['max_len']}"
        )
    return config


def _seeds(seed):
    """Independent seeds for the training data and the held-out data."""
    seed = check_steps(seed, name="seed", minimum=0)
    train, held_out = np.random.SeedSequence(seed).generate_state(2)
    return seed, int(train), int(held_out)


def _fork_rng(device):
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.random.fork_rng(devices=[index], device_type="cuda")
    return torch.random.fork_rng(devices=[])


def _progress(total, description, enabled):
    if tqdm is None:
        if enabled:
            raise ImportError("progress=True needs tqdm (pip install tqdm); pass progress=False")
        return None
    return tqdm(total=total, desc=description, disable=not enabled, unit="step")


def _accuracy(model, batches, size, seq_len, vocab_size, generator, device):
    """Correct predictions at positions 1..T-1 on fresh sequences, in eval mode."""
    inputs, targets = batches(size, seq_len, vocab_size, generator)
    model.eval()
    with torch.no_grad():
        predictions = model(inputs.to(device)).argmax(dim=-1)
    return float((predictions[:, 1:] == targets[:, 1:].to(device)).double().mean())


def _fit(model, batches, run, generator, device, bar):
    """The optimization loop; returns the mean loss of every epoch."""
    vocab_size = model.config["vocab_size"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=run["lr"])
    history = []
    model.train()
    for _ in range(run["epochs"]):
        total = 0.0
        for _ in range(run["steps_per_epoch"]):
            inputs, targets = batches(run["batch_size"], run["seq_len"], vocab_size, generator)
            logits = model(inputs.to(device))
            loss = F.cross_entropy(logits.reshape(-1, vocab_size), targets.to(device).reshape(-1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            if bar is not None:
                bar.update()
                bar.set_postfix(loss=f"{loss.item():.4f}", refresh=False)
        history.append(total / run["steps_per_epoch"])
    return history


def train_model(task="copy", heads=4, *, seq_len=100, epochs=10, steps_per_epoch=200,
                batch_size=32, lr=1e-3, seed=0, progress=True, eval_batch=64, device="cpu",
                **model_config):
    """Train one :class:`~dagtheory.torch.PaperTransformer` on the copy or cycle task.

    Parameters
    ----------
    task : {"copy", "cycle"}
    heads : int
        Number of attention heads; must divide ``d_model``.
    seq_len : int, keyword-only
        Length ``T`` of every sequence (at least 2).
    epochs, steps_per_epoch, batch_size : int, keyword-only
        The loop runs ``epochs × steps_per_epoch`` AdamW steps on fresh batches.
    lr : float, keyword-only
        AdamW learning rate.
    seed : int, keyword-only
        Seeds the initialization, dropout and data.
    progress : bool, keyword-only
        Show a tqdm progress bar.
    eval_batch : int, keyword-only
        Number of held-out sequences for the final accuracy.
    device : str or torch.device, keyword-only
        Where to train; the data are drawn on the CPU either way.
    **model_config
        :class:`~dagtheory.torch.PaperTransformer` options (``vocab_size``,
        ``d_model``, ``n_layers``, ``d_mlp``, ``max_len``, ``causal``,
        ``dropout``); ``max_len`` defaults to ``seq_len``.

    Returns
    -------
    TrainResult

    Raises
    ------
    InvalidInputError, InvalidTypeError
        For an unknown task, a non-positive size or rate, ``seq_len`` longer
        than ``max_len``, or ``heads`` not dividing ``d_model``.

    Notes
    -----
    The loss is the cross-entropy over all positions, position 0 included (for
    ``cycle`` its target is unpredictable, which adds a constant of about
    ``ln(V) / T`` to the loss). The held-out sequences come from a generator
    seeded independently of the training data.

    Examples
    --------
    >>> result = train_model("cycle", 2, seq_len=8, epochs=2, steps_per_epoch=3, batch_size=4,
    ...                      progress=False, vocab_size=16, d_model=16, n_layers=1, d_mlp=32)
    >>> len(result.history), result.parameters, result.model.training
    (2, 2848, False)
    >>> 0.0 <= result.accuracy <= 1.0
    True
    """
    seed, train_seed, held_out_seed = _seeds(seed)
    device = torch.device(device)
    run = dict(task=_check_task(task), heads=check_steps(heads, name="heads", minimum=1),
               seq_len=check_steps(seq_len, name="seq_len", minimum=2),
               epochs=check_steps(epochs, name="epochs", minimum=1),
               steps_per_epoch=check_steps(steps_per_epoch, name="steps_per_epoch", minimum=1),
               batch_size=check_steps(batch_size, name="batch_size", minimum=1),
               lr=_check_lr(lr), seed=seed,
               eval_batch=check_steps(eval_batch, name="eval_batch", minimum=1),
               device=str(device))
    config = _model_config(run["seq_len"], model_config)
    heads, batches = run["heads"], _BATCHES[run["task"]]
    with _fork_rng(device):
        torch.manual_seed(run["seed"])
        model = PaperTransformer(n_heads=heads, **config).to(device)
        bar = _progress(run["epochs"] * run["steps_per_epoch"], f"{heads} heads, {run['task']}",
                        progress)
        try:
            history = _fit(model, batches, run, torch.Generator().manual_seed(train_seed),
                           device, bar)
        finally:
            if bar is not None:
                bar.close()
        accuracy = _accuracy(model, batches, run["eval_batch"], run["seq_len"],
                             model.config["vocab_size"],
                             torch.Generator().manual_seed(held_out_seed), device)
    run["model"] = dict(model.config)
    parameters = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return TrainResult(model=model.eval(), config=run, history=history, accuracy=accuracy,
                       parameters=parameters)


def _check_heads(heads, d_model):
    try:
        counts = [check_steps(h, name="heads", minimum=1) for h in heads]
    except TypeError as err:
        raise InvalidTypeError(f"heads must be a sequence of ints; got {heads!r}") from err
    if not counts:
        raise InvalidInputError("heads is empty; give at least one head count")
    if len(set(counts)) != len(counts):
        raise InvalidInputError(f"heads has repeated counts: {counts}")
    for h in counts:
        if d_model % h:
            raise InvalidInputError(f"d_model = {d_model} is not divisible by {h} heads")
    return counts


def _save(result, out_dir):
    config = result.config
    stem = f"{config['heads']}_heads_{config['task']}"
    state = {key: value.detach().cpu() for key, value in result.model.state_dict().items()}
    with _atomic_path(out_dir / f"{stem}.pt") as temporary:
        torch.save(state, temporary)
    record = dict(checkpoint=f"{stem}.pt", config=config, parameters=result.parameters,
                  seed=config["seed"], epochs=config["epochs"], history=result.history,
                  accuracy=result.accuracy, torch_version=torch.__version__,
                  dagtheory_version=__version__)
    write_text(out_dir / f"{stem}.json", json.dumps(record, indent=2) + "\n")


def train_family(task, heads=(1, 4, 8, 16), *, out_dir, seed=0, **options):
    """Train one parameter-matched model per head count and save each.

    Every model has the same ``d_model`` (and every other size), so the same
    number of parameters; only the split of the attention into heads differs.
    Model ``H`` is saved as ``{H}_heads_{task}.pt`` (its ``state_dict``, which
    :func:`~dagtheory.torch.load_checkpoint` reloads) beside
    ``{H}_heads_{task}.json`` (configuration, parameter count, seed, epochs,
    loss history, accuracy, library versions).

    Parameters
    ----------
    task : {"copy", "cycle"}
    heads : sequence of int
        Head counts, each dividing ``d_model``; checked before any training.
    out_dir : str or os.PathLike, keyword-only
        Folder for the files (created if needed; files of the same name are
        overwritten).
    seed : int, keyword-only
        The same seed for every member.
    **options
        Passed to :func:`train_model` (training options and model sizes).

    Returns
    -------
    list of TrainResult
        In the order of ``heads``.

    Raises
    ------
    RuntimeError
        If two members had different parameter counts (an internal invariant).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     results = train_family("copy", (1, 2), out_dir=folder, seq_len=6, epochs=1,
    ...                            steps_per_epoch=2, batch_size=2, progress=False,
    ...                            vocab_size=8, d_model=8, n_layers=1, d_mlp=16)
    ...     files = sorted(p.name for p in Path(folder).iterdir())
    >>> [r.config["heads"] for r in results], {r.parameters for r in results}
    ([1, 2], {768})
    >>> files
    ['1_heads_copy.json', '1_heads_copy.pt', '2_heads_copy.json', '2_heads_copy.pt']
    """
    task = _check_task(task)
    d_model = check_steps(options.get("d_model", 64), name="d_model", minimum=1)
    counts = _check_heads(heads, d_model)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    results = []
    for h in counts:
        result = train_model(task, h, seed=seed, **options)
        if results and result.parameters != results[0].parameters:
            raise RuntimeError(
                f"the {h}-head model has {result.parameters} parameters but the "
                f"{results[0].config['heads']}-head model has {results[0].parameters}; "
                "a family must be parameter-matched"
            )
        _save(result, out_dir)
        results.append(result)
    return results


def seed_folder(out_dir, seed):
    """The folder of seed ``seed``'s family under ``out_dir``: ``out_dir/seed{seed}``.

    Examples
    --------
    >>> seed_folder("runs", 2).as_posix()
    'runs/seed2'
    """
    seed = check_steps(seed, name="seed", minimum=0)
    return Path(out_dir) / f"seed{seed}"


def _check_seeds(seeds):
    """Seeds as a list of distinct non-negative ints (at least one)."""
    if isinstance(seeds, (str, bytes)) or not hasattr(seeds, "__iter__"):
        raise InvalidTypeError(f"seeds must be a sequence of ints; got {seeds!r}")
    values = [check_steps(s, name="seeds", minimum=0) for s in seeds]
    if not values:
        raise InvalidInputError("seeds is empty; give at least one seed")
    if len(set(values)) != len(values):
        raise InvalidInputError(f"seeds has repeated values: {values}")
    return values


def train_seeds(task, heads=(1, 4, 8, 16), seeds=(0, 1, 2), *, out_dir, **options):
    """Train one parameter-matched family per seed, each in its own folder.

    Seed ``S``'s family is :func:`train_family` with ``seed=S``, saved under
    ``out_dir/seed{S}/`` as ``{H}_heads_{task}.pt`` beside ``{H}_heads_{task}.json``,
    so each seed's folder is a valid ``--checkpoints`` folder of
    ``dagtheory reproduce paper``.

    Parameters
    ----------
    task : {"copy", "cycle"}
    heads : sequence of int
        Head counts, each dividing ``d_model``.
    seeds : sequence of int
        Distinct non-negative seeds; checked, with ``heads``, before any training.
    out_dir : str or os.PathLike, keyword-only
        Parent folder of the ``seed{S}`` folders (created if needed).
    **options
        Passed to :func:`train_model` (training options and model sizes).

    Returns
    -------
    dict
        ``{seed: list of TrainResult}``, each list in the order of ``heads``.

    Raises
    ------
    InvalidInputError, InvalidTypeError
        For an empty, repeated or negative seed, or any error of
        :func:`train_family`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     runs = train_seeds("copy", (1, 2), (0, 1), out_dir=folder, seq_len=6, epochs=1,
    ...                        steps_per_epoch=1, batch_size=2, progress=False,
    ...                        vocab_size=8, d_model=8, n_layers=1, d_mlp=16)
    ...     files = sorted(p.relative_to(folder).as_posix() for p in Path(folder).rglob("*.pt"))
    >>> sorted(runs), [[r.config["seed"] for r in runs[s]] for s in runs]
    ([0, 1], [[0, 0], [1, 1]])
    >>> files
    ['seed0/1_heads_copy.pt', 'seed0/2_heads_copy.pt', 'seed1/1_heads_copy.pt', 'seed1/2_heads_copy.pt']
    """
    task = _check_task(task)
    values = _check_seeds(seeds)
    _check_heads(heads, check_steps(options.get("d_model", 64), name="d_model", minimum=1))
    return {seed: train_family(task, heads, out_dir=seed_folder(out_dir, seed), seed=seed, **options)
            for seed in values}
