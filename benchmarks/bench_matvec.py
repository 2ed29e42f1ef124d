"""Matvec H|psi> of the random-field Heisenberg chain at N=20 (full space, D = 2**20):
jaxmbl's matrix-free ``PauliSum.apply`` vs QuSpin's sparse ``hamiltonian.dot``, and as a
fraction of memory bandwidth.

Same Hamiltonian in both codes, H = sum_i [J (S^x S^x + S^y S^y) + Jz S^z S^z]_{i,i+1} + sum_i h_i S^z_i
(S = sigma/2, open chain). QuSpin (``spin_basis_1d``, ``pauli=0``) stores state integers with bit
1 = spin up, site 0 the most significant bit, listed in decreasing order; jaxmbl has bit 1 = down,
site 0 most significant. So QuSpin's array index i holds the jaxmbl basis index
``2**N - 1 - states[i]``; the script builds that permutation from ``basis.states`` (it comes out
as the identity) and checks H|psi> of both codes on a random state at N=10 and at N=20 before
timing. If QuSpin cannot be imported, ``H.to_scipy_sparse()`` (CSR) is the peer and the output says so.

Baselines measured in the same run:
* QuSpin ``dot`` (its own OpenMP sparse kernel), and scipy CSR ``@`` on ``H.to_scipy_sparse()``;
* a plain copy of the state (``psi * 1`` under jit): the memory-bandwidth ceiling. A matvec must
  at least read psi and write H psi (the same 2 * 16 * D bytes as the copy), so
  ``t_copy / t_matvec`` is the bandwidth fraction of a minimal-traffic matvec. The gather
  model (one stream per distinct bit-flip mask, G + 1 streams of psi plus the write; no cache
  reuse) is reported too. The copy works on the same 16 MiB state as the matvec: on a machine
  whose last-level cache holds it, this is cache bandwidth, the relevant ceiling for this
  working set.

Timings: best of ``--repeat`` interleaved rounds after a warm-up (compilation excluded),
complex128 states, default threading (QuSpin: OpenMP over all cores; XLA splits the fused loop
over its thread pool; scipy: one thread). Both codes use a second core when it is free, so the
least process CPU time (all threads) per call is reported too (the ``CPU time`` row); it charges
each code its own threading overhead. For a clean per-core comparison pin the process to one
core: ``taskset -c 0 python benchmarks/bench_matvec.py``.

Usage: python benchmarks/bench_matvec.py [--n 20] [--W 1.0] [--repeat 20]
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

try:
    from quspin.basis import spin_basis_1d
    from quspin.operators import hamiltonian
except ImportError:  # the bench extra is not installed: scipy CSR is the only peer
    spin_basis_1d = None


def quspin_heisenberg(H, n, J=1.0, Jz=1.0):
    """QuSpin ``hamiltonian`` of jaxmbl's chain ``H`` and the permutation QuSpin index -> jaxmbl index."""
    h = 2 * np.asarray(H.coef[-n:])  # jaxmbl stores h_i / 2 on Z_i
    basis = spin_basis_1d(n, pauli=0)
    bonds = [[J / 2, i, i + 1] for i in range(n - 1)]  # J (SxSx + SySy) = J/2 (S+S- + S-S+)
    static = [
        ["+-", bonds],
        ["-+", bonds],
        ["zz", [[Jz, i, i + 1] for i in range(n - 1)]],
        ["z", [[h[i], i] for i in range(n)]],
    ]
    Hq = hamiltonian(static, [], basis=basis, dtype=np.float64, check_symm=False, check_herm=False, check_pcon=False)
    perm = (2**n - 1) - np.asarray(basis.states, dtype=np.int64)
    return Hq, perm


