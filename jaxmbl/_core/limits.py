"""Size limits, in one place: how much memory there is, and what jaxmbl refuses to allocate.

Every request that could exhaust memory is refused *before* allocating, with the estimate in the
message. The budget is the machine's physical memory, or ``JAXMBL_MEMORY_LIMIT_GB`` if set (the
same variable for every check, so a test or a shared node can lower it).

==========================  ===================================================================
limit                       meaning
==========================  ===================================================================
``DENSE_MAX_SITES``         largest N for which a 2**N x 2**N matrix of U, of a generator or of
                            the perturbed model is formed (a complex128 matrix at N = 12 is
                            256 MiB)
``MAX_FULL_SITES``          largest N diagonalized densely in the full Hilbert space (1 GiB at 13)
``PAULI_DENSE_MAX_DIM``     largest block (rows) that ``PauliSum.dense`` forms, full space or a
                            sector; above it the sweep observables switch to ``interior_eigh``
``MAX_CONE_SITES``          largest backward light-cone component of a circuit eigenstate
                            (``4**c`` amplitudes)
``LBIT_PROFILE_MAX_SITES``  largest N of the sweep observable ``lbit_profile`` (dense)
state vectors               :func:`check_state_memory`: 4x the vectors, for the kernels' temporaries
dense blocks                :func:`check_matrix_memory`: 3x the matrices (matrix, eigenvectors,
                            LAPACK workspace)
==========================  ===================================================================
"""

from __future__ import annotations

import os

import jax.numpy as jnp

from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.errors import JaxmblError

#: Largest N for which a dense 2**N x 2**N operator (U, a generator K, H + gV) is formed.
DENSE_MAX_SITES = 12
#: Largest N diagonalized in the full Hilbert space.
MAX_FULL_SITES = 13
#: Largest dense block (rows) of a PauliSum, full space or sector (2**14: 4 GiB of complex128 with workspace).
PAULI_DENSE_MAX_DIM = 2**14
MAX_CONE_SITES = 14
"""Largest light-cone component handled (its ``2**c`` states of ``2**c`` amplitudes are built explicitly)."""
#: Largest N of the sweep observable ``lbit_profile`` (one dense U and N dressed l-bits per realization).
LBIT_PROFILE_MAX_SITES = 10


def available_memory_bytes() -> int:
    """The memory budget in bytes: ``JAXMBL_MEMORY_LIMIT_GB`` if set, else physical memory."""
    env = os.environ.get("JAXMBL_MEMORY_LIMIT_GB")
    if env:
        return int(float(env) * 2**30)
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def _refuse_above_budget(need: float, what: str) -> float:
    have = available_memory_bytes()
    if need > have:
        raise JaxmblError(
            f"{what} need about {need / 2**30:.3g} GiB with working space, more than the "
            f"{have / 2**30:.3g} GiB available (set JAXMBL_MEMORY_LIMIT_GB to change the limit)"
        )
    return need


def check_state_memory(n_sites: int, n_vectors: int = 1, dtype=jnp.complex128, *, what: str = "state vectors"):
    """Refuse, before allocating, a request for ``n_vectors`` vectors of length 2**N that cannot fit.

    A factor of 4 leaves room for the temporaries of the kernels.

    Returns:
        The estimated need in bytes.

    Raises:
        JaxmblError: if the estimate exceeds :func:`available_memory_bytes`.
    """
    itemsize = jnp.dtype(complex_dtype(dtype)).itemsize
    need = 4 * n_vectors * itemsize * float(2.0**n_sites)
    return _refuse_above_budget(need, f"n_sites={n_sites}: {n_vectors} {what} of 2**{n_sites} amplitudes")


def check_matrix_memory(dim: int, count: int, *, what: str) -> float:
    """Refuse ``count`` dense complex ``dim x dim`` matrices to diagonalize if they cannot fit.

    The factor of 3 holds the matrix, its eigenvectors and the LAPACK workspace. ``what`` starts
    the message (it names the argument that set the size).

    Returns:
        The estimated need in bytes.

    Raises:
        JaxmblError: if the estimate exceeds :func:`available_memory_bytes`.
    """
    need = 3.0 * count * dim**2 * 16
    return _refuse_above_budget(need, f"{what}: {count} dense block(s) of dimension {dim}")
