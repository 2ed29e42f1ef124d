"""The perturbed model ``H' = U H0 U^dagger + g V`` (paper eq. 4.1) and ``V`` in the l-bit frame (eq. 4.2).

Neither is of the form ``U H0 U^dagger``, so they go to the generic machinery (``eigh``,
``krylov_evolve``/``evolve``); both are matrix-free operators with ``apply`` and small-N ``dense``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import complex_dtype
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import check_psi

_DENSE_MAX_SITES = 12


def _check_pair(model, V):
    if not isinstance(model, SwingleModel):
        raise ValueError(f"model must be a SwingleModel, got {type(model).__name__}")
    if not isinstance(V, PauliSum):
        raise ValueError(f"V must be a PauliSum, got {type(V).__name__}")
    if V.n_sites != model.n_sites:
        raise ValueError(f"V acts on {V.n_sites} sites but the model has n_sites={model.n_sites}")


class _MatrixFree:
    """``apply`` on (..., 2**N) through a single-state kernel, and ``dense`` for N <= 12."""

    def mv(self, psi):
        """``H psi`` for one realization and one flat state ``(2**N,)``; traceable, no checks."""
        return self._single_apply(psi)

    def _single_apply(self, psi):  # one realization, one flat state
        raise NotImplementedError

    @property
    def n_sites(self) -> int:
        return self.model.n_sites

    @property
    def batch_shape(self) -> tuple:
        return self.model.batch_shape

    def _map(self, flat):
        """``op._single_apply`` on every state of ``flat`` for every realization.

        The model's batch axes are mapped; the other leaves (V, g) are either shared by all
        realizations (no batch axes) or batched exactly like the model.
        """
        batch = self.batch_shape
        axes = jax.tree_util.tree_map(lambda x: 0 if batch and x.shape[: len(batch)] == batch else None, self)
        size = max(1, int(np.prod(batch)))

        def flatten(x, ax):
            return x if ax is None else x.reshape((size,) + x.shape[len(batch) :])

        op = jax.tree_util.tree_map(flatten, self, axes)
        if not batch:
            return _apply_flat(op, flat)
        out = jax.vmap(_apply_flat, in_axes=(axes, None))(op, flat)
        return out.reshape(batch + out.shape[1:])

    def apply(self, psi):
        """The operator on ``psi`` of shape ``(..., 2**N)``; a batched operator maps over its realizations."""
        psi = check_psi(psi, self.n_sites)
        psi = psi.astype(jnp.promote_types(psi.dtype, complex_dtype(self.model.dtype)))
        out = self._map(psi.reshape(-1, psi.shape[-1]))
        return out.reshape(self.batch_shape + psi.shape)

    def dense(self):
        """Dense matrix, ``batch_shape + (2**N, 2**N)`` (N <= 12)."""
        if self.n_sites > _DENSE_MAX_SITES:
            raise ValueError(f"dense() is for N <= {_DENSE_MAX_SITES}, got n_sites={self.n_sites}; use apply()")
        eye = jnp.eye(2**self.n_sites, dtype=complex_dtype(self.model.dtype))
        return jnp.swapaxes(self._map(eye), -1, -2)


@jax.jit
def _apply_flat(op, flat):
    return jax.vmap(op._single_apply)(flat)


@functools.partial(jax.tree_util.register_dataclass, data_fields=["model", "V", "g"], meta_fields=[])
@dataclasses.dataclass(frozen=True)
class PerturbedModel(_MatrixFree):
    """``H' = U H0 U^dagger + g V``, applied as ``U (E * (U^dagger psi)) + g V psi`` (never dense).

    Attributes:
        model: the :class:`SwingleModel` (single or batched).
        V: a :class:`PauliSum` perturbation (the same for every realization, or batched alike).
        g: the coupling (scalar array leaf, so ``jax.grad`` with respect to g works).

    Example:
        >>> import jax.random as jr
        >>> lat = Lattice((4,))
        >>> V = PauliSum.from_terms(4, [("X", [r], 1.0) for r in range(4)])
        >>> Hp = perturbed_model(sample_model(jr.key(0), lat), V, 0.1)
        >>> Hp.dense().shape
        (16, 16)
    """

    model: SwingleModel
    V: PauliSum
    g: jax.Array

    def _single_apply(self, psi):
        m = self.model
        diag = m.U._kernel(lbit_energies(m.h0).astype(psi.dtype) * m.U._kernel(psi, True), False)
        return diag + self.g * self.V.apply(psi)


def perturbed_model(model: SwingleModel, V: PauliSum, g) -> PerturbedModel:
    """Validated :class:`PerturbedModel` ``U H0 U^dagger + g V`` (V must be Hermitian, g real)."""
    _check_pair(model, V)
    g = jnp.asarray(g)
    if g.ndim != 0 or jnp.iscomplexobj(g):
        raise ValueError(f"g must be a real scalar, got {g!r}")
    if not isinstance(g, jax.core.Tracer) and not V.is_hermitian():
        raise ValueError("V must be Hermitian so that H' is Hermitian")
    return PerturbedModel(model=model, V=V, g=g.astype(model.dtype))


@functools.partial(jax.tree_util.register_dataclass, data_fields=["model", "V"], meta_fields=[])
@dataclasses.dataclass(frozen=True)
class LbitFrameOperator(_MatrixFree):
    """``V0 = U^dagger V U`` (paper eq. 4.2): the perturbation seen by the l-bits, matrix-free.

    ``H'_0 = H0 + g V0`` has the same spectrum as ``H'``; V0 is local up to the range of U.
    """

    model: SwingleModel
    V: PauliSum

    def _single_apply(self, psi):
        U = self.model.U
        return U._kernel(self.V.apply(U._kernel(psi, False)), True)


def lbit_frame(model: SwingleModel, V: PauliSum) -> LbitFrameOperator:
    """``V0 = U^dagger V U`` as an operator with ``apply`` and ``dense`` (eq. 4.2)."""
    _check_pair(model, V)
    return LbitFrameOperator(model=model, V=V)
