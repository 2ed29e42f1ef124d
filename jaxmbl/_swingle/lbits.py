"""The fixed-point Hamiltonian H0 of l-bits (paper eq. 2.1), its energies, and long-time phases.

``H0 = sum_S J_S prod_{r in S} P_r`` with ``P_r = (1 - Z_r)/2 = n_r``, so in the Z basis
``E(n) = sum_{S subset of n} J_S``: a subset sum on the hypercube, computed for all 2**N
states in N passes (zeta transform) and inverted exactly by the Moebius transform.
"""

from __future__ import annotations

import dataclasses
import decimal
import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.conventions import real_dtype, site_mask
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import mobius_transform, zeta_transform
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.validation import check_n_sites, check_positive

TWO_PI = 2 * np.pi
# 2 pi to 40 digits, so the low part of its split is exact to far below an ulp.
_TWO_PI_DECIMAL = decimal.Decimal("6.283185307179586476925286766559005768394")


@functools.partial(jax.tree_util.register_dataclass, data_fields=["coef"], meta_fields=["sites", "n_sites"])
@dataclasses.dataclass(frozen=True)
class LbitHamiltonian:
    """H0 of paper eq. (2.1): k-body couplings of l-bit occupations, grouped by order k.

    ``H0 = sum_k sum_{m < M_k} coef[k][m] * prod_{r in sites[k][m]} P_r``, ``P_r = (1 - Z_r)/2``.

    Attributes:
        coef: tuple over orders of real arrays ``(..., M_k)`` (couplings, energy units of J0).
            Leading axes, if any, are a batch of disorder realizations.
        sites: static tuple over orders of tuples of site tuples, each ``(M_k,)`` of length-k tuples.
        n_sites: static number of sites N.

    Build one with :func:`lbit_hamiltonian` (validated) or :func:`sample_lbit_hamiltonian`.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 1.0, (1,): 0.5, (0, 1): 0.25})
        >>> h0.orders
        (1, 2)
    """

    coef: tuple
    sites: tuple
    n_sites: int

    @property
    def orders(self) -> tuple:
        """The orders k present, ascending (``len(self.sites[i][0])`` for group i)."""
        return tuple(len(group[0]) for group in self.sites)

    @property
    def n_terms(self) -> int:
        """Total number of couplings M over all orders."""
        return sum(len(group) for group in self.sites)

    @property
    def batch_shape(self) -> tuple:
        """Leading realization axes of the couplings (``()`` for one realization)."""
        return tuple(self.coef[0].shape[:-1])

    @property
    def dtype(self):
        """Real dtype of the couplings."""
        return self.coef[0].dtype

    def sites_array(self, k: int) -> np.ndarray:
        """Sites of the order-k terms as an int array, the layout of ``h0_sites_k{k}`` in model files.

        Args:
            k: the order (number of sites per term), >= 1.

        Returns:
            int64 numpy array ``(M_k, k)``; ``(0, k)`` if no term of order k exists.
        """
        if k not in self.orders:
            return np.zeros((0, k), dtype=np.int64)
        return np.asarray(self.sites[self.orders.index(k)], dtype=np.int64).reshape(-1, k)

    def masks(self) -> np.ndarray:
        """Basis index of each term's site set, in the order of the concatenated couplings.

        Returns:
            int64 numpy array ``(M,)``; entry m has the bits of term m's sites set (site 0 = MSB).
        """
        return np.array([site_mask(s, self.n_sites) for group in self.sites for s in group], dtype=np.int64)

    def flat_coef(self):
        """All couplings concatenated over orders.

        Returns:
            ``batch_shape + (M,)`` real couplings (units of J0), ordered as :meth:`masks`.
        """
        return jnp.concatenate([jnp.asarray(c) for c in self.coef], axis=-1)


