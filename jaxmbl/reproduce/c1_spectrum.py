r"""C1 — spectrum and level statistics (paper §II, eq. 2.3 and 2.5-2.8).

Four checks, all on disorder realizations drawn with ``jm.sample_models`` and evaluated in one
batched (vmapped) call of ``jm.energies``:

1. **H and H0 share their spectrum** (eq. 2.3): sorted ``E(n)`` against ``numpy.linalg.eigvalsh``
   of the dense ``H = U H0 U^dagger`` at small N.
2. **Gaussian density of states** in the onsite-only case ``E(n) = sum_r J_r n_r``, ``J_r``
   uniform in ``[0, J0]``. Over all ``2**N`` states (``n_r`` = 0, 1 with probability 1/2) and
   the disorder, ``x = J n`` has ``<x> = J0/4`` and ``<x^2> = <J^2>/2 = J0^2/6``, so

   .. math:: \overline{\langle E\rangle} = N J_0/4, \qquad
             \overline{\langle (E - N J_0/4)^2\rangle} = N\,(J_0^2/6 - J_0^2/16) = 5 N J_0^2/48 .

   Eq. 2.7-2.8 write the same thing as a mixture over the number Ñ of occupied l-bits of
   Gaussians of mean ``Ñ J0/2``; the width of a sum of Ñ uniform couplings is ``Ñ J0^2/12``
   (the printed ``Ñ J0^2/4`` is the square of the mean, not the variance). Within one
   realization the DOS is Gaussian with mean ``sum J_r/2`` and variance ``sum J_r^2/4``.
3. **Level spacing ~ 2^-N x bandwidth**: the local spacing at the band centre equals
   ``1/D(E)`` of the Gaussian DOS, ``sqrt(2 pi) sigma / 2**N``.
4. **Poisson level statistics**: ``<r~> = 2 ln 2 - 1`` in the central half of the spectrum
   (``jm.mean_ratio``), not the GOE value 0.5307.

``run(ctx, make_models=...)`` accepts a replacement for ``jm.sample_models`` (same signature),
which the tests use for negative controls (a translation-invariant, disorder-free H0 must fail).
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import jax.scipy.special as jsp
import numpy as np

import jaxmbl as jm
from jaxmbl.reproduce._base import Claim, ClaimResult, Measurement
from jaxmbl.reproduce._report import figure_class, save_figure
from jaxmbl.reproduce._tools import central_window, gap_ratios

TITLE = "Spectrum and level statistics (§II)"
KEY_TAG = 1000  # ctx.key(KEY_TAG + i): keys of this claim differ from other claims'

#: Per size: chain lengths and realizations (the same realizations serve every check), and which
#: N is used for the dense check (with its first ``r_dense`` realizations), the DOS and <r~>.
SIZES = {
    "tiny": dict(n_list=(8, 10), realizations=32, n_dense=8, r_dense=2, n_dos=10, n_ratio=10),
    "small": dict(n_list=(8, 10, 12, 14), realizations=64, n_dense=8, r_dense=4, n_dos=14, n_ratio=14),
    "medium": dict(n_list=(8, 10, 12, 14, 16), realizations=128, n_dense=10, r_dense=4, n_dos=16, n_ratio=16),
    "large": dict(n_list=(10, 12, 14, 16, 18), realizations=256, n_dense=12, r_dense=2, n_dos=18, n_ratio=18),
}
MODEL = dict(xi=1.0, J0=1.0, max_order=3, depth=4, strength=1.0)
WINDOW = 0.5  # central half of the spectrum for <r~>
W_CENTER = 0.5  # levels within +-W_CENTER sigma of the band centre give the local spacing
TOL_SPECTRUM = 1e-10
TOL_KS = 0.05
TOL_SPACING = 0.10
MAX_RATIO_ERROR = 0.01


def _ndtr(x):
    return np.asarray(jsp.ndtr(jnp.asarray(x)))


def dos_moments(E):
    """Per-realization centre and width of the DOS over all states: ``<E>_n`` and ``var_n E``, each ``(R,)``."""
    E = np.asarray(E)
    return E.mean(-1), E.var(-1)


def onsite_predictions(n_sites, J0):
    """Disorder mean and standard deviation of ``<E>_n = sum J_r/2`` and ``var_n E = sum J_r^2/4``.

    With ``J_r`` uniform in ``[0, J0]``: ``<J> = J0/2``, ``<J^2> = J0^2/3``, ``var J = J0^2/12``,
    ``var J^2 = J0^4 (1/5 - 1/9)``. Returns ``((mean_c, sd_c), (mean_w, sd_w))``; the pooled
    variance over states and disorder is ``mean_w + sd_c**2 = 5 N J0^2/48``.
    """
    centre = (n_sites * J0 / 4, math.sqrt(n_sites * J0**2 / 48))
    width = (n_sites * J0**2 / 12, math.sqrt(n_sites * J0**4 * (1 / 5 - 1 / 9)) / 4)
    return centre, width


def mixture_cdf(E, n_sites, J0, var_per_lbit):
    """CDF of eq. 2.8: ``sum_Ñ binom(N, Ñ)/2**N Phi((E - Ñ J0/2)/sqrt(Ñ var_per_lbit))``."""
    E = np.asarray(E, dtype=float)
    out = np.zeros_like(E)
    for k in range(n_sites + 1):
        w = math.comb(n_sites, k) / 2.0**n_sites
        out += w * ((E >= 0).astype(float) if k == 0 else _ndtr((E - k * J0 / 2) / math.sqrt(k * var_per_lbit)))
    return out


def ks_distance(samples, cdf):
    """Kolmogorov-Smirnov distance between the empirical CDF of ``samples`` and ``cdf``."""
    x = np.sort(np.asarray(samples).ravel())
    F = cdf(x)
    n = x.size
    return float(max(np.max(np.arange(1, n + 1) / n - F), np.max(F - np.arange(n) / n)))


def center_spacing(E, w=W_CENTER):
    """Local level spacing at the band centre and its Gaussian-DOS prediction, per realization.

    Returns ``(delta, delta_gauss, bandwidth)``, each ``(R,)``: ``delta = 2 w sigma / #levels``
    with ``|E - <E>| < w sigma``; ``delta_gauss = 2 w sigma / (2**N (2 Phi(w) - 1))``.
    """
    E = np.asarray(E)
    mu, sigma = E.mean(-1, keepdims=True), E.std(-1, keepdims=True)
    count = (np.abs(E - mu) < w * sigma).sum(-1)
    delta = 2 * w * sigma[:, 0] / np.maximum(count, 1)
    delta_gauss = 2 * w * sigma[:, 0] / (E.shape[-1] * (2 * _ndtr(w) - 1))
    return delta, delta_gauss, E.max(-1) - E.min(-1)


def onsite_part(h0):
    """The onsite-only H0 ``sum_r J_r P_r`` made of the order-1 couplings of ``h0`` (batched or not)."""
    if 1 not in h0.orders:
        raise jm.JaxmblError(f"h0 has no onsite couplings (orders {h0.orders})")
    k = h0.orders.index(1)
    return jm.LbitHamiltonian(coef=(h0.coef[k],), sites=(h0.sites[k],), n_sites=h0.n_sites)


def _se(x):
    x = np.asarray(x, dtype=float)
    return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")


def run(ctx, *, make_models=None) -> ClaimResult:
    """Measure C1 at ``ctx.size``; ``make_models(key, lattice, n, **kw)`` replaces ``jm.sample_models``."""
    # The Figure API renders with Agg without switching the global backend (safe in notebooks).
    Figure = figure_class()  # matplotlib's Figure (no pyplot), or a no-op stand-in without matplotlib

    p = SIZES[ctx.size]
    make_models = make_models or jm.sample_models
    J0 = MODEL["J0"]

    models, E = {}, {}
    for i, n in enumerate(p["n_list"]):
        ctx.progress(0.8 * i / len(p["n_list"]), f"energies of all 2^{n} states, {p['realizations']} realizations")
        models[n] = make_models(ctx.key(KEY_TAG + n), jm.Lattice((n,)), p["realizations"], **MODEL)
        E[n] = np.asarray(jm.energies(models[n]))

    # 1. same spectrum as the dense H
    ctx.progress(0.8, "dense spectrum check")
    first = jax.tree_util.tree_map(lambda x: x[: p["r_dense"]], models[p["n_dense"]])
    E_dense = np.linalg.eigvalsh(np.asarray(jm.dense_hamiltonian(first)))
    spectrum_dev = float(np.max(np.abs(np.sort(E[p["n_dense"]][: p["r_dense"]], axis=-1) - E_dense)) / J0)
    ok_spectrum = spectrum_dev < TOL_SPECTRUM

    # 2. Gaussian DOS of the onsite part of H0 (J_r uniform in [0, J0]) of the same realizations
    N = p["n_dos"]
    E_dos = np.asarray(jm.energies(onsite_part(models[N].h0)))
    means, widths = dos_moments(E_dos)
    (mean_pred, sd_mean), (width_pred, sd_width) = onsite_predictions(N, J0)
    var_pred = 5 * N * J0**2 / 48  # pooled over states and disorder
    # z-scores use the exact disorder spread of each statistic, not a noisy estimate of it.
    z_mean = (means.mean() - mean_pred) / (sd_mean / math.sqrt(means.size))
    z_var = (widths.mean() - width_pred) / (sd_width / math.sqrt(widths.size))
    # Shape: each realization's levels standardized by its own centre and width, pooled, against
    # N(0, 1); the disorder-averaged DOS (centres fluctuate) is compared for information.
    ks = ks_distance((E_dos - means[:, None]) / np.sqrt(widths)[:, None], _ndtr)
    ks_pooled = ks_distance(E_dos, lambda x: _ndtr((x - mean_pred) / math.sqrt(var_pred)))
    ks_printed = ks_distance(E_dos, lambda x: mixture_cdf(x, N, J0, J0**2 / 4))
    ok_dos = abs(z_mean) <= 3 and abs(z_var) <= 3 and ks < TOL_KS

    # 3. + 4. spacing at the band centre and gap ratios of the full model, for every N
    ctx.progress(0.85, "level spacings and gap ratios")
    spacing, ratios = {}, {}
    for n in p["n_list"]:
        delta, delta_gauss, band = center_spacing(E[n])
        spacing[n] = dict(delta=delta, rho=delta / delta_gauss, band=band)
        ratios[n] = tuple(float(x) for x in jm.mean_ratio(ctx.key(KEY_TAG + 100 + n), E[n], window=WINDOW))
    r_hist = _gap_ratios(E[p["n_ratio"]])
    rho_means = {n: float(s["rho"].mean()) for n, s in spacing.items()}
    ok_spacing = all(abs(v - 1) <= TOL_SPACING for v in rho_means.values())
    r_mean, r_err = ratios[p["n_ratio"]]
    ok_ratio = abs(r_mean - jm.R_POISSON) <= 3 * r_err and r_err <= MAX_RATIO_ERROR

    ctx.progress(0.92, "figure")
    fig = Figure(figsize=(11, 8.5))
    ax = fig.subplots(2, 2)
    a = ax[0, 0]
    lo, hi = float(E_dos.min()), float(E_dos.max())
    a.hist(
        E_dos.ravel(),
        bins=80,
        density=True,
        color="0.75",
        label=f"all $2^{{{N}}}$ levels, {p['realizations']} realizations",
    )
    x = np.linspace(lo, hi, 400)
    a.plot(
        x,
        np.exp(-((x - mean_pred) ** 2) / (2 * var_pred)) / math.sqrt(2 * math.pi * var_pred),
        "C0",
        label=r"Gaussian, mean $NJ_0/4$, var $5NJ_0^2/48$",
    )
    dx = x[1] - x[0]
    a.plot(x[1:], np.diff(mixture_cdf(x, N, J0, J0**2 / 12)) / dx, "k:", label=r"eq. 2.8 with var $\tilde N J_0^2/12$")
    a.plot(
        x[1:],
        np.diff(mixture_cdf(x, N, J0, J0**2 / 4)) / dx,
        "C3--",
        label=r"eq. 2.8 as printed (var $\tilde N J_0^2/4$)",
    )
    a.set(
        xlabel="E / J0",
        ylabel="disorder-averaged DOS (normalized)",
        title=f"onsite-only H0, N={N}: KS distance {ks_pooled:.3f}",
    )
    a.legend(fontsize=8)
    a = ax[0, 1]
    ns = np.array(p["n_list"])
    d_mean = np.array([spacing[n]["delta"].mean() for n in ns])
    d_err = np.array([_se(spacing[n]["delta"]) for n in ns])
    band = np.array([spacing[n]["band"].mean() for n in ns])
    a.errorbar(ns, d_mean, d_err, fmt="o", color="C0", label="measured spacing at band centre")
    a.plot(
        ns,
        d_mean / np.array([rho_means[n] for n in ns]),
        "C1s--",
        mfc="none",
        label=r"Gaussian DOS: $\sqrt{2\pi}\sigma/2^N$",
    )
    a.plot(ns, band / 2.0**ns, "k:", label=r"$2^{-N}\times$ bandwidth")
    a.set(yscale="log", xlabel="N", ylabel="level spacing / J0", title="mean level spacing ~ $2^{-N}$")
    a.legend(fontsize=8)
    a = ax[1, 0]
    rr = np.linspace(0, 1, 200)
    a.hist(r_hist, bins=40, range=(0, 1), density=True, color="0.75", label=f"N={p['n_ratio']}, central half")
    a.plot(rr, 2 / (1 + rr) ** 2, "C0", label="Poisson $2/(1+r)^2$")
    a.plot(rr, 2 * 27 / 8 * (rr + rr**2) / (1 + rr + rr**2) ** 2.5, "C3--", label="GOE surmise (Atas et al. 2013)")
    a.set(xlabel=r"$\tilde r$", ylabel=r"$P(\tilde r)$", title="gap-ratio distribution")
    a.legend(fontsize=8)
    a = ax[1, 1]
    a.errorbar(ns, [ratios[n][0] for n in ns], [ratios[n][1] for n in ns], fmt="o", color="C0", label="measured")
    a.axhline(jm.R_POISSON, color="C0", ls=":", label=r"Poisson $2\ln 2-1$")
    a.axhline(jm.R_GOE, color="C3", ls="--", label="GOE 0.5307")
    a.set(xlabel="N", ylabel=r"$\langle\tilde r\rangle$", ylim=(0.3, 0.6), title="mean gap ratio (central half)")
    a.legend(fontsize=8)
    fig.suptitle(f"C1: H = U H0 U† has H0's spectrum (max deviation {spectrum_dev:.1e} J0) — Poisson, Gaussian DOS")
    rel = save_figure(ctx, fig, "c1_spectrum.png")

    measured = {
        "max deviation of sorted E(n) from eigvalsh(H), in J0": Measurement(
            spectrum_dev, note=f"N={p['n_dense']}, {p['r_dense']} realizations"
        ),
        "DOS centre / (N J0/4)": Measurement(means.mean() / mean_pred, _se(means) / mean_pred, f"z = {z_mean:.2f}"),
        "DOS variance within a realization / (N J0^2/12)": Measurement(
            widths.mean() / width_pred, _se(widths) / width_pred, f"z = {z_var:.2f}"
        ),
        "pooled DOS variance / (5 N J0^2/48)": Measurement((widths.mean() + means.var()) / var_pred),
        "KS distance of each realization's DOS to a Gaussian": Measurement(ks, note=f"threshold {TOL_KS}"),
        "KS distance of the disorder-averaged DOS to N(N J0/4, 5 N J0^2/48)": Measurement(ks_pooled),
        "KS distance to eq. 2.8 as printed": Measurement(
            ks_printed, note="information only: printed width is 3x too large"
        ),
    }
    for n in p["n_list"]:
        measured[f"centre spacing / Gaussian prediction, N={n}"] = Measurement(rho_means[n], _se(spacing[n]["rho"]))
    for n in p["n_list"]:
        measured[f"<r~>, N={n}"] = Measurement(ratios[n][0], ratios[n][1], "bootstrap s.e.")
    verdicts = {
        "same spectrum": ok_spectrum,
        "Gaussian DOS": ok_dos,
        "level spacing": ok_spacing,
        "Poisson <r~>": ok_ratio,
    }
    details = (
        f"Energies E(n) of all 2^N l-bit configurations come from one vmapped `jm.energies` call per size (no "
        f"diagonalization). (1) At N={p['n_dense']} they coincide with `numpy.linalg.eigvalsh` of the dense "
        f"H = U H0 U† to {spectrum_dev:.1e} J0. (2) For onsite-only H0 at N={N} (the order-1 couplings of the same realizations) each "
        f"realization's DOS is centred at Σ J_r/2, on average {means.mean():.4f} (predicted N J0/4 = {mean_pred:.4f}), "
        f"with variance Σ J_r²/4, on average {widths.mean():.4f} (predicted N J0²/12 = {width_pred:.4f}); pooled "
        f"over the disorder the DOS is the Gaussian of variance 5 N J0²/48 = {var_pred:.4f} (measured "
        f"{widths.mean() + means.var():.4f}, KS distance {ks_pooled:.3f}); each realization's standardized DOS is "
        f"at KS distance {ks:.3f} from a Gaussian. "
        f"Eq. 2.7 as printed uses a width Ñ J0²/4 per Ñ occupied l-bits; the variance of a sum of Ñ uniform "
        f"[0, J0] couplings is Ñ J0²/12, and the printed mixture misses the histogram (KS {ks_printed:.3f}). "
        f"(3) The spacing at the band centre (levels within ±{W_CENTER}σ) equals √(2π)σ/2^N of the Gaussian DOS "
        f"to within {max(abs(v - 1) for v in rho_means.values()):.1%} for N = {', '.join(map(str, p['n_list']))}; "
        f"it falls like 2^-N times the bandwidth (σ ∝ √N). (4) ⟨r̃⟩ = {r_mean:.4f} ± {r_err:.4f} at "
        f"N={p['n_ratio']} (Poisson 0.3863, GOE 0.5307)."
    )
    criterion = (
        f"All four must hold: (1) max |sorted E(n) − eigvalsh(H)| < {TOL_SPECTRUM:g} J0; (2) onsite-only DOS: "
        f"disorder averages of the DOS centre Σ J_r/2 and width Σ J_r²/4 within 3 standard errors (exact, from "
        f"the uniform coupling distribution) of N J0/4 and N J0²/12, and the levels of each realization, "
        f"standardized by their own mean and width and pooled, at KS distance < {TOL_KS} from a Gaussian; (3) for every N, the band-centre spacing equals the "
        f"Gaussian-DOS value √(2π)σ/2^N within {TOL_SPACING:.0%}; (4) ⟨r̃⟩ (central half) within 3 bootstrap "
        f"standard errors of 2 ln 2 − 1 = 0.3863, with a standard error ≤ {MAX_RATIO_ERROR} so that GOE (0.5307) "
        f"would be excluded by > 14σ."
    )
    fields = {"figures": [rel], "details": details, "parameters": {**MODEL, **p, "window": WINDOW}}
    return ClaimResult.from_checks("C1", TITLE, criterion, verdicts, measured, **fields)


def _gap_ratios(E):
    """All gap ratios r~ of the central half of each spectrum, pooled (for the histogram)."""
    start, count = central_window(E.shape[-1], WINDOW)  # the window of mean_ratio
    r = np.asarray(gap_ratios(np.sort(E, axis=-1)[:, start : start + count])).ravel()
    return r[~np.isnan(r)]  # a ratio of two zero gaps is undefined (the convention of mean_ratio)


CLAIM = Claim(id="C1", title=TITLE, run=run, weight=25.0)
