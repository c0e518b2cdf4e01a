"""The one place where arrays enter dagtheory.

Every public function passes its array arguments through one of the
``check_*`` functions below. They convert the input to one of two
representations and refuse anything else with an error that names the
argument, the offending index and the value:

* **numeric**: a ``float64`` ndarray (ints, float16/32 and tensors are
  converted; float32 inputs are computed with float64 accumulators);
* **exact**: an ``object`` ndarray of :class:`fractions.Fraction`, built from
  ``Fraction``, ``int`` or sympy ``Rational`` entries (nested lists, object
  arrays or a sympy ``Matrix``). All later arithmetic on it is exact.

Rows of numeric attention that sum to 1 within ``atol`` are renormalized to sum
to 1, so the quantities computed are those of a true row-stochastic matrix
(rows already stochastic up to the rounding of their sums, ``2nε``, are kept as
they are, and a large input is then not copied); exact inputs must sum to
exactly 1.

The bound checks ``expr ≥ 0`` on a box (:mod:`dagtheory.symbolic` and its
engines) enter here too: :func:`check_expression` (a real, finite sympy
expression, floats made exact) and :func:`check_box` (a range with real ends
for every variable, narrowed by its sign assumptions), with the extra needs of
some engines (:func:`check_bounded`, :func:`check_rational_ends`).
"""

import math
import numbers
from fractions import Fraction

import numpy as np

from .exceptions import InvalidInputError, InvalidTypeError

__all__ = [
    "DEFAULT_ATOL",
    "as_array",
    "check_atol",
    "check_attention",
    "check_bounded",
    "check_box",
    "check_expression",
    "check_rational_ends",
    "check_walk",
    "check_weights",
    "check_horizon",
    "check_steps",
    "check_eps",
    "check_sources",
    "check_staying",
    "check_threshold",
    "is_exact",
]

#: Default tolerance on row sums of numeric inputs (float32 softmax is accurate to ~1e-7).
DEFAULT_ATOL = 1e-6


def is_exact(array):
    """True when ``array`` is dagtheory's exact representation (an object array of Fraction)."""
    return isinstance(array, np.ndarray) and array.dtype == object


def _is_sympy(value):
    return type(value).__module__.split(".")[0] == "sympy"


def _from_tensor(value):
    """Turn a torch tensor (or anything with ``detach``/``cpu``) into numpy without importing torch."""
    if hasattr(value, "detach") and hasattr(value, "cpu") and hasattr(value, "numpy"):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        return value.numpy()
    return value


def _to_fraction(value, name, index):
    if isinstance(value, Fraction):
        return value
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        return Fraction(int(value))
    if _is_sympy(value) and getattr(value, "is_Rational", False):
        return Fraction(int(value.p), int(value.q))
    raise InvalidTypeError(
        f"{name} mixes exact and inexact entries: {value!r} at index {index}; exact mode "
        "needs every entry to be a Fraction, an int or a sympy Rational (or pass floats only)"
    )


def _classify_object_array(array, name):
    """Return the exact object array, or ``None`` when every entry is a plain real number."""
    flat = array.ravel()
    exact = any(isinstance(v, Fraction) or (_is_sympy(v) and getattr(v, "is_Rational", False))
                for v in flat)
    if not exact:
        for position, value in enumerate(flat):
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
                index = np.unravel_index(position, array.shape)
                raise InvalidTypeError(
                    f"{name} holds {value!r} (type {type(value).__name__}) at index "
                    f"{tuple(int(i) for i in index)}; entries must be real numbers"
                )
            _check_float_range(value, name, np.unravel_index(position, array.shape))
        return None
    out = np.empty(array.shape, dtype=object)
    for position, value in enumerate(flat):
        index = tuple(int(i) for i in np.unravel_index(position, array.shape))
        out[index] = _to_fraction(value, name, index)
    return out


def _check_float_range(value, name, index):
    """Refuse a real number (a Python int of any size) that float64 cannot hold."""
    try:
        float(value)
    except OverflowError as err:
        raise InvalidInputError(
            f"{name} holds {value!r} at index {tuple(int(i) for i in index)}, too large "
            "for float64 (not finite)"
        ) from err


