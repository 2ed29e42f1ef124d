"""Disorder-averaged sweeps: sharded over devices, resumable, reproducible to the bit.

A sweep is a TOML config (schema and validation: :mod:`jaxmbl.sweep._config`): a model family, a grid of
swept parameters, run settings, and named observables (:mod:`jaxmbl.sweep._registry`). This module
plans the grid points, guards memory, and evaluates and stores the realizations.

**Reproducibility.** Realization i of grid point p uses the key
``fold_in(fold_in(key(seed), p), i)``. Each device evaluates ``batch_size`` realizations at a
time with one compiled program per grid point (``vmap`` of the per-realization kernel inside
``shard_map`` over a 1D mesh of ``jax.devices()``; the last batch is padded and the padding
dropped). The per-realization values are therefore bitwise identical whatever the chunk size,
the number of devices, or interruptions; they may differ in the last bits for another
``batch_size`` (XLA may reorder reductions for other vector widths), so ``batch_size`` is fixed
in the manifest when the run starts.

**Storage** (``OUT/``): ``manifest.json`` (the normalized config and its SHA-256, versions,
devices, seed, layout, and per-chunk status with each file's SHA-256) and ``chunks/pPPPP-cCCCCC.npz``
(``index`` and per-realization ``values.NAME`` arrays), each written atomically (temporary file,
fsync, rename) before the manifest records it. A chunk counts only if the manifest says done
AND its checksum matches, so a run killed at any moment (even SIGKILL) loses at most the chunks
in flight; re-running the same command resumes. A different config into the same directory is
refused with the keys that differ.

**Several hosts** (SLURM etc.): start one process per host and call
``jax.distributed.initialize()`` first (``jaxmbl sweep --distributed`` does), e.g.
``srun -N4 --ntasks-per-node=1 jaxmbl sweep cfg.toml --out /shared/run --distributed``.
The mesh then spans every device of every host, each process feeds only its own devices, the
results are gathered to every process, and **only process 0 writes** (the run directory must
be on a shared file system for resuming from another process 0). Results are identical to a
single-host run with the same ``batch_size``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import hashlib
import io
import itertools
import json
import logging
import math
import warnings
from pathlib import Path

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from jaxmbl._core.environment import environment
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.io import atomic_write_bytes, atomic_write_json, check_out_dir
from jaxmbl._core.lattice import Lattice
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl.sweep._config import _config_diff, config_hash, load_config
from jaxmbl.sweep._registry import FAMILIES, Point, lookup
from jaxmbl.sweep._results import FORMAT, _chunk_ok, _read_manifest, load_run

try:
    from jax import shard_map as _shard_map

    # Realizations are independent (no collectives), so the replication check is not needed; it
    # rejects loops whose carry starts replicated and becomes per-device (interior_eigh's).
    _NO_CHECK = {"check_vma": False}
except ImportError:  # jax < 0.7
    from jax.experimental.shard_map import shard_map as _shard_map

    _NO_CHECK = {"check_rep": False}

log = logging.getLogger("jaxmbl.sweep")
_AUTO_BATCH = 16


# ============================================================================ plan
@dataclasses.dataclass(frozen=True)
class _PointPlan:
    point: Point
    swept: dict
    observables: tuple  # (label, Observable, kwargs)
    coords: dict
    memory: int


def _plan(config) -> list:
    """Every grid point with its lattice, validated observable arguments, coordinates and memory."""
    family = config["model"]["family"]
    fixed = {k: v for k, v in config["model"].items() if k != "family"}
    dtype = jnp.float64 if config["run"]["dtype"] == "float64" else jnp.float32
    keys = [k for k, _ in config["grid"]]
    plans = []
    for p, values in enumerate(itertools.product(*[v for _, v in config["grid"]])):
        swept = dict(zip(keys, values))
        params = {**fixed, **swept}
        shape = (params["L"],) if params.get("L") is not None else tuple(params["shape"])
        pbc = params["pbc"] if isinstance(params["pbc"], bool) else tuple(params["pbc"])
        try:
            lattice = Lattice(shape, pbc)
            point = Point(p, family, params, lattice, dtype)
            dim = point.dim
        except ValueError as err:
            raise JaxmblError(f"model (grid point {p}, {swept}): {err}") from None
        itemsize = np.dtype(jnp.complex128 if dtype == jnp.float64 else jnp.complex64).itemsize
        memory, coords, obs = 4 * dim * itemsize, {}, []
        for label, table in config["observables"].items():
            spec = {k: v for k, v in table.items() if k != "observable"}
            entry = lookup(table["observable"], family, f"observables.{label}")
            try:
                kwargs = entry.prepare(point, **spec) if entry.prepare else spec
            except ValueError as err:
                raise JaxmblError(f"observables.{label}: {err}") from None
            obs.append((label, entry, kwargs))
            if entry.coords:
                coords[label] = {k: np.asarray(v).tolist() for k, v in entry.coords(point, **kwargs).items()}
            memory += entry.memory(point, **kwargs) if entry.memory else 8 * dim * itemsize
        plans.append(_PointPlan(point, swept, tuple(obs), coords, int(memory)))
    return plans


def _device_memory(device) -> int:
    stats = device.memory_stats() if hasattr(device, "memory_stats") else None
    if stats and stats.get("bytes_limit"):
        return int(stats["bytes_limit"])
    # CPU devices (also forced host devices) share the host's memory.
    return available_memory_bytes() // max(1, len(jax.local_devices()))


def _layout(config, plans, n_devices: int) -> dict:
    """Resolve batch and chunk sizes; refuse up front a realization (or batch) that cannot fit."""
    run = config["run"]
    device = jax.local_devices()[0]
    have = _device_memory(device)
    budget = have // 2  # the rest is XLA's working space and the gathered outputs
    worst = max(plans, key=lambda pl: pl.memory)
    mib = 2**20
    where = f"grid point {worst.point.index} ({worst.swept or 'the only point'}, N = {worst.point.lattice.n_sites})"
    if worst.memory > budget:
        raise JaxmblError(
            f"model: one realization at {where} needs about {worst.memory / mib:.4g} MiB, more than the "
            f"{budget / mib:.4g} MiB budget per device (half of {have / mib:.4g} MiB on {device}); reduce the "
            "system size or set JAXMBL_MEMORY_LIMIT_GB"
        )
    batch = run["batch_size"]
    if batch == "auto":
        batch = min(
            _AUTO_BATCH, 1 << (run["realizations"] - 1).bit_length(), 1 << int(math.log2(budget // worst.memory))
        )
    elif batch * worst.memory > budget:
        raise JaxmblError(
            f"run.batch_size = {batch}: {batch} realizations at {where} need about {batch * worst.memory / mib:.4g} MiB, "
            f"more than the {budget / mib:.4g} MiB budget per device; at most {budget // worst.memory} fit"
        )
    chunk = run["chunk_size"]
    if chunk == "auto":
        unit = n_devices * batch
        chunk = min(run["realizations"], max(unit, min(4096, -(-math.ceil(run["realizations"] / 4) // unit) * unit)))
    return {"batch_size": int(batch), "chunk_size": int(chunk), "memory_per_realization": [pl.memory for pl in plans]}


def _chunks(n_points: int, n: int, size: int) -> dict:
    out = {}
    for p in range(n_points):
        for c, start in enumerate(range(0, n, size)):
            out[f"p{p:04d}-c{c:05d}"] = {"point": p, "start": start, "stop": min(n, start + size), "status": "pending"}
    return out


# ============================================================================ manifest
def _environment() -> dict:
    return {**environment(), "started": datetime.datetime.now(datetime.timezone.utc).isoformat()}


def _rng_settings() -> dict:
    # Either setting changes every random number, so a resume must match them.
    return {
        "prng_impl": str(jax.config.jax_default_prng_impl),
        "threefry_partitionable": bool(jax.config.jax_threefry_partitionable),
    }


def _open_run(out: Path, config: dict, plans, layout: dict, n_devices: int) -> dict:
    """Create the manifest, or check that the existing one matches ``config`` and verify its chunks."""
    chash = config_hash(config)
    if not (out / "manifest.json").exists():
        return {
            "format": FORMAT,
            "config": config,
            "config_hash": chash,
            "seed": config["run"]["seed"],
            "rng": _rng_settings(),
            "layout": layout,
            "labels": list(config["observables"]),  # the config's order (the JSON file sorts keys)
            "points": [{"index": pl.point.index, "params": pl.swept, "coords": pl.coords} for pl in plans],
            "sessions": [_environment()],
            "chunks": _chunks(len(plans), config["run"]["realizations"], layout["chunk_size"]),
        }
    manifest = _read_manifest(out, "out")
    if manifest["config_hash"] != chash:
        diff = _config_diff(manifest["config"], config)
        raise JaxmblError(
            f"out: {str(out)!r} holds a run of a different config; differing keys: {'; '.join(diff) or '(hash only)'}. "
            "Use another --out directory, or delete this one to start over"
        )
    if manifest["rng"] != _rng_settings():
        raise JaxmblError(
            f"out: the run used JAX random settings {manifest['rng']}, this process has {_rng_settings()}"
        )
    # The stored batch size must still fit on this machine's devices (raises with the numbers).
    _layout({**config, "run": {**config["run"], "batch_size": manifest["layout"]["batch_size"]}}, plans, n_devices)
    env, first = _environment(), manifest["sessions"][0]
    if (env["jax"], env["jaxmbl"]) != (first["jax"], first["jaxmbl"]):
        warnings.warn(
            f"resuming a run started with jax {first['jax']} / jaxmbl {first['jaxmbl']} under jax {env['jax']} / "
            f"jaxmbl {env['jaxmbl']}: new chunks may differ from finished ones in the last bits",
            stacklevel=3,
        )
    manifest["sessions"].append(env)
    for cid, entry in manifest["chunks"].items():
        if entry["status"] == "done" and _chunk_ok(out, entry) is None:
            warnings.warn(
                f"chunk {cid}: file missing or corrupt (checksum mismatch); it will be recomputed", stacklevel=3
            )
            manifest["chunks"][cid] = {k: entry[k] for k in ("point", "start", "stop")} | {"status": "pending"}
    return manifest


@contextlib.contextmanager
def _lock(out: Path):
    """An exclusive lock on the run directory (released by the kernel even on SIGKILL)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: no protection against two concurrent sweeps
        yield
        return
    with open(out / ".lock", "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise JaxmblError(f"out: another jaxmbl sweep is running in {str(out)!r}") from None
        yield


# ============================================================================ execution
def _kernel(plan: _PointPlan, seed: int):
    """The per-realization function ``i -> {name: value}`` of one grid point."""
    point = plan.point
    family = FAMILIES[point.family]

    def one(i):
        key = jr.fold_in(jr.fold_in(jr.key(seed), point.index), i)
        model = family.build(key, point.lattice, point.params, point.dtype)
        out = {}
        for label, entry, kwargs in plan.observables:
            value = entry.fn(model, **kwargs)
            items = value.items() if isinstance(value, dict) else [(None, value)]
            out.update({label if k is None else f"{label}.{k}": jnp.asarray(v) for k, v in items})
        return out

    return one


def _trace(plan, seed, mesh, unit):
    """Trace the sharded chunk program of one grid point; check the outputs are real."""
    fn = jax.jit(
        _shard_map(
            jax.vmap(_kernel(plan, seed)),
            mesh=mesh,
            in_specs=PartitionSpec("r"),
            out_specs=PartitionSpec("r"),
            **_NO_CHECK,
        )
    )
    spec = jax.ShapeDtypeStruct((unit,), jnp.uint32, sharding=NamedSharding(mesh, PartitionSpec("r")))
    traced = fn.trace(spec)
    for name, info in traced.out_info.items():
        if jnp.issubdtype(info.dtype, jnp.complexfloating):
            raise JaxmblError(
                f"observables.{name.split('.')[0]}: returns complex values ({name}); return real quantities"
            )
    return traced


_PROGRAMS: dict = {}  # compiled chunk programs of this process, so re-running a sweep does not recompile


def _program_key(config, plan, devices, unit) -> str:
    """What a compiled program depends on: the physics of the point, the registered functions, the layout."""
    functions = [f"{e.fn.__module__}.{e.fn.__qualname__}:{id(e.fn)}" for _, e, _ in plan.observables]
    physics = {k: config[k] for k in ("model", "observables")} | {
        "seed": config["run"]["seed"],
        "dtype": config["run"]["dtype"],
    }
    return json.dumps(
        [physics, plan.swept, plan.point.index, functions, [d.id for d in devices], unit, _rng_settings()],
        sort_keys=True,
    )


def _compile(traced, key):
    if key not in _PROGRAMS:
        if len(_PROGRAMS) >= 32:
            _PROGRAMS.pop(next(iter(_PROGRAMS)))
        _PROGRAMS[key] = traced.lower().compile()
    return _PROGRAMS[key]


def _fetch(tree) -> dict:
    if all(x.is_fully_addressable for x in tree.values()):
        return {k: np.asarray(v) for k, v in tree.items()}
    from jax.experimental import multihost_utils

    return {k: np.asarray(v) for k, v in multihost_utils.process_allgather(tree, tiled=True).items()}


def _encode_chunk(index, values) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, index=index, **{f"values.{k}": v for k, v in values.items()})
    return buf.getvalue()


