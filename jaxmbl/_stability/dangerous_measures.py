"""The family of local perturbations searched for the most dangerous one, and the measures it maximizes.

**The family.** On a chain of N sites (open or periodic) the basis is every non-identity Pauli string
``sigma_a`` of weight ``1 <= |supp a| <= k`` whose support lies within ``range`` consecutive sites
(open chain: ``max(supp) - min(supp) + 1 <= range``; ring: the shortest arc holding the support).
With ``c`` on the unit sphere the perturbation is

    V(c) = s sum_a c_a sigma_a,   |c| = 1,   s = norm sqrt(N),   so   Tr(V^2) / 2^N = N norm^2,

a Frobenius norm of ``norm`` per site: at ``k = range = 1`` exactly what :func:`random_local_perturbation`
gives (each site term has operator norm = Frobenius norm = ``norm``); for k >= 2 that function fixes
the operator norm of each k-site cluster term instead, which is not a sphere, so here the Frobenius
norm of the whole V is fixed and every V of the family (optimized or random) has the same one.

**The measures** (all maximized: larger = more delocalizing):

* ``"susceptibility"``: ``<ln chi_n>`` over a sample of eigenstates, the log of the typical fidelity
  susceptibility ``chi_n(mu) = sum_m |<m|V|n>|^2 w^2/(w^2 + mu^2)^2`` (``w = E_m - E_n``) of a
  :class:`SwingleModel`, exact (eigenstates ``U|n>``, energies ``E(n)``). V is linear in c, so
  ``chi_n = s^2 c^T G_n c`` with the Gram matrix ``G_n[a, b] = Re sum_m w_mn conj(phi_a)_m (phi_b)_m``,
  ``phi_a = U^dagger sigma_a U |n>``: the ``"gram"`` route computes ``G_n`` once per state (M inverse
  circuit applications) and then every step and every random V costs ``O(M^2)``; the ``"direct"``
  route calls :func:`fidelity_susceptibility` on V(c) at each evaluation (memory of a few vectors per
  state, for N where M vectors per state do not fit).
* ``"gap_ratio"``: ``<r~>`` (:func:`mean_gap_ratio`) of the central ``window`` of the levels of
  ``H + gV`` (dense, N <= 12); eigenvalues with Hellmann-Feynman derivatives (:func:`eigvalsh_hf`).
* ``"entanglement"``: mean half-chain (sites ``0..N//2-1``) von Neumann entropy of the eigenstates of
  ``H + gV`` in the central ``window`` (dense, N <= 12; :func:`eigh_safe`, finite at degeneracies).

Degenerate spectra: the susceptibility weight vanishes at ``w = 0``, the gap ratio uses the double
``where`` of :func:`mean_gap_ratio`, ``eigh_safe`` drops ``1/(E_i - E_j)`` inside degenerate blocks and
:func:`entropy` is safe at zero Schmidt values, so every gradient is finite.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._analysis.entanglement import entropy
from jaxmbl._analysis.spectra import mean_gap_ratio
from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES, available_memory_bytes, check_matrix_memory
from jaxmbl._core.linalg import DEGENERATE_RTOL, eigh_safe, eigvalsh_hf
from jaxmbl._core.validation import check_hermitian
from jaxmbl._hamiltonians.ed import central_window
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.susceptibility import _weight, fidelity_susceptibility
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel, energies

MEASURES = ("susceptibility", "gap_ratio", "entanglement")
"""The measures :func:`most_dangerous_perturbation` can maximize."""
DENSE_MEASURES = ("gap_ratio", "entanglement")
"""The measures that diagonalize ``H + gV`` densely (N <= 12)."""
# Dense measures with gradients hold ~9 complex D x D matrices (H + gV, eigenvectors, cotangents, LAPACK work).
_DENSE_MATRICES = 3
# Vectors of 2**N alive per string on the gram route (phi, w phi, real/imaginary copies, circuit temporaries).
_GRAM_VECTORS_PER_STRING = 5


# ----------------------------------------------------------------------------- the string basis
def _check_int(name, value, minimum, maximum=None, hint=""):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise JaxmblError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        top = f" and <= {maximum}" if maximum is not None else ""
        raise JaxmblError(f"{name} must be >= {minimum}{top}{hint}, got {value!r}")
    return int(value)


def chain_of(lattice) -> Lattice:
    """The lattice as a chain (Lattice of shape (N,)); ``range`` has no unique meaning in d > 1."""
    lattice = as_lattice(lattice)
    if lattice.dim != 1:
        raise JaxmblError(
            f"the local-perturbation family counts range= in consecutive sites of a chain; lattice has shape "
            f"{lattice.shape} (d={lattice.dim}): pass a chain, Lattice((N,)) or an int N"
        )
    return lattice


def check_locality(lattice: Lattice, k, range):  # noqa: A002 (the brief's name)
    """Validated ``(k, range)``: ``1 <= k <= range <= N``; ``range=None`` means ``range = k``."""
    n = lattice.n_sites
    k = _check_int("k", k, 1, n, hint=f" (the number of sites N={n})")
    if range is None:
        return k, k
    if isinstance(range, bool) or not isinstance(range, numbers.Integral) or range < 1:
        raise JaxmblError(f"range must be an integer >= 1 (consecutive sites holding a string), got {range!r}")
    if range < k:
        raise JaxmblError(
            f"range={range} < k={k}: a string of weight k covers at least k consecutive sites; pass range >= {k} "
            f"or lower k to {range}"
        )
    if range > n:
        raise JaxmblError(f"range={range} exceeds the chain length N={n}; pass range <= {n}")
    return k, int(range)


def string_span(support, n_sites: int, periodic: bool) -> int:
    """Consecutive sites holding ``support`` (sorted site tuple): ``max - min + 1``, or the shortest arc on a ring."""
    s = sorted(support)
    if not periodic or len(s) == 1:
        return s[-1] - s[0] + 1
    gaps = [b - a for a, b in zip(s, s[1:])] + [s[0] + n_sites - s[-1]]
    return n_sites - max(gaps) + 1


@functools.lru_cache(maxsize=32)
def _supports(lattice: Lattice, k: int, span: int) -> tuple:
    """Every support of size 1..k within ``span`` consecutive sites, sorted by (size, sites)."""
    n, periodic = lattice.n_sites, bool(lattice.pbc[0])
    found = set()
    for start in range(n):
        window = [(start + j) % n if periodic else start + j for j in range(1, span)]
        window = [s for s in window if s < n and s != start]
        for size in range(k):
            for rest in itertools.combinations(window, size):
                found.add(tuple(sorted((start, *rest))))
    return tuple(sorted((s for s in found if string_span(s, n, periodic) <= span), key=lambda s: (len(s), s)))


@functools.lru_cache(maxsize=32)
def basis_labels(lattice: Lattice, k: int, span: int) -> np.ndarray:
    """Labels ``(M, N)`` int8 of the family's strings: per support, the ``3^|S|`` letter patterns."""
    rows = []
    for sites in _supports(lattice, k, span):
        for letters in itertools.product((1, 2, 3), repeat=len(sites)):
            row = np.zeros(lattice.n_sites, np.int8)
            row[list(sites)] = letters
            rows.append(row)
    out = np.array(rows, dtype=np.int8).reshape(-1, lattice.n_sites)
    out.setflags(write=False)
    return out