def as_array(value, name="A"):
    """Convert ``value`` to a float64 array or an exact object array of Fraction.

    Parameters
    ----------
    value : array_like, sympy Matrix or torch tensor
    name : str
        The argument's name, used in error messages.

    Returns
    -------
    ndarray
        ``float64`` (numeric mode) or ``object`` holding ``Fraction`` (exact mode).

    Examples
    --------
    >>> from fractions import Fraction
    >>> as_array([[1, 0], [Fraction(1, 2), Fraction(1, 2)]]).dtype
    dtype('O')
    >>> as_array([[1, 0], [0.5, 0.5]]).dtype
    dtype('float64')
    """
    value = _from_tensor(value)
    if _is_sympy(value) and hasattr(value, "tolist"):
        value = value.tolist()
    try:
        array = np.asarray(value)
    except ValueError as err:
        raise InvalidInputError(
            f"{name} is ragged: its rows have different lengths ({err})"
        ) from err
    if array.dtype == object:
        exact = _classify_object_array(array, name)
        if exact is not None:
            return exact
        array = array.astype(np.float64)
    if array.dtype.kind == "b":
        raise InvalidTypeError(f"{name} has dtype bool; expected real numbers (float, int or Fraction)")
    if array.dtype.kind == "c":
        raise InvalidTypeError(f"{name} has complex dtype {array.dtype}; expected real numbers")
    if array.dtype.kind not in "iuf":
        raise InvalidTypeError(f"{name} has dtype {array.dtype}; expected real numbers")
    return array.astype(np.float64, copy=False)


def _locate(index, batch_label):
    """Describe the position ``index`` of a ``(..., n, n)`` array in words."""
    index = tuple(int(i) for i in index)
    batch, row, column = index[:-2], index[-2], index[-1]
    words = []
    if batch:
        words.append(f"{batch_label} {batch[0] if len(batch) == 1 else batch}")
    words.append(f"row {row}, column {column}")
    return ", ".join(words)


def _locate_row(index, batch_label):
    index = tuple(int(i) for i in index)
    batch, row = index[:-1], index[-1]
    prefix = f"{batch_label} {batch[0] if len(batch) == 1 else batch}, " if batch else ""
    return f"{prefix}row {row}"


def _first(mask):
    return tuple(np.argwhere(mask)[0])


def _format(value):
    return str(value) if isinstance(value, Fraction) else f"{float(value):.10g}"


def _check_square(array, name, min_n):
    if array.ndim < 2 or array.shape[-1] != array.shape[-2]:
        raise InvalidInputError(
            f"{name} must be square, shape (n, n) with optional leading batch axes; "
            f"got shape {array.shape}"
        )
    if array.shape[-1] < min_n:
        raise InvalidInputError(
            f"{name} needs at least {min_n} tokens (a sink and a source); got n = {array.shape[-1]}"
        )
    if 0 in array.shape[:-2]:
        raise InvalidInputError(f"{name} has an empty batch axis: shape {array.shape}")


def _check_entries(array, name, batch_label):
    if not is_exact(array):
        if array.size and np.isfinite(array.min()) and np.isfinite(array.max()) and array.min() >= 0:
            return  # two reductions, no temporaries: the common case
        finite = np.isfinite(array)
        if not finite.all():
            where = _first(~finite)
            raise InvalidInputError(
                f"{name} contains {array[where]} (not finite) at {_locate(where, batch_label)}"
            )
    negative = array < 0
    if negative.any():
        where = _first(negative)
        raise InvalidInputError(
            f"{name} has a negative entry {_format(array[where])} at {_locate(where, batch_label)}; "
            "entries must be non-negative"
        )


#: Rows per block when scanning a triangle, so no full-size temporary is made.
_BLOCK = 128


