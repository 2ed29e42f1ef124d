r"""Matrix-free time evolution ``psi(t) = exp(-iHt) psi0`` of any Hermitian H, with error control.

Only ``H psi`` is needed, so this runs at any N whose state fits in memory. Two propagators:

* **Lanczos** (default). From the current state build the m-dimensional Krylov space
  ``V = span{psi, H psi, .., H^{m-1} psi}`` (m matvecs, three-term recurrence, which is stable for
  matrix functions in finite precision [Druskin & Knizhnerman 1995]) and step
  ``psi(tau) ~ ||psi|| V exp(-i T tau) e_1`` with T the tridiagonal Lanczos matrix. The error of a
  step is bounded by the defect integral (Hochbruck & Lubich, SIAM J. Numer. Anal. 34, 1911)

  .. math:: \|err(\tau)\| \le \|\psi\| \beta_m \int_0^{|\tau|} |e_m^T e^{-iTs} e_1|\, ds
            \le \|\psi\| \beta_m |\tau| \max_{s} |e_m^T e^{-iTs} e_1|,

  evaluated a posteriori from T alone (the max over 4 nodes in ``(0, tau]``). Step sizes are
  adaptive: for each new basis the largest ``tau`` (on a grid of ratio ``2**-1/4`` below the
  remaining time) whose estimate is ``<= rate * |tau|`` is taken, with ``rate = error_tol ||psi0|| / T``
  and ``T = max |t|``, so the estimates add up to at most ``error_tol`` at every output.
* **Chebyshev**. With spectral bounds ``spec(H) in [c - a, c + a]``,

  .. math:: e^{-iH\tau} = e^{-ic\tau} \sum_k (2 - \delta_{k0}) (-i)^k J_k(a\tau) T_k((H - c)/a),

  truncated after K terms; the a-priori bound ``2 ||psi|| sum_{k>=K} |J_k(a tau)| <= 2 ||psi||
  (a tau/2)^K / K! / (1 - a tau / (2K + 2))`` sets the step as above. For a :class:`PauliSum`
  the bounds are rigorous: ``c`` = identity coefficient, ``a = sum_m |c_m|`` over the other
  strings. Other operators get a Lanczos estimate widened by 10 % plus the residual (not a
  proof; pass ``spectral_bounds`` for one). The Bessel coefficients come from an FFT of
  ``exp(-i x cos theta)`` (exact to round-off for every x; ``jax.scipy.special.bessel_jn``
  returns NaN at small arguments).

Both add to each step's estimate the change of ``||psi||`` (the exact propagator keeps it), which
flags spectral bounds that are too tight. Times may be in any order and spacing (e.g. log
spaced) and of either sign; they are visited outwards from ``t = 0``, one segment per output.

Differentiation: reverse mode (``jax.grad``) with respect to the leaves of H (e.g. PauliSum
coefficients), ``psi0`` and ``ts``. The adaptive loop is a ``lax.while_loop``; its VJP walks the
recorded steps backwards, rebuilding each intermediate state by the inverse step (unitarity) and
differentiating that single step, so memory is one state per output, not per step. Forward mode
(``jax.jvp``) is not supported.

References: Y. Saad, SIAM J. Numer. Anal. 29, 209 (1992); H. Tal-Ezer & R. Kosloff, J. Chem.
Phys. 81, 3967 (1984).
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

from jaxmbl._core.batching import batch_shape, is_pauli_sum, is_traced, map_batch
from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST, chebyshev_exp_coefficients
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.operators import as_operator
from jaxmbl._core.validation import check_hermitian, check_times

_N_CANDIDATES = 160  # step-size grid remaining * 2**(-i/4): down to 1e-12 of the remaining time
_NODES = 4  # nodes of the defect integral per step
_BREAKDOWN = 1e-13  # |w| / |H v| below which the Krylov space counts as exhausted


class _Config(NamedTuple):
    method: str
    krylov_dim: int
    cheb_order: int
    max_steps: int


def _mv(H, psi):
    return H.mv(psi)


def _apply(H, psi):  # an operator without ``mv`` (predating the protocol): ``apply`` on one state
    return H.apply(psi)


def _norm(v):
    return jnp.sqrt(jnp.real(jnp.vdot(v, v)))


def _safe_div(v, s):
    return jnp.where(s > 0, v / jnp.where(s > 0, s, 1), 0)


# ---------------------------------------------------------------------------- Lanczos
def _lanczos(matvec, v0, m: int):
    """Run m Lanczos steps from the unit vector v0: ``V`` (m, D), ``alpha`` (m,), ``beta`` (m,).

    ``beta[j]`` couples ``v_j`` and ``v_{j+1}``; ``beta[m-1]`` enters the error estimate. After an
    (exact or round-off) breakdown the remaining vectors are zero, so T decouples exactly.
    """

    def body(carry, _):
        v_prev, v, b_prev = carry
        w = matvec(v)
        scale = jnp.real(jnp.vdot(w, w))
        a = jnp.real(jnp.vdot(v, w))
        w = w - a * v - b_prev * v_prev
        b2 = jnp.real(jnp.vdot(w, w))
        ok = b2 > _BREAKDOWN**2 * scale
        b = jnp.where(ok, jnp.sqrt(jnp.where(ok, b2, 1.0)), 0.0)
        return (v, _safe_div(w, b), b), (v, a, b)

    init = (jnp.zeros_like(v0), v0, jnp.zeros((), jnp.real(v0).dtype))
    _, (V, alpha, beta) = lax.scan(body, init, None, length=m)
    return V, alpha, beta


def _tridiagonal(alpha, beta):
    return jnp.diag(alpha) + jnp.diag(beta[:-1], 1) + jnp.diag(beta[:-1], -1)


@jax.custom_jvp
def _expm_e1(T, tau):
    """``exp(-i tau T) e_1`` for a real symmetric T (m, m), from its eigendecomposition."""
    lam, S = jnp.linalg.eigh(T)
    return S @ (jnp.exp(-1j * tau * lam) * S[0])


@_expm_e1.defjvp
def _expm_e1_jvp(primals, tangents):
    # Daleckii-Krein: d f(T) = S (F ∘ S^T dT S) S^T with the divided differences of
    # f = exp(-i tau x), F_ij = -i tau exp(-i tau (l_i + l_j)/2) sinc(tau (l_i - l_j) / 2 pi):
    # finite and exact at degenerate eigenvalues (e.g. after a Krylov breakdown), where the
    # derivative of eigh itself would divide by zero.
    T, tau = primals
    dT, dtau = tangents
    lam, S = jnp.linalg.eigh(T)
    out = S @ (jnp.exp(-1j * tau * lam) * S[0])
    F = -1j * tau * jnp.exp(-0.5j * tau * (lam[:, None] + lam[None, :]))
    F = F * jnp.sinc(tau * (lam[:, None] - lam[None, :]) / (2 * jnp.pi))
    d_out = S @ ((F * (S.T @ dT @ S)) @ S[0]) - 1j * dtau * (T @ out)
    return out, d_out


def _lanczos_errors(alpha, beta, taus):
    """Defect bound of ``exp(-iT tau) e_1`` for every candidate tau (per unit ||psi||)."""
    lam, S = jnp.linalg.eigh(_tridiagonal(alpha, beta))
    weights = S[-1, :] * S[0, :]
    s = taus[:, None] * (jnp.arange(1, _NODES + 1) / _NODES)
    f = jnp.abs(jnp.exp(-1j * s[..., None] * lam) @ weights)
    return beta[-1] * jnp.abs(taus) * jnp.max(f, axis=-1)


# ---------------------------------------------------------------------------- Chebyshev
def _chebyshev_errors(radius, order: int, taus):
    """A-priori truncation bound ``2 sum_{k>=K} |J_k(a tau)|`` (per unit ||psi||)."""
    half = jnp.abs(radius * taus) / 2
    ratio = half / (order + 1)
    log_term = order * jnp.log(jnp.where(half > 0, half, 1.0)) - jax.scipy.special.gammaln(order + 1.0)
    bound = jnp.where(half > 0, 2 * jnp.exp(log_term), 0.0)
    return jnp.where(ratio < 1, bound / jnp.where(ratio < 1, 1 - ratio, 1), jnp.inf)


def _chebyshev_step(matvec, psi, tau, bounds, order: int):
    center, radius = bounds
    coef = chebyshev_exp_coefficients(lax.stop_gradient(radius * tau), order, psi.dtype)

    def scaled(v):
        return (matvec(v) - center * v) / radius

    phi = scaled(psi)

    def body(carry, c):
        p0, p1, acc = carry
        p2 = 2 * scaled(p1) - p0
        return (p1, p2, acc + c * p2), None

    (_, _, acc), _ = lax.scan(body, (psi, phi, coef[0] * psi + coef[1] * phi), coef[2:])
    return jnp.exp(-1j * center * tau).astype(psi.dtype) * acc


# ---------------------------------------------------------------------------- one step
def _prepare(cfg: _Config, matvec, psi):
    """What a step needs from the current state: its norm and, for Lanczos, the Krylov data."""
    norm = _norm(psi)
    if cfg.method == "chebyshev":
        return (norm,)
    return (norm,) + _lanczos(matvec, _safe_div(psi, norm), cfg.krylov_dim)


def _advance(cfg: _Config, matvec, prep, psi, tau, bounds):
    if cfg.method == "chebyshev":
        return _chebyshev_step(matvec, psi, tau, bounds, cfg.cheb_order)
    norm, V, alpha, beta = prep
    y = _expm_e1(_tridiagonal(alpha, beta), tau).astype(psi.dtype)
    return norm * jnp.einsum("j,jd->d", y, V, precision=HIGHEST)


def _step(cfg, mv_fn, params, psi, tau, bounds):
    """One differentiable step ``psi -> exp(-iH tau) psi`` at a fixed step size."""
    matvec = lambda v: mv_fn(params, v).astype(psi.dtype)  # noqa: E731
    return _advance(cfg, matvec, _prepare(cfg, matvec, psi), psi, tau, bounds)


def _segment(cfg: _Config, mv_fn, params, psi, dt, rate, bounds, record: bool):
    """Adaptive steps from 0 to ``dt``: returns ``(psi, error estimate, n_steps, step sizes)``."""
    matvec = lambda v: mv_fn(params, v).astype(psi.dtype)  # noqa: E731
    rdt = jnp.real(psi).dtype
    grid = jnp.asarray(2.0 ** (-np.arange(_N_CANDIDATES) / 4), rdt)
    taus0 = jnp.zeros(cfg.max_steps if record else 0, rdt)

    def cond(c):
        _, done, err, n, _ = c
        return (done != dt) & (n < cfg.max_steps) & jnp.isfinite(err)

    def body(c):
        psi, done, err, n, taus = c
        prep = _prepare(cfg, matvec, psi)
        candidates = (dt - done) * grid
        if cfg.method == "chebyshev":
            errs = _chebyshev_errors(bounds[1], cfg.cheb_order, candidates)
        else:
            errs = _lanczos_errors(prep[2], prep[3], candidates)
        errs = errs.astype(rdt)  # float32 mode: H's coefficients may still be float64
        ok = errs * prep[0] <= rate * jnp.abs(candidates)
        i = jnp.where(jnp.any(ok), jnp.argmax(ok), _N_CANDIDATES - 1)
        tau = candidates[i]
        new = _advance(cfg, matvec, prep, psi, tau, bounds)
        err = err + errs[i] * prep[0] + jnp.abs(_norm(new) - prep[0])
        if record:
            taus = taus.at[n].set(tau)
        return new, jnp.where(i == 0, dt, done + tau), err, n + 1, taus

    zero = jnp.zeros((), rdt)
    psi, done, err, n, taus = lax.while_loop(cond, body, (psi, zero, zero, jnp.zeros((), jnp.int32), taus0))
    return psi, jnp.where(done == dt, err, jnp.inf), n, taus


def _diff_leaves(params):
    leaves, treedef = jax.tree_util.tree_flatten(params)
    diff = [jnp.issubdtype(jnp.result_type(x), jnp.inexact) for x in leaves]

    def rebuild(d):
        it = iter(d)
        return jax.tree_util.tree_unflatten(treedef, [next(it) if f else x for x, f in zip(leaves, diff)])

    def cotangent(d):
        # None marks the zero cotangent of an integer leaf (e.g. Pauli labels); a float0 array
        # would have to pass the operator's own constructor checks.
        it = iter(d)
        return jax.tree_util.tree_unflatten(treedef, [next(it) if f else None for f in diff])

    return [x for x, f in zip(leaves, diff) if f], rebuild, cotangent


@partial(jax.custom_vjp, nondiff_argnums=(0, 1))
def _propagate(cfg, mv_fn, params, psi, dt, rate, bounds):
    return _segment(cfg, mv_fn, params, psi, dt, rate, bounds, False)[:3]


def _propagate_fwd(cfg, mv_fn, params, psi, dt, rate, bounds):
    psi_out, err, n, taus = _segment(cfg, mv_fn, params, psi, dt, rate, bounds, True)
    return (psi_out, err, n), (params, psi_out, taus, n, rate, bounds)


def _propagate_bwd(cfg, mv_fn, res, cts):
    params, psi_out, taus, n, rate, bounds = res
    g_out = cts[0]
    diff, rebuild, cotangent = _diff_leaves(params)
    # d psi_out / d dt = -i H psi_out; JAX pairs a real input with Re(sum(cotangent * tangent)).
    dt_bar = jnp.real(jnp.sum(g_out * (-1j) * mv_fn(params, psi_out)))

    def body(c):
        k, psi_next, g, acc = c
        tau = taus[k - 1]
        psi_k = _step(cfg, mv_fn, params, psi_next, -tau, bounds)  # undo the step (unitarity)
        _, vjp = jax.vjp(lambda d, x: _step(cfg, mv_fn, rebuild(d), x, tau, bounds), diff, psi_k)
        d_bar, g = vjp(g)
        return k - 1, psi_k, g, jax.tree_util.tree_map(jnp.add, acc, d_bar)

    init = (n, psi_out, g_out, jax.tree_util.tree_map(jnp.zeros_like, diff))
    _, _, g_in, diff_bar = lax.while_loop(lambda c: c[0] > 0, body, init)
    zeros = jax.tree_util.tree_map(jnp.zeros_like, (rate, bounds))
    return (cotangent(diff_bar), g_in, dt_bar) + zeros


_propagate.defvjp(_propagate_fwd, _propagate_bwd)


# ---------------------------------------------------------------------------- drivers
def _spectral_bounds(cfg, mv_fn, params, dim, dtype, user_bounds, pauli: bool):
    """``(center, radius)`` with ``spec(H) in [c - a, c + a]`` (Chebyshev only), gradient-free."""
    if user_bounds is not None:
        lo, hi = user_bounds[0], user_bounds[1]
        center, radius = (hi + lo) / 2, (hi - lo) / 2
    elif pauli:
        identity = jnp.all(params.paulis == 0, axis=-1)
        center = jnp.sum(jnp.where(identity, jnp.real(params.coef), 0))
        radius = jnp.sum(jnp.where(identity, 0, jnp.abs(params.coef)))
    else:
        k_re, k_im = jr.split(jr.key(0))
        v0 = (jr.normal(k_re, (dim,)) + 1j * jr.normal(k_im, (dim,))).astype(dtype)
        _, alpha, beta = _lanczos(lambda v: mv_fn(params, v).astype(dtype), v0 / _norm(v0), cfg.krylov_dim)
        theta = jnp.linalg.eigvalsh(_tridiagonal(alpha, beta))
        center, radius = (theta[-1] + theta[0]) / 2, 1.1 * (theta[-1] - theta[0]) / 2 + beta[-1]
    radius = jnp.maximum(radius, jnp.finfo(jnp.real(jnp.zeros((), dtype)).dtype).tiny)
    return lax.stop_gradient(jnp.stack([center, radius]).astype(jnp.real(jnp.zeros((), dtype)).dtype))


def _evolve_one(cfg, mv_fn, observables, params, psi0, ts, tol, bounds):
    """One realization, one state ``(D,)``: outputs ``(T, ...)``, errors and step counts ``(T,)``.

    Times are visited outwards from t = 0: the negative ones by decreasing t, then, restarting
    from ``psi0``, the others by increasing t, so each output is reached along the shortest path.
    """
    order = jnp.lexsort((jnp.abs(ts), ts >= 0))
    t_sorted = ts[order]
    restart = jnp.concatenate([jnp.ones(1, bool), (t_sorted[1:] >= 0) != (t_sorted[:-1] >= 0)])
    dts = t_sorted - jnp.where(restart, 0, jnp.concatenate([jnp.zeros(1, ts.dtype), t_sorted[:-1]]))
    norm0 = lax.stop_gradient(_norm(psi0))
    longest = lax.stop_gradient(jnp.max(jnp.abs(ts)))
    rate = tol * norm0 / jnp.where(longest > 0, longest, 1)

    def segment(carry, x):
        psi, err, n = carry
        dt, fresh = x
        psi, err, n = jnp.where(fresh, psi0, psi), jnp.where(fresh, 0, err), jnp.where(fresh, 0, n)
        psi, e, k = _propagate(cfg, mv_fn, params, psi, dt, rate, bounds)
        err, n = err + e, n + k
        return (psi, err, n), (psi if observables is None else observables(psi), err, n)

    zero = jnp.zeros((), ts.dtype)
    _, (out, err, n) = lax.scan(segment, (psi0, zero, jnp.zeros((), jnp.int32)), (dts, restart))
    back = jnp.argsort(order)
    out = jax.tree_util.tree_map(lambda y: y[back], out)
    return out, err[back] / jnp.where(norm0 > 0, norm0, 1), n[back]


@partial(jax.jit, static_argnames=("cfg", "mv_fn", "observables", "pauli", "batch"))
def _evolve_core(cfg, mv_fn, observables, H, states, ts, tol, user_bounds, *, pauli, batch):
    def one_realization(h, states):
        bounds = None
        if cfg.method == "chebyshev":
            bounds = _spectral_bounds(cfg, mv_fn, h, states.shape[-1], states.dtype, user_bounds, pauli)
        one = lambda psi0: _evolve_one(cfg, mv_fn, observables, h, psi0, ts, tol, bounds)  # noqa: E731
        return jax.vmap(one, out_axes=1)(states)

    return map_batch(one_realization, H, batch, states)


@renamed_keywords(tol="error_tol", matvec_fn="mv_fn")
def krylov_evolve(
    H,
    psi0,
    ts,
    *,
    error_tol: float = 1e-10,
    method: str = "lanczos",
    observables=None,
    krylov_dim: int = 30,
    cheb_order: int = 64,
    max_steps: int = 10_000,
    spectral_bounds=None,
    mv_fn=None,
    dtype=None,
):
    """``exp(-iHt) psi0`` for every t in ``ts``, matrix-free, with a tolerance and an error report.

    Jit-able (with ``error_tol`` traced and the options static), ``vmap``-able, and differentiable in
    reverse mode with respect to H's leaves, ``psi0`` and ``ts``.

    Args:
        H: Hermitian operator of the operator protocol (``H.mv(psi)`` for one state, e.g. a
            :class:`PauliSum`, :class:`PerturbedModel` or :class:`DenseOperator`) or a dense array
            ``(..., D, D)``, single or batched over realizations (leading axes on every leaf;
            ``H.batch_shape``). With ``mv_fn`` it may be any pytree of parameters.
        psi0: initial state(s) ``(..., D)``, ``D = 2**N``; the same states for every realization.
        ts: a time or 1D array of times (units of 1/J0), any order and spacing, negative allowed.
        error_tol: target for the relative state error ``||psi~(t) - psi(t)|| / ||psi0||`` at every
            t (the estimates of all steps up to t add up to at most ``error_tol``); about 1e-14 is
            the float64 floor. Deprecated alias: ``tol``.
        method: ``"lanczos"`` (adaptive steps, a-posteriori estimate) or ``"chebyshev"``
            (a-priori bound, rigorous for a PauliSum).
        observables: optional ``f(psi) -> pytree`` applied to each single state ``(D,)`` inside
            the jitted loop instead of returning states (define ``f`` once: a new function object
            recompiles).
        krylov_dim: Krylov vectors per Lanczos step (static; memory ``krylov_dim * D``).
        cheb_order: Chebyshev terms per step (static).
        max_steps: step limit per output segment; a segment that needs more reports ``inf``. Under
            ``jax.grad`` each segment records its step sizes in a buffer of this length.
        spectral_bounds: ``(E_min, E_max)`` enclosing spec(H), for Chebyshev with a non-PauliSum H.
        mv_fn: ``f(H, psi) -> H psi`` for one realization and one state ``(D,)``, instead of
            ``H.mv``; a pure function of its arguments (do not close over traced values), defined
            once. Deprecated alias: ``matvec_fn``.
        dtype: float64 (default) or float32 (fast mode) for the states.

    Returns:
        ``(out, info)``. ``out`` is ``batch + (T,) + psi0.shape[:-1] + (D,)`` states, or the same
        leading axes in front of ``f``'s outputs. ``info["error"]`` (``batch + (T,) +
        psi0.shape[:-1]``) is the accumulated estimate (Lanczos) or bound (Chebyshev) of the
        relative error at each t (``inf`` if ``max_steps`` ran out); ``info["n_steps"]`` counts the
        steps from t = 0 (each costs ``krylov_dim`` or ``cheb_order`` matvecs). A scalar ``ts``
        drops the T axis.

    Raises:
        ValueError: for a non-Hermitian H (probed with two random vectors when H is concrete), bad
            shapes, times, tolerances or options.
        TypeError: if H has no ``mv`` (nor ``apply``), is not a square array, and no ``mv_fn`` is given.

    Example:
        >>> import jax.numpy as jnp
        >>> from jaxmbl import PauliSum
        >>> H = PauliSum.from_list([("XX", 0.5), ("ZZ", 0.3)])
        >>> psi, info = krylov_evolve(H, jnp.array([1.0, 0, 0, 0]), jnp.array([0.0, 1.0, 10.0]))
        >>> psi.shape, bool(info["error"].max() <= 1e-10)
        ((3, 4), True)
    """
    if method not in ("lanczos", "chebyshev"):
        raise JaxmblError(f"method must be 'lanczos' or 'chebyshev', got {method!r}")
    for name, value, low in (("krylov_dim", krylov_dim, 2), ("cheb_order", cheb_order, 2), ("max_steps", max_steps, 1)):
        if not isinstance(value, (int, np.integer)) or value < low:
            raise JaxmblError(f"{name} must be an integer >= {low}, got {value!r}")
    if not is_traced(error_tol) and not (0 < float(error_tol) < 1):
        raise JaxmblError(f"error_tol must lie in (0, 1), got {error_tol!r}")
    if mv_fn is None:
        if isinstance(H, np.ndarray | jax.Array) or hasattr(H, "mv"):
            H, mv_fn = as_operator(H), _mv
        elif hasattr(H, "apply"):
            mv_fn = _apply
        else:
            raise TypeError(
                f"H must have an .mv(psi) method, be a square array, or mv_fn must be given; got {type(H).__name__}"
            )
    rdt = real_dtype(dtype)
    psi0 = jnp.asarray(psi0)
    if psi0.ndim == 0:
        raise JaxmblError(f"psi0 must have shape (..., D), got {psi0.shape}")
    psi0 = psi0.astype(complex_dtype(rdt) if dtype is not None else jnp.promote_types(psi0.dtype, complex_dtype(rdt)))
    dim = psi0.shape[-1]
    ts, scalar = check_times(ts, rdt) if not is_traced(ts) else (jnp.asarray(ts, rdt), jnp.ndim(ts) == 0)
    ts = jnp.atleast_1d(ts)
    if ts.ndim != 1:
        raise JaxmblError(f"ts must be a scalar or a 1D array of times, got shape {ts.shape}")
    user_bounds = None if spectral_bounds is None else jnp.asarray(spectral_bounds, rdt)
    if user_bounds is not None:
        if user_bounds.shape != (2,) or (not is_traced(user_bounds) and not user_bounds[1] >= user_bounds[0]):
            raise JaxmblError(f"spectral_bounds must be (E_min, E_max) with E_min <= E_max, got {spectral_bounds!r}")
    batch = batch_shape(H)
    if hasattr(H, "n_sites"):
        n_sites = int(H.n_sites)
        if dim != 2**n_sites:
            raise JaxmblError(
                f"psi0 must have shape (..., 2**N) = (..., {2**n_sites}) for N={n_sites}, got {psi0.shape}"
            )
        n_out = (ts.shape[0] if observables is None else 1) * max(1, int(np.prod(psi0.shape[:-1])))
        check_state_memory(n_sites, n_out * max(1, int(np.prod(batch))) + krylov_dim, psi0.dtype)
    if not is_traced((H, psi0)):
        check_hermitian(H, matvec=mv_fn, dim=dim, batch=batch, dtype=psi0.dtype, context=" for krylov_evolve")

    cfg = _Config(method, int(krylov_dim), int(cheb_order), int(max_steps))
    states = psi0.reshape(-1, dim)
    out, err, n = _evolve_core(
        cfg, mv_fn, observables, H, states, ts, jnp.asarray(error_tol, rdt), user_bounds,
        pauli=is_pauli_sum(H) and mv_fn is _mv, batch=batch,
    )  # fmt: skip
    lead = len(batch) + 1  # batch axes, then T

    def unflatten(y):
        y = y.reshape(y.shape[:lead] + psi0.shape[:-1] + y.shape[lead + 1 :])
        return jnp.squeeze(y, len(batch)) if scalar else y

    out = jax.tree_util.tree_map(unflatten, out)
    return out, {"error": unflatten(err), "n_steps": unflatten(n)}
