"""The worked examples of docs/theory.md (§2 Example 2, §3 mixing instance) as exact systems."""

from fractions import Fraction

import numpy as np

import dagtheory as dt
from dagtheory.examples import mixing_synergy, paper_example2


def test_example2_heads_are_the_edge_list_construction():
    """§1 edge-list construction of Example 2's head 1 (u→v, v→w, w→τ), by hand."""
    half = Fraction(1, 2)
    expected = [[1, 0, 0, 0], [half, half, 0, 0], [0, half, half, 0], [0, 0, half, half]]
    assert paper_example2().attention[0].tolist() == expected
    assert paper_example2().is_exact


def test_example2_numbers_at_horizon_20():
    """§2: 3/8, 871696090/3486784401, 5/12 and ρ = 10/9 exactly."""
    result = dt.amplification(paper_example2(), horizon=20)
    assert list(result.per_head) == [Fraction(3, 8), Fraction(871696090, 3486784401)]
    assert result.combined == Fraction(5, 12)
    assert result.ratio == Fraction(10, 9)
    assert (result.heads.node.tolist(), result.heads.t.tolist()) == ([1, 0], [3, 20])
    assert (result.combined_result.node, result.combined_result.t) == (2, 1)


def test_example2_head2_infinite_horizon_is_one_quarter_never_attained():
    """§2: head 2's infinite-horizon minimax is exactly 1/4, a limit."""
    result = dt.minimax_fidelity(paper_example2().heads[1], horizon=None)
    assert result.value == Fraction(1, 4)
    assert result.node == 0 and result.t == dt.NOT_ATTAINED
    assert result.error_bound == 0


def test_example2_float_path_matches_exact():
    """§7: the float path agrees with the exact one to 1e-12."""
    exact = dt.amplification(paper_example2(), horizon=20)
    numeric = dt.amplification(np.asarray(paper_example2().attention, dtype=float), horizon=20)
    assert abs(numeric.ratio - 10 / 9) < 1e-12
    assert np.allclose(numeric.per_head, np.asarray(exact.per_head, dtype=float), atol=1e-12, rtol=0)


def test_mixing_synergy_exact_mixing_times_and_distances():
    """§3 instance: T_mix(1/4) = 10, 10, 7 with d(10) = 55721/262144, d(7) = 663971/3145728."""
    system = mixing_synergy()
    for head in system.heads:
        assert dt.mixing_time(head) == 10
        assert dt.distance_to_sink(head, 10)[10] == Fraction(55721, 262144)
    assert dt.mixing_time(system) == 7
    assert dt.distance_to_sink(system, 7)[7] == Fraction(663971, 3145728)


def test_mixing_synergy_mixture_is_not_the_walk_of_the_combined_attention():
    """§3: P̄(α) (mixture of walks) and the walk of Ā are different operators."""
    system = mixing_synergy()
    assert not np.array_equal(system.mixture_walk(), system.combined().walk)
