"""Variational l-bits against dense numpy / scipy references (scipy expm gates, numpy U^dag H U)."""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm
from jaxmbl._stability.lbit_fit import fit_lbits
from jaxmbl._stability.variational import brickwork_sites, offdiagonal_cost, pauli_gates

LAT6 = jm.Lattice((6,))
DEPTH = 2
STEPS = 300


def gate_ref(theta):
    """expm(-i sum_{4a+b = k+1} theta_k sigma^a (x) sigma^b) with numpy krons."""
    h = sum(t * np.kron(ref.PAULIS[(k + 1) // 4], ref.PAULIS[(k + 1) % 4]) for k, t in enumerate(theta))
    return scipy.linalg.expm(-1j * h)


def offdiag_ref(U, H):
    M = U.conj().T @ H @ U
    return np.sum(np.abs(M - np.diag(np.diag(M))) ** 2) / np.sum(np.abs(H) ** 2)


@functools.cache
def target():
    model = jm.sample_model(jr.key(3), LAT6, unitary="circuit", depth=DEPTH, strength=0.5)
    H, _, E = ref.model_dense(model)
    return model, H, E


@functools.cache
def fitted(seed=0):
    _, H, _ = target()
    return fit_lbits(jr.key(seed), H, LAT6, depth=DEPTH, steps=STEPS, learning_rate=0.02)


def test_pauli_gates_match_scipy_expm():
    theta = np.random.default_rng(0).normal(size=(3, 15))
    got = np.asarray(pauli_gates(theta))
    for g, t in zip(got, theta):
        np.testing.assert_allclose(g, gate_ref(t), atol=1e-13)
    np.testing.assert_allclose(np.asarray(pauli_gates(jnp.zeros(15))), np.eye(4), atol=1e-15)
    # Finite gradients at theta = 0, where every eigenvalue of the generator is degenerate.
    grad = jax.grad(lambda t: jnp.real(jnp.sum(pauli_gates(t) * jnp.asarray(gate_ref(theta[0])))))(jnp.zeros(15))
    assert np.all(np.isfinite(np.asarray(grad)))
    with pytest.raises(ValueError, match="theta"):
        pauli_gates(jnp.zeros((2, 16)))


def test_brickwork_layout_is_the_random_circuit_layout():
    for lat, depth in ((LAT6, DEPTH), (jm.Lattice((2, 3)), 5)):
        assert brickwork_sites(lat, depth) == jm.random_circuit(jr.key(0), lat, depth=depth).sites
    assert brickwork_sites(jm.Lattice((5,), pbc=True), 4) == ((0, 1), (2, 3), (1, 2), (3, 4), (0, 4), (0, 1), (2, 3))
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="depth"):
            brickwork_sites(LAT6, bad)
    with pytest.raises(TypeError, match="lattice"):
        brickwork_sites((6,), 2)


@pytest.mark.slow
def test_offdiagonal_cost_against_numpy():
    rng = np.random.default_rng(1)
    U = jm.random_circuit(jr.key(2), jm.Lattice((4,)), depth=3, strength=1.0)
    H = ref.haar_unitary(rng, 16) @ np.diag(rng.normal(size=16)) @ ref.haar_unitary(rng, 16).conj().T
    H = (H + H.conj().T) / 2
    want = offdiag_ref(ref.unitary_dense(U), H)
    assert abs(float(offdiagonal_cost(U, H)) - want) <= 1e-13
    assert abs(float(offdiagonal_cost(ref.unitary_dense(U), H)) - want) <= 1e-13  # dense U
    np.testing.assert_allclose(float(jax.jit(offdiagonal_cost)(U, H)), want, atol=1e-13)
    # vmap over a batch of circuits (gates are leaves, the layout is static) equals a loop.
    gates = jnp.stack([U.gates, U.gates.conj(), jnp.flip(U.gates, 0)])
    batch = jm.Circuit(gates=gates, sites=U.sites, n_sites=4)
    got = jax.vmap(lambda g: offdiagonal_cost(jm.Circuit(g, U.sites, 4), H))(batch.gates)
    loop = [offdiag_ref(ref.circuit_dense(np.asarray(g), U.sites, 4), H) for g in gates]
    np.testing.assert_allclose(np.asarray(got), loop, atol=1e-13)
    # An operator with .dense() is accepted; the model's own U diagonalizes its H.
    P = jm.PauliSum.from_terms(4, [("XX", [0, 1], 0.5), ("Z", [2], 1.0)])
    assert abs(float(offdiagonal_cost(U, P)) - offdiag_ref(ref.unitary_dense(U), np.asarray(P.dense()))) <= 1e-13
    model, H6, _ = target()
    assert float(offdiagonal_cost(model.U, H6)) <= 1e-26


def test_offdiagonal_cost_bad_inputs():
    U = jm.random_circuit(jr.key(2), jm.Lattice((4,)), depth=2)
    with pytest.raises(ValueError, match="Hermitian"):
        offdiagonal_cost(U, np.triu(np.ones((16, 16))))
    with pytest.raises(ValueError, match="shape"):
        offdiagonal_cost(U, np.eye(8))
    with pytest.raises(ValueError, match="zero"):
        offdiagonal_cost(U, np.zeros((16, 16)))
    with pytest.raises(ValueError, match="non-finite"):
        offdiagonal_cost(U, np.full((16, 16), np.nan))


@pytest.mark.slow
def test_fit_diagonalizes_a_swingle_hamiltonian_and_recovers_h0():
    model, H, E_true = target()
    U, h0, history = fitted()
    cost = history["final_cost"]
    assert history["cost"].shape == (STEPS,)
    assert cost < 1e-10, cost  # reached ~3e-15 here in 300 Adam steps
    assert U.sites == model.U.sites
    # Independent check of the cost from the fitted gates.
    Ud = ref.circuit_dense(np.asarray(U.gates), U.sites, 6)
    np.testing.assert_allclose(Ud.conj().T @ Ud, np.eye(64), atol=1e-12)
    assert offdiag_ref(Ud, H) <= 2 * cost + 1e-28
    # Spectrum: Weyl's inequality, |sort(diag) - sort(eig)| <= ||offdiag||_2 <= sqrt(C) ||H||_F.
    E_fit = np.real(np.diag(ref.h0_dense(6, ref.h0_terms(h0)))) + history["offset"]
    bound = np.sqrt(cost) * np.linalg.norm(H) + 1e-11
    assert np.abs(np.sort(E_fit) - np.sort(E_true)).max() <= bound
    np.testing.assert_allclose(np.sort(E_fit), np.sort(np.linalg.eigvalsh(H)), atol=bound)
    # Started near the identity, the fit keeps the labels n of the l-bits, so the couplings agree
    # term by term (the true H0 has no constant, so the offset is ~0).
    assert abs(history["offset"]) <= bound
    np.testing.assert_allclose(E_fit, E_true, atol=bound)
    true_terms = dict(ref.h0_terms(model.h0))
    fit_terms = dict(ref.h0_terms(h0))
    for sites in set(true_terms) | set(fit_terms):
        assert abs(true_terms.get(sites, 0.0) - fit_terms.get(sites, 0.0)) <= 1e-8, sites


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_fit_is_a_pure_function_of_the_key():
    U0, h0, hist0 = fitted(0)
    _, H, _ = target()
    U1, _, hist1 = fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=STEPS, learning_rate=0.02)
    np.testing.assert_array_equal(np.asarray(hist0["cost"]), np.asarray(hist1["cost"]))
    np.testing.assert_array_equal(np.asarray(U0.gates), np.asarray(U1.gates))
    _, _, hist2 = fitted(1)
    assert hist2["cost"][0] != hist0["cost"][0]
    assert hist2["final_cost"] < 1e-8


def test_fit_bad_inputs():
    _, H, _ = target()
    kw = dict(depth=DEPTH, steps=STEPS)
    with pytest.raises(ValueError, match="Hermitian"):
        fit_lbits(jr.key(0), H + np.triu(np.ones((64, 64)), 1), LAT6, **kw)
    with pytest.raises(ValueError, match="shape"):
        fit_lbits(jr.key(0), H[:32, :32], LAT6, **kw)
    with pytest.raises(ValueError, match="depth"):
        fit_lbits(jr.key(0), H, LAT6, depth=0, steps=10)
    with pytest.raises(ValueError, match="steps"):
        fit_lbits(jr.key(0), H, LAT6, depth=2, steps=0)
    with pytest.raises(ValueError, match="learning_rate"):
        fit_lbits(jr.key(0), H, LAT6, depth=2, steps=10, learning_rate=-0.1)
    with pytest.raises(TypeError, match="lattice"):
        fit_lbits(jr.key(0), H, (6,), **kw)


def test_fit_result_unpacks_and_carries_a_model():
    fit = fitted(0)
    U, h0, info = fit
    assert isinstance(fit, jm.LbitFit) and fit.circuit is U and fit.h0 is h0 and fit.info is info
    assert info["residual_per_site"] == pytest.approx(info["final_cost"] / 6)
    _, H, E_true = target()
    # The fitted model's spectrum (plus the offset) is the spectrum of H, to the fit's accuracy.
    E_fit = np.sort(np.asarray(jm.energies(fit.model)) + info["offset"])
    np.testing.assert_allclose(E_fit, np.sort(np.linalg.eigvalsh(H)), atol=1e-3 * np.abs(E_true).max())
    np.testing.assert_array_equal(np.asarray(fit.history), np.asarray(info["cost"]))


def test_gate_angles_invert_pauli_gates():
    theta = 0.2 * np.random.default_rng(1).normal(size=(4, 15))
    np.testing.assert_allclose(jm.gate_angles(pauli_gates(theta)), theta, atol=1e-10)


@pytest.mark.slow
def test_warm_start_continues_from_previous_fit():
    _, H, _ = target()
    first = fit_lbits(jr.key(5), H, LAT6, depth=DEPTH, steps=40)
    again = fit_lbits(jr.key(6), H, LAT6, depth=DEPTH, steps=5, init=first)
    assert float(again.info["cost"][0]) <= first.info["final_cost"] * (1 + 1e-9)
    # From a circuit (gates -> angles by the matrix log): the same starting cost.
    from_circuit = fit_lbits(jr.key(7), H, LAT6, depth=DEPTH, steps=5, init=first.circuit)
    np.testing.assert_allclose(float(from_circuit.info["cost"][0]), first.info["final_cost"], rtol=1e-8)
    # From the planted model: starts (and stays) at the exact solution.
    model, _, _ = target()
    planted = fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=3, init=model)
    assert float(planted.info["cost"][0]) < 1e-20
    with pytest.raises(ValueError, match="init"):
        fit_lbits(jr.key(0), H, LAT6, depth=DEPTH + 1, steps=3, init=first)
    with pytest.raises(ValueError, match="init"):
        fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=3, init=np.zeros(3))


