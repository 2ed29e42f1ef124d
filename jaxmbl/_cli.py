"""The ``jaxmbl`` command line: ``reproduce``, ``sweep``, ``plot``, ``bench``; every argparse handler lives here.

The CLI is an entry point, so it (and only it) turns on float64 in JAX, as documented in the README.

Errors: a :class:`~jaxmbl.JaxmblError` (a bad argument or config, a run directory that belongs to
another config, a request too large for memory) is the user's to fix, so it is printed as one line
``jaxmbl COMMAND: error: ...`` on stderr with exit status 2. Any other exception is a bug and keeps
its traceback.
"""

from __future__ import annotations

import argparse
import sys

import jax

from jaxmbl._bench import run_gpu, run_suite
from jaxmbl._core.errors import JaxmblError
from jaxmbl.reproduce import reproduce
from jaxmbl.sweep import plot_run, run_sweep


def cli_reproduce(args) -> int:
    """``jaxmbl reproduce [--size S] [--out DIR] [--seed N] [--only IDS] [--fresh] [--quiet]``."""
    results = reproduce(
        args.out, size=args.size, seed=args.seed, only=args.only, progress=not args.quiet, resume=not args.fresh
    )
    failed = [r["id"] for r in results if not r["pass"]]
    print(f"{len(results) - len(failed)}/{len(results)} claims pass; report: {args.out}/report.md")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def cli_sweep(args) -> int:
    """``jaxmbl sweep CONFIG --out DIR [--quiet] [--plot] [--distributed]``."""
    if args.distributed:
        jax.distributed.initialize()
    result = run_sweep(args.config, args.out, progress=not args.quiet)
    if jax.process_index() == 0:
        print(result.summary())
        if args.plot:
            print(f"plot: {plot_run(args.out)}")
    return 0 if result.complete else 1


def cli_plot(args) -> int:
    """``jaxmbl plot RUN_DIR [--out FILE]``."""
    print(plot_run(args.run_dir, args.out))
    return 0


def cli_bench(args) -> int:
    """``jaxmbl bench [--suite scripts|gpu] [--reduce K] [--dir DIR] [--only NAMES] [--csv FILE]``."""
    if args.suite == "gpu":
        rows = run_gpu(args.csv, reduce=args.reduce)
        return 1 if any(str(r.get("note", "")).startswith("FAIL") for r in rows) else 0
    rows = run_suite(args.dir, only=args.only, csv_path=args.csv)
    return 1 if any(r.get("case") == "FAILED" for r in rows) else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``jaxmbl``, each subcommand's handler in ``func``."""
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
    p.set_defaults(func=cli_reproduce)

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

    p = sub.add_parser("bench", help="run benchmarks/ as one suite: ratios vs same-run baselines, peak memory, CSV")
    p.add_argument("--dir", default=None, help="benchmarks folder (default: the source checkout's benchmarks/)")
    p.add_argument("--only", default=None, help="comma-separated substrings of benchmark names")
    p.add_argument("--csv", default=None, help="CSV to append to (default: BENCH_DIR/results.csv)")
    p.add_argument(
        "--suite",
        default="scripts",
        choices=["scripts", "gpu"],
        help="scripts: benchmarks/*.py; gpu: the large-size device suite (N = 24-30; reduced sizes on CPU)",
    )
    p.add_argument(
        "--reduce", type=int, default=None, help="gpu suite: sites taken off every size (default 0; 10 on CPU)"
    )
    p.set_defaults(func=cli_bench)
    return parser


def main(argv=None) -> int:
    """Run ``jaxmbl`` with ``argv`` (default ``sys.argv[1:]``); return the exit status.

    Exit status: 0 success, 1 a claim failed or a sweep is incomplete, 2 a usage or input error
    (printed as one line).
    """
    args = build_parser().parse_args(argv)
    jax.config.update("jax_enable_x64", not args.float32)
    try:
        return args.func(args)
    except JaxmblError as err:
        print(f"jaxmbl {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
