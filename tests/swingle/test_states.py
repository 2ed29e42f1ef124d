"""Basis, product and Neel states against explicit numpy krons."""

import jax.numpy as jnp
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._swingle.states import neel_index


def _spinor(theta, phi):
    return np.array([np.cos(theta / 2), np.exp(1j * phi) * np.sin(theta / 2)])


@pytest.mark.parametrize("n_sites,n", [(1, 0), (1, 1), (3, 5), (5, 19)])
def test_basis_state_is_one_hot(n_sites, n):
    psi = np.asarray(jm.basis_state(n_sites, n))
    assert psi.shape == (2**n_sites,) and psi.dtype == np.complex128
    np.testing.assert_array_equal(psi, np.eye(2**n_sites)[n])
    # Explicit kron of single-site kets, site 0 leftmost.
    kets = [np.eye(2)[b] for b in ref.bits_of(n, n_sites)]
    np.testing.assert_array_equal(psi, ref.kron_all([k[None, :] for k in kets])[0])


def test_basis_state_accepts_lattice_and_dtype():
    psi = jm.basis_state(jm.Lattice((2, 2)), 3, dtype=jnp.float32)
    assert psi.shape == (16,) and psi.dtype == jnp.complex64


def test_product_state_matches_kron(rng):
    theta, phi = rng.uniform(0, np.pi, 5), rng.uniform(-np.pi, np.pi, 5)
    want = ref.kron_all([_spinor(t, p)[None, :] for t, p in zip(theta, phi)])[0]
    np.testing.assert_allclose(np.asarray(jm.product_state(theta, phi)), want, atol=1e-15)
    want0 = ref.kron_all([_spinor(t, 0.0)[None, :] for t in theta])[0]
    np.testing.assert_allclose(np.asarray(jm.product_state(theta)), want0, atol=1e-15)


def test_product_state_bloch_vectors(rng):
    theta, phi = rng.uniform(0, np.pi, 4), rng.uniform(-np.pi, np.pi, 4)
    psi = np.asarray(jm.product_state(theta, phi))
    np.testing.assert_allclose(np.linalg.norm(psi), 1.0, atol=1e-14)
    for r in range(4):
        rho = ref.partial_trace_keep(psi, [r], 4)
        bloch = [np.trace(rho @ s).real for s in (ref.X, ref.Y, ref.Z)]
        want = [np.sin(theta[r]) * np.cos(phi[r]), np.sin(theta[r]) * np.sin(phi[r]), np.cos(theta[r])]
        np.testing.assert_allclose(bloch, want, atol=1e-14)


def test_product_state_special_angles():
    np.testing.assert_allclose(np.asarray(jm.product_state([0.0, 0.0])), [1, 0, 0, 0], atol=1e-16)
    np.testing.assert_allclose(np.abs(np.asarray(jm.product_state([np.pi, np.pi]))), [0, 0, 0, 1], atol=1e-16)
    plus = np.asarray(jm.product_state([np.pi / 2]))
    np.testing.assert_allclose(plus, np.array([1, 1]) / np.sqrt(2), atol=1e-16)
    np.testing.assert_allclose(ref.X @ plus, plus, atol=1e-16)  # |+> is the X = +1 eigenstate


def test_neel_state_1d():
    psi = np.asarray(jm.neel_state(6))
    np.testing.assert_array_equal(psi, np.eye(64)[0b010101])
    np.testing.assert_array_equal(np.asarray(jm.neel_state(jm.Lattice((5,)))), np.eye(32)[0b01010])


def test_neel_state_2d_checkerboard():
    lat = jm.Lattice((3, 2))  # coords (0,0) (0,1) (1,0) (1,1) (2,0) (2,1): down where x+y is odd
    assert neel_index(lat) == 0b011001
    psi = np.asarray(jm.neel_state(lat))
    np.testing.assert_array_equal(psi, np.eye(64)[0b011001])
    # Every bond joins an up and a down spin.
    bits = ref.bits_of(neel_index(jm.Lattice((4, 4))), 16)
    assert all(bits[i] != bits[j] for i, j in jm.Lattice((4, 4)).bonds)


@pytest.mark.parametrize(
    "make,match",
    [
        (lambda: jm.basis_state(3, 8), "n must lie"),
        (lambda: jm.basis_state(3, -1), "n must lie"),
        (lambda: jm.basis_state(0, 0), "n_sites"),
        (lambda: jm.basis_state(2.5, 0), "n_sites"),
        (lambda: jm.product_state(np.zeros((2, 2))), "theta"),
        (lambda: jm.product_state([0.0, 1.0], [0.0]), "phi"),
        (lambda: jm.neel_state(0), "n_sites"),
    ],
)
def test_bad_state_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_huge_state_refused_without_allocating(monkeypatch):
    # If the memory check came after the allocation, jnp.zeros would be reached and fail differently.
    def boom(*args, **kwargs):
        raise AssertionError("allocated before the memory check")

    monkeypatch.setattr(jnp, "zeros", boom)
    with pytest.raises(ValueError, match="GiB"):
        jm.basis_state(40, 0)
    with pytest.raises(ValueError, match="GiB"):
        jm.product_state(np.zeros(40))
