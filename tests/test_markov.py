"""Tests of dagtheory.markov: the forward walk's absorption, mixing time and bounds.

Every number checked is a quantity of docs/theory.md §3 (computed exactly, §7). Known answers
are exact ``Fraction``s. Independent references are computed here: walks by §3's formula
on plain lists, matrix powers by ``Fraction`` matrix products, hitting times by sympy's
linear solver, binomial tails with ``math.comb``.
"""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import sympy

import dagtheory
from hypothesis import given
from hypothesis import strategies as st

from dagtheory import (
    ConvergenceError,
    HeadSystem,
    InvalidInputError,
    SinkDAG,
    TrappedNodeWarning,
    absorption_cdf,
    distance_to_sink,
    forward_probability,
    forward_walk,
    hitting_times,
    mixing_bound,
    mixing_time,
    mixture_mixing_bound,
)
from dagtheory.examples import MIXING_SYNERGY_EDGES, mixing_synergy
from strategies import float_attention, rational_attention, rational_system, to_float

QUARTER = Fraction(1, 4)

# --------------------------------------------------------------------------------------
# Independent references
# --------------------------------------------------------------------------------------


def attention_from_edges(n, edges):
    """§1's edge-list construction on plain lists: self-loops of weight 1, +1 at [t, s], rows normalized."""
    counts = [[int(i == j) for j in range(n)] for i in range(n)]
    for s, t in edges:
        counts[t][s] += 1
    return [[Fraction(c, sum(row)) for c in row] for row in counts]


def walk_by_hand(attention):
    """§3's forward walk ``P[j, i] = A[i, j] / Σ_k A[k, j]`` on plain lists."""
    n = len(attention)
    columns = [sum(attention[k][j] for k in range(n)) for j in range(n)]
    return [[attention[i][j] / columns[j] for i in range(n)] for j in range(n)]


def matmul(x, y):
    """A plain ``Fraction`` matrix product."""
    return [[sum(x[i][k] * y[k][j] for k in range(len(y))) for j in range(len(y[0]))]
            for i in range(len(x))]


def cdf_by_powers(walk, t_max):
    """§3's ``F_t(j) = [P^t]_{j, τ}`` for ``t = 0..t_max`` from full matrix powers ``P^t``."""
    walk = [list(row) for row in walk]
    n = len(walk)
    power = [[Fraction(int(i == j)) for j in range(n)] for i in range(n)]
    rows = []
    for _ in range(t_max + 1):
        rows.append([power[j][n - 1] for j in range(n)])
        power = matmul(power, walk)
    return rows


def distances_by_powers(walk, t_max):
    """§3's ``d(t) = max_j (1 - F_t(j))`` from :func:`cdf_by_powers`."""
    return [max(1 - f for f in row) for row in cdf_by_powers(walk, t_max)]


def longest_path_to_sink(walk):
    """§1's depth ``L``: edges on the longest path to τ in the walk's graph (``P[j, i] > 0``, ``i > j``)."""
    n = len(walk)
    longest = {n - 1: 0}
    for j in range(n - 2, -1, -1):
        lengths = [longest[i] + 1 for i in range(j + 1, n) if walk[j][i] > 0 and i in longest]
        if lengths:
            longest[j] = max(lengths)
    return max(longest.values())


def forward_probability_by_hand(walk):
    """§3's ``p = min_{j≠τ} (1 - P[j, j])``."""
    return min(1 - walk[j][j] for j in range(len(walk) - 1))


def binomial_tail(t, p, below):
    """``Pr[Bin(t, p) ≤ below]`` exactly, for a Fraction ``p`` (Theorem M1, §3)."""
    return sum(math.comb(t, k) * p ** k * (1 - p) ** (t - k) for k in range(min(below, t) + 1))


def binomial_bound_by_search(p, depth, eps):
    """Theorem M1's ``B(ε) = min{t : Pr[Bin(t, p) ≤ L-1] ≤ ε}`` by a direct search over t = 0, 1, ..."""
    t = 0
    while binomial_tail(t, p, depth - 1) > eps:
        t += 1
    return t


def closed_form_by_hand(length, p, eps):
    """Theorem M2's ``⌈max(2L/p, 8 ln(1/ε)/p)⌉`` (``inf`` for ``p = 0``)."""
    if p == 0:
        return math.inf
    return math.ceil(max(Fraction(2 * length) / p, 8 * math.log(1 / eps) / p))


