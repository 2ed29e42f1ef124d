"""Half-chain entropies of ALL 2**N eigenstates of one chain: jaxmbl vs the dense route.

jaxmbl: eigenstates are U|n> (no diagonalization), entropies from batched Gram matrices.
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
        f_ours, f_dense = ours(model, region, min(2**n, 1024)), dense(model, n)
        # Same physics: the sorted entropy lists agree (eigh may order degenerate states differently).
        agree = float(np.max(np.abs(np.sort(np.asarray(f_ours())) - np.sort(f_dense()))))
        t_ours = timeit(f_ours, repeat=3)
        t_dense = timeit(f_dense, repeat=1, warmup=0)
        rows.append({"N": n, "jaxmbl_s": t_ours, "dense_s": t_dense, "speedup": t_dense / t_ours, "max_diff": agree})
    emit("eigenstate_entropies", rows)


if __name__ == "__main__":
    main()