@pytest.mark.slow
def test_any_optax_optimizer():
    _, H, _ = target()
    sgd = fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=20, optimizer=optax.sgd(0.05))
    assert sgd.info["final_cost"] < float(sgd.info["cost"][0])
    lbfgs = fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=20, optimizer=optax.lbfgs())
    assert lbfgs.info["final_cost"] < float(lbfgs.info["cost"][0])
    with pytest.raises(ValueError, match="optimizer"):
        fit_lbits(jr.key(0), H, LAT6, depth=DEPTH, steps=3, optimizer="adam")


@pytest.mark.slow
def test_whole_fit_jit_equals_eager():
    from jaxmbl._stability.lbit_fit import _default_optimizer, _DenseCost, _fit_core

    _, H, _ = target()
    sites = brickwork_sites(LAT6, 1)
    theta0 = 1e-2 * jr.normal(jr.key(2), (len(sites), 15))
    opt = _default_optimizer(0.02, 4)
    cost = _DenseCost(sites, 6)
    jitted = _fit_core(cost, jnp.asarray(H, complex), theta0, 4, opt)
    with jax.disable_jit():
        eager = _fit_core(cost, jnp.asarray(H, complex), theta0, 4, opt)
    np.testing.assert_allclose(np.asarray(jitted[1]), np.asarray(eager[1]), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(jitted[0]), np.asarray(eager[0]), atol=1e-12)