def doomed_nodes(walk):
    """Nodes from which the walk may never reach τ: trapped (``P[j, j] = 1``, j ≠ τ) or leading to one."""
    n = len(walk)
    doomed = set()
    for j in range(n - 2, -1, -1):
        if walk[j][j] == 1 or any(walk[j][i] > 0 for i in doomed):
            doomed.add(j)
    return doomed


def hitting_times_by_sympy(walk):
    """§3's ``m`` from sympy's solver on ``(I - Q) m = 1`` over the nodes that surely reach τ."""
    n = len(walk)
    doomed = doomed_nodes(walk)
    sure = [j for j in range(n - 1) if j not in doomed]
    times = {n - 1: Fraction(0), **{j: math.inf for j in doomed}}
    if sure:
        q = sympy.Matrix([[sympy.Rational(walk[a][b].numerator, walk[a][b].denominator) for b in sure]
                          for a in sure])
        m = (sympy.eye(len(sure)) - q).solve(sympy.ones(len(sure), 1))
        times.update({j: Fraction(int(m[k].p), int(m[k].q)) for k, j in enumerate(sure)})
    return [times[j] for j in range(n)]


def _flip(attention):
    """Reverse token order of causal attention: an exact upper-triangular row-stochastic walk, τ absorbing."""
    return attention[::-1, ::-1].copy()


#: Exact walks, trapped nodes included (a token of A attending only to itself).
rational_walk = rational_attention(max_n=6).map(_flip)


@st.composite
def rational_walk_stack(draw, *, size=3):
    """A stack (size, n, n) of exact walks on the same tokens."""
    n = draw(st.integers(2, 6))
    return np.stack([_flip(draw(rational_attention(n))) for _ in range(size)])


def quietly(function, *args, **kwargs):
    """Call ``function`` with TrappedNodeWarning silenced (checked on its own elsewhere)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TrappedNodeWarning)
        return function(*args, **kwargs)


# --------------------------------------------------------------------------------------
# The mixing instance of §3
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synergy():
    return mixing_synergy()


@pytest.fixture(scope="module")
def synergy_walks():
    """The two heads' walks and their equal mixture P̄(1/2, 1/2), built by hand (§1, §3)."""
    heads = [walk_by_hand(attention_from_edges(5, edges)) for edges in MIXING_SYNERGY_EDGES]
    mixture = [[(a + b) / 2 for a, b in zip(row1, row2)] for row1, row2 in zip(*heads)]
    return heads, mixture


def test_synergy_walks_match_the_definition(synergy, synergy_walks):
    """§3: each head's walk is P[j, i] = A[i, j] / Σ_k A[k, j]; the system's is P̄(1/2, 1/2)."""
    heads, mixture = synergy_walks
    for head, expected in zip(synergy.heads, heads):
        assert head.walk.tolist() == expected
    assert synergy.mixture_walk().tolist() == mixture


@pytest.mark.parametrize("h", [0, 1])
def test_synergy_head_mixes_in_ten_steps(synergy, synergy_walks, h):
    """§3: each head has T_mix(1/4) = 10, with d(10) = 55721/262144 and d(9) > 1/4."""
    head = synergy.heads[h]
    assert mixing_time(head) == 10
    assert mixing_time(head, QUARTER) == 10
    d = distance_to_sink(head, 10)
    assert isinstance(d[10], Fraction)
    assert d[10] == Fraction(55721, 262144)
    assert d[9] > QUARTER
    assert d.tolist() == distances_by_powers(synergy_walks[0][h], 10)


def test_synergy_mixture_mixes_in_seven_steps(synergy, synergy_walks):
    """§3: the equal mixture P̄(1/2, 1/2) has T_mix(1/4) = 7, d(7) = 663971/3145728, d(6) > 1/4."""
    assert mixing_time(synergy) == 7
    assert mixing_time(synergy.mixture_walk()) == 7
    d = distance_to_sink(synergy, 7)
    assert isinstance(d[7], Fraction)
    assert d[7] == Fraction(663971, 3145728)
    assert d[6] > QUARTER
    assert d.tolist() == distances_by_powers(synergy_walks[1], 7)


