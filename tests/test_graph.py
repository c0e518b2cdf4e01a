"""Tests of dagtheory.graph: sink-rooted DAGs, head systems and the forward walk.

Known answers are exact Fractions worked out by hand from docs/theory.md:
§1 (edge-list construction, head graph, depth, cut-off nodes, learned weights),
§2 (the combined operator Δ̄(β) = Σ_h β_h Δ^(h), Example 2) and §3 (the forward
walk P[j, i] = A[i, j] / Σ_k A[k, j] and the mixture P̄(α) = Σ_h α_h P^(h)).
"""

import re
from fractions import Fraction

import networkx as nx
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dagtheory.examples import EXAMPLE2_EDGES, paper_example2
from dagtheory.exceptions import InvalidInputError, InvalidTypeError, ZeroColumnError
from dagtheory.graph import (
    HeadSystem,
    SinkDAG,
    edge_list_attention,
    forward_walk,
    learned_head_weights,
    longest_paths_to_sink,
)
from strategies import float_attention, rational_attention, rational_system, to_float

F = Fraction


def exact(rows):
    """An exact object array from nested lists of ints and Fractions."""
    return np.array([[F(v) for v in row] for row in rows], dtype=object)


#: Example 2 (§2), head 1: edges 0→1, 1→2, 2→3, by §1's edge-list construction.
EX2_A1 = exact([
    [1, 0, 0, 0],
    [F(1, 2), F(1, 2), 0, 0],
    [0, F(1, 2), F(1, 2), 0],
    [0, 0, F(1, 2), F(1, 2)],
])
#: Example 2 (§2), head 2: edges 0→2, 1→2, 1→3, 2→3.
EX2_A2 = exact([
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [F(1, 3), F(1, 3), F(1, 3), 0],
    [0, F(1, 3), F(1, 3), F(1, 3)],
])
#: §3's walk of head 1: column sums of A1 are 3/2, 1, 1, 1/2.
EX2_P1 = exact([
    [F(2, 3), F(1, 3), 0, 0],
    [0, F(1, 2), F(1, 2), 0],
    [0, 0, F(1, 2), F(1, 2)],
    [0, 0, 0, 1],
])
#: §3's walk of head 2: column sums of A2 are 4/3, 5/3, 2/3, 1/3.
EX2_P2 = exact([
    [F(3, 4), 0, F(1, 4), 0],
    [0, F(3, 5), F(1, 5), F(1, 5)],
    [0, 0, F(1, 2), F(1, 2)],
    [0, 0, 0, 1],
])
#: §2: Δ̄(1/2, 1/2) = (A1 + A2) / 2.
EX2_COMBINED = exact([
    [1, 0, 0, 0],
    [F(1, 4), F(3, 4), 0, 0],
    [F(1, 6), F(5, 12), F(5, 12), 0],
    [0, F(1, 6), F(5, 12), F(5, 12)],
])
#: §3: P̄(1/2, 1/2) = (P1 + P2) / 2, the paper's mixture of per-head walks.
EX2_MIXTURE = exact([
    [F(17, 24), F(1, 6), F(1, 8), 0],
    [0, F(11, 20), F(7, 20), F(1, 10)],
    [0, 0, F(1, 2), F(1, 2)],
    [0, 0, 0, 1],
])
#: §3: the walk of the combined attention: column sums of Ā are 17/12, 4/3, 5/6, 5/12.
EX2_COMBINED_WALK = exact([
    [F(12, 17), F(3, 17), F(2, 17), 0],
    [0, F(9, 16), F(5, 16), F(1, 8)],
    [0, 0, F(1, 2), F(1, 2)],
    [0, 0, 0, 1],
])


def assert_exact_equal(actual, expected):
    """Entry-for-entry equality of exact arrays, and every entry a Fraction."""
    actual = np.asarray(actual)
    assert actual.dtype == object
    assert actual.shape == np.shape(expected)
    assert all(type(v) is Fraction for v in actual.ravel())
    assert actual.tolist() == np.asarray(expected).tolist()


# ---------------------------------------------------------------------------
# edge_list_attention (§1's edge-list construction)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("edges, expected", [
    (EXAMPLE2_EDGES[0], EX2_A1),
    (EXAMPLE2_EDGES[1], EX2_A2),
    ((), np.eye(4, dtype=int) * F(1)),
])
def test_edge_list_attention_known_answers(edges, expected):
    """§1: self-loop 1 on every node, +1 at [t, s] per edge s → t, rows divided by their sums."""
    assert_exact_equal(edge_list_attention(4, edges), expected)


def test_edge_list_attention_repeated_edge_adds_twice():
    """§1: the edge 0 → 2 listed twice adds 2 at [2, 0]; row 2 is (2, 1, 1) / 4."""
    A = edge_list_attention(3, [(0, 2), (1, 2), (0, 2)])
    assert_exact_equal(A, exact([
        [1, 0, 0],
        [0, 1, 0],
        [F(1, 2), F(1, 4), F(1, 4)],
    ]))


def test_edge_list_attention_fan_in_to_the_sink():
    """§1: the sink receiving from every node has row (1, 1, 1, 1, 1) / 5."""
    A = edge_list_attention(5, [(j, 4) for j in range(4)])
    assert A[4].tolist() == [F(1, 5)] * 5
    assert A[:4].tolist() == np.eye(4, 5, dtype=int).tolist()


def test_edge_list_attention_float_mode_matches_exact():
    """§1: the float construction equals the exact one (Example 2, head 2)."""
    A = edge_list_attention(4, EXAMPLE2_EDGES[1], exact=False)
    assert A.dtype == np.float64
    assert np.allclose(A, to_float(EX2_A2), rtol=0, atol=1e-15)


