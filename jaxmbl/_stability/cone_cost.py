"""Light-cone ("local") off-diagonal cost of a circuit on a Pauli-sum Hamiltonian: no ``2**N`` vector.

For ``H = sum_t c_t sigma_t`` and a circuit ``U = u_{G-1} ... u_0`` of two-site gates, unitary
invariance of the Frobenius norm splits the weight of the rotated Hamiltonian as

    ||H||^2 = ||U^dag H U||^2 = ||diag(U^dag H U)||^2 + ||offdiag(U^dag H U)||^2

(norms normalized, ``||A||^2 = tr(A^dag A) / 2**N``), and the diagonal part is a sum of Z strings,
``diag(U^dag H U) = sum_P d_P Z_P``. So the cost of :func:`offdiagonal_cost` is

    C = ||offdiag||^2 / ||H||^2 = 1 - sum_P d_P^2 / ||H||^2,      d_P = tr(Z_P U^dag H U) / 2**N.

The terms of H are grouped by their support interval (each term joins the first maximal interval that
contains it), ``h_g = sum_{t in g} c_t sigma_t``. ``U^dag h_g U`` only involves the gates of the
backward light cone of that interval (a gate that does not touch the support of the operator when it is
reached commutes with it), so with ``W_g`` the window of the cone and ``u_W`` the product of its gates,

    d_P = sum_g 2**-|W_g| sum_n <n| u_W^dag h_g u_W |n> prod_{r in P} z_r(n),

one dense ``2**w x 2**w`` matrix per window (its columns ``u_W |n>``) and a Walsh-Hadamard transform of
its diagonal. The contributions of all groups are added per string *before* squaring, so the cross terms
between overlapping cones are exact and ``C`` equals the dense cost to rounding. The cost of one
evaluation is about ``sum_g 4**w_g * (gates in the cone)``, with ``w_g <= |I_g| + 2 depth`` on a chain:
N = 64 at depth 3 is a few hundred windows of 8 sites. Everything is traced in the gate matrices and in
H's coefficients (``jax.grad`` gives the fit's gradient); the grouping, the cones and the string indices
are built once on the host from the concrete labels and gate sites.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST, apply_two_site
from jaxmbl._core.limits import MAX_CONE_SITES, check_state_memory
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.pauli_algebra import frobenius_norm_sq

# Windows of one shape are evaluated by lax.map in chunks of this many (memory ~ chunk * 4**w).
_WINDOW_CHUNK = 8


@dataclasses.dataclass(frozen=True, eq=False)
class _Shape:
    """Windows of one shape: width, cone gates (local pairs, application order), term interval."""

    width: int
    gate_pairs: tuple  # local (a, b) of the cone gates in application order
    h_lo: int  # first site of the term interval inside the window
    h_width: int  # width of the term interval
    gate_idx: np.ndarray  # (n_w, n_g) indices into the circuit's gates
    entry_term: np.ndarray  # (n_w, E) term index of each matrix entry of h_g (M = padding)
    entry_row: np.ndarray  # (n_w, E) row of the entry in the 2**h_width block
    entry_col: np.ndarray  # (n_w, E) column
    entry_phase: np.ndarray  # (n_w, E) complex phase <row|sigma|col>
    string_id: np.ndarray  # (n_w, 2**width) global Z-string index of each window mask


@dataclasses.dataclass(frozen=True, eq=False)
class ConePlan:
    """Static structure of the light-cone cost of one (circuit layout, Pauli-sum structure) pair.

    Attributes:
        n_sites: N.
        n_gates: gates of the circuit.
        n_terms: terms of H.
        shapes: the window shapes (internal).
        strings: site tuples of the diagonal Z strings, index = position (``()`` is the identity).
        identity_terms: indices of H's terms that are the identity string.
        max_width: the widest light-cone window.
    """

    n_sites: int
    n_gates: int
    n_terms: int
    shapes: tuple
    strings: tuple
    identity_terms: np.ndarray
    max_width: int


def _local_phase(labels: np.ndarray, s: np.ndarray):
    """``<s ^ x | sigma | s>`` and ``s ^ x`` of a string (local labels ``(k,)``) on local states ``s``."""
    k = len(labels)
    bits = (s[:, None] >> (k - 1 - np.arange(k))[None, :]) & 1  # site 0 = most significant bit
    x = ((labels == 1) | (labels == 2)).astype(np.int64)
    phase = np.ones(len(s), np.complex128)
    for r, lab in enumerate(labels):
        b = bits[:, r]
        if lab == 2:  # Y|0> = i|1>, Y|1> = -i|0>
            phase = phase * np.where(b == 0, 1j, -1j)
        elif lab == 3:
            phase = phase * np.where(b == 0, 1.0, -1.0)
    flip = int(np.sum(x << (k - 1 - np.arange(k))))
    return s ^ flip, phase


def _cone(interval, gate_sites):
    """Gates (application order) of the backward light cone of a site interval, and its window."""
    support = set(range(interval[0], interval[1] + 1))
    gates = []
    for g in range(len(gate_sites) - 1, -1, -1):
        a, b = gate_sites[g]
        if a in support or b in support:
            support |= {a, b}
            gates.append(g)
    return gates[::-1], (min(support), max(support))


def cone_plan(gate_sites, n_sites: int, labels) -> ConePlan:
    """Build the static plan of the light-cone cost (host side, numpy).

    Args:
        gate_sites: the circuit's site pairs ``((a, b), ...)`` in application order.
        n_sites: N.
        labels: concrete int array ``(M, N)`` of H's Pauli labels.

    Returns:
        A :class:`ConePlan`.

    Raises:
        JaxmblError: if a light-cone window is wider than ``MAX_CONE_SITES`` or its matrices do not
            fit in memory (with the estimate).

    Example:
        >>> labels = np.array([[1, 1, 0, 0], [0, 3, 3, 0]])
        >>> plan = cone_plan(((0, 1), (2, 3), (1, 2)), 4, labels)
        >>> plan.max_width, len(plan.shapes)
        (4, 2)
    """
    labels = np.asarray(labels, np.int64)
    gate_sites = tuple((int(a), int(b)) for a, b in gate_sites)
    support = labels != 0
    is_identity = ~support.any(axis=1)
    terms = np.flatnonzero(~is_identity)
    lo = np.argmax(support, axis=1)
    hi = n_sites - 1 - np.argmax(support[:, ::-1], axis=1)
    intervals = sorted({(int(lo[t]), int(hi[t])) for t in terms})
    maximal = [i for i in intervals if not any(j != i and j[0] <= i[0] and i[1] <= j[1] for j in intervals)]
    if terms.size:
        mlo, mhi = np.array([m[0] for m in maximal]), np.array([m[1] for m in maximal])
        inside = (mlo[None, :] <= lo[terms, None]) & (hi[terms, None] <= mhi[None, :])
        group_of = np.argmax(inside, axis=1)
    strings: dict[tuple, int] = {(): 0}
    by_shape: dict[tuple, list] = {}
    max_width = 0
    for g, interval in enumerate(maximal):
        gates, (wlo, whi) = _cone(interval, gate_sites)
        width = whi - wlo + 1
        max_width = max(max_width, width)
        if width > MAX_CONE_SITES:
            raise JaxmblError(
                f"the light cone of the terms on sites {interval} spans {width} sites > MAX_CONE_SITES="
                f"{MAX_CONE_SITES}: use a shallower depth, more local terms, or the dense cost (N <= 12)"
            )
        check_state_memory(2 * width, len(gates) + 4, what=f"light-cone matrices of a {width}-site window")
        members = terms[group_of == g]
        h_lo, h_w = interval[0] - wlo, interval[1] - interval[0] + 1
        s = np.arange(2**h_w)
        rows, cols, phases, owners = [], [], [], []
        for t in members:
            r, ph = _local_phase(labels[t, interval[0] : interval[1] + 1], s)
            rows.append(r), cols.append(s), phases.append(ph), owners.append(np.full(s.size, t))
        masks = np.arange(2**width)
        bits = (masks[:, None] >> (width - 1 - np.arange(width))[None, :]) & 1
        ids = np.array([strings.setdefault(tuple(int(wlo + j) for j in np.flatnonzero(b)), len(strings)) for b in bits])
        pairs = tuple((gate_sites[q][0] - wlo, gate_sites[q][1] - wlo) for q in gates)
        key = (width, pairs, h_lo, h_w)
        by_shape.setdefault(key, []).append(
            (np.array(gates, np.int64), np.concatenate(owners), np.concatenate(rows), np.concatenate(cols),
             np.concatenate(phases), ids)
        )  # fmt: skip
    shapes = []
    M = labels.shape[0]
    for (width, pairs, h_lo, h_w), items in by_shape.items():
        n_e = max(it[1].size for it in items)

        def pad(a, value, n=n_e):
            return np.concatenate([a, np.full(n - a.size, value, a.dtype)])

        shapes.append(
            _Shape(
                width=width, gate_pairs=pairs, h_lo=h_lo, h_width=h_w,
                gate_idx=np.stack([it[0] for it in items]).reshape(len(items), len(pairs)),
                entry_term=np.stack([pad(it[1], M) for it in items]),
                entry_row=np.stack([pad(it[2], 0) for it in items]),
                entry_col=np.stack([pad(it[3], 0) for it in items]),
                entry_phase=np.stack([pad(it[4], 0) for it in items]),
                string_id=np.stack([it[5] for it in items]),
            )
        )  # fmt: skip
    ordered = sorted(strings, key=strings.get)
    return ConePlan(
        n_sites=int(n_sites), n_gates=len(gate_sites), n_terms=M, shapes=tuple(shapes), strings=tuple(ordered),
        identity_terms=np.flatnonzero(is_identity), max_width=max_width,
    )  # fmt: skip


def _walsh_hadamard(v, width: int):
    """``out[P] = sum_n v[n] prod_{r in P} (-1)^{n_r}`` over masks P (the Z-string transform)."""
    for r in range(width):
        x = v.reshape(2**r, 2, 2 ** (width - r - 1))
        v = jnp.stack([x[:, 0] + x[:, 1], x[:, 0] - x[:, 1]], axis=1).reshape(v.shape)
    return v


def _window_diagonal(shape: _Shape, gates, h):
    """Z-string coefficients ``(2**w,)`` of ``diag(u_W^dag h u_W)`` for one window."""
    w, d = shape.width, 2**shape.width
    psi = jnp.eye(d, dtype=gates.dtype)
    for q, (a, b) in enumerate(shape.gate_pairs):  # columns u_W|n>
        psi = jax.vmap(apply_two_site, in_axes=(1, None, None, None, None), out_axes=1)(psi, gates[q], a, b, w)
    t = psi.reshape(2**shape.h_lo, 2**shape.h_width, 2 ** (w - shape.h_lo - shape.h_width), d)
    ht = jnp.einsum("ij,ajbn->aibn", h, t, precision=HIGHEST)
    diag = jnp.real(jnp.sum(jnp.conj(t) * ht, axis=(0, 1, 2)))
    return _walsh_hadamard(diag, w) / d


def cone_diagonal(plan: ConePlan, gates, coef):
    """Z-string coefficients ``d_P`` of ``diag(U^dag H U)``, indexed like ``plan.strings``.

    Args:
        plan: the :class:`ConePlan` of the circuit layout and H's labels.
        gates: complex ``(G, 4, 4)`` gate matrices (traced is fine).
        coef: H's coefficients ``(M,)`` (traced is fine; real parts of Hermitian H).

    Returns:
        real ``(len(plan.strings),)``.
    """
    cdt = jnp.result_type(gates.dtype, jnp.complex64)
    coef_pad = jnp.concatenate([coef.astype(cdt), jnp.zeros((1,), cdt)])
    d = jnp.zeros((len(plan.strings),), jnp.real(coef_pad).dtype)
    d = d.at[0].add(jnp.real(jnp.sum(coef_pad[plan.identity_terms])))
    for shape in plan.shapes:
        n_w = shape.gate_idx.shape[0]
        vals = coef_pad[shape.entry_term] * jnp.asarray(shape.entry_phase, cdt)
        hd = 2**shape.h_width
        h = jnp.zeros((n_w, hd, hd), cdt).at[np.arange(n_w)[:, None], shape.entry_row, shape.entry_col].add(vals)
        win = jax.checkpoint(functools.partial(_window_diagonal, shape))
        out = lax.map(lambda args, f=win: f(*args), (gates[shape.gate_idx], h), batch_size=min(_WINDOW_CHUNK, n_w))
        d = d.at[shape.string_id.reshape(-1)].add(out.reshape(-1))
    return d


def cone_cost(plan: ConePlan, gates, coef, norm_sq):
    """Relative off-diagonal weight ``1 - sum_P d_P^2 / ||H||^2`` from the light cones (see module)."""
    d = cone_diagonal(plan, gates, coef)
    return 1.0 - jnp.sum(d**2) / norm_sq


def pauli_norm_sq(H: PauliSum):
    """``||H||^2 = tr(H^dag H) / 2**N`` of a Pauli sum (duplicate strings combined)."""
    return jnp.real(frobenius_norm_sq(H))


def diagonal_strings(plan: ConePlan, d, *, cutoff: float = 0.0) -> PauliSum:
    """The diagonal part ``sum_P d_P Z_P`` as a :class:`PauliSum` (strings with ``|d_P| > cutoff``)."""
    d = np.asarray(d)
    keep = np.flatnonzero(np.abs(d) > cutoff)
    labels = np.zeros((keep.size, plan.n_sites), np.int8)
    for row, i in zip(labels, keep):
        row[list(plan.strings[i])] = 3
    return PauliSum(jnp.asarray(labels), jnp.asarray(d[keep]), plan.n_sites)
