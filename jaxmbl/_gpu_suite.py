"""``jaxmbl bench --suite gpu``: the large-size suite for one accelerator, in one process.

Every row is timed on the default JAX device and reported in units of one **device copy** of a
state of the same N (``psi * c`` under jit: one read and one write of the 2**N amplitudes, the
bandwidth floor), next to seconds and memory. Rows:

* ``copy``: the unit itself (seconds and effective GB/s) for each N used;
* ``quench``: S_half(t) at ``times`` log-spaced times in [1e-2, 1e12] from the product state
  ``|+>^N``, one circuit realization (``evolve`` with an entropy observable); seconds with
  compilation included, the ratio is one (compiled) time point in copies;
* ``unitary``: one application of the circuit U (depth-2 brickwork), in copies;
* ``disorder``: ``realizations`` circuit models at N = 12 (all 2**N eigenstate half-chain
  entropies) and N = 16 (256 eigenstates each, the rest would take hours), plus ⟨r̃⟩ of every
  spectrum; the ratio is seconds per eigenstate (U|n> and its entropy) in copies;
* ``pauli``: one matvec of the random-field Heisenberg PauliSum at N = 26, in copies;
* ``krylov``: Krylov (Lanczos) evolution of the Heisenberg chain at N = 24 to t = 1 and 10;
* ``reproduce``: ``jaxmbl reproduce --size large`` (``small`` on CPU), seconds per claim.

Sizes that do not fit the detected device memory are refused before allocating, with the estimate;
a row whose projected time (from a short first run) exceeds ``budget_s`` is skipped with the
projection. On a CPU-only machine the sizes are reduced (N - 10, disorder N - 4 with 1/16 of the
realizations) so the suite runs end to end in minutes and the tests can exercise it.
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxmbl as jm
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl.reproduce import reproduce

SECTIONS = ("copy", "quench", "unitary", "disorder", "pauli", "krylov", "reproduce")

#: Working-set estimate of the quench, in state vectors: psi(t), chi, the phases, the fused-U
#: temporaries, the Gram matrix (2**N entries) and the tridiagonal reduction's workspace.
QUENCH_VECTORS = 10


def device_memory_bytes() -> int:
    """Memory of the default device: the accelerator's ``bytes_limit``, else the host budget."""
    dev = jax.devices()[0]
    try:
        stats = dev.memory_stats() or {}
    except Exception:  # noqa: BLE001 - CPU devices may not implement memory_stats
        stats = {}
    return int(stats.get("bytes_limit", 0)) or available_memory_bytes()


def _peak_mib() -> float:
    try:
        stats = jax.devices()[0].memory_stats() or {}
    except Exception:  # noqa: BLE001
        stats = {}
    if "peak_bytes_in_use" in stats:
        return stats["peak_bytes_in_use"] / 2**20
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def _best(fn, repeat: int = 3) -> float:
    jax.block_until_ready(fn())
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn())
        best = min(best, time.perf_counter() - t0)
    return best


def _fits(need: float, have: int, what: str, rows: list, echo) -> bool:
    if need <= have:
        return True
    msg = f"refused: needs about {need / 2**30:.3g} GiB, the device has {have / 2**30:.3g} GiB"
    rows.append({"section": what.split()[0], "case": what, "seconds": float("nan"), "ratio": float("nan"), "note": msg})
    echo(f"{what}: {msg}")
    return False


class _Copy:
    """Device copy time of a complex state of N sites (cached per N)."""

    def __init__(self, dtype):
        self.dtype, self.cache = dtype, {}

    def __call__(self, n: int) -> float:
        if n not in self.cache:
            psi = jnp.ones(2**n, self.dtype)
            f = jax.jit(lambda v: v * jnp.asarray(1.0 + 0.0j, self.dtype))
            self.cache[n] = _best(lambda: f(psi), 5)
        return self.cache[n]