def lbit_hamiltonian(n_sites: int, terms, *, dtype=None) -> LbitHamiltonian:
    """Build a validated :class:`LbitHamiltonian` from ``{sites_tuple: J}`` (or ``[(sites, J)]``).

    Args:
        n_sites: N >= 1.
        terms: mapping or list of pairs; each site tuple lists distinct sites in ``0..N-1``.
        dtype: real dtype of the couplings (default float64 when x64 is on).

    Returns:
        An unbatched :class:`LbitHamiltonian`; its orders are those present in ``terms``.

    Raises:
        ValueError: for an empty, out-of-range, repeated or duplicated site tuple, a non-finite
            coupling, or no terms at all.

    Example:
        >>> h0 = lbit_hamiltonian(3, [((0,), 1.0), ((2, 0), -0.3)])
        >>> h0.sites
        (((0,),), ((0, 2),))
    """
    n_sites = check_n_sites(n_sites)
    items = list(terms.items()) if isinstance(terms, dict) else list(terms)
    groups: dict[int, dict[tuple, float]] = {}
    for sites, value in items:
        sites_t = tuple(sorted(int(s) for s in np.atleast_1d(sites)))
        if not sites_t:
            raise JaxmblError("terms: empty site tuple (a constant shift is not an l-bit coupling)")
        if any(not 0 <= s < n_sites for s in sites_t):
            raise JaxmblError(f"terms: sites {tuple(sites)} out of range 0..{n_sites - 1}")
        if len(set(sites_t)) != len(sites_t):
            raise JaxmblError(f"terms: repeated site in {tuple(sites)} (P_r^2 = P_r, merge it)")
        value = float(value)
        if not np.isfinite(value):
            raise JaxmblError(f"terms: non-finite coupling {value} on sites {sites_t}")
        group = groups.setdefault(len(sites_t), {})
        if sites_t in group:
            raise JaxmblError(f"terms: sites {sites_t} appear twice")
        group[sites_t] = value
    if not groups:
        raise JaxmblError("terms: no couplings given")
    dt = real_dtype(dtype)
    orders = sorted(groups)
    sites = tuple(tuple(sorted(groups[k])) for k in orders)
    coef = tuple(jnp.asarray([groups[k][s] for s in sites_k], dtype=dt) for k, sites_k in zip(orders, sites))
    return LbitHamiltonian(coef=coef, sites=sites, n_sites=n_sites)


def mst_length(dist: np.ndarray) -> float:
    """Length of the minimal spanning tree of a small complete graph (Prim)."""
    k = dist.shape[0]
    inside = np.zeros(k, dtype=bool)
    inside[0] = True
    best = dist[0].copy()
    total = 0.0
    for _ in range(k - 1):
        cand = np.where(inside, np.inf, best)
        j = int(np.argmin(cand))
        total += cand[j]
        inside[j] = True
        best = np.minimum(best, dist[j])
    return float(total)


@functools.lru_cache(maxsize=64)
def lbit_terms(lattice: Lattice, max_order: int, max_extent: float) -> tuple:
    """All site sets S with 1 <= |S| <= max_order and MST length ell(S) <= max_extent.

    Returns a tuple over orders k = 1..max_order of ``(sites, extents)``, sites a tuple of sorted
    site tuples and extents a float array of ell(S) (Euclidean MST length, minimum image).
    """
    dist = lattice.distances
    n = lattice.n_sites
    out = []
    level = {(r,) for r in range(n)}
    for k in range(1, max_order + 1):
        if k > 1:
            grown = set()
            for s in level:
                near = np.nonzero(dist[list(s)].min(axis=0) <= max_extent)[0]
                for j in near:
                    if j not in s:
                        grown.add(tuple(sorted(s + (int(j),))))
            level = {s for s in grown if mst_length(dist[np.ix_(s, s)]) <= max_extent}
        sites = tuple(sorted(level))
        extents = np.array([mst_length(dist[np.ix_(s, s)]) for s in sites], dtype=np.float64)
        if sites:
            out.append((sites, extents))
        if not level:
            break
    return tuple(out)


