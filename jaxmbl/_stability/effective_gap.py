"""The effective gap of paper §IV.C–D: how much of K lives on near-resonant pairs (eq. 4.29–4.31).

For the conjugation family ``H(s) = e^{-isK} H0 e^{isK}`` (eq. 4.27) the generator in the l-bit
frame has matrix elements (eq. 4.31)

    <n| U(s)^dagger J(s) U(s) |m> = F~(E(n) - E(m)) (E(m) - E(n)) <n|K|m> = (1 - b((E(n) - E(m))/gap)) K_nm,

so ``U^dagger J U = K`` exactly on every pair with ``|E(n) - E(m)| >= gap`` and differs from K
only on the near-resonant pairs. The paper's argument: K is local and the ``|n>`` are product
states, so ``K|n>`` reaches few states, and almost none of them is within ``gap`` in energy.
:func:`near_resonant_fraction` measures that: for basis states n,

    r_n(gap) = sum_{m != n, |E(m) - E(n)| < gap} |K_mn|^2 / sum_m |K_mn|^2,

from ``K|n>`` built string by string (a Pauli string maps ``|n>`` to one basis state), so the
cost is O(#strings of K x #couplings of H0) per n, at any N: no 2**N vector is formed.
:func:`generator_deviation` checks eq. 4.29–4.31 densely at small N.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.batching import is_traced
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.adiabatic import quasi_adiabatic_generator
from jaxmbl._stability.families import Family, conjugation_family
from jaxmbl._stability.generator import apply_generator
from jaxmbl._swingle.generator_unitary import GeneratorUnitary
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel


def _generator_strings(K):
    """``(labels (M, N) numpy, coef (M,))`` of the generator K of a conjugation family (coef traceable)."""
    if isinstance(K, GeneratorUnitary):
        n = K.n_sites
        labels = []
        for i, j in K.pairs:
            for a in range(4):
                for b in range(4):
                    row = np.zeros(n, np.int64)
                    row[i], row[j] = a, b
                    labels.append(row)
        for (i,) in K.singles:
            for a in range(4):
                row = np.zeros(n, np.int64)
                row[i] = a
                labels.append(row)
        coef = jnp.concatenate([jnp.reshape(K.coef2, (-1,)), jnp.reshape(K.coef1, (-1,))])
        return np.asarray(labels, np.int64).reshape(-1, n), coef
    P = K.K  # PauliExponential
    if is_traced(P.paulis):
        raise JaxmblError("the Pauli labels of K must be concrete (they fix which states K|n> reaches)")
    return np.asarray(P.paulis, np.int64), jnp.real(P.coef)


def _conjugation_parts(family):
    """``(model, labels, coef)`` from a conjugation Family or a SwingleModel with U = exp(-iK)."""
    if isinstance(family, SwingleModel):
        family = conjugation_family(family)
    if not isinstance(family, Family) or family.name != "conjugation":
        raise TypeError(
            f"family must be a conjugation_family(...) or a SwingleModel with a GeneratorUnitary, got {type(family).__name__}"
        )
    model, K = family.params
    labels, coef = _generator_strings(K)
    return family, model, labels, coef


def _masks(labels):
    """Flip, phase and #Y of each string as basis-index masks (site 0 = most significant bit)."""
    n = labels.shape[1]
    weights = 1 << np.arange(n - 1, -1, -1, dtype=np.int64)
    flip = ((labels == 1) | (labels == 2)) @ weights
    phase = ((labels == 2) | (labels == 3)) @ weights
    return flip, phase, (labels == 2).sum(axis=1)


def _popcount_parity(x, n_bits):
    par = jnp.zeros_like(x)
    for b in range(n_bits):
        par = par ^ ((x >> b) & 1)
    return par