@pytest.mark.parametrize("edge, shown", [((2, 1), r"\(2, 1\)"), ((1, 1), r"\(1, 1\)"),
                                         ((0, 4), r"\(0, 4\)"), ((-1, 2), r"\(-1, 2\)")])
def test_edge_list_attention_refuses_edges_that_do_not_go_forward(edge, shown):
    """§1: edges j → i with j < i only (backward, self and out-of-range edges are refused)."""
    with pytest.raises(InvalidInputError,
                       match=rf"edge 1 is {shown}; edges must go forward, 0 <= s < t < n = 4"):
        edge_list_attention(4, [(0, 1), edge])


@pytest.mark.parametrize("edge", [(0, 1, 2), (3,), 3, ("a", 1), None])
def test_edge_list_attention_refuses_edges_that_are_not_pairs(edge):
    with pytest.raises(InvalidInputError, match=r"edge 0 must be a pair \(s, t\) of ints; got "):
        edge_list_attention(4, [edge])


def test_edge_list_attention_refuses_fewer_than_two_nodes():
    with pytest.raises(InvalidInputError, match=r"n must be at least 2; got 1"):
        edge_list_attention(1, [])


def test_edge_list_attention_refuses_non_integer_endpoints():
    with pytest.raises(InvalidInputError, match=r"edge 0 must be a pair \(s, t\) of ints"):
        edge_list_attention(3, [(0.5, 1.7)])


# edge_list_attention(..., staying=...): token i keeps staying[i] on its self-loop, its in-edges share the rest

@pytest.mark.parametrize("edges, staying, row, expected", [
    # 9/10 stays at the sink; 0 → 2 and 1 → 2 share 1/10: 1/20 each.
    ([(0, 2), (1, 2)], {2: F(9, 10)}, 2, [F(1, 20), F(1, 20), F(9, 10)]),
    # The edge 0 → 2 listed twice: counts (2, 1) share 9/10, so 3/5 and 3/10.
    ([(0, 2), (1, 2), (0, 2)], {2: F(1, 10)}, 2, [F(3, 5), F(3, 10), F(1, 10)]),
    # staying 1 (an int): the row is the self-loop alone; staying 0: the in-edges take all.
    ([(0, 2), (1, 2)], {2: 1}, 2, [0, 0, 1]),
    ([(0, 1), (1, 2)], {1: 0}, 1, [1, 0, 0]),
])
def test_edge_list_attention_staying_known_rows(edges, staying, row, expected):
    A = edge_list_attention(3, edges, staying=staying)
    default = edge_list_attention(3, edges)
    assert all(type(v) is Fraction for v in A.ravel())
    assert A[row].tolist() == expected
    others = [i for i in range(3) if i != row]
    assert A[others].tolist() == default[others].tolist()
    assert A.sum(axis=1).tolist() == [1, 1, 1]


def test_edge_list_attention_staying_float_mode():
    """The same row in float64, from a float or an exact staying probability."""
    for stay in (0.9, F(9, 10)):
        A = edge_list_attention(3, [(0, 2), (1, 2)], exact=False, staying={2: stay})
        assert A.dtype == np.float64
        assert np.allclose(A, [[1, 0, 0], [0, 1, 0], [0.05, 0.05, 0.9]], rtol=0, atol=1e-15)


def test_edge_list_attention_staying_without_in_edges_keeps_the_whole_row():
    """Tokens 0 and 1 receive no edge: whatever their staying value, their rows stay one-hot."""
    staying = {0: F(1, 2), 1: F(1, 3)}
    for exact_mode in (True, False):
        A = edge_list_attention(3, [(0, 2)], exact=exact_mode, staying=staying)
        assert A.tolist() == edge_list_attention(3, [(0, 2)], exact=exact_mode).tolist()
        assert A[:2].tolist() == [[1, 0, 0], [0, 1, 0]]


def test_edge_list_attention_staying_none_means_the_default():
    edges = [(0, 1), (1, 2)]
    default = edge_list_attention(3, edges)
    assert edge_list_attention(3, edges, staying={2: None}).tolist() == default.tolist()
    assert edge_list_attention(3, edges, staying={}).tolist() == default.tolist()
    A = edge_list_attention(3, edges, staying={1: F(1, 3), 2: None})
    assert A.tolist() == [[1, 0, 0], [F(2, 3), F(1, 3), 0], [0, F(1, 2), F(1, 2)]]


@pytest.mark.parametrize("key", [3, -1, "a", True, 1.0])
def test_edge_list_attention_staying_refuses_a_bad_key(key):
    with pytest.raises(InvalidInputError, match=rf"staying has the key {re.escape(repr(key))}; "
                                                r"keys are tokens 0\.\.2"):
        edge_list_attention(3, [(0, 2)], staying={key: F(1, 2)})


@pytest.mark.parametrize("exact_mode, value, wanted", [
    (True, F(3, 2), r"an exact number \(Fraction or int\)"),
    (True, -1, r"an exact number \(Fraction or int\)"),
    (False, 1.5, "a real number"),
    (False, -0.1, "a real number"),
    (False, float("nan"), "a real number"),
])
def test_edge_list_attention_staying_refuses_a_value_outside_0_1(exact_mode, value, wanted):
    with pytest.raises(InvalidInputError, match=rf"staying\[2\] = {re.escape(repr(value))}; "
                                                rf"it must be {wanted} in \[0, 1\]"):
        edge_list_attention(3, [(0, 2)], exact=exact_mode, staying={2: value})


