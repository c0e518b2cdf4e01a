"""The analyzer over many inputs on Dask: tasks, schedulers and one merged report.

The numbers of :class:`~dagtheory.analysis.LayerAnalysis` for sample ``s``
depend on sample ``s`` alone: on its slice ``attention[s]`` of the input's
attention. The report reduces over samples only at the end, in
:func:`~dagtheory.analysis.summarize`. So the work of
:func:`dagtheory.experiment.analyze_inputs` splits into a small graph of tasks
per input:

1. a *prepare* task opens the input from its path and computes its attention
   ``(S, L, H, T, T)`` and head weights exactly as
   :func:`~dagtheory.experiment.analyze_input` does: for a checkpoint it draws
   the same random token samples (same seed, all at once) and runs the model
   on all of them in one batch;
2. *chunk* tasks, one per chunk of at most ``chunk_samples`` samples
   (:func:`sample_chunks`), analyze their slice of that attention; they are
   the bulk of the work;
3. the driver concatenates the chunks' analyses along the sample axis
   (:func:`merge_analyses`) and builds each model's record from the whole.

An array's sample count is read first, by one small task per array. Step 3
rebuilds the arrays that a single pass computes, and step 1 is that pass's own
code, so the report is the same, number for number, whatever the chunk size
and wherever the tasks ran. (Running a model on a smaller batch can change
its float32 attention in the last bits, which is why chunks slice the
attention of the whole batch instead of running the model on their samples.)

Dask is optional (``pip install "dagtheory[dask]"``) and imported only when a
scheduler needs it.
"""

import contextlib
import logging
import numbers
import os
import re
import sys
import warnings
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ._validation import check_steps
from .analysis import SETTINGS as ANALYSIS_SETTINGS, LayerAnalysis
from .exceptions import InvalidInputError, InvalidTypeError, MissingDependencyError, SchedulerError
from .experiment import (
    _analyze_attention,
    _check_weights_option,
    _input_attention,
    _ARRAY_SUFFIXES,
    _model_record,
    _report,
    _weights_kind,
    load_input,
)

__all__ = [
    "analyze_at_scale",
    "sample_chunks",
    "merge_analyses",
    "LOCAL_SCHEDULERS",
    "DEFAULT_CHUNK_SAMPLES",
    "DEFAULT_CONNECT_TIMEOUT",
]

#: Scheduler names other than an address: Dask's threaded and synchronous
#: schedulers in this process, and a ``distributed.LocalCluster`` of processes.
LOCAL_SCHEDULERS = ("threads", "sync", "processes")

#: Samples per task unless told otherwise.
DEFAULT_CHUNK_SAMPLES = 4

#: Seconds to wait for an existing scheduler to answer.
DEFAULT_CONNECT_TIMEOUT = 10.0

_INSTALL_HINT = 'pip install "dagtheory[dask]"'
_HOST_PORT = re.compile(r"^(\[[0-9A-Fa-f:.]+\]|[\w.\-]+):\d+$")


def sample_chunks(samples, chunk_samples):
    """``(start, stop)`` ranges that cut ``samples`` samples into chunks of at most ``chunk_samples``.

    Parameters
    ----------
    samples : int
        Number of samples of one input.
    chunk_samples : int
        Largest number of samples in one chunk (at least 1).

    Returns
    -------
    list of (int, int)
        Consecutive half-open ranges covering ``0 .. samples - 1``; the last
        chunk may be shorter.

    Raises
    ------
    InvalidInputError
        If ``chunk_samples`` is below 1 or ``samples`` is negative.

    Examples
    --------
    >>> sample_chunks(10, 4)
    [(0, 4), (4, 8), (8, 10)]
    >>> sample_chunks(3, 4)
    [(0, 3)]
    """
    samples = check_steps(samples, name="samples", minimum=0)
    chunk_samples = check_steps(chunk_samples, name="chunk_samples", minimum=1)
    return [(start, min(start + chunk_samples, samples)) for start in range(0, samples, chunk_samples)]


