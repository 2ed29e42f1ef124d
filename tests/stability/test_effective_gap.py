"""Near-resonant weight of K (paper §IV.C, eq. 4.31) and the check U^dagger J U = K (eq. 4.29–4.31).

References: K as a dense numpy sum of Pauli krons (tests/reference.py), the energies as the
diagonal of the dense H0 built from its couplings, and explicit sums over all m for each n.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm

GAPS = [0.01, 0.03, 0.1, 0.3]


def _dense_fractions(K, E, idx, gaps):
    out = np.zeros((len(idx), len(gaps)))
    for a, n in enumerate(idx):
        w = np.abs(K[:, n]) ** 2
        for b, g in enumerate(gaps):
            near = np.abs(E - E[n]) < g
            near[n] = False
            out[a, b] = w[near].sum() / w.sum()
    return out


def test_matches_dense_numpy_for_a_generator_unitary():
    model = jm.sample_model(jr.key(0), jm.Lattice((5,)), unitary="generator")
    out = jm.near_resonant_fraction(jr.key(1), model, GAPS, n_samples=24)
    K = ref.paulisum_dense(*model.U.to_paulis())
    E = np.real(np.diag(ref.h0_dense(5, ref.h0_terms(model.h0))))
    expected = _dense_fractions(K, E, np.asarray(out["states"]), GAPS)
    np.testing.assert_allclose(np.asarray(out["fraction"]), expected, atol=1e-13)
    np.testing.assert_allclose(np.asarray(out["mean"]), expected.mean(0), atol=1e-13)
    diag = np.array([abs(K[n, n]) ** 2 / np.sum(np.abs(K[:, n]) ** 2) for n in np.asarray(out["states"])])
    np.testing.assert_allclose(np.asarray(out["diagonal"]), diag, atol=1e-13)
    assert np.all(np.diff(np.asarray(out["mean"])) >= 0)  # monotone in gap


def test_matches_dense_numpy_for_a_pauli_sum_generator_and_given_states():
    model = jm.sample_model(jr.key(2), jm.Lattice((5,)), unitary="generator")
    K = jm.PauliSum.from_terms(5, [("XY", [0, 3], 0.3), ("ZXZ", [1, 2, 4], 0.2), ("X", [2], 0.1), ("Z", [0], 0.4)])
    fam = jm.conjugation_family(model, K)
    states = np.arange(32)
    out = jm.near_resonant_fraction(None, fam, GAPS, states=states)
    E = np.real(np.diag(ref.h0_dense(5, ref.h0_terms(model.h0))))
    Kd = ref.paulisum_dense(np.asarray(K.paulis), np.asarray(K.coef))
    np.testing.assert_allclose(np.asarray(out["fraction"]), _dense_fractions(Kd, E, states, GAPS), atol=1e-13)
    # every n sampled once: pooled is the fraction of ||K||_F^2 on near-resonant off-diagonal pairs
    near = (np.abs(E[:, None] - E[None, :]) < 0.1) & ~np.eye(32, dtype=bool)
    np.testing.assert_allclose(float(out["pooled"][2]), np.sum(np.abs(Kd[near]) ** 2) / np.sum(np.abs(Kd) ** 2))


@pytest.mark.slow
def test_jit_and_vmap_over_realizations():
    models = jm.sample_models(jr.key(3), jm.Lattice((5,)), 2, unitary="generator")
    idx = jnp.arange(0, 32, 3)
    batched = jax.vmap(lambda m: jm.near_resonant_fraction(None, m, GAPS, states=idx)["mean"])(models)
    for i in range(2):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], models)
        np.testing.assert_allclose(
            np.asarray(batched[i]),
            np.asarray(jm.near_resonant_fraction(None, one, GAPS, states=idx)["mean"]),
            atol=1e-14,
        )


@pytest.mark.slow
def test_large_n_runs_without_dense_vectors():
    model = jm.sample_model(jr.key(4), jm.Lattice((20,)), unitary="generator")
    out = jm.near_resonant_fraction(jr.key(5), model, GAPS, n_samples=16)
    assert out["fraction"].shape == (16, 4) and bool(jnp.all((out["fraction"] >= 0) & (out["fraction"] <= 1)))


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_generator_equals_K_away_from_resonances_spectral():
    model = jm.sample_model(jr.key(6), jm.Lattice((5,)), unitary="generator")
    out = jm.generator_deviation(model, 0.8, gap=0.1)
    assert out["max_deviation"] < 1e-12
    assert out["max_near"] > 1e-3  # J differs from K on near-resonant pairs: the check is not vacuous
    assert out["n_far"] + out["n_near"] == 32**2


@pytest.mark.slow
def test_generator_equals_K_away_from_resonances_quadrature():
    model = jm.sample_model(jr.key(7), jm.Lattice((4,)), unitary="generator")
    out = jm.generator_deviation(model, 0.8, gap=0.3, method="quadrature", tol=1e-9)
    assert out["max_deviation"] < 1e-8


def test_errors():
    with pytest.raises(TypeError, match="conjugation_family"):
        jm.near_resonant_fraction(jr.key(0), jm.PauliSum.from_list([("XZ", 1.0)]), 0.1)
    gen = jm.sample_model(jr.key(0), jm.Lattice((5,)), unitary="generator")
    with pytest.raises(jm.JaxmblError, match="gaps"):
        jm.near_resonant_fraction(jr.key(0), gen, -0.1)
    with pytest.raises(jm.JaxmblError, match="states"):
        jm.near_resonant_fraction(None, gen, 0.1, states=[32])
    with pytest.raises(jm.JaxmblError, match="method"):
        jm.generator_deviation(gen, 0.5, gap=0.1, method="magic")
