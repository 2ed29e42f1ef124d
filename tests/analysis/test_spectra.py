"""Spectral statistics against analytic values (Poisson, GOE) and direct numpy formulas."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from reference import partial_trace_keep

from jaxmbl import (
    R_GOE,
    R_POISSON,
    density_of_states,
    eigh,
    eigvalsh,
    entanglement_vs_energy,
    level_spacing_ratio,
    mean_ratio,
    random_field_heisenberg,
    realization_keys,
    spectral_form_factor,
)


def numpy_ratio(E):
    """<r~> of one sorted spectrum, written out directly."""
    d = np.diff(np.sort(E))
    return np.mean([min(a, b) / max(a, b) for a, b in zip(d[:-1], d[1:])])


def test_ratio_by_hand_and_degenerate_levels():
    E = np.array([4.0, 0.0, 10.0, 1.0, 3.0])  # sorted gaps 1, 2, 1, 6
    assert np.isclose(level_spacing_ratio(E, window=None), (0.5 + 0.5 + 1 / 6) / 3)
    # Exactly degenerate levels: gaps 0, 0, 1, 2. The 0/0 ratio is excluded, the one with a single
    # zero gap is 0, and the gradient stays finite.
    degenerate = jnp.array([0.0, 0.0, 0.0, 1.0, 3.0])
    assert level_spacing_ratio(degenerate, window=None) == pytest.approx((0 + 0.5) / 2)
    assert np.all(np.isfinite(jax.grad(lambda E: level_spacing_ratio(E, window=None))(degenerate)))


def test_window_batch_jit_and_vmap(rng):
    E = rng.normal(size=(5, 101))
    r = level_spacing_ratio(E, window=0.5)  # the central 50 levels: sorted indices 25..74
    for i in range(5):
        assert np.isclose(r[i], numpy_ratio(np.sort(E[i])[25:75]))
    np.testing.assert_allclose(jax.jit(level_spacing_ratio)(E), r, atol=1e-14)
    np.testing.assert_allclose(jax.vmap(level_spacing_ratio)(E), r, atol=1e-14)


def test_poisson_levels():
    E = np.random.default_rng(0).uniform(size=(400, 400))
    m, err = mean_ratio(jr.key(0), E)
    assert abs(m - R_POISSON) < 3 * err
    # The bootstrap error is the standard error of the mean over realizations.
    r = np.asarray(level_spacing_ratio(E))
    assert err == pytest.approx(np.std(r) / np.sqrt(len(r)), rel=0.15)


def test_goe_matrices():
    rng = np.random.default_rng(1)
    A = rng.normal(size=(60, 150, 150))
    E = np.linalg.eigvalsh(A + np.swapaxes(A, -1, -2))  # real symmetric Gaussian: the GOE
    m, err = mean_ratio(jr.key(1), E)
    assert abs(m - R_GOE) < 3 * err


@pytest.mark.slow
def test_random_field_heisenberg_crossover_L12():
    """Total S^z = 0 block (D = 924) of the L = 12 chain: GOE at W = 0.5, Poisson at W = 8."""
    results = {}
    for W in (0.5, 8.0):
        H = jax.vmap(lambda k, W=W: random_field_heisenberg(k, 12, W))(realization_keys(jr.key(7), 20))
        results[W] = mean_ratio(jr.key(2), eigvalsh(H, 0))
    (m_goe, e_goe), (m_poisson, e_poisson) = results[0.5], results[8.0]
    assert abs(m_goe - R_GOE) < 3 * e_goe + 0.005, results
    assert abs(m_poisson - R_POISSON) < 3 * e_poisson + 0.005, results
    assert m_goe - m_poisson > 10 * (e_goe + e_poisson)


def test_density_of_states(rng):
    E = rng.normal(size=(3, 500))
    rho, edges = density_of_states(E, bins=20)
    ref_rho, ref_edges = np.histogram(E.ravel(), bins=20, density=True)
    np.testing.assert_allclose(rho, ref_rho, atol=1e-12)
    np.testing.assert_allclose(edges, ref_edges, atol=1e-12)


def test_spectral_form_factor(rng):
    E = rng.normal(size=(2, 50))
    ts = np.array([0.0, 0.3, 2.0, 1e3])
    K = spectral_form_factor(E, ts)
    ref = np.abs(np.exp(-1j * E[:, None, :] * ts[None, :, None]).sum(-1)) ** 2 / 50
    np.testing.assert_allclose(K, ref, atol=1e-10)
    assert np.allclose(K[:, 0], 50)
    Kg = spectral_form_factor(E, ts, filter="gaussian")
    g = np.exp(-((E - E.mean(-1, keepdims=True)) ** 2) / (2 * (E.std(-1, keepdims=True) / 2) ** 2))
    ref_g = np.abs((g[:, None, :] * np.exp(-1j * E[:, None, :] * ts[None, :, None])).sum(-1)) ** 2
    np.testing.assert_allclose(Kg, ref_g / (g**2).sum(-1, keepdims=True), atol=1e-10)
    np.testing.assert_allclose(spectral_form_factor(E, ts, filter=jnp.ones_like), K, atol=1e-12)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_transforms_of_dos_and_form_factor(rng):
    E = rng.normal(size=(3, 40))
    ts = np.linspace(0, 5, 7)
    K = spectral_form_factor(E, ts, filter="gaussian")
    np.testing.assert_allclose(jax.jit(lambda E: spectral_form_factor(E, ts, filter="gaussian"))(E), K, atol=1e-12)
    np.testing.assert_allclose(jax.vmap(lambda e: spectral_form_factor(e, ts, filter="gaussian"))(E), K, atol=1e-12)
    rho, edges = density_of_states(E, bins=8)
    rho_jit, edges_jit = jax.jit(lambda E: density_of_states(E, bins=8))(E)
    np.testing.assert_allclose(rho_jit, rho, atol=1e-12)
    np.testing.assert_allclose(edges_jit, edges, atol=1e-12)


def test_entanglement_vs_energy():
    n = 8
    H = random_field_heisenberg(jr.key(5), n, W=1.0)
    E, V = eigh(H, 0, window=0.2)
    eps, S = entanglement_vs_energy(E, V, [0, 1, 2], sector=0, n_sites=n)
    basis = np.flatnonzero([bin(i).count("1") == n // 2 for i in range(2**n)])
    for k in (0, 7, len(E) - 1):
        psi = np.zeros(2**n, complex)
        psi[basis] = V[:, k]
        p = np.linalg.eigvalsh(partial_trace_keep(psi, [0, 1, 2], n))
        p = p[p > 1e-14]
        assert np.isclose(S[k], -np.sum(p * np.log(p)), atol=1e-10)
        assert np.isclose(eps[k], (E[k] - E[0]) / (E[-1] - E[0]))


def test_bad_inputs(rng):
    E = rng.normal(size=(4, 10))
    with pytest.raises(ValueError, match="window"):
        level_spacing_ratio(E, window=0.2)  # 2 levels
    with pytest.raises(ValueError, match="window"):
        level_spacing_ratio(E, window=0.0)
    with pytest.raises(ValueError, match="energies"):
        level_spacing_ratio(E + 1j)
    with pytest.raises(ValueError, match="n_boot"):
        mean_ratio(jr.key(0), E, n_boot=1)
    with pytest.raises(ValueError, match="realizations"):
        mean_ratio(jr.key(0), E[:1])
    with pytest.raises(ValueError, match="filter"):
        spectral_form_factor(E, [1.0], filter="lorentzian")
    with pytest.raises(ValueError, match="ts"):
        spectral_form_factor(E, np.ones((2, 2)))
    with pytest.raises(ValueError, match="bins"):
        density_of_states(E, bins=0)
    with pytest.raises(ValueError, match="n_sites"):
        entanglement_vs_energy(E[0], np.eye(10), [0], sector=0)
