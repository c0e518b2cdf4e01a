"""Reports: the worked examples as data, plain-text tables and JSON.

Report builders return plain dictionaries whose numbers are ``int``, ``float``
or ``Fraction``; :func:`to_json` turns every ``Fraction`` into
``{"exact": "3/8", "float": 0.375}`` so that exact values survive the trip.
"""

import json
import math
from fractions import Fraction

import numpy as np

from .examples import mixing_synergy, paper_example2
from .fidelity import NOT_ATTAINED, amplification
from .markov import distance_to_sink, mixing_bound, mixing_time, mixture_mixing_bound

__all__ = [
    "format_number",
    "format_table",
    "to_jsonable",
    "to_json",
    "example2_report",
    "example2_table",
    "mixing_example_report",
    "mixing_example_table",
]

EXAMPLE2_NAMES = ("u", "v", "w", "τ")


def format_number(value, digits=10):
    """A number for a table: ``3/8 (0.375)`` for a Fraction, ``0.375`` for a float.

    Examples
    --------
    >>> format_number(Fraction(3, 8)), format_number(0.1 + 0.2), format_number(math.inf)
    ('3/8 (0.375)', '0.3', 'inf')
    """
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        return f"{value} ({float(value):.{digits}g})"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "inf" if math.isinf(value) else f"{float(value):.{digits}g}"
    return str(value)