def _first_off_triangle(array, *, upper):
    """Index of the first non-zero entry strictly above (``upper``) or below the diagonal, or None.

    Rows are scanned in blocks; entries are known to be non-negative, so the
    part of a block outside its diagonal square is clean when its maximum is
    zero. Only a dirty block is searched entry by entry.
    """
    n = array.shape[-1]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        rows = array[..., start:stop, :]
        outside = rows[..., stop:] if upper else rows[..., :start]
        beyond = np.arange(n) > np.arange(start, stop)[:, None] if upper \
            else np.arange(n) < np.arange(start, stop)[:, None]
        square = beyond[:, start:stop]
        dirty = (outside.size and outside.max() > 0) or np.any((rows[..., start:stop] != 0) & square)
        if dirty:
            where = tuple(int(i) for i in np.argwhere((rows != 0) & beyond)[0])
            return where[:-2] + (where[-2] + start, where[-1])
    return None


def _check_rows(array, name, atol, batch_label, *, owned=False):
    with np.errstate(over="ignore"):  # a sum that overflows is inf, refused below
        sums = array.sum(axis=-1)
    if is_exact(array):
        bad = sums != 1
    else:
        bad = np.abs(sums - 1.0) > atol
    if np.any(bad):
        where = _first(bad)
        raise InvalidInputError(
            f"{_locate_row(where, batch_label)} of {name} sums to {_format(sums[where])}, not 1"
            + ("" if is_exact(array) else f" (tolerance {atol:g})")
        )
    if is_exact(array):
        return array
    if owned and array.flags.writeable:
        array /= sums[..., None]
        return array
    if np.max(np.abs(sums - 1.0)) <= 2 * array.shape[-1] * np.finfo(np.float64).eps:
        # Stochastic up to the rounding of the sums themselves: dividing would only
        # move last digits, so the caller's array is used as is, through a read-only view.
        view = array.view()
        view.flags.writeable = False
        return view
    return array / sums[..., None]


def check_attention(value, *, name="A", atol=DEFAULT_ATOL, batch_label="batch", min_n=2):
    """Validate attention ``A`` (§1): square, finite, non-negative, causal, rows summing to 1.

    Parameters
    ----------
    value : array_like, shape (..., n, n)
        Row ``i`` is query ``i`` (the receiver); ``A[i, j] = 0`` for ``j > i``.
    name : str
        Name of the argument in error messages.
    atol : float
        Tolerance on numeric row sums; rows within it are renormalized.
    batch_label : str
        Word naming the leading axis in messages ("head", "layer", "batch").

    Returns
    -------
    ndarray
        ``float64`` or exact ``object`` array of the same shape.

    Raises
    ------
    InvalidInputError
        Naming the fault, the position and the value.

    Examples
    --------
    >>> check_attention([[1.0, 0.0], [0.3, 0.7]])
    array([[1. , 0. ],
           [0.3, 0.7]])
    >>> check_attention([[0.5, 0.5], [0.3, 0.7]])
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: A is not causal: mass above the diagonal at row 0, column 1 (value 0.5)
    """
    atol = check_atol(atol)
    array = as_array(value, name)
    _check_square(array, name, min_n)
    _check_entries(array, name, batch_label)
    where = _first_off_triangle(array, upper=True)
    if where is not None:
        raise InvalidInputError(
            f"{name} is not causal: mass above the diagonal at {_locate(where, batch_label)} "
            f"(value {_format(array[where])})"
        )
    return _check_rows(array, name, atol, batch_label, owned=array is not value and array.flags.owndata)


def check_walk(value, *, name="P", atol=DEFAULT_ATOL, batch_label="batch"):
    """Validate a forward walk ``P`` (§3): row-stochastic, upper-triangular, sink absorbing.

    Examples
    --------
    >>> check_walk([[0.5, 0.5], [0.0, 1.0]])
    array([[0.5, 0.5],
           [0. , 1. ]])
    >>> check_walk([[1.0, 0.0], [0.5, 0.5]])
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: P is not a forward walk: mass below the diagonal at row 1, column 0 (value 0.5); a walk moves only to later tokens. For attention A use SinkDAG.from_attention(A) or forward_walk(A)
    """
    atol = check_atol(atol)
    array = as_array(value, name)
    _check_square(array, name, 2)
    _check_entries(array, name, batch_label)
    where = _first_off_triangle(array, upper=False)
    if where is not None:
        raise InvalidInputError(
            f"{name} is not a forward walk: mass below the diagonal at {_locate(where, batch_label)} "
            f"(value {_format(array[where])}); a walk moves only to later tokens. "
            "For attention A use SinkDAG.from_attention(A) or forward_walk(A)"
        )
    return _check_rows(array, name, atol, batch_label, owned=array is not value and array.flags.owndata)


