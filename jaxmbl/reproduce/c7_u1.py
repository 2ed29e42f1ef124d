"""C7 — beyond the paper: the conserved-charge variant (§II, end), quenched from a density wave.

K and H0 commute with the total charge ``Q = sum_r P_r`` (``jm.sample_u1_models``: every
bond term of K is a random combination of ``XX + YY``, ``XY - YX``, ``ZI``, ``IZ``, ``ZZ``). The chain
starts in the density wave with particles (``n_r = 1``) on the even sites, ``I(0) = 1``, and
evolves exactly to ``t = 1e12``. For the left half A we follow

* the **number entropy** ``S_N`` (charge fluctuations of A) and the **configurational entropy**
  ``S_conf = S - S_N`` (``jm.configurational_entropy``), and
* the **imbalance** ``I(t) = (N_e - N_o)/(N_e + N_o)`` measured in cold-atom experiments.

Expected MBL phenomenology of the l-bit model: particles move only within the dressing of U,
so ``S_N`` saturates at ``t ~ 1/J0`` and stays bounded, while ``S_conf`` keeps growing as
``ln t`` (dephasing, as in C5) until it saturates; ``I(t)`` keeps a finite value forever (the
l-bit occupations remember the initial pattern). Checks: in the growth window
``1 <= xi ln(J0 t) <= |A| - 1`` of C5 ``S_conf`` grows (slope > 3 standard errors); from the start
of that window (``xi ln(J0 t) <= 2``) to late times (``t >= 1e8``) ``S_N`` gains at most a quarter
of what ``S_conf`` gains (increments rather than slopes: S_N fluctuates in time around its
plateau); the late-time imbalance is finite (> ``MIN_IMBALANCE`` and > 5 standard errors); the
charge stays in its sector. A charge-conserving but Haar-random dense U
thermalizes: I -> 0 and nothing grows.

``run(ctx, make_models=...)`` accepts a replacement for ``jm.sample_u1_models``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import jaxmbl as jm
from jaxmbl.reproduce._base import Claim, ClaimResult, Measurement
from jaxmbl.reproduce._report import figure_class, save_figure
from jaxmbl.reproduce._tools import line_fit, neel_index, standard_error

TITLE = "Conserved charge: number entropy, configurational entropy, imbalance (§II, end)"

SIZES = {
    "tiny": dict(n_sites=10, realizations=24, n_times=40),
    "small": dict(n_sites=12, realizations=24, n_times=53),
    "medium": dict(n_sites=14, realizations=32, n_times=53),
    "large": dict(n_sites=24, realizations=8, n_times=53),  # one GPU: 2^24 amplitudes x 8 realizations
}
MODEL = dict(xi=0.5, J0=1.0, max_order=3, unitary="generator", strength=1.0)
MIN_IMBALANCE = 0.3
MAX_NUMBER_TO_CONF = 0.25  # growth of S_N / growth of S_conf from the start of the window to late times
MAX_LEAK = 1e-10


def density_wave(lattice):
    """Basis state with particles (``n_r = 1``, down spins) on the even sublattice: ``I = 1``."""
    return jm.basis_state(lattice.n_sites, (2**lattice.n_sites - 1) ^ neel_index(lattice))


def run(ctx, *, make_models=None) -> ClaimResult:
    """Measure C7 at ``ctx.size``; ``make_models(key, lattice, n, **kw)`` replaces ``sample_u1_models``."""
    Figure = figure_class()  # matplotlib's Figure (no pyplot), or a no-op stand-in without matplotlib

    p = SIZES[ctx.size]
    make_models = make_models or jm.sample_u1_models
    N, R = p["n_sites"], p["realizations"]
    lat = jm.Lattice((N,))
    A = lat.block(0, N // 2)
    ts = np.logspace(-1, 12, p["n_times"])
    psi0 = density_wave(lat)
    outside = jnp.asarray(jm.basis_bits(N).sum(1) != N // 2)

    def observables(psi):
        leak = jnp.sum(jnp.where(outside, jnp.abs(psi) ** 2, 0.0))
        return jm.entropy(psi, A), jm.number_entropy(psi, A), jm.imbalance(psi, lat), leak

    ctx.progress(0.0, f"{R} charge-conserving realizations, N={N}")
    models = make_models(ctx.key(1), lat, R, **MODEL)
    ctx.progress(0.1, f"exact evolution to t = 1e12 ({len(ts)} times)")
    S, S_N, I, leak = (np.asarray(x) for x in jm.evolve(models, psi0, ts, observables=observables))  # (R, T)
    S_conf = S - S_N

    xi = MODEL["xi"]
    w = (xi * np.log(ts) >= 1) & (xi * np.log(ts) <= len(A) - 1)
    b_conf = line_fit(np.log(ts[w]), S_conf[:, w])[0]
    b_num = line_fit(np.log(ts[w]), S_N[:, w])[0]
    slope_conf, slope_conf_err = float(b_conf.mean()), float(standard_error(b_conf))
    slope_num, slope_num_err = float(b_num.mean()), float(standard_error(b_num))
    late = ts >= 1e8
    early = w & (xi * np.log(ts) <= 2)
    gain_num = S_N[:, late].mean(1) - S_N[:, early].mean(1)
    gain_conf = S_conf[:, late].mean(1) - S_conf[:, early].mean(1)
    I_late = I[:, late].mean(1)
    I_mean, I_err = float(I_late.mean()), float(standard_error(I_late))
    SN_late, SN_max = float(S_N[:, late].mean()), float(S_N.mean(0).max())
    max_leak = float(leak.max())

    verdicts = {
        "S_conf grows as ln t (slope > 3 SE)": slope_conf > 3 * slope_conf_err,
        f"S_N saturates: its late gain ≤ {MAX_NUMBER_TO_CONF} × that of S_conf": bool(
            gain_num.mean() <= MAX_NUMBER_TO_CONF * gain_conf.mean()
        ),
        f"imbalance stays finite: late I ≥ {MIN_IMBALANCE} and > 5 SE": I_mean >= MIN_IMBALANCE and I_mean > 5 * I_err,
        "charge conserved (weight outside the sector ≤ 1e-10)": max_leak <= MAX_LEAK,
    }

    ctx.progress(0.9, "figure")
    fig = Figure(figsize=(12, 4.8))
    ax = fig.subplots(1, 2)
    a = ax[0]
    for y, name, c in ((S, "S", "k"), (S_conf, r"$S_{\rm conf} = S - S_N$", "C0"), (S_N, r"$S_N$ (number)", "C3")):
        m, e = y.mean(0), standard_error(y)
        a.plot(ts, m, color=c, label=name)
        a.fill_between(ts, m - e, m + e, color=c, alpha=0.3)
    fit = np.polyfit(np.log(ts[w]), S_conf.mean(0)[w], 1)
    a.plot(ts[w], np.polyval(fit, np.log(ts[w])), "k--", lw=1, label=f"slope {slope_conf:.3f} ± {slope_conf_err:.3f}")
    a.axhline(np.log(len(A) + 1), color="C3", ls=":", lw=1, label=r"$\ln(|A|+1)$: max of $S_N$")
    a.axvspan(ts[w][0], ts[w][-1], color="0.92", zorder=0)
    a.set(
        xscale="log", xlabel=r"$J_0 t$", ylabel="nats", title=f"half chain, N={N}, {R} realizations (grey: fit window)"
    )
    a.legend(fontsize=8)
    a = ax[1]
    m, e = I.mean(0), standard_error(I)
    a.plot(ts, m, "C2", label="imbalance I(t)")
    a.fill_between(ts, m - e, m + e, color="C2", alpha=0.3)
    a.axhline(I_mean, color="C2", ls="--", lw=1, label=f"late-time I = {I_mean:.3f} ± {I_err:.3f}")
    a.axhline(0, color="0.5", lw=0.8)
    a.set(
        xscale="log",
        ylim=(-0.1, 1.05),
        xlabel=r"$J_0 t$",
        ylabel=r"$(N_e - N_o)/(N_e + N_o)$",
        title="memory of the initial density wave",
    )
    a.legend(fontsize=8)
    fig.suptitle("C7: with a conserved charge, S_N saturates, S_conf grows as ln t, the imbalance never decays")
    rel = save_figure(ctx, fig, "c7_u1.png")

    measured = {
        "slope of S_conf vs ln t": Measurement(slope_conf, slope_conf_err, "nats; SE over realizations"),
        "slope of S_N vs ln t": Measurement(slope_num, slope_num_err, "nats; SE over realizations"),
        "gain of S_N from the window start to t ≥ 1e8": Measurement(
            float(gain_num.mean()), float(standard_error(gain_num)), "nats"
        ),
        "gain of S_conf from the window start to t ≥ 1e8": Measurement(
            float(gain_conf.mean()), float(standard_error(gain_conf)), "nats"
        ),
        "late-time imbalance (t ≥ 1e8)": Measurement(I_mean, I_err),
        "late-time S_N (t ≥ 1e8)": Measurement(
            SN_late, float(standard_error(S_N[:, late].mean(1))), f"bound ln(|A|+1) = {np.log(len(A) + 1):.3f}"
        ),
        "max over t of averaged S_N": Measurement(SN_max),
        "late-time S_conf (t ≥ 1e8)": Measurement(
            float(S_conf[:, late].mean()), float(standard_error(S_conf[:, late].mean(1)))
        ),
        "max weight outside the charge sector": Measurement(max_leak),
    }
    details = (
        f"Chains of N={N} with H0 (ξ={xi}) and U = exp(−iK), K a sum of random charge-conserving bond terms "
        f"(norm ≤ {MODEL['strength']}); {R} realizations, density-wave start (particles on even sites), {len(ts)} "
        f"times to 1e12, half-chain A. In the window 1 ≤ ξ ln(J0 t) ≤ |A|−1 the configurational entropy grows "
        f"as {slope_conf:.3f} ± {slope_conf_err:.3f} per unit ln t (number entropy: {slope_num:.3f} ± {slope_num_err:.3f}); "
        f"from the start of the window to t ≥ 1e8 S_conf gains {gain_conf.mean():.3f} nats and S_N only "
        f"{gain_num.mean():.3f}: S_N saturates at ≈ {SN_late:.3f} nats (bound ln(|A|+1) = "
        f"{np.log(len(A) + 1):.2f}) after t ~ 1/J0, because particles only move within the dressing of U. The "
        f"imbalance drops from 1 to {I_mean:.3f} ± {I_err:.3f} and stays there to t = 1e12: the l-bit "
        f"occupations keep the memory of the initial pattern. The charge never leaves its sector "
        f"(max leakage {max_leak:.1e})."
    )
    criterion = (
        f"All must hold: in the growth window 1 ≤ ξ ln(J0 t) ≤ |A|−1 the mean slope of S_conf vs ln t exceeds 3 "
        f"standard errors; from the start of the window (ξ ln(J0 t) ≤ 2) to t ≥ 1e8 the mean gain of S_N is ≤ "
        f"{MAX_NUMBER_TO_CONF} times the gain of S_conf; the imbalance averaged over "
        f"t ≥ 1e8 is ≥ {MIN_IMBALANCE} and more than 5 standard errors above 0; the weight outside the initial "
        f"charge sector is ≤ {MAX_LEAK:g} at all times. A charge-conserving Haar-random U fails the first and third."
    )
    fields = {
        "figures": [rel],
        "details": details,
        "parameters": {**MODEL, **p, "initial": "density wave, particles on even sites"},
    }
    return ClaimResult.from_checks("C7", TITLE, criterion, verdicts, measured, **fields)


CLAIM = Claim(id="C7", title=TITLE, run=run, weight=20.0)