def local_pauli_basis(lattice, *, k: int = 2, range: int | None = None) -> PauliSum:  # noqa: A002
    """Every non-identity Pauli string of weight <= k supported within ``range`` consecutive sites.

    The search space of :func:`most_dangerous_perturbation`: ``V = s sum_a c_a sigma_a``. On an open
    chain the support S of a string must satisfy ``max(S) - min(S) + 1 <= range``; on a ring (``pbc``)
    the shortest arc holding S must. The count on an open chain is
    ``sum_{|S| <= k, span <= range} 3^|S|``, e.g. ``3N + 9(N - 1)`` for ``k = range = 2``.

    Args:
        lattice: a chain: ``Lattice((N,))`` (open or periodic) or an int N (open).
        k: largest weight (number of non-identity sites), ``1 <= k <= N``.
        range: consecutive sites a string may span, ``k <= range <= N``; default ``k``.

    Returns:
        A :class:`PauliSum` with unit coefficients, strings sorted by (weight, support, letters).

    Raises:
        JaxmblError: for a lattice of dimension > 1, ``k < 1``, ``range < k`` or values above N.

    Example:
        >>> B = local_pauli_basis(4, k=2)
        >>> B.n_terms, B.to_list()[:2]
        (39, [('XIII', 1.0), ('YIII', 1.0)])
    """
    lattice = chain_of(lattice)
    k, span = check_locality(lattice, k, range)
    labels = basis_labels(lattice, k, span)
    return PauliSum(jnp.asarray(labels), jnp.ones(len(labels)), lattice.n_sites)


