"""Reading sweep runs back: verified chunks, per-realization arrays, aggregates, quick-look plot.

Only chunks that the manifest marks done and whose SHA-256 matches are ever loaded.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import warnings
from pathlib import Path

import numpy as np

from jaxmbl._core.errors import JaxmblError

#: Format tag of manifest.json.
FORMAT = "jaxmbl-sweep/1"


def _read_manifest(run_dir: Path, key: str = "run_dir") -> dict:
    path = run_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise JaxmblError(f"{key}: no manifest.json in {str(run_dir)!r} (not a sweep run directory)") from None
    except (OSError, ValueError) as err:
        raise JaxmblError(f"{key}: unreadable {str(path)!r} ({err})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise JaxmblError(f"{key}: {str(path)!r} is not a jaxmbl sweep manifest (format {FORMAT!r})")
    missing = [
        k
        for k in ("config", "config_hash", "rng", "layout", "labels", "points", "sessions", "chunks")
        if k not in manifest
    ]
    if missing:
        raise JaxmblError(f"{key}: {str(path)!r} is an incomplete sweep manifest (missing {missing})")
    return manifest


def _chunk_ok(run_dir: Path, entry: dict) -> bytes | None:
    """The chunk file's bytes if the manifest says done and the checksum matches, else None."""
    if entry.get("status") != "done":
        return None
    try:
        data = (run_dir / entry["file"]).read_bytes()
    except OSError:
        return None
    return data if hashlib.sha256(data).hexdigest() == entry.get("sha256") else None


# ============================================================================ results
@dataclasses.dataclass(frozen=True)
class SweepResult:
    """A loaded sweep: per-realization values and aggregates, grid point by grid point.

    Attributes:
        path: the run directory.
        config: the normalized config; ``manifest``: the whole manifest.
        points: the swept parameters of each grid point (dicts, in grid order).
        coords: per point, ``{label: {axis: array}}`` (e.g. the times of ``quench_entropy``).
        index: per point, the sorted realization indices loaded (int arrays).
        values: ``{name: [array (n_loaded, ...) per point]}``, ``name`` = label or ``label.key``.
        aggregates: ``{name: [dict per point]}`` with ``mean``, ``sem`` (standard error),
            ``median``, ``typical`` (``exp(mean(log x))`` where every value is > 0, else NaN) and
            ``n`` (finite values used), elementwise over the value's shape.
        nonfinite: ``{name: [list of realization indices per point]}`` whose values are NaN or
            inf; they are excluded from the aggregates (and warned about), never averaged in.
        missing: per point, the number of realizations not (validly) stored yet.

    Made by :func:`load_run` (and returned by :func:`run_sweep`); never built by hand.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp()
        >>> cfg = {"model": {"L": 4}, "run": {"realizations": 8}, "observables": {"r_tilde": {}}}
        >>> res = run_sweep(cfg, out, progress=False)
        >>> res.complete, res.values["r_tilde"][0].shape, sorted(res.aggregates["r_tilde"][0])
        (True, (8,), ['mean', 'median', 'n', 'sem', 'typical'])
    """

    path: str
    config: dict
    manifest: dict
    points: list
    coords: list
    index: list
    values: dict
    aggregates: dict
    nonfinite: dict
    missing: list

    @property
    def complete(self) -> bool:
        """Whether every realization of every grid point is stored and verified."""
        return not any(self.missing)

    def summary(self) -> str:
        """A text table: each point's parameters, then mean +- sem of every scalar output.

        Returns:
            The table as one string (lines separated by newlines), as printed by ``jaxmbl sweep``.
        """
        names = [k for k, v in self.values.items() if v and v[0].ndim == 1]
        lines = [
            f"{self.path}: {len(self.points)} grid points x {self.config['run']['realizations']} realizations"
            + ("" if self.complete else f" ({sum(self.missing)} missing)")
        ]
        for p, params in enumerate(self.points):
            cells = [
                f"{n} = {float(self.aggregates[n][p]['mean']):.6g} +- {float(self.aggregates[n][p]['sem']):.2g}"
                for n in names
            ]
            lines.append(f"  {params or '(single point)'}: " + ", ".join(cells))
        return "\n".join(lines)


