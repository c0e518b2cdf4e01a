r"""Hunts for counterexamples: searches that go beyond sampling (§8).

A property check (:class:`~dagtheory.checks.Statement`) that passes on every
example Hypothesis happened to draw proves nothing: a false statement whose
counterexamples are rare among the draws is reported ``holds``, however long
the run. :func:`hunt` therefore searches, in four stages (:data:`STAGES`),
each boxed by the budgets of its profile (:data:`BUDGETS`):

1. **hypothesis**: the statement's own strategy, as before. When the
   statement declares a *margin* (``margin(example) -> float``, smaller when
   the example is closer to violating it, ``≤ 0`` when it does), every
   passing example reports ``hypothesis.target(-margin)``, so Hypothesis
   climbs towards violations.
2. **enumeration**: for statements about head systems, single heads or
   forward walks, every small example (:func:`small_scope_examples`): every
   DAG structure of every head on ``n = 2 .. max_n`` tokens, a few staying
   probabilities (near-trapped nodes), a few weights; or every successor
   structure of a walk with the same staying probabilities; small first,
   until the budget runs out, reporting whether the space was exhausted. A
   statement may declare its own ``enumerate=`` instead.
3. **structured**: for the same statements, the structured strategies of
   :mod:`dagtheory.strategies` (near-trapped systems, edge-list systems with
   staying probabilities, sparse and near-one-hot heads; for walks,
   near-trapped walks and the forward walks of sparse and edge-list heads),
   targeted by the margin like the first stage.
4. **local search** (:func:`local_search`), with a margin only: hill climbing
   from the examples of lowest margin seen so far, perturbing attention
   entries (pushing some to exactly 0 and diagonals towards 1), the weight a
   token receives from later ones (how fast it leaves the forward walk) and
   head weights, keeping the moves that lower the margin. Without a margin a
   move cannot be judged, so this stage is skipped (random perturbation would
   only repeat the structured stage).

**Tuples.** When the examples are tuples (or lists) holding one system, head
or walk next to other values, stages 2 and 3 make that part and put it into
*templates*: up to 8 distinct examples drawn by the first stage, spread over
the draws, cycling through those whose part has the same ``n`` and ``H``
(all of them when none has), the other values kept as drawn. A float or
``Fraction`` value that took at least 8 distinct values in the draws (a
range, not a few choices) is also tried at simple values inside the range
drawn: each template is followed by a copy with the midpoint, or a fraction
of small denominator (1/2, 1/3, 2/3, 1/4...), in its place; drawn floats
seldom hit the narrow ranges where a statement fails, and simple values
also make simple counterexamples.

**Domain.** Examples that the hunts make must satisfy the statement's
hypotheses, which often live in its strategy (a filter, ``positive_diagonal``).
:func:`infer_domain` reads them off the drawn examples: the same shape
(system, head, attention or walk, inside the same tuples), ``n`` and ``H``
within the ranges drawn, exact or float as drawn, and each property of a
small catalogue (positive diagonal, diagonal below 1, positive or uniform
weights...) that every drawn example had. A statement may declare
``assume=`` (a predicate) instead of the catalogue.

**Verdicts.** A counterexample is re-verified in exact arithmetic before it
counts (:func:`confirm`): a float example becomes exact rationals (each float
is a rational; rows and weights are renormalized exactly so the example stays
valid), the check runs on it, and only a failure there refutes; the
counterexample is then shrunk greedily while the exact check still fails
(fewer heads, fewer tokens, zeroed entries, simpler fractions). A float
failure that the exact check does not confirm gives ``undecided``. ``holds``
from a property is evidence from the named searches (the report says which
ran and how many examples each tried), never a proof.

This module needs Hypothesis (the ``test`` extra).
"""

import contextlib
import heapq
import itertools
import math
import numbers
import os
import signal
import threading
import time
import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numpy as np

from ._arith import exact_rows
from ._validation import is_exact
from ._verdicts import HOLDS, REFUTED, UNDECIDED
from .exceptions import DagTheoryError, InvalidInputError, InvalidTypeError
from .graph import HeadSystem, SinkDAG, edge_list_attention, forward_walk
from .strategies import (
    STAYING,
    edge_list_systems,
    near_one_hot_attention,
    near_trapped_systems,
    near_trapped_walks,
    sparse_attention,
)

__all__ = [
    "BUDGETS",
    "STAGES",
    "PREDICATES",
    "Search",
    "HuntReport",
    "Confirmation",
    "LocalSearchResult",
    "Domain",
    "infer_domain",
    "exact_example",
    "small_scope_examples",
    "local_search",
    "confirm",
    "hunt",
]

#: Hunt budgets per profile (:mod:`dagtheory.hunts`): examples (moves for the local
#: search) and seconds per stage, ``max_n`` of the small-scope enumeration, ``seeds`` of
#: the local search, seconds of exact re-verification and shrinking per counterexample, and
#: seconds one check of a hunt-made example may take before it is skipped.
BUDGETS = {
    "ci": {
        "enumeration": {"examples": 400, "seconds": 0.8, "max_n": 4},
        "structured": {"examples": 60, "seconds": 0.6},
        "local_search": {"examples": 800, "seconds": 0.8, "seeds": 4},
        "exact": {"seconds": 2.0},
        "check": {"seconds": 0.25},
    },
    "thorough": {
        "enumeration": {"examples": 10_000_000, "seconds": 120.0, "max_n": 5},
        "structured": {"examples": 1_000_000, "seconds": 60.0},
        "local_search": {"examples": 10_000_000, "seconds": 90.0, "seeds": 16},
        "exact": {"seconds": 30.0},
        "check": {"seconds": 2.0},
    },
}


#: The search stages, in the order :func:`hunt` runs them.
STAGES = ("hypothesis", "enumeration", "structured", "local_search")


#: Denominators tried when simplifying a counterexample's fractions, smallest first.
DENOMINATORS = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 50, 100, 1000)

#: Significant digits a counterexample is rounded to first when shrinking it.
_COARSE = ("12g", "9g", "6g", "3g")

#: Denominator limit of exact examples made by local search moves.
_MOVE_DENOMINATOR = 2**20

#: Exact re-verification time of a whole hunt, in units of the per-counterexample budget.
_EXACT_ROUNDS = 3

#: Drawn examples kept to infer a statement's domain.
_MAX_SAMPLES = 512

_END = object()

_LABELS = {"hypothesis": "hypothesis", "structured": "structured strategies",
           "enumeration": "enumeration", "local_search": "local search", "exact": "exact"}


class _Stop(BaseException):
    """Ends a Hypothesis run from inside its test (a BaseException, so Hypothesis does not shrink it)."""


class _Timeout(BaseException):
    """A stage's time box ran out in the middle of a check."""


@contextlib.contextmanager
def _time_box(seconds):
    """Raise :class:`_Timeout` in the block after ``seconds`` (main thread, no other alarm; else unbounded)."""
    usable = (seconds is not None and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread()
              and signal.getitimer(signal.ITIMER_REAL)[0] == 0)
    if not usable:
        yield
        return

    def alarm(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, 0.01)  # again soon, should this raise be swallowed
        if frame is None or f"{os.sep}hypothesis{os.sep}" not in frame.f_code.co_filename:
            raise _Timeout()  # not inside a Hypothesis callback (its gc hook ignores exceptions)

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 1e-3))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _run_check(check, example, seconds=None):
    """``("pass"|"fail"|"error", message)`` of one check call, time-boxed; may raise :class:`_Timeout`.

    Warnings are silenced: hunt-made examples are often degenerate on purpose
    (trapped nodes), and their warnings would drown the report.
    """
    try:
        with _time_box(seconds), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            check(example)
    except AssertionError as error:
        return "fail", str(error) or "assertion failed"
    except Exception as error:  # outside the check's domain, or a bug: not a verdict
        return "error", f"{type(error).__name__}: {error}"
    return "pass", ""


# -- leaves: the attention-like parts of an example ---------------------------------------

def _orientation(array):
    """'attention' (lower triangular) or 'walk' (upper) for a square row-stochastic array; else None."""
    try:
        floats = np.asarray(array, dtype=float)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(floats).all() or (floats < 0).any():
        return None
    if not np.allclose(floats.sum(axis=1), 1.0, rtol=0, atol=1e-9):
        return None
    if not np.triu(floats, 1).any():
        return "attention"
    if not np.tril(floats, -1).any():
        return "walk"
    return None


def _leaf_kind(value):
    """'system', 'head', 'attention', 'walk', or None for anything else."""
    if isinstance(value, HeadSystem):
        return "system"
    if isinstance(value, SinkDAG):
        return "head"
    if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == value.shape[1] >= 2:
        return _orientation(value)
    return None


def _stack(leaf):
    """``(attention (H, n, n), weights or None)`` of a leaf."""
    if isinstance(leaf, HeadSystem):
        return leaf.attention, leaf.weights
    if isinstance(leaf, SinkDAG):
        return leaf.diffusion[None], None
    return leaf[None], None


def _rebuild(template, stack, weights):
    """A leaf of ``template``'s kind holding ``stack`` (and ``weights``)."""
    if isinstance(template, HeadSystem):
        return HeadSystem(stack, weights, threshold=template.threshold, zero_columns=template.zero_columns)
    if isinstance(template, SinkDAG):
        return SinkDAG(stack[0], threshold=template.threshold, zero_columns=template.zero_columns)
    return stack[0]


def _leaf_paths(example, prefix=()):
    """Paths (tuples of indices) to the attention-like leaves of an example."""
    if _leaf_kind(example) is not None:
        return [prefix]
    if isinstance(example, (tuple, list)):
        return [path for i, item in enumerate(example) for path in _leaf_paths(item, prefix + (i,))]
    return []


