"""Named Hamiltonians as PauliSums: the random-field Heisenberg/XXZ model and random local perturbations.

Every model is ``f(key, lattice, ...)`` and samplable under ``jax.vmap`` over keys: the term
structure (``paulis``) depends only on the lattice and is identical across realizations; only the
coefficients depend on the key. Spin operators are S = sigma/2, so a coupling J of spins is
J/4 on the Pauli strings (and a field h is h/2): mind these factors of 2 and 4 when comparing
with codes that use Pauli matrices.

Example:
    >>> import jax
    >>> from jaxmbl import Lattice
    >>> keys = jax.random.split(jax.random.key(0), 8)
    >>> Hs = jax.vmap(lambda k: random_field_heisenberg(k, Lattice((6,)), 4.0))(keys)
    >>> Hs.coef.shape, Hs.paulis.shape
    ((8, 21), (8, 21, 6))
"""

from __future__ import annotations

import functools
import itertools
import numbers

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.conventions import PAULI, complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._hamiltonians.pauli import PauliSum, _from_labels


def _check_real(name, value, *, positive=False, nonnegative=False):
    """Validate a concrete real parameter; traced values (vmap/grad over parameters) pass through."""
    if isinstance(value, jax.core.Tracer):
        return value
    if np.ndim(value) != 0 or np.iscomplexobj(value):
        raise JaxmblError(f"{name} must be a real scalar, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or (positive and v <= 0) or (nonnegative and v < 0):
        need = "> 0" if positive else ">= 0" if nonnegative else "finite"
        raise JaxmblError(f"{name} must be finite and {need}, got {value!r}")
    return value


@functools.lru_cache(maxsize=64)
def _heisenberg_labels(lattice: Lattice) -> np.ndarray:
    """XX, YY, ZZ on every bond (in bond order), then Z on every site."""
    n = lattice.n_sites
    rows = []
    for i, j in lattice.bonds:
        for p in (1, 2, 3):
            row = np.zeros(n, np.int8)
            row[[i, j]] = p
            rows.append(row)
    for i in range(n):
        row = np.zeros(n, np.int8)
        row[i] = 3
        rows.append(row)
    return np.array(rows, dtype=np.int8).reshape(-1, n)


def random_field_heisenberg(key, lattice, W, J=1.0, *, Jz=None, dtype=None) -> PauliSum:
    """The random-field Heisenberg (XXZ) model on a lattice, with spin-1/2 operators S = sigma/2.

        H = sum_<ij> [J (S^x_i S^x_j + S^y_i S^y_j) + Jz S^z_i S^z_j] + sum_i h_i S^z_i,
        h_i ~ Uniform[-W, W] independently,

    so as Pauli coefficients: J/4 on XX and YY, Jz/4 on ZZ per bond, h_i/2 on Z_i. Bonds are
    ``lattice.bonds`` (1D or 2D, open or periodic). It conserves total S^z.

    Args:
        key: a JAX PRNG key (vmap over keys for realizations).
        lattice: a ``Lattice``, or an int L for an open chain of L sites.
        W: disorder strength (energy units), >= 0.
        J: exchange coupling (energy units).
        Jz: the Ising coupling, ``None`` for the isotropic Jz = J (the XXZ anisotropy is
            Delta = Jz / J).
        dtype: real dtype of the coefficients (float64 default).

    Returns:
        PauliSum with 3 * len(bonds) + N terms: XX, YY, ZZ per bond in bond order, then Z per site;
        the fields are ``2 * H.coef[-N:]``.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        ValueError: for a negative or non-finite ``W``, or a non-real ``J`` or ``Jz``.

    Example:
        >>> H = random_field_heisenberg(jax.random.key(1), 12, W=0.5)
        >>> H.dense(sector=0).shape
        (924, 924)

    References: Pal & Huse, PRB 82, 174411 (2010), arXiv:1010.1992 (their disorder h is our W).
    """
    lattice = as_lattice(lattice)
    W, J = _check_real("W", W, nonnegative=True), _check_real("J", J)
    Jz = J if Jz is None else _check_real("Jz", Jz)
    dt = real_dtype(dtype)
    n = lattice.n_sites
    h = W * jr.uniform(key, (n,), dt, minval=-1.0, maxval=1.0)
    bond = jnp.stack([jnp.asarray(J, dt), jnp.asarray(J, dt), jnp.asarray(Jz, dt)]) / 4
    coef = jnp.concatenate([jnp.tile(bond, len(lattice.bonds)), h / 2]).astype(dt)
    return _from_labels(_heisenberg_labels(lattice), coef, n)


@functools.lru_cache(maxsize=64)
def _clusters(lattice: Lattice, k: int) -> tuple:
    """All connected k-site clusters of the bond graph, as sorted tuples in sorted order."""
    neighbours = {i: set() for i in range(lattice.n_sites)}
    for i, j in lattice.bonds:
        neighbours[i].add(j)
        neighbours[j].add(i)
    clusters = {frozenset([i]) for i in range(lattice.n_sites)}
    for _ in range(k - 1):
        clusters = {c | {j} for c in clusters for i in c for j in neighbours[i] - c}
    return tuple(sorted(tuple(sorted(c)) for c in clusters))


@functools.lru_cache(maxsize=16)
def _local_strings(k: int):
    """All 3^k strings over X, Y, Z on k sites: labels (3^k, k) and dense matrices (3^k, 2^k, 2^k)."""
    labels = np.array(list(itertools.product((1, 2, 3), repeat=k)), dtype=np.int8).reshape(-1, k)
    mats = []
    for row in labels:
        m = np.ones((1, 1), np.complex128)
        for p in row:
            m = np.kron(m, PAULI[p])
        mats.append(m)
    return labels, np.array(mats)


def random_local_perturbation(key, lattice, *, k=2, norm=1.0, dtype=None) -> PauliSum:
    """A random Hermitian k-local operator V = sum_C h_C over connected k-site clusters C.

    Each cluster term h_C = sum_P c_P P runs over the 3^k Pauli strings acting non-trivially on
    every site of C (k = 1: sites, k = 2: bonds, k = 3: connected triples along bonds). The c_P
    are real Gaussians, then each h_C is rescaled to operator norm ||h_C|| = ``norm``, so g V has
    local terms of norm g as in the stability analysis (arXiv:1307.0507, section IV). For
    terms of several ranges, add perturbations with different k.

    Args:
        key: a JAX PRNG key (vmap over keys for realizations).
        lattice: a ``Lattice``, or an int L for an open chain.
        k: cluster size, 1 <= k <= N (the lattice must have a connected k-site cluster).
        norm: operator norm of every cluster term (energy units), > 0.
        dtype: real dtype of the coefficients.

    Returns:
        PauliSum with 3^k terms per cluster, clusters in sorted order; the structure depends only
        on (lattice, k).

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        ValueError: for ``k`` outside ``1..N`` or without a connected cluster, or ``norm <= 0``.

    Example:
        >>> V = random_local_perturbation(jax.random.key(0), Lattice((2, 2)), k=2)
        >>> V.n_terms, V.is_hermitian()
        (36, True)
    """
    lattice = as_lattice(lattice)
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or not 1 <= k <= lattice.n_sites:
        raise JaxmblError(f"k must be an integer in 1..{lattice.n_sites} (the number of sites), got {k!r}")
    norm = _check_real("norm", norm, positive=True)
    clusters = _clusters(lattice, int(k))
    if not clusters:
        raise JaxmblError(f"lattice of shape {lattice.shape} has no connected cluster of k={k} sites")
    strings, mats = _local_strings(int(k))
    dt = real_dtype(dtype)
    c = jr.normal(key, (len(clusters), len(strings)), dt)
    local = jnp.einsum("cs,sij->cij", c, jnp.asarray(mats, complex_dtype(dt)), precision=HIGHEST)
    op_norm = jnp.max(jnp.abs(jnp.linalg.eigvalsh(local)), axis=-1)
    # Gaussian coefficients make op_norm > 0 almost surely; the where keeps gradients finite anyway.
    safe = jnp.where(op_norm > 0, op_norm, 1.0)
    c = jnp.where(op_norm[:, None] > 0, c * (norm / safe)[:, None], 0.0).astype(dt)
    labels = np.zeros((len(clusters), len(strings), lattice.n_sites), np.int8)
    for a, sites in enumerate(clusters):
        labels[a][:, list(sites)] = strings
    return _from_labels(labels.reshape(-1, lattice.n_sites), c.reshape(-1), lattice.n_sites)
