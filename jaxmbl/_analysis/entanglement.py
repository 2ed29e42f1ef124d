"""Entanglement of arbitrary regions: reduced density matrices, spectra, entropies.

For a pure state ``psi`` on N sites and a region A (any set of sites, contiguous or not)
with complement B, the amplitudes are rearranged into the ``2**|A| x 2**|B|`` matrix

    M[a, b] = psi(a, b),        rho_A = M M^dagger / <psi|psi>,

by reshaping ``psi`` to ``(2,)*N``, moving the axes of A (in increasing site order) to the
front and reshaping back (a transpose, never a ``2**N x 2**N`` matrix). Row index ``a`` holds the bits of the sites of A
with the **smallest site of A as most significant bit**, as for full states. The
entanglement spectrum ``p_i`` (eigenvalues of rho_A, the squared Schmidt values) is taken
from the smaller of the two Gram matrices ``M M^dagger`` and ``M^dagger M``, so a region
and its complement cost the same and nothing of size ``2**N x 2**N`` is ever built.

Every function divides by ``<psi|psi>``, so ``psi`` need not be normalized; it accepts a
batch ``(..., 2**N)`` of states, works in the dtype of ``psi`` (complex64 is the fast
mode) and returns entropies in nats, never divided by the region size.

Gradients are safe everywhere: eigenvalues are differentiated with first-order
perturbation theory only (``dp_i = Re v_i^dagger drho v_i``), which is exact for spectral
functions ``sum_i f(p_i)`` even at degenerate spectra, and ``p log p`` and ``p**alpha``
use the double-``where`` trick at ``p = 0``.

Reference: B. Swingle, arXiv:1307.0507, §III.B (eq. 3.14-3.16).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import validate_region
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.schmidt import purity, schmidt_spectrum


# ---------------------------------------------------------------------------- validation
def _prepare(psi, regions: dict):
    """Check ``psi`` (last axis 2**N) and every named region; return psi and the sorted regions."""
    psi = jnp.asarray(psi)
    dim = psi.shape[-1] if psi.ndim else 0
    if dim < 2 or dim & (dim - 1):
        raise JaxmblError(f"psi must have a last axis of length 2**N with N >= 1, got shape {psi.shape}")
    if not jnp.issubdtype(psi.dtype, jnp.inexact):
        psi = psi.astype(real_dtype())
    n_sites = dim.bit_length() - 1
    out = []
    for name, region in regions.items():
        try:
            out.append(validate_region(region, n_sites))
        except ValueError as err:
            # validate_region says "region ...": name the argument the user actually passed.
            raise JaxmblError(str(err).replace("region", name, 1) + f" (psi has N={n_sites} sites)") from None
    return psi, out


def _check_alpha(alpha) -> float:
    """Rényi index as a static Python float; alpha > 0 (np.inf allowed)."""
    try:
        a = float(alpha)
    except TypeError as err:  # includes a traced alpha under jit
        raise JaxmblError(f"alpha must be a static Python number > 0 (or np.inf), got {alpha!r}") from err
    if not a > 0:
        # alpha = 0 (log of the Schmidt rank) depends on an arbitrary cutoff, so it is refused.
        raise JaxmblError(f"alpha must be > 0 (or np.inf); alpha = 0 and alpha < 0 are not supported, got {alpha!r}")
    return a


# ---------------------------------------------------------------------------- kernels (one state)
def _split(psi, region: tuple):
    """The matrix M[a, b] of one state, shape (2**|A|, 2**|B|), sites of A first (MSB first)."""
    n_sites = psi.shape[-1].bit_length() - 1
    rest = tuple(r for r in range(n_sites) if r not in region)
    t = jnp.transpose(psi.reshape((2,) * n_sites), region + rest)
    return t.reshape(2 ** len(region), 2 ** len(rest))


def _spectrum_1(psi, region: tuple):
    """Normalized entanglement spectrum of one state, descending, length min(2**|A|, 2**|B|).

    Eigenvalues only, from the lower half of the smaller Gram matrix (see ``_core/schmidt.py``).
    """
    return schmidt_spectrum(_split(psi, region))


def _renyi(p, alpha: float):
    """Rényi-alpha entropy (nats) of a normalized distribution p >= 0 along the last axis."""
    pos = p > 0
    safe = jnp.where(pos, p, 1)  # double where: no log(0) or 0**(alpha-1) in the gradient
    if alpha == 1:
        return -jnp.sum(jnp.where(pos, p * jnp.log(safe), 0), axis=-1)
    if alpha == np.inf:
        return -jnp.log(jnp.max(p, axis=-1))
    return jnp.log(jnp.sum(jnp.where(pos, safe**alpha, 0), axis=-1)) / (1 - alpha)


def _marginal_1(psi, region: tuple):
    """Z-basis marginal of |psi|^2 over the configurations of A (MSB first), normalized."""
    n_sites = psi.shape[-1].bit_length() - 1
    # real(psi psi*) rather than abs(psi)**2: no square root, so nothing singular at psi = 0.
    prob = jnp.real(psi * psi.conj()).reshape((2,) * n_sites)
    q = jnp.sum(prob, axis=tuple(r for r in range(n_sites) if r not in region)).reshape(-1)
    return q / jnp.sum(q)


# ---------------------------------------------------------------------------- jitted batched cores
@partial(jax.jit, static_argnames="region")
def _rdm_core(psi, region):
    def one(v):
        M = _split(v, region)
        rho = jnp.matmul(M, M.conj().T, precision=HIGHEST)
        return rho / jnp.trace(rho)

    return jnp.vectorize(one, signature="(n)->(a,a)")(psi)


@partial(jax.jit, static_argnames="region")
def _spectrum_core(psi, region):
    return jnp.vectorize(partial(_spectrum_1, region=region), signature="(n)->(k)")(psi)


@partial(jax.jit, static_argnames=("region", "alpha"))
def _entropy_core(psi, region, alpha):
    if alpha == 2:  # -log tr rho_A^2: a Frobenius norm of the Gram matrix, no spectrum
        return jnp.vectorize(lambda v: -jnp.log(purity(_split(v, region))), signature="(n)->()")(psi)
    return jnp.vectorize(lambda v: _renyi(_spectrum_1(v, region), alpha), signature="(n)->()")(psi)


@partial(jax.jit, static_argnames=("region_a", "region_b"))
def _mutual_information_core(psi, region_a, region_b):
    union = tuple(sorted(region_a + region_b))

    def one(v):
        s_a, s_b, s_ab = (_renyi(_spectrum_1(v, r), 1.0) for r in (region_a, region_b, union))
        return s_a + s_b - s_ab

    return jnp.vectorize(one, signature="(n)->()")(psi)


@partial(jax.jit, static_argnames=("region", "alpha"))
def _dephased_core(psi, region, alpha):
    return jnp.vectorize(lambda v: _renyi(_marginal_1(v, region), alpha), signature="(n)->()")(psi)


# ---------------------------------------------------------------------------- public API
def reduced_density_matrix(psi, region):
    """Reduced density matrix rho_A = tr_B |psi><psi| / <psi|psi> of any region A.

    Built as ``M M^dagger`` with ``M`` the ``2**|A| x 2**|B|`` rearrangement of ``psi``;
    no ``2**N x 2**N`` matrix is formed. Row/column index: the bits of the sites of A in
    increasing site order, the smallest site of A being the most significant bit.

    Args:
        psi: states, shape ``(..., 2**N)``, complex or real; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).

    Returns:
        ``(..., 2**|A|, 2**|A|)`` Hermitian, unit-trace, positive semidefinite, dtype of psi.

    Raises:
        ValueError: for a bad ``psi`` shape or ``region``, or if the matrices would not fit
            in memory (``2**(2|A|)`` entries per state).

    Example:
        >>> import jax.numpy as jnp
        >>> psi = jnp.zeros(8).at[0b100].set(1.0)       # |1>_0 |0>_1 |0>_2
        >>> reduced_density_matrix(psi, (2, 0)).diagonal().tolist()  # index 2 = |1>_0 |0>_2
        [0.0, 0.0, 1.0, 0.0]
    """
    psi, (region,) = _prepare(psi, {"region": region})
    try:
        check_state_memory(2 * len(region), int(np.prod(psi.shape[:-1])), psi.dtype, what="matrix entries")
    except ValueError as err:
        raise JaxmblError(
            f"region of {len(region)} sites: reduced density matrices of 2**{len(region)} x 2**{len(region)} "
            f"are too large ({err}); use entropy or entanglement_spectrum, which never build them"
        ) from None
    return _rdm_core(psi, region)


def entanglement_spectrum(psi, region):
    """Eigenvalues p_i of rho_A (squared Schmidt values), in descending order.

    Computed from the smaller Gram matrix (``M M^dagger`` or ``M^dagger M``), so the cost
    is ``O(2**N * 2**m)`` with ``m = min(|A|, N - |A|)``. Values below the eigensolver
    noise (numpy's ``matrix_rank`` tolerance) are set to exactly 0.

    Args:
        psi: states, shape ``(..., 2**N)``; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).

    Returns:
        ``(..., 2**m)`` real probabilities summing to 1, descending.

    Raises:
        ValueError: for a bad ``psi`` shape (last axis not ``2**N``) or ``region``.

    Example:
        >>> import jax.numpy as jnp
        >>> bell = jnp.array([1.0, 0, 0, 1]) / jnp.sqrt(2)
        >>> entanglement_spectrum(bell, [0]).round(6).tolist()
        [0.5, 0.5]
    """
    # The smaller Gram matrix has at most 2**N entries, no more than psi: no memory check needed.
    psi, (region,) = _prepare(psi, {"region": region})
    return _spectrum_core(psi, region)


def entropy(psi, region, alpha=1):
    r"""Entanglement entropy of region A, in nats: von Neumann or Rényi-alpha.

    .. math::
        S_1 = -\sum_i p_i \ln p_i, \qquad
        S_\alpha = \frac{1}{1-\alpha} \ln \sum_i p_i^\alpha, \qquad
        S_\infty = -\ln \max_i p_i,

    with p_i the entanglement spectrum; ``0 <= S_alpha <= min(|A|, |B|) ln 2`` (eq. 3.14).
    Differentiable in psi, with finite gradients at zero Schmidt values and at degenerate
    spectra (for alpha < 1 the derivative is infinite at p_i -> 0; the value 0 is used).
    Jit-able with ``region`` (a hashable tuple) and ``alpha`` static.

    Args:
        psi: states, shape ``(..., 2**N)``; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).
        alpha: Rényi index, > 0, or ``np.inf``; 1 is von Neumann. Static.

    Returns:
        ``(...)`` real entropies (nats) in the real dtype of psi.

    Raises:
        ValueError: for a bad ``psi`` shape or ``region``, or ``alpha`` not a static number > 0.

    Example:
        >>> import jax.numpy as jnp
        >>> bell = jnp.array([1.0, 0, 0, 1]) / jnp.sqrt(2)
        >>> round(float(entropy(bell, [0])), 6), round(float(entropy(bell, [1], alpha=2)), 6)
        (0.693147, 0.693147)
    """
    alpha = _check_alpha(alpha)
    psi, (region,) = _prepare(psi, {"region": region})
    return _entropy_core(psi, region, alpha)


def mutual_information(psi, region_a, region_b):
    """Mutual information I(A:B) = S(A) + S(B) - S(A u B) (von Neumann, nats).

    ``I >= 0``; for a pure state and B the complement of A, ``I = 2 S(A)``.

    Args:
        psi: states, shape ``(..., 2**N)``; need not be normalized.
        region_a: distinct sites in ``0..N-1`` (region A).
        region_b: distinct sites in ``0..N-1`` (region B), disjoint from ``region_a``.

    Returns:
        ``(...)`` real mutual informations (nats).

    Raises:
        ValueError: for a bad ``psi`` shape or region, or if the regions overlap.

    Example:
        >>> import jax.numpy as jnp
        >>> bell = jnp.array([1.0, 0, 0, 1]) / jnp.sqrt(2)
        >>> round(float(mutual_information(bell, [0], [1])), 6)   # 2 ln 2
        1.386294
    """
    psi, (region_a, region_b) = _prepare(psi, {"region_a": region_a, "region_b": region_b})
    common = sorted(set(region_a) & set(region_b))
    if common:
        raise JaxmblError(f"region_a and region_b must be disjoint, both contain sites {common}")
    return _mutual_information_core(psi, region_a, region_b)


def dephased_entropy(psi, region, alpha=1):
    """Entropy of rho_A dephased in the Z basis: the paper's diagonal bound (eq. 3.15).

    Removing the Z-basis off-diagonal elements of rho_A (measuring every Z in A) leaves
    the diagonal ``q(x) = sum_b |psi(x, b)|**2 / <psi|psi>``, the marginal of the Born
    distribution on the Z configurations x of A. This returns its Shannon (alpha = 1) or
    Rényi entropy. Since diag(rho_A) is majorized by the spectrum of rho_A (Schur),
    ``dephased_entropy >= entropy`` for every alpha. Cost O(2**N); no rho_A is built.

    Args:
        psi: states, shape ``(..., 2**N)``; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).
        alpha: Rényi index, > 0, or ``np.inf``; 1 is Shannon. Static.

    Returns:
        ``(...)`` real entropies (nats).

    Raises:
        ValueError: for a bad ``psi`` shape or ``region``, or ``alpha`` not a static number > 0.

    Example:
        >>> import jax.numpy as jnp
        >>> plus3 = jnp.ones(8) / jnp.sqrt(8)                   # |+>^3: unentangled
        >>> round(float(dephased_entropy(plus3, [0, 2])), 6)    # 2 ln 2
        1.386294
    """
    alpha = _check_alpha(alpha)
    psi, (region,) = _prepare(psi, {"region": region})
    return _dephased_core(psi, region, alpha)
