"""Conversion between the l-bit Hamiltonian H0 (occupations ``P_r``) and Pauli Z strings.

H0 of paper eq. (2.1) is written in l-bit occupations ``P_r = (1 - Z_r)/2`` (``P_r |n> = n_r |n>``):

    H0 = sum_S J_S prod_{r in S} P_r,     prod_{r in S} P_r = 2^{-|S|} sum_{T subset of S} (-1)^{|T|} Z_T,

with ``Z_T = prod_{r in T} Z_r`` (``Z_{empty}`` = identity). Conversely ``Z_r = 1 - 2 P_r`` gives

    Z_T = sum_{S subset of T} (-2)^{|S|} P_S,   so   J_S = (-2)^{|S|} sum_{T superset of S} c_T,

and the identity part ``sum_T c_T`` (the energy of the all-up state ``|0...0>``) is an energy offset:
an :class:`LbitHamiltonian` has no constant term (``E(0) = 0``), so :func:`pauli_to_lbit` returns it
separately. Both maps are exact linear maps of the coefficients: the structure (which strings and
sets exist) is computed on the host from the sites/labels, the coefficients go through a traced
``segment_sum``, so both work for any N (64 and beyond; nothing of size ``2^N``) and under
``jax.jit``/``jax.vmap``/``jax.grad`` in the coefficients.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.conventions import real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.pauli_algebra import concrete_labels
from jaxmbl._hamiltonians.pauli_kernels import _structure_of
from jaxmbl._swingle.lbits import LbitHamiltonian

_HERMITIAN_RTOL = 1e-10


def _check_expansion_memory(n_rows: int, n_sites: int, what: str) -> None:
    """Refuse an expansion of ``n_rows`` strings before allocating (labels, sort copies, indices)."""
    need = 4.0 * n_rows * (n_sites + 16)
    have = available_memory_bytes()
    if need > have:
        raise JaxmblError(
            f"{what} expands into {n_rows} strings and needs about {need / 2**30:.3g} GiB, more than the "
            f"{have / 2**30:.3g} GiB available (set JAXMBL_MEMORY_LIMIT_GB to change the limit)"
        )


def _subset_bits(k: int) -> np.ndarray:
    """All subsets of k elements as a boolean array (2^k, k); row b has the bits of b (element 0 = LSB)."""
    return ((np.arange(2**k)[:, None] >> np.arange(k)[None, :]) & 1).astype(bool)


def lbit_to_pauli(h0: LbitHamiltonian) -> PauliSum:
    """H0 as a sum of Z strings, ``H0 = sum_T c_T Z_T`` with ``c_T = sum_{S superset of T} J_S (-1)^{|T|} 2^{-|S|}``.

    Each ``prod_{r in S} P_r`` expands into its ``2^{|S|}`` Z strings; equal strings are combined,
    so the result has one term per distinct string (sorted), the identity string (all ``I``) among
    them carrying ``sum_S J_S 2^{-|S|}``: ``lbit_to_pauli(h0).dense()`` is exactly
    ``diag(lbit_energies(h0))``. Works for any N (no ``2^N`` object) and is linear and traceable in
    the couplings (``jax.vmap`` over a batch of realizations with shared sites).

    Args:
        h0: one realization of an :class:`LbitHamiltonian` (``batch_shape == ()``).

    Returns:
        A real :class:`PauliSum` of I/Z strings on ``h0.n_sites`` sites (energy units of the couplings).

    Raises:
        TypeError: if ``h0`` is not an :class:`LbitHamiltonian`.
        JaxmblError: for a batch of realizations (index one, or ``jax.vmap``), or an expansion
            (``sum_S 2^{|S|}`` strings) that does not fit in memory.

    Example:
        >>> h0 = lbit_hamiltonian(2, {(0,): 1.0, (0, 1): 0.5})   # P_0 + 0.5 P_0 P_1
        >>> sorted(lbit_to_pauli(h0).to_list())
        [('II', 0.625), ('IZ', -0.125), ('ZI', -0.625), ('ZZ', 0.125)]
    """
    if not isinstance(h0, LbitHamiltonian):
        raise TypeError(f"h0 must be an LbitHamiltonian, got {type(h0).__name__}")
    if h0.batch_shape:
        raise JaxmblError(
            f"h0 has batch shape {h0.batch_shape}: lbit_to_pauli converts one realization; index it "
            "(jax.tree.map(lambda c: c[i], h0)) or jax.vmap over the couplings"
        )
    n = h0.n_sites
    _check_expansion_memory(sum(len(g) * 2 ** len(g[0]) for g in h0.sites), n, "lbit_to_pauli(h0)")
    labels, src, factor, start = [], [], [], 0
    for group in h0.sites:
        sites = np.asarray(group, dtype=np.int64).reshape(len(group), -1)
        m, k = sites.shape
        bits = _subset_bits(k)  # (2^k, k): which members of S carry a Z
        lab = np.zeros((m, 2**k, n), np.int8)
        rows = np.broadcast_to(np.arange(m)[:, None, None], (m, 2**k, k))
        subs = np.broadcast_to(np.arange(2**k)[None, :, None], (m, 2**k, k))
        lab[rows, subs, np.broadcast_to(sites[:, None, :], (m, 2**k, k))] = np.where(bits, 3, 0)[None]
        labels.append(lab.reshape(-1, n))
        src.append(np.repeat(np.arange(start, start + m), 2**k))
        factor.append(np.tile((-1.0) ** bits.sum(1) / 2.0**k, m))
        start += m
    labels = np.concatenate(labels)
    uniq, slot = np.unique(labels, axis=0, return_inverse=True)
    J = h0.flat_coef()
    vals = jnp.asarray(np.concatenate(factor), J.dtype) * J[jnp.asarray(np.concatenate(src))]
    coef = jax.ops.segment_sum(vals, jnp.asarray(slot.ravel()), num_segments=len(uniq))
    uniq = uniq.astype(np.int8)
    return PauliSum(jnp.asarray(uniq), coef, n, _structure_of(uniq))


def _diagonal_labels(P) -> np.ndarray:
    if not isinstance(P, PauliSum):
        raise TypeError(f"P must be a PauliSum, got {type(P).__name__}")
    labels = concrete_labels(P, "pauli_to_lbit")
    off = np.nonzero(np.any((labels == 1) | (labels == 2), axis=1))[0]
    if len(off):
        word = "".join("IXYZ"[p] for p in labels[off[0]])
        raise JaxmblError(
            f"P must be diagonal (I/Z strings only), but {len(off)} of its strings carry X or Y (first: {word!r}); "
            "pass P.diagonal_part() to keep only the diagonal terms (or P.simplify() if their coefficients cancel)"
        )
    return labels


def pauli_to_lbit(P: PauliSum, *, cutoff: float = 1e-12) -> tuple[LbitHamiltonian, jax.Array]:
    """The inverse of :func:`lbit_to_pauli`: a diagonal PauliSum as ``(h0, offset)``, ``P = h0 + offset``.

    ``Z_T = prod_{r in T} (1 - 2 P_r)`` gives ``J_S = (-2)^{|S|} sum_{T superset of S} c_T`` for every
    non-empty S. The identity part, ``offset = sum_T c_T`` (the energy of the all-up state
    ``|0...0>``; ``E_P(n) = offset + lbit_energies(h0)[n]``), is returned separately because an
    :class:`LbitHamiltonian` has no constant term (``E(0) = 0``, as :func:`couplings_from_energies`
    requires). Works for any N (no ``2^N`` object).

    Args:
        P: one Hermitian :class:`PauliSum` of I/Z strings only (coefficients may be traced; the
            labels must be concrete). Complex coefficients must have zero imaginary parts.
        cutoff: couplings with ``|J_S| <= cutoff * max_T |c_T|`` are dropped (relative, as in
            :func:`couplings_from_energies`); with traced coefficients nothing is dropped and every
            set S contained in one of P's strings is kept.

    Returns:
        ``(h0, offset)``: an unbatched :class:`LbitHamiltonian` on ``P.n_sites`` sites (orders
        ascending, sites sorted as :func:`lbit_hamiltonian` sorts them) and a real scalar offset
        (energy units of P).

    Raises:
        TypeError: if ``P`` is not a :class:`PauliSum`.
        JaxmblError: for strings with X or Y (use ``P.diagonal_part()``), complex coefficients
            with non-zero imaginary parts, a batched P, a constant P (no coupling survives), a
            negative ``cutoff``, or an expansion that does not fit in memory.

    Example:
        >>> P = PauliSum.from_list([("II", 0.625), ("ZI", -0.625), ("IZ", -0.125), ("ZZ", 0.125)])
        >>> h0, offset = pauli_to_lbit(P)
        >>> h0.sites, [c.tolist() for c in h0.coef], float(offset)
        ((((0,),), ((0, 1),)), [[1.0], [0.5]], 0.0)
    """
    labels = _diagonal_labels(P)
    if not (np.isfinite(cutoff) and cutoff >= 0):
        raise JaxmblError(f"cutoff must be finite and >= 0, got {cutoff!r}")
    coef, n = P.coef, P.n_sites
    concrete = not isinstance(coef, jax.core.Tracer)
    if jnp.iscomplexobj(coef):
        if concrete:
            c = np.asarray(coef)
            if np.max(np.abs(c.imag), initial=0) > _HERMITIAN_RTOL * max(1.0, np.max(np.abs(c), initial=0)):
                raise JaxmblError("P must be Hermitian (real coefficients); take P's Hermitian part first")
        coef = jnp.real(coef)
    coef = coef.astype(real_dtype(coef.dtype))
    is_z = labels == 3
    weights = is_z.sum(1)
    _check_expansion_memory(int(np.sum(2.0**weights)), n, "pauli_to_lbit(P)")
    subsets, src = [], []
    for t in np.unique(weights):
        rows = np.nonzero(weights == t)[0]
        sites = np.nonzero(is_z[rows])[1].reshape(len(rows), t)
        bits = _subset_bits(int(t))  # (2^t, t)
        sub = np.zeros((len(rows), 2**t, n), bool)
        idx = np.broadcast_to(sites[:, None, :], (len(rows), 2**t, t))
        np.put_along_axis(sub, idx, np.broadcast_to(bits[None], idx.shape), axis=2)
        subsets.append(sub.reshape(-1, n))
        src.append(np.repeat(rows, 2**t))
    subsets, src = np.concatenate(subsets), np.concatenate(src)
    uniq, slot = np.unique(subsets, axis=0, return_inverse=True)
    order = uniq.sum(1)
    sign = jnp.asarray((-2.0) ** order[slot.ravel()], coef.dtype)
    J = jax.ops.segment_sum(sign * coef[jnp.asarray(src)], jnp.asarray(slot.ravel()), num_segments=len(uniq))
    empty = np.nonzero(order == 0)[0]
    offset = J[int(empty[0])] if len(empty) else jnp.zeros((), coef.dtype)
    keep = order > 0
    if concrete:
        scale = float(np.max(np.abs(np.asarray(coef)), initial=0.0))
        keep &= np.abs(np.asarray(J)) > cutoff * scale
    if not np.any(keep):
        raise JaxmblError(
            "P is a constant (only the identity survives the cutoff): an LbitHamiltonian needs a coupling"
        )
    site_tuples = [tuple(int(r) for r in np.nonzero(row)[0]) for row in uniq]
    kept = sorted(np.nonzero(keep)[0], key=lambda i: (order[i], site_tuples[i]))
    sites, coefs = [], []
    for k in sorted({int(order[i]) for i in kept}):
        idx = [i for i in kept if order[i] == k]
        sites.append(tuple(site_tuples[i] for i in idx))
        coefs.append(J[jnp.asarray(idx)])
    return LbitHamiltonian(coef=tuple(coefs), sites=tuple(sites), n_sites=n), offset
