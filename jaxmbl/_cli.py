"""The ``jaxmbl`` command line: ``reproduce``, ``sweep``, ``bench``.

The CLI is an entry point, so it (and only it) turns on float64 in JAX, as documented in the README.
"""

from __future__ import annotations

import argparse
import sys


def _reproduce(args) -> int:
    from ._reproduce import reproduce

    results = reproduce(args.out, size=args.size, seed=args.seed, only=args.only, progress=not args.quiet, resume=not args.fresh)
    failed = [r["id"] for r in results if not r["pass"]]
    print(f"{len(results) - len(failed)}/{len(results)} claims pass; report: {args.out}/report.md")
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="jaxmbl", description="Swingle's simple model of many-body localization, in JAX.")
    parser.add_argument("--float32", action="store_true", help="fast mode: keep JAX in float32 (default is float64)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("reproduce", help="check every claim of the paper; write report.md and claims.json")
    p.add_argument("--size", default="small", choices=["small", "medium", "large"], help="small: 2 CPU cores in minutes; large: one GPU")
    p.add_argument("--out", default="jaxmbl-report", help="output folder (default: jaxmbl-report)")
    p.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    p.add_argument("--only", default=None, help="comma-separated claim ids, e.g. C3,C5")
    p.add_argument("--fresh", action="store_true", help="ignore finished claims stored in OUT/results")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_reproduce)

    # -- sweep subcommand --
    # -- bench subcommand --

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