def check_weights(value, count, *, exact, name="weights"):
    """Validate head weights: ``count`` finite non-negative numbers, not all zero; renormalized.

    Leading batch axes are allowed (shape ``(..., count)``). In exact mode the
    weights must be exact too (Fraction, int or sympy Rational).

    Examples
    --------
    >>> check_weights([1, 3], 2, exact=False)
    array([0.25, 0.75])
    >>> check_weights([1, -1], 2, exact=False)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: weights has a negative entry -1 at index 1
    """
    array = _exact_weights(value, name) if exact else as_array(value, name)
    if array.ndim == 0 or array.shape[-1] != count:
        raise InvalidInputError(
            f"{name} must have length {count} (one per head); got shape {array.shape}"
        )
    if not exact and is_exact(array):
        array = array.astype(float)
    if not is_exact(array) and not np.isfinite(array).all():
        where = _first(~np.isfinite(array))
        raise InvalidInputError(f"{name} contains {array[where]} (not finite) at index {_idx(where)}")
    if (array < 0).any():
        where = _first(array < 0)
        raise InvalidInputError(f"{name} has a negative entry {_format(array[where])} at index {_idx(where)}")
    if not is_exact(array):
        # Scale each vector by its largest entry first, so that the sum cannot overflow.
        peak = array.max(axis=-1, keepdims=True)
        array = np.divide(array, peak, out=np.zeros_like(array), where=peak > 0)
    total = array.sum(axis=-1, keepdims=True)
    if np.any(total == 0):
        raise InvalidInputError(f"{name} are all zero; at least one head needs positive weight")
    return array / total


def _exact_weights(value, name):
    """Weights for an exact system: every entry converted to Fraction without passing through float."""
    raw = np.asarray(_from_tensor(value), dtype=object)
    out = np.empty(raw.shape, dtype=object)
    for index, entry in np.ndenumerate(raw):
        if isinstance(entry, (float, np.floating)):
            raise InvalidTypeError(
                f"{name} must be exact (Fraction, int or sympy Rational) for an exact system; "
                f"got the float {entry!r} at index {_idx(index)}"
            )
        out[index] = _to_fraction(entry, name, index)
    return out


def _idx(where):
    return int(where[0]) if len(where) == 1 else tuple(int(i) for i in where)


def check_atol(atol):
    """The row-sum tolerance ``0 <= atol < 1``: an accepted row then has a positive sum to divide by."""
    if isinstance(atol, (bool, np.bool_)) or not isinstance(atol, numbers.Real):
        raise InvalidTypeError(f"atol must be a real number; got {atol!r}")
    if not 0 <= atol < 1:
        raise InvalidInputError(f"atol must lie in [0, 1); got {atol!r}")
    return float(atol)


def check_horizon(horizon, *, allow_none=True):
    """A horizon ``K >= 1`` (an int); ``None`` means infinite when allowed."""
    if horizon is None and allow_none:
        return None
    return check_steps(horizon, name="horizon", minimum=1)


