"""Tests of dagtheory.hunts: searches that find what sampling misses, and honest verdicts (§8)."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import strategies as st

from dagtheory.checks import BUDGETS, PROFILES, Statement, run_checks, run_statement, theorem
from dagtheory.exceptions import InvalidInputError, InvalidTypeError
from dagtheory.graph import HeadSystem, SinkDAG, edge_list_attention
from dagtheory.hunts import (
    STAGES, Domain, confirm, exact_example, hunt, infer_domain, local_search, small_scope_examples,
)
from dagtheory.markov import distance_to_sink, mixing_time
from dagtheory.strategies import (
    causal_attention, head_systems, near_trapped_walks, rational_attention, rational_systems,
)


# -- planted statements ------------------------------------------------------------------------

def _slow_mixture(system):
    """Two heads that each mix within 150 steps give a mixture that mixes within 130 steps (false)."""
    per_head = [mixing_time(walk, max_steps=150, over_budget="nan") for walk in system.walks]
    if any(math.isnan(steps) or steps == math.inf for steps in per_head):
        return
    mixture = mixing_time(system, max_steps=130, over_budget="nan")
    assert not math.isnan(mixture), f"heads mix in {per_head} <= 150 steps; the mixture needs more than 130"


#: False only when a node stays with probability about 0.986-0.993 in both heads: a random
#: softmax system does so about once in 5,000 draws, the 2-token edge-list head whose sink
#: keeps 99/100 of its row always does.
RARE = Statement("rare-slow-mixture", "conjecture",
                 head_systems(min_heads=2, max_heads=2, max_n=5), _slow_mixture)

TARGET, WIDTH = Fraction(31831, 100000), Fraction(1, 10**7)


def _d10(attention):
    return distance_to_sink(SinkDAG(attention).walk, 10)[10]


def _outside_window(attention):
    """d(10) is never within 1e-7 of 0.31831 (false: d(10) is continuous in the entries)."""
    d = _d10(attention)
    assert abs(d - TARGET) > WIDTH, f"d(10) = {float(d)!r} within 1e-7 of 0.31831"


def _window_margin(attention):
    return float(abs(_d10(attention) - TARGET) - WIDTH)


WINDOW = Statement("window", "conjecture", causal_attention(n=3, temperature=1.0), _outside_window,
                   margin=_window_margin)
WINDOW_BLIND = Statement("window", "conjecture", causal_attention(n=3, temperature=1.0), _outside_window)


@pytest.fixture(scope="module")
def rare():
    return run_statement(RARE), run_statement(RARE, hunts=False)


@pytest.fixture(scope="module")
def window():
    return run_statement(WINDOW), run_statement(WINDOW_BLIND)


def _system_from_json(value):
    attention = np.array([[[Fraction(x) for x in row] for row in head] for head in value["attention"]],
                         dtype=object)
    return HeadSystem(attention, np.array([Fraction(w) for w in value["weights"]], dtype=object))


def _fraction_strings(value):
    if isinstance(value, dict):
        return [s for item in value.values() for s in _fraction_strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _fraction_strings(item)]
    return [value] if isinstance(value, str) else []


def test_rare_mixing_counterexample_is_refuted_by_hunts_and_missed_by_sampling(rare):
    hunted, sampled = rare
    assert hunted.status == "refuted" and hunted.method in {"enumeration", "structured"}
    # the old procedure, with the same number of examples from the same strategy, misses it
    assert sampled.status == "holds" and sampled.examples == PROFILES["ci"]
    assert sampled.message == "no counterexample: hypothesis 50 examples"
    assert list(sampled.searches) == ["hypothesis"]


def test_refuted_results_carry_exact_counterexamples_that_fail_again(rare, window):
    hunted, _ = rare
    text = json.dumps(hunted.to_dict())
    counterexample = json.loads(text)["counterexample"]
    strings = _fraction_strings(counterexample)
    assert strings and all(Fraction(s) >= 0 for s in strings) and any("/" in s for s in strings)
    system = _system_from_json(counterexample)
    assert system.is_exact
    with pytest.raises(AssertionError, match="the mixture needs more than 130"):
        RARE.check(system)
    found, _ = window
    attention = np.array([[Fraction(x) for x in row] for row in found.counterexample], dtype=object)
    with pytest.raises(AssertionError, match="within 1e-7"):
        WINDOW.check(attention)


def test_rare_counterexample_is_shrunk_to_two_tokens(rare):
    hunted, _ = rare
    system = _system_from_json(hunted.counterexample)
    assert system.n == 2
    assert hunted.searches["exact"]["confirmed"] == hunted.searches["exact"]["counterexamples"] == 1


def test_margin_guided_local_search_finds_a_tiny_region(window):
    found, blind = window
    assert found.status == "refuted" and found.method == "local_search"
    assert found.searches["hypothesis"]["targeted"] is True
    # without a margin the same hunts have nothing to climb, and report the evidence
    assert blind.status == "holds" and blind.method == "search"
    assert blind.searches["local_search"]["skipped"] == "no margin"
    assert blind.message.startswith("no counterexample: hypothesis 50 examples, enumeration ")
    assert "local search skipped (no margin)" in blind.message


def test_holds_names_every_search_and_its_effort():
    def margin(attention):
        return float(attention[-1, -1])

    statement = Statement("rows are stochastic", "theorem", causal_attention(max_n=4),
                          lambda A: None, margin=margin)
    result = run_statement(statement)
    assert result.status == "holds" and result.method == "search"
    assert list(result.searches) == list(STAGES)
    for stage in STAGES:
        assert result.searches[stage]["examples"] > 0, stage
        assert {"examples", "seconds", "exhausted"} <= set(result.searches[stage])
    assert result.examples == sum(result.searches[s]["examples"] for s in STAGES)
    assert result.message.startswith("no counterexample: hypothesis 50 examples (targeted), enumeration ")
    assert "structured strategies" in result.message and "local search" in result.message
    assert "proved" not in result.message


def test_float_artefact_is_not_refuted():
    def exact_rows(system):
        combined = (system.weights[:, None, None] * system.attention).sum(axis=0)
        assert all(total == 1 for total in combined.sum(axis=1)), "a row of the combined attention does not sum to 1"

    statement = Statement("float artefact", "theorem", head_systems(min_heads=3, max_heads=3, max_n=4),
                          exact_rows)
    result = run_statement(statement)
    assert result.status == "undecided"
    assert "floating-point counterexample" in result.message
    assert "not confirmed in exact arithmetic" in result.message
    assert result.counterexample is not None
    confirmations = result.searches["exact"]
    assert confirmations["examples"] > 0


def test_a_check_that_fails_only_in_float_is_undecided_by_confirm():
    def check(x):
        assert x * 3 == x + x + x, "3x != x + x + x"

    result = confirm(check, 0.1, message="3x != x + x + x")
    assert result.status == "undecided" and result.example == 0.1
    assert "its exact version passes the check" in result.message


# -- margins, enumerate, assume: validation --------------------------------------------------------

@pytest.mark.parametrize(("margin", "error", "match"), [
    (lambda x: "abc", InvalidTypeError, r"^M: margin returned 'abc', not a number$"),
    (lambda x: float("nan"), InvalidInputError, r"^M: margin returned nan, not a finite number$"),
    (lambda x: math.inf, InvalidInputError, r"^M: margin returned inf, not a finite number$"),
    (lambda x: True, InvalidTypeError, r"^M: margin returned True, not a number$"),
])
def test_a_bad_margin_value_is_a_one_line_error_naming_the_statement(margin, error, match):
    statement = Statement("M", "theorem", st.integers(), lambda x: None, margin=margin)
    with pytest.raises(error, match=match):
        run_statement(statement)


def test_fraction_and_numpy_margins_are_numbers():
    for margin in (lambda x: Fraction(1, 3), lambda x: np.float64(0.5), lambda x: 2):
        assert run_statement(Statement("M", "theorem", st.integers(), lambda x: None, margin=margin)).status == "holds"


@pytest.mark.parametrize("hook", ["margin", "enumerate", "assume"])
def test_hooks_must_be_callable(hook):
    with pytest.raises(InvalidTypeError, match=rf"^C1: {hook} must be a callable .*; got 3$"):
        Statement("C1", "conjecture", st.integers(), lambda x: None, **{hook: 3})
    with pytest.raises(InvalidTypeError, match=rf"^C1: {hook} must be a callable"):
        theorem("C1", strategy=st.integers(), **{hook: "x"})(lambda x: None)
    with pytest.raises(InvalidInputError, match=rf"^C1: {hook} needs a check and a strategy$"):
        Statement("C1", "conjecture", None, None, exact=lambda: True, **{hook: lambda *a: 0})


def test_a_margin_that_raises_only_loses_its_guidance():
    statement = Statement("M", "theorem", causal_attention(max_n=3), lambda A: None,
                          margin=lambda A: 1 / 0)
    result = run_statement(statement)
    assert result.status == "holds"
    assert result.searches["hypothesis"]["margin_errors"] == 50


def test_an_enumerate_that_fails_is_a_one_line_error():
    statement = Statement("E", "theorem", causal_attention(max_n=3), lambda A: None,
                          enumerate=lambda: 1 / 0)
    with pytest.raises(InvalidInputError, match=r"^E: enumerate\(\) must return an iterable .*ZeroDivisionError"):
        run_statement(statement)


def test_the_positional_constructor_order_is_kept():
    statement = Statement("s", "theorem", st.integers(), lambda x: None, None, (3,), "doc")
    assert (statement.exact, statement.examples, statement.docstring) == (None, (3,), "doc")
    assert statement.margin is statement.enumerate is statement.assume is None


# -- a statement's own enumeration and hypotheses ---------------------------------------------------

def test_a_declared_enumeration_is_run_and_exhausted():
    heads = [edge_list_attention(3, edges) for edges in ([(0, 1), (1, 2)], [(0, 2), (1, 2)])]

    def check(attention):
        assert attention[2, 0] == 0, "token 2 attends to token 0"

    found = run_statement(Statement("E", "conjecture", rational_attention(n=3, max_weight=1).filter(
        lambda A: A[2, 0] == 0), check, enumerate=lambda: heads))
    assert found.status == "refuted" and found.method in {"enumeration", "hypothesis", "structured"}
    held = run_statement(Statement("E", "theorem", rational_attention(n=3), lambda A: None,
                                   enumerate=lambda: heads))
    assert held.searches["enumeration"] == {"examples": 2, "seconds": held.searches["enumeration"]["seconds"],
                                            "exhausted": True}
    assert "enumeration 2 examples (the statement's own, exhausted)" in held.message


def test_hunts_respect_the_strategy_domain():
    """The attention-sink hypothesis lives in a filter: made examples must keep it."""
    heads = rational_attention(max_n=5).filter(lambda A: all(A[i, i] < 1 for i in range(1, A.shape[0])))

    def check(attention):
        assert all(attention[i, i] < 1 for i in range(1, attention.shape[0])), "a token keeps its whole row"

    result = run_statement(Statement("domain", "theorem", heads, check))
    assert result.status == "holds"
    assert result.searches["enumeration"]["rejected"] > 0


def test_a_declared_assumption_replaces_the_inferred_domain():
    def check(attention):
        assert attention[1, 1] != Fraction(99, 100), "the sink keeps 99/100"

    uniform = st.just(edge_list_attention(2, [(0, 1)]))
    refuted = run_statement(Statement("assume", "conjecture", uniform, check, assume=lambda A: True))
    assert refuted.status == "refuted" and refuted.method == "enumeration"
    kept = run_statement(Statement("assume", "conjecture", uniform, check,
                                   assume=lambda A: A[1, 1] <= Fraction(1, 2)))
    assert kept.status == "holds"


def test_the_old_procedure_can_be_run_for_every_statement(tmp_path):
    (tmp_path / "planted.py").write_text(
        "from dagtheory.strategies import causal_attention\n"
        "from dagtheory.checks import theorem\n"
        "@theorem('no-0.99', kind='conjecture', strategy=causal_attention(n=2, temperature=1.0))\n"
        "def no_099(A):\n"
        "    assert not 0.985 < A[1, 1] < 0.995, 'A[1, 1] near 0.99'\n"
        "STATEMENTS = [no_099]\n")
    (old,) = run_checks(path=tmp_path, hunts=False)
    (new,) = run_checks(path=tmp_path)
    assert (old.status, new.status) == ("holds", "refuted")
    assert new.counterexample == [["1", "0"], ["1/100", "99/100"]]
    with pytest.raises(InvalidTypeError, match="hunts must be True or False; got 'no'"):
        run_statement(RARE, hunts="no")


def test_conjecture_c1_as_stated_is_refuted_with_an_exact_counterexample():
    """C1 of §3 (as in proofs/conjectures.py): T_mix(P̄(α)) ≤ max_h T_mix(P^(h)). It is false."""
    def c1(system):
        per_head = [mixing_time(walk, max_steps=5_000, over_budget="nan") for walk in system.walks]
        if any(math.isnan(steps) or steps == math.inf for steps in per_head):
            return
        slowest = max(per_head)
        mixture = mixing_time(system, max_steps=max(int(slowest), 1), over_budget="nan")
        assert not math.isnan(mixture) and mixture <= slowest, f"T_mix(P̄) > {slowest}"

    result = run_statement(Statement("C1", "conjecture", head_systems(min_heads=2, max_heads=3, max_n=6), c1))
    assert result.status == "refuted"
    system = _system_from_json(result.counterexample)
    # independent exact check: plain Fractions, no dagtheory arithmetic
    walks = [_fraction_walk(head) for head in system.attention]
    mixture = [[sum(w * walk[j][i] for w, walk in zip(system.weights, walks)) for i in range(system.n)]
               for j in range(system.n)]
    assert _fraction_mixing_time(mixture) > max(_fraction_mixing_time(walk) for walk in walks)


def _fraction_walk(attention):
    n = len(attention)
    columns = [sum(attention[i][j] for i in range(n)) for j in range(n)]
    return [[attention[i][j] / columns[j] for i in range(n)] for j in range(n)]


def _fraction_mixing_time(walk, eps=Fraction(1, 4)):
    n, t = len(walk), 0
    miss = [Fraction(1)] * (n - 1) + [Fraction(0)]
    while max(miss) > eps:
        miss = [sum(walk[j][i] * miss[i] for i in range(n)) for j in range(n)]
        t += 1
    return t


def test_c1_counterexample_by_hand():
    """The 3-token counterexample the ci hunt finds: each head mixes in 6 and 5 steps, the mixture in 7."""
    heads = [edge_list_attention(3, [(0, 1), (1, 2)]), edge_list_attention(3, [(0, 2), (1, 2)])]
    walks = [_fraction_walk(head) for head in heads]
    mixture = [[(a + b) / 2 for a, b in zip(r1, r2)] for r1, r2 in zip(*walks)]
    assert [_fraction_mixing_time(w) for w in walks] == [6, 5]
    assert _fraction_mixing_time(mixture) == 7
    system = HeadSystem(np.stack(heads))
    assert mixing_time(system) == 7 and [mixing_time(w) for w in system.walks] == [6, 5]
    # the numbers of docs/checking.md and docs/theory.md (§3 Conjecture C1)
    F = Fraction
    assert walks[0] == [[F(2, 3), F(1, 3), 0], [0, F(1, 2), F(1, 2)], [0, 0, 1]]
    assert walks[1] == [[F(3, 4), 0, F(1, 4)], [0, F(3, 4), F(1, 4)], [0, 0, 1]]
    assert mixture == [[F(17, 24), F(1, 6), F(1, 8)], [0, F(5, 8), F(3, 8)], [0, 0, 1]]
    d = [distance_to_sink(walk, 7) for walk in (*system.walks, system.mixture_walk())]
    assert (d[0][5], d[0][6], d[1][5]) == (F(431, 1296), F(1805, 7776), F(243, 1024))
    assert (d[2][6], d[2][7]) == (F(16543819, 63700992), F(296432423, 1528823808))


def test_c1_of_proofs_is_refuted_with_the_three_token_counterexample():
    (result,) = run_checks(["C1"])
    assert result.status == "refuted" and result.method == "enumeration"
    system = _system_from_json(result.counterexample)
    assert system.n == 3 and system.H == 2
    assert mixing_time(system) > max(mixing_time(walk) for walk in system.walks)


# -- the pieces -----------------------------------------------------------------------------------

def test_budgets_cover_every_profile_and_stage():
    assert set(BUDGETS) == set(PROFILES)
    for budget in BUDGETS.values():
        assert set(budget) == {"enumeration", "structured", "local_search", "exact", "check"}
    assert BUDGETS["ci"]["enumeration"]["max_n"] == 4 and BUDGETS["thorough"]["enumeration"]["max_n"] == 5


def test_exact_example_keeps_shapes_and_validity():
    system = HeadSystem(np.array([[[1.0, 0.0], [0.3, 0.7]], [[1.0, 0.0], [0.1, 0.9]]]), [0.2, 0.8])
    head = SinkDAG(np.array([[1.0, 0.0], [1 / 3, 2 / 3]]))
    exact = exact_example((system, [head, 0.5], "label", 7))
    assert exact[0].is_exact and exact[1][0].is_exact and exact[1][1] == Fraction(1, 2)
    assert exact[2:] == ("label", 7)
    assert all(sum(row) == 1 for h in exact[0].attention for row in h) and sum(exact[0].weights) == 1
    assert abs(float(exact[1][0].diffusion[1, 0]) - 1 / 3) < 1e-15
    already = exact_example(exact)
    assert already[0] is exact[0]


def test_small_scope_examples_are_small_first_distinct_and_finite():
    systems = list(small_scope_examples(heads=(2,), max_n=3))
    assert [s.n for s in systems] == sorted(s.n for s in systems)
    keys = {json.dumps(exact_key(s)) for s in systems}
    assert len(keys) == len(systems)
    assert all(s.is_exact and s.H == 2 for s in systems)
    heads = list(small_scope_examples(heads=(1,), max_n=3, kind="head", exact=False))
    assert all(isinstance(h, SinkDAG) and not h.is_exact for h in heads) and len(heads) == 45
    with pytest.raises(InvalidInputError, match="heads must be \\(1,\\)"):
        next(small_scope_examples(heads=(2,), kind="attention"))


def exact_key(system):
    from dagtheory.checks import to_jsonable

    return to_jsonable(system)


def test_infer_domain_reads_shapes_and_properties():
    drawn = [(HeadSystem.from_edges(3, [[(0, 1)], [(1, 2)]]), 2), (HeadSystem.from_edges(4, [[], [(0, 3)]]), 5)]
    domain = infer_domain(drawn)
    assert isinstance(domain, Domain) and domain.kind is None and domain.heads == ()
    assert domain.contains((HeadSystem.from_edges(3, [[], []]), 1))
    assert not domain.contains(HeadSystem.from_edges(3, [[], []]))
    assert not domain.contains((HeadSystem.from_edges(3, [[], [], []]), 1))
    float_system = HeadSystem.from_edges(3, [[], []], exact=False)
    assert not domain.contains((float_system, 1)) and domain.contains((float_system, 1), exact_ok=True)


def test_local_search_is_seeded_and_keeps_examples_valid():
    def evaluate(system):
        assert system.attention.dtype == object and sum(system.weights) == 1
        for head in system.attention:
            assert all(sum(row) == 1 and all(x >= 0 for x in row) for row in head)
            assert all(head[i, j] == 0 for i in range(3) for j in range(i + 1, 3))
        return float(system.weights[0])

    start = HeadSystem.from_edges(3, [[(0, 1), (1, 2)], [(0, 2)]])
    first = local_search(evaluate, [(start, 0.5)], moves=200, seed=3)
    again = local_search(evaluate, [(start, 0.5)], moves=200, seed=3)
    assert not first.found and first.value < 0.5 and first.value == again.value


def test_confirm_shrinks_heads_and_tokens():
    def check(system):
        assert not any(head[-1, -1] > Fraction(9, 10) for head in system.attention), "a sink keeps > 9/10"

    big = HeadSystem(np.stack([edge_list_attention(4, [(0, 1), (1, 3)], exact=False),
                               np.array([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 0, 1, 0], [0.01, 0.01, 0, 0.98]])]))
    result = confirm(check, big)
    assert result.status == "refuted"
    assert result.example.H == 1 and result.example.n == 2 and result.example.is_exact
    with pytest.raises(AssertionError):
        check(result.example)


def test_hunt_reports_searches_in_order():
    report = hunt(RARE, hunts=False)
    assert report.status == "holds" and [s.stage for s in report.searches] == ["hypothesis"]


def test_local_search_moves_heads_and_walks_inside_tuples():
    walk = np.array([[0.5, 0.25, 0.25], [0.0, 0.5, 0.5], [0.0, 0.0, 1.0]])
    start = (SinkDAG(edge_list_attention(3, [(0, 1), (1, 2)], exact=False)), "label", walk)

    def evaluate(example):
        head, label, moved = example
        assert label == "label" and isinstance(head, SinkDAG)
        assert np.allclose(moved.sum(axis=1), 1) and (moved >= 0).all() and not np.tril(moved, -1).any()
        assert moved[2, 2] == 1.0
        return float(head.diffusion[2, 1] + moved[0, 0])

    result = local_search(evaluate, [(start, evaluate(start))], moves=300, seed=1)
    assert result.value < 0.05
    head, _, moved = result.best
    assert head.diffusion[2, 1] < 0.05 and moved[0, 0] < 0.05


# -- forward walks ----------------------------------------------------------------------------------

def _chain_distance(P):
    """d(n − 2) < 1 for near-trapped walks (false: the chain 0 → 1 → … → τ has d(n − 2) = 1)."""
    n = len(P)
    d = distance_to_sink(P, n - 2)[n - 2]
    assert d < 1, f"d({n - 2}) = {d}"


WALK_CHAIN = Statement("walk-chain", "conjecture", near_trapped_walks(min_n=3, max_n=5), _chain_distance)


def test_a_walk_statement_is_refuted_by_enumerating_walks():
    hunted, sampled = run_statement(WALK_CHAIN), run_statement(WALK_CHAIN, hunts=False)
    assert sampled.status == "holds"
    assert hunted.status == "refuted" and hunted.method == "enumeration"
    assert hunted.message.splitlines()[0] == "d(1) = 1"  # pytest adds its own lines
    assert hunted.counterexample == [["0", "1", "0"], ["0", "0", "1"], ["0", "0", "1"]]
    assert hunted.searches["enumeration"]["unit"] == "walks"


def test_small_walks_are_every_successor_structure_with_staying_probabilities():
    def count(n):
        return sum(1 for _ in small_scope_examples(heads=(1,), min_n=n, max_n=n, kind="walk"))

    counts = [count(n) for n in (2, 3, 4)]
    assert counts == [5, 39, 357]
    walks = list(small_scope_examples(heads=(1,), min_n=4, max_n=4, kind="walk"))
    assert len({repr(P.tolist()) for P in walks}) == len(walks)
    stays = {Fraction(0), Fraction(1, 2), Fraction(9, 10), Fraction(99, 100), 1 - Fraction(1, 10**6)}
    for P in walks:
        assert all(sum(row) == 1 for row in P) and not np.tril(P, -1).any() and P[3, 3] == 1
        assert all(P[j, j] in stays and any(P[j, j + 1:]) for j in range(3))  # no trapped node
        moves = [x for x in P[0, 1:] if x]
        assert len(set(moves)) == 1  # the rest is split equally among the successors
    chain = [[1 if k == j + 1 or j == k == 3 else 0 for k in range(4)] for j in range(4)]
    assert walks[0].tolist() == chain  # the chain comes first
    floats = list(small_scope_examples(heads=(1,), max_n=2, kind="walk", exact=False))
    assert [P[0, 0] for P in floats] == [0.0, 0.5, 0.9, 0.99, 1 - 1e-6] and floats[0].dtype == float
    with pytest.raises(InvalidInputError, match="a walk has one head"):
        next(small_scope_examples(heads=(2,), kind="walk"))


def test_walk_hunts_run_every_stage_inside_the_domain():
    seen = []

    def check(P):
        seen.append(P)
        assert (np.diag(P)[:-1] < 1).all(), "a node is trapped"

    result = run_statement(Statement("walks", "theorem", near_trapped_walks(min_n=3, max_n=5), check,
                                     margin=lambda P: float(1 - P[0, 0])))
    assert result.status == "holds"
    assert result.searches["enumeration"]["examples"] == 396 and result.searches["enumeration"]["exhausted"]
    assert "enumeration 396 walks (n ≤ 4 of 4, exhausted)" in result.message
    assert set(result.searches["structured"]["strategies"]) == {
        "near_trapped_walks", "sparse_attention", "edge_list_systems"}
    assert result.searches["structured"]["examples"] > 0 and result.searches["local_search"]["examples"] > 0
    assert all(len(P) >= 3 and not np.tril(P, -1).any() for P in seen)


# -- tuples: parts put into drawn templates ---------------------------------------------------------

def _c1_with_weights(case):
    """C1 of §3 with explicit head weights ``(a, 1 − a)``."""
    system, a = case
    weighted = system.with_weights([a, 1 - a])
    per_head = [mixing_time(walk, max_steps=5000, over_budget="nan") for walk in weighted.walks]
    if any(math.isnan(steps) or steps == math.inf for steps in per_head):
        return
    mixture = mixing_time(weighted, max_steps=int(max(per_head)), over_budget="nan")
    assert not math.isnan(mixture) and mixture <= max(per_head), "C1 with weights"


C1_WEIGHTS = Statement("c1-weights", "conjecture",
                       st.tuples(head_systems(min_heads=2, max_heads=2, max_n=4), st.floats(0.05, 0.95)),
                       _c1_with_weights)


def test_c1_with_explicit_weights_is_refuted_through_templates():
    hunted, sampled = run_statement(C1_WEIGHTS), run_statement(C1_WEIGHTS, hunts=False)
    assert sampled.status == "holds"
    assert hunted.status == "refuted" and hunted.method in {"enumeration", "structured"}
    enumeration = hunted.searches["enumeration"]
    assert enumeration["templates"] == 16 and enumeration["simple_templates"] == 8
    system_json, a = hunted.counterexample
    system, a = _system_from_json(system_json), Fraction(a)
    assert 0 < a < 1 and system.n <= 4
    # independent exact check: plain Fractions, no dagtheory arithmetic
    walks = [_fraction_walk(head) for head in system.attention]
    mixture = [[a * p + (1 - a) * q for p, q in zip(r1, r2)] for r1, r2 in zip(*walks)]
    assert _fraction_mixing_time(mixture) > max(_fraction_mixing_time(walk) for walk in walks)


def test_templates_keep_the_other_values_and_the_size_they_came_with():
    """A hidden relation (the int is the system's n) survives: parts go into templates of their n."""
    cases = st.integers(2, 4).flatmap(lambda n: st.tuples(
        rational_systems(max_heads=2, min_n=n, max_n=n), st.just(n), st.sampled_from(["a", "b"])))
    made = []

    def check(case):
        system, n, label = case
        made.append(case)
        assert system.n == n and label in ("a", "b"), f"n = {system.n}, drawn {n}, label {label!r}"

    result = run_statement(Statement("templates", "theorem", cases, check))
    assert result.status == "holds", result.message
    assert result.searches["enumeration"]["examples"] > 0 and result.searches["structured"]["examples"] > 0
    assert "in 8 drawn templates)" in result.message  # ints and labels are kept as drawn
    assert len(made) > 400


def test_simple_scalars_only_for_values_drawn_from_a_range():
    def check(case):
        system, a = case
        assert a in (0.1, 0.9), f"a = {a}"

    cases = st.tuples(head_systems(min_heads=2, max_heads=2, max_n=3), st.sampled_from([0.1, 0.9]))
    result = run_statement(Statement("choices", "theorem", cases, check))
    assert result.status == "holds" and result.searches["enumeration"]["simple_templates"] == 0