def merge_analyses(analyses):
    """One :class:`~dagtheory.analysis.LayerAnalysis` from analyses of consecutive chunks of samples.

    Every array is concatenated along its first (sample) axis, in the order
    given, so merging the analyses of ``attention[0:2]`` and ``attention[2:5]``
    gives the analysis of ``attention[0:5]``.

    Parameters
    ----------
    analyses : iterable of LayerAnalysis
        With the same layers, heads, horizon and ``eps``.

    Returns
    -------
    LayerAnalysis

    Raises
    ------
    InvalidInputError
        If ``analyses`` is empty or two of them disagree on layers, heads,
        horizon or ``eps``.

    Examples
    --------
    >>> import numpy as np
    >>> from dagtheory.analysis import analyze_attention
    >>> from dagtheory.examples import paper_example2
    >>> heads = np.asarray(paper_example2().attention, dtype=float)   # (H, T, T)
    >>> samples = np.stack([heads, heads[::-1], heads])[:, None]      # (S, L, H, T, T)
    >>> whole = analyze_attention(samples, horizon=20)
    >>> merged = merge_analyses([analyze_attention(samples[:1], horizon=20),
    ...                          analyze_attention(samples[1:], horizon=20)])
    >>> merged.shape, bool(np.array_equal(merged.amplification, whole.amplification))
    ((3, 1), True)
    """
    analyses = list(analyses)
    if not analyses:
        raise InvalidInputError("merge_analyses needs at least one analysis; got none")
    first = analyses[0]
    for index, analysis in enumerate(analyses[1:], start=1):
        if np.shape(analysis.weights)[1:] != np.shape(first.weights)[1:]:
            raise InvalidInputError(
                f"analysis {index} has (layers, heads) = {np.shape(analysis.weights)[1:]}, "
                f"analysis 0 has {np.shape(first.weights)[1:]}"
            )
        if (analysis.horizon, analysis.eps, analysis.gamma) != (first.horizon, first.eps, first.gamma):
            raise InvalidInputError(
                f"analysis {index} has horizon {analysis.horizon}, eps {analysis.eps} and gamma "
                f"{analysis.gamma}, analysis 0 has horizon {first.horizon}, eps {first.eps} and gamma "
                f"{first.gamma}"
            )
    arrays = {f.name: np.concatenate([np.asarray(getattr(a, f.name)) for a in analyses])
              for f in fields(LayerAnalysis)
              if f.name not in ANALYSIS_SETTINGS and getattr(first, f.name) is not None}
    return LayerAnalysis(**arrays, horizon=first.horizon, eps=first.eps, gamma=first.gamma)