def test_synergy_mixing_time_by_hand(synergy_walks):
    """§3: T_mix(1/4) = min{t : d(t) ≤ 1/4} from hand-built powers is 10, 10 and 7."""
    heads, mixture = synergy_walks
    for walk, expected in [(heads[0], 10), (heads[1], 10), (mixture, 7)]:
        d = distances_by_powers(walk, 12)
        assert min(t for t, dt in enumerate(d) if dt <= QUARTER) == expected


def test_mixing_time_respects_max_steps(synergy):
    """§3: T_mix = 10 needs 10 steps; a budget of 9 raises ConvergenceError."""
    head = synergy.heads[0]
    assert mixing_time(head, max_steps=10) == 10
    with pytest.raises(ConvergenceError, match="max_steps = 9"):
        mixing_time(head, max_steps=9)


# --------------------------------------------------------------------------------------
# Absorption CDF and distance to the sink (§3)
# --------------------------------------------------------------------------------------


@given(rational_walk, st.integers(0, 12))
def test_absorption_cdf(walk, t_max):
    """§3: F_t = [P^t]_{·,τ}: F_0 = e_τ, non-decreasing in t, equal to full matrix powers."""
    n = walk.shape[0]
    cdf = absorption_cdf(walk, t_max)
    assert cdf.shape == (t_max + 1, n)
    assert all(isinstance(f, Fraction) for f in cdf.ravel())
    assert cdf[0].tolist() == [0] * (n - 1) + [1]
    assert all(cdf[t + 1, j] >= cdf[t, j] for t in range(t_max) for j in range(n))
    assert cdf.tolist() == cdf_by_powers(walk, t_max)
    assert distance_to_sink(walk, t_max).tolist() == distances_by_powers(walk, t_max)


def test_absorption_cdf_by_hand():
    """§3: for P = [[1/2, 1/2], [0, 1]], F_t(0) = 1 - 2^-t and d(t) = 2^-t."""
    walk = [[Fraction(1, 2), Fraction(1, 2)], [0, 1]]
    cdf = absorption_cdf(walk, 4)
    assert cdf[:, 0].tolist() == [1 - Fraction(1, 2 ** t) for t in range(5)]
    assert cdf[:, 1].tolist() == [1] * 5
    assert distance_to_sink(walk, 4).tolist() == [Fraction(1, 2 ** t) for t in range(5)]
    # T_mix(ε) = min{t : d(t) ≤ ε}: d(2) = 1/4 = ε counts as mixed (§3).
    assert mixing_time(walk) == 2
    assert mixing_time(np.array(walk, dtype=float)) == 2
    assert mixing_time(walk, Fraction(1, 8)) == 3


def test_absorption_cdf_of_a_head_uses_its_walk(synergy):
    """§3: a SinkDAG stands for its forward walk P, a HeadSystem for its mixture P̄."""
    head = synergy.heads[1]
    assert absorption_cdf(head, 5).tolist() == absorption_cdf(head.walk, 5).tolist()
    assert absorption_cdf(synergy, 5).tolist() == absorption_cdf(synergy.mixture_walk(), 5).tolist()


# --------------------------------------------------------------------------------------
# Hitting times (§3)
# --------------------------------------------------------------------------------------


@given(rational_walk)
def test_hitting_times_match_sympy(walk):
    """§3: m solves (I - Q) m = 1; m(τ) = 0; m = inf where the walk may never reach τ."""
    times = hitting_times(walk)
    expected = hitting_times_by_sympy(walk)
    assert times.tolist() == expected
    assert times[-1] == 0
    assert all(isinstance(m, Fraction) for m in times if m != math.inf)


def test_hitting_times_by_hand():
    """§3: a chain staying w.p. 1/2 takes 2 steps per token; a trapped node and its feeders take inf."""
    half = Fraction(1, 2)
    chain = [[half, half, 0], [0, half, half], [0, 0, 1]]
    assert hitting_times(chain).tolist() == [4, 2, 0]
    trapped = [[half, half, 0, 0], [0, 1, 0, 0], [0, 0, half, half], [0, 0, 0, 1]]
    assert hitting_times(trapped).tolist() == [math.inf, math.inf, 2, 0]
    assert hitting_times(np.array(trapped, dtype=float)).tolist() == [math.inf, math.inf, 2.0, 0.0]


