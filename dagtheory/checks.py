r"""Executable statements of the theory: property checks and exact checks (§2, §3, §5, §8).

A :class:`Statement` is one theorem or conjecture of docs/theory.md, written so
that a machine can try to break it:

* ``check(example)`` returns None when the statement holds for one drawn
  example and raises :class:`AssertionError` (with a message) when it does not;
* ``strategy`` is the Hypothesis strategy that draws the examples (None for a
  statement with an exact check only);
* ``exact`` is an optional zero-argument callable doing an exact or symbolic
  check; it returns True, False or a :class:`~dagtheory.symbolic.BoundCheck`.

The statements live in the top-level ``proofs/`` folder, one module per
theorem, each exposing ``STATEMENTS``. :func:`discover` imports them by file
path; :func:`run_checks` runs them and returns :class:`CheckResult` objects.

Profiles: ``"ci"`` tries 50 derandomized examples per statement, ``"thorough"``
2000 random ones.

This module needs Hypothesis (the ``test`` extra); ``import dagtheory`` does
not import it.
"""

import importlib.util
import math
import numbers
import sys
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from .exceptions import InvalidInputError

__all__ = [
    "PROFILES",
    "Statement",
    "CheckResult",
    "theorem",
    "to_jsonable",
    "run_statement",
    "discover",
    "run_checks",
]

#: Examples tried per statement, by profile.
PROFILES = {"ci": 50, "thorough": 2000}

KINDS = ("theorem", "conjecture")

HOLDS, REFUTED, UNDECIDED = "holds", "refuted", "undecided"


