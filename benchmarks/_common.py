"""Shared helpers of the benchmark scripts: timing, peak memory, and the machine-readable result line."""

from __future__ import annotations

import json
import os
import platform
import resource
import sys
import time


def timeit(fn, *, repeat: int = 3, warmup: int = 1):
    """Best wall time of ``fn()`` over ``repeat`` runs after ``warmup`` runs (compilation excluded)."""
    for _ in range(warmup):
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def race(fns: dict, repeat: int) -> tuple[dict, dict]:
    """Best wall time and best process CPU time (all threads) of each ``fns[name]()``.

    After one warm-up call each (compilation), the contenders run in interleaved rounds, so bursts
    of load from other processes hit all of them alike.
    """
    for f in fns.values():
        f()
    best, cpu = dict.fromkeys(fns, float("inf")), dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for k, f in fns.items():
            c0 = time.process_time()
            best[k] = min(best[k], timeit(f, repeat=1, warmup=0))
            cpu[k] = min(cpu[k], time.process_time() - c0)
    return best, cpu


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def machine() -> dict:
    import jax

    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "devices": [str(d) for d in jax.devices()],
    }


def emit(name: str, rows: list[dict]) -> None:
    """Print the table for people and one ``BENCH_JSON`` line for ``jaxmbl bench``."""
    keys = list(rows[0]) if rows else []
    print(" | ".join(f"{k:>14}" for k in keys))
    for r in rows:
        print(" | ".join(f"{(f'{v:.4g}' if isinstance(v, float) else str(v)):>14}" for v in r.values()))
    print(
        "BENCH_JSON "
        + json.dumps({"benchmark": name, "rows": rows, "peak_rss_mib": peak_rss_mib(), "machine": machine()})
    )