def _get(example, path):
    for index in path:
        example = example[index]
    return example


def _rebuilt_sequence(template, items):
    if isinstance(template, list):
        return items
    if hasattr(type(template), "_fields"):  # a namedtuple
        return type(template)(*items)
    return tuple(items)


def _put(example, path, leaf):
    """A copy of ``example`` with the leaf at ``path`` replaced."""
    if not path:
        return leaf
    items = list(example)
    items[path[0]] = _put(items[path[0]], path[1:], leaf)
    return _rebuilt_sequence(example, items)


def _transform(example, on_leaf, on_scalar):
    """Apply ``on_leaf`` to every leaf and ``on_scalar`` to every other value; None if one gives None."""
    if _leaf_kind(example) is not None:
        return on_leaf(example)
    if isinstance(example, (tuple, list)):
        items = [_transform(item, on_leaf, on_scalar) for item in example]
        if any(item is None and original is not None for item, original in zip(items, example)):
            return None
        return _rebuilt_sequence(example, items)
    return on_scalar(example)


def _leaves(example):
    return [_get(example, path) for path in _leaf_paths(example)]


# -- exact copies and simplifications -------------------------------------------------------

def _exact_simplex(weights):
    values = [w if isinstance(w, Fraction) else Fraction(float(w)) for w in weights]
    total = sum(values)
    return np.array([w / total for w in values], dtype=object)


def _exact_leaf(leaf):
    stack, weights = _stack(leaf)
    if is_exact(stack) and (weights is None or is_exact(weights)):
        return leaf
    return _rebuild(leaf, stack if is_exact(stack) else exact_rows(stack),
                    None if weights is None else _exact_simplex(weights))


def _exact_scalar(value):
    if isinstance(value, (float, np.floating)) and math.isfinite(value):
        return Fraction(float(value))
    return value


def exact_example(example):
    """An exact copy of an example: floats become the rationals they are, rows and weights renormalized.

    Head systems, heads, square causal attention and forward walks (float or
    ``Fraction`` arrays) get ``Fraction`` entries, each float replaced by its
    exact value and each row (and the head weights) divided by its exact sum,
    so the copy is a valid exact example within about 1e-16 of the original.
    Python and NumPy float scalars become ``Fraction`` too; tuples and lists
    are copied item by item; everything else is kept. Exact leaves are
    returned unchanged.

    Parameters
    ----------
    example : object

    Returns
    -------
    object
        Of the same shape as ``example``.

    Examples
    --------
    >>> exact_example((np.array([[1.0, 0.0], [0.25, 0.75]]), 0.5, 3))
    (array([[Fraction(1, 1), Fraction(0, 1)],
           [Fraction(1, 4), Fraction(3, 4)]], dtype=object), Fraction(1, 2), 3)
    >>> from dagtheory import HeadSystem
    >>> exact_example(HeadSystem(np.array([[[1.0, 0.0], [0.5, 0.5]]] * 2), [0.75, 0.25])).weights
    array([Fraction(3, 4), Fraction(1, 4)], dtype=object)
    """
    return _transform(example, _exact_leaf, _exact_scalar)


def _limited(value, denominator):
    """``value`` as a Fraction, limited to ``denominator`` (None: exact, no limit; a string
    ``"6g"``: rounded to 6 significant digits, so tiny positive entries stay positive)."""
    value = Fraction(value if isinstance(value, Fraction) else float(value))
    if isinstance(denominator, str):
        return Fraction(format(float(value), f".{denominator}")) if value else value
    return value if denominator is None else value.limit_denominator(denominator)


def _simplified_rows(stack, denominator):
    """Rows with every entry limited to ``denominator`` (None: kept exact) and renormalized exactly;
    None if a row vanishes."""
    out = np.empty(stack.shape, dtype=object)
    for index in np.ndindex(stack.shape[:-1]):
        row = [_limited(x, denominator) for x in stack[index]]
        total = sum(row)
        if total == 0:
            return None
        out[index] = np.array([x / total for x in row], dtype=object)
    return out


def _simplified_weights(weights, denominator):
    if weights is None:
        return None
    values = [_limited(w, denominator) for w in weights]
    total = sum(values)
    return None if total == 0 else np.array([w / total for w in values], dtype=object)


def _simplified(example, denominator):
    """``example`` with every number limited to ``denominator``, exact and valid; None when impossible."""
    def leaf(value):
        stack, weights = _stack(value)
        rows = _simplified_rows(stack, denominator)
        simple = _simplified_weights(weights, denominator)
        if rows is None or (weights is not None and simple is None):
            return None
        return _safe_rebuild(value, rows, simple)

    def scalar(value):
        if isinstance(value, (float, np.floating, Fraction)) and math.isfinite(value):
            return _limited(value, denominator)
        return value

    return _transform(example, leaf, scalar)


def _safe_rebuild(template, stack, weights):
    try:
        return _rebuild(template, stack, weights)
    except DagTheoryError:
        return None


# -- domains ---------------------------------------------------------------------------------

#: Properties of a leaf that a domain requires when every drawn example had them.
PREDICATES = ("positive_diagonal", "diagonal_below_one", "walk_defined", "positive_weights",
              "uniform_weights")


def _leaf_features(leaf):
    """``(kind, n, H, exact, {predicate: bool})`` of a leaf."""
    kind = _leaf_kind(leaf)
    stack, weights = _stack(leaf)
    count, n = stack.shape[0], stack.shape[-1]
    diagonal = np.array([[stack[h, i, i] for i in range(n)] for h in range(count)], dtype=object)
    inner = diagonal[:, :-1] if kind == "walk" else diagonal[:, 1:]
    features = {
        "positive_diagonal": all(x > 0 for x in diagonal.flat),
        "diagonal_below_one": all(x < 1 for x in inner.flat),
        "walk_defined": kind == "walk" or all(x > 0 for x in stack.sum(axis=1).flat),
        "positive_weights": weights is None or all(w > 0 for w in weights),
        "uniform_weights": weights is None or len(set(weights.tolist())) == 1,
    }
    return kind, n, count, is_exact(stack), features


def _signature(example):
    kind = _leaf_kind(example)
    if kind is not None:
        return kind
    if isinstance(example, (tuple, list)):
        return ("sequence", tuple(_signature(item) for item in example))
    return "value"


@dataclass(frozen=True)
class _LeafRange:
    kind: str
    min_n: int
    max_n: int
    heads: frozenset
    exact: frozenset
    requires: frozenset

    def admits(self, leaf, exact_ok):
        kind, n, count, exact, features = _leaf_features(leaf)
        return (kind == self.kind and self.min_n <= n <= self.max_n and count in self.heads
                and (exact_ok or exact in self.exact) and all(features[p] for p in self.requires))


def _leaf_range(leaves, use_catalogue):
    features = [_leaf_features(leaf) for leaf in leaves]
    requires = frozenset(p for p in PREDICATES if use_catalogue and all(f[4][p] for f in features))
    return _LeafRange(kind=features[0][0], min_n=min(f[1] for f in features),
                      max_n=max(f[1] for f in features), heads=frozenset(f[2] for f in features),
                      exact=frozenset(f[3] for f in features), requires=requires)


class Domain:
    """The examples a statement speaks about, as read off its drawn examples (see :func:`infer_domain`).

    Attributes
    ----------
    kind : str or None
        'system', 'head', 'attention' or 'walk' when every drawn example is
        one such object; None otherwise (tuples, numbers, mixed kinds).
    heads : tuple of int
        Head counts drawn (``(1,)`` for heads and arrays); empty when ``kind`` is None.
    sizes : (int, int) or None
        Smallest and largest ``n`` drawn.
    exact : bool or None
        True when every drawn example was exact, False when every one was
        float, None when mixed or when ``kind`` is None.
    requires : frozenset of str
        The properties of :data:`PREDICATES` that every drawn example had.

    Examples
    --------
    >>> from dagtheory import HeadSystem
    >>> drawn = [HeadSystem.from_edges(3, [[(0, 1)], [(1, 2)]]), HeadSystem.from_edges(4, [[], [(0, 3)]])]
    >>> domain = infer_domain(drawn)
    >>> domain.kind, domain.heads, domain.sizes, domain.exact
    ('system', (2,), (3, 4), True)
    >>> domain.contains(HeadSystem.from_edges(3, [[(0, 2)], [(1, 2)]]))
    True
    >>> domain.contains(HeadSystem.from_edges(5, [[(0, 2)], [(1, 2)]]))
    False
    """

    def __init__(self, ranges, *, assume=None):
        self._ranges = ranges
        self.assume = assume
        plain = [paths[()] for paths in ranges.values() if set(paths) == {()}]
        single = len(ranges) == 1 and len(plain) == 1
        self._top = plain[0] if single else None

    @property
    def kind(self):
        return None if self._top is None else self._top.kind

    @property
    def heads(self):
        return () if self._top is None else tuple(sorted(self._top.heads))

    @property
    def sizes(self):
        return None if self._top is None else (self._top.min_n, self._top.max_n)

    @property
    def exact(self):
        if self._top is None or len(self._top.exact) != 1:
            return None
        return next(iter(self._top.exact))

    @property
    def requires(self):
        return frozenset() if self._top is None else self._top.requires

    def contains(self, example, *, exact_ok=False, trusted=False):
        """Whether ``example`` lies in the domain; ``exact_ok`` admits exact copies of float examples.

        ``trusted`` skips the shape and catalogue tests (examples the statement
        gave itself); a declared ``assume`` is always applied.
        """
        if not trusted:
            paths = self._ranges.get(_signature(example))
            if paths is None:
                return False
            if not all(allowed.admits(_get(example, path), exact_ok) for path, allowed in paths.items()):
                return False
        if self.assume is None:
            return True
        try:
            return bool(self.assume(example))
        except Exception:
            return False


