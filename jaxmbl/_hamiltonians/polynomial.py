r"""Polynomial functions of a Hamiltonian applied to vectors: ``f(H) v`` by Chebyshev expansion.

With ``spec(H)`` inside ``[lo, hi]``, center ``c = (lo + hi)/2`` and half-width ``a = (hi - lo)/2``,

.. math:: f(H) v \approx p_K(H) v = \sum_{k=0}^{K} c_k T_k\big((H - c)/a\big) v,
          \qquad \|f(H) v - p_K(H) v\| \le \max_{[lo, hi]} |f - p_K| \, \|v\|,

evaluated by the three-term recurrence (K matvecs per vector, four blocks of vectors in memory
whatever K). ``c_k`` are the coefficients of the degree-K interpolant of ``f(c + a x)`` in the
Chebyshev points ``x_j = cos(pi j / K)``.

* :func:`chebyshev_apply` (any f): K is doubled until the upper half of the coefficients sums to
  less than ``tol max|f| / 2``, then cut where the tail sum falls below that; the reported error
  ``2 sum_{k > K} |c_k| ||v||`` is an *estimate* (it assumes the coefficients keep decaying).
* :func:`regularized_resolvent_apply`, ``f_mu(w) = w / (w^2 + mu^2)`` of ``H - E``: f is analytic
  inside every Bernstein ellipse ``E_r`` (foci -1 and 1, semi-axis sum r) that excludes its poles
  ``x = (E - c +- i mu)/a``, and ``max|f - p_K| <= 4 M_r r^{-K} / (r - 1)`` with ``M_r = max_{E_r} |f|``
  (Trefethen, *Approximation Theory and Approximation Practice*, Thm 8.2; ``M_r`` evaluated on 2048
  points of the ellipse, r optimized over 25 values). K is the smallest degree whose bound is
  ``tol * max|f| = tol / (2 mu)``: the reported error is a *bound*. As ``r - 1 ~ mu / (a sin th)``
  (``cos th = (E - c)/a``), **K grows like a ln(1/tol) / mu**, e.g. about 25 a / mu at tol = 1e-10:
  half the bandwidth over mu. Each vector costs K matvecs; ``max_degree`` caps it.

Spectral bounds: unless ``bounds`` is given, ``[lo, hi]`` comes from Lanczos
(:func:`jaxmbl._hamiltonians.chebyshev.estimate_bounds`, fixed internal key, widened by the Ritz
residuals and 2 % of the width; for a PauliSum intersected with ``identity +- sum|c|``). Pass
``bounds`` for a guaranteed interval.

The fidelity susceptibility of an eigenstate ``|n>`` (energy ``E_n``) to a perturbation V is

.. math:: \chi_n(\mu) = \sum_{m \ne n} |V_{mn}|^2 \frac{\omega_{mn}^2}{(\omega_{mn}^2 + \mu^2)^2}
          = \big\| f_\mu(H - E_n)\, Q_n V |n\rangle \big\|^2, \qquad Q_n = 1 - |n\rangle\langle n|,

one call ``regularized_resolvent_apply(H, E_n, Q_n V |n>, mu)``, with no other eigenpair
(:func:`resolvent_susceptibility` does exactly this for a set of eigenstates).
"""

from __future__ import annotations

import dataclasses
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.batching import is_traced, map_batch
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl._hamiltonians.block_operator import block_operator
from jaxmbl._hamiltonians.chebyshev import chebyshev_coefficients, chebyshev_series, estimate_bounds, lobatto_points

_ELLIPSE_POINTS, _ELLIPSE_RADII = 2048, 25


class ChebyshevApply(NamedTuple):
    """Result of :func:`chebyshev_apply` and :func:`regularized_resolvent_apply`.

    Attributes:
        values: ``f(H) v``: ``v``'s shape, with the realization axes in front for shared ``v``.
        error: per vector, a bound (resolvent) or an estimate (general f) of ``||f(H)v - p_K(H)v||``.
        degree: the polynomial degree K (matvecs per vector), a Python int.
        bounds: ``batch + (2,)`` the interval ``[lo, hi]`` used per realization (energy units).

    Example:
        >>> out = chebyshev_apply(jnp.diag(jnp.array([0.0, 1.0])), np.exp, jnp.ones(2), bounds=(0, 1))
        >>> np.round(np.asarray(out.values), 6).tolist(), out.degree < 20
        ([1.0, 2.718282], True)
    """

    values: jax.Array
    error: jax.Array
    degree: int
    bounds: jax.Array


