"""Tests of jaxmbl._analysis.transport against dense numpy operators (tests/reference.py)."""

import jax
import numpy as np
import pytest
from reference import X, all_bits, h0_terms, model_dense, random_state, site_op

import jaxmbl as jm
from jaxmbl._analysis.transport import energy_density, flip_amplitudes, lbit_energy_density


def reference_site_energies(model):
    """``h_r(n)`` from the coupling list: each J_S shared equally by the sites of S."""
    n = model.n_sites
    bits = all_bits(n)
    h = np.zeros((n, 2**n))
    for sites, J in h0_terms(model.h0):
        occupied = np.all(bits[:, list(sites)] == 1, axis=1)
        for r in sites:
            h[r] += J / len(sites) * occupied
    return h


@pytest.fixture(scope="module")
def models():
    return jm.sample_models(jax.random.key(0), jm.Lattice((6,)), 3, depth=4, strength=1.0)


def one(models, i):
    return jax.tree_util.tree_map(lambda x: x[i], models)


def test_lbit_energy_density_matches_reference_and_sums_to_energies(models):
    h = np.asarray(lbit_energy_density(models))
    for i in range(3):
        np.testing.assert_allclose(h[i], reference_site_energies(one(models, i)), atol=1e-12)
    np.testing.assert_allclose(h.sum(-2), jm.energies(models), atol=1e-12)


def test_energy_density_matches_dense_expectation(models, rng):
    psi = random_state(rng, 6, (3, 2))
    e = np.asarray(energy_density(models, psi))
    assert e.shape == (3, 2, 6)
    for i in range(3):
        _, U, _ = model_dense(one(models, i))
        h = reference_site_energies(one(models, i))
        for k in range(2):
            for r in range(6):
                op = U @ np.diag(h[r]) @ U.conj().T
                np.testing.assert_allclose(e[i, k, r], np.real(psi[i, k].conj() @ op @ psi[i, k]), atol=1e-12)
        H, _, _ = model_dense(one(models, i))
        np.testing.assert_allclose(
            e[i].sum(-1), np.real(np.einsum("ki,ij,kj->k", psi[i].conj(), H, psi[i])), atol=1e-12
        )


def test_flip_amplitudes_match_dense_operator(models):
    A = np.asarray(flip_amplitudes(models, X, 2))
    assert A.shape == (3, 64, 6)
    n = np.arange(64)
    for i in range(3):
        _, U, _ = model_dense(one(models, i))
        Phi = U.conj().T @ site_op(X, 2, 6) @ U
        for r in range(6):
            np.testing.assert_allclose(A[i, :, r], np.abs(Phi[n ^ (1 << (5 - r)), n]), atol=1e-12)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_circuit_amplitudes_vanish_outside_the_light_cone():
    model = jm.sample_model(jax.random.key(1), jm.Lattice((8,)), depth=2, strength=1.0)
    A = np.asarray(flip_amplitudes(model, X, 0))
    assert A[:, 1].max() > 1e-3  # inside the cone
    assert A[:, 2:].max() < 1e-14  # depth 2 brickwork: U^dag X_0 U lives on sites 0, 1


@pytest.mark.slow
def test_jit_equals_eager_and_vmap_equals_loop(models, rng):
    psi = random_state(rng, 6, (3,))
    f = lambda m, p: (energy_density(m, p), flip_amplitudes(m, X, 1), lbit_energy_density(m.h0))
    eager = f(models, psi)
    jitted = jax.jit(f)(models, psi)
    looped = [f(one(models, i), psi[i]) for i in range(3)]
    for a, b, parts in zip(eager, jitted, zip(*looped)):
        np.testing.assert_allclose(a, b, atol=1e-12)
        np.testing.assert_allclose(a, np.stack(parts), atol=1e-12)


def test_bad_inputs(models):
    with pytest.raises(TypeError, match="h0 must be"):
        lbit_energy_density(np.zeros(4))
    with pytest.raises(ValueError, match="psi must start with the model's batch shape"):
        energy_density(models, np.ones((2, 64)))
    with pytest.raises(ValueError, match="psi must have shape"):
        energy_density(models, np.ones((3, 32)))
    with pytest.raises(ValueError, match="op must be a"):
        flip_amplitudes(models, np.eye(4), 0)
    with pytest.raises(ValueError, match="site must be an integer"):
        flip_amplitudes(models, X, 6)
    with pytest.raises(ValueError, match="state_batch"):
        flip_amplitudes(models, X, 0, state_batch=0)
    with pytest.raises(TypeError, match="model must be a SwingleModel"):
        flip_amplitudes(models.U, X, 0)