def analyze_at_scale(paths, *, scheduler=None, workers=None, chunk_samples=DEFAULT_CHUNK_SAMPLES,
                     progress=None, connect_timeout=DEFAULT_CONNECT_TIMEOUT, heads=None, tokens=None,
                     seed=0, samples=1, seq_len=None, weights="learned", horizon=100, eps=0.25,
                     max_steps=100_000, backend=None, device=None, gamma=None):
    """:func:`dagtheory.experiment.analyze_inputs`, as tasks run by Dask; the same report.

    Parameters
    ----------
    paths : iterable of str or Path
        Checkpoints (``.pt``) or attention arrays (``.npy``, ``.npz``). Tasks
        open them by these paths, so the workers must be able to read them
        there (absolute paths on a shared file system, for a remote cluster).
    scheduler : None, str or distributed.Client, keyword-only
        Where the tasks run:

        * ``None`` (default): Dask's threaded scheduler in this process, or,
          when Dask is not installed, a plain loop in this process;
        * ``"threads"``: Dask's threaded scheduler, ``workers`` threads;
        * ``"sync"``: Dask's synchronous scheduler, one task at a time in
          this thread (for debugging and profiling);
        * ``"processes"``: a ``distributed.LocalCluster`` on 127.0.0.1 of
          ``workers`` single-threaded processes (default: one per CPU),
          started for this call and closed after it;
        * an address, ``"tcp://HOST:PORT"`` or ``"HOST:PORT"``: an existing
          ``dask.distributed`` scheduler;
        * a ``distributed.Client``: used as it is, and left open.
    workers : int, optional, keyword-only
        Threads (``"threads"``, default) or worker processes
        (``"processes"``); unused with an address or a client.
    chunk_samples : int, keyword-only
        Largest number of samples of one input in one task (default 4).
    progress : bool or None, keyword-only
        Show a progress bar of completed tasks on standard error; ``None``
        (default): only when standard error is a terminal. Needs tqdm; without
        it no bar is shown.
    connect_timeout : float, keyword-only
        Seconds to wait for the scheduler at an address (default 10).
    heads, tokens, seed, samples, seq_len, weights, horizon, eps, max_steps, backend, device, gamma
        As for :func:`dagtheory.experiment.analyze_input`.

    Returns
    -------
    dict
        The report of :func:`dagtheory.experiment.analyze_inputs`, equal to
        it number for number.

    Raises
    ------
    MissingDependencyError
        If the scheduler needs ``dask`` or ``distributed`` and it is not
        installed (an ``ImportError``).
    SchedulerError
        If no scheduler answers at the address within ``connect_timeout``.
    InvalidInputError
        For a bad input or option, as :func:`~dagtheory.experiment.analyze_inputs`.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from pathlib import Path
    >>> from dagtheory.examples import paper_example2
    >>> from dagtheory.experiment import analyze_inputs
    >>> heads = np.asarray(paper_example2().attention, dtype=float)
    >>> folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "example2.npy", np.stack([heads, heads[::-1], heads])[:, None])
    >>> report = analyze_at_scale([folder / "example2.npy"], chunk_samples=2, horizon=20)
    >>> model = report["models"][0]
    >>> model["samples"], round(float(model["layers"][0]["amplification"]["mean"]), 6)
    (3, 1.111111)
    >>> from dagtheory.report import to_json
    >>> to_json(report) == to_json(analyze_inputs([folder / "example2.npy"], horizon=20))
    True
    """
    _check_weights_option(weights)
    chunk_samples = check_steps(chunk_samples, name="chunk_samples", minimum=1)
    paths = list(paths)
    options = {"tokens": tokens, "seed": seed, "samples": samples, "seq_len": seq_len, "weights": weights,
               "horizon": horizon, "eps": eps, "max_steps": max_steps, "backend": backend,
               "device": device, "gamma": gamma}
    with _scheduler_runner(scheduler, workers, connect_timeout) as (run, capture):
        task_options = {key: value for key, value in options.items() if key != "tokens"}
        task_options["capture_warnings"] = capture
        arrays = [path for path in paths if _is_array_path(path)]
        counts = run([(_count_samples, (path,), ()) for path in arrays], _NoBar())
        counts = {path: count for path, (count,) in zip(arrays, counts)}
        jobs = [_input_job(path, heads, counts.get(path), task_options, tokens, chunk_samples) for path in paths]
        with _progress_bar(progress, sum(1 + len(job[2]) for job in jobs)) as bar:
            results = run(jobs, bar)
    _reissue_warnings(caught for chunks in results for chunk in chunks for caught in chunk.caught)
    models = [_merged_record(path, chunks) for path, chunks in zip(paths, results)]
    return _report(models, options)


# ---------------------------------------------------------------------------
# tasks (run on workers; module-level, so that workers import them by name)


@dataclass(frozen=True)
class _Chunk:
    """Samples ``start:stop`` of one input (``whole``: all of them, unsliced) and its name in messages."""

    source: str
    start: int
    stop: int
    whole: bool


@dataclass(frozen=True)
class _Prepared:
    """An input's attention, the head weights to use (``None``: uniform) and its record's note."""

    attention: object
    used: object
    note: object
    kind: str
    caught: tuple


@dataclass(frozen=True)
class _ChunkResult:
    """A chunk's analysis and the record fields that come from its input."""

    analysis: LayerAnalysis
    kind: str
    tokens: int
    weights_kind: str
    note: object
    caught: tuple


@contextlib.contextmanager
def _warnings_caught(capture):
    """A list that receives ``(category, message)`` of every warning issued inside, if ``capture``."""
    caught = []
    if not capture:
        yield caught
        return
    with warnings.catch_warnings(record=True) as log:
        warnings.simplefilter("always")
        try:
            yield caught
        finally:
            caught.extend((w.category, str(w.message)) for w in log)


def _count_samples(path):
    """The sample count ``S`` of an attention array (1 unless it has shape ``(S, L, H, T, T)``)."""
    shape = np.shape(load_input(path).attention)
    return int(shape[0]) if len(shape) == 5 else 1


def _prepare_input(path, heads, tokens, options):
    """Open one input and compute its attention, as :func:`~dagtheory.experiment.analyze_input` does."""
    with _warnings_caught(options["capture_warnings"]) as caught:
        model_input = load_input(path, heads=heads)
        attention, used, note = _input_attention(model_input, tokens, options["seed"], options["samples"],
                                                 options["seq_len"], options["weights"])
    return _Prepared(attention, used, note, model_input.kind, tuple(caught))


