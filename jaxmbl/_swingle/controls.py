"""Negative controls: models that break one assumption of the paper, for claims that must then fail.

* :func:`haar_models`: U replaced by a Haar-random dense unitary (optionally block-Haar in
  every sector of the total charge). H keeps the spectrum of H0 but its eigenstates are random
  volume-law states, so every *locality* statement (area law, local quenches, dressed
  operators, light cones) must fail.
* :func:`clean_models`: H0 without disorder. Every coupling depends only on the shape of its
  site set (``J_r = J0/2``, ``J_S = (J0/2) exp(-ell(S)/xi)``), so H0 is translation invariant
  in the bulk and its phases are the same at every site: statements that need generic,
  incommensurate couplings (dephasing without recurrences, Poisson statistics) must fail.

Both have the signature of :func:`sample_models` (plus the control's own keywords), so a claim's
``make_models=`` hook takes them directly.

Example:
    >>> import jax.random as jr
    >>> models = haar_models(jr.key(0), Lattice((4,)), 2)
    >>> type(models.U).__name__, models.batch_shape
    ('DenseUnitary', (2,))
"""

from __future__ import annotations

import dataclasses
import functools
import inspect

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.conventions import basis_bits, complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._swingle.lbits import lbit_terms
from jaxmbl._swingle.model import sample_model, sample_models
from jaxmbl._swingle.unitaries import LocalUnitary

# The keyword defaults of sample_model, read from its signature so that they are written once.
_SAMPLE_MODEL_DEFAULTS = {
    name: p.default
    for name, p in inspect.signature(sample_model).parameters.items()
    if p.default is not inspect.Parameter.empty
}


@functools.partial(jax.tree_util.register_dataclass, data_fields=["matrix"], meta_fields=["n_sites"])
@dataclasses.dataclass(frozen=True)
class DenseUnitary(LocalUnitary):
    """A dense ``2**N x 2**N`` unitary used in place of a local U (N <= 12).

    Attributes:
        matrix: complex ``(..., 2**N, 2**N)``, columns ``U|n>``.
        n_sites: static N.
    """

    matrix: jax.Array
    n_sites: int

    @property
    def batch_shape(self):
        return tuple(self.matrix.shape[:-2])

    @property
    def dtype(self):
        return jnp.real(self.matrix).dtype

    def mv(self, psi):
        """``U psi`` for one realization and one flat state ``(2**N,)``; traceable, no checks."""
        return jnp.matmul(self.matrix, psi, precision=HIGHEST)

    def rmv(self, psi):
        """``U^dagger psi`` for one realization and one flat state ``(2**N,)``."""
        return jnp.matmul(self.matrix.conj().T, psi, precision=HIGHEST)


def haar_unitary(key, dim: int, *, dtype=jnp.complex128):
    """A Haar-random ``dim x dim`` unitary (QR of a complex Gaussian matrix, phases fixed; Mezzadri 2007).

    Args:
        key: ``jax.random`` key.
        dim: the matrix size (``2**N`` for a state space).
        dtype: complex dtype of the result.

    Returns:
        A ``(dim, dim)`` unitary matrix drawn from the Haar measure.

    Example:
        >>> import jax.random as jr
        >>> Q = haar_unitary(jr.key(0), 4)
        >>> bool(jnp.allclose(Q.conj().T @ Q, jnp.eye(4)))
        True
    """
    k1, k2 = jr.split(key)
    rdt = jnp.finfo(dtype).dtype
    z = (jr.normal(k1, (dim, dim), rdt) + 1j * jr.normal(k2, (dim, dim), rdt)).astype(dtype) / np.sqrt(2)
    q, r = jnp.linalg.qr(z)
    d = jnp.diagonal(r)
    return q * (d / jnp.abs(d))[None, :]


def _haar_u1(key, n_sites, dtype):
    """Block-Haar unitary: independent Haar blocks on each sector of fixed particle number."""
    charge = basis_bits(n_sites).sum(axis=1)
    rows, cols, blocks = [], [], []
    for q, k in zip(range(n_sites + 1), jr.split(key, n_sites + 1)):
        idx = np.nonzero(charge == q)[0]
        rows.append(np.repeat(idx, idx.size))
        cols.append(np.tile(idx, idx.size))
        blocks.append(haar_unitary(k, idx.size, dtype=dtype).reshape(-1))
    U = jnp.zeros((2**n_sites, 2**n_sites), dtype)
    return U.at[np.concatenate(rows), np.concatenate(cols)].set(jnp.concatenate(blocks))


