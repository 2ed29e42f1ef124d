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

Built-in observables (``[observables.LABEL]`` with ``observable = NAME`` and the parameters below):

==================  ==========================================================================
``r_tilde``         mean gap ratio <r~> = mean_n min(s_n, s_n+1)/max(s_n, s_n+1) of the sorted
                    spectrum (Poisson 2 ln 2 - 1 = 0.386, GOE 0.531); ``window`` keeps the central
                    fraction of levels. Swingle: from ``energies``; Heisenberg: ED in the sector.
``eigenstate_entropy``  ``{"mean", "max"}`` over eigenstates of S(A) (nats) for ``region``
                    (``"half"`` = sites 0..N/2-1, or a list of sites), ``alpha``; ``states`` =
                    ``"all"`` or a count (Swingle: a fixed random sample of U|n>, the same for every
                    realization, drawn with ``seed``; Heisenberg: the central eigenstates).
``quench_entropy``  S(A, t) on ``times`` after a quench from ``initial`` = ``"neel"`` or ``"plus"``,
                    shape (T,); ``times`` is a list or ``{logspace = [a, b, n]}`` / ``{linspace = ...}``.
``imbalance``       I(t) = (1/N) sum_r s_r <Z_r(t)> from the Neel state (s_r its pattern), (T,).
``lbit_profile``    Swingle only: the weight w_j(tau_r) = sum_{P: P_j != I} |c_P|^2 of the l-bit
                    tau_r = U Z_r U^dagger = sum_P c_P P on site j, averaged over pairs (r, j) at
                    each lattice distance: shape (D,) over the distinct distances. Dense, N <= 10.
==================  ==========================================================================

Register your own with :func:`register_observable`.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import math

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

from ._conventions import basis_bits, complex_dtype
from ._dynamics import evolve
from ._ed import central_window, eigh, eigvalsh
from ._entanglement import entropy
from ._lattice import Lattice
from ._model import energies, sample_model
from ._models import random_field_heisenberg
from ._operators import sector_basis
from ._states import neel_index, neel_state, product_state

_HIGHEST = jax.lax.Precision.HIGHEST
_LBIT_MAX_SITES = 10


# ---------------------------------------------------------------------------- value checks
def _type_error(path, what, value):
    return ValueError(f"{path} must be {what}, got {value!r} ({type(value).__name__})")


def real(lo=None, *, strict=False):
    """Validator of a real number (``> lo`` if strict else ``>= lo``)."""

    def check(path, v):
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise _type_error(path, "a number", v)
        if not math.isfinite(v) or (lo is not None and (v <= lo if strict else v < lo)):
            raise ValueError(f"{path} must be finite{'' if lo is None else (' and > ' if strict else ' and >= ') + str(lo)}, got {v!r}")
        return float(v)

    return check


def integer(lo):
    """Validator of an integer >= lo."""

    def check(path, v):
        if isinstance(v, bool) or not isinstance(v, int):
            raise _type_error(path, "an integer", v)
        if v < lo:
            raise ValueError(f"{path} must be >= {lo}, got {v!r}")
        return int(v)

    return check


def choice(*options):
    def check(path, v):
        if v not in options:
            raise ValueError(f"{path} must be one of {list(options)}, got {v!r}")
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
        raise ValueError(f"{path} must lie in (0, 1), got {v!r}")
    return v


def _sector(path, v):
    v = real()(path, v)
    if 2 * v != round(2 * v):
        raise ValueError(f"{path} must be a multiple of 1/2 (total S^z), got {v!r}")
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
    kw = {k: p[k] for k in ("xi", "J0", "unitary", "strength", "depth", "max_order", "cutoff", "tol")}
    return sample_model(key, lattice, dtype=dtype, **kw)


def heisenberg_sector(lattice, p) -> float:
    return p["sector"] if p.get("sector") is not None else (lattice.n_sites % 2) / 2


def _build_heisenberg(key, lattice, p, dtype):
    H = random_field_heisenberg(key, lattice, p["W"], p["J"], Jz=p["Jz"], dtype=dtype)
    return HeisenbergRealization(H=H, lattice=lattice, sector=heisenberg_sector(lattice, p))


