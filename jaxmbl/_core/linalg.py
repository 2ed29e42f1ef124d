"""Dense linear algebra with the gradients jaxmbl needs: eigenvalues differentiable at degeneracies.

:func:`eigvalsh_hf` returns the eigenvalues of a Hermitian matrix and differentiates them by
first-order perturbation theory (Hellmann–Feynman), ``d lambda_i = Re v_i^dagger dG v_i``. For any
spectral function ``sum_i f(lambda_i)`` this derivative is exact even inside a degenerate block:
there the sum over the block is ``tr(P_block dG)``, independent of the eigenbasis chosen, and no
``1/(lambda_i - lambda_j)`` ever appears. Entanglement spectra (``_analysis``) and the eigenvalues
of exact diagonalization under ``jit`` (``_hamiltonians.ed``) both use it.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from jaxmbl._core.kernels import HIGHEST


@jax.custom_jvp
def eigvalsh_hf(G):
    """Ascending eigenvalues of one Hermitian matrix ``G`` ``(n, n)``, with Hellmann–Feynman derivatives.

    The forward pass is ``jnp.linalg.eigvalsh``; the JVP computes eigenvectors only when
    differentiated. Individual eigenvalue derivatives inside a degenerate block depend on the
    eigenbasis LAPACK picks; their sum over the block (all a spectral function sees) does not.

    Args:
        G: Hermitian matrix ``(n, n)``, real or complex.

    Returns:
        The eigenvalues ``(n,)`` in ascending order, real.
    """
    return jnp.linalg.eigvalsh(G)


@eigvalsh_hf.defjvp
def _eigvalsh_hf_jvp(primals, tangents):
    (G,), (dG,) = primals, tangents
    lam, V = jnp.linalg.eigh(G)
    dlam = jnp.real(jnp.einsum("ji,jk,ki->i", V.conj(), dG, V, precision=HIGHEST))
    return lam, dlam


#: Levels closer than this (relative to ``max(1, max|E|)``) count as one degenerate block in :func:`eigh_safe`.
DEGENERATE_RTOL = 1e-10


@jax.custom_jvp
def eigh_safe(A):
    """``jnp.linalg.eigh`` of Hermitian ``A`` ``(..., n, n)``, with a JVP that is finite at degeneracies.

    The derivative is first-order perturbation theory, ``dE_i = Re (V^dagger dA V)_ii`` and
    ``dV = V (F * (V^dagger dA V))`` with ``F_ij = 1/(E_j - E_i)`` for levels in different
    degenerate blocks and ``F_ij = 0`` within a block (``|E_i - E_j| <= DEGENERATE_RTOL *
    max(1, max|E|)``, double where: no raw ``1/0``). Convention: inside a degenerate block the
    eigenvectors LAPACK returns are not differentiable (any rotation of them is as good), and
    their tangent is taken with no component inside the block. Everything that depends on the
    block only through its projector (spectral functions, ``P dA P``-invariant sums) then gets
    its exact derivative; ``jnp.linalg.eigh`` gives NaN there.

    Args:
        A: Hermitian matrices ``(..., n, n)``, real or complex.

    Returns:
        ``(E, V)``: ascending eigenvalues ``(..., n)`` and eigenvectors ``(..., n, n)`` (columns).

    Example:
        >>> import jax
        >>> from jaxmbl._core.linalg import eigh_safe
        >>> f = lambda t: eigh_safe(jnp.diag(jnp.array([1.0, 1.0, 2.0])) + t * jnp.ones((3, 3)))[1][0, 2]
        >>> bool(jnp.isfinite(jax.grad(f)(0.0)))
        True
    """
    E, V = jnp.linalg.eigh(A)
    return E, V


@eigh_safe.defjvp
def _eigh_safe_jvp(primals, tangents):
    (A,), (dA,) = primals, tangents
    E, V = jnp.linalg.eigh(A)
    dA = (dA + jnp.conj(jnp.swapaxes(dA, -1, -2))) / 2  # eigh reads A symmetrized; so does its tangent
    Vh = jnp.conj(jnp.swapaxes(V, -1, -2))
    At = jnp.matmul(jnp.matmul(Vh, dA.astype(V.dtype), precision=HIGHEST), V, precision=HIGHEST)
    diff = E[..., None, :] - E[..., :, None]  # [i, j] = E_j - E_i
    tol = DEGENERATE_RTOL * jnp.maximum(1.0, jnp.max(jnp.abs(E), axis=-1))[..., None, None]
    block = jnp.abs(diff) <= tol
    F = jnp.where(block, 0.0, 1.0 / jnp.where(block, 1.0, diff))
    dV = jnp.matmul(V, F.astype(V.dtype) * At, precision=HIGHEST)
    dE = jnp.real(jnp.diagonal(At, axis1=-2, axis2=-1))
    return (E, V), (dE, dV)
