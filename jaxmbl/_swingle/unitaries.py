"""Local unitaries U: a finite-depth circuit of 2-site gates, or exp(-iK) with K strictly local.

Both act on state vectors without ever forming a 2**N x 2**N matrix, on one state or a batch
``(..., 2**N)``, and both have ``apply``, ``apply_adjoint`` and ``dense()`` (small N only).
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
from jaxmbl._core.limits import DENSE_MAX_SITES, check_state_memory
from jaxmbl._core.operators import apply_batched
from jaxmbl._swingle.fusion import apply_circuit, apply_sum, default_block_sites, fused_sum


class LocalUnitary:
    """Common interface of :class:`Circuit` and :class:`GeneratorUnitary` (both pytrees): the unitary U of eq. 2.2.

    A subclass implements the single-state ``mv``/``rmv`` (through ``_kernel``) and ``batch_shape``;
    ``apply``, ``apply_adjoint`` and ``dense`` follow from them by the operator protocol.

    Attributes:
        n_sites: static number of sites N.

    Example:
        >>> import jax.random as jr
        >>> U = random_generator(jr.key(0), Lattice((3,)))
        >>> isinstance(U, LocalUnitary), U.dense().shape
        (True, (8, 8))
    """

    n_sites: int

    def _kernel(self, psi, adjoint: bool):  # one realization, one flat state
        raise NotImplementedError

    def mv(self, psi):
        """``U psi`` for ONE realization and ONE flat state ``(2**N,)``; traceable, no checks.

        This is the single-state half of the operator protocol: solvers and kernels call it under
        ``jit``/``vmap``; batching over states or realizations is ``jax.vmap`` of it.

        Args:
            psi: one complex state ``(2**N,)``.

        Returns:
            ``U psi``, shape ``(2**N,)``.
        """
        return self._kernel(psi, False)

    def rmv(self, psi):
        """``U^dagger psi`` for one realization and one flat state ``(2**N,)`` (see :meth:`mv`).

        Args:
            psi: one complex state ``(2**N,)``.

        Returns:
            ``U^dagger psi``, shape ``(2**N,)``.
        """
        return self._kernel(psi, True)

    @property
    def batch_shape(self) -> tuple:
        """Leading realization axes of the leaves (``()`` for one realization)."""
        raise NotImplementedError

    def apply(self, psi):
        """``U psi`` for states ``(..., 2**N)``, batched by the rule of :func:`apply_batched`.

        Args:
            psi: states ``(..., 2**N)`` shared by all realizations, or ``batch_shape + (..., 2**N)``
                with one (batch of) state(s) per realization.

        Returns:
            ``psi.shape`` (one realization, or per-realization states), else ``batch_shape + psi.shape``;
            complex, in the precision of U.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.

        Example:
            >>> import jax.random as jr
            >>> U = random_circuit(jr.key(0), Lattice((4,)))
            >>> psi = basis_state(4, 3)
            >>> bool(jnp.allclose(U.apply_adjoint(U.apply(psi)), psi))
            True
        """
        return apply_batched(self, psi)

    def apply_adjoint(self, psi):
        """``U^dagger psi`` for states ``(..., 2**N)``; shapes and batching as :meth:`apply`.

        Args:
            psi: states ``(..., 2**N)``, shared or per realization (as :meth:`apply`).

        Returns:
            ``U^dagger psi``, shaped as for :meth:`apply`.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.
        """
        return apply_batched(self, psi, adjoint=True)

    def dense(self):
        """The 2**N x 2**N matrix of U (N <= 12 only), columns ``U|n>``; one realization.

        Returns:
            Complex ``(2**N, 2**N)`` unitary matrix.

        Raises:
            ValueError: for N > 12.
        """
        if self.n_sites > DENSE_MAX_SITES:
            raise JaxmblError(
                f"dense() is for N <= {DENSE_MAX_SITES}; n_sites={self.n_sites} would need "
                f"{16 * 4.0**self.n_sites / 2**30:.3g} GiB"
            )
        return dense_matrix(self)


@functools.partial(jax.jit, static_argnames=("adjoint",))
def apply_many(U, flat, adjoint):
    """``U`` (or ``U^dagger``) on each row of ``flat`` ``(M, 2**N)``, one realization."""
    return jax.vmap(U.rmv if adjoint else U.mv)(flat)


def dense_matrix(U):
    """Columns ``U|n>`` of one realization, traceable (``dense()`` without its size check)."""
    return apply_many(U, jnp.eye(2**U.n_sites, dtype=complex_dtype(U.dtype)), False).T


def _check_unitary_gates(gates, tol):
    g = np.asarray(gates)
    dev = np.abs(np.einsum("gij,gkj->gik", g, g.conj()) - np.eye(4)).max(axis=(1, 2))
    bad = np.nonzero(~(dev <= tol))[0]
    if bad.size:
        raise JaxmblError(f"gates[{int(bad[0])}] is not unitary: max |g g^dagger - 1| = {dev[bad[0]]:.3g} > {tol:g}")


def _check_pairs(sites, n_sites, name):
    pairs = tuple((int(i), int(j)) for i, j in np.asarray(sites, dtype=np.int64).reshape(-1, 2))
    for i, j in pairs:
        if not (0 <= i < n_sites and 0 <= j < n_sites) or i == j:
            raise JaxmblError(f"{name}: pair {(i, j)} must be two distinct sites in 0..{n_sites - 1}")
    return pairs


@functools.partial(jax.tree_util.register_dataclass, data_fields=["gates"], meta_fields=["sites", "n_sites"])
@dataclasses.dataclass(frozen=True)
class Circuit(LocalUnitary):
    """A finite-depth circuit ``U = u_{G-1} ... u_1 u_0`` of two-site gates (gate 0 acts first).

    Attributes:
        gates: complex ``(..., G, 4, 4)``, gate g in the basis ``|s_a s_b>`` of its pair.
        sites: static tuple of G ordered pairs ``(a, b)``.
        n_sites: static N.

    Example:
        >>> import jax.numpy as jnp
        >>> cnot = jnp.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
        >>> U = circuit([cnot], [(0, 1)], 2)
        >>> U.apply(jnp.array([0, 0, 1, 0], dtype=complex)).real.tolist()   # |10> -> |11>
        [0.0, 0.0, 0.0, 1.0]
    """

    gates: jax.Array
    sites: tuple
    n_sites: int

    @property
    def batch_shape(self):
        """Leading realization axes of ``gates`` (``()`` for one realization)."""
        return tuple(self.gates.shape[:-3])

    @property
    def dtype(self):
        """Complex dtype of the gates."""
        return self.gates.dtype

    @property
    def depth_sites(self):
        """Number of gates G."""
        return len(self.sites)

    def _kernel(self, psi, adjoint):
        # Gates fused into dense k-site blocks, one pass over the state each (see fusion.py).
        return apply_circuit(self.gates, self.sites, self.n_sites, psi, adjoint)

    def _kernel_unfused(self, psi, adjoint):
        """Gate-by-gate application: the reference of the fused kernel (tests, benchmarks)."""
        order = range(len(self.sites))
        for g in reversed(order) if adjoint else order:
            gate = self.gates[g].conj().T if adjoint else self.gates[g]
            psi = apply_two_site(psi, gate, *self.sites[g], self.n_sites)
        return psi


@renamed_keywords(tol="unitarity_tol")
def circuit(gates, sites, n_sites: int, *, unitarity_tol: float | None = None) -> Circuit:
    """Validated :class:`Circuit` ``U = u_{G-1} ... u_0`` from gates and pairs in application order.

    Args:
        gates: complex ``(G, 4, 4)``, gate g in the basis ``|s_a s_b>`` of its pair.
        sites: ``(G, 2)`` ordered site pairs ``(a, b)``.
        n_sites: N.
        unitarity_tol: largest accepted ``max |g g^dagger - 1|`` per gate; default ``1e-10``, or
            100 ulp of the gates' precision for complex64. Deprecated alias: ``tol``.

    Returns:
        The :class:`Circuit`.

    Raises:
        JaxmblError: for non-unitary or non-finite gates, bad pairs or mismatched lengths.

    Example:
        >>> import jax.numpy as jnp
        >>> swap = jnp.eye(4)[jnp.array([0, 2, 1, 3])]
        >>> circuit([swap], [(0, 1)], 2).apply(basis_state(2, 1)).real.tolist()   # |01> -> |10>
        [0.0, 0.0, 1.0, 0.0]
    """
    gates = jnp.asarray(gates)
    tol = unitarity_tol
    if tol is None:
        tol = max(1e-10, 100 * float(jnp.finfo(gates.dtype).eps))
    if gates.ndim != 3 or gates.shape[1:] != (4, 4):
        raise JaxmblError(f"gates must have shape (G, 4, 4), got {gates.shape}")
    pairs = _check_pairs(sites, n_sites, "sites")
    if len(pairs) != gates.shape[0]:
        raise JaxmblError(f"sites has {len(pairs)} pairs but gates has {gates.shape[0]} gates")
    if not np.all(np.isfinite(np.asarray(gates))):
        raise JaxmblError("gates contain non-finite entries")
    _check_unitary_gates(gates, tol)
    gates = gates.astype(jnp.promote_types(gates.dtype, jnp.complex64))
    return Circuit(gates=gates, sites=pairs, n_sites=int(n_sites))


def pauli_pair_matrices(dtype):
    """``(4, 4, 4, 4)``: ``[a, b]`` is sigma^a (x) sigma^b as a 4x4 matrix."""
    return jnp.asarray(np.einsum("aij,bkl->abikjl", PAULI, PAULI).reshape(4, 4, 4, 4), dtype)


#: The U(1)-invariant two-site Pauli combinations, as (5, 4, 4) coefficient patterns on sigma^a (x) sigma^b:
#: XX + YY, XY - YX (hopping with a complex amplitude), ZI, IZ, ZZ. Each commutes with Z_a + Z_b.
U1_BOND_BASIS = np.zeros((5, 4, 4))
U1_BOND_BASIS[0, 1, 1] = U1_BOND_BASIS[0, 2, 2] = 1.0
U1_BOND_BASIS[1, 1, 2], U1_BOND_BASIS[1, 2, 1] = 1.0, -1.0
U1_BOND_BASIS[2, 3, 0] = U1_BOND_BASIS[3, 0, 3] = U1_BOND_BASIS[4, 3, 3] = 1.0


def _random_bond_hamiltonians(key, n_bonds, strength, dtype, charge_conserving=False):
    """Random two-site Hermitian h with ``||h|| = strength * u``, u uniform in [0, 1].

    The direction is Gaussian in the 15 non-identity Pauli pairs (or, ``charge_conserving``, in
    the 5 patterns of :data:`U1_BOND_BASIS`); fixing the norm gives the static bound
    ``||K|| <= n_bonds * strength`` that the Chebyshev series needs under vmap.
    """
    k1, k2 = jr.split(key)
    if charge_conserving:
        c = jnp.einsum("pk,kab->pab", jr.normal(k1, (n_bonds, 5), dtype=dtype), jnp.asarray(U1_BOND_BASIS, dtype))
    else:
        c = jr.normal(k1, (n_bonds, 4, 4), dtype=dtype).at[:, 0, 0].set(0.0)
    h = jnp.einsum("pab,abij->pij", c.astype(complex_dtype(dtype)), pauli_pair_matrices(complex_dtype(dtype)))
    norm = jnp.max(jnp.abs(jnp.linalg.eigvalsh(h)), axis=-1)
    scale = strength * jr.uniform(k2, (n_bonds,), dtype=dtype) / norm
    return c * scale[:, None, None], h * scale[:, None, None]


def _check_strength(strength) -> float:
    if not np.isfinite(strength) or strength < 0:
        raise JaxmblError(f"strength must be finite and >= 0, got {strength!r}")
    return float(strength)


def _expm_hermitian(h, dtype):
    """exp(-i h) for Hermitian h via its eigendecomposition."""
    w, v = jnp.linalg.eigh(h)
    return jnp.einsum("...ij,...j,...kj->...ik", v, jnp.exp(-1j * w).astype(complex_dtype(dtype)), v.conj())


def random_circuit(
    key,
    lattice: Lattice | int,
    *,
    depth: int | None = None,
    strength: float = 0.5,
    charge_conserving: bool = False,
    dtype=None,
) -> Circuit:
    """Random circuit of gates ``exp(-i h_b)`` on the lattice's bond layers (brickwork in 1D).

    Layer l uses ``lattice.bond_layers[l % n_layers]``; the default depth is one pass over all
    layers (every bond once: 2 in 1D, 4 in 2D). ``h_b`` is a random two-site Hermitian
    operator with ``||h_b|| = strength * u``, u uniform in [0, 1], so the gates are close to
    the identity for small strength and the l-bits are dressed physical spins. With
    ``charge_conserving=True`` every ``h_b`` is a random element of :data:`U1_BOND_BASIS`, so
    the circuit commutes with the total charge ``sum_r P_r`` (paper §II, end).

    Args:
        key: ``jax.random`` key.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        depth: number of bond layers (default: one pass over all layers).
        strength: bound on ``||h_b||`` (dimensionless: the gate is ``exp(-i h_b)``).
        charge_conserving: draw U(1)-invariant gates.
        dtype: float64 (default) or float32; the gates are complex of that precision.

    Returns:
        A :class:`Circuit` with ``batch_shape == ()``.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: for a negative ``depth`` or a negative or non-finite ``strength``.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((6,)), depth=4)
        >>> len(U.sites)
        10
    """
    lattice = as_lattice(lattice)
    layers = lattice.bond_layers
    depth = len(layers) if depth is None else int(depth)
    if depth < 0:
        raise JaxmblError(f"depth must be >= 0, got {depth}")
    dt = real_dtype(dtype)
    pairs = tuple(b for layer in range(depth) for b in layers[layer % len(layers)]) if layers else ()
    if not pairs:
        return Circuit(gates=jnp.zeros((0, 4, 4), complex_dtype(dt)), sites=(), n_sites=lattice.n_sites)
    _, h = _random_bond_hamiltonians(key, len(pairs), _check_strength(strength), dt, charge_conserving)
    return Circuit(gates=_expm_hermitian(h, dt), sites=pairs, n_sites=lattice.n_sites)


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
    strength = _check_strength(strength)
    dt = real_dtype(dtype)
    pairs = lattice.bonds
    on_bond = {s for b in pairs for s in b}
    singles = tuple((r,) for r in range(lattice.n_sites) if r not in on_bond)
    k2, k1, k3 = jr.split(key, 3)
    if pairs:
        c2, _ = _random_bond_hamiltonians(k2, len(pairs), strength, dt, charge_conserving)
    else:
        c2 = jnp.zeros((0, 4, 4), dt)
    c1 = jr.normal(k1, (len(singles), 4), dtype=dt).at[:, 0].set(0.0)
    if charge_conserving:
        c1 = c1.at[:, 1:3].set(0.0)
    c1 = c1 / jnp.maximum(jnp.linalg.norm(c1, axis=-1, keepdims=True), 1e-30)
    c1 = c1 * strength * jr.uniform(k3, (len(singles), 1), dtype=dt)
    n_terms = chebyshev_terms(strength * (len(pairs) + len(singles)), series_tol)
    return GeneratorUnitary(c2, c1, pairs, singles, lattice.n_sites, n_terms, float(series_tol))


def check_psi(psi, n_sites: int, name: str = "psi"):
    """Validate a state (batch) for N sites and refuse sizes that cannot fit in memory."""
    psi = jnp.asarray(psi)
    dim = 2**n_sites
    if psi.ndim == 0 or psi.shape[-1] != dim:
        raise JaxmblError(f"{name} must have shape (..., 2**N) = (..., {dim}) for N={n_sites}, got {psi.shape}")
    check_state_memory(n_sites, max(1, int(np.prod(psi.shape[:-1]))), psi.dtype)
    return psi