def sample_lbit_hamiltonian(
    key,
    lattice: Lattice | int,
    *,
    xi: float = 1.0,
    J0: float = 1.0,
    max_order: int = 3,
    cutoff: float = 1e-12,
    max_range: float | None = None,
    dtype=None,
) -> LbitHamiltonian:
    """Random H0 with couplings decaying with distance (length ``xi``) and with the number of spins.

    * onsite ``J_r`` uniform in ``[0, J0]`` (the paper's example below eq. 2.4);
    * a k-body term (k >= 2) on S: ``J_S = J0 * exp(-ell(S)/xi) * u_S``, ``u_S`` uniform in ``[-1, 1]``,
      with ``ell(S)`` the length of the minimal spanning tree of S (so ``ell >= k - 1``: the terms
      decay with distance *and* with the number of spins);
    * terms whose envelope ``exp(-ell/xi)`` is below ``cutoff`` are dropped (or, with
      ``max_range``, those with ``ell(S) > max_range``). Which terms exist depends only on
      (lattice, xi, max_order, cutoff, max_range), so ``jax.vmap`` over keys works.

    Differentiable in ``xi`` and ``J0``: the couplings are the fixed random factors ``u_S`` times
    ``J0 exp(-ell(S)/xi)``. Under ``jax.grad``/``vmap`` over ``xi`` the term set must not depend on
    the traced value, so pass ``max_range`` (e.g. ``xi_max * ln(1/cutoff)``); for a concrete
    ``xi`` the result is bit-identical with and without a trace over other arguments.

    Args:
        key: a ``jax.random`` key.
        lattice: the :class:`Lattice`, or an int N for the open chain of N sites.
        xi: localization length > 0, in lattice units.
        J0: energy scale > 0.
        max_order: largest k >= 1.
        cutoff: relative size below which terms are dropped, in (0, 1).
        max_range: if given, keep every term with ``ell(S) <= max_range`` instead (lattice
            units); required when ``xi`` is traced.
        dtype: real dtype (default float64).

    Returns:
        An :class:`LbitHamiltonian` on ``lattice`` (units of J0), unbatched; ``jax.vmap`` over keys
        gives a batch.

    Raises:
        ValueError: for a non-positive ``xi``, ``J0`` or ``max_range``, ``max_order < 1``, a
            ``cutoff`` outside (0, 1), or a traced ``xi`` without ``max_range``.

    Example:
        >>> import jax.random as jr
        >>> h0 = sample_lbit_hamiltonian(jr.key(0), Lattice((4,)), xi=1.0)
        >>> h0.orders, h0.n_terms
        ((1, 2, 3), 14)
    """
    lattice = as_lattice(lattice)
    traced_xi = isinstance(xi, jax.core.Tracer)
    xi = xi if traced_xi else check_positive(xi, "xi")
    J0 = J0 if isinstance(J0, jax.core.Tracer) else check_positive(J0, "J0")
    if int(max_order) != max_order or max_order < 1:
        raise JaxmblError(f"max_order must be an integer >= 1, got {max_order!r}")
    if not 0 < cutoff < 1:
        raise JaxmblError(f"cutoff must lie in (0, 1), got {cutoff!r}")
    if max_range is None:
        if traced_xi:
            raise JaxmblError(
                "xi is traced (jax.grad/jit/vmap over xi), so the cutoff xi*ln(1/cutoff) is unknown: pass "
                "max_range=, the largest term extent ell(S) to keep (a static float, e.g. xi_max * ln(1/cutoff))"
            )
        max_range = xi * np.log(1.0 / cutoff)
    else:
        max_range = check_positive(max_range, "max_range")
    dt = real_dtype(dtype)
    groups = lbit_terms(lattice, int(max_order), float(max_range))
    keys = jr.split(key, len(groups))
    coef, sites = [], []
    for (sites_k, extents), kk in zip(groups, keys):
        if len(sites_k[0]) == 1:
            c = J0 * jr.uniform(kk, (len(sites_k),), dtype=dt)
        else:
            if traced_xi:
                envelope = (J0 * jnp.exp(-jnp.asarray(extents, dt) / xi)).astype(dt)
            else:  # on the host in float64, as before: bit-identical results for a concrete xi
                envelope = jnp.asarray(J0 * np.exp(-extents / xi), dtype=dt)
            c = envelope * jr.uniform(kk, (len(sites_k),), dtype=dt, minval=-1.0, maxval=1.0)
        coef.append(c)
        sites.append(sites_k)
    return LbitHamiltonian(coef=tuple(coef), sites=tuple(sites), n_sites=lattice.n_sites)