def infer_domain(examples, *, assume=None):
    """The :class:`Domain` of a statement, read off examples drawn from its strategy.

    Examples are grouped by shape (the kind of each attention-like part and
    the tuples around them). An example made by a hunt belongs to the domain
    when its shape was drawn, each part's ``n`` and ``H`` lie within the
    drawn ranges, its exactness was drawn (exact copies of float examples
    are admitted on request), and it has each property of
    :data:`PREDICATES` that every drawn example had. A declared ``assume``
    replaces that catalogue (shapes still apply).

    Parameters
    ----------
    examples : iterable
        Drawn examples.
    assume : callable, keyword-only
        ``assume(example) -> bool``: the statement's own hypotheses.

    Returns
    -------
    Domain

    Examples
    --------
    Attention whose diagonal is below 1 except at token 0 (the hypothesis of
    the attention-sink theorem): a head with a token attended by nobody else
    is outside.

    >>> from dagtheory.graph import edge_list_attention
    >>> domain = infer_domain([edge_list_attention(3, [(0, 1), (1, 2)]),
    ...                        edge_list_attention(2, [(0, 1)])])
    >>> domain.kind, sorted(domain.requires)
    ('attention', ['diagonal_below_one', 'positive_diagonal', 'positive_weights', 'uniform_weights', 'walk_defined'])
    >>> domain.contains(edge_list_attention(3, [(0, 1), (0, 2)])), domain.contains(edge_list_attention(3, [(0, 2)]))
    (True, False)
    """
    groups = {}
    for example in examples:
        groups.setdefault(_signature(example), []).append(example)
    ranges = {}
    for signature, members in groups.items():
        paths = _leaf_paths(members[0])
        ranges[signature] = {path: _leaf_range([_get(m, path) for m in members], assume is None)
                             for path in paths}
    return Domain(ranges, assume=assume)


# -- the part the hunts make, and the drawn examples around it -------------------------------

#: Drawn examples kept as templates when the hunts make the attention-like part of a tuple.
_TEMPLATES = 8

#: Distinct values a real scalar must take in the draws before templates give it simple values.
_CONTINUOUS = 8

#: Simple values tried for such a scalar: the midpoint of the range drawn, then small fractions.
_SIMPLE_VALUES = 8


@dataclass(frozen=True)
class _Part:
    """The attention-like part of the examples a hunt makes: its place in the example, its
    domain, and the drawn examples it is put into (``path`` is ``()`` and ``templates`` empty
    when the example is the part itself); ``simple`` templates have simple scalars."""

    path: tuple
    domain: Domain
    templates: tuple = ()
    simple: int = 0

    def fill(self, leaf, index):
        """``leaf`` put into template ``index`` (cycling) among those whose part has its ``(H, n)``."""
        if not self.path:
            return leaf
        shape = _stack(leaf)[0].shape[:2]
        group = [t for t in self.templates if _stack(_get(t, self.path))[0].shape[:2] == shape]
        group = group or self.templates
        return _put(group[index % len(group)], self.path, leaf)

    def detail(self):
        """The templates, for a :class:`Search`'s detail."""
        return {"templates": len(self.templates), "simple_templates": self.simple} if self.path else {}


def _part(domain, samples):
    """The :class:`_Part` of the most drawn shape whose examples hold one attention-like part, or
    why there is none."""
    counts = {}
    for sample in samples:
        signature = _signature(sample)
        counts[signature] = counts.get(signature, 0) + 1
    leafy = [signature for signature in counts if domain._ranges.get(signature)]
    if not leafy:
        return "examples are not head systems or heads"
    single = [signature for signature in leafy if len(domain._ranges[signature]) == 1]
    if not single:
        return "examples hold several heads, systems or walks"
    signature = max(single, key=lambda sig: counts[sig])
    ((path, allowed),) = domain._ranges[signature].items()
    leaf_domain = Domain({allowed.kind: {(): allowed}})
    if not path:
        return _Part((), leaf_domain)
    members = [sample for sample in samples if _signature(sample) == signature]
    templates, simple = _templates(members)
    return _Part(path, leaf_domain, templates, simple)


def _distinct(examples):
    seen, out = set(), []
    for example in examples:
        key = _key(example)
        if key not in seen:
            seen.add(key)
            out.append(example)
    return out


