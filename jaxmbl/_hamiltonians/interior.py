r"""Mid-spectrum eigenpairs by polynomial filtering (POLFED), matrix-free: :func:`interior_eigh`.

The method of Sierant, Lewenstein and Zakrzewski, PRL 125, 156601 (2020), arXiv:1911.06221:

1. **Spectral bounds** ``[lo, hi]`` and the density of states ``rho(E)`` from a few Lanczos runs
   (:func:`jaxmbl._hamiltonians.chebyshev.lanczos_bounds`); the target is ``E_t = target`` or
   ``E_min + energy_density (E_max - E_min)`` with the extreme Ritz values as ``E_min, E_max``.
2. **Filter**: the Chebyshev expansion of ``delta(x - x_t)`` (no kernel), ``x = (E - c)/a``,

   .. math:: p_K(x) = \frac{2}{2K + 1}\Big[1 + 2 \sum_{j=1}^K \cos(j\theta_t)\, T_j(x)\Big]
             = \frac{D_K(\theta - \theta_t) + D_K(\theta + \theta_t)}{2K + 1},

   with ``x = cos(theta)``, ``x_t = cos(theta_t)`` and the Dirichlet kernel
   ``D_K(phi) = sin((K + 1/2) phi) / sin(phi / 2)``: a peak of height ~1 at the target, of width
   ``~ pi / K`` in theta, whose positive sidelobes stay below 0.13. **Degree** (the documented
   choice): the k levels nearest the target span ``delta_k ~ k / (2 rho(E_t))`` (rho the density
   of states of step 1, smoothed over two Lanczos node spacings); K is set so that
   ``(K + 1/2) phi_k = 1``, ``phi_k ~ delta_k / (a sin theta_t)`` the angle that ``delta_k``
   subtends at the target, which puts the k-th level at ``p ~ sin(1)/1 = 0.84``. So
   ``K ~ 2 a sin(theta_t) rho(E_t) / k``: the half-bandwidth a times the local density of states
   over k. If the filter turns out too sharp (its main lobe, resolved, holds fewer than k levels:
   the density was over-estimated) the solver restarts with K scaled by the measured count; if a
   Ritz value of p(H) exceeds the peak (an eigenvalue outside ``[lo, hi]``) the interval is widened.
3. **Block Lanczos on** ``p_K(H)`` (:mod:`jaxmbl._hamiltonians.block_lanczos`): block size b,
   full reorthogonalization, thick restarts when the basis buffer (``krylov_dim`` vectors) is full.
   Each block step costs ``K b`` matvecs.
4. **Rayleigh-Ritz on H** in the whole Krylov space (``A = Q^H H Q``, accumulated from the free
   first matvec of every filter application) and explicit residuals ``||H psi - E psi||`` of the
   ``~1.5 k + 2 b`` Ritz pairs nearest the target.

**Convergence** (checked after every block): the k Ritz values nearest the target all have
``||H psi - E psi|| <= tol ||H||`` (``||H|| = max(|E_min|, |E_max|)``), and none is missed: with
``delta_k`` the distance of the k-th and ``p_min`` the lowest filter value in
``[E_t - delta_k, E_t + delta_k]``, every Ritz value ``theta`` of ``p(H)`` that could lie above
``p_min`` (``theta + rho >= p_min``, rho its residual) is resolved (``rho <= 1e-3``), and the
number of those above ``p_min`` equals the number of converged levels of H with ``p(E) >= p_min``.
Lanczos finds the top of the spectrum of ``p(H)`` in order; an exactly degenerate level is found
completely when its multiplicity is at most the block size (the start block is random, so its
projection on the eigenspace has full rank). Called eagerly, a level returned b times is taken as
a sign of a larger multiplicity and the solve is repeated with block size 2b.

**Cost**: ``K x (vectors filtered)``; with ``K ~ 2 a rho / k`` and about 5 k filtered vectors
(thick restarts included) that is ``~10 a rho(E_t)`` matvecs, of order 10 D whatever k: measured
12-14 D for k = 50 on the random-field Heisenberg chain (W = 5, S^z = 0) at N = 14-18
(``benchmarks/bench_interior.py``), 15-16 D for k = 20 on the perturbed Swingle model (full space,
N = 10-14). Measured on 2 CPU cores against scipy's shift-invert ``eigsh`` (SuperLU of the same
sector matrix), 50 pairs at eps = 0.5, W = 5: N = 14 1.8 s vs 0.29 s, N = 16 15 s vs 8.4 s, N = 18
(D = 48620) 177 s and 0.88 GiB peak vs 415 s and 5.0 GiB: shift-invert wins while its LU is small
and loses memory (then time) as the fill-in grows with N. When ``3 k + 6 b >= D`` the basis would
span the whole space and the D x D matrix is diagonalized directly (exact, no filter). Memory: about ``2.5 krylov_dim + 20 b`` vectors of length D per
realization (checked before allocating).

**Devices**: a batch of realizations is vmapped (and sharded by realization by the sweep runner);
one problem too large for a device can be split with ``devices=``: the basis buffer (``Q``, the
dominant memory) carries a ``NamedSharding`` along D and XLA's GSPMD partitions the projections
(all-reduces) and gathers each filtered block for the matvec. Tested on 2 host CPU devices
(identical eigenpairs); its scaling on GPUs is not measured yet.

References: Sierant, Lewenstein, Zakrzewski, PRL 125, 156601 (2020); Luitz, Laflorencie, Alet,
PRB 91, 081103 (2015) (shift-invert, the usual alternative).
"""

