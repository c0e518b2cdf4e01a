"""The worked examples of the theory (docs/theory.md), as exact systems.

* :func:`paper_example2`: §2's Example 2, where the equal mixture of two heads
  has minimax fidelity 5/12 while the best single head has 3/8 (``ρ = 10/9``).
* :func:`mixing_synergy`: §3's 5-node instance, where each head mixes in 10
  steps and their equal mixture in 7.
"""

from .graph import HeadSystem

__all__ = ["paper_example2", "mixing_synergy", "EXAMPLE2_EDGES", "MIXING_SYNERGY_EDGES"]

#: Example 2 (§2): sources u, v, w = 0, 1, 2 and sink τ = 3.
EXAMPLE2_EDGES = (
    ((0, 1), (1, 2), (2, 3)),
    ((0, 2), (1, 2), (1, 3), (2, 3)),
)

#: The mixing instance of §3 (n = 5, sink 4).
MIXING_SYNERGY_EDGES = (
    ((0, 2), (0, 3), (0, 4), (1, 2), (2, 3), (3, 4)),
    ((0, 2), (1, 2), (1, 3), (1, 4), (2, 3), (3, 4)),
)


def paper_example2():
    """docs/theory.md §2's Example 2 as an exact :class:`~dagtheory.graph.HeadSystem`.

    Two heads on ``n = 4`` tokens built by §1's edge-list construction, with
    weights ``β = (1/2, 1/2)``.

    Examples
    --------
    >>> system = paper_example2()
    >>> system
    HeadSystem(H=2, n=4, weights=[1/2, 1/2], exact)
    >>> system.heads[0].diffusion[3]
    array([Fraction(0, 1), Fraction(0, 1), Fraction(1, 2), Fraction(1, 2)], dtype=object)
    """
    return HeadSystem.from_edges(4, EXAMPLE2_EDGES)


def mixing_synergy():
    """docs/theory.md §3's 5-node instance, as an exact :class:`~dagtheory.graph.HeadSystem`.

    Each head has ``T_mix(1/4) = 10``; the equal mixture ``P̄(1/2, 1/2)`` has
    ``T_mix(1/4) = 7``.

    Examples
    --------
    >>> mixing_synergy()
    HeadSystem(H=2, n=5, weights=[1/2, 1/2], exact)
    """
    return HeadSystem.from_edges(5, MIXING_SYNERGY_EDGES)
