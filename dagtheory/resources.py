"""Resource guards: refuse work that would need more memory than allowed, before allocating it.

The large computations of dagtheory (the analyzer, the depth signal, signal
curves over long horizons, attention extracted from a model, arrays read from
files) first estimate the working memory they will need from the shapes of
their inputs. If the estimate exceeds the **memory limit**, they raise
:class:`~dagtheory.exceptions.ResourceLimitError` (a ``MemoryError``) naming
the size they would need and the limit, instead of starting and being killed
by the operating system half way.

The limit is, in order of precedence:

1. the value set by :func:`set_memory_limit` (or, for a block, :func:`memory_limit`);
2. the environment variable ``DAGTHEORY_MEMORY_LIMIT`` (e.g. ``8G``, ``512M``,
   ``1.5GB``, a number of bytes, or ``none``);
3. 80 % of the machine's physical memory (no limit where it cannot be read).

``dagtheory analyze --memory-limit SIZE`` sets it from the shell. The estimates
are upper estimates of the peak of NumPy allocations (docs/guarantees.md says
how they were measured); they do not count the memory the inputs already hold.
"""

import contextlib
import math
import os
import re

from .exceptions import InvalidInputError, InvalidTypeError, ResourceLimitError

__all__ = [
    "DEFAULT_SHARE",
    "ENVIRONMENT_VARIABLE",
    "parse_size",
    "format_size",
    "get_memory_limit",
    "set_memory_limit",
    "memory_limit",
    "require_memory",
    "require_curves_memory",
]

#: Share of physical memory used as the limit when none is set.
DEFAULT_SHARE = 0.8

#: The environment variable read when no limit was set from Python.
ENVIRONMENT_VARIABLE = "DAGTHEORY_MEMORY_LIMIT"

_UNITS = {"": 1, "B": 1, "K": 2 ** 10, "M": 2 ** 20, "G": 2 ** 30, "T": 2 ** 40}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([KMGT]?)(?:I?B)?\s*$", re.IGNORECASE)
_UNSET = object()
_limit = _UNSET