class OperatorView(NamedTuple):
    """The static part of a :class:`BlockOperator` (hashable, for ``jit``)."""

    prepare: Any
    apply: Any
    radius: Any
    dim: int
    dtype: Any


def operator_view(op) -> OperatorView:
    """The :class:`OperatorView` of a :class:`BlockOperator`."""
    return OperatorView(op.prepare, op.apply, op.radius, op.dim, op.dtype)


@partial(jax.jit, static_argnames="view")
def _bounds_core(params, view):
    out = estimate_bounds(view, params, jr.key(0))
    return jnp.stack([out["lo"], out["hi"]])


def realization_bounds(op, bounds):
    """``batch + (2,)`` spectral intervals: ``bounds`` broadcast, or estimated per realization."""
    if bounds is None:
        return map_batch(partial(_bounds_core, view=operator_view(op)), op.params, op.batch, axes=op.axes)
    try:
        b = jnp.asarray(bounds, jnp.real(jnp.zeros((), op.dtype)).dtype)
    except (TypeError, ValueError) as err:
        raise TypeError(f"bounds must be a pair of numbers (E_min, E_max), got {bounds!r}") from err
    if b.shape[-1:] != (2,) or (not is_traced(b) and not bool(jnp.all(b[..., 1] > b[..., 0]))):
        raise JaxmblError(f"bounds must be (E_min, E_max) with E_min < E_max, got {bounds!r}")
    return jnp.broadcast_to(b, op.batch + (2,))


@partial(jax.jit, static_argnames=("view", "degree", "make"))
def _series_core(params, V, extra, *, view, degree, make):
    """One realization: ``p(H) V`` for ``V (n, D)`` with ``(bounds, coefs (n, K+1)) = make(extra, n)``."""
    bounds, coefs = make(extra, V.shape[0])
    V = V.astype(jnp.result_type(V, coefs))
    prep = view.prepare(params)
    center, radius = (bounds[1] + bounds[0]) / 2, (bounds[1] - bounds[0]) / 2
    out, _ = chebyshev_series(lambda Z: view.apply(prep, Z), V, center, radius, lambda j: coefs[:, j], degree)
    return out


def _apply_series(op, v, extra, make, degree: int):
    """``p(H) v`` for states shared by all realizations or per realization; ``extra`` is batched."""
    batch, dim = op.batch, op.dim
    v = jnp.asarray(v)
    if v.ndim == 0 or v.shape[-1] != dim:
        raise JaxmblError(
            f"v must have shape (..., D) with D = {dim} (the dimension of H or of its sector), got {v.shape}"
        )
    if not jnp.issubdtype(v.dtype, jnp.inexact):
        v = v.astype(op.dtype)
    per = bool(batch) and v.shape[: len(batch)] == batch and v.ndim > len(batch)
    states = v.shape[len(batch) if per else 0 : -1]
    n_vec = max(1, int(np.prod(states)))
    need = 6.0 * n_vec * max(1, int(np.prod(batch))) * dim * 16
    if need > available_memory_bytes():
        raise JaxmblError(
            f"v: {n_vec} vectors of dimension {dim} per realization need about {need / 2**30:.3g} GiB for the "
            f"Chebyshev recurrence, more than the {available_memory_bytes() / 2**30:.3g} GiB available"
        )
    core = partial(_series_core, view=operator_view(op), degree=degree, make=make)

    def one(params, vv, ee):
        return core(params, vv.reshape(n_vec, dim), ee).reshape(vv.shape)

    if not batch:
        return one(op.params, v, extra), per
    size = int(np.prod(batch))
    flat = jax.tree_util.tree_map(
        lambda x, ax: x if ax is None else x.reshape((size,) + x.shape[len(batch) :]), op.params, op.axes
    )
    ex = jax.tree_util.tree_map(lambda x: x.reshape((size,) + x.shape[len(batch) :]), extra)
    out = jax.vmap(one, in_axes=(op.axes, 0 if per else None, 0))(
        flat, v.reshape((size,) + v.shape[len(batch) :]) if per else v, ex
    )
    return out.reshape(batch + out.shape[1:]), per