def aggregate(x) -> dict:
    """mean, sem, median, typical and n over axis 0, ignoring non-finite entries elementwise."""
    x = np.asarray(x, dtype=np.float64)
    ok = np.isfinite(x)
    n = ok.sum(axis=0)
    xs = np.where(ok, x, np.nan)
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # empty slices give NaN, as intended
        mean = np.nanmean(xs, axis=0)
        sem = np.where(n > 1, np.nanstd(xs, axis=0, ddof=1) / np.sqrt(np.maximum(n, 1)), np.nan)
        positive = (n > 0) & np.all(~ok | (x > 0), axis=0)
        typical = np.where(positive, np.exp(np.nanmean(np.log(np.where(ok & (x > 0), x, np.nan)), axis=0)), np.nan)
        median = np.nanmedian(xs, axis=0)
    return {"mean": mean, "sem": sem, "median": median, "typical": typical, "n": n}


def load_run(run_dir) -> SweepResult:
    """Load a sweep directory: per-realization arrays and their aggregates.

    Only chunks that the manifest marks done AND whose SHA-256 matches are read; anything else
    (a truncated or foreign file) counts as missing, with a warning. Non-finite per-realization
    values are reported in ``nonfinite`` by realization index and left out of the aggregates.

    Args:
        run_dir: the run directory written by :func:`run_sweep` (or ``jaxmbl sweep``).

    Returns:
        A :class:`SweepResult`; a partial run loads too (see ``missing``).

    Raises:
        ValueError: if ``run_dir`` holds no readable manifest.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp()
        >>> _ = run_sweep({"model": {"L": 4}, "run": {"realizations": 8}, "observables": {"r_tilde": {}}}, out, progress=False)
        >>> res = load_run(out)
        >>> res.index[0].tolist(), res.nonfinite["r_tilde"], res.missing
        ([0, 1, 2, 3, 4, 5, 6, 7], [[]], [0])
    """
    run_dir = Path(run_dir)
    manifest = _read_manifest(run_dir)
    n_points, n = len(manifest["points"]), manifest["config"]["run"]["realizations"]
    parts = [[] for _ in range(n_points)]
    for cid, entry in manifest["chunks"].items():
        data = _chunk_ok(run_dir, entry)
        if data is None:
            if entry["status"] == "done":
                warnings.warn(
                    f"{run_dir}: chunk {cid} is missing or corrupt (checksum mismatch); not loaded", stacklevel=2
                )
            continue
        with np.load(io.BytesIO(data), allow_pickle=False) as f:
            values = {k[len("values.") :]: f[k] for k in f.files if k.startswith("values.")}
            parts[entry["point"]].append((f["index"], values))
    index, values, aggregates, nonfinite = [], {}, {}, {}
    for p, chunks in enumerate(parts):
        chunks.sort(key=lambda c: int(c[0][0]))
        idx = np.concatenate([c[0] for c in chunks]) if chunks else np.zeros(0, np.int64)
        index.append(idx)
        labels = manifest["labels"]
        for name in sorted({k for _, v in chunks for k in v}, key=lambda k: (labels.index(k.split(".")[0]), k)):
            arr = np.concatenate([v[name] for _, v in chunks])
            values.setdefault(name, [None] * n_points)[p] = arr
    for name, per_point in values.items():
        for p, arr in enumerate(per_point):
            arr = np.zeros((0,)) if arr is None else arr
            per_point[p] = arr
            bad = index[p][~np.isfinite(arr.reshape(len(arr), -1)).all(axis=1)] if arr.size else np.zeros(0, np.int64)
            nonfinite.setdefault(name, []).append(bad.tolist())
            aggregates.setdefault(name, []).append(aggregate(arr))
            if len(bad):
                warnings.warn(
                    f"{run_dir}: {name} is non-finite at grid point {p} {manifest['points'][p]['params']} for realizations "
                    f"{bad.tolist()[:20]}{' ...' if len(bad) > 20 else ''}; excluded from the aggregates",
                    stacklevel=2,
                )
    return SweepResult(
        path=str(run_dir),
        config=manifest["config"],
        manifest=manifest,
        points=[pt["params"] for pt in manifest["points"]],
        coords=[
            {k: {a: np.asarray(v) for a, v in c.items()} for k, c in pt["coords"].items()} for pt in manifest["points"]
        ],
        index=index,
        values=values,
        aggregates=aggregates,
        nonfinite=nonfinite,
        missing=[n - len(i) for i in index],
    )


