"""Exceptions and warnings raised by dagtheory.

Every error that the caller's input causes derives from both
:class:`DagTheoryError` and the matching built-in (``ValueError`` or
``TypeError``), so ``except ValueError`` keeps working for code that does not
know this library.
"""

__all__ = [
    "DagTheoryError",
    "InvalidInputError",
    "InvalidTypeError",
    "ZeroColumnError",
    "ConvergenceError",
    "MissingDependencyError",
    "SchedulerError",
    "ResourceLimitError",
    "DagTheoryWarning",
    "TrappedNodeWarning",
    "ConvergenceWarning",
]


class DagTheoryError(Exception):
    """Base class of every exception raised by dagtheory."""


class InvalidInputError(DagTheoryError, ValueError):
    """An input has the right type but a wrong value (NaN, negative, not causal...)."""


class InvalidTypeError(DagTheoryError, TypeError):
    """An input has a type or dtype that dagtheory does not accept."""


class ZeroColumnError(InvalidInputError):
    """A token that nobody attends to, not even itself: the forward walk (§3) is undefined."""


class ConvergenceError(DagTheoryError, RuntimeError):
    """An iteration needed more steps than the caller allowed."""


class DagTheoryWarning(UserWarning):
    """Base class of every warning issued by dagtheory."""


class TrappedNodeWarning(DagTheoryWarning):
    """A walk has nodes that never reach the sink, so a mixing time is infinite."""


class ConvergenceWarning(DagTheoryWarning):
    """A supremum was not certified within the step budget; its error bound is reported."""


class MissingDependencyError(DagTheoryError, ImportError):
    """An optional dependency is not installed; the message names the extra that installs it."""


class SchedulerError(DagTheoryError, ConnectionError):
    """No Dask scheduler answered at the address given."""


class ResourceLimitError(DagTheoryError, MemoryError):
    """The work would need more memory than the limit allows (see :mod:`dagtheory.resources`).

    Raised before anything large is allocated; the message gives the estimated
    size and the limit.
    """
