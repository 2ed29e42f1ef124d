r"""From the l-bit frame to the physical frame: exact S(A, U chi(t)) from the light cone, and its bound.

The physical state of a dephasing quench is ``psi(t) = U chi(t)`` with ``chi(t) = exp(-i H0 t) chi0``
and ``chi0`` an l-bit product state (so ``psi(0) = U chi0`` is an eigenstate-like, area-law state).
For a circuit ``U``, only the gates in the backward light cone of the cut matter
(:func:`jaxmbl.light_cone`): the others commute to the end, where they form ``U_A (x) U_B``. With
``C`` the cone sites and ``C_B = C minus A``,

.. math::
    S\big(A, U\chi(t)\big) = S\Big(\mathrm{tr}_{C_B}\, U_{\rm cone}\,
        \rho_{A \cup C_B}\big(\chi(t)\big)\, U_{\rm cone}^\dagger\Big),

so the exact physical entropy costs one :func:`dephasing_rdm` of ``A`` plus the ``~D`` cone sites
per cut of a depth-D circuit (or of the complement plus its cone, whichever is smaller), for any N.
That is cheap for blocks of a few sites; for a half-infinite block it is not (``rho_A`` of the
whole block would be needed, because U mixes the boundary sites with the phases of the couplings
inside A), and :func:`frame_entropy_bound` is the statement instead: every two-site gate crossing
the cut changes S(A) by at most ``2 ln 2`` (subadditivity and Araki-Lieb), so

.. math:: |S_{\rm phys}(A, t) - S_{\rm lbit}(A, t)| \le 2 g \ln 2

for the von Neumann entropy, with g the number of gates of U with one site in A and one outside.

Reference: B. Swingle, arXiv:1307.0507, §III.A (U adds at most an area law) and §III.C.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._analysis.dephasing import (
    _CHUNK_ENTRIES,
    MAX_TRANSFER_ENTRIES,
    _entropy_of,
    _prepare,
    _rho_one,
    dephasing_entropy,
    rdm_plan,
)
from jaxmbl._analysis.entanglement import _check_alpha
from jaxmbl._analysis.lightcone import light_cone
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import apply_two_site
from jaxmbl._core.lattice import validate_region
from jaxmbl._swingle.lbits import reduce_phase
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import Circuit

#: Largest ``|A| + |C_B|`` (region plus its outside cone sites) for the exact physical entropy.
MAX_PHYSICAL_SITES = 12


def frame_entropy_bound(U, region) -> float:
    r"""``2 g ln 2``: bound on ``|S(A, U chi) - S(A, chi)|`` for every state chi (von Neumann, nats).

    g is the number of two-site gates of the circuit U with one site in A and one outside. Each such
    gate acting on ``a in A`` and ``b`` outside changes S(A) by at most ``2 ln 2``: S(A \ a) is
    untouched and ``|S(A) - S(A \ a)| <= ln 2``. Used for the half-infinite blocks whose exact
    physical entropy :func:`physical_dephasing_entropy` does not reach.

    Args:
        U: a :class:`Circuit` (only its static layout is used; batched is fine).
        region: sites of A.

    Returns:
        The bound in nats (a Python float).

    Raises:
        JaxmblError: if U is not a circuit (a generator unitary has no gate count).

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((10,)), depth=2)
        >>> round(float(frame_entropy_bound(U, range(5)) / np.log(2)), 6)     # one gate crosses 4|5
        2.0
    """
    if not isinstance(U, Circuit):
        raise JaxmblError(
            f"U must be a jaxmbl.Circuit for the gate-count bound, got {type(U).__name__} "
            "(a generator U = exp(-iK) needs a Lieb-Robinson bound instead)"
        )
    inside = set(validate_region(region, U.n_sites))
    g = sum((a in inside) != (b in inside) for a, b in U.sites)
    return float(2 * g * np.log(2))


def _side_layout(U, side: tuple):
    """``(full sites, local gate pairs, relevant gate indices, local positions of side in full)``."""
    cone = light_cone(U, side)
    in_side = set(side)
    outside_cone = sorted(s for s in cone.cone_sites if s not in in_side)
    full = tuple(sorted(in_side | set(outside_cone)))
    local = {s: j for j, s in enumerate(full)}
    gates = tuple(sorted(g for c in cone.components for g in c.gates))
    pairs = tuple((local[U.sites[g][0]], local[U.sites[g][1]]) for g in gates)
    return full, pairs, gates, tuple(local[s] for s in side)


@functools.partial(jax.jit, static_argnames=("plan", "pairs", "keep", "alpha", "job_batch"))
def _physical_core(coef, amps, gates, ts, gather, plan, pairs, keep, alpha, job_batch):
    n_t, n = ts.shape[0], plan.n_local
    drop = tuple(j for j in range(n) if j not in keep)

    def job(k):
        r, i = k // n_t, k % n_t
        rho = _rho_one(reduce_phase(coef[r], ts[i]), amps[r], plan, gather)
        vec = rho.reshape(-1)  # rows are qubits 0..n-1, columns n..2n-1
        for g, (a, b) in enumerate(pairs):
            vec = apply_two_site(vec, gates[r, g], a, b, 2 * n)
            vec = apply_two_site(vec, gates[r, g].conj(), n + a, n + b, 2 * n)
        t = vec.reshape((2,) * (2 * n)).transpose(keep + drop + tuple(n + j for j in keep + drop))
        dk, dd = 2 ** len(keep), 2 ** len(drop)
        return _entropy_of(jnp.einsum("atbt->ab", t.reshape(dk, dd, dk, dd)), alpha)

    out = lax.map(job, jnp.arange(coef.shape[0] * n_t), batch_size=job_batch)
    return out.reshape(coef.shape[0], n_t)


def physical_dephasing_entropy(model, amplitudes, region, ts, *, alpha=1, job_batch=None):
    """Exact physical-frame ``S_alpha(A, psi(t))``, ``psi(t) = U exp(-i H0 t) chi0``, chi0 an l-bit product.

    The backward light cone of the cut reduces U to the gates near it (module docstring), so this is
    exact for any N when A plus its outside cone sites (or the complement plus its cone) has at most
    ``MAX_PHYSICAL_SITES`` sites: blocks of a few sites in chains of 10**4 spins.

    Args:
        model: a :class:`SwingleModel` whose U is a :class:`Circuit`, single or batched.
        amplitudes: ``(..., N, 2)`` l-bit-frame product state, rows of unit norm (as :func:`dephasing_rdm`).
        region: sites of A.
        ts: a time or 1D array of times (units of 1/J0).
        alpha: Rényi index (static).
        job_batch: number of (realization, time) jobs per ``lax.map`` step (default: from the memory
            budget, as :func:`dephasing_rdm`).

    Returns:
        ``batch + (T,)`` entropies in nats (a scalar ``ts`` drops T).

    Raises:
        JaxmblError: if U is not a circuit, or both sides with their cones exceed
            ``MAX_PHYSICAL_SITES`` (use :func:`frame_entropy_bound`), and as :func:`dephasing_rdm`.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((6,)), depth=2)
        >>> amps = np.tile([np.cos(0.5), np.sin(0.5)], (6, 1))
        >>> physical_dephasing_entropy(model, amps, [2, 3], [0.0, 1e12]).shape
        (2,)
    """
    alpha = _check_alpha(alpha)
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    if not isinstance(model.U, Circuit):
        raise JaxmblError(f"model.U must be a Circuit for the light-cone reduction, got {type(model.U).__name__}")
    h0, amps, region, ts, scalar, batch, _ = _prepare(model.h0, amplitudes, region, ts, None, job_batch)
    if not light_cone(model.U, region).components:
        return dephasing_entropy(model.h0, amplitudes, region, ts[0] if scalar else ts, alpha=alpha)
    complement = tuple(r for r in range(model.n_sites) if r not in set(region))
    sides = [_side_layout(model.U, s) for s in (region, complement) if s]
    full, pairs, gate_idx, keep = min(sides, key=lambda s: len(s[0]))
    if len(full) > MAX_PHYSICAL_SITES:
        raise JaxmblError(
            f"region: its {len(region)} sites plus the light cone of the cut span {len(full)} sites (on the smaller "
            f"side), more than MAX_PHYSICAL_SITES = {MAX_PHYSICAL_SITES}; use dephasing_entropy with "
            "frame_entropy_bound(model.U, region) for the physical frame"
        )
    plan, gather = rdm_plan(h0.sites, h0.n_sites, full, None)
    r = int(np.prod(batch)) if batch else 1
    coef = h0.flat_coef()[..., gather.terms]
    coef = jnp.broadcast_to(coef, batch + coef.shape[-1:]).reshape(r, -1)
    amps = jnp.broadcast_to(amps, batch + amps.shape[-2:]).reshape((r,) + amps.shape[-2:])
    gates = model.U.gates[..., np.array(gate_idx), :, :]
    gates = jnp.broadcast_to(gates, batch + gates.shape[-3:]).reshape((r,) + gates.shape[-3:])
    if job_batch is None:
        job_batch = int(max(1, min(r * ts.shape[0], _CHUNK_ENTRIES // min(plan.entries, MAX_TRANSFER_ENTRIES))))
    out = _physical_core(coef, amps, gates.astype(amps.dtype), ts, gather, plan, pairs, keep, alpha, job_batch)
    out = out.reshape(batch + out.shape[1:])
    return jnp.squeeze(out, len(batch)) if scalar else out