def check_steps(value, *, name, minimum=0):
    """An integer count of steps, at least ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise InvalidInputError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def _as_number(value, *, exact):
    """A checked real scalar as a float, or exactly as a Fraction (a float read by its decimal text)."""
    if not exact:
        return float(value)
    if isinstance(value, (float, np.floating)):
        return Fraction(str(value))
    if _is_sympy(value):
        return Fraction(int(value.p), int(value.q))
    return Fraction(value)


def check_eps(eps, *, exact):
    """The mixing threshold ``0 < eps < 1``; exact mode reads a float by its decimal text (0.1 is 1/10)."""
    if isinstance(eps, (bool, np.bool_)) or not isinstance(eps, numbers.Real) and not _is_sympy(eps):
        raise InvalidTypeError(f"eps must be a real number; got {eps!r}")
    if not (0 < eps < 1) or (isinstance(eps, float) and math.isnan(eps)):
        raise InvalidInputError(f"eps must lie strictly between 0 and 1; got {eps!r}")
    return _as_number(eps, exact=exact)


def check_gamma(gamma, *, exact):
    """The residual weight ``0 < γ <= 1`` of §4; exact mode reads a float by its decimal text."""
    if isinstance(gamma, (bool, np.bool_)) or not isinstance(gamma, numbers.Real) and not _is_sympy(gamma):
        raise InvalidInputError(f"gamma must be a number in (0, 1]; got {gamma!r}")
    if not 0 < gamma <= 1:
        raise InvalidInputError(f"gamma must be in (0, 1]; got {gamma!r}")
    return _as_number(gamma, exact=exact)


def check_threshold(threshold):
    """The edge threshold ``θ >= 0`` of §1."""
    if isinstance(threshold, (bool, np.bool_)) or not isinstance(threshold, numbers.Real):
        raise InvalidTypeError(f"threshold must be a real number; got {threshold!r}")
    if not threshold >= 0 or not math.isfinite(threshold):
        raise InvalidInputError(f"threshold must be finite and >= 0; got {threshold!r}")
    return threshold


def check_sources(sources, n):
    """The source set of §2 as a sorted array of node indices.

    ``"non-sink"`` (default of the library) is ``0..n-2``; ``"all"`` is ``0..n-1``;
    a list gives explicit indices (negative indices count from the end).

    Examples
    --------
    >>> check_sources("non-sink", 4)
    array([0, 1, 2])
    >>> check_sources([3, 0], 4)
    array([0, 3])
    """
    if isinstance(sources, str):
        if sources == "non-sink":
            return np.arange(n - 1)
        if sources == "all":
            return np.arange(n)
        raise InvalidInputError(f'sources must be "non-sink", "all" or a list of nodes; got {sources!r}')
    try:
        array = np.asarray(sources)
    except ValueError as err:
        raise InvalidInputError(f"sources must be a flat list of node indices; got {sources!r}") from err
    if array.ndim != 1 or array.size == 0 or array.dtype.kind not in "iu":
        raise InvalidInputError(f"sources must be a non-empty list of int node indices; got {sources!r}")
    bad = (array < -n) | (array >= n)
    if bad.any():
        raise InvalidInputError(f"source {int(array[bad][0])} is out of range for n = {n} tokens")
    return np.unique(array % n)


def check_staying(staying, n, *, exact):
    """``{token: probability}`` of ``edge_list_attention``'s ``staying`` (None values dropped)."""
    if staying is None:
        return {}
    if not hasattr(staying, "items"):
        raise InvalidTypeError(f"staying must be a mapping of token to probability; got {staying!r}")
    checked = {}
    for token, stay in staying.items():
        if isinstance(token, bool) or not isinstance(token, numbers.Integral) or not 0 <= token < n:
            raise InvalidInputError(f"staying has the key {token!r}; keys are tokens 0..{n - 1}")
        if stay is None:
            continue
        kinds = (Fraction, numbers.Integral) if exact else numbers.Real
        if isinstance(stay, bool) or not isinstance(stay, kinds) or not 0 <= stay <= 1:
            wanted = "an exact number (Fraction or int)" if exact else "a real number"
            raise InvalidInputError(f"staying[{token}] = {stay!r}; it must be {wanted} in [0, 1]")
        checked[int(token)] = Fraction(stay) if exact else float(stay)
    return checked


# --------------------------------------------------------------------------- boxes of bound checks

#: What :func:`check_expression` does with a Float inside ``expr``.
_FLOAT_POLICIES = ("exact", "refuse")