@pytest.mark.parametrize("value", [0.9, np.float64(0.5), True, "1/2"])
def test_edge_list_attention_staying_refuses_an_inexact_value_when_exact(value):
    with pytest.raises(InvalidInputError, match=rf"staying\[2\] = {re.escape(repr(value))}; "
                                                r"it must be an exact number \(Fraction or int\) in \[0, 1\]"):
        edge_list_attention(3, [(0, 2)], staying={2: value})


@pytest.mark.parametrize("staying", [[0.5], 0.5, "2"])
def test_edge_list_attention_staying_refuses_a_non_mapping(staying):
    with pytest.raises(InvalidTypeError, match=rf"staying must be a mapping of token to probability; "
                                               rf"got {re.escape(repr(staying))}"):
        edge_list_attention(3, [(0, 2)], staying=staying)


# ---------------------------------------------------------------------------
# forward_walk (§3)
# ---------------------------------------------------------------------------

def test_forward_walk_hand_computed():
    """§3: column sums of A are 11/6, 5/6, 1/3, so P[0] = (1, 1/2, 1/3) · 6/11, etc."""
    A = exact([
        [1, 0, 0],
        [F(1, 2), F(1, 2), 0],
        [F(1, 3), F(1, 3), F(1, 3)],
    ])
    assert_exact_equal(forward_walk(A), exact([
        [F(6, 11), F(3, 11), F(2, 11)],
        [0, F(3, 5), F(2, 5)],
        [0, 0, 1],
    ]))


@pytest.mark.parametrize("A, P", [(EX2_A1, EX2_P1), (EX2_A2, EX2_P2)])
def test_forward_walk_of_example2_heads(A, P):
    """§3 on Example 2's heads (hand-computed)."""
    assert_exact_equal(forward_walk(A), P)


def test_forward_walk_float_matches_exact():
    """§3: the float walk of Example 2's head 2 agrees with the exact one."""
    P = forward_walk(to_float(EX2_A2))
    assert P.dtype == np.float64
    assert np.allclose(P, to_float(EX2_P2), rtol=0, atol=1e-15)


def test_forward_walk_batched_equals_per_matrix_exact():
    """§3: the walk of a stack of heads is the stack of their walks."""
    stack = np.stack([EX2_A1, EX2_A2])
    walks = forward_walk(stack)
    assert walks.shape == (2, 4, 4)
    assert_exact_equal(walks[0], EX2_P1)
    assert_exact_equal(walks[1], EX2_P2)


@given(float_attention(batch=(3,)))
def test_forward_walk_batched_equals_per_matrix_float(stack):
    """§3: the walk of a stack is the stack of walks."""
    walks = forward_walk(stack)
    for A, P in zip(stack, walks):
        np.testing.assert_array_equal(P, forward_walk(A))


@given(rational_system(min_heads=2, positive_diagonal=True))
def test_forward_walk_batched_equals_per_matrix_rational(system):
    """§3: batched walks equal per-matrix walks, exactly, on random exact stacks."""
    stack, _ = system
    walks = forward_walk(stack)
    for A, P in zip(stack, walks):
        assert walks.dtype == object
        assert P.tolist() == forward_walk(A).tolist()


@given(rational_attention(positive_diagonal=True))
def test_forward_walk_is_exactly_stochastic_and_upper_triangular(A):
    """§3: P is row-stochastic (exactly, in exact mode), moves only forward, and P[τ] = e_τ."""
    P = forward_walk(A)
    n = A.shape[0]
    assert all(sum(row) == 1 for row in P)
    assert all(P[j, i] == 0 for j in range(n) for i in range(j))
    assert all(P[j, i] >= 0 for j in range(n) for i in range(n))
    assert P[n - 1].tolist() == [0] * (n - 1) + [1]


@given(rational_attention())
def test_forward_walk_sink_policy_is_always_stochastic(A):
    """§3: with zero_columns="sink" the walk is defined and exactly stochastic for every head."""
    P = forward_walk(A, zero_columns="sink")
    assert all(sum(row) == 1 for row in P)


@given(rational_attention(positive_diagonal=True))
def test_forward_walk_definition_entrywise(A):
    """§3: P[j, i] = A[i, j] / Σ_k A[k, j], checked entry by entry."""
    P = forward_walk(A)
    n = A.shape[0]
    for j in range(n):
        column = sum(A[k, j] for k in range(n))
        assert [P[j, i] for i in range(n)] == [A[i, j] / column for i in range(n)]


def test_forward_walk_sink_row_is_the_unit_vector():
    """§3: column τ of A holds only A[τ, τ], so P[τ] = e_τ (the sink is absorbing)."""
    P = forward_walk(np.array([[1.0, 0, 0, 0], [0.3, 0.7, 0, 0], [0.1, 0.1, 0.8, 0],
                               [0.2, 0.2, 0.2, 0.4]]))
    assert P[3].tolist() == [0.0, 0.0, 0.0, 1.0]


#: Token 1 is attended to by nobody, not even itself: column 1 is all zero.
ZERO_COLUMN = exact([
    [1, 0, 0],
    [1, 0, 0],
    [F(1, 2), 0, F(1, 2)],
])


def test_zero_column_raises_naming_the_token():
    """§3: P is undefined at a token nobody attends to; the error names it."""
    with pytest.raises(ZeroColumnError, match=r"^token 1 is attended to by no token.*column 1 of A"):
        forward_walk(ZERO_COLUMN)


