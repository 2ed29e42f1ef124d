r"""Exact l-bit-frame dephasing of a product state: rho_A(t) and S(A, t) for chains of any length.

In the l-bit frame a product state ``chi0 = (x)_b (alpha_b|0> + beta_b|1>)`` only dephases under
``H0 = sum_S J_S prod_{r in S} n_r`` (paper §III.C, eq. 3.17-3.19). Write ``c_b(0) = alpha_b``,
``c_b(1) = beta_b``, ``p_b(x) = |c_b(x)|^2`` and ``theta_S = J_S t mod 2 pi`` (reduced *per
coupling* by :func:`jaxmbl.reduce_phase`, never formed as ``J t`` in float64). For a region A with
complement B, and configurations n, n' of A,

.. math::
    \rho_A(t)(n, n') = \psi_A(n)\psi_A^*(n')\,
        \sum_{m} \prod_{b \in B} p_b(m_b)\,
        e^{-i \sum_{S \cap A \neq \emptyset \neq S \cap B} \theta_S \prod_{S\cap B} m_b
        \,(\prod_{S \cap A} n_a - \prod_{S \cap A} n'_a)},

with ``psi_A(n) = prod_a c_a(n_a) exp(-i sum_{S in A} theta_S prod_S n)``: the couplings inside A
give a phase, those inside B cancel, and the A-B couplings ("cross terms") leave an average over
the configurations m of B. For pairwise couplings every cross term sees one spin of B and the
average factorizes, ``prod_b (p_b(0) + p_b(1) exp(-i sum_a theta_ab (n_a - n'_a)))`` (eq. 3.12 is
the two-spin case): cost ``4**|A|`` per coupled spin of B, for any geometry.

**k-body couplings, transfer matrix.** A cross term with several spins in B correlates them. The
coupled spins of B, ``b_1 < ... < b_m`` along the chain, are summed one at a time, carrying the bits
of the last ``w`` of them, where ``w`` is the largest distance (counted in coupled B spins) between
the first and last B spin of one cross term; the term's phase is applied when its last B spin is
summed. The state is ``(n, n', window)``: ``4**|A| * 2**w`` complex numbers, and the cost is
``m * 4**|A| * 2**w`` per time (``w = 0`` is the product formula). Only spins within the coupling
range of A enter, so the cost and memory do not grow with N beyond storing the couplings. Requests
above ``MAX_TRANSFER_ENTRIES`` are refused with the estimate. On a lattice of dimension d >= 2, the
row-major site order makes ``w`` grow with the linear size, so there only cross terms with a single
spin in B (pairwise H0, or k-body terms touching B once) are accepted (pass ``lattice=``).

**Entropy of large regions.** Let ``A_near`` be the sites of A that share a coupling with B. Since
``W = W_A W_B W_AB`` with commuting factors and ``chi0`` is a product,
``rho_A = W_A (sigma ⊗ |chi_far><chi_far|) W_A^dagger`` where ``sigma`` is the state of ``A_near``
dephased by the cross terms only. Hence ``S(A) = S(sigma)``, exactly, and by purity also
``= S(sigma_B)`` for ``B_near``: :func:`dephasing_entropy` of a half-infinite block costs
``4**|A_near|``, with ``|A_near|`` the coupling range (the number of sites of A within the H0
range of the cut), whatever the size of A. A deeper site of A enters only through couplings to B,
so dropping couplings below a cutoff (as :func:`jaxmbl.sample_lbit_hamiltonian` does) bounds
``|A_near|``; the entropy is then exact for that H0 and equal to the entropy of an open chain made of
``A_near`` and ``B_near`` alone.

Reference: B. Swingle, arXiv:1307.0507, §III.B-C.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._analysis.entanglement import _check_alpha, _renyi
from jaxmbl._core.batching import is_traced
from jaxmbl._core.conventions import basis_bits, complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import as_lattice, validate_region
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.linalg import eigvalsh_hf
from jaxmbl._core.validation import check_times
from jaxmbl._swingle.lbits import LbitHamiltonian, reduce_phase
from jaxmbl._swingle.model import SwingleModel

#: Largest transfer state ``4**|A| * 2**w`` (complex entries per realization and time).
MAX_TRANSFER_ENTRIES = 2**24
# Transfer-state entries alive at once across the (realization, time) jobs of one lax.map step.
_CHUNK_ENTRIES = 2**22


@dataclasses.dataclass(frozen=True)
class _Plan:
    """Static layout of one contraction, in local indices only (so translated cuts share a compile).

    ``inside``: local bit masks of the couplings inside the region; ``alphas``: distinct local masks
    of the region parts of cross terms; ``step_alpha``/``step_bmask``: per coupled B spin, padded
    tuples of (index into alphas, mask of the other B spins of the term in the window).
    """

    n_local: int
    window: int
    inside: tuple
    alphas: tuple
    step_alpha: tuple
    step_bmask: tuple

    @property
    def entries(self) -> int:
        return 4**self.n_local * 2**self.window

    @property
    def cost(self) -> int:
        return self.entries * max(1, len(self.step_alpha)) + 8**self.n_local


@functools.partial(
    jax.tree_util.register_dataclass,
    data_fields=["terms", "region", "b_sites", "inside_terms", "step_terms"],
    meta_fields=[],
)
@dataclasses.dataclass(frozen=True)
class _Gather:
    """Dynamic indices of a plan: couplings used, region sites, coupled B sites, per-step couplings."""

    terms: np.ndarray
    region: np.ndarray
    b_sites: np.ndarray
    inside_terms: np.ndarray
    step_terms: np.ndarray


def _check_h0(h0, lattice):
    if lattice is not None:
        lattice = as_lattice(lattice)
    if isinstance(h0, SwingleModel):
        return h0.h0, h0.lattice if lattice is None else lattice
    if not isinstance(h0, LbitHamiltonian):
        raise TypeError(f"h0 must be an LbitHamiltonian or a SwingleModel, got {type(h0).__name__}")
    if lattice is not None and lattice.n_sites != h0.n_sites:
        raise JaxmblError(f"lattice has {lattice.n_sites} sites but h0 has N={h0.n_sites}")
    return h0, lattice


@functools.lru_cache(maxsize=32)
def _touching(sites: tuple, n_sites: int, region: tuple) -> tuple:
    """``(flat index, sites, inside)`` of every coupling with a site in ``region``."""
    inside = np.zeros(n_sites, dtype=bool)
    inside[list(region)] = True
    out, offset = [], 0
    for group in sites:
        arr = np.asarray(group, dtype=np.int64).reshape(len(group), -1)
        hit = inside[arr]
        for i in np.nonzero(hit.any(axis=1))[0]:
            out.append((offset + int(i), tuple(int(s) for s in arr[i]), bool(hit[i].all())))
        offset += len(group)
    return tuple(out)


def _make_plan(terms, region: tuple, lattice) -> tuple:
    """Plan and gather indices for the couplings ``terms`` ((flat, sites) pairs) seen from ``region``."""
    n_local = len(region)
    local = {s: j for j, s in enumerate(region)}

    def lmask(ss):
        return sum(1 << (n_local - 1 - local[s]) for s in ss)

    inside, cross = [], []
    for flat, ss in terms:
        a_part = [s for s in ss if s in local]
        b_part = sorted(s for s in ss if s not in local)
        (cross if b_part else inside).append((flat, lmask(a_part), b_part))
    if lattice is not None and lattice.dim >= 2:
        multi = [ss for ss in (c[2] for c in cross) if len(ss) > 1]
        if multi:
            raise JaxmblError(
                f"h0: on a {lattice.dim}D lattice only couplings with a single site outside the region are "
                f"supported (pairwise H0 is exact in any geometry); a coupling has sites {multi[0]} outside it. "
                "Use max_order=2 or a 1D chain"
            )
    b_sites = sorted({b for c in cross for b in c[2]})
    pos = {b: i for i, b in enumerate(b_sites)}
    window = max((pos[c[2][-1]] - pos[c[2][0]] for c in cross), default=0)
    steps = [[] for _ in b_sites]
    for flat, am, bs in cross:
        j = pos[bs[-1]]
        steps[j].append((am, sum(1 << (j - 1 - pos[b]) for b in bs[:-1]), flat))
    inside.sort(key=lambda c: c[1])
    used = sorted({c[0] for c in inside} | {s[2] for st in steps for s in st})
    index = {f: i for i, f in enumerate(used)}
    alphas = tuple(sorted({s[0] for st in steps for s in st}))
    a_index = {a: i for i, a in enumerate(alphas)}
    width = max((len(st) for st in steps), default=0)
    pad = len(used)  # points at an appended zero phase
    step_alpha, step_bmask, step_terms = [], [], []
    for st in steps:
        st = sorted(st) + [(alphas[0], 0, None)] * (width - len(st))
        step_alpha.append(tuple(a_index[s[0]] for s in st))
        step_bmask.append(tuple(s[1] for s in st))
        step_terms.append([pad if s[2] is None else index[s[2]] for s in st])
    plan = _Plan(n_local, window, tuple(c[1] for c in inside), alphas, tuple(step_alpha), tuple(step_bmask))
    gather = _Gather(
        terms=np.asarray(used, dtype=np.int64),
        region=np.asarray(region, dtype=np.int64),
        b_sites=np.asarray(b_sites, dtype=np.int64),
        inside_terms=np.asarray([index[c[0]] for c in inside], dtype=np.int64),
        step_terms=np.asarray(step_terms, dtype=np.int64).reshape(len(steps), width),
    )
    return plan, gather


def _check_size(plan: _Plan, what: str):
    if plan.entries > MAX_TRANSFER_ENTRIES:
        raise JaxmblError(
            f"h0: {what} needs a transfer state of 4**{plan.n_local} x 2**{plan.window} = {plan.entries:.3g} complex "
            f"entries per realization and time (|A| = {plan.n_local} sites; a coupling joins B spins {plan.window} "
            f"coupled B spins apart), more than MAX_TRANSFER_ENTRIES = {MAX_TRANSFER_ENTRIES:.3g}. Use a smaller region, "
            "a lower max_order, or a larger cutoff (shorter range)"
        )


@functools.lru_cache(maxsize=32)
def rdm_plan(sites: tuple, n_sites: int, region: tuple, lattice=None) -> tuple:
    """Plan of ``rho_A`` itself: every coupling that touches A (those inside A give its phase)."""
    terms = [(f, s) for f, s, _ in _touching(sites, n_sites, region)]
    plan, gather = _make_plan(terms, region, lattice)
    _check_size(plan, f"region {region}")
    return plan, gather


@functools.lru_cache(maxsize=32)
def entropy_plan(sites: tuple, n_sites: int, region: tuple, lattice=None):
    """Cheapest exact plan for S(A): the near side of A or of B, seeing the cross terms only (None: S = 0)."""
    cross = [(f, s) for f, s, inside in _touching(sites, n_sites, region) if not inside]
    if not cross:
        return None
    in_a = set(region)
    sides = [tuple(sorted({r for _, s in cross for r in s if (r in in_a) == keep_a})) for keep_a in (True, False)]
    plans = [_make_plan(cross, side, lattice) for side in sides]
    best = min(plans, key=lambda pg: pg[0].cost)
    _check_size(best[0], f"the boundary of region (its {len(sides[0])} sites coupled to the complement)")
    return best


# ---------------------------------------------------------------------------- kernel (one job)
def _rho_one(theta, amps, plan: _Plan, gather: _Gather):
    """Return rho over the plan's region for one realization at one time; theta = reduced phases of gather.terms."""
    n_local, w = plan.n_local, plan.window
    cdt = amps.dtype
    theta = jnp.concatenate([theta, jnp.zeros(1, theta.dtype)])
    bits = basis_bits(n_local).astype(np.int64)
    configs = np.arange(2**n_local)
    a_loc = amps[gather.region]  # (|A|, 2)
    c = jnp.prod(a_loc[np.arange(n_local)[None, :], bits], axis=1)
    if plan.inside:
        covers = (configs[None, :] & np.array(plan.inside)[:, None]) == np.array(plan.inside)[:, None]
        phi = theta[gather.inside_terms] @ jnp.asarray(covers, theta.dtype)
        c = c * jnp.exp(-1j * phi).astype(cdt)
    rho0 = c[:, None] * c.conj()[None, :]
    if gather.b_sites.size == 0:
        return rho0
    prob = jnp.real(amps[gather.b_sites] * amps[gather.b_sites].conj())  # (m, 2)
    alphas = np.array(plan.alphas)
    a_mat = jnp.asarray((configs[None, :] & alphas[:, None]) == alphas[:, None], theta.dtype)
    window_states = np.arange(2**w)

    def step(v, x):
        terms, alpha_idx, bmask, p = x
        th = theta[terms]
        if w:
            b_mat = ((window_states[None, :] & bmask[:, None]) == bmask[:, None]).astype(theta.dtype)
            psi_ = jnp.einsum("t,tn,ts->ns", th, a_mat[alpha_idx], b_mat)
            u = jnp.exp(-1j * psi_).astype(cdt)
            f = u[:, None, :] * u.conj()[None, :, :]
            shape = v.shape[:2] + (2, 2 ** (w - 1))
            keep = jnp.sum(v.reshape(shape), axis=2) * p[0]
            flip = jnp.sum((v * f).reshape(shape), axis=2) * p[1]
            return jnp.stack([keep, flip], axis=-1).reshape(v.shape), None
        u = jnp.exp(-1j * (th @ a_mat[alpha_idx])).astype(cdt)
        return v * (p[0] + p[1] * (u[:, None] * u.conj()[None, :])), None

    dim = 2**n_local
    v0 = jnp.ones((dim, dim), cdt) if not w else jnp.zeros((dim, dim, 2**w), cdt).at[..., 0].set(1)
    xs = (
        jnp.asarray(gather.step_terms),
        jnp.asarray(np.array(plan.step_alpha, dtype=np.int64)),
        jnp.asarray(np.array(plan.step_bmask, dtype=np.int64)),
        prob.astype(cdt),
    )
    v, _ = lax.scan(step, v0, xs)
    return rho0 * (v if not w else jnp.sum(v, axis=-1))


