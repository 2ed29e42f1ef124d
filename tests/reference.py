"""Independent dense references for the tests: plain numpy / scipy / mpmath, no jaxmbl.

Everything here is written from the conventions table (docs/conventions.md, restated below) alone, so a test that
compares jaxmbl against these functions checks the library against the conventions, not
against itself. Small N only (dense 2**N x 2**N matrices).

Conventions restated: site 0 is the most significant bit of the basis index; ``|0>`` is
Z = +1; ``P = (1 - Z)/2``; Paulis 0..3 = I, X, Y, Z; a two-site gate on the ordered pair
``(a, b)`` has row/column index ``2*s_a + s_b``; a circuit applies gate 0 first.
"""

from __future__ import annotations

import itertools

import mpmath
import numpy as np
import scipy.linalg
from scipy.sparse.csgraph import minimum_spanning_tree

I2 = np.eye(2, dtype=np.complex128)
X = np.array([[0, 1], [1, 0]], dtype=np.complex128)
Y = np.array([[0, -1j], [1j, 0]], dtype=np.complex128)
Z = np.array([[1, 0], [0, -1]], dtype=np.complex128)
PAULIS = (I2, X, Y, Z)
P1 = (I2 - Z) / 2  # l-bit occupation |1><1|


# ----------------------------------------------------------------------------- basis
def bits_of(n: int, n_sites: int) -> tuple:
    """Occupations of basis index n, site 0 first (= most significant bit)."""
    return tuple((n >> (n_sites - 1 - r)) & 1 for r in range(n_sites))


def index_of(bits) -> int:
    n = 0
    for b in bits:
        n = 2 * n + int(b)
    return n


def all_bits(n_sites: int) -> np.ndarray:
    return np.array([bits_of(n, n_sites) for n in range(2**n_sites)], dtype=np.int64)


# ----------------------------------------------------------------------------- operators
def kron_all(ops) -> np.ndarray:
    out = np.ones((1, 1), dtype=np.complex128)
    for op in ops:
        out = np.kron(out, op)
    return out


def site_op(op, r: int, n_sites: int) -> np.ndarray:
    """A one-site operator on site r (site 0 is the leftmost kron factor)."""
    return kron_all([op if s == r else I2 for s in range(n_sites)])


def pauli_dense(labels) -> np.ndarray:
    """Dense Pauli string from integer labels (one per site, 0..3)."""
    return kron_all([PAULIS[int(a)] for a in labels])


def paulisum_dense(paulis, coef) -> np.ndarray:
    paulis = np.asarray(paulis)
    n_sites = paulis.shape[1]
    out = np.zeros((2**n_sites, 2**n_sites), dtype=np.complex128)
    for row, c in zip(paulis, np.asarray(coef)):
        out += c * pauli_dense(row)
    return out


def h0_dense(n_sites: int, terms) -> np.ndarray:
    """``sum_S J_S prod_{r in S} P_r`` from ``{sites: J}`` or ``[(sites, J)]``, via krons of P = (1-Z)/2."""
    items = terms.items() if isinstance(terms, dict) else terms
    out = np.zeros((2**n_sites, 2**n_sites), dtype=np.complex128)
    for sites, J in items:
        out += J * kron_all([P1 if r in tuple(sites) else I2 for r in range(n_sites)])
    return out


def h0_terms(h0) -> list:
    """The ``[(sites, J)]`` of a single-realization LbitHamiltonian (reads its plain fields only)."""
    return [
        (tuple(int(r) for r in s), float(c))
        for sites_k, coef_k in zip(h0.sites, h0.coef)
        for s, c in zip(sites_k, np.asarray(coef_k))
    ]


def embed_two_site(gate, a: int, b: int, n_sites: int) -> np.ndarray:
    """Embed a 4x4 gate on the ordered pair (a, b) elementwise from its definition.

    ``<n'| G |n> = gate[2 s'_a + s'_b, 2 s_a + s_b]`` if n', n agree off {a, b}, else 0.
    """
    dim = 2**n_sites
    bits = all_bits(n_sites)
    others = [r for r in range(n_sites) if r not in (a, b)]
    same = np.all(bits[:, None, others] == bits[None, :, others], axis=-1)
    row = 2 * bits[:, a] + bits[:, b]
    out = np.asarray(gate, dtype=np.complex128)[row[:, None], row[None, :]] * same
    assert out.shape == (dim, dim)
    return out


def circuit_dense(gates, sites, n_sites: int) -> np.ndarray:
    """``u_{G-1} ... u_1 u_0`` (gate 0 acts first)."""
    out = np.eye(2**n_sites, dtype=np.complex128)
    for g, (a, b) in zip(np.asarray(gates), sites):
        out = embed_two_site(g, int(a), int(b), n_sites) @ out
    return out


def generator_dense(paulis, coef) -> np.ndarray:
    """``expm(-i K)`` with K built from Pauli strings by numpy krons."""
    return scipy.linalg.expm(-1j * paulisum_dense(paulis, coef))


def unitary_dense(U) -> np.ndarray:
    """Dense reference of a jaxmbl Circuit or GeneratorUnitary, from its plain fields only."""
    if hasattr(U, "gates"):
        return circuit_dense(np.asarray(U.gates), U.sites, U.n_sites)
    return generator_dense(*U.to_paulis())


