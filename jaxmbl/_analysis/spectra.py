r"""Spectral statistics: level-spacing ratios, density of states, spectral form factor, entanglement.

The last of these is the entanglement of eigenstates against their energy density.

The gap ratio of consecutive levels ``E_0 <= E_1 <= ..`` with gaps ``d_n = E_{n+1} - E_n``,

.. math:: \tilde r_n = \frac{\min(d_n, d_{n+1})}{\max(d_n, d_{n+1})} \in [0, 1],

needs no unfolding. Its mean is ``2 ln 2 - 1 = 0.3863`` for uncorrelated (Poisson) levels, as in
a many-body localized phase, and ``0.5307`` for the GOE, as in an ergodic phase with real H
(Oganesyan & Huse, PRB 75, 155111, arXiv:cond-mat/0610854; Atas et al., PRL 110, 084101,
arXiv:1212.5611). Resolve all symmetries first (e.g. pass a total-S^z sector to :func:`eigvalsh`):
mixed sectors look Poisson.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._analysis.entanglement import entropy
from jaxmbl._core.deprecation import key_moved_first
from jaxmbl._core.errors import JaxmblError
from jaxmbl._hamiltonians.ed import central_window
from jaxmbl._hamiltonians.pauli import sector_basis

R_POISSON = 2 * np.log(2) - 1
"""Mean gap ratio ``<r~>`` of uncorrelated (Poisson) levels, ``2 ln 2 - 1 = 0.3863``."""
R_GOE = 0.5307
"""Mean gap ratio ``<r~>`` of the GOE for large matrices (Atas et al., PRL 110, 084101 (2013))."""


def _levels(energies, name="energies"):
    E = jnp.asarray(energies)
    if E.ndim < 1 or not jnp.issubdtype(E.dtype, jnp.floating):
        raise JaxmblError(f"{name} must be a real array (..., D) of levels, got {E.dtype} array of shape {E.shape}")
    return E


def mean_gap_ratio(E):
    """``<r~>`` of sorted spectra ``E`` ``(..., D)``, with the package's one convention for degeneracies.

    This is the only implementation of the gap ratio in jaxmbl: :func:`level_spacing_ratio`, and
    through it :func:`mean_ratio` and the sweep observable ``r_tilde``, call it.

    Degenerate levels: a ratio whose two gaps are both zero is 0/0, undefined, and is *excluded*
    from the mean; a ratio with exactly one zero gap is ``r~ = 0`` (the limit of min/max as one
    gap closes). A spectrum with no defined ratio (fewer than 3 levels, or all levels equal) gives
    NaN. Gradients stay finite at degeneracies (double ``where``).

    Args:
        E: levels ``(..., D)``, sorted ascending along the last axis (in units of the energy).

    Returns:
        ``(...)`` mean gap ratios in [0, 1].

    Example:
        >>> float(mean_gap_ratio(jnp.array([0.0, 1.0, 3.0])))   # gaps 1, 2: r = 1/2
        0.5
        >>> float(mean_gap_ratio(jnp.array([0.0, 0.0, 0.0, 1.0, 3.0])))   # (0,0) excluded: (0 + 1/2)/2
        0.25
    """
    r, ok = _ratios(E)
    return jnp.sum(r, axis=-1) / jnp.sum(ok, axis=-1)


def _ratios(E):
    """Ratios ``(..., D-2)`` (0 where undefined) and the mask of defined ones (not both gaps zero)."""
    gaps = jnp.diff(E, axis=-1)
    lo = jnp.minimum(gaps[..., :-1], gaps[..., 1:])
    hi = jnp.maximum(gaps[..., :-1], gaps[..., 1:])
    ok = hi > 0
    return jnp.where(ok, lo / jnp.where(ok, hi, 1), 0), ok


def gap_ratios(E):
    """Every gap ratio ``r~_n`` of sorted spectra ``E`` ``(..., D)``: shape ``(..., D-2)``.

    The convention of :func:`mean_gap_ratio`: NaN where both gaps are zero (undefined), 0 where
    exactly one is. For histograms; averages should use :func:`mean_gap_ratio`.

    Args:
        E: levels ``(..., D)``, sorted ascending along the last axis.

    Returns:
        ``(..., D-2)`` ratios in [0, 1], NaN where undefined.

    Example:
        >>> gap_ratios(jnp.array([0.0, 0.0, 0.0, 1.0, 3.0])).tolist()
        [nan, 0.0, 0.5]
    """
    r, ok = _ratios(E)
    return jnp.where(ok, r, jnp.nan)


@partial(jax.jit, static_argnames=("start", "count"))
def _mean_ratio_core(E, *, start, count):
    return mean_gap_ratio(jnp.sort(E, axis=-1)[..., start : start + count])


def level_spacing_ratio(energies, *, window=0.5):
    """Mean gap ratio ``<r~>`` of each spectrum in the central ``window`` of its levels.

    Args:
        energies: levels ``(..., D)`` in any order; leading axes are realizations.
        window: fraction of the sorted levels kept around the middle index (see
            :func:`central_window`): ``max(1, round(window * D))`` levels, at least 3. ``None``
            (or 1) keeps all. The band edges, with their low density of states, are left out by
            default.

    Returns:
        ``(...)`` mean ratios. Degeneracies follow :func:`mean_gap_ratio`: a ratio of two zero
        gaps is excluded, a ratio with one zero gap is 0 (NaN if no ratio is defined).

    Raises:
        ValueError: if ``energies`` is not a real array, or the window keeps fewer than 3 levels.

    Example:
        >>> import numpy as np
        >>> E = np.sort(np.random.default_rng(0).uniform(size=(200, 1000)), axis=-1)
        >>> round(float(level_spacing_ratio(E).mean()), 2)   # Poisson: 2 ln 2 - 1
        0.39
    """
    E = _levels(energies)
    start, count = central_window(E.shape[-1], window)
    if count < 3:
        raise JaxmblError(f"window={window!r} keeps {count} of {E.shape[-1]} levels; the gap ratio needs at least 3")
    return _mean_ratio_core(E, start=start, count=count)


@key_moved_first
def mean_ratio(key, energies_batch, *, window=0.5, n_boot: int = 1000):
    """Disorder average of ``<r~>`` with a bootstrap standard error.

    Args:
        key: PRNG key of the bootstrap resampling. The old call ``mean_ratio(E, key=key)`` still
            works, with a ``DeprecationWarning``.
        energies_batch: ``(R, D)`` (or ``(..., D)``, all leading axes pooled) levels of R
            realizations.
        window: as in :func:`level_spacing_ratio`.
        n_boot: bootstrap resamples of the realizations.

    Returns:
        ``(mean, error)``: the mean over realizations of the per-realization ``<r~>`` and the
        standard deviation of its bootstrap distribution (the standard error of the mean).

    Raises:
        ValueError: for fewer than 2 realizations, ``n_boot < 2``, or as :func:`level_spacing_ratio`.

    Example:
        >>> import numpy as np, jax.random as jr
        >>> E = np.random.default_rng(0).uniform(size=(100, 500))
        >>> m, err = mean_ratio(jr.key(0), E)
        >>> bool(abs(m - R_POISSON) < 4 * err)
        True
    """
    r = level_spacing_ratio(energies_batch, window=window).reshape(-1)
    if r.size < 2:
        raise JaxmblError(f"energies_batch must hold at least 2 realizations, got {r.size}")
    if int(n_boot) != n_boot or n_boot < 2:
        raise JaxmblError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    return bootstrap_mean(r, key, int(n_boot))


@partial(jax.jit, static_argnums=2)
def bootstrap_mean(r, key, n_boot):
    """``(mean, error)`` of samples ``r`` ``(n,)`` with a bootstrap error.

    The error is the standard deviation of the mean over ``n_boot`` bootstrap resamples (with
    replacement) drawn with ``key``.
    """
    boot = r[jr.randint(key, (n_boot, r.size), 0, r.size)].mean(axis=1)
    return r.mean(), jnp.std(boot, ddof=1)


def density_of_states(energies, bins=50, *, range=None):  # noqa: A002 (numpy's name)
    """Normalized density of states, pooled over all realizations: ``int rho(E) dE = 1``.

    Args:
        energies: levels ``(..., D)``.
        bins: number of bins or an array of bin edges.
        range: ``(E_min, E_max)`` of the bins; default the extreme levels.

    Returns:
        ``(rho, edges)``: densities ``(bins,)`` (per unit energy, per level) and edges ``(bins + 1,)``.

    Raises:
        ValueError: if ``energies`` is not a real array or ``bins`` is not a positive integer or edges.

    Example:
        >>> rho, edges = density_of_states(np.linspace(0, 1, 1000), bins=4)
        >>> np.round(np.asarray(rho), 3).tolist(), float(edges[1])
        ([1.0, 1.0, 1.0, 1.0], 0.25)
    """
    E = _levels(energies).ravel()
    if np.ndim(bins) == 0 and (int(bins) != bins or bins < 1):
        raise JaxmblError(f"bins must be a positive integer or an array of edges, got {bins!r}")
    return jnp.histogram(E, bins=bins if np.ndim(bins) == 0 else jnp.asarray(bins), range=range, density=True)


def _gaussian_filter(E):
    mean = jnp.mean(E, axis=-1, keepdims=True)
    width = 0.5 * jnp.std(E, axis=-1, keepdims=True)
    return jnp.exp(-(((E - mean) / jnp.where(width > 0, width, 1)) ** 2) / 2)


def spectral_form_factor(energies, ts, *, filter=None):  # noqa: A002
    r"""Spectral form factor of each realization, normalized to 1 at late times.

    .. math:: K(t) = \frac{|\sum_n g(E_n) e^{-i E_n t}|^2}{\sum_n |g(E_n)|^2}

    so ``K(0) = (sum g)^2 / sum g^2`` and ``K -> 1`` past the Heisenberg time for a
    non-degenerate spectrum. Average over realizations yourself (``K.mean(0)``): K does not
    self-average.

    Args:
        energies: levels ``(..., D)``.
        ts: times ``(T,)`` (units of 1/J0). Phases ``E t`` are formed directly, so keep
            ``|E| t`` below ~1e10 in float64.
        filter: ``None`` (g = 1), ``"gaussian"`` (``g = exp(-(E - mean)^2 / (2 (std/2)^2))``
            per realization, which suppresses the band edges, cf. Šuntajs et al., PRE 102,
            062144, arXiv:1905.06345), or a function ``g(E) -> weights`` of the same shape.

    Returns:
        ``(..., T)`` real K(t).

    Raises:
        ValueError: for non-real energies, ``ts`` not 1D, or a bad ``filter``.

    Example:
        >>> np.round(spectral_form_factor(np.array([0.0, 1.0]), np.array([0.0, np.pi])), 12).tolist()
        [2.0, 0.0]
    """
    E = _levels(energies)
    ts = jnp.asarray(ts, E.dtype)
    if ts.ndim != 1:
        raise JaxmblError(f"ts must be a 1D array of times, got shape {ts.shape}")
    if filter is None:
        g = jnp.ones_like(E)
    elif filter == "gaussian":
        g = _gaussian_filter(E)
    elif callable(filter):
        g = jnp.asarray(filter(E))
        if g.shape != E.shape:
            raise JaxmblError(f"filter(E) must have the shape of energies {E.shape}, got {g.shape}")
    else:
        raise JaxmblError(f"filter must be None, 'gaussian' or a function, got {filter!r}")
    z = jnp.einsum("...n,...tn->...t", g, jnp.exp(-1j * E[..., None, :] * ts[:, None]))
    return jnp.abs(z) ** 2 / jnp.sum(jnp.abs(g) ** 2, axis=-1, keepdims=True)


def entanglement_vs_energy(energies, vectors, region, *, sector=None, n_sites=None, alpha=1):
    """Entanglement entropy of each eigenstate against its energy density.

    Args:
        energies: ``(..., K)`` eigenvalues, ascending (as from :func:`eigh`).
        vectors: ``(..., D, K)`` eigenvectors in columns; ``D = 2**N``, or the sector dimension
            when ``sector`` is given (amplitudes on ``sector_basis(n_sites, sector)``).
        region: sites of the subsystem A (any set).
        sector: the total-S^z sector of ``vectors`` (``None``: the full space).
        n_sites: N; required with ``sector``.
        alpha: Rényi index of :func:`entropy` (1 = von Neumann).

    Returns:
        ``(epsilon, S)``, each ``(..., K)``: ``epsilon = (E - E_first) / (E_last - E_first)``
        relative to the extreme energies passed (pass the whole spectrum for the true energy
        density; with a window it is relative to the window) and ``S`` in nats.

    Raises:
        ValueError: if ``vectors`` does not match ``energies``, ``sector`` is given without
            ``n_sites``, or the sector dimension is not ``D``.

    Example:
        >>> import jax.numpy as jnp
        >>> V = jnp.eye(4)[:, [0, 3]] / 1.0      # |00>, |11>: product states
        >>> eps, S = entanglement_vs_energy(jnp.array([-1.0, 1.0]), V, [0])
        >>> eps.tolist(), [abs(round(float(s), 12)) for s in S]
        ([0.0, 1.0], [0.0, 0.0])
    """
    E = _levels(energies)
    V = jnp.asarray(vectors)
    if V.ndim < 2 or V.shape[-1] != E.shape[-1] or V.shape[:-2] != E.shape[:-1]:
        raise JaxmblError(f"vectors must be (..., D, K) matching energies {E.shape}, got {V.shape}")
    psi = jnp.swapaxes(V, -1, -2)
    if sector is not None:
        if n_sites is None:
            raise JaxmblError("n_sites is required with sector")
        basis = sector_basis(n_sites, sector)
        if len(basis) != psi.shape[-1]:
            raise JaxmblError(
                f"vectors have D={psi.shape[-1]} rows, but sector={sector!r} at N={n_sites} has {len(basis)}"
            )
        psi = jnp.zeros(psi.shape[:-1] + (2**n_sites,), psi.dtype).at[..., basis].set(psi)
    span = E[..., -1:] - E[..., :1]
    eps = jnp.where(span > 0, (E - E[..., :1]) / jnp.where(span > 0, span, 1), 0)
    return eps, entropy(psi, region, alpha)
