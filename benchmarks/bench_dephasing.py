"""Exact dephasing S(A, t) of an l-bit product state: against the state vector at N=20, and alone
at N=10^3 and 10^4.

* N = 20 (baseline in the same run): the half-chain l-bit-frame entropy at 64 log-spaced times
  in [1e-2, 1e12] from ``jm.evolve_lbit_frame`` (the 2**20 state vector, exact per-coupling phases)
  + ``jm.entropy``, against ``jm.dephasing_entropy`` (4**|A_near| per time). Both are timed after
  compilation and their results compared.
* N = 10^3, 10^4: ``jm.dephasing_entropy`` and ``jm.dephasing_rdm`` of a block of 8 sites in the
  middle of the chain, 64 times, one realization; each N runs in a fresh subprocess so its peak
  resident memory is its own. Memory should not grow with N beyond the couplings (listed).

Usage: python benchmarks/bench_dephasing.py [--times 64] [--sizes 1000,10000]
       python benchmarks/bench_dephasing.py --single 10000     (one large-N row, JSON on stdout)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _common import emit, peak_rss_mib, race, timeit  # noqa: E402

import jaxmbl as jm  # noqa: E402

THETA = np.pi / 3
H0_KW = dict(xi=1.0, max_order=3, max_range=4.0)  # couplings of extent <= 4 (orders 1-3)
BLOCK = 8


def amplitudes(n):
    return np.tile([np.cos(THETA / 2), np.sin(THETA / 2)], (n, 1))


def single(n: int, n_times: int) -> dict:
    """Time and peak memory of the |A| = 8 block at N = n (called in its own process)."""
    # H0 built term by term (onsite, pairs and triples of extent <= 4, J ~ exp(-extent)): the
    # sampler's own workspace would hide the peak memory of the dephasing calls.
    rng = np.random.default_rng(0)
    terms = {(r,): rng.uniform() for r in range(n)}
    for r in range(n):
        for e in range(1, 5):
            if r + e < n:
                terms[(r, r + e)] = rng.uniform(-1, 1) * np.exp(-e)
                for m in range(r + 1, r + e):
                    terms[(r, m, r + e)] = rng.uniform(-1, 1) * np.exp(-e)
    groups = [sorted(S for S in terms if len(S) == k) for k in (1, 2, 3)]
    h0 = jm.LbitHamiltonian(
        coef=tuple(jnp.asarray([terms[S] for S in g]) for g in groups),
        sites=tuple(tuple(g) for g in groups),
        n_sites=n,
    )
    rss0 = peak_rss_mib()
    amps = amplitudes(n)
    ts = np.logspace(-2, 12, n_times)
    block = tuple(range(n // 2 - BLOCK // 2, n // 2 + BLOCK // 2))

    def S():
        return jax.block_until_ready(jm.dephasing_entropy(h0, amps, block, ts))

    def rho():
        return jax.block_until_ready(jm.dephasing_rdm(h0, amps, block, ts))

    t0 = time.perf_counter()
    S()
    t_first = time.perf_counter() - t0
    t_S = timeit(S, repeat=2, warmup=0)
    t0 = time.perf_counter()
    rho()
    t_rho_first = time.perf_counter() - t0
    t_rho = timeit(rho, repeat=2, warmup=0)
    coupling_mib = sum(c.size * c.dtype.itemsize for c in h0.coef) / 2**20
    return {
        "N": n,
        "terms": int(h0.n_terms),
        "couplings_MiB": coupling_mib,
        "S_first_s": t_first,
        "S_s": t_S,
        "rho_first_s": t_rho_first,
        "rho_s": t_rho,
        "peak_MiB": peak_rss_mib(),
        "after_h0_MiB": rss0,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--times", type=int, default=64)
    p.add_argument("--n", type=int, default=20, help="chain length of the state-vector comparison")
    p.add_argument("--sizes", default="1000,10000")
    p.add_argument("--single", type=int, default=None)
    args = p.parse_args(argv)
    if args.single is not None:
        print("ROW " + json.dumps(single(args.single, args.times)))
        return

    big = []
    here = os.path.dirname(os.path.abspath(__file__))
    for size in (int(s) for s in args.sizes.split(",") if s):
        out = subprocess.run(
            [
                sys.executable,
                os.path.join(here, "bench_dephasing.py"),
                "--single",
                str(size),
                "--times",
                str(args.times),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        big.append(json.loads(next(line for line in out.stdout.splitlines() if line.startswith("ROW "))[4:]))
    emit("dephasing_large_n", big)

    n = args.n
    lat = jm.Lattice((n,))
    model = jm.sample_model(jr.key(0), lat, unitary="circuit", **H0_KW)
    amps = amplitudes(n)
    chi0 = jm.product_state(np.full(n, THETA))  # = (x)_b (cos(theta/2), sin(theta/2)) in the l-bit frame
    ts = jnp.logspace(-2, 12, args.times)
    half = tuple(range(n // 2))

    def statevector():
        f = jm.evolve_lbit_frame(model, chi0, ts, lambda psi, chi: jm.entropy(chi, half))
        return jax.block_until_ready(f)

    def dephasing():
        return jax.block_until_ready(jm.dephasing_entropy(model.h0, amps, half, ts))

    best, cpu = race({"statevector": statevector, "dephasing": dephasing}, repeat=2)
    err = float(np.abs(np.asarray(statevector()) - np.asarray(dephasing())).max())
    rows = [
        {
            "case": f"N={n} half chain, {args.times} t",
            "statevector_s": best["statevector"],
            "dephasing_s": best["dephasing"],
            "ratio": best["statevector"] / best["dephasing"],
            "max_abs_dS": err,
            "A_near": len(jm.boundary_sites(model.h0, half)[0]),
        }
    ]
    emit("dephasing_vs_statevector", rows)


if __name__ == "__main__":
    main()
