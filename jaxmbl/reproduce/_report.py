"""``jaxmbl reproduce``: run every claim, write report.md + claims.json + figures, resumably."""

from __future__ import annotations

import datetime
import json
import os
import sys
import time
import warnings
from pathlib import Path

from jaxmbl._core.environment import environment
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.io import atomic_write_json, atomic_write_text, check_out_dir
from jaxmbl.reproduce._base import ClaimContext, ClaimResult
from jaxmbl.reproduce._claims import all_claims

SIZES = ("small", "medium", "large")
"""The sizes :func:`reproduce` accepts: ``small`` (2 CPU cores, minutes), ``medium``, ``large`` (one GPU)."""


class _Progress:
    """A progress bar over the claims' total weight, with ETA (tqdm if present, else plain lines)."""

    def __init__(self, total: float, enabled: bool):
        self.total, self.done, self.enabled = total, 0.0, enabled
        self.bar = None
        if enabled:
            try:
                from tqdm.auto import tqdm

                self.bar = tqdm(
                    total=round(total * 100), unit="%w", bar_format="{l_bar}{bar}| {elapsed}<{remaining} {postfix}"
                )
            except ImportError:
                self.bar = None
        self.t0 = time.time()

    def update(self, base: float, weight: float, fraction: float, message: str):
        new = base + weight * min(max(fraction, 0.0), 1.0)
        if self.bar is not None:
            self.bar.update(round(new * 100) - self.bar.n)
            self.bar.set_postfix_str(message[:60])
        elif self.enabled:
            elapsed = time.time() - self.t0
            eta = elapsed * (self.total - new) / new if new > 0 else float("nan")
            print(
                f"[{100 * new / self.total:5.1f}%] {message} (elapsed {elapsed:.0f}s, ETA {eta:.0f}s)", file=sys.stderr
            )
        self.done = new

    def close(self):
        if self.bar is not None:
            self.bar.close()


def reproduce(
    out_dir="jaxmbl-report",
    *,
    size: str = "small",
    seed: int = 0,
    only=None,
    progress: bool = True,
    resume: bool = True,
):
    """Run the claims, write ``report.md``, ``claims.json`` and figures into ``out_dir``.

    Finished claims are stored in ``out_dir/results/<id>.json`` (atomically) and skipped on a
    re-run with the same size, seed and jaxmbl version, so an interrupted run resumes. This is
    ``jaxmbl reproduce`` on the command line.

    Args:
        out_dir: the report folder (created if needed).
        size: one of :data:`SIZES`.
        seed: root seed (non-negative int); claim keys are ``fold_in(key(seed), tag)``.
        only: claim ids to run, a list or a comma-separated string (``"C1,C3"``); default all.
        progress: show a progress bar with ETA.
        resume: reuse finished claims cached in ``out_dir/results``.

    Returns:
        The list of :class:`ClaimResult` dicts (as written to claims.json).

    Raises:
        ValueError: for an unknown size or claim id, a negative seed, or an unwritable ``out_dir``.

    Example:
        Running a claim takes a minute or more of CPU, so this example is not run by the tests:

        >>> results = reproduce("jaxmbl-report", only="C1")    # doctest: +SKIP
        >>> results[0]["pass"]                                 # doctest: +SKIP
        True
    """
    if size not in SIZES:
        raise JaxmblError(f"size must be one of {SIZES}, got {size!r}")
    if int(seed) != seed or seed < 0:
        raise JaxmblError(f"seed must be a non-negative integer, got {seed!r}")
    claims = all_claims()
    known = [c.id for c in claims]
    if only:
        wanted = [w.strip().upper() for w in (only.split(",") if isinstance(only, str) else only) if w.strip()]
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise JaxmblError(f"only: unknown claim ids {unknown}; known: {known}")
        claims = [c for c in claims if c.id in wanted]
    out = check_out_dir(out_dir)
    (out / "results").mkdir(exist_ok=True)
    if figure_class() is _Unplotted:
        warnings.warn(
            "matplotlib is not installed: the claims run and report, but no figures are drawn "
            "(pip install 'jaxmbl[plots]' adds them)",
            stacklevel=2,
        )
    env = environment()
    stamp = {"size": size, "seed": int(seed), "jaxmbl": env["jaxmbl"]}

    bar = _Progress(sum(c.weight for c in claims), progress)
    results = []
    base = 0.0
    try:
        for claim in claims:
            cached = out / "results" / f"{claim.id}.json"
            record = None
            if resume and cached.exists():
                try:
                    record = json.loads(cached.read_text())
                    if record.get("stamp") != stamp:
                        record = None
                except (OSError, ValueError):
                    record = None  # a damaged cache entry is recomputed, never trusted
            if record is None:
                ctx = ClaimContext(
                    size=size,
                    seed=int(seed),
                    out_dir=out,
                    progress=lambda f, msg, b=base, w=claim.weight, cid=claim.id: bar.update(b, w, f, f"{cid}: {msg}"),
                )
                t0 = time.time()
                res: ClaimResult = claim.run(ctx)
                res.seconds = time.time() - t0
                record = {"stamp": stamp, "result": res.as_dict()}
                atomic_write_json(cached, record)
            results.append(record["result"])
            base += claim.weight
            bar.update(base, 0.0, 0.0, f"{claim.id} done")
    finally:
        bar.close()

    meta = {"seed": int(seed), "size": size, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(), **env}
    atomic_write_json(out / "claims.json", {"meta": meta, "claims": results})
    atomic_write_text(out / "report.md", render_report(results, meta))
    return results