from __future__ import annotations

import warnings
from functools import partial
from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

from jaxmbl._core.batching import is_traced
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl._hamiltonians import block_lanczos as bl
from jaxmbl._hamiltonians.block_operator import block_operator
from jaxmbl._hamiltonians.chebyshev import chebyshev_series, lanczos_bounds
from jaxmbl._hamiltonians.interior_setup import (
    Config,
    check_devices,
    check_int,
    check_key,
    check_precision,
    make_config,
    max_multiplicity,
    memory_need,
    real_values,
)
from jaxmbl._hamiltonians.polynomial import OperatorView, operator_view

_LOBE = 1.0  # (K + 1/2) phi of the k-th level aimed at (p ~ 0.84)
_ETA = 1e-3  # resolution of the filter values when counting the levels above p_min
_LOBE_FLOOR, _X_FLOOR = (
    0.15,
    2.7,
)  # p = sinc(x) = 0.15 at x = 2.7: above the positive sidelobes (< 0.13): the Ritz vectors of p(H) that enter Rayleigh-Ritz on H
_BOUND_STEPS, _BOUND_BLOCK = 150, 4
_SENTINEL_T = -10.0  # Ritz value of p(H) given to unused rows (|p| <= 2 on the spectrum)
_CHECK_EVERY = 20  # filtering matvecs between convergence checks, in units of the residual matvecs of one check


class InteriorEigh(NamedTuple):
    """Result of :func:`interior_eigh` (a pytree).

    Attributes:
        energies: ``batch + (k,)`` eigenvalues, ascending (energy units of H).
        vectors: ``batch + (D, k)`` complex eigenvectors (columns; in a sector, amplitudes on
            ``sector_basis(N, sector)``), normalized, largest component real positive.
        residuals: ``batch + (k,)`` ``||H psi - E psi||`` of every pair.
        info: dict of ``batch``-shaped arrays: ``degree`` (filter degree K), ``krylov_dim`` (basis
            size at the end), ``matvecs`` (single-vector products with H), ``restarts``,
            ``converged`` (bool), ``target`` (the absolute target energy), ``e_min``, ``e_max``
            (Lanczos estimates of the spectral edges) and ``bounds`` (``batch + (2,)``, the
            filter interval).

    Example:
        >>> out = interior_eigh(jnp.diag(jnp.arange(6.0)), 2, target=2.4, key=jax.random.key(0))
        >>> np.round(np.asarray(out.energies), 8).tolist()
        [2.0, 3.0]
    """

    energies: jax.Array
    vectors: jax.Array
    residuals: jax.Array
    info: dict


def _sharded(cfg, basis):
    """The basis with its rows split along D over ``cfg.mesh`` (a no-op without one)."""
    if cfg.mesh is None:
        return basis
    spec = jax.sharding.NamedSharding(cfg.mesh, jax.sharding.PartitionSpec(None, "d"))
    return basis._replace(Q=lax.with_sharding_constraint(basis.Q, spec))


