"""The matrix-free kernel behind ``PauliSum.apply``: term structure, masks, weight tables, fused passes.

A Pauli string p = (p_0, .., p_{N-1}) with labels 0..3 = I, X, Y, Z acts on a basis state |n> as

    sigma^p |n> = i^{#Y} (-1)^{popcount(n & z)} |n XOR x>,

with flip mask x (sites carrying X or Y) and phase mask z (sites carrying Y or Z), because
Y = i X Z on one site. Read along a row this gives the matrix-free kernel of ``apply``:

    (H psi)[m] = sum_x psi[m XOR x] * sum_{p: x_p = x} c_p (-i)^{#Y_p} (-1)^{popcount(m & z_p)},

Site r is bit N-1-r. For a concrete structure, psi[m XOR x] is psi viewed along runs of sites with
the flipped runs reversed (a strided copy, not a gather), and each flip mask's weight is a small
table over the sites its phase masks touch (for an extensive diagonal, tables over the two halves
of the bits), broadcast over that view, so XLA fuses all masks into one pass over the state.
Operators with traced labels take one gather per term.

This machinery is kept apart from :mod:`jaxmbl._hamiltonians.pauli` (the ``PauliSum`` data type, its
algebra, builders and sectors) because it is one concept of its own, the fast H psi, and is
tuned on its own (see ``benchmarks/bench_matvec.py``). Everything here is private; it takes a
``PauliSum`` duck-typed (``paulis``, ``coef``, ``n_sites``, ``_structure``).

Example:
    >>> labels = np.array([[1, 1], [3, 0]])   # XX + ZI
    >>> s = _structure_of(labels)
    >>> [(flip, terms.tolist()) for flip, terms in s.groups]   # diagonal group first
    [(0, [1]), (3, [0])]
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST

_UNROLL, _CHUNK = 64, 16  # traced-structure terms fused into one pass; more are scanned in chunks
_MAX_STATIC_GROUPS = 256  # beyond this many flip masks, take the scanned path too (compile time)
_SMALL = 8  # a flip-mask group whose phase masks cover at most this many sites gets one weight table
_MINOR_SITES = 5  # the last sites form the minor axis of apply's jitted output (vectorized by XLA)
_RANK = 4  # straddling phase masks beyond this many distinct low halves: one matrix product for the weight


def _index_dtype(n_sites):
    return jnp.int32 if n_sites <= 31 else jnp.int64


def _masks(labels, n_sites, xp):
    """Flip mask x, phase mask z and #Y of every string, for numpy (xp=np) or traced (xp=jnp) labels."""
    dtype = np.int64 if xp is np else _index_dtype(n_sites)
    bits = xp.asarray([1 << (n_sites - 1 - r) for r in range(n_sites)], dtype)
    flip, phase = (labels == 1) | (labels == 2), (labels == 2) | (labels == 3)
    return (flip * bits).sum(-1), (phase * bits).sum(-1), (labels == 2).sum(-1)


class _Structure:
    """The term structure (labels) of a PauliSum, static pytree metadata.

    With it, jit/vmap'ed kernels group terms by flip mask at trace time. Kernels compare it with
    the traced ``paulis`` and return NaN on a mismatch, so a stale structure never gives a silently
    wrong result.
    """

    def __init__(self, labels: np.ndarray):
        self.labels = labels
        self._key = (labels.shape, labels.tobytes())
        if labels.shape[1] > 62:  # no int64 masks; such sums are used by the algebra only (no 2^N kernels)
            self.x = self.z = None
            self.phase, self.real_phase, self.groups = None, False, ()
            return
        self.x, self.z, n_y = _masks(labels.astype(np.int64), labels.shape[1], np)
        self.phase = (-1j) ** n_y  # the row-form phase (-i)^{#Y}, see the module docstring
        self.real_phase = bool(np.all(n_y % 2 == 0))
        flips, inverse = np.unique(self.x, return_inverse=True)
        #: (flip mask, term indices) per group, the diagonal group (mask 0) first when present
        self.groups = tuple((int(f), np.flatnonzero(inverse.ravel() == g)) for g, f in enumerate(flips))

    def __eq__(self, other):
        return isinstance(other, _Structure) and self._key == other._key

    def __hash__(self):
        return hash(self._key)


@functools.lru_cache(maxsize=512)
def _structure_from_bytes(data: bytes, shape: tuple) -> _Structure:
    return _Structure(np.frombuffer(data, dtype=np.int8).reshape(shape))


def _structure_of(paulis) -> _Structure:
    labels = np.asarray(paulis)
    if labels.size and (labels.min() < 0 or labels.max() > 3):
        raise JaxmblError(f"paulis must hold labels 0..3 (I, X, Y, Z), got values in [{labels.min()}, {labels.max()}]")
    return _structure_from_bytes(labels.astype(np.int8).tobytes(), labels.shape)


