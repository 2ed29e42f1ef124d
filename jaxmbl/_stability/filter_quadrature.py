"""Quadrature of the quasi-adiabatic time integral (eq. 4.12, 4.16) with proven error bounds.

The generator applied to a state is a time integral; with ``F(t) = i sign(t) f(gap |t|)`` (the
filter of :func:`filter_time`, odd) and ``tau = gap t``,

    J psi = -(1/gap) int_0^inf f(tau) Z(tau) dtau,   Z(tau) = [A(tau/gap) - A(-tau/gap)] psi,
    A(t) = e^{iHt} dH e^{-iHt}.

It is cut at ``tau = t_max`` and the rest is done by composite 16-point Gauss–Legendre panels
of length ``L`` on ``[0, t_max]`` (nodes ``tau_k``, weights ``c_k = w_k f(tau_k)``):

    J psi ~ -(1/gap) sum_k c_k [A(t_k) - A(-t_k)] psi,   t_k = tau_k / gap.

Both errors are bounded in units of ``||dH|| ||psi|| / gap``, with ``W >= max spec(H) - min spec(H)``
(or any bound on the frequencies ``dH`` connects) and ``x = W/gap``:

* truncation (eq. 4.17): ``||int_{t_max}^inf f Z|| <= 2 int_{t_max}^inf |f| * ||dH|| ||psi||``,
  since ``||Z|| <= 2 ||dH|| ||psi||``; the tail integral of ``|f|`` is tabulated below.
* quadrature: the Gauss–Legendre remainder on a panel is ``L^{33} (16!)^4 / (33 (32!)^3)`` times
  ``sup ||Y^{(32)}||`` for ``Y = f Z`` (the Peano kernel has one sign, so this holds for vector
  valued integrands). ``||d^j Z|| <= 2 x^j ||dH|| ||psi||`` because ``||ad_H^j X|| <= W^j ||X||``,
  ``|f| <= 1/2`` and ``|f^{(j)}| <= (1/pi) int_0^1 b <= 0.193`` for ``j >= 1``, so
  ``sup ||Y^{(32)}|| <= (x + 1)^32 ||dH|| ||psi||`` and the total is
  ``t_max C16 (L (x + 1))^32``: a bound, not an estimate, once W and ||dH|| are bounds.

Given a relative tolerance, :func:`plan` picks the smallest ``t_max`` (a multiple of 10 in
``[20, 500]``) whose truncation bound is within 40 % of it, and the panel length whose
quadrature bound is within another 40 %: about 16 nodes per 20–30 rad of ``x tau``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax.numpy as jnp
import numpy as np

from jaxmbl._core.errors import JaxmblError
from jaxmbl._stability.adiabatic import _gauss_legendre, _inner_nodes

C16 = math.factorial(16) ** 4 / (33 * math.factorial(32) ** 3)  # 16-point Gauss-Legendre remainder constant
TRUNCATION_SHARE = 0.4
QUADRATURE_SHARE = 0.4
EVOLUTION_SHARE = 0.2  # left for the Chebyshev propagation of the generic route
_TAIL_END = 1200.0  # |f| < 1e-15 (round-off) beyond; the tail table integrates |f| up to here
_T_GRID = np.arange(20.0, 501.0, 10.0)


def _f_np(tau):
    """``f(tau)`` on the host from the filter's own quadrature nodes, in chunks (no big temporaries)."""
    x, w = _inner_nodes()
    return np.concatenate(
        [0.5 - np.sin(np.outer(t, x)) @ (w / x) for t in np.array_split(tau, max(1, tau.size // 512))]
    )


@functools.lru_cache(maxsize=1)
def _tail_table():
    """``int_t^{1200} |f(tau)| dtau`` for t on ``_T_GRID`` (numpy float64, 16-point panels of width 2)."""
    start, width = _T_GRID[0], 2.0
    n_panels = int((_TAIL_END - start) / width)
    tau, w = _gauss_legendre(start, _TAIL_END, n_panels)
    per_panel = (w * np.abs(_f_np(tau))).reshape(n_panels, -1).sum(axis=1)
    from_t = np.cumsum(per_panel[::-1])[::-1]  # from_t[i] = int_{start + i width}^end |f|
    return from_t[((_T_GRID - start) / width).astype(int)]


def filter_tail(t_max: float) -> float:
    """``int_{t_max}^inf |f(tau)| dtau`` for ``t_max`` on the grid 20, 30, .., 500 (dimensionless)."""
    i = int(np.searchsorted(_T_GRID, t_max))
    if i >= len(_T_GRID) or _T_GRID[i] != t_max:
        raise JaxmblError(f"t_max must be a multiple of 10 in [20, 500], got {t_max!r}")
    return float(_tail_table()[i])


class Plan(NamedTuple):
    """Static sizing of the quadrature: hashable, so it can be a static jit argument."""

    t_max: float  # cut-off, in units of 1/gap
    n_panels: int
    x_max: float  # the frequency bound W/gap the panels were sized for


def plan(tol: float, x_max: float) -> Plan:
    """Smallest ``t_max`` and panel count whose proven bounds fit ``tol`` (relative) for ``W/gap <= x_max``."""
    tail = _tail_table()
    ok = np.nonzero(2 * tail <= TRUNCATION_SHARE * tol)[0]
    if not ok.size:
        raise JaxmblError(
            f"tol={tol:g} is below what t_max <= 500 can reach ({2 * tail[-1] / TRUNCATION_SHARE:.1g}); use a larger tol"
        )
    t_max = float(_T_GRID[ok[0]])
    theta = (QUADRATURE_SHARE * tol / (t_max * C16)) ** (1 / 32)
    n_panels = _round_up(max(1, math.ceil(t_max * (x_max + 1) / theta)))
    # The x this panel count serves at the same bound: nearby frequency bounds share one plan (one compile).
    return Plan(t_max, n_panels, n_panels * theta / t_max - 1)


def _round_up(n: int) -> int:
    """``n`` rounded up to three significant bits (8, 9, .., 15 times a power of 2): at most 12.5 % more."""
    if n <= 16:
        return n
    shift = n.bit_length() - 4
    return -(-n >> shift) << shift


@functools.lru_cache(maxsize=16)
def node_table(t_max: float, n_panels: int):
    """Nodes ``tau_k`` (``(n_panels, 16)``, ascending) and weights ``c_k = w_k f(tau_k)`` on ``[0, t_max]``."""
    tau, w = _gauss_legendre(0.0, t_max, n_panels)
    return tau.reshape(n_panels, -1), (w * _f_np(tau)).reshape(n_panels, -1)


def truncation_bound(t_max: float) -> float:
    """Relative truncation bound ``2 int_{t_max}^inf |f|`` (times ``||dH|| ||psi|| / gap``)."""
    return 2 * filter_tail(t_max)


def quadrature_bound(p: Plan, x):
    """Relative quadrature bound ``t_max C16 (L (x + 1))^32`` for the actual ``x = W/gap`` (traceable)."""
    length = p.t_max / p.n_panels
    return p.t_max * C16 * (length * (jnp.asarray(x) + 1)) ** 32


def bessel_tail(z, order: int):
    """``2 sum_{k >= order} |J_k(z)| <= 2 (z/2)^K / K! / (1 - z / (2K + 2))``: Chebyshev truncation of ``e^{-izy}``.

    Traceable in ``z >= 0``; ``inf`` when ``z >= 2 order + 2`` (the bound does not apply).
    """
    z = jnp.asarray(z)
    half = z / 2
    ratio = half / (order + 1)
    safe = jnp.where(half > 0, half, 1.0)
    log_term = order * jnp.log(safe) - math.lgamma(order + 1.0)
    bound = jnp.where(half > 0, 2 * jnp.exp(log_term), 0.0)
    return jnp.where(ratio < 1, bound / jnp.where(ratio < 1, 1 - ratio, 1.0), jnp.inf)


def chebyshev_order(z: float, eps: float) -> int:
    """Smallest order K with ``bessel_tail(z, K) <= eps`` (host side, for static sizing)."""
    k = max(4, int(z) + 2)
    while float(bessel_tail(np.float64(z), k)) > eps:
        k += max(1, k // 16)
    return k
