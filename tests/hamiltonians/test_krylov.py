"""krylov_evolve against scipy.linalg.expm of independently built dense matrices (N <= 10)."""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.linalg
from reference import paulisum_dense, random_state

from jaxmbl import PauliSum, krylov_evolve, random_field_heisenberg

TOL = 1e-10
METHODS = ["lanczos", "chebyshev"]


def dm_heisenberg(key, n_sites, W=1.0, D=0.4, g=0.3):
    """Random-field Heisenberg chain + Dzyaloshinskii-Moriya D (XY - YX) + transverse field g X:
    complex Hermitian, no conservation law."""
    terms = [(ab, [i, i + 1], s * D) for i in range(n_sites - 1) for ab, s in (("XY", 1), ("YX", -1))]
    terms += [("X", [i], g) for i in range(n_sites)]
    return random_field_heisenberg(key, n_sites, W) + PauliSum.from_terms(n_sites, terms)


def dense_of(H):
    return paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))


def exact(H_dense, psi0, ts):
    """(T, ..., D) states exp(-iHt) psi0 by scipy's expm."""
    return np.stack([np.asarray(psi0) @ scipy.linalg.expm(-1j * H_dense * t).T for t in ts])


@pytest.fixture(scope="module")
def big():
    """N = 10, three initial states, unsorted times up to 100, both methods."""
    H = dm_heisenberg(jr.key(0), 10)
    psi0 = random_state(np.random.default_rng(0), 10, (3,))
    ts = np.array([10.0, 0.1, 100.0, 1.0])
    ref = exact(dense_of(H), psi0, ts)
    return ref, {m: krylov_evolve(H, psi0, ts, error_tol=TOL, method=m) for m in METHODS}


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_matches_expm_at_tolerance_up_to_t100(big, method):
    ref, results = big
    psi, info = results[method]
    assert psi.shape == (4, 3, 1024) and info["error"].shape == (4, 3)
    err = np.linalg.norm(np.asarray(psi) - ref, axis=-1)
    assert np.all(err <= TOL), err
    assert np.all(info["error"] <= TOL), info["error"]
    # The estimate (Lanczos) / bound (Chebyshev) is above the true error, up to round-off.
    assert np.all(err <= np.asarray(info["error"]) + 1e-13)
    assert np.all(np.diff(np.asarray(info["n_steps"])[[1, 3, 0, 2]], axis=0) >= 0)


@pytest.fixture(scope="module")
def small():
    H = dm_heisenberg(jr.key(1), 6)
    return H, dense_of(H), random_state(np.random.default_rng(1), 6, (2,))


@pytest.mark.parametrize("method", METHODS)
def test_log_spaced_negative_and_zero_times(small, method):
    H, Hd, psi0 = small
    ts = np.concatenate([[-3.0, 0.0], np.logspace(-3, 2, 9)])
    psi, info = krylov_evolve(H, psi0, ts, method=method)
    np.testing.assert_allclose(psi, exact(Hd, psi0, ts), atol=TOL)
    np.testing.assert_array_equal(psi[1], psi0)  # t = 0 takes no step
    assert np.all(info["error"] <= TOL)


@pytest.mark.slow
def test_realization_batch_vmap_and_jit_equal_loop(small):
    _, _, psi0 = small
    Hb = jax.vmap(lambda k: dm_heisenberg(k, 6))(jr.split(jr.key(2), 3))
    ts = np.array([0.5, 5.0])
    psi, info = krylov_evolve(Hb, psi0, ts)
    assert psi.shape == (3, 2, 2, 64) and info["error"].shape == (3, 2, 2)
    vmapped = jax.vmap(lambda h: krylov_evolve(h, psi0, ts)[0])(Hb)
    jitted, jitted_info = jax.jit(lambda h, p: krylov_evolve(h, p, ts))(Hb, psi0)
    np.testing.assert_allclose(jitted, psi, atol=1e-13)
    np.testing.assert_allclose(jitted_info["error"], info["error"], rtol=1e-8)
    for i in range(3):
        h = jax.tree_util.tree_map(lambda x, i=i: x[i], Hb)
        loop = krylov_evolve(h, psi0, ts)[0]
        np.testing.assert_allclose(psi[i], loop, atol=1e-13)
        np.testing.assert_allclose(vmapped[i], loop, atol=1e-13)
        np.testing.assert_allclose(loop, exact(dense_of(h), psi0, ts), atol=TOL)


