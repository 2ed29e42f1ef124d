"""The built-in sweep observables, registered into :mod:`jaxmbl.sweep._registry` on import.

They are ``r_tilde``, ``eigenstate_entropy``, ``quench_entropy``, ``imbalance`` and ``lbit_profile``.

Each is a function of ONE realization of a family (a :class:`jaxmbl.SwingleModel`, or a
:class:`jaxmbl.sweep._registry.HeisenbergRealization`) with an eager ``prepare`` that validates the
TOML parameters, plus optional ``coords`` and ``memory``. They are kept apart from the registry
machinery so that the registry stays the small contract user observables also follow, and the
physics of each built-in (gap ratios, eigenstate and quench entanglement, imbalance, l-bit
profiles) reads in one place. Not to be confused with :mod:`jaxmbl._analysis.observables` (occupations
and imbalance of states, public functions), which these do not use.

Built-in observables (``[observables.LABEL]`` with ``observable = NAME`` and the parameters below):

==================  ==========================================================================
``r_tilde``         mean gap ratio <r~> = mean_n min(s_n, s_n+1)/max(s_n, s_n+1) of the sorted
                    spectrum (Poisson 2 ln 2 - 1 = 0.386, GOE 0.531); ``window`` keeps the central
                    fraction of levels. Swingle: from ``energies``; Heisenberg: ED in the sector,
                    or (``solver``, below) the ``levels`` (default 50) levels nearest
                    ``energy_density`` (default 0.5) from :func:`jaxmbl.interior_eigh`.
``eigenstate_entropy``  ``{"mean", "max"}`` over eigenstates of S(A) (nats) for ``region``
                    (``"half"`` = sites 0..N/2-1, or a list of sites), ``alpha``; ``states`` =
                    ``"all"`` or a count (Swingle: a fixed random sample of U|n>, the same for every
                    realization, drawn with ``seed``; Heisenberg: the central eigenstates, by ED
                    or, with ``solver``, the ``states`` eigenstates nearest energy density 0.5).
``quench_entropy``  S(A, t) on ``times`` after a quench from ``initial`` = ``"neel"`` or ``"plus"``,
                    shape (T,); ``times`` is a list or ``{logspace = [a, b, n]}`` / ``{linspace = ...}``.
``imbalance``       I(t) = (1/N) sum_r s_r <Z_r(t)> from the Neel state (s_r its pattern), (T,).
``lbit_profile``    Swingle only: the weight w_j(tau_r) = sum_{P: P_j != I} |c_P|^2 of the l-bit
                    tau_r = U Z_r U^dagger = sum_P c_P P on site j, averaged over pairs (r, j) at
                    each lattice distance: shape (D,) over the distinct distances. Dense, N <= 10.
==================  ==========================================================================

**Solver of the Heisenberg family** (``r_tilde``, ``eigenstate_entropy``): ``solver = "auto"``
(default) diagonalizes densely up to ``PAULI_DENSE_MAX_DIM`` = 2**14 rows (S^z = 0 up to N = 16)
and switches to the matrix-free :func:`jaxmbl.interior_eigh` above (N = 18, 20 at half filling);
``"dense"`` or ``"interior"`` forces one (``"dense"`` above the limit is refused). ``tol`` is
interior_eigh's relative residual ``||H psi - E psi|| <= tol ||H||`` (default 1e-10). The two
solvers pick slightly different middles: dense the levels around the middle *index* of the
spectrum, interior those nearest the middle *energy* (eps = 0.5); for the gap ratio of an MBL
or ETH chain the difference is within the disorder spread. A realization that interior_eigh
did not converge gives NaN (counted in ``SweepResult.nonfinite``). Measured (2 CPU cores, W = 5,
50 levels): 15 s at N = 16, 177 s at N = 18 per realization (``benchmarks/bench_interior.py``).

The gap ratio itself is :func:`jaxmbl.level_spacing_ratio` (one convention for degenerate
levels, documented in :func:`jaxmbl._analysis.spectra.mean_gap_ratio`); ``r_tilde`` only picks
the spectrum.

Example:
    >>> float(level_spacing_ratio(jnp.array([0.0, 1.0, 3.0]), window=None))   # gaps 1, 2: r = 1/2
    0.5
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._analysis.entanglement import entropy
from jaxmbl._analysis.spectra import level_spacing_ratio
from jaxmbl._core.conventions import basis_bits, complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.limits import LBIT_PROFILE_MAX_SITES, PAULI_DENSE_MAX_DIM
from jaxmbl._hamiltonians.ed import eigh, eigvalsh
from jaxmbl._hamiltonians.evolve import evolve
from jaxmbl._hamiltonians.interior import interior_eigh
from jaxmbl._hamiltonians.interior_setup import interior_memory
from jaxmbl._hamiltonians.pauli import sector_basis
from jaxmbl._swingle.model import eigenstates, energies
from jaxmbl._swingle.states import neel_index, neel_state, product_state
from jaxmbl._swingle.unitaries import dense_matrix
from jaxmbl.sweep._registry import (
    HeisenbergRealization,
    _sector_dim,
    _type_error,
    choice,
    integer,
    real,
    register_observable,
)


# ---------------------------------------------------------------------------- shared parameter parsing
def _region(point, region, path="region"):
    n = point.lattice.n_sites
    if region == "half":
        if n < 2:
            raise JaxmblError(f"{path} = 'half' needs N >= 2 sites, got N = {n}")
        return tuple(range(n // 2))
    if not isinstance(region, list) or not all(isinstance(r, int) and not isinstance(r, bool) for r in region):
        raise _type_error(path, "'half' or a list of site indices", region)
    try:
        return point.lattice.region(region)
    except ValueError as err:
        raise JaxmblError(f"{path}: {err} (N = {n} at grid point {point.index})") from None


def _times(times, path="times"):
    if isinstance(times, dict):
        if len(times) != 1 or next(iter(times)) not in ("logspace", "linspace"):
            raise JaxmblError(
                f"{path} must be a list, {{logspace = [a, b, n]}} or {{linspace = [a, b, n]}}, got {times!r}"
            )
        kind, spec = next(iter(times.items()))
        ok = isinstance(spec, list) and len(spec) == 3 and isinstance(spec[2], int) and spec[2] >= 1
        if not ok or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in spec):
            raise JaxmblError(f"{path}.{kind} must be [start, stop, count] with an integer count >= 1, got {spec!r}")
        ts = getattr(np, kind)(float(spec[0]), float(spec[1]), spec[2])
    elif (
        isinstance(times, list)
        and times
        and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in times)
    ):
        ts = np.asarray(times, dtype=np.float64)
    else:
        raise _type_error(path, "a non-empty list of times or {logspace = [a, b, n]}", times)
    if not np.all(np.isfinite(ts)):
        raise JaxmblError(f"{path} must be finite times, got {ts.tolist()}")
    return ts


def _state_memory(point, vectors=8):
    return vectors * point.dim * np.dtype(complex_dtype(point.dtype)).itemsize


# ---------------------------------------------------------------------------- spectra
def _prepare_window(point, window=None):
    if window is not None:
        window = real(0, strict=True)("window", window)
        if window > 1:
            raise JaxmblError(f"window must be a fraction in (0, 1], got {window!r}")
    return {"window": window}


@register_observable(
    "r_tilde", families=["swingle"], prepare=_prepare_window, memory=lambda pt, window: _state_memory(pt, 4)
)
def _r_tilde_swingle(model, window):
    return level_spacing_ratio(energies(model), window=window)


def _dense_memory(point, **_):
    return 4 * point.dim**2 * np.dtype(complex_dtype(point.dtype)).itemsize


# ---------------------------------------------------------------------------- dense or interior solver
def _solver(point, solver, path="solver"):
    """``"dense"`` or ``"interior"``: ``"auto"`` is dense up to ``PAULI_DENSE_MAX_DIM`` rows."""
    solver = choice("auto", "dense", "interior")(path, solver)
    if solver == "auto":
        return "dense" if point.dim <= PAULI_DENSE_MAX_DIM else "interior"
    if solver == "dense" and point.dim > PAULI_DENSE_MAX_DIM:
        raise JaxmblError(
            f"{path} = 'dense' needs a block of at most {PAULI_DENSE_MAX_DIM} rows, got D = {point.dim} at grid "
            f"point {point.index}; use solver = 'interior' (or 'auto')"
        )
    return solver


def _prepare_interior(point, solver, levels, energy_density, tol):
    """The validated interior-solver parameters, or ``None`` for the dense solver."""
    if _solver(point, solver) == "dense":
        return None
    levels = integer(1)("levels", levels)
    if levels > point.dim:
        raise JaxmblError(f"levels = {levels} exceeds the dimension D = {point.dim} at grid point {point.index}")
    eps = real(0)("energy_density", energy_density)
    if eps > 1:
        raise JaxmblError(f"energy_density must be in [0, 1], got {eps!r}")
    tol = real(0, strict=True)("tol", tol)
    return {"k": levels, "energy_density": eps, "tol": tol}


def _interior_memory(point, k):
    return interior_memory(point.dim, k, complex_dtype(point.dtype))


def _interior(model, interior):
    """``interior_eigh`` of one realization; NaN energies where it did not converge (the sweep counts them)."""
    out = interior_eigh(
        model.H, interior["k"], energy_density=interior["energy_density"], sector=model.sector,
        tol=interior["tol"], key=jax.random.key(0),
    )  # fmt: skip
    ok = jnp.all(out.info["converged"])
    return jnp.where(ok, out.energies, jnp.nan), out.vectors


def _prepare_r_heisenberg(point, window=None, solver="auto", levels=None, energy_density=0.5, tol=1e-10):
    interior = _prepare_interior(point, solver, min(50, point.dim) if levels is None else levels, energy_density, tol)
    if interior is not None and window is not None:
        raise JaxmblError("window applies to the dense solver; with solver = 'interior' set levels (a count) instead")
    return {**_prepare_window(point, window), "interior": interior}


def _r_heisenberg_memory(point, window, interior):
    return _dense_memory(point) if interior is None else _interior_memory(point, interior["k"])


@register_observable("r_tilde", families=["heisenberg"], prepare=_prepare_r_heisenberg, memory=_r_heisenberg_memory)
def _r_tilde_heisenberg(model, window, interior):
    if interior is None:
        return level_spacing_ratio(eigvalsh(model.H, model.sector, window=window), window=None)
    return level_spacing_ratio(_interior(model, interior)[0], window=None)


# ---------------------------------------------------------------------------- eigenstate entanglement
def _prepare_eigenstates(point, region="half", states="all", alpha=1, seed=0, solver="auto", tol=1e-10):
    region = _region(point, region)
    alpha = real(0, strict=True)("alpha", alpha)
    seed = integer(0)("seed", seed)
    dim = point.dim
    if states != "all":
        states = integer(1)("states", states)
        if states > dim:
            raise JaxmblError(f"states = {states} exceeds the {dim} eigenstates at grid point {point.index}")
    count = dim if states == "all" else states
    if point.family == "swingle":
        if solver != "auto":
            raise JaxmblError(
                f"solver applies to the heisenberg family (swingle eigenstates are exact U|n>), got {solver!r}"
            )
        picked = (
            np.arange(dim)
            if states == "all"
            else np.sort(np.random.default_rng(seed).choice(dim, count, replace=False))
        )
        return {"region": region, "alpha": alpha, "states": tuple(int(n) for n in picked)}
    interior = _prepare_interior(point, solver, count, 0.5, tol)
    if interior is not None and states == "all":
        raise JaxmblError(
            f"states = 'all' needs the dense solver (D = {dim} at grid point {point.index}); give a count of central "
            "eigenstates for solver = 'interior'"
        )
    return {"region": region, "alpha": alpha, "states": count, "interior": interior}


def _eigenstates_memory(point, states, interior=None, **_):
    if point.family == "heisenberg":
        return _dense_memory(point) if interior is None else _interior_memory(point, interior["k"])
    return _state_memory(point, 4 * min(16, len(states)))


def _stats(S):
    return {"mean": jnp.mean(S), "max": jnp.max(S)}


@register_observable(
    "eigenstate_entropy", families=["swingle"], prepare=_prepare_eigenstates, memory=_eigenstates_memory
)
def _eigenstate_entropy_swingle(model, region, alpha, states):
    def one(n):
        return entropy(eigenstates(model, n), region, alpha)

    # lax.map in batches keeps 16 eigenstates alive at a time instead of all 2**N.
    return _stats(jax.lax.map(one, jnp.asarray(states), batch_size=16))


def _embed(model, vecs):
    """Sector eigenvectors (D, k) as full states (k, 2**N)."""
    basis = np.asarray(sector_basis(model.n_sites, model.sector))
    return jnp.zeros((vecs.shape[1], 2**model.n_sites), vecs.dtype).at[:, basis].set(vecs.T)


@register_observable(
    "eigenstate_entropy", families=["heisenberg"], prepare=_prepare_eigenstates, memory=_eigenstates_memory
)
def _eigenstate_entropy_heisenberg(model, region, alpha, states, interior):
    if interior is None:
        dim = _sector_dim(model.lattice, {"sector": model.sector})
        _, V = eigh(model.H, model.sector, window=states / dim)
    else:
        E, V = _interior(model, interior)
        V = jnp.where(jnp.isnan(E[0]), jnp.nan, V)
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
        psi = jnp.matmul(V, jnp.exp(-1j * E * t) * chi, precision=HIGHEST)
        return fn(jnp.zeros(2**n, V.dtype).at[basis].set(psi))

    return jax.lax.map(at, jnp.asarray(ts, E.dtype))


def _quench(model, initial, ts, fn):
    """``fn(psi(t))`` for every t after a quench from ``initial`` ("neel" or "plus"), shape (T, ...)."""
    if isinstance(model, HeisenbergRealization):
        return _evolve_heisenberg(model, neel_index(model.lattice), ts, fn)
    n = model.n_sites
    psi0 = (
        neel_state(model.lattice, dtype=model.dtype)
        if initial == "neel"
        else product_state(np.full(n, np.pi / 2), dtype=model.dtype)
    )
    return evolve(model, psi0, ts, observables=fn)


def _prepare_quench(point, times, region="half", initial="neel", alpha=1):
    choice("neel", "plus")("initial", initial)
    if point.family == "heisenberg" and initial != "neel":
        raise JaxmblError("initial must be 'neel' for the heisenberg family (a basis state in a total-S^z sector)")
    return {
        "ts": _times(times),
        "region": _region(point, region),
        "initial": initial,
        "alpha": real(0, strict=True)("alpha", alpha),
    }


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
    if point.lattice.n_sites > LBIT_PROFILE_MAX_SITES:
        raise JaxmblError(
            f"lbit_profile is dense: N <= {LBIT_PROFILE_MAX_SITES}, got N = {point.lattice.n_sites} at grid point {point.index}"
        )
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
    U = dense_matrix(model.U)
    z = jnp.asarray(1 - 2 * basis_bits(n).T, model.dtype)  # (N, 2**N): diagonal of Z_r
    eye2 = jnp.eye(2, dtype=cdt)

    def weights(z_r):
        tau = jnp.matmul(U * z_r[None, :], U.conj().T, precision=HIGHEST)
        out = []
        for j in range(n):
            t = tau.reshape(2**j, 2, 2 ** (n - 1 - j), 2**j, 2, 2 ** (n - 1 - j))
            identity_part = jnp.einsum("aibcid,ke->akbced", t, eye2 / 2)
            out.append(jnp.sum(jnp.abs(t - identity_part) ** 2) / dim)
        return jnp.stack(out)

    W = jax.lax.map(weights, z)  # (N, N): [r, j]
    _, groups = _distance_groups(model.lattice)
    return jnp.matmul(jnp.asarray(groups, W.dtype), W.reshape(-1), precision=HIGHEST)
