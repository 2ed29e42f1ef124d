"""Fit l-bits with optax: a brickwork circuit ``U(theta)`` with ``U^dag H U`` diagonal, then H0.

The fit minimizes the off-diagonal weight of :func:`offdiagonal_cost` over the 15 Pauli angles of
every gate (see ``variational.py``) with any optax ``GradientTransformation``, as one jitted
``lax.scan`` over the steps, from near the identity or from a warm start (a previous :class:`LbitFit`,
a model, a circuit). Two cost routes with the same value: ``"dense"`` (N <= 12) and ``"local"`` (H a
:class:`PauliSum`; light cones, no ``2**N`` object, N = 64 and beyond). H0 is read off the diagonal:
by the Moebius transform of ``E(n)`` (dense), or from the Z-string coefficients ``d_P`` of
``diag(U^dag H U)`` (local), with ``Z_r = 1 - 2 P_r``:

    J_S = (-2)^{|S|} sum_{P contains S} d_P,      offset = E(0) = sum_P d_P.

Diagnostics of a fit (couplings against distance, a fitted xi) are in ``lbit_diagnostics.py``.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax

from jaxmbl._core.deprecation import key_moved_first, renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST, apply_two_site
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._hamiltonians.lbit_pauli import pauli_to_lbit
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.cone_cost import ConePlan, cone_cost, cone_diagonal, diagonal_strings, pauli_norm_sq
from jaxmbl._stability.optimize import optax_scan
from jaxmbl._stability.variational import (
    _check_H,
    _cost_core,
    brickwork_sites,
    check_pauli_hamiltonian,
    gate_angles,
    local_plan,
    pauli_gates,
    resolve_method,
)
from jaxmbl._swingle.lbits import LbitHamiltonian, couplings_from_energies
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import Circuit


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


@dataclasses.dataclass(frozen=True)
class _DenseCost:
    """Dense cost of angles ``theta`` on a gate layout; hashable, so jit caches one compilation."""

    sites: tuple
    n_sites: int

    def columns(self, theta):
        """The dense ``U(theta)``, gate by gate on the identity.

        Not the fused circuit kernel: its reverse pass through the block fusion cost 5x this one
        (N = 8, depth 2: 0.12 s against 0.02 s per gradient), and a fit is all gradients.
        """
        gates = pauli_gates(theta)
        n = self.n_sites
        cols = jnp.eye(2**n, dtype=gates.dtype)  # row m is U|m> once all gates are applied
        for g, (a, b) in zip(gates, self.sites):
            cols = jax.vmap(lambda v, g=g, a=a, b=b: apply_two_site(v, g, a, b, n))(cols)
        return cols.T

    def __call__(self, theta, H):
        # ||U^dag H U||_F = ||H||_F, so the off-diagonal weight is 1 - sum_n d_n^2 / ||H||^2 with
        # d_n = <n|U^dag H U|n>: one product H U instead of two (as the local route does). Its
        # rounding floor, ~1e-16 in the cost, is far below any fit's target; ``exact`` reports the
        # final value from the off-diagonal entries themselves.
        d = self.diagonal(theta, H)
        return 1.0 - jnp.sum(d * d) / jnp.sum(jnp.abs(H) ** 2)

    def exact(self, theta, H):
        return _cost_core(self.columns(theta), H)

    def diagonal(self, theta, H):
        A = self.columns(theta)
        return jnp.real(jnp.sum(A.conj() * jnp.matmul(H, A, precision=HIGHEST), axis=0))


@dataclasses.dataclass(frozen=True)
class _LocalCost:
    """Light-cone cost; ``data = (coef, ||H||^2)``. The plan is cached, so equal structures hash equal."""

    plan: ConePlan

    def __call__(self, theta, data):
        return cone_cost(self.plan, pauli_gates(theta), *data)

    def exact(self, theta, data):
        return self(theta, data)

    def diagonal(self, theta, data):
        return cone_diagonal(self.plan, pauli_gates(theta), data[0])


@functools.partial(jax.jit, static_argnames=("cost", "steps", "optimizer"))
def _fit_core(cost, data, theta0, steps, optimizer):
    theta, history = optax_scan(lambda theta: cost(theta, data), theta0, optimizer, steps)
    return theta, history, cost.exact(theta, data), cost.diagonal(theta, data)


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
    method: str = "auto",
) -> LbitFit:
    """Fit a brickwork circuit ``U(theta)`` with ``U^dag H U`` diagonal (optax), and recover H0.

    Minimizes :func:`offdiagonal_cost` over the 15 Pauli coefficients of every gate with
    ``optimizer`` (default ``optax.adam`` with a cosine-decayed learning rate), from
    ``theta ~ init_scale * N(0, 1)`` (near the identity: the l-bits start as the physical spins)
    or from ``init`` (warm start). The whole fit is one jitted ``lax.scan`` over ``steps``. Then H0 is
    read off the diagonal of ``U^dag H U``: the Moebius transform of ``E(n) - E(0)`` on the dense route
    (:func:`couplings_from_energies`), the Z-string coefficients on the local route (module docstring).
    A pure function of ``key``.

    Args:
        key: ``jax.random`` key for the initial theta. The old call ``fit_lbits(H, lattice, ...,
            key=key)`` still works, with a ``DeprecationWarning``.
        H: a :class:`PauliSum` (both routes; the only input of the local route), or a dense Hermitian
            ``(2**N, 2**N)`` matrix / an operator with ``.dense()`` (dense route, N <= 12).
        lattice: the :class:`Lattice` whose bond layers place the gates, or an int chain length.
        depth: number of bond layers (as in :func:`random_circuit`).
        steps: optimizer iterations.
        learning_rate: peak Adam step size of the default optimizer.
        init_scale: standard deviation of the initial theta.
        cutoff: couplings with ``|J| <= cutoff * scale`` are dropped, ``scale = max|E|`` (dense) or
            ``max_P |d_P|`` (local, :func:`pauli_to_lbit`); the fit leaves ~``sqrt(cost) ||H||`` of noise
            in every coupling. Deprecated alias: ``coupling_tol``.
        optimizer: any ``optax.GradientTransformation`` (also those needing ``value``, ``grad``,
            ``value_fn`` in ``update``, e.g. ``optax.lbfgs()``); default
            ``optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=1e-3))``.
            ``learning_rate`` is ignored when it is given.
        init: warm start: a previous :class:`LbitFit` (its ``theta``), a :class:`SwingleModel`
            whose U is a :class:`Circuit`, or a :class:`Circuit`; circuit gates are turned into
            angles by a matrix log (:func:`gate_angles`). Its gates must sit on the brickwork of
            ``depth``. ``key`` and ``init_scale`` are then unused.
        method: the cost route: ``"auto"`` (local for a :class:`PauliSum`, dense otherwise),
            ``"dense"`` or ``"local"`` (see :func:`offdiagonal_cost`); both give the same cost.

    Returns:
        :class:`LbitFit` ``(circuit, h0, info)``, which unpacks as the old
        ``U, h0, info = fit_lbits(...)``: the fitted :class:`Circuit`, the
        :class:`LbitHamiltonian` with ``H ~ U (H0 + offset) U^dag``, and a dict with ``"cost"``
        (per step, before the update), ``"final_cost"`` (after the last step),
        ``"residual_per_site"`` (``final_cost / N``), ``"offdiagonal_weight"`` (the absolute
        ``||offdiag(U^dag H U)||^2 / 2**N``, units J0^2), ``"offset"`` (E(0), the constant of H),
        ``"theta"``, ``"lattice"`` and ``"method"``; ``.model`` is the fitted :class:`SwingleModel`.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: if H is not Hermitian or not of the lattice's size, N > 12 on the dense route, a
            light cone too wide on the local route, or for a bad ``depth``, ``steps``,
            ``learning_rate``, ``init_scale``, ``optimizer``, ``init`` or ``method``.

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
    method = resolve_method(method, H, n_sites)
    if int(steps) != steps or steps < 1:
        raise JaxmblError(f"steps must be an integer >= 1, got {steps!r}")
    for name, value in (("learning_rate", learning_rate), ("init_scale", init_scale)):
        if not np.isfinite(value) or value < 0 or (name == "learning_rate" and value == 0):
            raise JaxmblError(f"{name} must be finite and {'>' if name == 'learning_rate' else '>='} 0, got {value!r}")
    if method == "local":
        H = check_pauli_hamiltonian(H, n_sites)
        norm_sq = pauli_norm_sq(H)
        cost, data = _LocalCost(local_plan(sites, H)), (jnp.real(H.coef), norm_sq)
        rdt = data[0].dtype
    else:
        if isinstance(H, PauliSum) and H.n_sites != n_sites:
            raise JaxmblError(f"H acts on {H.n_sites} sites but the lattice has {n_sites}")
        H = _check_H(H, n_sites)
        cost, data, rdt = _DenseCost(sites, n_sites), H, jnp.real(H).dtype
        norm_sq = jnp.sum(jnp.abs(H) ** 2) / H.shape[0]
    if init is None:
        theta0 = init_scale * jr.normal(key, (len(sites), 15), dtype=rdt)
    else:
        theta0 = _init_theta(init, sites, rdt)
    if optimizer is None:
        optimizer = _default_optimizer(float(learning_rate), int(steps))
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise JaxmblError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer)}")
    optimizer = optax.with_extra_args_support(optimizer)
    theta, history, final, diagonal = _fit_core(cost, data, theta0, int(steps), optimizer)
    diagonal = np.asarray(diagonal)
    if method == "local":
        h0, offset = pauli_to_lbit(diagonal_strings(cost.plan, diagonal), cutoff=cutoff)
        offset = float(offset)
    else:
        h0, offset = couplings_from_energies(diagonal - diagonal[0], cutoff=cutoff), float(diagonal[0])
    info = {
        "cost": history,
        "final_cost": float(final),
        "residual_per_site": float(final) / n_sites,
        "offdiagonal_weight": float(final) * float(norm_sq),
        "offset": offset,
        "theta": theta,
        "lattice": lattice,
        "method": method,
    }
    circuit = Circuit(gates=pauli_gates(theta), sites=sites, n_sites=n_sites)
    return LbitFit(circuit=circuit, h0=h0, info=info)