# ============================================================================ quick look
def plot_run(run_dir, out=None) -> str:
    """Quick-look figure of a sweep (matplotlib, Agg): one panel per output, mean +- sem.

    Scalars are drawn against the first swept parameter (one line per value of the others),
    arrays with coordinates (times, distances) as one curve per grid point. Written to
    ``out`` (default ``RUN_DIR/sweep.png``).

    Args:
        run_dir: the run directory.
        out: the image file to write (any format matplotlib infers from the suffix); default
            ``RUN_DIR/sweep.png``.

    Returns:
        The path of the written image, as a string.

    Raises:
        ValueError: if matplotlib is missing or ``run_dir`` holds no readable manifest.

    Example:
        >>> import tempfile
        >>> out = tempfile.mkdtemp()
        >>> cfg = {"model": {"L": 4}, "run": {"realizations": 8}, "observables": {"r_tilde": {}}}
        >>> _ = run_sweep(cfg, out, progress=False)
        >>> plot_run(out).endswith("sweep.png")
        True
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise JaxmblError("plot needs matplotlib: pip install 'jaxmbl[plots]'") from None
    res = load_run(run_dir)
    keys = [k for k, _ in res.config["grid"]]
    names = list(res.values)
    fig, axes = plt.subplots(len(names), 1, figsize=(6.4, 3.2 * len(names) + 0.6), squeeze=False, layout="constrained")
    for ax, name in zip(axes[:, 0], names):
        aggs = res.aggregates[name]
        ndim = aggs[0]["mean"].ndim
        if ndim == 0:
            xkey = keys[0] if keys else None
            groups = {}
            for p, params in enumerate(res.points):
                rest = tuple((k, v) for k, v in params.items() if k != xkey)
                groups.setdefault(rest, []).append((params.get(xkey, 0), aggs[p]))
            for rest, pts in groups.items():
                x = [str(v) if isinstance(v, (list, str)) else v for v, _ in pts]
                ax.errorbar(
                    x,
                    [a["mean"] for _, a in pts],
                    [a["sem"] for _, a in pts],
                    marker="o",
                    capsize=3,
                    label=", ".join(f"{k}={v}" for k, v in rest) or None,
                )
            ax.set_xlabel(xkey or "")
        elif ndim == 1:
            for p, params in enumerate(res.points):
                axis = next(
                    iter(res.coords[p].get(name.split(".")[0], {}).items()), ("index", np.arange(len(aggs[p]["mean"])))
                )
                ax.errorbar(
                    axis[1],
                    aggs[p]["mean"],
                    aggs[p]["sem"],
                    marker=".",
                    capsize=2,
                    label=", ".join(f"{k}={v}" for k, v in params.items()) or None,
                )
                ax.set_xlabel(axis[0])
                if axis[0] == "t" and np.min(axis[1]) > 0 and np.max(axis[1]) > 100 * np.min(axis[1]):
                    ax.set_xscale("log")
            means = np.concatenate([a["mean"].ravel() for a in aggs])
            positive = means[means > 0]
            if axis[0] == "distance" and positive.size and positive.max() > 1e3 * positive.min():
                ax.set_yscale("log")  # l-bit weights decay exponentially (exact zeros are not drawn)
                ax.set_ylim(bottom=max(positive.min(), 1e-16 * positive.max()) / 3)  # below: rounding
        else:
            ax.text(
                0.5,
                0.5,
                f"{name}: {ndim}-dimensional per realization, not plotted",
                ha="center",
                transform=ax.transAxes,
            )
        ax.set_ylabel(name)
        if ax.get_legend_handles_labels()[1]:
            ax.legend(fontsize="small")
    fig.suptitle(
        f"{Path(res.path).name}: {res.config['model']['family']}, {res.config['run']['realizations']} realizations/point"
    )
    path = Path(out) if out else Path(run_dir) / "sweep.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)
