r"""Executable statements of the theory: property checks and exact checks (§2, §3, §5, §8).

A :class:`Statement` is one theorem or conjecture of docs/theory.md, written so
that a machine can try to break it:

* ``check(example)`` returns None when the statement holds for one drawn
  example and raises :class:`AssertionError` (with a message) when it does not;
* ``strategy`` is the Hypothesis strategy that draws the examples (None for a
  statement with an exact check only);
* ``exact`` is an optional zero-argument callable doing an exact or symbolic
  check; it returns True, False or a :class:`~dagtheory.symbolic.BoundCheck`;
* ``margin`` (optional) says how far an example is from violating the
  statement (``≤ 0``: violated); the hunts climb towards lower margins;
* ``enumerate`` (optional) lists the statement's own small-scope examples, and
  ``assume`` (optional) states its hypotheses for the examples hunts make.

The statements live in the top-level ``proofs/`` folder, one module per
theorem, each exposing ``STATEMENTS``. :func:`discover` imports them by file
path; :func:`run_checks` runs them and returns :class:`CheckResult` objects.

A property is not only sampled: :func:`run_statement` runs the hunts of
:mod:`dagtheory.hunts` (targeted Hypothesis, structured strategies, small-scope
enumeration, margin-guided local search), re-verifies every counterexample in
exact arithmetic before reporting ``refuted``, and reports a ``holds`` as the
evidence of the searches that ran (:attr:`CheckResult.searches`).

Profiles: ``"ci"`` tries 50 derandomized examples per statement and hunts for
about a second, ``"thorough"`` 2000 random ones and hunts for minutes
(:data:`BUDGETS`). ``hunts=False`` runs the old procedure: plain Hypothesis
sampling.

This module needs Hypothesis (the ``test`` extra); ``import dagtheory`` does
not import it.
"""

import importlib.util
import math
import numbers
import sys
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

from ._verdicts import HOLDS, REFUTED, UNDECIDED
from .exceptions import DagTheoryWarning, InvalidInputError, InvalidTypeError
from .hunts import BUDGETS, hunt

__all__ = [
    "PROFILES",
    "BUDGETS",
    "Statement",
    "CheckResult",
    "theorem",
    "to_jsonable",
    "run_statement",
    "discover",
    "run_checks",
]

#: Examples Hypothesis draws from a statement's own strategy, by profile.
PROFILES = {"ci": 50, "thorough": 2000}


