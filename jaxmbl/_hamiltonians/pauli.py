"""Pauli-sum operators H = sum_m c_m sigma^{p_m}: matrix-free apply, dense blocks, algebra, sectors.

A Pauli string p = (p_0, .., p_{N-1}) with labels 0..3 = I, X, Y, Z acts on a basis state |n> as

    sigma^p |n> = i^{#Y} (-1)^{popcount(n & z)} |n XOR x>,

with flip mask x (sites carrying X or Y) and phase mask z (sites carrying Y or Z), because
Y = i X Z on one site; site r is bit N-1-r. ``apply`` is matrix-free: its fused kernel (one pass
over the state per call, grouped by flip mask) lives in :mod:`jaxmbl._hamiltonians.pauli_kernels`. Dense
matrices and total-S^z sector blocks are built from the same masks.

Example:
    >>> H = PauliSum.from_terms(2, [("XX", [0, 1], 0.5), ("YY", [0, 1], 0.5), ("Z", [1], 1.0)])
    >>> H.to_list(), bool(H.conserves_total_z()), H.dense(sector=0).shape
    ([('XX', 0.5), ('YY', 0.5), ('IZ', 1.0)], True, (2, 2))
"""

from __future__ import annotations

import dataclasses
import functools
import numbers

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import PAULI_LETTERS, complex_dtype, real_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import PAULI_DENSE_MAX_DIM
from jaxmbl._core.operators import apply_batched
from jaxmbl._hamiltonians import pauli_algebra
from jaxmbl._hamiltonians.pauli_kernels import (
    _apply_core,
    _group_tables,
    _parity,
    _Structure,
    _structure_of,
    _weights,
)
from jaxmbl._hamiltonians.sectors import sector_basis as sector_basis

_MAX_DENSE_DIM = PAULI_DENSE_MAX_DIM


def _is_concrete(x) -> bool:
    """An array with values (numpy or jax), not a tracer or a pytree placeholder."""
    return isinstance(x, (np.ndarray, np.generic, jax.Array)) and not isinstance(x, jax.core.Tracer)


@functools.partial(jax.jit, static_argnames="sector")
def _dense_core(H, sector):
    n = H.n_sites
    x, z, w, ok, _ = _weights(H)
    basis = np.arange(2**n) if sector is None else sector_basis(n, sector)
    dim, rows = len(basis), jnp.asarray(basis, z.dtype)
    cols = rows[None, :] ^ x[:, None]
    if sector is not None:
        index = np.full(2**n, dim, dtype=np.int32)  # out-of-sector columns land on `dim` and are dropped
        index[basis] = np.arange(dim)
        cols = jnp.asarray(index)[cols]
    vals = jnp.where(_parity(rows[None, :] & z[:, None]), -w[:, None], w[:, None])
    local = jnp.broadcast_to(jnp.arange(dim), cols.shape)
    out = jnp.zeros((dim, dim), w.dtype).at[local, cols].add(vals, mode="drop")
    return jnp.where(ok, out, jnp.nan)


def _concrete_numpy(H, what, *, single=False):
    """(labels, coef) as numpy; batched operators come out as (realizations, M, N) and (realizations, M)."""
    if not (_is_concrete(H.paulis) and _is_concrete(H.coef)):
        raise JaxmblError(f"PauliSum.{what} needs concrete values; call it outside jit/vmap")
    if single and H.paulis.ndim != 2:
        raise JaxmblError(f"{what} works on one operator, got paulis of shape {H.paulis.shape}; index or vmap")
    labels, coef = np.asarray(H.paulis), np.asarray(H.coef)
    batch = int(np.prod(labels.shape[:-2]))
    return (labels, coef) if single else (labels.reshape(batch, *labels.shape[-2:]), coef.reshape(batch, -1))


def _combine(labels, coef):
    """Sum the coefficients (..., M) of equal strings (rows of ``labels``); result sorted lexicographically."""
    uniq, inverse = np.unique(labels, axis=0, return_inverse=True)
    flat = coef.reshape(int(np.prod(coef.shape[:-1])), coef.shape[-1])
    summed = np.zeros((len(flat), len(uniq)), dtype=np.result_type(coef, np.float64))
    np.add.at(summed, (slice(None), inverse.ravel()), flat)
    return uniq.astype(np.int8), summed.reshape(coef.shape[:-1] + (len(uniq),))


