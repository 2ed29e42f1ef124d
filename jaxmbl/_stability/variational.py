"""Variational l-bits: fit a brickwork circuit U(theta) that diagonalizes H, then read off H0.

If ``U(theta)^dag H U(theta)`` is diagonal in the Z basis, its diagonal is ``E(n)`` and the
columns ``U|n>`` are eigenstates; the Moebius transform of ``E(n) - E(0)`` gives every coupling
of ``H0 = sum_S J_S prod_{r in S} P_r`` (paper eq. 2.1–2.3). The cost is the relative
off-diagonal Frobenius weight

    C(theta) = ||offdiag(U^dag H U)||_F^2 / ||H||_F^2,

which is 0 exactly when U diagonalizes H and, by Weyl's inequality, bounds the spectrum error:
``|sort(diag) - sort(eig H)| <= ||offdiag||_2 <= sqrt(C) ||H||_F``.

Gates are ``exp(-i sum_{(a,b) != (0,0)} theta_ab sigma^a (x) sigma^b)``: 15 real numbers per gate
(index ``k = 4a + b - 1``), the family that :func:`random_circuit` samples from, on the same
brickwork layout (``depth`` passes over ``lattice.bond_layers``). The fit takes any optax
``GradientTransformation``, warm-starts from a previous :class:`LbitFit` or a circuit, runs as one
jitted ``lax.scan`` over the steps, and returns an :class:`LbitFit` (which still unpacks as
``(circuit, h0, info)``). Only the dense cost is implemented (N <= 12, one 2**N x 2**N product per
step); a light-cone "local" cost for large N (each local term h of H conjugated as U^dag h U on its
light cone, so that no 2**N vector is needed) is not yet.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.scipy.linalg as jsl
import numpy as np
import optax
import scipy.linalg
from jax import lax

from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.deprecation import key_moved_first, renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._core.validation import check_hermitian
from jaxmbl._swingle.lbits import LbitHamiltonian, couplings_from_energies
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import Circuit, LocalUnitary, dense_matrix, pauli_pair_matrices


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


def offdiagonal_cost(U, H):
    """Relative off-diagonal weight ``||offdiag(U^dag H U)||_F^2 / ||H||_F^2`` (0 iff U diagonalizes H).

    Args:
        U: a :class:`Circuit` / :class:`GeneratorUnitary` (one realization, N <= 12) or a dense
            unitary ``(2**N, 2**N)``.
        H: dense Hermitian ``(2**N, 2**N)`` (or an operator with ``.dense()``).

    Returns:
        scalar cost in ``[0, 1]``.

    Raises:
        ValueError: for a batched U, N > 12, a non-square, non-Hermitian, zero or mis-sized H.

    Example:
        >>> model = sample_model(jax.random.key(0), Lattice((4,)))
        >>> float(offdiagonal_cost(model.U, dense_hamiltonian(model))) < 1e-20
        True
    """
    n_sites = U.n_sites if isinstance(U, LocalUnitary) else None
    if isinstance(U, LocalUnitary):
        if U.batch_shape:
            raise JaxmblError(f"U must be one realization, got batch shape {U.batch_shape}")
        if U.n_sites > DENSE_MAX_SITES:
            raise JaxmblError(f"offdiagonal_cost is dense: N <= {DENSE_MAX_SITES}, got n_sites={U.n_sites}")
    else:
        U = jnp.asarray(U)
        if U.ndim != 2 or U.shape[0] != U.shape[1]:
            raise JaxmblError(f"U must be a LocalUnitary or a square matrix, got shape {U.shape}")
    H = _check_H(H, n_sites)
    if not isinstance(U, LocalUnitary) and U.shape != H.shape:
        raise JaxmblError(f"U {U.shape} and H {H.shape} must have the same shape")
    return _cost_core(U, H)


class LbitFit(NamedTuple):
    """Result of :func:`fit_lbits`; unpacks as ``(circuit, h0, info)`` like the old tuple.

    Attributes:
        circuit: the fitted :class:`Circuit` U.
        h0: the :class:`LbitHamiltonian` with ``H ~ U (H0 + offset) U^dag``.
        info: dict with ``"cost"`` (history, per step before the update), ``"final_cost"``
            (after the last step), ``"residual_per_site"`` (``final_cost / N``), ``"offset"``,
            ``"theta"`` (the fitted angles ``(n_gates, 15)``, see :func:`pauli_gates`) and
            ``"lattice"``. Exactly three fields, so old callers' ``U, h0, info = fit`` works;
            ``.model``, ``.theta``, ``.history`` and ``.lattice`` are properties.

    Example:
        >>> lat = Lattice((4,))
        >>> H = dense_hamiltonian(sample_model(jax.random.key(0), lat, depth=1, strength=0.3))
        >>> fit = fit_lbits(jax.random.key(1), H, lat, depth=1, steps=20)
        >>> U, h0, info = fit
        >>> fit.model.n_sites
        4
    """

    circuit: Circuit
    h0: LbitHamiltonian
    info: dict

    @property
    def model(self) -> SwingleModel:
        """The fitted :class:`SwingleModel` ``U H0 U^dag`` (without the constant ``offset``)."""
        return SwingleModel(lattice=self.lattice, h0=self.h0, U=self.circuit)

    @property
    def theta(self):
        """Fitted angles ``(n_gates, 15)`` (``info["theta"]``); seeds a warm start."""
        return self.info["theta"]

    @property
    def lattice(self) -> Lattice:
        """The :class:`Lattice` of the fit (``info["lattice"]``)."""
        return self.info["lattice"]

    @property
    def history(self):
        """Cost per step (``info["cost"]``)."""
        return self.info["cost"]


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
        >>> theta = 0.1 * np.arange(15)
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


@functools.partial(jax.jit, static_argnames=("sites", "n_sites", "steps", "optimizer"))
def _fit_core(H, theta0, sites, n_sites, steps, optimizer):
    def cost(theta):
        return _cost_core(Circuit(gates=pauli_gates(theta), sites=sites, n_sites=n_sites), H)

    def step(carry, _):
        theta, state = carry
        value, grad = jax.value_and_grad(cost)(theta)
        updates, state = optimizer.update(grad, state, theta, value=value, grad=grad, value_fn=cost)
        return (optax.apply_updates(theta, updates), state), value

    (theta, _), history = lax.scan(step, (theta0, optimizer.init(theta0)), None, length=steps)
    U = Circuit(gates=pauli_gates(theta), sites=sites, n_sites=n_sites)
    return U, jnp.real(jnp.diag(_rotated(U, H))), cost(theta), history, theta


@functools.cache
def _default_optimizer(learning_rate, steps):
    # Cosine decay of the Adam step: a large step to leave the identity, a small one to converge.
    # Cached so that repeated fits with the same settings reuse one compilation.
    return optax.with_extra_args_support(optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3)))


def _init_theta(init, sites, dtype):
    if isinstance(init, LbitFit):
        theta, init_sites = np.asarray(init.theta), init.circuit.sites
    else:
        if isinstance(init, SwingleModel):
            init = init.U
        if not isinstance(init, Circuit):
            raise JaxmblError(f"init must be an LbitFit, a SwingleModel with a Circuit, or a Circuit, got {type(init)}")
        if init.batch_shape:
            raise JaxmblError(f"init must be one realization, got batch shape {init.batch_shape}")
        theta, init_sites = gate_angles(init.gates), tuple(tuple(int(x) for x in p) for p in init.sites)
    if tuple(init_sites) != tuple(sites):
        raise JaxmblError(f"init has gates on {init_sites}, but depth gives the brickwork {sites}; pass the same depth")
    return jnp.asarray(theta, dtype=dtype)


@key_moved_first
@renamed_keywords(coupling_tol="cutoff")
def fit_lbits(
    key,
    H,
    lattice: Lattice | int,
    *,
    depth: int,
    steps: int = 2000,
    learning_rate: float = 0.02,
    init_scale: float = 1e-2,
    cutoff: float = 1e-12,
    optimizer=None,
    init=None,
) -> LbitFit:
    """Fit a brickwork circuit ``U(theta)`` with ``U^dag H U`` diagonal (optax), and recover H0.

    Minimizes :func:`offdiagonal_cost` over the 15 Pauli coefficients of every gate with
    ``optimizer`` (default ``optax.adam`` with a cosine-decayed learning rate), from
    ``theta ~ init_scale * N(0, 1)`` (near the identity: the l-bits start as the physical spins)
    or from ``init`` (warm start). The whole fit is one jitted ``lax.scan`` over ``steps``. Then ``E(n) = (U^dag H U)_nn``
    and the couplings are the Moebius transform of ``E(n) - E(0)`` (:func:`couplings_from_energies`).
    A pure function of ``key``.

    Args:
        key: ``jax.random`` key for the initial theta. The old call ``fit_lbits(H, lattice, ...,
            key=key)`` still works, with a ``DeprecationWarning``.
        H: dense Hermitian ``(2**N, 2**N)`` (or an operator with ``.dense()``), N <= 12.
        lattice: the :class:`Lattice` whose bond layers place the gates, or an int chain length.
        depth: number of bond layers (as in :func:`random_circuit`).
        steps: Adam iterations.
        learning_rate: peak Adam step size.
        init_scale: standard deviation of the initial theta.
        cutoff: couplings with ``|J| <= cutoff * max|E|`` are dropped (the fit leaves
            ~``sqrt(cost) ||H||`` of noise in every coupling). Deprecated alias: ``coupling_tol``.
        optimizer: any ``optax.GradientTransformation`` (also those needing ``value``, ``grad``,
            ``value_fn`` in ``update``, e.g. ``optax.lbfgs()``); default
            ``optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3))``.
            ``learning_rate`` is ignored when it is given.
        init: warm start: a previous :class:`LbitFit` (its ``theta``), a :class:`SwingleModel`
            whose U is a :class:`Circuit`, or a :class:`Circuit`; circuit gates are turned into
            angles by a matrix log (:func:`gate_angles`). Its gates must sit on the brickwork of
            ``depth``. ``key`` and ``init_scale`` are then unused.

    Returns:
        :class:`LbitFit` ``(circuit, h0, info)``, which unpacks as the old
        ``U, h0, info = fit_lbits(...)``: the fitted :class:`Circuit`, the
        :class:`LbitHamiltonian` with ``H ~ U (H0 + offset) U^dag``, and a dict with ``"cost"``
        (per step, before the update), ``"final_cost"`` (after the last step),
        ``"residual_per_site"`` (``final_cost / N``), ``"offset"`` (E(0), the constant of H),
        ``"theta"`` and ``"lattice"``; ``.model`` is the fitted :class:`SwingleModel`.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: if H is not Hermitian or not ``(2**N, 2**N)`` for the lattice, N > 12, or
            for a bad ``depth``, ``steps``, ``learning_rate``, ``init_scale``, ``optimizer`` or
            ``init``.

    Example:
        >>> lat = Lattice((4,))
        >>> model = sample_model(jax.random.key(0), lat, depth=2, strength=0.3)
        >>> U, h0, hist = fit_lbits(jax.random.key(1), dense_hamiltonian(model), lat, depth=2, steps=300)
        >>> bool(hist["final_cost"] < 1e-3)
        True
    """
    lattice = as_lattice(lattice)
    sites = brickwork_sites(lattice, depth)
    n_sites = lattice.n_sites
    if n_sites > DENSE_MAX_SITES:
        raise JaxmblError(f"fit_lbits uses the dense cost: N <= {DENSE_MAX_SITES}, got n_sites={n_sites}")
    H = _check_H(H, n_sites)
    if int(steps) != steps or steps < 1:
        raise JaxmblError(f"steps must be an integer >= 1, got {steps!r}")
    for name, value in (("learning_rate", learning_rate), ("init_scale", init_scale)):
        if not np.isfinite(value) or value < 0 or (name == "learning_rate" and value == 0):
            raise JaxmblError(f"{name} must be finite and {'>' if name == 'learning_rate' else '>='} 0, got {value!r}")
    rdt = jnp.real(H).dtype
    if init is None:
        theta0 = init_scale * jr.normal(key, (len(sites), 15), dtype=rdt)
    else:
        theta0 = _init_theta(init, sites, rdt)
    if optimizer is None:
        optimizer = _default_optimizer(float(learning_rate), int(steps))
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise JaxmblError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer)}")
    optimizer = optax.with_extra_args_support(optimizer)
    U, E, final, history, theta = _fit_core(H, theta0, sites, n_sites, int(steps), optimizer)
    E = np.asarray(E)
    h0 = couplings_from_energies(E - E[0], cutoff=cutoff)
    info = {
        "cost": history,
        "final_cost": float(final),
        "residual_per_site": float(final) / n_sites,
        "offset": float(E[0]),
        "theta": theta,
        "lattice": lattice,
    }
    return LbitFit(circuit=U, h0=h0, info=info)
