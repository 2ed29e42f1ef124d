"""Per-eigenstate fidelity susceptibility and the adiabatic-gauge-potential (AGP) norm (paper §IV).

For ``H + g V`` at ``g = 0`` and an eigenstate ``|n>`` of H (energy ``E_n``, ``w_mn = E_m - E_n``):

* regularized (``mu``; Pandey, Claeys, Campbell, Polkovnikov, Sels, PRX 10, 041017 (2020)):
  ``chi_n(mu) = sum_{m != n} |<m|V|n>|^2 w_mn^2 / (w_mn^2 + mu^2)^2``; ``mu -> 0`` gives the
  fidelity susceptibility ``||d psi_n/dg||^2`` of perturbation theory (eq. 4.22);
* filtered (``gap``): ``chi_n = sum_m |<m|V|n>|^2 F~(w_mn)^2 = ||J_V |n>||^2`` with the quasi-adiabatic
  generator J_V of the family ``H + sV`` and the bump filter :func:`filter_ft` (eq. 4.23):
  resonances ``|w| < gap`` are removed smoothly.

Both weights are smooth, even in ``w`` and vanish at ``w = 0``, so degenerate pairs contribute 0
and gradients stay finite. The AGP norm is ``(1/D) sum_n chi_n(mu)`` (the Frobenius norm of the
regularized AGP, Pandey et al.). A localized H has ``chi_typ = exp<ln chi_n>`` independent of N
for a local V; an ergodic one has ``chi_typ ~ 1/(level spacing)`` growing like ``2^N`` or faster.

Routes:

* **Swingle models, exact and matrix free.** Eigenstate n is ``U|n>`` with energy ``E(n)``
  (no diagonalization), so ``c = U^dagger V U |n>`` costs two U applications and one V
  application and ``chi_n = sum_m |c_m|^2 w(E(m) - E(n))`` is one pass over ``2**N`` numbers. Memory
  O(2**N) per state in flight (``state_batch`` states at a time, times the realizations).
* **Any other H** (PauliSum, PerturbedModel, dense): exact diagonalization with :func:`eigh`, in the
  full space or a total-S^z ``sector``, or precomputed ``eigenpairs`` (all D of them).
* **Any H, a few eigenstates, matrix free** (``mu`` only): ``eigenpairs`` holding k < D pairs (e.g.
  the :class:`InteriorEigh` of :func:`interior_eigh`, N = 16-20) go through the regularized resolvent,
  ``chi_n(mu) = ||f_mu(H - E_n) Q_n V|n>||^2`` with ``f_mu(w) = w/(w^2 + mu^2)`` applied by a Chebyshev
  series (:func:`resolvent_susceptibility`, degree ~ ``a ln(1/tol)/mu``): no other eigenpair is needed.
"""

from __future__ import annotations

import functools
import numbers

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._analysis.spectra import bootstrap_mean
from jaxmbl._core.batching import batch_shape, is_traced, map_batch
from jaxmbl._core.conventions import basis_bits, complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.operators import DenseOperator
from jaxmbl._hamiltonians.ed import eigh, hamiltonian_blocks
from jaxmbl._hamiltonians.interior import InteriorEigh
from jaxmbl._hamiltonians.pauli import PauliSum, sector_basis
from jaxmbl._hamiltonians.polynomial import resolvent_susceptibility
from jaxmbl._stability.adiabatic import _spectral_filter
from jaxmbl._stability.families import n_sites_of, operator_mv
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel

#: Largest dimension for which ``states=None`` means every eigenstate.
MAX_DEFAULT_STATES = 2**14
_HERMITIAN_RTOL = 1e-10
#: Chebyshev accuracy of the resolvent route, relative to max |f_mu| = 1/(2 mu).
_RESOLVENT_TOL = 1e-12
# Vectors alive per state in flight on the Swingle route: psi, V psi, c and the weights.
_VECTORS_PER_STATE = 4


# ----------------------------------------------------------------------------- weights
def _weight(kind, omega, scale):
    """``w(omega)``: the Lorentzian ``w^2/(w^2 + mu^2)^2`` or the squared filter ``F~(w)^2``."""
    if kind == "mu":
        w2 = omega * omega
        return w2 / (w2 + scale * scale) ** 2
    return _spectral_filter(omega, scale) ** 2


