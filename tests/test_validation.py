"""Tests of dagtheory._validation: the one place where arrays enter dagtheory.

Attention must satisfy docs/theory.md §1 (square, finite, non-negative, causal, rows
summing to 1); a forward walk must satisfy §3 (row-stochastic, moving only to
later tokens). Every refusal is checked for a message that names the fault and
the offending position or value (STYLE.md, habit 3).
"""

import re
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given

from dagtheory._validation import (
    DEFAULT_ATOL,
    as_array,
    check_attention,
    check_bounded,
    check_box,
    check_eps,
    check_expression,
    check_horizon,
    check_rational_ends,
    check_sources,
    check_steps,
    check_threshold,
    check_walk,
    check_weights,
    is_exact,
)
from dagtheory.exceptions import (
    DagTheoryError,
    InvalidInputError,
    InvalidTypeError,
    ZeroColumnError,
)
from strategies import float_attention, rational_attention

F = Fraction


def good_attention():
    """A valid 4-token causal head (§1), as float64."""
    return np.array([
        [1.0, 0.0, 0.0, 0.0],
        [0.5, 0.5, 0.0, 0.0],
        [0.2, 0.3, 0.5, 0.0],
        [0.1, 0.2, 0.3, 0.4],
    ])


def good_exact_attention():
    """The same shape of head with exact Fraction entries (§1, §7)."""
    return np.array([
        [F(1), F(0), F(0)],
        [F(1, 3), F(2, 3), F(0)],
        [F(1, 4), F(1, 4), F(1, 2)],
    ], dtype=object)


# ---------------------------------------------------------------------------
# The exception hierarchy
# ---------------------------------------------------------------------------

def test_invalid_input_error_is_a_dagtheory_error_and_a_value_error():
    assert issubclass(InvalidInputError, DagTheoryError)
    assert issubclass(InvalidInputError, ValueError)


def test_invalid_type_error_is_a_dagtheory_error_and_a_type_error():
    assert issubclass(InvalidTypeError, DagTheoryError)
    assert issubclass(InvalidTypeError, TypeError)
    assert not issubclass(InvalidTypeError, ValueError)


def test_zero_column_error_is_an_invalid_input_error():
    assert issubclass(ZeroColumnError, InvalidInputError)


# ---------------------------------------------------------------------------
# check_attention: one test per kind of bad input (§1)
# ---------------------------------------------------------------------------

def test_nan_is_refused_with_its_position():
    A = good_attention()
    A[2, 1] = np.nan
    with pytest.raises(InvalidInputError, match=r"A contains nan \(not finite\) at row 2, column 1"):
        check_attention(A)


def test_positive_infinity_is_refused_with_its_position():
    A = good_attention()
    A[3, 0] = np.inf
    with pytest.raises(InvalidInputError, match=r"A contains inf \(not finite\) at row 3, column 0"):
        check_attention(A)


def test_negative_entry_is_refused_with_its_value_and_position():
    """§1: A[i, j] >= 0. The row still sums to 1, so only the sign is at fault."""
    A = good_attention()
    A[2, 1] = -0.25
    A[2, 0] = 0.75
    with pytest.raises(InvalidInputError,
                       match=r"negative entry -0\.25 at row 2, column 1"):
        check_attention(A)


def test_negative_exact_entry_is_printed_as_a_fraction():
    A = good_exact_attention()
    A[2, 0], A[2, 1] = F(-1, 4), F(3, 4)
    with pytest.raises(InvalidInputError, match=r"negative entry -1/4 at row 2, column 0"):
        check_attention(A)


def test_row_summing_to_097_is_refused_naming_row_and_sum():
    """§1: every row sums to 1; row 3 here sums to 0.1 + 0.2 + 0.3 + 0.37 = 0.97."""
    A = good_attention()
    A[3, 3] = 0.37
    with pytest.raises(InvalidInputError, match=r"row 3 of A sums to 0\.97, not 1"):
        check_attention(A)


