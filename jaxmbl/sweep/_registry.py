"""Model families and observables for disorder-averaged sweeps, looked up by name.

A sweep (:func:`jaxmbl.run_sweep`) samples one realization of a model **family** from a key and
evaluates named **observables** on it, each a function of ``(model, **params)`` for ONE
realization that returns an array (or a dict of arrays) per realization; the engine vmaps it.

Families (parameters in the ``[model]`` and ``[grid]`` tables of a sweep config):

- ``"swingle"``: :func:`jaxmbl.sample_model` on a lattice (``L`` or ``shape``, ``pbc``) with
  ``xi, J0, unitary, strength, depth, max_order, cutoff, tol``. The realization is a
  :class:`jaxmbl.SwingleModel`.
- ``"heisenberg"``: the random-field Heisenberg chain ``random_field_heisenberg(key, lattice, W, J,
  Jz=Jz)`` (spins S = sigma/2, fields uniform in [-W, W]), diagonalized exactly in the total-S^z
  ``sector`` (default 0, or 1/2 for odd N). The realization is a :class:`HeisenbergRealization`.

Built-in observables (``r_tilde``, ``eigenstate_entropy``, ``quench_entropy``, ``imbalance``,
``lbit_profile``; their parameters are listed in :mod:`jaxmbl.sweep._observables`) register
themselves here when :mod:`jaxmbl.sweep._config` imports them. Register your own with
:func:`register_observable`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math

import jax.numpy as jnp
import jax.tree_util as jtu

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import Lattice
from jaxmbl._hamiltonians.models import random_field_heisenberg
from jaxmbl._swingle.model import sample_model


# ---------------------------------------------------------------------------- value checks
def _type_error(path, what, value):
    return JaxmblError(f"{path} must be {what}, got {value!r} ({type(value).__name__})")


def real(lo=None, *, strict=False):
    """Validator of a real number (``> lo`` if strict else ``>= lo``)."""

    def check(path, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _type_error(path, "a number", v)
        if not math.isfinite(v) or (lo is not None and (v <= lo if strict else v < lo)):
            raise JaxmblError(
                f"{path} must be finite{'' if lo is None else (' and > ' if strict else ' and >= ') + str(lo)}, got {v!r}"
            )
        return float(v)

    return check


def integer(lo):
    """Validator of an integer >= lo."""

    def check(path, v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _type_error(path, "an integer", v)
        if v < lo:
            raise JaxmblError(f"{path} must be >= {lo}, got {v!r}")
        return int(v)

    return check


def choice(*options):
    def check(path, v):
        if v not in options:
            raise JaxmblError(f"{path} must be one of {list(options)}, got {v!r}")
        return v

    return check


def _shape(path, v):
    if not isinstance(v, list) or not 1 <= len(v) <= 3:
        raise _type_error(path, "a list of 1 to 3 integers (the lattice shape)", v)
    return [integer(1)(f"{path}[{i}]", s) for i, s in enumerate(v)]


def _pbc(path, v):
    if isinstance(v, bool):
        return v
    if not isinstance(v, list) or not all(isinstance(b, bool) for b in v):
        raise _type_error(path, "true/false or a list of them (one per axis)", v)
    return list(v)


def _fraction(path, v):
    v = real(0, strict=True)(path, v)
    if v >= 1:
        raise JaxmblError(f"{path} must lie in (0, 1), got {v!r}")
    return v


def _sector(path, v):
    v = real()(path, v)
    if 2 * v != round(2 * v):
        raise JaxmblError(f"{path} must be a multiple of 1/2 (total S^z), got {v!r}")
    return v


_LATTICE_PARAMS = {"L": (integer(1), None), "shape": (_shape, None), "pbc": (_pbc, False)}


# ---------------------------------------------------------------------------- families
@functools.partial(jtu.register_dataclass, data_fields=["H"], meta_fields=["lattice", "sector"])
@dataclasses.dataclass(frozen=True)
class HeisenbergRealization:
    """One random-field Heisenberg realization: ``H`` (a PauliSum), its static ``lattice`` and ``sector``."""

    H: object
    lattice: Lattice
    sector: float

    @property
    def n_sites(self) -> int:
        return self.lattice.n_sites

    @property
    def dtype(self):
        return jnp.real(self.H.coef).dtype


@dataclasses.dataclass(frozen=True)
class Family:
    """A model family: validated parameters ``{name: (validator, default)}`` and a sampler.

    ``build(key, lattice, params, dtype)`` returns one realization (traced under jit/vmap);
    ``dim(lattice, params)`` is the Hilbert-space dimension a realization works in (for memory);
    ``required`` names the parameters without a default.
    """

    name: str
    params: dict
    build: object
    dim: object
    required: tuple = ()


def _build_swingle(key, lattice, p, dtype):
    kw = {k: p[k] for k in ("xi", "J0", "unitary", "strength", "depth", "max_order", "cutoff")}
    # The config key stays ``tol`` (a file format: renaming it would orphan existing run directories).
    return sample_model(key, lattice, dtype=dtype, series_tol=p["tol"], **kw)


def heisenberg_sector(lattice, p) -> float:
    return p["sector"] if p.get("sector") is not None else (lattice.n_sites % 2) / 2


def _build_heisenberg(key, lattice, p, dtype):
    H = random_field_heisenberg(key, lattice, p["W"], p["J"], Jz=p["Jz"], dtype=dtype)
    return HeisenbergRealization(H=H, lattice=lattice, sector=heisenberg_sector(lattice, p))


def _sector_dim(lattice, p):
    n, sector = lattice.n_sites, heisenberg_sector(lattice, p)
    n_down = n / 2 - sector
    if n_down != round(n_down) or not 0 <= n_down <= n:
        raise JaxmblError(f"model.sector = {sector} is impossible for N = {n} spins-1/2")
    return math.comb(n, int(round(n_down)))


FAMILIES = {
    "swingle": Family(
        "swingle",
        {
            **_LATTICE_PARAMS,
            "xi": (real(0, strict=True), 1.0),
            "J0": (real(0, strict=True), 1.0),
            "unitary": (choice("circuit", "generator"), "circuit"),
            "strength": (real(0), 0.5),
            "depth": (integer(1), None),
            "max_order": (integer(1), 3),
            "cutoff": (_fraction, 1e-12),
            "tol": (real(0, strict=True), 1e-12),
        },
        _build_swingle,
        lambda lattice, p: 2**lattice.n_sites,
    ),
    "heisenberg": Family(
        "heisenberg",
        {**_LATTICE_PARAMS, "W": (real(0), None), "J": (real(), 1.0), "Jz": (real(), None), "sector": (_sector, None)},
        _build_heisenberg,
        _sector_dim,
        required=("W",),
    ),
}


# ---------------------------------------------------------------------------- registry
@dataclasses.dataclass(frozen=True)
class Point:
    """The static context of one grid point, passed to an observable's ``prepare``/``coords``/``memory``."""

    index: int
    family: str
    params: dict  # every model parameter, swept or fixed
    lattice: Lattice
    dtype: object

    @property
    def dim(self) -> int:
        return FAMILIES[self.family].dim(self.lattice, self.params)