def test_zero_column_in_a_batch_names_the_batch_index():
    """§3: in a stack, the error names the token and the matrix holding it."""
    stack = np.stack([exact([[1, 0, 0], [F(1, 2), F(1, 2), 0], [0, F(1, 2), F(1, 2)]]), ZERO_COLUMN])
    with pytest.raises(ZeroColumnError, match=r"token 1 \(batch index \(1,\)\)"):
        forward_walk(stack)


def test_zero_sink_diagonal_raises_naming_the_sink():
    """§3: A[τ, τ] = 0 leaves column τ all zero, so the sink row of P is undefined."""
    A = exact([[1, 0, 0], [F(1, 2), F(1, 2), 0], [0, 1, 0]])
    with pytest.raises(ZeroColumnError, match=r"^token 2 is attended to by no token"):
        forward_walk(A)


def test_zero_column_routed_to_the_sink():
    """§3: on request, the mass of a token nobody attends to goes straight to τ.

    Column 0 sums to 5/2, so P[0] = (1, 1, 1/2) · 2/5; P[1] = e_τ.
    """
    P = forward_walk(ZERO_COLUMN, zero_columns="sink")
    assert_exact_equal(P, exact([
        [F(2, 5), F(2, 5), F(1, 5)],
        [0, 0, 1],
        [0, 0, 1],
    ]))


def test_zero_column_routed_to_the_sink_in_a_batch():
    """§3: the sink policy acts on the faulty head only."""
    stack = np.stack([np.eye(3), to_float(ZERO_COLUMN)])
    P = forward_walk(stack, zero_columns="sink")
    np.testing.assert_array_equal(P[0], np.eye(3))
    np.testing.assert_allclose(P[1], [[0.4, 0.4, 0.2], [0, 0, 1], [0, 0, 1]], rtol=0, atol=1e-15)


def test_forward_walk_refuses_an_unknown_policy():
    with pytest.raises(InvalidInputError, match=r"zero_columns must be 'raise' or 'sink'; got 'drop'"):
        forward_walk(EX2_A1, zero_columns="drop")


def test_forward_walk_validates_its_input():
    """§1: attention passed transposed (a walk) has mass above the diagonal."""
    with pytest.raises(InvalidInputError, match=r"not causal: mass above the diagonal at row 0, column 1"):
        forward_walk(EX2_P1)


# ---------------------------------------------------------------------------
# longest_paths_to_sink (§1's depth)
# ---------------------------------------------------------------------------

def test_longest_paths_to_sink_known_answer():
    """§1: edges 0→1, 0→2, 1→3, 2→3, 1→2: longest paths 3, 2, 1, 0."""
    e = np.zeros((4, 4), dtype=bool)
    for j, i in [(0, 1), (0, 2), (1, 3), (2, 3), (1, 2)]:
        e[j, i] = True
    assert longest_paths_to_sink(e).tolist() == [3, 2, 1, 0]
    e[2, 3] = False
    e[1, 3] = False
    assert longest_paths_to_sink(e).tolist() == [-1, -1, -1, 0]


# ---------------------------------------------------------------------------
# SinkDAG (§1)
# ---------------------------------------------------------------------------

def test_sinkdag_basic_attributes():
    """§1: n, τ = n - 1, Δ = A (§2) and P (§3) of Example 2, head 1."""
    dag = SinkDAG(EX2_A1)
    assert (dag.n, dag.sink, dag.is_exact) == (4, 3, True)
    assert_exact_equal(dag.diffusion, EX2_A1)
    assert_exact_equal(dag.walk, EX2_P1)
    assert repr(dag) == "SinkDAG(n=4, depth=3, cut_off=[], exact)"
    assert SinkDAG(to_float(EX2_A1)).is_exact is False


def test_depth_of_a_chain_of_four_is_three():
    """§1: 0 → 1 → 2 → 3 has 3 edges."""
    assert SinkDAG.from_edges(4, [(0, 1), (1, 2), (2, 3)]).depth == 3


def test_depth_of_example2_heads():
    """§1 on Example 2: head 1 is the chain (depth 3); head 2's longest path is 0→2→3 (depth 2)."""
    assert SinkDAG.from_edges(4, EXAMPLE2_EDGES[0]).depth == 3
    assert SinkDAG.from_edges(4, EXAMPLE2_EDGES[1]).depth == 2


def test_depth_ignores_shortcuts():
    """§1: the longest path counts, not the shortest: 0→3 is a shortcut of 0→1→2→3."""
    assert SinkDAG.from_edges(4, [(0, 3), (0, 1), (1, 2), (2, 3)]).depth == 3
    assert SinkDAG.from_edges(4, [(0, 3), (1, 3), (2, 3)]).depth == 1


#: Node 1 is attended only by itself: it has no path to τ = 3 (cut off) and P[1, 1] = 1.
CUT_OFF_1 = exact([
    [1, 0, 0, 0],
    [0, 1, 0, 0],
    [F(1, 2), 0, F(1, 2), 0],
    [0, 0, F(1, 2), F(1, 2)],
])


def test_cut_off_node_is_listed_by_index():
    """§1: node 1 has no directed path to the sink."""
    dag = SinkDAG(CUT_OFF_1)
    assert dag.cut_off == [1]
    assert dag.trapped == [1]
    assert dag.depth == 2
    assert repr(dag) == "SinkDAG(n=4, depth=2, cut_off=[1], exact)"


