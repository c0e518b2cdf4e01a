r"""Sum-of-squares certificates of ``f ≥ 0`` on a box, checked in exact arithmetic.

A polynomial ``f`` with rational coefficients is non-negative on a box
``B = {x : l_i ≤ x_i ≤ u_i}`` when it can be written (Putinar, Schmüdgen)

.. math::

    f = σ_0 + \sum_j σ_j \, g_j, \qquad σ_j = z_j^T Q_j z_j, \quad Q_j \succeq 0,

where every multiplier ``g_j`` is non-negative on ``B`` (``x_i − l_i``,
``u_i − x_i``, their product ``(x_i − l_i)(u_i − x_i)``, optionally products
across variables; a half-line ``[l, ∞)`` gives ``x_i − l`` alone, a free
variable nothing) and each ``z_j`` is a vector of monomials. Every term of
the sum is then non-negative on ``B``, and so is ``f``.

Finding the Gram matrices ``Q_j`` is a semidefinite program, solved in floating
point by cvxpy (CLARABEL, else SCS). A floating-point solution proves nothing:
the identity holds only up to rounding, and a matrix with eigenvalue
``-1e-12`` is not positive semidefinite. So the solution is made exact:

1. the SDP maximizes ``t`` with ``Q_0 ⪰ t I``, so that ``Q_0`` lies strictly
   inside the cone;
2. each ``Q_j`` (``j ≥ 1``) is rounded as ``R_j R_j^T`` with ``R_j`` rational,
   so it is positive semidefinite by construction; ``Q_0`` is rounded entrywise;
3. the exact residual ``r = f − σ_0 − Σ σ_j g_j`` is absorbed into ``Q_0``: the
   coefficient ``r_α`` of each monomial is spread evenly over the entries
   ``(a, b)`` with ``z_a z_b = x^α`` (the orthogonal projection of Peyrl and
   Parrilo), which makes the identity exact;
4. the corrected ``Q_0`` is tested positive semidefinite exactly, by symmetric
   Gaussian elimination over the rationals, and the identity is re-checked by
   expanding the right-hand side exactly with sympy polynomials over ``QQ``
   (:func:`verify_sos_certificate`).

Only a certificate that passes both exact checks is returned, so a returned
:class:`SOSCertificate` is a proof. When the margin ``t`` is too small for the
residual (in particular when ``f`` has a zero in the box, which forces singular
Gram matrices), no certificate is returned; that is not a disproof.

This module imports sympy, and cvxpy when a certificate is sought; it is not
imported by ``dagtheory`` itself.

References
----------
.. [1] M. Putinar, "Positive polynomials on compact semi-algebraic sets",
   Indiana Univ. Math. J. 42 (1993).
.. [2] H. Peyrl and P. A. Parrilo, "Computing sum of squares decompositions
   with rational coefficients", Theoret. Comput. Sci. 409 (2008).
"""

import itertools
import time
import warnings
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import sympy
from sympy import QQ
from sympy.polys.polyerrors import CoercionFailed, PolynomialError

from ._validation import check_box, check_expression, check_rational_ends
from .exceptions import InvalidInputError, InvalidTypeError

__all__ = [
    "PREFERRED_SOLVERS",
    "SOSCertificate",
    "is_polynomial_problem",
    "sos_certificate",
    "verify_sos_certificate",
]

#: Solvers tried, in this order, when ``solver`` is not given.
PREFERRED_SOLVERS = ("CLARABEL", "SCS")

#: The numerical Gram matrices are rounded to multiples of ``2**-bits``; finer on a retry.
_ROUNDING_BITS = (30, 50)

#: A margin of ``Q_0`` at or below this (``expr`` scaled to coefficients ``≤ 1``) counts as singular.
_SINGULAR_MARGIN = 1e-7

#: Eigenvalues below this (relative to the largest) are dropped when factoring ``Q_j = R R^T``.
_EIGEN_FLOOR = 1e-14


# --------------------------------------------------------------------------- the certificate