# ---------------------------------------------------------------------------------- kernels
def _parity(v):
    return (lax.population_count(v) & 1).astype(bool)


def _table(z, w, n_sites, idtype):
    """sum_t w_t (-1)^{popcount(m & z_t)} for all m, as a vector of length 2^N (masks may be traced).

    The sign factorises over the high and low halves of the bits, so the table is the product
    of two (M, 2^{N/2}) sign tables: far cheaper than M popcounts per basis state.
    """
    n_low = n_sites // 2
    hi, lo = lax.iota(idtype, 2 ** (n_sites - n_low)), lax.iota(idtype, 2**n_low)
    s_hi = 1 - 2 * _parity(hi[None, :] & (z[:, None] >> n_low)).astype(w.real.dtype)
    s_lo = 1 - 2 * _parity(lo[None, :] & (z[:, None] & (2**n_low - 1))).astype(w.real.dtype)
    return jnp.matmul(s_hi.T * w[None, :], s_lo, precision=HIGHEST).reshape(-1)


def _flips(psi, m, x, z, w):
    """sum_t w_t (-1)^{popcount(m & z_t)} psi[..., m ^ x_t] for traced masks, in chunked fused passes."""

    def chunk(out, xs, zs, ws):
        return out + sum(jnp.where(_parity(m & zt), -wt, wt) * psi[..., m ^ xt] for xt, zt, wt in zip(xs, zs, ws))

    out = jnp.zeros(psi.shape, jnp.result_type(psi, w))
    if len(w) <= _UNROLL:
        return chunk(out, x, z, w)
    pad = -len(w) % _CHUNK
    xzw = [jnp.pad(v, (0, pad)).reshape(-1, _CHUNK) for v in (x, z, w)]
    return lax.scan(lambda o, xzw: (chunk(o, *xzw), None), out, xzw)[0]


def _view(flip: int, union: int, n_sites: int):
    """The view of psi for one flip mask: (shape, flipped axes, union axes).

    One axis per maximal run of sites with equal bits in both ``flip`` and ``union``. XOR with the
    flip mask reverses the flipped axes (reversing a run of k bits is XOR with 2^k - 1): a strided
    copy, not a gather.
    """
    shape, flipped, on = [], [], []
    for r in range(n_sites):
        bits = flip >> (n_sites - 1 - r) & 1, union >> (n_sites - 1 - r) & 1
        if r == 0 or bits != (flip >> (n_sites - r) & 1, union >> (n_sites - r) & 1):
            flipped += [len(shape)] if bits[0] else []
            on += [len(shape)] if bits[1] else []
            shape.append(1)
        shape[-1] *= 2
    return tuple(shape), tuple(flipped), tuple(on)


def _broadcast(table, shape, axes):
    """A table over the bits of ``axes`` (in site order), shaped to broadcast over the view ``shape``."""
    return table.reshape(tuple(d if i in axes else 1 for i, d in enumerate(shape)))


def _signs(z, n_bits, dtype):
    """(T, 2^n_bits) table (-1)^{popcount(i & z_t)} for static masks z (T,)."""
    i = lax.iota(jnp.int32, 2**n_bits)
    return 1 - 2 * _parity(i[None, :] & jnp.asarray(z, jnp.int32)[:, None]).astype(dtype)