def check_expression(expr, *, floats="exact"):
    """``expr`` as a real, finite sympy expression (numbers are sympified).

    Parameters
    ----------
    expr : sympy.Expr or number
    floats : {"exact", "refuse"}, keyword-only
        ``"exact"`` replaces each Float inside ``expr`` by its exact binary
        value (``0.1`` becomes ``3602879701896397/36028797018963968``);
        ``"refuse"`` raises instead (for engines that need exact coefficients).

    Raises
    ------
    InvalidInputError
        If ``expr`` cannot be read, is not a real expression (a relational, a
        Matrix), contains ``I``, ``nan``, ``zoo`` or ``±oo``, or holds a Float
        that ``floats="refuse"`` refuses.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> check_expression(0.5 * x)
    x/2
    >>> check_expression(x > 1)
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: expr must be a real-valued sympy expression; got StrictGreaterThan x > 1
    """
    import sympy

    if floats not in _FLOAT_POLICIES:
        raise InvalidInputError(f"floats must be one of {list(_FLOAT_POLICIES)}; got {floats!r}")
    try:
        expr = sympy.sympify(expr)
    except (sympy.SympifyError, TypeError, ValueError) as err:
        raise InvalidInputError(f"expr must be a real sympy expression or a number; could not read {expr!r}") from err
    if not isinstance(expr, sympy.Expr) or isinstance(expr, (sympy.MatrixBase, sympy.MatrixExpr)):
        raise InvalidInputError(f"expr must be a real-valued sympy expression; got {type(expr).__name__} {expr}")
    bad = [a for a in (sympy.I, sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) if expr.has(a)]
    if bad:
        raise InvalidInputError(f"expr must be real and finite; it contains {bad[0]}: {expr}")
    found = sorted(expr.atoms(sympy.Float), key=sympy.default_sort_key)
    if found and floats == "refuse":
        raise InvalidInputError(
            f"expr has the float coefficient {float(found[0])!r} (in {expr}); floats are not exact "
            "here: write it as a sympy.Rational")
    return expr.xreplace({f: sympy.Rational(f) for f in found}) if found else expr


def _range_end(value, symbol):
    """A range end as a real sympy number or ``±oo``; floats are refused (they are not exact)."""
    import sympy

    if isinstance(value, (float, np.floating, sympy.Float)):
        raise InvalidInputError(f"the range of {symbol} has the float end {value!r}; give exact ends "
                                "(int, Fraction, sympy.Rational, a sympy number or ±sympy.oo)")
    if isinstance(value, Fraction):
        value = sympy.Rational(value.numerator, value.denominator)
    try:
        end = sympy.sympify(value)
    except (sympy.SympifyError, TypeError, ValueError):
        end = None
    if not isinstance(end, sympy.Expr) or end.free_symbols or end.is_extended_real is not True:
        raise InvalidInputError(f"the range of {symbol} has the end {value!r}, which is not a real number")
    if end.has(sympy.Float):
        raise InvalidInputError(f"the range of {symbol} has the float end {value!r}; give exact ends "
                                "(int, Fraction, sympy.Rational, a sympy number or ±sympy.oo)")
    return end


def _with_assumptions(symbol, interval):
    """``interval`` narrowed by the sign assumptions of ``symbol`` (``positive=True``: ``> 0``, ...)."""
    import sympy

    signs = ((symbol.is_positive, sympy.Interval.open(0, sympy.oo)),
             (symbol.is_nonnegative, sympy.Interval(0, sympy.oo)),
             (symbol.is_negative, sympy.Interval.open(-sympy.oo, 0)),
             (symbol.is_nonpositive, sympy.Interval(-sympy.oo, 0)))
    for known, half_line in signs:
        if known:
            interval = interval.intersect(half_line)
    if interval == sympy.S.EmptySet:
        raise InvalidInputError(f"the range of {symbol} is empty once its sign assumptions apply")
    return interval


def _as_interval(value, symbol):
    """A non-empty ``sympy.Interval`` (one-point ``FiniteSet``) from an Interval, a point or a pair."""
    import sympy

    if isinstance(value, sympy.FiniteSet) and len(value) == 1:
        value = (value.args[0], value.args[0])
    if isinstance(value, tuple) and len(value) == 2:
        interval = sympy.Interval(*(_range_end(end, symbol) for end in value))
    elif isinstance(value, sympy.Interval):
        interval = sympy.Interval(_range_end(value.start, symbol), _range_end(value.end, symbol),
                                  value.left_open, value.right_open)
    elif value == sympy.S.EmptySet:
        interval = value
    else:
        raise InvalidInputError(
            f"the range of {symbol} must be a sympy.Interval or a (low, high) pair; got {value!r}")
    if interval == sympy.S.EmptySet:
        raise InvalidInputError(f"the range of {symbol} is empty; got {value!r}")
    return interval  # Interval(a, a) is the one-point FiniteSet {a}: sympy has no degenerate Interval


