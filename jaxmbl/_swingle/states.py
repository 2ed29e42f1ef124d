"""Simple states: computational basis states, product states on the Bloch sphere, Neel states."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import check_state_memory


def _n_sites_of(lattice) -> int:
    n = lattice.n_sites if isinstance(lattice, Lattice) else lattice
    if int(n) != n or n < 1:
        raise JaxmblError(f"n_sites must be an integer N >= 1, got {lattice!r}")
    return int(n)


@renamed_keywords(lattice_or_n="lattice")
def basis_state(lattice, n, *, dtype=None):
    """The computational basis state ``|n>`` (site 0 = most significant bit), shape ``(2**N,)``.

    ``|n>`` is the l-bit configuration ``n_r = bit r of n`` and the eigenstate of H0 with energy
    ``E(n)``; ``U|n>`` is the corresponding eigenstate of H (see :func:`eigenstates`).

    Args:
        lattice: a :class:`Lattice` or the number of sites N >= 1. Deprecated alias: ``lattice_or_n``.
        n: the basis index, ``0 <= n < 2**N``.
        dtype: real dtype of the precision (the state is complex); default float64 when x64 is on.

    Returns:
        ``(2**N,)`` complex state with a single 1 at index n.

    Raises:
        ValueError: for a bad N, n outside ``0..2**N-1``, or a state that would not fit in memory.

    Example:
        >>> basis_state(2, 1).real.tolist()     # |01>: site 1 down
        [0.0, 1.0, 0.0, 0.0]
    """
    N = _n_sites_of(lattice)
    n = int(n)
    if not 0 <= n < 2**N:
        raise JaxmblError(f"n must lie in 0..2**N-1 = 0..{2**N - 1}, got {n}")
    check_state_memory(N, 1, real_dtype(dtype))
    return jnp.zeros(2**N, complex_dtype(real_dtype(dtype))).at[n].set(1.0)


def product_state(theta, phi=None, *, dtype=None):
    """``prod_r (cos(theta_r/2)|0> + e^{i phi_r} sin(theta_r/2)|1>)``: spins at Bloch angles (radians).

    ``theta = 0`` is up (Z = +1), ``theta = pi`` is down, ``theta = pi/2, phi = 0`` is ``|+>``.
    Differentiable in the angles. Shape ``(2**N,)`` with N = len(theta).

    Args:
        theta: polar angles ``(N,)`` in radians, one per site (a scalar is one site).
        phi: azimuthal angles ``(N,)`` in radians; default 0.
        dtype: real dtype of the precision (the state is complex); default float64 when x64 is on.

    Returns:
        ``(2**N,)`` complex normalized product state.

    Raises:
        ValueError: if ``theta`` is not 1D, ``phi`` does not match it, or the state would not fit.

    Example:
        >>> import numpy as np
        >>> np.round(np.asarray(product_state([np.pi / 2, 0.0])).real ** 2, 6).tolist()   # |+>|0>
        [0.5, 0.0, 0.5, 0.0]
    """
    theta = jnp.atleast_1d(jnp.asarray(theta, real_dtype(dtype)))
    if theta.ndim != 1:
        raise JaxmblError(f"theta must be one angle per site, got shape {theta.shape}")
    phi = jnp.zeros_like(theta) if phi is None else jnp.atleast_1d(jnp.asarray(phi, theta.dtype))
    if phi.shape != theta.shape:
        raise JaxmblError(f"phi must have the shape of theta {theta.shape}, got {phi.shape}")
    check_state_memory(theta.shape[0], 1, theta.dtype)
    cdt = complex_dtype(theta.dtype)
    spins = jnp.stack([jnp.cos(theta / 2).astype(cdt), jnp.exp(1j * phi).astype(cdt) * jnp.sin(theta / 2)], axis=-1)
    psi = spins[0]
    for r in range(1, theta.shape[0]):
        psi = (psi[:, None] * spins[r][None, :]).reshape(-1)
    return psi


@renamed_keywords(lattice_or_n="lattice")
def neel_state(lattice, *, dtype=None):
    """The Neel state: site r down iff the coordinate sum of r is odd (``|0101...>`` in 1D).

    Args:
        lattice: a :class:`Lattice` (the checkerboard of its coordinates) or N for a chain.
            Deprecated alias: ``lattice_or_n``.
        dtype: real dtype of the precision (the state is complex); default float64 when x64 is on.

    Returns:
        ``(2**N,)`` complex basis state.

    Raises:
        ValueError: for a bad N.

    Example:
        >>> int(jnp.argmax(jnp.abs(neel_state(4))))      # |0101> = 5
        5
    """
    lat = lattice if isinstance(lattice, Lattice) else as_lattice(_n_sites_of(lattice))
    return basis_state(lat.n_sites, neel_index(lat), dtype=dtype)


def neel_index(lattice: Lattice) -> int:
    """Basis index of :func:`neel_state`."""
    down = lattice.coords.sum(axis=1) % 2
    return int(sum(int(b) << (lattice.n_sites - 1 - r) for r, b in enumerate(np.asarray(down))))