def _entropy_of(rho, alpha):
    lam = eigvalsh_hf(rho)[::-1]
    # Eigensolver noise below numpy's matrix_rank tolerance is set to exact zeros (as in entropy).
    lam = jnp.where(lam > lam.shape[0] * jnp.finfo(lam.dtype).eps * lam[0], lam, 0)
    return _renyi(lam / jnp.real(jnp.trace(rho)), alpha)


@functools.partial(jax.jit, static_argnames=("plan", "alpha", "job_batch"))
def _dephasing_core(coef, amps, ts, gather, plan, alpha, job_batch):
    """``coef (R, M_used)``, ``amps (R, N, 2)``, ``ts (T,)`` -> ``(R, T) + out`` (rho, or S if alpha)."""
    n_t = ts.shape[0]

    def job(k):
        r, i = k // n_t, k % n_t
        rho = _rho_one(reduce_phase(coef[r], ts[i]), amps[r], plan, gather)
        return rho if alpha is None else _entropy_of(rho, alpha)

    out = lax.map(job, jnp.arange(coef.shape[0] * n_t), batch_size=job_batch)
    return out.reshape((coef.shape[0], n_t) + out.shape[1:])


# ---------------------------------------------------------------------------- validation
def check_amplitudes(amplitudes, n_sites: int, dtype, *, tol: float = 1e-10):
    """Product-state amplitudes ``(..., N, 2)``: rows ``(alpha_b, beta_b)`` of unit norm, cast to complex."""
    if not hasattr(amplitudes, "shape") and not isinstance(amplitudes, (list, tuple)):
        raise TypeError(
            f"amplitudes must be an array (..., N, 2) of complex amplitudes, got {type(amplitudes).__name__}"
        )
    a = jnp.asarray(amplitudes)
    if not jnp.issubdtype(a.dtype, jnp.number) or jnp.issubdtype(a.dtype, jnp.bool_):
        raise TypeError(f"amplitudes must be numeric, got dtype {a.dtype}")
    if a.ndim < 2 or a.shape[-2:] != (n_sites, 2):
        raise JaxmblError(
            f"amplitudes must have shape (..., N={n_sites}, 2): one row (alpha_b, beta_b) per site, got {a.shape}"
        )
    a = a.astype(jnp.promote_types(a.dtype, complex_dtype(dtype)))
    if not is_traced(a):
        norm2 = np.sum(np.abs(np.asarray(a)) ** 2, axis=-1)
        bad = np.argwhere(~(np.abs(norm2 - 1) <= tol))
        if bad.size:
            where = tuple(int(i) for i in bad[0])
            raise JaxmblError(
                f"amplitudes: every row must be normalized, |alpha_b|^2 + |beta_b|^2 = 1; row {where} has "
                f"{float(norm2[where]):.6g} ({len(bad)} bad rows). Divide each row by its norm"
            )
    return a