KINDS = ("theorem", "conjecture")



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
    margin : callable or None
        ``margin(example) -> float``: how far a passing example is from
        violating the statement, smaller when closer (``≤ 0`` means violated,
        but ``check`` stays the judge). Hypothesis targets ``-margin`` and the
        local search of :mod:`dagtheory.hunts` lowers it. It must return a
        finite real number; anything else is a one-line error naming the
        statement. An example on which it raises gets no margin.
    enumerate : callable or None
        Zero-argument callable returning an iterable of examples: the
        statement's own small-scope space, replacing the automatic enumeration
        of small head systems.
    assume : callable or None
        ``assume(example) -> bool``: the statement's hypotheses. The examples
        the hunts make (not drawn from ``strategy``) are checked only when it
        returns True; without it, they must share the shape and the
        properties of the drawn ones (:func:`dagtheory.hunts.infer_domain`).

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

    A margin must be callable and return a finite number:

    >>> Statement("abs", "theorem", st.integers(), check, margin=0.5)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidTypeError: abs: margin must be a callable margin(example) -> float; got 0.5
    >>> run_statement(Statement("abs", "theorem", st.integers(), check, margin=lambda x: "far"))
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidTypeError: abs: margin returned 'far', not a number
    """

    name: str
    kind: str
    strategy: Any
    check: Optional[Callable]
    exact: Optional[Callable] = None
    examples: tuple = ()
    docstring: str = ""
    margin: Optional[Callable] = None
    enumerate: Optional[Callable] = None
    assume: Optional[Callable] = None

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidInputError(f"kind must be one of {KINDS}; got {self.kind!r}")
        if (self.strategy is None) != (self.check is None):
            raise InvalidInputError(f"{self.name}: strategy and check must be given together")
        if self.check is None and self.exact is None:
            raise InvalidInputError(f"{self.name}: needs a check, an exact check or both")
        self._check_hooks()

    def _check_hooks(self):
        forms = {"margin": "margin(example) -> float", "enumerate": "enumerate() -> iterable of examples",
                 "assume": "assume(example) -> bool"}
        for hook, form in forms.items():
            value = getattr(self, hook)
            if value is not None and not callable(value):
                raise InvalidTypeError(f"{self.name}: {hook} must be a callable {form}; got {value!r}")
            if value is not None and self.check is None:
                raise InvalidInputError(f"{self.name}: {hook} needs a check and a strategy")


@dataclass(frozen=True)
class CheckResult:
    """The outcome of :func:`run_statement`.

    Attributes
    ----------
    name, kind : str
    status : {"holds", "refuted", "undecided"}
        ``"holds"``: no example failed in the searches that ran (evidence, not
        a proof: :attr:`searches` says which ran) and the exact check (if any)
        held; ``"refuted"``: an example failed and the failure was confirmed in
        exact arithmetic, or the exact check returned False or a refuted
        ``BoundCheck``; ``"undecided"``: the exact check was undecided, a check
        raised something other than AssertionError on a drawn example, or a
        floating-point counterexample was not confirmed exactly (it is then
        the ``counterexample``).
    examples : int
        Examples tried by all the searches (Hypothesis's shrinking included).
    seconds : float
    counterexample : JSON-able value or None
        The shrunk failing example, exact (``Fraction`` entries as strings),
        through :func:`to_jsonable`.
    message : str
        The check's message (refuted); the evidence, e.g. ``"no
        counterexample: hypothesis 50 examples (targeted), structured
        strategies 120, ..."`` (holds); what was not confirmed (undecided).
    method : str or None
        What decided: the search stage that found the counterexample
        (``"hypothesis"``, ``"structured"``, ``"enumeration"``,
        ``"local_search"``), ``"exact"`` (the exact check), ``"search"`` (a
        property that holds), ``"search+exact"`` (both held).
    searches : dict
        Per stage (:data:`dagtheory.hunts.STAGES`, and ``"exact"`` for the
        re-verification): ``examples`` tried, ``seconds``, ``exhausted``, and
        ``skipped`` (why a stage did not run) or other details.

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
    ['counterexample', 'examples', 'kind', 'message', 'method', 'name', 'searches', 'seconds', 'status']
    >>> result.method, result.searches
    ('exact', {})
    """

    name: str
    kind: str
    status: str
    examples: int
    seconds: float
    counterexample: Any
    message: str
    method: Optional[str] = None
    searches: dict = field(default_factory=dict)

    def to_dict(self):
        """The result as a plain dict (JSON-able)."""
        return {
            "name": self.name, "kind": self.kind, "status": self.status,
            "examples": self.examples, "seconds": self.seconds,
            "counterexample": self.counterexample, "message": self.message,
            "method": self.method, "searches": self.searches,
        }


def theorem(name, *, kind="theorem", strategy=None, exact=None, examples=(), margin=None,
            enumerate=None, assume=None):
    """Decorator turning ``check(example)`` into a :class:`Statement`.

    The keyword options are the fields of :class:`Statement`.

    Examples
    --------
    >>> from hypothesis import strategies as st
    >>> @theorem("square non-negative", strategy=st.integers())
    ... def square(x):
    ...     assert x * x >= 0, f"{x}^2 < 0"
    >>> run_statement(square).status
    'holds'

    With a margin (how far ``x`` is from violating ``x ≠ 1234``) the hunt's
    targeted Hypothesis climbs to the one counterexample among a million:

    >>> @theorem("not 1234", kind="conjecture", strategy=st.integers(0, 10**6),
    ...          margin=lambda x: abs(x - 1234))
    ... def not_1234(x):
    ...     assert x != 1234, "x = 1234"
    >>> result = run_statement(not_1234)
    >>> result.status, result.counterexample, result.method
    ('refuted', 1234, 'hypothesis')
    """
    def wrap(check):
        return Statement(name=name, kind=kind, strategy=strategy, check=check, exact=exact,
                         examples=tuple(examples), docstring=(check.__doc__ or "").strip(),
                         margin=margin, enumerate=enumerate, assume=assume)
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


def _run_property(statement, profile, hunts):
    """``(status, examples, counterexample, message, method, searches)`` of the property part.

    The library's warnings (a trapped node, a budget reached) are expected on the examples
    a hunt tries and are not shown.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DagTheoryWarning)
        report = hunt(statement, examples=PROFILES[profile], budget=BUDGETS[profile],
                      derandomize=(profile == "ci"), hunts=hunts)
    searches = {search.stage: search.to_dict() for search in report.searches}
    return (report.status, report.examples, to_jsonable(report.counterexample), report.message,
            report.method, searches)


