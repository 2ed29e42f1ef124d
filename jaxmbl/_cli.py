"""The ``jaxmbl`` command line: ``reproduce``, ``sweep``, ``bench``.

The CLI is an entry point, so it (and only it) turns on float64 in JAX, as documented in the README.
"""

from __future__ import annotations

import argparse
import sys


def _reproduce(args) -> int:
    from jaxmbl.reproduce._report import reproduce

    results = reproduce(
        args.out, size=args.size, seed=args.seed, only=args.only, progress=not args.quiet, resume=not args.fresh
    )
    failed = [r["id"] for r in results if not r["pass"]]
    print(f"{len(results) - len(failed)}/{len(results)} claims pass; report: {args.out}/report.md")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def _bench(args) -> int:
    from jaxmbl._bench import run_suite

    rows = run_suite(args.dir, only=args.only, csv_path=args.csv)
    return 1 if any(r.get("case") == "FAILED" for r in rows) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="jaxmbl", description="Swingle's simple model of many-body localization, in JAX."
    )
    parser.add_argument("--float32", action="store_true", help="fast mode: keep JAX in float32 (default is float64)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("reproduce", help="check every claim of the paper; write report.md and claims.json")
    p.add_argument(
        "--size",
        default="small",
        choices=["small", "medium", "large"],
        help="small: 2 CPU cores in minutes; large: one GPU",
    )
    p.add_argument("--out", default="jaxmbl-report", help="output folder (default: jaxmbl-report)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--only", default=None, help="comma-separated claim ids, e.g. C3,C5")
    p.add_argument("--fresh", action="store_true", help="ignore finished claims stored in OUT/results")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_reproduce)

    # -- sweep subcommand --
    from jaxmbl.sweep._runner import cli_plot, cli_sweep

    p = sub.add_parser("sweep", help="disorder-averaged sweep from a TOML config (sharded, resumable)")
    p.add_argument("config", help="TOML config: [model], [grid], [run], [observables.LABEL]")
    p.add_argument("--out", required=True, help="run directory (re-running the same command resumes)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--plot", action="store_true", help="write OUT/sweep.png when done (needs matplotlib)")
    p.add_argument(
        "--distributed", action="store_true", help="call jax.distributed.initialize() first (multi-host, e.g. SLURM)"
    )
    p.set_defaults(func=cli_sweep)
    p = sub.add_parser("plot", help="quick-look plot of a sweep run directory")
    p.add_argument("run_dir", help="a directory written by 'jaxmbl sweep'")
    p.add_argument("--out", default=None, help="image file (default RUN_DIR/sweep.png)")
    p.set_defaults(func=cli_plot)

    # -- bench subcommand --
    p = sub.add_parser("bench", help="run benchmarks/ as one suite: ratios vs same-run baselines, peak memory, CSV")
    p.add_argument("--dir", default=None, help="benchmarks folder (default: the source checkout's benchmarks/)")
    p.add_argument("--only", default=None, help="comma-separated substrings of benchmark names")
    p.add_argument("--csv", default=None, help="CSV to append to (default: BENCH_DIR/results.csv)")
    p.set_defaults(func=_bench)

    args = parser.parse_args(argv)
    import jax

    jax.config.update("jax_enable_x64", not args.float32)
    try:
        return args.func(args)
    except ValueError as err:
        print(f"jaxmbl {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
