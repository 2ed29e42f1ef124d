"""Report: the most dangerous k-local perturbation of a Swingle model, against random ones of equal norm.

For one fixed seed (model and search keys derived from SEED), three searches with
``most_dangerous_perturbation`` (k = 2, range = 2, ||V||_F per site = 1):

* N = 12, measure ``"susceptibility"`` (``<ln chi_n>``, mu = mean level spacing, 64 sampled
  eigenstates, checked on 64 held-out ones);
* N = 10, measure ``"gap_ratio"`` at g = 0.1 J0 (central half of the spectrum). The model is complex
  (no time reversal), so the ergodic reference is the GUE, <r~> = 0.5996, and Poisson is 0.3863. A
  pilot (4 random V each) gave <r~> = 0.48, 0.57, 0.59 at g = 0.1, 0.2, 0.3: at g = 0.1 random V sit
  in the middle of the crossover, so there is room to show what a chosen V does; at 0.2 random V
  are already near the GUE value;
* N = 16, measure ``"susceptibility"`` as at N = 12.

Printed per search: steps, optimizer, the measure of V* (best iterate), the random mean +- std over
32, the ratio of effects (definitions in ``DangerousResult``), time per optimizer step and of the
set-up (Gram matrices or dense H), and the Pauli content and top strings of V*.

Usage: flock /tmp/bench.lock nice -n 19 python benchmarks/report_dangerous.py
"""

from __future__ import annotations

import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402

import jaxmbl as jm  # noqa: E402
from jaxmbl._stability.dangerous import most_dangerous_perturbation  # noqa: E402

SEED = 2026
R_GUE = 0.5996  # Atas et al., PRL 110, 084101 (2013)
CASES = [
    dict(n=12, measure="susceptibility", steps=300),
    dict(n=10, measure="gap_ratio", steps=60, g=0.1),
    dict(n=16, measure="susceptibility", steps=300),
]


def _fmt_shares(d, top=6):
    return ", ".join(f"{k}: {v:.3f}" for k, v in list(d.items())[:top])


def run(case):
    n, measure, steps = case["n"], case["measure"], case["steps"]
    model = jm.sample_model(jr.fold_in(jr.key(SEED), n), jm.Lattice((n,)))
    kw = {"g": case["g"]} if "g" in case else {}
    t0 = time.perf_counter()
    res = most_dangerous_perturbation(jr.key(SEED + n), model, k=2, range=2, measure=measure, steps=steps, **kw)
    total = time.perf_counter() - t0
    t = res.timings
    print(f"\n=== N = {n}, measure = {measure!r}" + (f", g = {case['g']} J0" if "g" in case else "") + " ===")
    print(f"family: k=2, range=2, {res.settings['n_strings']} strings, Tr(V^2)/2^N = N (norm 1 per site)")
    print(f"optimizer: {res.optimizer}, {steps} steps; key = jr.key({SEED + n}) (key data {res.key_data.tolist()})")
    if measure == "susceptibility":
        print(
            f"mu = {res.settings['mu']:.4g} (mean level spacing), {len(res.settings['states'])} states, "
            f"route {res.settings['route']}"
        )
    print(
        f"measure of V*: {res.value:.4f} (start {res.value_init:.4f}, best iterate {res.best_step}); "
        f"random V: {res.random_mean:.4f} +- {res.random_std:.4f} over {len(res.random_values)} "
        f"(5/50/95 %: {', '.join(f'{q:.4f}' for q in res.random_quantiles)}; max {res.random_values.max():.4f}; "
        f"share >= V*: {res.fraction_random_above:.2f})"
    )
    if measure == "susceptibility":
        print(
            f"ratio chi_typ(V*) / mean chi_typ(V_rand) = {res.ratio:.3f}  (log {res.log_ratio:.3f}); "
            f"<ln chi>(V*) - mean <ln chi>(V_rand) = {res.value - res.random_mean:.3f} "
            f"= {(res.value - res.random_mean) / res.random_std:.1f} std"
        )
        h = res.holdout
        if h:
            print(
                f"held-out {h['n_states']} states: V* {h['value']:.4f}, random {h['random_mean']:.4f} +- "
                f"{h['random_std']:.4f}, ratio {h['ratio']:.3f} (log {h['log_ratio']:.3f})"
            )
    else:
        print(
            f"r~(0) = {res.baseline:.4f}; ratio (r~(V*) - r~(0)) / (mean r~(V_rand) - r~(0)) = {res.ratio:.3f}"
            f"; Poisson {jm.R_POISSON:.4f}, GUE {R_GUE}"
            + ("  [r~(V*) above GUE: a more regular spectrum than random-matrix]" if res.value > R_GUE else "")
        )
    print(
        f"time: set-up {t['setup']:.2f} s, compile {t['compile']:.2f} s, {t['per_step'] * 1e3:.2f} ms per step "
        f"({t['search']:.2f} s), random + baseline {t['random']:.2f} s; total {total:.1f} s"
    )
    c = res.content
    print(f"content of V*: by weight {_fmt_shares(c['by_weight'])}; by type {_fmt_shares(c['by_type'])}")
    print("  by site: " + " ".join(f"{x:.2f}" for x in c["by_site"]))
    print("  top strings: " + ", ".join(f"{s} {v:+.3f}" for s, v in res.top_strings[:8]))


def main():
    print(f"jax {jax.__version__}, devices {jax.devices()}, seed {SEED}")
    for case in CASES:
        run(case)


if __name__ == "__main__":
    main()
