"""Batched exact diagonalization: 200 realizations of the random-field Heisenberg chain at N = 10
in the total S^z = 0 sector (D = 252), jaxmbl's vmapped ``eigvalsh`` / ``eigh`` vs a numpy loop.

Realizations come from ``jax.vmap`` over keys of ``random_field_heisenberg`` (W = 1). Rows:
* ``end to end``: ``jm.eigvalsh(H, sector=0)`` / ``jm.eigh`` on the batched PauliSum (validation
  on the coefficients, sector blocks built under vmap in the same XLA program as the batched
  LAPACK calls) against a numpy loop of ``numpy.linalg.eigvalsh`` / ``eigh`` over the same 200
  prebuilt real matrices;
* ``jm.eigvalsh`` / ``jm.eigh`` of the prebuilt blocks: jaxmbl on the same (200, 252, 252) stack
  that numpy gets (Hermiticity check included), so only the diagonalization is compared;
* ``diagonalization only``: jax's own jitted batched ``jnp.linalg.eigvalsh`` / ``eigh`` of the
  prebuilt (200, 252, 252) stack against the same numpy loop.
``max_diff`` compares the eigenvalues. jaxmbl returns complex eigenvectors (one dtype for real
and complex H), numpy real ones; the extra cast is part of jaxmbl's time.

On CPU a batched eigh is a loop over LAPACK calls in both codes, so parity is the expectation.
On GPU, old jaxlib versions looped sequentially over the batch above 32x32 (one report went
from 0.39 ms to 563 ms when the size stepped from 32 to 33; jax-ml/jax#31368, fixed in 2025): measure before assuming a speedup there.

``jnp.linalg.eigvalsh`` computes the eigenvectors too (jax's LAPACK call is always ``syevd``
with job 'V'), while numpy's ``eigvalsh`` skips them. ``jm.eigvalsh`` on CPU skips them as
LAPACK's values-only driver does: Householder reduction (``jax.lax.linalg.tridiagonal``) in
XLA, then ``sterf`` on the two diagonals through ``jax.pure_callback``.

Threads: LAPACK runs single-threaded in both codes (``OPENBLAS_NUM_THREADS=1`` unless set
otherwise before the run). On a shared, loaded machine multithreaded OpenBLAS spin-waits and
made both codes 3-10x slower and erratic. XLA may still spread the matrices of one batched
LAPACK call (seen for ``eigh``) over its thread pool when a core is free, so the least process
CPU time (all threads) per call is reported too; ``cpu_ratio`` is the per-core comparison.

Timings: best of ``--repeat`` interleaved rounds after a warm-up (compilation excluded), float64.

Usage: python benchmarks/bench_batched_eigh.py [--n 10] [--realizations 200] [--repeat 8]
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy/jaxlib load OpenBLAS; see docstring

import jax  # noqa: E402

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _common import emit, race  # noqa: E402

import jaxmbl as jm  # noqa: E402
from jaxmbl._hamiltonians.ed import hamiltonian_blocks  # noqa: E402


def numpy_loop(mats, vectors):
    if vectors:
        return lambda: [np.linalg.eigh(m) for m in mats]
    return lambda: [np.linalg.eigvalsh(m) for m in mats]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=10)
    p.add_argument("--W", type=float, default=1.0)
    p.add_argument("--realizations", type=int, default=200)
    p.add_argument("--repeat", type=int, default=8)
    args = p.parse_args(argv)
    n, R = args.n, args.realizations
    keys = jr.split(jr.key(0), R)
    H = jax.vmap(lambda k: jm.random_field_heisenberg(k, n, args.W))(keys)
    mats_j = jax.block_until_ready(hamiltonian_blocks(H, 0))
    mats = np.asarray(mats_j)
    D = mats.shape[-1]
    E_ref = np.array(numpy_loop(mats, False)())

    eigvalsh_raw, eigh_raw = jax.jit(jnp.linalg.eigvalsh), jax.jit(jnp.linalg.eigh)
    cases = [
        ("eigvalsh end to end", lambda: jm.eigvalsh(H, sector=0).block_until_ready(), False),
        ("eigh end to end", lambda: jax.block_until_ready(jm.eigh(H, sector=0)), True),
        ("jm.eigvalsh of the prebuilt blocks", lambda: jm.eigvalsh(mats_j).block_until_ready(), False),
        ("jm.eigh of the prebuilt blocks", lambda: jax.block_until_ready(jm.eigh(mats_j)), True),
        ("eigvalsh diagonalization only", lambda: eigvalsh_raw(mats_j).block_until_ready(), False),
        ("eigh diagonalization only", lambda: jax.block_until_ready(eigh_raw(mats_j)), True),
    ]
    fns = {name: run for name, run, _ in cases}
    fns |= {"numpy eigvalsh": numpy_loop(mats, False), "numpy eigh": numpy_loop(mats, True)}
    best, cpu = race(fns, args.repeat)  # wall, process CPU (all threads)
    rows = []
    for name, run, vectors in cases:
        peer = "numpy eigh" if vectors else "numpy eigvalsh"
        out, t_np = run(), best[peer]
        E = np.asarray(out[0] if vectors else out)
        threads = os.environ["OPENBLAS_NUM_THREADS"]
        rows.append({"case": f"{name} N={n} D={D} x{R}", "jaxmbl_s": best[name], "baseline_s": t_np,
                     "ratio": t_np / best[name], "max_diff": float(np.max(np.abs(E - E_ref))),
                     "jaxmbl_cpu_s": cpu[name], "baseline_cpu_s": cpu[peer], "cpu_ratio": cpu[peer] / cpu[name],
                     "note": f"speedup over numpy loop; OPENBLAS_NUM_THREADS={threads}"})  # fmt: skip
    emit("batched_eigh", rows)


if __name__ == "__main__":
    main()
