"""Diagnostics of an l-bit Hamiltonian, fitted or sampled: coupling decay with a fitted xi, spectrum reproduced.

A localized Hamiltonian written as ``H = U H0 U^dag`` has couplings ``J_S`` that decay with the
extent of S (paper eq. 2.4, ``|J_S| ~ J0 exp(-ell(S)/xi)``). For a fit (:func:`fit_lbits`) the decay
is the evidence that the learned l-bits are local and the fitted ``xi`` its scale;
:func:`coupling_decay` measures it order by order, with ``ell(S)`` the length of the minimal spanning
tree of S (for a pair: its lattice distance), exactly as the sampler defines it.
:func:`spectrum_fraction` says which share of the exact spectrum the fitted ``E(n)`` reproduce
(dense N). The locality of the fitted l-bit operators ``tau^z_r = U Z_r U^dag`` is measured by
:func:`dressed_operator_weights` on ``fit.model``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from jaxmbl._analysis.fits import decay_length
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._stability.lbit_fit import LbitFit
from jaxmbl._swingle.lbits import LbitHamiltonian, mst_length
from jaxmbl._swingle.model import SwingleModel, energies


class CouplingDecay(NamedTuple):
    """Couplings of one order against their extent, and the fitted localization length.

    Attributes:
        distance: ``(K,)`` the distinct extents ``ell(S)`` present, ascending (lattice units).
        mean_abs: ``(K,)`` mean ``|J_S|`` at each extent (units of the couplings, J0).
        typical: ``(K,)`` ``exp(mean ln |J_S|)`` at each extent, over the nonzero couplings (0 if all
            vanish).
        count: ``(K,)`` number of couplings at each extent.
        xi: the fitted localization length: ``-1/slope`` of ``ln typical`` against ``distance`` over
            the extents with ``typical > floor`` (``inf`` if the couplings do not decrease, NaN with
            fewer than 3 such extents).
        xi_err: standard error of ``xi`` from the fit residuals.

    Example:
        >>> from jaxmbl._swingle.lbits import lbit_hamiltonian
        >>> h0 = lbit_hamiltonian(4, {(0, 1): 0.5, (0, 2): 0.05, (0, 3): 0.005})
        >>> dec = coupling_decay(h0)
        >>> dec.distance.tolist(), dec.count.tolist(), round(dec.xi, 6)
        ([1.0, 2.0, 3.0], [1, 1, 1], 0.434294)
    """

    distance: np.ndarray
    mean_abs: np.ndarray
    typical: np.ndarray
    count: np.ndarray
    xi: float
    xi_err: float


def _extents(lattice: Lattice, sites) -> np.ndarray:
    dist = lattice.distances
    return np.array([mst_length(dist[np.ix_(s, s)]) for s in sites], dtype=np.float64)


def coupling_decay(h0, lattice: Lattice | int | None = None, *, order: int = 2, floor: float = 1e-12) -> CouplingDecay:
    """|J_S| of the order-k couplings of H0 against their extent ell(S), with a fitted xi.

    Groups the couplings of ``|S| = order`` by ``ell(S)`` (minimal-spanning-tree length, lattice
    units; for pairs, the distance), averages ``|J_S|`` and ``ln |J_S|`` per group, and fits
    ``typical(ell) ~ C exp(-ell/xi)`` by least squares in ``ln`` over the groups above ``floor``.
    The typical (log-averaged) coupling is fitted because couplings of one extent spread over
    decades; the mean is reported alongside.

    Args:
        h0: an :class:`LbitHamiltonian` (one realization), an :class:`LbitFit`, or a
            :class:`SwingleModel` (its ``h0``).
        lattice: the lattice that defines distances; default: the fit's lattice, else the open chain of
            ``h0.n_sites`` sites.
        order: the coupling order ``|S| >= 2`` to analyse.
        floor: couplings' typical size below which an extent is left out of the fit (numerical noise
            of a fit is ~``sqrt(cost) ||H||``; pass that, or the fit's ``cutoff`` scale).

    Returns:
        :class:`CouplingDecay`.

    Raises:
        JaxmblError: batched couplings, an order below 2 or absent from H0, a negative ``floor``, or a
            lattice of another size.

    Example:
        >>> import jax.random as jr
        >>> from jaxmbl._swingle.lbits import sample_lbit_hamiltonian
        >>> h0 = sample_lbit_hamiltonian(jr.key(0), 12, xi=0.7, max_order=2)
        >>> dec = coupling_decay(h0)
        >>> bool(abs(dec.xi - 0.7) < 0.25), dec.distance[:3].tolist()
        (True, [1.0, 2.0, 3.0])
    """
    if isinstance(h0, (LbitFit, SwingleModel)):
        lattice = h0.lattice if lattice is None else lattice
        h0 = h0.h0
    if not isinstance(h0, LbitHamiltonian):
        raise JaxmblError(f"h0 must be an LbitHamiltonian, an LbitFit or a SwingleModel, got {type(h0).__name__}")
    if h0.batch_shape:
        raise JaxmblError(f"h0 holds a batch {h0.batch_shape} of realizations: pass one (e.g. h0[i] via jax.tree.map)")
    lattice = as_lattice(h0.n_sites if lattice is None else lattice)
    if lattice.n_sites != h0.n_sites:
        raise JaxmblError(f"lattice has {lattice.n_sites} sites but h0 acts on {h0.n_sites}")
    if int(order) != order or order < 2:
        raise JaxmblError(f"order must be an integer >= 2 (onsite terms have no extent), got {order!r}")
    if not np.isfinite(floor) or floor < 0:
        raise JaxmblError(f"floor must be finite and >= 0, got {floor!r}")
    if order not in h0.orders:
        raise JaxmblError(f"h0 has no couplings of order {order}; its orders are {h0.orders}")
    group = h0.orders.index(order)
    J = np.abs(np.asarray(h0.coef[group], dtype=np.float64))
    ell = np.round(_extents(lattice, h0.sites[group]), 9)  # equal extents compare equal
    distance = np.unique(ell)
    mean_abs, typical, count = (np.empty(len(distance)) for _ in range(3))
    for i, d in enumerate(distance):
        j = J[ell == d]
        count[i] = j.size
        mean_abs[i] = j.mean()
        nz = j[j > 0]
        typical[i] = np.exp(np.mean(np.log(nz))) if nz.size else 0.0
    xi, xi_err, _ = decay_length(distance, typical, floor)
    return CouplingDecay(distance, mean_abs, typical, count.astype(int), xi, xi_err)


def spectrum_fraction(model, H, *, offset=None, atol: float | None = None, rtol: float = 1e-6) -> float:
    """Share of the exact spectrum of H that the energies E(n) of a (fitted) model reproduce.

    Sorts both spectra and counts the levels with ``|E_fit,i - E_i| <= atol + rtol * max|E|``
    (``E_i`` from ``numpy.linalg.eigvalsh`` of the dense H, an independent reference). By Weyl's
    inequality a fit with off-diagonal cost C moves no level by more than ``sqrt(C) ||H||_F``, so the
    fraction is 1 once that is below the tolerance.

    Args:
        model: an :class:`LbitFit` (its energies plus its ``info["offset"]``) or a
            :class:`SwingleModel`.
        offset: constant added to ``E(n)``; default the fit's offset, or 0 for a model.
        H: the Hamiltonian the fit targeted: a dense Hermitian ``(2**N, 2**N)`` matrix or an operator
            with ``.dense()`` (a :class:`PauliSum`), N <= 12.
        atol: absolute tolerance (energy units); default 0.
        rtol: tolerance relative to the spectral radius ``max |E|``.

    Returns:
        The fraction in [0, 1] (float).

    Raises:
        JaxmblError: sizes that differ, N above the dense limit, or negative tolerances.

    Example:
        >>> import jax.random as jr
        >>> from jaxmbl._swingle.model import sample_model, dense_hamiltonian
        >>> m = sample_model(jr.key(0), 4)
        >>> spectrum_fraction(m, dense_hamiltonian(m))
        1.0
    """
    if isinstance(model, LbitFit):
        offset = model.info["offset"] if offset is None else offset
        model = model.model
    offset = 0.0 if offset is None else float(offset)
    if not isinstance(model, SwingleModel):
        raise JaxmblError(f"model must be a SwingleModel or an LbitFit, got {type(model).__name__}")
    atol = 0.0 if atol is None else float(atol)
    if not (atol >= 0 and rtol >= 0):
        raise JaxmblError(f"atol and rtol must be >= 0, got atol={atol!r}, rtol={rtol!r}")
    n = model.h0.n_sites
    if n > DENSE_MAX_SITES:
        raise JaxmblError(f"spectrum_fraction diagonalizes H densely: N = {n} > {DENSE_MAX_SITES}")
    Hd = np.asarray(H.dense() if hasattr(H, "dense") else H)
    if Hd.shape != (2**n, 2**n):
        raise JaxmblError(f"H has shape {Hd.shape} but the model has N = {n} sites: expected {(2**n, 2**n)}")
    exact = np.linalg.eigvalsh(Hd)
    fitted = np.sort(np.asarray(energies(model), dtype=np.float64).reshape(-1) + offset)
    tol = atol + rtol * np.abs(exact).max()
    return float(np.mean(np.abs(fitted - exact) <= tol))
