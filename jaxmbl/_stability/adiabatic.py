"""Hastings' quasi-adiabatic continuation (paper §IV.B–E): the filtered generator J(s).

For a family H(s) with eigen-data ``H(s) = sum_n E_n |psi_n><psi_n|``, the generator of
quasi-adiabatic evolution (eq. 4.12) is

    -i J(s) = int dt F(t) e^{iHt} dH e^{-iHt},   dH = dH(s)/ds,
    (-i J)_mn = F~(E_m - E_n) (dH)_mn            (eigenbasis of H(s), eq. 4.13/4.23),

with a filter ``F~(w) = int dt F(t) e^{iwt}`` that equals ``-1/w`` for ``|w| >= gap`` and
vanishes at ``w = 0``. We use ``F~(w) = -(1 - b(w/gap))/w`` with the C^inf bump
``b(x) = exp(1 - 1/(1 - x^2))`` on ``|x| < 1`` (``b(0) = 1``, zero outside). Then
``i d|psi_n>/ds = J |psi_n>`` (eq. 4.24) for every n whose gaps to all other levels are
``>= gap``; for smaller gaps the filter cuts the resonant denominators smoothly off.

Gradient safety. J is a smooth function of H (a double operator integral with the smooth
kernel ``F~(E_m - E_n)``), even where levels are exactly degenerate; but reverse-mode through
``eigh`` divides by raw level differences and gives NaN there. The dense path therefore has
its own JVP (Daleckii–Krein): the derivative along ``dH -> H + eps X`` is

    d(-iJ)~_mn = sum_k F~[w_mn, w_kn] X~_mk A~_kn - F~[w_mk, w_mn] A~_mk X~_kn,

with ``w_mn = E_m - E_n``, ``A~ = V^dag dH V`` and the divided difference
``F~[a, b] = (F~(a) - F~(b))/(a - b)`` replaced by ``F~'((a+b)/2)`` when ``|a - b|`` is tiny:
no raw gap is ever a denominator. For Swingle families ``H(s) = U(s) H0(s) U(s)^dag`` the
eigen-data come from the fast path (``E(n)``, ``U|n>``, no diagonalization) and
``V^dag dH V = -(E_m - E_n) (V^dag dV)_mn + delta_mn dE_n``, so
``(-iJ)~_mn = (1 - b(w_mn/gap)) (V^dag dV)_mn``: division free and smooth (eq. 4.29–4.31).

The time form (eq. 4.16) truncates the integral to ``|t| <= T = t_max/gap`` and does it by
Gauss–Legendre quadrature of ``F(t)``; with the eigen-data (for Swingle models the exact
``e^{-iHt} = U e^{-iH0 t} U^dag``) each node contributes ``F(t_k) e^{i w_mn t_k}``.

References: M. B. Hastings and X.-G. Wen, PRB 72, 045141 (2005), arXiv:cond-mat/0503554;
B. Swingle, arXiv:1307.0507, §IV.
"""

from __future__ import annotations

import dataclasses
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.batching import is_traced
from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.validation import check_hermitian, check_positive
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel

_SERIES_X = 1e-3  # below this |x|, (1 - b(x))/x uses its Taylor series x + x^3/2 + x^5/6
_DD_X = 1e-5  # divided differences closer than this (in units of gap) use the midpoint derivative
_GL_ORDER = 16
_INNER_PANELS = 64  # quadrature of b(x) sin(x tau)/x on [0, 1]: accurate for tau <= ~600
_NODE_BLOCK = 256  # time nodes per scan step at most (memory size(w) * 256); n_t is a multiple


# ----------------------------------------------------------------------------- the filter
def _one_minus_bump_over_x(x):
    """``(1 - b(x))/x``: odd, C^inf, equal to ``1/x`` for ``|x| >= 1``, ``x + x^3/2 + ..`` near 0.

    With ``y = x^2/(1 - x^2)``, ``1 - b(x) = -expm1(-y)`` has no cancellation; each branch is fed
    a harmless value where it is not selected (double where), so gradients are finite everywhere.
    """
    ax = jnp.abs(x)
    inside = ax < 1
    tiny = ax < _SERIES_X
    xm = jnp.where(inside & ~tiny, x, 0.5)
    mid = -jnp.expm1(-(xm * xm) / (1 - xm * xm)) / xm
    xt = jnp.where(tiny, x, 0.0)
    x2 = xt * xt
    series = xt * (1 + x2 * (0.5 + x2 / 6))
    xo = jnp.where(inside, 1.0, x)
    return jnp.where(tiny, series, jnp.where(inside, mid, 1 / xo))