@dataclass(frozen=True)
class SOSCertificate:
    """An exact sum-of-squares proof that a polynomial is non-negative on a box.

    It states ``f = Σ_j g_j · z_j^T Q_j z_j`` with ``g_0 = 1``, each ``g_j ≥ 0``
    on the box and each ``Q_j`` rational and positive semidefinite;
    :func:`verify_sos_certificate` re-checks all of it exactly.

    Attributes
    ----------
    variables : tuple of sympy.Symbol
        The variables of ``f``, in the order of the exponents.
    box : tuple of (sympy.Symbol, sympy.Expr, sympy.Expr)
        ``(x, low, high)`` per variable: the closed box on which the
        certificate proves ``f ≥ 0`` (``±oo`` for an unbounded end).
    multipliers : tuple of sympy.Expr
        ``g_0 = 1, g_1, …``, products of the box's factors ``x − low`` and
        ``high − x``.
    bases : tuple of tuple of sympy.Expr
        The monomial vector ``z_j`` of each multiplier.
    grams : tuple of tuple of tuple of fractions.Fraction
        The exact Gram matrix ``Q_j`` of each multiplier.
    degree : int
        The degree of the certificate (of ``σ_0``).
    margin : float
        The smallest eigenvalue of ``Q_0`` the solver found (scaled as ``f``):
        how far inside the cone the rounding started.

    Examples
    --------
    >>> x = sympy.Symbol("x")
    >>> certificate = sos_certificate(x**2 - x + 1, {x: (-5, 5)})
    >>> certificate.degree, certificate.multipliers[0]
    (2, 1)
    >>> certificate.bases[0]
    (1, x)
    >>> sympy.expand(certificate.as_expr() - (x**2 - x + 1))
    0
    """

    variables: tuple
    box: tuple
    multipliers: tuple
    bases: tuple
    grams: tuple
    degree: int
    margin: float

    def as_expr(self):
        """``Σ_j g_j · z_j^T Q_j z_j`` as an (unexpanded) sympy expression.

        Examples
        --------
        >>> x = sympy.Symbol("x")
        >>> certificate = sos_certificate(x**2 + 1, {x: (0, 1)})
        >>> sympy.expand(certificate.as_expr())
        x**2 + 1
        """
        terms = []
        for multiplier, basis, gram in zip(self.multipliers, self.bases, self.grams):
            z = sympy.Matrix(basis)
            Q = sympy.Matrix([[sympy.Rational(v.numerator, v.denominator) for v in row] for row in gram])
            terms.append(multiplier * (z.T * Q * z)[0, 0])
        return sympy.Add(*terms)

    def to_dict(self):
        """A JSON-ready dict: exact entries as strings (``"3/7"``), monomials as strings.

        Examples
        --------
        >>> x = sympy.Symbol("x")
        >>> data = sos_certificate(x**2 + 1, {x: (0, 1)}).to_dict()
        >>> data["variables"], data["box"], data["terms"][0]["multiplier"]
        (['x'], {'x': ['0', '1']}, '1')
        """
        return {
            "variables": [str(x) for x in self.variables],
            "box": {str(x): [str(low), str(high)] for x, low, high in self.box},
            "degree": self.degree,
            "margin": self.margin,
            "terms": [
                {"multiplier": str(g), "basis": [str(m) for m in basis],
                 "gram": [[str(v) for v in row] for row in gram]}
                for g, basis, gram in zip(self.multipliers, self.bases, self.grams)
            ],
        }


# --------------------------------------------------------------------------- validation


def _box(expr, ranges):
    """``{x: (low, high)}`` for the free symbols of ``expr``: the closure of each checked range,
    with rational or infinite ends (open ends are treated as closed)."""
    box = check_rational_ends(check_box(expr, ranges), "sos_certificate")
    return {x: (interval.inf, interval.sup) for x, interval in box.items()}


#: The generator of the ``Poly`` of a constant (a polynomial in no variable).
_CONSTANT_GENERATOR = sympy.Dummy("c")


def _generators(variables):
    """The generators of a ``Poly`` in ``variables`` (a dummy one for a constant)."""
    return tuple(variables) or (_CONSTANT_GENERATOR,)