def z0_expectation(psi):
    sign = 1 - 2 * (jnp.arange(psi.shape[-1]) >> 5 & 1)  # Z on site 0 = most significant bit of N=6
    return jnp.sum(sign * jnp.abs(psi) ** 2)


@pytest.mark.slow
@pytest.mark.parametrize("method", METHODS)
def test_gradients_match_finite_differences_of_expm(small, method):
    H, _, psi0 = small
    t_final = 3.0

    def krylov_z(coef, t):
        Hc = dataclasses.replace(H, coef=coef)
        out, _ = krylov_evolve(
            Hc, psi0[0], jnp.stack([0.5, t]), error_tol=1e-12, method=method, observables=z0_expectation
        )
        return out[-1]

    def dense_z(coef, t):
        psi = scipy.linalg.expm(-1j * paulisum_dense(np.asarray(H.paulis), coef) * t) @ psi0[0]
        return float(z0_expectation(jnp.asarray(psi)))

    value, (g_coef, g_t) = jax.value_and_grad(krylov_z, argnums=(0, 1))(H.coef, t_final)
    coef, eps = np.asarray(H.coef), 1e-5
    assert abs(value - dense_z(coef, t_final)) < 1e-10  # the observable itself
    assert np.all(np.isfinite(g_coef))
    for m in (0, 7, len(coef) - 1):
        step = np.zeros_like(coef)
        step[m] = eps
        fd = (dense_z(coef + step, t_final) - dense_z(coef - step, t_final)) / (2 * eps)
        assert abs(g_coef[m] - fd) < 1e-7
    fd_t = (dense_z(coef, t_final + eps) - dense_z(coef, t_final - eps)) / (2 * eps)
    assert abs(g_t - fd_t) < 1e-7


@pytest.mark.parametrize("method", METHODS)
def test_plain_matvec_function(small, method):
    _, Hd, psi0 = small
    ts = np.array([1.0, 20.0])
    ref = exact(Hd, psi0, ts)
    psi, info = krylov_evolve(jnp.asarray(Hd), psi0, ts, method=method, mv_fn=jnp.matmul)
    np.testing.assert_allclose(psi, ref, atol=TOL)
    if method == "chebyshev":
        E = np.linalg.eigvalsh(Hd)
        psi_b, _ = krylov_evolve(jnp.asarray(Hd), psi0, ts, method=method, mv_fn=jnp.matmul,
                                 spectral_bounds=(E[0], E[-1]))  # fmt: skip
        np.testing.assert_allclose(psi_b, ref, atol=TOL)


def test_float32_mode_and_scalar_time(small):
    H, Hd, psi0 = small
    psi, info = krylov_evolve(H, psi0[0], 10.0, error_tol=1e-5, dtype=jnp.float32)
    assert psi.shape == (64,) and info["error"].shape == ()  # a scalar time drops the T axis
    assert psi.dtype == jnp.complex64 and info["error"].dtype == jnp.float32
    assert np.linalg.norm(np.asarray(psi) - exact(Hd, psi0[0], [10.0])[0]) <= 1e-5
    assert info["error"] <= 1e-5


def test_step_limit_is_reported(small):
    H, _, psi0 = small
    _, info = krylov_evolve(H, psi0[0], np.array([0.1, 100.0]), max_steps=1)
    assert np.isfinite(info["error"][0]) and np.isinf(info["error"][1])


def test_bad_inputs(small):
    H, _, psi0 = small
    non_hermitian = H + PauliSum.from_terms(6, [("XZ", [0, 1], 0.2j)])
    with pytest.raises(ValueError, match="Hermitian"):
        krylov_evolve(non_hermitian, psi0, [1.0])
    with pytest.raises(ValueError, match="psi0"):
        krylov_evolve(H, np.ones(32), [1.0])
    with pytest.raises(ValueError, match="method"):
        krylov_evolve(H, psi0, [1.0], method="rk4")
    with pytest.raises(ValueError, match="tol"):
        krylov_evolve(H, psi0, [1.0], error_tol=0.0)
    with pytest.raises(ValueError, match="ts"):
        krylov_evolve(H, psi0, np.ones((2, 2)))
    with pytest.raises(ValueError, match="krylov_dim"):
        krylov_evolve(H, psi0, [1.0], krylov_dim=1)
    with pytest.raises(TypeError, match="mv"):
        krylov_evolve("not an operator", psi0, [1.0])