def subset_sum(h0: LbitHamiltonian, values, *, multiplicative: bool = False):
    """``out[n] = sum_{S subset of n} values[S]`` for per-term values ``(M,)`` (products if ``multiplicative``)."""
    if multiplicative:
        c = jnp.ones(2**h0.n_sites, dtype=values.dtype).at[h0.masks()].set(values, unique_indices=True)
    else:
        c = jnp.zeros(2**h0.n_sites, dtype=values.dtype).at[h0.masks()].add(values)
    return zeta_transform(c, h0.n_sites, multiplicative=multiplicative)


def lbit_energies(h0: LbitHamiltonian):
    """E(n) for all 2**N basis states of one realization, shape ``(2**N,)``."""
    return subset_sum(h0, h0.flat_coef())


def _two_prod(a, b):
    """Error-free product ``a*b = p + e`` (Dekker/Veltkamp), exact in IEEE arithmetic."""
    split = 134217729.0 if a.dtype == jnp.float64 else 4097.0
    p = a * b
    t = split * a
    ah = t - (t - a)
    al = a - ah
    t = split * b
    bh = t - (t - b)
    bl = b - bh
    e = ((ah * bh - p) + ah * bl + al * bh) + al * bl
    return p, e


def reduce_phase(J, t):
    """``J * t mod 2 pi`` in ``[-pi, pi]``, accurate to a few ulp of pi even for ``J t ~ 1e12``.

    ``J t`` is formed exactly as a double-double (``p + e``), and ``2 pi`` is split as
    ``hi + lo`` so that ``p - k*hi`` is exact; the naive ``(J*t) % (2*pi)`` loses ~1e-4 rad at 1e12.
    This per-coupling reduction is what makes the phases ``exp(-i E(n) t)`` of the exact dynamics
    correct at any time (see :func:`evolve`).

    Args:
        J: couplings (energy units of J0), any shape, real.
        t: time (units of 1/J0), broadcastable against ``J``.

    Returns:
        Real phases (radians) of the broadcast shape of ``J`` and ``t``, in the dtype of ``J * t``.

    Example:
        >>> round(float(reduce_phase(1.0, 1e12)), 9)     # 1e12 mod 2 pi (60-digit value -0.657624759)
        -0.657624759
        >>> float(np.mod(1e12 + np.pi, 2 * np.pi) - np.pi)  # naive float64: off by 5e-5 rad
        -0.6575768685082544
    """
    dt = jnp.result_type(J, t)
    J = jnp.asarray(J, dt)
    t = jnp.asarray(t, dt)
    hi_np = np.asarray(TWO_PI, dtype=dt)
    hi = jnp.asarray(hi_np, dt)
    lo = jnp.asarray(float(_TWO_PI_DECIMAL - decimal.Decimal(float(hi_np))), dt)
    p, e = _two_prod(J, t)
    k = jnp.round(p / hi)
    q, f = _two_prod(k, jnp.broadcast_to(hi, k.shape))
    return ((p - q) - f) + e - k * lo