def model_dense(model):
    """``(H, U, E)`` of a single-realization SwingleModel, all built independently here."""
    U = unitary_dense(model.U)
    H0 = h0_dense(model.n_sites, h0_terms(model.h0))
    E = np.real(np.diag(H0))
    H = U @ H0 @ U.conj().T
    return H, U, E


def partial_trace_keep(psi, keep, n_sites: int) -> np.ndarray:
    """Reduced density matrix on the sites ``keep`` (in sorted order) of a pure state."""
    keep = sorted(keep)
    rest = [r for r in range(n_sites) if r not in keep]
    t = np.asarray(psi).reshape((2,) * n_sites).transpose(keep + rest).reshape(2 ** len(keep), -1)
    return t @ t.conj().T


# ----------------------------------------------------------------------------- lattice
def lattice_coords(shape) -> np.ndarray:
    return np.array([np.unravel_index(i, shape) for i in range(int(np.prod(shape)))], dtype=np.int64)


def lattice_displacements(shape, pbc) -> np.ndarray:
    """``(N, N, d)`` minimum-image displacement vectors, by trying every image."""
    shape = tuple(shape)
    pbc = (pbc,) * len(shape) if isinstance(pbc, bool) else tuple(pbc)
    c = lattice_coords(shape)
    d = c[None, :, :] - c[:, None, :]
    for ax, (L, p) in enumerate(zip(shape, pbc)):
        if p:
            images = np.stack([d[..., ax] + m * L for m in (-1, 0, 1)], axis=-1)
            d[..., ax] = np.take_along_axis(images, np.argmin(np.abs(images), axis=-1)[..., None], -1)[..., 0]
    return d


def lattice_distances(shape, pbc) -> np.ndarray:
    return np.sqrt((lattice_displacements(shape, pbc).astype(float) ** 2).sum(-1))


def lattice_bonds(shape, pbc) -> set:
    """Nearest-neighbour pairs ``i < j``: minimum-image displacement of Manhattan length 1."""
    d = np.abs(lattice_displacements(shape, pbc)).sum(-1)
    n = d.shape[0]
    return {(i, j) for i in range(n) for j in range(i + 1, n) if d[i, j] == 1}


def mst_length(dist: np.ndarray, sites) -> float:
    sites = list(sites)
    if len(sites) < 2:
        return 0.0
    return float(minimum_spanning_tree(dist[np.ix_(sites, sites)]).sum())


# ----------------------------------------------------------------------------- long-time phases
mpmath.mp.dps = 50


def phase_mod_2pi_mp(x_float_terms, t) -> float:
    """``(sum of the float64 values x) * t  mod 2 pi`` in [-pi, pi), computed in 50-digit arithmetic.

    The float64 inputs are converted exactly (every double is a dyadic rational).
    """
    total = mpmath.fsum([mpmath.mpf(float(x)) for x in x_float_terms]) * mpmath.mpf(float(t))
    two_pi = 2 * mpmath.pi
    r = total - two_pi * mpmath.floor(total / two_pi + mpmath.mpf("0.5"))
    return float(r)


def energy_phases_mp(terms, n_sites: int, t) -> np.ndarray:
    """``E(n) t mod 2 pi`` for every basis state, E(n) = sum_{S subset of n} J_S, in high precision."""
    out = np.empty(2**n_sites)
    for n in range(2**n_sites):
        occ = bits_of(n, n_sites)
        out[n] = phase_mod_2pi_mp([J for sites, J in terms if all(occ[r] for r in sites)], t)
    return out


def angle_diff(a, b) -> np.ndarray:
    """Distance between angles on the circle, in [0, pi]."""
    d = np.mod(np.asarray(a, dtype=float) - np.asarray(b, dtype=float) + np.pi, 2 * np.pi) - np.pi
    return np.abs(d)


# ----------------------------------------------------------------------------- misc
def haar_unitary(rng, dim: int) -> np.ndarray:
    z = (rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim))) / np.sqrt(2)
    q, r = np.linalg.qr(z)
    return q * (np.diag(r) / np.abs(np.diag(r)))[None, :]


def random_state(rng, n_sites: int, batch=()) -> np.ndarray:
    psi = rng.normal(size=batch + (2**n_sites,)) + 1j * rng.normal(size=batch + (2**n_sites,))
    return psi / np.linalg.norm(psi, axis=-1, keepdims=True)


def subsets_up_to(n_sites: int, max_order: int):
    for k in range(1, max_order + 1):
        yield from itertools.combinations(range(n_sites), k)


def pauli_decompose(H, n_sites, rel_cutoff=0.0):
    """``(labels (M, N) int8, coef (M,))`` of the strings with |c_P| > rel_cutoff max|c|.

    c_P = tr(P H) / 2^N of a dense matrix (numpy), site by site: with M = [[A, B], [C, D]] in site 0,
    M = I (A+D)/2 + X (B+C)/2 + Y i(B-C)/2 + Z (A-D)/2."""
    T = np.asarray(H, complex)[None]
    for _ in range(n_sites):
        h = T.shape[-1] // 2
        A, B, C, D = T[:, :h, :h], T[:, :h, h:], T[:, h:, :h], T[:, h:, h:]
        T = np.stack([(A + D) / 2, (B + C) / 2, 1j * (B - C) / 2, (A - D) / 2], axis=1).reshape(-1, h, h)
    c = T.reshape(-1)
    keep = np.flatnonzero(np.abs(c) > rel_cutoff * np.abs(c).max())
    labels = np.array(np.unravel_index(keep, (4,) * n_sites)).T.astype(np.int8)
    return labels, np.real(c[keep])
