"""Fuzzing every public entry point with malformed input.

The contract (docs/theory.md, "Input checks"): a call either returns a correct
result or raises ``ValueError``/``TypeError`` whose message names the problem.
Never another exception type, never a numpy ``RuntimeWarning``, never a silent
NaN. Accepted inputs are checked against an independent reference: the
renormalized, widened or float version of the same input.
"""

import re
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import dagtheory as dt
from dagtheory import analysis, depth, markov, programs, reference, symbolic, weighting
from dagtheory._validation import as_array, check_attention, check_weights

# --------------------------------------------------------------------------- helpers


def attempt(function, *args, **kwargs):
    """Call ``function``; return ``(result, None)`` or ``(None, error)``.

    A numpy RuntimeWarning is an error here, and any exception that is not a
    ValueError or TypeError fails the test.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", dt.TrappedNodeWarning)
        warnings.simplefilter("ignore", dt.ConvergenceWarning)
        try:
            return function(*args, **kwargs), None
        except (ValueError, TypeError) as err:
            return None, err


def refused(function, *args, pattern, **kwargs):
    """Assert that the call is refused with a message matching ``pattern``."""
    result, err = attempt(function, *args, **kwargs)
    assert err is not None, f"accepted malformed input, returned {result!r}"
    assert re.search(pattern, str(err), re.IGNORECASE), f"{pattern!r} not in message {err}"
    return err


def same(a, b):
    """Results equal: arrays, dataclasses of arrays, scalars (NaN equal to NaN)."""
    if hasattr(a, "__dataclass_fields__"):
        return all(same(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dt.SinkDAG):
        return same(a.diffusion, b.diffusion)
    if isinstance(a, dt.HeadSystem):
        return same(a.attention, b.attention) and same(a.weights, b.weights)
    try:
        x = np.asarray(a, dtype=float)
        y = np.asarray(b, dtype=float)
    except (TypeError, ValueError):
        return a == b
    return x.shape == y.shape and np.allclose(x, y, rtol=1e-7, atol=1e-9, equal_nan=True)


@st.composite
def attention(draw, *, lead=(), min_n=2, max_n=6):
    """Valid float attention, shape lead + (n, n), with every causal entry positive."""
    n = draw(st.integers(min_n, max_n))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    raw = np.tril(rng.uniform(0.05, 1.0, size=lead + (n, n)))
    return raw / raw.sum(axis=-1, keepdims=True)


#: Each kind of malformed array, with a pattern its message must match.
KINDS = {
    "nan": r"not finite",
    "inf": r"not finite",
    "-inf": r"not finite|negative",
    "negative": r"negative",
    "huge": r"sums to",
    "row off 1e-3": r"sums to",
    "non-causal": r"causal",
    "non-square": r"square",
    "ragged": r"ragged|shape|square",
    "n = 0": r"at least 2|shape",
    "n = 1": r"at least 2|shape",
    "empty batch": r"empty batch|shape",
    "bool": r"bool",
    "complex": r"complex",
    "strings": r"real numbers|str",
    "None": r"real numbers|NoneType",
    "Fraction + float": r"mixes exact and inexact",
    "int too large": r"too large",
}


def corrupt(array, kind, draw, *, walk=False):
    """Array (or nested list) ``array`` made malformed in the way ``kind`` names."""
    a = np.array(array, dtype=float)
    n = a.shape[-1]
    lead = a.shape[:-2]
    batch = tuple(draw(st.integers(0, s - 1)) for s in lead)
    i = draw(st.integers(1, n - 1))
    j = draw(st.integers(0, i - 1))
    low, high = ((i, j) if not walk else (j, i))  # an entry the matrix may hold
    if kind in ("nan", "inf", "-inf", "negative", "huge"):
        a[batch + (low, high)] = {"nan": np.nan, "inf": np.inf, "-inf": -np.inf,
                                  "negative": -0.25, "huge": 1e308}[kind]
        if kind == "huge":
            a[batch + (i if not walk else j, n - 1 if walk else 0)] = 1e308
        return a
    if kind == "row off 1e-3":
        a[batch + (i,)] *= 1 + 1e-3
        return a
    if kind == "non-causal":
        a[batch + ((j, i) if not walk else (i, j))] = draw(st.sampled_from([0.5, 1e-300]))
        return a
    if kind == "non-square":
        return np.concatenate([a, np.zeros(a.shape[:-1] + (1,))], axis=-1)
    if kind == "ragged":
        rows = a.reshape(-1, n, n).tolist()
        rows[0][i] = rows[0][i][:-1]
        return rows if lead else rows[0]
    if kind in ("n = 0", "n = 1"):
        size = 0 if kind == "n = 0" else 1
        return np.ones(lead + (size, size))
    if kind == "empty batch":
        return np.zeros((0,) + a.shape)
    if kind == "bool":
        return a > 0
    if kind == "complex":
        return a.astype(complex)
    if kind in ("strings", "None", "Fraction + float", "int too large"):
        o = a.astype(object)
        o[batch + (low, high)] = {"strings": "0.5", "None": None, "int too large": 10**400,
                                  "Fraction + float": Fraction(1, 2)}[kind]
        return o
    raise AssertionError(kind)


# --------------------------------------------------------------------------- entry points

ONE_HEAD = {
    "SinkDAG": lambda a: dt.SinkDAG(a),
    "SinkDAG.from_attention": lambda a: dt.SinkDAG.from_attention(a),
    "forward_walk": lambda a: dt.forward_walk(a),
    "signal_curves": lambda a: dt.signal_curves(a, 4),
    "node_fidelity": lambda a: dt.node_fidelity(a, 4),
    "node_fidelity(horizon=None)": lambda a: dt.node_fidelity(a, None, max_steps=50),
    "minimax_fidelity": lambda a: dt.minimax_fidelity(a, 4),
}
STACK = {
    "HeadSystem": lambda a: dt.HeadSystem(a),
    "HeadSystem.from_attention": lambda a: dt.HeadSystem.from_attention(a),
    "amplification": lambda a: dt.amplification(dt.HeadSystem(a), 4),
    "mixture_mixing_bound": lambda a: dt.mixture_mixing_bound(dt.HeadSystem(a)),
    "depth_signal": lambda a: depth.depth_signal(a),
    "attention_flow": lambda a: depth.attention_flow(a),
    "fidelity_proxy": lambda a: reference.fidelity_proxy(a, horizon=4),
    "mixing_proxy": lambda a: reference.mixing_proxy(a, max_steps=4),
    "mixing_proxy_mc": lambda a: reference.mixing_proxy_mc(a, max_steps=4, num_simulations=4),
    "step_kernel": lambda a: reference.step_kernel(a),
    "combine_heads": lambda a: reference.combine_heads(a),
    "analyze_attention": lambda a: analysis.analyze_attention(a, horizon=4, max_steps=200, gamma=0.5),
}
WALK = {
    "absorption_cdf": lambda p: dt.absorption_cdf(p, 3),
    "distance_to_sink": lambda p: dt.distance_to_sink(p, 3),
    "mixing_time": lambda p: dt.mixing_time(p, max_steps=500),
    "hitting_times": lambda p: dt.hitting_times(p),
    "mixing_bound": lambda p: dt.mixing_bound(p),
    "forward_probability": lambda p: dt.forward_probability(p),
    "trapped_nodes": lambda p: dt.trapped_nodes(p),
}


@st.composite
def malformed(draw, *, lead=(), walk=False):
    kind = draw(st.sampled_from(sorted(KINDS)))
    valid = draw(attention(lead=lead, min_n=2, max_n=5))
    if walk:
        valid = dt.forward_walk(valid)
    return kind, corrupt(valid, kind, draw, walk=walk)


@pytest.mark.parametrize("name", sorted(ONE_HEAD))
@given(case=malformed(lead=()))
def test_one_head_refuses_malformed_attention(name, case):
    kind, array = case
    refused(ONE_HEAD[name], array, pattern=KINDS[kind])


@pytest.mark.parametrize("name", sorted(STACK))
@given(case=malformed(lead=(2,)))
def test_head_stacks_refuse_malformed_attention(name, case):
    kind, array = case
    refused(STACK[name], array, pattern=KINDS[kind])


@pytest.mark.parametrize("name", sorted(WALK))
@given(case=malformed(lead=(), walk=True))
def test_walk_functions_refuse_malformed_walks(name, case):
    kind, array = case
    pattern = r"below the diagonal|forward walk" if kind == "non-causal" else KINDS[kind]
    refused(WALK[name], array, pattern=pattern)


@pytest.mark.parametrize("name", sorted(ONE_HEAD))
@given(a=attention(lead=(2, 1)))
def test_batched_fidelity_refuses_nan_in_any_batch(name, a):
    if name.startswith("SinkDAG"):
        return  # one head only; the batch is refused as a shape
    a[1, 0, -1, 0] = np.nan
    err = refused(ONE_HEAD[name], a, pattern=r"not finite")
    assert "batch" in str(err)


# --------------------------------------------------------------------------- accepted variants


def reference_outcome(function, array):
    result, err = attempt(function, array)
    return result, (type(err), str(err)) if err is not None else None


@pytest.mark.parametrize("name", sorted(ONE_HEAD) + sorted(WALK))
@given(a=attention(lead=()), row=st.integers(0, 4), sign=st.sampled_from([1, -1]))
def test_row_off_by_1e_9_is_renormalized(name, a, row, sign):
    function = ONE_HEAD.get(name) or WALK[name]
    base = a if name in ONE_HEAD else dt.forward_walk(a)
    nudged = base.copy()
    nudged[row % len(base)] *= 1 + sign * 1e-9
    renormalized = nudged / nudged.sum(axis=-1, keepdims=True)
    got, err = attempt(function, nudged)
    assert err is None, err
    assert same(got, attempt(function, renormalized)[0])


@pytest.mark.parametrize("name", sorted(ONE_HEAD) + sorted(STACK))
@given(a=attention(lead=(2,)), dtype=st.sampled_from([np.float16, np.float32]))
def test_low_precision_input_is_the_widened_array(name, a, dtype):
    function = STACK.get(name)
    if function is None:
        a = a[0]
        function = ONE_HEAD[name]
    low = a.astype(dtype)
    got, err = attempt(function, low)
    want, want_err = attempt(function, low.astype(np.float64))
    if want_err is not None:  # float16 rounding can exceed the tolerance: same refusal
        assert err is not None and str(err) == str(want_err)
    else:
        assert err is None, err
        assert same(got, want)


def permutation_heads(n, draw):
    """An int head: each row i attends to exactly one token j <= i."""
    a = np.zeros((n, n), dtype=np.int64)
    for i in range(n):
        a[i, draw(st.integers(0, i))] = 1
    return a


@pytest.mark.parametrize("name", sorted(ONE_HEAD))
@given(data=st.data(), n=st.integers(2, 5))
def test_int_attention_gives_the_float_result(name, data, n):
    a = permutation_heads(n, data.draw)
    got, err = attempt(ONE_HEAD[name], a)
    want, want_err = attempt(ONE_HEAD[name], a.astype(float))
    assert (err is None) == (want_err is None)
    if err is None:
        assert same(got, want)
    else:
        assert str(err) == str(want_err)


def test_int_identity_like_attention_is_numeric():
    head = dt.SinkDAG([[1, 0], [0, 1]])
    assert not head.is_exact
    assert np.array_equal(head.diffusion, np.eye(2))


def test_object_array_of_floats_is_numeric():
    a = np.array([[1.0, 0.0], [0.25, 0.75]], dtype=object)
    assert same(dt.node_fidelity(a, 3), dt.node_fidelity(a.astype(float), 3))


# --------------------------------------------------------------------------- trapped, cut off, zero columns


@st.composite
def trapped_case(draw):
    """Valid attention with token j (0 < j < sink) attended by nobody but itself."""
    a = draw(attention(min_n=3, max_n=6))
    n = len(a)
    j = draw(st.integers(1, n - 2))
    a[j + 1:, j] = 0
    return a / a.sum(axis=-1, keepdims=True), j


@given(case=trapped_case())
def test_trapped_node_gives_documented_answers(case):
    a, j = case
    head = dt.SinkDAG(a)
    assert j in head.trapped and j in head.cut_off
    assert j in dt.trapped_nodes(head.walk)
    with pytest.warns(dt.TrappedNodeWarning, match=rf"\b{j}\b"):
        assert dt.mixing_time(head) == np.inf
    assert dt.hitting_times(head)[j] == np.inf
    bound = dt.mixing_bound(head)
    assert bound.p == 0 and bound.binomial == np.inf and bound.closed_form == np.inf
    fidelity = dt.node_fidelity(a, 5)
    assert fidelity.value[j] == 0 and fidelity.t[j] == 1
    assert dt.minimax_fidelity(a, 5).value == 0


@given(case=trapped_case())
def test_zero_column_is_named_or_sent_to_the_sink(case):
    a, j = case
    a[j, j] = 0
    a[j] /= a[j].sum()
    err = refused(dt.forward_walk, a, pattern=rf"\b{j}\b")
    assert isinstance(err, dt.ZeroColumnError)
    head = dt.SinkDAG(a)  # lazily detected (decision 14)
    assert j in head.cut_off
    with pytest.raises(dt.ZeroColumnError, match=rf"\b{j}\b"):
        head.walk
    walk = dt.forward_walk(a, zero_columns="sink")
    assert walk[j, -1] == 1 and walk[j, :-1].sum() == 0


def test_sink_with_zero_diagonal_is_a_zero_column():
    a = np.array([[1.0, 0, 0], [0.5, 0.5, 0], [0.5, 0.5, 0]])
    with pytest.raises(dt.ZeroColumnError, match=r"\b2\b"):
        dt.forward_walk(a)
    assert dt.forward_walk(a, zero_columns="sink")[2, 2] == 1


def test_smallest_graphs():
    two = dt.SinkDAG([[1.0, 0.0], [0.5, 0.5]])
    assert two.depth == 1 and two.cut_off == []
    assert dt.mixing_time(two) == 4  # P[0, 0] = 2/3 and d(t) = (2/3)^t
    lone = dt.SinkDAG([[1.0, 0.0], [0.0, 1.0]])
    assert lone.cut_off == [0] and lone.trapped == [0]


# --------------------------------------------------------------------------- options

SYSTEM = dt.HeadSystem(np.stack([
    [[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]],
    [[1, 0, 0], [0, 1, 0], [0, 0.5, 0.5]],
]))
HEAD = SYSTEM.heads[0]
EXACT = dt.examples.paper_example2()

STEP_OPTIONS = {
    "signal_curves(horizon)": lambda k: dt.signal_curves(HEAD, k),
    "node_fidelity(horizon)": lambda k: dt.node_fidelity(HEAD, k),
    "node_fidelity(max_steps)": lambda k: dt.node_fidelity(HEAD, None, max_steps=k),
    "minimax_fidelity(horizon)": lambda k: dt.minimax_fidelity(HEAD, k),
    "amplification(horizon)": lambda k: dt.amplification(SYSTEM, k),
    "mixing_time(max_steps)": lambda k: dt.mixing_time(SYSTEM, max_steps=k),
    "fidelity_proxy(horizon)": lambda k: reference.fidelity_proxy(SYSTEM.attention, horizon=k),
    "mixing_proxy(max_steps)": lambda k: reference.mixing_proxy(SYSTEM.attention, max_steps=k),
    "analyze_attention(horizon)": lambda k: analysis.analyze_attention(SYSTEM.attention, horizon=k),
    "optimal_fidelity_weights(horizon)": lambda k: programs.optimal_fidelity_weights(SYSTEM, k),
    "weights_report(horizon)": lambda k: weighting.weights_report(SYSTEM, horizon=k),
    "signal_polynomial(t)": lambda k: symbolic.signal_polynomial(EXACT, k, 0),
    "absorption_polynomial(t)": lambda k: symbolic.absorption_polynomial(EXACT, k, 0),
    "edge_list_attention(n)": lambda k: dt.edge_list_attention(k, []),
    "HeadSystem.from_edges(n)": lambda k: dt.HeadSystem.from_edges(k, [[]]),
}
BAD_STEPS = [(0, r"at least|>= ?1"), (-1, r"at least|>="), (1.5, r"int"), (True, r"int"),
             ("10", r"int"), (float("nan"), r"int")]


@pytest.mark.parametrize("value, pattern", BAD_STEPS)
@pytest.mark.parametrize("name", sorted(STEP_OPTIONS))
def test_step_counts_are_checked(name, value, pattern):
    if name.startswith(("signal_polynomial", "absorption_polynomial")) and value == 0:
        return  # t = 0 is allowed there (S_0, F_0)
    refused(STEP_OPTIONS[name], value, pattern=pattern)


@pytest.mark.parametrize("name", ["signal_curves(horizon)", "fidelity_proxy(horizon)",
                                  "mixing_proxy(max_steps)", "mixing_time(max_steps)"])
def test_none_is_refused_where_no_infinite_horizon_exists(name):
    refused(STEP_OPTIONS[name], None, pattern=r"int")


@pytest.mark.parametrize("t", [-1, 1.5, True, "3", None])
@pytest.mark.parametrize("function", [dt.absorption_cdf, dt.distance_to_sink])
def test_t_max_is_checked(function, t):
    refused(function, SYSTEM, t, pattern=r"int|at least")


def test_t_max_zero_gives_the_start():
    assert np.array_equal(dt.absorption_cdf(HEAD, 0), [[0, 0, 1]])
    assert np.array_equal(dt.distance_to_sink(HEAD, 0), [1])


EPS_OPTIONS = {
    "mixing_time": lambda e: dt.mixing_time(SYSTEM, e),
    "mixing_bound": lambda e: dt.mixing_bound(SYSTEM, e),
    "mixing_bound(exact)": lambda e: dt.mixing_bound(EXACT, e),
    "mixture_mixing_bound": lambda e: dt.mixture_mixing_bound(SYSTEM, eps=e),
    "optimal_mixing_weights": lambda e: programs.optimal_mixing_weights(SYSTEM, eps=e),
    "analyze_attention": lambda e: analysis.analyze_attention(SYSTEM.attention, horizon=3, eps=e),
}


@pytest.mark.parametrize("eps", [0, 1, -0.1, 1.5, float("nan"), float("inf"), True, "0.1", None])
@pytest.mark.parametrize("name", sorted(EPS_OPTIONS))
def test_eps_outside_the_open_interval_is_refused(name, eps):
    refused(EPS_OPTIONS[name], eps, pattern=r"eps")


@pytest.mark.parametrize("name", ["mixing_bound", "mixture_mixing_bound"])
def test_subnormal_eps(name):
    # Regression: M2's float bound computed 1/eps, which overflows for a subnormal eps.
    result, err = attempt(EPS_OPTIONS[name], 1e-320)
    assert err is None, err


@pytest.mark.parametrize("depth_, p", [(float("inf"), 0.5), (2, -0.1), (2, "0.1"), (2.5, 0.5), (2, 1.5),
                                       (2, float("nan")), (2, True)])
def test_closed_form_bound_checks_its_arguments(depth_, p):
    refused(dt.closed_form_bound, depth_, p, pattern=r"depth|p ")


@pytest.mark.parametrize("gamma", [0, -0.5, 1.5, float("nan"), float("inf"), True, "0.5"])
@pytest.mark.parametrize("function", [
    lambda g: depth.depth_signal(SYSTEM.attention, gamma=g),
    lambda g: depth.attention_flow(SYSTEM.attention, gamma=g),
    lambda g: analysis.analyze_attention(SYSTEM.attention, horizon=3, gamma=g),
])
def test_gamma_outside_zero_one_is_refused(function, gamma):
    refused(function, gamma, pattern=r"gamma")


SOURCE_OPTIONS = {
    "minimax_fidelity": lambda s: dt.minimax_fidelity(HEAD, 3, s),
    "amplification": lambda s: dt.amplification(SYSTEM, 3, s),
    "depth_signal": lambda s: depth.depth_signal(SYSTEM.attention, sources=s),
    "optimal_one_step_fidelity": lambda s: programs.optimal_one_step_fidelity(SYSTEM, s),
}
BAD_SOURCES = [([3], r"out of range"), ([-4], r"out of range"), ([], r"non-empty"),
               ([0.5], r"int"), ("every", r"sources"), ([[0]], r"sources"), ([True], r"int")]


@pytest.mark.parametrize("sources, pattern", BAD_SOURCES)
@pytest.mark.parametrize("name", sorted(SOURCE_OPTIONS))
def test_sources_are_checked(name, sources, pattern):
    refused(SOURCE_OPTIONS[name], sources, pattern=pattern)


@pytest.mark.parametrize("name", sorted(SOURCE_OPTIONS))
def test_duplicated_and_negative_sources_are_deduplicated(name):
    assert same(SOURCE_OPTIONS[name]([1, 1, -2]), SOURCE_OPTIONS[name]([1]))


WEIGHT_OPTIONS = {
    "HeadSystem": lambda w: dt.HeadSystem(SYSTEM.attention, w),
    "HeadSystem(exact)": lambda w: dt.HeadSystem(EXACT.attention, w),
    "with_weights": lambda w: SYSTEM.with_weights(w),
    "combined": lambda w: SYSTEM.combined(w),
    "mixture_walk": lambda w: SYSTEM.mixture_walk(w),
    "amplification": lambda w: dt.amplification(SYSTEM, 3, weights=w),
    "mixture_mixing_bound": lambda w: dt.mixture_mixing_bound(SYSTEM, w),
    "fidelity_proxy": lambda w: reference.fidelity_proxy(SYSTEM.attention, w, 3),
    "mixing_proxy": lambda w: reference.mixing_proxy(SYSTEM.attention, w, 3),
    "step_kernel": lambda w: reference.step_kernel(SYSTEM.attention, w),
    "analyze_attention": lambda w: analysis.analyze_attention(SYSTEM.attention, w, horizon=3),
    "weights_report(learned)": lambda w: weighting.weights_report(SYSTEM, learned=w, horizon=3),
}
BAD_WEIGHTS = [([1.0], r"length|float"), ([1, 2, 3], r"length"), ([-1, 2], r"negative"),
               ([np.nan, 1], r"not finite|float"), ([np.inf, 1], r"not finite|float"),
               ([0, 0], r"all zero"), ([True, False], r"bool|mixes exact"),
               ("ab", r"dtype|length|real|an array")]


@pytest.mark.parametrize("weights, pattern", BAD_WEIGHTS)
@pytest.mark.parametrize("name", sorted(WEIGHT_OPTIONS))
def test_weights_are_checked(name, weights, pattern):
    refused(WEIGHT_OPTIONS[name], weights, pattern=pattern)


@given(scale=st.sampled_from([1e-300, 1e-3, 1.0, 1e3, 1e300, 1e307]),
       raw=st.lists(st.integers(0, 9), min_size=2, max_size=2).filter(any))
@example(scale=1e308, raw=[1, 1])  # once overflowed to inf: weights 0 and a RuntimeWarning
def test_weights_of_any_scale_are_renormalized(scale, raw):
    want = np.array(raw, dtype=float) / sum(raw)
    got, err = attempt(check_weights, np.array(raw, dtype=float) * scale, 2, exact=False)
    assert err is None, err
    assert np.allclose(got, want)
    assert same(SYSTEM.with_weights(np.array(raw) * scale).weights, want)


@pytest.mark.parametrize("atol", [-1e-6, 1.0, 1.5, float("nan"), float("inf"), True, "1e-6", None])
@pytest.mark.parametrize("function", [
    lambda atol: dt.SinkDAG([[1.0, 0.0], [0.0, 2.0]], atol=atol),
    lambda atol: dt.HeadSystem([[[1.0, 0.0], [0.5, 0.5]]], atol=atol),
    lambda atol: check_attention([[1.0, 0.0], [0.5, 0.5]], atol=atol),
])
def test_atol_is_checked(function, atol):
    # atol = nan once accepted every row sum; atol >= 1 let a zero row through to 0/0
    refused(function, atol, pattern=r"atol")


@pytest.mark.parametrize("threshold", [-0.1, float("nan"), float("inf"), True, "0.1", None])
def test_threshold_is_checked(threshold):
    refused(dt.SinkDAG, HEAD.diffusion, threshold=threshold, pattern=r"threshold")


@pytest.mark.parametrize("edges, pattern", [
    ([(2, 1)], r"edge"), ([(1, 1)], r"edge"), ([(0, 3)], r"edge"), ([(-1, 2)], r"edge"),
    ([(0, 1, 2)], r"pair"), ([(0.5, 1)], r"pair|int"), (None, r"edges"), ([None], r"pair"),
])
def test_edge_lists_are_checked(edges, pattern):
    refused(dt.edge_list_attention, 3, edges, pattern=pattern)
    refused(dt.HeadSystem.from_edges, 3, [[], edges], pattern=pattern)


def test_repeated_edges_add_weight():
    assert same(dt.edge_list_attention(2, [(0, 1), (0, 1)], exact=False), [[1, 0], [2 / 3, 1 / 3]])


@pytest.mark.parametrize("value", [None, [(0, 1, 2)], np.zeros(3, bool), np.zeros((0, 0), bool),
                                   np.zeros((2, 3), bool)])
def test_longest_paths_to_sink_checks_its_shape(value):
    # once IndexError for a 0-d, 1-d or empty array
    refused(dt.longest_paths_to_sink, value, pattern=r"square")


# --------------------------------------------------------------------------- systems, programs, symbolic


@pytest.mark.parametrize("function", [
    programs.optimal_mixing_weights, programs.optimal_one_step_fidelity,
    lambda s: programs.optimal_fidelity_weights(s, 3), weighting.weights_report,
    dt.mixture_mixing_bound,
    lambda s: symbolic.signal_polynomial(s, 2, 0), lambda s: symbolic.absorption_polynomial(s, 2, 0),
])
@pytest.mark.parametrize("system", [SYSTEM.attention, HEAD, None, "system"])
def test_functions_of_a_system_refuse_other_objects(function, system):
    # weights_report(array) was once an AttributeError
    refused(function, system, pattern=r"HeadSystem|system")


@pytest.mark.parametrize("system", [HEAD, None, "system"])
def test_amplification_refuses_other_objects(system):
    refused(dt.amplification, system, 3, pattern=r"HeadSystem|attention")


def test_symbolic_refuses_float_systems():
    refused(symbolic.signal_polynomial, SYSTEM, 2, 0, pattern=r"exact")


@pytest.mark.parametrize("index", [4, -1, 1.5, True, None])
def test_symbolic_token_index_is_checked(index):
    refused(symbolic.signal_polynomial, EXACT, 2, index, pattern=r"v|index")
    refused(symbolic.absorption_polynomial, EXACT, 2, index, pattern=r"j|index")


@pytest.mark.parametrize("matrix, pattern", [
    ([[Fraction(1, 2), Fraction(1, 2)], [0, 1]], r"causal"),  # once accepted: S = 0
    ([[Fraction(1, 2), 0], [0, 1]], r"sums to"),
    ([[1, 0], [Fraction(-1), Fraction(2)]], r"negative"),  # once accepted: S = 1 - 2**t
    ([[1, 0], [0.5, 0.5]], r"exact"),
    ([[1]], r"shape"),
])
def test_signal_closed_form_checks_the_head(matrix, pattern):
    refused(symbolic.signal_closed_form, np.array(matrix, dtype=object), 0, pattern=pattern)


@pytest.mark.parametrize("start, pattern", [([1.0], r"length"), ([-1, 1], r"negative"),
                                            ([0, 0], r"all zero"), ([np.nan, 1], r"not finite")])
def test_fidelity_program_start_is_checked(start, pattern):
    refused(programs.optimal_fidelity_weights, SYSTEM, 3, start=start, pattern=pattern)


@pytest.mark.parametrize("options, pattern", [({"method": "newton"}, r"method"),
                                              ({"starts": 0}, r"starts"),
                                              ({"max_iter": -1}, r"max_iter"),
                                              ({"solver": 3}, r"solver"),
                                              ({"solver": []}, r"solver")])
def test_fidelity_program_options_are_checked(options, pattern):
    refused(programs.optimal_fidelity_weights, SYSTEM, 3, pattern=pattern, **options)


def test_unknown_solver_is_named():
    with pytest.raises(programs.SolverError, match="NOPE"):
        programs.optimal_mixing_weights(SYSTEM, solver="NOPE")


def test_weights_report_normalizes_learned_weights():
    # the learned row's p_bar once used the raw weights [1, 3] (0.375 instead of 3/32)
    row = weighting.weights_report(SYSTEM, learned=[1, 3], horizon=3)["rows"][0]
    assert np.allclose(row["weights"], [0.25, 0.75])
    assert np.isclose(row["p_bar"], 0.25 * 0.375)


def test_programs_accept_a_one_head_system():
    one = dt.HeadSystem(SYSTEM.attention[:1])
    assert same(programs.optimal_mixing_weights(one).weights, [1.0])
    assert same(programs.optimal_one_step_fidelity(one).weights, [1.0])
    assert same(programs.optimal_fidelity_weights(one, 3).weights, [1.0])


# --------------------------------------------------------------------------- regressions in _validation


def test_huge_entries_are_refused_without_overflow_warning():
    # the row sum once overflowed with a RuntimeWarning before the refusal
    refused(dt.SinkDAG, [[1.0, 0.0], [1e308, 1e308]], pattern=r"sums to inf")


def test_python_int_too_large_for_float_is_refused():
    # once an OverflowError from astype(float64)
    err = refused(as_array, [[10**400, 0], [0, 1]], pattern=r"too large")
    assert "(0, 0)" in str(err)
