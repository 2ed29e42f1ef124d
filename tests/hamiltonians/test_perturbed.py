"""H' = U H0 U^dagger + g V and V0 = U^dagger V U against dense numpy constructions."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm
from jaxmbl._hamiltonians.ed import eigvalsh
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.perturbed import lbit_frame, perturbed_model

PAULI = {"I": np.eye(2), "X": np.array([[0, 1], [1, 0]]), "Y": np.array([[0, -1j], [1j, 0]]), "Z": np.diag([1.0, -1.0])}


def dense_string(label):
    out = np.ones((1, 1))
    for ch in label:
        out = np.kron(out, PAULI[ch])
    return out


def reference(model, terms, g):
    """U diag(E) U^dagger + g V with U from dense gates and V from numpy krons."""
    U = np.asarray(model.U.dense())
    E = np.asarray(jm.energies(model))
    V = sum(c * dense_string(label) for label, c in terms)
    return U @ np.diag(E) @ U.conj().T + g * V, U, V


TERMS = [("XIII", 0.7), ("IZZI", -0.4), ("YIIY", 0.3), ("IIXZ", 0.2)]


@pytest.mark.parametrize("unitary", ["circuit", "generator"])
def test_perturbed_dense_and_matvec(unitary):
    model = jm.sample_model(jr.key(3), jm.Lattice((4,)), unitary=unitary)
    V = PauliSum.from_list(TERMS)
    Hp = perturbed_model(model, V, 0.25)
    ref, _, _ = reference(model, TERMS, 0.25)
    np.testing.assert_allclose(np.asarray(Hp.dense()), ref, atol=1e-12)
    psi = np.random.default_rng(0).normal(size=(3, 16)) + 1j * np.random.default_rng(1).normal(size=(3, 16))
    np.testing.assert_allclose(np.asarray(Hp.apply(psi)), psi @ ref.T, atol=1e-12)


def test_lbit_frame_operator():
    model = jm.sample_model(jr.key(4), jm.Lattice((2, 2)))
    V = PauliSum.from_list(TERMS)
    _, U, Vd = reference(model, TERMS, 0.0)
    np.testing.assert_allclose(np.asarray(lbit_frame(model, V).dense()), U.conj().T @ Vd @ U, atol=1e-12)


def test_zero_coupling_spectrum_is_h0():
    model = jm.sample_model(jr.key(5), jm.Lattice((5,)))
    Hp = perturbed_model(model, PauliSum.from_list([("XXIII", 1.0)]), 0.0)
    np.testing.assert_allclose(np.asarray(eigvalsh(Hp)), np.sort(np.asarray(jm.energies(model))), atol=1e-12)


def test_batched_models_share_V_and_match_loop():
    lat = jm.Lattice((4,))
    models = jm.sample_models(jr.key(6), lat, 3)
    V = PauliSum.from_list(TERMS)
    batch = perturbed_model(models, V, 0.5).dense()
    for i in range(3):
        single = jax.tree_util.tree_map(lambda x: x[i], models)
        np.testing.assert_allclose(np.asarray(batch[i]), reference(single, TERMS, 0.5)[0], atol=1e-12)


def test_jit_and_grad_in_g():
    model = jm.sample_model(jr.key(7), jm.Lattice((4,)))
    V = PauliSum.from_list(TERMS)
    psi = jnp.ones(16, complex) / 4

    def energy(g):
        return jnp.real(jnp.vdot(psi, perturbed_model(model, V, g).apply(psi)))

    assert np.isclose(jax.jit(energy)(0.3), energy(0.3))
    _, _, Vd = reference(model, TERMS, 0.0)
    assert np.isclose(jax.grad(energy)(0.3), np.real(np.vdot(np.asarray(psi), Vd @ np.asarray(psi))))


def test_bad_input():
    model = jm.sample_model(jr.key(8), jm.Lattice((4,)))
    with pytest.raises(ValueError, match="V acts on 3 sites"):
        perturbed_model(model, PauliSum.from_list([("XII", 1.0)]), 0.1)
    with pytest.raises(ValueError, match="Hermitian"):
        perturbed_model(model, PauliSum.from_list([("XIII", 1j)]), 0.1)
    with pytest.raises(ValueError, match="g must be a real scalar"):
        perturbed_model(model, PauliSum.from_list([("XIII", 1.0)]), [0.1, 0.2])
    with pytest.raises(ValueError, match="psi"):
        perturbed_model(model, PauliSum.from_list([("XIII", 1.0)]), 0.1).apply(np.ones(8))