def test_cut_off_but_not_trapped():
    """§1 and §3: node 1 sends to node 2, which is attended only by itself.

    Both are cut off; only node 2 is trapped (P[2, 2] = 1). Node 1's walk row is
    (0, 2/3, 1/3, 0, 0): column 1 of A sums to 1 + 1/2.
    """
    A = exact([
        [1, 0, 0, 0, 0],
        [0, 1, 0, 0, 0],
        [0, F(1, 2), F(1, 2), 0, 0],
        [F(1, 2), 0, 0, F(1, 2), 0],
        [0, 0, 0, F(1, 2), F(1, 2)],
    ])
    dag = SinkDAG(A)
    assert dag.cut_off == [1, 2]
    assert dag.trapped == [2]
    assert dag.depth == 2
    assert dag.walk[1].tolist() == [0, F(2, 3), F(1, 3), 0, 0]


def test_trapped_is_empty_for_a_sink_rooted_head():
    """§3: every non-sink node of Example 2's heads leaves with positive probability."""
    assert SinkDAG(EX2_A1).trapped == []
    assert SinkDAG(EX2_A2).trapped == []


def test_trapped_reports_a_node_whose_walk_never_leaves():
    """§3: a non-sink node j with P[j, j] = 1, in float mode."""
    dag = SinkDAG(to_float(CUT_OFF_1))
    assert dag.trapped == [1]


#: Entries 1/2 (edge 0→1), 1/10 and 1/5 (weak edges) and 3/5 (edge 2→3).
THRESHOLD_A = exact([
    [1, 0, 0, 0],
    [F(1, 2), F(1, 2), 0, 0],
    [F(1, 10), F(1, 5), F(7, 10), 0],
    [F(1, 10), F(1, 10), F(3, 5), F(1, 5)],
])


def test_threshold_shapes_the_graph():
    """§1: G(A, θ) keeps the edges with A[i, j] > θ (strictly)."""
    full = SinkDAG(THRESHOLD_A)
    assert full.depth == 3 and full.cut_off == []
    assert [(j, i) for j, i, _ in full.edges()] == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]

    sparse = SinkDAG(THRESHOLD_A, threshold=0.25)
    assert sparse.edges() == [(0, 1, F(1, 2)), (2, 3, F(3, 5))]
    assert sparse.depth == 1
    assert sparse.cut_off == [0, 1]

    # The edge 0 → 1 has weight exactly 1/2: θ = 1/2 removes it.
    at_half = SinkDAG(THRESHOLD_A, threshold=F(1, 2))
    assert at_half.edges() == [(2, 3, F(3, 5))]
    assert at_half.cut_off == [0, 1]


def test_threshold_leaves_diffusion_and_walk_unchanged():
    """§1: θ shapes the graph views only; Δ (§2) and P (§3) use the full weights."""
    full = SinkDAG(THRESHOLD_A)
    sparse = SinkDAG(THRESHOLD_A, threshold=0.25)
    assert sparse.diffusion.tolist() == full.diffusion.tolist() == THRESHOLD_A.tolist()
    assert sparse.walk.tolist() == full.walk.tolist()
    assert sparse.trapped == full.trapped == []


def test_edges_carry_the_attention_weight():
    """§1: the edge j → i of G(A) carries A[i, j]."""
    assert SinkDAG(EX2_A2).edges() == [
        (0, 2, F(1, 3)), (1, 2, F(1, 3)), (1, 3, F(1, 3)), (2, 3, F(1, 3))]


def test_to_networkx_edges_weights_and_sink():
    """§1: edges j → i with weight A[i, j], self-loops from the diagonal, graph['sink'] = τ."""
    g = SinkDAG(EX2_A1).to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert g.graph["sink"] == 3
    assert sorted(g.nodes) == [0, 1, 2, 3]
    assert sorted(g.edges(data="weight")) == [
        (0, 0, F(1)), (0, 1, F(1, 2)),
        (1, 1, F(1, 2)), (1, 2, F(1, 2)),
        (2, 2, F(1, 2)), (2, 3, F(1, 2)),
        (3, 3, F(1, 2)),
    ]


def test_to_networkx_without_self_loops():
    """§1: with self-loops excluded, G(A) is a DAG (here the chain 0→1→2→3)."""
    g = SinkDAG(EX2_A1).to_networkx(self_loops=False)
    assert sorted(g.edges) == [(0, 1), (1, 2), (2, 3)]
    assert nx.number_of_selfloops(g) == 0
    assert nx.is_directed_acyclic_graph(g)


def test_to_networkx_keeps_cut_off_nodes_and_applies_the_threshold_to_self_loops():
    """§1: θ = 1/4 drops the weak edges and the sink's self-loop (A[3, 3] = 1/5)."""
    g = SinkDAG(THRESHOLD_A, threshold=0.25).to_networkx()
    assert sorted(g.nodes) == [0, 1, 2, 3]
    assert sorted(g.edges(data="weight")) == [
        (0, 0, F(1)), (0, 1, F(1, 2)), (1, 1, F(1, 2)), (2, 2, F(7, 10)), (2, 3, F(3, 5))]
    g = SinkDAG(CUT_OFF_1).to_networkx(self_loops=False)
    assert 1 in g.nodes and g.degree(1) == 0
    assert not nx.has_path(g, 1, g.graph["sink"])


def test_to_networkx_float_weights():
    """§1: edge j → i carries A[i, j] in float mode too."""
    A = to_float(EX2_A2)
    g = SinkDAG(A).to_networkx(self_loops=False)
    for j, i, w in g.edges(data="weight"):
        assert w == A[i, j]


@st.composite
def sink_rooted_edges(draw, max_n=8):
    """A random edge list in which every non-sink node has an out-edge (nothing cut off)."""
    n = draw(st.integers(2, max_n))
    edges = []
    for j in range(n - 1):
        targets = draw(st.sets(st.integers(j + 1, n - 1), min_size=1))
        edges += [(j, t) for t in sorted(targets)]
    return n, edges