@dataclass(frozen=True)
class Statement:
    """One theorem or conjecture, as a property and an optional exact check.

    Attributes
    ----------
    name : str
        Unique name, e.g. ``"M1"``.
    kind : {"theorem", "conjecture"}
    strategy : SearchStrategy or None
        Draws the examples given to ``check``; None when only ``exact`` runs.
    check : callable or None
        ``check(example)``: None when the statement holds for ``example``,
        :class:`AssertionError` when it does not.
    exact : callable or None
        Zero-argument exact check returning True, False or a ``BoundCheck``.
    examples : tuple
        Explicit examples tried before the drawn ones.
    docstring : str

    Examples
    --------
    A property checked on drawn examples, and an exact check of Example 2's
    ``ρ = 10/9`` (§2) that needs no strategy:

    >>> from fractions import Fraction
    >>> from hypothesis import strategies as st
    >>> from dagtheory import amplification
    >>> from dagtheory.examples import paper_example2
    >>> def check(x):
    ...     assert abs(x) >= 0, f"|{x}| < 0"
    >>> absolute = Statement("abs", "theorem", st.integers(), check)
    >>> ratio = Statement("example2 ratio", "theorem", None, None,
    ...                   exact=lambda: amplification(paper_example2(), 20).ratio == Fraction(10, 9))
    >>> run_statement(absolute).status, run_statement(ratio).status
    ('holds', 'holds')
    >>> Statement("lemma", "lemma", None, None, exact=lambda: True)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: kind must be one of ('theorem', 'conjecture'); got 'lemma'
    """

    name: str
    kind: str
    strategy: Any
    check: Optional[Callable]
    exact: Optional[Callable] = None
    examples: tuple = ()
    docstring: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {KINDS}; got {self.kind!r}")
        if (self.strategy is None) != (self.check is None):
            raise InvalidInputError(f"{self.name}: strategy and check must be given together")
        if self.check is None and self.exact is None:
            raise InvalidInputError(f"{self.name}: needs a check, an exact check or both")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`run_statement`.

    Attributes
    ----------
    name, kind : str
    status : {"holds", "refuted", "undecided"}
        ``"holds"``: no drawn example failed and the exact check (if any) held;
        ``"refuted"``: an example failed or the exact check returned False or a
        refuted ``BoundCheck``; ``"undecided"``: the exact check was undecided,
        or a check raised something other than AssertionError.
    examples : int
        Examples tried (shrinking included).
    seconds : float
    counterexample : JSON-able value or None
        The (shrunk) failing example, through :func:`to_jsonable`.
    message : str

    Examples
    --------
    :func:`run_statement` returns one:

    >>> from fractions import Fraction
    >>> from dagtheory import amplification
    >>> from dagtheory.examples import paper_example2
    >>> statement = Statement("example2 ratio", "theorem", None, None,
    ...                       exact=lambda: amplification(paper_example2(), 20).ratio == Fraction(10, 9))
    >>> result = run_statement(statement)
    >>> result.name, result.status, result.examples, result.counterexample, result.message
    ('example2 ratio', 'holds', 0, None, 'exact: exact check holds')
    >>> sorted(result.to_dict())
    ['counterexample', 'examples', 'kind', 'message', 'name', 'seconds', 'status']
    """

    name: str
    kind: str
    status: str
    examples: int
    seconds: float
    counterexample: Any
    message: str

    def to_dict(self):
        """The result as a plain dict (JSON-able)."""
        return {
            "name": self.name, "kind": self.kind, "status": self.status,
            "examples": self.examples, "seconds": self.seconds,
            "counterexample": self.counterexample, "message": self.message,
        }


def theorem(name, *, kind="theorem", strategy=None, exact=None, examples=()):
    """Decorator turning ``check(example)`` into a :class:`Statement`.

    Examples
    --------
    >>> from hypothesis import strategies as st
    >>> @theorem("square non-negative", strategy=st.integers())
    ... def square(x):
    ...     assert x * x >= 0, f"{x}^2 < 0"
    >>> run_statement(square).status
    'holds'
    """
    def wrap(check):
        return Statement(name=name, kind=kind, strategy=strategy, check=check, exact=exact,
                         examples=tuple(examples), docstring=(check.__doc__ or "").strip())
    return wrap


def to_jsonable(value):
    """A JSON-able copy: Fractions and sympy numbers as strings, arrays as nested lists,
    systems as dicts, infinities and nan as strings.

    Examples
    --------
    >>> from fractions import Fraction
    >>> from dagtheory.examples import paper_example2
    >>> to_jsonable({"ratio": Fraction(10, 9), "p": np.array([0.5, np.inf]), 3: np.int64(7)})
    {'ratio': '10/9', 'p': [0.5, 'inf'], '3': 7}
    >>> to_jsonable(paper_example2())["weights"]
    ['1/2', '1/2']
    """
    from .graph import HeadSystem, SinkDAG

    if value is None or isinstance(value, str):
        return value
    if isinstance(value, Fraction) or type(value).__module__.startswith("sympy"):
        return str(value)
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else str(value)
    if isinstance(value, HeadSystem):
        return {"attention": to_jsonable(value.attention), "weights": to_jsonable(value.weights)}
    if isinstance(value, SinkDAG):
        return {"attention": to_jsonable(value.diffusion)}
    if isinstance(value, np.ndarray):
        return [to_jsonable(item) for item in value.tolist()] if value.ndim else to_jsonable(value.item())
    if isinstance(value, dict):
        return {str(key): to_jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(item) for item in value]
    return str(value)


def _exact_status(outcome):
    """``(status, counterexample, message)`` of an exact check's return value."""
    status = getattr(outcome, "status", None)
    if status is not None:
        return status, to_jsonable(outcome.counterexample), outcome.detail
    if outcome is True:
        return HOLDS, None, "exact check holds"
    if outcome is False:
        return REFUTED, None, "exact check failed"
    raise InvalidInputError(f"an exact check must return True, False or a BoundCheck; got {outcome!r}")


def _run_property(statement, profile):
    """``(status, examples, counterexample, message)`` of the Hypothesis part."""
    from hypothesis import HealthCheck, example, given, settings

    seen = {"count": 0, "failed": None, "message": ""}

    def probe(drawn):
        seen["count"] += 1
        try:
            statement.check(drawn)
        except AssertionError as error:
            seen["failed"], seen["message"] = drawn, str(error) or "assertion failed"
            raise

    test = given(statement.strategy)(probe)
    for explicit in statement.examples:
        test = example(explicit)(test)
    test = settings(max_examples=PROFILES[profile], deadline=None, database=None,
                    derandomize=(profile == "ci"), print_blob=False,
                    suppress_health_check=list(HealthCheck))(test)
    try:
        test()
    except AssertionError:
        return REFUTED, seen["count"], to_jsonable(seen["failed"]), seen["message"]
    except Exception as error:  # a bug or a hypothesis error: nothing was decided
        if seen["failed"] is not None:
            return REFUTED, seen["count"], to_jsonable(seen["failed"]), seen["message"]
        return UNDECIDED, seen["count"], None, f"{type(error).__name__}: {error}"
    return HOLDS, seen["count"], None, f"{seen['count']} examples passed"