def _stored(extra, n):
    bounds, coefs = extra
    return bounds, jnp.broadcast_to(coefs, (n, coefs.shape[-1]))


@dataclasses.dataclass(frozen=True)
class _TracedF:
    """Coefficients of a jax-traceable f computed inside the jitted core (fixed degree)."""

    f: Any
    degree: int

    def __call__(self, bounds, n):
        lam = (bounds[1] + bounds[0]) / 2 + (bounds[1] - bounds[0]) / 2 * jnp.asarray(lobatto_points(self.degree))
        c = chebyshev_coefficients(jnp.asarray(self.f(lam)), xp=jnp)
        return bounds, jnp.broadcast_to(c, (n, self.degree + 1))


# ---------------------------------------------------------------------------- validation
def _check_tol(tol):
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.floating) or not 1e-15 <= float(tol) < 1:
        raise JaxmblError(f"tol must be a number in [1e-15, 1), got {tol!r}")
    return float(tol)


def _check_degree(degree, name="degree"):
    if degree is None:
        return None
    if isinstance(degree, bool) or not isinstance(degree, int | np.integer):
        raise TypeError(f"{name} must be an integer >= 2 or None, got {degree!r}")
    if degree < 2:
        raise JaxmblError(f"{name} must be >= 2, got {degree}")
    return int(degree)