def _check_flag(value, name):
    if not isinstance(value, bool):
        raise InvalidTypeError(f"{name} must be True or False; got {value!r}")
    return value


def run_statement(statement, *, profile="ci", hunts=True):
    """Run one statement's property check (sampled and hunted) and exact check.

    Parameters
    ----------
    statement : Statement
    profile : {"ci", "thorough"}
        Examples drawn (:data:`PROFILES`) and hunt budgets (:data:`BUDGETS`).
    hunts : bool, keyword-only
        Run the hunts of :mod:`dagtheory.hunts` after sampling (default). False
        runs the old procedure: plain Hypothesis sampling of the statement's
        strategy only (its counterexamples are still re-verified exactly).

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
    >>> result.status, result.counterexample, result.message, result.method
    ('refuted', 1, '1^2 <= 1', 'hypothesis')
    >>> holds = run_statement(Statement("square grows", "conjecture", st.integers(min_value=2), check))
    >>> holds.status, holds.method
    ('holds', 'search')
    >>> for part in holds.message.split("; "):
    ...     print(part)
    no counterexample: hypothesis 50 examples
    enumeration skipped (examples are not head systems or heads)
    structured strategies skipped (examples are not head systems or heads)
    local search skipped (no margin)
    >>> run_statement(conjecture, hunts=False).searches["hypothesis"]["examples"] >= 1
    True
    """
    if profile not in PROFILES:
        raise InvalidInputError(f"profile must be one of {sorted(PROFILES)}; got {profile!r}")
    hunts = _check_flag(hunts, "hunts")
    start = time.perf_counter()
    status, count, counterexample, message, method, searches = HOLDS, 0, None, "", None, {}
    if statement.check is not None:
        status, count, counterexample, message, method, searches = _run_property(statement, profile, hunts)
    if status == HOLDS and statement.exact is not None:
        exact_status, exact_counterexample, detail = _exact_status(statement.exact())
        message = "; ".join(m for m in (message, f"exact: {detail}") if m)
        method = "exact" if method is None or exact_status != HOLDS else "search+exact"
        if exact_status != HOLDS:
            status, counterexample = exact_status, exact_counterexample
    return CheckResult(name=statement.name, kind=statement.kind, status=status, examples=count,
                       seconds=round(time.perf_counter() - start, 3), counterexample=counterexample,
                       message=message, method=method, searches=searches)


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


def run_checks(names=None, *, profile="ci", path=None, hunts=True):
    """Run the discovered statements (all, or those named), with :func:`run_statement`.

    ``hunts=False`` runs the old procedure (plain Hypothesis sampling), for comparisons.

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
    return [run_statement(statement, profile=profile, hunts=hunts) for statement in statements]
