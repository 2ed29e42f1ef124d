"""C6 — locality of U and of the l-bits (paper §II, eq. 2.4), and the light cones it implies.

1. **Dressed l-bits.** ``tau^z_r = U Z_r U^dagger`` is exponentially localized around r: the Pauli
   weight ``w(d)`` of tau on strings reaching farther than d from r
   (``jm.dressed_operator_weights``) decays exponentially; we fit its
   decay length ``xi_tau``.
2. **Lieb-Robinson light cone of K** (eq. 2.4): ``C(d, t) = ||[A(t), B]||`` for
   ``A(t) = e^{iKt} Z_0 e^{-iKt}``, ``B = Z_d``, in operator norm (dense, small N). The front
   ``t*(d)`` where C first reaches ``EPS_FRONT`` moves at a finite speed ``v_LR`` (linear fit of d
   against ``t*``); outside the cone a fit of ``ln C = (v t - d)/xi_LR + c`` gives ``xi_LR``. At the
   fictitious time ``t = 1`` that defines ``U = e^{-iK}`` distant operators still commute.
3. **Logarithmic light cone of H** (dephasing): the infinite-temperature OTOC
   ``C(r, t) = <|[X_0(t), X_r]|^2>`` under ``H = U H0 U^dagger`` (exact fast path, Haar-random
   states) is 2 once the coupling ``J_{0r} ~ J0 e^{-r/xi}`` has acted (``|J_{0r}| t ~ 1``). Its
   front ``r*(t)`` (where C crosses 1) grows as ``xi ln(J0 t)``: a linear fit in ln t gives a slope
   close to xi and describes the front much better than a linear fit in t.

``run(ctx, make_models=...)`` accepts a replacement for ``jm.sample_models`` (same signature); with
a Haar-random dense U (whose generator ``i log U`` is non-local) every check fails.
"""

from __future__ import annotations

import jax
import numpy as np

import jaxmbl as jm
from jaxmbl.reproduce._base import Claim, ClaimResult, Measurement
from jaxmbl.reproduce._report import figure_class, save_figure
from jaxmbl.reproduce._tools import decay_length, line_fit, standard_error

TITLE = "Locality of U and of the l-bits; light cones (§II, eq. 2.4)"

SIZES = {
    "tiny": dict(n_tau=8, r_tau=4, n_lr=6, r_lr=3, n_otoc=6, r_otoc=4, n_times=27, n_lr_times=21),
    "small": dict(n_tau=8, r_tau=16, n_lr=8, r_lr=6, n_otoc=10, r_otoc=6, n_times=40, n_lr_times=41),
    "medium": dict(n_tau=10, r_tau=16, n_lr=8, r_lr=16, n_otoc=12, r_otoc=16, n_times=53, n_lr_times=41),
    "large": dict(n_tau=12, r_tau=16, n_lr=10, r_lr=16, n_otoc=16, r_otoc=32, n_times=53, n_lr_times=41),
}
MODEL = dict(xi=0.4, J0=1.0, max_order=3, unitary="generator", strength=0.5)
T_LR = 10.0  # fictitious times 0..T_LR for the Lieb-Robinson front (bond terms of norm <= 0.5)
FLOOR = 1e-13  # Pauli weights below this are round-off of 1 - (weight inside)
EPS_FRONT = 1e-2  # commutator norm that defines the Lieb-Robinson front t*(d)
TAIL = (1e-10, 1e-1)  # commutator norms used for the outside-the-cone fit
MAX_XI_TAU = 1.0
MAX_COMMUTATOR_AT_U = 1e-3  # ||[Z_0(1), Z_{N-1}]||: U = e^{-iK} itself is local
MIN_R2 = 0.8
SLOPE_RANGE = (0.5, 2.0)  # accepted range of (d r*/d ln t) / xi
N_BOOT = 200