class _State(NamedTuple):
    basis: bl.Basis
    lo: jax.Array
    hi: jax.Array
    K: jax.Array
    restarts: jax.Array
    matvecs: jax.Array
    steps: jax.Array
    done: jax.Array
    stop: jax.Array
    E: jax.Array  # (k,) the k Ritz values nearest the target, at the last check
    S: jax.Array  # (capacity, k) their coefficients on the basis
    R: jax.Array  # (k,) their residuals
    since: jax.Array  # matvecs of filtering since the last check


# ---------------------------------------------------------------------------- the filter
def _angle(E, c, a):
    return jnp.arccos(jnp.clip((E - c) / a, -1.0, 1.0))


def _dirichlet(phi, K):
    s = jnp.sin(phi / 2)
    small = jnp.abs(s) < 1e-12
    return jnp.where(small, 2 * K + 1.0, jnp.sin((K + 0.5) * phi) / jnp.where(small, 1.0, s))


def filter_value(E, t, c, a, K):
    """``p_K`` at energies E for the filter peaked at t on ``[c - a, c + a]`` (peak height ~1)."""
    th, th0 = _angle(E, c, a), _angle(t, c, a)
    return (_dirichlet(th - th0, K) + _dirichlet(th + th0, K)) / (2 * K + 1.0)


def _window_angle(t, delta, c, a):
    th0 = _angle(t, c, a)
    return jnp.maximum(jnp.abs(_angle(t - delta, c, a) - th0), jnp.abs(_angle(t + delta, c, a) - th0))


def _degree_for(t, delta, c, a, max_degree):
    """The degree that puts the window ``[t - delta, t + delta]`` at ``(K + 1/2) phi = _LOBE``."""
    phi = jnp.maximum(_window_angle(t, delta, c, a), 1e-300)
    return jnp.clip(jnp.ceil(_LOBE / phi - 0.5), 2, max_degree).astype(jnp.int32)


def _density(t, bounds, dim):
    """Density of states at t from the Lanczos quadrature, smoothed over two node spacings."""
    nodes, weights = bounds["nodes"], bounds["weights"]
    sigma = 2 * (bounds["e_max"] - bounds["e_min"]) / nodes.shape[-1] + 1e-300
    gauss = jnp.exp(-0.5 * ((t - nodes) / sigma) ** 2) / (np.sqrt(2 * np.pi) * sigma)
    return jnp.maximum(dim * jnp.mean(jnp.sum(weights * gauss, axis=-1)), 1 / (bounds["hi"] - bounds["lo"]))


# ---------------------------------------------------------------------------- one realization
def _prepare_one(params, key, *, view: OperatorView):
    """Spectral bounds and the density-of-states quadrature of one realization."""
    prep = view.prepare(params)
    V0 = bl.random_block(jr.fold_in(key, 1), _BOUND_BLOCK, view.dim, view.dtype)
    out = lanczos_bounds(lambda Z: view.apply(prep, Z), V0, min(_BOUND_STEPS, view.dim))
    if view.radius is not None:
        center, radius = view.radius(params)
        out["lo"], out["hi"] = jnp.maximum(out["lo"], center - radius), jnp.minimum(out["hi"], center + radius)
    return out