def test_mass_above_the_diagonal_is_refused_as_not_causal():
    """§1: A[i, j] = 0 for j > i."""
    A = good_attention()
    A[1, 2] = 0.1
    A[1, 1] = 0.4
    with pytest.raises(InvalidInputError,
                       match=r"not causal: mass above the diagonal at row 1, column 2 \(value 0\.1\)"):
        check_attention(A)


def test_non_square_shape_is_refused_with_the_shape():
    with pytest.raises(InvalidInputError, match=r"must be square.*got shape \(3, 4\)"):
        check_attention(np.full((3, 4), 0.25))


@pytest.mark.parametrize("shape, n", [((1, 1), 1), ((0, 0), 0)])
def test_fewer_than_two_tokens_are_refused(shape, n):
    """§1: a head needs a sink and at least one source."""
    with pytest.raises(InvalidInputError, match=rf"at least 2 tokens.*got n = {n}\b"):
        check_attention(np.ones(shape))


def test_one_dimensional_input_is_refused_with_its_shape():
    with pytest.raises(InvalidInputError, match=r"must be square.*got shape \(2,\)"):
        check_attention([1.0, 0.0])


@pytest.mark.parametrize("ragged", [
    [[1.0], [0.5, 0.5]],
    [[F(1)], [F(1, 2), F(1, 2)]],
])
def test_ragged_nested_lists_are_refused(ragged):
    with pytest.raises(InvalidInputError, match=r"A is ragged: its rows have different lengths"):
        check_attention(ragged)


def test_bool_dtype_is_refused():
    with pytest.raises(InvalidTypeError, match=r"A has dtype bool"):
        check_attention(np.eye(3, dtype=bool))


def test_complex_dtype_is_refused_naming_the_dtype():
    with pytest.raises(InvalidTypeError, match=r"A has complex dtype complex128"):
        check_attention(np.eye(3, dtype=complex))


def test_string_dtype_is_refused_naming_the_dtype():
    with pytest.raises(InvalidTypeError, match=r"A has dtype <U1; expected real numbers"):
        check_attention(np.array([["1", "0"], ["0", "1"]]))


def test_object_array_mixing_fraction_and_float_names_the_float_and_its_index():
    A = np.array([[F(1), F(0)], [0.5, F(1, 2)]], dtype=object)
    with pytest.raises(InvalidTypeError,
                       match=r"A mixes exact and inexact entries: 0\.5 at index \(1, 0\)"):
        check_attention(A)


def test_object_array_holding_none_names_the_entry_and_its_type():
    A = np.array([[1.0, 0.0], [None, 1.0]], dtype=object)
    with pytest.raises(InvalidTypeError, match=r"holds None \(type NoneType\) at index \(1, 0\)"):
        check_attention(A)


def test_empty_batch_axis_is_refused_with_the_shape():
    with pytest.raises(InvalidInputError, match=r"empty batch axis: shape \(0, 3, 3\)"):
        check_attention(np.zeros((0, 3, 3)))


def test_exact_rows_must_sum_to_exactly_one():
    """§1 and §7: an exact row summing to 3/4 is refused, with no tolerance."""
    A = good_exact_attention()
    A[1, 1] = F(5, 12)
    with pytest.raises(InvalidInputError, match=r"row 1 of A sums to 3/4, not 1$"):
        check_attention(A)


def test_exact_rows_are_not_given_the_float_tolerance():
    """§7: a row off by 1/10**12 is as wrong as any other in exact mode."""
    A = good_exact_attention()
    A[2, 2] = F(1, 2) + F(1, 10**12)
    with pytest.raises(InvalidInputError, match=r"row 2 of A sums to 1000000000001/1000000000000"):
        check_attention(A)


def test_batched_fault_names_the_head():
    """A (H, n, n) stack: a negative entry in head 1 is reported as head 1."""
    A = np.stack([good_attention(), good_attention()])
    A[1, 2, 0], A[1, 2, 1] = -0.1, 0.6
    with pytest.raises(InvalidInputError,
                       match=r"negative entry -0\.1 at head 1, row 2, column 0"):
        check_attention(A, batch_label="head")


