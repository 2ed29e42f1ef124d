"""Variational l-bits, the parametrization and the cost: gates ``U(theta)`` and the off-diagonal weight.

If ``U(theta)^dag H U(theta)`` is diagonal in the Z basis, its diagonal is ``E(n)`` and the
columns ``U|n>`` are eigenstates; the Moebius transform of ``E(n) - E(0)`` gives every coupling
of ``H0 = sum_S J_S prod_{r in S} P_r`` (paper eq. 2.1–2.3). The cost is the relative
off-diagonal Frobenius weight

    C(theta) = ||offdiag(U^dag H U)||_F^2 / ||H||_F^2,

which is 0 exactly when U diagonalizes H and, by Weyl's inequality, bounds the spectrum error:
``|sort(diag) - sort(eig H)| <= ||offdiag||_2 <= sqrt(C) ||H||_F``.

Gates are ``exp(-i sum_{(a,b) != (0,0)} theta_ab sigma^a (x) sigma^b)``: 15 real numbers per gate
(index ``k = 4a + b - 1``), the family that :func:`random_circuit` samples from, on the same
brickwork layout (``depth`` passes over ``lattice.bond_layers``). The cost has two routes with the
same value: ``"dense"`` (one ``2**N x 2**N`` product, N <= 12) and ``"local"`` (H a
:class:`PauliSum`: each group of local terms conjugated through its light cone, no ``2**N`` object,
any N; see ``cone_cost.py``). The fit itself is in ``lbit_fit.py``.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.scipy.linalg as jsl
import numpy as np
import scipy.linalg

from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._core.validation import check_hermitian
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.cone_cost import ConePlan, cone_cost, cone_plan, pauli_norm_sq
from jaxmbl._swingle.unitaries import Circuit, LocalUnitary, dense_matrix, pauli_pair_matrices

COST_METHODS = ("auto", "dense", "local")


def brickwork_sites(lattice: Lattice | int, depth: int) -> tuple:
    """Gate pairs of ``depth`` bond layers, layer l = ``lattice.bond_layers[l % n_layers]``.

    The same layout as :func:`random_circuit` with the same ``depth``.

    Args:
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        depth: number of bond layers (>= 1).

    Returns:
        A tuple of site pairs ``(a, b)`` in application order.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: for ``depth < 1`` or a lattice without bonds.

    Example:
        >>> brickwork_sites(Lattice((4,)), 2)
        ((0, 1), (2, 3), (1, 2))
    """
    lattice = as_lattice(lattice)
    if int(depth) != depth or depth < 1:
        raise JaxmblError(f"depth must be an integer >= 1, got {depth!r}")
    layers = lattice.bond_layers
    if not layers:
        raise JaxmblError(f"lattice {lattice.shape} has no bonds to place gates on")
    return tuple(b for layer in range(int(depth)) for b in layers[layer % len(layers)])


def pauli_gates(theta):
    """Two-site gates ``exp(-i sum_ab theta_ab sigma^a (x) sigma^b)`` from ``theta (..., 15)``.

    ``theta[..., k]`` multiplies ``sigma^a (x) sigma^b`` with ``4a + b = k + 1`` (the identity
    pair is left out: it is a global phase). Uses ``expm`` (Pade), so gradients are finite at
    ``theta = 0`` where ``eigh`` would be degenerate.

    Args:
        theta: real angles ``(..., 15)`` (radians), leading axes e.g. gates and realizations.

    Returns:
        complex ``(..., 4, 4)`` unitaries in the basis ``|s_a s_b>`` (index ``2 s_a + s_b``).

    Raises:
        ValueError: if the last axis of ``theta`` is not 15.

    Example:
        >>> bool(jnp.allclose(pauli_gates(jnp.zeros(15)), jnp.eye(4)))
        True
    """
    theta = jnp.asarray(theta)
    if theta.shape[-1:] != (15,):
        raise JaxmblError(f"theta must have shape (..., 15), got {theta.shape}")
    # float32 theta stays in single precision (explicit fast mode); anything else uses the default.
    cdt = complex_dtype(theta.dtype if jnp.issubdtype(theta.dtype, jnp.floating) else real_dtype(None))
    c = jnp.concatenate([jnp.zeros(theta.shape[:-1] + (1,), theta.dtype), theta], axis=-1)
    h = jnp.einsum("...k,kij->...ij", c.astype(cdt), pauli_pair_matrices(cdt).reshape(16, 4, 4))
    return jsl.expm(-1j * h)


def _rotated(U, H):
    Ud = dense_matrix(U) if isinstance(U, LocalUnitary) else U
    return jnp.matmul(jnp.matmul(Ud.conj().T, H, precision=HIGHEST), Ud, precision=HIGHEST)


@jax.jit
def _cost_core(U, H):
    M = _rotated(U, H)
    off = M - jnp.diag(jnp.diag(M))
    return jnp.sum(jnp.abs(off) ** 2) / jnp.sum(jnp.abs(H) ** 2)


def _check_H(H, n_sites=None):
    if hasattr(H, "dense") and not isinstance(H, (np.ndarray, jax.Array)):
        H = H.dense()
    H = jnp.asarray(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise JaxmblError(f"H must be a square (2**N, 2**N) matrix, got shape {H.shape}")
    if n_sites is not None and H.shape[0] != 2**n_sites:
        raise JaxmblError(f"H must have shape (2**N, 2**N) = {(2**n_sites,) * 2} for N={n_sites}, got {H.shape}")
    check_hermitian(H)
    if not isinstance(H, jax.core.Tracer):
        if not np.any(np.asarray(H)):
            raise JaxmblError("H is zero: the relative cost is undefined")
    return H.astype(jnp.promote_types(H.dtype, complex_dtype(real_dtype(None))))


@functools.lru_cache(maxsize=64)
def _cached_plan(sites: tuple, n_sites: int, labels_bytes: bytes, shape: tuple) -> ConePlan:
    # Cached so that repeated costs/fits of one structure reuse one plan, hence one compilation.
    return cone_plan(sites, n_sites, np.frombuffer(labels_bytes, np.int8).reshape(shape))


def local_plan(sites, H: PauliSum) -> ConePlan:
    """The light-cone plan of a gate layout and a single-realization :class:`PauliSum` (cached)."""
    labels = np.ascontiguousarray(np.asarray(H.paulis), dtype=np.int8)
    sites = tuple((int(a), int(b)) for a, b in sites)
    return _cached_plan(sites, H.n_sites, labels.tobytes(), labels.shape)


def check_pauli_hamiltonian(H, n_sites=None) -> PauliSum:
    """Eager checks of a Pauli-sum H for the local cost: one realization, Hermitian, nonzero, N."""
    if H.paulis.ndim != 2:
        raise JaxmblError(f"H must be one realization, got batch shape {H.paulis.shape[:-2]}")
    if n_sites is not None and H.n_sites != n_sites:
        raise JaxmblError(f"H acts on {H.n_sites} sites but the circuit/lattice has {n_sites}")
    if not H.is_hermitian():
        raise JaxmblError("H must be Hermitian: its combined Pauli coefficients must be real")
    if not np.any(np.asarray(H.coef)):
        raise JaxmblError("H is zero: the relative cost is undefined")
    return H


def resolve_method(method: str, H, n_sites: int) -> str:
    """``"auto"`` is ``"local"`` for a :class:`PauliSum`, ``"dense"`` otherwise; checks the choice."""
    if method not in COST_METHODS:
        raise JaxmblError(f"method must be one of {COST_METHODS}, got {method!r}")
    if method == "auto":
        method = "local" if isinstance(H, PauliSum) else "dense"
    if method == "local" and not isinstance(H, PauliSum):
        raise JaxmblError("method='local' needs H as a PauliSum (local terms); pass jm.PauliSum or method='dense'")
    if method == "dense" and n_sites > DENSE_MAX_SITES:
        raise JaxmblError(
            f"the dense cost needs N <= {DENSE_MAX_SITES}, got n_sites={n_sites}: pass H as a PauliSum and "
            "method='local' (or 'auto')"
        )
    return method


def offdiagonal_cost(U, H, *, method: str = "auto"):
    """Relative off-diagonal weight ``||offdiag(U^dag H U)||_F^2 / ||H||_F^2`` (0 iff U diagonalizes H).

    Two routes with the same value: ``"dense"`` forms ``U^dag H U`` (N <= 12); ``"local"`` (H a
    :class:`PauliSum`, U a :class:`Circuit`) conjugates each group of H's terms through its backward
    light cone and sums the Z-string coefficients of ``diag(U^dag H U)`` over all cones before
    squaring, ``C = 1 - sum_P d_P^2 / ||H||^2``: no ``2**N`` object, any N (cone windows up to
    ``MAX_CONE_SITES`` sites).

    Args:
        U: a :class:`Circuit` / :class:`GeneratorUnitary` (one realization) or a dense unitary
            ``(2**N, 2**N)``; the local route needs a :class:`Circuit`.
        H: dense Hermitian ``(2**N, 2**N)``, an operator with ``.dense()``, or a :class:`PauliSum`.
        method: ``"auto"`` (local for a PauliSum with a Circuit, else dense), ``"dense"`` or ``"local"``.

    Returns:
        scalar cost in ``[0, 1]``.

    Raises:
        ValueError: for a batched U, a non-square, non-Hermitian, zero or mis-sized H, N > 12 on the
            dense route, a local route without a Circuit and a PauliSum, or a light cone too wide.

    Example:
        >>> model = sample_model(jax.random.key(0), Lattice((4,)))
        >>> float(offdiagonal_cost(model.U, dense_hamiltonian(model))) < 1e-20
        True
        >>> H = random_field_heisenberg(jax.random.key(1), 4, W=2.0)
        >>> c = [float(offdiagonal_cost(model.U, H, method=m)) for m in ("dense", "local")]
        >>> bool(abs(c[0] - c[1]) < 1e-13)
        True
    """
    n_sites = U.n_sites if isinstance(U, LocalUnitary) else None
    if isinstance(U, LocalUnitary):
        if U.batch_shape:
            raise JaxmblError(f"U must be one realization, got batch shape {U.batch_shape}")
    else:
        U = jnp.asarray(U)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise JaxmblError(f"U must be a LocalUnitary or a square matrix, got shape {U.shape}")
    if method == "auto" and not isinstance(U, Circuit):
        method = "dense"
    method = resolve_method(method, H, n_sites if n_sites is not None else int(np.log2(U.shape[0])))
    if method == "local":
        if not isinstance(U, Circuit):
            raise JaxmblError(f"method='local' needs U as a jm.Circuit, got {type(U).__name__}")
        H = check_pauli_hamiltonian(H, U.n_sites)
        plan = local_plan(U.sites, H)
        return cone_cost(plan, U.gates, jnp.real(H.coef), pauli_norm_sq(H))
    H = _check_H(H, n_sites)
    if not isinstance(U, LocalUnitary) and U.shape != H.shape:
        raise JaxmblError(f"U {U.shape} and H {H.shape} must have the same shape")
    return _cost_core(U, H)


def gate_angles(gates) -> np.ndarray:
    """The 15 Pauli coefficients ``theta`` with ``pauli_gates(theta) = g`` (up to phase), by a matrix log.

    ``h = i log(g)`` (principal branch, eigenphases in ``(-pi, pi]``), made traceless, and
    ``theta_k = Re tr(sigma^a (x) sigma^b h) / 4`` with ``4a + b = k + 1``. Exact for gates whose
    generator has spectral radius below pi; otherwise another generator of the same gate.

    Args:
        gates: unitaries ``(..., 4, 4)``.

    Returns:
        numpy ``(..., 15)`` float angles.

    Example:
        >>> theta = 0.02 * np.arange(15)  # generator spectral radius <= sum|theta| = 2.1 < pi
        >>> bool(np.allclose(gate_angles(pauli_gates(theta)), theta))
        True
    """
    g = np.asarray(gates)
    flat = g.reshape((-1, 4, 4))
    paulis = np.asarray(pauli_pair_matrices(complex_dtype(real_dtype(None)))).reshape(16, 4, 4)
    out = np.empty((flat.shape[0], 15))
    for i, gi in enumerate(flat):
        h = 1j * scipy.linalg.logm(gi)
        h = 0.5 * (h + h.conj().T)
        out[i] = np.real(np.einsum("kji,ij->k", paulis[1:], h)) / 4
    return out.reshape(g.shape[:-2] + (15,))
