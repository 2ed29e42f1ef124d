"""One application of U at N = 20 in units of one plain XLA pass over the state, fused vs gate by gate.

The unit ("pass") is ``psi * c`` under jit: one read and one write of the 2**N complex amplitudes,
the memory-bandwidth floor of anything that touches the whole state. Rows (all in the same run,
interleaved rounds, best of ``--repeat``; wall and process-CPU passes, compile seconds):

* the depth-2 brickwork circuit of ``sample_model(..., unitary="circuit")`` (19 gates at N = 20),
  fused into k-site blocks (the default kernel, k = backend default, and k = 2, 4), against the
  gate-by-gate kernel (``Circuit._kernel_unfused``);
* the generator unitary exp(-iK) (Chebyshev series), K applied with its local terms fused into
  k-site blocks (the default) against term by term, per series term and per U.

Every fused result is checked against the unfused one (max abs difference printed).

The arithmetic floor row applies the same plan's blocks to an N = 14 state (256 KiB, resident in
cache: no memory traffic), 64 at a time, and scales the time by 2**(n - 14): what the fused U would
cost if streaming the state were free. Its ratio to the pass says how many passes the complex
multiply-adds of XLA's generated loop alone take; the note gives the complex multiply-add rate
(GCMAC/s) reached in cache, the rate a 10-pass U would need, and for scale the rate of XLA's
large complex matrix product on the same cores (1024 x 1024 x 1024, the best case of its dot
emitter; the blocks' contractions are only 2**k long).

Usage: python benchmarks/bench_circuit.py [--n 20] [--repeat 7]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
from _common import emit, race, timeit  # noqa: E402

import jaxmbl as jm  # noqa: E402
from jaxmbl._swingle.fusion import (  # noqa: E402
    apply_block,
    apply_circuit,
    block_matrices,
    default_block_sites,
    plan_blocks,
)

FLOOR_N = 14


def _block_floor(plan, mats, n):
    """Seconds per U at ``n`` sites with the state in cache: each block on a 2**FLOOR_N state, scaled."""
    small = jr.normal(jr.key(3), (2**FLOOR_N,)).astype(jnp.complex128)
    per_width = {}
    for (bs, _), B in zip(plan, mats):
        m = len(bs)
        if m not in per_width:
            sites = tuple(range(3, 3 + m))  # interior sites: the layout of most blocks at n

            def many(v, B, sites=sites):
                for _ in range(64):
                    v = jax.lax.optimization_barrier(apply_block(v, B, sites, FLOOR_N))
                return v

            f = jax.jit(many)
            best = timeit(lambda f=f, B=B: f(small, B).block_until_ready(), repeat=7)
            per_width[m] = best / 64 * 2 ** (n - FLOOR_N)
    return sum(per_width[len(bs)] for bs, _ in plan)


def _compiled(fn, *args):
    t0 = time.perf_counter()
    c = jax.jit(fn).lower(*args).compile()
    return c, time.perf_counter() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--repeat", type=int, default=7)
    args = p.parse_args(argv)
    n = args.n
    lat = jm.Lattice((n,))
    U = jm.sample_model(jr.key(0), lat, unitary="circuit").U
    G = jm.sample_model(jr.key(0), lat, unitary="generator").U
    psi = (jr.normal(jr.key(1), (2**n,)) + 1j * jr.normal(jr.key(2), (2**n,))).astype(jnp.complex128)
    psi = psi / jnp.linalg.norm(psi)
    k_default = default_block_sites(psi.dtype)

    cases = {
        "pass (psi * c)": (lambda v, g: v * (1.0 + 0.0j), U.gates),
        "circuit unfused": (lambda v, g: dataclasses.replace(U, gates=g)._kernel_unfused(v, False), U.gates),
        f"circuit fused k={k_default} (default)": (lambda v, g: apply_circuit(g, U.sites, n, v), U.gates),
    }
    for k in (2, 4):
        if k != k_default:
            cases[f"circuit fused k={k}"] = (lambda v, g, k=k: apply_circuit(g, U.sites, n, v, False, k), U.gates)
    cases["generator K psi unfused"] = (lambda v, u: u._apply_K_unfused(v), G)
    cases["generator K psi fused (default)"] = (lambda v, u: u.apply_K(v), G)
    cases["generator U fused (default)"] = (lambda v, u: u._kernel(v, False), G)

    compiled, compile_s = {}, {}
    for name, (fn, leaf) in cases.items():
        compiled[name], compile_s[name] = _compiled(fn, psi, leaf)
    ref = compiled["circuit unfused"](psi, U.gates)
    ref_k = compiled["generator K psi unfused"](psi, G)
    wall, cpu = race(
        {name: (lambda c=c, leaf=cases[name][1]: c(psi, leaf).block_until_ready()) for name, c in compiled.items()},
        args.repeat,
    )
    unit_w, unit_c = wall["pass (psi * c)"], cpu["pass (psi * c)"]
    plan = plan_blocks(tuple(U.sites), k_default)
    floor = _block_floor(plan, block_matrices(U.gates, tuple(U.sites), plan), n)
    cmacs = sum(2 ** len(bs) for bs, _ in plan) * 2**n  # complex multiply-adds of one fused U
    A = (jr.normal(jr.key(4), (1024, 1024)) + 1j * jr.normal(jr.key(5), (1024, 1024))).astype(jnp.complex128)
    gemm = jax.jit(lambda a: jnp.matmul(a, a, precision="highest"))
    gemm_rate = 1024**3 / timeit(lambda: gemm(A).block_until_ready(), repeat=5) / 1e9
    rows = [
        {
            "case": f"N={n} arithmetic floor k={k_default} (blocks on an in-cache N={FLOOR_N} state, scaled)",
            "jaxmbl_s": floor,
            "baseline_s": unit_w,
            "ratio": floor / unit_w,
            "cpu_passes": float("nan"),
            "compile_s": float("nan"),
            "note": f"{cmacs / floor / 1e9:.2f} GCMAC/s in cache; 10 passes would need {cmacs / (10 * unit_w) / 1e9:.2f}; "
            f"XLA complex GEMM 1024^3: {gemm_rate:.2f}",
        }
    ]
    for name in cases:
        out = compiled[name](psi, cases[name][1])
        if name.startswith("circuit fused"):
            note = f"max|fused - unfused| = {float(jnp.max(jnp.abs(out - ref))):.1e}"
        elif name == "generator K psi fused (default)":
            note = f"max|fused - unfused| = {float(jnp.max(jnp.abs(out - ref_k))):.1e}"
        elif name == "generator U fused (default)":
            note = f"{G.n_terms} Chebyshev terms"
        else:
            note = ""
        rows.append(
            {
                "case": f"N={n} {name}",
                "jaxmbl_s": wall[name],
                "baseline_s": unit_w,
                "ratio": wall[name] / unit_w,
                "cpu_passes": cpu[name] / unit_c,
                "compile_s": compile_s[name],
                "note": note,
            }
        )
    emit("circuit", rows)


if __name__ == "__main__":
    main()
