"""Batching rules shared by every layer: realization axes of pytrees, and tracer detection.

A batch of realizations is one pytree whose array leaves carry the same leading axes. Kernels are
written for one realization; :func:`map_batch` maps them over those axes with ``jax.vmap``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np


def realization_axes(tree):
    """The ``vmap`` axes of a pytree's leaves over its realizations.

    0 for every leaf, unless the tree defines ``realization_axes()`` (operators with leaves shared
    by all realizations, such as the perturbation V of a :class:`PerturbedModel`), which returns
    the axes as a pytree of 0/None.
    """
    own = getattr(tree, "realization_axes", None)
    return own() if callable(own) else jtu.tree_map(lambda _: 0, tree)


def map_batch(fn, tree, batch: tuple, *args, axes=None):
    """``fn`` on each element of a pytree whose leaves share the leading ``batch`` axes.

    ``args`` are shared by all elements. Leaves whose axis in ``axes`` (default
    :func:`realization_axes` of ``tree``) is ``None`` carry no batch axes and are shared too.
    Outputs get the ``batch`` axes in front.
    """
    if not batch:
        return fn(tree, *args)
    size = int(np.prod(batch))
    axes = realization_axes(tree) if axes is None else axes

    def flatten(x, ax):
        return x if ax is None else x.reshape((size,) + x.shape[len(batch) :])

    flat = jtu.tree_map(flatten, tree, axes)
    out = jax.vmap(fn, in_axes=(axes,) + (None,) * len(args))(flat, *args)
    return jtu.tree_map(lambda y: y.reshape(batch + y.shape[1:]), out)


def is_pauli_sum(H) -> bool:
    """True for PauliSum-like operators (leaves ``paulis`` (..., M, N) and ``coef`` (..., M))."""
    return hasattr(H, "paulis") and hasattr(H, "coef") and hasattr(H, "n_sites")


def is_traced(tree) -> bool:
    """True if any leaf is a tracer: value-dependent checks are then skipped (inside jit/vmap/grad)."""
    return any(isinstance(x, jax.core.Tracer) for x in jax.tree_util.tree_leaves(tree))


def batch_shape(H) -> tuple:
    """Leading realization axes: ``coef.shape[:-1]`` for a PauliSum, else ``H.batch_shape`` or ()."""
    if is_pauli_sum(H):
        return tuple(jnp.shape(H.coef)[:-1])
    return tuple(getattr(H, "batch_shape", ()))