def _rational_poly(expr, variables):
    """``expr`` as a ``Poly`` over ``QQ``, or an InvalidInputError saying why it is not one."""
    try:
        return sympy.Poly(expr, *_generators(variables), domain=QQ)
    except (PolynomialError, CoercionFailed) as err:
        raise InvalidInputError(
            f"SOS certificates apply to polynomials with rational coefficients only; got {expr}") from err


def _problem(expr, ranges):
    """``(variables, poly, box)`` of a polynomial problem, validated."""
    expr = check_expression(expr, floats="refuse")
    box = _box(expr, ranges)
    variables = tuple(box)
    return variables, _rational_poly(expr, variables), box


def is_polynomial_problem(expr, ranges):
    """Whether :func:`sos_certificate` applies to ``expr ≥ 0`` on ``ranges``.

    True when ``expr`` is a polynomial with rational coefficients and every
    free symbol has a non-empty range with rational or infinite ends.

    Parameters
    ----------
    expr : sympy.Expr or number
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)

    Returns
    -------
    bool

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> is_polynomial_problem(x**2 - x*y + sympy.Rational(1, 3), {x: (0, 1), y: (0, 1)})
    True
    >>> is_polynomial_problem(1 / x, {x: (1, 2)}), is_polynomial_problem(x**2, {})
    (False, False)
    """
    try:
        _problem(expr, ranges)
    except (InvalidInputError, InvalidTypeError):
        return False
    return True


# --------------------------------------------------------------------------- multipliers and bases


def _monomials(n, degree):
    """Exponent tuples of the monomials of total degree ``≤ degree`` in ``n`` variables."""
    if degree < 0:
        return []
    out = []
    for d in range(degree + 1):
        for combo in itertools.combinations_with_replacement(range(n), d):
            out.append(tuple(combo.count(i) for i in range(n)))
    return out


def _box_factors(variables, box):
    """The linear factors ``x − low`` and ``high − x`` of the box's finite ends."""
    factors = []
    for x in variables:
        low, high = box[x]
        if low.is_finite:
            factors.append(x - low)
        if high.is_finite:
            factors.append(high - x)
    return factors


def _multipliers(variables, box, *, preordering):
    """``1``, each box factor, and the products of two factors of one variable (all pairs
    with ``preordering``)."""
    factors = _box_factors(variables, box)
    pairs = []
    for a, b in itertools.combinations(factors, 2):
        if preordering or a.free_symbols == b.free_symbols:
            pairs.append(sympy.expand(a * b))
    return [sympy.Integer(1)] + factors + pairs


def _degree(poly):
    return max(sum(m) for m in poly.monoms()) if not poly.is_zero else 0


def _as_poly(expr, variables):
    return sympy.Poly(expr, *_generators(variables), domain=QQ)


def _monomial_expr(exponents, variables):
    return sympy.Mul(*[x**e for x, e in zip(variables, exponents)])


# --------------------------------------------------------------------------- the SDP


def _coefficient_matrix(multiplier, basis, index):
    """The sparse map ``vec(Q) ↦ coefficients of g · z^T Q z`` (column-major ``vec``)."""
    from scipy import sparse

    m = len(basis)
    rows, cols, values = [], [], []
    for (a, za), (b, zb) in itertools.product(enumerate(basis), repeat=2):
        for gamma, c in multiplier.items():
            alpha = tuple(p + q + r for p, q, r in zip(za, zb, gamma))
            rows.append(index[alpha])
            cols.append(a + b * m)
            values.append(float(c))
    return sparse.csr_matrix((values, (rows, cols)), shape=(len(index), m * m))


