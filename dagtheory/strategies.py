"""Hypothesis strategies for attention heads, head systems and forward walks.

Property-based tests of the theory need inputs that satisfy its hypotheses
(§1: causal, row-stochastic attention; §3: forward walks with an absorbing
sink) and that also reach its edge cases:

* :func:`causal_attention` draws float heads as the softmax of Gaussian scores
  at a temperature that ranges from near-one-hot rows (very low temperature)
  to near-uniform rows (very high temperature);
* :func:`rational_attention`, :func:`edge_list_heads` and
  :func:`rational_systems` draw exact heads of ``Fraction`` entries (§7);
* :func:`edge_list_dags` draws sparse forward edge lists for §1's edge-list
  construction;
* :func:`head_systems` draws :class:`~dagtheory.HeadSystem` objects with
  weights on the simplex, its boundary included;
* :func:`near_trapped_walks` draws forward walks in which some non-sink nodes
  leave with a tiny probability but none is trapped, which is adversarial for
  mixing-time code.

Structured strategies reach the corners where a false mixing statement hides
and random softmax heads rarely go (the hunts of :mod:`dagtheory.hunts` run
them next to a statement's own strategy):

* :func:`sparse_attention` draws heads whose rows attend to a few tokens only,
  every other entry exactly 0;
* :func:`near_one_hot_attention` draws heads whose rows put ``1 - ε`` on one
  token, ``ε`` as small as 1e-12;
* :func:`near_trapped_systems` draws head systems in which some non-sink nodes
  leave with a tiny probability in some heads (the same nodes in every head,
  or other nodes per head), none trapped;
* :func:`edge_list_systems` draws systems of §1's edge-list heads in which some
  tokens keep a chosen share of their row, their *staying probability*
  (:data:`STAYING`: 1/2, 9/10, 99/100, 1 - 10^-6).

Every strategy checks its arguments when it is built, not when it is drawn
from, and the error names the argument and prints its value.

This module needs Hypothesis (the ``test`` extra); ``import dagtheory`` does
not import it.
"""

import math
import numbers
from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from ._arith import exact_rows
from .exceptions import InvalidInputError, InvalidTypeError
from .graph import HeadSystem, edge_list_attention

__all__ = [
    "causal_attention",
    "rational_attention",
    "edge_list_dags",
    "edge_list_heads",
    "head_systems",
    "rational_systems",
    "near_trapped_walks",
    "sparse_attention",
    "near_one_hot_attention",
    "near_trapped_systems",
    "edge_list_systems",
]

#: Temperatures drawn when none is given: near-one-hot rows at 0.01, near-uniform at 100.
TEMPERATURES = (0.01, 0.1, 1.0, 10.0, 100.0)

#: Edge densities drawn when none is given: empty, sparse, half and complete DAGs.
DENSITIES = (0.0, 0.1, 0.3, 0.5, 1.0)

#: Largest exit probability of a slow node of :func:`near_trapped_walks`.
MAX_EXIT = 1e-7

#: Staying probabilities of :func:`edge_list_systems`: None keeps §1's self-loop weight 1.
STAYING = (None, Fraction(1, 2), Fraction(9, 10), Fraction(99, 100), 1 - Fraction(1, 10**6))

#: Largest spill of :func:`near_one_hot_attention` and exit of :func:`near_trapped_systems`.
MAX_SPILL, MAX_SLOW_EXIT = 1e-2, 1e-1

_SEEDS = st.integers(0, 2**32 - 1)


# -- argument checks ----------------------------------------------------------

def _check_int(value, name, minimum):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}; got {value!r}")
    return int(value)