def _bump(x):
    """``b(x) = exp(1 - 1/(1 - x^2))`` for ``|x| < 1``, else 0 (numpy, for the time tables)."""
    inside = np.abs(x) < 1
    xs = np.where(inside, x, 0.0)
    return np.where(inside, np.exp(1 - 1 / (1 - xs * xs)), 0.0)


def _gauss_legendre(a: float, b: float, n_panels: int):
    x, w = np.polynomial.legendre.leggauss(_GL_ORDER)
    edges = np.linspace(a, b, n_panels + 1)
    mid, half = (edges[1:] + edges[:-1]) / 2, (edges[1:] - edges[:-1]) / 2
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


@functools.lru_cache(maxsize=1)
def _inner_nodes():
    x, w = _gauss_legendre(0.0, 1.0, _INNER_PANELS)
    return x, w * _bump(x) / np.pi


def _f_hat(tau, xp=jnp):
    """``f(tau) = 1/2 - (1/pi) int_0^1 b(x) sin(x tau)/x dx`` for ``tau > 0`` (dimensionless).

    ``xp`` is ``jnp`` (traceable) or ``np`` (the float64 tables of the time form).
    """
    x, w = _inner_nodes()
    tau = xp.asarray(tau)
    # sin(x tau)/x = tau sinc(x tau / pi): no division, finite at tau = 0.
    s = tau[..., None] * xp.sinc(tau[..., None] * xp.asarray(x / np.pi, tau.dtype))
    return 0.5 - xp.sum(xp.asarray(w, tau.dtype) * s, axis=-1)


