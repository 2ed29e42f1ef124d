r"""One realization of a Hamiltonian acting on a block of states: the adapter of the polynomial solvers.

:func:`interior_eigh` and :func:`chebyshev_apply` need only ``H Z`` for a block ``Z`` of ``b``
states ``(b, D)``. :func:`block_operator` turns every form of H they accept into a
:class:`BlockOperator`: arrays of parameters (batched over realizations) and two static functions,
``prepare(params) -> prepared`` (once per realization, inside the jitted core) and
``apply(prepared, Z) -> H Z``.

* :class:`PauliSum`, full space: ``H.mv`` mapped over the rows (the fused kernel of ``PauliSum.apply``).
* :class:`PauliSum` in a total-S^z sector: a native sector matvec on the ``D_s = binom(N, N/2 - S^z)``
  amplitudes, never the 2**N space. In row form (see :mod:`jaxmbl._hamiltonians.pauli_kernels`)

  .. math:: (H\psi)[i] = \sum_x w_x(b_i)\, \psi[\mathrm{idx}(b_i \oplus x)],\qquad
            w_x(m) = \sum_{p:\, x_p = x} c_p (-i)^{\#Y_p} (-1)^{|m \wedge z_p|},

  with ``b_i = sector_basis(N, S^z)[i]``: one gather per flip mask ``x`` along precomputed index
  tables (``(G, D_s)`` int32, G = number of flip masks), with weights computed once per
  realization. Out-of-sector targets carry weight 0 (H conserves S^z, checked eagerly).
* a dense array ``(..., D, D)`` (or its sector block): a matrix product.
* any other operator of the protocol (``PerturbedModel``, ``LbitFrameOperator``, ...): ``op.mv``
  mapped over the rows, full space only.

The working dtype is real when H is real (a PauliSum with real coefficients and an even number of
Y in every string, or a real matrix), which halves the work of every Krylov step.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.batching import batch_shape, is_pauli_sum, is_traced, realization_axes
from jaxmbl._core.conventions import basis_bits, complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.validation import HERMITIAN_RTOL, check_hermitian
from jaxmbl._hamiltonians.pauli import sector_basis
from jaxmbl._hamiltonians.pauli_kernels import _structure_of


class BlockOperator(NamedTuple):
    """H as arrays plus static functions: ``apply(prepare(params_of_one_realization), Z) = H Z``."""

    params: Any  # pytree; batched leaves carry the realization axes in front
    axes: Any  # vmap axes of params over realizations (0 or None per leaf)
    batch: tuple  # realization axes
    dim: int  # D: 2**N, the sector dimension, or the matrix size
    dtype: Any  # working dtype (float64 for real H, else complex128)
    prepare: Any  # static: params (one realization) -> prepared
    apply: Any  # static: (prepared, Z (b, D)) -> H Z (b, D)
    radius: Any  # static: params -> (center, radius) enclosing spec(H) rigorously, or None
    n_sites: int | None
    sector: float | None


# ---------------------------------------------------------------------------- static kernels
def _identity(params):
    return params


def _protocol_apply(op, Z):
    return jax.vmap(op.mv)(Z)


def _dense_apply(matrix, Z):
    return jnp.matmul(Z, matrix.T, precision=HIGHEST)


def _pauli_radius(H):
    """``(c, a)`` with spec(H) in [c - a, c + a]: the identity coefficient and the sum of the others."""
    identity = jnp.all(H.paulis == 0, axis=-1)
    return jnp.sum(jnp.where(identity, jnp.real(H.coef), 0)), jnp.sum(jnp.where(identity, 0, jnp.abs(H.coef)))


class _SectorParams(NamedTuple):
    coef: jax.Array  # (..., M) PauliSum coefficients (batched)
    paulis: jax.Array  # (..., M, N) labels, only for the rigorous radius
    signs: jax.Array  # (M, D) int8: (-1)^{|b_i & z_p|} (shared)
    cols: jax.Array  # (G, D) int32: idx(b_i ^ x_g), or i where that leaves the sector (shared)
    inside: jax.Array  # (G + 1, D) bool: b_i ^ x_g in the sector; row 0 is the diagonal (shared)


@dataclasses.dataclass(frozen=True)
class _SectorPrepare:
    """Weights ``(G + 1, D)`` of the flip masks (row 0 the diagonal) for one realization.

    A frozen dataclass (hashed by value) so that the jitted cores do not recompile per call.
    """

    groups: tuple  # term indices of the diagonal, then of every flip mask
    phases: tuple  # (-i)^{#Y} of every term
    real: bool

    def __call__(self, p: _SectorParams):
        dtype = p.coef.dtype if self.real else complex_dtype(p.coef.dtype)
        phases = np.array(self.phases)
        cp = p.coef.astype(dtype) * jnp.asarray(phases.real if self.real else phases, dtype)
        rows = []
        for terms in self.groups:
            idx = np.asarray(terms, dtype=np.int64)
            if len(idx):
                rows.append(jnp.matmul(cp[idx], p.signs[idx].astype(dtype), precision=HIGHEST))
            else:
                rows.append(jnp.zeros(p.signs.shape[1], dtype))
        return jnp.where(p.inside, jnp.stack(rows), 0), p.cols


def _sector_apply(prepared, Z):
    weights, cols = prepared
    out = weights[0] * Z
    for g in range(cols.shape[0]):
        # The tables hold valid indices only (out-of-sector targets point at the row itself, weight 0).
        out = out + weights[g + 1] * Z.at[:, cols[g]].get(mode="promise_in_bounds")
    return out


def _sector_radius(p: _SectorParams):
    identity = jnp.all(p.paulis == 0, axis=-1)
    return jnp.sum(jnp.where(identity, jnp.real(p.coef), 0)), jnp.sum(jnp.where(identity, 0, jnp.abs(p.coef)))


@functools.lru_cache(maxsize=8)
def _sector_tables(structure, n_sites: int, sector: float):
    """Host tables of the sector matvec: signs (M, D) int8, cols (G, D) int32, inside (G+1, D), groups."""
    basis = sector_basis(n_sites, sector)
    dim = len(basis)
    signs = (1 - 2 * (np.bitwise_count(basis[None, :] & structure.z[:, None]) & 1)).astype(np.int8)
    diag_terms, cols, inside, groups = (), [], [np.ones(dim, bool)], []
    for flip, terms in structure.groups:
        if flip == 0:
            diag_terms = tuple(int(t) for t in terms)
            continue
        target = basis ^ flip
        pos = np.minimum(np.searchsorted(basis, target), dim - 1)
        ok = basis[pos] == target
        cols.append(np.where(ok, pos, np.arange(dim)).astype(np.int32))
        inside.append(ok)
        groups.append(tuple(int(t) for t in terms))
    cols = np.stack(cols) if cols else np.zeros((0, dim), np.int32)
    return signs, cols, np.stack(inside), (diag_terms,) + tuple(groups)


# ---------------------------------------------------------------------------- validation and build
def _pauli_structure(H):
    """The term structure shared by every realization of a (batched) PauliSum."""
    if H._structure is not None and H.paulis.ndim == 2:
        return H._structure
    if is_traced(H.paulis):
        raise JaxmblError(
            "H: a batched PauliSum under jit needs a carried term structure; build it with jaxmbl's models"
        )
    labels = np.asarray(H.paulis).reshape(-1, *H.paulis.shape[-2:])
    if not np.all(labels == labels[:1]):
        raise JaxmblError("H: every realization of a batched PauliSum must have the same Pauli strings")
    return _structure_of(labels[0])


def _check_sector(H, sector, n_sites: int, name: str):
    """The validated float sector (sector_basis checks it is possible for N); conservation checked eagerly."""
    sector_basis(n_sites, sector)
    if is_traced(H):
        return float(sector)
    if is_pauli_sum(H):
        if not H.conserves_total_z():
            raise JaxmblError(
                f"sector={sector!r} was requested but {name} does not conserve total S^z; pass sector=None"
            )
    else:
        mat = np.asarray(H)
        sz = basis_bits(n_sites).sum(axis=1)
        leak = float(np.max(np.abs(mat) * (sz[:, None] != sz[None, :]), initial=0.0))
        if leak > HERMITIAN_RTOL * max(1.0, float(np.max(np.abs(mat), initial=0.0))):
            raise JaxmblError(
                f"sector={sector!r} was requested but {name} does not conserve total S^z (leak {leak:.3g}); "
                "pass sector=None"
            )
    return float(sector)


def block_operator(H, sector=None, *, name: str = "H") -> BlockOperator:
    """Validate H (type, Hermiticity, conservation of ``sector``) and build its :class:`BlockOperator`.

    Args:
        H: a :class:`PauliSum` (single or batched), a square array ``(..., D, D)``, or an object of
            the operator protocol (``mv``, ``n_sites``, ``batch_shape``, ``dtype``).
        sector: total ``S^z`` (0 is half filling) or ``None``; PauliSums and arrays of size 2**N only.
        name: the argument's name, for error messages.

    Returns:
        The :class:`BlockOperator`.

    Raises:
        TypeError: H is none of the above.
        JaxmblError: H is not Hermitian, or does not conserve ``sector``, or ``sector`` is impossible.
    """
    if is_pauli_sum(H):
        return _pauli_operator(H, sector, name)
    if isinstance(H, np.ndarray | jax.Array):
        return _dense_operator(H, sector, name)
    if hasattr(H, "mv") and hasattr(H, "n_sites"):
        if sector is not None:
            raise JaxmblError(
                f"sector={sector!r}: a {type(H).__name__} has no total-S^z sector action; pass sector=None "
                "(or a PauliSum / a dense matrix)"
            )
        n_sites, batch = int(H.n_sites), tuple(batch_shape(H))
        dtype = complex_dtype(getattr(H, "dtype", real_dtype()))
        if hasattr(H, "is_hermitian"):
            check_hermitian(H, name)
        else:
            check_hermitian(H, name, matvec=_mv, dim=2**n_sites, batch=batch, dtype=dtype)
        return BlockOperator(
            H, realization_axes(H), batch, 2**n_sites, dtype, _identity, _protocol_apply, None, n_sites, None
        )
    raise TypeError(f"{name} must be a PauliSum, a square array or an operator with mv(psi); got {type(H).__name__}")


def _mv(h, v):
    return h.mv(v)


def _pauli_operator(H, sector, name):
    n_sites, batch = int(H.n_sites), tuple(batch_shape(H))
    structure = _pauli_structure(H)
    check_hermitian(H, name)
    real = structure.real_phase and not jnp.iscomplexobj(H.coef)
    dtype = real_dtype(H.coef.dtype) if real else complex_dtype(H.coef.dtype)
    if sector is None:
        axes = jax.tree_util.tree_map(lambda _: 0, H)
        return BlockOperator(
            H, axes, batch, 2**n_sites, dtype, _identity, _protocol_apply, _pauli_radius, n_sites, None
        )
    sector = _check_sector(H, sector, n_sites, name)
    signs, cols, inside, groups = _sector_tables(structure, n_sites, sector)
    params = _SectorParams(H.coef, jnp.asarray(H.paulis), jnp.asarray(signs), jnp.asarray(cols), jnp.asarray(inside))
    axes = _SectorParams(0 if batch else None, 0 if batch else None, None, None, None)
    prepare = _SectorPrepare(groups, tuple(complex(c) for c in structure.phase), bool(real))
    return BlockOperator(
        params, axes, batch, signs.shape[1], dtype, prepare, _sector_apply, _sector_radius, n_sites, sector
    )


def _dense_operator(H, sector, name):
    H = jnp.asarray(H)
    if H.ndim < 2 or H.shape[-1] != H.shape[-2] or H.shape[-1] == 0:
        raise JaxmblError(f"{name} must be a square (..., D, D) matrix, got shape {H.shape}")
    check_hermitian(H, name)
    dim = H.shape[-1]
    n_sites = dim.bit_length() - 1 if dim & (dim - 1) == 0 else None
    if sector is not None:
        if n_sites is None or n_sites == 0:
            raise JaxmblError(f"sector={sector!r} needs a matrix of size 2**N, got D={dim}")
        sector = _check_sector(H, sector, n_sites, name)
        basis = sector_basis(n_sites, sector)
        H = H[..., basis[:, None], basis[None, :]]
    dtype = H.dtype if jnp.issubdtype(H.dtype, jnp.inexact) else real_dtype()
    dtype = real_dtype(dtype) if jnp.issubdtype(dtype, jnp.floating) else complex_dtype(dtype)
    H = H.astype(dtype)
    return BlockOperator(H, 0, tuple(H.shape[:-2]), H.shape[-1], dtype, _identity, _dense_apply, None, n_sites, sector)
