"""Per-eigenstate fidelity susceptibility chi_n of a Swingle model: exact route vs the dense route.

jaxmbl (exact route): eigenstate n is U|n> with energy E(n), so ``c = U^dagger V U|n>`` (two U
applications, one V application) and ``chi_n = sum_m |c_m|^2 w(E(m) - E(n))``: no diagonalization,
O(2**N) memory per state. Dense baseline (what one does with a generic ED code): build the dense H,
``numpy.linalg.eigh``, then the matrix elements ``<m|V|n>`` of the requested states. Both in float64,
same model, same V (X on the centre site), same 100 eigenstates, the Lorentzian weight with mu = 0.1.

Each (route, N) runs in its own subprocess so that its peak memory is its own. Times exclude jit
compilation (reported separately for the exact route).

Usage: python benchmarks/bench_susceptibility.py [--compare 10 12] [--exact 16 18 20] [--states 100]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

MU = 0.1


def _setup(n, n_states):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.random as jr
    import numpy as np

    import jaxmbl as jm

    model = jm.sample_model(jr.key(n), jm.Lattice((n,)))
    V = jm.PauliSum.from_terms(n, [("X", [n // 2], 1.0)])
    states = np.sort(np.random.default_rng(n).choice(2**n, size=min(n_states, 2**n), replace=False))
    return jm, model, V, states


def run_exact(n, n_states, state_batch):
    import jax

    jm, model, V, states = _setup(n, n_states)
    t0 = time.perf_counter()
    jax.block_until_ready(jm.fidelity_susceptibility(model, V, mu=MU, states=states, state_batch=state_batch))
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    chi = jax.block_until_ready(jm.fidelity_susceptibility(model, V, mu=MU, states=states, state_batch=state_batch))
    run = time.perf_counter() - t0
    return {"time_s": run, "compile_s": max(first - run, 0.0), "chi_sum": float(chi.sum())}


def run_dense(n, n_states):
    import numpy as np

    jm, model, V, states = _setup(n, n_states)
    t0 = time.perf_counter()
    H = np.asarray(jm.dense_hamiltonian(model))
    Vd = np.asarray(V.dense())
    E_basis = np.asarray(jm.energies(model))
    build = time.perf_counter() - t0
    t0 = time.perf_counter()
    E, vecs = np.linalg.eigh(H)
    # The eigenstates U|n> requested, located in the sorted spectrum by their energies E(n).
    cols = np.searchsorted(E, E_basis[states] - 1e-9)
    M = vecs.conj().T @ (Vd @ vecs[:, cols])
    om = E[:, None] - E[None, cols]
    chi = np.sum(np.abs(M) ** 2 * om**2 / (om**2 + MU**2) ** 2, axis=0)
    solve = time.perf_counter() - t0
    return {"time_s": build + solve, "build_s": build, "chi_sum": float(chi.sum())}


def _child(route, n, n_states, state_batch):
    from _common import peak_rss_mib

    out = run_exact(n, n_states, state_batch) if route == "exact" else run_dense(n, n_states)
    out["peak_rss_mib"] = peak_rss_mib()
    print("CHILD_JSON " + json.dumps(out))


def _spawn(route, n, n_states, state_batch):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", route, str(n), str(n_states), str(state_batch)]
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    for line in res.stdout.splitlines():
        if line.startswith("CHILD_JSON "):
            return json.loads(line[len("CHILD_JSON ") :])
    raise RuntimeError(f"{route} N={n} failed:\n{res.stderr[-3000:]}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--compare", type=int, nargs="*", default=[10, 12])
    p.add_argument("--exact", type=int, nargs="*", default=[16, 18, 20])
    p.add_argument("--states", type=int, default=100)
    p.add_argument("--state-batch", type=int, default=4)
    p.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        route, n, k, sb = args.child
        return _child(route, int(n), int(k), int(sb))
    from _common import emit

    rows = []
    for n in args.compare:
        ours = _spawn("exact", n, args.states, args.state_batch)
        base = _spawn("dense", n, args.states, args.state_batch)
        rel = abs(ours["chi_sum"] / base["chi_sum"] - 1)
        rows.append(
            {
                "N": n,
                "states": min(args.states, 2**n),
                "exact_s": ours["time_s"],
                "compile_s": ours["compile_s"],
                "dense_s": base["time_s"],
                "speedup": base["time_s"] / ours["time_s"],
                "exact_MiB": ours["peak_rss_mib"],
                "dense_MiB": base["peak_rss_mib"],
                "rel_diff": rel,
            }
        )
    for n in args.exact:
        ours = _spawn("exact", n, args.states, args.state_batch)
        rows.append(
            {
                "N": n,
                "states": args.states,
                "exact_s": ours["time_s"],
                "compile_s": ours["compile_s"],
                "dense_s": float("nan"),
                "speedup": float("nan"),
                "exact_MiB": ours["peak_rss_mib"],
                "dense_MiB": float("nan"),
                "rel_diff": float("nan"),
            }
        )
    emit("susceptibility", rows)


if __name__ == "__main__":
    main()
