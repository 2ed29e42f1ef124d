"""Time per optimizer step of ``jm.fit_lbits``: the dense route against the local light-cone route.

``fit_lbits`` fits a brickwork circuit U(theta) so that ``U^dag H U`` is diagonal, with optax (default
Adam, cosine-decayed step), the whole fit one jitted ``lax.scan``. Two routes give the same cost:

* ``method="dense"`` (the baseline): ``U^dag H U`` as a ``2**N x 2**N`` matrix, N <= 12;
* ``method="local"``: light cones of the Pauli strings of H through the circuit, no ``2**N`` object.

H is the random-field Heisenberg chain ``jm.random_field_heisenberg(jr.key(0), N, W=8)`` (a
:class:`PauliSum`), the initial angles come from ``jr.key(1)``. Rows: dense and local at N = 10 for
depth 1, 2, 3 (ratio dense/local of the time per step, both measured in this run) and local alone at
N = 64 for depth 1, 2.

Time per step: ``steps`` is a static argument of the jitted fit, so each step count compiles once.
Both step counts S1 < S2 are compiled by a first call; then each is timed (best of ``--repeat``) and
the time per step is ``(t(S2) - t(S1)) / (S2 - S1)``, which excludes compilation and the per-call
host work (plan lookup, H0 read off the diagonal). The compile time printed is the first call minus
the best one at S2. Final cost: after S2 steps, the same on both routes (same key, same trajectory).

Each (route, N) runs in its own subprocess so that its peak memory is its own. The machine's load
average (``os.getloadavg()``) is printed before and after: another process on the cores inflates
the times of both routes.

Usage: python benchmarks/bench_fit_lbits.py [--quick] [--n 10] [--depths 1 2 3] [--big-n 64]
[--big-depths 1 2] [--steps 4 24] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

W = 8.0


def run_child(method, n, depths, steps, repeat):
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.random as jr

    import jaxmbl as jm

    H = jm.random_field_heisenberg(jr.key(0), n, W=W)
    s1, s2 = steps

    def fit(depth, s):
        t0 = time.perf_counter()
        out = jm.fit_lbits(jr.key(1), H, n, depth=depth, steps=s, method=method)
        jax.block_until_ready(out.info["theta"])
        return out, time.perf_counter() - t0

    out = {}
    for depth in depths:
        first = {s: fit(depth, s)[1] for s in (s1, s2)}  # compiles both step counts
        best = dict.fromkeys((s1, s2), float("inf"))
        for _ in range(repeat):  # interleaved, so a burst of load hits both counts alike
            for s in (s1, s2):
                res, t = fit(depth, s)
                best[s] = min(best[s], t)
                if s == s2:
                    final = res
        out[depth] = {
            "per_step_s": (best[s2] - best[s1]) / (s2 - s1),
            "call_s": best[s2],
            "compile_s": max(first[s2] - best[s2], 0.0),
            "final_cost": final.info["final_cost"],
            "residual_per_site": final.info["residual_per_site"],
            "method": final.info["method"],
        }
    return out


def _child(method, n, depths, steps, repeat):
    from _common import peak_rss_mib

    out = {"depths": run_child(method, n, depths, steps, repeat), "peak_rss_mib": peak_rss_mib()}
    print("CHILD_JSON " + json.dumps(out))


def _spawn(method, n, depths, steps, repeat):
    cmd = [sys.executable, os.path.abspath(__file__), "--child", method, str(n), ",".join(map(str, depths))]
    cmd += ["--steps", *map(str, steps), "--repeat", str(repeat)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, cwd=os.path.dirname(os.path.abspath(__file__)))
    for line in res.stdout.splitlines():
        if line.startswith("CHILD_JSON "):
            out = json.loads(line[len("CHILD_JSON ") :])
            out["depths"] = {int(d): v for d, v in out["depths"].items()}
            print(
                f"  {method:5s} N={n}: {time.perf_counter() - t0:.0f} s, peak {out['peak_rss_mib']:.0f} MiB", flush=True
            )
            return out
    raise RuntimeError(f"{method} N={n} failed:\n{res.stderr[-3000:]}")


def _load():
    return "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="N = 6 and 16, depth 1, few steps (about a minute)")
    p.add_argument("--n", type=int, default=10, help="N of the dense/local comparison")
    p.add_argument("--depths", type=int, nargs="+", default=[1, 2, 3])
    p.add_argument("--big-n", type=int, default=64, help="N of the local route alone (0: skip)")
    p.add_argument("--big-depths", type=int, nargs="+", default=[1, 2])
    p.add_argument("--steps", type=int, nargs=2, default=[4, 24], metavar=("S1", "S2"))
    p.add_argument("--repeat", type=int, default=3, help="timed calls per step count (best kept)")
    p.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        method, n, depths = args.child
        return _child(method, int(n), [int(d) for d in depths.split(",")], args.steps, args.repeat)
    if args.quick:
        args.n, args.depths, args.big_n, args.big_depths, args.steps, args.repeat = 6, [1], 16, [1], [2, 12], 2
    s1, s2 = sorted(args.steps)
    if s1 < 1 or s2 == s1:
        p.error("--steps needs two different counts >= 1")
    from _common import emit

    load0 = _load()
    print(f"load average before: {load0}", flush=True)
    t0 = time.perf_counter()
    dense = _spawn("dense", args.n, args.depths, (s1, s2), 1)  # a dense step costs ~1 s at N = 10
    local = _spawn("local", args.n, args.depths, (s1, s2), args.repeat)
    big = _spawn("local", args.big_n, args.big_depths, (s1, s2), args.repeat) if args.big_n else None
    rows = []
    for d in args.depths:
        a, b = dense["depths"][d], local["depths"][d]
        rows.append(
            {
                "case": f"N={args.n} depth={d}",
                "N": args.n,
                "depth": d,
                "dense_s": a["per_step_s"],
                "jaxmbl_s": b["per_step_s"],
                "ratio": a["per_step_s"] / b["per_step_s"],
                "dense_cost": a["final_cost"],
                "local_cost": b["final_cost"],
                "cost_diff": abs(a["final_cost"] - b["final_cost"]),
                "dense_comp_s": a["compile_s"],
                "local_comp_s": b["compile_s"],
                "dense_MiB": dense["peak_rss_mib"],
                "local_MiB": local["peak_rss_mib"],
            }
        )
    for d in args.big_depths if big else []:
        b = big["depths"][d]
        rows.append(
            {
                "case": f"N={args.big_n} depth={d} local",
                "N": args.big_n,
                "depth": d,
                "dense_s": float("nan"),
                "jaxmbl_s": b["per_step_s"],
                "ratio": float("nan"),
                "dense_cost": float("nan"),
                "local_cost": b["final_cost"],
                "cost_diff": float("nan"),
                "dense_comp_s": float("nan"),
                "local_comp_s": b["compile_s"],
                "dense_MiB": float("nan"),
                "local_MiB": big["peak_rss_mib"],
            }
        )
    load1 = _load()
    print(
        f"\nW = {W}, steps {s1} and {s2} (time per step from their difference), total {time.perf_counter() - t0:.0f} s"
    )
    print(f"load average before {load0}, after {load1} (1, 5, 15 min) on {os.cpu_count()} cores")
    for r in rows:
        line = f"{r['case']:>22}: local {1e3 * r['jaxmbl_s']:9.3f} ms/step"
        if r["dense_s"] == r["dense_s"]:
            line += f", dense {1e3 * r['dense_s']:9.1f} ms/step, dense/local {r['ratio']:8.1f}x"
            line += f"; final cost dense {r['dense_cost']:.12g}, local {r['local_cost']:.12g}"
        else:
            line += f"; final cost {r['local_cost']:.12g} (residual per site {r['local_cost'] / r['N']:.3g})"
        print(line)
    for r in rows:
        r["load_after"] = load1
    emit("fit_lbits", rows)


if __name__ == "__main__":
    main()
