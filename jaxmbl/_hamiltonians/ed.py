"""Exact diagonalization: dense ``eigh`` / ``eigvalsh`` of any Hamiltonian, batched over realizations.

Both work in the full space or a total-S^z sector.

A :class:`PauliSum` ``H = sum_m c_m sigma^{p_m}`` is validated once for the whole batch on its
coefficients, then turned into its dense block by ``PauliSum.dense(sector=...)``, a jitted scatter
of its bit-flip and sign action onto the sorted sector basis; it runs once per realization under
``vmap``, in the same XLA program as the LAPACK calls, so a batch of 200 realizations costs one
compilation. Any other operator with ``n_sites`` and ``.dense()`` (or a plain array
``(..., D, D)``) is diagonalized from its dense matrix; its sector block is a gather.
``eigvalsh`` computes no eigenvectors on CPU (see :func:`eigvalsh`).

Sizes: the full space is limited to N <= 13 (a 2**13 x 2**13 complex matrix is 1 GiB); sectors
are limited by memory and by ``PauliSum.dense`` to 2**14 rows (half filling at N = 16 has
D = 12870).

``sector`` is the total ``S^z = sum_r Z_r / 2`` (spin-1/2 units; by the conventions of
``jaxmbl._core.conventions`` ``|0>`` is up), so a sector holds the states with ``N/2 - sector`` bits set; 0 is half filling,
half-integers are allowed for odd N.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg

from jaxmbl._core.batching import batch_shape, is_pauli_sum, is_traced, map_batch
from jaxmbl._core.conventions import basis_bits
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import MAX_FULL_SITES, check_matrix_memory
from jaxmbl._core.linalg import eigh_safe, eigvalsh_hf
from jaxmbl._core.validation import HERMITIAN_RTOL, check_hermitian
from jaxmbl._hamiltonians.pauli import sector_basis

# ---------------------------------------------------------------------------- operators


def central_window(n: int, window) -> tuple[int, int]:
    """``(start, count)`` of the central ``window`` fraction of ``n`` sorted levels.

    ``count = max(1, round(window * n))`` levels centred on the middle index ``n // 2`` (the
    median energy, not the midpoint of the band), so every realization keeps the same number of
    levels and shapes stay static under ``vmap``. ``window=None`` keeps all ``n``.
    """
    if window is None:
        return 0, n
    try:
        w = float(window)
    except (TypeError, ValueError):
        raise JaxmblError(f"window must be a fraction in (0, 1] or None, got {window!r}") from None
    if not 0 < w <= 1:
        raise JaxmblError(f"window must be a fraction in (0, 1] or None, got {window!r}")
    count = max(1, int(round(w * n)))
    return (n - count) // 2, count


# ---------------------------------------------------------------------------- dense blocks
def hamiltonian_blocks(H, sector=None):
    """Dense matrices of H (or of its total-S^z ``sector`` block), batched: ``batch + (D, D)``.

    Validates eagerly: size limits, that ``sector`` is conserved, and Hermiticity (the last two
    only for concrete, untraced inputs; for a PauliSum both on the combined coefficients, once for
    the whole batch). The sector's basis is ``sector_basis(N, sector)``.
    """
    H = _validated(H, sector)
    return _pauli_blocks(H, _static(sector)) if is_pauli_sum(H) else H


def _static(sector):
    return None if sector is None else float(sector)


@partial(jax.jit, static_argnames="sector")
def _pauli_blocks(H, sector):
    """PauliSum.dense (a jitted scatter of the bit-flip/sign action) per realization, under vmap."""
    return map_batch(lambda h: h.dense(sector=sector), H, batch_shape(H))


def _block_dim(H, sector):
    """D of the blocks: validated dense blocks (..., D, D) or a PauliSum."""
    if not is_pauli_sum(H):
        return H.shape[-1]
    return 2**H.n_sites if sector is None else len(sector_basis(H.n_sites, sector))


def _validated(H, sector):
    """The checks of ``hamiltonian_blocks``: a validated PauliSum, or the dense blocks of anything else."""
    array = isinstance(H, (np.ndarray, jax.Array))
    if array:
        H = jnp.asarray(H)
        if H.ndim < 2 or H.shape[-1] != H.shape[-2]:
            raise JaxmblError(f"H must be square (..., D, D), got shape {H.shape}")
        n_sites = H.shape[-1].bit_length() - 1
        if sector is not None and H.shape[-1] != 2**n_sites:
            raise JaxmblError(f"sector needs a matrix of size 2**N, got D={H.shape[-1]}")
    elif hasattr(H, "n_sites") and hasattr(H, "dense"):
        n_sites = int(H.n_sites)
    else:
        raise TypeError(
            f"H must be a PauliSum, an operator with n_sites and dense(), or an array; got {type(H).__name__}"
        )
    basis = None if sector is None else sector_basis(n_sites, sector)  # validates sector
    if sector is None and n_sites > MAX_FULL_SITES:
        raise JaxmblError(
            f"n_sites={n_sites} is too large for dense diagonalization in the full space (N <= "
            f"{MAX_FULL_SITES}): one 2**{n_sites} x 2**{n_sites} complex matrix needs "
            f"{16 * 4.0**n_sites / 2**30:.3g} GiB; pass sector= to diagonalize a total-S^z block"
        )
    shape = H.shape[:-2] if array else batch_shape(H)
    dim = (H.shape[-1] if array else 2**n_sites) if basis is None else len(basis)
    check_matrix_memory(dim, int(np.prod(shape)), what=f"sector={sector!r} at n_sites={n_sites}")

    if is_pauli_sum(H):
        if not is_traced(H):  # checked once for the whole batch, on the coefficients (cheap)
            if sector is not None and not H.conserves_total_z():
                raise JaxmblError(f"sector={sector!r} was requested but H does not conserve total Z")
            check_hermitian(H)
        return H
    mat = H if array else jnp.asarray(H.dense())
    if not array and mat.shape[-1] != 2**n_sites:
        raise JaxmblError(f"H.dense() must be (..., 2**N, 2**N) for N={n_sites}, got {mat.shape}")
    if sector is not None and not is_traced(mat):
        sz = n_sites / 2 - basis_bits(n_sites).sum(axis=1)
        leak = float(np.max(np.abs(np.asarray(mat)) * (sz[:, None] != sz[None, :]), initial=0.0))
        if leak > HERMITIAN_RTOL * max(1.0, float(jnp.max(jnp.abs(mat)))):
            raise JaxmblError(f"sector={sector!r} was requested but H does not conserve total Z (leak {leak:.3g})")
    mats = mat if basis is None else mat[..., basis[:, None], basis[None, :]]
    check_hermitian(mats)
    return mats


# ---------------------------------------------------------------------------- eigenvalues only
def _sterf(d, e):
    """Ascending eigenvalues of real symmetric tridiagonal matrices by LAPACK ``sterf`` on the host.

    ``d`` is the diagonal ``(..., D)`` and ``e`` the off-diagonal ``(..., D-1)``; one matrix at a
    time, NaN where ``sterf`` fails.
    """
    d, e = np.asarray(d), np.asarray(e)
    if d.shape[-1] < 2:  # a 1 x 1 block is its own eigenvalue (and sterf needs D >= 2)
        return d.copy()
    sterf = scipy.linalg.lapack.get_lapack_funcs("sterf", dtype=d.dtype)
    out = np.empty_like(d)
    for i in np.ndindex(d.shape[:-1]):
        w, info = sterf(d[i], e[i])
        out[i] = np.nan if info else w
    return out


@jax.jit
def _tridiagonal(mats):
    """Diagonal and off-diagonal of the Householder reduction (LAPACK sytrd/hetrd, inside XLA)."""
    return jax.lax.linalg.tridiagonal(mats)[1:3]


def _host_eigvalsh(mats):
    """Eigenvalues only, as LAPACK's values-only driver computes them, for concrete CPU inputs.

    jax's CPU ``eigvalsh`` runs LAPACK with eigenvectors (jobz='V'), about twice the work. Here the
    O(D^3) reduction to a real tridiagonal matrix runs in XLA (from the lower triangle) and the
    O(D^2) tridiagonal eigenvalues in ``sterf`` on the host. It is a plain eager call, not a
    ``jax.pure_callback``: a host callback inside a jitted program that waits on another
    asynchronously dispatched program deadlocked on a single core.
    """
    d, e = _tridiagonal(mats)
    return jnp.asarray(_sterf(np.asarray(d), np.asarray(e)))


# Traced or non-CPU inputs: eigenvalues with the Hellmann-Feynman derivative (finite at degeneracies).
_traced_eigvalsh = jnp.vectorize(eigvalsh_hf, signature="(n,n)->(n)")


# ---------------------------------------------------------------------------- public API
@partial(jax.jit, static_argnames=("start", "count", "vectors"))
def _diagonalize(mats, *, start: int, count: int, vectors: bool):
    if not vectors:
        return _traced_eigvalsh(mats)[..., start : start + count]
    E, V = eigh_safe(mats)  # its JVP is finite at exact degeneracies (see eigh_safe)
    V = V.astype(jnp.result_type(V, jnp.complex64))  # same dtype for real and complex H
    return E[..., start : start + count], V[..., start : start + count]


def _solve(H, sector, window, vectors):
    H = _validated(H, sector)
    start, count = central_window(_block_dim(H, sector), window)
    # A PauliSum's blocks get their own XLA program: fused with the batched LAPACK calls, XLA:CPU
    # ran the whole batch on one thread (measured: eigh 0.80 s fused vs 0.48 s + the build apart).
    mats = _pauli_blocks(H, _static(sector)) if is_pauli_sum(H) else H
    if not vectors and not is_traced(mats) and jax.default_backend() == "cpu":
        return _host_eigvalsh(mats)[..., start : start + count]
    return _diagonalize(mats, start=start, count=count, vectors=vectors)


def eigh(H, sector=None, *, window=None):
    r"""Eigenvalues and eigenvectors of a Hermitian H, densely, batched over realizations.

    .. math:: H v_k = E_k v_k, \qquad E_0 \le E_1 \le \dots

    Args:
        H: a :class:`PauliSum` (single or batched: leaves with leading realization axes, e.g.
            ``jax.vmap(lambda k: random_field_heisenberg(k, lat, W))(keys)``), any operator with
            ``n_sites`` and ``.dense()``, or a dense array ``(..., D, D)``.
        sector: total ``S^z = sum_r Z_r / 2`` to diagonalize in (0 is half filling), or ``None``
            for the full space (N <= 13). H must conserve total Z.
        window: keep only the central fraction of the spectrum: the ``max(1, round(window * D))``
            eigenpairs around the middle index ``D // 2`` of the sorted spectrum (see
            :func:`central_window`); ``None`` keeps all D. The whole spectrum is still computed
            (time ~ D**3, memory ~ D**2: 2.6 GB per matrix at N = 16, S^z = 0): for a few
            mid-spectrum pairs of a large block switch to :func:`jaxmbl.interior_eigh`, which
            needs only about 13 D matvecs and a few hundred vectors (N = 16 S^z = 0, 50 pairs:
            15 s on 2 CPU cores; N = 18: 3 min), as the sweep observables do above
            ``PAULI_DENSE_MAX_DIM`` = 2**14 rows.

    Returns:
        ``(E, V)``: real energies ``batch + (D_w,)`` in ascending order and complex eigenvectors
        ``batch + (D, D_w)`` (columns). In a sector the D rows are the amplitudes on the basis
        states ``sector_basis(N, sector)`` (ascending basis index); embed with
        ``psi = zeros(2**N).at[basis].set(V[:, k])``.

    Raises:
        ValueError: if H is not Hermitian; ``sector`` is not conserved or impossible for N; N > 13
            in the full space, or a sector block too large for memory; ``window`` is outside (0, 1].
            Inside ``jax.jit`` (traced H) the value checks (Hermiticity, conservation) are skipped.

    Example:
        >>> import jax.numpy as jnp
        >>> E, V = eigh(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> E.tolist()
        [-1.0, 1.0]
    """
    return _solve(H, sector, window, vectors=True)


def eigvalsh(H, sector=None, *, window=None):
    """Eigenvalues of a Hermitian H in ascending order, ``batch + (D_w,)``; arguments as :func:`eigh`.

    Called eagerly on CPU, no eigenvectors are computed (about half the work of jax's CPU
    ``eigvalsh``, which computes them): the reduction to tridiagonal form runs in XLA and the
    tridiagonal eigenvalues in LAPACK ``sterf`` on the host (only the lower triangle of H is
    read). Under ``jit``, ``vmap`` or ``grad``, and on GPU/TPU, it uses ``jnp.linalg.eigvalsh``
    with the derivative dE_k = Re(v_k^dagger dH v_k), finite at degeneracies.

    On CPU, run with ``OPENBLAS_NUM_THREADS=1``: XLA already spreads a batch over the cores, and
    threaded BLAS inside each small LAPACK call oversubscribes them (see the README).

    Args:
        H: a :class:`PauliSum` (single or batched), any operator with ``n_sites`` and ``.dense()``,
            or a dense array ``(..., D, D)``.
        sector: total ``S^z`` to diagonalize in, or ``None`` for the full space (N <= 13).
        window: keep only the central fraction of the sorted spectrum (as :func:`eigh`); ``None``
            keeps all.

    Returns:
        Real ``batch + (D_w,)`` energies in ascending order (energy units of H).

    Raises:
        ValueError: as :func:`eigh`.

    Example:
        >>> import jax.numpy as jnp
        >>> eigvalsh(jnp.diag(jnp.array([3.0, 1.0, 2.0, 0.0])), window=0.5).tolist()
        [1.0, 2.0]
    """
    return _solve(H, sector, window, vectors=False)