def _label_sets(H, what):
    """(labels (M, N), coef (R, M)) per distinct label set of a (batched) operator.

    One pair when all realizations share their strings (the usual case), so eager checks vectorize
    over realizations.
    """
    labels, coef = _concrete_numpy(H, what)
    if np.all(labels == labels[:1]):
        return [(labels[0], coef)]
    return [(p, c[None]) for p, c in zip(labels, coef)]


def _coefficient_array(values, dtype):
    """Validated (M,) coefficients: real unless one of them or ``dtype`` is complex; may be traced."""
    try:
        concrete = np.asarray([c for c in values if not isinstance(c, jax.core.Tracer)], dtype=np.complex128)
    except (TypeError, ValueError) as err:
        raise JaxmblError(f"coefficients must be scalar numbers, got {values!r}") from err
    if any(np.ndim(c) for c in values):
        raise JaxmblError(f"coefficients must be scalars, got {values!r}")
    if not np.all(np.isfinite(concrete)):
        raise JaxmblError(f"coefficients must be finite, got {concrete[~np.isfinite(concrete)].tolist()}")
    rdt = real_dtype(dtype)
    want_complex = dtype is not None and jnp.issubdtype(jnp.dtype(dtype), jnp.complexfloating)
    cdt = complex_dtype(rdt) if want_complex or any(jnp.iscomplexobj(c) for c in values) else rdt
    return jnp.asarray(jnp.stack([jnp.asarray(c) for c in values]) if values else jnp.zeros(0), cdt)


def _check_algebra_sites(n_sites) -> int:
    """N for building a PauliSum: any N >= 1 (the Pauli algebra works at N = 64 and beyond).

    Applying it to states (``mv``, ``dense``) keeps the state-size limits of those methods.
    """
    if isinstance(n_sites, bool) or not isinstance(n_sites, numbers.Integral):
        raise TypeError(f"n_sites must be an integer N >= 1, got {n_sites!r}")
    if n_sites < 1:
        raise JaxmblError(f"n_sites must be an integer N >= 1, got {n_sites!r}")
    return int(n_sites)


def _is_scalar(a) -> bool:
    return isinstance(a, numbers.Number) or (isinstance(a, (np.ndarray, np.generic, jax.Array)) and a.ndim == 0)


