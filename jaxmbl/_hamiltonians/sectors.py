"""Total-S^z sectors of N spins 1/2: the sorted basis indices with a fixed number of down spins.

Up is |0> (Z = +1) and site r is bit N-1-r, the conventions of :mod:`jaxmbl._hamiltonians.pauli`;
the basis is built recursively by the top bit, so it comes out sorted without a sort.

Example:
    >>> sector_basis(4, 0).tolist()
    [3, 5, 6, 9, 10, 12]
"""

from __future__ import annotations

import functools

import numpy as np

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.validation import check_n_sites


@functools.lru_cache(maxsize=128)
def _fixed_popcount(n_bits: int, k: int) -> np.ndarray:
    """Sorted n_bits-bit integers with k set bits (top bit 0 first, so the concatenation stays sorted)."""
    if k < 0 or k > n_bits:
        return np.zeros(0, dtype=np.int64)
    if n_bits == 0:
        return np.zeros(1, dtype=np.int64)
    return np.concatenate([_fixed_popcount(n_bits - 1, k), (1 << (n_bits - 1)) + _fixed_popcount(n_bits - 1, k - 1)])


def sector_basis(n_sites: int, sector) -> np.ndarray:
    """Sorted basis indices n whose total S^z = (#up - #down)/2 equals ``sector``.

    Up is |0> (Z = +1), so n has N/2 - sector set bits. ``sector`` is in units of S^z: 0 is
    half filling; odd N needs half-integers.

    Args:
        n_sites: N >= 1.
        sector: total ``S^z`` (spin-1/2 units), in ``-N/2, -N/2 + 1, ..., N/2``.

    Returns:
        read-only int64 array of shape (binom(N, N/2 - sector),).

    Raises:
        ValueError: for a bad N or a sector that is not a number or impossible for N.

    Example:
        >>> sector_basis(3, 0.5).tolist()   # one down spin
        [1, 2, 4]
    """
    n_sites = check_n_sites(n_sites)
    try:
        n_down = n_sites / 2 - float(sector)
    except (TypeError, ValueError) as err:
        raise JaxmblError(f"sector must be a number (total S^z), got {sector!r}") from err
    if not n_down.is_integer() or not 0 <= n_down <= n_sites:
        raise JaxmblError(f"sector={sector!r} is impossible for n_sites={n_sites}: S^z takes -N/2, -N/2 + 1, .., N/2")
    basis = _fixed_popcount(n_sites, int(round(n_down)))
    basis.setflags(write=False)
    return basis