def _templates(members):
    """Up to :data:`_TEMPLATES` distinct drawn examples, spread over the draws, each followed by a
    copy whose real scalars take simple values (when some do); and how many such copies."""
    members = _distinct(members)
    count = min(_TEMPLATES, len(members))
    picked = [members[index * len(members) // count] for index in range(count)]
    simple = _simple_scalars(members)
    if not simple:
        return tuple(picked), 0
    templates = []
    for index, template in enumerate(picked):
        copy = template
        for path, values in simple.items():
            copy = _put(copy, path, values[index % len(values)])
        templates += [template, copy]
    return tuple(templates), len(picked)


def _scalar_paths(example, prefix=()):
    """Paths to the items of an example that are neither attention-like nor sequences."""
    if _leaf_kind(example) is not None:
        return []
    if isinstance(example, (tuple, list)):
        return [path for i, item in enumerate(example) for path in _scalar_paths(item, prefix + (i,))]
    return [prefix]


def _is_real(value):
    return isinstance(value, (float, np.floating, Fraction)) and math.isfinite(value)


def _simple_scalars(members):
    """``{path: simple values}`` of the float or Fraction items that took at least
    :data:`_CONTINUOUS` distinct values in the draws: values inside the range drawn."""
    simple = {}
    for path in _scalar_paths(members[0]):
        values = [_get(member, path) for member in members]
        if all(_is_real(v) for v in values) and len(set(values)) >= _CONTINUOUS:
            kind = Fraction if all(isinstance(v, Fraction) for v in values) else float
            simple[path] = _simple_values(kind(min(values)), kind(max(values)), kind)
    return simple


def _simple_values(low, high, kind=Fraction):
    """The midpoint of ``[low, high]``, then the fractions inside it with the smallest
    denominators, nearest the midpoint first, as ``kind``: at most :data:`_SIMPLE_VALUES` values."""
    middle = (low + high) / 2
    values = [middle]
    for denominator in range(1, 65):
        center = round(Fraction(middle) * denominator)
        for offset in (0, -1, 1, -2, 2, -3, 3, -4):
            value = kind(Fraction(center + offset, denominator))
            if low <= value <= high and value not in values and len(values) < _SIMPLE_VALUES:
                values.append(value)
    return values


# -- small-scope enumeration ---------------------------------------------------------------

def _edge_sets(n):
    """Every set of forward edges ``(s, t)``, ``s < t < n``: fewest edges first."""
    pairs = [(s, t) for t in range(1, n) for s in range(t)]
    for size in range(len(pairs) + 1):
        yield from (list(chosen) for chosen in itertools.combinations(pairs, size))


@lru_cache(maxsize=8)
def _small_heads(n, staying):
    """Distinct exact edge-list heads on ``n`` tokens: every structure with §1's weights, then
    every structure with one token given each staying probability."""
    heads, seen = [], set()
    variants = [{}] + [{i: s} for s in staying if s is not None for i in range(1, n)]
    for stays in variants:
        for edges in _edge_sets(n):
            if any(not any(t == i for _, t in edges) for i in stays):
                continue  # a token without in-edges keeps its whole row whatever it is given
            head = edge_list_attention(n, edges, exact=True, staying=stays)
            key = tuple(head.flat)
            if key not in seen:
                seen.add(key)
                heads.append(head)
    return tuple(heads)


def _growing_combinations(size, count):
    """Multisets of ``count`` indices below ``size``, by largest index: small ones first."""
    for top in range(size):
        for rest in itertools.combinations_with_replacement(range(top + 1), count - 1):
            yield rest + (top,)


def _weight_choices(count, varied):
    """Uniform weights, then (when ``varied``) each head at 9/10 and the others sharing 1/10."""
    yield [Fraction(1, count)] * count
    if varied and count > 1:
        for h in range(count):
            rest = Fraction(1, 10 * (count - 1))
            yield [Fraction(9, 10) if k == h else rest for k in range(count)]


def _successor_structures(n):
    """Every forward walk structure on ``n`` nodes: for each non-sink node ``j`` a non-empty set
    of later nodes it may move to; fewest moves first."""
    def successor_sets(j):
        later = range(j + 1, n)
        return [chosen for size in range(1, n - j) for chosen in itertools.combinations(later, size)]

    choices = [successor_sets(j) for j in range(n - 1)]
    return sorted(itertools.product(*choices), key=lambda structure: sum(map(len, structure)))


def _structured_walk(n, structure, stays):
    """The exact walk moving from ``j`` to each successor with an equal share of ``1 - stays[j]``."""
    walk = np.full((n, n), Fraction(0), dtype=object)
    walk[n - 1, n - 1] = Fraction(1)
    for j, successors in enumerate(structure):
        walk[j, j] = stays[j]
        for k in successors:
            walk[j, k] = (1 - stays[j]) / len(successors)
    return walk


def _small_walks(n, staying):
    """Distinct exact forward walks on ``n`` nodes: every structure with every node staying with
    the first probability of ``staying``, then with one node given each other one, then with every
    non-sink node given the same other one."""
    values = [Fraction(0 if s is None else s if isinstance(s, Fraction) else str(s)) for s in staying]
    if any(not 0 <= s < 1 for s in values):
        raise InvalidInputError(f"staying probabilities of a walk must lie in [0, 1); got {staying!r}")
    base, others = values[0], values[1:]
    variants = ([[base] * (n - 1)]
                + [[s if j == i else base for j in range(n - 1)] for s in others for i in range(n - 1)]
                + [[s] * (n - 1) for s in others])
    seen = set()
    for stays in variants:
        for structure in _successor_structures(n):
            walk = _structured_walk(n, structure, stays)
            key = tuple(walk.flat)
            if key not in seen:
                seen.add(key)
                yield walk


def _small_example(kind, heads, weights, exact):
    stack = np.stack(heads)
    if not exact:
        stack = stack.astype(float)
        weights = [float(w) for w in weights]
    if kind == "system":
        return HeadSystem(stack, np.array(weights, dtype=object if exact else float))
    if kind == "head":
        return SinkDAG(stack[0])
    return stack[0]


def _check_small_scope(heads, min_n, max_n, kind, weights):
    if kind not in ("system", "head", "attention", "walk"):
        raise InvalidInputError(f"kind must be 'system', 'head', 'attention' or 'walk'; got {kind!r}")
    if weights not in ("uniform", "varied"):
        raise InvalidInputError(f"weights must be 'uniform' or 'varied'; got {weights!r}")
    if not isinstance(heads, (tuple, list)) or not heads or any(
            isinstance(h, bool) or not isinstance(h, numbers.Integral) or h < 1 for h in heads):
        raise InvalidInputError(f"heads must be a non-empty tuple of positive ints; got {heads!r}")
    if kind != "system" and tuple(heads) != (1,):
        raise InvalidInputError(f"a {kind} has one head; heads must be (1,); got {heads!r}")
    for value, name in ((min_n, "min_n"), (max_n, "max_n")):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 2:
            raise InvalidInputError(f"{name} must be an int of at least 2; got {value!r}")


def small_scope_examples(*, heads=(2,), min_n=2, max_n=4, kind="system", exact=True,
                         weights="varied", staying=STAYING):
    """Every small head system, head or forward walk, small first: §8's small-scope hypothesis.

    For ``n = min_n .. max_n`` and each head count ``H`` in ``heads``: every
    multiset of ``H`` heads, each head one of the distinct edge-list heads on
    ``n`` tokens (every DAG structure, i.e. every set of edges ``j → i`` with
    ``j < i``, by §1's construction; then every structure with one token
    given each staying probability of ``staying``, as in
    :func:`~dagtheory.strategies.edge_list_systems`), with uniform weights
    and, when ``weights="varied"`` and the heads differ, each head at 9/10.
    Multisets come by largest head index, so the space is swept from the
    smallest heads outwards and any prefix is a fair sample of the simple
    systems. Identical multisets in another order are not repeated.

    With ``kind="walk"``, forward walks (§3) instead: every successor
    structure (each non-sink node ``j`` moves to a non-empty set of later
    nodes, fewest moves first; the sink is absorbing), every node staying
    with the first probability of ``staying`` (None stands for 0) and
    splitting the rest equally among its successors; then every structure
    with one node given each other staying probability; then with every
    non-sink node given the same one. No node is trapped. On ``n = 2, 3, 4,
    5`` nodes there are 5, 39, 357 and 6,615 such walks.

    Parameters
    ----------
    heads : tuple of int, keyword-only
        Head counts (``(1,)`` for ``kind`` 'head', 'attention' or 'walk').
    min_n, max_n : int, keyword-only
        Range of the number of tokens (at least 2).
    kind : {"system", "head", "attention", "walk"}, keyword-only
        Yield :class:`~dagtheory.HeadSystem`, :class:`~dagtheory.SinkDAG`,
        bare attention arrays or forward walks (upper-triangular arrays).
    exact : bool, keyword-only
        ``Fraction`` entries (default) or float64.
    weights : {"varied", "uniform"}, keyword-only
    staying : tuple, keyword-only
        Staying probabilities (None stands for §1's weights, or 0 in a
        walk); default :data:`~dagtheory.strategies.STAYING`.

    Yields
    ------
    HeadSystem, SinkDAG or ndarray

    Examples
    --------
    Two tokens: no edge, the edge ``0 → 1``, and that edge with the sink
    keeping 9/10, 99/100 and 1 - 10^-6 of its row (1/2 is §1's own weight):

    >>> heads = list(small_scope_examples(heads=(1,), max_n=2, kind="attention"))
    >>> len(heads), [str(A[1, 1]) for A in heads]
    (5, ['1', '1/2', '9/10', '99/100', '999999/1000000'])
    >>> systems = list(small_scope_examples(heads=(2,), max_n=2))
    >>> len(systems), systems[1].weights.tolist()
    (35, [Fraction(1, 2), Fraction(1, 2)])

    Walks on three nodes: the chain ``0 → 1 → 2`` comes first, then ``0``
    moving to ``2`` directly; 39 walks in all:

    >>> walks = list(small_scope_examples(heads=(1,), min_n=3, max_n=3, kind="walk"))
    >>> len(walks), [str(x) for x in walks[0][0]], [str(x) for x in walks[1][0]]
    (39, ['0', '1', '0'], ['0', '0', '1'])
    >>> [str(x) for x in walks[-1][0]]
    ['999999/1000000', '1/2000000', '1/2000000']
    """
    _check_small_scope(heads, min_n, max_n, kind, weights)
    for n in range(min_n, max_n + 1):
        if kind == "walk":
            yield from (walk if exact else walk.astype(float) for walk in _small_walks(n, tuple(staying)))
            continue
        table = _small_heads(n, tuple(staying))
        for count in heads:
            for combo in _growing_combinations(len(table), count):
                varied = weights == "varied" and len(set(combo)) > 1
                for beta in _weight_choices(count, varied):
                    yield _small_example(kind, [table[i] for i in combo], beta, exact)


# -- local search -----------------------------------------------------------------------------

def _renormalized(row):
    total = row.sum()
    return None if not total > 0 or not np.isfinite(total) else row / total


def _support(n, kind, i):
    """Columns that row ``i`` may use: up to the diagonal (attention) or from it (walk)."""
    return np.arange(0, i + 1) if kind != "walk" else np.arange(i, n)


def _jitter(head, kind, i, rng, scale):
    """Scale one entry of row ``i`` by ``exp(scale·N(0,1))``; a zero entry gets a little mass."""
    row = head[i].copy()
    j = rng.choice(_support(head.shape[0], kind, i))
    row[j] = row[j] * math.exp(scale * rng.standard_normal()) if row[j] > 0 else scale * rng.random() * row.max()
    return _renormalized(row)


def _zero(head, kind, i, rng, scale):
    """Push one positive entry of row ``i`` to exactly 0 (near-one-hot and sparse rows)."""
    row = head[i].copy()
    positive = np.flatnonzero(row > 0)
    if len(positive) < 2:
        return None
    row[rng.choice(positive)] = 0.0
    return _renormalized(row)


def _trap(head, kind, i, rng, scale):
    """Push the diagonal of row ``i`` towards 1: ``1 - d ← (1 - d)·10^-U(0, 6·scale)``."""
    row = head[i].copy()
    rest = 1.0 - row[i]
    if rest <= 0:
        return None
    shrink = 10.0 ** -rng.uniform(0.0, 6.0 * max(scale, 0.05))
    off = np.arange(len(row)) != i
    row[off] *= shrink
    row[i] = 1.0 - rest * shrink
    return _renormalized(row)


def _starve_move(head, rng, scale):
    """Scale the later tokens' attention to one token ``j`` by ``exp(3·scale·N(0,1))``: ``j`` leaves
    the forward walk (§3) slower or faster. Returns the whole head (several rows change)."""
    n = head.shape[0]
    j = rng.integers(0, n - 1)
    moved = head.copy()
    moved[j + 1:, j] *= math.exp(3.0 * scale * rng.standard_normal())
    for i in range(j + 1, n):
        row = _renormalized(moved[i])
        if row is None:
            return None
        moved[i] = row
    return moved


def _move_head(head, kind, rng, scale):
    """One random move of a float head (rows outside the triangle untouched); None if invalid."""
    n = head.shape[0]
    choice = rng.random()
    if choice < 0.15 and kind != "walk":
        return _starve_move(head, rng, scale)
    i = rng.integers(1, n) if kind != "walk" else rng.integers(0, n - 1)
    move = _jitter if choice < 0.65 else _zero if choice < 0.8 else _trap
    row = move(head, kind, i, rng, scale)
    if row is None:
        return None
    moved = head.copy()
    moved[i] = row
    return moved


def _move_weights(weights, rng, scale):
    """Move mass between two heads (sometimes all of it): a nearby point of the simplex."""
    moved = weights.copy()
    a, b = rng.choice(len(moved), size=2, replace=False)
    amount = moved[a] if rng.random() < 0.1 else min(moved[a], abs(rng.standard_normal()) * scale * 0.5)
    moved[a] -= amount
    moved[b] += amount
    return _renormalized(moved)


def _exact_head(head):
    """An exact version of a moved float head, with denominators limited to keep exact checks cheap."""
    limited = _simplified_rows(head[None], _MOVE_DENOMINATOR)
    return None if limited is None else limited[0]


def _moved_leaf(leaf, rng, scale):
    """``leaf`` after one random move of one head or of the weights; None if invalid."""
    stack, weights = _stack(leaf)
    exact, kind = is_exact(stack), _leaf_kind(leaf)
    if weights is not None and len(weights) > 1 and rng.random() < 0.2:
        moved = _move_weights(np.asarray(weights, dtype=float), rng, scale)
        if moved is None:
            return None
        return _safe_rebuild(leaf, stack, _exact_simplex(_simplified_weights(moved, _MOVE_DENOMINATOR))
                             if exact else moved)
    h = rng.integers(stack.shape[0])
    head = _move_head(np.asarray(stack[h], dtype=float), kind, rng, scale)
    if head is not None and exact:
        head = _exact_head(head)
    if head is None:
        return None
    new = stack.copy()
    new[h] = head
    return _safe_rebuild(leaf, new, weights)


def _perturbed(example, rng, scale):
    """``example`` with one attention-like leaf moved; None when it has none or the move is invalid."""
    paths = _leaf_paths(example)
    if not paths:
        return None
    path = paths[rng.integers(len(paths))]
    leaf = _moved_leaf(_get(example, path), rng, scale)
    return None if leaf is None else _put(example, path, leaf)


@dataclass(frozen=True)
class LocalSearchResult:
    """The outcome of :func:`local_search`.

    Attributes
    ----------
    found : bool
        True when ``evaluate`` returned ``-inf`` (a counterexample) for ``best``.
    best : object
        The example of lowest value seen (the counterexample when ``found``).
    value : float
        Its value.
    moves : int
        Moves tried.
    seconds : float

    Examples
    --------
    >>> result = local_search(lambda x: None, [(np.array([[1.0, 0.0], [0.5, 0.5]]), 1.0)], moves=3)
    >>> result.found, result.value, result.moves
    (False, 1.0, 3)
    """

    found: bool
    best: Any
    value: float
    moves: int
    seconds: float


@dataclass
class _Walker:
    example: Any
    value: float
    scale: float = 0.5
    stale: int = 0


def _step(walker, evaluate, rng):
    """One move of a walker; returns the candidate's value (None when rejected or invalid)."""
    candidate = _perturbed(walker.example, rng, walker.scale)
    value = None if candidate is None else evaluate(candidate)
    if value is not None and value < walker.value:
        walker.example, walker.value = candidate, value
        walker.scale, walker.stale = min(walker.scale * 2.0, 1.0), 0
        return value
    walker.scale, walker.stale = max(walker.scale * 0.87, 1e-9), walker.stale + 1
    return None


def _restart(walker, best):
    """A stuck walker jumps to the best example; the best one only widens its steps once they vanished."""
    if walker.value > best.value:
        walker.example, walker.value, walker.scale = best.example, best.value, 0.5
    elif walker.scale < 1e-7:
        walker.scale = 0.5
    walker.stale = 0


def local_search(evaluate, seeds, *, moves=1000, seconds=10.0, seed=0, patience=60):
    """Hill climbing on attention-like examples, from seeds, towards a lower ``evaluate``.

    Each walker starts at a seed and proposes moves of one attention-like part
    of its example (:class:`~dagtheory.HeadSystem`, :class:`~dagtheory.SinkDAG`,
    square causal attention or forward walk, float or ``Fraction``, alone or
    inside tuples and lists, whose other items are kept): scale one entry,
    push one to exactly 0, push a diagonal towards 1 (near-trapped), scale
    the later tokens' attention to one token (how fast it leaves the forward
    walk), or move weight between heads. Rows stay causal, non-negative and
    stochastic; weights stay on the simplex; exact examples stay exact (with
    denominators limited to 2^20). A move is kept when it lowers the value;
    the step size doubles after a success and shrinks by a quarter after a
    failure; a walker that fails ``patience`` times in a row jumps to the best
    example seen (the best walker itself widens its steps again once they
    have shrunk to nothing). Every other move goes to the walker of lowest
    value; the others take turns.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(example) -> float or None``: the value to lower (a margin),
        None to reject the example, ``-math.inf`` to stop: a counterexample.
    seeds : list of (example, float)
        Starting examples and their values.
    moves : int, keyword-only
        Most moves tried, all walkers together.
    seconds : float, keyword-only
        Time box.
    seed : int, keyword-only
        Seed of the moves (the search is deterministic for a given seed and
        a deterministic ``evaluate``).
    patience : int, keyword-only

    Returns
    -------
    LocalSearchResult

    Examples
    --------
    Find a head on 3 tokens whose entry ``A[2, 1]`` lies within 1e-6 of 0.3,
    starting from the uniform head:

    >>> def evaluate(A):
    ...     gap = abs(A[2, 1] - 0.3)
    ...     return -math.inf if gap <= 1e-6 else gap
    >>> start = np.array([[1, 0, 0], [1 / 2, 1 / 2, 0], [1 / 3, 1 / 3, 1 / 3]])
    >>> result = local_search(evaluate, [(start, evaluate(start))], moves=5000)
    >>> result.found, bool(abs(result.best[2, 1] - 0.3) <= 1e-6)
    (True, True)
    """
    rng = np.random.default_rng(seed)
    walkers = [_Walker(example, float(value)) for example, value in seeds]
    start, made = time.perf_counter(), 0
    best = min(walkers, key=lambda w: w.value) if walkers else None
    while walkers and made < moves and time.perf_counter() - start < seconds:
        walker = walkers[made % len(walkers)] if made % 2 else min(walkers, key=lambda w: w.value)
        made += 1
        value = _step(walker, evaluate, rng)
        if value == -math.inf:
            return LocalSearchResult(True, walker.example, value, made, time.perf_counter() - start)
        if value is not None and value < best.value:
            best = _Walker(walker.example, value)
        if walker.stale > patience:
            _restart(walker, best)
    return LocalSearchResult(False, None if best is None else best.example,
                             math.inf if best is None else best.value, made, time.perf_counter() - start)


# -- exact re-verification and shrinking ---------------------------------------------------------

@dataclass(frozen=True)
class Confirmation:
    """The outcome of :func:`confirm`.

    Attributes
    ----------
    status : {"refuted", "undecided"}
        ``"refuted"``: the exact check failed on ``example``;
        ``"undecided"``: it did not (the failure was a floating-point
        artefact), or could not be evaluated exactly.
    example : object
        The exact, shrunk counterexample when refuted; the original example otherwise.
    message : str
        The exact check's message when refuted; why not, otherwise.
    attempts : int
        Exact check calls made (verification and shrinking).
    seconds : float

    Examples
    --------
    >>> def check(x):
    ...     assert x < 1, f"{x} >= 1"
    >>> confirm(check, 2.5)
    Confirmation(status='refuted', example=Fraction(2, 1), message='2 >= 1', attempts=2, seconds=...)
    """

    status: str
    example: Any
    message: str
    attempts: int
    seconds: float

    def __repr__(self):
        return (f"Confirmation(status={self.status!r}, example={self.example!r}, "
                f"message={self.message!r}, attempts={self.attempts}, seconds=...)")


class _Clock:
    """A deadline and a count of exact check calls."""

    def __init__(self, seconds, cap=math.inf):
        self.deadline = time.perf_counter() + seconds
        self.calls, self.cap = 0, cap

    @property
    def left(self):
        return self.deadline - time.perf_counter()

    def run(self, check, example, cap=math.inf):
        """``("pass"|"fail"|"error"|"timeout", message)`` of the check on an exact example,
        given at most ``cap`` seconds."""
        if self.left <= 0:
            return "timeout", ""
        self.calls += 1
        try:
            return _run_check(check, example, min(self.left, cap))
        except _Timeout:
            return "timeout", ""


def _admitted(domain, candidate):
    return candidate is not None and (domain is None or domain.contains(candidate, exact_ok=True))


def _exact_candidates(example):
    """The exact copy of ``example``, then simpler versions (fractions of small denominators)."""
    yield exact_example(example)
    for denominator in DENOMINATORS:
        yield _simplified(example, denominator)


def _first_exact_failure(check, example, domain, clock):
    """``(exact example, message)`` of the first exact candidate that fails, or ``(None, reason)``."""
    reason, seen = None, []
    for position, candidate in enumerate(_exact_candidates(example)):
        if (position and not _admitted(domain, candidate)) or candidate is None or _seen(candidate, seen):
            continue
        outcome, text = clock.run(check, candidate)
        if outcome == "fail":
            return candidate, text
        if position == 0:
            reason = {"pass": "its exact version passes the check",
                      "error": f"the check cannot be evaluated on its exact version ({text})",
                      "timeout": "the exact check ran out of time"}[outcome]
        if outcome == "timeout" and clock.left <= 0:
            break
    return None, reason


def _seen(candidate, seen):
    """Whether an equal candidate was tried already (and remember it)."""
    key = _key(candidate)
    if key in seen:
        return True
    seen.append(key)
    return False


def _key(example):
    """A hashable description of an example (systems and arrays by their entries)."""
    if isinstance(example, HeadSystem):
        return ("system", _key(example.attention), _key(example.weights))
    if isinstance(example, SinkDAG):
        return ("head", _key(example.diffusion))
    if isinstance(example, np.ndarray):
        return (example.shape, repr(example.tolist()))
    if isinstance(example, (list, tuple)):
        return tuple(_key(item) for item in example)
    return repr(example)


def confirm(check, example, *, message="", domain=None, seconds=10.0, call_seconds=None):
    """Re-verify a counterexample in exact arithmetic, then shrink it while it still fails exactly.

    The example is made exact (:func:`exact_example`: each float is the
    rational it is; rows and weights are renormalized exactly) and checked.
    When that passes, cannot be evaluated (the check raises something other
    than AssertionError) or runs out of time, simpler exact versions are
    tried (every fraction limited to the denominators of
    :data:`DENOMINATORS`): a failure of one of them is an exact
    counterexample too. An exact failure is then shrunk greedily: drop a
    head, drop a non-sink token (rows renormalized), set a row's smallest
    entry to 0, limit the fractions of one part to a small denominator,
    make the weights uniform or simpler; a step is kept when the result is
    smaller (fewer heads, tokens and non-zero entries, shorter fractions),
    in ``domain``, and still fails the exact check.

    Parameters
    ----------
    check : callable
        The statement's check: raises AssertionError on a counterexample.
    example : object
        A failing example (float or exact).
    message : str, keyword-only
        The check's message on ``example``, quoted when it is not confirmed.
    domain : Domain, keyword-only
        Where simpler and shrunk versions must stay (None: anywhere).
    seconds : float, keyword-only
        Time box of all exact check calls.
    call_seconds : float, keyword-only
        Time box of one check of a shrinking step (a step whose check takes
        longer is skipped); None: ``seconds``.

    Returns
    -------
    Confirmation

    Examples
    --------
    A float failure that exact arithmetic confirms, and a floating-point
    artefact (``0.1 + 0.2 != 0.3`` in float64, not in the rationals):

    >>> def check(A):
    ...     assert A[1, 1] < 0.9, f"A[1, 1] = {A[1, 1]}"
    >>> result = confirm(check, np.array([[1.0, 0.0], [0.04, 0.96]]))
    >>> result.status, result.example[1].tolist(), result.message
    ('refuted', [Fraction(0, 1), Fraction(1, 1)], 'A[1, 1] = 1')
    >>> def artefact(x):
    ...     assert x + 2 * x == 3 * x, "x + 2x != 3x"
    >>> artefact_result = confirm(artefact, 0.1, message="x + 2x != 3x")
    >>> artefact_result.status, artefact_result.example
    ('undecided', 0.1)
    >>> print(artefact_result.message)
    a floating-point counterexample was found (x + 2x != 3x) but not confirmed in exact arithmetic: its exact version passes the check
    """
    clock = _Clock(seconds, math.inf if call_seconds is None else call_seconds)
    start = time.perf_counter()
    exact, text = _first_exact_failure(check, example, domain, clock)
    if exact is None:
        found = f" ({message})" if message else ""
        note = (f"a floating-point counterexample was found{found} but not confirmed in exact "
                f"arithmetic: {text}")
        return Confirmation(UNDECIDED, example, note, clock.calls, time.perf_counter() - start)
    exact, text = _shrunk(check, exact, text, domain, clock)
    return Confirmation(REFUTED, exact, text, clock.calls, time.perf_counter() - start)


def _bits(value):
    if isinstance(value, Fraction):
        return value.numerator.bit_length() + value.denominator.bit_length()
    return 0


def _size(example):
    """What shrinking lowers: heads, tokens, non-zero entries, then the length of the fractions."""
    heads = tokens = nonzero = bits = 0
    for leaf in _leaves(example):
        stack, weights = _stack(leaf)
        heads, tokens = heads + stack.shape[0], tokens + stack.shape[-1]
        nonzero += int(sum(1 for x in stack.flat if x != 0))
        bits += sum(_bits(x) for x in stack.flat) + sum(_bits(w) for w in (weights if weights is not None else ()))
    scalars = []
    _transform(example, lambda leaf: leaf, lambda value: scalars.append(value) or value)
    return heads, tokens, nonzero, bits + sum(_bits(x) for x in scalars)


def _shrunk(check, example, message, domain, clock):
    """Greedy shrinking of an exact counterexample, while it fails and time is left."""
    improved = True
    while improved and clock.left > 0:
        improved = False
        size = _size(example)
        for candidate in _shrink_candidates(example):
            if clock.left <= 0:
                break
            if not _admitted(domain, candidate) or _size(candidate) >= size:
                continue
            outcome, text = clock.run(check, candidate, clock.cap)
            if outcome == "fail":
                example, message, improved = candidate, text, True
                break
    return example, message


def _without_head(leaf, h):
    stack, weights = _stack(leaf)
    kept = [k for k in range(stack.shape[0]) if k != h]
    rest = _simplified_weights(weights[kept], None) if weights is not None else None
    return _safe_rebuild(leaf, stack[kept], rest) if weights is None or rest is not None else None


def _without_token(leaf, k):
    stack, weights = _stack(leaf)
    kept = [i for i in range(stack.shape[-1]) if i != k]
    rows = _simplified_rows(stack[:, kept][:, :, kept], None)
    return None if rows is None else _safe_rebuild(leaf, rows, weights)


def _zeroed(leaf, h, i):
    """Row ``i`` of head ``h`` with its smallest positive off-diagonal entry set to 0."""
    stack, weights = _stack(leaf)
    row = stack[h, i]
    off = [j for j in range(len(row)) if j != i and row[j] != 0]
    if not off:
        return None
    new = stack.copy()
    new[h, i, min(off, key=lambda j: row[j])] = Fraction(0)
    rows = _simplified_rows(new, None)
    return None if rows is None else _safe_rebuild(leaf, rows, weights)


def _simpler_weights(leaf, denominator):
    stack, weights = _stack(leaf)
    if weights is None:
        return None
    if denominator is None:
        return _safe_rebuild(leaf, stack, np.array([Fraction(1, len(weights))] * len(weights), dtype=object))
    simple = _simplified_weights(weights, denominator)
    return None if simple is None else _safe_rebuild(leaf, stack, simple)


def _leaf_shrinks(leaf):
    """Smaller or simpler versions of one exact leaf, most drastic first."""
    stack, _ = _stack(leaf)
    count, n = stack.shape[0], stack.shape[-1]
    for h in range(count if count > 1 else 0):
        yield _without_head(leaf, h)
    for k in range(n - 1 if n > 2 else 0):
        yield _without_token(leaf, k)
    for h, i in itertools.product(range(count), range(n)):
        yield _zeroed(leaf, h, i)
    yield _simpler_weights(leaf, None)
    for denominator in DENOMINATORS:
        rows = _simplified_rows(stack, denominator)
        yield None if rows is None else _safe_rebuild(leaf, rows, _stack(leaf)[1])
        yield _simpler_weights(leaf, denominator)


def _shrink_candidates(example):
    """Candidates of greedy shrinking: the whole example rounded (12, 9, 6, 3 significant digits:
    cheaper exact checks), each leaf shrunk in place, then the whole example simplified."""
    for denominator in _COARSE:
        yield _simplified(example, denominator)
    for path in _leaf_paths(example):
        for leaf in _leaf_shrinks(_get(example, path)):
            if leaf is not None:
                yield _put(example, path, leaf)
    for denominator in DENOMINATORS:
        yield _simplified(example, denominator)


# -- the hunt ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Search:
    """What one stage of a hunt did.

    Attributes
    ----------
    stage : str
        One of :data:`STAGES`, or ``"exact"``: the exact re-verification and
        shrinking of every failing example (``counterexamples`` re-verified,
        how many ``confirmed``).
    examples : int
        Examples checked (moves for the local search; exact check calls for "exact").
    seconds : float
    exhausted : bool
        True when the stage tried every example of a finite space.
    detail : dict
        JSON-able extras: ``skipped`` (why the stage did not run), ``targeted``,
        ``strategies``, ``max_n``, ``reached_n``, ``rejected`` (examples outside
        the domain), ``errors`` (check errors on hunt-made examples),
        ``timeouts`` (examples whose check took longer than the per-check
        budget, skipped), ``seed`` (of a random run)...

    Examples
    --------
    >>> search = Search("enumeration", 1200, 0.41, False, {"unit": "systems", "max_n": 4, "reached_n": 3})
    >>> search.summary()
    'enumeration 1,200 systems (n ≤ 3 of 4, not exhausted)'
    >>> search.to_dict()["examples"], Search("local_search", detail={"skipped": "no margin"}).summary()
    (1200, 'local search skipped (no margin)')

    Walks put into tuples drawn by the statement's strategy (see :func:`hunt`):

    >>> detail = {"unit": "walks", "max_n": 4, "reached_n": 4, "templates": 16, "simple_templates": 8}
    >>> Search("enumeration", 396, 0.3, True, detail).summary()
    'enumeration 396 walks (n ≤ 4 of 4, exhausted; in 16 drawn templates, 8 with simple scalars)'
    """

    stage: str
    examples: int = 0
    seconds: float = 0.0
    exhausted: bool = False
    detail: dict = field(default_factory=dict)

    def to_dict(self):
        """The search as a JSON-able dict: examples, seconds, exhausted and the detail."""
        return {"examples": self.examples, "seconds": round(self.seconds, 3),
                "exhausted": self.exhausted, **self.detail}

    def summary(self):
        """One phrase for a report, e.g. ``'hypothesis 50 examples (targeted)'``."""
        label = _LABELS.get(self.stage, self.stage)
        if "skipped" in self.detail:
            return f"{label} skipped ({self.detail['skipped']})"
        if self.stage == "hypothesis":
            return f"{label} {self.examples:,} examples" + (" (targeted)" if self.detail.get("targeted") else "")
        if self.stage == "local_search":
            return f"{label} {self.examples:,} moves"
        templates = self._templates()
        if self.stage == "enumeration":
            ended = "exhausted" if self.exhausted else "not exhausted"
            if "max_n" not in self.detail:
                return f"{label} {self.examples:,} examples (the statement's own, {ended})"
            return (f"{label} {self.examples:,} {self.detail.get('unit', 'examples')} "
                    f"(n ≤ {self.detail.get('reached_n', 0)} of {self.detail['max_n']}, {ended}"
                    f"{'; ' + templates if templates else ''})")
        return f"{label} {self.examples:,}" + (f" ({templates})" if templates else "")

    def _templates(self):
        """``'in 16 drawn templates, 8 with simple scalars'`` when the parts went into drawn tuples."""
        count, simple = self.detail.get("templates"), self.detail.get("simple_templates")
        if not count:
            return ""
        return f"in {count} drawn templates" + (f", {simple} with simple scalars" if simple else "")


@dataclass(frozen=True)
class HuntReport:
    """The outcome of :func:`hunt`.

    Attributes
    ----------
    status : {"holds", "refuted", "undecided"}
    counterexample : object or None
        The exact, shrunk counterexample (refuted), or the unconfirmed float
        one (undecided).
    message : str
        The check's message (refuted), why not confirmed or what went wrong
        (undecided), or the evidence: which searches ran and how much (holds).
    method : str
        The stage that found the counterexample, or ``"search"`` (holds).
    searches : tuple of Search

    Examples
    --------
    >>> from hypothesis import strategies as st
    >>> from dagtheory.checks import Statement
    >>> def check(x):
    ...     assert x != 7, "seven"
    >>> report = hunt(Statement("not seven", "conjecture", st.integers(0, 9), check))
    >>> report.status, report.counterexample, report.method, report.examples >= 1
    ('refuted', 7, 'hypothesis', True)
    """

    status: str
    counterexample: Any
    message: str
    method: str
    searches: tuple

    @property
    def examples(self):
        """Examples tried by the search stages, all together (exact re-verification excluded)."""
        return sum(s.examples for s in self.searches if s.stage in STAGES)


def _validated_margin(name, value):
    """The margin as a float; a one-line error naming the statement when it is not a finite number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name}: margin returned {value!r}, not a number")
    value = float(value)
    if not math.isfinite(value):
        raise InvalidInputError(f"{name}: margin returned {value!r}, not a finite number")
    return value


class _Pool:
    """The examples of lowest margin seen, to seed the local search."""

    def __init__(self, size):
        self.size, self._heap, self._count = size, [], itertools.count()

    def offer(self, example, margin):
        item = (-margin, next(self._count), example)
        if len(self._heap) < self.size:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def best(self):
        return [(example, -negative) for negative, _, example in sorted(self._heap, reverse=True)]


class _Hunt:
    """The state of one hunt: samples, domain, best examples, findings and the searches so far."""

    def __init__(self, statement, examples, budget, derandomize, targeted, seed):
        self.statement, self.examples, self.budget = statement, examples, budget
        self.derandomize, self.targeted = derandomize, targeted
        if seed is None:
            seed = 0 if derandomize else int(np.random.default_rng().integers(2**31))
        self.seed = seed
        self.samples, self.searches = [], []
        self.domain = self.part = None
        self.pool = _Pool(budget["local_search"].get("seeds", 4))
        self.refuted = self.unconfirmed = self.error = self.margin_error = None
        self.counts = {}
        self.exact = {"examples": 0, "seconds": 0.0, "counterexamples": 0, "confirmed": 0}
        self.exact_left = _EXACT_ROUNDS * budget["exact"]["seconds"]
        self.call_seconds = budget.get("check", {}).get("seconds", math.inf)

    def count(self, stage, what):
        key = (stage, what)
        self.counts[key] = self.counts.get(key, 0) + 1

    def margin(self, example, stage):
        """The validated margin of a passing example (None without one); the example joins the pool."""
        if self.statement.margin is None:
            return None
        try:
            value = self.statement.margin(example)
        except Exception:
            self.count(stage, "margin_errors")
            return None
        value = _validated_margin(self.statement.name, value)
        self.pool.offer(example, value)
        return value

    def found(self, example, message, stage):
        """Re-verify a failing example exactly; remember it as refuted or unconfirmed."""
        if self.domain is None:  # found while sampling: shrink within what was drawn so far
            self.domain = infer_domain(self.samples, assume=self.statement.assume)
        seconds = min(self.budget["exact"]["seconds"], self.exact_left)
        confirmation = confirm(self.statement.check, example, message=message, domain=self.domain,
                               seconds=max(seconds, 0.0), call_seconds=self.call_seconds)
        self.exact_left -= confirmation.seconds
        for key, value in (("examples", confirmation.attempts), ("seconds", confirmation.seconds),
                           ("counterexamples", 1), ("confirmed", int(confirmation.status == REFUTED))):
            self.exact[key] += value
        if confirmation.status == REFUTED:
            self.refuted = (confirmation.example, confirmation.message, stage)
        elif self.unconfirmed is None:
            self.unconfirmed = (example, confirmation.message, stage)

    def exact_search(self):
        """The re-verifications of this hunt as one :class:`Search` (None when nothing failed)."""
        if not self.exact["counterexamples"]:
            return None
        detail = {"counterexamples": self.exact["counterexamples"], "confirmed": self.exact["confirmed"]}
        return Search("exact", self.exact["examples"], self.exact["seconds"], False, detail)

    def score(self, example, stage, deadline, *, trusted=False):
        """Check a hunt-made example: ``-inf`` if it fails, its margin if it passes, None if rejected."""
        if not self.domain.contains(example, trusted=trusted):
            self.count(stage, "rejected")
            return None
        self.count(stage, "checked")
        left = deadline - time.perf_counter()
        try:
            outcome, message = _run_check(self.statement.check, example, min(left, self.call_seconds))
        except _Timeout:
            if time.perf_counter() >= deadline:
                raise  # the stage's time is up
            self.count(stage, "timeouts")  # one slow example: skip it, go on
            return None
        if outcome == "fail":
            self.found(example, message, stage)
            return -math.inf
        if outcome == "error":
            self.count(stage, "errors")
            return None
        return self.margin(example, stage)

    def detail(self, stage, **extra):
        for what in ("rejected", "errors", "timeouts", "margin_errors"):
            if self.counts.get((stage, what)):
                extra[what] = self.counts[(stage, what)]
        return extra

    @property
    def done(self):
        return self.refuted is not None or self.error is not None


def _configured(test, state, max_examples, *, offset=0, phases=None):
    """``test`` under the hunt's Hypothesis settings; a random run gets an explicit, recorded seed
    (so it can be replayed, and Hypothesis prints no "reproduce with @seed" note when we stop it)."""
    from hypothesis import HealthCheck, seed, settings

    options = {} if phases is None else {"phases": phases}
    if not state.derandomize:
        test = seed(state.seed + offset)(test)
    return settings(max_examples=max_examples, deadline=None, database=None,
                    derandomize=state.derandomize, print_blob=False,
                    suppress_health_check=list(HealthCheck), **options)(test)


def _hypothesis_stage(state):
    """The statement's own strategy with Hypothesis (targeted by the margin), as the old checker did."""
    from hypothesis import example, given, target

    statement, seen, start = state.statement, {"count": 0, "failed": None, "message": ""}, time.perf_counter()

    def probe(drawn):
        seen["count"] += 1
        if len(state.samples) < _MAX_SAMPLES:
            state.samples.append(drawn)
        try:
            statement.check(drawn)
        except AssertionError as error:
            seen["failed"], seen["message"] = drawn, str(error) or "assertion failed"
            raise
        if not state.targeted:
            return  # the old procedure: plain sampling
        try:
            margin = state.margin(drawn, "hypothesis")
        except DagTheoryError as error:
            state.margin_error = error
            raise _Stop() from error
        if margin is not None:
            target(-margin)

    test = given(statement.strategy)(probe)
    for explicit in statement.examples:
        test = example(explicit)(test)
    _run_own_strategy(_configured(test, state, state.examples), state, seen)
    targeted = state.targeted and statement.margin is not None
    extra = {} if state.derandomize else {"seed": state.seed}
    return Search("hypothesis", seen["count"], time.perf_counter() - start, False,
                  state.detail("hypothesis", targeted=targeted, **extra))


def _run_own_strategy(test, state, seen):
    try:
        test()
    except _Stop:
        raise state.margin_error from None
    except AssertionError:
        state.found(seen["failed"], seen["message"], "hypothesis")
    except Exception as error:  # a bug or a hypothesis error: nothing was decided
        if seen["failed"] is not None:
            state.found(seen["failed"], seen["message"], "hypothesis")
        else:
            state.error = f"{type(error).__name__}: {error}"


def _structured_strategies(domain):
    """``[(name, strategy)]`` of the structured strategies that fit the domain's examples."""
    if domain.kind not in ("system", "head", "attention", "walk"):
        return []
    min_n, max_n = max(2, domain.sizes[0]), domain.sizes[1]
    exact = domain.exact is True
    sizes = {"min_n": min_n, "max_n": max_n, "exact": exact}
    if domain.kind == "walk":
        return _walk_strategies(sizes)
    if domain.kind == "system":
        heads = {"min_heads": min(domain.heads), "max_heads": max(domain.heads),
                 "weights": "uniform_weights" not in domain.requires}
        return [("near_trapped_systems", near_trapped_systems(**heads, **sizes)),
                ("edge_list_systems", edge_list_systems(**heads, **sizes))]
    single = {"min_heads": 1, "max_heads": 1, **sizes}
    first = (lambda A: SinkDAG(A)) if domain.kind == "head" else (lambda A: A)
    positive = "positive_diagonal" in domain.requires
    strategies = [
        ("near_trapped_systems", near_trapped_systems(**single).map(lambda s: s.attention[0])),
        ("edge_list_systems", edge_list_systems(**single).map(lambda s: s.attention[0])),
        ("sparse_attention", sparse_attention(**sizes, positive_diagonal=positive)),
        ("near_one_hot_attention", near_one_hot_attention(**sizes)),
    ]
    return [(name, strategy.map(first)) for name, strategy in strategies]


def _walk_strategies(sizes):
    """Near-trapped walks, and the forward walks (§3) of sparse and edge-list heads."""
    exact, bounds = sizes["exact"], {"min_n": sizes["min_n"], "max_n": sizes["max_n"]}
    walks = near_trapped_walks(**bounds)
    sparse = sparse_attention(**sizes, positive_diagonal=True)
    edges = edge_list_systems(min_heads=1, max_heads=1, **sizes)
    return [("near_trapped_walks", walks.map(exact_rows) if exact else walks),
            ("sparse_attention", sparse.map(forward_walk)),
            ("edge_list_systems", edges.map(lambda s: forward_walk(s.attention[0])))]


def _in_templates(strategy, part):
    """``strategy``'s parts put into the part's templates (a drawn index picks the template)."""
    from hypothesis import strategies as st

    if not part.path:
        return strategy
    return st.tuples(strategy, st.integers(0, len(part.templates) - 1)).map(lambda pair: part.fill(*pair))


def _run_structured(state, strategy, max_examples, deadline, offset):
    """Run one structured strategy through Hypothesis (targeted by the margin) until done or out of time."""
    from hypothesis import Phase, given, target

    def probe(drawn):
        if time.perf_counter() >= deadline or state.done:
            raise _Stop()
        margin = state.score(drawn, "structured", deadline)
        if margin == -math.inf:
            raise _Stop()
        if margin is not None and state.targeted:
            target(-margin)

    phases = [Phase.generate, Phase.target]
    test = _configured(given(strategy)(probe), state, max_examples, offset=offset, phases=phases)
    try:
        test()
    except (_Stop, _Timeout):
        pass
    except Exception:  # Hypothesis gave up on the strategy (e.g. unsatisfiable): nothing found
        state.count("structured", "errors")


def _structured_stage(state):
    part = state.part
    if isinstance(part, str):
        return Search("structured", detail={"skipped": part})
    strategies = [(name, _in_templates(strategy, part))
                  for name, strategy in _structured_strategies(part.domain)]
    budget, start = state.budget["structured"], time.perf_counter()
    per = max(1, budget["examples"] // len(strategies))
    used = {}
    for position, (name, strategy) in enumerate(strategies):
        left = budget["seconds"] - (time.perf_counter() - start)
        if left <= 0 or state.done:
            break
        before = state.counts.get(("structured", "checked"), 0)
        _run_structured(state, strategy, per, time.perf_counter() + left / (len(strategies) - position),
                        position + 1)
        used[name] = state.counts.get(("structured", "checked"), 0) - before
    extra = {} if state.derandomize else {"seed": state.seed}
    return Search("structured", sum(used.values()), time.perf_counter() - start, False,
                  state.detail("structured", strategies=used, **part.detail(), **extra))


def _enumeration_source(state):
    """``(iterable, detail, trusted)`` of the enumeration, or ``(None, reason, False)``."""
    statement = state.statement
    if statement.enumerate is not None:
        try:
            return iter(statement.enumerate()), {}, True
        except Exception as error:
            raise InvalidInputError(
                f"{statement.name}: enumerate() must return an iterable of examples; it raised "
                f"{type(error).__name__}: {error}") from error
    if isinstance(state.part, str):
        return None, state.part, False
    return _small_scope_source(state.part, state.budget["enumeration"]["max_n"])


def _small_scope_source(part, most):
    """The small-scope examples of the part's domain (up to ``most`` tokens), put into its templates."""
    domain = part.domain
    max_n = min(most, domain.sizes[1])
    if max_n < domain.sizes[0]:
        return None, f"the statement's examples have more than {max_n} tokens", False
    heads = domain.heads if domain.kind == "system" else (1,)
    weights = "uniform" if "uniform_weights" in domain.requires else "varied"
    positive_walks = domain.kind == "walk" and "positive_diagonal" in domain.requires
    source = small_scope_examples(heads=heads, min_n=max(2, domain.sizes[0]), max_n=max_n,
                                  kind=domain.kind, exact=domain.exact is not False, weights=weights,
                                  staying=STAYING[1:] if positive_walks else STAYING)
    unit = {"system": "systems", "walk": "walks"}.get(domain.kind, "heads")
    if part.path:
        source = (part.fill(leaf, index) for index, leaf in enumerate(source))
    return source, {"unit": unit, "max_n": max_n, **part.detail()}, False


def _tokens(example):
    return max((_stack(leaf)[0].shape[-1] for leaf in _leaves(example)), default=0)


def _enumeration_stage(state):
    source, detail, trusted = _enumeration_source(state)
    if source is None:
        return Search("enumeration", detail={"skipped": detail})
    budget, start = state.budget["enumeration"], time.perf_counter()
    deadline, exhausted, reached = start + budget["seconds"], False, 0
    before = state.counts.get(("enumeration", "checked"), 0)
    try:
        while not state.done and time.perf_counter() < deadline:
            if state.counts.get(("enumeration", "checked"), 0) - before >= budget["examples"]:
                break
            example = next(source, _END)
            if example is _END:
                exhausted = True
                break
            reached = max(reached, _tokens(example))
            state.score(example, "enumeration", deadline, trusted=trusted)
    except _Timeout:
        pass
    checked = state.counts.get(("enumeration", "checked"), 0) - before
    if "max_n" in detail:
        detail["reached_n"] = reached
    return Search("enumeration", checked, time.perf_counter() - start, exhausted,
                  state.detail("enumeration", **detail))


def _local_search_stage(state):
    if state.statement.margin is None:
        return Search("local_search", detail={"skipped": "no margin"})
    seeds = [(example, margin) for example, margin in state.pool.best() if _leaf_paths(example)]
    if not seeds:
        reason = "no example with attention to perturb and a margin to start from"
        return Search("local_search", detail={"skipped": reason})
    budget, start = state.budget["local_search"], time.perf_counter()
    deadline = start + budget["seconds"]
    try:
        result = local_search(lambda example: state.score(example, "local_search", deadline), seeds,
                              moves=budget["examples"], seconds=budget["seconds"], seed=state.seed)
        moves, best = result.moves, result.value
    except _Timeout:
        moves, best = state.counts.get(("local_search", "checked"), 0), None
    detail = {"seeds": len(seeds), "seed": state.seed, "best_margin": best if best is None or
              math.isfinite(best) else None, "start_margin": seeds[0][1]}
    return Search("local_search", moves, time.perf_counter() - start, False,
                  state.detail("local_search", **detail))


def _evidence(searches):
    ran = [s.summary() for s in searches if s.stage in STAGES and "skipped" not in s.detail]
    skipped = [s.summary() for s in searches if s.stage in STAGES and "skipped" in s.detail]
    text = "no counterexample: " + ", ".join(ran)
    return text + (f"; {'; '.join(skipped)}" if skipped else "")


def _report(state):
    exact = state.exact_search()
    searches = tuple(state.searches) + ((exact,) if exact is not None else ())
    if state.refuted is not None:
        example, message, stage = state.refuted
        return HuntReport(REFUTED, example, message, stage, searches)
    if state.error is not None:
        return HuntReport(UNDECIDED, None, state.error, "hypothesis", searches)
    if state.unconfirmed is not None:
        example, message, stage = state.unconfirmed
        return HuntReport(UNDECIDED, example, message, stage, searches)
    return HuntReport(HOLDS, None, _evidence(searches), "search", searches)


def hunt(statement, *, examples=50, budget=None, derandomize=True, hunts=True, seed=None):
    """Search for a counterexample to a statement's property: sample, then hunt (see the module primer).

    Parameters
    ----------
    statement : Statement
        With a strategy and a check (:class:`~dagtheory.checks.Statement`).
    examples : int, keyword-only
        Examples Hypothesis draws from the statement's own strategy.
    budget : dict, keyword-only
        Per-stage budgets shaped like :data:`BUDGETS` ``["ci"]`` (the default).
    derandomize : bool, keyword-only
        Deterministic Hypothesis runs and a fixed local-search seed.
    hunts : bool, keyword-only
        False runs the old procedure only: plain Hypothesis sampling of the
        statement's strategy, without targeting (counterexamples are still
        re-verified exactly).
    seed : int, keyword-only
        Seed of a random hunt (``derandomize=False``), to replay one: the
        searches record it. Random when None.

    Returns
    -------
    HuntReport

    Raises
    ------
    InvalidInputError, InvalidTypeError
        When the statement's margin returns something that is not a finite
        number, or its ``enumerate()`` fails: a one-line message naming the
        statement and the value.

    Examples
    --------
    A false claim about two-token heads that random softmax heads almost
    never break: the enumeration reaches the edge-list head whose sink keeps
    99/100 of its row, and exact arithmetic confirms it. Plain sampling (the
    old procedure) misses it.

    >>> from dagtheory.checks import Statement
    >>> from dagtheory.strategies import causal_attention
    >>> def check(A):
    ...     assert not 0.985 < A[1, 1] < 0.995, f"A[1, 1] = {A[1, 1]}"
    >>> claim = Statement("no 0.99", "conjecture", causal_attention(n=2, temperature=1.0), check)
    >>> report = hunt(claim)
    >>> report.status, report.method, report.message
    ('refuted', 'enumeration', 'A[1, 1] = 99/100')
    >>> hunt(claim, hunts=False).message
    'no counterexample: hypothesis 50 examples'
    """
    budget = BUDGETS["ci"] if budget is None else budget
    state = _Hunt(statement, examples, budget, derandomize, targeted=hunts, seed=seed)
    state.searches.append(_hypothesis_stage(state))
    state.domain = infer_domain(state.samples, assume=statement.assume)
    state.part = _part(state.domain, state.samples) if hunts else None
    for stage in (_enumeration_stage, _structured_stage, _local_search_stage) if hunts else ():
        if state.done:
            break
        state.searches.append(stage(state))
    return _report(state)