def test_batched_row_sum_fault_names_the_head():
    A = np.stack([good_attention(), good_attention()])
    A[1, 3, 3] = 0.3
    with pytest.raises(InvalidInputError, match=r"head 1, row 3 of A sums to 0\.9, not 1"):
        check_attention(A, batch_label="head")


def test_batched_causality_fault_names_the_head():
    A = np.stack([good_attention()] * 3)
    A[2, 0, 1], A[2, 0, 0] = 0.5, 0.5
    with pytest.raises(InvalidInputError, match=r"not causal: .* at head 2, row 0, column 1"):
        check_attention(A, batch_label="head")


def test_the_argument_name_is_used_in_messages():
    A = good_attention()
    A[1, 0] = np.nan
    with pytest.raises(InvalidInputError, match=r"^attention contains nan"):
        check_attention(A, name="attention")


def test_rows_off_by_more_than_atol_are_refused_and_atol_widens_the_tolerance():
    """§1: numeric rows must sum to 1 within atol (default 1e-6)."""
    A = good_attention()
    A[2, 2] += 2e-6
    with pytest.raises(InvalidInputError, match=r"row 2 of A sums to 1\.000002, not 1 \(tolerance 1e-06\)"):
        check_attention(A)
    out = check_attention(A, atol=1e-5)
    assert np.abs(out.sum(axis=1) - 1.0).max() <= 1e-15


def test_rows_within_atol_are_accepted():
    """§1: a row off by 5e-7 is within the default tolerance and is renormalized."""
    A = good_attention()
    A[2, 2] += 5e-7
    out = check_attention(A)
    assert np.abs(out.sum(axis=1) - 1.0).max() <= 1e-15


# ---------------------------------------------------------------------------
# check_attention: accepted inputs
# ---------------------------------------------------------------------------

def test_rows_off_by_1e9_are_renormalized():
    """§1: rows within atol are renormalized so the matrix is truly row-stochastic."""
    A = good_attention()
    A[1] *= 1 + 1e-9
    A[3] *= 1 - 1e-9
    out = check_attention(A)
    assert np.abs(out.sum(axis=1) - 1.0).max() <= 1e-15
    assert np.allclose(out, good_attention(), rtol=0, atol=1e-8)
    assert DEFAULT_ATOL == 1e-6


def test_float32_input_comes_back_as_float64():
    """§1: float32 attention is validated and renormalized in float64."""
    A32 = good_attention().astype(np.float32)
    out = check_attention(A32)
    assert out.dtype == np.float64
    assert np.abs(out.sum(axis=1) - 1.0).max() <= 1e-15
    assert np.allclose(out, good_attention(), atol=1e-7)


def test_int_input_becomes_float64():
    """§1: int entries are numeric, not exact (exact mode needs a Fraction, §7)."""
    out = check_attention([[1, 0], [0, 1]])
    assert out.dtype == np.float64
    assert not is_exact(out)
    assert out.tolist() == [[1.0, 0.0], [0.0, 1.0]]


def test_fraction_nested_lists_come_back_as_an_object_array_of_fractions():
    """§7: Fraction (and int) entries give the exact representation."""
    rows = [[F(1), 0], [F(1, 3), F(2, 3)]]
    out = check_attention(rows)
    assert out.dtype == object and is_exact(out)
    assert all(type(v) is Fraction for v in out.ravel())
    assert out.tolist() == [[F(1), F(0)], [F(1, 3), F(2, 3)]]


def test_sympy_matrix_of_rationals_is_converted_to_exact_fractions():
    """§7: sympy Rational entries become Fractions with the same value."""
    M = sympy.Matrix([[1, 0, 0],
                      [sympy.Rational(1, 3), sympy.Rational(2, 3), 0],
                      [sympy.Rational(1, 7), sympy.Rational(2, 7), sympy.Rational(4, 7)]])
    out = check_attention(M)
    assert is_exact(out)
    assert all(type(v) is Fraction for v in out.ravel())
    assert out[2].tolist() == [F(1, 7), F(2, 7), F(4, 7)]
    assert out.sum(axis=1).tolist() == [1, 1, 1]


