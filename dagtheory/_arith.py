"""Small helpers that let one definition run on float64 and on exact Fraction arrays."""

from fractions import Fraction

import numpy as np

from ._validation import is_exact

__all__ = ["zero_like", "one_like", "unit_rows", "row_times", "matrix_times_column",
           "leave_mass", "scalar", "to_float"]


def zero_like(array):
    """The additive identity of ``array``'s arithmetic."""
    return Fraction(0) if is_exact(array) else 0.0


def one_like(array):
    """The multiplicative identity of ``array``'s arithmetic."""
    return Fraction(1) if is_exact(array) else 1.0


def unit_rows(matrix, index):
    """``e_index`` for every matrix of a ``(..., n, n)`` stack, shape ``(..., n)``."""
    shape = matrix.shape[:-1]
    rows = np.full(shape, zero_like(matrix), dtype=matrix.dtype)
    rows[..., index] = one_like(matrix)
    return rows


def row_times(rows, matrix):
    """``r M`` for a stack of row vectors ``(..., n)`` and matrices ``(..., n, n)``."""
    return np.matmul(rows[..., None, :], matrix)[..., 0, :]


def matrix_times_column(matrix, columns):
    """``M c`` for a stack of matrices ``(..., n, n)`` and column vectors ``(..., n)``."""
    return np.matmul(matrix, columns[..., :, None])[..., 0]


def leave_mass(matrix):
    """Off-diagonal row sums ``Σ_{k≠j} M[j, k]``, shape ``(..., n)``.

    For a row-stochastic ``M`` this is ``1 - M[j, j]`` without the cancellation of
    computing ``1 - M[j, j]``: a row whose off-diagonal mass is ``1e-20`` keeps it.
    """
    n = matrix.shape[-1]
    return np.where(np.eye(n, dtype=bool), zero_like(matrix), matrix).sum(axis=-1)


def scalar(value):
    """Unwrap a 0-d array to a Python ``int``, ``float`` or ``Fraction``."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def to_float(array):
    """A float64 copy of a numeric or exact array."""
    return np.asarray(array, dtype=float)