def _analyze_chunk(prepared, chunk, options):
    """The analysis of one chunk of a prepared input."""
    with _warnings_caught(options["capture_warnings"]) as caught:
        if chunk.whole:
            attention, source = prepared.attention, chunk.source
        else:
            # Messages name the chunk: the sample indices after it count from its first sample.
            attention = prepared.attention[chunk.start:chunk.stop]
            source = f"{chunk.source}, samples {chunk.start} to {chunk.stop - 1}"
        analysis = _analyze_attention(source, attention, prepared.used, options["horizon"], options["eps"],
                                      options["max_steps"], backend=options.get("backend"),
                                      device=options.get("device"), gamma=options.get("gamma"))
    carried = prepared.caught if chunk.start == 0 else ()
    return _ChunkResult(analysis, prepared.kind, int(np.shape(attention)[-1]), _weights_kind(prepared.used),
                        prepared.note, carried + tuple(caught))


# ---------------------------------------------------------------------------
# the driver: jobs, records


def _is_array_path(path):
    return Path(path).suffix.lower() in _ARRAY_SUFFIXES


def _sample_count(tokens, samples):
    """A checkpoint's sample count as the driver sees it; ``None`` when the prepare task will refuse it."""
    if tokens is not None:
        try:
            return np.atleast_2d(np.asarray(tokens)).shape[0]
        except ValueError:
            return None
    is_count = isinstance(samples, numbers.Integral) and not isinstance(samples, bool)
    return int(samples) if is_count else None


def _input_job(path, heads, count, options, tokens, chunk_samples):
    """``(function, args, follow-ups)``: the prepare task of one input and its chunk tasks."""
    source = str(Path(path))
    if count is None and not _is_array_path(path):
        count = _sample_count(tokens, options["samples"])
    if count is None or count <= chunk_samples:
        chunks = [_Chunk(source, 0, count or 0, True)]
    else:
        chunks = [_Chunk(source, start, stop, False) for start, stop in sample_chunks(count, chunk_samples)]
    return _prepare_input, (path, heads, tokens, options), [(_analyze_chunk, (chunk, options)) for chunk in chunks]


def _merged_record(path, chunks):
    path, first = Path(path), chunks[0]
    analysis = merge_analyses([chunk.analysis for chunk in chunks])
    return _model_record(path.stem, str(path), first.kind, analysis, tokens=first.tokens,
                         weights_kind=first.weights_kind, note=first.note)


def _reissue_warnings(caught):
    """Warnings recorded on workers, issued here once each."""
    seen = set()
    for category, message in caught:
        if (category, message) not in seen:
            seen.add((category, message))
            warnings.warn(message, category, stacklevel=3)


# ---------------------------------------------------------------------------
# schedulers


def _import(module):
    """``dask`` or ``distributed``, or an ImportError that says how to install it."""
    try:
        return __import__(module)
    except ImportError as err:
        raise MissingDependencyError(
            f"running the analyzer on Dask needs {module!r}, which is not installed: {_INSTALL_HINT}"
        ) from err


def _is_address(scheduler):
    return isinstance(scheduler, str) and ("://" in scheduler or bool(_HOST_PORT.match(scheduler)))


def _scheduler_kind(scheduler):
    """``"default"``, one of :data:`LOCAL_SCHEDULERS`, ``"address"`` or ``"client"``."""
    if scheduler is None:
        return "default"
    if isinstance(scheduler, str):
        if scheduler in LOCAL_SCHEDULERS:
            return scheduler
        if _is_address(scheduler):
            return "address"
        raise InvalidInputError(
            f"scheduler must be one of {', '.join(LOCAL_SCHEDULERS)} or the address of a Dask scheduler "
            f"(tcp://HOST:PORT or HOST:PORT); got {scheduler!r}"
        )
    if hasattr(scheduler, "submit") and hasattr(scheduler, "gather"):
        return "client"
    raise InvalidTypeError(f"scheduler must be a string, a distributed.Client or None; got {scheduler!r}")


def _check_workers(workers):
    return None if workers is None else check_steps(workers, name="workers", minimum=1)


def _check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise InvalidInputError(f"connect_timeout must be a positive number of seconds; got {timeout!r}")
    return float(timeout)


