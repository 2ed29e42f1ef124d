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
from _common import emit, race  # noqa: E402

import jaxmbl as jm  # noqa: E402
from jaxmbl._swingle.fusion import apply_circuit, default_block_sites  # noqa: E402


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
    rows = []
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