@given(sink_rooted_edges())
def test_depth_equals_networkx_longest_path_on_random_dags(case):
    """§1: with nothing cut off, L(G) is the DAG's longest path (unweighted, no self-loops)."""
    n, edges = case
    dag = SinkDAG.from_edges(n, edges)
    assert dag.cut_off == []
    g = dag.to_networkx(self_loops=False)
    assert sorted(g.edges) == sorted(edges)
    assert dag.depth == nx.dag_longest_path_length(g, weight=None)


@given(rational_attention(max_n=7))
def test_depth_and_cut_off_agree_with_networkx(A):
    """§1 on random heads: cut_off is the set of nodes with no path to τ; the depth is the
    longest path among the others; with nothing cut off it is networkx's longest path."""
    dag = SinkDAG(A)
    g = dag.to_networkx(self_loops=False)
    sink = g.graph["sink"]
    reaching = nx.ancestors(g, sink) | {sink}
    assert dag.cut_off == sorted(set(range(dag.n)) - reaching)
    assert dag.depth == nx.dag_longest_path_length(g.subgraph(reaching), weight=None)
    if not dag.cut_off:
        assert dag.depth == nx.dag_longest_path_length(g, weight=None)


def test_sinkdag_refuses_a_stack_of_heads():
    with pytest.raises(InvalidInputError,
                       match=r"SinkDAG holds one head, shape \(n, n\); got shape \(2, 4, 4\)"):
        SinkDAG(np.stack([EX2_A1, EX2_A2]))


def test_sinkdag_refuses_bad_options():
    with pytest.raises(InvalidInputError, match=r"zero_columns must be 'raise' or 'sink'; got 'skip'"):
        SinkDAG(EX2_A1, zero_columns="skip")
    with pytest.raises(InvalidInputError, match=r"threshold must be finite and >= 0; got -0\.5"):
        SinkDAG(EX2_A1, threshold=-0.5)


def test_sinkdag_validates_attention():
    """§1: rows must sum to 1 (here row 3 sums to 3/4)."""
    with pytest.raises(InvalidInputError, match=r"row 3 of A sums to 3/4, not 1"):
        SinkDAG(exact([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, F(1, 4), F(1, 2)]]))


def test_sinkdag_zero_column_policy_reaches_the_walk():
    """§3: the walk is undefined at a zero column unless the sink policy is chosen."""
    dag = SinkDAG(ZERO_COLUMN)
    assert dag.cut_off == [1]
    with pytest.raises(ZeroColumnError, match=r"token 1"):
        dag.walk
    routed = SinkDAG(ZERO_COLUMN, zero_columns="sink")
    assert routed.walk[1].tolist() == [0, 0, 1]
    assert routed.trapped == []
    # The graph views read A, not the walk: token 1 stays cut off (§1).
    assert routed.cut_off == [1]


def test_sinkdag_arrays_are_read_only_and_detached_from_the_input():
    A = to_float(EX2_A1)
    dag = SinkDAG.from_attention(A)
    assert not dag.diffusion.flags.writeable
    assert not dag.walk.flags.writeable
    A[1, 0] = 0.9
    assert dag.diffusion[1, 0] == 0.5


# ---------------------------------------------------------------------------
# HeadSystem (§1, §2, §3)
# ---------------------------------------------------------------------------

def test_headsystem_from_edges_is_example2():
    """§2 Example 2 built by §1's edge-list construction, weights (1/2, 1/2)."""
    system = paper_example2()
    assert (system.H, system.n, system.sink, system.is_exact) == (2, 4, 3, True)
    assert_exact_equal(system.attention[0], EX2_A1)
    assert_exact_equal(system.attention[1], EX2_A2)
    assert repr(system) == "HeadSystem(H=2, n=4, weights=[1/2, 1/2], exact)"


def test_default_weights_are_uniform_exact_fractions():
    """§1: default weights are uniform; exact for an exact system."""
    stack = np.stack([EX2_A1, EX2_A2, EX2_A1])
    assert_exact_equal(HeadSystem(stack).weights, [F(1, 3)] * 3)


def test_default_weights_are_uniform_floats():
    """§1: uniform default weights, 1/H each, in float mode."""
    system = HeadSystem(to_float(np.stack([EX2_A1, EX2_A2, EX2_A1, EX2_A2])))
    assert system.weights.dtype == np.float64
    assert system.weights.tolist() == [0.25] * 4


def test_explicit_weights_are_renormalized():
    """§1: weights on the simplex; (1, 3) becomes (1/4, 3/4)."""
    stack = np.stack([EX2_A1, EX2_A2])
    assert_exact_equal(HeadSystem(stack, [1, 3]).weights, [F(1, 4), F(3, 4)])
    assert_exact_equal(HeadSystem(stack, [F(2, 3), F(2, 3)]).weights, [F(1, 2), F(1, 2)])
    assert HeadSystem(to_float(stack), [2.0, 6.0]).weights.tolist() == [0.25, 0.75]


def test_weights_of_the_wrong_length_are_refused():
    with pytest.raises(InvalidInputError,
                       match=r"weights must have length 2 \(one per head\); got shape \(3,\)"):
        HeadSystem(np.stack([EX2_A1, EX2_A2]), [1, 1, 1])


def test_weights_of_the_wrong_shape_are_refused():
    with pytest.raises(InvalidInputError, match=r"weights must have shape \(2,\); got \(1, 2\)"):
        HeadSystem(np.stack([EX2_A1, EX2_A2]), [[1, 1]])


