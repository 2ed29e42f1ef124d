"""Exact diagonalization against numpy.linalg.eigh of independently built dense matrices (N <= 8)."""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from reference import all_bits, paulisum_dense

from jaxmbl import Lattice, PauliSum, eigh, eigvalsh, random_field_heisenberg


def random_hermitian_paulisum(rng, n_sites, n_terms):
    """Random strings (with Y, so the matrix is complex) and real coefficients: Hermitian."""
    paulis = rng.integers(0, 4, size=(n_terms, n_sites))
    return PauliSum(jnp.asarray(paulis), jnp.asarray(rng.normal(size=n_terms)), n_sites)


def sector_indices(n_sites, sector):
    """Basis states with total S^z = sector, from the bits alone (|0> is up)."""
    sz = n_sites / 2 - all_bits(n_sites).sum(axis=1)
    return np.flatnonzero(sz == sector)


@pytest.fixture(scope="module")
def chain():
    return random_field_heisenberg(jr.key(3), 8, W=2.0)


@pytest.fixture(scope="module")
def batch():
    return jax.vmap(lambda k: random_field_heisenberg(k, Lattice((2, 3)), W=1.5, Jz=0.7))(jr.split(jr.key(4), 4))


def dense_of(H):
    return paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))


@pytest.mark.parametrize("kind", ["heisenberg", "random"])
def test_eigh_full_space_matches_numpy(kind, chain, rng):
    H = chain if kind == "heisenberg" else random_hermitian_paulisum(rng, 6, 25)
    ref = dense_of(H)
    E, V = eigh(H)
    np.testing.assert_allclose(E, np.linalg.eigvalsh(ref), atol=1e-10)
    np.testing.assert_allclose(eigvalsh(H), np.linalg.eigvalsh(ref), atol=1e-10)
    np.testing.assert_allclose(ref @ V, V * E[None, :], atol=1e-10)
    np.testing.assert_allclose(V.conj().T @ V, np.eye(len(E)), atol=1e-10)


@pytest.mark.parametrize("n_sites", [7, 8])
def test_sector_spectra_union_is_full_spectrum(n_sites):
    H = random_field_heisenberg(jr.key(n_sites), n_sites, W=1.0)
    ref = dense_of(H)
    sectors = [n_sites / 2 - k for k in range(n_sites + 1)]
    union = np.sort(np.concatenate([eigvalsh(H, s) for s in sectors]))
    np.testing.assert_allclose(union, np.linalg.eigvalsh(ref), atol=1e-10)
    # Eigenvectors of a sector, embedded in the full space, are eigenvectors of the dense H.
    basis = sector_indices(n_sites, sectors[3])
    E, V = eigh(H, sectors[3])
    psi = np.zeros((2**n_sites, len(E)), complex)
    psi[basis] = V
    np.testing.assert_allclose(ref @ psi, psi * E[None, :], atol=1e-10)
    np.testing.assert_allclose(E, np.linalg.eigvalsh(ref[np.ix_(basis, basis)]), atol=1e-10)


def test_window_is_the_central_slice(chain):
    full = np.linalg.eigvalsh(dense_of(chain)[np.ix_(*[sector_indices(8, 0)] * 2)])  # D = 70
    for window, count in [(0.5, 35), (0.3, 21), (1.0, 70), (1e-3, 1)]:
        start = (70 - count) // 2
        np.testing.assert_allclose(eigvalsh(chain, 0, window=window), full[start : start + count], atol=1e-10)
    E, V = eigh(chain, 0, window=0.5)
    assert E.shape == (35,) and V.shape == (70, 35)


def test_batch_equals_loop_and_numpy(batch):
    E = eigvalsh(batch, 0)
    Ev, V = eigh(batch, 0)
    assert E.shape == (4, 20) and V.shape == (4, 20, 20)
    basis = sector_indices(6, 0)
    for i in range(4):
        h = jax.tree_util.tree_map(lambda x, i=i: x[i], batch)
        np.testing.assert_allclose(E[i], eigvalsh(h, 0), atol=1e-12)
        ref = dense_of(h)[np.ix_(basis, basis)]
        np.testing.assert_allclose(E[i], np.linalg.eigvalsh(ref), atol=1e-10)
        np.testing.assert_allclose(ref @ V[i], V[i] * Ev[i][None, :], atol=1e-10)


def test_jit_and_vmap_equal_eager(batch, chain):
    np.testing.assert_allclose(jax.jit(lambda H: eigvalsh(H, 0))(chain), eigvalsh(chain, 0), atol=1e-12)
    E_jit, V_jit = jax.jit(lambda H: eigh(H, window=0.25))(chain)
    E, V = eigh(chain, window=0.25)
    np.testing.assert_allclose(E_jit, E, atol=1e-12)
    # Eigenvectors agree up to phases: compare projectors.
    np.testing.assert_allclose(jnp.abs(jnp.sum(V_jit.conj() * V, axis=0)), 1.0, atol=1e-8)
    np.testing.assert_allclose(jax.vmap(lambda H: eigvalsh(H, 1))(batch), eigvalsh(batch, 1), atol=1e-12)


