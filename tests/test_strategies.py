"""Tests of dagtheory.strategies: every draw satisfies the theory's hypotheses."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings

import dagtheory
from dagtheory import HeadSystem, trapped_nodes
from dagtheory import strategies as ds
from dagtheory._arith import leave_mass
from dagtheory._validation import check_attention, check_walk
from dagtheory.exceptions import InvalidInputError, InvalidTypeError

#: For existence proofs with ``find``: no database, and no shrinking (only existence matters).
FIND = settings(database=None, max_examples=500, phases=[Phase.generate])


def _causal(array):
    n = array.shape[-1]
    return not np.any(array[..., np.triu(np.ones((n, n), dtype=bool), 1)] != 0)


def _exactly_stochastic(array):
    assert all(isinstance(x, Fraction) for x in array.flat)
    assert all(sum(row) == 1 for row in array.reshape(-1, array.shape[-1]))


def test_public_names_are_exported():
    assert set(ds.__all__) == {
        "causal_attention", "rational_attention", "edge_list_dags", "edge_list_heads",
        "head_systems", "rational_systems", "near_trapped_walks", "sparse_attention",
        "near_one_hot_attention", "near_trapped_systems", "edge_list_systems",
    }
    assert all(callable(getattr(ds, name)) for name in ds.__all__)


def test_importing_dagtheory_does_not_need_the_strategies():
    assert "strategies" not in dagtheory.__all__


# -- float attention ------------------------------------------------------------

@given(ds.causal_attention())
def test_causal_attention_is_valid(A):
    assert A.dtype == np.float64 and A.ndim == 2 and 2 <= A.shape[0] <= 12
    assert _causal(A)
    np.testing.assert_array_equal(check_attention(A).shape, A.shape)


@given(ds.causal_attention(n=5, temperature=0.5, batch=(2, 3)))
def test_causal_attention_batch_and_fixed_n(A):
    assert A.shape == (2, 3, 5, 5)
    check_attention(A)


def test_near_one_hot_rows_occur():
    A = find(ds.causal_attention(n=6), lambda A: A[-1].max() > 1 - 1e-6, settings=FIND)
    check_attention(A)


def test_near_uniform_rows_occur():
    def uniform_last_row(A):
        return np.abs(A[-1] - 1 / A.shape[0]).max() < 1e-3

    A = find(ds.causal_attention(n=6), uniform_last_row, settings=FIND)
    check_attention(A)


@given(ds.causal_attention(n=4, temperature=1e4))
def test_high_fixed_temperature_gives_uniform_rows(A):
    np.testing.assert_allclose(A[-1], 0.25, atol=1e-3)


# -- exact attention --------------------------------------------------------------

@given(ds.rational_attention())
def test_rational_attention_is_exact(A):
    assert A.dtype == object and 2 <= A.shape[0] <= 6 and _causal(A)
    _exactly_stochastic(A)
    check_attention(A)


@given(ds.rational_attention(n=4, max_weight=2, positive_diagonal=True))
def test_rational_attention_positive_diagonal(A):
    assert A.shape == (4, 4)
    assert all(A[i, i] > 0 for i in range(4))
    dagtheory.forward_walk(A)


# -- edge lists ---------------------------------------------------------------------

@given(ds.edge_list_dags())
def test_edge_list_dags_go_forward(dag):
    n, edges = dag
    assert 2 <= n <= 10
    assert edges == sorted(set(edges))
    assert all(isinstance(s, int) and isinstance(t, int) and 0 <= s < t < n for s, t in edges)


@pytest.mark.parametrize(("density", "count"), [(0.0, lambda n: 0), (1.0, lambda n: n * (n - 1) // 2)])
def test_edge_list_dags_extreme_densities(density, count):
    @given(ds.edge_list_dags(min_n=3, max_n=5, density=density))
    def check(dag):
        assert len(dag[1]) == count(dag[0])

    check()


@given(ds.edge_list_heads())
def test_edge_list_heads_are_exact(A):
    _exactly_stochastic(A)
    check_attention(A)
    dagtheory.forward_walk(A)


@given(ds.edge_list_heads(n=4, exact=False))
def test_edge_list_heads_float(A):
    assert A.dtype == np.float64 and A.shape == (4, 4)
    check_attention(A)


# -- head systems ----------------------------------------------------------------------

@given(ds.head_systems())
def test_float_head_systems(system):
    assert isinstance(system, HeadSystem) and not system.is_exact
    assert 1 <= system.H <= 4 and 2 <= system.n <= 8
    check_attention(system.attention)
    assert system.weights.shape == (system.H,)
    assert (system.weights >= 0).all() and abs(system.weights.sum() - 1) < 1e-12


@given(ds.head_systems(min_heads=2, max_heads=2, weights=False))
def test_head_systems_uniform_weights(system):
    np.testing.assert_array_equal(system.weights, [0.5, 0.5])


@given(ds.head_systems(exact=True, max_n=5))
def test_exact_head_systems(system):
    assert system.is_exact
    _exactly_stochastic(system.attention)
    assert sum(system.weights) == 1


@given(ds.rational_systems(positive_diagonal=True))
def test_rational_systems(system):
    assert isinstance(system, HeadSystem) and system.is_exact and 1 <= system.H <= 3
    _exactly_stochastic(system.attention)
    assert all(isinstance(w, Fraction) and w >= 0 for w in system.weights)
    assert sum(system.weights) == 1
    check_walk(system.mixture_walk())


def test_weights_reach_the_boundary_of_the_simplex():
    find(ds.rational_systems(min_heads=2), lambda s: 0 in s.weights, settings=FIND)


# -- near-trapped walks -------------------------------------------------------------------

@given(ds.near_trapped_walks())
def test_near_trapped_walks(P):
    assert P.dtype == np.float64 and 3 <= P.shape[0] <= 10
    check_walk(P)
    assert P[-1, -1] == 1.0
    assert trapped_nodes(P) == []
    exits = leave_mass(P)[:-1]
    assert (exits > 0).all()
    assert exits.min() < 1e-6


@given(ds.near_trapped_walks(n=2, min_exit=np.finfo(float).tiny))
def test_near_trapped_walks_smallest_exit(P):
    check_walk(P)
    assert trapped_nodes(P) == [] and 0 < P[0, 1] < 1e-6


# -- structured heads and systems ---------------------------------------------------------------

@given(ds.sparse_attention())
def test_sparse_attention_is_valid_and_sparse(A):
    assert A.dtype == np.float64 and 2 <= A.shape[0] <= 8 and _causal(A)
    check_attention(A)


@given(ds.sparse_attention(n=5, density=0.1, exact=True, positive_diagonal=True))
def test_sparse_attention_exact_with_positive_diagonal(A):
    _exactly_stochastic(A)
    assert all(A[i, i] > 0 for i in range(5))
    dagtheory.forward_walk(A)


def test_sparse_rows_keep_few_tokens():
    A = find(ds.sparse_attention(n=6, density=0.1), lambda A: (A[5] == 0).sum() >= 5, settings=FIND)
    check_attention(A)


@given(ds.near_one_hot_attention(min_spill=1e-9, max_spill=1e-6))
def test_near_one_hot_rows(A):
    check_attention(A)
    peaks = A[1:].max(axis=1)
    assert (peaks >= 1 - 1e-6 - 1e-12).all() and (peaks < 1).all()
    assert (A[np.tril_indices(A.shape[0])] > 0).all()


@given(ds.near_one_hot_attention(n=3, exact=True))
def test_near_one_hot_exact(A):
    _exactly_stochastic(A)


@given(ds.near_trapped_systems(max_exit=1e-5))
def test_near_trapped_systems_have_slow_but_no_trapped_nodes(system):
    assert isinstance(system, HeadSystem) and not system.is_exact and 1 <= system.H <= 3
    check_attention(system.attention)
    exits = np.array([leave_mass(walk)[:-1] for walk in system.walks])
    assert (exits > 0).all(), "a node is trapped"
    assert exits[0].min() <= 1e-5 * (1 + 1e-9), "no slow node in the first head"
    assert all(system.attention[h, i, i] > 0 for h in range(system.H) for i in range(system.n))


def test_near_trapped_systems_slow_the_same_node_in_every_head():
    def shared(system):
        exits = np.array([leave_mass(walk)[:-1] for walk in system.walks])
        return (exits <= 1e-3).all(axis=0).any()

    find(ds.near_trapped_systems(min_heads=2, max_exit=1e-3), shared, settings=FIND)


@given(ds.near_trapped_systems(min_heads=2, max_heads=2, exact=True, weights=False))
def test_near_trapped_systems_exact(system):
    assert system.is_exact and system.H == 2
    _exactly_stochastic(system.attention)
    assert list(system.weights) == [Fraction(1, 2)] * 2


@given(ds.edge_list_systems())
def test_edge_list_systems_are_exact_with_staying_probabilities(system):
    assert system.is_exact and 1 <= system.H <= 3 and 2 <= system.n <= 6
    _exactly_stochastic(system.attention)
    allowed = {s for s in ds.STAYING if s is not None}
    for head in system.attention:
        for i in range(1, system.n):
            sources = [j for j in range(i) if head[i, j] != 0]
            if not sources:
                assert head[i, i] == 1
            elif head[i, i] not in allowed:
                assert head[i, i] == Fraction(1, len(sources) + 1)  # §1's own weights
            assert len({head[i, j] for j in sources}) <= 1  # in-edges share equally
    dagtheory.mixture_mixing_bound(system)


def test_edge_list_systems_reach_near_trapped_nodes():
    def slow(system):
        return any(head[i, i] == 1 - Fraction(1, 10**6) for head in system.attention for i in range(system.n))

    find(ds.edge_list_systems(density=1.0), slow, settings=FIND)


@given(ds.edge_list_systems(min_n=3, max_n=3, staying=(0.9,), exact=False, weights=False))
def test_edge_list_systems_float_and_custom_staying(system):
    assert not system.is_exact and system.attention.dtype == np.float64
    for head in system.attention:
        for i in range(1, 3):
            if (head[i, :i] > 0).any():
                assert head[i, i] == pytest.approx(0.9)


# -- argument errors -------------------------------------------------------------------------

@pytest.mark.parametrize(("build", "error", "match"), [
    (lambda: ds.causal_attention(min_n=1), InvalidInputError, "min_n must be at least 2; got 1"),
    (lambda: ds.causal_attention(min_n=5, max_n=3), InvalidInputError, "max_n must be >= min_n = 5; got 3"),
    (lambda: ds.causal_attention(n=1), InvalidInputError, "n must be at least 2; got 1"),
    (lambda: ds.causal_attention(n=2.0), InvalidTypeError, r"n must be an int; got 2\.0"),
    (lambda: ds.causal_attention(temperature=-1.0), InvalidInputError, r"temperature must be > 0; got -1\.0"),
    (lambda: ds.causal_attention(temperature=0), InvalidInputError, r"temperature must be > 0; got 0\.0"),
    (lambda: ds.causal_attention(temperature=float("nan")), InvalidInputError, "temperature must be finite; got nan"),
    (lambda: ds.causal_attention(temperature="hot"), InvalidTypeError, "temperature must be a real number; got 'hot'"),
    (lambda: ds.causal_attention(batch=[2]), InvalidTypeError, r"batch must be a tuple of ints; got \[2\]"),
    (lambda: ds.causal_attention(batch=(2, 0)), InvalidInputError, r"batch\[1\] must be at least 1; got 0"),
    (lambda: ds.rational_attention(max_weight=0), InvalidInputError, "max_weight must be at least 1; got 0"),
    (lambda: ds.rational_attention(positive_diagonal=1), InvalidTypeError, "positive_diagonal must be True or False; got 1"),
    (lambda: ds.edge_list_dags(density=1.5), InvalidInputError, r"density must lie in \[0, 1\]; got 1\.5"),
    (lambda: ds.edge_list_heads(max_n=1), InvalidInputError, "max_n must be at least 2; got 1"),
    (lambda: ds.edge_list_heads(exact="yes"), InvalidTypeError, "exact must be True or False; got 'yes'"),
    (lambda: ds.head_systems(min_heads=0), InvalidInputError, "min_heads must be at least 1; got 0"),
    (lambda: ds.head_systems(min_heads=3, max_heads=2), InvalidInputError, "max_heads must be >= min_heads = 3; got 2"),
    (lambda: ds.rational_systems(min_n=0), InvalidInputError, "min_n must be at least 2; got 0"),
    (lambda: ds.near_trapped_walks(min_exit=0.0), InvalidInputError, r"min_exit must lie in .*; got 0\.0"),
    (lambda: ds.near_trapped_walks(min_exit=0.5), InvalidInputError, r"min_exit must lie in .*; got 0\.5"),
    (lambda: ds.near_trapped_walks(min_n=True), InvalidTypeError, "min_n must be an int; got True"),
    (lambda: ds.sparse_attention(density=-0.1), InvalidInputError, r"density must lie in \[0, 1\]; got -0\.1"),
    (lambda: ds.sparse_attention(positive_diagonal="yes"), InvalidTypeError,
     "positive_diagonal must be True or False; got 'yes'"),
    (lambda: ds.near_one_hot_attention(max_spill=0.5), InvalidInputError, r"max_spill must lie in .*; got 0\.5"),
    (lambda: ds.near_one_hot_attention(min_spill=1e-3, max_spill=1e-4), InvalidInputError,
     r"max_spill must be >= min_spill = 0\.001; got 0\.0001"),
    (lambda: ds.near_trapped_systems(min_exit=0.0), InvalidInputError, r"min_exit must lie in .*; got 0\.0"),
    (lambda: ds.near_trapped_systems(max_exit="tiny"), InvalidTypeError, "max_exit must be a real number; got 'tiny'"),
    (lambda: ds.near_trapped_systems(max_heads=0), InvalidInputError, "max_heads must be at least 1; got 0"),
    (lambda: ds.edge_list_systems(staying=(1.0,)), InvalidInputError,
     r"staying\[0\] must be None or a probability in \(0, 1\); got 1\.0"),
    (lambda: ds.edge_list_systems(staying=()), InvalidTypeError, r"staying must be a non-empty tuple .*; got \(\)"),
    (lambda: ds.edge_list_systems(staying=(None, "half")), InvalidTypeError,
     r"staying\[1\] must be None or a real number; got 'half'"),
    (lambda: ds.edge_list_systems(exact=1), InvalidTypeError, "exact must be True or False; got 1"),
])
def test_argument_errors_are_eager_and_name_the_value(build, error, match):
    with pytest.raises(error, match=match):
        build()
