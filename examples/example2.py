"""Example 2 of the theory (§2): two heads whose equal mixture beats both, exactly.

Run: python examples/example2.py
"""

from dagtheory import amplification, minimax_fidelity
from dagtheory.examples import paper_example2


def main():
    system = paper_example2()
    result = amplification(system, horizon=20)
    for h, value in enumerate(result.per_head, start=1):
        print(f"head {h}: φ_min^20 = {value} ≈ {float(value):.10f}")
    print(f"combined (β = 1/2, 1/2): φ_min^20 = {result.combined}")
    print(f"ratio ρ = {result.ratio}: amplifies = {result.amplifies}")
    limit = minimax_fidelity(system.heads[1], horizon=None)
    print(f"head 2 at the infinite horizon: φ_min = {limit.value} (a limit, never attained)")


if __name__ == "__main__":
    main()
