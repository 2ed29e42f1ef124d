"""Simple states: computational basis states, product states on the Bloch sphere, Neel states."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import check_state_memory, complex_dtype, real_dtype
from jaxmbl._core.lattice import Lattice


def _n_sites_of(lattice_or_n) -> int:
    n = lattice_or_n.n_sites if isinstance(lattice_or_n, Lattice) else lattice_or_n
    if int(n) != n or n < 1:
        raise ValueError(f"n_sites must be an integer N >= 1, got {lattice_or_n!r}")
    return int(n)


def basis_state(lattice_or_n, n, *, dtype=None):
    """The computational basis state ``|n>`` (site 0 = most significant bit), shape ``(2**N,)``.

    Example:
        >>> basis_state(2, 1).real.tolist()     # |01>: site 1 down
        [0.0, 1.0, 0.0, 0.0]
    """
    N = _n_sites_of(lattice_or_n)
    n = int(n)
    if not 0 <= n < 2**N:
        raise ValueError(f"n must lie in 0..2**N-1 = 0..{2**N - 1}, got {n}")
    check_state_memory(N, 1, real_dtype(dtype))
    return jnp.zeros(2**N, complex_dtype(real_dtype(dtype))).at[n].set(1.0)


def product_state(theta, phi=None, *, dtype=None):
    """``prod_r (cos(theta_r/2)|0> + e^{i phi_r} sin(theta_r/2)|1>)``: spins at Bloch angles (radians).

    ``theta = 0`` is up (Z = +1), ``theta = pi`` is down, ``theta = pi/2, phi = 0`` is ``|+>``.
    Differentiable in the angles. Shape ``(2**N,)`` with N = len(theta).

    Example:
        >>> import numpy as np
        >>> np.round(np.asarray(product_state([np.pi / 2, 0.0])).real ** 2, 6).tolist()   # |+>|0>
        [0.5, 0.0, 0.5, 0.0]
    """
    theta = jnp.atleast_1d(jnp.asarray(theta, real_dtype(dtype)))
    if theta.ndim != 1:
        raise ValueError(f"theta must be one angle per site, got shape {theta.shape}")
    phi = jnp.zeros_like(theta) if phi is None else jnp.atleast_1d(jnp.asarray(phi, theta.dtype))
    if phi.shape != theta.shape:
        raise ValueError(f"phi must have the shape of theta {theta.shape}, got {phi.shape}")
    check_state_memory(theta.shape[0], 1, theta.dtype)
    cdt = complex_dtype(theta.dtype)
    spins = jnp.stack([jnp.cos(theta / 2).astype(cdt), jnp.exp(1j * phi).astype(cdt) * jnp.sin(theta / 2)], axis=-1)
    psi = spins[0]
    for r in range(1, theta.shape[0]):
        psi = (psi[:, None] * spins[r][None, :]).reshape(-1)
    return psi


def neel_state(lattice_or_n, *, dtype=None):
    """The Neel state: site r down iff the coordinate sum of r is odd (``|0101...>`` in 1D)."""
    lat = lattice_or_n if isinstance(lattice_or_n, Lattice) else Lattice((_n_sites_of(lattice_or_n),))
    return basis_state(lat.n_sites, neel_index(lat), dtype=dtype)


def neel_index(lattice: Lattice) -> int:
    """Basis index of :func:`neel_state`."""
    down = lattice.coords.sum(axis=1) % 2
    return int(sum(int(b) << (lattice.n_sites - 1 - r) for r, b in enumerate(np.asarray(down))))