def lbit_phase_factors(h0: LbitHamiltonian, t):
    """``exp(-i E(n) t)`` for all basis states, ``(2**N,)`` complex: the propagator of H0.

    Each coupling's factor ``exp(-i (J_S t mod 2 pi))`` is formed from its exactly reduced phase
    (:func:`reduce_phase`), then multiplied over the subsets of each basis state by the
    multiplicative zeta transform (N passes of 2**N complex products). Compared with summing the
    reduced phases per basis state and taking ``exp`` of the sum, this evaluates only M cosines and sines instead of 2**N, and,
    measured at N = 20 inside ``U exp(-i H0 t) U^dagger``, halves the time per step: XLA fuses an
    elementwise ``exp`` into the first block of U and evaluates it once per read (up to 2**k
    times per amplitude). Each entry is a product of at most N rounded unit numbers: its phase is
    within ~N ulp of ``E(n) t mod 2 pi`` and its modulus within ~N ulp of 1 (4e-15 at N = 20,
    t = 1e12), against ~``eps |E(n) t mod-reduced sum|`` for the additive route.

    Args:
        h0: one realization.
        t: time (units of 1/J0), a scalar.

    Returns:
        ``(2**N,)`` complex factors in the complex dtype matching ``h0``'s couplings.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 1.0, (1,): 0.5, (0, 1): 0.25})
        >>> np.round(np.angle(np.asarray(lbit_phase_factors(h0, 1.0))), 6).tolist()
        [0.0, -0.5, -1.0, -1.75]
    """
    theta = reduce_phase(h0.flat_coef(), t)
    return subset_sum(h0, jax.lax.complex(jnp.cos(theta), -jnp.sin(theta)), multiplicative=True)


@renamed_keywords(tol="cutoff")
def couplings_from_energies(E, *, cutoff: float = 1e-12, max_order: int | None = None) -> LbitHamiltonian:
    """Recover every coupling J_S from E(n) exactly (Moebius transform on the hypercube).

    Args:
        E: energies of all 2**N basis states, shape ``(2**N,)``; ``E[0]`` (all spins up) must be 0
            up to ``cutoff * max|E|`` because H0 has no constant term.
        cutoff: couplings with ``|J_S| <= cutoff * max|E|`` are dropped (the relative coupling
            cutoff, as in :func:`sample_lbit_hamiltonian`). Deprecated alias: ``tol``.
        max_order: if given, a ValueError is raised when a larger-order coupling survives.

    Returns:
        The :class:`LbitHamiltonian` whose :func:`lbit_energies` reproduce ``E``.

    Raises:
        ValueError: if ``E`` is not ``(2**N,)``, ``E[0]`` is not 0, or a coupling of order above
            ``max_order`` survives.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 1.0, (1,): 0.5, (0, 1): 0.25})
        >>> couplings_from_energies(lbit_energies(h0)).coef[1].tolist()
        [0.25]
    """
    E = np.asarray(E)
    n_sites = int(round(np.log2(E.shape[-1]))) if E.ndim == 1 and E.size else -1
    if n_sites < 1 or 2**n_sites != E.shape[-1]:
        raise JaxmblError(f"E must have shape (2**N,) with N >= 1, got {E.shape}")
    check_state_memory(n_sites, 1, E.dtype, what="energy vectors")
    scale = max(float(np.max(np.abs(E))), np.finfo(np.float64).tiny)
    if abs(float(E[0])) > cutoff * scale + 1e-300:
        raise JaxmblError(f"E[0] must be 0 (H0 has no constant term), got {float(E[0])}")
    J = np.asarray(mobius_transform(jnp.asarray(E), n_sites))
    keep = np.nonzero(np.abs(J) > cutoff * scale)[0]
    bits = [tuple(r for r in range(n_sites) if (m >> (n_sites - 1 - r)) & 1) for m in keep]
    terms = [(s, J[m]) for s, m in zip(bits, keep) if s]
    if max_order is not None and any(len(s) > max_order for s, _ in terms):
        worst = max(len(s) for s, _ in terms)
        raise JaxmblError(f"max_order={max_order} but E contains couplings of order {worst}")
    return lbit_hamiltonian(n_sites, terms, dtype=E.dtype)
