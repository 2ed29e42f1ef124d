"""One optax loop for every variational method of the stability layer (l-bit fits, AGP, V search).

``optax_scan`` runs ``steps`` updates of any optax ``GradientTransformation`` as one ``lax.scan``,
passing ``value``, ``grad`` and ``value_fn`` to ``update`` so that transformations which need them
(``optax.lbfgs`` and its line search) work unchanged; callers wrap plain transformations with
``optax.with_extra_args_support`` once, outside the jitted core, so that the wrapper (hashable) is
part of the compilation key.
"""

from __future__ import annotations

import jax
import optax
from jax import lax


def optax_scan(loss, x0, optimizer, steps: int, *, iterates: bool = False):
    """Minimize ``loss`` from ``x0`` with ``steps`` optax updates inside one ``lax.scan``.

    Args:
        loss: scalar function of the parameters (a pytree like ``x0``); traceable.
        x0: initial parameters.
        optimizer: an ``optax.GradientTransformationExtraArgs`` (wrap plain ones with
            ``optax.with_extra_args_support``).
        steps: number of updates (static).
        iterates: also return the parameters before each update.

    Returns:
        ``(x, history)`` with ``history[k]`` the loss before update k (shape ``(steps,)``), or
        ``(x, history, xs)`` with the iterates ``xs`` stacked along a leading axis when ``iterates``.

    Example:
        >>> import jax.numpy as jnp
        >>> opt = optax.with_extra_args_support(optax.sgd(0.25))
        >>> x, hist = optax_scan(lambda x: jnp.sum(x**2), jnp.ones(2), opt, 3)
        >>> x.tolist(), hist.tolist()
        ([0.125, 0.125], [2.0, 0.5, 0.125])
    """

    def step(carry, _):
        x, state = carry
        value, grad = jax.value_and_grad(loss)(x)
        updates, state = optimizer.update(grad, state, x, value=value, grad=grad, value_fn=loss)
        return (optax.apply_updates(x, updates), state), ((value, x) if iterates else value)

    (x, _), out = lax.scan(step, (x0, optimizer.init(x0)), None, length=steps)
    return (x, *out) if iterates else (x, out)