def test_hitting_times_of_the_synergy_heads(synergy, synergy_walks):
    """§3: hitting times of the §3 instance's head 1, against sympy's solve."""
    assert hitting_times(synergy.heads[0]).tolist() == hitting_times_by_sympy(synergy_walks[0][0])
    assert hitting_times(synergy.heads[0]).tolist() == [4, 8, 4, 2, 0]


# --------------------------------------------------------------------------------------
# Mixing time: trapped nodes, batches, errors (§3)
# --------------------------------------------------------------------------------------

HALF = Fraction(1, 2)
#: Node 2 never leaves (P[2, 2] = 1): the walk from 2 never reaches τ = 3.
TRAPPED_AT_2 = [[HALF, 0, 0, HALF], [0, HALF, 0, HALF], [0, 0, 1, 0], [0, 0, 0, 1]]


def walk_trapped_at_1():
    """A 5-token walk whose node 1 is trapped (P[1, 1] = 1)."""
    walk = [[Fraction(int(i == j)) for j in range(5)] for i in range(5)]
    walk[0] = [HALF, 0, 0, 0, HALF]
    walk[2] = [0, 0, HALF, HALF, 0]
    walk[3] = [0, 0, 0, HALF, HALF]
    return walk


def test_trapped_node_gives_infinite_mixing_time():
    """§3: a non-sink node with P[j, j] = 1 makes T_mix = inf, reported with the node."""
    with pytest.warns(TrappedNodeWarning, match=r"\[2\]") as record:
        result = mixing_time(TRAPPED_AT_2)
    assert result == math.inf
    assert "2" in str(record[0].message)
    with pytest.warns(TrappedNodeWarning, match=r"\[2\]"):
        assert mixing_time(np.array(TRAPPED_AT_2, dtype=float)) == math.inf


def test_batched_mixing_time_with_a_trapped_walk(synergy):
    """§3: a batch returns a float array of T_mix per walk, inf where trapped, with a warning."""
    walks = np.stack([synergy.heads[0].walk, synergy.mixture_walk(),
                      np.array(walk_trapped_at_1(), dtype=object)])
    with pytest.warns(TrappedNodeWarning, match=r"batch index \(2,\).*\[1\]"):
        result = mixing_time(walks)
    assert isinstance(result, np.ndarray) and result.dtype == np.float64
    assert result.tolist() == [10.0, 7.0, math.inf]


@given(rational_walk_stack())
def test_batched_mixing_time_equals_per_walk(walks):
    """§3: T_mix over a stack (3, n, n) equals T_mix of each walk (inf for trapped ones)."""
    result = quietly(mixing_time, walks)
    assert result.shape == (3,) and result.dtype == np.float64
    assert result.tolist() == [float(quietly(mixing_time, walk)) for walk in walks]


@given(float_attention(batch=(4,), max_n=8, temperature=1.0))
def test_float_batched_mixing_time_equals_per_walk(attention):
    """§3: float64 batches of forward walks give the per-walk mixing times."""
    walks = forward_walk(attention)
    result = mixing_time(walks)
    assert result.shape == (4,)
    assert result.tolist() == [float(mixing_time(walk)) for walk in walks]
    np.testing.assert_array_equal(hitting_times(walks), np.stack([hitting_times(w) for w in walks]))


def test_attention_is_not_a_walk(synergy):
    """§3: P is upper-triangular; a lower-triangular attention matrix is refused, naming the walk."""
    attention = synergy.heads[0].diffusion
    for function in (mixing_time, hitting_times, forward_probability, mixing_bound):
        with pytest.raises(ValueError, match="forward walk"):
            function(attention)
    with pytest.raises(ValueError, match="forward walk"):
        absorption_cdf(attention, 3)


@pytest.mark.parametrize("eps", [0, 1, -0.5, 1.5])
def test_eps_must_lie_in_the_unit_interval(synergy, eps):
    """§3: T_mix(ε) needs 0 < ε < 1."""
    with pytest.raises(InvalidInputError, match="eps must lie strictly between 0 and 1"):
        mixing_time(synergy, eps)