def test_exact_input_is_returned_unchanged():
    """§1, §7: a valid exact head passes through entry for entry."""
    A = good_exact_attention()
    out = check_attention(A)
    assert out.tolist() == A.tolist()


def test_as_array_of_a_float_object_array_is_numeric():
    out = as_array(np.array([[1.0, 0.0], [0.25, 0.75]], dtype=object))
    assert out.dtype == np.float64


@given(rational_attention())
def test_exact_attention_passes_through_exactly(A):
    """§1, §7: a valid exact head is accepted and returned entry for entry."""
    out = check_attention(A)
    assert is_exact(out)
    assert out.tolist() == A.tolist()


@given(float_attention())
def test_float_attention_rows_are_renormalized_to_one(A):
    """§1: accepted float rows sum to 1 within rounding, and nothing else moves."""
    out = check_attention(A)
    assert np.abs(out.sum(axis=-1) - 1.0).max() <= 1e-15
    assert np.allclose(out, A, rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------
# check_walk (§3)
# ---------------------------------------------------------------------------

def test_check_walk_accepts_an_upper_triangular_stochastic_matrix():
    """§3: P[j, i] is non-zero only for i >= j; the sink row is e_τ."""
    P = [[F(2, 3), F(1, 3), F(0)], [F(0), F(1, 2), F(1, 2)], [F(0), F(0), F(1)]]
    out = check_walk(P)
    assert is_exact(out)
    assert out.tolist() == P


def test_check_walk_refuses_attention_and_suggests_from_attention():
    """Attention (§1) has its mass below the diagonal; a walk (§3) above it."""
    A = good_attention()
    with pytest.raises(InvalidInputError) as info:
        check_walk(A)
    message = str(info.value)
    assert "P is not a forward walk: mass below the diagonal at row 1, column 0 (value 0.5)" in message
    assert "SinkDAG.from_attention" in message


def test_check_walk_refuses_rows_not_summing_to_one():
    """§3: P is row-stochastic; row 0 here sums to 0.9."""
    P = np.array([[0.5, 0.4], [0.0, 1.0]])
    with pytest.raises(InvalidInputError, match=r"row 0 of P sums to 0\.9, not 1"):
        check_walk(P)


def test_check_walk_refuses_negative_entries():
    P = np.array([[1.5, -0.5], [0.0, 1.0]])
    with pytest.raises(InvalidInputError, match=r"P has a negative entry -0\.5 at row 0, column 1"):
        check_walk(P)


# ---------------------------------------------------------------------------
# check_weights (head weights on the simplex, §1)
# ---------------------------------------------------------------------------

def test_check_weights_renormalizes_floats():
    """§1: weights on the simplex: (1, 3) becomes (1/4, 3/4)."""
    out = check_weights([1.0, 3.0], 2, exact=False)
    assert out.dtype == np.float64
    assert out.tolist() == [0.25, 0.75]


def test_check_weights_renormalizes_exactly():
    """§1, §7: (1/3, 1/6) becomes (2/3, 1/3) exactly."""
    out = check_weights([F(1, 3), F(1, 6)], 2, exact=True)
    assert out.tolist() == [F(2, 3), F(1, 3)]
    assert all(type(w) is Fraction for w in out)


def test_check_weights_turns_exact_weights_into_floats_for_a_numeric_system():
    """§1: (1/4, 1/2) becomes (1/3, 2/3), as floats for a float system."""
    out = check_weights([F(1, 4), F(1, 2)], 2, exact=False)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, [1 / 3, 2 / 3], rtol=0, atol=1e-15)


def test_check_weights_reads_ints_as_exact():
    """§1, §7: int weights (1, 2, 1) become (1/4, 1/2, 1/4) exactly."""
    out = check_weights([1, 2, 1], 3, exact=True)
    assert out.tolist() == [F(1, 4), F(1, 2), F(1, 4)]


def test_check_weights_refuses_wrong_length():
    with pytest.raises(InvalidInputError,
                       match=r"weights must have length 2 \(one per head\); got shape \(3,\)"):
        check_weights([1, 1, 1], 2, exact=False)


