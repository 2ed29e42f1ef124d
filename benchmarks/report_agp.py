"""Residual action of the variational AGP against the ansatz size (a report, not a timing benchmark).

For each model, chain length N and ansatz it prints ``S/S0 = ||dH + i[A, H]||^2 / ||dH||^2`` (normalized
Frobenius norms) at the optimum of :func:`variational_agp`:

* ``lbit``: the Swingle model in the l-bit frame, ``H = H0`` (``lbit_to_pauli(model.h0)`` of
  ``sample_model(key, N, cutoff=1e-4)``: couplings whose envelope ``exp(-ell/xi)`` is below 1e-4 are
  dropped, which keeps the N = 64, R = 5 structure at ~1e7 string pairs), ``dH`` = a random 2-local
  perturbation ``random_local_perturbation(key, N, k=2)`` (V0 of eq. 4.2). H0 is diagonal with a
  non-degenerate spectrum, so the exact minimum over all A is the weight of dH's diagonal (I/Z)
  part, printed as ``floor``. dH has odd-Y strings (a complex matrix), so the range ansatz keeps
  every string.
* ``heis W``: the random-field Heisenberg chain at disorder W, ``dH = dH/dW = sum_i (h_i/W) S^z_i``
  (the derivative along the disorder strength at fixed random pattern; a uniform Z field would
  commute with H and have no AGP). Both real, so the range ansatz keeps only odd-Y strings.

One disorder realization per (model, N) (key ``N``). Range ansatz R = 1..5 by ``solver="cg"``
(CGLS to tol 1e-10; where the dense map has at most ``--lstsq-max`` entries, also by ``"lstsq"``,
and the larger relative difference is printed at the end); nested commutators l = 1..4 by the exact
projection (``"lstsq"``). Requests over ``JAXMBL_MEMORY_LIMIT_GB`` (default here 8) are refused by
the library and printed as ``refused``. At the largest N the wall time of one solve is printed
(structure + compilation + solve on the first call; solve alone on a repeat).

Usage: flock /tmp/bench.lock nice -n 19 python benchmarks/report_agp.py [--sizes 16 32 64] [--ranges 5] [--orders 4]
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("JAXMBL_MEMORY_LIMIT_GB", "8")

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402

import jaxmbl as jm  # noqa: E402
from jaxmbl._hamiltonians.lbit_pauli import lbit_to_pauli  # noqa: E402
from jaxmbl._stability.agp import variational_agp  # noqa: E402

CG = dict(solver="cg", steps=20000, tol=1e-10)


def build(model: str, n: int):
    """(H, dH, floor) of one realization; floor = exact min S/S0 where known, else NaN."""
    key = jr.key(n)
    if model == "lbit":
        h0 = jm.sample_model(key, jm.Lattice((n,)), cutoff=1e-4).h0
        H, dH = lbit_to_pauli(h0), jm.random_local_perturbation(jr.fold_in(key, 1), n, k=2)
        return H, dH, float(dH.diagonal_part().frobenius_norm() / dH.frobenius_norm())
    W = float(model.split()[1])
    H = jm.random_field_heisenberg(key, n, W=W)
    return H, jm.PauliSum(np.asarray(H.paulis)[-n:], H.coef[-n:] / W, n), float("nan")


def solve(H, dH, **kw):
    """(S/S0, cg iterations or None, wall seconds) or a refusal string."""
    t0 = time.perf_counter()
    try:
        res = variational_agp(H, dH, **kw)
        ratio = float(res.action / res.action_zero)
    except jm.JaxmblError as err:
        return "refused", str(err), time.perf_counter() - t0
    iters = int(np.sum(np.isfinite(np.asarray(res.history)))) if kw.get("solver") == "cg" else None
    return ratio, iters, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[16, 32, 64])
    ap.add_argument("--ranges", type=int, default=5, help="largest R of the range ansatz")
    ap.add_argument("--orders", type=int, default=4, help="largest l of the nested ansatz")
    ap.add_argument("--models", nargs="+", default=["lbit", "heis 0.5", "heis 8"])
    ap.add_argument("--lstsq-max", type=float, default=3e7, help="largest dense map (entries) also solved by lstsq")
    args = ap.parse_args()
    rows, timings, worst, notes = [], [], 0.0, []
    for model in args.models:
        for n in args.sizes:
            H, dH, floor = build(model, n)
            row = {"model": model, "N": n, "floor": floor}
            for R in range(1, args.ranges + 1):
                ratio, iters, dt = solve(H, dH, order=R, **CG)
                row[f"R{R}"] = ratio
                if ratio == "refused":
                    notes.append(f"{model} N={n} R={R}: {iters}")
                    continue
                if n == max(args.sizes):
                    again = solve(H, dH, order=R, **CG)[2]
                    timings.append((model, n, f"R={R} cg", dH.n_terms, dt, again, iters))
                res = variational_agp(H, dH, order=R, solver="cg", steps=1, tol=1.0)  # cached structure: sizes
                if res.residual.n_terms * res.A.n_terms <= args.lstsq_max:
                    exact = solve(H, dH, order=R)[0]
                    if isinstance(exact, float):
                        worst = max(worst, abs(exact - ratio) / exact)
            for ell in range(1, args.orders + 1):
                ratio, info, dt = solve(H, dH, ansatz="nested", order=ell)
                row[f"l{ell}"] = ratio
                if ratio == "refused":
                    notes.append(f"{model} N={n} l={ell}: {info}")
                elif n == max(args.sizes):
                    again = solve(H, dH, ansatz="nested", order=ell)[2]
                    timings.append((model, n, f"l={ell} nested", dH.n_terms, dt, again, None))
            rows.append(row)
            print(_fmt(row, args), flush=True)
    print()
    print(_header(args))
    for row in rows:
        print(_fmt(row, args))
    print(f"\nlstsq vs cg, largest relative difference of S/S0 where both ran: {worst:.2e}")
    print(f"\nwall time per solve at N={max(args.sizes)} (first call: structure + compile + solve; repeat: solve)")
    for model, _n, what, _, first, again, iters in timings:
        extra = f", {iters} CG iterations" if iters is not None else ""
        print(f"  {model:9s} {what:12s} first {first:8.2f} s   repeat {again:8.2f} s{extra}")
    for note in notes:
        print("refused:", note)


def _header(args):
    cols = [f"R={R}" for R in range(1, args.ranges + 1)] + [f"l={ell}" for ell in range(1, args.orders + 1)]
    return f"{'model':9s} {'N':>3s} {'floor':>7s} " + " ".join(f"{c:>7s}" for c in cols)


def _fmt(row, args):
    cells = [row[f"R{R}"] for R in range(1, args.ranges + 1)] + [row[f"l{e}"] for e in range(1, args.orders + 1)]
    show = lambda v: f"{v:7.4f}" if isinstance(v, float) else f"{v:>7s}"  # noqa: E731
    floor = "      -" if np.isnan(row["floor"]) else f"{row['floor']:7.4f}"
    return f"{row['model']:9s} {row['N']:3d} {floor} " + " ".join(show(v) for v in cells)


if __name__ == "__main__":
    main()