def front_times(t, C, eps):
    """First time at which each column of ``C (T, D)`` reaches ``eps`` (log-linear interpolation), NaN if never."""
    out = np.full(C.shape[1], np.nan)
    for k in range(C.shape[1]):
        above = np.nonzero(C[:, k] >= eps)[0]
        if above.size and above[0] > 0:
            j = above[0]
            c0, c1 = np.log(max(C[j - 1, k], 1e-300)), np.log(C[j, k])
            out[k] = t[j - 1] + (np.log(eps) - c0) / (c1 - c0) * (t[j] - t[j - 1])
        elif above.size:
            out[k] = t[0]
    return out


def lieb_robinson_fit(t, C):
    """``(v_LR, xi_LR, r2_front, r2_tail)`` from a realization-averaged ``C (T, N)`` (d = column index).

    ``v_LR``: slope of d against the front time ``t*(d)`` at ``EPS_FRONT`` (d >= 1). ``xi_LR``: least
    squares ``ln C = a t - d/xi_LR + c`` on the points with ``TAIL[0] < C < TAIL[1]``, t > 0, d >= 1.
    """
    d = np.arange(C.shape[1])
    tstar = front_times(t, C[:, 1:], EPS_FRONT)
    ok = np.isfinite(tstar)
    v, r2_front = np.nan, np.nan
    if ok.sum() >= 3:
        v, _, _, r2_front = line_fit(tstar[ok], d[1:][ok])
    T, D = np.meshgrid(t, d, indexing="ij")
    m = (C > TAIL[0]) & (C < TAIL[1]) & (T > 0) & (D >= 1)
    if m.sum() < 4:
        return float(v), float("nan"), float(r2_front), float("nan")
    X = np.stack([T[m], D[m], np.ones(m.sum())], 1)
    y = np.log(C[m])
    coef = np.linalg.lstsq(X, y, rcond=None)[0]
    r2_tail = 1 - np.sum((y - X @ coef) ** 2) / np.sum((y - y.mean()) ** 2)
    xi_lr = -1.0 / coef[1] if coef[1] < 0 else float("inf")
    return float(v), float(xi_lr), float(r2_front), float(r2_tail)


def otoc_front(C, level=1.0):
    """``r*(t)``: where each row of ``C (T, N)`` last exceeds ``level`` (log-interpolated), NaN if nowhere."""
    out = np.full(C.shape[0], np.nan)
    for i, row in enumerate(C):
        above = np.nonzero(row >= level)[0]
        if not above.size:
            continue
        r = above[-1]
        if r == len(row) - 1:
            out[i] = r
            continue
        c0, c1 = np.log(row[r]), np.log(max(row[r + 1], 1e-300))
        out[i] = r + (np.log(level) - c0) / (c1 - c0)
    return out


def otoc_fit(ts, C, n_sites):
    """Fits of the OTOC front in the window ``1 <= r* <= N-2``: ``(slope_ln, r2_ln, r2_lin, mask)``."""
    rstar = otoc_front(C)
    m = np.isfinite(rstar) & (rstar >= 1) & (rstar <= n_sites - 2)
    if m.sum() < 3:
        return float("nan"), float("nan"), float("nan"), m
    b, _, _, r2_ln = line_fit(np.log(ts[m]), rstar[m])
    r2_lin = line_fit(ts[m], rstar[m])[3]
    return float(b), float(r2_ln), float(r2_lin), m


def _bootstrap(fn, samples, rng, n=N_BOOT):
    """Standard deviation of ``fn(mean over a resample of samples)`` (NaNs dropped): a bootstrap error."""
    R = samples.shape[0]
    vals = np.array([fn(samples[rng.integers(0, R, R)].mean(0)) for _ in range(n)], dtype=float)
    good = np.all(np.isfinite(vals.reshape(n, -1)), axis=1)
    if good.sum() < 2:
        return np.full(vals.shape[1:], np.nan) if vals.ndim > 1 else np.nan
    return vals[good].std(axis=0, ddof=1)