def run_gpu_suite(
    *,
    sections=SECTIONS,
    reduce: int | None = None,
    times: int = 64,
    realizations: int = 1024,
    budget_s: float = 120.0,
    n_sizes: int = 4,
    reproduce_size: str | None = None,
    echo=print,
) -> list[dict]:
    """Run the suite; print one line per row; return the rows (dicts).

    Args:
        sections: subset of :data:`SECTIONS`.
        reduce: sites taken off every size (default 0 on an accelerator, 10 on CPU; the disorder
            sizes lose ``reduce // 2 - 1`` and the realizations are divided by 16 when reduced).
        times: time points of the quench.
        realizations: disorder realizations (before reduction).
        budget_s: skip a row whose projected time exceeds this.
        n_sizes: how many of the sizes N = 24, 26, 28, 30 (minus ``reduce``) to run.
        reproduce_size: size of the ``reproduce`` row (default ``large``, ``small`` on CPU).
        echo: where lines go.

    Returns:
        Rows with ``section``, ``case``, ``N``, ``seconds``, ``ratio`` (device copies), ``peak_mib``, ``note``.
    """
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        raise jm.JaxmblError(f"sections: unknown {sorted(unknown)}; known: {SECTIONS}")
    backend = jax.default_backend()
    cpu = backend == "cpu"
    reduce = (10 if cpu else 0) if reduce is None else int(reduce)
    dis_reduce = max(0, reduce // 2 - 1)
    n_real = max(2, realizations // 16) if reduce else realizations
    have = device_memory_bytes()
    cdt = jnp.complex128 if jax.config.jax_enable_x64 else jnp.complex64
    item = jnp.dtype(cdt).itemsize
    copy = _Copy(cdt)
    rows: list[dict] = []
    echo(
        f"device {jax.devices()[0]} ({backend}), memory {have / 2**30:.3g} GiB, dtype {jnp.dtype(cdt).name}, reduce {reduce}"
    )

    def add(section, case, n, seconds, ratio, note=""):
        row = {"section": section, "case": case, "N": n, "seconds": float(seconds), "ratio": float(ratio)}
        row.update(peak_mib=_peak_mib(), note=note)
        rows.append(row)
        echo(
            f"{section:<10} {case:<44} {seconds:>10.4g} s {ratio:>10.4g} copies  peak {row['peak_mib']:.0f} MiB  {note}"
        )

    big = [n - reduce for n in (24, 26, 28, 30)][: max(1, int(n_sizes))]
    if "copy" in sections:
        for n in big:
            if _fits(3 * item * 2.0**n, have, f"copy N={n}", rows, echo):
                t = copy(n)
                add("copy", f"device copy of psi, N={n}", n, t, 1.0, f"{2 * item * 2**n / t / 1e9:.1f} GB/s")

    if "quench" in sections:
        ts = jnp.logspace(-2, 12, times)
        for n in big:
            if not _fits(QUENCH_VECTORS * item * 2.0**n, have, f"quench N={n}", rows, echo):
                continue
            model = jm.sample_model(jr.key(0), jm.Lattice((n,)), unitary="circuit", dtype=_real(cdt))
            psi0 = jm.product_state(np.full(n, np.pi / 2)).astype(cdt)
            region = tuple(range(n // 2))

            def obs(v, region=region):
                return jm.entropy(v, region)

            jax.block_until_ready(jm.evolve(model, psi0, ts[:2], observables=obs))
            t0 = time.perf_counter()
            jax.block_until_ready(jm.evolve(model, psi0, ts[:2], observables=obs))
            per_time = (time.perf_counter() - t0) / 2
            projected = per_time * times
            if projected > budget_s:
                add(
                    "quench",
                    f"S_half at {times} times, N={n}",
                    n,
                    float("nan"),
                    float("nan"),
                    f"skipped: projected {projected:.0f} s > budget {budget_s:.0f} s",
                )
                continue
            t0 = time.perf_counter()
            S = jax.block_until_ready(jm.evolve(model, psi0, ts, observables=obs))
            t = time.perf_counter() - t0
            add(
                "quench",
                f"S_half at {times} times to 1e12, N={n}",
                n,
                t,
                per_time / copy(n),
                f"seconds: compile included; copies: per time point, compiled; S(1e12)={float(S[-1]):.4f}",
            )

    if "unitary" in sections:
        for n in big:
            if not _fits(4 * item * 2.0**n, have, f"unitary N={n}", rows, echo):
                continue
            U = jm.random_circuit(jr.key(1), jm.Lattice((n,)), dtype=_real(cdt))
            psi = jnp.ones(2**n, cdt) / 2 ** (n / 2)
            f = jax.jit(lambda u, v: u.mv(v))
            t = _best(lambda U=U, psi=psi, f=f: f(U, psi))
            add("unitary", f"one U ({len(U.sites)} gates, fused), N={n}", n, t, t / copy(n))

    if "disorder" in sections:
        for n, n_states in ((12 - dis_reduce, None), (16 - dis_reduce, 256)):
            dim = 2**n
            n_states = dim if n_states is None else min(n_states, dim)
            chunk = max(1, min(n_real, int(have / 8 / (item * dim * n_states * 4))))
            if not _fits(4 * item * dim * n_states, have, f"disorder N={n}", rows, echo):
                continue
            models = jm.sample_models(jr.key(2), jm.Lattice((n,)), n_real, unitary="circuit", dtype=_real(cdt))
            region = tuple(range(n // 2))
            idx = jnp.arange(n_states)

            @jax.jit
            def per_chunk(ms, idx=idx, region=region):
                return jax.vmap(lambda m: jm.entropy(jm.eigenstates(m, idx), region).mean())(ms)

            t0 = time.perf_counter()
            out = [
                per_chunk(jax.tree_util.tree_map(lambda x, s=s, c=chunk: x[s : s + c], models))
                for s in range(0, n_real, chunk)
            ]
            s_mean = float(np.mean(np.concatenate([np.asarray(o) for o in out])))
            r = float(np.mean(np.asarray(jm.level_spacing_ratio(jm.energies(models)))))
            t = time.perf_counter() - t0
            per_state = t / (n_real * n_states)
            add(
                "disorder",
                f"{n_real} realizations x {n_states} eigenstates, N={n}",
                n,
                t,
                per_state / copy(n),
                f"{n_real / t:.3g} realizations/s; <r>={r:.4f}; mean S={s_mean:.4f}; compile included",
            )

    if "pauli" in sections or "krylov" in sections:
        for section, n in (("pauli", 26 - reduce), ("krylov", 24 - reduce)):
            if section not in sections:
                continue
            vectors = 4 if section == "pauli" else 40  # Krylov basis of 30 vectors + work
            if not _fits(vectors * item * 2.0**n, have, f"{section} N={n}", rows, echo):
                continue
            H = jm.random_field_heisenberg(jr.key(3), jm.Lattice((n,)), 5.0)
            psi = jm.product_state(np.full(n, np.pi / 2)).astype(cdt)
            if section == "pauli":
                f = jax.jit(lambda h, v: h.mv(v))
                t = _best(lambda H=H, psi=psi, f=f: f(H, psi))
                add("pauli", f"PauliSum matvec ({H.coef.shape[-1]} strings), N={n}", n, t, t / copy(n))
            else:
                ts = jnp.array([1.0, 10.0])
                t0 = time.perf_counter()
                _, info = jax.block_until_ready(jm.krylov_evolve(H, psi, ts))
                t = time.perf_counter() - t0
                add(
                    "krylov",
                    f"Lanczos evolution to t=1, 10, N={n}",
                    n,
                    t,
                    t / copy(n),
                    f"compile included; error estimate {float(np.max(info['error'])):.1e}",
                )

    if "reproduce" in sections:
        size = reproduce_size or ("small" if cpu else "large")
        with tempfile.TemporaryDirectory() as out:
            results = reproduce(out, size=size, progress=False, resume=False)
        for res in results:
            add(
                "reproduce",
                f"claim {res['id']} (size {size})",
                0,
                res.get("seconds", float("nan")),
                float("nan"),
                "pass" if res["pass"] else "FAIL",
            )
    return rows


def _real(cdt):
    return jnp.float64 if jnp.dtype(cdt) == jnp.complex128 else jnp.float32