def test_float_weights_are_refused_for_an_exact_system():
    with pytest.raises(InvalidTypeError, match=r"weights must be exact"):
        HeadSystem(np.stack([EX2_A1, EX2_A2]), [0.3, 0.7])


def test_weights_are_read_only():
    assert not paper_example2().weights.flags.writeable


#: Out-projection with head 0's columns all 1 and head 1's all 2 (E = 4, d = 2):
#: Frobenius norms √8 and √32 = 2√8, so learned weights 1/3 and 2/3 (§1).
OUT_PROJ_1_2 = np.hstack([np.ones((4, 2)), 2 * np.ones((4, 2))])


def test_learned_weights_from_an_out_projection():
    """§1: importances are Frobenius norms of each head's column block, then normalized."""
    system = HeadSystem(to_float(np.stack([EX2_A1, EX2_A2])), "learned", out_proj=OUT_PROJ_1_2)
    assert system.weights.dtype == np.float64
    np.testing.assert_allclose(system.weights, [1 / 3, 2 / 3], rtol=0, atol=1e-15)


def test_learned_weights_use_column_blocks_not_row_blocks():
    """§1: the blocks are the *input columns* of W_out; the transpose gives equal norms."""
    np.testing.assert_allclose(learned_head_weights(OUT_PROJ_1_2, 2), [1 / 3, 2 / 3], atol=1e-15)
    np.testing.assert_allclose(learned_head_weights(OUT_PROJ_1_2.T, 2), [1 / 2, 1 / 2], atol=1e-15)


def test_learned_weights_need_e_divisible_by_h():
    stack = to_float(np.stack([EX2_A1, EX2_A2]))
    with pytest.raises(InvalidInputError, match=r"out_proj has 3 input columns, not divisible by 2 heads"):
        HeadSystem(stack, "learned", out_proj=np.ones((4, 3)))


def test_learned_weights_are_refused_for_an_exact_system():
    """§1/§7: Frobenius norms are irrational in general; an exact system needs exact weights."""
    with pytest.raises(InvalidTypeError, match=r"learned weights are norms"):
        HeadSystem(np.stack([EX2_A1, EX2_A2]), "learned", out_proj=OUT_PROJ_1_2)


def test_learned_weights_option_errors():
    stack = to_float(np.stack([EX2_A1, EX2_A2]))
    with pytest.raises(InvalidInputError, match=r'weights="learned" needs out_proj'):
        HeadSystem(stack, "learned")
    with pytest.raises(InvalidInputError, match=r'out_proj is only used with weights="learned"'):
        HeadSystem(stack, out_proj=OUT_PROJ_1_2)
    with pytest.raises(InvalidInputError,
                       match=r"""weights must be None, an array or "learned"; got 'uniform'"""):
        HeadSystem(stack, "uniform")


def test_learned_head_weights_against_numpy():
    """§1: w_h = ‖W_out[:, h·d:(h+1)·d]‖_F / Σ_h' ‖W_out[:, h'·d:(h'+1)·d]‖_F."""
    rng = np.random.default_rng(20250702)
    W = rng.normal(size=(6, 12))
    heads, d = 4, 3
    norms = np.array([np.linalg.norm(W[:, h * d:(h + 1) * d], "fro") for h in range(heads)])
    np.testing.assert_allclose(learned_head_weights(W, heads), norms / norms.sum(), rtol=1e-14, atol=0)
    assert abs(learned_head_weights(W, heads).sum() - 1.0) <= 1e-15


def test_learned_head_weights_errors():
    with pytest.raises(InvalidInputError, match=r"out_proj must be a matrix \(E_out, E\); got shape \(4,\)"):
        learned_head_weights(np.ones(4), 2)
    with pytest.raises(InvalidInputError, match=r"out_proj contains NaN or infinite values"):
        learned_head_weights(np.full((2, 2), np.nan), 2)
    with pytest.raises(InvalidInputError, match=r"learned head importances are all zero"):
        learned_head_weights(np.zeros((4, 4)), 2)
    with pytest.raises(InvalidInputError, match=r"heads must be at least 1; got 0"):
        learned_head_weights(np.ones((4, 4)), 0)


def test_combined_is_the_weighted_sum_of_heads():
    """§2: Δ̄(1/2, 1/2) of Example 2, exactly."""
    combined = paper_example2().combined()
    assert isinstance(combined, SinkDAG)
    assert_exact_equal(combined.diffusion, EX2_COMBINED)


def test_combined_with_other_weights():
    """§2: Δ̄(1/4, 3/4) = A1/4 + 3·A2/4; its row 3 is (0, 1/4, 3/8, 3/8)."""
    combined = paper_example2().combined([1, 3])
    assert combined.diffusion[3].tolist() == [0, F(1, 4), F(3, 8), F(3, 8)]
    assert_exact_equal(combined.diffusion, EX2_A1 * F(1, 4) + EX2_A2 * F(3, 4))


@given(rational_system())
def test_combined_equals_sum_of_weighted_heads(system):
    """§2: Δ̄(β) = Σ_h β_h Δ^(h), exactly, for random exact systems."""
    stack, beta = system
    combined = HeadSystem(stack, beta).combined()
    expected = sum(beta[h] * stack[h] for h in range(len(beta)))
    assert combined.diffusion.tolist() == expected.tolist()


def test_mixture_walk_of_example2():
    """§3: P̄(1/2, 1/2) = (P1 + P2) / 2, hand-computed."""
    assert_exact_equal(paper_example2().mixture_walk(), EX2_MIXTURE)


