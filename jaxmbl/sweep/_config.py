"""The sweep config: its TOML schema, validation into a normalized dict, and its hash and diff.

A sweep is a TOML config (or the same as a dict)::

    [model]                     # a family (see jaxmbl.sweep._registry) and its fixed parameters
    family = "swingle"
    L = 8                       # or shape = [4, 2]; pbc = false
    unitary = "circuit"

    [grid]                      # swept parameters: the Cartesian product, in this key order
    xi = [0.5, 1.0, 2.0]

    [run]
    realizations = 256          # per grid point
    seed = 0                    # root seed, 0 <= seed < 2**31
    chunk_size = 64             # realizations per result file ("auto" by default)
    batch_size = 16             # realizations vmapped together per device ("auto": from memory)
    dtype = "float64"           # or "float32" (fast mode)
    imports = []                # modules or .py files that register observables

    [observables.r]             # LABEL; `observable` names the registry entry (default: LABEL)
    observable = "r_tilde"
    [observables.S_t]
    observable = "quench_entropy"
    times = { logspace = [-1, 3, 20] }

:func:`load_config` checks every key (the model family's parameters and the observables'
arguments against :mod:`jaxmbl.sweep._registry`) and fills in the defaults. The normalized config is
what a run's manifest stores and hashes (:func:`config_hash`), so a resumed run can name the
keys that changed. Kept apart from the runner (:mod:`jaxmbl.sweep._runner`) because the schema is a
user-facing contract of its own, validated eagerly before any device work.

Example:
    >>> cfg = load_config({"model": {"L": 4}, "grid": {"xi": [0.5, 2.0]}, "run": {"realizations": 8},
    ...                    "observables": {"r_tilde": {}}})
    >>> cfg["grid"], cfg["run"]["seed"], cfg["observables"]
    ([['xi', [0.5, 2.0]]], 0, {'r_tilde': {'observable': 'r_tilde'}})
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import sys
from pathlib import Path

import jaxmbl.sweep._observables  # noqa: F401  (registers the built-in observables a config may name)
from jaxmbl._core.errors import JaxmblError
from jaxmbl.sweep._registry import FAMILIES, choice, integer, lookup

_MAX_SEED = 2**31


def _auto_or_int(path, v):
    return v if v == "auto" else integer(1)(path, v)


def _imports(path, v):
    if not isinstance(v, list) or not all(isinstance(s, str) for s in v):
        raise JaxmblError(f"{path} must be a list of module names or .py paths, got {v!r}")
    return v


_RUN_KEYS = {
    "realizations": (integer(1), None),
    "seed": (integer(0), 0),
    "chunk_size": (_auto_or_int, "auto"),
    "batch_size": (_auto_or_int, "auto"),
    "dtype": (choice("float64", "float32"), "float64"),
    "imports": (_imports, []),
}


def _table(raw, key, required=True):
    value = raw.get(key, None if required else {})
    if value is None:
        raise JaxmblError(f"{key}: missing table [{key}]")
    if not isinstance(value, dict):
        raise JaxmblError(f"{key} must be a table ([{key}]), got {value!r}")
    return value


def _fill(table, spec, prefix, skip=()):
    """Validate ``table`` against ``spec = {key: (validator, default)}``; unknown keys are errors."""
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise JaxmblError(f"{prefix}.{unknown[0]}: unknown key (allowed: {sorted(spec)})")
    return {
        k: (check(f"{prefix}.{k}", table[k]) if k in table else default)
        for k, (check, default) in spec.items()
        if k not in skip
    }


def _run_imports(modules, base: Path):
    """Import the modules (or .py files, relative to the config) that register user observables."""
    for name in modules:
        try:
            if name.endswith(".py"):
                path = (base / name).resolve()
                stamp = (str(path), path.stat().st_mtime_ns)
                module_name = f"jaxmbl_user_{hashlib.sha256(str(path).encode()).hexdigest()[:12]}"
                if getattr(sys.modules.get(module_name), "__jaxmbl_stamp__", None) == stamp:
                    continue  # unchanged since it was run: keep its functions (and their compiled programs)
                spec = importlib.util.spec_from_file_location(module_name, path)
                module = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(module)
                module.__jaxmbl_stamp__ = stamp
                sys.modules[module_name] = module
            else:
                importlib.import_module(name)
        except (ImportError, OSError) as err:
            raise JaxmblError(f"run.imports: cannot import {name!r} ({err})") from None


def load_config(source) -> dict:
    """Parse and validate a sweep config: a TOML path, or a dict with the same tables.

    The tables are ``[model]`` (the family and its parameters), ``[grid]`` (swept parameters, as
    lists; the grid is their Cartesian product in key order), ``[run]`` (realizations, seed,
    chunking, dtype, imports) and ``[observables.LABEL]``; the README's config reference lists
    every key. Files named in ``run.imports`` are imported here, so their observables register.

    Args:
        source: a path to a TOML file, or a dict with the same tables.

    Returns:
        The normalized config (defaults filled in, the grid as ``[[key, values], ...]``), which is
        what the manifest stores and hashes.

    Raises:
        ValueError: one error naming the bad key (e.g. ``grid.xi[1] must be finite and > 0``), for
            an unreadable or malformed file, or a failed import.

    Example:
        >>> cfg = load_config({"model": {"L": 6}, "grid": {"xi": [0.5, 1.0]}, "run": {"realizations": 4},
        ...                    "observables": {"r_tilde": {}}})
        >>> cfg["grid"], cfg["model"]["family"], cfg["run"]["seed"]
        ([['xi', [0.5, 1.0]]], 'swingle', 0)
    """
    if isinstance(source, dict):
        raw, base = source, Path.cwd()
    else:
        path = Path(source)
        try:
            text = path.read_bytes().decode("utf-8")
        except OSError as err:
            raise JaxmblError(f"config: cannot read {str(path)!r} ({err.strerror or err})") from None
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            raw = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise JaxmblError(f"config: malformed TOML in {str(path)!r}: {err}") from None
        base = path.parent
    unknown = sorted(set(raw) - {"model", "grid", "run", "observables"})
    if unknown:
        raise JaxmblError(f"{unknown[0]}: unknown key (allowed: model, grid, run, observables)")
    run = _fill(_table(raw, "run"), _RUN_KEYS, "run")
    if run["realizations"] is None:
        raise JaxmblError("run.realizations: missing (the number of realizations per grid point)")
    if run["seed"] >= _MAX_SEED:
        raise JaxmblError(f"run.seed must be < 2**31, got {run['seed']}")
    _run_imports(run["imports"], base)

    model = dict(_table(raw, "model"))
    family_name = model.pop("family", "swingle")
    if family_name not in FAMILIES:
        raise JaxmblError(f"model.family must be one of {sorted(FAMILIES)}, got {family_name!r}")
    family = FAMILIES[family_name]
    grid = []
    for key, values in _table(raw, "grid", required=False).items():
        if key not in family.params:
            raise JaxmblError(f"grid.{key}: unknown key (parameters of {family_name!r}: {sorted(family.params)})")
        if key in model:
            raise JaxmblError(f"grid.{key}: also set in [model]; give it in one place")
        if not isinstance(values, list):
            raise JaxmblError(f"grid.{key} must be a list of values, got {values!r}")
        if not values:
            raise JaxmblError(f"grid.{key} is empty: give at least one value")
        check = family.params[key][0]
        grid.append([key, [check(f"grid.{key}[{i}]", v) for i, v in enumerate(values)]])
    swept = [k for k, _ in grid]
    fixed = _fill(model, family.params, "model", skip=swept)
    given = {k for k in ("L", "shape") if fixed.get(k) is not None or k in swept}
    if len(given) != 1:
        raise JaxmblError("model.L: give exactly one of L (a chain) or shape (a lattice), in [model] or [grid]")
    for key in family.required:
        if fixed.get(key) is None and key not in swept:
            raise JaxmblError(f"model.{key}: missing (required by family {family_name!r}, in [model] or [grid])")

    observables = {}
    for label, table in _table(raw, "observables").items():
        path = f"observables.{label}"
        if not label.isidentifier():
            raise JaxmblError(f"{path}: labels must be identifiers (letters, digits, _)")
        if not isinstance(table, dict):
            raise JaxmblError(f"{path} must be a table ([{path}]), got {table!r}")
        table = dict(table)
        name = table.pop("observable", label)
        sig = lookup(name, family_name, path).params_signature()
        try:
            sig.bind(**table)
        except TypeError as err:
            raise JaxmblError(f"{path}: {err} (observable {name!r} takes: {list(sig.parameters)})") from None
        observables[label] = {"observable": name, **table}
    if not observables:
        raise JaxmblError("observables: give at least one [observables.LABEL] table")
    return {"model": {"family": family_name, **fixed}, "grid": grid, "run": run, "observables": observables}


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _flatten(config):
    out = {}
    for section, table in config.items():
        items = table if section == "grid" else table.items()
        for key, value in items:
            if section == "observables":
                out.update({f"observables.{key}.{k}": v for k, v in value.items()})
            else:
                out[f"{section}.{key}"] = value
    out["grid (key order)"] = [k for k, _ in config["grid"]]
    return out


def _config_diff(old, new) -> list:
    a, b = _flatten(old), _flatten(new)
    return [
        f"{k} (run: {a.get(k, '<unset>')!r}, config: {b.get(k, '<unset>')!r})"
        for k in sorted(set(a) | set(b))
        if a.get(k, "<unset>") != b.get(k, "<unset>")
    ]