def string_masks(labels: np.ndarray):
    """Flip masks x, phase masks z (int64) and phases ``i^{#Y}`` (complex) of strings ``(M, N)``."""
    n = labels.shape[-1]
    bits = 2 ** np.arange(n - 1, -1, -1, dtype=np.int64)  # site r is bit N-1-r
    x = (((labels == 1) | (labels == 2)) * bits).sum(-1)
    z = (((labels == 2) | (labels == 3)) * bits).sum(-1)
    phase = (1j) ** ((labels == 2).sum(-1) % 4)
    return x, z, phase


# ----------------------------------------------------------------------------- gram route (exact, Swingle)
@jax.jit
def gram_matrices(model, idx, x, z, phase, mu):
    """``G_n[a, b] = Re sum_m w(E_m - E_n) conj(phi_a)_m (phi_b)_m``, ``phi_a = U^dag sigma_a U|n>``, ``(S, M, M)``.

    ``chi_n(V) = c^T G_n c`` for ``V = sum_a c_a sigma_a`` with real c; one state at a time (memory
    ~ 5 M vectors of 2**N).
    """
    E = lbit_energies(model.h0)
    cdt = complex_dtype(model.dtype)
    rows = jnp.arange(E.shape[0], dtype=x.dtype)

    def one(n):
        psi = model.U.mv(jnp.zeros(E.shape, cdt).at[n].set(1.0))

        def string(xa, za, pa):  # (sigma_a psi)[m] = i^#Y (-1)^popcount((m ^ x) & z) psi[m ^ x]
            src = rows ^ xa
            odd = (lax.population_count(src & za) & 1) == 1
            return model.U.rmv(pa * jnp.where(odd, -psi[src], psi[src]))

        phi = jax.vmap(string)(x, z, phase.astype(cdt))
        w = _weight("mu", E - E[n], mu)
        left = jnp.concatenate([phi.real, phi.imag], axis=1)
        right = jnp.concatenate([phi.real * w, phi.imag * w], axis=1)
        return jnp.matmul(left, right.T, precision=HIGHEST)

    return lax.map(one, idx)


def gram_fits(n_sites: int, n_strings: int) -> bool:
    """Whether the gram route's vectors for one state fit in half the memory budget."""
    need = _GRAM_VECTORS_PER_STRING * n_strings * 16 * 2.0**n_sites
    return need <= available_memory_bytes() / 2


# ----------------------------------------------------------------------------- the measures
@dataclasses.dataclass(frozen=True)
class Spec:
    """Static part of a measure: its name, route, window of levels (start, count) and half-chain region."""

    measure: str
    route: str = "direct"
    start: int = 0
    count: int = 0
    region: tuple = ()
    state_batch: int = 16


def _log_mean(chi):
    floor = jnp.finfo(chi.dtype).tiny  # chi_n = 0 (V commuting with the state) stays finite, zero gradient
    return jnp.mean(jnp.log(jnp.maximum(chi, floor)))


def _snap_degenerate(E):
    """Levels with gaps below ``DEGENERATE_RTOL max(1, max|E|)`` made exactly equal (as :func:`eigh_safe`).

    Round-off splits an exactly degenerate level by ~1e-16, and a ratio of two such gaps would count
    as defined, with a derivative ~1e16; snapped, it is the 0/0 that :func:`mean_gap_ratio` excludes.
    """
    gaps = jnp.diff(E)
    tol = DEGENERATE_RTOL * jnp.maximum(1.0, jnp.max(jnp.abs(E)))
    gaps = jnp.where(gaps > tol, gaps, 0.0)
    return jnp.concatenate([E[:1], E[0] + jnp.cumsum(gaps)])