def _group_views(H):
    """[(shape, flipped axes, weight)] per flip-mask group: H psi = sum_g weight_g * rev(psi viewed as shape_g).

    The row weight w_g(m) = sum_{t in g} c_t (-i)^{#Y_t} (-1)^{popcount(m & z_t)} depends only on the
    bits in the union of the group's phase masks. For at most _SMALL of them it is one table over
    those bits. Otherwise (an extensive diagonal) it splits over the two halves of the bits,
    m = (m_hi, m_lo): w_g = a(m_hi) + b(m_lo) + sum_L u_L(m_hi) v_L(m_lo), with a from the strings
    whose phase mask lies in the high half, b from those in the low half, and one rank-1 product
    per distinct low half L of the straddling masks; each factor has ~2^(N/2) entries. The tables
    broadcast over the view, so XLA fuses all groups into one pass over psi. Weights are real for
    real coefficients and an even number of Y in every string of the group.
    """
    s, n, rdt = H._structure, H.n_sites, H.coef.real.dtype
    n_lo = n // 2
    out = []
    for flip, terms in s.groups:
        phase, z = s.phase[terms], s.z[terms]
        real = not jnp.iscomplexobj(H.coef) and np.all(phase.imag == 0)
        w = H.coef[terms] * jnp.asarray(phase.real if real else phase, rdt if real else complex_dtype(rdt))
        union = int(np.bitwise_or.reduce(z))
        if (k := union.bit_count()) <= _SMALL:
            shape, flipped, on = _view(flip, union, n)
            bits = [b for b in range(union.bit_length()) if union >> b & 1]
            packed = sum(((z >> b & 1) << i for i, b in enumerate(bits)), np.zeros_like(z))  # z's union bits, in order
            out.append((shape, flipped, _broadcast((w[:, None] * _signs(packed, k, rdt)).sum(0), shape, on)))
            continue
        shape, flipped, lo = _view(flip, 2**n_lo - 1, n)
        hi = tuple(i for i in range(len(shape)) if i not in lo)
        z_hi, z_lo = z >> n_lo, z & (2**n_lo - 1)
        weight = 0
        for part, half, axes, n_bits in ((z_lo == 0, z_hi, hi, n - n_lo), ((z_hi == 0) & (z_lo != 0), z_lo, lo, n_lo)):
            if part.any():
                weight = weight + _broadcast((w[part, None] * _signs(half[part], n_bits, rdt)).sum(0), shape, axes)
        if (cross := (z_hi != 0) & (z_lo != 0)).any():
            lows, inverse = np.unique(z_lo[cross], return_inverse=True)
            onehot = jnp.asarray(inverse.ravel()[None, :] == np.arange(len(lows))[:, None], rdt)
            u = jnp.matmul(onehot * w[cross], _signs(z_hi[cross], n - n_lo, rdt), precision=HIGHEST)
            v = _signs(lows, n_lo, rdt)
            if len(lows) <= _RANK:  # a few outer products fuse into the pass
                weight = weight + sum(_broadcast(u[j], shape, hi) * _broadcast(v[j], shape, lo) for j in range(len(v)))
            else:
                weight = weight + jnp.matmul(u.T, v, precision=HIGHEST).reshape(shape)
        out.append((shape, flipped, weight))
    return out


def _weights(H):
    """Masks, row-form weights c (-i)^{#Y} (real when possible), a validity flag and the structure."""
    s = H._structure
    if s is None:
        x, z, n_y = _masks(H.paulis, H.n_sites, jnp)
        phase = jnp.array([1, -1j, -1, 1j], complex_dtype(H.coef.dtype))[n_y % 4]
        return x, z, H.coef * phase, True, None
    real = s.real_phase and not jnp.iscomplexobj(H.coef)
    phase = jnp.asarray(s.phase.real if real else s.phase, H.coef.dtype if real else complex_dtype(H.coef.dtype))
    ok, idt = (jnp.all(H.paulis == s.labels) if H.paulis.shape == s.labels.shape else False), _index_dtype(H.n_sites)
    return jnp.asarray(s.x, idt), jnp.asarray(s.z, idt), H.coef * phase, ok, s


@jax.jit
def _apply_core(H, psi):
    """H psi with shape batch + (2^(N-k), 2^k), k = min(N, _MINOR_SITES); ``apply`` flattens it outside.

    XLA:CPU vectorizes a fused loop along a minor axis of its output: with the flat (2^N,) output
    the pass over the state runs about 1.3x slower, more than the cost of the copy.
    """
    n = H.n_sites
    x, z, w, ok, s = _weights(H)
    batch = psi.shape[:-1]
    rows = batch + (2 ** (n - min(n, _MINOR_SITES)), 2 ** min(n, _MINOR_SITES))
    if s is None or len(s.groups) > _MAX_STATIC_GROUPS:  # the diagonal as one table, then a gather per term
        m = lax.iota(_index_dtype(n), 2**n)
        out = _table(z, jnp.where(x == 0, w, 0), n, m.dtype) * psi
        out = (out + _flips(psi, m, x, z, jnp.where(x == 0, 0, w))).reshape(rows)
    else:  # per flip mask a reversed view of psi times a broadcast weight, fused into one pass
        out = jnp.zeros(rows, psi.dtype)
        for shape, axes, weight in _group_views(H):
            v = psi.reshape(batch + shape)
            v = lax.rev(v, [len(batch) + a for a in axes]) if axes else v
            out = out + (weight * v).reshape(rows)
    return jnp.where(ok, out, jnp.nan)


@jax.jit
def _group_tables(H):
    """The weights w_g(m) of the flip-mask groups as the columns of a (2^N, groups) array."""
    columns = [jnp.broadcast_to(weight, shape).reshape(-1) for shape, _, weight in _group_views(H)]
    return jnp.stack(columns, axis=1) if columns else jnp.zeros((2**H.n_sites, 0), H.coef.dtype)