def _cpu_count():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@contextlib.contextmanager
def _scheduler_runner(scheduler, workers, connect_timeout):
    """``(run, capture)``: ``run(jobs, bar)`` runs jobs where ``scheduler`` says; ``capture``: record warnings.

    A job is ``(function, args, follow_ups)``; each follow-up ``(f, a)`` runs
    as ``f(function(*args), *a)``. ``run`` returns, per job, the follow-ups'
    results in order, or ``[function(*args)]`` when it has none.
    """
    kind, workers = _scheduler_kind(scheduler), _check_workers(workers)
    connect_timeout = _check_timeout(connect_timeout)
    if kind == "default":
        kind = "threads" if _dask_installed() else "loop"
    if kind == "loop":
        yield _run_in_loop, False
    elif kind in ("threads", "sync"):
        _import("dask")
        yield (lambda jobs, bar: _run_on_local_dask(jobs, bar, kind, workers)), False
    elif kind == "client":
        yield (lambda jobs, bar: _run_on_client(scheduler, jobs, bar)), True
    else:
        distributed = _import("distributed")
        with _open_client(distributed, kind, scheduler, workers, connect_timeout) as client:
            yield (lambda jobs, bar: _run_on_client(client, jobs, bar)), True


def _dask_installed():
    try:
        _import("dask")
    except ImportError:
        return False
    return True


@contextlib.contextmanager
def _open_client(distributed, kind, address, workers, connect_timeout):
    """A client of a LocalCluster started here (``"processes"``) or of the scheduler at ``address``.

    The client, and the cluster started here, are closed on exit.
    """
    if kind == "processes":
        # No dashboard; the scheduler's plain HTTP routes on a free loopback port, not 8787. Logs at
        # ERROR only: a transient cluster's shutdown notices are noise here.
        with distributed.LocalCluster(n_workers=workers or _cpu_count(), threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None,
                                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                      silence_logs=logging.ERROR) as cluster:
            with distributed.Client(cluster) as client:
                yield client
        return
    try:
        client = distributed.Client(address, timeout=connect_timeout)
    except (OSError, ValueError, TypeError) as err:
        reason = (str(err).strip().splitlines() or [type(err).__name__])[0]
        raise SchedulerError(
            f"no Dask scheduler answered at {address!r} within {connect_timeout:g} s ({reason})"
        ) from err
    with client:
        yield client


def _run_in_loop(jobs, bar):
    results = []
    for function, args, follow_ups in jobs:
        first = function(*args)
        bar.update()
        outputs = [first] if not follow_ups else []
        for follow_up, more in follow_ups:
            outputs.append(follow_up(first, *more))
            bar.update()
        results.append(outputs)
    return results


def _run_on_local_dask(jobs, bar, scheduler, workers):
    import dask
    from dask.callbacks import Callback

    groups, keys = [], set()
    for function, args, follow_ups in jobs:
        first = dask.delayed(function, pure=False)(*args)
        keys.add(first.key)
        groups.append([first] if not follow_ups else
                      [dask.delayed(f, pure=False)(first, *more) for f, more in follow_ups])
    keys.update(task.key for group in groups for task in group)

    def finished(key, result, graph, state, worker_id):
        if key in keys:
            bar.update()

    with Callback(posttask=finished):
        flat = iter(dask.compute(*[task for group in groups for task in group], scheduler=scheduler,
                                 num_workers=workers))
    return [[next(flat) for _ in group] for group in groups]


def _run_on_client(client, jobs, bar):
    from distributed import as_completed

    groups, pending = [], as_completed()
    for function, args, follow_ups in jobs:
        first = client.submit(function, *args, pure=False)
        pending.add(first)
        group = [client.submit(f, first, *more, pure=False) for f, more in follow_ups]
        pending.update(group)
        groups.append(group or [first])
    # From here on only the follow-ups' futures are held (and each prepare future until it is
    # done), so the cluster frees an input's attention once its last chunk is done.
    first = None
    try:
        for future in pending:
            if future.status == "error":
                future.result()  # raises the task's exception here
            bar.update()
        return client.gather(groups)
    except BaseException:
        client.cancel([future for group in groups for future in group])
        raise


# ---------------------------------------------------------------------------
# progress


class _NoBar:
    """Stands in for a tqdm bar where none is shown, or tqdm is not installed."""

    def update(self, count=1):
        pass

    def close(self):
        pass


@contextlib.contextmanager
def _progress_bar(progress, total):
    """A tqdm bar over ``total`` tasks on standard error (``progress=None``: if it is a terminal)."""
    show = sys.stderr.isatty() if progress is None else bool(progress)
    try:
        from tqdm import tqdm
    except ImportError:
        bar = _NoBar()
    else:
        bar = tqdm(total=total, desc="dagtheory analyze", unit="task", disable=not show, file=sys.stderr,
                   dynamic_ncols=True)
    try:
        yield bar
    finally:
        bar.close()