@dataclasses.dataclass(frozen=True)
class Observable:
    fn: object
    prepare: object = None
    coords: object = None
    memory: object = None

    def params_signature(self):
        """The signature the config's parameters must bind to (prepare's, else fn's minus the model)."""
        if self.prepare is not None:
            sig = inspect.signature(self.prepare)
        else:
            sig = inspect.signature(self.fn)
        return sig.replace(parameters=list(sig.parameters.values())[1:])


OBSERVABLES: dict = {}  # (name, family or "*") -> Observable


def register_observable(name: str, *, families=None, prepare=None, coords=None, memory=None, replace=False):
    """Decorator: make ``fn(model, **params)`` available to sweeps as ``observable = name``.

    ``fn`` is traced for ONE realization (a :class:`SwingleModel`, or a
    :class:`HeisenbergRealization` with ``.H``, ``.lattice``, ``.sector``) and returns a real array
    or a dict of real arrays (stored as ``LABEL.key``); the sweep vmaps and jits it. Its keyword
    parameters are the entries of the ``[observables.LABEL]`` table.

    Args:
        name: the registry name.
        families: the family names it supports (default: every family).
        prepare: optional ``prepare(point, **params) -> dict``, run eagerly for each grid point
            before any computation: validate the TOML values (raise ``ValueError``) and turn them into
            the keyword arguments of ``fn`` (e.g. a region spec into a tuple of sites).
        coords: optional ``coords(point, **kwargs) -> {name: 1D array}``, the axes of the output
            (e.g. ``{"t": times}``), stored in the manifest and used by the plot.
        memory: optional ``memory(point, **kwargs) -> bytes`` per realization (default: 8 state
            vectors of the point's Hilbert-space dimension).
        replace: allow replacing another function already registered under ``name``.

    Returns:
        The decorator; it registers ``fn`` and returns it unchanged.

    Raises:
        ValueError: for a name that is not an identifier, an unknown family, or (when the
            decorator is applied) a name already taken by another function without ``replace``.

    Example:
        >>> import jax.numpy as jnp
        >>> @register_observable("mean_energy", families=["swingle"])
        ... def mean_energy(model, shift=0.0):
        ...     return jnp.mean(energies(model)) + shift
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise JaxmblError(f"name must be an identifier-like string, got {name!r}")
    keys = [(name, f) for f in families] if families is not None else [(name, "*")]
    unknown = [f for f in (families or ()) if f not in FAMILIES]
    if unknown:
        raise JaxmblError(f"families: unknown family {unknown[0]!r}; known: {sorted(FAMILIES)}")

    def decorator(fn):
        for key in keys:
            old = OBSERVABLES.get(key)
            same = old is not None and (old.fn.__module__, old.fn.__qualname__) == (fn.__module__, fn.__qualname__)
            if old is not None and not (replace or same):
                raise JaxmblError(f"an observable {name!r} is already registered for {key[1]!r}; pass replace=True")
            OBSERVABLES[key] = Observable(fn, prepare, coords, memory)
        return fn

    return decorator


def lookup(name: str, family: str, path: str) -> Observable:
    """The observable ``name`` for ``family``, or a ValueError naming the config key ``path``."""
    obs = OBSERVABLES.get((name, family)) or OBSERVABLES.get((name, "*"))
    if obs is None:
        names = sorted({n for n, f in OBSERVABLES if f in (family, "*")})
        if any(n == name for n, _ in OBSERVABLES):
            raise JaxmblError(f"{path}: observable {name!r} is not defined for family {family!r} (available: {names})")
        raise JaxmblError(f"{path}: unknown observable {name!r} (available for {family!r}: {names})")
    return obs


def observable_names() -> list:
    """Sorted names of every registered observable."""
    return sorted({n for n, _ in OBSERVABLES})
