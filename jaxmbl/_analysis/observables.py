r"""Charge-resolved observables of quenches: magnetization, imbalance, number and configurational entropy.

Particles are the l-bit occupations of the conventions, ``n_r = P_r = (1 - Z_r)/2`` (a down
spin, ``|1>``). When the state has a definite total charge ``sum_r n_r`` (the U(1) models of
``sample_u1_model``), ``rho_A`` is block diagonal in the charge ``N_A`` of region A and its
entropy splits exactly into (Lukin et al., Science 364, 256 (2019))

.. math::
    S(A) = S_N + S_{conf}, \qquad S_N = -\sum_k p_k \ln p_k, \qquad
    S_{conf} = \sum_k p_k S(\rho_{A,k}),

with ``p_k`` the probability of k particles in A. ``S_N`` counts particle-number fluctuations
across the boundary (bounded in an MBL phase), ``S_conf`` the entanglement of configurations
(which grows as ln t). The imbalance ``I = (N_e - N_o)/(N_e + N_o)`` of the particle numbers on
the even and odd sublattices is what cold-atom experiments measure (Schreiber et al., Science
349, 842 (2015)); it decays to zero in a thermalizing system and stays finite under MBL.

Every function accepts a batch ``(..., 2**N)`` of states, divides by ``<psi|psi>`` and is jittable
with the region static. :func:`region_entropies` gives the entropies of many regions of a state
with *one* batched eigensolver call (the Gram matrices are zero-padded to a common size, which
adds only zero eigenvalues): faster than one call per region, and it keeps a time loop free of
many concurrent eigensolver calls, which deadlock XLA's CPU runtime in jax 0.10 unless
``--xla_cpu_enable_concurrency_optimized_scheduler=false`` is set.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._analysis.entanglement import _check_alpha, _prepare, _renyi, _spectrum_1, _split
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import as_lattice
from jaxmbl._core.linalg import eigvalsh_hf


def _probabilities(psi):
    """Born weights ``|psi(n)|^2 / <psi|psi>`` reshaped to ``(2,)*N`` (no sqrt: smooth at 0)."""
    n_sites = psi.shape[-1].bit_length() - 1
    prob = jnp.real(psi * psi.conj())
    return (prob / jnp.sum(prob)).reshape((2,) * n_sites)


def _occupations_1(psi):
    n_sites = psi.shape[-1].bit_length() - 1
    prob = _probabilities(psi)
    return jnp.stack([jnp.sum(prob, axis=tuple(s for s in range(n_sites) if s != r))[1] for r in range(n_sites)])


@jax.jit
def _occupations_core(psi):
    return jnp.vectorize(_occupations_1, signature="(n)->(m)")(psi)


def occupations(psi):
    """Occupations ``<n_r> = <P_r> = (1 - <Z_r>)/2`` of every site r.

    Args:
        psi: states, ``(..., 2**N)``; need not be normalized.

    Returns:
        ``(..., N)`` real occupations in [0, 1] (entry r is site r).

    Raises:
        ValueError: if the last axis of ``psi`` is not ``2**N``.

    Example:
        >>> occupations(basis_state(3, 0b010)).tolist()
        [0.0, 1.0, 0.0]
    """
    psi, _ = _prepare(psi, {})
    return _occupations_core(psi)


def _sublattice(lattice, n_sites):
    lat = as_lattice(lattice)
    if lat.n_sites != n_sites:
        raise JaxmblError(f"lattice has {lat.n_sites} sites but psi has N={n_sites}")
    return tuple(int(p) for p in lat.coords.sum(axis=1) % 2)


@functools.partial(jax.jit, static_argnames="parity")
def _imbalance_core(psi, parity):
    n = _occupations_core(psi)
    odd = jnp.asarray(parity, n.dtype)
    n_even, n_odd = jnp.sum(n * (1 - odd), axis=-1), jnp.sum(n * odd, axis=-1)
    total = n_even + n_odd
    safe = jnp.where(total > 0, total, 1)  # double where: no 0/0 for the empty state
    return jnp.where(total > 0, (n_even - n_odd) / safe, 0)


def imbalance(psi, lattice):
    """Sublattice imbalance ``I = (N_e - N_o)/(N_e + N_o)`` of the particles ``n_r = P_r``.

    ``N_e`` (``N_o``) is the expected number of particles on sites whose coordinate sum is even
    (odd). ``I = 1`` for the density wave with every even site occupied, ``-1`` for the odd one,
    and ``I -> 0`` when a charge-conserving system thermalizes. Defined as 0 for the empty state.

    Args:
        psi: states, ``(..., 2**N)``.
        lattice: the :class:`Lattice` (or N for a chain), which fixes the sublattices.

    Returns:
        ``(...)`` real imbalances in [-1, 1].

    Raises:
        ValueError: for a bad ``psi`` shape or a lattice whose site count is not psi's N.

    Example:
        >>> round(float(imbalance(basis_state(4, 0b1010), 4)), 6)   # particles on sites 0 and 2
        1.0
    """
    psi, _ = _prepare(psi, {})
    return _imbalance_core(psi, _sublattice(lattice, psi.shape[-1].bit_length() - 1))


def _number_distribution_1(psi, region):
    n_sites = psi.shape[-1].bit_length() - 1
    prob = _probabilities(psi)
    q = jnp.sum(prob, axis=tuple(r for r in range(n_sites) if r not in region)).reshape(-1)
    # Charge of every configuration of A (bits of the sites of A, MSB first).
    charge = np.array([bin(x).count("1") for x in range(2 ** len(region))])
    return jnp.zeros(len(region) + 1, q.dtype).at[charge].add(q)


@functools.partial(jax.jit, static_argnames="region")
def _number_distribution_core(psi, region):
    return jnp.vectorize(functools.partial(_number_distribution_1, region=region), signature="(n)->(k)")(psi)


def number_distribution(psi, region):
    """Charge distribution ``p_k``: the probability of finding k particles (``n_r = 1``) in region A.

    ``p_k = sum_{x: |x| = k} q(x)`` with ``q(x)`` the Born probability of the Z configuration x
    of A (the diagonal of rho_A).

    Args:
        psi: states, ``(..., 2**N)``; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).

    Returns:
        ``(..., |A| + 1)`` real probabilities summing to 1; entry k is ``p_k``.

    Raises:
        ValueError: for a bad ``psi`` shape or ``region``.

    Example:
        >>> psi = (basis_state(2, 0b01) + basis_state(2, 0b10)) / jnp.sqrt(2)
        >>> number_distribution(psi, [0]).round(6).tolist()
        [0.5, 0.5]
    """
    psi, (region,) = _prepare(psi, {"region": region})
    return _number_distribution_core(psi, region)


@functools.partial(jax.jit, static_argnames="region")
def _number_entropy_core(psi, region):
    return _renyi(_number_distribution_core(psi, region), 1.0)


def number_entropy(psi, region):
    """Number entropy ``S_N = -sum_k p_k ln p_k`` of the charge distribution of region A (nats).

    Bounded by ``ln(|A| + 1)``. Zero for a state with a definite number of particles in A.

    Args:
        psi: states, ``(..., 2**N)``; need not be normalized.
        region: distinct sites in ``0..N-1`` (any order, contiguous or not).

    Returns:
        ``(...)`` real entropies (nats).

    Raises:
        ValueError: for a bad ``psi`` shape or ``region``.

    Example:
        >>> psi = (basis_state(2, 0b01) + basis_state(2, 0b10)) / jnp.sqrt(2)
        >>> round(float(number_entropy(psi, [0])), 6)    # ln 2
        0.693147
    """
    psi, (region,) = _prepare(psi, {"region": region})
    return _number_entropy_core(psi, region)


@functools.partial(jax.jit, static_argnames="region")
def _configurational_entropy_core(psi, region):
    S = jnp.vectorize(lambda v: _renyi(_spectrum_1(v, region), 1.0), signature="(n)->()")(psi)
    return S - _number_entropy_core(psi, region)


def configurational_entropy(psi, region):
    """Configurational entropy ``S_conf = S(A) - S_N(A) = sum_k p_k S(rho_{A,k})`` (nats).

    The split is exact, and ``S_conf >= 0``, when psi has a definite total charge (then
    ``rho_A`` is block diagonal in the charge of A). For other states ``S - S_N`` is returned
    as is and may be negative.

    Args:
        psi: states, ``(..., 2**N)``, not necessarily normalized; the split is exact for states of
            definite total charge.
        region: the sites of A, distinct, in ``0..N-1``, in any order.

    Returns:
        ``(...)`` configurational entropies in nats, ``S(A) - S_N(A)``.

    Raises:
        ValueError: when the shape of ``psi`` or the ``region`` is bad.

    Example:
        >>> bell = (basis_state(2, 0b01) + basis_state(2, 0b10)) / jnp.sqrt(2)
        >>> round(float(configurational_entropy(bell, [0])), 6)   # all of S is number entropy
        0.0
    """
    psi, (region,) = _prepare(psi, {"region": region})
    return _configurational_entropy_core(psi, region)


def _region_entropies_1(psi, regions, alpha):
    n_sites = psi.shape[-1].bit_length() - 1
    size = max(min(2 ** len(A), 2 ** (n_sites - len(A))) for A in regions)
    grams = []
    for A in regions:
        M = _split(psi, A)
        G = M @ M.conj().T if M.shape[0] <= M.shape[1] else M.conj().T @ M  # the smaller Gram matrix
        grams.append(jnp.zeros((size, size), G.dtype).at[: G.shape[0], : G.shape[0]].set(G))
    G = jnp.stack(grams)
    lam = jax.vmap(eigvalsh_hf)(G)[:, ::-1]
    # Same noise floor as entanglement_spectrum: eigenvalues below size * eps * max are zeros.
    tol = size * jnp.finfo(lam.dtype).eps * lam[:, :1]
    p = jnp.where(lam > tol, lam, 0) / jnp.real(jnp.trace(G, axis1=-2, axis2=-1))[:, None]
    return _renyi(p, alpha)


@functools.partial(jax.jit, static_argnames=("regions", "alpha"))
def _region_entropies_core(psi, regions, alpha):
    return jnp.vectorize(functools.partial(_region_entropies_1, regions=regions, alpha=alpha), signature="(n)->(k)")(
        psi
    )


def region_entropies(psi, regions, alpha=1):
    """Entanglement entropies of several regions of the same states, in nats: ``(..., len(regions))``.

    Equal to ``stack([entropy(psi, A, alpha) for A in regions], -1)``, but all Gram matrices go
    through one batched eigensolver call (zero-padded to the largest ``min(2**|A|, 2**|B|)``).

    Args:
        psi: states, ``(..., 2**N)``; need not be normalized.
        regions: a sequence of regions (each a collection of distinct sites).
        alpha: Renyi index > 0 or ``np.inf`` (1: von Neumann). Static.

    Returns:
        ``(..., len(regions))`` real entropies (nats); entry j is region j.

    Raises:
        ValueError: for an empty ``regions``, a bad region (named ``regions[j]``), a bad
            ``psi`` shape, or a bad ``alpha``.

    Example:
        >>> bell = (basis_state(3, 0b000) + basis_state(3, 0b110)) / jnp.sqrt(2)
        >>> S = region_entropies(bell, [[0], [2], [0, 2]])  # site 2 is not entangled
        >>> np.allclose(S, [np.log(2), 0.0, np.log(2)], atol=1e-12)
        True
    """
    alpha = _check_alpha(alpha)
    regions = list(regions)
    if not regions:
        raise JaxmblError("regions must contain at least one region")
    psi, checked = _prepare(psi, {f"regions[{i}]": A for i, A in enumerate(regions)})
    return _region_entropies_core(psi, tuple(checked), alpha)