def _abs2(c):
    return jnp.real(c) ** 2 + jnp.imag(c) ** 2  # smooth at c = 0, unlike |c|


def _regulator(mu, gap):
    if (mu is None) == (gap is None):
        got = "both" if mu is not None else "neither"
        raise JaxmblError(
            f"pass exactly one of mu= (Lorentzian regulator, PRX 10, 041017) or gap= (the bump-filter scale "
            f"of eq. 4.23); got {got}"
        )
    kind, value = ("mu", mu) if mu is not None else ("gap", gap)
    if is_traced(value):
        return kind, value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise JaxmblError(f"{kind} must be a positive real number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise JaxmblError(f"{kind} must be finite and > 0, got {value!r}")
    return kind, v


# ----------------------------------------------------------------------------- validation
def _batch_of(V):
    if isinstance(V, (np.ndarray, jax.Array)):
        return tuple(V.shape[:-2])
    return batch_shape(V)


def _check_v(V, n_sites, batch):
    """Common checks of V: sites, batch axes, Hermiticity. Returns whether V carries the batch."""
    n_v = n_sites_of(V, "V")
    if n_v != n_sites:
        raise JaxmblError(f"V acts on {n_v} sites but H has n_sites={n_sites}; build V on the same lattice")
    vb = _batch_of(V)
    if vb and vb != tuple(batch):
        raise JaxmblError(f"V has batch shape {vb} but H has {tuple(batch)}: V must be shared or batched like H")
    if not is_traced(V):
        if isinstance(V, PauliSum):
            if not V.is_hermitian(
                atol=_HERMITIAN_RTOL * max(1.0, float(np.max(np.abs(np.asarray(V.coef)), initial=0)))
            ):
                raise JaxmblError("V must be Hermitian (real combined Pauli coefficients)")
        elif isinstance(V, (np.ndarray, jax.Array)):
            Vn = np.asarray(V)
            if not np.all(np.isfinite(Vn)):
                raise JaxmblError("V contains non-finite entries")
            dev = float(np.max(np.abs(Vn - np.conj(np.swapaxes(Vn, -1, -2)))))
            if dev > _HERMITIAN_RTOL * max(1.0, float(np.max(np.abs(Vn)))):
                raise JaxmblError(f"V must be Hermitian: max |V - V^dagger| = {dev:.3g}")
    return bool(vb)


def _check_states(states, D, what):
    if states is None:
        if D > MAX_DEFAULT_STATES:
            raise JaxmblError(
                f"states=None means all D={D} eigenstates, more than {MAX_DEFAULT_STATES}: pass states= ({what})"
            )
        return jnp.arange(D)
    if is_traced(states):
        return jnp.atleast_1d(states)
    s = np.atleast_1d(np.asarray(states))
    if s.ndim != 1 or s.dtype.kind not in "iu":
        raise JaxmblError(f"states must be a 1-d array of integer indices ({what}), got {np.asarray(states)!r}")
    if s.size == 0:
        raise JaxmblError("states is empty: pass at least one eigenstate index")
    if s.min() < 0 or s.max() >= D:
        raise JaxmblError(f"states must lie in 0..{D - 1} ({what}), got values in [{s.min()}, {s.max()}]")
    return jnp.asarray(s)


def _check_state_batch(state_batch):
    if isinstance(state_batch, bool) or not isinstance(state_batch, numbers.Integral) or state_batch < 1:
        raise JaxmblError(f"state_batch must be an integer >= 1, got {state_batch!r}")
    return int(state_batch)


def _map_pair(core, H, V, v_batched, batch, *args):
    """``core(H_r, V_r, *args)`` for every realization r (V shared when not batched)."""
    if v_batched:
        return map_batch(lambda hv, *a: core(hv[0], hv[1], *a), (H, V), batch, *args)
    return map_batch(lambda h, v, *a: core(h, v, *a), H, batch, V, *args)


# ----------------------------------------------------------------------------- Swingle route
@functools.partial(jax.jit, static_argnames=("kind", "state_batch"))
def _swingle_core(model, V, idx, scale, *, kind, state_batch):
    E = lbit_energies(model.h0)
    cdt = complex_dtype(model.dtype)

    def one(n):
        psi = model.U.mv(jnp.zeros(E.shape, cdt).at[n].set(1.0))
        c = model.U.rmv(operator_mv(V, psi).astype(cdt))
        return jnp.sum(_abs2(c) * _weight(kind, E - E[n], scale))

    # Pad to whole chunks: lax.map's batch_size would compile the body twice (chunks + remainder).
    k = idx.shape[0]
    chunks = -(-k // state_batch)
    padded = jnp.concatenate([idx, jnp.broadcast_to(idx[:1], (chunks * state_batch - k,))])
    out = lax.map(jax.vmap(one), padded.reshape(chunks, state_batch))
    return out.reshape(-1)[:k]


def _swingle_route(model, V, kind, scale, states, state_batch):
    n = model.n_sites
    v_batched = _check_v(V, n, model.batch_shape)
    if isinstance(V, (np.ndarray, jax.Array)):
        V = DenseOperator(jnp.asarray(V))
    elif not hasattr(V, "mv"):
        raise TypeError(f"V must be a PauliSum, a dense array or an operator with mv(); got {type(V).__name__}")
    idx = _check_states(states, 2**n, "basis indices n: eigenstate U|n>, energy E(n)")
    sb = min(_check_state_batch(state_batch), int(idx.shape[0]))
    realizations = max(1, int(np.prod(model.batch_shape)))
    check_state_memory(n, _VECTORS_PER_STATE * sb * realizations, model.dtype, what="vectors in flight")
    core = functools.partial(_swingle_core, kind=kind, state_batch=sb)
    return _map_pair(core, model, V, v_batched, model.batch_shape, idx, jnp.asarray(scale, model.dtype))


# ----------------------------------------------------------------------------- ED route
@functools.partial(jax.jit, static_argnames=("kind",))
def _spectral_core(E, vecs, Vd, idx, scale, *, kind):
    cols = vecs[:, idx]
    Vt = jnp.matmul(jnp.conj(vecs).T, jnp.matmul(Vd.astype(vecs.dtype), cols, precision=HIGHEST), precision=HIGHEST)
    omega = E[:, None] - E[idx][None, :]
    return jnp.sum(_abs2(Vt) * _weight(kind, omega, scale), axis=0)


def _v_block(V, n_sites, sector, batch):
    """Dense block of V ``(..., D, D)`` in the sector (checked to be conserved), and whether batched."""
    v_batched = _check_v(V, n_sites, batch)
    if not isinstance(V, (PauliSum, np.ndarray, jax.Array)) and not hasattr(V, "dense"):
        if not hasattr(V, "mv"):
            raise TypeError(
                f"V must be a PauliSum, a dense array or an operator with dense() or mv(); got {type(V).__name__}"
            )
        V = jax.vmap(V.mv)(jnp.eye(2**n_sites, dtype=complex_dtype(real_dtype(None)))).T
    if sector is not None and not is_traced(V):
        if isinstance(V, PauliSum):
            conserved = V.conserves_total_z()
        else:
            mat = np.asarray(V if isinstance(V, (np.ndarray, jax.Array)) else V.dense())
            sz = n_sites / 2 - basis_bits(n_sites).sum(axis=1)
            leak = float(np.max(np.abs(mat) * (sz[:, None] != sz[None, :]), initial=0.0))
            conserved = leak <= _HERMITIAN_RTOL * max(1.0, float(np.max(np.abs(mat))))
        if not conserved:
            raise JaxmblError(
                f"sector={sector!r} needs V to conserve total Z, but V changes S^z (its matrix elements leave "
                "the sector): use sector=None"
            )
    return hamiltonian_blocks(V, sector), v_batched


def _sector_dim(n_sites, sector):
    return (2**n_sites if sector is None else len(sector_basis(n_sites, sector)),)


def _check_eigenpairs(eigenpairs, D_expected):
    if isinstance(eigenpairs, InteriorEigh):
        eigenpairs = (eigenpairs.energies, eigenpairs.vectors)
    try:
        E, vecs = eigenpairs
    except (TypeError, ValueError):
        raise JaxmblError("eigenpairs must be a pair (E, vecs): E (..., k), vecs (..., D, k)") from None
    E, vecs = jnp.asarray(E), jnp.asarray(vecs)
    if vecs.ndim < 2 or E.shape != vecs.shape[:-2] + vecs.shape[-1:]:
        raise JaxmblError(f"eigenpairs: E must be (..., k) and vecs (..., D, k), got shapes {E.shape} and {vecs.shape}")
    D, k = vecs.shape[-2:]
    if D_expected is not None and D != D_expected:
        raise JaxmblError(f"eigenpairs: vecs has D={D} rows but the space (sector) has dimension {D_expected}")
    if jnp.iscomplexobj(E):
        raise JaxmblError(f"eigenpairs: E must be real, got dtype {E.dtype}")
    return E, vecs.astype(jnp.result_type(vecs, jnp.complex64))


def _ed_route(H, V, kind, scale, states, sector, eigenpairs):
    if H is None and eigenpairs is None:
        raise JaxmblError("H is None: pass H, or eigenpairs=(E, vecs) of H")
    n_sites = n_sites_of(V, "V") if H is None else n_sites_of(H, "H")
    if sector is not None:
        sector_basis(n_sites, sector)  # validates the value
    if eigenpairs is None:
        E, vecs = eigh(H, sector)
    else:
        E, vecs = _check_eigenpairs(eigenpairs, _sector_dim(n_sites, sector)[0])
        if vecs.shape[-1] != vecs.shape[-2]:
            return _resolvent_route(H, V, kind, scale, states, sector, E, vecs)
    batch = tuple(E.shape[:-1])
    Vd, v_batched = _v_block(V, n_sites, sector, batch)
    idx = _check_states(states, vecs.shape[-1], "indices into the ascending spectrum")
    core = functools.partial(_spectral_core, kind=kind)
    scale = jnp.asarray(scale, E.dtype)
    if v_batched:
        return map_batch(lambda t, i, s: core(t[0], t[1], t[2], i, s), (E, vecs, Vd), batch, idx, scale)
    return map_batch(lambda t, v, i, s: core(t[0], t[1], v, i, s), (E, vecs), batch, Vd, idx, scale)


def _at(tree, i):
    """Realization ``i`` (an index tuple) of a batched pytree."""
    return jax.tree_util.tree_map(lambda leaf: leaf[i], tree)


def _resolvent_route(H, V, kind, scale, states, sector, E, vecs):
    """chi_n of a partial set of eigenpairs: ``||f_mu(H - E_n) Q_n V|n>||^2``, no other eigenpair needed."""
    D, k = vecs.shape[-2:]
    if kind != "mu":
        raise JaxmblError(
            f"eigenpairs holds {k} of the D={D} eigenstates: a partial set goes through the regularized resolvent, "
            "which needs mu= (gap= sums F~(w)^2 over every eigenstate: pass all D eigenpairs)"
        )
    if H is None:
        raise JaxmblError(f"H is None: a partial set of eigenpairs ({k} of D={D}) needs H to apply the resolvent")
    if is_traced((E, vecs, scale)):
        raise JaxmblError(
            "fidelity_susceptibility with a partial set of eigenpairs is eager only (its degree is chosen on the host)"
        )
    idx = np.asarray(_check_states(states, k, "indices into the given eigenpairs"))
    batch = tuple(E.shape[:-1])
    if batch:
        if batch_shape(H) != batch:
            raise JaxmblError(f"H: batch shape {batch_shape(H)} differs from the eigenpairs' {batch}")
        if batch_shape(V) not in ((), batch):
            raise JaxmblError(f"V: batch shape {batch_shape(V)} is neither () nor the eigenpairs' {batch}")
    out = []
    for i in np.ndindex(*batch):
        Hi = _at(H, i) if batch else H
        Vi = _at(V, i) if batch and batch_shape(V) == batch else V
        chi, _ = resolvent_susceptibility(
            Hi, Vi, E[i][idx], vecs[i][:, idx], float(scale), sector=sector, tol=_RESOLVENT_TOL
        )
        out.append(chi)
    return jnp.stack(out).reshape(batch + (len(idx),))


# ----------------------------------------------------------------------------- public
def fidelity_susceptibility(
    H, V, *, mu=None, gap=None, states=None, sector=None, eigenpairs=None, state_batch: int = 16
):
    """Per-eigenstate fidelity susceptibility ``chi_n`` of ``H + gV`` at ``g = 0`` (paper §IV).

        chi_n(mu)  = sum_{m != n} |<m|V|n>|^2 w_mn^2 / (w_mn^2 + mu^2)^2,
        chi_n(gap) = sum_m |<m|V|n>|^2 F~(w_mn)^2 = ||J_V |n>||^2          (eq. 4.23),

    ``w_mn = E_m - E_n``, :func:`filter_ft` ``F~`` with scale ``gap``. Exactly one of ``mu``
    (Pandey et al., PRX 10, 041017 (2020)) and ``gap`` is required. Degenerate pairs contribute 0,
    and values and gradients (in g's direction V, H's couplings, ``xi``, ``mu``/``gap``) are finite
    at exact degeneracies. On the ED route an individual eigenvector inside an exactly degenerate
    level is not unique; ``chi_n`` then refers to the one LAPACK returns, and its gradient follows the
    convention of ``jm.eigh`` (no rotation inside the level).

    Args:
        H: a :class:`SwingleModel` (exact route: eigenstate n is ``U|n>``, energy ``E(n)``, no
            diagonalization), or a :class:`PauliSum`, :class:`PerturbedModel` or dense ``(..., D, D)``
            array (ED route). Leading batch axes are realizations. May be ``None`` with ``eigenpairs``.
        V: the perturbation: a :class:`PauliSum`, a dense ``(..., 2**N, 2**N)`` array, or an operator
            with ``mv`` (e.g. ``Family.dH(s)``); shared by all realizations or batched like H.
        mu: Lorentzian regulator ``> 0`` (energy units of H), or
        gap: filter scale ``Delta > 0``.
        states: eigenstate indices ``(k,)``: basis indices n for a SwingleModel, indices into the
            ascending spectrum (of the sector) otherwise. Default: all (D <= 2**14).
        sector: total S^z block of the ED route (H and V must conserve total Z).
        eigenpairs: ``(E (..., k), vecs (..., D, k))`` of H (in the sector basis if ``sector``), or
            an :class:`InteriorEigh`, used instead of diagonalizing. All D pairs: the spectral sum;
            k < D pairs (``mu`` only, eager): the resolvent route of the module docstring, with
            ``states`` indexing the given pairs (default all k).
        state_batch: Swingle route: states processed at once (memory ~ 4 vectors of ``2**N`` each).

    Returns:
        ``chi``: real array ``batch + (k,)`` (units of 1/energy^2).

    Raises:
        JaxmblError: both or neither of mu/gap; a non-positive mu/gap; V on another number of sites
            or not Hermitian; states out of range; sector not conserved by H or V; a partial set of
            eigenpairs with ``gap`` or without H; memory.
        TypeError: H or V of an unsupported type.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> V = PauliSum.from_terms(4, [("X", [1], 1.0)])
        >>> fidelity_susceptibility(model, V, mu=0.1, states=[0, 3]).shape
        (2,)
    """
    kind, scale = _regulator(mu, gap)
    if isinstance(H, SwingleModel):
        if sector is not None:
            raise JaxmblError(
                "sector= is for the ED route; a SwingleModel's eigenstates U|n> are labelled by basis index n: "
                "pass states=jm.sector_basis(N, sector) instead"
            )
        if eigenpairs is not None:
            raise JaxmblError("eigenpairs= is for the ED route; a SwingleModel's eigen-data are exact (E(n), U|n>)")
        return _swingle_route(H, V, kind, scale, states, state_batch)
    return _ed_route(H, V, kind, scale, states, sector, eigenpairs)


def agp_norm(H, V, *, mu, states=None, sector=None, eigenpairs=None, state_batch: int = 16):
    """Frobenius norm of the regularized adiabatic gauge potential: ``(1/D) sum_n chi_n(mu)``.

    ``||A_V||^2 = (1/D) sum_n sum_{m != n} |<m|V|n>|^2 w^2/(w^2 + mu^2)^2`` (Pandey, Claeys,
    Campbell, Polkovnikov, Sels, PRX 10, 041017 (2020)); :func:`fidelity_susceptibility` with ``mu``,
    averaged over the eigenstates. With ``states`` it is the unbiased estimate from that sample.

    Args:
        H: as in :func:`fidelity_susceptibility` (SwingleModel, PauliSum, PerturbedModel, dense).
        V: the perturbation, as in :func:`fidelity_susceptibility`.
        mu: the regulator ``> 0`` (Pandey et al. take ``mu`` of order ``N 2^-N`` times the bandwidth).
        states: eigenstates to average over (default all); a sample gives an unbiased estimate.
        sector: total S^z block (ED route).
        eigenpairs: all eigenpairs of H, instead of diagonalizing (ED route).
        state_batch: states at once on the Swingle route.

    Returns:
        real array ``batch`` (one value per realization).

    Example:
        >>> H = random_field_heisenberg(jax.random.key(0), 6, W=1.0)
        >>> V = PauliSum.from_terms(6, [("Z", [2], 1.0)])
        >>> float(agp_norm(H, V, mu=0.1, sector=0)) > 0
        True
    """
    chi = fidelity_susceptibility(
        H, V, mu=mu, states=states, sector=sector, eigenpairs=eigenpairs, state_batch=state_batch
    )
    return jnp.mean(chi, axis=-1)


def typical_susceptibility(key, chi, *, n_boot: int = 1000, log: bool = False):
    """Typical value ``chi_typ = exp<ln chi_n>`` with a bootstrap error.

    The log-average is taken over the eigenstates (last axis) of each realization, then over the
    realizations (all leading axes pooled); the error is the bootstrap standard error over the
    realizations (over the eigenstates when there is one realization), as ``jm.mean_ratio`` does.
    ``chi_n = 0`` (V commuting with the eigenstate) gives ``ln chi = -inf`` and ``chi_typ = 0``.

    Args:
        key: ``jax.random`` key of the bootstrap resampling.
        chi: real ``(..., k)`` susceptibilities from :func:`fidelity_susceptibility`, ``>= 0``.
        n_boot: number of bootstrap resamples (>= 2).
        log: return ``<ln chi>`` and its error instead (what a fit of ``ln chi_typ`` against N needs).

    Returns:
        ``(chi_typ, error)`` (error ``= chi_typ * error of <ln chi>`` to first order), or with
        ``log=True`` ``(<ln chi>, error)``.

    Example:
        >>> chi = jnp.array([[1.0, 100.0], [10.0, 10.0]])
        >>> round(float(typical_susceptibility(jax.random.key(0), chi)[0]), 6)
        10.0
    """
    chi = jnp.asarray(chi)
    if chi.ndim < 1 or chi.shape[-1] < 1 or jnp.iscomplexobj(chi):
        raise JaxmblError(f"chi must be a real array (..., k) of susceptibilities, got shape {chi.shape}")
    if not is_traced(chi) and np.any(np.asarray(chi) < 0):
        raise JaxmblError("chi must be >= 0 (susceptibilities are sums of squares)")
    if isinstance(n_boot, bool) or int(n_boot) != n_boot or n_boot < 2:
        raise JaxmblError(f"n_boot must be an integer >= 2, got {n_boot!r}")
    lnchi = jnp.log(chi.astype(jnp.promote_types(chi.dtype, real_dtype(None))))
    samples = lnchi.reshape(-1, chi.shape[-1]).mean(axis=-1) if chi.ndim > 1 else lnchi
    if samples.size < 2:
        samples = lnchi.reshape(-1)
    if samples.size < 2:
        raise JaxmblError("chi must hold at least 2 values (realizations or eigenstates) for an error bar")
    mean, err = bootstrap_mean(samples, key, int(n_boot))
    if log:
        return mean, err
    typ = jnp.exp(mean)
    return typ, typ * err