def _point_label(plan, n_points) -> str:
    params = ", ".join(f"{k}={v}" for k, v in plan.swept.items())
    return f"point {plan.point.index + 1}/{n_points}" + (f" ({params})" if params else "")


def run_sweep(config, out, *, progress: bool = True):
    """Run (or resume) a disorder-averaged sweep and return its :class:`SweepResult`.

    Args:
        config: a TOML path or a dict (see the module docstring and :func:`load_config`).
        out: the run directory; created if needed. Re-running with the same config resumes; a
            different config is refused with the keys that differ.
        progress: show a progress bar (realizations/s, ETA, current grid point) on stderr.

    Returns:
        ``load_run(out)``.

    Raises:
        ValueError: a bad config (naming the key), an unwritable ``out`` (before any
            computation), a realization that cannot fit in device memory, or a changed config.

    Example:
        >>> import tempfile
        >>> config = {"model": {"L": 4}, "grid": {"xi": [0.5, 2.0]}, "run": {"realizations": 8},
        ...           "observables": {"r_tilde": {}}}
        >>> res = run_sweep(config, tempfile.mkdtemp(), progress=False)
        >>> res.complete, res.values["r_tilde"][1].shape, res.aggregates["r_tilde"][1]["n"].item()
        (True, (8,), 8)
    """
    config = load_config(config)
    if config["run"]["dtype"] == "float64" and not jax.config.jax_enable_x64:
        raise JaxmblError(
            "run.dtype = 'float64' needs JAX x64: call jax.config.update('jax_enable_x64', True), or set run.dtype = 'float32'"
        )
    plans = _plan(config)
    devices = jax.devices()
    layout = _layout(config, plans, len(devices))  # the memory guard, before touching the disk
    writer = jax.process_index() == 0
    out = check_out_dir(out) if writer else Path(out)
    mesh = Mesh(np.array(devices), ("r",))
    with _lock(out) if writer else contextlib.nullcontext():
        manifest = _open_run(out, config, plans, layout, len(devices))
        pending = np.array([e["status"] != "done" for e in manifest["chunks"].values()])
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            pending = np.asarray(multihost_utils.broadcast_one_to_all(pending))
        todo = [cid for cid, p in zip(manifest["chunks"], pending) if p]
        if writer:
            (out / "chunks").mkdir(exist_ok=True)
            for tmp in (out / "chunks").glob(".tmp-*"):
                tmp.unlink()  # left by a killed write; never referenced by the manifest
            atomic_write_json(out / "manifest.json", manifest)
        unit = len(devices) * manifest["layout"]["batch_size"]
        # Trace every point with work left before computing anything: bad observables fail early.
        traced, keys = {}, {}
        for cid in todo:
            p = manifest["chunks"][cid]["point"]
            if p not in traced:
                keys[p] = _program_key(config, plans[p], devices, unit)
                traced[p] = None if keys[p] in _PROGRAMS else _trace(plans[p], config["run"]["seed"], mesh, unit)
        total = sum(manifest["chunks"][c]["stop"] - manifest["chunks"][c]["start"] for c in todo)
        log.info(
            "sweep %s: %d of %d chunks to compute (%d realizations)", out, len(todo), len(manifest["chunks"]), total
        )
        from tqdm.auto import tqdm

        with tqdm(total=total, unit="real", desc="sweep", disable=not progress or not total, dynamic_ncols=True) as bar:
            for p, tr in traced.items():
                chunks = [c for c in todo if manifest["chunks"][c]["point"] == p]
                bar.set_postfix_str("compiling " + _point_label(plans[p], len(plans)))
                compiled = _compile(tr, keys[p])
                bar.unpause()  # the rate and ETA count computation, not compilation
                bar.set_postfix_str(_point_label(plans[p], len(plans)))
                _run_point(compiled, mesh, unit, chunks, manifest, out, writer, bar)
        if jax.process_count() > 1:
            from jax.experimental import multihost_utils

            multihost_utils.sync_global_devices("jaxmbl sweep finished")
    return load_run(out)


