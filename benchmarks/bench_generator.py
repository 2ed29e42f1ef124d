"""The quasi-adiabatic generator applied to one state: matrix-free ``jm.apply_generator`` against the
dense spectral ``jm.quasi_adiabatic_generator`` (then ``J @ psi``), for the conjugation family
``H(s) = e^{-isK} H0 e^{isK}`` (paper eq. 4.27) of a ``sample_model(unitary="generator")``, J0 = 1.

* ``time``: N = 10, 12, both routes, best of ``--repeat`` after a warm-up (compilation excluded),
  their ratio and the error of the state-applied J against the dense one; then the state-applied
  J alone at N = 16, 18, 20.
* ``memory``: peak resident memory of a reverse-mode gradient ``d ||J psi||^2 / d K``, each case in
  a fresh subprocess (``ru_maxrss``), and XLA's own temporary-buffer size of the compiled gradient.
  The dense route's custom JVP holds ``D x D x D`` tensors, so it runs only to N = 8 (N = 10
  would need ~50 GB); the state-applied route is measured at N = 8 .. 14.

Usage: python benchmarks/bench_generator.py [--gap 0.5] [--tol 1e-6] [--repeat 3]
       [--time-sizes 10 12] [--large-sizes 16 18 20] [--grad-sizes 8 10 12 14] [--dense-grad-sizes 6 7 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _common import emit, peak_rss_mib, timeit  # noqa: E402

import jaxmbl as jm  # noqa: E402

S = 0.5


def _family(n):
    model = jm.sample_model(jr.key(n), jm.Lattice((n,)), unitary="generator")
    return jm.conjugation_family(model)


def _state(n):
    v = jr.normal(jr.key(1), (2**n,)) + 1j * jr.normal(jr.key(2), (2**n,))
    return v / jnp.linalg.norm(v)


def time_case(n, gap, tol, repeat, dense: bool):
    fam, psi = _family(n), _state(n)
    row = {"N": n}

    def ours():
        out, info = jm.apply_generator(fam, S, psi, gap=gap, tol=tol)
        return jax.block_until_ready(out), info

    t0 = time.perf_counter()
    J_psi, info = ours()
    row["first_call_s"] = time.perf_counter() - t0
    row["state_s"] = timeit(ours, repeat=repeat, warmup=0) if repeat else row["first_call_s"]
    row["n_nodes"] = info["n_nodes"]
    row["error_bound"] = float(info["error"])
    if dense:

        def spectral():
            J = jm.quasi_adiabatic_generator(fam.H, S, gap=gap)
            return jax.block_until_ready(J @ psi)

        row["dense_s"] = timeit(spectral, repeat=repeat)
        row["ratio_dense_over_state"] = row["dense_s"] / row["state_s"]
        row["actual_error"] = float(jnp.linalg.norm(J_psi - spectral()))
    return row


def grad_case(n, gap, tol, route):
    """One gradient in this (fresh) process: peak RSS and XLA temp bytes."""
    fam, psi = _family(n), _state(n)
    model, K = fam.params
    width = float(jax.jit(lambda f: jm.energies(f.params[0]).max() - jm.energies(f.params[0]).min())(fam))

    def loss(coef2):
        f = dataclasses.replace(fam, params=(model, dataclasses.replace(K, coef2=coef2)))
        if route == "dense":
            J = jm.quasi_adiabatic_generator(f.H, S, gap=gap)
            J_psi = J @ psi
        else:
            J_psi, _ = jm.apply_generator(f, S, psi, gap=gap, tol=tol, omega_max=width)
        return jnp.sum(jnp.abs(J_psi) ** 2)

    g = jax.jit(jax.grad(loss))
    compiled = g.lower(K.coef2).compile()
    analysis = compiled.memory_analysis()
    temp = getattr(analysis, "temp_size_in_bytes", float("nan")) if analysis is not None else float("nan")
    t0 = time.perf_counter()
    out = jax.block_until_ready(compiled(K.coef2))
    return {
        "route": route,
        "N": n,
        "grad_s": time.perf_counter() - t0,
        "finite": bool(jnp.all(jnp.isfinite(out))),
        "xla_temp_mib": temp / 2**20,
        "peak_rss_mib": peak_rss_mib(),
        "state_mib": 16 * 2**n / 2**20,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--gap", type=float, default=0.5)
    p.add_argument("--tol", type=float, default=1e-6)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--time-sizes", type=int, nargs="*", default=[10, 12])
    p.add_argument("--large-sizes", type=int, nargs="*", default=[16, 18, 20])
    p.add_argument("--grad-sizes", type=int, nargs="*", default=[8, 10, 12, 14])
    p.add_argument("--dense-grad-sizes", type=int, nargs="*", default=[6, 7, 8])
    p.add_argument("--grad-case", nargs=2, metavar=("ROUTE", "N"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.grad_case:  # child process of the memory measurement
        print("GRAD_JSON " + json.dumps(grad_case(int(args.grad_case[1]), args.gap, args.tol, args.grad_case[0])))
        return
    rows = [time_case(n, args.gap, args.tol, args.repeat, dense=True) for n in args.time_sizes]
    rows += [time_case(n, args.gap, args.tol, 0, dense=False) for n in args.large_sizes]
    emit("generator_time", rows)
    grads = []
    for route, sizes in (("dense", args.dense_grad_sizes), ("state", args.grad_sizes)):
        for n in sizes:
            cmd = [
                sys.executable,
                __file__,
                "--gap",
                str(args.gap),
                "--tol",
                str(args.tol),
                "--grad-case",
                route,
                str(n),
            ]
            out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
            grads.append(json.loads(next(ln for ln in out.splitlines() if ln.startswith("GRAD_JSON"))[10:]))
    emit("generator_grad_memory", grads)
    dense = [r for r in grads if r["route"] == "dense"]
    if len(dense) >= 2:
        d = np.array([2.0 ** r["N"] for r in dense])
        m = np.array([r["xla_temp_mib"] for r in dense])
        slope = np.polyfit(np.log(d), np.log(m), 1)[0]
        print(f"dense-route gradient: XLA temp memory ~ D^{slope:.2f}; extrapolated to N = 12: "
              f"{m[-1] * (2.0 ** 12 / d[-1]) ** slope / 1024:.3g} GiB")  # fmt: skip


if __name__ == "__main__":
    main()