def check_box(expr, ranges):
    """The ranges of the free symbols of ``expr``: ``{symbol: Interval}``, sorted by name.

    Every free symbol needs a range; a range is a ``sympy.Interval``, a
    one-point ``FiniteSet`` or a ``(low, high)`` pair (the closed interval).
    Its ends must be real numbers: rational, irrational (``16*log(4)``) or
    ``±oo``; floats are refused, as they are not exact. A symbol's sign
    assumptions narrow its range (``positive=True`` with ``[-1, 1]`` is
    ``(0, 1]``). Ranges of symbols that ``expr`` does not contain are checked
    and dropped. A one-point range comes back as a one-point ``FiniteSet``
    (sympy has no degenerate Interval).

    Parameters
    ----------
    expr : sympy.Expr
        A checked expression (:func:`check_expression`).
    ranges : mapping of sympy.Symbol to range, or None (no variables)

    Raises
    ------
    InvalidTypeError
        If ``ranges`` is not a mapping.
    InvalidInputError
        If a key is not a Symbol, a free symbol has no range, or a range is
        malformed, has an end that is a float or not a real number, or is
        empty (before or after its sign assumptions apply).

    Examples
    --------
    >>> import sympy
    >>> x, y = sympy.symbols("x y")
    >>> check_box(x * y, {y: (0, sympy.oo), x: sympy.Interval.Lopen(0, 1)})
    {x: Interval.Lopen(0, 1), y: Interval(0, oo)}
    >>> p = sympy.Symbol("p", positive=True)
    >>> check_box(p, {p: (-1, 1)})
    {p: Interval.Lopen(0, 1)}
    >>> check_box(x * y, {x: (0, 1)})
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: every variable needs a range; missing ['y']
    """
    import sympy

    if ranges is None:
        ranges = {}
    if not hasattr(ranges, "items"):
        raise InvalidTypeError(f"ranges must be a mapping of Symbol to range; got {type(ranges).__name__}")
    box = {}
    for symbol, value in ranges.items():
        if not isinstance(symbol, sympy.Symbol):
            raise InvalidInputError(f"the keys of ranges must be sympy Symbols; got {symbol!r}")
        box[symbol] = _with_assumptions(symbol, _as_interval(value, symbol))
    missing = expr.free_symbols - set(box)
    if missing:
        raise InvalidInputError(f"every variable needs a range; missing {sorted(map(str, missing))}")
    return {x: box[x] for x in sorted(expr.free_symbols, key=sympy.default_sort_key)}


def check_bounded(box, method):
    """``box`` itself when every range is bounded; otherwise an error naming the variable.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> check_bounded({x: sympy.Interval(0, sympy.oo)}, "interval branch and bound")
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: x has the unbounded range Interval(0, oo); interval branch and bound needs a bounded box
    """
    for symbol, interval in box.items():
        if not (interval.inf.is_finite and interval.sup.is_finite):
            raise InvalidInputError(f"{symbol} has the unbounded range {interval}; {method} needs a bounded box")
    return box


def check_rational_ends(box, method):
    """``box`` itself when every finite end is rational; otherwise an error naming the end.

    Examples
    --------
    >>> import sympy
    >>> x = sympy.Symbol("x")
    >>> check_rational_ends({x: sympy.Interval(0, sympy.sqrt(2))}, "smt_decide")
    Traceback (most recent call last):
    ...
    dagtheory.exceptions.InvalidInputError: the range of x has the end sqrt(2), which is neither rational nor ±oo; smt_decide needs rational ends
    """
    for symbol, interval in box.items():
        for end in (interval.inf, interval.sup):
            if end.is_finite and not end.is_Rational:
                raise InvalidInputError(
                    f"the range of {symbol} has the end {end}, which is neither rational nor ±oo; "
                    f"{method} needs rational ends")
    return box
