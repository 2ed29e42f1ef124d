r"""Where energy lives and how far a local kick reaches, in the l-bit basis (paper §II).

* **Energy density.** H0 is split into site terms by giving each coupling equally to its sites,

  .. math:: h_r = \sum_{S \ni r} \frac{J_S}{|S|} \prod_{s \in S} P_s, \qquad \sum_r h_r = H_0,

  so ``H = sum_r U h_r U^dagger`` and ``e_r(psi) = <psi| U h_r U^dagger |psi>`` is a local energy
  density. Every ``U h_r U^dagger`` commutes with H: the profile ``e_r(t)`` of any state is
  conserved at all times. Whether energy injected at r0 is *local* depends on U only.
* **Distant flips.** The amplitude for a local operator ``O`` at ``r0`` to take the eigenstate
  ``|E> = U|n>`` to ``|E'> = U X_r U^dagger |E> = U|n xor e_r>`` is
  ``<n xor e_r| U^dagger O_{r0} U |n>``; it decays with ``|r - r0|`` because ``U^dagger O U`` is
  quasi-local (exactly zero outside the light cone of a circuit, exponentially small for
  ``U = exp(-iK)``). Its modulus is the same at all times, since ``exp(-iHt)`` only dephases.

Example:
    >>> import jax.random as jr, numpy as np
    >>> model = sample_model(jr.key(0), Lattice((6,)))
    >>> h = lbit_energy_density(model.h0)                 # (6, 64)
    >>> bool(np.allclose(h.sum(0), energies(model)))
    True
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
from jaxmbl._core.kernels import HIGHEST, apply_one_site
from jaxmbl._core.limits import check_state_memory
from jaxmbl._swingle.lbits import LbitHamiltonian, subset_sum
from jaxmbl._swingle.model import SwingleModel, eigenstates
from jaxmbl._swingle.unitaries import check_psi


def _lbit_energy_density_1(h0: LbitHamiltonian):
    n = h0.n_sites
    share = np.zeros((n, h0.n_terms))
    col = 0
    for group in h0.sites:
        for S in group:
            share[list(S), col] = 1.0 / len(S)
            col += 1
    coef = h0.flat_coef()
    return jax.vmap(lambda w: subset_sum(h0, coef * w))(jnp.asarray(share, coef.dtype))


_lbit_energy_density_core = jax.jit(_lbit_energy_density_1)


def lbit_energy_density(h0):
    """Site energies ``h_r(n) = sum_{S containing r} J_S/|S| prod_{s in S} n_s`` of every basis state.

    Args:
        h0: an :class:`LbitHamiltonian` (single or batched) or a :class:`SwingleModel`.

    Returns:
        ``batch_shape + (N, 2**N)``, energy units of J0; the sum over r is ``energies(h0)``.

    Raises:
        ValueError: if ``h0`` is neither an :class:`LbitHamiltonian` nor a :class:`SwingleModel`,
            or the tables would not fit in memory.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 1.0, (1,): 2.0, (0, 1): 0.5})
        >>> lbit_energy_density(h0)[:, 3].tolist()      # n = |11>: 1 + 0.25 and 2 + 0.25
        [1.25, 2.25]
    """
    h0 = h0.h0 if isinstance(h0, SwingleModel) else h0
    if not isinstance(h0, LbitHamiltonian):
        raise TypeError(f"h0 must be an LbitHamiltonian or SwingleModel, got {type(h0).__name__}")
    check_state_memory(h0.n_sites, h0.n_sites * max(1, int(np.prod(h0.batch_shape))), h0.dtype, what="energy tables")
    return map_batch(_lbit_energy_density_core, h0, h0.batch_shape)


@jax.jit
def _energy_density_core(model, psi):
    def one(pair):
        m, states = pair
        h = _lbit_energy_density_1(m.h0)  # (N, 2**N)
        chi = jax.vmap(m.U.rmv)(states.reshape(-1, states.shape[-1]))
        weight = jnp.real(chi * chi.conj())
        e = jnp.einsum("sn,rn->sr", weight, h, precision=HIGHEST) / weight.sum(-1, keepdims=True)
        return e.reshape(states.shape[:-1] + (h.shape[0],))

    return map_batch(one, (model, psi), model.batch_shape)


def energy_density(model, psi):
    """Local energy density ``e_r = <psi| U h_r U^dagger |psi> / <psi|psi>`` of per-realization states.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        psi: states of each realization, ``model.batch_shape + (..., 2**N)`` (e.g. the output of
            :func:`evolve` or :func:`eigenstates` on the same model).

    Returns:
        ``model.batch_shape + (...) + (N,)`` energies (units of J0); ``sum_r e_r = <H>``.

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel` or ``psi`` does not have the
            model's batch shape and a last axis of ``2**N``.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((5,)))
        >>> e = energy_density(model, eigenstates(model, 3))          # = h_r(n=3)
        >>> bool(np.allclose(e, lbit_energy_density(model.h0)[:, 3]))
        True
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    psi = check_psi(psi, model.n_sites, "psi")
    batch = model.batch_shape
    if psi.shape[: len(batch)] != batch:
        raise JaxmblError(f"psi must start with the model's batch shape {batch}, got shape {psi.shape}")
    return _energy_density_core(model, psi.astype(jnp.promote_types(psi.dtype, complex_dtype(model.dtype))))


@functools.partial(jax.jit, static_argnames=("site", "state_batch"))
def _flip_amplitudes_core(model, op, site, state_batch):
    n = model.n_sites
    flips = jnp.asarray(1 << (n - 1 - np.arange(n)))

    def one(m):
        def column(idx):
            psi = eigenstates(m, idx).astype(op.dtype)  # U|n>
            w = m.U.rmv(apply_one_site(psi, op, site, n))
            return jnp.abs(w[jnp.bitwise_xor(idx, flips)])

        return lax.map(column, jnp.arange(2**n), batch_size=state_batch)

    return map_batch(one, model, model.batch_shape)


@renamed_keywords(batch_size="state_batch")
def flip_amplitudes(model, op, site: int, *, state_batch: int = 64):
    """``|<n xor e_r| U^dagger O_site U |n>|`` for every l-bit configuration n and every site r.

    This is the amplitude ``|<E'|O(r0)|E>|`` for ``|E> = U|n>`` and ``|E'> = U X_r U^dagger |E>``
    (paper §II), exactly, for all ``2**N`` eigenstates.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        op: the one-site operator O, ``(2, 2)``.
        site: r0.
        state_batch: eigenstates processed together (memory vs speed). Deprecated alias:
            ``batch_size``.

    Returns:
        ``model.batch_shape + (2**N, N)`` real moduli in [0, 1]: entry ``[n, r]``.

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel`, ``op`` is not ``(2, 2)``, for a
            bad ``site`` or ``state_batch``, or if the batch would not fit in memory.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((6,)), depth=2)
        >>> A = flip_amplitudes(model, np.array([[0, 1], [1, 0]]), 0)
        >>> float(A[:, 5].max()) < 1e-12        # beyond the light cone of a depth-2 circuit
        True
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    op = jnp.asarray(op)
    if op.shape != (2, 2):
        raise JaxmblError(f"op must be a (2, 2) one-site operator, got shape {op.shape}")
    if int(site) != site or not 0 <= site < model.n_sites:
        raise JaxmblError(f"site must be an integer in 0..{model.n_sites - 1}, got {site!r}")
    if int(state_batch) != state_batch or state_batch < 1:
        raise JaxmblError(f"state_batch must be a positive integer, got {state_batch!r}")
    check_state_memory(model.n_sites, 2 * state_batch * max(1, int(np.prod(model.batch_shape))), model.dtype)
    op = op.astype(jnp.promote_types(op.dtype, complex_dtype(model.dtype)))
    return _flip_amplitudes_core(model, op, int(site), int(state_batch))