def render_report(results, meta) -> str:
    """The text of report.md: a summary table, then one section per claim with numbers, criterion and figures.

    Args:
        results: claim records as :meth:`ClaimResult.as_dict` makes them.
        meta: run information with the keys ``size``, ``seed``, ``date``, ``jaxmbl``, ``jax``,
            ``numpy``, ``python``, ``devices`` (list of str) and ``x64``.

    Returns:
        The markdown text.

    Example:
        >>> res = jm.reproduce.ClaimResult.from_checks("C0", "demo", "x > 0", {"x positive": True}, {})
        >>> meta = dict(size="small", seed=0, date="today", jaxmbl="0", jax="0", numpy="0", python="3",
        ...             devices=["cpu"], x64=True)
        >>> render_report([res.as_dict()], meta).splitlines()[11]
        '| C0: demo | PASS | 0.0 |'
    """
    lines = [
        "# jaxmbl reproduction report",
        "",
        "Swingle, *A simple model of many-body localization* (arXiv:1307.0507): each claim of the paper",
        "as a measured quantity with a pass criterion that a wrong model would fail.",
        "",
        f"- size: `{meta['size']}`, seed: `{meta['seed']}`, date: {meta['date']}",
        f"- jaxmbl {meta['jaxmbl']}, jax {meta['jax']}, numpy {meta['numpy']}, python {meta['python']}",
        f"- devices: {', '.join(meta['devices'])}; float64: {meta['x64']}",
        "",
        "| claim | result | time (s) |",
        "|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {_cell(r['id'] + ': ' + r['name'])} | {'PASS' if r['pass'] else '**FAIL**'} | {r['seconds']:.1f} |"
        )
    for r in results:
        lines += [
            "",
            f"## {r['id']}: {r['name']} — {'PASS' if r['pass'] else 'FAIL'}",
            "",
            f"**Criterion.** {r['criterion']}",
            "",
        ]
        if r["details"]:
            lines += [r["details"], ""]
        lines += ["| quantity | value | error | note |", "|---|---|---|---|"]
        for name, m in r["measured"].items():
            if isinstance(m, dict) and "value" in m:
                cells = (name, _fmt(m["value"]), _fmt(m.get("error", "")), m.get("note", ""))
            else:
                cells = (name, m, "", "")
            lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
        if r["parameters"]:
            lines += ["", "Parameters: " + ", ".join(f"`{k}={v}`" for k, v in r["parameters"].items())]
        for fig in (f for f in r["figures"] if f):
            lines += ["", f"![{r['id']}]({fig})"]
    return "\n".join(lines) + "\n"


def _fmt(x) -> str:
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def _cell(x) -> str:
    """A markdown table cell: a literal ``|`` (as in |∂A|) would otherwise split the cell."""
    return str(x).replace("|", "\\|").replace("\n", " ")


class _Unplotted:
    """Stands in for a matplotlib ``Figure`` (and all it returns) when matplotlib is not installed.

    Every attribute, call and index returns the same object, so a claim's plotting code runs
    unchanged and draws nothing; :func:`save_figure` then writes no file. The numbers, criteria
    and report do not depend on it.
    """

    def __init__(self, *args, **kwargs):
        pass

    def __getattr__(self, name):
        return self

    def __call__(self, *args, **kwargs):
        return self

    def __getitem__(self, key):
        return self


def figure_class():
    """The figure class a claim draws with: matplotlib's ``Figure``, or a stand-in without matplotlib.

    matplotlib's ``Figure`` renders with Agg without pyplot, so the caller's backend (a notebook's)
    is left alone. Without matplotlib (``pip install 'jaxmbl[plots]'`` adds it) the stand-in
    accepts every plotting call and draws nothing, so the claims still run and report, and
    :func:`save_figure` writes no file.

    Returns:
        type: a class whose instances are figures; ``save_figure`` returns ``None`` for the stand-in.

    Example:
        >>> figure_class().__name__
        'Figure'
    """
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return _Unplotted
    return Figure


def save_figure(ctx, fig, name: str, *, dpi: int = 110) -> str | None:
    """Lay out and write a claim's figure into ``ctx.out_dir/figures``.

    Args:
        ctx: the claim's :class:`ClaimContext`.
        fig: a matplotlib figure.
        name: file name, e.g. ``"c1_dos.png"``.
        dpi: resolution.

    Returns:
        The path relative to the report (``figures/<name>``), for :attr:`ClaimResult.figures`;
        None (nothing written) for the stand-in of :func:`figure_class` without matplotlib.

    Example:
        >>> import tempfile, matplotlib
        >>> matplotlib.use("Agg")
        >>> import matplotlib.pyplot as plt
        >>> ctx = jm.reproduce.ClaimContext("small", 0, tempfile.mkdtemp(), lambda f, m: None)
        >>> save_figure(ctx, plt.figure(), "demo.png")
        'figures/demo.png'
    """
    if isinstance(fig, _Unplotted):
        return None
    rel = os.path.join("figures", name)
    path = Path(ctx.out_dir) / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    return rel