def _check(cfg, s: _State, mv, t, tol_abs):
    """Rayleigh-Ritz on p(H) and, in its main lobe, on H; the residuals and the convergence tests."""
    basis, c, a = s.basis, (s.hi + s.lo) / 2, (s.hi - s.lo) / 2
    valid = (jnp.arange(cfg.capacity) < basis.n) & basis.live[: cfg.capacity]
    theta, S = jnp.linalg.eigh(bl.hermitian(basis.T, valid, _SENTINEL_T))
    last = lax.dynamic_slice_in_dim(S, basis.n - cfg.block, cfg.block).astype(basis.G.dtype)
    rho = jnp.sqrt(jnp.abs(jnp.real(jnp.einsum("ij,ik,kj->j", jnp.conj(last), basis.G, last))))
    rvalid = theta > _SENTINEL_T / 2
    # H is diagonalized in the span of the Ritz vectors of p(H) in the main lobe only: the rest of the
    # Krylov space mixes far-away levels into spurious interior Ritz values.
    lobe = rvalid & (theta >= _LOBE_FLOOR)
    far = s.hi + 10 * a + 1.0
    A_full = bl.hermitian(basis.A, valid, far)
    Sl = S * lobe[None, :].astype(S.dtype)
    A_lobe = jnp.matmul(jnp.conj(Sl.T), jnp.matmul(A_full, Sl)) + jnp.diag(jnp.where(lobe, 0, far).astype(S.dtype))
    E, Y = jnp.linalg.eigh(A_lobe)
    dist = jnp.where(E > s.hi + 5 * a, jnp.inf, jnp.abs(E - t))
    order = jnp.argsort(dist)[: cfg.n_cand]
    E_c, d_c, C = E[order], dist[order], jnp.matmul(S, Y[:, order])
    res = bl.ritz_residuals(basis, C, E_c, mv, cfg.block)
    conv = (res <= tol_abs) & jnp.isfinite(d_c)
    near = jnp.argsort(jnp.where(conv, d_c, jnp.inf))[: cfg.k]  # the k nearest converged pairs
    ok_k = jnp.sum(conv) >= cfg.k
    delta = d_c[near[-1]]
    p_min = jnp.minimum(filter_value(t - delta, t, c, a, s.K), filter_value(t + delta, t, c, a, s.K))
    resolved = jnp.all(~(rvalid & (theta + rho >= p_min)) | (rho <= _ETA))
    n_p = jnp.sum(rvalid & (theta >= p_min - _ETA))
    n_h = jnp.sum(conv & (filter_value(E_c, t, c, a, s.K) >= p_min - _ETA))
    valid_e = E < s.hi + 5 * a
    blowup = jnp.any(rvalid & (theta > 2.5)) | jnp.any(valid_e & (jnp.abs(E - c) > a * (1 + 1e-6)))
    done = ok_k & resolved & (n_h >= n_p) & ~blowup
    # Too sharp a filter: the whole main lobe is resolved and holds fewer than k levels.
    lobe_resolved = jnp.all(~(rvalid & (theta + rho >= _LOBE_FLOOR)) | (rho <= _ETA))
    n_lobe = jnp.sum(lobe)
    explored = basis.n >= min(cfg.capacity, 2 * cfg.k + 2 * cfg.block)
    narrow = ~ok_k & explored & lobe_resolved & (n_lobe < cfg.k)
    K_narrow = jnp.maximum(2, (s.K * jnp.maximum(n_lobe, 1) * _LOBE / (_X_FLOOR * cfg.k)).astype(jnp.int32))
    return {
        "rho": rho, "done": done, "blowup": blowup, "narrow": narrow, "K_narrow": K_narrow, "theta": theta, "S": S, "A_full": A_full, "E": E_c[near], "Y": C[:, near], "R": res[near],
    }  # fmt: skip


def _no_check(cfg, s: _State):
    """What :func:`_check` returns when the check is skipped: nothing decided, the last results kept."""
    zeros = jnp.zeros((cfg.capacity, cfg.capacity), s.basis.T.dtype)
    no = jnp.zeros((), bool)
    theta = jnp.zeros(cfg.capacity, jnp.real(zeros).dtype)
    return {
        "rho": theta, "done": no, "blowup": no, "narrow": no, "K_narrow": s.K, "theta": theta, "S": zeros,
        "A_full": zeros, "E": s.E, "Y": s.S, "R": s.R,
    }  # fmt: skip