# ---------------------------------------------------------------------------------- PauliSum
@functools.partial(
    jax.tree_util.register_dataclass, data_fields=["paulis", "coef"], meta_fields=["n_sites", "_structure"]
)
@dataclasses.dataclass(frozen=True, eq=False)
class PauliSum:
    """H = sum_m c_m sigma^{p_m}, a pytree of Pauli labels and coefficients.

    The generic Hamiltonian of jaxmbl: named models (:func:`random_field_heisenberg`), local
    perturbations V of ``H + gV`` (eq. 4.1) and any user operator are PauliSums. They are applied
    matrix-free (bit flips and signs, one fused pass per flip mask), densified for small N, added
    and scaled, and checked for Hermiticity and total-S^z conservation.

    Args:
        paulis: int array (M, N) of labels 0..3 = I, X, Y, Z; column r is site r.
        coef: real or complex array (M,) of coefficients c_m (energy units J0).
        n_sites: N (static).

    Methods act on one operator; batches of realizations (leading axes on both leaves) go
    through ``jax.vmap``. Operators built from concrete labels carry their term structure as
    static metadata, so jit/vmap'ed kernels group terms by flip mask even with traced leaves,
    and operators sharing a structure stack and vmap together. ``simplify``, ``is_hermitian``,
    ``conserves_total_z``, ``to_list`` and ``to_scipy_sparse`` are eager only.

    Example:
        >>> H = PauliSum.from_list([("XX", 1.0), ("ZI", -0.5)])
        >>> H.apply(jnp.array([1.0, 0, 0, 0])).tolist()
        [-0.5, 0.0, 0.0, 1.0]
    """

    paulis: jax.Array
    coef: jax.Array
    n_sites: int
    _structure: _Structure | None = dataclasses.field(default=None, repr=False)

    __array_ufunc__ = None  # let numpy scalars defer to __rmul__ / __radd__

    def __post_init__(self):
        p, c = self.paulis, self.coef
        if not (hasattr(p, "shape") and hasattr(p, "dtype") and hasattr(c, "shape")):
            return  # placeholder leaves (vmap axis specs, None, ..) pass through unchecked
        if len(p.shape) < 2 or p.shape[-1] != self.n_sites or c.shape != p.shape[:-1]:
            raise JaxmblError(f"need paulis (M, n_sites={self.n_sites}) and coef (M,), got shapes {p.shape}, {c.shape}")
        if not jnp.issubdtype(p.dtype, jnp.integer):
            raise JaxmblError(f"paulis must be an integer array of labels 0..3, got dtype {p.dtype}")
        if self._structure is None and p.ndim == 2 and _is_concrete(p):
            object.__setattr__(self, "_structure", _structure_of(p))

    # ------------------------------------------------------------ builders
    @classmethod
    def from_terms(cls, n_sites: int, terms, *, dtype=None) -> PauliSum:
        """Build from ``[(ops, sites, coef), ..]``, e.g. ``("XX", [0, 1], 0.5)``: letter j acts on sites[j].

        Coefficients may be traced (for gradients); they are real unless one is complex or
        ``dtype`` is complex.

        Args:
            n_sites: N >= 1.
            terms: ``(ops, sites, coef)`` triples: a string over ``"IXYZ"``, as many distinct sites
                (or one int site), and a scalar coefficient (energy units).
            dtype: dtype of the coefficients (default float64, complex if a coefficient is).

        Returns:
            The :class:`PauliSum`, terms in the order given.

        Raises:
            ValueError: for a malformed term, unknown letters, sites out of range or repeated, or
                non-finite coefficients.

        Example:
            >>> PauliSum.from_terms(3, [("ZZ", [0, 2], 0.5), ("X", 1, 1.0)]).to_list()
            [('ZIZ', 0.5), ('IXI', 1.0)]
        """
        n_sites, terms = _check_algebra_sites(n_sites), list(terms)
        labels, coefs = np.zeros((len(terms), n_sites), np.int8), []
        for row, term in zip(labels, terms):
            try:
                ops, sites, c = term
            except (TypeError, ValueError) as err:
                raise JaxmblError(f"each term must be (ops, sites, coef), got {term!r}") from err
            sites = [sites] if isinstance(sites, numbers.Integral) else list(sites)
            if not isinstance(ops, str) or len(ops) != len(sites):
                raise JaxmblError(
                    f"term {term!r}: operator string {ops!r} must have one letter per site ({len(sites)})"
                )
            if bad := sorted(set(ops) - set(PAULI_LETTERS)):
                raise JaxmblError(f"term {term!r}: unknown letters {bad}; use I, X, Y, Z")
            if bad := [s for s in sites if not isinstance(s, numbers.Integral) or not 0 <= s < n_sites]:
                raise JaxmblError(f"term {term!r}: sites {bad} out of range 0..{n_sites - 1}")
            if len(set(sites)) != len(sites):
                raise JaxmblError(f"term {term!r}: duplicate sites {sorted({s for s in sites if sites.count(s) > 1})}")
            row[sites] = [PAULI_LETTERS.index(ch) for ch in ops]
            coefs.append(c)
        return _from_labels(labels, _coefficient_array(coefs, dtype), n_sites)

    @classmethod
    def from_list(cls, terms, *, n_sites: int | None = None, dtype=None) -> PauliSum:
        """Build from ``[(label, coef), ..]`` with full-length labels over "IXYZ" (character r = site r).

        Args:
            terms: ``(label, coef)`` pairs, every label of length N.
            n_sites: N; default the length of the first label (required for an empty list).
            dtype: dtype of the coefficients, as :meth:`from_terms`.

        Returns:
            The :class:`PauliSum`.

        Raises:
            ValueError: for labels of the wrong length, or as :meth:`from_terms`.

        Example:
            >>> PauliSum.from_list([("XX", 1.0), ("ZI", -0.5)]).n_terms
            2
        """
        terms = list(terms)
        if n_sites is None and not terms:
            raise JaxmblError("from_list needs at least one term, or n_sites for an empty sum")
        n_sites = _check_algebra_sites(len(terms[0][0]) if n_sites is None else n_sites)
        if bad := [label for label, _ in terms if not isinstance(label, str) or len(label) != n_sites]:
            raise JaxmblError(f"label {bad[0]!r} must be a string of length n_sites={n_sites}")
        return cls.from_terms(n_sites, [(label, range(n_sites), c) for label, c in terms], dtype=dtype)

    # ------------------------------------------------------------ algebra
    @property
    def n_terms(self) -> int:
        """Number of terms M (strings are not combined: see :meth:`simplify`)."""
        return self.paulis.shape[-2]

    @property
    def batch_shape(self) -> tuple:
        """Leading realization axes of the leaves, ``coef.shape[:-1]`` (``()`` for one operator)."""
        return tuple(self.coef.shape[:-1])

    @property
    def dtype(self):
        """The dtype of the coefficients (real, or complex for a non-Hermitian sum)."""
        return self.coef.dtype

    def __add__(self, other):
        if _is_scalar(other):
            if isinstance(other, numbers.Number) and other == 0:
                return self  # so that sum([H1, H2]) adds no identity term
            other = _from_labels(np.zeros((1, self.n_sites), np.int8), jnp.reshape(other, (1,)), self.n_sites)
        if not isinstance(other, PauliSum):
            return NotImplemented
        if other.n_sites != self.n_sites:
            raise JaxmblError(f"cannot add PauliSums on {self.n_sites} and {other.n_sites} sites")
        s1, s2 = self._structure, other._structure
        structure = None if s1 is None or s2 is None else _structure_of(np.concatenate([s1.labels, s2.labels]))
        paulis = jnp.concatenate([jnp.asarray(self.paulis, jnp.int8), jnp.asarray(other.paulis, jnp.int8)], axis=-2)
        return PauliSum(paulis, jnp.concatenate([self.coef, other.coef], axis=-1), self.n_sites, structure)

    __radd__ = __add__

    def __mul__(self, a):
        return dataclasses.replace(self, coef=self.coef * a) if _is_scalar(a) else NotImplemented

    __rmul__ = __mul__

    def __neg__(self):
        return self * -1

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def adjoint(self) -> PauliSum:
        """H^dagger = sum_m conj(c_m) sigma^{p_m} (Pauli strings are Hermitian).

        Returns:
            The adjoint :class:`PauliSum` (same labels, conjugated coefficients).
        """
        return dataclasses.replace(self, coef=jnp.conj(self.coef))

    @renamed_keywords(tol="cutoff")
    def simplify(self, cutoff: float = 0.0) -> PauliSum:
        """Combine equal strings and drop terms with ``|c| <= cutoff`` (eager only); terms come out sorted.

        Args:
            cutoff: absolute coefficient cutoff (energy units of the coefficients). Deprecated
                alias: ``tol``.

        Returns:
            The simplified :class:`PauliSum` (one operator).

        Raises:
            JaxmblError: under ``jit``/``vmap`` (traced values) or for a batched operator.

        Example:
            >>> H = PauliSum.from_list([("XI", 1.0), ("XI", 0.5), ("ZZ", 1e-9)])
            >>> H.simplify(cutoff=1e-6).to_list()
            [('XI', 1.5)]
        """
        labels, summed = _combine(*_concrete_numpy(self, "simplify", single=True))
        keep = np.abs(summed) > cutoff
        return _from_labels(labels[keep], jnp.asarray(summed[keep], self.coef.dtype), self.n_sites)

    def is_hermitian(self, atol: float = 1e-12) -> bool:
        """True iff every combined coefficient is real to ``atol`` (for all realizations of a batch).

        Equal strings are combined first, so ``iX - iX`` is Hermitian. Eager only.

        Args:
            atol: absolute tolerance on the imaginary parts (energy units).

        Returns:
            A Python bool.

        Raises:
            ValueError: under ``jit``/``vmap`` (traced values).
        """
        return all(np.all(np.abs(_combine(p, c)[1].imag) <= atol) for p, c in _label_sets(self, "is_hermitian"))

    def conserves_total_z(self, atol: float = 1e-12) -> bool:
        """True iff [H, sum_r Z_r] = 0 (for all realizations of a batch); eager only.

        Builds the commutator with [Z, X] = 2iY, [Z, Y] = -2iX site by site; its combined
        coefficients must vanish to ``atol`` (so XX + YY conserves, XX alone does not).

        Args:
            atol: absolute tolerance on the commutator's coefficients (energy units).

        Returns:
            A Python bool.

        Raises:
            ValueError: under ``jit``/``vmap`` (traced values).
        """
        for p, c in _label_sets(self, "conserves_total_z"):
            t, r = np.nonzero((p == 1) | (p == 2))
            comm = p[t].copy()
            comm[np.arange(len(t)), r] = 3 - p[t, r]  # X <-> Y
            if len(t) and np.any(np.abs(_combine(comm, c[:, t] * np.where(p[t, r] == 1, 2j, -2j))[1]) > atol):
                return False
        return True

    # ------------------------------------------------------------ action and matrices
    def _single(self, what):
        if self.paulis.ndim != 2:
            raise JaxmblError(f"{what} needs one operator, got paulis of shape {self.paulis.shape}; use jax.vmap")
        if _is_concrete(self.paulis):  # derive from the actual values, never trust a carried structure
            return dataclasses.replace(self, _structure=_structure_of(self.paulis))
        return self

    def mv(self, psi):
        """``H psi`` for one operator and one flat state ``(2**N,)``; traceable, no checks.

        The single-state half of the operator protocol (see :meth:`apply` for the checked, batched form).

        Args:
            psi: one state ``(2**N,)``, real or complex.

        Returns:
            ``H psi``, shape ``(2**N,)`` (energy units of the coefficients).
        """
        return _apply_core(self._single("mv"), psi).reshape(psi.shape)

    def apply(self, psi):
        """``H psi``, matrix-free and jitted, for states ``(..., 2**N)``.

        One fused pass reads, per distinct flip mask, psi with the flipped sites' axes reversed (a
        gather per term for operators built from traced labels). A batched operator (leading
        ``batch_shape`` on both leaves) applies realization-wise by the rule of :func:`apply_batched`.

        Args:
            psi: states ``(..., 2**N)`` shared by all realizations, or ``batch_shape + (..., 2**N)``
                with one (batch of) state(s) per realization. Real states stay real (complex where
                a coefficient or a Y string makes ``H psi`` complex); integer states become complex.

        Returns:
            ``psi.shape`` (one operator, or per-realization states), else ``batch_shape + psi.shape``.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.

        Example:
            >>> H = PauliSum.from_list([("XX", 1.0), ("ZI", -0.5)])
            >>> H.apply(jnp.array([1.0, 0, 0, 0])).tolist()
            [-0.5, 0.0, 0.0, 1.0]
        """
        psi = jnp.asarray(psi)
        dtype = psi.dtype if jnp.issubdtype(psi.dtype, jnp.inexact) else complex_dtype(real_dtype())
        op = self._single("apply") if self.paulis.ndim == 2 else self
        return apply_batched(op, psi, dtype=dtype)

    def expectation(self, psi):
        """<psi|H|psi> (complex) for psi of shape (2**N,) or (..., 2**N); states are not normalised.

        Args:
            psi: states ``(..., 2**N)`` (batching as :meth:`apply`).

        Returns:
            Complex ``(...)`` expectation values (energy units); real parts for a Hermitian H.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.

        Example:
            >>> H = PauliSum.from_list([("ZI", 1.0)])
            >>> float(H.expectation(basis_state(2, 0b10)).real)
            -1.0
        """
        psi = jnp.asarray(psi)
        return jnp.sum(jnp.conj(psi) * self.apply(psi), axis=-1).astype(jnp.result_type(psi.dtype, 1j))

    def dense(self, sector=None):
        """The 2^N x 2^N matrix, or its block in a total-S^z sector (rows/cols = ``sector_basis``).

        Real when the structure shows the matrix is real (real coefficients, an even number of Y
        in every string), complex otherwise. At most 2^14 rows. With ``sector``, H must conserve
        total Z: checked here when the values are concrete; under jit/vmap call
        ``conserves_total_z`` eagerly first.

        Args:
            sector: total ``S^z = sum_r Z_r / 2`` of the block, or ``None`` for the full space.

        Returns:
            ``(D, D)`` matrix, ``D = 2**N`` or the sector dimension (energy units).

        Raises:
            ValueError: for a batched operator, a sector H does not conserve or impossible for N,
                or more than 2^14 rows.

        Example:
            >>> H = PauliSum.from_list([("XX", 1.0), ("YY", 1.0)])
            >>> H.dense(sector=0).tolist()            # basis |01>, |10>
            [[0.0, 2.0], [2.0, 0.0]]
        """
        H = self._single("dense")
        dim = 2**self.n_sites if sector is None else len(sector_basis(self.n_sites, sector))
        if sector is not None and _is_concrete(H.paulis) and _is_concrete(H.coef) and not H.conserves_total_z():
            raise JaxmblError(f"sector={sector!r} requested, but H does not conserve total Z")
        if dim > _MAX_DENSE_DIM:
            gib = dim**2 * jnp.dtype(complex_dtype(self.coef.dtype)).itemsize / 2**30
            raise JaxmblError(
                f"dense(sector={sector!r}) at n_sites={self.n_sites} has {dim} rows and needs {gib:.3g} GiB, "
                f"over the limit of {_MAX_DENSE_DIM} rows (n_sites = 14 in full space); use apply()"
            )
        return _dense_core(H, None if sector is None else float(sector))

    def project(self, sector):
        """The dense block of H in a total-S^z sector; the same as ``dense(sector=sector)``.

        Args:
            sector: total ``S^z`` of the block.

        Returns:
            ``(D, D)`` matrix on ``sector_basis(N, sector)``.

        Raises:
            ValueError: as :meth:`dense`.
        """
        return self.dense(sector=sector)

    def to_list(self) -> list:
        """``[(label, coef)]`` with labels over "IXYZ" (character r = site r), in term order.

        Returns:
            A list of ``(str, Python number)`` pairs (one operator; eager only).

        Raises:
            ValueError: for a batched operator or under ``jit``/``vmap``.
        """
        labels, coef = _concrete_numpy(self, "to_list", single=True)
        return [("".join(PAULI_LETTERS[p] for p in row), c.item()) for row, c in zip(labels, coef)]

    def to_scipy_sparse(self):
        """CSR matrix (2^N, 2^N) in the jaxmbl basis (site 0 = most significant bit); needs scipy.

        Returns:
            A ``scipy.sparse.csr_matrix`` of shape ``(2**N, 2**N)``.

        Raises:
            ValueError: for a batched operator or under ``jit``/``vmap``.
        """
        import scipy.sparse

        _concrete_numpy(self, "to_scipy_sparse", single=True)
        H, rows = self._single("to_scipy_sparse"), np.arange(2**self.n_sites)
        vals = np.asarray(_group_tables(H))  # (2^N, groups)
        cols = rows[:, None] ^ np.array([flip for flip, _ in H._structure.groups], dtype=np.int64)
        keep = vals != 0
        indptr = np.concatenate([[0], np.cumsum(keep.sum(1))])
        return scipy.sparse.csr_matrix((vals[keep], cols[keep], indptr), shape=(len(rows),) * 2)

    # ------------------------------------------------------------ algebra (jaxmbl/_hamiltonians/pauli_algebra.py)
    def __matmul__(self, other):
        """Operator product ``self @ other`` (see :func:`jaxmbl._hamiltonians.pauli_algebra.product`)."""
        return pauli_algebra.pauli_product(self, other) if isinstance(other, PauliSum) else NotImplemented

    def commutator(self, other) -> PauliSum:
        """``[self, other]``, from anticommuting pairs only (see ``pauli_algebra.commutator``).

        Args:
            other: :class:`PauliSum` on the same sites.

        Returns:
            The commutator as a complex :class:`PauliSum`.
        """
        return pauli_algebra.commutator(self, other)

    def frobenius_norm(self, normalized: bool = True):
        """Squared Frobenius norm: ``sum |c|^2`` (normalized) or ``2^N sum |c|^2`` (``Tr A^dag A``).

        Args:
            normalized: divide ``Tr(A^dag A)`` by 2^N (the default; the usable one at large N).

        Returns:
            A real scalar, traceable in the coefficients.
        """
        return pauli_algebra.frobenius_norm_sq(self, normalized=normalized)

    def diagonal_part(self) -> PauliSum:
        """The I/Z-only terms (diagonal in the computational basis).

        Returns:
            The diagonal :class:`PauliSum` (see ``pauli_algebra.diagonal_part``).
        """
        return pauli_algebra.diagonal_part(self)

    def offdiagonal_part(self) -> PauliSum:
        """The terms with at least one X or Y.

        Returns:
            The off-diagonal :class:`PauliSum` (see ``pauli_algebra.offdiagonal_part``).
        """
        return pauli_algebra.offdiagonal_part(self)


def _from_labels(labels: np.ndarray, coef, n_sites: int) -> PauliSum:
    """PauliSum from numpy labels, carrying their structure even when built inside jit."""
    return PauliSum(jnp.asarray(labels, jnp.int8), coef, n_sites, _structure_of(labels))
