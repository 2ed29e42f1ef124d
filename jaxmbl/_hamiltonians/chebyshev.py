"""Chebyshev machinery shared by the polynomial solvers: spectral bounds, the block recurrence, interpolation.

* :func:`lanczos_bounds` / :func:`estimate_bounds`: an interval ``[lo, hi]`` enclosing spec(H) from
  150 steps of plain Lanczos on 4 random vectors (no stored basis): the extreme Ritz values widened
  by their residuals ``beta_m |s_m|`` and by 2 % of the width, intersected for a PauliSum with the
  rigorous ``identity +- sum|c|``. Ritz values lie inside the spectrum, so the widening is what
  makes the interval safe; a Chebyshev series diverges on eigenvalues outside it, which the
  callers detect a posteriori. The same runs give the Gauss quadrature of the spectral measure of
  random vectors, i.e. a smooth estimate of the density of states.
* :func:`chebyshev_series`: ``sum_j c_j T_j((H - c)/a) Z`` for a block Z by the three-term
  recurrence (four blocks in memory, any degree, traced degrees allowed).
* :func:`chebyshev_coefficients`: the interpolant of samples at the Chebyshev points
  ``cos(pi j / K)`` (a DCT-I, computed by an FFT of the even extension; numpy or jax).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

_BOUND_STEPS, _BOUND_BLOCK, _MARGIN = 150, 4, 0.02


# ---------------------------------------------------------------------------- building blocks
def _row_norms(Z):
    return jnp.sqrt(jnp.sum(jnp.real(jnp.conj(Z) * Z), axis=-1))


def lanczos_bounds(mv, V0, steps: int):
    """Spectral bounds and the Lanczos quadrature of ``b`` independent Lanczos runs (no reorthogonalization).

    Args:
        mv: ``Z (b, D) -> H Z`` for one realization.
        V0: start vectors ``(b, D)`` (rows; normalized here).
        steps: Lanczos steps per row (static, at most D).

    Returns:
        dict with ``e_min``, ``e_max`` (extreme Ritz values over all rows), ``lo``, ``hi`` (widened
        by the Ritz residuals and ``2 %`` of the width) and the Gauss quadrature ``nodes``,
        ``weights`` ``(b, steps)`` of each row's spectral measure (weights sum to 1 per row).
    """
    V0 = V0 / _row_norms(V0)[:, None]

    def body(carry, _):
        v_prev, v, b_prev, alive, a0, first = carry
        w = mv(v)
        scale = _row_norms(w)
        a = jnp.real(jnp.sum(jnp.conj(v) * w, axis=-1))
        a0 = jnp.where(first, a, a0)
        w = w - a[:, None] * v - b_prev[:, None] * v_prev
        b = _row_norms(w)
        alive_next = alive & (b > 1e-12 * jnp.maximum(scale, 1e-300))
        b = jnp.where(alive_next, b, 0.0)
        v_next = jnp.where(alive_next[:, None], w / jnp.where(alive_next, b, 1.0)[:, None], 0)
        # A dead row's recurrence stays decoupled; its diagonal repeats a Rayleigh quotient of H.
        a_out = jnp.where(alive, a, a0)
        return (v, v_next, b, alive_next, a0, jnp.zeros_like(first)), (a_out, b)

    rdt = jnp.real(V0).dtype
    b = V0.shape[0]
    init = (jnp.zeros_like(V0), V0, jnp.zeros(b, rdt), jnp.ones(b, bool), jnp.zeros(b, rdt), jnp.ones((), bool))
    _, (alpha, beta) = lax.scan(body, init, None, length=steps)
    alpha, beta = alpha.T, beta.T  # (b, steps)
    T = jax.vmap(jnp.diag)(alpha) + jax.vmap(lambda e: jnp.diag(e, 1) + jnp.diag(e, -1))(beta[:, :-1])
    theta, S = jnp.linalg.eigh(T)
    resid = jnp.abs(beta[:, -1:] * S[:, -1, :])
    e_min, e_max = jnp.min(theta[:, 0]), jnp.max(theta[:, -1])
    width = jnp.maximum(e_max - e_min, 1e-300)
    lo = e_min - jnp.max(resid[:, 0]) - _MARGIN * width
    hi = e_max + jnp.max(resid[:, -1]) + _MARGIN * width
    return {"e_min": e_min, "e_max": e_max, "lo": lo, "hi": hi, "nodes": theta, "weights": S[:, 0, :] ** 2}


def estimate_bounds(op, params, key):
    """``lanczos_bounds`` of one realization of a :class:`BlockOperator`, intersected with its rigorous radius."""
    prep = op.prepare(params)
    k1, k2 = jr.split(key)
    shape = (_BOUND_BLOCK, op.dim)
    V0 = jr.normal(k1, shape, jnp.real(jnp.zeros((), op.dtype)).dtype)
    if jnp.issubdtype(op.dtype, jnp.complexfloating):
        V0 = V0 + 1j * jr.normal(k2, shape, V0.dtype)
    out = lanczos_bounds(lambda Z: op.apply(prep, Z), V0.astype(op.dtype), min(_BOUND_STEPS, op.dim))
    if op.radius is not None:
        center, radius = op.radius(params)
        out["lo"] = jnp.maximum(out["lo"], center - radius)
        out["hi"] = jnp.minimum(out["hi"], center + radius)
    return out


def chebyshev_series(mv, Z, center, radius, coef_fn, degree):
    """``sum_{j=0}^{degree} coef_fn(j) T_j((H - center)/radius) Z`` and ``H Z`` (the first matvec).

    ``coef_fn(j)`` returns a scalar or one coefficient per row ``(b,)``; ``degree >= 1`` may be
    traced (the loop is then a while loop). Costs ``degree`` matvecs of the block. The first
    matvec (``H Z``, returned) is taken before the loop, so the loop carries only the three blocks
    of the recurrence: carrying ``H Z`` through it as well makes XLA (CPU) copy the carry on every
    turn, three times slower at D ~ 1e4.
    """

    def coef(j):
        c = jnp.asarray(coef_fn(j))
        return c[:, None] if c.ndim else c

    HZ = mv(Z)
    T1 = (HZ - center * Z) / radius

    def body(j, carry):
        t_prev, t, acc = carry
        t_next = 2.0 * (mv(t) - center * t) / radius - t_prev
        return t, t_next, acc + coef(j + 1) * t_next

    init = (Z, T1, coef(0) * Z + coef(1) * T1)
    _, _, acc = lax.fori_loop(1, degree, body, init)
    return acc, HZ


def chebyshev_coefficients(values, xp=np):
    """Coefficients ``(..., K+1)`` of the degree-K interpolant of samples ``(..., K+1)`` at ``cos(pi j / K)``.

    ``c_k = (2/K) sum''_j f_j cos(pi j k / K)`` (first and last terms and coefficients halved): a
    DCT-I, as the FFT of the even extension ``f_0..f_K, f_{K-1}..f_1``. ``xp`` is numpy or jax.numpy.
    """
    values = xp.asarray(values)
    n = values.shape[-1] - 1
    even = xp.concatenate([values, values[..., -2:0:-1]], axis=-1)
    c = xp.fft.fft(even, axis=-1)[..., : n + 1] / n
    c = c if xp.iscomplexobj(values) else xp.real(c)
    scale = xp.where((xp.arange(n + 1) == 0) | (xp.arange(n + 1) == n), 0.5, 1.0)
    return c * scale


def lobatto_points(degree: int) -> np.ndarray:
    """The K + 1 Chebyshev points of the second kind ``cos(pi j / K)``, ``j = 0..K``."""
    return np.cos(np.pi * np.arange(degree + 1) / degree)