def check_same(H, Hq, perm, n, rng):
    """max |H psi (jaxmbl) - H psi (QuSpin, permuted)| / max |H psi| on a random state."""
    psi = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    ours = np.asarray(H.apply(jnp.asarray(psi)))
    theirs = np.empty_like(ours)
    theirs[perm] = Hq.dot(psi[perm])
    return float(np.max(np.abs(ours - theirs)) / np.max(np.abs(ours)))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--W", type=float, default=1.0)
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args(argv)
    n, rng = args.n, np.random.default_rng(0)
    H = jm.random_field_heisenberg(jr.key(0), n, args.W)
    if spin_basis_1d is not None:
        small = jm.random_field_heisenberg(jr.key(1), 10, args.W)
        rel10 = check_same(small, *quspin_heisenberg(small, 10), 10, rng)
        Hq, perm = quspin_heisenberg(H, n)
        rel = check_same(H, Hq, perm, n, rng)
        if max(rel10, rel) > 1e-12:
            raise SystemExit(f"QuSpin and jaxmbl disagree: relative difference {rel10:.3g} (N=10), {rel:.3g} (N={n})")
        identity = bool(np.all(perm == np.arange(2**n)))
        print(
            f"QuSpin check: H|psi> agrees to {rel10:.2g} (N=10) and {rel:.2g} (N={n}); permutation is identity: {identity}"
        )
    else:
        print("QuSpin is not installed (pip install 'jaxmbl[bench]'): falling back to scipy.sparse CSR as the peer")

    A = H.to_scipy_sparse()
    psi_np = rng.normal(size=2**n) + 1j * rng.normal(size=2**n)
    psi = jnp.asarray(psi_np)
    rel_csr = float(np.max(np.abs(np.asarray(H.apply(psi)) - A @ psi_np)) / np.max(np.abs(A @ psi_np)))

    copy = jax.jit(lambda v: v * (1.0 + 0.0j))
    fns = {"ours": lambda: H.apply(psi).block_until_ready(), "copy": lambda: copy(psi).block_until_ready(),
           "csr": lambda: A @ psi_np}  # fmt: skip
    if spin_basis_1d is not None:
        psi_q = psi_np[perm]
        fns["quspin"] = lambda: Hq.dot(psi_q)
    best, cpu = race(fns, args.repeat)  # wall, process CPU (all threads)
    t_ours, t_copy, t_csr = best["ours"], best["copy"], best["csr"]

    D, itemsize = 2**n, psi.dtype.itemsize
    n_groups = len(H._structure.groups)  # distinct bit-flip masks (the diagonal is one)
    bw_copy = 2 * D * itemsize / t_copy
    csr_bytes = A.nnz * (A.data.itemsize + A.indices.itemsize) + A.indptr.nbytes + 2 * D * itemsize
    rows = [
        {"case": f"apply vs scipy CSR N={n}", "jaxmbl_s": t_ours, "baseline_s": t_csr, "ratio": t_csr / t_ours,
         "note": f"speedup; CSR nnz={A.nnz}, rel diff {rel_csr:.1e}"},
    ]  # fmt: skip
    if spin_basis_1d is not None:
        t_q = best["quspin"]
        rows.insert(0, {"case": f"apply vs QuSpin dot N={n}", "jaxmbl_s": t_ours, "baseline_s": t_q,
                        "ratio": t_q / t_ours,
                        "note": f"speedup; rel diff {rel:.1e}"})  # fmt: skip
        rows.insert(1, {"case": f"apply vs QuSpin dot N={n}, CPU time", "jaxmbl_s": cpu["ours"],
                        "baseline_s": cpu["quspin"], "ratio": cpu["quspin"] / cpu["ours"],
                        "note": f"least CPU s per call; threads ~ CPU/wall: jaxmbl {cpu['ours'] / t_ours:.2f}, "
                                f"QuSpin {cpu['quspin'] / t_q:.2f}"})  # fmt: skip
        rows.append({"case": f"QuSpin bandwidth N={n}", "jaxmbl_s": t_q, "baseline_s": t_copy, "ratio": t_copy / t_q,
                     "note": "minimal-traffic fraction of copy bandwidth (QuSpin)"})  # fmt: skip
    rows += [
        {"case": f"apply bandwidth N={n}", "jaxmbl_s": t_ours, "baseline_s": t_copy, "ratio": t_copy / t_ours,
         "note": f"minimal-traffic (read psi + write) fraction of copy bandwidth {bw_copy / 1e9:.2f} GB/s"},
        {"case": f"apply gather model N={n}", "jaxmbl_s": t_ours, "baseline_s": t_copy,
         "ratio": (n_groups + 1) / 2 * t_copy / t_ours,
         "note": f"{n_groups} flip masks -> {n_groups + 1} state streams per matvec, no cache reuse"},
        {"case": f"CSR bandwidth N={n}", "jaxmbl_s": t_csr, "baseline_s": t_copy, "ratio": csr_bytes / t_csr / bw_copy,
         "note": f"CSR streams values+indices+psi+out = {csr_bytes / 2**20:.0f} MiB"},
    ]  # fmt: skip
    emit("matvec", rows)


if __name__ == "__main__":
    main()