def haar_models(key, lattice: Lattice | int, n: int, *, charge_conserving: bool = False, sample_fn=None, **kwargs):
    """``sample_models`` with U replaced by independent Haar-random dense unitaries.

    Args:
        key: the root ``jax.random`` key (H0 as :func:`sample_models`; U from a key derived from it).
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites (N <= 12).
        n: number of realizations.
        charge_conserving: use a block-Haar U that conserves the total charge ``sum_r P_r``
            (the negative control of the U(1) model).
        sample_fn: the sampler whose H0 is kept (default :func:`sample_models`).
        **kwargs: keywords of :func:`sample_models` (H0 is sampled as usual).

    Returns:
        A batched :class:`SwingleModel` (``batch_shape == (n,)``) whose U is a dense Haar unitary.

    Raises:
        ValueError: for N > 12, or as :func:`sample_models`.

    Example:
        >>> import jax.random as jr
        >>> models = haar_models(jr.key(0), 4, 2, charge_conserving=True)
        >>> U = models.U.matrix[0]                       # realization 0, columns U|n>
        >>> bool(jnp.allclose(U.conj().T @ U, jnp.eye(16))), models.batch_shape
        (True, (2,))
    """
    lattice = as_lattice(lattice)
    if lattice.n_sites > DENSE_MAX_SITES:
        raise JaxmblError(f"haar_models needs N <= {DENSE_MAX_SITES}, got n_sites={lattice.n_sites}")
    models = (sample_fn or sample_models)(key, lattice, n, **kwargs)
    cdt = complex_dtype(models.dtype)
    draw = (
        functools.partial(_haar_u1, n_sites=lattice.n_sites, dtype=cdt)
        if charge_conserving
        else (lambda k: haar_unitary(k, 2**lattice.n_sites, dtype=cdt))
    )
    mats = jnp.stack([draw(k) for k in jr.split(jr.fold_in(key, 0x4A4152), n)])
    return dataclasses.replace(models, U=DenseUnitary(mats, lattice.n_sites))


def clean_models(key, lattice: Lattice | int, n: int, *, sample_fn=None, **kwargs):
    """``sample_models`` with a disorder-free H0: ``J_r = J0/2``, ``J_S = (J0/2) exp(-ell(S)/xi)``.

    ``ell(S)`` is the minimal-spanning-tree length used by :func:`sample_lbit_hamiltonian`, so the
    terms are those of the disordered model with their random factors replaced by 1/2 (the mean
    of the onsite distribution and half the envelope). U stays random. The defaults of ``xi``,
    ``J0`` and ``cutoff`` are those of :func:`sample_model`.

    Args:
        key: the root ``jax.random`` key (U as :func:`sample_models`).
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        n: number of realizations.
        sample_fn: the sampler whose U (and term set) is kept (default :func:`sample_models`).
        **kwargs: keywords of :func:`sample_models` (``xi``, ``J0``, ``cutoff`` also fix the clean couplings).

    Returns:
        A batched :class:`SwingleModel` (``batch_shape == (n,)``) with identical H0 in every realization.

    Raises:
        ValueError: as :func:`sample_models`.

    Example:
        >>> import jax.random as jr
        >>> models = clean_models(jr.key(0), 4, 2, xi=1.0)
        >>> models.h0.coef[0].tolist()              # onsite J_r = J0/2 everywhere
        [[0.5, 0.5, 0.5, 0.5], [0.5, 0.5, 0.5, 0.5]]
    """
    lattice = as_lattice(lattice)
    models = (sample_fn or sample_models)(key, lattice, n, **kwargs)
    h0 = models.h0
    params = {**_SAMPLE_MODEL_DEFAULTS, **kwargs}  # every sampler forwards these to sample_model
    xi, J0 = float(params["xi"]), float(params["J0"])
    groups = lbit_terms(lattice, h0.orders[-1], float(xi * np.log(1.0 / params["cutoff"])))
    extents = {S: e for sites, ext in groups for S, e in zip(sites, ext)}
    coef = tuple(
        jnp.broadcast_to(jnp.asarray([0.5 * J0 * np.exp(-extents[S] / xi) for S in sites], c.dtype), c.shape)
        for sites, c in zip(h0.sites, h0.coef)
    )
    return dataclasses.replace(models, h0=dataclasses.replace(h0, coef=coef))