def test_mixing_time_other_eps(synergy_walks):
    """§3: T_mix(ε) = min{t : d(t) ≤ ε} for ε = 1/10 and 1/2, against hand-built powers."""
    walk = synergy_walks[0][0]
    d = distances_by_powers(walk, 40)
    for eps in (Fraction(1, 10), Fraction(1, 2)):
        assert mixing_time(walk, eps) == min(t for t, dt in enumerate(d) if dt <= eps)
    assert mixing_time(walk, 0.1) == mixing_time(walk, Fraction(1, 10))


# --------------------------------------------------------------------------------------
# Forward probability, Theorems M1, M2 (§3)
# --------------------------------------------------------------------------------------


def test_forward_probability_by_hand(synergy):
    """§3: p = min_{j≠τ} (1 - P[j, j]); the sink's P[τ, τ] = 1 does not count."""
    third = Fraction(1, 3)
    walk = [[HALF, HALF, 0], [0, 2 * third, third], [0, 0, 1]]
    assert forward_probability(walk) == third
    assert isinstance(forward_probability(walk), Fraction)
    assert forward_probability([[Fraction(3, 4), Fraction(1, 4)], [0, 1]]) == Fraction(1, 4)
    assert forward_probability(TRAPPED_AT_2) == 0
    # Head 1 of §3's instance: P[1, 1] = 1 / (1 + 1/3) = 3/4 is the slowest node.
    assert forward_probability(synergy.heads[0]) == Fraction(1, 4)
    assert forward_probability(synergy) == Fraction(3, 8)
    batch = forward_probability(np.array([[[0.75, 0.25], [0, 1]], [[0.5, 0.5], [0, 1]]]))
    assert batch.tolist() == [0.25, 0.5]


@pytest.mark.parametrize("which", ["head", "mixture"])
def test_mixing_bound_known_case(synergy, synergy_walks, which):
    """§3 M1/M2 on the §3 instance: p, L by hand, B(ε) by direct search, closed form with math."""
    walk = synergy_walks[0][0] if which == "head" else synergy_walks[1]
    op = synergy.heads[0] if which == "head" else synergy
    p, depth = forward_probability_by_hand(walk), longest_path_to_sink(walk)
    assert (p, depth) == ((Fraction(1, 4), 3) if which == "head" else (Fraction(3, 8), 3))
    bound = mixing_bound(op)
    assert (bound.p, bound.depth, bound.eps) == (p, depth, QUARTER)
    assert bound.binomial == binomial_bound_by_search(p, depth, QUARTER)
    assert bound.closed_form == closed_form_by_hand(depth, p, QUARTER)
    # Head: ⌈max(24, 32 ln 4)⌉ = 45; mixture: ⌈max(16, (64/3) ln 4)⌉ = 30 (§3, M2).
    assert bound.closed_form == (45 if which == "head" else 30)
    assert mixing_time(op) <= bound.binomial <= bound.closed_form
    numeric = mixing_bound(np.array(walk, dtype=float))
    assert (numeric.p, numeric.depth) == (float(p), depth)
    assert (numeric.binomial, numeric.closed_form) == (bound.binomial, bound.closed_form)


def test_mixing_bound_when_depth_term_dominates():
    """§3 M2: a 12-token chain staying w.p. 1/2 has L = 11, 2L/p = 44 > 16 ln 4, so ⌈44⌉ = 44."""
    n = 12
    walk = [[HALF if i in (j, j + 1) else Fraction(0) for i in range(n)] for j in range(n - 1)]
    walk.append([Fraction(0)] * (n - 1) + [Fraction(1)])
    bound = mixing_bound(walk)
    assert (bound.p, bound.depth) == (HALF, 11)
    assert bound.closed_form == closed_form_by_hand(11, HALF, QUARTER) == 44
    assert bound.binomial == binomial_bound_by_search(HALF, 11, QUARTER)
    assert mixing_bound(np.array(walk, dtype=float)).closed_form == 44
    tenth = mixing_bound(walk, Fraction(1, 10))
    assert tenth.closed_form == closed_form_by_hand(11, HALF, Fraction(1, 10))
    assert tenth.binomial == binomial_bound_by_search(HALF, 11, Fraction(1, 10))


