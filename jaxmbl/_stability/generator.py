"""Hastings' quasi-adiabatic generator J(s) applied to states, matrix free (paper eq. 4.12, 4.16–4.17).

``-i J psi = int dt F(t) e^{iHt} dH e^{-iHt} psi`` with the filter of :func:`filter_time`, by a
quadrature with proven truncation and quadrature bounds (:mod:`jaxmbl._stability.filter_quadrature`).
Nothing of size ``D x D`` is formed, so this runs wherever a few dozen states fit: N = 20 on a
laptop for a Swingle family, where the dense :func:`quasi_adiabatic_generator` stops at N = 12.

Routes (:mod:`jaxmbl._stability.generator_routes`): for ``H(s) = U H0 U^dagger`` the evolution
is exact at any t (phases reduced per coupling, no time stepping); otherwise a Chebyshev series
with a-priori error bounds (:mod:`jaxmbl._stability.generator_chebyshev`).

Reverse-mode gradients: the sum over nodes is a scan of checkpointed blocks in checkpointed
segments, so ``jax.grad`` keeps about ``2 sqrt(#blocks)`` carries of a few states, recomputing
each block's forward pass; the dense route's custom JVP needs ``O(D^3)`` instead.

References: M. B. Hastings and X.-G. Wen, PRB 72, 045141 (2005), arXiv:cond-mat/0503554;
B. Swingle, arXiv:1307.0507, §IV.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.batching import is_traced
from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.validation import check_hermitian
from jaxmbl._stability.families import Family
from jaxmbl._stability.filter_quadrature import (
    EVOLUTION_SHARE,
    Plan,
    chebyshev_order,
    node_table,
    plan,
    quadrature_bound,
    truncation_bound,
)
from jaxmbl._stability.generator_chebyshev import ChebyshevConfig, chebyshev_apply, nested_scan
from jaxmbl._stability.generator_routes import EXACT_ROUTES, choose_route, frequency_bound, generic, lbit_frame
from jaxmbl._swingle.lbits import lbit_phase_factors

_BLOCK_AMPLITUDES = 2**20  # nodes per scan step of the exact route: block * 2**N <= this (at most 16)


@dataclasses.dataclass(frozen=True)
class _Call:
    """``(params, s) -> H_fn(s)``: a hashable builder for a plain function ``s -> H(s)``."""

    fn: Callable

    def __call__(self, params, s):
        return self.fn(s)


def _as_family(family) -> Family:
    if isinstance(family, Family):
        return family
    if callable(family):
        return Family(_Call(family), None, "custom")
    raise TypeError(f"family must be a jaxmbl Family or a function s -> H(s), got {type(family).__name__}")


def _layout(n_steps: int):
    segments = max(1, math.isqrt(max(n_steps - 1, 0)) + 1)
    return segments, -(-n_steps // segments)


def _pad(a, total, value=0.0):
    pad = [(0, total - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
    return np.pad(a, pad, constant_values=value)


@dataclasses.dataclass(frozen=True)
class _Config:
    """Everything static about one call (hashable: the jit cache key)."""

    route: str
    plan: Plan
    block: int = 16  # exact route: nodes per scan step
    segments: int = 1
    per_segment: int = 1
    cheb: ChebyshevConfig | None = None


def _tables(cfg: _Config, rdt):
    """Host-side node arrays for ``cfg`` (padded to the scan layout)."""
    tau, c = node_table(cfg.plan.t_max, cfg.plan.n_panels)
    if cfg.route in EXACT_ROUTES:
        total = cfg.segments * cfg.per_segment * cfg.block
        tau, c = _pad(tau.ravel(), total), _pad(c.ravel(), total)
        shape = (cfg.segments * cfg.per_segment, cfg.block)
        return jnp.asarray(tau.reshape(shape), rdt), jnp.asarray(c.reshape(shape), rdt)
    length = cfg.plan.t_max / cfg.plan.n_panels
    start = length * np.arange(cfg.plan.n_panels)[:, None]
    total = cfg.segments * cfg.per_segment
    offsets, c = _pad(tau - start, total), _pad(c, total)
    lengths = _pad(np.full(cfg.plan.n_panels, length), total)
    return tuple(jnp.asarray(a, rdt) for a in (offsets, c, lengths))


def _norm(v):
    return jnp.sqrt(jnp.sum(jnp.abs(v) ** 2, axis=-1))


def _exact_apply(cfg: _Config, frame, psi, gap, tau, c):
    """One state on the exact route: ``(J psi, 0, 0, max ||B v_k|| / ||psi||)``."""
    chi = frame.U.rmv(psi).astype(psi.dtype)
    k = cfg.block

    def step(carry, blk):
        acc, nmax = carry
        tb, cb = blk
        p = jax.vmap(lambda t: lbit_phase_factors(frame.h0, t))(tb / gap).astype(chi.dtype)
        Bv = jax.vmap(frame.B)(jnp.concatenate([p * chi, jnp.conj(p) * chi]))
        acc = acc + jnp.sum(cb.astype(chi.dtype)[:, None] * (jnp.conj(p) * Bv[:k] - p * Bv[k:]), axis=0)
        return (acc, jnp.maximum(nmax, jnp.max(_norm(Bv)))), None

    init = (jnp.zeros_like(chi), jnp.zeros((), jnp.real(chi).dtype))
    acc, nmax = nested_scan(step, init, (tau, c), cfg.segments, cfg.per_segment)
    n_psi = _norm(psi)
    zero = jnp.zeros((), nmax.dtype)
    return -frame.U.mv(acc).astype(psi.dtype) / gap, zero, zero, nmax / jnp.where(n_psi > 0, n_psi, 1.0)


@functools.partial(jax.jit, static_argnames=("cfg",))
def _apply_core(cfg: _Config, fam, s, states, gap, tables):
    """``J psi`` and its error bounds for each row of ``states`` ``(M, D)``, one realization."""
    if cfg.route in EXACT_ROUTES:
        frame = lbit_frame(cfg.route, fam, s)
        width, dH_norm = frame.width, frame.dH_norm

        def one(psi):
            return _exact_apply(cfg, frame, psi, gap, *tables)
    else:
        g = generic(fam, s)
        width, dH_norm = 2 * g.radius, g.dH_norm

        def one(psi):
            n_psi = _norm(psi)
            J_psi, e_A, s_ce, nmax = chebyshev_apply(cfg.cheb, g, psi, gap, *tables, cfg.plan.t_max)
            return J_psi, e_A, s_ce, nmax / jnp.where(n_psi > 0, n_psi, 1.0)

    J_psi, e_A, s_ce, nmax = jax.vmap(one)(states)
    dHn = nmax if dH_norm is None else jnp.broadcast_to(dH_norm, nmax.shape)
    scale = dHn * _norm(states) / gap
    truncation = truncation_bound(cfg.plan.t_max) * scale
    quadrature = quadrature_bound(cfg.plan, width / gap) * scale
    evolution = e_A + s_ce * dHn
    info = {
        "error": truncation + quadrature + evolution,
        "truncation": truncation,
        "quadrature": quadrature,
        "evolution": evolution,
        "dH_norm": dHn,
        "omega_max": jnp.broadcast_to(width, nmax.shape),
    }
    return J_psi, info


_frequency_bound = jax.jit(frequency_bound, static_argnums=0)


def _configure(route: str, p: Plan, n_sites: int, tol: float, gap: float) -> _Config:
    if route in EXACT_ROUTES:
        block = max(1, min(16, _BLOCK_AMPLITUDES >> n_sites))
        segments, per = _layout(-(-16 * p.n_panels // block))
        return _Config(route, p, block, segments, per)
    segments, per = _layout(p.n_panels)
    length = p.t_max / p.n_panels
    eps = EVOLUTION_SHARE * tol / 4
    cheb = ChebyshevConfig(
        panel_order=chebyshev_order(p.x_max * length / 2, eps / (4 * p.n_panels)),
        long_order=chebyshev_order(p.x_max * p.t_max / 2, eps),
        segments=segments,
        per_segment=per,
    )
    return _Config(route, p, segments=segments, per_segment=per, cheb=cheb)


def _check_positive(name, value, *, upper=None):
    if is_traced(value):
        raise JaxmblError(f"{name} sizes the quadrature and must be concrete, not traced; pass a Python float")
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}") from None
    if not np.isfinite(value) or value <= 0 or (upper is not None and value >= upper):
        bound = f" and < {upper:g}" if upper is not None else ""
        raise JaxmblError(f"{name} must be finite, > 0{bound}, got {value!r}")
    return value


def apply_generator(family, s, psi, *, gap, tol: float = 1e-8, omega_max=None, method: str = "auto"):
    """``J(s) psi``: Hastings' quasi-adiabatic generator applied to states, matrix free (eq. 4.12).

    ``-i J psi = int dt F(t) e^{iH(s)t} dH e^{-iH(s)t} psi`` (``dH = dH/ds``, from the family), by a
    16-point Gauss–Legendre quadrature of ``F`` (:func:`filter_time`) on ``|t| <= t_max/gap``. It
    equals the spectral ``(-iJ)_mn = F~(E_m - E_n) dH_mn`` of :func:`quasi_adiabatic_generator`
    up to the reported error, and when every level of H(s) is ``>= gap`` from all others,
    ``i d|psi_n>/ds = J |psi_n>`` (eq. 4.24).

    The reported bounds are in the norm of ``J psi`` and are proven when ``info["dH_norm"]`` is a
    bound on ``||dH||`` (``dH_norm_is_bound``): truncation ``(2/gap) int_{t_max}^inf |f| ||dH|| ||psi||``
    (eq. 4.17), quadrature ``t_max C16 (L (W/gap + 1))^32 ||dH|| ||psi|| / gap`` (L the panel
    length, W the frequency bound ``omega_max``) and, on the Chebyshev route, the truncation of
    every Chebyshev series. ``tol`` sizes them: ``error <= tol ||dH|| ||psi|| / gap``.

    Routes (``method="auto"``): ``H(s) = U H0 U^dagger`` (a :class:`SwingleModel`) and ``H + sV`` at
    ``s = 0`` on one use the exact ``e^{-iHt} = U e^{-iH0 t} U^dagger`` in the l-bit frame (for
    :func:`conjugation_family`, ``U^dagger dH U = -i[K, H0]``: no U inside the integral, eq. 4.29);
    PauliSum, PerturbedModel and dense H use Chebyshev propagation with a-priori error bounds.

    Args:
        family: a :class:`Family` (e.g. :func:`conjugation_family`, :func:`perturbation_family`) or
            a function ``s -> H(s)`` returning a SwingleModel, PerturbedModel, PauliSum or dense
            Hermitian array; ``dH/ds`` comes from ``jax.jvp``. One realization (vmap for more).
        s: real scalar.
        psi: states ``(..., 2**N)``.
        gap: the filter scale ``Delta > 0`` (energy units of J0), concrete.
        tol: relative error target in ``(0, 1)``; the cost grows like ``log(1/tol)``.
        omega_max: bound on the frequencies (level differences) the integrand carries, for sizing
            (energy units); default: a proven bound computed from H(s) (the full spectral width,
            or the local one for conjugation families). Required under jit/vmap/grad, where H(s) is
            traced. The reported bounds use the actual bound computed in the graph.
        method: ``"auto"``, ``"exact"`` (refuse a non-Swingle H) or ``"chebyshev"``.

    Returns:
        ``(J_psi, info)``: ``J_psi`` of ``psi``'s shape (complex, units of 1/energy when s is
        dimensionless); ``info`` holds per-state arrays (``psi.shape[:-1]``) ``error`` (the sum),
        ``truncation``, ``quadrature``, ``evolution``, ``dH_norm``, ``omega_max``, and Python values
        ``dH_norm_is_bound``, ``route``, ``t_max`` (units of 1/gap), ``n_nodes`` (positive times).

    Raises:
        TypeError: ``family`` not a Family or callable; H(s) of an unsupported type.
        JaxmblError: bad ``s``, ``psi``, ``gap``, ``tol``, ``omega_max`` or ``method``; traced H(s)
            without ``omega_max``; non-Hermitian H(s).

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)), unitary="generator")
        >>> fam = conjugation_family(model)
        >>> psi = eigenstates(fam.H(0.5), 3)
        >>> J_psi, info = apply_generator(fam, 0.5, psi, gap=0.5, tol=1e-6)
        >>> J = quasi_adiabatic_generator(fam.H, 0.5, gap=0.5)
        >>> bool(jnp.linalg.norm(J_psi - J @ psi) <= info["error"])
        True
    """
    fam = _as_family(family)
    if method not in ("auto", "exact", "chebyshev"):
        raise JaxmblError(f"method must be 'auto', 'exact' or 'chebyshev', got {method!r}")
    gap = _check_positive("gap", gap)
    tol = _check_positive("tol", tol, upper=1.0)
    s = jnp.asarray(s)
    if s.ndim != 0 or jnp.iscomplexobj(s):
        raise JaxmblError(f"s must be a real scalar, got shape {s.shape} and dtype {s.dtype}")
    s = s.astype(jnp.promote_types(s.dtype, real_dtype(None)))
    route = choose_route(fam, s, method)
    n_sites = fam.n_sites
    psi = jnp.asarray(psi)
    if psi.ndim == 0 or psi.shape[-1] != 2**n_sites:
        raise JaxmblError(f"psi must have shape (..., 2**N) = (..., {2**n_sites}) for N={n_sites}, got {psi.shape}")
    cdt = jnp.promote_types(psi.dtype, complex_dtype(real_dtype(None)))
    traced = is_traced((fam, s))
    if route not in EXACT_ROUTES and not traced:
        check_hermitian(fam.H(s), "H(s)", context=" for apply_generator")
    if omega_max is None:
        if traced:
            raise JaxmblError("omega_max is required under jit/vmap/grad (H(s) is traced); pass a frequency bound")
        omega_max = max(float(_frequency_bound(route, fam, s)), 1e-12 * gap)  # W = 0: a single level
    omega_max = _check_positive("omega_max", omega_max)
    cfg = _configure(route, plan(tol, omega_max / gap), n_sites, tol, gap)
    states = psi.astype(cdt).reshape(-1, 2**n_sites)
    n_vectors = 2 * cfg.block + 4 if route in EXACT_ROUTES else 80
    check_state_memory(n_sites, n_vectors * states.shape[0], cdt, what="work vectors of apply_generator")
    rdt = jnp.real(jnp.zeros((), cdt)).dtype
    J_psi, info = _apply_core(cfg, fam, s, states, jnp.asarray(gap, rdt), _tables(cfg, rdt))
    lead = psi.shape[:-1]
    info = {k: v.reshape(lead) for k, v in info.items()}
    rigorous = _dH_is_bound(route, fam, s)
    info.update(dH_norm_is_bound=rigorous, route=route, t_max=cfg.plan.t_max, n_nodes=16 * cfg.plan.n_panels)
    return J_psi.reshape(psi.shape), info


def _dH_is_bound(route, fam, s) -> bool:
    if route in EXACT_ROUTES:
        return route != "swingle"
    return _generic_bound(fam, s)


def _generic_bound(fam, s) -> bool:
    out = []

    def probe(s):
        out.append(generic(fam, s).dH_norm is not None)
        return s

    jax.eval_shape(probe, s)
    return out[0]
