"""Quasi-locality of J_r (paper eq. 4.16–4.17): Pauli weights against a brute-force 4**N expansion,
and the random-vector (Hutchinson) commutator norms against exact Frobenius norms.
"""

import itertools

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm


def _pauli_coefficients(J, n):
    """``{labels: tr(P J) / D}`` for all 4**N strings, by explicit krons (the brute-force reference)."""
    return {lab: np.trace(ref.pauli_dense(lab) @ J) / 2**n for lab in itertools.product(range(4), repeat=n)}


def _random_hermitian(rng, n):
    A = rng.normal(size=(2**n, 2**n)) + 1j * rng.normal(size=(2**n, 2**n))
    return A + A.conj().T


@pytest.mark.parametrize("n, site", [(4, 1), (5, 0), (5, 2)])
def test_outside_and_site_weights_match_brute_force(rng, n, site):
    J = _random_hermitian(rng, n)
    # make the weights decay with distance so that every d is tested on a non-trivial value
    J = sum(
        0.3 ** abs(r - site) * ref.site_op(ref.PAULIS[1], r, n) @ J @ ref.site_op(ref.PAULIS[3], r, n) for r in range(n)
    )
    J = J + J.conj().T
    c = _pauli_coefficients(J, n)
    total = sum(abs(v) ** 2 for v in c.values())
    dist = np.abs(np.arange(n) - site)
    d, w = jm.pauli_weight_outside(jnp.asarray(J), site)
    assert d.tolist() == list(range(int(dist.max())))
    for r, got in zip(d, w):
        out = sum(abs(v) ** 2 for lab, v in c.items() if any(lab[j] and dist[j] > r for j in range(n)))
        assert abs(got - out / total) < 1e-12
    sw = jm.pauli_site_weights(jnp.asarray(J))
    for j in range(n):
        assert abs(sw[j] - sum(abs(v) ** 2 for lab, v in c.items() if lab[j]) / total) < 1e-12


def test_periodic_lattice_distances():
    J = jnp.asarray(ref.pauli_dense([1, 0, 0, 0, 3]))  # X_0 Z_4: neighbours on a ring
    d, w = jm.pauli_weight_outside(J, 0, jm.Lattice((5,), (True,)))
    np.testing.assert_allclose(w, [1.0, 0.0], atol=1e-14)


def _chain_J(n, gap):
    H = jm.random_field_heisenberg(jr.key(0), n, 4.0)
    V = jm.PauliSum.from_terms(n, [("X", [n // 2], 1.0)])
    J = jm.quasi_adiabatic_generator(lambda g: H.dense() + g * V.dense(), 0.0, gap=gap)
    return H, V, np.asarray(J)


def test_hutchinson_matches_exact_frobenius_norms():
    n = 8
    _, _, J = _chain_J(n, 0.5)
    Jj = jnp.asarray(J)
    sites = [4, 5, 7]
    out = jm.commutator_weights(jr.key(1), lambda v: v @ Jj.T, n, sites, n_vectors=8)
    for i, j in enumerate(sites):
        for a in range(3):
            sig = ref.site_op(ref.PAULIS[a + 1], j, n)
            exact = np.sum(np.abs(J @ sig - sig @ J) ** 2) / 2**n
            assert abs(out["comm"][i, a] - exact) <= 4 * out["comm_err"][i, a] + 1e-14
    assert abs(out["norm2"] - np.sum(np.abs(J) ** 2) / 2**n) <= 4 * out["norm2_err"]
    exact_site = jm.pauli_site_weights(Jj)[sites]
    assert np.all(np.abs(out["site_weight"] - exact_site) <= 4 * out["site_weight_err"] + 1e-12)


def test_generator_locality_dense_decays():
    H, V, _ = _chain_J(8, 0.5)
    out = jm.generator_locality(None, H, V, 4, gap=0.5)
    assert out["distance"].tolist() == [0.0, 1.0, 2.0, 3.0]
    assert np.all(np.diff(out["outside"]) < 0)
    assert 0 < out["xi"] < 3 and np.isfinite(out["xi_err"])


@pytest.mark.slow
def test_generator_locality_hutchinson_agrees_with_dense():
    model = jm.sample_model(jr.key(0), jm.Lattice((6,)))
    V = jm.PauliSum.from_terms(6, [("X", [2], 1.0)])
    dense = jm.generator_locality(None, model, V, 2, gap=0.5)
    hutch = jm.generator_locality(jr.key(2), model, V, 2, gap=0.5, method="hutchinson", n_vectors=4, tol=1e-6)
    sw = jm.pauli_site_weights(
        jnp.asarray(jm.quasi_adiabatic_generator(lambda g: model.dense() + g * V.dense(), 0.0, gap=0.5))
    )
    exact = sw[hutch["sites"]]
    assert np.all(np.abs(hutch["site_weight"] - exact) <= 4 * hutch["site_weight_err"] + 1e-6)
    assert dense["distance"].tolist() == hutch["distance"][:-1].tolist()


def test_errors():
    with pytest.raises(jm.JaxmblError, match="J"):
        jm.pauli_weight_outside(jnp.ones((3, 3)), 0)
    with pytest.raises(jm.JaxmblError, match="site"):
        jm.pauli_weight_outside(jnp.eye(4), 5)
    with pytest.raises(jm.JaxmblError, match="paulis"):
        jm.commutator_weights(jr.key(0), lambda v: v, 2, [0], paulis="Q")
    with pytest.raises(jm.JaxmblError, match="method"):
        jm.generator_locality(None, jnp.eye(4), jnp.eye(4), 0, gap=0.5, method="magic")
