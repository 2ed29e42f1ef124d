"""Conventions used everywhere in jaxmbl, fixed once.

=================  ==========================================================================
thing              convention
=================  ==========================================================================
sites              integers ``0..N-1``; on a lattice of shape ``(L1, .., Ld)`` the site index
                   is row-major (C order) in the coordinates
state vector       shape ``(2**N,)``; reshaped to ``(2,)*N`` axis ``r`` is site ``r``, so
                   **site 0 is the most significant bit** of the basis index ``n``
local basis        ``|0>`` is Z=+1 (up), ``|1>`` is Z=-1 (down);
                   ``P = (1 - Z)/2 = |1><1|`` is the l-bit occupation ``n_r``
Paulis             ``sigma^0 = I, sigma^1 = X, sigma^2 = Y, sigma^3 = Z``, unnormalised
                   (eigenvalues +-1). Spin operators ``S = sigma/2`` only in named models
two-site gate      a 4x4 matrix in the basis ``|s_a s_b>``, row/column index ``2*s_a + s_b``
                   for the ordered pair ``(a, b)``
circuit order      ``U = u_{G-1} ... u_1 u_0``: gate 0 acts first on a state
entropies          natural logarithm (nats), never divided by the region size
units              hbar = 1; ``J0`` sets the energy unit, times are in units of ``1/J0``
dtype              float64 / complex128 by default (needs ``jax_enable_x64``);
                   float32 / complex64 only when asked for explicitly (fast mode)
=================  ==========================================================================

Example:
    >>> import numpy as np
    >>> from jaxmbl import basis_bits
    >>> basis_bits(2)          # rows are n = 0..3, columns are sites 0, 1
    array([[0, 0],
           [0, 1],
           [1, 0],
           [1, 1]], dtype=int8)
"""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.errors import JaxmblError

PAULI = np.array(
    [
        [[1, 0], [0, 1]],
        [[0, 1], [1, 0]],
        [[0, -1j], [1j, 0]],
        [[1, 0], [0, -1]],
    ],
    dtype=np.complex128,
)
"""Pauli matrices ``sigma^0..sigma^3 = I, X, Y, Z`` (unnormalised), a ``(4, 2, 2)`` complex128 numpy array.

Pauli labels 0..3 index its first axis everywhere in jaxmbl (e.g. ``PauliSum`` labels).
"""

#: Letters of the Pauli labels 0..3.
PAULI_LETTERS = "IXYZ"

_warned_x64 = False


def real_dtype(dtype=None):
    """Resolve the real dtype a computation should use.

    ``None`` means float64 when JAX has x64 enabled. With x64 disabled, ``None`` falls
    back to float32 with a one-time warning (we never flip global JAX flags from the
    library), and an explicit float64 request is an error rather than a silent downcast.
    """
    global _warned_x64
    x64 = bool(jax.config.jax_enable_x64)
    if dtype is None:
        if x64:
            return jnp.float64
        if not _warned_x64:
            warnings.warn(
                "jaxmbl: JAX x64 is disabled, so computing in float32 (fast mode). "
                "Call jax.config.update('jax_enable_x64', True) first for float64.",
                stacklevel=3,
            )
            _warned_x64 = True
        return jnp.float32
    dt = jnp.dtype(dtype)
    if jnp.issubdtype(dt, jnp.complexfloating):
        dt = jnp.finfo(dt).dtype
    if dt not in (jnp.dtype(jnp.float32), jnp.dtype(jnp.float64)):
        raise JaxmblError(f"dtype must be float32 or float64 (or their complex forms), got {dtype!r}")
    if dt == jnp.float64 and not x64:
        raise JaxmblError(
            "dtype=float64 was requested but JAX x64 is disabled; "
            "call jax.config.update('jax_enable_x64', True) before using jaxmbl"
        )
    return dt.type


def complex_dtype(dtype):
    """The complex dtype matching a real (or complex) dtype: float32->complex64, float64->complex128.

    Args:
        dtype: a real or complex floating dtype (a complex one is returned unchanged).

    Returns:
        The numpy scalar type ``jnp.complex64`` or ``jnp.complex128``.

    Example:
        >>> complex_dtype(jnp.float32).__name__, complex_dtype("float64").__name__
        ('complex64', 'complex128')
    """
    dt = jnp.dtype(dtype)
    if jnp.issubdtype(dt, jnp.complexfloating):
        return dt.type
    return jnp.complex128 if dt == jnp.float64 else jnp.complex64


def basis_bits(n_sites: int) -> np.ndarray:
    """Occupations ``n_r`` of every basis state: int8 array of shape ``(2**N, N)``.

    Row ``n`` holds the bits of ``n`` with site 0 the most significant bit, so
    ``n = sum_r bits[n, r] * 2**(N-1-r)``; ``bits = 1`` means Z = -1 (P = 1).

    Args:
        n_sites: N >= 1.

    Returns:
        int8 numpy array ``(2**N, N)``; entry ``[n, r]`` is ``n_r`` of basis state n.

    Example:
        >>> basis_bits(2).tolist()            # rows n = 0..3, columns sites 0, 1
        [[0, 0], [0, 1], [1, 0], [1, 1]]
    """
    n_sites = int(n_sites)
    idx = np.arange(2**n_sites)
    shifts = n_sites - 1 - np.arange(n_sites)
    return ((idx[:, None] >> shifts[None, :]) & 1).astype(np.int8)


def site_mask(sites, n_sites: int) -> int:
    """Basis index whose set bits are exactly ``sites`` (site 0 = most significant)."""
    return int(sum(1 << (n_sites - 1 - int(r)) for r in sites))


def pauli_string(label: str) -> np.ndarray:
    """Dense matrix of a Pauli string such as ``"XZI"`` (character r acts on site r). Small N only.

    Args:
        label: one letter of ``"IXYZ"`` per site, site 0 first.

    Returns:
        complex128 numpy array ``(2**N, 2**N)``, the Kronecker product with site 0 outermost.

    Raises:
        ValueError: for a letter outside ``"IXYZ"``.

    Example:
        >>> pauli_string("ZI").real.diagonal().tolist()    # Z on site 0, the most significant bit
        [1.0, 1.0, -1.0, -1.0]
    """
    out = np.ones((1, 1), dtype=np.complex128)
    for ch in label:
        out = np.kron(out, PAULI[PAULI_LETTERS.index(ch)])
    return out
