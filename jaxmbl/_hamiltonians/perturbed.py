"""The perturbed model ``H' = U H0 U^dagger + g V`` (paper eq. 4.1) and ``V`` in the l-bit frame (eq. 4.2).

Neither is of the form ``U H0 U^dagger``, so they go to the generic machinery (``eigh``,
``krylov_evolve``/``evolve``); both are matrix-free operators with ``apply`` and small-N ``dense``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp

from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._core.operators import apply_batched
from jaxmbl._core.validation import check_hermitian
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._swingle.model import SwingleModel


def _check_pair(model, V):
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    if not isinstance(V, PauliSum):
        raise TypeError(f"V must be a PauliSum, got {type(V).__name__}")
    if V.n_sites != model.n_sites:
        raise JaxmblError(f"V acts on {V.n_sites} sites but the model has n_sites={model.n_sites}")


class _MatrixFree:
    """The operator protocol (``mv``, ``apply``, ``dense``, ...) of an operator built on a :class:`SwingleModel`.

    Subclasses define ``mv`` for one realization and one flat state; the model's batch axes are
    the realizations, and V (and g) are either shared by all realizations or batched alike.
    """

    @property
    def n_sites(self) -> int:
        """Number of sites N."""
        return self.model.n_sites

    @property
    def batch_shape(self) -> tuple:
        """The model's realization axes (``()`` for one realization)."""
        return self.model.batch_shape

    @property
    def dtype(self):
        """Real dtype of the model (states are the matching complex dtype)."""
        return self.model.dtype

    def realization_axes(self):
        """``vmap`` axes of the leaves over the realizations: 0 for the model, ``None`` for shared V, g.

        Returns:
            A copy of the operator whose leaves are replaced by their ``in_axes`` (0 or ``None``).
        """
        batch = self.batch_shape

        def axes(tree, batched):
            return jax.tree_util.tree_map(lambda _: 0 if batched else None, tree)

        batched = {"V": bool(batch) and tuple(self.V.coef.shape[:-1]) == batch}
        if hasattr(self, "g"):
            batched["g"] = bool(batch) and tuple(jnp.shape(self.g)) == batch
        return dataclasses.replace(
            self, model=axes(self.model, bool(batch)), **{k: axes(getattr(self, k), b) for k, b in batched.items()}
        )

    def apply(self, psi):
        """The operator on states ``(..., 2**N)``, batched by the rule of :func:`apply_batched`.

        Args:
            psi: states ``(..., 2**N)`` shared by all realizations, or ``batch_shape + (..., 2**N)``
                with one (batch of) state(s) per realization.

        Returns:
            ``psi.shape`` (one realization, or per-realization states), else ``batch_shape + psi.shape``.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.

        Example:
            >>> import jax.random as jr
            >>> model = sample_model(jr.key(0), Lattice((4,)))
            >>> V = PauliSum.from_terms(4, [("Z", [0], 1.0)])
            >>> V0 = lbit_frame(model, V)
            >>> psi = basis_state(4, 5)
            >>> bool(jnp.allclose(V0.apply(psi), model.U.apply_adjoint(V.apply(model.U.apply(psi)))))
            True
        """
        return apply_batched(self, psi)

    def dense(self):
        """Dense matrix, ``batch_shape + (2**N, 2**N)`` (N <= 12).

        Returns:
            Complex ``batch_shape + (2**N, 2**N)`` matrix (energy units of J0).

        Raises:
            ValueError: for N > 12.
        """
        if self.n_sites > DENSE_MAX_SITES:
            raise JaxmblError(f"dense() is for N <= {DENSE_MAX_SITES}, got n_sites={self.n_sites}; use apply()")
        eye = jnp.eye(2**self.n_sites, dtype=complex_dtype(self.model.dtype))
        # Broadcast explicitly: with batch_shape == (2**N,) an unbroadcast eye would count as per-realization.
        return jnp.swapaxes(apply_batched(self, jnp.broadcast_to(eye, self.batch_shape + eye.shape)), -1, -2)


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

    def mv(self, psi):
        """``H' psi = U (E * (U^dagger psi)) + g V psi`` for one realization and one flat state; no checks.

        Args:
            psi: one complex state ``(2**N,)``.

        Returns:
            ``H' psi``, shape ``(2**N,)`` (energy units of J0).
        """
        return self.model.mv(psi) + self.g * self.V.mv(psi)

    def is_hermitian(self) -> bool:
        """True iff V is Hermitian (eager) and g is real; :func:`perturbed_model` checks both.

        Returns:
            A Python bool.
        """
        return bool(not jnp.iscomplexobj(self.g) and self.V.is_hermitian())


