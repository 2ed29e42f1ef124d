"""C3 — no energy transport (paper §II, the two arguments after eq. 2.8).

1. **Distant flips are exponentially suppressed.** For every eigenstate ``|E> = U|n>`` and a
   local kick ``O(r0) = X_{r0}``, the amplitude to land in ``|E'> = U X_r U^dagger |E>`` is
   ``A(n, r) = |<n xor e_r| U^dagger X_{r0} U |n>|`` (``jm.flip_amplitudes``),
   the same at all times because H only dephases l-bits. For ``U = exp(-iK)`` it decays
   exponentially in ``d = |r - r0|``; we fit ``<A>(d) ~ exp(-d / xi_A)``. For a depth-D
   circuit ``U^dagger X U`` is supported within D sites, so A is exactly zero for ``d > D``.
2. **Injected energy stays put.** Kick the ground state at the chain centre, evolve with
   ``jm.evolve`` (vmapped over realizations) to ``t = 1e12 / J0``, and follow the energy
   density ``e_r(t) = <psi(t)| U h_r U^dagger |psi(t)>`` of the l-bit decomposition
   ``H = sum_r U h_r U^dagger`` (each ``J_S`` shared equally by its sites). The excess
   ``e_r - e_r(ground)`` stays within a few sites of r0 at every time.

``run(ctx, make_models=...)`` accepts a replacement for ``jm.sample_models`` (same signature);
with a Haar-random dense U (the tests' negative control) checks 1-3 fail.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

import jaxmbl as jm
from jaxmbl.reproduce._base import Claim, ClaimResult, Measurement
from jaxmbl.reproduce._report import figure_class, save_figure

TITLE = "No energy transport (§II)"
KEY_TAG = 3000  # ctx.key(KEY_TAG + i): keys of this claim differ from other claims'

SIZES = {
    "tiny": dict(n_sites=6, r_amp=2, r_energy=4, n_times=8),
    "small": dict(n_sites=10, r_amp=4, r_energy=16, n_times=27),
    "medium": dict(n_sites=12, r_amp=16, r_energy=32, n_times=27),
    "large": dict(n_sites=14, r_amp=32, r_energy=64, n_times=53),
}
H0 = dict(xi=1.0, J0=1.0, max_order=3)
GENERATOR = dict(unitary="generator", strength=0.5)
CIRCUIT = dict(unitary="circuit", depth=4, strength=1.0)
X = np.array([[0.0, 1.0], [1.0, 0.0]])
FLOOR = 1e-11  # 10x the Chebyshev accuracy of U = exp(-iK) (tol 1e-12): smaller amplitudes are not resolved
MAX_RATIO = 1e-3
MAX_XI = 1.5
MAX_OUTSIDE_CONE = 1e-12
NEAR = 2  # "stays put": the excess energy within |r - r0| <= NEAR
MIN_NEAR_FRACTION = 0.9
MAX_DRIFT = 1e-9


def mean_by_distance(A, r0):
    """Average ``A[..., n, r]`` over all eigenstates n: ``(..., N)`` indexed by r, then by ``d = |r - r0|``."""
    per_site = np.asarray(A).mean(-2)
    n = per_site.shape[-1]
    d = np.abs(np.arange(n) - r0)
    return np.stack([per_site[..., d == k].mean(-1) for k in range(d.max() + 1)], -1)


def fit_decay(d, y):
    """Least-squares ``ln y = a - d/xi`` over points with ``y > FLOOR``; returns ``(xi, xi_error, mask)``."""
    d, y = np.asarray(d, float), np.asarray(y, float)
    mask = y > FLOOR
    if mask.sum() < 3:
        return float("nan"), float("nan"), mask
    coef, cov = np.polyfit(d[mask], np.log(y[mask]), 1, cov=True)
    slope, err = coef[0], float(np.sqrt(cov[0, 0]))
    xi = -1.0 / slope if slope < 0 else float("inf")
    return float(xi), float(err / slope**2) if slope < 0 else float("inf"), mask


def _se(x, axis=0):
    x = np.asarray(x)
    return (
        x.std(axis=axis, ddof=1) / np.sqrt(x.shape[axis])
        if x.shape[axis] > 1
        else np.full(np.delete(x.shape, axis), np.nan)
    )


def run(ctx, *, make_models=None) -> ClaimResult:
    """Measure C3 at ``ctx.size``; ``make_models(key, lattice, n, **kw)`` replaces ``jm.sample_models``."""
    # The Figure API renders with Agg without switching the global backend (safe in notebooks).
    Figure = figure_class()  # matplotlib's Figure (no pyplot), or a no-op stand-in without matplotlib

    p = SIZES[ctx.size]
    make_models = make_models or jm.sample_models
    N = p["n_sites"]
    lat = jm.Lattice((N,))

    # 1. flip amplitudes from the edge site r0 = 0 (distances up to N - 1)
    ctx.progress(0.0, f"flip amplitudes, U = exp(-iK), N={N}")
    gen = make_models(ctx.key(KEY_TAG + 1), lat, p["r_amp"], **H0, **GENERATOR)
    A_gen = mean_by_distance(jm.flip_amplitudes(gen, X, 0), 0)  # (R, N)
    ctx.progress(0.35, "flip amplitudes, depth-4 circuit")
    circ = make_models(ctx.key(KEY_TAG + 2), lat, p["r_amp"], **H0, **CIRCUIT)
    A_circ_all = np.asarray(jm.flip_amplitudes(circ, X, 0))  # (R, 2**N, N)
    A_circ = mean_by_distance(A_circ_all, 0)
    d = np.arange(N)
    A_mean, A_err = A_gen.mean(0), _se(A_gen)
    xi_A, xi_err, fitted = fit_decay(d[1:], A_mean[1:])
    decay_ratio = float(max(A_mean[-1], FLOOR) / A_mean[1])  # below FLOOR counts as FLOOR
    depth = CIRCUIT["depth"]
    outside = float(A_circ_all[..., depth + 1 :].max()) if N > depth + 1 else 0.0
    ok_decay = decay_ratio <= MAX_RATIO and np.isfinite(xi_A) and xi_A <= MAX_XI
    ok_cone = outside <= MAX_OUTSIDE_CONE

    # 2. energy injected at the centre of the ground state, followed to t = 1e12
    ctx.progress(0.6, "energy injection and evolution to t = 1e12")
    r0 = N // 2
    models = make_models(ctx.key(KEY_TAG + 3), lat, p["r_energy"], **H0, **GENERATOR)
    ground = jnp.argmin(jm.energies(models), axis=-1)
    psi_E = jm.eigenstates(models, ground[:, None])[:, 0]  # (R, 2**N): each realization's ground state
    kick = jnp.asarray(jm.pauli_string("I" * r0 + "X" + "I" * (N - r0 - 1)))
    psi0 = psi_E @ kick.T
    ts = np.concatenate([[0.0], np.logspace(-1, 12, p["n_times"])])
    psi_t = jax.vmap(lambda m, v: jm.evolve(m, v, ts))(models, psi0)  # (R, T, 2**N)
    e_t = np.asarray(jm.energy_density(models, psi_t))  # (R, T, N)
    e_ground = np.asarray(jax.vmap(lambda h, n: h[:, n])(jm.lbit_energy_density(models.h0), ground))  # (R, N)
    excess = e_t - e_ground[:, None, :]
    drift = float(np.abs(e_t - e_t[:, :1]).max())
    dist = np.abs(np.arange(N) - r0)
    weight = np.abs(excess[:, -1])
    near = (weight * (dist <= NEAR)).sum(-1) / weight.sum(-1)
    near_mean, near_err = float(near.mean()), float(_se(near))
    injected = excess[:, -1].sum(-1)
    profile = mean_by_distance(weight[:, None, :], r0)  # (R, d)
    xi_E, xi_E_err, _ = fit_decay(np.arange(profile.shape[-1])[1:], profile.mean(0)[1:])
    ok_near = near_mean >= MIN_NEAR_FRACTION
    ok_drift = drift <= MAX_DRIFT

    ctx.progress(0.9, "figure")
    fig = Figure(figsize=(11, 8.5))
    ax = fig.subplots(2, 2)
    a = ax[0, 0]
    a.errorbar(d, A_mean, A_err, fmt="o", color="C0", label=rf"$U=e^{{-iK}}$ (strength {GENERATOR['strength']:.2g})")
    if np.isfinite(xi_A):
        sel = d[1:][fitted]
        amp = np.exp(np.polyfit(sel, np.log(A_mean[1:][fitted]), 1))
        a.plot(sel, amp[1] * amp[0] ** sel, "C0--", label=rf"fit $e^{{-d/\xi_A}}$, $\xi_A$ = {xi_A:.2f} ± {xi_err:.2f}")
    shown = np.maximum(A_circ.mean(0), 1e-17)
    a.plot(d, shown, "s", color="C2", mfc="none", label=f"depth-{depth} circuit (0 shown at 1e-17)")
    a.axvline(depth + 0.5, color="C2", ls=":", label="circuit light cone")
    a.axhline(FLOOR, color="0.6", lw=0.8)
    a.set(
        yscale="log",
        xlabel="d = |r − r0|",
        ylabel=r"$\langle|\langle E'|X_{r_0}|E\rangle|\rangle$ over all $2^N$ E",
        title=f"amplitude to flip l-bit r, N={N}, {p['r_amp']} realizations",
    )
    a.legend(fontsize=8)
    a = ax[0, 1]
    for k in np.unique(np.linspace(0, len(ts) - 1, 5).astype(int)):
        a.plot(np.arange(N), np.abs(excess[:, k]).mean(0), "o-", ms=4, label=f"t = {ts[k]:.0e}" if ts[k] else "t = 0")
    a.axvline(r0, color="k", ls=":", lw=0.8)
    a.set(
        yscale="log",
        xlabel="site r",
        ylabel=r"$|e_r(t) - e_r(\mathrm{ground})|$ / J0",
        title="excess energy density after a kick at r0",
    )
    a.legend(fontsize=8)
    a = ax[1, 0]
    img = a.imshow(
        excess.mean(0).T,
        aspect="auto",
        origin="lower",
        cmap="magma",
        extent=(np.log10(ts[1]) - 0.25, 12.25, -0.5, N - 0.5),
    )
    fig.colorbar(img, ax=a, label="excess energy / J0")
    a.set(xlabel=r"$\log_{10}(J_0 t)$ (first column: t = 0.1)", ylabel="site r", title="energy density never spreads")
    a = ax[1, 1]
    dev = np.abs(e_t - e_t[:, :1]).max(axis=(0, 2))
    a.plot(ts[1:], np.maximum(dev[1:], 1e-18), "o-", color="C3")
    a.set(
        xscale="log",
        yscale="log",
        xlabel="J0 t",
        ylabel=r"max$_{r}|e_r(t) - e_r(0)|$ / J0",
        title="drift of the profile (0 shown at 1e-18)",
    )
    fig.suptitle(
        "C3: a local kick reaches distant l-bits with exponentially small amplitude; energy stays where it was injected"
    )
    rel = save_figure(ctx, fig, "c3_transport.png")

    verdicts = {
        "exponential decay of flip amplitudes": ok_decay,
        "zero outside the circuit light cone": ok_cone,
        "injected energy stays local": ok_near,
        "profile constant to t = 1e12": ok_drift,
    }
    measured = {
        "xi_A (flip-amplitude decay length, U = exp(-iK))": Measurement(xi_A, xi_err, "lattice units; fit error"),
        "<A>(d = N-1) / <A>(d = 1)": Measurement(decay_ratio, note=f"amplitudes below {FLOOR:g} counted as {FLOOR:g}"),
        f"max A outside the depth-{depth} circuit light cone": Measurement(outside),
        f"fraction of excess energy within {NEAR} sites of r0": Measurement(near_mean, near_err),
        "decay length of the excess-energy profile": Measurement(xi_E, xi_E_err, "lattice units"),
        "injected energy": Measurement(float(injected.mean()), float(_se(injected)), "J0"),
        "max drift of e_r(t) for t <= 1e12": Measurement(drift, note="J0"),
    }
    details = (
        f"Chains of N={N} sites, H0 with ξ=1. (1) For all 2^{N} eigenstates U|n⟩ of {p['r_amp']} realizations, "
        f"the amplitude |⟨n⊕e_r|U† X_0 U|n⟩| to flip the l-bit at distance d from the kicked edge site, averaged "
        f"over n: with U = exp(−iK) (bond strength ≤ {GENERATOR['strength']}) it falls by {decay_ratio:.1e} from d=1 "
        f"to d={N - 1}, with decay length ξ_A = {xi_A:.2f} ± {xi_err:.2f} (the decay is even faster than "
        f"exponential, as expected from the Lieb-Robinson series (2s)^d/d! at t = 1). With a depth-{depth} circuit it "
        f"is exactly zero beyond d = {depth} (largest value {outside:.1e}). These moduli are time independent, "
        f"because exp(−iHt) only attaches phases to U|n⟩. (2) Kicking the ground state with X at r0={r0} and "
        f"evolving exactly to t = 1e12 ({p['r_energy']} realizations), {near_mean:.1%} of the excess energy "
        f"|e_r − e_r(ground)| sits within {NEAR} sites of r0 (profile decay length {xi_E:.2f}), and the profile "
        f"moves by at most {drift:.1e} J0 over 13 decades of time: every U h_r U† commutes with H."
    )
    criterion = (
        f"All four must hold: (1) for U = exp(−iK), the eigenstate- and disorder-averaged flip amplitude falls by "
        f"at least {1 / MAX_RATIO:.0e} from d=1 to d=N−1 and its fitted decay length is ≤ {MAX_XI} sites; (2) for a "
        f"depth-{depth} circuit every amplitude beyond d={depth} is ≤ {MAX_OUTSIDE_CONE:g}; (3) ≥ "
        f"{MIN_NEAR_FRACTION:.0%} of the injected excess energy density lies within {NEAR} sites of the kick at "
        f"t = 1e12; (4) max_r,t |e_r(t) − e_r(0)| ≤ {MAX_DRIFT:g} J0 for 0 < t ≤ 1e12. A Haar-random dense U fails "
        f"(1)-(3)."
    )
    fields = {
        "figures": [rel],
        "details": details,
        "parameters": {
            **H0,
            **{f"generator_{k}": v for k, v in GENERATOR.items()},
            **{f"circuit_{k}": v for k, v in CIRCUIT.items()},
            **p,
        },
    }
    return ClaimResult.from_checks("C3", TITLE, criterion, verdicts, measured, **fields)


CLAIM = Claim(id="C3", title=TITLE, run=run, weight=45.0)