def run_statement(statement, *, profile="ci"):
    """Run one statement's property check and exact check.

    Parameters
    ----------
    statement : Statement
    profile : {"ci", "thorough"}

    Returns
    -------
    CheckResult

    Examples
    --------
    A false conjecture is refuted, with the shrunk counterexample:

    >>> from hypothesis import strategies as st
    >>> def check(x):
    ...     assert x * x > x, f"{x}^2 <= {x}"
    >>> conjecture = Statement("square grows", "conjecture", st.integers(min_value=1), check)
    >>> result = run_statement(conjecture)
    >>> result.status, result.counterexample, result.message
    ('refuted', 1, '1^2 <= 1')
    >>> run_statement(Statement("square grows", "conjecture", st.integers(min_value=2), check)).status
    'holds'
    """
    if profile not in PROFILES:
        raise InvalidInputError(f"profile must be one of {sorted(PROFILES)}; got {profile!r}")
    start = time.perf_counter()
    status, count, counterexample, message = HOLDS, 0, None, ""
    if statement.check is not None:
        status, count, counterexample, message = _run_property(statement, profile)
    if status == HOLDS and statement.exact is not None:
        exact_status, exact_counterexample, detail = _exact_status(statement.exact())
        messages = [m for m in (message, f"exact: {detail}") if m]
        message = "; ".join(messages)
        if exact_status != HOLDS:
            status, counterexample = exact_status, exact_counterexample
    return CheckResult(name=statement.name, kind=statement.kind, status=status, examples=count,
                       seconds=round(time.perf_counter() - start, 3),
                       counterexample=counterexample, message=message)


def _default_path():
    import dagtheory

    return Path(dagtheory.__file__).resolve().parents[1] / "proofs"


def discover(path=None):
    """Every statement of the modules ``proofs/*.py`` (each exposes ``STATEMENTS``).

    Parameters
    ----------
    path : path-like, optional
        The folder; the repository's ``proofs/`` by default.

    Returns
    -------
    list of Statement
        Module by module (sorted by file name), in each module's order.

    Examples
    --------
    A folder with one theorem module:

    >>> import tempfile, textwrap
    >>> from pathlib import Path
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = (Path(folder.name) / "squares.py").write_text(textwrap.dedent('''
    ...     from hypothesis import strategies as st
    ...     from dagtheory.checks import theorem
    ...
    ...     @theorem("square", strategy=st.integers())
    ...     def square(x):
    ...         assert x * x >= 0
    ...
    ...     STATEMENTS = [square]
    ... '''))
    >>> [(s.name, s.kind) for s in discover(folder.name)]
    [('square', 'theorem')]
    >>> folder.cleanup()
    """
    folder = Path(path) if path is not None else _default_path()
    if not folder.is_dir():
        raise InvalidInputError(f"no proofs folder at {folder}")
    statements = []
    for file in sorted(folder.glob("*.py")):
        if file.name.startswith("_"):
            continue
        module_name = f"_dagtheory_proofs.{file.stem}"
        spec = importlib.util.spec_from_file_location(module_name, file)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        found = getattr(module, "STATEMENTS", None)
        if found is None:
            raise InvalidInputError(f"{file} has no STATEMENTS list")
        statements.extend(found)
    names = [s.name for s in statements]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise InvalidInputError(f"statement names must be unique; repeated: {duplicates}")
    return statements


def run_checks(names=None, *, profile="ci", path=None):
    """Run the discovered statements (all, or those named).

    Raises
    ------
    InvalidInputError
        Naming the unknown names and listing the known ones.

    Examples
    --------
    A folder with one theorem module (see :func:`discover`):

    >>> import tempfile, textwrap
    >>> from pathlib import Path
    >>> folder = tempfile.TemporaryDirectory()
    >>> _ = (Path(folder.name) / "squares.py").write_text(textwrap.dedent('''
    ...     from hypothesis import strategies as st
    ...     from dagtheory.checks import theorem
    ...
    ...     @theorem("square", strategy=st.integers())
    ...     def square(x):
    ...         assert x * x >= 0
    ...
    ...     STATEMENTS = [square]
    ... '''))
    >>> [(r.name, r.status, r.examples) for r in run_checks(path=folder.name)]
    [('square', 'holds', 50)]
    >>> run_checks(["cube"], path=folder.name)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: unknown statements ['cube']; known: ['square']
    >>> folder.cleanup()
    """
    statements = discover(path)
    if names is not None:
        names = [names] if isinstance(names, str) else list(names)
        known = [s.name for s in statements]
        unknown = [name for name in names if name not in known]
        if unknown:
            raise InvalidInputError(f"unknown statements {unknown}; known: {known}")
        statements = [s for s in statements if s.name in names]
    return [run_statement(statement, profile=profile) for statement in statements]