def test_dense_array_and_generic_operator_inputs(chain):
    ref = dense_of(chain)

    @dataclasses.dataclass
    class Dense:
        n_sites: int
        matrix: np.ndarray

        def dense(self):
            return self.matrix

    for H in (ref, Dense(8, ref)):
        np.testing.assert_allclose(eigvalsh(H), np.linalg.eigvalsh(ref), atol=1e-10)
        np.testing.assert_allclose(eigvalsh(H, -1), eigvalsh(chain, -1), atol=1e-10)
    with pytest.raises(ValueError, match="sector"):
        eigvalsh(ref + dense_of(PauliSum.from_terms(8, [("X", [0], 0.3)])), 0)


def test_eigenvalues_only_path(rng):
    # On CPU eigvalsh reduces to tridiagonal form in XLA and runs LAPACK sterf on the host:
    # complex Hermitian, float32 and 1 x 1 inputs, jit and vmap, against numpy.
    A = rng.normal(size=(3, 6, 6)) + 1j * rng.normal(size=(3, 6, 6))
    A = A + np.conj(np.swapaxes(A, -1, -2))
    ref = np.linalg.eigvalsh(A)
    np.testing.assert_allclose(eigvalsh(A), ref, atol=1e-12)
    np.testing.assert_allclose(jax.jit(jax.vmap(eigvalsh))(jnp.asarray(A)), ref, atol=1e-12)
    E32 = eigvalsh(jnp.asarray(A.real, jnp.float32))
    assert E32.dtype == jnp.float32
    np.testing.assert_allclose(E32, np.linalg.eigvalsh(A.real), atol=1e-4)
    np.testing.assert_allclose(eigvalsh(np.full((2, 1, 1), 3.0)), [[3.0], [3.0]])


def test_eigenvalue_gradients_from_eigenvectors(rng):
    # dE_k/dA = v_k v_k^T for a real symmetric A with a simple spectrum; with a degenerate pair the
    # gradient of their sum is the projector on the pair, finite (no 1/(E_m - E_n)).
    A = rng.normal(size=(5, 5))
    A = A + A.T
    _, V = np.linalg.eigh(A)
    g = jax.grad(lambda a: eigvalsh(a)[2])(jnp.asarray(A))
    np.testing.assert_allclose(g, np.outer(V[:, 2], V[:, 2]), atol=1e-10)
    Q = np.linalg.qr(rng.normal(size=(4, 4)))[0]
    D = Q @ np.diag([1.0, 2.0, 2.0, 3.0]) @ Q.T
    g = jax.jit(jax.grad(lambda a: eigvalsh(a)[1] + eigvalsh(a)[2]))(jnp.asarray(D))
    np.testing.assert_allclose(g, Q[:, 1:3] @ Q[:, 1:3].T, atol=1e-10)


def test_eigenvalue_gradient_matches_finite_differences(chain):
    def level(c, k=10):
        return eigvalsh(dataclasses.replace(chain, coef=c), 0)[k]

    g = jax.grad(level)(chain.coef)
    eps = 1e-6
    for m in (2, 5, len(chain.coef) - 1):  # ZZ couplings and a field: perturbations that conserve S^z
        fd = (level(chain.coef.at[m].add(eps)) - level(chain.coef.at[m].add(-eps))) / (2 * eps)
        assert abs(g[m] - fd) < 1e-6


def test_bad_inputs(chain):
    non_hermitian = PauliSum.from_terms(3, [("XX", [0, 1], 1.0j), ("Z", [2], 1.0)])
    with pytest.raises(ValueError, match="Hermitian"):
        eigh(non_hermitian)
    transverse = PauliSum.from_terms(3, [("ZZ", [0, 1], 1.0), ("X", [2], 0.5)])
    with pytest.raises(ValueError, match="sector=0.5.*conserve"):
        eigvalsh(transverse, 0.5)
    with pytest.raises(ValueError, match="n_sites=14.*GiB"):
        eigvalsh(random_field_heisenberg(jr.key(0), 14, W=1.0))
    with pytest.raises(ValueError, match="sector"):
        eigvalsh(chain, 0.5)  # impossible for even N
    with pytest.raises(ValueError, match="window"):
        eigvalsh(chain, 0, window=1.5)
    with pytest.raises(ValueError, match="square"):
        eigvalsh(np.zeros((4, 3)))