def _sector_dim(lattice, p):
    n, sector = lattice.n_sites, heisenberg_sector(lattice, p)
    n_down = n / 2 - sector
    if n_down != round(n_down) or not 0 <= n_down <= n:
        raise ValueError(f"model.sector = {sector} is impossible for N = {n} spins-1/2")
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

    Example:
        >>> import jax.numpy as jnp
        >>> @register_observable("mean_energy", families=["swingle"])
        ... def mean_energy(model, shift=0.0):
        ...     return jnp.mean(energies(model)) + shift
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be an identifier-like string, got {name!r}")
    keys = [(name, f) for f in families] if families is not None else [(name, "*")]
    unknown = [f for f in (families or ()) if f not in FAMILIES]
    if unknown:
        raise ValueError(f"families: unknown family {unknown[0]!r}; known: {sorted(FAMILIES)}")

    def decorator(fn):
        for key in keys:
            old = OBSERVABLES.get(key)
            same = old is not None and (old.fn.__module__, old.fn.__qualname__) == (fn.__module__, fn.__qualname__)
            if old is not None and not (replace or same):
                raise ValueError(f"an observable {name!r} is already registered for {key[1]!r}; pass replace=True")
            OBSERVABLES[key] = Observable(fn, prepare, coords, memory)
        return fn

    return decorator


def lookup(name: str, family: str, path: str) -> Observable:
    """The observable ``name`` for ``family``, or a ValueError naming the config key ``path``."""
    obs = OBSERVABLES.get((name, family)) or OBSERVABLES.get((name, "*"))
    if obs is None:
        names = sorted({n for n, f in OBSERVABLES if f in (family, "*")})
        if any(n == name for n, _ in OBSERVABLES):
            raise ValueError(f"{path}: observable {name!r} is not defined for family {family!r} (available: {names})")
        raise ValueError(f"{path}: unknown observable {name!r} (available for {family!r}: {names})")
    return obs


def observable_names() -> list:
    """Sorted names of every registered observable."""
    return sorted({n for n, _ in OBSERVABLES})