def _prepare(h0, amplitudes, region, ts, lattice, job_batch):
    h0, lattice = _check_h0(h0, lattice)
    n = h0.n_sites
    region = validate_region(region, n)
    if not region:
        raise JaxmblError("region must contain at least one site")
    amps = check_amplitudes(amplitudes, n, h0.dtype)
    ts, scalar = check_times(ts, h0.dtype)
    ts = jnp.atleast_1d(ts)
    if job_batch is not None and (int(job_batch) != job_batch or job_batch < 1):
        raise JaxmblError(f"job_batch must be a positive integer or None, got {job_batch!r}")
    try:
        batch = tuple(np.broadcast_shapes(h0.batch_shape, amps.shape[:-2]))
    except ValueError:
        raise JaxmblError(
            f"h0 (batch shape {h0.batch_shape}) and amplitudes (batch shape {amps.shape[:-2]}) do not broadcast"
        ) from None
    return h0, amps, region, ts, scalar, batch, lattice


def _run(h0, amps, ts, batch, plan, gather, alpha, job_batch):
    r = int(np.prod(batch)) if batch else 1
    coef = h0.flat_coef()[..., gather.terms]
    coef = jnp.broadcast_to(coef, batch + coef.shape[-1:]).reshape(r, -1)
    amps = jnp.broadcast_to(amps, batch + amps.shape[-2:]).reshape((r,) + amps.shape[-2:])
    if job_batch is None:
        job_batch = int(max(1, min(r * ts.shape[0], _CHUNK_ENTRIES // plan.entries)))
    return _dephasing_core(coef, amps, ts, gather, plan, alpha, job_batch)


def _finish(out, batch, scalar):
    out = out.reshape(batch + out.shape[1:])
    return jnp.squeeze(out, len(batch)) if scalar else out


# ---------------------------------------------------------------------------- public API
def dephasing_rdm(h0, amplitudes, region, ts, *, lattice=None, job_batch=None):
    """Exact l-bit-frame ``rho_A(t)`` of the product state ``(x)_b (alpha_b|0> + beta_b|1>)`` under H0.

    ``chi(t) = exp(-i H0 t) chi0`` (paper eq. 3.17-3.19); see the module docstring for the formula,
    the transfer matrix of k-body couplings and the cost ``m 4**|A| 2**w`` per time, independent
    of N. Phases are reduced per coupling (:func:`reduce_phase`), so ``t = 1e12`` is exact.

    Args:
        h0: an :class:`LbitHamiltonian` (or a :class:`SwingleModel`, whose ``h0`` and lattice are
            used), single or batched (leading axes of the couplings).
        amplitudes: ``(..., N, 2)`` complex, row b = ``(alpha_b, beta_b)``, each of unit norm; leading
            axes broadcast with the batch of ``h0``.
        region: distinct sites (any order, contiguous or not), at most about 10-12.
        ts: a time or a 1D array of times (units of 1/J0).
        lattice: optional :class:`Lattice` or int N (the open chain); in d >= 2 only couplings touching the complement of the
            region once are accepted.
        job_batch: number of (realization, time) jobs per ``lax.map`` step (default: as many as fit
            ``2**22`` transfer-state entries); changes memory and speed, not the result.

    Returns:
        ``batch + (T, 2**|A|, 2**|A|)`` complex, index bits = the sites of A in increasing order,
        smallest site most significant (as :func:`reduced_density_matrix`); a scalar ``ts`` drops T.

    Raises:
        JaxmblError: for non-normalized amplitude rows, a region out of range or empty, shapes that do
            not broadcast, or a transfer state above ``MAX_TRANSFER_ENTRIES`` (with the estimate).
        TypeError: if ``h0`` is not an LbitHamiltonian or SwingleModel.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 0.7, (1,): 0.4, (0, 1): 0.25})
        >>> amps = np.full((2, 2), 2**-0.5)
        >>> rho = dephasing_rdm(h0, amps, [0], np.pi / 0.25)      # J12 t = pi: maximally mixed (eq. 3.12)
        >>> (np.round(np.asarray(rho).real, 12) + 0.0).tolist()    # + 0.0 turns -0.0 into 0.0
        [[0.5, 0.0], [0.0, 0.5]]
    """
    h0, amps, region, ts, scalar, batch, lattice = _prepare(h0, amplitudes, region, ts, lattice, job_batch)
    plan, gather = rdm_plan(h0.sites, h0.n_sites, region, lattice)
    r = int(np.prod(batch)) if batch else 1
    check_state_memory(2 * len(region), r * ts.shape[0], amps.dtype, what="density-matrix entries")
    return _finish(_run(h0, amps, ts, batch, plan, gather, None, job_batch), batch, scalar)


def dephasing_entropy(h0, amplitudes, region, ts, *, alpha=1, lattice=None, job_batch=None):
    """Exact l-bit-frame entanglement entropy ``S_alpha(A, t)`` of a dephasing product state (nats).

    Uses ``S(A) = S(sigma)`` with ``sigma`` the state of the sites of A (or of B, whichever is
    cheaper) that share a coupling with the other side, dephased by the cross couplings only
    (module docstring). So A may be huge, e.g. half of a chain of 10**4 spins: the cost is
    ``4**|A_near|`` with ``|A_near|`` set by the coupling range at the cut. No coupling across the
    cut gives 0.

    Args:
        h0: the l-bit Hamiltonian, as in :func:`dephasing_rdm`.
        amplitudes: single-site amplitudes, as in :func:`dephasing_rdm`.
        region: sites of A (any size; what counts is its boundary).
        ts: times, as in :func:`dephasing_rdm`.
        alpha: Rényi index > 0 or ``np.inf`` (1 = von Neumann), static.
        lattice: as in :func:`dephasing_rdm`.
        job_batch: as in :func:`dephasing_rdm`.

    Returns:
        ``batch + (T,)`` real entropies in nats (scalar ``ts`` drops T).

    Raises:
        JaxmblError: as :func:`dephasing_rdm`, the size check applying to the near side of the cut.

    Example:
        >>> h0 = lbit_hamiltonian(3, {(0, 1): 0.5, (1, 2): 0.25})
        >>> amps = np.full((3, 2), 2**-0.5)
        >>> round(float(dephasing_entropy(h0, amps, [0], np.pi / 0.5)), 6)    # J01 t = pi: ln 2
        0.693147
    """
    alpha = _check_alpha(alpha)
    h0, amps, region, ts, scalar, batch, lattice = _prepare(h0, amplitudes, region, ts, lattice, job_batch)
    planned = entropy_plan(h0.sites, h0.n_sites, region, lattice)
    if planned is None:
        return jnp.zeros(batch + (() if scalar else ts.shape), h0.dtype)
    return _finish(_run(h0, amps, ts, batch, *planned, alpha, job_batch), batch, scalar)


def boundary_sites(h0, region) -> tuple:
    """``(A_near, B_near)``: the sites of A and of its complement that share a coupling of h0.

    ``S(A, t)`` of every l-bit product state is fixed by these sites and the couplings between them
    (module docstring); their sizes set the cost of :func:`dephasing_entropy`.

    Args:
        h0: an :class:`LbitHamiltonian` or :class:`SwingleModel` (only its term sites are read).
        region: sites of A.

    Returns:
        ``(A_near, B_near)``, two sorted tuples of site indices.

    Raises:
        JaxmblError: if the region has sites out of range.
        TypeError: if ``h0`` is not an LbitHamiltonian or SwingleModel.

    Example:
        >>> h0 = lbit_hamiltonian(6, {(1, 2): 1.0, (2, 4): 0.5, (0, 1): 0.25})
        >>> boundary_sites(h0, range(3))
        ((2,), (4,))
    """
    h0, _ = _check_h0(h0, None)
    region = validate_region(region, h0.n_sites)
    cross = [s for _, s, inside in _touching(h0.sites, h0.n_sites, region) if not inside]
    in_a = set(region)
    near_a = tuple(sorted({r for s in cross for r in s if r in in_a}))
    near_b = tuple(sorted({r for s in cross for r in s if r not in in_a}))
    return near_a, near_b
