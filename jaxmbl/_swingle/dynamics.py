"""Exact time evolution of the Swingle model at any time, with no time stepping.

``psi(t) = U exp(-i H0 t) U^dagger psi0``: one ``U^dagger`` for all times, then per time one
vector of phase factors (each coupling's phase ``J_S t mod 2 pi`` reduced exactly, its factor
``exp(-i J_S t)`` multiplied over subsets by the zeta transform that gives ``E(n)``; see
:func:`reduce_phase` and :func:`lbit_phase_factors`) and one ``U``. The cost of t = 1e12 equals the
cost of t = 0.1.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.validation import check_times
from jaxmbl._swingle.lbits import lbit_phase_factors
from jaxmbl._swingle.model import SwingleModel, map_realizations
from jaxmbl._swingle.unitaries import check_psi


@functools.partial(jax.jit, static_argnames=("observables", "time_batch"))
def _evolve_core(model, psi0, ts, observables, time_batch):
    """One realization, one initial state ``(2**N,)``, times ``(T,)``."""
    chi = model.U.rmv(psi0)

    def at(t):
        phase = lbit_phase_factors(model.h0, t).astype(chi.dtype)
        psi_t = model.U.mv(phase * chi)
        return psi_t if observables is None else observables(psi_t)

    # lax.map keeps one state (or time_batch states) alive at a time.
    return lax.map(at, ts, batch_size=time_batch)


@renamed_keywords(batch_size="time_batch")
def evolve_exact(model: SwingleModel, psi0, ts, observables=None, *, time_batch: int | None = None):
    """``U exp(-i H0 t) U^dagger psi0`` for every t in ``ts``: the exact fast path of :func:`evolve`.

    Args:
        model: a :class:`SwingleModel`, single or batched (leading ``batch_shape``).
        psi0: initial state(s), complex ``(..., 2**N)``; the same states for every realization.
        ts: a time or a 1D array of times (units of 1/J0), any spacing, e.g. ``logspace(-2, 12)``.
        observables: optional ``f(psi) -> pytree`` applied to each ``psi(t)`` of shape ``(2**N,)``
            inside the jitted loop, so the states are never all held at once. Define ``f`` once:
            a new function object recompiles.
        time_batch: times processed together (memory vs. speed); default one at a time.
            Deprecated alias: ``batch_size``.

    Returns:
        ``batch_shape + (T,) + psi0.shape[:-1] + (2**N,)`` states, or the same leading axes in
        front of ``f``'s outputs. A scalar ``ts`` drops the ``T`` axis.

    Raises:
        JaxmblError: if ``model`` is not a :class:`SwingleModel`, ``psi0`` is not ``(..., 2**N)``,
            the times are not real and finite, ``time_batch`` is not a positive integer, or the
            output states do not fit in memory.

    Accuracy: phases are reduced per coupling, error ~1e-13 rad at t = 1e12 in float64
    (forming ``E t`` naively loses ~1e-4 rad). In float32 the phase error is ~1e-7 * J0 t
    rad, so float32 is meaningful only for ``J0 t`` up to ~1e5.

    Example:
        >>> import jax.random as jr, numpy as np
        >>> lat = Lattice((6,))
        >>> model = sample_model(jr.key(0), lat)
        >>> psi0 = product_state(np.full(6, np.pi / 2))
        >>> S = evolve(model, psi0, np.logspace(-2, 12, 8), observables=lambda psi: entropy(psi, [0, 1, 2]))
        >>> S.shape
        (8,)
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    n = model.n_sites
    cdt = complex_dtype(model.dtype)
    psi0 = check_psi(psi0, n, "psi0").astype(jnp.promote_types(jnp.asarray(psi0).dtype, cdt))
    ts, scalar = check_times(ts, model.dtype)
    ts = jnp.atleast_1d(ts)
    if observables is None:
        n_out = ts.shape[0] * max(1, int(np.prod(psi0.shape[:-1]))) * max(1, int(np.prod(model.batch_shape)))
        check_state_memory(n, n_out, cdt, what="output states (pass observables= to reduce them)")
    if time_batch is not None and (int(time_batch) != time_batch or time_batch < 1):
        raise JaxmblError(f"time_batch must be a positive integer, got {time_batch!r}")
    states = psi0.reshape(-1, 2**n)

    def one_model(m, states, ts):
        out = jax.vmap(lambda p: _evolve_core(m, p, ts, observables, time_batch), out_axes=1)(states)
        return jax.tree_util.tree_map(lambda y: y.reshape(y.shape[:1] + psi0.shape[:-1] + y.shape[2:]), out)

    out = map_realizations(one_model, model, states, ts)
    if scalar:
        axis = len(model.batch_shape)
        out = jax.tree_util.tree_map(lambda y: jnp.squeeze(y, axis), out)
    return out
