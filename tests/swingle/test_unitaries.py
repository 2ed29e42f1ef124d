"""Local unitaries (Circuit, GeneratorUnitary) against dense numpy / scipy.linalg.expm references."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm

LATTICES = [((6,), True), ((2, 3), False)]


@pytest.fixture(scope="module", params=LATTICES, ids=lambda p: f"{p[0]}-pbc{p[1]}")
def lat(request):
    return jm.Lattice(*request.param)


# ----------------------------------------------------------------------------- generator
def test_generator_dense_matches_expm(lat):
    U = jm.random_generator(jr.key(1), lat, strength=0.6)
    paulis, coef = U.to_paulis()
    K = ref.paulisum_dense(paulis, coef)
    np.testing.assert_allclose(K, K.conj().T, atol=1e-14)
    want = ref.generator_dense(paulis, coef)
    err = np.abs(np.asarray(U.dense()) - want).max()
    assert err <= 1e-10, err
    assert float(U.error_bound()) <= U.series_tol
    assert float(U.norm_bound()) >= np.linalg.norm(K, 2) - 1e-12
    # apply_K is K psi.
    psi = ref.random_state(np.random.default_rng(0), lat.n_sites)
    np.testing.assert_allclose(np.asarray(U.apply_K(jnp.asarray(psi))), K @ psi, atol=1e-13)


def test_generator_bond_terms_are_bounded_and_traceless(lat):
    strength = 0.6
    U = jm.random_generator(jr.key(2), lat, strength=strength)
    assert U.pairs == lat.bonds
    h2, _ = U.local_terms()
    for h in np.asarray(h2):
        np.testing.assert_allclose(h, h.conj().T, atol=1e-15)
        assert np.abs(np.linalg.eigvalsh(h)).max() <= strength * (1 + 1e-12)
        assert abs(np.trace(h)) < 1e-12  # no identity part (it would only be a global phase)


@pytest.mark.parametrize("tol", [1e-6, 1e-12])
def test_user_generator_with_single_site_and_identity_terms(tol):
    # K = 0.3 X0 Y1 - 0.7 Z2 + 0.2 Z0 Z3 + 0.9 X1 + 0.15 I (global phase) + 0.4 Y3 X1 (reversed order).
    paulis = np.array(
        [[1, 2, 0, 0], [0, 0, 3, 0], [3, 0, 0, 3], [0, 1, 0, 0], [0, 0, 0, 0], [0, 1, 0, 2]], dtype=np.int64
    )
    coef = np.array([0.3, -0.7, 0.2, 0.9, 0.15, 0.4])
    U = jm.generator_unitary(paulis, coef, 4, series_tol=tol)
    want = ref.generator_dense(paulis, coef)
    assert np.abs(np.asarray(U.dense()) - want).max() <= max(tol, 1e-13)
    assert float(U.error_bound()) <= tol
    # to_paulis round trip describes the same K.
    np.testing.assert_allclose(ref.paulisum_dense(*U.to_paulis()), ref.paulisum_dense(paulis, coef), atol=1e-14)


def test_zero_generator_is_identity():
    # Regression: the Chebyshev coefficients J_k(a) once came out NaN for small a = ||K|| bound.
    U = jm.generator_unitary(np.zeros((0, 3), dtype=int), np.zeros(0), 3)
    np.testing.assert_allclose(np.asarray(U.dense()), np.eye(8), atol=1e-15)


@pytest.mark.parametrize("shape,strength", [((2,), 0.5), ((4,), 0.1)])
def test_weak_random_generator_is_finite_and_exact(shape, strength):
    # Weakly dressed l-bits (small ||K||) are a normal use case: sample_model(..., unitary="generator",
    # strength=0.1). Regression: the Chebyshev coefficients J_k(a) once came out NaN for small a.
    lat = jm.Lattice(shape)
    for i in range(3):
        U = jm.random_generator(jr.key(i), lat, strength=strength)
        want = ref.generator_dense(*U.to_paulis())
        assert np.abs(np.asarray(U.dense()) - want).max() <= 1e-10
        assert float(U.error_bound()) <= U.series_tol


# ----------------------------------------------------------------------------- circuit
def test_random_circuit_dense_matches_gate_product(lat):
    U = jm.random_circuit(jr.key(3), lat, strength=0.9)
    # Default depth: one pass over the bond layers, every bond exactly once.
    assert sorted(U.sites) == sorted(lat.bonds)
    assert list(U.sites) == [b for layer in lat.bond_layers for b in layer]
    want = ref.circuit_dense(np.asarray(U.gates), U.sites, lat.n_sites)
    np.testing.assert_allclose(np.asarray(U.dense()), want, atol=1e-13)


def test_random_circuit_gates_are_exp_of_bounded_h():
    strength = 0.6
    U = jm.random_circuit(jr.key(4), jm.Lattice((6,)), depth=5, strength=strength)
    assert len(U.sites) == 3 + 2 + 3 + 2 + 3  # layers cycle
    for g in np.asarray(U.gates):
        np.testing.assert_allclose(g @ g.conj().T, np.eye(4), atol=1e-13)
        # g = exp(-i h) with ||h|| <= strength < pi: every eigenphase lies in [-strength, strength].
        assert np.abs(np.angle(np.linalg.eigvals(g))).max() <= strength + 1e-12


def test_user_circuit_with_reversed_pairs(rng):
    gates = np.stack([ref.haar_unitary(rng, 4) for _ in range(4)])
    sites = [(3, 0), (1, 2), (2, 1), (0, 3)]
    U = jm.circuit(gates, sites, 4)
    np.testing.assert_allclose(np.asarray(U.dense()), ref.circuit_dense(gates, sites, 4), atol=1e-13)


def test_empty_circuit_is_identity():
    U = jm.circuit(np.zeros((0, 4, 4)), [], 3)
    np.testing.assert_allclose(np.asarray(U.dense()), np.eye(8))
    U = jm.random_circuit(jr.key(0), jm.Lattice((1,)))
    np.testing.assert_allclose(np.asarray(U.dense()), np.eye(2))


# ----------------------------------------------------------------------------- both kinds
def _both(lat, key):
    k1, k2 = jr.split(key)
    return [jm.random_circuit(k1, lat, depth=3), jm.random_generator(k2, lat, strength=0.6)]


def test_unitary_and_adjoint_inverse(lat, rng):
    dim = 2**lat.n_sites
    for U in _both(lat, jr.key(5)):
        Ud = np.asarray(U.dense())
        np.testing.assert_allclose(Ud @ Ud.conj().T, np.eye(dim), atol=1e-11)
        # A (dim, dim) batch of states: the same compiled shape as dense().
        psi = ref.random_state(rng, lat.n_sites, batch=(dim,))
        np.testing.assert_allclose(np.asarray(U.apply(psi)), psi @ Ud.T, atol=1e-12)
        back = np.asarray(U.apply_adjoint(U.apply(psi)))
        np.testing.assert_allclose(back, psi, atol=1e-11)
        np.testing.assert_allclose(np.asarray(U.apply_adjoint(psi)), psi @ Ud.conj(), atol=1e-11)


def test_batch_of_states(rng):
    lat = jm.Lattice((2, 2), True)
    for U in _both(lat, jr.key(6)):
        psi = ref.random_state(rng, 4, batch=(2, 3))
        out = np.asarray(U.apply(psi))
        assert out.shape == (2, 3, 16)
        Ud = ref.unitary_dense(U)
        np.testing.assert_allclose(out, psi @ Ud.T, atol=1e-12)
        out = np.asarray(U.apply_adjoint(psi))
        np.testing.assert_allclose(out, psi @ Ud.conj(), atol=1e-12)
        # Real input is promoted to complex.
        e = np.eye(16)[3]
        np.testing.assert_allclose(np.asarray(U.apply(e)), Ud[:, 3], atol=1e-12)


# ----------------------------------------------------------------------------- bad input
def test_non_unitary_gate_raises(rng):
    gates = np.stack([ref.haar_unitary(rng, 4), 1.01 * np.eye(4)])
    with pytest.raises(ValueError, match=r"gates\[1\].*not unitary"):
        jm.circuit(gates, [(0, 1), (1, 2)], 3)
    with pytest.raises(ValueError, match="non-finite"):
        jm.circuit(np.full((1, 4, 4), np.nan), [(0, 1)], 2)


@pytest.mark.parametrize(
    "gates_shape,sites,match",
    [
        ((1, 4, 4), [(0, 0)], "distinct"),
        ((1, 4, 4), [(0, 3)], "distinct sites in 0..2"),
        ((2, 4, 4), [(0, 1)], "pairs"),
        ((1, 2, 2), [(0, 1)], "shape"),
    ],
)
def test_bad_circuit_structure(gates_shape, sites, match):
    gates = np.broadcast_to(np.eye(gates_shape[-1]), gates_shape)
    with pytest.raises(ValueError, match=match):
        jm.circuit(gates, sites, 3)


def test_wrong_psi_length_raises():
    lat = jm.Lattice((2, 2), True)
    for U in _both(lat, jr.key(7)):
        with pytest.raises(ValueError, match="psi"):
            U.apply(jnp.ones(8, complex))
        with pytest.raises(ValueError, match="psi"):
            U.apply_adjoint(jnp.ones((2, 32), complex))
        with pytest.raises(ValueError, match="psi"):
            U.apply(jnp.asarray(1.0))


def test_bad_generator_input():
    with pytest.raises(ValueError, match="local"):
        jm.generator_unitary(np.array([[1, 1, 1]]), np.array([0.1]), 3)
    with pytest.raises(ValueError, match="real"):
        jm.generator_unitary(np.array([[1, 0, 0]]), np.array([0.1j]), 3)
    with pytest.raises(ValueError, match="non-finite"):
        jm.generator_unitary(np.array([[1, 0, 0]]), np.array([np.nan]), 3)
    with pytest.raises(ValueError, match="labels"):
        jm.generator_unitary(np.array([[4, 0, 0]]), np.array([0.1]), 3)
    with pytest.raises(ValueError, match="paulis"):
        jm.generator_unitary(np.array([[1, 0]]), np.array([0.1]), 3)
    with pytest.raises(ValueError, match="coef"):
        jm.generator_unitary(np.array([[1, 0, 0]]), np.array([0.1, 0.2]), 3)
    with pytest.raises(ValueError, match="strength"):
        jm.random_generator(jr.key(0), jm.Lattice((3,)), strength=-1.0)
    with pytest.raises(ValueError, match="depth"):
        jm.random_circuit(jr.key(0), jm.Lattice((3,)), depth=-1)


@pytest.mark.slow
def test_float32_generator_is_finite():
    # float32 is the documented fast mode. Regression: a backward Bessel recurrence overflowed float32.
    U = jm.random_generator(jr.key(0), jm.Lattice((4,)), dtype=jnp.float32)
    want = ref.generator_dense(*U.to_paulis())
    assert np.abs(np.asarray(U.dense()) - want).max() <= 1e-5


def test_random_generator_under_jit():
    lat = jm.Lattice((3,))
    U = jax.jit(lambda k: jm.random_generator(k, lat))(jr.key(0))
    np.testing.assert_allclose(np.asarray(U.coef2), np.asarray(jm.random_generator(jr.key(0), lat).coef2), atol=1e-15)


def test_batched_unitary_applies_realization_wise():
    """A batch of unitaries applies each realization (the batching rule of the operator protocol)."""
    Us = jm.sample_models(jr.key(0), jm.Lattice((2, 2), True), 3).U
    assert Us.batch_shape == (3,)
    psi = jnp.ones(16, complex) / 4
    out = Us.apply(psi)
    assert out.shape == (3, 16)
    for i in range(3):
        U_i = jax.tree_util.tree_map(lambda x, i=i: x[i], Us)
        np.testing.assert_allclose(out[i], U_i.apply(psi), atol=1e-13)