@functools.partial(jax.jit, static_argnames=("n_sites", "flips", "groups", "phase", "n_y", "h0_masks"))
def _fractions_core(coef, h0_coef, idx, gaps, *, n_sites, flips, groups, phase, n_y, h0_masks):
    """Per basis index: (near-resonant weight, diagonal weight, total weight) for each gap."""
    flips_a, groups_a = np.asarray(flips), np.asarray(groups)
    phase_a, y = np.asarray(phase), np.asarray(n_y)
    masks = jnp.asarray(np.asarray(h0_masks), idx.dtype)

    def energy(states):
        occupied = (states[:, None] & masks[None, :]) == masks[None, :]
        return occupied.astype(h0_coef.dtype) @ h0_coef

    def one(n):
        sign = 1 - 2 * _popcount_parity(n & jnp.asarray(phase_a, idx.dtype), n_sites)
        amp = coef.astype(jnp.complex128 if coef.dtype == jnp.float64 else jnp.complex64) * (1j ** (y % 4)) * sign
        c = jax.ops.segment_sum(amp, jnp.asarray(groups_a), num_segments=len(flips_a))
        w = jnp.abs(c) ** 2
        targets = n ^ jnp.asarray(flips_a, idx.dtype)
        E = energy(jnp.concatenate([n[None], targets]))
        dE = jnp.abs(E[1:] - E[0])
        off = jnp.asarray(flips_a != 0)
        near = jnp.sum(jnp.where(off[None, :] & (dE[None, :] < gaps[:, None]), w[None, :], 0.0), axis=1)
        return near, jnp.sum(jnp.where(off, 0.0, w)), jnp.sum(w)

    return jax.vmap(one)(idx)


def near_resonant_fraction(key, family, gaps, *, n_samples: int = 256, states=None):
    """Fraction of ``||K|n>||^2`` on near-resonant states ``|E(m) - E(n)| < gap``, m != n (eq. 4.31).

    For the conjugation family ``H(s) = e^{-isK} H0 e^{isK}`` these are exactly the matrix
    elements where the quasi-adiabatic generator differs from K (see the module docstring):
    ``r_n = sum_{m != n, |E(m)-E(n)| < gap} |K_mn|^2 / sum_m |K_mn|^2``. Basis states n are drawn
    uniformly with ``key`` (or given as ``states``); K|n> is built string by string, so any N works.

    Args:
        key: a ``jax.random`` key (ignored when ``states`` is given; may then be None).
        family: a :func:`conjugation_family` (K a GeneratorUnitary or a PauliSum), or a
            :class:`SwingleModel` with ``unitary="generator"`` (K its own generator); one realization.
        gaps: scalar or 1D array of ``Delta > 0`` (energy units of J0).
        n_samples: number of sampled basis states.
        states: optional int array of basis indices instead of sampling.

    Returns:
        dict with ``fraction`` ``(n_states, n_gaps)`` (the ``r_n``), ``mean`` and ``stderr``
        ``(n_gaps,)`` over the sampled n, ``pooled`` ``(n_gaps,)`` = ``sum_n near_n / sum_n total_n``
        (the fraction of ``||K||_F^2`` itself when n is uniform), ``diagonal`` ``(n_states,)`` (the
        weight of ``<n|K|n>``, where ``U^dagger J U = 0 != K``), and ``states``.

    Raises:
        TypeError: family is not a conjugation family or a generator-unitary model.
        JaxmblError: bad gaps, n_samples or states.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)), unitary="generator")
        >>> out = near_resonant_fraction(jr.key(1), model, [0.01, 0.3], n_samples=32)
        >>> out["fraction"].shape, bool(out["mean"][0] <= out["mean"][1])
        ((32, 2), True)
    """
    family, model, labels, coef = _conjugation_parts(family)
    if model.batch_shape:
        raise JaxmblError(f"family must be one realization, got batch shape {model.batch_shape}; use jax.vmap")
    n = model.n_sites
    if n > 62:
        raise JaxmblError(f"n_sites={n} does not fit basis indices in 64 bits")
    gaps = jnp.atleast_1d(jnp.asarray(gaps, model.dtype))
    if gaps.ndim != 1 or (not is_traced(gaps) and not bool(jnp.all(gaps > 0))):
        raise JaxmblError(f"gaps must be a scalar or 1D array of values > 0, got {gaps!r}")
    if states is None:
        if int(n_samples) != n_samples or n_samples < 1:
            raise JaxmblError(f"n_samples must be a positive integer, got {n_samples!r}")
        idx = jr.randint(key, (int(n_samples),), 0, 2**n, dtype=jnp.int64)
    else:
        idx = jnp.atleast_1d(jnp.asarray(states))
        if idx.ndim != 1 or not jnp.issubdtype(idx.dtype, jnp.integer):
            raise JaxmblError(f"states must be a 1D array of integer basis indices, got {states!r}")
        if not is_traced(idx) and (int(idx.min()) < 0 or int(idx.max()) >= 2**n):
            raise JaxmblError(f"states must lie in 0..2**N-1 = 0..{2**n - 1}")
        idx = idx.astype(jnp.int64)
    flip, phase, n_y = _masks(labels)
    uniq, groups = np.unique(flip, return_inverse=True)
    near, diag, total = _fractions_core(
        coef, model.h0.flat_coef(), idx, gaps,
        n_sites=n, flips=tuple(int(u) for u in uniq), groups=tuple(int(g) for g in groups.ravel()),
        phase=tuple(int(p) for p in phase), n_y=tuple(int(y) for y in n_y),
        h0_masks=tuple(int(m) for m in model.h0.masks()),
    )  # fmt: skip
    safe = jnp.where(total > 0, total, 1.0)
    frac = near / safe[:, None]
    m = frac.shape[0]
    stderr = jnp.std(frac, axis=0, ddof=1) / np.sqrt(m) if m > 1 else jnp.full(frac.shape[1], jnp.nan)
    return {
        "fraction": frac,
        "mean": jnp.mean(frac, axis=0),
        "stderr": stderr,
        "pooled": jnp.sum(near, axis=0) / jnp.sum(total),
        "diagonal": diag / safe,
        "states": idx,
    }


