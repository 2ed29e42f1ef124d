"""One ``evolve`` for every Hamiltonian: the exact Swingle path or the matrix-free propagator."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from jaxmbl._hamiltonians.krylov import krylov_evolve
from jaxmbl._swingle.dynamics import evolve_exact
from jaxmbl._swingle.model import SwingleModel, map_realizations


def evolve(H, psi0, ts, observables=None, *, return_info: bool = False, **kwargs):
    """``exp(-iHt) psi0`` for every t in ``ts``; one function for every Hamiltonian.

    For a :class:`SwingleModel` this is the exact fast path :func:`evolve_exact` (no time
    stepping, any t; keyword ``time_batch``). Other Hamiltonians (a :class:`PauliSum`, a
    :class:`PerturbedModel`, ...) go to the matrix-free propagator :func:`krylov_evolve`
    (keywords ``error_tol``, ``method``, ...). A dense array is accepted as a :class:`DenseOperator`.

    Args:
        H: a :class:`SwingleModel`, a :class:`PauliSum`, a :class:`PerturbedModel`, any operator of
            the operator protocol, or a dense array ``(..., D, D)``; single or batched over
            realizations (leading ``batch_shape``).
        psi0: initial state(s) ``(..., 2**N)``, the same for every realization.
        ts: a time or a 1D array of times (units of 1/J0).
        observables: optional ``f(psi) -> pytree`` applied to each state ``(2**N,)`` inside the
            jitted loop instead of returning the states (define ``f`` once).
        return_info: also return the error information.
        **kwargs: keywords of :func:`evolve_exact` (``time_batch``) for a :class:`SwingleModel`,
            else of :func:`krylov_evolve` (``error_tol``, ``method``, ``krylov_dim``, ...).

    Returns:
        The states (or ``observables`` outputs) with shape ``batch + (T,) + psi0.shape[:-1] +
        ...``; with ``return_info=True`` also a dict whose ``"error"`` (``batch + (T,)`` or
        finer) bounds or estimates ``||psi~(t) - psi(t)|| / ||psi0||``. On the exact path it is
        ``2 * U.error_bound()`` (zero for circuits; the phases are exact to ~1e-13 rad).

    Raises:
        ValueError: as :func:`evolve_exact` or :func:`krylov_evolve` (bad states, times or options).
        TypeError: for an ``H`` that is not an operator.

    Example:
        >>> import jax.random as jr, numpy as np
        >>> model = sample_model(jr.key(0), 4)
        >>> psi0 = product_state(np.full(4, np.pi / 2))
        >>> ts = np.array([0.5, 1e12])
        >>> S = evolve(model, psi0, ts, observables=lambda psi: entropy(psi, [0, 1]))
        >>> H = PauliSum.from_list([("XI", 0.3), ("ZZ", 1.0)])
        >>> psi, info = evolve(H, basis_state(2, 0), np.array([1.0]), return_info=True)
        >>> S.shape, psi.shape, bool(info["error"].max() < 1e-9)
        ((2,), (1, 4), True)
    """
    if isinstance(H, SwingleModel):
        out = evolve_exact(H, psi0, ts, observables, **kwargs)
        if not return_info:
            return out
        n_t = np.atleast_1d(np.asarray(ts)).shape[0]

        def bound(m):
            err = 2 * m.U.error_bound() if hasattr(m.U, "error_bound") else jnp.zeros((), m.dtype)
            return jnp.broadcast_to(err, (n_t,))

        err = map_realizations(bound, H)
        if np.ndim(ts) == 0:
            err = err[..., 0]
        return out, {"error": err}
    out, info = krylov_evolve(H, psi0, ts, observables=observables, **kwargs)
    return (out, info) if return_info else out
