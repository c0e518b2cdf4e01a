"""Tests of the statement checker (dagtheory.checks) and the statements in proofs/."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
import sympy

from dagtheory.checks import (
    CheckResult, Statement, discover, run_checks, run_statement, theorem, to_jsonable,
)
from dagtheory.exceptions import InvalidInputError
from dagtheory.graph import HeadSystem
from dagtheory.symbolic import BoundCheck, check_inequality

EXPECTED = {
    "M1", "M2", "M3", "attention-sink", "posynomial", "example2-amplification",
    "example2-amplification-interval", "cross-head", "C1", "FALSE_COMBINED",
}


@pytest.fixture(scope="module")
def results():
    return {result.name: result for result in run_checks(profile="ci")}


@pytest.fixture(scope="module")
def statements():
    return {statement.name: statement for statement in discover()}


def test_discover_finds_every_module(statements):
    assert set(statements) == EXPECTED
    assert all(isinstance(s, Statement) for s in statements.values())
    assert statements["C1"].kind == statements["FALSE_COMBINED"].kind == "conjecture"


def test_every_theorem_holds_under_ci(results):
    theorems = {name: r for name, r in results.items() if r.kind == "theorem"}
    assert set(theorems) == EXPECTED - {"C1", "FALSE_COMBINED"}
    for result in theorems.values():
        assert result.status == "holds", result
        assert result.counterexample is None


def test_property_statements_try_the_ci_number_of_examples(results):
    for name in EXPECTED - {"example2-amplification", "FALSE_COMBINED"}:
        assert results[name].examples >= 50, results[name]


def _exact_minimax(attention, horizon=20):
    """``min_{v≠τ} max_{1≤t≤K} [Δ^t]_{τ,v}`` by plain Fraction row iteration."""
    n = len(attention)
    row = [Fraction(0)] * (n - 1) + [Fraction(1)]
    best = [Fraction(0)] * n
    for _ in range(horizon):
        row = [sum(row[i] * attention[i][j] for i in range(n)) for j in range(n)]
        best = [max(b, r) for b, r in zip(best, row)]
    return min(best[:-1])


def test_false_combined_is_refuted_and_its_counterexample_verified(results):
    result = results["FALSE_COMBINED"]
    assert result.status == "refuted"
    heads = [[[Fraction(x) for x in row] for row in head] for head in result.counterexample["attention"]]
    weights = [Fraction(x) for x in result.counterexample["weights"]]
    n = len(heads[0])
    combined = [[sum(b * head[i][j] for b, head in zip(weights, heads)) for j in range(n)]
                for i in range(n)]
    best_single = max(_exact_minimax(head) for head in heads)
    assert _exact_minimax(combined) > best_single
    # the library agrees when the system is rebuilt from the JSON
    system = HeadSystem(np.array(heads, dtype=object), np.array(weights, dtype=object))
    from dagtheory.fidelity import amplification
    again = amplification(system, horizon=20)
    assert again.combined == _exact_minimax(combined) and again.best_value == best_single



def test_a_planted_wrong_mixing_bound_is_refuted():
    import importlib.util
    from pathlib import Path

    import dagtheory

    path = Path(dagtheory.__file__).resolve().parents[1] / "proofs" / "m2_closed_form.py"
    spec = importlib.util.spec_from_file_location("_planted_m2", path)
    m2 = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m2)

    @theorem("planted", strategy=m2.float_heads)
    def planted(attention):
        """T_mix ≤ ⌈L/(2p)⌉: M2 with 2L/p replaced by L/(2p) (and no log term)."""
        m2.check_mixing_bound(attention, lambda depth, p: math.ceil(depth / (2 * p)))

    result = run_statement(planted)
    assert result.status == "refuted"
    assert "T_mix=" in result.message
    # the counterexample is exact: a matrix of Fractions written as strings, that fails the check
    exact = np.array([[Fraction(x) for x in row] for row in result.counterexample], dtype=object)
    assert exact.ndim == 2
    with pytest.raises(AssertionError, match="T_mix="):
        planted.check(exact)


def test_exact_checks_decide_the_status():
    always = Statement("always", "theorem", None, None, exact=lambda: True)
    never = Statement("never", "theorem", None, None, exact=lambda: False)
    L, p = sympy.symbols("L p", positive=True)
    box = {L: sympy.Interval(1, sympy.oo), p: sympy.Interval.Lopen(0, 1)}
    wrong = Statement("wrong", "theorem", None, None,
                      exact=lambda: check_inequality(L / (2 * p) - 2 * L / p, box))
    unknown = Statement("unknown", "conjecture", None, None,
                        exact=lambda: BoundCheck("undecided", None, "no idea"))
    assert run_statement(always).status == "holds"
    assert run_statement(never).status == "refuted"
    refuted = run_statement(wrong)
    assert refuted.status == "refuted" and refuted.counterexample == {"L": "1", "p": "1/8"}
    assert run_statement(unknown).status == "undecided"


def test_a_check_that_errors_is_undecided():
    from hypothesis import strategies as st

    @theorem("broken", strategy=st.integers())
    def broken(x):
        raise ZeroDivisionError("bug in the check")

    result = run_statement(broken)
    assert result.status == "undecided" and "ZeroDivisionError" in result.message


def test_unknown_names_are_named_with_the_known_ones():
    with pytest.raises(InvalidInputError, match="unknown statements.*'no-such'.*known.*'M1'"):
        run_checks(["M1", "no-such"])


def test_run_checks_filters_by_name():
    (result,) = run_checks("example2-amplification")
    assert result.name == "example2-amplification" and result.status == "holds"


def test_bad_arguments():
    from hypothesis import strategies as st

    with pytest.raises(InvalidInputError, match="profile"):
        run_statement(Statement("x", "theorem", None, None, exact=lambda: True), profile="fast")
    with pytest.raises(InvalidInputError, match="kind"):
        Statement("x", "lemma", None, None, exact=lambda: True)
    with pytest.raises(InvalidInputError, match="together"):
        Statement("x", "theorem", st.integers(), None)
    with pytest.raises(InvalidInputError, match="no proofs folder"):
        discover("/nonexistent/proofs")


def test_results_are_json_able(results):
    text = json.dumps([result.to_dict() for result in results.values()])
    assert json.loads(text)[0]["status"] in {"holds", "refuted", "undecided"}
    assert all(isinstance(result, CheckResult) for result in results.values())


def test_to_jsonable():
    assert to_jsonable(np.array([[Fraction(1, 2), Fraction(1)]], dtype=object)) == [["1/2", "1"]]
    assert to_jsonable((np.float64(0.5), np.int64(3), math.inf, None)) == [0.5, 3, "inf", None]