def _check_real(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(f"{name} must be a real number; got {value!r}")
    if not math.isfinite(value):
        raise InvalidInputError(f"{name} must be finite; got {value!r}")
    return float(value)


def _check_range(low, high, low_name, high_name, minimum):
    low = _check_int(low, low_name, minimum)
    high = _check_int(high, high_name, minimum)
    if high < low:
        raise InvalidInputError(f"{high_name} must be >= {low_name} = {low!r}; got {high!r}")
    return low, high


def _sizes(n, min_n, max_n):
    """A strategy for ``n``: fixed when given, else drawn from ``[min_n, max_n]``."""
    min_n, max_n = _check_range(min_n, max_n, "min_n", "max_n", 2)
    if n is not None:
        return st.just(_check_int(n, "n", 2))
    return st.integers(min_n, max_n)


def _check_temperature(temperature):
    if temperature is None:
        return st.sampled_from(TEMPERATURES)
    temperature = _check_real(temperature, "temperature")
    if temperature <= 0:
        raise InvalidInputError(f"temperature must be > 0; got {temperature!r}")
    return st.just(temperature)


def _check_density(density):
    if density is None:
        return st.sampled_from(DENSITIES)
    density = _check_real(density, "density")
    if not 0 <= density <= 1:
        raise InvalidInputError(f"density must lie in [0, 1]; got {density!r}")
    return st.just(density)


def _check_batch(batch):
    if not isinstance(batch, tuple):
        raise InvalidTypeError(f"batch must be a tuple of ints; got {batch!r}")
    return tuple(_check_int(size, f"batch[{axis}]", 1) for axis, size in enumerate(batch))


def _check_flag(value, name):
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidTypeError(f"{name} must be True or False; got {value!r}")
    return bool(value)


# -- float attention ------------------------------------------------------------

def causal_attention(n=None, *, min_n=2, max_n=12, temperature=None, batch=()):
    """Float causal row-stochastic attention: the causal softmax of Gaussian scores.

    Row ``i`` is ``softmax(z[i, :i+1] / T)`` with standard normal scores ``z``
    and zeros above the diagonal.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    temperature : float, keyword-only
        ``T > 0``. When None it is drawn from :data:`TEMPERATURES`, which holds
        0.01 (rows near one-hot) and 100 (rows near uniform).
    batch : tuple of int, keyword-only
        Leading batch axes, each at least 1.

    Returns
    -------
    SearchStrategy of ndarray, shape ``batch + (n, n)``, dtype float64
        Every draw passes :func:`dagtheory._validation.check_attention`. At very
        low temperature a weight can underflow to 0; a zero column then makes
        the forward walk (§3) undefined there.

    Raises
    ------
    InvalidInputError, InvalidTypeError
        On a bad argument, naming it and printing its value.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> A = find(causal_attention(n=3), lambda A: A[2].max() > 0.999,
    ...          settings=settings(database=None))
    >>> A.shape, A.dtype, bool(np.allclose(A.sum(axis=1), 1.0))
    ((3, 3), dtype('float64'), True)
    """
    sizes = _sizes(n, min_n, max_n)
    temperatures = _check_temperature(temperature)
    batch = _check_batch(batch)
    return _causal_attention(sizes, temperatures, batch)


def _softmax_causal(scores):
    n = scores.shape[-1]
    scores = np.where(np.tril(np.ones((n, n), dtype=bool)), scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


@st.composite
def _causal_attention(draw, sizes, temperatures, batch):
    n = draw(sizes)
    temperature = draw(temperatures)
    rng = np.random.default_rng(draw(_SEEDS))
    return _softmax_causal(rng.standard_normal(batch + (n, n)) / temperature)


# -- exact attention ------------------------------------------------------------

def rational_attention(n=None, *, min_n=2, max_n=6, max_weight=4, positive_diagonal=False):
    """Exact causal row-stochastic attention of ``Fraction`` entries (§7).

    Row ``i`` is a list of ``i + 1`` integer weights in ``[0, max_weight]``
    divided by its sum; an all-zero row becomes a self-loop.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    max_weight : int, keyword-only
        Largest integer weight (at least 1).
    positive_diagonal : bool, keyword-only
        Give every token a positive self-weight, so that no column is zero and
        the forward walk (§3) is defined.

    Returns
    -------
    SearchStrategy of ndarray, shape (n, n), dtype object
        Entries are ``Fraction``; every row sums exactly to 1.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> A = find(rational_attention(n=3), lambda A: A[2, 0] == Fraction(1, 2),
    ...          settings=settings(database=None))
    >>> A.dtype, A[2, 0], sum(A[2])
    (dtype('O'), Fraction(1, 2), Fraction(1, 1))
    """
    sizes = _sizes(n, min_n, max_n)
    max_weight = _check_int(max_weight, "max_weight", 1)
    positive_diagonal = _check_flag(positive_diagonal, "positive_diagonal")
    return _rational_attention(sizes, max_weight, positive_diagonal)


@st.composite
def _rational_attention(draw, sizes, max_weight, positive_diagonal):
    n = draw(sizes)
    rows = []
    for i in range(n):
        weights = draw(st.lists(st.integers(0, max_weight), min_size=i + 1, max_size=i + 1))
        if weights[i] == 0 and (positive_diagonal or not any(weights)):
            weights[i] = 1
        total = sum(weights)
        rows.append([Fraction(w, total) for w in weights] + [Fraction(0)] * (n - i - 1))
    return np.array(rows, dtype=object)


# -- edge lists -------------------------------------------------------------------

def edge_list_dags(n=None, *, min_n=2, max_n=10, density=None):
    """Sparse forward edge lists ``(n, edges)`` for §1's edge-list construction.

    Each forward pair ``(s, t)`` with ``s < t`` is an edge with probability
    ``density``.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    density : float, keyword-only
        Edge probability in ``[0, 1]``; drawn from :data:`DENSITIES` (empty to
        complete) when None.

    Returns
    -------
    SearchStrategy of (int, list of (int, int))
        ``n`` and a sorted list of distinct edges with ``0 <= s < t < n``.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> find(edge_list_dags(n=3, density=1.0), lambda dag: True,
    ...      settings=settings(database=None))
    (3, [(0, 1), (0, 2), (1, 2)])
    """
    sizes = _sizes(n, min_n, max_n)
    densities = _check_density(density)
    return _edge_list_dags(sizes, densities)


@st.composite
def _edge_list_dags(draw, sizes, densities):
    n = draw(sizes)
    density = draw(densities)
    rng = np.random.default_rng(draw(_SEEDS))
    pairs = [(s, t) for t in range(1, n) for s in range(t)]
    keep = rng.random(len(pairs)) < density
    return n, sorted(pair for pair, kept in zip(pairs, keep) if kept)


def edge_list_heads(n=None, *, min_n=2, max_n=10, density=None, exact=True):
    """Attention built from :func:`edge_list_dags` by §1's edge-list construction.

    Parameters
    ----------
    n, min_n, max_n, density
        As for :func:`edge_list_dags`.
    exact : bool, keyword-only
        ``Fraction`` entries (default) or float64.

    Returns
    -------
    SearchStrategy of ndarray, shape (n, n)
        Every token has a self-loop, so no column is zero.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> find(edge_list_heads(n=2, density=1.0), lambda A: True,
    ...      settings=settings(database=None))
    array([[Fraction(1, 1), Fraction(0, 1)],
           [Fraction(1, 2), Fraction(1, 2)]], dtype=object)
    """
    dags = edge_list_dags(n, min_n=min_n, max_n=max_n, density=density)
    exact = _check_flag(exact, "exact")
    return dags.map(lambda dag: edge_list_attention(*dag, exact=exact))


# -- head systems ------------------------------------------------------------------

def head_systems(*, min_heads=1, max_heads=4, min_n=2, max_n=8, exact=False, weights=True):
    """:class:`~dagtheory.HeadSystem` objects: heads on the same tokens, weights on the simplex.

    Parameters
    ----------
    min_heads, max_heads : int, keyword-only
        Range of the number of heads ``H`` (at least 1).
    min_n, max_n : int, keyword-only
        Range of the number of tokens.
    exact : bool, keyword-only
        Exact heads from :func:`rational_attention` with ``Fraction`` weights
        (as :func:`rational_systems`), or float heads from
        :func:`causal_attention`.
    weights : bool, keyword-only
        Draw weights (some may be zero: the boundary of the simplex), or use
        the uniform weights.

    Returns
    -------
    SearchStrategy of HeadSystem

    Examples
    --------
    >>> from hypothesis import Phase, find, settings
    >>> system = find(head_systems(min_heads=2, max_heads=2, exact=True), lambda s: True,
    ...               settings=settings(database=None, phases=[Phase.generate]))
    >>> system.H, system.is_exact, sum(system.weights)
    (2, True, Fraction(1, 1))
    """
    heads = st.integers(*_check_range(min_heads, max_heads, "min_heads", "max_heads", 1))
    sizes = _sizes(None, min_n, max_n)
    exact = _check_flag(exact, "exact")
    weights = _check_flag(weights, "weights")
    if exact:
        return _rational_systems(heads, sizes, 4, False, weights)
    return _float_systems(heads, sizes, weights)


def rational_systems(*, min_heads=1, max_heads=3, min_n=2, max_n=6, max_weight=4,
                     positive_diagonal=False, weights=True):
    """Exact :class:`~dagtheory.HeadSystem` objects for exact checks (§7).

    Parameters
    ----------
    min_heads, max_heads : int, keyword-only
        Range of the number of heads ``H`` (at least 1).
    min_n, max_n, max_weight, positive_diagonal
        As for :func:`rational_attention`, for every head.
    weights : bool, keyword-only
        Draw ``Fraction`` weights on the simplex (some may be zero), or use the
        uniform weights.

    Returns
    -------
    SearchStrategy of HeadSystem
        Attention and weights are ``Fraction`` arrays.

    Examples
    --------
    >>> from hypothesis import Phase, find, settings
    >>> system = find(rational_systems(positive_diagonal=True), lambda s: s.H == 3,
    ...               settings=settings(database=None, phases=[Phase.generate]))
    >>> system.H, system.attention.dtype, sum(system.weights)
    (3, dtype('O'), Fraction(1, 1))
    """
    heads = st.integers(*_check_range(min_heads, max_heads, "min_heads", "max_heads", 1))
    sizes = _sizes(None, min_n, max_n)
    max_weight = _check_int(max_weight, "max_weight", 1)
    positive_diagonal = _check_flag(positive_diagonal, "positive_diagonal")
    weights = _check_flag(weights, "weights")
    return _rational_systems(heads, sizes, max_weight, positive_diagonal, weights)


def _simplex_weights(draw, count):
    """Integer weights in ``[0, 5]``, not all zero: points on the simplex, boundary included."""
    return draw(st.lists(st.integers(0, 5), min_size=count, max_size=count).filter(any))


@st.composite
def _rational_systems(draw, heads, sizes, max_weight, positive_diagonal, weights):
    count, n = draw(heads), draw(sizes)
    head = _rational_attention(st.just(n), max_weight, positive_diagonal)
    attention = np.stack([draw(head) for _ in range(count)])
    if not weights:
        return HeadSystem(attention)
    raw = _simplex_weights(draw, count)
    return HeadSystem(attention, np.array([Fraction(w, sum(raw)) for w in raw], dtype=object))


@st.composite
def _float_systems(draw, heads, sizes, weights):
    count, n = draw(heads), draw(sizes)
    head = _causal_attention(st.just(n), st.sampled_from(TEMPERATURES), ())
    attention = np.stack([draw(head) for _ in range(count)])
    if not weights:
        return HeadSystem(attention)
    raw = np.array(_simplex_weights(draw, count), dtype=float)
    return HeadSystem(attention, raw / raw.sum())


# -- forward walks -------------------------------------------------------------------

def near_trapped_walks(n=None, *, min_n=3, max_n=10, min_exit=1e-12):
    """Forward walks (§3) in which some non-sink nodes almost never leave.

    The walk is upper-triangular and row-stochastic with an absorbing sink. At
    least one non-sink node is *slow*: it leaves with a probability drawn
    log-uniformly from ``[min_exit, MAX_EXIT]`` (:data:`MAX_EXIT` is 1e-7). Every
    non-sink node leaves with positive probability, so none is trapped and
    every mixing time is finite, though possibly huge.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    min_exit : float, keyword-only
        Smallest exit probability of a slow node, in
        ``[np.finfo(float).tiny, MAX_EXIT]``.

    Returns
    -------
    SearchStrategy of ndarray, shape (n, n), dtype float64
        Every draw passes :func:`dagtheory._validation.check_walk`, and
        :func:`dagtheory.trapped_nodes` of it is empty.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> from dagtheory._arith import leave_mass
    >>> P = find(near_trapped_walks(n=4), lambda P: True, settings=settings(database=None))
    >>> P.shape, bool(P[3, 3] == 1.0), bool(leave_mass(P)[:-1].min() < 1e-6)
    ((4, 4), True, True)
    """
    sizes = _sizes(n, min_n, max_n)
    min_exit = _check_real(min_exit, "min_exit")
    tiny = float(np.finfo(float).tiny)
    if not tiny <= min_exit <= MAX_EXIT:
        raise InvalidInputError(
            f"min_exit must lie in [{tiny:g}, {MAX_EXIT:g}] (a tiny positive probability); "
            f"got {min_exit!r}"
        )
    return _near_trapped_walks(sizes, math.log10(min_exit))


@st.composite
def _near_trapped_walks(draw, sizes, low_exponent):
    n = draw(sizes)
    slow = draw(st.sets(st.integers(0, n - 2), min_size=1))
    rng = np.random.default_rng(draw(_SEEDS))
    walk = np.zeros((n, n))
    walk[n - 1, n - 1] = 1.0
    for j in range(n - 1):
        later = rng.dirichlet(np.ones(n - 1 - j))
        if j in slow:
            exponent = draw(st.floats(low_exponent, math.log10(MAX_EXIT)))
            moves = np.maximum(later * 10.0 ** exponent, 0.0)
            moves[np.argmax(later)] = max(moves.max(), 10.0 ** low_exponent)
        else:
            stay = rng.choice([0.0, rng.random()])
            moves = (1.0 - stay) * later
        walk[j, j + 1:] = moves
        walk[j, j] = max(1.0 - moves.sum(), 0.0)  # rounding can leave -1e-16
    return walk


# -- structured heads and systems ------------------------------------------------------

def _check_log_range(low, high, low_name, high_name, ceiling):
    """``(log10 low, log10 high)`` of a range of tiny probabilities in ``[tiny, ceiling]``."""
    low, high = _check_real(low, low_name), _check_real(high, high_name)
    tiny = float(np.finfo(float).tiny)
    for value, name in ((low, low_name), (high, high_name)):
        if not tiny <= value <= ceiling:
            raise InvalidInputError(
                f"{name} must lie in [{tiny:g}, {ceiling:g}] (a small positive probability); got {value!r}")
    if high < low:
        raise InvalidInputError(f"{high_name} must be >= {low_name} = {low!r}; got {high!r}")
    return math.log10(low), math.log10(high)


def _check_staying(staying):
    """The staying probabilities as a tuple of None and Fractions in (0, 1)."""
    if staying is None:
        return STAYING
    if not isinstance(staying, (tuple, list)) or not staying:
        raise InvalidTypeError(f"staying must be a non-empty tuple of probabilities; got {staying!r}")
    checked = []
    for position, value in enumerate(staying):
        if value is not None:
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                raise InvalidTypeError(f"staying[{position}] must be None or a real number; got {value!r}")
            value = value if isinstance(value, Fraction) else Fraction(str(value))
            if not 0 < value < 1:
                raise InvalidInputError(
                    f"staying[{position}] must be None or a probability in (0, 1); got {staying[position]!r}")
        checked.append(value)
    return tuple(checked)


def _sparse_weights(rng, n, density, positive_diagonal):
    """Integer row weights in ``[1, 4]`` on a random causal support; an empty row keeps its diagonal."""
    keep = np.tril(rng.random((n, n)) < density)
    if positive_diagonal:
        keep |= np.eye(n, dtype=bool)
    empty = np.flatnonzero(~keep.any(axis=1))
    keep[empty, empty] = True
    return np.where(keep, rng.integers(1, 5, size=(n, n)), 0)


def _rows_of_weights(weights, exact):
    """Integer weights divided by their row sums, exactly or in float64."""
    totals = weights.sum(axis=1)
    if not exact:
        return weights / totals[:, None]
    rows = [[Fraction(int(w), int(totals[i])) for w in row] for i, row in enumerate(weights)]
    return np.array(rows, dtype=object)


def _one_hot_rows(rng, n, low, high):
    """Float causal rows with ``1 - ε`` on one token and ``ε = 10^U(low, high)`` spread over the rest."""
    attention = np.zeros((n, n))
    attention[0, 0] = 1.0
    for i in range(1, n):
        spill = 10.0 ** rng.uniform(low, high)
        row = np.zeros(i + 1)
        peak = rng.integers(0, i + 1)
        row[np.arange(i + 1) != peak] = spill * rng.dirichlet(np.ones(i))
        row[peak] = 1.0 - spill
        attention[i, :i + 1] = row
    return attention


def sparse_attention(n=None, *, min_n=2, max_n=8, density=None, exact=False, positive_diagonal=False):
    """Sparse causal attention: each row attends to a random few tokens, every other entry exactly 0.

    Each entry on or below the diagonal is kept with probability ``density``
    and given an integer weight in ``[1, 4]``; rows are divided by their sums.
    A row that keeps nothing attends to itself.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    density : float, keyword-only
        Probability in ``[0, 1]`` of keeping an entry; drawn from
        :data:`DENSITIES` when None.
    exact : bool, keyword-only
        ``Fraction`` entries, or float64 (default).
    positive_diagonal : bool, keyword-only
        Keep every diagonal entry, so that no column is zero and the forward
        walk (§3) is defined.

    Returns
    -------
    SearchStrategy of ndarray, shape (n, n)
        Causal and row-stochastic (exactly so when ``exact``).

    Raises
    ------
    InvalidInputError, InvalidTypeError
        On a bad argument, naming it and printing its value.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> A = find(sparse_attention(n=4, density=0.3, exact=True), lambda A: A[3, 3] == 0,
    ...          settings=settings(database=None))
    >>> A.dtype, sum(A[3]), bool((A == 0).sum() >= 6)
    (dtype('O'), Fraction(1, 1), True)
    """
    sizes = _sizes(n, min_n, max_n)
    densities = _check_density(density)
    exact = _check_flag(exact, "exact")
    positive_diagonal = _check_flag(positive_diagonal, "positive_diagonal")
    return _sparse_attention(sizes, densities, exact, positive_diagonal)


@st.composite
def _sparse_attention(draw, sizes, densities, exact, positive_diagonal):
    n, density = draw(sizes), draw(densities)
    rng = np.random.default_rng(draw(_SEEDS))
    return _rows_of_weights(_sparse_weights(rng, n, density, positive_diagonal), exact)


def near_one_hot_attention(n=None, *, min_n=2, max_n=8, min_spill=1e-12, max_spill=MAX_SPILL, exact=False):
    """Causal attention whose rows are nearly one-hot: ``1 - ε`` on one token, ``ε`` on the others.

    Row ``i ≥ 1`` puts ``1 - ε_i`` on a random token ``j ≤ i`` and spreads
    ``ε_i`` (log-uniform in ``[min_spill, max_spill]``) over the other
    ``i`` tokens. Unlike a softmax at low temperature, no entry underflows to 0.

    Parameters
    ----------
    n : int, optional
        Number of tokens (at least 2); drawn from ``[min_n, max_n]`` when None.
    min_n, max_n : int, keyword-only
        Range of ``n`` when it is drawn.
    min_spill, max_spill : float, keyword-only
        Range of ``ε``, within ``[np.finfo(float).tiny, MAX_SPILL]``
        (:data:`MAX_SPILL` is 1e-2).
    exact : bool, keyword-only
        ``Fraction`` entries (each float's exact value, rows renormalized
        exactly), or float64 (default).

    Returns
    -------
    SearchStrategy of ndarray, shape (n, n)

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> A = find(near_one_hot_attention(n=3), lambda A: True, settings=settings(database=None))
    >>> bool(A[1:].max(axis=1).min() > 0.99), bool((A[2] > 0).all())
    (True, True)
    """
    sizes = _sizes(n, min_n, max_n)
    low, high = _check_log_range(min_spill, max_spill, "min_spill", "max_spill", MAX_SPILL)
    exact = _check_flag(exact, "exact")
    return _near_one_hot_attention(sizes, low, high, exact)


@st.composite
def _near_one_hot_attention(draw, sizes, low, high, exact):
    n = draw(sizes)
    rows = _one_hot_rows(np.random.default_rng(draw(_SEEDS)), n, low, high)
    return exact_rows(rows) if exact else rows


def _untrapped(attention):
    """A copy in which every token attends to itself and every non-sink token is attended to later."""
    attention = attention.copy()
    n = attention.shape[0]
    for j in range(n):
        if attention[j, j] == 0:
            attention[j, :j + 1] *= 0.5
            attention[j, j] += 0.5
        if j < n - 1 and not (attention[j + 1:, j] > 0).any():
            attention[n - 1] *= 0.5
            attention[n - 1, j] += 0.5
    return attention


def _starve(attention, j, exit_probability):
    """Make the forward walk (§3) leave ``j`` with probability at most ``exit_probability``.

    The later tokens' attention to ``j`` is scaled down and the mass moved to
    their own diagonals, so no other token leaves faster.
    """
    below = attention[j + 1:, j]
    factor = exit_probability * attention[j, j] / ((1.0 - exit_probability) * below.sum())
    if factor >= 1.0:
        return
    moved = (1.0 - factor) * below
    later = np.arange(j + 1, attention.shape[0])
    attention[later, j] = below - moved
    attention[later, later] += moved


def _base_head(rng, n):
    """A float head: a causal softmax, a sparse head or a near-one-hot head, at random."""
    style = rng.integers(3)
    if style == 0:
        return _softmax_causal(rng.standard_normal((n, n)) / rng.choice((0.3, 1.0, 3.0, 10.0)))
    if style == 1:
        return _rows_of_weights(_sparse_weights(rng, n, rng.choice(DENSITIES), False), False)
    return _one_hot_rows(rng, n, -6.0, -2.0)


def _near_trapped_head(rng, n, slow, low, high):
    attention = _untrapped(_base_head(rng, n))
    for j in sorted(slow, reverse=True):
        _starve(attention, j, 10.0 ** rng.uniform(low, high))
    return attention


def near_trapped_systems(*, min_heads=1, max_heads=3, min_n=2, max_n=6, min_exit=1e-9,
                         max_exit=MAX_SLOW_EXIT, exact=False, weights=True):
    """Head systems in which some non-sink nodes almost never leave, in some heads.

    Each head starts as a causal softmax, a sparse head or a near-one-hot head
    (at random); every token is then made to attend to itself and to be
    attended to by a later token, so no column is zero and no node is trapped.
    Then some *slow* non-sink nodes get forward exit probability (§3,
    ``1 - P[j, j]``) at most ``e``, with ``e`` log-uniform in
    ``[min_exit, max_exit]``: the later tokens' attention to a slow node is
    moved to their own diagonals. Half of the draws slow the same nodes in
    every head (so the mixture walk is slow there too); the others slow
    other nodes per head, at least one in the first head.

    Parameters
    ----------
    min_heads, max_heads : int, keyword-only
        Range of the number of heads ``H`` (at least 1).
    min_n, max_n : int, keyword-only
        Range of the number of tokens.
    min_exit, max_exit : float, keyword-only
        Range of the exit probability of a slow node, within
        ``[np.finfo(float).tiny, MAX_SLOW_EXIT]`` (:data:`MAX_SLOW_EXIT` is 0.1).
    exact : bool, keyword-only
        ``Fraction`` attention and weights (each float's exact value, rows
        renormalized exactly), or float64 (default).
    weights : bool, keyword-only
        Draw weights on the simplex (boundary included), or use uniform ones.

    Returns
    -------
    SearchStrategy of HeadSystem
        Every head has a positive diagonal and no trapped node.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> from dagtheory._arith import leave_mass
    >>> system = find(near_trapped_systems(min_heads=2, max_heads=2, max_exit=1e-6),
    ...               lambda s: True, settings=settings(database=None))
    >>> exits = leave_mass(system.walks[0])[:-1]
    >>> system.H, bool(exits.min() <= 1e-6), bool((exits > 0).all())
    (2, True, True)
    """
    heads = st.integers(*_check_range(min_heads, max_heads, "min_heads", "max_heads", 1))
    sizes = _sizes(None, min_n, max_n)
    low, high = _check_log_range(min_exit, max_exit, "min_exit", "max_exit", MAX_SLOW_EXIT)
    exact = _check_flag(exact, "exact")
    weights = _check_flag(weights, "weights")
    return _near_trapped_systems(heads, sizes, low, high, exact, weights)


def _system(draw, attention, exact, weights):
    """A HeadSystem of stacked heads, with drawn simplex weights or uniform ones."""
    count = attention.shape[0]
    if not weights:
        return HeadSystem(attention)
    raw = _simplex_weights(draw, count)
    if exact:
        return HeadSystem(attention, np.array([Fraction(w, sum(raw)) for w in raw], dtype=object))
    return HeadSystem(attention, np.array(raw, dtype=float) / sum(raw))


@st.composite
def _near_trapped_systems(draw, heads, sizes, low, high, exact, weights):
    count, n = draw(heads), draw(sizes)
    slow_nodes = st.sets(st.integers(0, n - 2), min_size=1)
    if draw(st.booleans()):
        slow = [draw(slow_nodes)] * count
    else:
        slow = [draw(slow_nodes)] + [draw(st.sets(st.integers(0, n - 2))) for _ in range(count - 1)]
    rng = np.random.default_rng(draw(_SEEDS))
    attention = np.stack([_near_trapped_head(rng, n, nodes, low, high) for nodes in slow])
    return _system(draw, exact_rows(attention) if exact else attention, exact, weights)


def edge_list_systems(*, min_heads=1, max_heads=3, min_n=2, max_n=6, density=None, staying=None,
                      exact=True, weights=True):
    """Systems of §1's edge-list heads in which tokens keep a chosen share of their row.

    Each head is an edge list from :func:`edge_list_dags`. Every token ``i``
    with in-edges draws a *staying probability* ``s`` from ``staying``: row
    ``i`` keeps ``s`` on its diagonal and its in-edges share ``1 - s``
    equally (``None`` is §1's construction: self-loop and each edge weight
    1). A staying probability near 1 makes ``i`` slow in the backward walk
    (§2) and starves its in-edges, so the tokens that send only to ``i``
    become slow in the forward walk (§3): near-trapped nodes with exact,
    simple rational weights.

    Parameters
    ----------
    min_heads, max_heads : int, keyword-only
        Range of the number of heads ``H`` (at least 1).
    min_n, max_n, density
        As for :func:`edge_list_dags`, for every head.
    staying : tuple, keyword-only
        Values drawn for each token: None or probabilities in ``(0, 1)``
        (Fractions, or floats read by their decimal text). Default
        :data:`STAYING`: None, 1/2, 9/10, 99/100 and 1 - 10^-6.
    exact : bool, keyword-only
        ``Fraction`` attention and weights (default) or float64.
    weights : bool, keyword-only
        Draw weights on the simplex (boundary included), or use uniform ones.

    Returns
    -------
    SearchStrategy of HeadSystem
        Every token attends to itself (positive diagonal), so every forward
        walk is defined.

    Examples
    --------
    >>> from hypothesis import find, settings
    >>> system = find(edge_list_systems(min_heads=2, max_heads=2, min_n=3, max_n=3, density=1.0),
    ...               lambda s: s.attention[0, 2, 2] == Fraction(99, 100), settings=settings(database=None))
    >>> system.attention[0, 2]
    array([Fraction(1, 200), Fraction(1, 200), Fraction(99, 100)], dtype=object)
    """
    heads = st.integers(*_check_range(min_heads, max_heads, "min_heads", "max_heads", 1))
    sizes = _sizes(None, min_n, max_n)
    densities = _check_density(density)
    staying = _check_staying(staying)
    exact = _check_flag(exact, "exact")
    weights = _check_flag(weights, "weights")
    return _edge_list_systems(heads, sizes, densities, staying, exact, weights)


@st.composite
def _edge_list_systems(draw, heads, sizes, densities, staying, exact, weights):
    count, n = draw(heads), draw(sizes)
    attention = []
    for _ in range(count):
        _, edges = draw(_edge_list_dags(st.just(n), densities))
        stays = {i: draw(st.sampled_from(staying)) for i in range(1, n)}
        attention.append(edge_list_attention(n, edges, exact=exact, staying=stays))
    return _system(draw, np.stack(attention), exact, weights)