@given(rational_attention(positive_diagonal=True))
def test_theorem_m1_m2(attention):
    """§3 M1: d(t) ≤ Pr[Bin(t, p) ≤ L-1] for t ≤ 40, and (M1, M2) T_mix ≤ B(ε) ≤ closed form."""
    dag = SinkDAG(attention)
    walk = dag.walk.tolist()
    assert walk == walk_by_hand(attention.tolist())
    p, depth = forward_probability_by_hand(walk), longest_path_to_sink(walk)
    bound = mixing_bound(dag)
    assert (bound.p, bound.depth) == (p, depth)
    t_mix = quietly(mixing_time, dag)
    if p == 0:  # a trapped node: no bound, and the walk never mixes
        assert t_mix == bound.binomial == bound.closed_form == math.inf
        return
    d = distance_to_sink(dag, 40)
    for t in range(41):
        assert d[t] <= binomial_tail(t, p, depth - 1)
    assert bound.binomial == binomial_bound_by_search(p, depth, QUARTER)
    assert bound.closed_form == closed_form_by_hand(depth, p, QUARTER)
    assert t_mix <= bound.binomial <= bound.closed_form


# --------------------------------------------------------------------------------------
# Theorem M3 (§3)
# --------------------------------------------------------------------------------------


def test_mixture_bound_of_the_synergy_instance(synergy):
    """§3 M3 on the instance: p_h = 1/4 each, p̄ = 1/4, p(P̄) = 3/8, bound ⌈32 ln 4⌉ = 45 (N = 4)."""
    bound = mixture_mixing_bound(synergy)
    assert bound.per_head_p.tolist() == [QUARTER, QUARTER]
    assert (bound.p_bar, bound.p_mixture) == (QUARTER, Fraction(3, 8))
    assert bound.bound == closed_form_by_hand(4, QUARTER, QUARTER) == 45
    assert bound.best_head == 0
    assert mixing_time(synergy) <= bound.bound


@given(rational_system(positive_diagonal=True))
def test_theorem_m3(system):
    """§3 M3: p(P̄(α)) ≥ p̄ = Σ α_h p_h, T_mix(P̄) ≤ ⌈max(2N/p̄, 8 ln 4/p̄)⌉, best head = argmax p_h."""
    attention, alpha = system
    heads = HeadSystem(attention, alpha)
    walks = [walk_by_hand(a.tolist()) for a in attention]
    n = attention.shape[-1]
    per_head_p = [forward_probability_by_hand(w) for w in walks]
    p_bar = sum(a * p for a, p in zip(alpha, per_head_p))
    p_mixture = min(sum(a * (1 - w[j][j]) for a, w in zip(alpha, walks)) for j in range(n - 1))

    bound = mixture_mixing_bound(heads)
    assert bound.per_head_p.tolist() == per_head_p
    assert isinstance(bound.p_bar, Fraction) and bound.p_bar == p_bar
    assert bound.p_mixture == p_mixture >= p_bar
    assert bound.bound == closed_form_by_hand(n - 1, p_bar, QUARTER)
    alone = [float(closed_form_by_hand(n - 1, p, QUARTER)) for p in per_head_p]
    assert bound.per_head_bound.tolist() == alone
    assert bound.best_head == per_head_p.index(max(per_head_p))
    assert quietly(mixing_time, heads) <= bound.bound


def test_mixture_bound_when_depth_term_dominates():
    """§3 M3 on two 12-token heads: N = 11, so 2N/p̄ beats 8 ln 4/p̄ and the bound is ⌈2N/p̄⌉.

    Head 1 is the chain 0→1→…→11: P[0, 0] = 1/(3/2) = 2/3, P[j, j] = 1/2 otherwise, p_1 = 1/3.
    Head 2 adds 0→2, so row 2 of A is (1/3, 1/3, 1/3): P[0, 0] = 1/(1 + 1/2 + 1/3) = 6/11,
    P[1, 1] = (1/2)/(1/2 + 1/3) = 3/5, P[2, 2] = (1/3)/(1/3 + 1/2) = 2/5, so p_2 = 2/5.
    With α = (1/2, 1/2), p̄ = 11/30 and ⌈max(2·11·30/11, 8 ln 4 · 30/11)⌉ = ⌈max(60, 30.2)⌉
    = 60; alone, ⌈2·11·3⌉ = 66 and ⌈2·11·5/2⌉ = 55.
    """
    chain = [(j, j + 1) for j in range(11)]
    system = HeadSystem.from_edges(12, [chain, chain + [(0, 2)]])
    bound = mixture_mixing_bound(system)
    assert bound.per_head_p.tolist() == [Fraction(1, 3), Fraction(2, 5)]
    assert bound.p_bar == Fraction(11, 30)
    assert bound.bound == closed_form_by_hand(11, Fraction(11, 30), QUARTER) == 60
    assert bound.per_head_bound.tolist() == [66.0, 55.0]
    assert bound.best_head == 1
    assert mixing_time(system) <= bound.bound


