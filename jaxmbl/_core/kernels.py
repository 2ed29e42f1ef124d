"""Private kernels: local operators applied to a single state vector, and the hypercube transforms.

Everything here acts on ONE flat state of shape (2**N,) and is written to be vmapped.
Sites are static Python ints, so each call unrolls into a reshape and one small matmul.
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import lax

HIGHEST = lax.Precision.HIGHEST


def apply_one_site(psi, op, i: int, n_sites: int):
    """``op`` (2, 2) acting on site ``i`` of ``psi`` (2**N,)."""
    t = psi.reshape(2**i, 2, 2 ** (n_sites - i - 1))
    return jnp.einsum("pq,xqz->xpz", op, t, precision=HIGHEST).reshape(psi.shape)


def apply_two_site(psi, gate, i: int, j: int, n_sites: int):
    """``gate`` (4, 4) in the basis ``|s_i s_j>`` (index 2*s_i + s_j) acting on sites ``(i, j)``."""
    g = gate.reshape(2, 2, 2, 2)
    if i > j:
        # Same operator with the roles of the two tensor factors exchanged.
        g = g.transpose(1, 0, 3, 2)
        i, j = j, i
    t = psi.reshape(2**i, 2, 2 ** (j - i - 1), 2, 2 ** (n_sites - j - 1))
    return jnp.einsum("pqrs,xrysz->xpyqz", g, t, precision=HIGHEST).reshape(psi.shape)


def zeta_transform(c, n_sites: int, *, multiplicative: bool = False):
    """Subset sums on the hypercube: ``out[n] = sum_{m subset of n} c[m]`` (bits as sets of sites).

    With ``c[mask(S)] = J_S`` this is ``E(n) = sum_S J_S prod_{r in S} n_r``, in N passes of
    2**N adds instead of one pass per coupling. ``multiplicative=True`` takes products over
    subsets instead (``c`` is 1 where there is no term): with ``c[mask(S)] = exp(-i theta_S)`` it
    gives ``exp(-i sum_{S subset of n} theta_S)`` with no transcendental per basis state.
    """
    for r in range(n_sites):
        x = c.reshape(2**r, 2, 2 ** (n_sites - r - 1))
        upper = x[:, 0] * x[:, 1] if multiplicative else x[:, 0] + x[:, 1]
        c = jnp.stack([x[:, 0], upper], axis=1).reshape(c.shape)
    return c


def mobius_transform(e, n_sites: int):
    """Inverse of :func:`zeta_transform`: ``out[S] = sum_{m subset of S} (-1)^{|S|-|m|} e[m]``."""
    for r in range(n_sites):
        x = e.reshape(2**r, 2, 2 ** (n_sites - r - 1))
        e = jnp.stack([x[:, 0], x[:, 1] - x[:, 0]], axis=1).reshape(e.shape)
    return e


def chebyshev_exp_coefficients(x, order: int, dtype, xp=jnp):
    """``(2 - delta_k0) (-i)^k J_k(x)`` for k < order: the Chebyshev series of ``exp(-i x y)``, y in [-1, 1].

    They are the Fourier modes of ``exp(-i x cos theta)`` (Jacobi-Anger), computed by an FFT,
    which is accurate to round-off for every x; ``jax.scipy.special.bessel_jn`` returns NaN for
    small x at high order. Aliasing adds ``J_{4K-k}(x)``, below round-off whenever ``K >~ x``.
    ``xp=np`` evaluates them on the host (static sizing, also while tracing under jax.jit).
    """
    n_fft = 4 * max(order, 8)
    theta = 2 * xp.pi * xp.arange(n_fft) / n_fft
    modes = xp.fft.fft(xp.exp(-1j * x * xp.cos(theta)).astype(dtype))[:order] / n_fft
    return modes * xp.where(xp.arange(order) == 0, 1, 2)
