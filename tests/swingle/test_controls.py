"""jaxmbl._swingle.controls: the negative-control models (dense Haar U, disorder-free H0)."""

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._swingle.controls import DenseUnitary, clean_models, haar_models, haar_unitary
from jaxmbl._swingle.u1 import sample_u1_models

LAT = jm.Lattice((4,))


def test_haar_unitary_is_unitary_and_has_haar_moments():
    U = np.asarray(haar_unitary(jr.key(0), 8))
    np.testing.assert_allclose(U @ U.conj().T, np.eye(8), atol=1e-13)
    # E|U_ij|^2 = 1/d for Haar; average over many draws
    draws = np.stack([np.abs(np.asarray(haar_unitary(k, 4))) ** 2 for k in jr.split(jr.key(1), 400)])
    np.testing.assert_allclose(draws.mean(0), 0.25, atol=0.03)


def test_dense_unitary_applies_its_matrix(rng):
    M = ref.haar_unitary(rng, 16)
    U = DenseUnitary(jnp.asarray(M), 4)
    psi = ref.random_state(rng, 4)
    np.testing.assert_allclose(np.asarray(U.apply(psi)), M @ psi, atol=1e-13)
    np.testing.assert_allclose(np.asarray(U.apply_adjoint(psi)), M.conj().T @ psi, atol=1e-13)
    np.testing.assert_allclose(np.asarray(U.dense()), M, atol=1e-13)


@pytest.mark.slow
def test_haar_models_keep_h0_and_replace_U():
    key = jr.key(2)
    models = haar_models(key, LAT, 3, xi=0.5)
    plain = jm.sample_models(key, LAT, 3, xi=0.5)
    np.testing.assert_array_equal(np.asarray(models.h0.coef[1]), np.asarray(plain.h0.coef[1]))
    assert isinstance(models.U, DenseUnitary) and models.batch_shape == (3,)
    H = np.asarray(jm.dense_hamiltonian(models))
    np.testing.assert_allclose(np.linalg.eigvalsh(H), np.sort(np.asarray(jm.energies(models)), -1), atol=1e-12)
    mats = np.asarray(models.U.matrix)
    assert np.abs(mats[0] - mats[1]).max() > 0.1


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_charge_conserving_haar_models_are_block_diagonal():
    models = haar_models(jr.key(3), LAT, 2, charge_conserving=True, sample_fn=sample_u1_models)
    charge = ref.all_bits(4).sum(1)
    for M in np.asarray(models.U.matrix):
        np.testing.assert_allclose(M @ M.conj().T, np.eye(16), atol=1e-13)
        assert np.abs(M[charge[:, None] != charge[None, :]]).max() == 0.0
        assert np.abs(M[np.ix_(charge == 2, charge == 2)]).min() > 0  # dense within the sector


def test_clean_models_have_shape_dependent_couplings_only():
    xi, J0 = 0.6, 1.3
    models = clean_models(jr.key(4), LAT, 2, xi=xi, J0=J0)
    for sites, coef in zip(models.h0.sites, models.h0.coef):
        c = np.asarray(coef)
        np.testing.assert_array_equal(c[0], c[1])
        dist = LAT.distances
        want = [0.5 * J0 * np.exp(-ref.mst_length(dist, S) / xi) for S in sites]
        np.testing.assert_allclose(c[0], want, rtol=1e-12)
    # translation invariance in the bulk: E is invariant under reversing the chain
    E = np.asarray(jm.energies(models))[0]
    rev = [int(format(n, "04b")[::-1], 2) for n in range(16)]
    np.testing.assert_allclose(E[rev], E, atol=1e-12)


def test_bad_inputs():
    with pytest.raises(ValueError, match="haar_models needs N <= 12"):
        haar_models(jr.key(0), jm.Lattice((13,)), 1)
