"""Quasi-locality of the generator J_r built from one local term V_r of dH (paper eq. 4.16–4.17).

Expand ``J = sum_P c_P P`` over Pauli strings. Two profiles of where J lives:

* **outside weight** ``w_out(d)``: the share of ``sum_P |c_P|^2`` on strings whose support is
  not inside the ball ``B_d(r)`` of sites within distance d of r. The part of J inside a region A
  is ``tr_{A^c}(J)/D_{A^c} (x) 1``, so ``w_out(d) = 1 - ||tr_{A^c} J||_F^2 / (D_{A^c} ||J||_F^2)``:
  one partial trace per d (a reshape and an einsum), not a loop over 4**N strings.
* **site weight** ``w_j``: the share on strings acting non-trivially on site j. With
  ``[P, sigma^a_j] = 2 P sigma^a_j`` when P_j is neither 1 nor sigma^a, and 0 otherwise,

      sum_{a = x, y, z} ||[J, sigma^a_j]||_F^2 = 8 D sum_{P: P_j != 1} |c_P|^2,

  so ``w_j = sum_a ||[J, sigma^a_j]||_F^2 / (8 ||J||_F^2)``. :func:`commutator_weights` estimates
  the left side with random vectors (Hutchinson: ``E_v ||C v||^2 = ||C||_F^2`` for
  ``E[v v^dagger] = 1``), which needs only J applied to states (:func:`apply_generator`), at any N.

:func:`generator_locality` builds J_r for ``H + s V_r`` at ``s = 0`` and fits a decay length to
either profile (:func:`decay_length`). Lieb–Robinson and the fast decay of F (eq. 4.17) predict
exponential decay with a length of order ``v_LR / gap``; in the l-bit model, of order xi.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._analysis.fits import decay_length
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import Lattice
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.adiabatic import quasi_adiabatic_generator
from jaxmbl._stability.families import perturbation_family
from jaxmbl._stability.generator import apply_generator
from jaxmbl._swingle.model import SwingleModel

_MAX_DENSE_SITES = 10


def _as_lattice(lattice, n_sites):
    if lattice is None:
        return Lattice((n_sites,))
    if isinstance(lattice, int):
        return Lattice((lattice,))
    if not isinstance(lattice, Lattice):
        raise TypeError(f"lattice must be a Lattice or an int chain length, got {type(lattice).__name__}")
    if lattice.n_sites != n_sites:
        raise JaxmblError(f"lattice has {lattice.n_sites} sites but the operator acts on {n_sites}")
    return lattice


def _n_sites_of_matrix(J):
    D = J.shape[-1]
    if J.ndim != 2 or J.shape[0] != D or D < 2 or D & (D - 1):
        raise JaxmblError(f"J must be a dense (2**N, 2**N) matrix, got shape {J.shape}")
    n = D.bit_length() - 1
    if n > _MAX_DENSE_SITES:
        raise JaxmblError(f"dense Pauli weights are for N <= {_MAX_DENSE_SITES}, got N = {n}; use commutator_weights")
    return n


@functools.partial(jax.jit, static_argnames=("keep", "n_sites"))
def _inside_norm2(J, keep, n_sites):
    """``||tr_{A^c} J||_F^2 / D_{A^c}`` for the region A = ``keep`` (a sorted tuple of sites)."""
    rest = tuple(r for r in range(n_sites) if r not in keep)
    t = J.reshape((2,) * (2 * n_sites))
    perm = keep + rest + tuple(n_sites + r for r in keep) + tuple(n_sites + r for r in rest)
    dk, dr = 2 ** len(keep), 2 ** len(rest)
    t = jnp.transpose(t, perm).reshape(dk, dr, dk, dr)
    reduced = jnp.einsum("ajbj->ab", t)
    return jnp.sum(jnp.abs(reduced) ** 2) / dr


def pauli_weight_outside(J, site: int, lattice=None):
    """Share of ``||J||_F^2`` on Pauli strings not supported within distance d of ``site``, d = 0, 1, ...

    Args:
        J: dense ``(2**N, 2**N)`` operator, N <= 10.
        site: the centre r.
        lattice: a :class:`Lattice` or an int (open chain); default the open chain of N sites.

    Returns:
        ``(d, w_out)``: integer-valued distances ``d`` (the distinct site distances from r, ascending,
        the largest dropped since nothing is outside it) and ``w_out[d]`` in [0, 1].

    Example:
        >>> X0Z2 = jnp.asarray(pauli_string("XIZ"))
        >>> d, w = pauli_weight_outside(X0Z2, 0)
        >>> d.tolist(), w.round(12).tolist()
        ([0.0, 1.0], [1.0, 1.0])
    """
    J = jnp.asarray(J)
    n = _n_sites_of_matrix(J)
    lat = _as_lattice(lattice, n)
    if int(site) != site or not 0 <= site < n:
        raise JaxmblError(f"site must be an integer in 0..{n - 1}, got {site!r}")
    dist = np.asarray(lat.distances)[int(site)]
    radii = np.unique(np.round(dist, 12))[:-1]
    total = jnp.sum(jnp.abs(J) ** 2)
    inside = [_inside_norm2(J, tuple(int(r) for r in np.nonzero(dist <= d + 1e-12)[0]), n) for d in radii]
    return radii, np.asarray(1.0 - jnp.stack(inside) / total)


def pauli_site_weights(J):
    """Share ``w_j`` of ``||J||_F^2`` on Pauli strings acting non-trivially on site j, for every j.

    ``w_j = 1 - ||tr_j J||_F^2 / (2 ||J||_F^2)``; equal to ``sum_a ||[J, sigma^a_j]||_F^2 / (8 ||J||_F^2)``.

    Args:
        J: dense ``(2**N, 2**N)`` operator, N <= 10.

    Returns:
        ``(N,)`` numpy array in [0, 1].

    Example:
        >>> pauli_site_weights(jnp.asarray(pauli_string("XIZ"))).round(12).tolist()
        [1.0, 0.0, 1.0]
    """
    J = jnp.asarray(J)
    n = _n_sites_of_matrix(J)
    total = jnp.sum(jnp.abs(J) ** 2)
    rows = [_inside_norm2(J, tuple(r for r in range(n) if r != j), n) for j in range(n)]
    return np.asarray(1.0 - jnp.stack(rows) / total)


def _random_phase_vectors(key, n_vectors, dim, dtype):
    return jnp.exp(2j * jnp.pi * jr.uniform(key, (n_vectors, dim))).astype(dtype)


@jax.jit
def _pauli_on_site(v, a, mask):
    """``sigma^a_j v`` for states ``(M, D)``, with ``mask`` the basis bit of site j and a = 1, 2, 3 (X, Y, Z).

    ``(sigma^a v)[m] = phase_a(m) v[m XOR flip_a]``: X flips, Z signs, Y = iXZ does both. Site and
    Pauli are traced, so every (j, a) shares one compiled kernel.
    """
    idx = jnp.arange(v.shape[-1], dtype=mask.dtype)
    bit = (idx & mask) != 0
    flipped = jnp.where(a == 3, idx, idx ^ mask)
    phase = jnp.where(a == 1, 1.0 + 0j, jnp.where(a == 2, jnp.where(bit, 1j, -1j), jnp.where(bit, -1.0 + 0j, 1.0)))
    return phase.astype(v.dtype) * v[..., flipped]


def commutator_weights(key, J_fn, n_sites: int, sites, *, n_vectors: int = 4, paulis: str = "XYZ"):
    """Hutchinson estimates of ``||[J, sigma^a_j]||_F^2 / D`` and ``||J||_F^2 / D`` from J applied to states.

    Random-phase vectors v (``|v_i| = 1``, so ``E[v v^dagger] = 1``) give
    ``E_v ||[J, sigma] v||^2 = ||[J, sigma]||_F^2``; each vector needs ``J v`` and ``J sigma^a_j v``.
    The site weight (module docstring) is ``sum_a ||[J, sigma^a_j]||_F^2 / (8 ||J||_F^2)`` when all
    three Paulis are used.

    Args:
        key: a ``jax.random`` key.
        J_fn: ``states (M, 2**N) -> J states (M, 2**N)``, e.g.
            ``lambda v: apply_generator(fam, 0.0, v, gap=0.5)[0]``.
        n_sites: N.
        sites: the sites j (ints).
        n_vectors: random vectors (the relative error of each estimate falls like
            ``1/sqrt(n_vectors D_eff)``; a few suffice at large N).
        paulis: which of ``"X"``, ``"Y"``, ``"Z"`` to use.

    Returns:
        dict with ``comm`` ``(len(sites), len(paulis))`` (estimates of ``||[J, sigma^a_j]||_F^2 / D``),
        ``comm_err`` (their standard errors over the vectors), ``norm2`` and ``norm2_err``
        (``||J||_F^2 / D``), ``site_weight`` ``(len(sites),)`` (``sum_a comm / (8 norm2)``,
        meaningful with ``paulis="XYZ"``) and ``site_weight_err``.

    Example:
        >>> J = jnp.asarray(pauli_string("XIZ"))
        >>> out = commutator_weights(jax.random.key(0), lambda v: v @ J.T, 3, [0, 1])
        >>> out["site_weight"].round(10).tolist()
        [1.0, 0.0]
    """
    if bad := sorted(set(paulis) - set("XYZ")) or not paulis:
        raise JaxmblError(f"paulis must be a non-empty string of X, Y, Z, got {paulis!r} ({bad})")
    if int(n_vectors) != n_vectors or n_vectors < 2:
        raise JaxmblError(f"n_vectors must be an integer >= 2 (for error bars), got {n_vectors!r}")
    sites = [int(j) for j in np.atleast_1d(sites)]
    if any(not 0 <= j < n_sites for j in sites):
        raise JaxmblError(f"sites must lie in 0..{n_sites - 1}, got {sites}")
    dim = 2**n_sites
    v = _random_phase_vectors(key, int(n_vectors), dim, jnp.complex128)
    Jv = jnp.asarray(J_fn(v))
    labels = [" XYZ".index(a) for a in paulis]
    norm2 = np.asarray(jnp.sum(jnp.abs(Jv) ** 2, axis=-1)) / dim
    comm = np.zeros((len(sites), len(paulis), int(n_vectors)))
    for i, j in enumerate(sites):
        mask = jnp.asarray(1 << (n_sites - 1 - j), jnp.int64)
        sig = jnp.concatenate([_pauli_on_site(v, a, mask) for a in labels])
        J_sig = jnp.asarray(J_fn(sig)).reshape(len(labels), int(n_vectors), dim)
        for k, a in enumerate(labels):
            comm[i, k] = np.asarray(jnp.sum(jnp.abs(J_sig[k] - _pauli_on_site(Jv, a, mask)) ** 2, axis=-1)) / dim
    m = int(n_vectors)
    per_vector = comm.sum(axis=1) / (8 * norm2[None, :])
    return {
        "comm": comm.mean(-1),
        "comm_err": comm.std(-1, ddof=1) / np.sqrt(m),
        "norm2": float(norm2.mean()),
        "norm2_err": float(norm2.std(ddof=1) / np.sqrt(m)),
        "site_weight": comm.sum(axis=1).mean(-1) / (8 * norm2.mean()),
        "site_weight_err": per_vector.std(-1, ddof=1) / np.sqrt(m),
    }


def _dense_generator(H, V, gap):
    """J_V of ``H + sV`` at s = 0, dense (SwingleModel H: its exact eigen-data; else eigh)."""
    Vd = jnp.asarray(V.dense() if hasattr(V, "dense") else V)
    Hd = H.dense() if hasattr(H, "dense") else jnp.asarray(H)
    cdt = jnp.result_type(Hd, Vd, jnp.complex64)
    return quasi_adiabatic_generator(lambda s: Hd.astype(cdt) + s * Vd.astype(cdt), 0.0, gap=gap)


def generator_locality(
    key, H, V, site: int, *, gap, lattice=None, method: str = "dense", n_vectors: int = 4, tol: float = 1e-6
):
    """Where J_r of the family ``H + s V_r`` (at s = 0) lives: profiles against distance and decay lengths.

    Args:
        key: ``jax.random`` key of the random vectors (``"hutchinson"``); ``None`` is accepted for
            ``"dense"``, which is deterministic.
        H: a :class:`SwingleModel`, :class:`PauliSum` or dense Hermitian matrix (one realization).
        V: the local term V_r, a :class:`PauliSum` (or dense for ``method="dense"``).
        site: its centre r.
        gap: filter scale ``Delta > 0``.
        lattice: a :class:`Lattice` or int; default H's lattice or the open chain.
        method: ``"dense"`` (exact Pauli weights of the dense J_r, N <= 10) or ``"hutchinson"``
            (:func:`commutator_weights` with :func:`apply_generator`, any N that fits).
        n_vectors: random vectors (``"hutchinson"``).
        tol: relative tolerance of :func:`apply_generator` (``"hutchinson"``).

    Returns:
        dict with ``distance`` ``(K,)``, ``site_weight`` ``(K,)`` (mean site weight over the sites at
        that distance) and its ``xi_site``, ``xi_site_err``; ``"dense"`` adds ``outside`` (the
        outside weight ``w_out(d)``) with ``xi``, ``xi_err``; ``"hutchinson"`` adds
        ``site_weight_err``. Lengths in lattice units (``inf``/NaN when no decay is resolved).

    Example:
        >>> H = random_field_heisenberg(jax.random.key(0), 5, 4.0)
        >>> V = PauliSum.from_terms(5, [("X", [2], 1.0)])
        >>> out = generator_locality(None, H, V, 2, gap=0.5)
        >>> out["distance"].tolist(), bool(out["outside"][0] > out["outside"][-1])
        ([0.0, 1.0], True)
    """
    n = int(H.n_sites) if hasattr(H, "n_sites") else int(jnp.shape(H)[-1]).bit_length() - 1
    if lattice is None and isinstance(H, SwingleModel):
        lattice = H.lattice
    lat = _as_lattice(lattice, n)
    dist = np.asarray(lat.distances)[int(site)]
    if method == "dense":
        J = _dense_generator(H, V, gap)
        d, outside = pauli_weight_outside(J, site, lat)
        sw = pauli_site_weights(J)
        site_w = np.array([sw[np.abs(dist - r) < 1e-12].mean() for r in d])
        xi, xi_err, _ = decay_length(d, outside, 1e-13)
        xs, xs_err, _ = decay_length(d, site_w, 1e-13)
        return {"distance": d, "outside": outside, "xi": xi, "xi_err": xi_err, "site_weight": site_w,
                "xi_site": xs, "xi_site_err": xs_err}  # fmt: skip
    if method != "hutchinson":
        raise JaxmblError(f"method must be 'dense' or 'hutchinson', got {method!r}")
    if key is None:
        raise JaxmblError("key: method='hutchinson' needs a jax.random key, e.g. jax.random.key(0)")
    if not isinstance(V, PauliSum):
        raise TypeError(f"V must be a PauliSum for method='hutchinson', got {type(V).__name__}")
    fam = perturbation_family(H, V)
    radii = np.unique(np.round(dist, 12))
    reps = [int(np.nonzero(np.abs(dist - r) < 1e-12)[0][0]) for r in radii]  # one site per distance
    out = commutator_weights(
        key, lambda v: apply_generator(fam, 0.0, v, gap=gap, tol=tol)[0], n, reps, n_vectors=n_vectors
    )
    # J is known to ~tol ||dH|| / gap, which moves a weight w by ~4 sqrt(w) tol: fit above (10 tol)^2 * 16.
    floor = 16 * (10 * tol) ** 2
    xs, xs_err, _ = decay_length(radii, out["site_weight"], floor)
    return {
        "distance": radii,
        "sites": np.asarray(reps),
        "site_weight": out["site_weight"],
        "site_weight_err": out["site_weight_err"],
        "xi_site": xs,
        "xi_site_err": xs_err,
    }