def _solve_gram(target, multipliers, bases, index, *, solver, time_limit):
    """Numerical Gram matrices maximizing the margin ``t`` (``Q_0 ⪰ t I``), or None."""
    import cvxpy as cp

    grams = [cp.Variable((len(b), len(b)), symmetric=True) for b in bases]
    margin = cp.Variable()
    f = np.zeros(len(index))
    for alpha, c in target.items():
        f[index[alpha]] = float(c)
    matched = sum(_coefficient_matrix(g, b, index) @ cp.vec(Q, order="F")
                  for g, b, Q in zip(multipliers, bases, grams))
    constraints = [matched == f, grams[0] - margin * np.eye(len(bases[0])) >> 0]
    constraints += [Q >> 0 for Q in grams[1:]]
    problem = cp.Problem(cp.Maximize(margin), constraints)
    options = {"time_limit": time_limit} if solver == "CLARABEL" else {"time_limit_secs": time_limit}
    if solver == "SCS":
        options.update(eps_abs=1e-10, eps_rel=1e-10, max_iters=200_000)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "may be inaccurate": the exact checks decide
            problem.solve(solver=solver, **options)
    except cp.error.SolverError:
        return None
    if problem.status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or margin.value is None:
        return None
    return [np.asarray(Q.value, dtype=float) for Q in grams], float(margin.value)


# --------------------------------------------------------------------------- exact rounding


def _dyadic(value, bits):
    return QQ(int(round(float(value) * 2**bits)), 2**bits)


def _round_entries(matrix, bits):
    """``matrix`` symmetrized and rounded entrywise to multiples of ``2**-bits``."""
    sym = (matrix + matrix.T) / 2
    return [[_dyadic(v, bits) for v in row] for row in sym]


def _round_factored(matrix, bits):
    """A rational ``R R^T`` close to the PSD part of ``matrix``: PSD by construction."""
    m = matrix.shape[0]
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    keep = values > _EIGEN_FLOOR * max(1.0, float(np.abs(values).max(initial=0.0)))
    factor = vectors[:, keep] * np.sqrt(values[keep])
    R = [[_dyadic(v, bits) for v in row] for row in factor]
    return [[sum((R[i][k] * R[j][k] for k in range(len(R[i]))), QQ(0)) for j in range(m)]
            for i in range(m)]


def _gram_poly(gram, basis, gens):
    """``z^T Q z`` as a ``Poly`` (``basis`` holds exponent tuples)."""
    terms = {}
    for (a, za), (b, zb) in itertools.product(enumerate(basis), repeat=2):
        if gram[a][b]:
            alpha = tuple(p + q for p, q in zip(za, zb))
            terms[alpha] = terms.get(alpha, QQ(0)) + gram[a][b]
    terms = terms or {tuple(0 for _ in gens): QQ(0)}
    return sympy.Poly.from_dict(terms, *gens, domain=QQ)


def _absorb_residual(gram, basis, residual):
    """Add the exact residual into ``gram`` (Peyrl–Parrilo); False when a monomial is not covered."""
    pairs = {}
    for (a, za), (b, zb) in itertools.product(enumerate(basis), repeat=2):
        pairs.setdefault(tuple(p + q for p, q in zip(za, zb)), []).append((a, b))
    for alpha, c in residual.items():
        if not c:
            continue
        if alpha not in pairs:
            return False
        share = c / len(pairs[alpha])
        for a, b in pairs[alpha]:
            gram[a][b] += share
    return True


def _is_psd(matrix):
    """Exact test of a symmetric rational matrix: symmetric Gaussian elimination."""
    a = [list(row) for row in matrix]
    n = len(a)
    if any(a[i][j] != a[j][i] for i in range(n) for j in range(i)):
        return False
    for k in range(n):
        pivot = a[k][k]
        if pivot < 0 or (pivot == 0 and any(a[k][j] != 0 for j in range(k + 1, n))):
            return False
        if pivot == 0:
            continue
        for i in range(k + 1, n):
            if a[i][k] != 0:
                ratio = a[i][k] / pivot
                for j in range(k + 1, n):
                    a[i][j] -= ratio * a[k][j]
    return True


def _exact_grams(target, multiplier_polys, bases, numeric, bits):
    """Rational Gram matrices with ``target = Σ g_j z_j^T Q_j z_j`` exactly and all ``Q_j ⪰ 0``,
    or None."""
    gens = target.gens
    grams = [_round_entries(numeric[0], bits)]
    grams += [_round_factored(Q, bits) for Q in numeric[1:]]
    total = sum((g * _gram_poly(Q, b, gens) for g, Q, b in zip(multiplier_polys, grams, bases)),
                sympy.Poly(0, *gens, domain=QQ))
    residual = dict((target - total).as_dict(native=True))
    if not _absorb_residual(grams[0], bases[0], residual):
        return None
    return grams if _is_psd(grams[0]) else None


