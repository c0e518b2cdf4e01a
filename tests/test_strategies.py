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
        "head_systems", "rational_systems", "near_trapped_walks",
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
])
def test_argument_errors_are_eager_and_name_the_value(build, error, match):
    with pytest.raises(error, match=match):
        build()