def format_table(headers, rows):
    """Left-aligned plain-text table.

    Examples
    --------
    >>> print(format_table(["a", "bb"], [[1, "x"], [22, "y"]]))
    a   bb
    --  --
    1   x
    22  y
    """
    cells = [[format_number(c) if not isinstance(c, str) else c for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    lines = ["  ".join(str(h).ljust(w) for h, w in zip(headers, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    return "\n".join(lines)


def to_jsonable(value):
    """Convert report values (Fractions, numpy scalars and arrays, inf) to JSON types.

    Examples
    --------
    >>> to_jsonable({"ratio": Fraction(10, 9), "t": np.int64(3), "T": math.inf})
    {'ratio': {'exact': '10/9', 'float': 1.1111111111111112}, 't': 3, 'T': 'inf'}
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return to_jsonable(value[()])
    if isinstance(value, (list, tuple, np.ndarray)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return {"exact": str(value), "float": float(value)}
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else str(float(value))
    return value


def to_json(report):
    """The report as indented JSON text.

    Examples
    --------
    >>> print(to_json({"ratio": Fraction(10, 9), "t": np.int64(3), "T": math.inf}))
    {
      "ratio": {
        "exact": "10/9",
        "float": 1.1111111111111112
      },
      "t": 3,
      "T": "inf"
    }
    >>> json.loads(to_json(example2_report()))["ratio"]["exact"]
    '10/9'
    """
    return json.dumps(to_jsonable(report), indent=2, ensure_ascii=False)


def _operator_row(label, finite, infinite, index):
    attained = infinite.t if index is None else infinite.t[index]
    pick = (lambda r: r) if index is None else (lambda r: r[index])
    return {
        "operator": label,
        "minimax": pick(finite.value),
        "node": int(pick(finite.node)),
        "t": int(pick(finite.t)),
        "minimax_infinite": pick(infinite.value),
        "node_infinite": int(pick(infinite.node)),
        "attained_infinite": bool(attained != NOT_ATTAINED),
    }


def example2_report(horizon=20):
    """docs/theory.md §2's Example 2 at horizon ``K`` and at the infinite horizon, exactly.

    Examples
    --------
    >>> report = example2_report()
    >>> [row["minimax"] for row in report["operators"]]
    [Fraction(3, 8), Fraction(871696090, 3486784401), Fraction(5, 12)]
    >>> report["ratio"]
    Fraction(10, 9)
    """
    system = paper_example2()
    finite = amplification(system, horizon=horizon)
    infinite = amplification(system, horizon=None)
    operators = [_operator_row(f"head {h + 1}", finite.heads, infinite.heads, h) for h in range(system.H)]
    operators.append(_operator_row("combined", finite.combined_result, infinite.combined_result, None))
    return {
        "example": "Example 2 (theory §2)",
        "horizon": horizon,
        "sources": [0, 1, 2],
        "sink": 3,
        "weights": list(system.weights),
        "operators": operators,
        "best_head": int(finite.best_head) + 1,
        "ratio": finite.ratio,
        "amplifies": bool(finite.amplifies),
        "ratio_infinite": infinite.ratio,
    }


def _node_name(node):
    return f"{node} ({EXAMPLE2_NAMES[node]})"


def example2_table(report):
    """Plain-text rendering of :func:`example2_report`.

    Examples
    --------
    >>> print(example2_table(example2_report(horizon=20)))
    Example 2 (theory §2): sources u, v, w = 0, 1, 2; sink τ = 3; weights (1/2, 1/2)
    <BLANKLINE>
    operator  minimax fidelity (K = 20)            node   step  minimax fidelity (K = inf)  node
    --------  -----------------------------------  -----  ----  --------------------------  -----
    head 1    3/8 (0.375)                          1 (v)  3     3/8 (0.375)                 1 (v)
    head 2    871696090/3486784401 (0.2499999971)  0 (u)  20    1/4 (0.25), a limit         0 (u)
    combined  5/12 (0.4166666667)                  2 (w)  1     5/12 (0.4166666667)         2 (w)
    <BLANKLINE>
    ratio ρ = combined / best head (head 1) = 10/9 (1.111111111): the system amplifies
    at the infinite horizon ρ = 10/9 (1.111111111)
    """
    headers = ["operator", f"minimax fidelity (K = {report['horizon']})", "node", "step",
               "minimax fidelity (K = inf)", "node"]
    rows = []
    for row in report["operators"]:
        limit = format_number(row["minimax_infinite"])
        if not row["attained_infinite"]:
            limit += ", a limit"
        rows.append([row["operator"], row["minimax"], _node_name(row["node"]), row["t"], limit,
                     _node_name(row["node_infinite"])])
    weights = ", ".join(str(w) for w in report["weights"])
    verdict = "amplifies" if report["amplifies"] else "does not amplify"
    return "\n".join([
        f"{report['example']}: sources u, v, w = 0, 1, 2; sink τ = 3; weights ({weights})",
        "",
        format_table(headers, rows),
        "",
        f"ratio ρ = combined / best head (head {report['best_head']}) = "
        f"{format_number(report['ratio'])}: the system {verdict}",
        f"at the infinite horizon ρ = {format_number(report['ratio_infinite'])}",
    ])


def mixing_example_report(eps=Fraction(1, 4)):
    """docs/theory.md §3's mixing instance: each head, the mixture, their distances and bounds.

    Examples
    --------
    >>> [row["mixing_time"] for row in mixing_example_report()["walks"]]
    [10, 10, 7]
    """
    system = mixing_synergy()
    walks = [(f"head {h + 1}", head) for h, head in enumerate(system.heads)]
    walks.append(("mixture (1/2, 1/2)", system))
    rows = []
    for label, walk in walks:
        t_mix = mixing_time(walk, eps)
        bound = mixing_bound(walk, eps)
        distances = distance_to_sink(walk, t_mix)
        rows.append({"walk": label, "mixing_time": t_mix, "distance_at_mixing": distances[t_mix],
                     "distance_before": distances[t_mix - 1], "p": bound.p, "depth": bound.depth,
                     "binomial_bound": bound.binomial, "closed_form_bound": bound.closed_form})
    mixture = mixture_mixing_bound(system, eps=eps)
    return {"example": "Mixing instance (theory §3)", "eps": eps, "walks": rows,
            "p_bar": mixture.p_bar, "mixture_bound": mixture.bound}


def mixing_example_table(report):
    """Plain-text rendering of :func:`mixing_example_report`.

    Examples
    --------
    >>> print(mixing_example_table(mixing_example_report()))
    Mixing instance (theory §3) (ε = 1/4): the mixture mixes faster than either head
    <BLANKLINE>
    walk                T_mix  d(T_mix)                       d(T_mix - 1)                 p            L  M1 bound  M2 bound
    ------------------  -----  -----------------------------  ---------------------------  -----------  -  --------  --------
    head 1              10     55721/262144 (0.2125587463)    18147/65536 (0.2769012451)   1/4 (0.25)   3  15        45
    head 2              10     55721/262144 (0.2125587463)    18147/65536 (0.2769012451)   1/4 (0.25)   3  15        45
    mixture (1/2, 1/2)  7      663971/3145728 (0.2110706965)  39213/131072 (0.2991714478)  3/8 (0.375)  3  10        30
    <BLANKLINE>
    Theorem M3: p̄ = 1/4 (0.25), T_mix(P̄) <= 45
    """
    headers = ["walk", "T_mix", "d(T_mix)", "d(T_mix - 1)", "p", "L", "M1 bound", "M2 bound"]
    rows = [[r["walk"], r["mixing_time"], r["distance_at_mixing"], r["distance_before"], r["p"],
             r["depth"], r["binomial_bound"], r["closed_form_bound"]] for r in report["walks"]]
    return "\n".join([
        f"{report['example']} (ε = {report['eps']}): the mixture mixes faster than either head",
        "",
        format_table(headers, rows),
        "",
        f"Theorem M3: p̄ = {format_number(report['p_bar'])}, T_mix(P̄) <= {report['mixture_bound']}",
    ])
