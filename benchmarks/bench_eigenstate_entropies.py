"""Half-chain entropies of ALL 2**N eigenstates of one chain: jaxmbl vs the dense route.

jaxmbl, two routes, both without diagonalization:
* ``statevector``: eigenstates are U|n>, built in chunks of 1024, entropies from their Schmidt values;
* ``eigenstate_entropies`` (the public call, method "auto"): for a circuit U only the gates in the
  backward light cone of the cut matter, so the 2**N entropies are sums of small per-component tables
  (exact; any U falls back to the state-vector route).
Dense baseline (what one does with a generic ED code): build H, numpy.linalg.eigh, then an SVD
of every eigenvector reshaped across the cut. Both in float64, same model, same run.

Usage: python benchmarks/bench_eigenstate_entropies.py [--sizes 8 9 10 11 12]
"""

from __future__ import annotations

import argparse

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import jax.random as jr  # noqa: E402
import numpy as np  # noqa: E402
from _common import emit, timeit  # noqa: E402

import jaxmbl as jm  # noqa: E402


def ours(model, region, chunk):
    n = model.n_sites

    @jax.jit
    def block(idx):
        return jm.entropy(jm.eigenstates(model, idx), region)

    def run():
        out = [block(jnp.arange(s, s + chunk)) for s in range(0, 2**n, chunk)]
        return jax.block_until_ready(jnp.concatenate(out))

    return run


def public(model, region):
    def run():
        return jax.block_until_ready(jm.eigenstate_entropies(model, [region])[:, 0])

    return run


def dense(model, n):
    H = np.asarray(jm.dense_hamiltonian(model))

    def run():
        _, V = np.linalg.eigh(H)
        S = np.empty(V.shape[1])
        for k in range(V.shape[1]):
            s = np.linalg.svd(V[:, k].reshape(2 ** (n // 2), -1), compute_uv=False) ** 2
            s = s[s > 1e-300]
            S[k] = -np.sum(s * np.log(s))
        return S

    return run


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--sizes", type=int, nargs="+", default=[8, 9, 10, 11, 12])
    args = p.parse_args(argv)
    rows = []
    for n in args.sizes:
        lat = jm.Lattice((n,))
        model = jm.sample_model(jr.key(n), lat)
        region = tuple(range(n // 2))
        f_ours, f_pub, f_dense = ours(model, region, min(2**n, 1024)), public(model, region), dense(model, n)
        ref = np.sort(f_dense())
        t_dense = timeit(f_dense, repeat=1, warmup=0)
        for route, f in (("statevector", f_ours), ("eigenstate_entropies", f_pub)):
            # Same physics: the sorted entropy lists agree (eigh may order degenerate states differently).
            agree = float(np.max(np.abs(np.sort(np.asarray(f())) - ref)))
            t = timeit(f, repeat=3)
            rows.append(
                {
                    "case": f"N={n} {route}",
                    "N": n,
                    "route": route,
                    "jaxmbl_s": t,
                    "dense_s": t_dense,
                    "speedup": t_dense / t,
                    "max_diff": agree,
                }
            )
    emit("eigenstate_entropies", rows)


if __name__ == "__main__":
    main()