# --------------------------------------------------------------------------- public functions


def _pick_solver(solver):
    import cvxpy as cp

    installed = cp.installed_solvers()
    if solver is None:
        for name in PREFERRED_SOLVERS:
            if name in installed:
                return name
        raise InvalidInputError(f"none of the SDP solvers {PREFERRED_SOLVERS} is installed")
    if solver not in PREFERRED_SOLVERS or solver not in installed:
        raise InvalidInputError(
            f"solver must be one of the installed SDP solvers "
            f"{[s for s in PREFERRED_SOLVERS if s in installed]}; got {solver!r}")
    return solver


def _check_degrees(degree, max_degree, poly):
    natural = _degree(poly) + _degree(poly) % 2
    for name, value in (("degree", degree), ("max_degree", max_degree)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
            raise InvalidInputError(f"{name} must be a non-negative integer or None; got {value!r}")
    low = natural if degree is None else degree + degree % 2
    if low < _degree(poly):
        raise InvalidInputError(f"degree must be at least the degree of expr, {_degree(poly)}; got {degree!r}")
    high = low if max_degree is None else max(low, max_degree)
    return list(range(low, high + 1, 2))


def _layout(variables, box, degree, *, preordering):
    """Multipliers (as expressions and ``Poly``), their monomial bases, and the monomial index."""
    gens = _generators(variables)
    multipliers = _multipliers(variables, box, preordering=preordering)
    polys = [_as_poly(g, variables) for g in multipliers]
    bases = [_monomials(len(gens), degree // 2 - (_degree(g) + 1) // 2) for g in polys]
    kept = [j for j, b in enumerate(bases) if b]
    index = {alpha: i for i, alpha in enumerate(_monomials(len(gens), degree))}
    return [multipliers[j] for j in kept], [polys[j] for j in kept], [bases[j] for j in kept], index


def _solve_reduced(target, polys, bases, index, *, solver, deadline):
    """Solve the SDP; when ``Q_0`` comes out singular, drop the monomials of ``z_0`` with
    a zero diagonal entry (their rows must vanish) and solve once more."""
    def solve(bases):
        return _solve_gram(dict(target.as_dict(native=True)),
                           [dict(g.as_dict(native=True)) for g in polys], bases, index,
                           solver=solver, time_limit=max(deadline - time.monotonic(), 0.1))

    solved = solve(bases)
    if solved is None or solved[1] > _SINGULAR_MARGIN:
        return solved, bases
    diagonal = np.diag(solved[0][0])
    keep = diagonal > _SINGULAR_MARGIN * max(float(diagonal.max()), 1.0)
    if keep.all() or not keep.any() or time.monotonic() >= deadline:
        return solved, bases
    bases = [[z for z, k in zip(bases[0], keep) if k]] + bases[1:]
    return solve(bases), bases


def _certificate_at(poly, variables, box, degree, *, preordering, solver, deadline):
    """A certificate of the given (even) degree, or None (not yet verified)."""
    scale = max(abs(c) for c in poly.coeffs()) if not poly.is_zero else QQ(1)
    target = poly.quo_ground(scale)
    multipliers, polys, bases, index = _layout(variables, box, degree, preordering=preordering)
    solved, bases = _solve_reduced(target, polys, bases, index, solver=solver, deadline=deadline)
    if solved is None or solved[1] <= 0:
        return None
    numeric, margin = solved
    grams = next((g for g in (_exact_grams(target, polys, bases, numeric, bits)
                              for bits in _ROUNDING_BITS) if g is not None), None)
    if grams is None:
        return None
    factor = Fraction(int(QQ.numer(scale)), int(QQ.denom(scale)))
    return SOSCertificate(
        variables=tuple(variables),
        box=tuple((x, *box[x]) for x in variables),
        multipliers=tuple(multipliers),
        bases=tuple(tuple(_monomial_expr(e, variables) for e in b) for b in bases),
        grams=tuple(tuple(tuple(factor * Fraction(int(QQ.numer(v)), int(QQ.denom(v))) for v in row)
                          for row in Q) for Q in grams),
        degree=degree,
        margin=margin,
    )


def sos_certificate(expr, ranges, *, degree=None, max_degree=None, preordering=False,
                    time_limit=30.0, solver=None):
    """An exact sum-of-squares certificate of ``expr ≥ 0`` on a box, or None.

    Solves the SDP of ``expr = σ_0 + Σ σ_j g_j`` (module docstring) at each even
    degree from ``degree`` to ``max_degree``, rounds the solution to rationals,
    makes the identity exact and returns the first certificate that
    :func:`verify_sos_certificate` accepts.

    Parameters
    ----------
    expr : sympy.Expr or number
        A polynomial with rational coefficients.
    ranges : mapping of sympy.Symbol to sympy.Interval or (low, high)
        The box; every free symbol of ``expr`` needs a range, with rational or
        infinite ends. Open ends are treated as closed (a proof on the closure
        is a proof on the box).
    degree : int, optional
        The degree of ``σ_0``; the smallest even number ``≥ deg expr`` by
        default (an odd value is rounded up).
    max_degree : int, optional
        Raise the degree by 2 up to this one while no certificate is found;
        by default only ``degree`` is tried.
    preordering : bool, default False
        Also use the products of two box factors of different variables
        (Schmüdgen's preordering) as multipliers.
    time_limit : float, default 30.0
        Seconds for all the solver calls together.
    solver : {"CLARABEL", "SCS"}, optional
        The SDP solver; the first installed of :data:`PREFERRED_SOLVERS` by default.

    Returns
    -------
    SOSCertificate or None
        None when no certificate was found and verified. None is no disproof:
        polynomials with a zero in the box (singular Gram matrices) or needing
        a higher degree usually get None.

    Raises
    ------
    InvalidInputError
        If ``expr`` is not a polynomial with rational coefficients, a free
        symbol has no range, a range is empty or malformed, or an option is
        out of range.

    Examples
    --------
    >>> x, y = sympy.symbols("x y")
    >>> f = x**4 + y**4 - x*y + sympy.Rational(1, 5)
    >>> certificate = sos_certificate(f, {x: (-1, 1), y: (-1, 1)})
    >>> verify_sos_certificate(f, certificate)
    True
    >>> print(sos_certificate(x**2 - sympy.Rational(1, 4), {x: (0, 1)}))   # false: x = 0
    None
    """
    variables, poly, box = _problem(expr, ranges)
    degrees = _check_degrees(degree, max_degree, poly)
    if isinstance(time_limit, bool) or not isinstance(time_limit, (int, float)) or not time_limit > 0:
        raise InvalidInputError(f"time_limit must be a positive number of seconds; got {time_limit!r}")
    solver = _pick_solver(solver)
    deadline = time.monotonic() + float(time_limit)
    for d in degrees:
        if time.monotonic() >= deadline:
            return None
        certificate = _certificate_at(poly, variables, box, d, preordering=preordering,
                                      solver=solver, deadline=deadline)
        if certificate is not None and verify_sos_certificate(expr, certificate):
            return certificate
    return None


# --------------------------------------------------------------------------- verification


def _fraction_matrix(gram):
    return [[QQ(v.numerator, v.denominator) for v in row] for row in gram]


def _structure_ok(certificate):
    """Shapes agree, Grams are square Fraction matrices, bases are monic monomials."""
    c = certificate
    if not (len(c.multipliers) == len(c.bases) == len(c.grams)) or not c.multipliers:
        return False
    for basis, gram in zip(c.bases, c.grams):
        if len(gram) != len(basis) or any(len(row) != len(basis) for row in gram):
            return False
        if not all(isinstance(v, Fraction) for row in gram for v in row):
            return False
        for m in basis:
            terms = _as_poly(m, c.variables).as_dict(native=True)
            if len(terms) != 1 or list(terms.values())[0] != 1:
                return False
    return True


def _multipliers_allowed(certificate):
    """Every multiplier is 1, a box factor or a product of two box factors."""
    ranges = {x: (low, high) for x, low, high in certificate.box}
    box = _box(sympy.Add(*ranges), ranges)
    if set(box) != set(certificate.variables):
        return False
    allowed = {_key(_as_poly(g, certificate.variables))
               for g in _multipliers(certificate.variables, box, preordering=True)}
    factors = _box_factors(certificate.variables, box)
    allowed |= {_key(_as_poly(sympy.expand(f * f), certificate.variables)) for f in factors}
    return all(_key(_as_poly(g, certificate.variables)) in allowed for g in certificate.multipliers)


def _key(poly):
    return tuple(sorted(poly.as_dict(native=True).items()))


def _covers(certificate, ranges, expr):
    """The certificate's box contains the box of ``ranges`` (on the variables of ``expr``)."""
    box = _box(expr, ranges)
    own = {x: (low, high) for x, low, high in certificate.box}
    return all(x in own and own[x][0] <= low and high <= own[x][1] for x, (low, high) in box.items())


def verify_sos_certificate(expr, certificate, *, ranges=None):
    """Re-check an :class:`SOSCertificate` for ``expr ≥ 0`` from scratch, exactly.

    Checks that every multiplier is a product of at most two factors
    ``x − low``, ``high − x`` of the certificate's box (so non-negative on it),
    that every Gram matrix is rational, symmetric and positive semidefinite
    (exact symmetric elimination over the rationals), and that
    ``expr == Σ_j g_j z_j^T Q_j z_j`` after expanding the right-hand side
    exactly (sympy ``Poly`` over ``QQ``).

    Parameters
    ----------
    expr : sympy.Expr or number
        The polynomial the certificate should prove non-negative.
    certificate : SOSCertificate
    ranges : mapping of sympy.Symbol to range, optional
        When given, also check that the certificate's box contains this box.

    Returns
    -------
    bool
        True exactly when every check passes.

    Raises
    ------
    InvalidTypeError
        If ``certificate`` is not an :class:`SOSCertificate`.
    InvalidInputError
        If ``expr`` is not a polynomial with rational coefficients.

    Examples
    --------
    >>> import dataclasses
    >>> x = sympy.Symbol("x")
    >>> certificate = sos_certificate(x**2 - x + 1, {x: (-5, 5)})
    >>> verify_sos_certificate(x**2 - x + 1, certificate, ranges={x: (0, 1)})
    True
    >>> verify_sos_certificate(x**2 - x + 2, certificate)
    False
    >>> Q = [list(row) for row in certificate.grams[0]]
    >>> Q[0][0] += 1
    >>> tampered = dataclasses.replace(
    ...     certificate, grams=(tuple(map(tuple, Q)),) + certificate.grams[1:])
    >>> verify_sos_certificate(x**2 - x + 1, tampered)
    False
    """
    if not isinstance(certificate, SOSCertificate):
        raise InvalidTypeError(f"certificate must be an SOSCertificate; got {type(certificate).__name__}")
    expr = check_expression(expr, floats="refuse")
    if not expr.free_symbols <= set(certificate.variables):
        return False
    target = _rational_poly(expr, certificate.variables)
    if not (_structure_ok(certificate) and _multipliers_allowed(certificate)):
        return False
    if ranges is not None and not _covers(certificate, ranges, expr):
        return False
    grams = [_fraction_matrix(g) for g in certificate.grams]
    if not all(_is_psd(Q) for Q in grams):
        return False
    return _expanded_sum(certificate, grams) == target


def _expanded_sum(certificate, grams):
    """``Σ_j g_j z_j^T Q_j z_j`` expanded exactly, as a sympy ``Poly`` over ``QQ``."""
    variables = certificate.variables
    gens = _generators(variables)
    total = sympy.Poly(0, *gens, domain=QQ)
    for g, basis, Q in zip(certificate.multipliers, certificate.bases, grams):
        exponents = [_as_poly(m, variables).monoms()[0] for m in basis]
        total += _as_poly(g, variables) * _gram_poly(Q, exponents, gens)
    return total