def test_mixture_bound_with_other_weights(synergy):
    """§3 M3: all weight on one head gives that head's bound; α is renormalized."""
    bound = mixture_mixing_bound(synergy, alpha=[3, 1])
    assert bound.alpha.tolist() == [Fraction(3, 4), QUARTER]
    assert bound.p_bar == QUARTER
    alone = mixture_mixing_bound(synergy, alpha=[1, 0])
    assert alone.bound == alone.per_head_bound[0] == 45
    with pytest.raises(TypeError, match="HeadSystem"):
        mixture_mixing_bound(synergy.heads[0])


def test_mixture_bound_refuses_batched_alpha_by_name(synergy):
    """§3 M3 takes one α of shape (H,); a stack of α is refused with a message naming alpha."""
    with pytest.raises(InvalidInputError, match="alpha"):
        mixture_mixing_bound(synergy, alpha=[[1, 0], [0, 1]])


# --------------------------------------------------------------------------------------
# Float path against the exact path (§7)
# --------------------------------------------------------------------------------------


@given(rational_walk)
def test_float_matches_exact(walk):
    """§7: float64 hitting times, forward probability and T_mix agree with the exact ones."""
    approx = to_float(walk)
    exact_times, float_times = hitting_times(walk), hitting_times(approx)
    assert float_times.dtype == np.float64
    for e, f in zip(exact_times, float_times):
        assert (e == math.inf) == (f == math.inf)
        if e != math.inf:
            assert math.isclose(f, float(e), rel_tol=1e-12, abs_tol=1e-12)
    assert abs(forward_probability(approx) - float(forward_probability(walk))) <= 1e-15

    exact_t, float_t = quietly(mixing_time, walk), quietly(mixing_time, approx)
    if exact_t == math.inf:
        assert float_t == math.inf
        return
    d = distances_by_powers(walk, exact_t)
    if abs(d[exact_t] - QUARTER) > 1e-12:  # away from a tie d(t) = ε, no rounding can move T_mix
        assert float_t == exact_t
    else:
        assert float_t in (exact_t, exact_t + 1)


@given(rational_attention(positive_diagonal=True))
def test_float_matches_exact_on_head_walks(attention):
    """§7: the same agreement on walks of generated heads (SinkDAG.walk), where p can be small."""
    exact, approx = SinkDAG(attention), SinkDAG(to_float(attention))
    np.testing.assert_allclose(approx.walk, to_float(exact.walk), rtol=0, atol=1e-15)
    exact_t, float_t = quietly(mixing_time, exact), quietly(mixing_time, approx)
    if exact_t != math.inf:
        d = distances_by_powers(exact.walk, exact_t)
        if abs(d[exact_t] - QUARTER) > 1e-12:
            assert float_t == exact_t
    else:
        assert float_t == math.inf
    np.testing.assert_allclose(hitting_times(approx), to_float(hitting_times(exact)), rtol=1e-12)


def test_tiny_exit_mass_is_not_rounded_away():
    """§3: a node that leaves with probability 1e-20 (its P[j, j] rounds to 1.0) is not trapped:
    p = 1e-20, m(0) = 1e20 + 1, and every function agrees that the sink is reachable."""
    walk = np.array([[1.0, 1e-20, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 1.0]])
    assert walk[0, 0] == 1.0
    assert dagtheory.forward_probability(walk) == pytest.approx(1e-20, rel=1e-12)
    assert dagtheory.trapped_nodes(walk) == []
    assert dagtheory.hitting_times(walk)[0] == pytest.approx(1e20 + 1, rel=1e-12)
    with pytest.raises(dagtheory.ConvergenceError):
        dagtheory.mixing_time(walk, max_steps=100)
    assert math.isnan(dagtheory.mixing_time(walk, max_steps=100, over_budget="nan"))
