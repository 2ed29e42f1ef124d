"""Mid-spectrum eigenpairs: jaxmbl ``interior_eigh`` (polynomial filtering, matrix-free) vs
``scipy.sparse.linalg.eigsh`` in shift-invert mode (sparse LU of the same matrix).

Problem: the random-field Heisenberg chain (``random_field_heisenberg``, open, W = 5 by default)
in the S^z = 0 sector, the ``--k`` eigenpairs nearest energy density eps = 0.5. The scipy
baseline factorizes ``H - sigma`` of the same sector matrix (``H.to_scipy_sparse()`` restricted
to ``sector_basis(N, 0)``) with SuperLU and runs ``eigsh(sigma=target, k, which='LM')`` at the
absolute target that jaxmbl used, so both solve the same problem; scipy's spectral edges are not
timed (in its favour).

Every (N, method) runs in its own subprocess, so ``peak_mib`` is the peak resident memory of that
method alone (including the interpreter and, for jaxmbl, XLA: compare with ``idle_mib``, the peak
of a subprocess that only imports and builds H). jaxmbl's time is reported with compilation
(``first_s``) and for a second call with another key (``warm_s``, only up to ``--warm-max-n``);
scipy's is LU + eigsh. The two
sets of eigenvalues are compared (``max_dE``). ``ratio`` = scipy time / jaxmbl warm time (the first
call's above ``--warm-max-n``; > 1: jaxmbl faster).

``--perturbed N ...`` adds the perturbed Swingle model ``H' = U H0 U^dagger + g V`` (full space,
``sample_model`` defaults, V = ``random_local_perturbation`` k = 2, g = ``--g``), ``--k-perturbed``
eigenpairs at eps = 0.5: for every N the time of one matvec (``mv_ms``, jitted, best of 5) and, up to
``--perturbed-solve-max-n``, the whole ``interior_eigh`` solve (time, matvecs, matvecs per dimension).
Above it the solve time is *estimated* as (matvecs / D of the largest solved N) x D x mv time
(``est_s``), since the cost is of order 10 D matvecs whatever k (module docstring of
``jaxmbl._hamiltonians.interior``).

``--rtilde N`` adds the disorder average of the gap ratio <r~> of the k levels nearest eps = 0.5
at W = 1 and W = 8 (``--realizations`` each), from ``interior_eigh`` alone.

Usage: python benchmarks/bench_interior.py [--n 14 16] [--k 50] [--W 5] [--rtilde 16]
       [--realizations 5] [--scipy-max-n 18] [--perturbed 12 14 16 18 20] [--perturbed-solve-max-n 14]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _setup():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jaxmbl as jm

    return jax, jm


def _hamiltonian(jm, jax, n, W, seed):
    return jm.random_field_heisenberg(jax.random.key(seed), n, W=W)


def worker(args) -> dict:
    """One measurement in this process; returns a dict (printed as JSON by the parent's subprocess)."""
    from _common import peak_rss_mib

    jax, jm = _setup()
    import numpy as np

    H = _hamiltonian(jm, jax, args.n, args.W, args.seed)
    if args.method == "idle":
        jm.sector_basis(args.n, 0)
        return {"peak_mib": peak_rss_mib()}
    if args.method == "jaxmbl":
        t0 = time.perf_counter()
        out = jm.interior_eigh(H, args.k, sector=0, energy_density=0.5, key=jax.random.key(1))
        out.energies.block_until_ready()
        first = time.perf_counter() - t0
        out2, warm = out, None
        if args.n <= args.warm_max_n:
            t0 = time.perf_counter()
            out2 = jm.interior_eigh(H, args.k, sector=0, energy_density=0.5, key=jax.random.key(2))
            out2.energies.block_until_ready()
            warm = time.perf_counter() - t0
        info = {k: np.asarray(v).tolist() for k, v in out2.info.items()}
        return {
            "first_s": first,
            "warm_s": warm,
            "peak_mib": peak_rss_mib(),
            "energies": np.asarray(out2.energies).tolist(),
            "max_residual": float(np.max(out2.residuals)),
            "key_spread": float(np.max(np.abs(np.asarray(out.energies) - np.asarray(out2.energies)))),
            "degree": info["degree"],
            "matvecs": info["matvecs"],
            "krylov_dim": info["krylov_dim"],
            "restarts": info["restarts"],
            "converged": info["converged"],
            "target": info["target"],
            "dim": int(out2.vectors.shape[0]),
        }
    if args.method == "scipy":
        import scipy.sparse.linalg as spla

        idx = jm.sector_basis(args.n, 0)
        A = H.to_scipy_sparse()[idx][:, idx].tocsc()
        t0 = time.perf_counter()
        E, X = spla.eigsh(A, k=args.k, sigma=args.target, which="LM", tol=1e-12)
        dt = time.perf_counter() - t0
        res = np.linalg.norm(A @ X - X * E[None, :], axis=0)
        return {
            "time_s": dt,
            "peak_mib": peak_rss_mib(),
            "energies": np.sort(E).tolist(),
            "max_residual": float(res.max()),
        }
    if args.method == "perturbed":
        from _common import timeit

        n = args.n
        model = jm.sample_model(jax.random.key(args.seed), n)
        V = jm.random_local_perturbation(jax.random.key(args.seed + 1), n, k=2)
        Hp = jm.perturbed_model(model, V, args.g)
        psi = jax.random.normal(jax.random.key(3), (2**n,)) + 0j
        mv = jax.jit(Hp.mv)
        row = {"mv_ms": 1e3 * timeit(lambda: mv(psi).block_until_ready(), repeat=5)}
        if args.solve:
            t0 = time.perf_counter()
            out = jm.interior_eigh(Hp, args.k, energy_density=0.5, key=jax.random.key(1))
            out.energies.block_until_ready()
            row.update(
                solve_s=time.perf_counter() - t0, matvecs=int(out.info["matvecs"]), degree=int(out.info["degree"]),
                max_residual=float(np.max(out.residuals)), converged=bool(out.info["converged"]),
            )  # fmt: skip
        row["peak_mib"] = peak_rss_mib()
        return row
    if args.method == "rtilde":
        vals = []
        for r in range(args.realizations):
            Hr = _hamiltonian(jm, jax, args.n, args.W, 1000 + r)
            out = jm.interior_eigh(Hr, args.k, sector=0, energy_density=0.5, key=jax.random.key(r))
            E = np.sort(np.asarray(out.energies))
            s = np.diff(E)
            vals.append(float(np.mean(np.minimum(s[1:], s[:-1]) / np.maximum(s[1:], s[:-1]))))
        return {"r_mean": float(np.mean(vals)), "r_err": float(np.std(vals) / np.sqrt(len(vals))), "r": vals}
    raise ValueError(args.method)


def run(method, n, **kw) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", method, "--n", str(n)]
    for k, v in kw.items():
        cmd += [f"--{k.replace('_', '-')}", str(v)]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("WORKER_JSON ")]
    if proc.returncode or not lines:
        raise RuntimeError(f"{method} N={n} failed:\n{proc.stderr[-3000:]}")
    return json.loads(lines[-1][len("WORKER_JSON ") :])


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, nargs="*", default=[14, 16])
    p.add_argument("--k", type=int, default=50)
    p.add_argument("--W", type=float, default=5.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--scipy-max-n", type=int, default=18)
    p.add_argument("--warm-max-n", type=int, default=16, help="above this N only the first (compiling) call is timed")
    p.add_argument("--rtilde", type=int, default=None, help="N for the <r~> check at W = 1 and W = 8")
    p.add_argument("--realizations", type=int, default=5)
    p.add_argument("--perturbed", type=int, nargs="*", default=[], help="N of the perturbed Swingle rows")
    p.add_argument("--perturbed-solve-max-n", type=int, default=14)
    p.add_argument("--k-perturbed", type=int, default=20)
    p.add_argument("--g", type=float, default=0.1)
    p.add_argument("--solve", type=int, default=0)
    p.add_argument("--worker", default=None)
    p.add_argument("--target", type=float, default=None)
    args = p.parse_args()
    if args.worker:
        args.method, args.n = args.worker, args.n[0]
        print("WORKER_JSON " + json.dumps(worker(args)), flush=True)
        return

    from _common import emit

    rows = []
    for n in args.n:
        common = {"k": args.k, "W": args.W, "seed": args.seed, "warm_max_n": args.warm_max_n}
        idle = run("idle", n, **common)
        jx = run("jaxmbl", n, **common)
        row = {
            "N": n, "D": jx["dim"], "k": args.k, "degree": jx["degree"], "matvecs": jx["matvecs"],
            "krylov_dim": jx["krylov_dim"], "jaxmbl_first_s": jx["first_s"], "jaxmbl_warm_s": jx["warm_s"],
            "jaxmbl_peak_mib": jx["peak_mib"], "idle_mib": idle["peak_mib"], "jaxmbl_res": jx["max_residual"],
        }  # fmt: skip
        if n <= args.scipy_max_n:
            sp = run("scipy", n, target=jx["target"], **common)
            import numpy as np

            row.update(
                scipy_s=sp["time_s"], scipy_peak_mib=sp["peak_mib"], scipy_res=sp["max_residual"],
                ratio=sp["time_s"] / (jx["warm_s"] or jx["first_s"]),
                max_dE=float(np.max(np.abs(np.array(sp["energies"]) - np.array(jx["energies"])))),
            )  # fmt: skip
        rows.append(row)
        print(json.dumps(row), flush=True)
    if rows:
        emit("interior", rows)
    prow, per_dim = [], None
    for n in args.perturbed:
        solve = int(n <= args.perturbed_solve_max_n)
        r = run("perturbed", n, k=args.k_perturbed, g=args.g, seed=args.seed, solve=solve)
        row = {"N": n, "D": 2**n, "k": args.k_perturbed, **r}
        if solve:
            per_dim = r["matvecs"] / 2**n
            row["matvecs_per_D"] = per_dim
        elif per_dim is not None:
            row["est_s"] = per_dim * 2**n * r["mv_ms"] / 1e3
        prow.append(row)
        print(json.dumps(row), flush=True)
    if prow:
        emit("interior_perturbed", prow)
    if args.rtilde:
        out = []
        for W in (1.0, 8.0):
            r = run("rtilde", args.rtilde, k=args.k, W=W, seed=0, realizations=args.realizations)
            out.append({"N": args.rtilde, "W": W, "realizations": args.realizations, "r_mean": r["r_mean"], "r_err": r["r_err"]})  # fmt: skip
        emit("interior_rtilde", out)


if __name__ == "__main__":
    main()
