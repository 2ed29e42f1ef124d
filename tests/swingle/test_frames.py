"""jaxmbl._swingle.frames against dense references: frames, and evolution from per-realization l-bit-frame states."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm
from jaxmbl._swingle.frames import evolve_lbit_frame, to_lbit_frame, to_physical_frame

N = 5
LAT = jm.Lattice((N,))
TS = np.array([0.0, 0.37, 4.2, 1e9])


@pytest.fixture(scope="module")
def models():
    return jm.sample_models(jr.key(3), LAT, 3, xi=0.7, unitary="generator")


def single(models, i):
    return jax.tree_util.tree_map(lambda x: x[i], models)


def test_frames_are_U_dagger_and_U(models, rng):
    psi = ref.random_state(rng, N, (3, 2))
    chi = np.asarray(to_lbit_frame(models, psi))
    for i in range(3):
        _, U, _ = ref.model_dense(single(models, i))
        np.testing.assert_allclose(chi[i], psi[i] @ U.conj(), atol=1e-12)  # rows: U^dag psi
    np.testing.assert_allclose(np.asarray(to_physical_frame(models, chi)), psi, atol=1e-12)


def test_evolve_lbit_frame_matches_expm_of_H(models, rng):
    chi0 = ref.random_state(rng, N, (3,))
    out = evolve_lbit_frame(models, chi0, TS[:3], lambda psi, chi: (psi, chi))
    psi_t, chi_t = (np.asarray(x) for x in out)
    assert psi_t.shape == (3, 3, 2**N)
    for i in range(3):
        H, U, E = ref.model_dense(single(models, i))
        for k, t in enumerate(TS[:3]):
            np.testing.assert_allclose(psi_t[i, k], scipy.linalg.expm(-1j * H * t) @ (U @ chi0[i]), atol=1e-10)
            np.testing.assert_allclose(chi_t[i, k], np.exp(-1j * E * t) * chi0[i], atol=1e-10)


def test_long_times_use_exact_phases(models, rng):
    chi0 = ref.random_state(rng, N, (3,))
    chi_t = np.asarray(evolve_lbit_frame(models, chi0, 1e9, lambda psi, chi: chi))
    for i in range(3):
        phases = ref.energy_phases_mp(ref.h0_terms(single(models, i).h0), N, 1e9)
        np.testing.assert_allclose(chi_t[i], np.exp(-1j * phases) * chi0[i], atol=1e-11)


def test_default_returns_states_and_extra_state_axes(models, rng):
    chi0 = ref.random_state(rng, N, (3, 2))
    psi_t = np.asarray(evolve_lbit_frame(models, chi0, TS))
    assert psi_t.shape == (3, len(TS), 2, 2**N)
    np.testing.assert_allclose(psi_t[:, 0], np.asarray(to_physical_frame(models, chi0)), atol=1e-12)


def test_observables_leave_the_weights_of_chi_constant(models, rng):
    chi0 = ref.random_state(rng, N, (3,))
    D = np.asarray(evolve_lbit_frame(models, chi0, TS, lambda psi, chi: jm.dephased_entropy(chi, [0, 1])))
    np.testing.assert_allclose(D, D[:, :1] * np.ones_like(D), atol=1e-12)


def test_jit_equals_eager_and_vmap_equals_loop(models, rng):
    chi0 = jnp.asarray(ref.random_state(rng, N, (3,)))
    f = lambda psi, chi: jm.entropy(psi, [0, 1])  # noqa: E731
    eager = np.asarray(evolve_lbit_frame(models, chi0, TS, f))
    jitted = np.asarray(jax.jit(lambda m, c: evolve_lbit_frame(m, c, TS, f))(models, chi0))
    np.testing.assert_allclose(jitted, eager, atol=1e-12)
    loop = np.stack([np.asarray(evolve_lbit_frame(single(models, i), chi0[i], TS, f)) for i in range(3)])
    np.testing.assert_allclose(loop, eager, atol=1e-12)


def test_bad_inputs(models, rng):
    chi0 = ref.random_state(rng, N, (3,))
    with pytest.raises(ValueError, match="chi0 must hold one state"):
        evolve_lbit_frame(models, chi0[0], TS)
    with pytest.raises(ValueError, match="chi0 must have shape"):
        evolve_lbit_frame(models, np.ones((3, 8)), TS)
    with pytest.raises(ValueError, match="ts must"):
        evolve_lbit_frame(models, chi0, np.ones((2, 2)))
    with pytest.raises(TypeError, match="observables must be a function"):
        evolve_lbit_frame(models, chi0, TS, observables=3)
    with pytest.raises(ValueError, match="time_batch"):
        evolve_lbit_frame(models, chi0, TS, time_batch=0)
    with pytest.raises(TypeError, match="model must be a SwingleModel"):
        to_lbit_frame("model", chi0)
