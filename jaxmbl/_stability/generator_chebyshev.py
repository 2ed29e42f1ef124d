"""The generic route of the state-applied generator: Chebyshev propagation, panel by panel.

For ``H`` known only through ``mv`` (PauliSum, PerturbedModel, dense), ``J psi = -(1/gap)
sum_k c_k [A(t_k) - A(-t_k)] psi`` (see :mod:`jaxmbl._stability.filter_quadrature`) is summed
without ever evolving back from a node to t = 0, by carrying four vectors from panel to panel:

    psi_+(t) = e^{-iHt} psi,   psi_-(t) = e^{iHt} psi,
    A_+(t) = sum_{t_k <= t} c_k e^{-iH(t - t_k)} dH psi_+(t_k),   A_- likewise with e^{+iH},

so that ``sum_k c_k A(t_k) psi = e^{iHT} A_+(T)`` and ``sum_k c_k A(-t_k) psi = e^{-iHT} A_-(T)``.
On a panel ``[t0, t0 + h]`` with nodes ``t0 + d_j``, ONE Chebyshev recurrence (``order``
products with ``(H - c)/a``) gives the states at all 16 nodes and the panel end
(``e^{-iH tau} = e^{-ic tau} sum_k (2 - delta_k0) (-i)^k J_k(a tau) T_k((H - c)/a)``, the same
vectors for every tau and both signs), and ONE Clenshaw recurrence sums
``e^{-iHh} A + sum_j e^{-iH(h - d_j)} w_j``. The last step, ``e^{+-iHT}``, is one long series.

Error: each truncated series is off by at most ``bessel_tail(a tau, order)`` times the norm of
its vector (an a-priori bound, rigorous when ``spec(H) in [c - a, c + a]``). The scan carries the
accumulated bounds of ``psi_+-`` and ``A_+-`` and returns their effect on ``J psi``.

Memory: the panels run in sqrt-sized segments, each checkpointed (``jax.checkpoint``), so
reverse mode stores about ``2 sqrt(P)`` panel carries of four vectors, not one per node.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from jaxmbl._core.kernels import chebyshev_exp_coefficients
from jaxmbl._stability.filter_quadrature import bessel_tail


class ChebyshevConfig(NamedTuple):
    """Static sizes: series orders of a panel step and of the final long step; segment layout."""

    panel_order: int
    long_order: int
    segments: int
    per_segment: int


def _coefficients(z, order, cdt):
    return jax.vmap(lambda x: chebyshev_exp_coefficients(x, order, cdt))(z)


def _norms(v):
    return jnp.sqrt(jnp.sum(jnp.abs(v) ** 2, axis=-1))


def nested_scan(body, carry, xs, segments: int, per_segment: int):
    """``lax.scan(body, carry, xs)`` as checkpointed segments of checkpointed steps (sqrt memory)."""
    xs = jax.tree_util.tree_map(lambda x: x.reshape((segments, per_segment) + x.shape[1:]), xs)
    step = jax.checkpoint(body)

    @jax.checkpoint
    def segment(c, seg):
        return lax.scan(step, c, seg)[0], None

    return lax.scan(segment, carry, xs)[0]


def chebyshev_apply(cfg: ChebyshevConfig, g, psi, gap, offsets, c, lengths, t_max):
    """``(J psi, evolution bound, largest ||dH psi(t)||)`` for one state (see the module docstring).

    Args:
        cfg: the static :class:`ChebyshevConfig`.
        g: the :class:`~jaxmbl._stability.generator_routes.Generic` operators and bounds.
        psi: ``(D,)`` complex state.
        gap: the filter scale.
        offsets: ``(P, 16)`` nodes minus their panel's start, in units of ``1/gap`` (P padded to
            ``segments * per_segment``; padding panels are empty: zero offsets, weights, length).
        c: ``(P, 16)`` quadrature weights ``w_k f(tau_k)``.
        lengths: ``(P,)`` panel lengths in units of ``1/gap``.
        t_max: the cut-off (units of ``1/gap``).

    Returns:
        ``(J psi, bound from the series of A, factor of ||dH|| in the bound from psi, max ||dH psi(t_k)||)``.
    """
    cdt = psi.dtype
    rdt = jnp.real(psi).dtype
    center = jax.lax.stop_gradient(g.center).astype(rdt)
    radius = jax.lax.stop_gradient(g.radius).astype(rdt)
    m = cfg.panel_order
    n_psi = jnp.sqrt(jnp.sum(jnp.abs(psi) ** 2))

    def scaled(v):
        return (g.H_mv(v).astype(cdt) - center * v) / radius

    scaled2 = jax.vmap(scaled)

    def both_signs(taus, order):
        co = _coefficients(radius * taus, order, cdt) * jnp.exp(-1j * center * taus).astype(cdt)[:, None]
        return jnp.stack([co, jnp.conj(co)])  # (2, len(taus), order): e^{-iH tau}, e^{+iH tau}

    def panel(carry, blk):
        psi2, A2, e_psi, e_A, s_ce, nmax = carry
        d, cw, h = blk
        taus = jnp.concatenate([d, h[None]])
        co = both_signs(taus, m)
        v1 = scaled2(psi2)
        out = co[..., 0, None] * psi2[:, None] + co[..., 1, None] * v1[:, None]

        def forward(cr, ck):
            v0, v1, out = cr
            v2 = 2 * scaled2(v1) - v0
            return (v1, v2, out + ck[..., None] * v2[:, None]), None

        (_, _, out), _ = lax.scan(forward, (psi2, v1, out), jnp.moveaxis(co[..., 2:], -1, 0))
        X, psi_new = out[:, :-1], out[:, -1]
        dX = jax.vmap(jax.vmap(lambda v: g.dH_mv(v).astype(cdt)))(X)
        W = jnp.concatenate([A2[:, None], cw.astype(cdt)[None, :, None] * dX], axis=1)
        taus_b = jnp.concatenate([h[None], h - d])
        cb = both_signs(taus_b, m)

        def clenshaw(cr, k):
            b1, b2 = cr
            return (jnp.einsum("sj,sjd->sd", cb[..., k], W) + 2 * scaled2(b1) - b2, b1), None

        zero = jnp.zeros_like(A2)
        (b1, b2), _ = lax.scan(clenshaw, (zero, zero), jnp.arange(m - 1, 0, -1))
        A_new = jnp.einsum("sj,sjd->sd", cb[..., 0], W) + scaled2(b1) - b2
        e_h = bessel_tail(radius * h, m)
        e_node = e_psi + jnp.max(bessel_tail(radius * d, m)) * n_psi
        e_A = e_A * (1 + e_h) + jnp.sum(bessel_tail(radius * taus_b, m)[None] * _norms(W))
        s_ce = s_ce + 2 * jnp.sum(jnp.abs(cw)) * e_node
        nmax = jnp.maximum(nmax, jnp.max(_norms(dX)))
        return (psi_new, A_new, e_psi + e_h * n_psi, e_A, s_ce, nmax), None

    d, h = offsets / gap, lengths / gap
    psi2 = jnp.stack([psi, psi])
    zero = jnp.zeros((), rdt)
    init = (psi2, jnp.zeros_like(psi2), zero, zero, zero, zero)
    _, A2, e_psi, e_A, s_ce, nmax = nested_scan(panel, init, (d, c, h), cfg.segments, cfg.per_segment)
    T = t_max / gap
    co = both_signs(jnp.reshape(T, (1,)).astype(rdt), cfg.long_order)[:, 0]  # (2, order)
    co = co[::-1]  # A_+ goes back with e^{+iHT}, A_- with e^{-iHT}
    v1 = scaled2(A2)
    out = co[:, 0, None] * A2 + co[:, 1, None] * v1

    def forward(cr, ck):
        v0, v1, out = cr
        v2 = 2 * scaled2(v1) - v0
        return (v1, v2, out + ck[:, None] * v2), None

    (_, _, R), _ = lax.scan(forward, (A2, v1, out), co[:, 2:].T)
    e_long = bessel_tail(radius * T, cfg.long_order) * jnp.sum(_norms(A2))
    J_psi = -(R[0] - R[1]) / gap
    return J_psi, (e_A + e_long) / gap, s_ce / gap, nmax
