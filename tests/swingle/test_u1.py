"""jaxmbl._swingle.u1: charge-conserving unitaries and models, checked with dense numpy references."""

import jax
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._swingle.u1 import (
    random_u1_circuit,
    random_u1_generator,
    sample_u1_model,
    sample_u1_models,
)
from jaxmbl._swingle.unitaries import U1_BOND_BASIS

N = 5
LAT = jm.Lattice((N,))
Q = np.diag(ref.all_bits(N).sum(1).astype(float))  # total charge sum_r P_r


def test_bond_basis_commutes_with_the_two_site_charge():
    q2 = np.kron(ref.P1, ref.I2) + np.kron(ref.I2, ref.P1)
    for pattern in U1_BOND_BASIS:
        h = sum(pattern[a, b] * np.kron(ref.PAULIS[a], ref.PAULIS[b]) for a in range(4) for b in range(4))
        np.testing.assert_allclose(h, h.conj().T, atol=1e-15)
        np.testing.assert_allclose(h @ q2 - q2 @ h, 0, atol=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda k: random_u1_circuit(k, LAT, depth=3, strength=2.0),
        lambda k: random_u1_generator(k, LAT, strength=1.5),
        lambda k: random_u1_generator(k, jm.Lattice((2, 2), True), strength=1.0),
    ],
)
def test_unitaries_conserve_the_charge(make):
    U = make(jr.key(0))
    Ud = ref.unitary_dense(U)
    q = np.diag(ref.all_bits(U.n_sites).sum(1).astype(float))
    np.testing.assert_allclose(Ud @ Ud.conj().T, np.eye(2**U.n_sites), atol=1e-11)
    np.testing.assert_allclose(Ud @ q - q @ Ud, 0, atol=1e-11)
    np.testing.assert_allclose(np.asarray(U.dense()), Ud, atol=1e-11)
    assert np.abs(Ud - np.diag(np.diag(Ud))).max() > 1e-2  # it does move particles


def test_generator_bond_norms_respect_the_strength():
    U = random_u1_generator(jr.key(1), LAT, strength=0.7)
    h2, _ = U.local_terms()
    norms = np.abs(np.linalg.eigvalsh(np.asarray(h2))).max(-1)
    assert norms.max() <= 0.7 + 1e-12 and norms.min() > 0
    assert float(U.error_bound()) <= 1e-12


def test_isolated_site_gets_a_z_field():
    U = random_u1_generator(jr.key(2), jm.Lattice((1,)), strength=0.5)
    assert U.singles == ((0,),)
    assert np.count_nonzero(np.asarray(U.coef1)[0, :3]) == 0


@pytest.mark.slow
def test_models_share_h0_with_sample_model_and_realizations_are_keyed():
    key = jr.key(4)
    m = sample_u1_model(key, LAT, xi=0.6)
    plain = jm.sample_model(key, LAT, xi=0.6)
    for a, b in zip(m.h0.coef, plain.h0.coef):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    batch = sample_u1_models(key, LAT, 3, xi=0.6)
    later = sample_u1_models(key, LAT, 2, start=1, xi=0.6)
    np.testing.assert_array_equal(np.asarray(batch.U.coef2[1:]), np.asarray(later.U.coef2))
    loop = np.stack([np.asarray(sample_u1_model(k, LAT, xi=0.6).U.coef2) for k in jm.realization_keys(key, 3)])
    np.testing.assert_array_equal(np.asarray(batch.U.coef2), loop)
    jitted = jax.jit(lambda k: sample_u1_model(k, LAT, xi=0.6))(key)
    np.testing.assert_allclose(np.asarray(jitted.U.coef2), np.asarray(m.U.coef2), atol=1e-15)


def test_dynamics_stays_in_the_charge_sector():
    model = sample_u1_model(jr.key(5), LAT, unitary="circuit", depth=4, strength=2.0)
    psi = np.asarray(jm.evolve(model, jm.basis_state(N, 0b01011), np.array([0.5, 1e6])))
    charge = ref.all_bits(N).sum(1)
    assert np.abs(psi[:, charge != 3]).max() < 1e-12
    H, _, _ = ref.model_dense(model)
    np.testing.assert_allclose(H @ Q - Q @ H, 0, atol=1e-11)


def test_bad_inputs():
    with pytest.raises(ValueError, match="strength must be finite"):
        random_u1_generator(jr.key(0), LAT, strength=-1.0)
    with pytest.raises(ValueError, match="depth must be >= 0"):
        random_u1_circuit(jr.key(0), LAT, depth=-1)
    with pytest.raises(ValueError, match="unitary must be"):
        sample_u1_model(jr.key(0), LAT, unitary="dense")
    with pytest.raises(TypeError, match="lattice must be"):
        sample_u1_model(jr.key(0), (5,))
    with pytest.raises(ValueError, match="n must be an integer"):
        sample_u1_models(jr.key(0), LAT, 0)