def perturbed_model(model: SwingleModel, V: PauliSum, g) -> PerturbedModel:
    """Validated :class:`PerturbedModel` ``H' = U H0 U^dagger + g V`` (eq. 4.1; V Hermitian, g real).

    Its eigen-data come from :func:`eigh` and its dynamics from :func:`evolve` (Krylov), since
    ``H'`` is no longer of the form ``U H0 U^dagger``.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        V: a Hermitian :class:`PauliSum` on the same sites, shared by all realizations or batched alike.
        g: the real coupling (a scalar; may be traced for ``jax.grad``).

    Returns:
        The :class:`PerturbedModel`.

    Raises:
        ValueError: if ``model`` or ``V`` has the wrong type, their site counts differ, g is not a
            real scalar, or V is not Hermitian.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), 4)
        >>> V = PauliSum.from_terms(4, [("X", [r], 1.0) for r in range(4)])
        >>> E0 = jnp.sort(energies(model))
        >>> E = eigvalsh(perturbed_model(model, V, 0.0))        # g = 0: the spectrum of H0
        >>> bool(jnp.allclose(E, E0))
        True
    """
    _check_pair(model, V)
    g = jnp.asarray(g)
    if g.ndim != 0 or jnp.iscomplexobj(g):
        raise JaxmblError(f"g must be a real scalar, got {g!r}")
    check_hermitian(V, "V", context=" (so that H + gV is Hermitian)")
    return PerturbedModel(model=model, V=V, g=g.astype(model.dtype))


@functools.partial(jax.tree_util.register_dataclass, data_fields=["model", "V"], meta_fields=[])
@dataclasses.dataclass(frozen=True)
class LbitFrameOperator(_MatrixFree):
    """``V0 = U^dagger V U`` (paper eq. 4.2): the perturbation seen by the l-bits, matrix-free.

    ``H'_0 = H0 + g V0`` has the same spectrum as ``H'``; V0 is local up to the range of U.

    Attributes:
        model: the :class:`SwingleModel` (single or batched).
        V: the :class:`PauliSum` perturbation in the physical frame.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), 4)
        >>> V0 = lbit_frame(model, PauliSum.from_terms(4, [("Z", [1], 1.0)]))
        >>> V0.dense().shape, V0.is_hermitian()
        ((16, 16), True)
    """

    model: SwingleModel
    V: PauliSum

    def mv(self, psi):
        """``V0 psi = U^dagger V U psi`` for one realization and one flat state; traceable, no checks.

        Args:
            psi: one complex state ``(2**N,)``.

        Returns:
            ``V0 psi``, shape ``(2**N,)``.
        """
        U = self.model.U
        return U.rmv(self.V.mv(U.mv(psi)))

    def is_hermitian(self) -> bool:
        """True iff V is Hermitian (eager): then so is ``U^dagger V U``.

        Returns:
            A Python bool.
        """
        return bool(self.V.is_hermitian())


def lbit_frame(model: SwingleModel, V: PauliSum) -> LbitFrameOperator:
    """``V0 = U^dagger V U`` as an operator with ``apply`` and ``dense`` (eq. 4.2).

    ``H' = U (H0 + g V0) U^dagger``: in the l-bit frame the perturbed model is ``H0 + g V0``,
    with V0 quasi-local (exactly local up to the light cone of a circuit U).

    Args:
        model: a :class:`SwingleModel`, single or batched.
        V: a :class:`PauliSum` on the same sites.

    Returns:
        The :class:`LbitFrameOperator`.

    Raises:
        ValueError: if ``model`` or ``V`` has the wrong type or their site counts differ.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), 4, depth=1)
        >>> V0 = lbit_frame(model, PauliSum.from_terms(4, [("Z", [0], 1.0)]))
        >>> D = V0.dense()
        >>> bool(jnp.allclose(jnp.trace(D), 0.0))         # traceless, as Z_0 (conjugation keeps the trace)
        True
    """
    _check_pair(model, V)
    return LbitFrameOperator(model=model, V=V)
