"""``jaxmbl bench``: run the scripts in ``benchmarks/`` as one suite and tabulate their ratios.

Each script runs in its own process (so its peak memory is its own) and prints one
``BENCH_JSON {...}`` line holding its rows; each row's ratio is against a baseline measured in
the same run. The suite prints one table and appends every row, with machine info, to a CSV.
"""

from __future__ import annotations

import csv
import datetime
import json
import os
import subprocess
import sys
from pathlib import Path

from jaxmbl._core.errors import JaxmblError
from jaxmbl._gpu_suite import run_gpu_suite


def default_bench_dir() -> Path:
    """``benchmarks/`` of the source checkout this jaxmbl was installed from."""
    return Path(__file__).resolve().parent.parent / "benchmarks"


def run_suite(bench_dir=None, *, only=None, csv_path=None, extra_args=(), timeout: float = 3600.0) -> list[dict]:
    """Run ``bench_*.py`` in ``bench_dir`` (optionally only names containing ``only``); return the rows."""
    folder = Path(bench_dir) if bench_dir else default_bench_dir()
    if not folder.is_dir():
        raise JaxmblError(f"bench_dir: {str(folder)!r} is not a folder (run from a source checkout or pass --dir)")
    scripts = sorted(p for p in folder.glob("bench_*.py") if not only or any(o in p.stem for o in only.split(",")))
    if not scripts:
        raise JaxmblError(f"only: no benchmark in {folder} matches {only!r}")
    rows = []
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    for script in scripts:
        print(f"== {script.name}", flush=True)
        proc = subprocess.run(
            [sys.executable, script.name, *extra_args], cwd=folder, capture_output=True, text=True, timeout=timeout
        )
        sys.stdout.write(proc.stdout.replace("BENCH_JSON", "  (json)").split("  (json)")[0])
        records = [
            json.loads(line[len("BENCH_JSON ") :])
            for line in proc.stdout.splitlines()
            if line.startswith("BENCH_JSON ")
        ]
        if proc.returncode != 0 or not records:
            print(f"   failed (exit {proc.returncode}): {proc.stderr.strip().splitlines()[-1:]}", flush=True)
            rows.append({"date": stamp, "benchmark": script.stem, "case": "FAILED", "ratio": float("nan")})
            continue
        for rec in records:
            for r in rec["rows"]:
                rows.append(
                    {
                        "date": stamp,
                        "benchmark": rec["benchmark"],
                        **r,
                        "peak_rss_mib": rec["peak_rss_mib"],
                        "machine": json.dumps(rec["machine"]),
                    }
                )
    _print_table(rows)
    if csv_path is None:
        csv_path = folder / "results.csv"
    _append_csv(csv_path, rows)
    print(f"appended {len(rows)} rows to {csv_path}")
    return rows


def run_gpu(csv_path=None, **kwargs) -> list[dict]:
    """``jaxmbl bench --suite gpu``: :func:`jaxmbl._gpu_suite.run_gpu_suite`, rows appended to a CSV.

    The CSV defaults to ``gpu_results.csv`` in the working directory (the suite may run from an
    installed package, without a ``benchmarks/`` folder). Extra keyword arguments go to the suite.
    """
    stamp = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    rows = [{"date": stamp, "benchmark": f"gpu_{r['section']}", **r} for r in run_gpu_suite(**kwargs)]
    path = Path(csv_path) if csv_path else Path("gpu_results.csv")
    _append_csv(path, rows)
    print(f"appended {len(rows)} rows to {path}")
    return rows


def _print_table(rows):
    print()
    print(f"{'benchmark':<24} {'case':<34} {'ratio':>10} {'peak MiB':>10}")
    for r in rows:
        case = str(r.get("case", r.get("N", "")))
        ratio = r.get("ratio", r.get("speedup", float("nan")))
        print(
            f"{r['benchmark']:<24} {case[:34]:<34} {float(ratio):>10.3g} {float(r.get('peak_rss_mib', float('nan'))):>10.0f}"
        )


def _append_csv(path, rows):
    path = Path(path)
    fields = [
        "date",
        "benchmark",
        "case",
        "N",
        "ratio",
        "speedup",
        "jaxmbl_s",
        "baseline_s",
        "dense_s",
        "note",
        "peak_rss_mib",
        "machine",
    ]
    extra = sorted({k for r in rows for k in r} - set(fields))
    fields += extra
    new = not path.exists()
    os.makedirs(path.parent, exist_ok=True)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new:
            w.writeheader()
        for r in rows:
            w.writerow(r)
