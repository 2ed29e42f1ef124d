"""``U = exp(-iK)`` with K a strictly local sum of one- and two-site Pauli terms (a ``LocalUnitary``).

Applied to states by a Chebyshev series of ``exp(-iK)`` whose length is set from a norm bound of K and
``series_tol``; it never forms a ``2**N x 2**N`` matrix (``dense()`` only at small N).
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

from jaxmbl._core.conventions import PAULI, complex_dtype, real_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import apply_one_site, apply_two_site, chebyshev_exp_coefficients
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._swingle.fusion import apply_sum, default_block_sites, fused_sum
from jaxmbl._swingle.unitaries import LocalUnitary, check_strength, pauli_pair_matrices, random_bond_hamiltonians


def _tail(a, n_terms, xp=jnp):
    """``2 sum_{k > n_terms} |J_k(a)|``: the Chebyshev truncation error of exp(-i a x) on [-1, 1].

    Terms beyond ``n_terms + 40`` are below round-off once ``n_terms >= a`` (J_k(a) decays
    super-exponentially for k > a), which :func:`chebyshev_terms` ensures.
    """
    c = chebyshev_exp_coefficients(a, n_terms + 41, complex_dtype(xp.asarray(a).dtype), xp)
    return xp.sum(xp.abs(c[n_terms + 1 :]))


def chebyshev_terms(norm_bound: float, tol: float) -> int:
    """Smallest number of Chebyshev terms with truncation error <= tol for ``||K|| <= norm_bound``."""
    a = max(float(norm_bound), 1e-8)
    n = int(a) + 4
    # On the host in float64: n is static (it sizes the series), so no tracing, no compile per n.
    while float(_tail(np.float64(a), n, np)) > tol:
        n += max(2, n // 8)
    return n


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["coef2", "coef1"],
    meta_fields=["pairs", "singles", "n_sites", "n_terms", "series_tol"],
)
@dataclasses.dataclass(frozen=True)
class GeneratorUnitary(LocalUnitary):
    """``U = exp(-iK)`` with ``K = sum_p sum_ab coef2[p,a,b] sigma^a_i sigma^b_j + sum_s sum_a coef1[s,a] sigma^a_s``.

    ``U psi`` is a Chebyshev series in ``K/a`` with ``a = sum ||h_p||`` (a rigorous bound on
    ||K||); the static ``n_terms`` is chosen so the truncation error is <= ``series_tol``
    (default 1e-12) for every K of the sampled family. :meth:`error_bound` gives the bound for this K.

    Attributes:
        coef2: real ``(..., P, 4, 4)`` Pauli coefficients on the static ``pairs``.
        coef1: real ``(..., S, 4)`` Pauli coefficients on the static ``singles``.
        pairs: static tuple of the P site pairs of the two-site terms.
        singles: static tuple of the S one-site supports ``(r,)``.
        n_sites: static N.
        n_terms: static length of the Chebyshev series.
        series_tol: static target truncation error of the series per unit norm (``tol`` is a
            deprecated alias).

    Example:
        >>> import jax.random as jr
        >>> U = random_generator(jr.key(0), Lattice((4,)), strength=0.5)
        >>> bool(U.error_bound() <= 1e-12)
        True
    """

    coef2: jax.Array
    coef1: jax.Array
    pairs: tuple
    singles: tuple
    n_sites: int
    n_terms: int
    series_tol: float

    @property
    def tol(self) -> float:
        """Deprecated alias of :attr:`series_tol`."""
        warnings.warn("GeneratorUnitary.tol is deprecated; use .series_tol", DeprecationWarning, stacklevel=2)
        return self.series_tol

    @property
    def batch_shape(self):
        """Leading realization axes of the coefficients (``()`` for one realization)."""
        return tuple(self.coef2.shape[:-3])

    @property
    def dtype(self):
        """Real dtype of the coefficients (states are the matching complex dtype)."""
        return self.coef2.dtype

    def local_terms(self):
        """The two-site and one-site Hermitian matrices whose sum is K.

        Returns:
            ``(h2, h1)``: complex ``(P, 4, 4)`` on ``pairs`` and ``(S, 2, 2)`` on ``singles``
            (one realization; leading batch axes otherwise).
        """
        cdt = complex_dtype(self.dtype)
        h2 = jnp.einsum("pab,abij->pij", self.coef2.astype(cdt), pauli_pair_matrices(cdt))
        h1 = jnp.einsum("sa,aij->sij", self.coef1.astype(cdt), jnp.asarray(PAULI, cdt))
        return h2, h1

    def norm_bound(self):
        """``sum_p ||h_p|| + sum_s ||h_s|| >= ||K||`` (triangle inequality, exact local norms).

        Returns:
            A real scalar, the bound ``a`` on ``||K||`` that scales the Chebyshev series.
        """
        h2, h1 = self.local_terms()
        return sum(jnp.sum(jnp.max(jnp.abs(jnp.linalg.eigvalsh(h)), axis=-1)) for h in (h2, h1) if h.shape[0])

    def error_bound(self):
        """Bound on ``||U psi - exact||`` for unit psi from truncating the Chebyshev series.

        Returns:
            A real scalar: the tail of the series of ``exp(-i a x)`` beyond ``n_terms`` terms,
            ``a`` = :meth:`norm_bound`.
        """
        return _tail(jnp.asarray(self.norm_bound(), self.dtype) + 0.0, self.n_terms)

    def apply_K(self, psi):
        """``K psi`` for one flat state (the matrix-free generator).

        Args:
            psi: one complex state ``(2**N,)``.

        Returns:
            ``K psi``, shape ``(2**N,)`` (units of the fictitious time of eq. 2.2).
        """
        h2, h1 = self.local_terms()
        # The local terms summed into k-site blocks: one fused pass over psi for all of K.
        terms = [h2[p] for p in range(len(self.pairs))] + [h1[s] for s in range(len(self.singles))]
        blocks, mats = fused_sum(terms, self.pairs + self.singles, self.n_sites, default_block_sites(psi.dtype))
        return apply_sum(psi, blocks, mats, self.n_sites)

    def _apply_K_unfused(self, psi):
        """Term-by-term ``K psi``: the reference of :meth:`apply_K` (tests, benchmarks)."""
        h2, h1 = self.local_terms()
        out = jnp.zeros_like(psi)
        for p, (i, j) in enumerate(self.pairs):
            out = out + apply_two_site(psi, h2[p], i, j, self.n_sites)
        for s, (i,) in enumerate(self.singles):
            out = out + apply_one_site(psi, h1[s], i, self.n_sites)
        return out

    def _kernel(self, psi, adjoint):
        # The series is exact for any a >= ||K||, so a carries no gradient: d(U psi)/dK is the
        # derivative of exp(-iK) psi itself.
        a = jnp.maximum(lax.stop_gradient(self.norm_bound()), 1e-8).astype(self.dtype)
        c = chebyshev_exp_coefficients(a, self.n_terms + 1, psi.dtype)
        if adjoint:  # exp(+iK): the series of exp(-i a y) with every (-i)^k replaced by i^k
            c = c * jnp.asarray((-1.0) ** np.arange(self.n_terms + 1), psi.dtype)

        def x(v):
            return self.apply_K(v) / a

        v0, v1 = psi, x(psi)
        acc = c[0] * v0 + c[1] * v1

        def step(carry, ck):
            v_prev, v_cur, acc = carry
            v_next = 2 * x(v_cur) - v_prev
            return (v_cur, v_next, acc + ck * v_next), None

        (_, _, acc), _ = lax.scan(step, (v0, v1, acc), c[2:])
        return acc

    def to_paulis(self):
        """K as Pauli strings, the ``k_paulis``/``k_coef`` arrays of a model file (:func:`save_model`).

        Returns:
            ``(labels, coef)``: int labels ``(M, N)`` (0..3 = I, X, Y, Z) and real coefficients
            ``(M,)`` with ``K = sum_m coef[m] sigma^{labels[m]}``, numpy.

        Raises:
            ValueError: for a batch of realizations.
        """
        if self.batch_shape:
            raise JaxmblError("to_paulis needs a single realization, not a batch")
        labels, coef = [], []
        c2, c1 = np.asarray(self.coef2), np.asarray(self.coef1)
        for p, (i, j) in enumerate(self.pairs):
            for a in range(4):
                for b in range(4):
                    row = np.zeros(self.n_sites, dtype=np.int64)
                    row[i], row[j] = a, b
                    labels.append(row)
                    coef.append(c2[p, a, b])
        for s, (i,) in enumerate(self.singles):
            for a in range(4):
                row = np.zeros(self.n_sites, dtype=np.int64)
                row[i] = a
                labels.append(row)
                coef.append(c1[s, a])
        return np.array(labels, dtype=np.int64).reshape(-1, self.n_sites), np.array(coef, dtype=np.float64)


@renamed_keywords(tol="series_tol")
def generator_unitary(paulis, coef, n_sites: int, *, series_tol: float = 1e-12, dtype=None) -> GeneratorUnitary:
    """``U = exp(-iK)`` from K given as Pauli strings of weight <= 2.

    Strings on the same support are merged; identity strings act as a global phase.

    Args:
        paulis: int labels ``(M, N)`` (0..3 = I, X, Y, Z), at most two non-identity per string.
        coef: real coefficients ``(M,)`` (so K is Hermitian).
        n_sites: N.
        series_tol: truncation error of the Chebyshev series of U per unit norm; sets ``n_terms``.
            Deprecated alias: ``tol``.
        dtype: float64 (default) or float32 for the coefficients.

    Returns:
        The :class:`GeneratorUnitary`.

    Raises:
        JaxmblError: for bad shapes, complex or non-finite coefficients, labels outside 0..3, or
            strings acting on more than two sites.

    Example:
        >>> import numpy as np
        >>> U = generator_unitary(np.array([[1, 1, 0]]), np.array([0.3]), 3)     # exp(-0.3i XX)
        >>> bool(U.error_bound() <= U.series_tol)
        True
    """
    tol = series_tol
    paulis = np.asarray(paulis)
    coef = np.asarray(coef)
    if paulis.ndim != 2 or paulis.shape[1] != n_sites:
        raise JaxmblError(f"paulis must have shape (M, n_sites={n_sites}), got {paulis.shape}")
    if coef.shape != (paulis.shape[0],):
        raise JaxmblError(f"coef must have shape ({paulis.shape[0]},), got {coef.shape}")
    if np.iscomplexobj(coef) and np.abs(coef.imag).max(initial=0) > 0:
        raise JaxmblError("coef must be real so that K is Hermitian")
    coef = coef.real.astype(np.float64)
    if not np.all(np.isfinite(coef)):
        raise JaxmblError("coef contains non-finite values")
    if paulis.size and (paulis.min() < 0 or paulis.max() > 3):
        raise JaxmblError("paulis labels must be in 0..3 (I, X, Y, Z)")
    pair_terms: dict[tuple, np.ndarray] = {}
    single_terms: dict[tuple, np.ndarray] = {}
    for row, c in zip(paulis, coef):
        support = tuple(int(r) for r in np.nonzero(row)[0])
        if len(support) > 2:
            raise JaxmblError(f"paulis: string {row.tolist()} acts on {len(support)} sites; K must be <= 2-local")
        if len(support) == 2:
            pair_terms.setdefault(support, np.zeros((4, 4)))[row[support[0]], row[support[1]]] += c
        elif len(support) == 1:
            single_terms.setdefault(support, np.zeros(4))[row[support[0]]] += c
        else:
            single_terms.setdefault((0,), np.zeros(4))[0] += c
    pairs = tuple(sorted(pair_terms))
    singles = tuple(sorted(single_terms))
    dt = real_dtype(dtype)
    c2 = jnp.asarray(np.array([pair_terms[p] for p in pairs]).reshape(-1, 4, 4), dt)
    c1 = jnp.asarray(np.array([single_terms[s] for s in singles]).reshape(-1, 4), dt)
    U = GeneratorUnitary(c2, c1, pairs, singles, int(n_sites), 1, float(tol))
    n_terms = chebyshev_terms(float(U.norm_bound()) if (pairs or singles) else 0.0, tol)
    return dataclasses.replace(U, n_terms=n_terms)


@renamed_keywords(tol="series_tol")
def random_generator(
    key,
    lattice: Lattice | int,
    *,
    strength: float = 0.5,
    series_tol: float = 1e-12,
    charge_conserving: bool = False,
    dtype=None,
) -> GeneratorUnitary:
    """Random strictly local K on the lattice bonds: ``U = exp(-iK)``, ``K = sum_<ij> h_ij``.

    Each bond term is a random two-site Hermitian operator (all 15 non-identity Pauli products,
    which include the one-site terms) with ``||h_ij|| = strength * u``, u uniform in [0, 1].
    Sites with no bond (N = 1) get a random one-site term of the same bound. With
    ``charge_conserving=True`` the bond terms are random elements of :data:`U1_BOND_BASIS` and the
    one-site terms are fields ``c Z``, so ``[K, sum_r Z_r] = 0`` exactly.

    Args:
        key: ``jax.random`` key.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        strength: bound on the norm of each bond (or one-site) term of K.
        series_tol: truncation error of the Chebyshev series of U per unit norm, for every K of
            the family (``||K|| <= strength * n_terms``). Deprecated alias: ``tol``.
        charge_conserving: draw K with ``[K, sum_r Z_r] = 0``.
        dtype: float64 (default) or float32.

    Returns:
        A :class:`GeneratorUnitary` with ``batch_shape == ()``.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: for a negative or non-finite ``strength``.

    Example:
        >>> import jax.random as jr
        >>> U = random_generator(jr.key(0), Lattice((4,)), charge_conserving=True)
        >>> bool(U.error_bound() <= 1e-12)
        True
    """
    lattice = as_lattice(lattice)
    strength = check_strength(strength)
    dt = real_dtype(dtype)
    pairs = lattice.bonds
    on_bond = {s for b in pairs for s in b}
    singles = tuple((r,) for r in range(lattice.n_sites) if r not in on_bond)
    k2, k1, k3 = jr.split(key, 3)
    if pairs:
        c2, _ = random_bond_hamiltonians(k2, len(pairs), strength, dt, charge_conserving)
    else:
        c2 = jnp.zeros((0, 4, 4), dt)
    c1 = jr.normal(k1, (len(singles), 4), dtype=dt).at[:, 0].set(0.0)
    if charge_conserving:
        c1 = c1.at[:, 1:3].set(0.0)
    c1 = c1 / jnp.maximum(jnp.linalg.norm(c1, axis=-1, keepdims=True), 1e-30)
    c1 = c1 * strength * jr.uniform(k3, (len(singles), 1), dtype=dt)
    n_terms = chebyshev_terms(strength * (len(pairs) + len(singles)), series_tol)
    return GeneratorUnitary(c2, c1, pairs, singles, lattice.n_sites, n_terms, float(series_tol))