def test_mixture_walk_differs_from_the_walk_of_the_combined_attention():
    """§3: the mixture of walks is not the walk of Ā (row 0: 17/24 versus 12/17)."""
    system = paper_example2()
    assert_exact_equal(system.combined().walk, EX2_COMBINED_WALK)
    assert system.mixture_walk().tolist() != system.combined().walk.tolist()
    assert system.mixture_walk()[0, 0] == F(17, 24)
    assert system.combined().walk[0, 0] == F(12, 17)


def test_mixture_walk_with_explicit_alpha():
    """§3: P̄(1, 0) = P^(1) and P̄(1/4, 3/4) = P1/4 + 3·P2/4."""
    system = paper_example2()
    assert_exact_equal(system.mixture_walk([1, 0]), EX2_P1)
    assert_exact_equal(system.mixture_walk([F(1, 4), F(3, 4)]), EX2_P1 * F(1, 4) + EX2_P2 * F(3, 4))
    with pytest.raises(InvalidInputError, match=r"^alpha has a negative entry -1 at index 1"):
        system.mixture_walk([2, -1])


@given(rational_system(positive_diagonal=True))
def test_mixture_walk_is_the_weighted_sum_of_walks(system):
    """§3: P̄(α) = Σ_h α_h P^(h), exactly; it is row-stochastic."""
    stack, alpha = system
    mixture = HeadSystem(stack, alpha).mixture_walk()
    expected = sum(alpha[h] * forward_walk(stack[h]) for h in range(len(alpha)))
    assert mixture.tolist() == expected.tolist()
    assert all(sum(row) == 1 for row in mixture)


def test_walks_are_the_heads_walks():
    """§3: system.walks[h] is P^(h)."""
    walks = paper_example2().walks
    assert walks.shape == (2, 4, 4)
    assert_exact_equal(walks[0], EX2_P1)
    assert_exact_equal(walks[1], EX2_P2)


def test_heads_is_a_list_of_sinkdags():
    """§1: each head is its own sink-rooted DAG (Example 2: depths 3 and 2)."""
    heads = HeadSystem(np.stack([EX2_A1, EX2_A2]), threshold=0.4).heads
    assert isinstance(heads, list) and len(heads) == 2
    assert all(isinstance(h, SinkDAG) for h in heads)
    assert_exact_equal(heads[1].diffusion, EX2_A2)
    assert all(h.threshold == 0.4 for h in heads)
    # θ = 0.4 keeps head 1's edges (weight 1/2) and none of head 2's (weight 1/3).
    assert [h.depth for h in heads] == [3, 0]
    assert [h.depth for h in paper_example2().heads] == [3, 2]


def test_with_weights_returns_a_new_system():
    system = paper_example2()
    other = system.with_weights([1, 2])
    assert_exact_equal(other.weights, [F(1, 3), F(2, 3)])
    assert_exact_equal(system.weights, [F(1, 2), F(1, 2)])
    assert other.attention.tolist() == system.attention.tolist()
    # §2: the combined operator follows the new weights.
    assert_exact_equal(other.combined().diffusion, EX2_A1 * F(1, 3) + EX2_A2 * F(2, 3))


def test_headsystem_refuses_a_single_matrix():
    with pytest.raises(InvalidInputError,
                       match=r"HeadSystem needs attention of shape \(H, n, n\); got shape \(4, 4\)"):
        HeadSystem(EX2_A1)


def test_headsystem_names_the_faulty_head():
    """§1: row 2 of head 1 sums to 1/3 + 1/3 + 1/2 = 7/6."""
    stack = to_float(np.stack([EX2_A1, EX2_A2]))
    stack[1, 2, 2] = 0.5
    with pytest.raises(InvalidInputError, match=r"head 1, row 2 of A sums to 1\.166666667"):
        HeadSystem(stack)


def test_headsystem_attention_is_read_only():
    assert not paper_example2().attention.flags.writeable


@pytest.mark.parametrize("edges", [[(True, 2)], ["01"], [(0, "1")]])
def test_edge_list_attention_refuses_bools_and_strings(edges):
    with pytest.raises(InvalidInputError, match=r"edge 0 must be a pair \(s, t\) of ints"):
        edge_list_attention(3, edges)


def test_edge_list_attention_refuses_a_non_iterable():
    with pytest.raises(TypeError, match=r"edges must be an iterable of pairs"):
        edge_list_attention(3, None)


def test_mixture_walk_of_heads_equals_the_mixture_of_per_head_walks():
    """§3: P̄(α) from one contraction equals Σ_h α_h P^(h), zero columns routed to the sink."""
    from dagtheory.graph import mixture_walk_of_heads
    from dagtheory.markov import _head_forward_probability, forward_probability

    rng = np.random.default_rng(4)
    n = 7
    scores = np.where(np.tril(np.ones((n, n), bool)), rng.normal(size=(2, 3, n, n)), -np.inf)
    attention = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
    attention[0, 1, 2:, 2] = 0.0  # token 2 unattended in one head: its column is all zero
    attention[0, 1] /= attention[0, 1].sum(-1, keepdims=True)
    alpha = rng.dirichlet(np.ones(3), size=2)
    walks = forward_walk(attention, zero_columns="sink")
    expected = (alpha[..., None, None] * walks).sum(axis=-3)
    np.testing.assert_allclose(mixture_walk_of_heads(attention, alpha, zero_columns="sink"),
                               expected, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(_head_forward_probability(attention), forward_probability(walks),
                               rtol=1e-13)
    with pytest.raises(ZeroColumnError, match="token 2"):
        mixture_walk_of_heads(attention, alpha)