def measure_of_v(V, data, spec: Spec):
    """The measure of one PauliSum V (``direct`` and dense routes); ``data`` holds H, g, mu, states."""
    if spec.measure == "susceptibility":
        chi = fidelity_susceptibility(
            data["model"], V, mu=data["mu"], states=data["states"], state_batch=spec.state_batch
        )
        return _log_mean(chi)
    A = data["H"] + data["g"] * V.dense().astype(data["H"].dtype)
    if spec.measure == "gap_ratio":
        E = eigvalsh_hf(A)
        return mean_gap_ratio(_snap_degenerate(E)[spec.start : spec.start + spec.count])
    _, vecs = eigh_safe(A)
    return jnp.mean(entropy(vecs[:, spec.start : spec.start + spec.count].T, spec.region))


def measure_of_c(c, data, spec: Spec):
    """The measure of ``V(c) = s sum_a c_a sigma_a`` (any c; the search passes ``theta / |theta|``)."""
    if spec.route == "gram":
        return _log_mean(data["scale"] ** 2 * jnp.einsum("a,nab,b->n", c, data["gram"], c, precision=HIGHEST))
    basis = data["basis"]
    return measure_of_v(dataclasses.replace(basis, coef=data["scale"] * c.astype(basis.coef.dtype)), data, spec)


_measure_jit = jax.jit(measure_of_v, static_argnames="spec")


def mean_spacing(model: SwingleModel) -> float:
    """Mean level spacing ``(E_max - E_min) / (D - 1)`` of a Swingle model, the default ``mu``."""
    E = np.asarray(energies(model))
    return float((E.max() - E.min()) / (len(E) - 1))


def check_hamiltonian(H, measure, lattice=None):
    """(H, chain lattice) for ``measure``: a SwingleModel (any measure) or a PauliSum (dense measures)."""
    if measure not in MEASURES:
        raise JaxmblError(f"unknown measure={measure!r}; choose one of {', '.join(map(repr, MEASURES))}")
    if isinstance(H, SwingleModel):
        if lattice is not None and as_lattice(lattice) != H.lattice:
            raise JaxmblError(f"lattice={lattice!r} differs from the model's {H.lattice}; drop lattice=")
        lattice = H.lattice
    elif isinstance(H, PauliSum):
        if measure == "susceptibility":
            raise JaxmblError(
                "measure='susceptibility' takes the exact route of a SwingleModel; for a PauliSum H use "
                "measure='gap_ratio' or 'entanglement', or fit it first (jm.fit_lbits(...).model)"
            )
        lattice = Lattice((H.n_sites,)) if lattice is None else as_lattice(lattice)
        if lattice.n_sites != H.n_sites:
            raise JaxmblError(f"lattice has {lattice.n_sites} sites but H has n_sites={H.n_sites}")
        check_hermitian(H)
    else:
        raise TypeError(f"H must be a SwingleModel or a PauliSum, got {type(H).__name__}")
    if H.batch_shape:
        raise JaxmblError(f"H must be one realization, got batch shape {H.batch_shape}; loop or vmap over them")
    return H, chain_of(lattice)


