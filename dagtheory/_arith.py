"""Small helpers that let one definition run on float64, float32, exact Fraction arrays
and torch tensors (see :mod:`dagtheory._backend`)."""

from fractions import Fraction

import numpy as np

from ._backend import is_tensor
from ._validation import is_exact

__all__ = ["zero_like", "one_like", "unit_rows", "row_times", "matrix_times_column",
           "column_stepper", "leave_mass", "diagonal", "where", "suffix_sums", "max_last", "min_last", "zeros_like_rows", "scalar",
           "to_float", "unit_roundoff", "exact_rows"]


def zero_like(array):
    """The additive identity of ``array``'s arithmetic."""
    return Fraction(0) if is_exact(array) else 0.0


def one_like(array):
    """The multiplicative identity of ``array``'s arithmetic."""
    return Fraction(1) if is_exact(array) else 1.0


def unit_roundoff(array):
    """``u`` of ``array``'s floating type (``0`` for exact arrays)."""
    if is_exact(array):
        return Fraction(0)
    if is_tensor(array):
        import torch

        return torch.finfo(array.dtype).eps / 2
    return float(np.finfo(array.dtype).eps) / 2


def zeros_like_rows(matrix, *, integer=False):
    """Zeros of shape ``matrix.shape[:-1]`` (one row per matrix): int64, or the matrix's type."""
    shape = matrix.shape[:-1]
    if is_tensor(matrix):
        import torch

        return torch.zeros(shape, dtype=torch.int64 if integer else matrix.dtype, device=matrix.device)
    if integer:
        return np.zeros(shape, dtype=np.int64)
    if is_exact(matrix):
        return np.full(shape, Fraction(0), dtype=object)
    return np.zeros(shape, dtype=matrix.dtype)


def unit_rows(matrix, index):
    """``e_index`` for every matrix of a ``(..., n, n)`` stack, shape ``(..., n)``."""
    rows = zeros_like_rows(matrix)
    rows[..., index] = one_like(matrix)
    return rows


def row_times(rows, matrix):
    """``r M`` for a stack of row vectors ``(..., n)`` and matrices ``(..., n, n)``.

    NumPy floats use ``einsum``, which streams a stack of matrix-vector
    products several times faster than a batched ``matmul`` with a unit axis.
    """
    if isinstance(matrix, np.ndarray) and matrix.ndim == 2:
        return rows @ matrix  # one BLAS vector-matrix product
    if isinstance(matrix, np.ndarray) and matrix.dtype != object:
        return np.einsum("...i,...ij->...j", rows, matrix)
    return (rows[..., None, :] @ matrix)[..., 0, :]


def matrix_times_column(matrix, columns):
    """``M c`` for a stack of matrices ``(..., n, n)`` and column vectors ``(..., n)``."""
    if isinstance(matrix, np.ndarray) and matrix.ndim == 2:
        return matrix @ columns  # one BLAS matrix-vector product
    if isinstance(matrix, np.ndarray) and matrix.dtype != object:
        return np.einsum("...ij,...j->...i", matrix, columns)
    return (matrix @ columns[..., :, None])[..., 0]


def column_stepper(matrix):
    """A function ``c ↦ M c`` for repeated products with one fixed stack ``M``.

    A single float64 matrix gets BLAS ``dgemv`` on a Fortran-ordered copy made
    once (the fastest form for the many small products of an iteration); other
    stacks use :func:`matrix_times_column`.
    """
    if isinstance(matrix, np.ndarray) and matrix.dtype == np.float64 \
            and matrix.size == matrix.shape[-1] ** 2:
        from scipy.linalg.blas import dgemv

        n = matrix.shape[-1]
        fortran = np.asfortranarray(matrix.reshape(n, n))
        return lambda columns: dgemv(1.0, fortran, columns.reshape(n)).reshape(columns.shape)
    return lambda columns: matrix_times_column(matrix, columns)


def where(condition, a, b):
    """``np.where`` for arrays and tensors (scalars allowed for ``a`` and ``b``)."""
    if is_tensor(condition):
        import torch

        return torch.where(condition, a, b)
    return np.where(condition, a, b)


def suffix_sums(rows):
    """``Σ_{i ≥ v} rows[..., i]`` for every ``v``, shape ``(..., n)``."""
    if is_tensor(rows):
        import torch

        return torch.flip(torch.cumsum(torch.flip(rows, [-1]), -1), [-1])
    return np.flip(np.cumsum(np.flip(rows, -1), axis=-1), -1)


def max_last(array):
    """Maximum over the last axis."""
    return array.amax(dim=-1) if is_tensor(array) else array.max(axis=-1)


def min_last(array):
    """Minimum over the last axis."""
    return array.amin(dim=-1) if is_tensor(array) else array.min(axis=-1)


def diagonal(matrix):
    """The diagonals of a ``(..., n, n)`` stack, shape ``(..., n)`` (a view)."""
    if is_tensor(matrix):
        return matrix.diagonal(dim1=-2, dim2=-1)
    return np.diagonal(matrix, axis1=-2, axis2=-1)


def leave_mass(matrix):
    """Off-diagonal row sums ``Σ_{k≠j} M[j, k]``, shape ``(..., n)``.

    For a row-stochastic ``M`` this is ``1 - M[j, j]`` without the cancellation of
    computing ``1 - M[j, j]``: a row whose off-diagonal mass is ``1e-20`` keeps it.
    Rows whose diagonal is at most 1/2 are ``row sum - diagonal`` (no cancellation
    there: the result is at least half the row sum); the others, usually few, are
    summed without their diagonal entry.
    """
    if is_exact(matrix):
        n = matrix.shape[-1]
        return np.where(np.eye(n, dtype=bool), Fraction(0), matrix).sum(axis=-1)
    diagonal_entries = diagonal(matrix)
    off = matrix.sum(-1) - diagonal_entries
    heavy = diagonal_entries > 0.5
    if heavy.any():
        rows = matrix[heavy]
        if is_tensor(matrix):
            import torch

            index = torch.nonzero(heavy)[:, -1]
            count = torch.arange(rows.shape[0], device=rows.device)
        else:
            index = np.argwhere(heavy)[:, -1]
            count = np.arange(rows.shape[0])
        rows[count, index] = 0
        off[heavy] = rows.sum(-1)
    return off


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


def exact_rows(array):
    """Exact copy of float rows: each entry its exact Fraction, each row divided by its sum."""
    array = np.asarray(array, dtype=float)
    out = np.empty(array.shape, dtype=object)
    for index in np.ndindex(array.shape[:-1]):
        row = [Fraction(float(x)) for x in array[index]]
        total = sum(row)
        out[index] = np.array([x / total for x in row], dtype=object)
    return out