def parse_size(text):
    """Bytes from a size such as ``"8G"``, ``"512 MiB"``, ``"1.5GB"`` or ``"1000000"``.

    Units are binary (``K`` = 1024 bytes); ``"none"`` (any case) means no limit
    and gives ``None``.

    Examples
    --------
    >>> parse_size("8G"), parse_size("512 MiB"), parse_size("1.5k"), parse_size("none")
    (8589934592, 536870912, 1536, None)
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise InvalidTypeError(f"a size must be a string such as '8G'; got {text!r}")
    if text.strip().lower() == "none":
        return None
    match = _SIZE.match(text)
    if match is None:
        raise InvalidInputError(
            f"cannot read the size {text!r}: expected a number of bytes with an optional unit "
            "K, M, G or T (e.g. '8G', '512M'), or 'none'")
    size = math.floor(float(match.group(1)) * _UNITS[match.group(2).upper()])
    if size < 1:
        raise InvalidInputError(f"a memory limit must be at least 1 byte; got {text!r}")
    return size


def format_size(nbytes):
    """A byte count for people: ``1.5 GiB``, ``512 MiB``, ``800 B``.

    Examples
    --------
    >>> format_size(1536 * 2 ** 20), format_size(512 * 2 ** 20), format_size(800)
    ('1.5 GiB', '512 MiB', '800 B')
    """
    for unit, size in (("TiB", 2 ** 40), ("GiB", 2 ** 30), ("MiB", 2 ** 20), ("KiB", 2 ** 10)):
        if nbytes >= size:
            return f"{nbytes / size:.3g} {unit}"
    return f"{int(nbytes)} B"


def _check_limit(limit):
    """``limit`` as bytes (``None``: no limit), from an int or a size string."""
    if limit is None or isinstance(limit, str):
        return None if limit is None else parse_size(limit)
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise InvalidTypeError(f"a memory limit must be an int (bytes), a size string or None; got {limit!r}")
    if limit < 1:
        raise InvalidInputError(f"a memory limit must be at least 1 byte; got {limit}")
    return limit


def _physical_memory():
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, OSError, ValueError):
        return None


def get_memory_limit():
    """The memory limit in bytes now in force, or ``None`` for no limit.

    Examples
    --------
    >>> with memory_limit("2G"):
    ...     get_memory_limit()
    2147483648
    """
    if _limit is not _UNSET:
        return _limit
    text = os.environ.get(ENVIRONMENT_VARIABLE)
    if text:
        try:
            return parse_size(text)
        except (InvalidInputError, InvalidTypeError) as err:
            raise InvalidInputError(f"environment variable {ENVIRONMENT_VARIABLE}: {err}") from None
    physical = _physical_memory()
    return None if physical is None else int(DEFAULT_SHARE * physical)


def set_memory_limit(limit):
    """Set the memory limit for this process; returns the previous setting.

    Parameters
    ----------
    limit : int, str or None
        Bytes, a size such as ``"8G"``, or ``None`` for no limit. Use
        :func:`memory_limit` to set it for one block only.

    Examples
    --------
    >>> previous = set_memory_limit("4G")
    >>> get_memory_limit() == 4 * 2 ** 30
    True
    >>> _ = set_memory_limit(previous)
    """
    global _limit
    previous = _limit
    _limit = limit if limit is _UNSET else _check_limit(limit)
    return previous


@contextlib.contextmanager
def memory_limit(limit):
    """Set the memory limit inside a ``with`` block, and restore the previous one after it.

    Examples
    --------
    >>> import numpy as np
    >>> from dagtheory import signal_curves
    >>> with memory_limit("1K"):
    ...     signal_curves(np.tril(np.full((200, 200), 0.0)) + np.eye(200), horizon=1000)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.ResourceLimitError: signal_curves of 1 matrices of 200 tokens over 1000 steps would need about 3.05 MiB ...
    """
    previous = set_memory_limit(limit)
    try:
        yield
    finally:
        set_memory_limit(previous)


def require_memory(nbytes, what, *, hint=None):
    """Raise :class:`ResourceLimitError` if ``nbytes`` exceed the memory limit.

    Parameters
    ----------
    nbytes : int or float
        The estimated working memory.
    what : str
        What needs it, for the message (e.g. ``"analyze_attention on attention
        of shape (8, 12, 12, 1024, 1024)"``).
    hint : str, optional
        How to need less, appended to the message.

    Examples
    --------
    >>> with memory_limit("1M"):
    ...     require_memory(3 * 2 ** 20, "a test")
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.ResourceLimitError: a test would need about 3 MiB of working memory, above the memory limit of 1 MiB; ...
    """
    limit = get_memory_limit()
    if limit is None or nbytes <= limit:
        return
    advice = f"{hint}; or " if hint else ""
    raise ResourceLimitError(
        f"{what} would need about {format_size(nbytes)} of working memory, above the memory limit of "
        f"{format_size(limit)}; {advice}raise the limit (dagtheory.set_memory_limit, "
        f"{ENVIRONMENT_VARIABLE}, or --memory-limit)"
    )


def require_curves_memory(shape, steps, what):
    """Refuse curves of ``steps`` rows of ``n`` values for each matrix of a ``(..., n, n)`` stack.

    The rows are kept while they are computed, then stacked: twice the
    ``(..., steps, n)`` result, in float64 (exact entries need more).

    Examples
    --------
    >>> with memory_limit("1M"):
    ...     require_curves_memory((12, 100, 100), 10_000, "signal_curves")
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.ResourceLimitError: signal_curves of 12 matrices of 100 tokens over 10000 steps would need about 183 MiB ...
    """
    batch = math.prod(shape[:-2])
    require_memory(2 * 8 * batch * steps * shape[-1],
                   f"{what} of {batch} matrices of {shape[-1]} tokens over {steps} steps",
                   hint="ask for a shorter horizon, or for the fidelity alone (node_fidelity, minimax_fidelity), "
                        "which keeps no curves")