def run(ctx, *, make_models=None) -> ClaimResult:
    """Measure C6 at ``ctx.size``; ``make_models(key, lattice, n, **kw)`` replaces ``jm.sample_models``."""
    Figure = figure_class()  # matplotlib's Figure (no pyplot), or a no-op stand-in without matplotlib

    p = SIZES[ctx.size]
    make_models = make_models or jm.sample_models
    rng = np.random.default_rng(ctx.seed)

    # 1. dressed l-bit tau^z at the centre of the chain
    ctx.progress(0.0, f"dressed l-bits, N={p['n_tau']}")
    lat = jm.Lattice((p["n_tau"],))
    r0 = p["n_tau"] // 2
    models = make_models(ctx.key(1), lat, p["r_tau"], **MODEL)
    radii, w = jm.dressed_operator_weights(models.U, lat, r0)
    w = np.asarray(w)  # (R, D); the last radius covers the chain, w = 0
    w_mean, w_err = w.mean(0), standard_error(w)
    xi_tau, xi_tau_err, tau_fitted = decay_length(radii[1:-1], w_mean[1:-1], FLOOR)
    w_far = float(w_mean[-2])

    # 2. Lieb-Robinson commutators under K (dense, one realization at a time)
    ctx.progress(0.3, f"Lieb-Robinson commutators, N={p['n_lr']}")
    lat = jm.Lattice((p["n_lr"],))
    models = make_models(ctx.key(2), lat, p["r_lr"], **MODEL)
    t_lr = np.linspace(0.0, T_LR, p["n_lr_times"])
    C_lr = np.stack(
        [
            np.asarray(
                jm.lieb_robinson_commutators(
                    jm.generator_matrix(jax.tree_util.tree_map(lambda x, i=i: x[i], models.U)),
                    np.concatenate([t_lr, [1.0]]),
                )
            )
            for i in range(p["r_lr"])
        ]
    )  # (R, T+1, N); the last row is t = 1
    C_at_U = C_lr[:, -1]
    C_lr = C_lr[:, :-1]
    v_lr, xi_lr, r2_front, r2_tail = lieb_robinson_fit(t_lr, C_lr.mean(0))
    v_err, xi_lr_err = _bootstrap(lambda c: np.array(lieb_robinson_fit(t_lr, c)[:2]), C_lr, rng)
    commutator_at_U = float(C_at_U[:, -1].mean())

    # 3. OTOC under H
    ctx.progress(0.55, f"OTOC under H, N={p['n_otoc']}")
    N = p["n_otoc"]
    lat = jm.Lattice((N,))
    models = make_models(ctx.key(3), lat, p["r_otoc"], **MODEL)
    ts = np.logspace(-1, 12, p["n_times"])
    C_ot = np.asarray(jm.otoc(ctx.key(4), models, ts))  # (R, T, N)
    slope, r2_ln, r2_lin, front_mask = otoc_fit(ts, C_ot.mean(0), N)
    slope_err = _bootstrap(lambda c: otoc_fit(ts, c, N)[0], C_ot, rng)
    ratio = slope / MODEL["xi"]

    verdicts = {
        f"tau^z weight decays exponentially, xi_tau ≤ {MAX_XI_TAU}": bool(np.isfinite(xi_tau) and xi_tau <= MAX_XI_TAU),
        f"||[Z_0(t=1), Z_N-1]|| ≤ {MAX_COMMUTATOR_AT_U:g} (U is local)": commutator_at_U <= MAX_COMMUTATOR_AT_U,
        f"Lieb-Robinson front linear in t (R² ≥ {MIN_R2}), finite v_LR, xi_LR": bool(
            np.isfinite(v_lr) and v_lr > 0 and r2_front >= MIN_R2 and np.isfinite(xi_lr) and xi_lr > 0
        ),
        f"OTOC front ∝ xi ln t: slope/xi in {SLOPE_RANGE}, R²(ln t) ≥ {MIN_R2} > R²(t)": bool(
            np.isfinite(slope) and SLOPE_RANGE[0] <= ratio <= SLOPE_RANGE[1] and r2_ln >= MIN_R2 and r2_ln > r2_lin
        ),
    }

    ctx.progress(0.9, "figure")
    fig = Figure(figsize=(12, 9))
    ax = fig.subplots(2, 2)
    a = ax[0, 0]
    a.errorbar(radii[:-1], np.maximum(w_mean[:-1], 1e-17), w_err[:-1], fmt="o", label=r"$\tau^z_r = U Z_r U^\dagger$")
    if np.isfinite(xi_tau):
        dd = radii[1:-1][tau_fitted]
        fit = np.polyfit(dd, np.log(w_mean[1:-1][tau_fitted]), 1)
        a.plot(
            dd,
            np.exp(np.polyval(fit, dd)),
            "k--",
            label=rf"$e^{{-d/\xi_\tau}}$, $\xi_\tau$ = {xi_tau:.2f} ± {xi_tau_err:.2f}",
        )
    a.set(
        yscale="log",
        xlabel="radius d",
        ylabel="Pauli weight outside the ball B_d(r)",
        title=f"dressed l-bit, N={p['n_tau']}, {p['r_tau']} realizations",
    )
    a.legend(fontsize=8)
    a = ax[0, 1]
    img = a.imshow(
        np.log10(np.maximum(C_lr.mean(0), 1e-16)).T,
        origin="lower",
        aspect="auto",
        cmap="viridis",
        extent=(t_lr[0], t_lr[-1], -0.5, p["n_lr"] - 0.5),
        vmin=-12,
        vmax=0.5,
    )
    fig.colorbar(img, ax=a, label=r"$\log_{10}\|[Z_0(t), Z_d]\|$")
    tt = np.linspace(0, T_LR, 10)
    if np.isfinite(v_lr):
        tstar = front_times(t_lr, C_lr.mean(0)[:, 1:], EPS_FRONT)
        a.plot(tstar, np.arange(1, p["n_lr"]), "w.", ms=8)
        d0 = np.nanmean(np.arange(1, p["n_lr"]) - v_lr * tstar)
        a.plot(
            tt,
            d0 + v_lr * tt,
            "w--",
            label=rf"$v_{{LR}}$ = {v_lr:.2f} ± {v_err:.2f}, $\xi_{{LR}}$ = {xi_lr:.2f} ± {xi_lr_err:.2f}",
        )
    a.axvline(1.0, color="r", lw=1, label="t = 1: U")
    a.set(
        ylim=(-0.5, p["n_lr"] - 0.5),
        xlabel="fictitious time t under K",
        ylabel="distance d",
        title=f"Lieb–Robinson light cone, N={p['n_lr']}, {p['r_lr']} realizations",
    )
    a.legend(fontsize=8, loc="lower right")
    a = ax[1, 0]
    img = a.imshow(
        C_ot.mean(0).T,
        origin="lower",
        aspect="auto",
        cmap="magma",
        extent=(np.log10(ts[0]), np.log10(ts[-1]), -0.5, N - 0.5),
        vmin=0,
        vmax=2.2,
    )
    fig.colorbar(img, ax=a, label=r"$\langle|[X_0(t), X_r]|^2\rangle$")
    rstar = otoc_front(C_ot.mean(0))
    a.plot(np.log10(ts), rstar, "w.", ms=5, label="front r*(t)")
    if np.isfinite(slope):
        fit = np.polyfit(np.log(ts[front_mask]), rstar[front_mask], 1)
        a.plot(
            np.log10(ts),
            np.polyval(fit, np.log(ts)),
            "c--",
            label=rf"$r^* = {slope:.2f}\,\ln t + c$ (ξ = {MODEL['xi']})",
        )
    a.set(
        ylim=(-0.5, N - 0.5),
        xlabel=r"$\log_{10}(J_0 t)$",
        ylabel="site r",
        title=f"OTOC under H: logarithmic light cone, N={N}",
    )
    a.legend(fontsize=8, loc="upper left")
    a = ax[1, 1]
    for k in range(1, N, max(1, N // 5)):
        m, e = C_ot[:, :, k].mean(0), standard_error(C_ot[:, :, k])
        a.plot(ts, m, label=f"r = {k}")
        a.fill_between(ts, m - e, m + e, alpha=0.3)
        a.axvline(np.exp(k / MODEL["xi"]), color=a.lines[-1].get_color(), ls=":", lw=0.8)
    a.set(xscale="log", xlabel=r"$J_0 t$", ylabel="OTOC", title=r"rise at $t \sim e^{r/\xi}/J_0$ (dotted)")
    a.legend(fontsize=8)
    fig.suptitle("C6: U and the l-bits are local; K has a linear light cone, H a logarithmic one")
    rel = save_figure(ctx, fig, "c6_locality.png")

    measured = {
        "xi_tau (decay of the tau^z Pauli weight)": Measurement(xi_tau, xi_tau_err, "lattice units; fit error"),
        "w(d_max - 1) of tau^z": Measurement(w_far, float(w_err[-2])),
        "v_LR (front at ||[A(t),B]|| = 1e-2)": Measurement(
            v_lr, float(v_err), "sites per unit fictitious time; bootstrap error"
        ),
        "xi_LR (outside-cone decay)": Measurement(xi_lr, float(xi_lr_err), "lattice units; bootstrap error"),
        "R² of the LR front / of the tail fit": f"{r2_front:.3f} / {r2_tail:.3f}",
        "||[Z_0(t=1), Z_N-1]|| under K": Measurement(commutator_at_U, float(standard_error(C_at_U[:, -1]))),
        "OTOC front slope d r*/d ln t": Measurement(slope, float(slope_err), "bootstrap error"),
        "OTOC slope / xi": Measurement(ratio, float(slope_err / MODEL["xi"])),
        "R² of r* vs ln t / vs t": f"{r2_ln:.3f} / {r2_lin:.3f}",
    }
    details = (
        f"U = exp(−iK), K a sum of random bond terms of norm ≤ {MODEL['strength']}; H0 with ξ = {MODEL['xi']}. "
        f"(1) The Pauli weight of τ^z_r = U Z_r U† outside a ball of radius d decays from {w_mean[1]:.1e} (d=1) to "
        f"{w_far:.1e} (d={radii[-2]:g}), decay length ξ_τ = {xi_tau:.2f} ± {xi_tau_err:.2f} (the decay is faster than "
        f"exponential: (2s)^d/d!). (2) Under K, ||[Z_0(t), Z_d]|| (operator norm, dense, N={p['n_lr']}) has a light "
        f"cone: front velocity v_LR = {v_lr:.2f} ± {v_err:.2f} sites per unit time (R² {r2_front:.2f}), and outside the "
        f"cone ln C ≈ (v t − d)/ξ_LR with ξ_LR = {xi_lr:.2f} ± {xi_lr_err:.2f} (R² {r2_tail:.2f}); at t = 1 (U itself) "
        f"the farthest commutator is {commutator_at_U:.1e}. The front slows down at long times because the random "
        f"bonds of K are disordered; the bound only needs a maximal velocity. (3) Under H the OTOC "
        f"⟨|[X_0(t), X_r]|²⟩ rises to 2 when |J_0r| t ~ 1: its front r*(t) = {slope:.2f}(±{slope_err:.2f}) ln t + c, "
        f"i.e. slope/ξ = {ratio:.2f}; a fit linear in ln t has R² = {r2_ln:.3f}, a fit linear in t only {r2_lin:.3f}."
    )
    criterion = (
        f"All must hold: (1) an exponential fit of the realization-averaged τ^z weight w(d) (points above {FLOOR:g}) "
        f"has decay length ≤ {MAX_XI_TAU}; (2) at t = 1 the mean ||[Z_0(t), Z_{{N−1}}]|| under K is ≤ "
        f"{MAX_COMMUTATOR_AT_U:g}; (3) the Lieb–Robinson front t*(d) at norm {EPS_FRONT:g} is linear in d with R² ≥ "
        f"{MIN_R2} and v_LR > 0, and the outside-cone fit gives a finite ξ_LR > 0; (4) the OTOC front r*(t) (where the "
        f"averaged OTOC crosses 1), fitted in 1 ≤ r* ≤ N−2, has slope/ξ in {SLOPE_RANGE} against ln t with R² ≥ "
        f"{MIN_R2} and a better R² than a fit linear in t. A Haar-random dense U fails all four."
    )
    fields = {"figures": [rel], "details": details, "parameters": {**MODEL, **p, "T_LR": T_LR}}
    return ClaimResult.from_checks("C6", TITLE, criterion, verdicts, measured, **fields)


CLAIM = Claim(id="C6", title=TITLE, run=run, weight=35.0)