def generator_deviation(family, s, *, gap, method: str = "spectral", tol: float = 1e-10):
    """Largest ``|<n|U^dagger J U|m> - <n|K|m>|`` over pairs with ``|E(n) - E(m)| >= gap`` (eq. 4.29–4.31).

    Dense check at small N for the conjugation family: J(s) from :func:`quasi_adiabatic_generator`
    (``method="spectral"``) or column by column from :func:`apply_generator` (``"quadrature"``,
    tolerance ``tol``), U(s) and K as dense matrices. Eq. 4.31 says the deviation vanishes
    (round-off for the spectral J; the quadrature error for the other). The near-resonant pairs
    are reported separately: there J and K differ by ``b((E(n)-E(m))/gap) K_nm``.

    Args:
        family: a :func:`conjugation_family` or a SwingleModel with ``unitary="generator"``; N <= 10.
        s: real scalar.
        gap: filter scale ``Delta > 0``.
        method: ``"spectral"`` or ``"quadrature"``.
        tol: relative tolerance of :func:`apply_generator` (``"quadrature"`` only).

    Returns:
        dict with ``max_deviation`` (pairs with ``|dE| >= gap``), ``max_near`` (``max |J~ - K|``
        on the other pairs, diagonal included), ``n_far`` and ``n_near`` (pair counts); floats.

    Raises:
        TypeError: not a conjugation family.
        JaxmblError: N > 10, bad method.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)), unitary="generator")
        >>> generator_deviation(model, 0.7, gap=0.2)["max_deviation"] < 1e-12
        True
    """
    family, model, labels, coef = _conjugation_parts(family)
    n = model.n_sites
    if n > min(10, DENSE_MAX_SITES):
        raise JaxmblError(f"generator_deviation is a dense check for N <= 10, got n_sites={n}")
    if method not in ("spectral", "quadrature"):
        raise JaxmblError(f"method must be 'spectral' or 'quadrature', got {method!r}")
    Ud = family.H(s).U.dense()
    if method == "spectral":
        J = quasi_adiabatic_generator(family.H, s, gap=gap)
        Jl = Ud.conj().T @ J @ Ud
    else:
        JU, _ = apply_generator(family, s, Ud.T, gap=gap, tol=tol)
        Jl = Ud.conj().T @ JU.T
    K = PauliSum(jnp.asarray(labels, jnp.int8), coef.astype(jnp.complex128), n).dense()
    E = np.asarray(lbit_energies(model.h0))
    far = np.abs(E[:, None] - E[None, :]) >= float(gap)
    dev = np.abs(np.asarray(Jl) - np.asarray(K))
    return {
        "max_deviation": float(dev[far].max(initial=0.0)),
        "max_near": float(dev[~far].max(initial=0.0)),
        "n_far": int(far.sum()),
        "n_near": int((~far).sum()),
    }