def dense_data(H, measure, g, window):
    """(data, Spec) of a dense measure: the dense H (memory checked first), g and the window of levels."""
    n = H.n_sites
    D = 2**n
    if n > DENSE_MAX_SITES:
        gib = 3 * _DENSE_MATRICES * 16 * 4.0**n / 2**30
        raise JaxmblError(
            f"measure={measure!r} diagonalizes H + gV densely at every step: n_sites={n} needs about {gib:.3g} GiB "
            f"(3 x {_DENSE_MATRICES} complex 2**{n} x 2**{n} matrices), above the dense limit N <= {DENSE_MAX_SITES}; "
            "use measure='susceptibility' (exact route of a SwingleModel) for larger N"
        )
    check_matrix_memory(D, _DENSE_MATRICES, what=f"measure={measure!r} at n_sites={n} (H + gV and its gradient)")
    if g is None:
        raise JaxmblError(f"measure={measure!r} needs the coupling g of H + gV (energy units of H), e.g. g=0.2")
    if isinstance(g, jax.core.Tracer) or np.ndim(g) != 0 or np.iscomplexobj(g) or not np.isfinite(float(g)):
        raise JaxmblError(f"g must be a finite real scalar, got {g!r}")
    start, count = central_window(D, window)
    if measure == "gap_ratio" and count < 3:
        raise JaxmblError(f"window={window!r} keeps {count} of {D} levels; the gap ratio needs at least 3")
    Hd = jnp.asarray(H.dense()).astype(complex_dtype(H.dtype))
    spec = Spec(measure=measure, route="dense", start=start, count=count, region=tuple(range(n // 2)))
    return {"H": Hd, "g": jnp.asarray(float(g), jnp.real(Hd).dtype)}, spec


def check_mu(mu, model):
    """``mu`` as a float > 0 (default: the mean level spacing of the model)."""
    if mu is None:
        return mean_spacing(model)
    if isinstance(mu, jax.core.Tracer) or np.ndim(mu) != 0 or np.iscomplexobj(mu):
        raise JaxmblError(f"mu must be a finite real scalar > 0, got {mu!r}")
    if not (np.isfinite(float(mu)) and float(mu) > 0):
        raise JaxmblError(f"mu must be finite and > 0, got {mu!r}")
    return float(mu)


def perturbation_measure(H, V, *, measure: str = "susceptibility", g=None, mu=None, states=None, window=0.5):
    """The delocalization measure of one perturbation V, as :func:`most_dangerous_perturbation` maximizes it.

    * ``"susceptibility"``: ``<ln chi_n(mu)>`` over ``states`` of the exact route of
      :func:`fidelity_susceptibility` (H a :class:`SwingleModel`), i.e. ``ln chi_typ``;
    * ``"gap_ratio"``: ``<r~>`` of the central ``window`` of the levels of ``H + gV`` (dense);
    * ``"entanglement"``: mean half-chain entropy (nats) of the eigenstates of ``H + gV`` in the
      central ``window`` (dense).

    V is taken as given (no normalization); the measure is jitted (one compilation per H, V structure
    and settings) and differentiable in V's coefficients with finite gradients at degeneracies.

    Args:
        H: a :class:`SwingleModel` (any measure) or a Hermitian :class:`PauliSum` (dense measures),
            one realization.
        V: a Hermitian :class:`PauliSum` on the same sites.
        measure: ``"susceptibility"``, ``"gap_ratio"`` or ``"entanglement"``.
        g: the coupling of ``H + gV`` (dense measures; energy units of H).
        mu: the Lorentzian regulator (susceptibility; default the mean level spacing of H).
        states: basis indices n of the eigenstates ``U|n>`` (susceptibility; default all, D <= 2**14).
        window: central fraction of the levels kept by the dense measures (``None``: all).

    Returns:
        A real scalar (``ln`` of 1/energy^2 units, a ratio in [0, 1], or nats).

    Raises:
        JaxmblError: unknown measure, g missing (dense) or given (susceptibility), N > 12 for a dense
            measure (with the memory estimate), V on other sites or not Hermitian.

    Example:
        >>> model = sample_model(jax.random.key(0), 4)
        >>> V = PauliSum.from_terms(4, [("X", [1], 1.0)])
        >>> r = perturbation_measure(model, V, measure="gap_ratio", g=0.3, window=None)
        >>> bool(0 <= r <= 1)
        True
    """
    H, _ = check_hamiltonian(H, measure)
    if not isinstance(V, PauliSum) or V.n_sites != H.n_sites or V.batch_shape:
        raise JaxmblError(f"V must be one PauliSum on n_sites={H.n_sites}, got {V!r:.80}")
    check_hermitian(V, "V")
    if measure == "susceptibility":
        if g is not None:
            raise JaxmblError("g is not used by measure='susceptibility' (chi is the response at g = 0); drop g=")
        data = {"model": H, "mu": check_mu(mu, H), "states": None if states is None else jnp.asarray(states)}
        return _measure_jit(V, data, spec=Spec(measure))
    if mu is not None or states is not None:
        raise JaxmblError(f"mu= and states= belong to measure='susceptibility', not {measure!r}; drop them")
    data, spec = dense_data(H, measure, g, window)
    return _measure_jit(V, data, spec=spec)