def _adaptive_coefficients(f, lo, hi, tol, max_degree):
    """Host coefficients of ``f`` on ``[lo, hi]`` and the error estimate ``2 sum_{k > K} |c_k|``."""
    n = 16
    while True:
        lam = (hi + lo) / 2 + (hi - lo) / 2 * lobatto_points(n)
        vals = np.asarray(f(lam))
        if vals.shape != lam.shape:
            raise JaxmblError(f"f must map an array of energies to an array of the same shape, got {vals.shape}")
        if not np.all(np.isfinite(vals)):
            raise JaxmblError(f"f is not finite on the spectral interval [{lo:.6g}, {hi:.6g}]")
        c = chebyshev_coefficients(vals)
        goal = tol * max(float(np.max(np.abs(vals))), 1e-300) / 2
        tail = np.concatenate([np.cumsum(np.abs(c[::-1]))[::-1], [0.0]])  # tail[k] = sum_{j >= k} |c_j|
        if tail[n // 2] <= goal:
            K = max(2, int(np.argmax(tail <= goal)) - 1)
            return c[: K + 1], 2 * float(tail[K + 1])
        if n >= max_degree:
            raise JaxmblError(
                f"f needs a Chebyshev degree above max_degree={max_degree} on [{lo:.6g}, {hi:.6g}] for tol={tol:g} "
                "(f is not smooth enough there, or tol is too small); raise max_degree (one matvec per degree)"
            )
        n = min(2 * n, max_degree)


def _fixed_coefficients(f, lo, hi, degree, xp):
    """Coefficients of degree K and the estimate ``2 sum_{K < k <= 2K} |c_k|`` from the degree-2K interpolant."""
    lam = (hi + lo) / 2 + (hi - lo) / 2 * xp.asarray(lobatto_points(2 * degree))
    fine = chebyshev_coefficients(xp.asarray(f(lam)), xp=xp)
    lam = (hi + lo) / 2 + (hi - lo) / 2 * xp.asarray(lobatto_points(degree))
    return chebyshev_coefficients(xp.asarray(f(lam)), xp=xp), 2 * xp.sum(xp.abs(fine[degree + 1 :]))


def _error_shape(err, norms, batch, per):
    """Per-vector errors: a per-realization factor ``batch`` times ``||v||``."""
    n_states = norms.ndim - (len(batch) if per else 0)
    return jnp.asarray(err).reshape(tuple(batch) + (1,) * n_states) * norms


# ---------------------------------------------------------------------------- public API
def chebyshev_apply(H, f, v, *, sector=None, bounds=None, degree=None, tol: float = 1e-10, max_degree: int = 100_000):
    r"""``f(H) v`` for a function f on the spectrum, by a Chebyshev expansion with an error estimate.

    .. math:: f(H) v \approx \sum_{k \le K} c_k T_k((H - c)/a) v, \qquad
              \|f(H)v - p_K(H)v\| \le \max_{[lo,hi]} |f - p_K| \, \|v\|

    (see the module docstring for the coefficients, the degree and the bounds). K matvecs per
    vector, matrix-free; batched over realizations.

    Args:
        H: a :class:`PauliSum`, a Hermitian array ``(..., D, D)`` or an operator of the protocol
            (``mv``), single or batched over realizations.
        f: function of real energies: a numpy array in, an array of the same shape out (real or
            complex), smooth on ``[lo, hi]``; with ``degree`` given it must accept jax arrays.
        v: vectors ``(..., D)`` shared by all realizations, or ``batch + (..., D)`` (one set per
            realization); D is 2**N, or the sector dimension with ``sector``.
        sector: total S^z of the vectors (H a PauliSum or 2**N matrix conserving it), or None.
        bounds: ``(E_min, E_max)`` enclosing spec(H) (energy units), else estimated by Lanczos.
        degree: fixed polynomial degree K >= 2 (required when H or bounds are traced); default
            adaptive.
        tol: target of ``max_[lo,hi] |f - p_K| / max |f|`` (adaptive degree).
        max_degree: refuse an f that needs a larger degree (the time is K matvecs per vector).

    Returns:
        :class:`ChebyshevApply` ``(values, error, degree, bounds)``; ``error`` is the estimate
        ``2 sum_{k > K} |c_k| ||v||`` per vector (with a fixed ``degree``, the ``c_k`` of the
        degree-2K interpolant).

    Raises:
        TypeError: f not callable; H, bounds or degree of the wrong type.
        JaxmblError: non-Hermitian H, a sector H does not conserve, bad shapes or tol, f not
            finite or needing more than ``max_degree``, no ``degree`` under ``jit``.

    Example:
        >>> H = PauliSum.from_list([("XX", 0.5), ("ZI", 0.3)])
        >>> psi = jnp.array([1.0, 0, 0, 0])
        >>> out = chebyshev_apply(H, lambda e: np.exp(-e), psi)
        >>> ref = jax.scipy.linalg.expm(-H.dense()) @ psi
        >>> bool(jnp.allclose(out.values, ref, atol=1e-9)), bool(out.error.max() < 1e-9)
        (True, True)
    """
    if not callable(f):
        raise TypeError(f"f must be a function of the energies, got {type(f).__name__}")
    degree, max_degree, tol = _check_degree(degree), _check_degree(max_degree, "max_degree"), _check_tol(tol)
    op = block_operator(H, sector)
    bb = realization_bounds(op, bounds)
    if degree is None and is_traced((op.params, bb)):
        raise JaxmblError("degree must be given when H or bounds are traced (inside jit/vmap)")
    if not is_traced((op.params, bb)):
        flat = np.asarray(bb).reshape(-1, 2)
        if degree is None:
            fits = [_adaptive_coefficients(f, float(lo), float(hi), tol, max_degree) for lo, hi in flat]
        else:
            fits = [_fixed_coefficients(f, float(lo), float(hi), degree, np) for lo, hi in flat]
        degree = max(len(c) - 1 for c, _ in fits)
        coefs = np.stack([np.pad(c, (0, degree + 1 - len(c))) for c, _ in fits]).reshape(op.batch + (1, degree + 1))
        err = np.asarray([e for _, e in fits]).reshape(op.batch)
        values, per = _apply_series(op, v, (bb, jnp.asarray(coefs)), _stored, degree)
    else:
        err = jax.vmap(lambda b: _fixed_coefficients(f, b[0], b[1], degree, jnp)[1])(bb.reshape(-1, 2))
        values, per = _apply_series(op, v, bb, _TracedF(f, degree), degree)
    error = _error_shape(err, jnp.linalg.norm(jnp.asarray(v), axis=-1), op.batch, per)
    return ChebyshevApply(values, error, degree, bb)


def _resolvent(omega, mu):
    return omega / (omega**2 + mu**2)


def _bernstein(center, radius, E, mu, tol, degree, xp):
    """Smallest degree (``degree=None``) and the bound ``min_r 4 M_r r^-K / (r - 1)`` for each shift E."""
    center, radius = xp.asarray(center), xp.asarray(radius)
    x = (E - center) / radius + 1j * mu / radius
    z = x + xp.sqrt(x * x - 1)
    rho = xp.maximum(xp.abs(z), 1 / xp.abs(z))  # the ellipse through the poles
    phi = xp.exp(2j * np.pi * xp.arange(_ELLIPSE_POINTS) / _ELLIPSE_POINTS)
    best_k, best_bound = xp.full(xp.shape(E), np.inf), xp.full(xp.shape(E), np.inf)
    for s in np.linspace(0.04, 0.96, _ELLIPSE_RADII):
        r = 1 + s * (rho - 1)
        w = (r[..., None] * phi + phi.conj() / r[..., None]) / 2
        M = xp.max(xp.abs(_resolvent(center[..., None] + radius[..., None] * w - E[..., None], mu)), axis=-1)
        k = xp.ceil(xp.log(4 * M / ((r - 1) * tol / (2 * mu))) / xp.log(r)) if degree is None else degree
        best_k = xp.minimum(best_k, xp.maximum(k, 2))
        if degree is not None:
            best_bound = xp.minimum(best_bound, 4 * M * r ** (-float(degree)) / (r - 1))
    return best_k, best_bound


def _resolvent_coefficients(bounds, E, mu, degree, xp):
    lam = (bounds[1] + bounds[0]) / 2 + (bounds[1] - bounds[0]) / 2 * xp.asarray(lobatto_points(degree))
    return chebyshev_coefficients(_resolvent(lam[None, :] - E[:, None], mu), xp=xp)


@dataclasses.dataclass(frozen=True)
class _TracedResolvent:
    degree: int

    def __call__(self, extra, n):
        bounds, E, mu = extra
        return bounds, _resolvent_coefficients(bounds, jnp.broadcast_to(E, (n,)), mu, self.degree, jnp)


def regularized_resolvent_apply(
    H, E, v, mu, *, sector=None, bounds=None, degree=None, tol: float = 1e-10, max_degree: int = 1_000_000
):
    """``f_mu(H - E) v`` with ``f_mu(w) = w / (w^2 + mu^2)``, by a Chebyshev series with a rigorous bound.

    The regularized resolvent: ``f_mu(H - E) = sum_m |m><m| w_m / (w_m^2 + mu^2)``, ``w_m = E_m - E``,
    so ``||f_mu(H - E_n) Q_n V|n>||^2`` is the fidelity susceptibility ``chi_n(mu)`` (module
    docstring). The degree, from the Bernstein-ellipse bound, grows like ``a ln(1/tol) / mu``
    (a = half the bandwidth): small mu is expensive, e.g. a = 20, mu = 0.01, tol = 1e-10 needs
    K ~ 5e4 matvecs per vector.

    Args:
        H: as in :func:`chebyshev_apply` (PauliSum, Hermitian array, protocol operator).
        E: real shift(s) (energy units): a scalar, or one per vector, broadcastable to the
            output's vector axes ``values.shape[:-1]``.
        v: vectors ``(..., D)`` (shared) or ``batch + (..., D)`` (per realization).
        mu: regularization > 0 (energy units).
        sector: total S^z of the vectors, or None.
        bounds: ``(E_min, E_max)`` enclosing spec(H); default estimated by Lanczos.
        degree: fixed degree (required under ``jit``); default the smallest with bound <= tol / (2 mu).
        tol: bound on ``max |f_mu - p_K|`` relative to ``max |f_mu| = 1 / (2 mu)``.
        max_degree: refuse a degree above this (each unit costs one matvec per vector).

    Returns:
        :class:`ChebyshevApply`; ``error`` is the bound on ``||f_mu(H - E) v - p_K(H) v||`` per vector.

    Raises:
        TypeError: wrong types of H, bounds or degree.
        JaxmblError: mu <= 0, non-real E, bad shapes, tol, or a degree above ``max_degree``.

    Example:
        >>> H = jnp.diag(jnp.array([-1.0, 0.0, 2.0]))
        >>> out = regularized_resolvent_apply(H, 0.0, jnp.ones(3), 0.5, bounds=(-1, 2))
        >>> np.round(np.asarray(out.values), 8).tolist()      # w / (w^2 + 1/4) at w = -1, 0, 2
        [-0.8, 0.0, 0.47058824]
    """
    degree, max_degree, tol = _check_degree(degree), _check_degree(max_degree, "max_degree"), _check_tol(tol)
    if not is_traced(mu) and not (np.ndim(mu) == 0 and np.isrealobj(mu) and float(mu) > 0):
        raise JaxmblError(f"mu must be a real number > 0, got {mu!r}")
    if not is_traced(E) and (np.iscomplexobj(E) or not np.all(np.isfinite(np.asarray(E)))):
        raise JaxmblError(f"E must be real and finite, got {E!r}")
    op = block_operator(H, sector)
    bb = realization_bounds(op, bounds)
    v = jnp.asarray(v)
    per = bool(op.batch) and v.shape[: len(op.batch)] == op.batch and v.ndim > len(op.batch)
    out_axes = v.shape[:-1] if per or not op.batch else op.batch + v.shape[:-1]
    try:
        E_out = jnp.broadcast_to(jnp.asarray(E, bb.dtype), out_axes)
    except ValueError as err:
        raise JaxmblError(f"E of shape {jnp.shape(E)} does not broadcast to the vector axes {out_axes}") from err
    E_flat = E_out.reshape(op.batch + (-1,)) if op.batch else E_out.reshape(-1)
    mu_r = jnp.asarray(mu, bb.dtype)
    traced = is_traced((op.params, bb, E_flat, mu_r))
    if degree is None and traced:
        raise JaxmblError("degree must be given when H, E, mu or bounds are traced (inside jit/vmap)")
    if not traced:
        b_np = np.asarray(bb).reshape(-1, 2)
        e_np = np.asarray(E_flat).reshape(len(b_np), -1)
        if degree is None:
            ks = [
                _bernstein((lo + hi) / 2, (hi - lo) / 2, e, float(mu), tol, None, np)[0]
                for (lo, hi), e in zip(b_np, e_np)
            ]
            degree = int(max(np.max(k) for k in ks))
        if degree > max_degree:
            a = float(np.max(b_np[:, 1] - b_np[:, 0])) / 2
            raise JaxmblError(
                f"mu={float(mu):g}: the resolvent needs a Chebyshev degree of {degree} (about a ln(1/tol)/mu with "
                f"a = {a:.3g}), above max_degree={max_degree}; each vector costs one matvec per degree. "
                "Raise max_degree, or use a larger mu or tol"
            )
        coefs = np.stack([_resolvent_coefficients(b, e, float(mu), degree, np) for b, e in zip(b_np, e_np)])
        coefs = coefs.reshape(op.batch + coefs.shape[1:]) if op.batch else coefs[0]
        values, per = _apply_series(op, v, (bb, jnp.asarray(coefs)), _stored, degree)
    else:
        extra = (bb, E_flat, jnp.broadcast_to(mu_r, op.batch))
        values, per = _apply_series(op, v, extra, _TracedResolvent(degree), degree)
    center, radius = (bb[..., 1] + bb[..., 0]) / 2, (bb[..., 1] - bb[..., 0]) / 2
    xp = jnp if is_traced((bb, E_flat, mu_r)) else np
    cast = (lambda x: x) if xp is jnp else np.asarray
    _, bound = _bernstein(cast(center)[..., None], cast(radius)[..., None], cast(E_flat), cast(mu_r), tol, degree, xp)
    norms = jnp.linalg.norm(v, axis=-1)
    error = jnp.asarray(bound).reshape(out_axes) * (
        norms if norms.shape == out_axes else jnp.broadcast_to(norms, out_axes)
    )
    return ChebyshevApply(values, error, degree, bb)


def resolvent_susceptibility(
    H, V, energies, states, mu, *, sector=None, bounds=None, degree=None, tol: float = 1e-10, max_degree=1_000_000
):
    r"""Fidelity susceptibilities ``chi_n(mu)`` of given eigenstates, with no other eigenpair.

    .. math:: \chi_n(\mu) = \sum_{m \ne n} |V_{mn}|^2 \frac{\omega_{mn}^2}{(\omega_{mn}^2 + \mu^2)^2}
              = \| f_\mu(H - E_n)\, Q_n V |n\rangle \|^2,
              \quad f_\mu(\omega) = \frac{\omega}{\omega^2 + \mu^2}, \quad Q_n = 1 - |n\rangle\langle n|,

    by :func:`regularized_resolvent_apply` (one Chebyshev series per state, degree ~
    ``a ln(1/tol) / mu``). The hook of the matrix-free route of ``fidelity_susceptibility`` for
    one realization: ``states`` typically from :func:`interior_eigh`.

    Args:
        H: a Hermitian :class:`PauliSum`, array or protocol operator (one realization).
        V: the perturbation, Hermitian, of the same kind and dimension (conserving ``sector``).
        energies: ``(n,)`` eigenvalues E_n of the states (energy units).
        states: ``(D, n)`` eigenvectors (columns, normalized; in a sector, on ``sector_basis``).
        mu: regularization > 0 (energy units).
        sector: total S^z of the states, or None.
        bounds: ``(E_min, E_max)`` enclosing spec(H); default estimated by Lanczos.
        degree: fixed Chebyshev degree; default from the Bernstein bound.
        tol: bound on ``max |f_mu - p_K|`` relative to ``1 / (2 mu)``.
        max_degree: refuse a degree above this.

    Returns:
        ``(chi, error)``: ``(n,)`` susceptibilities and a bound on ``|chi - chi_exact|`` from the
        polynomial alone, ``(2 ||f_mu(H - E_n) w|| + e) e`` with ``e`` the bound on the vector
        (``w = Q_n V |n>``; the states' own errors are not included).

    Raises:
        JaxmblError: shapes that do not match, mu <= 0, or as :func:`regularized_resolvent_apply`.

    Example:
        >>> H = jnp.diag(jnp.array([0.0, 1.0, 3.0]))
        >>> V = jnp.ones((3, 3))
        >>> chi, err = resolvent_susceptibility(H, V, jnp.array([0.0]), jnp.eye(3)[:, :1], 0.5, bounds=(0, 3))
        >>> round(float(chi[0]), 8)     # 1/(1 + 1/4)^2 + 9/(9 + 1/4)^2
        0.74518627
    """
    vop = block_operator(V, sector, name="V")
    states = jnp.asarray(states)
    energies = jnp.asarray(energies)
    if states.ndim != 2 or states.shape[0] != vop.dim or energies.shape != states.shape[1:]:
        raise JaxmblError(
            f"states must be (D, n) with D = {vop.dim} and energies (n,), got {states.shape} and {energies.shape}"
        )
    if vop.batch or block_operator(H, sector).batch:
        raise JaxmblError("H, V: resolvent_susceptibility takes one realization (loop or vmap over realizations)")
    X = states.T.astype(jnp.result_type(states.dtype, vop.dtype))
    W = vop.apply(vop.prepare(vop.params), X)
    W = W - jnp.sum(jnp.conj(X) * W, axis=-1, keepdims=True) * X  # Q_n V |n>
    out = regularized_resolvent_apply(
        H, energies, W, mu, sector=sector, bounds=bounds, degree=degree, tol=tol, max_degree=max_degree
    )
    norms = jnp.linalg.norm(out.values, axis=-1)
    return norms**2, (2 * norms + out.error) * out.error
