"""Block Lanczos on a filtered operator ``p(H)``, with full reorthogonalization and thick restarts.

The basis ``Q`` is a buffer of ``capacity + b`` rows (row i is basis vector q_i, ``(D,)``); rows at
or beyond ``n + b`` are kept exactly zero, so every projection is one matrix product with the whole
buffer. Processing the block ``Z = Q[n:n+b]``:

1. ``W = p(H) Z`` (the Chebyshev recurrence; its first matvec gives ``H Z`` for free);
2. the columns ``n..n+b`` of ``A = Q^H H Q`` and of ``T = Q^H p(H) Q`` are the projections of ``HZ``
   and ``W`` on the whole buffer (classical Gram-Schmidt twice, "CGS2", whose coefficients are
   exactly the columns of T). Only the upper triangles are read: ``T[i, j]`` for ``i <= j`` is
   ``q_i^H p(H) q_j`` computed when block j was processed, so T and A are the exact projected
   matrices even after restarts and injections, with no block-tridiagonal bookkeeping;
3. the remainder ``W`` (orthogonal to the basis) is orthonormalized by SVQB (eigen-decomposition of
   its Gram matrix; Stathopoulos & Wu, SIAM J. Sci. Comput. 23, 2165 (2002)). Directions whose
   singular value falls below ``1e-10`` of ``|p(H) Z|`` (an invariant subspace, e.g. an exactly
   degenerate eigenvalue whose multiplicity the block has covered) are replaced by random vectors
   orthogonalized against everything; if even those vanish the space is exhausted and the rows
   are marked dead (``live = False``, masked out of every Rayleigh-Ritz problem).

The Krylov relation ``p(H) Q_n = Q_n T_n + W G^{1/2}-part`` holds with the remainder only on the last
block, so the residual of a Ritz pair ``(theta, Q^T s)`` of ``p(H)`` is ``sqrt(s_last^H G s_last)``
with ``G`` the Gram matrix of the last remainder and ``s_last`` the entries of s on the last block.

A thick restart (Wu & Simon, SIAM J. Matrix Anal. Appl. 22, 602 (2000)) keeps the ``keep`` Ritz
vectors of ``p(H)`` with the largest Ritz values and the pending block: ``T`` restarts as
``diag(theta)``, ``A`` as ``S^H A S``, and the projections of later blocks fill in the coupling.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
from jax import lax

from jaxmbl._core.kernels import HIGHEST

_BREAKDOWN = 1e-10  # relative singular value below which a direction of the new block counts as lost


class Basis(NamedTuple):
    """The growing basis with its projected matrices (one realization)."""

    Q: jax.Array  # (capacity + b, D) rows; rows >= n + b are zero
    T: jax.Array  # (capacity, capacity) upper triangle of Q^H p(H) Q
    A: jax.Array  # (capacity, capacity) upper triangle of Q^H H Q
    live: jax.Array  # (capacity + b,) rows that hold basis vectors
    n: jax.Array  # number of rows whose columns of T and A are complete
    G: jax.Array  # (b, b) Gram matrix of the last block's remainder


def _mm(a, b):
    return jnp.matmul(a, b, precision=HIGHEST)


def random_block(key, b: int, dim: int, dtype):
    """``b`` Gaussian rows ``(b, D)`` of dtype (complex Gaussian for complex dtypes)."""
    rdt = jnp.real(jnp.zeros((), dtype)).dtype
    k1, k2 = jr.split(key)
    Z = jr.normal(k1, (b, dim), rdt)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        Z = Z + 1j * jr.normal(k2, (b, dim), rdt)
    return Z.astype(dtype)


def _project_out(W, Q):
    """CGS2: ``W - Q^T (conj(Q) W^T)`` twice; returns the remainder and the summed coefficients."""
    c1 = _mm(jnp.conj(Q), W.T)
    W = W - _mm(c1.T, Q)
    c2 = _mm(jnp.conj(Q), W.T)
    return W - _mm(c2.T, Q), c1 + c2


def _svqb(W, ref):
    """Orthonormal rows spanning W's rows (directions above ``_BREAKDOWN * ref`` only) and which survived.

    With ``G = conj(W) W^T = U diag(s^2) U^H`` the rows of ``diag(1/s) U^T W`` are orthonormal; the
    surviving directions sit at the end (eigh sorts ascending).
    """
    G = _mm(jnp.conj(W), W.T)
    s2, U = jnp.linalg.eigh(G)
    keep = s2 > (_BREAKDOWN * ref) ** 2
    inv = jnp.where(keep, 1 / jnp.sqrt(jnp.where(keep, s2, 1.0)), 0.0)
    return inv[:, None] * _mm(U.T, W), keep


def _norm_max(W):
    return jnp.max(jnp.sqrt(jnp.real(jnp.sum(jnp.conj(W) * W, axis=1))))


def orthonormal_block(W, Q, ref, key):
    """Orthonormalize the remainder W (already projected out of Q) within itself, and again against Q.

    Directions below ``_BREAKDOWN * ref`` are replaced by random unit rows; the block is then
    projected out of Q once more (normalizing a small remainder magnifies its round-off along Q)
    and orthonormalized jointly, which drops whatever vanishes (an exhausted space).

    Returns:
        ``(rows (b, D), live (b,), G)``: the new basis rows (dead rows zero) and the Gram matrix of
        W (for the Ritz residuals of ``p(H)``).
    """
    G = _mm(jnp.conj(W), W.T)
    Wn, keep = _svqb(W, ref)
    R = random_block(key, W.shape[0], W.shape[1], W.dtype)
    R = R / jnp.sqrt(jnp.real(jnp.sum(jnp.conj(R) * R, axis=1)))[:, None]
    B = jnp.where(keep[:, None], Wn, R)
    B, _ = _project_out(B, Q)
    rows, live = _svqb(B, 1.0)
    return rows, live, G


def start(Z, capacity: int) -> Basis:
    """A fresh basis holding the orthonormalized rows of Z ``(b, D)``."""
    b, dim = Z.shape
    Zn, keep = _svqb(Z, _norm_max(Z))
    Q = jnp.zeros((capacity + b, dim), Z.dtype).at[:b].set(Zn)
    live = jnp.zeros(capacity + b, bool).at[:b].set(keep)
    zeros = jnp.zeros((capacity, capacity), Z.dtype)
    return Basis(Q, zeros, zeros, live, jnp.zeros((), jnp.int32), jnp.zeros((b, b), Z.dtype))


def restart_from_pending(basis: Basis) -> Basis:
    """A fresh basis whose first block is the pending (orthonormal, already filtered) block."""
    b = basis.G.shape[0]
    pending = lax.dynamic_slice_in_dim(basis.Q, basis.n, b)
    live = lax.dynamic_slice_in_dim(basis.live, basis.n, b)
    Q = jnp.zeros_like(basis.Q).at[:b].set(pending)
    return Basis(Q, jnp.zeros_like(basis.T), jnp.zeros_like(basis.A), jnp.zeros_like(basis.live).at[:b].set(live),
                 jnp.zeros_like(basis.n), basis.G)  # fmt: skip


def expand(basis: Basis, filter_fn, key) -> Basis:
    """Process the pending block ``Q[n:n+b]``: add its columns of T and A, store the next block.

    ``filter_fn(Z) -> (p(H) Z, H Z)``. Returns the new basis (n advanced by b).
    """
    Q, T, A, live, n, _ = basis
    b, capacity = basis.G.shape[0], T.shape[0]
    Z = lax.dynamic_slice_in_dim(Q, n, b)
    W, HZ = filter_fn(Z)
    ref = _norm_max(W)
    a_col = _mm(jnp.conj(Q[:capacity]), HZ.T)
    W, t_col = _project_out(W, Q)
    rows, keep, G = orthonormal_block(W, Q, ref, key)
    zero = jnp.zeros_like(n)
    T = lax.dynamic_update_slice(T, t_col[:capacity].astype(T.dtype), (zero, n))
    A = lax.dynamic_update_slice(A, a_col.astype(A.dtype), (zero, n))
    Q = lax.dynamic_update_slice(Q, rows, (n + b, zero))
    live = lax.dynamic_update_slice(live, keep, (n + b,))
    return Basis(Q, T, A, live, n + b, G)


def hermitian(U, valid, sentinel):
    """The Hermitian matrix whose upper triangle is U, restricted to ``valid`` rows/columns.

    Invalid rows and columns are zero with ``sentinel`` on the diagonal, so their eigenvalues are
    exactly ``sentinel`` (chosen outside the region of interest) with eigenvectors supported on them.
    """
    i = jnp.arange(U.shape[0])
    full = jnp.where(i[:, None] <= i[None, :], U, jnp.conj(U.T))
    full = jnp.where(valid[:, None] & valid[None, :], full, 0)
    return full + jnp.diag(jnp.where(valid, 0, sentinel).astype(full.dtype))


def ritz_residuals(basis: Basis, S, theta, mv, chunk: int):
    """``||H x - theta x||`` for the Ritz vectors ``x = Q^T s`` (columns of S), ``chunk`` at a time."""
    capacity = basis.T.shape[0]
    Qc = basis.Q[:capacity]

    def one(i):
        s = lax.dynamic_slice_in_dim(S, i * chunk, chunk, axis=1)
        e = lax.dynamic_slice_in_dim(theta, i * chunk, chunk)
        X = _mm(s.T.astype(Qc.dtype), Qc)
        R = mv(X) - e[:, None].astype(X.dtype) * X
        return jnp.sqrt(jnp.real(jnp.sum(jnp.conj(R) * R, axis=1)))

    return lax.map(one, jnp.arange(S.shape[1] // chunk)).reshape(-1)


def ritz_vectors(basis: Basis, S):
    """The Ritz vectors ``Q^T s`` for the columns of S, as rows ``(k, D)``."""
    capacity = basis.T.shape[0]
    Qc = basis.Q[:capacity]
    return _mm(S.T.astype(Qc.dtype), Qc)


def thick_restart(basis: Basis, theta, S, A_full, keep: int) -> Basis:
    """Keep the ``keep`` Ritz vectors of p(H) with the largest Ritz values, and the pending block."""
    Q, T, A, live, n, G = basis
    b, capacity = G.shape[0], T.shape[0]
    top = jnp.argsort(-theta)[:keep]
    Sk = S[:, top]
    X = _mm(Sk.T.astype(Q.dtype), Q[:capacity])
    pending = lax.dynamic_slice_in_dim(Q, n, b)
    pending_live = lax.dynamic_slice_in_dim(live, n, b)
    ok = theta[top] > -1.0  # dead directions carry the sentinel of the T problem
    Q = jnp.zeros_like(Q).at[:keep].set(X * ok[:, None]).at[keep : keep + b].set(pending)
    live = jnp.zeros_like(live).at[:keep].set(ok).at[keep : keep + b].set(pending_live)
    T = jnp.zeros_like(T).at[:keep, :keep].set(jnp.diag(jnp.where(ok, theta[top], 0)).astype(T.dtype))
    Ak = _mm(jnp.conj(Sk.T), _mm(A_full, Sk))
    A = jnp.zeros_like(A).at[:keep, :keep].set(jnp.where(ok[:, None] & ok[None, :], Ak, 0).astype(A.dtype))
    return Basis(Q, T, A, live, jnp.asarray(keep, jnp.int32), G)