# ---------------------------------------------------------------------------- shared parameter parsing
def _region(point, region, path="region"):
    n = point.lattice.n_sites
    if region == "half":
        if n < 2:
            raise ValueError(f"{path} = 'half' needs N >= 2 sites, got N = {n}")
        return tuple(range(n // 2))
    if not isinstance(region, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in region):
        raise _type_error(path, "'half' or a list of site indices", region)
    try:
        return point.lattice.region(region)
    except ValueError as err:
        raise ValueError(f"{path}: {err} (N = {n} at grid point {point.index})") from None


def _times(times, path="times"):
    if isinstance(times, dict):
        if len(times) != 1 or next(iter(times)) not in ("logspace", "linspace"):
            raise ValueError(f"{path} must be a list, {{logspace = [a, b, n]}} or {{linspace = [a, b, n]}}, got {times!r}")
        kind, spec = next(iter(times.items()))
        ok = isinstance(spec, list) and len(spec) == 3 and isinstance(spec[2], int) and spec[2] >= 1
        if not ok or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise ValueError(f"{path}.{kind} must be [start, stop, count] with an integer count >= 1, got {spec!r}")
        ts = getattr(np, kind)(float(spec[0]), float(spec[1]), spec[2])
    elif isinstance(times, list) and times and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in times):
        ts = np.asarray(times, dtype=np.float64)
    else:
        raise _type_error(path, "a non-empty list of times or {logspace = [a, b, n]}", times)
    if not np.all(np.isfinite(ts)):
        raise ValueError(f"{path} must be finite times, got {ts.tolist()}")
    return ts


def _state_memory(point, vectors=8):
    return vectors * point.dim * np.dtype(complex_dtype(point.dtype)).itemsize


# ---------------------------------------------------------------------------- spectra
def mean_gap_ratio(E):
    """<r~> of a sorted spectrum ``E`` (D,); pairs of zero gaps are skipped, none valid gives NaN."""
    s = jnp.diff(E)
    hi, lo = jnp.maximum(s[1:], s[:-1]), jnp.minimum(s[1:], s[:-1])
    ok = hi > 0
    r = jnp.where(ok, lo / jnp.where(ok, hi, 1.0), 0.0)
    return jnp.sum(r) / jnp.sum(ok)


def _prepare_window(point, window=None):
    if window is not None:
        window = real(0, strict=True)("window", window)
        if window > 1:
            raise ValueError(f"window must be a fraction in (0, 1], got {window!r}")
    return {"window": window}


@register_observable("r_tilde", families=["swingle"], prepare=_prepare_window, memory=lambda pt, window: _state_memory(pt, 4))
def _r_tilde_swingle(model, window):
    E = jnp.sort(energies(model))
    start, count = central_window(E.shape[0], window)
    return mean_gap_ratio(E[start : start + count])


def _dense_memory(point, **_):
    return 4 * point.dim**2 * np.dtype(complex_dtype(point.dtype)).itemsize


@register_observable("r_tilde", families=["heisenberg"], prepare=_prepare_window, memory=_dense_memory)
def _r_tilde_heisenberg(model, window):
    return mean_gap_ratio(eigvalsh(model.H, model.sector, window=window))


# ---------------------------------------------------------------------------- eigenstate entanglement
def _prepare_eigenstates(point, region="half", states="all", alpha=1, seed=0):
    region = _region(point, region)
    alpha = real(0, strict=True)("alpha", alpha)
    seed = integer(0)("seed", seed)
    dim = point.dim
    if states != "all":
        states = integer(1)("states", states)
        if states > dim:
            raise ValueError(f"states = {states} exceeds the {dim} eigenstates at grid point {point.index}")
    count = dim if states == "all" else states
    if point.family == "swingle":
        picked = np.arange(dim) if states == "all" else np.sort(np.random.default_rng(seed).choice(dim, count, replace=False))
        return {"region": region, "alpha": alpha, "states": tuple(int(n) for n in picked)}
    return {"region": region, "alpha": alpha, "states": count}


def _eigenstates_memory(point, states, **_):
    if point.family == "heisenberg":
        return _dense_memory(point)
    return _state_memory(point, 4 * min(16, len(states)))


def _stats(S):
    return {"mean": jnp.mean(S), "max": jnp.max(S)}


@register_observable("eigenstate_entropy", families=["swingle"], prepare=_prepare_eigenstates, memory=_eigenstates_memory)
def _eigenstate_entropy_swingle(model, region, alpha, states):
    dim = 2**model.n_sites
    cdt = complex_dtype(model.dtype)

    def one(n):
        return entropy(model.U._kernel(jax.nn.one_hot(n, dim, dtype=cdt), False), region, alpha)

    # lax.map in batches keeps 16 eigenstates alive at a time instead of all 2**N.
    return _stats(jax.lax.map(one, jnp.asarray(states), batch_size=16))


def _embed(model, vecs):
    """Sector eigenvectors (D, k) as full states (k, 2**N)."""
    basis = np.asarray(sector_basis(model.n_sites, model.sector))
    return jnp.zeros((vecs.shape[1], 2**model.n_sites), vecs.dtype).at[:, basis].set(vecs.T)


@register_observable("eigenstate_entropy", families=["heisenberg"], prepare=_prepare_eigenstates, memory=_eigenstates_memory)
def _eigenstate_entropy_heisenberg(model, region, alpha, states):
    dim = _sector_dim(model.lattice, {"sector": model.sector})
    _, V = eigh(model.H, model.sector, window=states / dim)
    return _stats(jax.lax.map(lambda v: entropy(v, region, alpha), _embed(model, V), batch_size=16))


# ---------------------------------------------------------------------------- quenches
def _evolve_heisenberg(model, n0, ts, fn):
    """``fn(psi(t))`` for each t from the basis state ``|n0>``, by exact diagonalization in its sector."""
    n = model.n_sites
    sector = n / 2 - bin(n0).count("1")
    E, V = eigh(model.H, sector)
    basis = np.asarray(sector_basis(n, sector))
    chi = V.conj()[int(np.searchsorted(basis, n0))]  # V^dagger |n0>

    def at(t):
        psi = jnp.matmul(V, jnp.exp(-1j * E * t) * chi, precision=_HIGHEST)
        return fn(jnp.zeros(2**n, V.dtype).at[basis].set(psi))

    return jax.lax.map(at, jnp.asarray(ts, E.dtype))


def _quench(model, initial, ts, fn):
    """``fn(psi(t))`` for every t after a quench from ``initial`` ("neel" or "plus"), shape (T, ...)."""
    if isinstance(model, HeisenbergRealization):
        return _evolve_heisenberg(model, neel_index(model.lattice), ts, fn)
    n = model.n_sites
    psi0 = neel_state(model.lattice, dtype=model.dtype) if initial == "neel" else product_state(np.full(n, np.pi / 2), dtype=model.dtype)
    return evolve(model, psi0, ts, observables=fn)


def _prepare_quench(point, times, region="half", initial="neel", alpha=1):
    choice("neel", "plus")("initial", initial)
    if point.family == "heisenberg" and initial != "neel":
        raise ValueError("initial must be 'neel' for the heisenberg family (a basis state in a total-S^z sector)")
    return {"ts": _times(times), "region": _region(point, region), "initial": initial, "alpha": real(0, strict=True)("alpha", alpha)}


def _time_coords(point, ts, **_):
    return {"t": ts}


def _quench_memory(point, **_):
    return _dense_memory(point) if point.family == "heisenberg" else _state_memory(point)


@register_observable("quench_entropy", prepare=_prepare_quench, coords=_time_coords, memory=_quench_memory)
def _quench_entropy(model, ts, region, initial, alpha):
    return _quench(model, initial, ts, lambda psi: entropy(psi, region, alpha))


def _prepare_imbalance(point, times):
    return {"ts": _times(times)}


@register_observable("imbalance", prepare=_prepare_imbalance, coords=_time_coords, memory=_quench_memory)
def _imbalance(model, ts):
    lat = model.lattice
    signs = 1 - 2 * (lat.coords.sum(axis=1) % 2)  # <Z_r> in the Neel state
    weights = jnp.asarray((1 - 2 * basis_bits(lat.n_sites)) @ signs / lat.n_sites, model.dtype)
    return _quench(model, "neel", ts, lambda psi: jnp.sum(jnp.abs(psi) ** 2 * weights))


# ---------------------------------------------------------------------------- l-bit profile
def _distance_groups(lattice):
    """Distinct distances (D,) and the (D, N*N) averaging matrix over site pairs at each distance."""
    d = np.round(lattice.distances, 9)
    values, inverse = np.unique(d.ravel(), return_inverse=True)
    groups = np.zeros((len(values), d.size))
    groups[inverse, np.arange(d.size)] = 1.0
    return values, groups / groups.sum(axis=1, keepdims=True)


def _prepare_lbits(point):
    if point.lattice.n_sites > _LBIT_MAX_SITES:
        raise ValueError(f"lbit_profile is dense: N <= {_LBIT_MAX_SITES}, got N = {point.lattice.n_sites} at grid point {point.index}")
    return {}


@register_observable(
    "lbit_profile",
    families=["swingle"],
    prepare=_prepare_lbits,
    coords=lambda point: {"distance": _distance_groups(point.lattice)[0]},
    memory=lambda point: _dense_memory(point),
)
def lbit_profile(model):
    """Mean site weight of the l-bits ``tau_r = U Z_r U^dagger`` at each distance from r (dense, N <= 10).

    ``w_j(tau) = sum_{P: P_j != I} |c_P|^2 = ||tau - I_j/2 (x) tr_j tau||_F^2 / 2**N`` for
    ``tau = sum_P c_P P`` (``sum_P |c_P|^2 = 1``): the weight of tau on Pauli strings that act on
    site j, formed as a norm of a difference (not ``1 - ...``) so tiny tails keep their relative
    accuracy. Returns ``(D,)``: ``w`` averaged over the site pairs (r, j) at each distinct
    distance, in the order of ``numpy.unique`` of the lattice distances (``coords["distance"]``).
    """
    n, dim = model.n_sites, 2**model.n_sites
    cdt = complex_dtype(model.dtype)
    # Rows of the vmap are U e_n, so U itself is their transpose.
    U = jax.vmap(lambda v: model.U._kernel(v, False))(jnp.eye(dim, dtype=cdt)).T
    z = jnp.asarray(1 - 2 * basis_bits(n).T, model.dtype)  # (N, 2**N): diagonal of Z_r
    eye2 = jnp.eye(2, dtype=cdt)

    def weights(z_r):
        tau = jnp.matmul(U * z_r[None, :], U.conj().T, precision=_HIGHEST)
        out = []
        for j in range(n):
            t = tau.reshape(2**j, 2, 2 ** (n - 1 - j), 2**j, 2, 2 ** (n - 1 - j))
            identity_part = jnp.einsum("aibcid,ke->akbced", t, eye2 / 2)
            out.append(jnp.sum(jnp.abs(t - identity_part) ** 2) / dim)
        return jnp.stack(out)

    W = jax.lax.map(weights, z)  # (N, N): [r, j]
    _, groups = _distance_groups(model.lattice)
    return jnp.matmul(jnp.asarray(groups, W.dtype), W.reshape(-1), precision=_HIGHEST)
