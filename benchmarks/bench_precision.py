"""The float32 / complex64 fast mode against float64 at N = 16: errors and time ratios, one table.

One model is sampled in float64 and cast leaf by leaf to float32/complex64, so both modes hold the
same couplings and gates (to float32 rounding) and every difference is the arithmetic's. Rows:

* energies E(n) of all 2**N eigenstates: max |E32 - E64| / max |E64|;
* evolution from a product state, by time: ||psi32(t) - psi64(t)|| (both unit norm) and the
  half-chain entropy error |S32 - S64| (nats). The phase error of float32 grows like
  1e-7 * J0 t rad, so the state is meaningless beyond J0 t ~ 1e5 (the float64 path keeps 1e-13
  rad at t = 1e12);
* half-chain entropies of 1024 eigenstates U|n>: max |S32 - S64|;
* time: S(t) at 64 log-spaced times and one U application, float32 over float64 (compile
  excluded, same run, interleaved).

Usage: python benchmarks/bench_precision.py [--n 16]
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _common import emit, race  # noqa: E402

import jaxmbl as jm  # noqa: E402


def _to32(x):
    if jnp.iscomplexobj(x):
        return x.astype(jnp.complex64)
    if jnp.issubdtype(x.dtype, jnp.floating):
        return x.astype(jnp.float32)
    return x


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    n = args.n
    m64 = jm.sample_model(jr.key(0), jm.Lattice((n,)), unitary="circuit")
    m32 = jax.tree_util.tree_map(_to32, m64)
    region = tuple(range(n // 2))
    psi64 = jm.product_state(np.full(n, np.pi / 2))
    psi32 = psi64.astype(jnp.complex64)
    rows = []

    E64, E32 = np.asarray(jm.energies(m64)), np.asarray(jm.energies(m32))
    rows.append(
        {
            "case": f"N={n} energies E(n), all 2**N",
            "error": float(np.max(np.abs(E32 - E64)) / np.max(np.abs(E64))),
            "unit": "relative",
        }
    )

    ts = np.array([1e-1, 1e1, 1e3, 1e4, 1e5, 1e6, 1e8, 1e12])
    s64 = np.asarray(jm.evolve(m64, psi64, ts))
    s32 = np.asarray(jm.evolve(m32, psi32, ts))
    S64 = np.asarray(jm.entropy(s64, region))
    S32 = np.asarray(jm.entropy(s32.astype(np.complex128), region))
    for i, t in enumerate(ts):
        err = float(np.linalg.norm(s32[i] - s64[i]))
        rows.append({"case": f"N={n} evolution t={t:.0e}", "error": err, "unit": "||psi32 - psi64||"})
        rows.append({"case": f"N={n} S_half(t={t:.0e})", "error": float(abs(S32[i] - S64[i])), "unit": "nats"})

    idx = jnp.arange(1024)
    e64 = np.asarray(jm.entropy(jm.eigenstates(m64, idx), region))
    e32 = np.asarray(jm.entropy(jm.eigenstates(m32, idx), region))
    rows.append(
        {"case": f"N={n} S_half of 1024 eigenstates", "error": float(np.max(np.abs(e32 - e64))), "unit": "nats"}
    )

    many = jnp.logspace(-2, 5, 64)

    def quench(m, psi):
        return lambda: jax.block_until_ready(jm.evolve(m, psi, many, observables=_half_entropy[n]))

    _half_entropy[n] = lambda v: jm.entropy(v, region)
    u64 = jax.jit(lambda v: m64.U.mv(v))
    u32 = jax.jit(lambda v: m32.U.mv(v))
    wall, _ = race(
        {
            "S(t) f64": quench(m64, psi64),
            "S(t) f32": quench(m32, psi32),
            "U f64": lambda: u64(psi64).block_until_ready(),
            "U f32": lambda: u32(psi32).block_until_ready(),
        },
        args.repeat,
    )
    for what in ("S(t)", "U"):
        rows.append(
            {
                "case": f"N={n} time {what}{' 64 times' if what == 'S(t)' else ''}, f32 / f64",
                "jaxmbl_s": wall[f"{what} f32"],
                "baseline_s": wall[f"{what} f64"],
                "ratio": wall[f"{what} f32"] / wall[f"{what} f64"],
            }
        )
    keys = ("case", "error", "unit", "jaxmbl_s", "baseline_s", "ratio")
    nan = float("nan")
    emit("precision", [{k: r.get(k, "" if k == "unit" else nan) for k in keys} for r in rows])


_half_entropy: dict = {}

if __name__ == "__main__":
    main()
