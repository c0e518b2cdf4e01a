"""Reports on head weightings (§5): learned, uniform and optimal side by side.

:func:`weights_report` compares, for one head system, the learned weights (when
known), uniform weights, P3's minimax-fidelity weights (:mod:`dagtheory.programs`)
and P1's best-mixing-bound weights: each weighting's minimax fidelity at the
horizon (§2), and for its mixture walk Theorem M3's ``p̄ = Σ_h α_h p_h`` and bound,
the walk's own forward probability ``p(P̄) >= p̄`` with the bound it gives (the one P1
maximizes), and the exact mixing time (§3).
"""

import numpy as np

from ._validation import check_weights
from .exceptions import InvalidTypeError
from .fidelity import minimax_fidelity
from .graph import HeadSystem
from .markov import closed_form_bound, forward_probability, mixing_time
from .programs import optimal_fidelity_weights, optimal_mixing_weights
from .report import format_number, format_table

__all__ = ["weights_report", "weights_table"]


def _row(system, label, weights, horizon, eps):
    weights = check_weights(weights, system.H, exact=False, name=label)
    fidelity = minimax_fidelity(system.combined(weights), horizon)
    p_bar = float((weights * np.asarray(forward_probability(system.walks), dtype=float)).sum())
    mixture = system.mixture_walk(weights)
    p_mixture = float(forward_probability(mixture))
    return {
        "weighting": label,
        "weights": weights,
        "minimax_fidelity": float(fidelity.value),
        "node": int(fidelity.node),
        "p_bar": p_bar,
        "m3_bound": closed_form_bound(system.n - 1, p_bar, eps),
        "p_mixture": p_mixture,
        "mixing_bound": closed_form_bound(system.n - 1, p_mixture, eps),
        "mixing_time": mixing_time(mixture, eps, max_steps=100_000, over_budget="nan"),
    }


def weights_report(system, *, learned=None, horizon=100, method="sgp", eps=0.25, time_limit=60.0):
    """Learned, uniform, P3-optimal and P1-optimal weights of ``system``, compared.

    Parameters
    ----------
    system : HeadSystem
        Exact systems are evaluated in float64 (the programs run in float).
    learned : array_like of shape (H,), optional
        §1's learned weights, shown first when given.
    horizon : int
        ``K`` of the minimax fidelity.
    method : {"sgp", "bnb"}
        P3's method; ``"bnb"`` adds a certified upper bound and its gap.
    eps : float
        ``ε`` of the mixing quantities.
    time_limit : float
        Budget in seconds for P3.

    Returns
    -------
    dict
        ``rows`` (one per weighting), ``upper_bound`` and ``gap`` (``None`` for sgp),
        ``gain``: P3's minimax fidelity minus the learned (or uniform) one.

    Examples
    --------
    Example 2 (§2) at ``K = 20``: uniform weights give ``5/12``, P3's weights
    about ``0.4298``, and P1's weights (all on head 1) the best mixing bound
    but only head 1's ``3/8``:

    >>> from dagtheory.examples import paper_example2
    >>> report = weights_report(paper_example2(), horizon=20)
    >>> [row["weighting"] for row in report["rows"]]
    ['uniform', 'P3 optimal fidelity (sgp)', 'P1 best mixing bound']
    >>> [round(row["minimax_fidelity"], 4) for row in report["rows"]]
    [0.4167, 0.4298, 0.375]
    >>> [row["mixing_bound"] for row in report["rows"]], [row["mixing_time"] for row in report["rows"]]
    ([39, 38, 34], [8, 8, 9])
    >>> round(report["gain"], 4), report["upper_bound"]
    (0.0131, None)
    """
    if not isinstance(system, HeadSystem):
        raise InvalidTypeError(
            f"weights_report takes a HeadSystem; got {type(system).__name__}. "
            "Build one with HeadSystem(attention) from an (H, n, n) array")
    base = HeadSystem(np.asarray(system.attention, dtype=float)) if system.is_exact else system
    optimum = optimal_fidelity_weights(base, horizon, method=method, starts=8,
                                       time_limit=time_limit)
    mixing = optimal_mixing_weights(base, eps=eps)
    rows = []
    if learned is not None:
        rows.append(_row(base, "learned (§1)", learned, horizon, eps))
    rows.append(_row(base, "uniform", np.full(base.H, 1.0 / base.H), horizon, eps))
    rows.append(_row(base, f"P3 optimal fidelity ({method})", optimum.weights, horizon, eps))
    rows.append(_row(base, "P1 best mixing bound", mixing.weights, horizon, eps))
    reference = rows[0]["minimax_fidelity"]
    return {
        "horizon": horizon, "eps": eps, "method": method, "heads": base.H, "tokens": base.n,
        "rows": rows, "upper_bound": optimum.upper_bound, "gap": optimum.gap,
        "converged": optimum.converged, "gain": rows[-2]["minimax_fidelity"] - reference,
    }


def _weights_text(weights, limit=6):
    shown = ", ".join(f"{w:.3f}" for w in weights[:limit])
    return f"({shown}{', …' if len(weights) > limit else ''})"


def weights_table(report, title):
    """Plain-text rendering of :func:`weights_report`.

    Examples
    --------
    >>> from dagtheory.examples import paper_example2
    >>> report = weights_report(paper_example2(), horizon=20)
    >>> print(weights_table(report, "Example 2, K = 20"))
    Example 2, K = 20
    <BLANKLINE>
    weighting                  weights         φ_min^20 (node)  p̄      M3 bound  p(P̄)   bound with p(P̄)  T_mix
    -------------------------  --------------  ---------------  ------  --------  ------  ----------------  -----
    uniform                    (0.500, 0.500)  0.416667 (2)     0.2917  39        0.2917  39                8
    P3 optimal fidelity (sgp)  (0.579, 0.421)  0.4297... (2)    0.298...  38      0.298...  38              8
    P1 best mixing bound       (1.000, 0.000)  0.375 (1)        0.3333  34        0.3333  34                9
    <BLANKLINE>
    M3 bounds T_mix with p̄ = Σ α_h p_h; the mixture walk's own p(P̄) >= p̄ gives ...
    <BLANKLINE>
    P3 gains +0.013... in minimax fidelity over the uniform weights
    """
    headers = ["weighting", "weights", f"φ_min^{report['horizon']} (node)", "p̄", "M3 bound",
               "p(P̄)", "bound with p(P̄)", "T_mix"]
    rows = [[r["weighting"], _weights_text(r["weights"]),
             f"{format_number(r['minimax_fidelity'], 6)} ({r['node']})", format_number(r["p_bar"], 4),
             format_number(r["m3_bound"]), format_number(r["p_mixture"], 4), format_number(r["mixing_bound"]),
             "> budget" if np.isnan(r["mixing_time"]) else format_number(r["mixing_time"])]
            for r in report["rows"]]
    lines = [title, "", format_table(headers, rows), "",
             "M3 bounds T_mix with p̄ = Σ α_h p_h; the mixture walk's own p(P̄) >= p̄ gives the tighter "
             "⌈max(2N/p, 8 ln(1/ε)/p)⌉ that P1 maximizes (§3, §5)", ""]
    if report["upper_bound"] is not None:
        lines.append(f"branch and bound: φ_min <= {report['upper_bound']:.6g} for every weighting "
                     f"(gap {report['gap']:.2g}{'' if report['converged'] else ', budget ran out'})")
    base = report["rows"][0]["weighting"]
    lines.append(f"P3 gains {report['gain']:+.6g} in minimax fidelity over the {base} weights")
    return "\n".join(lines)
