"""jaxmbl._analysis.spreading against brute-force dense references (Pauli decompositions, scipy
expm, operator norms, exact infinite-temperature traces)."""

import itertools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm
from jaxmbl._analysis.spreading import (
    _otoc_core,
    dressed_operator_weights,
    generator_matrix,
    lieb_robinson_commutators,
    otoc,
)

N = 5
LAT = jm.Lattice((N,))


def weights_by_pauli_decomposition(tau, site, lattice):
    """Weight of tau on Pauli strings reaching beyond distance d of ``site``, for each distance."""
    n = lattice.n_sites
    dist = lattice.distances[site]
    radii = np.unique(np.round(dist, 9))
    w = np.zeros(len(radii))
    for labels in itertools.product(range(4), repeat=n):
        c2 = abs(np.trace(ref.pauli_dense(labels) @ tau) / 2**n) ** 2
        reach = max([dist[r] for r in range(n) if labels[r]], default=0.0)
        w += c2 * (reach > radii + 1e-9)
    return radii, w


@pytest.mark.parametrize("pauli, site", [("Z", 2), ("X", 0)])
def test_dressed_weights_match_the_pauli_decomposition(pauli, site):
    U = jm.random_generator(jr.key(0), LAT, strength=0.8)
    Ud = ref.unitary_dense(U)
    op = ref.PAULIS["IXYZ".index(pauli)]
    tau = Ud @ ref.site_op(op, site, N) @ Ud.conj().T
    radii_ref, w_ref = weights_by_pauli_decomposition(tau, site, LAT)
    radii, w = dressed_operator_weights(U, LAT, site, pauli)
    np.testing.assert_allclose(radii, radii_ref)
    np.testing.assert_allclose(np.asarray(w), w_ref, atol=1e-13)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_dressed_weights_vanish_outside_the_circuit_light_cone_and_batch():
    lat = jm.Lattice((7,))
    models = jm.sample_models(jr.key(1), lat, 3, unitary="circuit", depth=2, strength=1.0)
    radii, w = dressed_operator_weights(models.U, lat, 3)
    w = np.asarray(w)
    assert w.shape == (3, len(radii))
    assert w[:, 2:].max() < 1e-13  # depth 2: tau^z_3 lives on sites 1..5
    assert w[:, 1].min() > 1e-6
    loop = np.stack(
        [
            np.asarray(dressed_operator_weights(jax.tree_util.tree_map(lambda x: x[i], models.U), lat, 3)[1])
            for i in range(3)
        ]
    )
    np.testing.assert_allclose(loop, w, atol=1e-14)


def test_generator_matrix_exponentiates_to_U():
    U = jm.random_generator(jr.key(2), LAT, strength=0.5)
    K = np.asarray(generator_matrix(U))
    np.testing.assert_allclose(K, ref.paulisum_dense(*U.to_paulis()), atol=1e-13)
    C = jm.random_circuit(jr.key(3), LAT, depth=2, strength=1.0)
    K = np.asarray(generator_matrix(C))
    np.testing.assert_allclose(K, K.conj().T, atol=1e-12)
    np.testing.assert_allclose(scipy.linalg.expm(-1j * K), ref.unitary_dense(C), atol=1e-11)


@pytest.mark.parametrize("a, b", [("Z", "Z"), ("X", "Y"), ("Y", "X")])
def test_lieb_robinson_commutators_against_scipy(a, b):
    U = jm.random_generator(jr.key(4), LAT, strength=0.7)
    K = ref.paulisum_dense(*U.to_paulis())
    ts = np.array([0.0, 0.6, 2.5])
    got = np.asarray(lieb_robinson_commutators(jnp.asarray(K), ts, site=1, a=a, b=b))
    A = ref.site_op(ref.PAULIS["IXYZ".index(a)], 1, N)
    for k, t in enumerate(ts):
        At = scipy.linalg.expm(1j * K * t) @ A @ scipy.linalg.expm(-1j * K * t)
        for r in range(N):
            B = ref.site_op(ref.PAULIS["IXYZ".index(b)], r, N)
            assert got[k, r] == pytest.approx(np.linalg.norm(At @ B - B @ At, 2), abs=1e-10)
    assert got[0, [0, 2, 3, 4]].max() < 1e-12


def test_otoc_with_a_complete_basis_is_the_exact_trace():
    model = jm.sample_model(jr.key(5), LAT, xi=0.5, unitary="circuit", depth=2, strength=1.0)
    H, _, _ = ref.model_dense(model)
    ts = np.array([0.0, 2.0, 1e3])
    basis = jnp.eye(2**N, dtype=jnp.complex128)
    got = np.asarray(_otoc_core(model, basis, jnp.asarray(ts), 1, 0, 1, None))
    X0 = ref.site_op(ref.X, 0, N)
    w, V = np.linalg.eigh(H)
    for k, t in enumerate(ts):
        Ut = (V * np.exp(-1j * w * t)) @ V.conj().T
        At = Ut.conj().T @ X0 @ Ut
        for r in range(N):
            B = ref.site_op(ref.X, r, N)
            C = At @ B - B @ At
            assert got[k, r] == pytest.approx(np.real(np.trace(C.conj().T @ C)) / 2**N, abs=1e-9)


@pytest.mark.slow
def test_otoc_batches_and_jits():
    models = jm.sample_models(jr.key(6), LAT, 3, xi=0.5)
    ts = np.array([0.5, 1e6])
    C = np.asarray(otoc(jr.key(7), models, ts, n_states=2))
    assert C.shape == (3, 2, N)
    loop = np.stack(
        [np.asarray(otoc(jr.key(7), jax.tree_util.tree_map(lambda x: x[i], models), ts, n_states=2)) for i in range(3)]
    )
    np.testing.assert_allclose(loop, C, atol=1e-12)
    jitted = jax.jit(lambda m: otoc(jr.key(7), m, ts, n_states=2))(models)
    np.testing.assert_allclose(np.asarray(jitted), C, atol=1e-12)
    assert np.all((C >= -1e-12) & (C <= 4 + 1e-12))


def test_bad_inputs():
    U = jm.random_generator(jr.key(0), LAT)
    model = jm.sample_model(jr.key(0), LAT)
    with pytest.raises(ValueError, match="site must be a site"):
        dressed_operator_weights(U, LAT, 7)
    with pytest.raises(ValueError, match="pauli must be a Pauli label"):
        dressed_operator_weights(U, LAT, 0, "W")
    with pytest.raises(ValueError, match="lattice has 4"):
        dressed_operator_weights(U, jm.Lattice((4,)), 0)
    with pytest.raises(ValueError, match="K must be a square"):
        lieb_robinson_commutators(np.ones((4, 8)), [0.0])
    with pytest.raises(ValueError, match="K must be Hermitian"):
        lieb_robinson_commutators(np.triu(np.ones((4, 4))), [0.0])
    with pytest.raises(ValueError, match="ts must be a 1D array"):
        otoc(jr.key(0), model, np.ones((2, 2)))
    with pytest.raises(ValueError, match="n_states must be a positive integer"):
        otoc(jr.key(0), model, [1.0], n_states=0)
    with pytest.raises(TypeError, match="model must be a SwingleModel"):
        otoc(jr.key(0), U, [1.0])