def _solve_one(params, key, pre, t, tol, *, view: OperatorView, cfg: Config):
    """POLFED for one realization; ``pre`` from :func:`_prepare_one`, t the absolute target."""
    prep = view.prepare(params)
    mv = lambda Z: view.apply(prep, Z)  # noqa: E731
    b, dim = cfg.block, view.dim
    tol_abs = tol * jnp.maximum(jnp.abs(pre["e_min"]), jnp.abs(pre["e_max"]))
    lo, hi = pre["lo"], pre["hi"]
    if cfg.capacity >= dim:
        return _solve_whole(mv, pre, t, tol_abs, view=view, cfg=cfg)
    K0 = _degree_for(t, cfg.k / (2 * _density(t, pre, dim)), (hi + lo) / 2, (hi - lo) / 2, cfg.max_degree)
    k_start, k_inject = jr.split(jr.fold_in(key, 2))

    def body(s: _State):
        c, a = (s.hi + s.lo) / 2, (s.hi - s.lo) / 2
        th0 = _angle(t, c, a)
        norm = 2 * s.K + 1.0

        def coef(j):
            return jnp.where(j == 0, 2.0, 4 * jnp.cos(j * th0)) / norm

        basis = bl.expand(s.basis, lambda Z: chebyshev_series(mv, Z, c, a, coef, s.K), jr.fold_in(k_inject, s.steps))
        s = s._replace(basis=basis, matvecs=s.matvecs + s.K * b, steps=s.steps + 1, since=s.since + s.K * b)
        # Check when the residuals cost at most a fifth of the filtering since the last check, or when full.
        want = (s.since >= _CHECK_EVERY * cfg.n_cand) | (s.basis.n + b > cfg.capacity)
        chk = lax.cond(want, lambda s: _check(cfg, s, mv, t, tol_abs), lambda s: _no_check(cfg, s), s)
        s = s._replace(
            done=chk["done"], E=chk["E"], S=chk["Y"], R=chk["R"], matvecs=s.matvecs + jnp.where(want, cfg.n_cand, 0),
            since=jnp.where(want, 0, s.since),
        )  # fmt: skip
        can = s.restarts < cfg.max_restarts
        redo_wanted = ~s.done & (chk["narrow"] | chk["blowup"])
        redo = ~s.done & (chk["narrow"] | chk["blowup"]) & can
        full = ~s.done & ~redo & (s.basis.n + b > cfg.capacity)

        def degree_restart(s):
            widen = jnp.where(chk["blowup"], 0.25 * (s.hi - s.lo), 0.0)
            lo, hi = s.lo - widen, s.hi + widen
            wider = jnp.ceil(s.K * (hi - lo) / (s.hi - s.lo)).astype(jnp.int32)
            K = jnp.minimum(jnp.where(chk["narrow"], chk["K_narrow"], wider), cfg.max_degree)
            return s._replace(basis=bl.restart_from_pending(s.basis), lo=lo, hi=hi, K=K, restarts=s.restarts + 1)

        def thick(s):
            basis = bl.thick_restart(s.basis, chk["theta"], chk["S"], chk["A_full"], cfg.keep)
            return s._replace(basis=basis, restarts=s.restarts + 1)

        s = lax.cond(redo, degree_restart, lambda s: s, s)
        s = lax.cond(full & can, thick, lambda s: s, s)
        return s._replace(stop=s.done | (~can & (full | redo_wanted)), basis=_sharded(cfg, s.basis))

    rdt = jnp.real(jnp.zeros((), view.dtype)).dtype
    zero_i = jnp.zeros((), jnp.int32)
    s0 = _State(
        _sharded(cfg, bl.start(bl.random_block(k_start, b, dim, view.dtype), cfg.capacity)), lo, hi, K0, zero_i, jnp.asarray(_BOUND_BLOCK * min(_BOUND_STEPS, dim), jnp.int32), zero_i,
        jnp.zeros((), bool), jnp.zeros((), bool), jnp.zeros(cfg.k, rdt), jnp.zeros((cfg.capacity, cfg.k), view.dtype),
        jnp.full(cfg.k, jnp.inf, rdt), zero_i,
    )  # fmt: skip
    s = lax.while_loop(lambda s: ~s.stop, body, s0)
    order = jnp.argsort(s.E)
    X = bl.ritz_vectors(s.basis, s.S[:, order])
    top = jnp.take_along_axis(X, jnp.argmax(jnp.abs(X), axis=1)[:, None], axis=1)
    X = X * (jnp.conj(top) / jnp.where(jnp.abs(top) > 0, jnp.abs(top), 1.0))
    info = {
        "degree": s.K, "krylov_dim": s.basis.n, "matvecs": s.matvecs, "restarts": s.restarts, "converged": s.done,
        "target": t, "K0": K0, "e_min": pre["e_min"], "e_max": pre["e_max"], "bounds": jnp.stack([s.lo, s.hi]),
    }  # fmt: skip
    return s.E[order], X.T, s.R[order], info


