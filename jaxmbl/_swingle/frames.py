r"""Quenches seen in both frames: the physical state psi and the l-bit-frame state chi = U^dagger psi.

Under ``H = U H0 U^dagger`` (paper eq. 2.3) the l-bit-frame state only picks up phases,

.. math::
    \chi(t) = e^{-i H_0 t} \chi_0, \qquad \psi(t) = U \chi(t), \qquad
    \chi(t)_n = e^{-i E(n) t} \chi_0(n),

so the Z-basis weights ``|chi(t)_n|^2`` never change and every entanglement growth in the l-bit
frame is dephasing (§III.C, eq. 3.17-3.19). The functions here take one initial state *per
realization* (an eigenstate ``U|n>`` kicked by a local operator differs from realization to
realization), and hand both ``psi(t)`` and ``chi(t)`` to the observables, so the physical
entropy and the l-bit-frame entropy of eq. 3.15 come out of one pass. Phases are the exact
long-time phases of the exact dynamics (each coupling's phase reduced first, as
:func:`reduce_phase`; any t, e.g. up to 1e12).

Reference: B. Swingle, arXiv:1307.0507, §III.B-C.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.batching import map_batch
from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.validation import check_times
from jaxmbl._swingle.lbits import lbit_phase_factors
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import check_psi


def _check_per_realization(model, psi, name):
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    psi = check_psi(psi, model.n_sites, name)
    batch = model.batch_shape
    if psi.shape[: len(batch)] != batch:
        raise JaxmblError(
            f"{name} must hold one state (or one batch of states) per realization, i.e. start with the "
            f"model's batch shape {batch}; got shape {psi.shape} (use jnp.broadcast_to for a shared state)"
        )
    return psi.astype(jnp.promote_types(psi.dtype, complex_dtype(model.dtype)))


def to_lbit_frame(model, psi):
    """``chi = U^dagger psi`` for each realization: the state in the l-bit frame.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        psi: ``model.batch_shape + (..., 2**N)`` states, one (batch) per realization.

    Returns:
        The same shape. For ``psi = U|n>`` (an eigenstate) this is the basis state ``|n>``.

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel` or ``psi`` does not start with the
            model's batch shape and end with ``2**N``.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> chi = to_lbit_frame(model, eigenstates(model, 5))
        >>> int(jnp.argmax(jnp.abs(chi)))
        5
    """
    psi = _check_per_realization(model, psi, "psi")
    return model.U.apply_adjoint(psi)  # per-realization states: realization i acts on psi[i]


def to_physical_frame(model, chi):
    """``psi = U chi`` for each realization (inverse of :func:`to_lbit_frame`); same shapes.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        chi: ``model.batch_shape + (..., 2**N)`` l-bit-frame states, one (batch) per realization.

    Returns:
        The physical states, the shape of ``chi``. For ``chi = |n>`` this is the eigenstate ``U|n>``.

    Raises:
        ValueError: as :func:`to_lbit_frame`.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> psi = to_physical_frame(model, basis_state(4, 5))
        >>> bool(jnp.allclose(psi, eigenstates(model, 5)))
        True
    """
    chi = _check_per_realization(model, chi, "chi")
    return model.U.apply(chi)


def _states_only(psi, chi):
    return psi


@functools.partial(jax.jit, static_argnames=("observables", "time_batch"))
def _evolve_lbit_core(model, chi0, ts, observables, time_batch):
    def one(pair):
        m, chis = pair
        flat = chis.reshape(-1, chis.shape[-1])

        def at(t):
            chi_t = flat * lbit_phase_factors(m.h0, t).astype(flat.dtype)[None, :]
            psi_t = jax.vmap(m.U.mv)(chi_t)
            out = jax.vmap(observables)(psi_t, chi_t)
            return jax.tree_util.tree_map(lambda y: y.reshape(chis.shape[:-1] + y.shape[1:]), out)

        return lax.map(at, ts, batch_size=time_batch)

    return map_batch(one, (model, chi0), model.batch_shape)


@renamed_keywords(batch_size="time_batch")
def evolve_lbit_frame(model, chi0, ts, observables=None, *, time_batch: int | None = None):
    r"""Exact evolution from per-realization l-bit-frame states: ``f(psi(t), chi(t))`` for every t.

    .. math:: \chi(t) = e^{-iH_0 t}\chi_0, \quad \psi(t) = U\chi(t) = e^{-iHt} U\chi_0 .

    One ``U`` per time and no time stepping, so ``t = 1e12`` costs what ``t = 0.1`` costs, with
    the phases reduced per coupling before they are summed (as :func:`reduce_phase`; error ~1e-13 rad).

    Args:
        model: a :class:`SwingleModel`, single or batched.
        chi0: ``model.batch_shape + S + (2**N,)`` initial states *in the l-bit frame*, one (batch
            ``S``) per realization: e.g. ``to_lbit_frame(model, psi0)`` for a physical ``psi0``.
        ts: a time or a 1D array of times (units of 1/J0).
        observables: ``f(psi, chi) -> pytree`` of one physical state and its l-bit-frame state,
            both ``(2**N,)``; applied inside the jitted loop. ``None`` returns ``psi(t)``.
            Define ``f`` once: a new function object recompiles.
        time_batch: times processed together (memory vs. speed); default one at a time.
            Deprecated alias: ``batch_size``.

    Returns:
        ``model.batch_shape + (T,) + S`` in front of ``f``'s outputs (or of ``(2**N,)``); a
        scalar ``ts`` drops the ``T`` axis.

    Raises:
        JaxmblError: if ``chi0`` does not start with the model's batch shape or is not
            ``(..., 2**N)``, the times are not real and finite, ``time_batch`` is not a positive
            integer, or the output states do not fit in memory.

    Example:
        >>> import jax.random as jr, numpy as np
        >>> lat = Lattice((6,))
        >>> model = sample_model(jr.key(0), lat)
        >>> chi0 = to_lbit_frame(model, product_state(np.full(6, np.pi / 2)))
        >>> f = lambda psi, chi: (entropy(psi, [0, 1, 2]), entropy(chi, [0, 1, 2]))
        >>> S_phys, S_lbit = evolve_lbit_frame(model, chi0, np.logspace(-1, 12, 5), f)
        >>> S_lbit.shape
        (5,)
    """
    chi0 = _check_per_realization(model, chi0, "chi0")
    ts, scalar = check_times(ts, model.dtype)
    ts = jnp.atleast_1d(ts)
    if time_batch is not None and (int(time_batch) != time_batch or time_batch < 1):
        raise JaxmblError(f"time_batch must be a positive integer, got {time_batch!r}")
    if observables is None:
        check_state_memory(
            model.n_sites,
            ts.shape[0] * int(np.prod(chi0.shape[:-1])),
            chi0.dtype,
            what="output states (pass observables= to reduce them)",
        )
    elif not callable(observables):
        raise TypeError(f"observables must be a function f(psi, chi), got {observables!r}")
    out = _evolve_lbit_core(model, chi0, ts, observables or _states_only, time_batch)
    if scalar:
        axis = len(model.batch_shape)
        out = jax.tree_util.tree_map(lambda y: jnp.squeeze(y, axis), out)
    return out
