"""The operator protocol: one single-state matvec per object, and one batching rule for ``apply``.

Every Hamiltonian-like object (:class:`PauliSum`, :class:`SwingleModel`, :class:`PerturbedModel`,
:class:`LbitFrameOperator`, :class:`DenseOperator`) and every unitary-like object
(:class:`Circuit`, :class:`GeneratorUnitary`, the dense Haar control) has

=====================  ======================================================================
member                 meaning
=====================  ======================================================================
``mv(psi)``            ``A psi`` for ONE realization and ONE flat state ``(2**N,)``; traceable,
                       no checks. Matrix-free solvers (Krylov, light cones, ...) call only this.
``rmv(psi)``           ``A^dagger psi`` likewise (unitaries; Hermitian operators need none)
``apply(psi)``         checked and batched ``A psi`` by the rule below (``apply_adjoint`` for
                       ``A^dagger`` on unitaries)
``n_sites``            N (static)
``batch_shape``        leading realization axes of the leaves, ``()`` for one realization
``dtype``              the precision of the leaves; states are promoted to the matching complex
                       dtype (a :class:`PauliSum` keeps real states real)
``is_hermitian()``     Hermiticity, for Hamiltonian-like objects
``dense()``            the matrix ``batch_shape + (2**N, 2**N)``, small N only (dense ED)
=====================  ======================================================================

**Batching rule of** ``apply`` (implemented once, in :func:`apply_batched`). The state axes
``psi.shape[:-1]`` are broadcast: the kernel runs on every state. For an object with
``batch_shape == B != ()``:

* per-realization states: if ``psi.shape[:len(B)] == B``, realization ``i`` acts on ``psi[i]``,
  and the output has ``psi``'s shape ``B + S + (2**N,)``;
* shared states: otherwise every realization acts on all of ``psi`` and the output has shape
  ``B + psi.shape``.

Shared states whose leading axes happen to equal ``B`` must be broadcast explicitly:
``A.apply(jnp.broadcast_to(psi, B + psi.shape))``.

Example:
    >>> import jax.numpy as jnp
    >>> A = DenseOperator(jnp.array([[0.0, 1.0], [1.0, 0.0]]))
    >>> A.mv(jnp.array([1.0, 0.0])).tolist(), A.n_sites, A.is_hermitian()
    ([0.0, 1.0], 1, True)
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.batching import map_batch, realization_axes
from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.limits import check_state_memory


@functools.partial(jax.jit, static_argnames=("per_realization", "adjoint"))
def _apply_core(op, psi, per_realization: bool, adjoint: bool):
    dim = psi.shape[-1]
    batch = tuple(op.batch_shape)

    def states(o, p):
        one = o.rmv if adjoint else o.mv
        return jax.vmap(one)(p.reshape(-1, dim)).reshape(p.shape)

    if per_realization:
        return map_batch(lambda pair: states(*pair), (op, psi), batch, axes=(realization_axes(op), 0))
    return map_batch(states, op, batch, psi)


def apply_batched(op, psi, *, adjoint: bool = False, dtype=None):
    """``op.mv`` (or ``op.rmv``) on a batch of states by the batching rule of the module docstring.

    Args:
        op: an object of the operator protocol (``mv``/``rmv``, ``n_sites``, ``batch_shape``, ``dtype``).
        psi: states ``(..., 2**N)``: shared by all realizations, or per realization ``batch_shape + (..., 2**N)``.
        adjoint: apply ``op.rmv`` (``A^dagger``) instead of ``op.mv``.
        dtype: the dtype the states are cast to before the kernel; default the promotion of
            ``psi.dtype`` with the complex dtype of ``op.dtype``.

    Returns:
        ``psi.shape`` for per-realization states or an unbatched ``op``, else ``op.batch_shape + psi.shape``.

    Raises:
        JaxmblError: if the last axis of ``psi`` is not ``2**N``, or the output cannot fit in memory.

    Example:
        >>> import jax.numpy as jnp
        >>> A = DenseOperator(jnp.stack([jnp.eye(2), 2 * jnp.eye(2)]))       # batch_shape (2,)
        >>> apply_batched(A, jnp.ones(2)).real.tolist()                           # shared state
        [[1.0, 1.0], [2.0, 2.0]]
        >>> apply_batched(A, jnp.array([[1.0, 0.0], [0.0, 1.0]])).real.tolist()   # one state each
        [[1.0, 0.0], [0.0, 2.0]]
    """
    psi = jnp.asarray(psi)
    n_sites, batch = int(op.n_sites), tuple(op.batch_shape)
    dim = 2**n_sites
    if psi.ndim == 0 or psi.shape[-1] != dim:
        raise JaxmblError(f"psi must have shape (..., 2**N) = (..., {dim}) for N={n_sites}, got {psi.shape}")
    per_realization = bool(batch) and psi.shape[: len(batch)] == batch and psi.ndim > len(batch)
    dtype = jnp.promote_types(psi.dtype, complex_dtype(op.dtype)) if dtype is None else dtype
    n_states = int(np.prod(psi.shape[:-1])) * (1 if per_realization else int(np.prod(batch)))
    check_state_memory(n_sites, max(1, n_states), dtype)
    return _apply_core(op, psi.astype(dtype), per_realization, bool(adjoint))


def _check_dense_matrix(matrix):
    if matrix.ndim < 2 or matrix.shape[-1] != matrix.shape[-2]:
        raise JaxmblError(f"matrix must be square (..., D, D), got shape {matrix.shape}")
    dim = matrix.shape[-1]
    if dim < 2 or dim & (dim - 1):
        raise JaxmblError(f"matrix must be (..., 2**N, 2**N) with N >= 1, got D={dim}")
    return dim.bit_length() - 1


@functools.partial(jax.tree_util.register_dataclass, data_fields=["matrix"], meta_fields=["n_sites"])
@dataclasses.dataclass(frozen=True)
class DenseOperator:
    """A dense matrix ``(..., 2**N, 2**N)`` in the operator protocol (``mv``, ``rmv``, ``apply``, ...).

    The adapter that lets solvers taking the protocol (``krylov_evolve``, ``evolve``, ``eigh``)
    accept a plain array; :func:`as_operator` wraps arrays and passes protocol objects through.

    Attributes:
        matrix: real or complex ``(..., 2**N, 2**N)``; leading axes are realizations.
        n_sites: static N (derived from the matrix when omitted).

    Example:
        >>> import jax.numpy as jnp
        >>> A = DenseOperator(jnp.diag(jnp.arange(4.0)))
        >>> A.n_sites, A.batch_shape, A.apply(jnp.ones(4)).real.tolist()
        (2, (), [0.0, 1.0, 2.0, 3.0])
    """

    matrix: jax.Array
    n_sites: int = None

    def __post_init__(self):
        m = self.matrix
        if not (hasattr(m, "shape") and hasattr(m, "ndim")):
            return  # placeholder leaves (vmap axis specs, None) pass through unchecked
        n = _check_dense_matrix(m)
        if self.n_sites is None:
            object.__setattr__(self, "n_sites", n)
        elif int(self.n_sites) != n:
            raise JaxmblError(f"n_sites={self.n_sites} does not match a matrix of size {m.shape[-1]} = 2**{n}")

    @property
    def batch_shape(self) -> tuple:
        """Leading realization axes of the matrix (``()`` for one matrix)."""
        return tuple(self.matrix.shape[:-2])

    @property
    def dtype(self):
        """The dtype of the matrix."""
        return self.matrix.dtype

    def mv(self, psi):
        """``A psi`` for one realization and one flat state ``(2**N,)``; traceable, no checks.

        Args:
            psi: one state ``(2**N,)``.

        Returns:
            ``A psi``, shape ``(2**N,)``.
        """
        return jnp.matmul(self.matrix, psi, precision=HIGHEST)

    def rmv(self, psi):
        """``A^dagger psi`` for one realization and one flat state ``(2**N,)``.

        Args:
            psi: one state ``(2**N,)``.

        Returns:
            ``A^dagger psi``, shape ``(2**N,)``.
        """
        return jnp.matmul(jnp.conj(self.matrix).T, psi, precision=HIGHEST)

    def apply(self, psi):
        """``A psi`` for states ``(..., 2**N)`` by the batching rule of :mod:`jaxmbl._core.operators`.

        Args:
            psi: states ``(..., 2**N)``, shared by all realizations or ``batch_shape + (..., 2**N)``.

        Returns:
            ``psi.shape`` (one matrix, or per-realization states), else ``batch_shape + psi.shape``,
            in the dtype of ``psi`` and the matrix combined.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.
        """
        return apply_batched(self, psi, dtype=jnp.result_type(jnp.asarray(psi).dtype, self.matrix.dtype))

    def dense(self):
        """The matrix, ``batch_shape + (2**N, 2**N)``.

        Returns:
            ``matrix`` itself.
        """
        return self.matrix

    def is_hermitian(self, atol: float = 1e-12) -> bool:
        """True iff ``max|A - A^dagger| <= atol`` for every realization (eager only).

        Args:
            atol: absolute tolerance on the entries.

        Returns:
            A Python bool.
        """
        m = np.asarray(self.matrix)
        return bool(np.max(np.abs(m - np.conj(np.swapaxes(m, -1, -2))), initial=0.0) <= atol)


def as_operator(H):
    """``H`` itself if it has ``mv`` (the operator protocol), a :class:`DenseOperator` if it is an array.

    Args:
        H: an object of the operator protocol, or a square array ``(..., 2**N, 2**N)``.

    Returns:
        An object with ``mv``, ``n_sites``, ``batch_shape`` and ``dtype``.

    Raises:
        TypeError: if ``H`` is neither.

    Example:
        >>> import jax.numpy as jnp
        >>> type(as_operator(jnp.eye(4))).__name__
        'DenseOperator'
    """
    if hasattr(H, "mv"):
        return H
    if isinstance(H, (np.ndarray, jax.Array)):
        return DenseOperator(jnp.asarray(H))
    raise TypeError(f"expected an operator with mv(psi) or a square array, got {type(H).__name__}")