@functools.lru_cache(maxsize=8)
def _time_table(t_max: float, n_t: int):
    """Nodes ``tau_k`` on ``[0, t_max]`` and weights ``c_k = w_k f(tau_k)`` (numpy float64)."""
    tau, w = _gauss_legendre(0.0, t_max, n_t // _GL_ORDER)
    return tau, w * _f_hat(tau, np)


@dataclasses.dataclass(frozen=True)
class _Filter:
    """The dimensionless filter ``g(x)`` with ``F~(w) = g(w/gap)/gap`` (hashable: a static jit arg)."""

    kind: str  # "spectral": the exact F~; "time": its truncated time-domain quadrature
    t_max: float = 0.0
    n_t: int = 0

    def g(self, x):
        if self.kind == "spectral":
            return -_one_minus_bump_over_x(x)
        tau, c = _time_table(self.t_max, self.n_t)
        # g_T(x) = int_{-T}^{T} F(t) e^{ixt} dt = -2 sum_k c_k sin(x tau_k), in blocks of nodes.
        # Nodes per step: a power of 2 (so it divides n_t) keeping size(x) * block <= 2**23.
        block = _NODE_BLOCK
        while block > 16 and x.size * block > 2**23:
            block //= 2
        blocks = (jnp.asarray(tau, x.dtype).reshape(-1, block), jnp.asarray(c, x.dtype).reshape(-1, block))

        def step(acc, block):
            tb, cb = block
            return acc + jnp.sum(cb * jnp.sin(x[..., None] * tb), axis=-1), None

        acc, _ = lax.scan(step, jnp.zeros_like(x), blocks)
        return -2 * acc

    def __call__(self, omega, gap):
        return self.g(omega / gap) / gap


def _spectral_filter(omega, gap):
    return _Filter("spectral")(omega, gap)


_filter_ft_core = jax.jit(_spectral_filter)


def filter_ft(omega, gap):
    """The smooth quasi-adiabatic filter ``F~(w) = -(1 - b(w/gap))/w`` (paper below eq. 4.11).

    ``b(x) = exp(1 - 1/(1 - x^2))`` for ``|x| < 1`` and 0 otherwise (C^inf, ``b(0) = 1``), so
    ``F~(w) = -1/w`` exactly for ``|w| >= gap``, ``F~(0) = 0``, ``F~'(0) = -1/gap^2`` and
    ``|F~| <= 1.1/gap``. Finite with finite gradients at every ``w`` including 0.

    Args:
        omega: real energy differences, any shape (units of J0).
        gap: the filter scale ``Delta > 0`` (same units).

    Returns:
        ``F~(omega)``, same shape as ``omega`` (units of 1/J0).

    Raises:
        ValueError: for ``gap <= 0`` or complex ``omega``.

    Example:
        >>> filter_ft(jnp.array([0.0, 0.5, 2.0]), 1.0).tolist()[2]
        -0.5
    """
    gap = check_positive(gap, "gap")
    omega = jnp.asarray(omega, dtype=jnp.promote_types(jnp.asarray(omega).dtype, real_dtype(None)))
    if jnp.iscomplexobj(omega):
        raise JaxmblError(f"omega must be real, got dtype {omega.dtype}")
    return _filter_ft_core(omega, jnp.asarray(gap, omega.dtype))


@jax.jit
def _filter_time_core(t, gap):
    return jnp.sign(t) * _f_hat(gap * jnp.abs(t)) * 1j


def filter_time(t, gap):
    """The time-domain filter ``F(t)`` of eq. 4.12, with ``int F(t) e^{iwt} dt = F~(w)``.

    ``F(t) = i sign(t) f(gap |t|)`` with ``f(tau) = 1/2 - (1/pi) int_0^1 b(x) sin(x tau)/x dx``:
    purely imaginary and odd, ``F(0^+) = i/2``, ``F(0) = 0``, and decaying faster than any power
    (``|f| ~ 1e-6`` at ``tau = 100``, ``~ 1e-11`` at ``tau = 400``). Dimensionless.

    Args:
        t: real times, any shape (units of 1/J0).
        gap: the filter scale ``Delta > 0``.

    Returns:
        complex ``F(t)``, same shape as ``t``.

    Raises:
        ValueError: for ``gap <= 0``.

    Example:
        >>> abs(complex(filter_time(1e-9, 1.0)) - 0.5j) < 1e-8
        True
    """
    gap = check_positive(gap, "gap")
    t = jnp.asarray(t, dtype=jnp.promote_types(jnp.asarray(t).dtype, real_dtype(None)))
    return _filter_time_core(t, jnp.asarray(gap, t.dtype))


# ----------------------------------------------------------------------------- dense path
def _divided_difference(g, a, b):
    """``(g(a) - g(b))/(a - b)``, or ``g'((a+b)/2)`` when ``|a - b| < _DD_X`` (double where)."""
    close = jnp.abs(a - b) < _DD_X
    a_far = jnp.where(close, b + 1.0, a)
    far = (g(a_far) - g(b)) / (a_far - b)
    m = jnp.where(close, (a + b) / 2, 0.0)
    near = jax.jvp(g, (m,), (jnp.ones_like(m),))[1]
    return jnp.where(close, near, far)


def _eig(H):
    E, V = jnp.linalg.eigh(H)
    return E, V, V.conj().T


def _mm(*ops):
    out = ops[0]
    for op in ops[1:]:
        out = jnp.matmul(out, op, precision=HIGHEST)
    return out


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _filtered(filt, H, A, gap):
    """``sum_mn F~(E_m - E_n) P_m A P_n``, P_m the spectral projectors of Hermitian H."""
    E, V, Vh = _eig(H)
    w = E[:, None] - E[None, :]
    return _mm(V, filt(w, gap).astype(V.dtype) * _mm(Vh, A, V), Vh)


@_filtered.defjvp
def _filtered_jvp(filt, primals, tangents):
    H, A, gap = primals
    dH, dA, dgap = tangents
    E, V, Vh = _eig(H)
    w = E[:, None] - E[None, :]
    At, Xt, dAt = _mm(Vh, A, V), _mm(Vh, dH, V), _mm(Vh, dA, V)
    G, dG = jax.jvp(lambda d: filt(w, d), (gap,), (dgap,))
    cdt = V.dtype
    # Divided differences in units of gap, F~[a, b] = g[a/gap, b/gap] / gap^2, indexed [m, k, n]:
    # d1 = F~[w_mn, w_kn] and d2 = F~[w_mk, w_mn].
    x = w / gap
    d1 = _divided_difference(filt.g, x[:, None, :], x[None, :, :]) / gap**2
    d2 = _divided_difference(filt.g, x[:, :, None], x[:, None, :]) / gap**2
    dt = jnp.einsum("mkn,mk,kn->mn", d1.astype(cdt), Xt, At, precision=HIGHEST)
    dt = dt - jnp.einsum("mkn,mk,kn->mn", d2.astype(cdt), At, Xt, precision=HIGHEST)
    dt = dt + G.astype(cdt) * dAt + dG.astype(cdt) * At
    return _mm(V, G.astype(cdt) * At, Vh), _mm(V, dt, Vh)


@functools.partial(jax.jit, static_argnums=0)
def _generator_dense(filt, H, dH, gap):
    return 1j * _filtered(filt, H, dH, gap)


@functools.partial(jax.jit, static_argnums=0)
def _generator_eigen(filt, V, E, dV, dE, gap):
    """J from smooth eigen-data: ``(-iJ)~ = F~(w) * (-w * V^dag dV + diag(dE))``."""
    w = E[:, None] - E[None, :]
    Omega = _mm(V.conj().T, dV)
    At = -w.astype(V.dtype) * Omega + jnp.diag(dE).astype(V.dtype)
    return 1j * _mm(V, filt(w, gap).astype(V.dtype) * At, V.conj().T)


# ----------------------------------------------------------------------------- checks
def _check_square_hermitian(H, name):
    if H.ndim != 2 or H.shape[0] != H.shape[1] or H.shape[0] == 0:
        raise JaxmblError(f"{name} must be a square (D, D) matrix, got shape {H.shape}")
    check_hermitian(H, name)


def _make_filter(method, t_max, n_t, width, gap):
    """The static filter for ``method``; for "time", ``n_t`` must resolve the spectral ``width``.

    ``width = max E - min E`` when known eagerly, else None (then ``n_t`` must be given).
    """
    if method == "spectral":
        return _Filter("spectral")
    if method != "time":
        raise JaxmblError(f"method must be 'spectral' or 'time', got {method!r}")
    t_max = float(t_max)
    if not np.isfinite(t_max) or t_max <= 0:
        raise JaxmblError(f"t_max must be finite and > 0 (units of 1/gap), got {t_max!r}")
    need = None
    if width is not None and not is_traced(gap):
        x_max = float(width) / float(gap)
        # 16-point panels over which sin(x tau) advances by <= 8 rad integrate it to ~1e-13.
        need = _NODE_BLOCK * max(4, math.ceil(2 * t_max * x_max / _NODE_BLOCK))
    if n_t is None:
        if need is None:
            raise JaxmblError("method='time' under jit/vmap/grad needs an explicit n_t (quadrature nodes)")
        n_t = need
    if int(n_t) != n_t or n_t < _NODE_BLOCK or n_t % _NODE_BLOCK:
        raise JaxmblError(f"n_t must be a positive multiple of {_NODE_BLOCK}, got {n_t!r}")
    if need is not None and n_t < need:
        raise JaxmblError(
            f"n_t={n_t} quadrature nodes cannot resolve energy differences up to {x_max:.3g} gap over "
            f"t_max={t_max:g}/gap; use n_t >= {need} (or None to choose it)"
        )
    return _Filter("time", t_max, int(n_t))


# ----------------------------------------------------------------------------- public
def quasi_adiabatic_generator(H_fn, s, *, gap, method: str = "spectral", t_max: float = 400.0, n_t: int | None = None):
    """Hastings' quasi-adiabatic generator J(s) of the family ``H_fn`` (paper eq. 4.12–4.24).

    ``(-iJ)_mn = F~(E_m - E_n) (dH/ds)_mn`` in the eigenbasis of H(s), with :func:`filter_ft`;
    ``dH/ds`` is the ``jax.jvp`` of the builder. If every level of H(s) is at least ``gap`` away
    from all others, ``i d|psi_n>/ds = J |psi_n>`` (eq. 4.24, parallel-transport phases).

    Two kinds of builder:

    * ``H_fn(s) -> (D, D)`` dense Hermitian matrix: eigen-data from ``eigh``; a custom JVP makes
      J and its gradients finite at exact degeneracies (cost O(D^3) memory in the gradient).
    * ``H_fn(s) -> SwingleModel`` (one realization, N <= 12): ``H(s) = U(s) H0(s) U(s)^dag`` with
      eigen-data ``E(n)``, ``U|n>`` from the fast path, no diagonalization;
      ``<n|U^dag J U|m> = (1 - b((E(n)-E(m))/gap)) i <n|U^dag dU/ds|m>`` (eq. 4.29–4.31).

    ``method="time"`` evaluates the truncated time integral (eq. 4.16) over ``|t| <= t_max/gap``
    by Gauss–Legendre quadrature with ``n_t`` nodes (chosen from the spectral width if None;
    required under jit). Its filter differs from :func:`filter_ft` by at most
    ``(2/gap) int_{t_max}^inf |f| ~ 2e-10/gap`` at ``t_max = 400`` (``1.3e-8/gap`` at 300).

    Args:
        H_fn: ``s -> H(s)`` (dense Hermitian array) or ``s -> SwingleModel``; jax-traceable.
        s: the real scalar parameter.
        gap: filter scale ``Delta > 0`` (energy units of J0).
        method: ``"spectral"`` (default) or ``"time"``.
        t_max: time cutoff in units of ``1/gap`` (``"time"`` only).
        n_t: quadrature nodes, a multiple of 256 (``"time"`` only).

    Returns:
        J(s): complex Hermitian ``(D, D)`` in the computational basis.

    Example:
        >>> import jax.random as jr
        >>> lat = Lattice((4,))
        >>> K = random_generator(jr.key(0), lat)
        >>> h0 = sample_lbit_hamiltonian(jr.key(1), lat)
        >>> def model_fn(s):
        ...     Us = dataclasses.replace(K, coef2=s * K.coef2, coef1=s * K.coef1)
        ...     return SwingleModel(lat, h0, Us)      # H(s) = e^{-isK} H0 e^{isK}, eq. 4.27
        >>> quasi_adiabatic_generator(model_fn, 1.0, gap=0.1).shape
        (16, 16)
    """
    if not callable(H_fn):
        raise TypeError(f"H_fn must be a function s -> H(s), got {type(H_fn).__name__}")
    if method not in ("spectral", "time"):
        raise JaxmblError(f"method must be 'spectral' or 'time', got {method!r}")
    gap = check_positive(gap, "gap")
    s = jnp.asarray(s)
    if s.ndim != 0 or jnp.iscomplexobj(s):
        raise JaxmblError(f"s must be a real scalar, got shape {s.shape} and dtype {s.dtype}")
    s = s.astype(jnp.promote_types(s.dtype, real_dtype(None)))
    out = jax.eval_shape(H_fn, s)
    if isinstance(out, SwingleModel):
        if out.batch_shape:
            raise JaxmblError(f"H_fn must return one realization, got batch shape {out.batch_shape}")
        if out.n_sites > 12:
            raise JaxmblError(f"the generator is dense: N <= 12, got n_sites={out.n_sites}")

        def eigen_data(s):
            m = H_fn(s)
            return m.U.dense(), lbit_energies(m.h0)

        (V, E), (dV, dE) = jax.jvp(eigen_data, (s,), (jnp.ones_like(s),))
        width = None if is_traced(E) else float(np.ptp(np.asarray(E)))
        filt = _make_filter(method, t_max, n_t, width, gap)
        return _generator_eigen(filt, V, E, dV, dE, jnp.asarray(gap, E.dtype))
    H, dH = jax.jvp(H_fn, (s,), (jnp.ones_like(s),))
    H = jnp.asarray(H)
    _check_square_hermitian(H, "H_fn(s)")
    cdt = complex_dtype(jnp.promote_types(jnp.real(H).dtype, s.dtype))
    width = None
    if method == "time" and not is_traced(H):
        width = float(np.ptp(np.linalg.eigvalsh(np.asarray(H))))
    filt = _make_filter(method, t_max, n_t, width, gap)
    gap = jnp.asarray(gap, jnp.finfo(cdt).dtype)
    return _generator_dense(filt, H.astype(cdt), jnp.asarray(dH).astype(cdt), gap)


@jax.jit
def _sensitivity_eigen(V, E, W, gap):
    w = E[:, None] - E[None, :]
    Wt = _mm(V.conj().T, W, V)
    return jnp.sum(_spectral_filter(w, gap) ** 2 * jnp.abs(Wt) ** 2) / E.shape[0]


@jax.jit
def _sensitivity_dense(H, W, gap):
    J = _filtered(_Filter("spectral"), H, W, gap)
    return jnp.sum(jnp.abs(J) ** 2) / H.shape[0]


def stability_sensitivity(H, V, *, gap):
    """Filtered fidelity susceptibility of ``H + g V`` at ``g = 0``: mean ``||d psi_n/dg||^2``.

    The eigenstates of ``H + gV`` move, to first order, by ``d|psi_n>/dg = -i J_V |psi_n>`` with
    J_V the quasi-adiabatic generator of the family ``H + gV`` (``dH/dg = V``). Averaged over
    the D eigenstates,

        chi = (1/D) sum_n ||J_V psi_n||^2 = (1/D) sum_mn F~(E_m - E_n)^2 |<psi_m|V|psi_n>|^2
            = ||J_V||_F^2 / D.

    When all level spacings are ``>= gap`` this is the exact mean fidelity susceptibility
    ``(1/D) sum_{m != n} |V_mn|^2/(E_m - E_n)^2``; in general the filter removes the resonant
    pairs (``|E_m - E_n| < gap``) smoothly, so chi is finite, basis independent inside
    degenerate levels and differentiable in H, V and gap; ``chi <= 1.21 ||V||_F^2/(D gap^2)``.
    Small chi means the perturbation only dresses the eigenstates (stability, §IV.A and eq. 4.2).

    Args:
        H: a :class:`SwingleModel` (one realization, N <= 12; fast eigen-data ``E(n), U|n>``) or
            a dense Hermitian ``(D, D)`` matrix (eigh, with the degeneracy-safe JVP).
        V: the perturbation, dense Hermitian ``(D, D)`` or an operator with ``.dense()`` (PauliSum).
        gap: filter scale ``Delta > 0``.

    Returns:
        scalar chi (units of 1/energy^2).

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> V = pauli_string("XIII")
        >>> float(stability_sensitivity(model, V, gap=0.1)) > 0
        True
    """
    gap = check_positive(gap, "gap")
    if hasattr(V, "dense") and not isinstance(V, (np.ndarray, jax.Array)):
        V = V.dense()
    V = jnp.asarray(V)
    _check_square_hermitian(V, "V")
    if isinstance(H, SwingleModel):
        if H.batch_shape:
            raise JaxmblError(f"H must be one realization, got batch shape {H.batch_shape}")
        if V.shape[0] != 2**H.n_sites:
            raise JaxmblError(f"V must have shape (2**N, 2**N) = {(2**H.n_sites,) * 2}, got {V.shape}")
        Ud, E = H.U.dense(), lbit_energies(H.h0)
        return _sensitivity_eigen(Ud, E, V.astype(Ud.dtype), jnp.asarray(gap, E.dtype))
    H = jnp.asarray(H)
    _check_square_hermitian(H, "H")
    if V.shape != H.shape:
        raise JaxmblError(f"V must have the shape of H {H.shape}, got {V.shape}")
    cdt = complex_dtype(jnp.promote_types(jnp.real(H).dtype, real_dtype(None)))
    return _sensitivity_dense(H.astype(cdt), V.astype(cdt), jnp.asarray(gap, jnp.finfo(cdt).dtype))