def test_check_weights_refuses_a_scalar():
    with pytest.raises(InvalidInputError, match=r"must have length 1.*got shape \(\)"):
        check_weights(1.0, 1, exact=False)


def test_check_weights_refuses_negatives_naming_the_index():
    with pytest.raises(InvalidInputError, match=r"weights has a negative entry -0\.5 at index 2"):
        check_weights([1.0, 0.5, -0.5], 3, exact=False)


def test_check_weights_refuses_negative_exact_weights():
    with pytest.raises(InvalidInputError, match=r"negative entry -1/2 at index 0"):
        check_weights([F(-1, 2), F(3, 2)], 2, exact=True)


def test_check_weights_refuses_all_zero():
    with pytest.raises(InvalidInputError, match=r"weights are all zero"):
        check_weights([0.0, 0.0], 2, exact=False)


def test_check_weights_refuses_nan_naming_the_index():
    with pytest.raises(InvalidInputError, match=r"weights contains nan \(not finite\) at index 1"):
        check_weights([0.5, np.nan], 2, exact=False)


def test_check_weights_refuses_float_weights_for_an_exact_system():
    with pytest.raises(InvalidTypeError, match=r"must be exact .* got the float 0\.3 at index 0"):
        check_weights([0.3, 0.7], 2, exact=True)


def test_check_weights_uses_its_name_in_messages():
    with pytest.raises(InvalidInputError, match=r"^alpha has a negative entry"):
        check_weights([1.0, -1.0], 2, exact=False, name="alpha")


def test_check_weights_refuses_infinite_weights_for_an_exact_system():
    with pytest.raises(DagTheoryError, match=r"inf"):
        check_weights([np.inf, 1.0], 2, exact=True)


def test_check_weights_keeps_large_int_weights_exact():
    """§7: int weights are exact; 2**60 + 1 must not be rounded."""
    big = 2**60 + 1
    out = check_weights([big, 1], 2, exact=True)
    assert out.tolist() == [F(big, big + 1), F(1, big + 1)]


# ---------------------------------------------------------------------------
# check_sources (the source set S of §2)
# ---------------------------------------------------------------------------

def test_check_sources_non_sink_is_every_node_but_the_sink():
    """§2: the default S = {0..n-1} minus τ."""
    assert check_sources("non-sink", 5).tolist() == [0, 1, 2, 3]


def test_check_sources_all_includes_the_sink():
    """§2/§6: the paper code's source set includes τ."""
    assert check_sources("all", 5).tolist() == [0, 1, 2, 3, 4]


def test_check_sources_sorts_and_deduplicates_a_list():
    """§2: S is a set of nodes."""
    assert check_sources([3, 0, 3, 1], 5).tolist() == [0, 1, 3]


def test_check_sources_reads_negative_indices_from_the_end():
    """§2: -1 is the sink τ = n - 1."""
    assert check_sources([-1, -5], 5).tolist() == [0, 4]


@pytest.mark.parametrize("bad, shown", [([5], 5), ([0, -6], -6)])
def test_check_sources_refuses_out_of_range_naming_the_node(bad, shown):
    with pytest.raises(InvalidInputError, match=rf"source {shown} is out of range for n = 5 tokens"):
        check_sources(bad, 5)


def test_check_sources_refuses_an_unknown_string():
    with pytest.raises(InvalidInputError, match=r"""sources must be "non-sink", "all" .* got 'sinks'"""):
        check_sources("sinks", 5)


@pytest.mark.parametrize("bad", [[], [0.0, 1.0], [True], 2, [[0], [1, 2]]])
def test_check_sources_refuses_non_lists_of_ints(bad):
    with pytest.raises(InvalidInputError, match=re.escape(repr(bad))):
        check_sources(bad, 5)


