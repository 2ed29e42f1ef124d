"""The light-cone (local) off-diagonal cost against dense numpy: U^dag H U from krons, Pauli decompositions."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._stability.cone_cost import cone_diagonal, cone_plan
from jaxmbl._stability.variational import brickwork_sites, local_plan, offdiagonal_cost, pauli_gates


def offdiag_ref(gates, sites, n_sites, H_dense):
    U = ref.circuit_dense(np.asarray(gates), sites, n_sites)
    M = U.conj().T @ H_dense @ U
    return np.sum(np.abs(M - np.diag(np.diag(M))) ** 2) / np.sum(np.abs(H_dense) ** 2)


def random_gates(key, sites, scale=0.4):
    return pauli_gates(scale * jr.normal(key, (len(sites), 15)))


def test_pauli_decompose_reference_is_exact():
    H = jm.random_field_heisenberg(jr.key(0), 4, W=2.0)
    P = jm.PauliSum(*ref.pauli_decompose(H.dense(), 4, 1e-14), 4)
    np.testing.assert_allclose(ref.paulisum_dense(np.asarray(P.paulis), np.asarray(P.coef)), H.dense(), atol=1e-13)


@pytest.mark.slow
@pytest.mark.parametrize("depth", [1, pytest.param(2, marks=pytest.mark.slow), 3])
def test_local_equals_dense_on_heisenberg_n10(depth):
    N = 10
    H = jm.random_field_heisenberg(jr.key(depth), N, W=8.0)
    sites = brickwork_sites(N, depth)
    gates = random_gates(jr.key(10 + depth), sites)
    U = jm.circuit(gates, sites, N)
    local = float(offdiagonal_cost(U, H, method="local"))
    expected = offdiag_ref(gates, sites, N, ref.paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef)))
    assert abs(local - expected) <= 1e-10 * expected, (local, expected)
    assert local == pytest.approx(float(offdiagonal_cost(U, H, method="dense")), rel=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize(
    "N, depth",
    [pytest.param(8, 1, marks=pytest.mark.slow), (8, 2), pytest.param(8, 3, marks=pytest.mark.slow)]
    + [pytest.param(10, d, marks=pytest.mark.slow) for d in (1, 2, 3)],
)
def test_local_equals_dense_on_a_swingle_model(N, depth):
    model = jm.sample_model(jr.key(depth), N, depth=2, strength=0.4, xi=0.5, max_order=2)
    H_dense = np.asarray(jm.dense_hamiltonian(model))
    H = jm.PauliSum(*ref.pauli_decompose(H_dense, N, 1e-7), N)  # the truncated H is the one both routes see
    H_used = ref.paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))
    sites = brickwork_sites(N, depth)
    gates = random_gates(jr.key(20 + depth), sites, 0.2)
    local = float(offdiagonal_cost(jm.circuit(gates, sites, N), H, method="local"))
    expected = offdiag_ref(gates, sites, N, H_used)
    assert abs(local - expected) <= 1e-10 * expected, (local, expected)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_diagonal_strings_match_numpy():
    N, depth = 6, 2
    H = jm.random_field_heisenberg(jr.key(4), N, W=1.0)
    sites = brickwork_sites(N, depth)
    gates = random_gates(jr.key(5), sites)
    plan = local_plan(sites, H)
    d = np.asarray(cone_diagonal(plan, gates, H.coef))
    U = ref.circuit_dense(np.asarray(gates), sites, N)
    M = U.conj().T @ ref.paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef)) @ U
    z = 1 - 2 * ref.all_bits(N)  # (2^N, N) of z_r = +-1
    for P, dP in zip(plan.strings, d):
        expected = np.real(np.sum(np.diag(M) * np.prod(z[:, list(P)], axis=1))) / 2**N
        assert abs(dP - expected) < 1e-12, P
    # and every string of the true diagonal is in the plan's list (the rest have zero weight)
    diag_weight = np.sum(np.abs(np.diag(M)) ** 2) / 2**N
    assert np.sum(d**2) == pytest.approx(diag_weight, rel=1e-12)


@pytest.mark.slow
def test_gradient_matches_finite_differences_of_the_dense_reference():
    N, depth = 6, 2
    H = jm.random_field_heisenberg(jr.key(7), N, W=3.0)
    H_dense = ref.paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))
    sites = brickwork_sites(N, depth)
    theta = 0.3 * jr.normal(jr.key(8), (len(sites), 15))
    plan = local_plan(sites, H)
    norm_sq = float(np.sum(np.asarray(H.coef) ** 2))

    def local(th):
        return 1.0 - jnp.sum(cone_diagonal(plan, pauli_gates(th), H.coef) ** 2) / norm_sq

    grad = np.asarray(jax.grad(local)(theta))
    eps = 1e-6
    for g, k in [(0, 0), (1, 7), (len(sites) - 1, 14)]:
        tp, tm = np.array(theta), np.array(theta)
        tp[g, k] += eps
        tm[g, k] -= eps
        fd = (offdiag_ref(pauli_gates(tp), sites, N, H_dense) - offdiag_ref(pauli_gates(tm), sites, N, H_dense)) / (
            2 * eps
        )
        assert grad[g, k] == pytest.approx(fd, rel=1e-6, abs=1e-9)


@pytest.mark.slow  # eager lax.map over cone windows is slow; lbit_fit's jit == eager test covers the fast run
def test_jit_equals_eager_and_vmap_equals_loop():
    N, depth = 6, 2
    H = jm.random_field_heisenberg(jr.key(9), N, W=2.0)
    sites = brickwork_sites(N, depth)
    plan = local_plan(sites, H)
    thetas = 0.3 * jr.normal(jr.key(10), (3, len(sites), 15))

    def f(th):
        return jnp.sum(cone_diagonal(plan, pauli_gates(th), H.coef) ** 2)

    with jax.disable_jit():
        eager = f(thetas[0])
    assert float(jax.jit(f)(thetas[0])) == pytest.approx(float(eager), rel=1e-13)
    np.testing.assert_allclose(jax.vmap(f)(thetas), [f(t) for t in thetas], rtol=1e-13)


@pytest.mark.slow
def test_runs_at_n64_without_2n_objects():
    N = 64
    H = jm.random_field_heisenberg(jr.key(11), N, W=8.0)
    sites = brickwork_sites(N, 2)
    gates = random_gates(jr.key(12), sites, 0.1)
    c = float(offdiagonal_cost(jm.circuit(gates, sites, N), H))
    assert 0 < c < 1
    # Identity gates diagonalize nothing but keep H as it is: cost = off-diagonal share of H itself
    eye = jnp.broadcast_to(jnp.eye(4, dtype=complex), (len(sites), 4, 4))
    c0 = float(offdiagonal_cost(jm.circuit(eye, sites, N), H))
    coef = np.asarray(H.coef)
    offdiag = np.any((np.asarray(H.paulis) == 1) | (np.asarray(H.paulis) == 2), axis=1)
    assert c0 == pytest.approx(np.sum(coef[offdiag] ** 2) / np.sum(coef**2), rel=1e-12)


def test_errors():
    N = 6
    H = jm.random_field_heisenberg(jr.key(0), N, W=1.0)
    U = jm.random_circuit(jr.key(1), N, depth=2)
    with pytest.raises(ValueError, match="PauliSum"):
        offdiagonal_cost(U, H.dense(), method="local")
    with pytest.raises(ValueError, match="Hermitian"):
        offdiagonal_cost(U, jm.PauliSum.from_list([("XYIIII", 1j)]), method="local")
    with pytest.raises(ValueError, match="method"):
        offdiagonal_cost(U, H, method="cones")
    with pytest.raises(ValueError, match="sites"):
        offdiagonal_cost(U, jm.random_field_heisenberg(jr.key(0), 5, W=1.0), method="local")
    # a light cone wider than MAX_CONE_SITES is refused before anything is built
    wide = [((0, 1), (1, 2))] * 1
    labels = np.zeros((1, 20), np.int8)
    labels[0, [0, 19]] = 3
    with pytest.raises(ValueError, match="MAX_CONE_SITES"):
        cone_plan(wide[0], 20, labels)
