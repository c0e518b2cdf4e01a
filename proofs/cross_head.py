r"""Cross-head necessity (§2): some signal reaches the sink only through a union of heads.

Statement. Let two edge-list heads on ``n`` tokens (sink ``τ = n - 1``) be such
that a source ``u`` has no path to ``τ`` in either head alone, but has one in
the union of their edges (here: head 1 holds ``u → w``, head 2 holds
``w → τ``). Then ``φ_u = 0`` in every single head, and ``φ_u > 0`` for the
mixture ``Δ̄(β)`` at every interior weight ``0 < β_1 < 1``. So the fidelity of
a multi-head system is not bounded by what any single head achieves.

Drawn: ``n ≤ 7``, ``u < w < τ``, random extra edges from ``edge_list_dags``
split between the heads (an extra edge is dropped when it would give a head a
path ``u → τ`` on its own), and ``β_1 = k/10``. Fidelity is taken at horizon
``n``, which suffices: every token has a self-loop, so a path of length
``ℓ ≤ n - 1`` gives ``S_t(u) > 0`` for all ``t ≥ ℓ``.
"""

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

from dagtheory.checks import theorem
from dagtheory.fidelity import node_fidelity
from dagtheory.graph import HeadSystem
from dagtheory.strategies import edge_list_dags


def reaches(edges, source, target):
    """Whether ``target`` can be reached from ``source`` along forward edges."""
    frontier, seen = [source], {source}
    while frontier:
        node = frontier.pop()
        for s, t in edges:
            if s == node and t not in seen:
                seen.add(t)
                frontier.append(t)
    return target in seen


@st.composite
def cross_head_cases(draw):
    n, extra = draw(edge_list_dags(min_n=3, max_n=7))
    sink = n - 1
    u = draw(st.integers(0, n - 3))
    w = draw(st.integers(u + 1, n - 2))
    heads = [[(u, w)], [(w, sink)]]
    for edge in extra:
        head = heads[draw(st.integers(0, 1))]
        if edge not in head and not reaches(head + [edge], u, sink):
            head.append(edge)
    beta = Fraction(draw(st.integers(1, 9)), 10)
    return n, u, tuple(tuple(sorted(h)) for h in heads), beta


def build(case):
    n, _, edge_lists, beta = case
    return HeadSystem.from_edges(n, edge_lists, weights=np.array([beta, 1 - beta], dtype=object))


@theorem("cross-head", strategy=cross_head_cases())
def cross_head(case):
    """φ_u = 0 in each head, φ_u > 0 in every interior mixture."""
    n, u, edge_lists, beta = case
    system = build(case)
    for h, head in enumerate(system.heads):
        single = node_fidelity(head, horizon=n).value[u]
        assert single == 0, f"head {h} alone gives φ_u = {single} (edges {edge_lists[h]})"
    combined = node_fidelity(system.combined(), horizon=n).value[u]
    assert combined > 0, f"mixture at β_1 = {beta} gives φ_u = 0"


STATEMENTS = [cross_head]