# ---------------------------------------------------------------------------
# check_eps (the mixing threshold of §3)
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [0, 1, 0.0, 1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_check_eps_refuses_values_outside_the_open_unit_interval(bad):
    with pytest.raises(InvalidInputError,
                       match=rf"eps must lie strictly between 0 and 1; got {re.escape(repr(bad))}"):
        check_eps(bad, exact=False)


@pytest.mark.parametrize("bad", ["0.1", None, True])
def test_check_eps_refuses_non_numbers(bad):
    with pytest.raises(InvalidTypeError, match=rf"eps must be a real number; got {re.escape(repr(bad))}"):
        check_eps(bad, exact=False)


def test_check_eps_reads_a_float_by_its_decimal_text_in_exact_mode():
    """§3 and §7: T_mix(ε) in exact mode compares with ε = 1/10, not the binary float."""
    assert check_eps(0.1, exact=True) == Fraction(1, 10)
    assert type(check_eps(0.1, exact=True)) is Fraction


def test_check_eps_exact_inputs():
    """§3, §7: exact thresholds keep their value."""
    assert check_eps(Fraction(1, 4), exact=True) == Fraction(1, 4)
    assert check_eps(sympy.Rational(1, 3), exact=True) == Fraction(1, 3)


def test_check_eps_numeric_mode_returns_a_float():
    """§3: numeric mode compares d(t) with a float ε."""
    out = check_eps(Fraction(1, 4), exact=False)
    assert type(out) is float and out == 0.25


@pytest.mark.parametrize("eps, expected", [(np.float64(0.1), F(1, 10)), (np.float32(0.25), F(1, 4)),
                                         (np.float32(0.1), F(1, 10))])
def test_check_eps_reads_numpy_floats_in_exact_mode(eps, expected):
    """§3, §7: numpy floats are read by their decimal text, like Python floats."""
    assert check_eps(eps, exact=True) == expected


# ---------------------------------------------------------------------------
# check_threshold, check_steps, check_horizon
# ---------------------------------------------------------------------------

def test_check_threshold_accepts_zero_and_fractions():
    """§1: θ >= 0."""
    assert check_threshold(0.0) == 0.0
    assert check_threshold(F(1, 3)) == F(1, 3)


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_check_threshold_refuses_negative_and_non_finite(bad):
    with pytest.raises(InvalidInputError,
                       match=rf"threshold must be finite and >= 0; got {re.escape(repr(bad))}"):
        check_threshold(bad)


def test_check_threshold_refuses_non_numbers():
    with pytest.raises(InvalidTypeError, match=r"threshold must be a real number; got '0'"):
        check_threshold("0")


def test_check_steps_and_horizon():
    assert check_steps(np.int64(3), name="t") == 3
    assert check_horizon(None) is None
    assert check_horizon(5) == 5
    with pytest.raises(InvalidInputError, match=r"horizon must be at least 1; got 0"):
        check_horizon(0)
    with pytest.raises(InvalidTypeError, match=r"horizon must be an int; got None"):
        check_horizon(None, allow_none=False)
    with pytest.raises(InvalidTypeError, match=r"t must be an int; got 2\.0"):
        check_steps(2.0, name="t")
    with pytest.raises(InvalidTypeError, match=r"t must be an int; got True"):
        check_steps(True, name="t")



# ---------------------------------------------------------------------------
# Expressions and boxes of bound checks (expr >= 0 on a box)
# ---------------------------------------------------------------------------

X, Y = sympy.symbols("x y")
P = sympy.Symbol("p", positive=True)
Q = sympy.Symbol("q", nonpositive=True)


def test_check_expression_sympifies_numbers_and_strings():
    assert check_expression(3) == sympy.Integer(3)
    assert check_expression("x**2 - 1") == X**2 - 1
    assert check_expression(F(1, 3)) == sympy.Rational(1, 3)


def test_check_expression_replaces_floats_by_their_exact_binary_values():
    assert check_expression(0.5 * X) == X / 2
    exact = check_expression(0.1 * X).coeff(X)
    assert exact.is_Rational and exact == sympy.Rational(F(0.1)) and exact != sympy.Rational(1, 10)
    assert not check_expression(sympy.Float("0.25") + X).atoms(sympy.Float)


def test_check_expression_refuses_what_it_cannot_read():
    with pytest.raises(InvalidInputError, match=r"expr must be a real sympy expression or a number; "
                                                r"could not read 'x \+\* 1'"):
        check_expression("x +* 1")


def test_check_expression_refuses_a_relational():
    with pytest.raises(InvalidInputError,
                       match=r"expr must be a real-valued sympy expression; got StrictGreaterThan x > 1"):
        check_expression(X > 1)


def test_check_expression_refuses_a_matrix():
    with pytest.raises(InvalidInputError,
                       match=r"expr must be a real-valued sympy expression; got ImmutableDenseMatrix"):
        check_expression(sympy.Matrix([X, 1]))


def test_check_expression_refuses_a_boolean():
    with pytest.raises(InvalidInputError, match=r"expr must be a real-valued sympy expression; got BooleanTrue"):
        check_expression(True)


@pytest.mark.parametrize("expr, shown", [
    (sympy.I * X, "I"),
    (X + sympy.nan, "nan"),
    (X + sympy.zoo, "zoo"),
    (sympy.oo * X, "oo"),
    (X - sympy.oo, "-oo"),
    (sympy.exp(-sympy.oo * X), "-oo"),
])
def test_check_expression_refuses_complex_and_infinite_values(expr, shown):
    with pytest.raises(InvalidInputError, match=rf"expr must be real and finite; it contains {re.escape(shown)}"):
        check_expression(expr)


def test_check_expression_can_refuse_floats():
    assert check_expression(X / 2, floats="refuse") == X / 2
    with pytest.raises(InvalidInputError, match=r"expr has the float coefficient 0\.5 \(in 0\.5\*x\); floats "
                                                r"are not exact here: write it as a sympy\.Rational"):
        check_expression(0.5 * X, floats="refuse")


def test_check_expression_refuses_an_unknown_float_policy():
    with pytest.raises(InvalidInputError, match=r"floats must be one of \['exact', 'refuse'\]; got 'round'"):
        check_expression(X, floats="round")


def test_check_box_reads_pairs_intervals_and_points_sorted_by_name():
    box = check_box(X * Y, {Y: (F(1, 2), sympy.oo), X: sympy.Interval.Ropen(-1, 1)})
    assert list(box) == [X, Y]
    assert box[X] == sympy.Interval.Ropen(-1, 1)
    assert box[Y] == sympy.Interval(sympy.Rational(1, 2), sympy.oo)
    assert check_box(X, {X: sympy.FiniteSet(3)}) == {X: sympy.FiniteSet(3)}
    assert check_box(X, {X: (2, 2)}) == {X: sympy.FiniteSet(2)}
    assert check_box(X, {X: (-sympy.oo, sympy.oo)}) == {X: sympy.Interval(-sympy.oo, sympy.oo)}


def test_check_box_accepts_irrational_ends():
    chernoff = 16 * sympy.log(4)
    box = check_box(X, {X: (chernoff, sympy.oo), Y: (0, sympy.sqrt(2))})
    assert box == {X: sympy.Interval(chernoff, sympy.oo)}


def test_check_box_checks_and_drops_ranges_of_absent_symbols():
    assert check_box(X, {X: (0, 1), Y: (0, 1)}) == {X: sympy.Interval(0, 1)}
    with pytest.raises(InvalidInputError, match=r"the range of y is empty"):
        check_box(X, {X: (0, 1), Y: (1, 0)})
    assert check_box(sympy.Integer(2), None) == {}


def test_check_box_narrows_a_range_by_the_sign_assumptions():
    assert check_box(P, {P: (-1, 1)}) == {P: sympy.Interval.Lopen(0, 1)}
    assert check_box(P, {P: (-sympy.oo, sympy.oo)}) == {P: sympy.Interval.open(0, sympy.oo)}
    assert check_box(Q, {Q: (-1, 1)}) == {Q: sympy.Interval(-1, 0)}
    assert check_box(Q, {Q: (0, 1)}) == {Q: sympy.FiniteSet(0)}


def test_check_box_refuses_a_range_emptied_by_the_sign_assumptions():
    with pytest.raises(InvalidInputError, match=r"the range of p is empty once its sign assumptions apply"):
        check_box(P, {P: (-2, 0)})


def test_check_box_refuses_a_missing_range():
    with pytest.raises(InvalidInputError, match=r"every variable needs a range; missing \['y'\]"):
        check_box(X * Y, {X: (0, 1)})


def test_check_box_refuses_ranges_that_are_not_a_mapping():
    with pytest.raises(InvalidTypeError, match=r"ranges must be a mapping of Symbol to range; got list"):
        check_box(X, [(X, (0, 1))])


def test_check_box_refuses_a_key_that_is_not_a_symbol():
    with pytest.raises(InvalidInputError, match=r"the keys of ranges must be sympy Symbols; got 'x'"):
        check_box(X, {"x": (0, 1)})


@pytest.mark.parametrize("value, shown", [
    ([0, 1], r"\[0, 1\]"),
    ((0, 1, 2), r"\(0, 1, 2\)"),
    ("0..1", r"'0\.\.1'"),
    (sympy.FiniteSet(0, 1), r"\{0, 1\}"),
    (sympy.Union(sympy.Interval(0, 1), sympy.Interval(2, 3)), r"Union"),
])
def test_check_box_refuses_a_malformed_range(value, shown):
    with pytest.raises(InvalidInputError,
                       match=rf"the range of x must be a sympy\.Interval or a \(low, high\) pair; got {shown}"):
        check_box(X, {X: value})


@pytest.mark.parametrize("value, shown", [
    ((0, 0.5), r"0\.5"),
    ((np.float64(-1.5), 1), r"np\.float64\(-1\.5\)|-1\.5"),
    (sympy.Interval(0, sympy.Float(2)), r"2\.0+"),
    ((0, "0.5"), r"'0\.5'"),
    (sympy.FiniteSet(sympy.Float(1)), r"1\.0+"),
])
def test_check_box_refuses_a_float_end(value, shown):
    with pytest.raises(InvalidInputError, match=rf"the range of x has the float end {shown}; give exact ends"):
        check_box(X, {X: value})


@pytest.mark.parametrize("value, shown", [
    ((0, sympy.Symbol("a")), "a"),
    (sympy.Interval(0, sympy.Symbol("a")), "a"),
    ((0, sympy.I), "I"),
    ((0, sympy.nan), "nan"),
    ((0, "not a number +"), "'not a number \\+'"),
    ((0, None), "None"),
])
def test_check_box_refuses_an_end_that_is_not_a_real_number(value, shown):
    with pytest.raises(InvalidInputError, match=rf"the range of x has the end {shown}, which is not a real number"):
        check_box(X, {X: value})


@pytest.mark.parametrize("value", [
    sympy.Interval(2, 1), (2, 1), sympy.Interval.open(1, 1), sympy.S.EmptySet, (sympy.oo, sympy.oo),
    (sympy.pi, 3),
])
def test_check_box_refuses_an_empty_range(value):
    with pytest.raises(InvalidInputError, match=r"the range of x is empty; got "):
        check_box(X, {X: value})


def test_check_bounded_names_the_unbounded_variable():
    box = check_box(X * Y, {X: (0, 1), Y: (0, sympy.oo)})
    with pytest.raises(InvalidInputError, match=r"y has the unbounded range Interval\(0, oo\); "
                                                r"interval branch and bound needs a bounded box"):
        check_bounded(box, "interval branch and bound")
    point = check_box(X, {X: (1, 1)})
    assert check_bounded(point, "interval branch and bound") is point


def test_check_rational_ends_names_the_irrational_end():
    box = check_box(X, {X: (0, 16 * sympy.log(4))})
    with pytest.raises(InvalidInputError, match=r"the range of x has the end 16\*log\(4\), which is neither "
                                                r"rational nor ±oo; smt_decide needs rational ends"):
        check_rational_ends(box, "smt_decide")
    rational = check_box(X * Y, {X: (F(1, 3), sympy.oo), Y: sympy.FiniteSet(2)})
    assert check_rational_ends(rational, "smt_decide") is rational