def _run_point(compiled, mesh, unit, chunks, manifest, out, writer, bar):
    """Evaluate the pending ``chunks`` of one point in batches of ``unit``; write each chunk when complete."""
    entries = [manifest["chunks"][c] for c in chunks]
    index = np.concatenate([np.arange(e["start"], e["stop"], dtype=np.uint32) for e in entries])
    sharding = NamedSharding(mesh, PartitionSpec("r"))
    rows, filled, inflight = {}, 0, []

    def consume():
        nonlocal filled
        count, result = inflight.pop(0)
        for k, v in _fetch(result).items():
            rows.setdefault(k, []).append(v[:count])
        filled += count
        while entries and filled >= entries[0]["stop"] - entries[0]["start"]:
            e, cid = entries.pop(0), chunks.pop(0)
            n = e["stop"] - e["start"]
            merged = {k: np.concatenate(v) for k, v in rows.items()}
            values, rest = {k: v[:n] for k, v in merged.items()}, {k: [v[n:]] for k, v in merged.items()}
            rows.clear()
            rows.update(rest)
            filled -= n
            if writer:
                data = _encode_chunk(np.arange(e["start"], e["stop"], dtype=np.int64), values)
                # The file first, then the manifest: a kill in between leaves an unlisted file, never a listed bad one.
                atomic_write_bytes(out / "chunks" / f"{cid}.npz", data)
                e.update(status="done", file=f"chunks/{cid}.npz", sha256=hashlib.sha256(data).hexdigest())
                e["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
                atomic_write_json(out / "manifest.json", manifest)
            bar.update(n)

    for s in range(0, len(index), unit):
        sel = index[s : s + unit]
        host = np.full(unit, sel[-1], dtype=np.uint32)  # padding repeats the last realization, then is dropped
        host[: len(sel)] = sel
        batch = jax.make_array_from_callback((unit,), sharding, lambda i, host=host: host[i])
        inflight.append((len(sel), compiled(batch)))  # dispatch the next batch before waiting for this one
        if len(inflight) > 1:
            consume()
    while inflight:
        consume()
