"""Local unitaries U: the shared base ``LocalUnitary`` and the finite-depth circuit of 2-site gates.

``U = exp(-iK)`` with K strictly local lives in :mod:`jaxmbl._swingle.generator_unitary`.

Both act on state vectors without ever forming a 2**N x 2**N matrix, on one state or a batch
``(..., 2**N)``, and both have ``apply``, ``apply_adjoint`` and ``dense()`` (small N only).
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.conventions import PAULI, complex_dtype, real_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import apply_two_site
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES, check_state_memory
from jaxmbl._core.operators import apply_batched
from jaxmbl._swingle.fusion import apply_circuit


class LocalUnitary:
    """Common interface of :class:`Circuit` and :class:`GeneratorUnitary` (both pytrees): the unitary U of eq. 2.2.

    A subclass implements the single-state ``mv``/``rmv`` (through ``_kernel``) and ``batch_shape``;
    ``apply``, ``apply_adjoint`` and ``dense`` follow from them by the operator protocol.

    Attributes:
        n_sites: static number of sites N.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((3,)), depth=2)
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


def random_bond_hamiltonians(key, n_bonds, strength, dtype, charge_conserving=False):
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


def check_strength(strength) -> float:
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
    _, h = random_bond_hamiltonians(key, len(pairs), check_strength(strength), dt, charge_conserving)
    return Circuit(gates=_expm_hermitian(h, dt), sites=pairs, n_sites=lattice.n_sites)


def check_psi(psi, n_sites: int, name: str = "psi"):
    """Validate a state (batch) for N sites and refuse sizes that cannot fit in memory."""
    psi = jnp.asarray(psi)
    dim = 2**n_sites
    if psi.ndim == 0 or psi.shape[-1] != dim:
        raise JaxmblError(f"{name} must have shape (..., 2**N) = (..., {dim}) for N={n_sites}, got {psi.shape}")
    check_state_memory(n_sites, max(1, int(np.prod(psi.shape[:-1]))), psi.dtype)
    return psi