def _solve_whole(mv, pre, t, tol_abs, *, view: OperatorView, cfg: Config):
    """Dense eigh of the D x D matrix ``H I``, for k so close to D that the Krylov basis would span the space.

    Exact and no larger than the basis buffer; a filter would gain nothing (its lobe would have to
    cover the whole spectrum, where the edge levels fall below the Rayleigh-Ritz floor).
    """
    A = mv(jnp.eye(view.dim, dtype=view.dtype)).T  # blocks are (b, D): row i of mv(I) is H e_i
    E, V = jnp.linalg.eigh((A + jnp.conj(A.T)) / 2)
    idx = jnp.sort(jnp.argsort(jnp.abs(E - t))[: cfg.k])
    E, X = E[idx], V[:, idx]
    R = jnp.linalg.norm(mv(X.T).T - X * E[None, :].astype(X.dtype), axis=0)
    top = jnp.take_along_axis(X, jnp.argmax(jnp.abs(X), axis=0)[None, :], axis=0)
    X = X * (jnp.conj(top) / jnp.where(jnp.abs(top) > 0, jnp.abs(top), 1.0))
    zero = jnp.zeros((), jnp.int32)
    info = {
        "degree": zero, "krylov_dim": jnp.asarray(view.dim, jnp.int32), "matvecs": jnp.asarray(view.dim + cfg.k, jnp.int32),
        "restarts": zero, "converged": jnp.all(R <= tol_abs), "target": t, "K0": zero, "e_min": pre["e_min"],
        "e_max": pre["e_max"], "bounds": jnp.stack([pre["lo"], pre["hi"]]),
    }  # fmt: skip
    return E, X, R, info


_prepare_jit = jax.jit(_prepare_one, static_argnames="view")
_solve_jit = jax.jit(_solve_one, static_argnames=("view", "cfg"))


def _map_realizations(fn, op, params, *args):
    """``fn(params_i, *args_i)`` over the flattened realizations (``args`` carry a leading axis)."""
    if not op.batch:
        return fn(params, *args)
    return jax.vmap(fn, in_axes=(op.axes,) + (0,) * len(args))(params, *args)


def _flatten_params(op):
    size = max(1, int(np.prod(op.batch)))
    if not op.batch:
        return op.params, size
    flat = jax.tree_util.tree_map(
        lambda x, ax: x if ax is None else x.reshape((size,) + x.shape[len(op.batch) :]), op.params, op.axes
    )
    return flat, size


def _take(tree, axes, sl):
    return jax.tree_util.tree_map(lambda x, ax: x if ax is None else x[sl], tree, axes)


# ---------------------------------------------------------------------------- public API
def interior_eigh(
    H,
    k: int,
    *,
    energy_density=0.5,
    target=None,
    sector=None,
    tol: float = 1e-10,
    key,
    block_size: int = 4,
    krylov_dim: int | None = None,
    max_restarts: int = 20,
    max_degree: int = 1_000_000,
    devices=None,
) -> InteriorEigh:
    r"""The k eigenpairs of a Hermitian H nearest a target energy, matrix-free, by polynomial filtering.

    .. math:: H \psi_i = E_i \psi_i, \qquad |E_i - E_t| \text{ smallest}, \qquad
              E_t = E_{min} + \varepsilon (E_{max} - E_{min}) \ \text{or}\ E_t = \text{target}.

    POLFED (Sierant, Lewenstein, Zakrzewski, PRL 125, 156601 (2020)): block Lanczos on a
    Chebyshev delta filter ``p_K(H)`` peaked at the target, Rayleigh-Ritz on H, explicit
    residuals; see the module docstring for the filter, the degree and the convergence test.
    Only ``H Z`` is needed (no factorization, GPU-ready); it costs of order ``10 D`` matvecs whatever k
    (D the dimension) and holds about ``2.5 krylov_dim + 20 block_size`` vectors per realization.

    Use it above the dense limit (:func:`eigh` stops at N = 13 in the full space and at 2**14
    rows in a sector); below it, ``eigh(H, sector, window=...)`` is faster.

    Args:
        H: a Hermitian :class:`PauliSum` (full space or ``sector``), an operator of the protocol
            (e.g. :class:`PerturbedModel`, full space) or a dense array ``(..., D, D)``; single or
            batched over realizations (leading axes of the leaves), which are solved together
            under ``vmap`` (in chunks that fit in memory).
        k: number of eigenpairs, ``1 <= k <= D``.
        energy_density: the target as ``epsilon = (E_t - E_min) / (E_max - E_min)`` in [0, 1] (E_min,
            E_max: Lanczos estimates of the spectral edges); ignored when ``target`` is given.
        target: the absolute target energy (energy units), inside the spectrum.
        sector: total ``S^z`` to work in (0 is half filling; PauliSum or 2**N matrix only).
        tol: every returned pair has ``||H psi - E psi|| <= tol ||H||`` (relative residual;
            ``||H|| = max(|E_min|, |E_max|)``), so ``|E - E_exact| <= tol ||H||``.
        key: a ``jax.random`` key (start vectors); realization i of a batch uses ``fold_in(key, i)``.
            The result is deterministic given the key.
        block_size: Lanczos block size b. A block of b random vectors resolves an exactly
            degenerate level of multiplicity at most b; when a returned level appears b times
            (within ``100 tol ||H||``) the solve is repeated eagerly with ``2 b`` (so a multiplet
            is never cut short; under ``jit`` there is no repeat and b must cover it).
        krylov_dim: basis vectors held before a thick restart (default ``3 k + 6 b``).
        max_restarts: thick and degree restarts before giving up (a warning, ``converged = False``).
        max_degree: cap on the filter degree K.
        devices: ``None`` (default device), or a list of >= 2 devices (e.g. ``jax.devices()``) over
            which ONE large problem's Krylov basis (the memory that dominates) is split along D,
            so each device holds ``1/len(devices)`` of it; XLA (GSPMD) inserts the communication:
            the projections become all-reduces and each matvec gathers its input block. For one
            realization only (batches are sharded by realization, e.g. by :func:`jaxmbl.run_sweep`).

    Returns:
        :class:`InteriorEigh` ``(energies, vectors, residuals, info)``: ``batch + (k,)`` energies
        ascending, ``batch + (D, k)`` vectors (D = 2**N, or the sector dimension), residuals
        ``batch + (k,)``, and ``info`` (degree, Krylov dimension, matvecs, restarts, converged,
        target, e_min, e_max, bounds).

    Raises:
        TypeError: H, k, key or the options of the wrong type.
        JaxmblError: non-Hermitian H, a sector H does not conserve, k outside ``1..D``,
            ``energy_density`` outside [0, 1], ``target`` outside the spectrum, a Krylov basis
            that does not fit in memory (refused before allocating, with the estimate).

    Inside ``jax.jit`` the value checks (Hermiticity, conservation, target range) are skipped.

    Example:
        >>> H = random_field_heisenberg(jax.random.key(0), 6, 1.0)
        >>> out = interior_eigh(H, 3, sector=0, key=jax.random.key(1))
        >>> E = np.linalg.eigvalsh(np.asarray(H.dense(sector=0)))
        >>> t = float(out.info["target"])
        >>> bool(np.allclose(out.energies, np.sort(E[np.argsort(abs(E - t))[:3]]), atol=1e-10))
        True
    """
    key = check_key(key)
    k = check_int(k, "k", 1)
    block_size = check_int(block_size, "block_size", 1)
    max_restarts = check_int(max_restarts, "max_restarts", 0)
    max_degree = check_int(max_degree, "max_degree", 2)
    if isinstance(tol, bool) or not isinstance(tol, int | float | np.floating) or not 1e-15 <= float(tol) < 1:
        raise JaxmblError(f"tol must be a number in [1e-15, 1), got {tol!r}")
    op = block_operator(H, sector)
    check_precision(float(tol), op.dtype)
    if k > op.dim:
        raise JaxmblError(f"k={k} exceeds the dimension D={op.dim} of H{'' if sector is None else ' in the sector'}")
    has_target = target is not None
    value = real_values(target if has_target else energy_density, "target" if has_target else "energy_density",
                         op.batch, low=None if has_target else 0.0, high=None if has_target else 1.0)  # fmt: skip
    cfg = make_config(op.dim, k, block_size, krylov_dim, max_restarts, max_degree, has_target)
    n_dev = 1
    if devices is not None:
        devices = check_devices(devices, op)
        n_dev = len(devices)
        cfg = cfg._replace(mesh=jax.sharding.Mesh(np.asarray(devices), ("d",)))
    need, shared = memory_need(op, cfg)
    need /= n_dev
    have = available_memory_bytes()
    if need + shared > have:
        raise JaxmblError(
            f"H: the Krylov basis of {cfg.capacity} vectors of dimension {op.dim} (k={k}, block_size={cfg.block}) needs "
            f"about {(need + shared) / 2**30:.3g} GiB, more than the {have / 2**30:.3g} GiB available; lower k or "
            "krylov_dim, or set JAXMBL_MEMORY_LIMIT_GB"
        )
    params, size = _flatten_params(op)
    keys = jax.vmap(lambda i: jr.fold_in(key, i))(jnp.arange(size)) if op.batch else key
    traced = is_traced((params, value, key))
    chunk = size if traced else max(1, int((have - shared) // need))
    view = operator_view(op)
    flat_value = value.reshape(-1) if op.batch else value
    outs = []
    for lo_i in range(0, size, chunk):
        sl = slice(lo_i, min(size, lo_i + chunk))
        p_i = _take(params, op.axes, sl) if op.batch else params
        k_i, v_i = (keys[sl], flat_value[sl]) if op.batch else (keys, flat_value)
        pre = _map_realizations(partial(_prepare_jit, view=view), op, p_i, k_i)
        t = jnp.where(has_target, v_i, pre["e_min"] + v_i * (pre["e_max"] - pre["e_min"]))
        if has_target and not traced:
            bad = np.flatnonzero(np.asarray((t < pre["lo"]) | (t > pre["hi"])).ravel())
            if bad.size:
                j = int(bad[0])
                lo_b, hi_b = (float(np.ravel(pre[x])[j]) for x in ("lo", "hi"))
                raise JaxmblError(
                    f"target={float(np.ravel(t)[j]):.6g} lies outside the spectrum of H, which is within "
                    f"[{lo_b:.6g}, {hi_b:.6g}]{f' (realization {lo_i + j})' if op.batch else ''}"
                )
        outs.append(_map_realizations(partial(_solve_jit, view=view, cfg=cfg, tol=tol), op, p_i, k_i, pre, t))
    E, X, R, info = jax.tree_util.tree_map(lambda *xs: jnp.concatenate(xs) if op.batch else xs[0], *outs)
    X = X.astype(jnp.result_type(X.dtype, jnp.complex64))
    if op.batch:
        E, X, R, info = jax.tree_util.tree_map(lambda y: y.reshape(op.batch + y.shape[1:]), (E, X, R, info))
    if not traced and cfg.block < op.dim and max_multiplicity(E, tol) >= cfg.block:
        # A level found block_size times may have a higher multiplicity, which a block of b random
        # vectors cannot resolve (its projection on the eigenspace has rank b): redo with a larger block.
        return interior_eigh(
            H, k, energy_density=energy_density, target=target, sector=sector, tol=tol, key=key,
            block_size=2 * cfg.block, krylov_dim=None if krylov_dim is None else max(krylov_dim, k + 4 * cfg.block),
            max_restarts=max_restarts, max_degree=max_degree, devices=devices,
        )  # fmt: skip
    if not traced and not bool(np.all(np.asarray(info["converged"]))):
        warnings.warn(
            f"interior_eigh: {int(np.sum(~np.asarray(info['converged'])))} realization(s) did not converge to "
            f"tol={tol:g} within max_restarts={max_restarts}; see residuals (raise krylov_dim or block_size)",
            RuntimeWarning,
            stacklevel=2,
        )
    return InteriorEigh(E, X, R, info)
