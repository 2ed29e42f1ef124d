"""Families H(s) of paper §IV and their derivatives, against dense scipy constructions.

References: ``scipy.linalg.expm(-isK)`` with K built from Pauli strings in tests/reference.py,
``-i[K, H(s)]`` (eq. 4.28), ``U diag(E + s dE) U^dagger``, ``H + sV`` as dense matrices.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm

N = 4
LAT = jm.Lattice((N,))
S = 0.7
# Jitted sampler: eager sampling runs op by op and dominated the test time.
_sample = jax.jit(jm.sample_model, static_argnums=1, static_argnames="unitary")


def _dense_h(H):
    if isinstance(H, jm.SwingleModel) and isinstance(H.U, (jm.Circuit, jm.GeneratorUnitary)):
        return ref.model_dense(H)[0]
    if isinstance(H, jm.SwingleModel):  # U = exp(-isK) for a PauliSum K: its own Chebyshev series
        return np.asarray(jax.jit(jm.dense_hamiltonian)(H))
    return np.asarray(H.dense())


def _k_dense(U):
    labels, coef = U.to_paulis()
    return ref.paulisum_dense(labels, coef)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_conjugation_family_generator_and_pauli_k():
    model = _sample(jr.key(0), LAT, unitary="generator")
    K = _k_dense(model.U)
    H0 = ref.model_dense(model)[2]
    Us = scipy.linalg.expm(-1j * S * K)
    Hs = Us @ np.diag(H0) @ Us.conj().T
    dHs = -1j * (K @ Hs - Hs @ K)  # eq. 4.28
    fam = jm.conjugation_family(model)
    assert fam.name == "conjugation" and fam.n_sites == N
    np.testing.assert_allclose(_dense_h(fam.H(S)), Hs, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fam.dH(S).dense()), dHs, atol=1e-11)
    np.testing.assert_allclose(_dense_h(fam.H(1.0)), ref.model_dense(model)[0], atol=1e-12)  # H(1) = H
    # K as a PauliSum with a 3-local term (beyond a GeneratorUnitary), and s beyond 1.
    labels, coef = model.U.to_paulis()
    terms = [("".join("IXYZ"[p] for p in row), c) for row, c in zip(labels, coef)] + [("XYZI", 0.2)]
    Kp = jm.PauliSum.from_list(terms)
    Kd = np.asarray(Kp.dense())
    fam = jm.conjugation_family(model, Kp, s_max=2.0)
    for s in (S, 1.9):
        Us = scipy.linalg.expm(-1j * s * Kd)
        Hs = Us @ np.diag(H0) @ Us.conj().T
        np.testing.assert_allclose(_dense_h(fam.H(s)), Hs, atol=1e-11)
        np.testing.assert_allclose(np.asarray(fam.dH(s).dense()), -1j * (Kd @ Hs - Hs @ Kd), atol=1e-10)


def test_lbit_coupling_family():
    model = _sample(jr.key(1), LAT)
    _, U, E = ref.model_dense(model)
    bits = ref.all_bits(N)
    dE = 0.3 * bits[:, 1] - 0.2 * bits[:, 0] * bits[:, 3]
    for dh0 in ({(1,): 0.3, (0, 3): -0.2}, jm.lbit_hamiltonian(N, {(1,): 0.3, (0, 3): -0.2})):
        fam = jm.lbit_coupling_family(model, dh0)
        np.testing.assert_allclose(np.asarray(jm.energies(fam.H(S))), E + S * dE, atol=1e-13)
        np.testing.assert_allclose(np.asarray(fam.dH(S).dense()), U @ np.diag(dE) @ U.conj().T, atol=1e-12)
    # Same term set as H0: the couplings add directly.
    fam = jm.lbit_coupling_family(model, jax.tree_util.tree_map(lambda c: 2 * c, model.h0))
    np.testing.assert_allclose(np.asarray(jm.energies(fam.H(0.5))), 2 * E, atol=1e-13)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_perturbation_family_all_pairs():
    model = _sample(jr.key(2), LAT)
    V = jm.random_local_perturbation(jr.key(3), LAT, k=2)
    Hd, Vd = ref.model_dense(model)[0], np.asarray(V.dense())
    fam = jm.perturbation_family(model, V)
    assert isinstance(fam.H(S), jm.PerturbedModel)
    np.testing.assert_allclose(_dense_h(fam.H(S)), Hd + S * Vd, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fam.dH(S).dense()), Vd, atol=1e-12)
    fam2 = jm.perturbation_family(fam.H(0.2), V)  # PerturbedModel + V
    np.testing.assert_allclose(_dense_h(fam2.H(S)), Hd + (0.2 + S) * Vd, atol=1e-12)
    Hh = jm.random_field_heisenberg(jr.key(4), LAT, 1.0)
    fam3 = jm.perturbation_family(Hh, V)
    assert isinstance(fam3.H(S), jm.PauliSum) and isinstance(fam3.dH(S), jm.PauliSum)
    np.testing.assert_allclose(np.asarray(fam3.H(S).dense()), np.asarray(Hh.dense()) + S * Vd, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fam3.dH(S).dense()), Vd, atol=1e-12)
    fam4 = jm.perturbation_family(jnp.asarray(Hd), jnp.asarray(Vd))
    np.testing.assert_allclose(np.asarray(fam4.H(S)), Hd + S * Vd, atol=1e-12)
    np.testing.assert_allclose(np.asarray(fam4.dH(S).dense()), Vd, atol=1e-12)


@pytest.mark.slow
def test_mv_jit_vmap_and_custom_family():
    models = jax.jit(lambda k: jm.sample_models(k, LAT, 3, unitary="generator"))(jr.key(5))
    fams = jax.vmap(jm.conjugation_family)(models)
    psi = jnp.asarray(ref.random_state(np.random.default_rng(0), N))
    batched = jax.jit(jax.vmap(lambda f: f.dmv(S, psi)))(fams)
    for i in range(3):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], models)
        fam = jm.conjugation_family(one)
        np.testing.assert_allclose(np.asarray(batched[i]), np.asarray(fam.dH(S).dense()) @ psi, atol=1e-12)
        mv = jax.jit(lambda f, p: f.mv(S, p))(fam, psi)
        np.testing.assert_allclose(np.asarray(mv), ref.model_dense(fam.H(S))[0] @ psi, atol=1e-12)
    # A custom family: H(s) = cos(s) A + sin(s) B, dH/ds by jvp.
    A, B = np.diag([1.0, -1.0]), np.array([[0.0, 1.0], [1.0, 0.0]])
    fam = jm.family(lambda p, s: jnp.cos(s) * p[0] + jnp.sin(s) * p[1], (jnp.asarray(A), jnp.asarray(B)))
    np.testing.assert_allclose(np.asarray(fam.dH(S).dense()), -np.sin(S) * A + np.cos(S) * B, atol=1e-14)
    # Gradient through a family's parameters (d/dg of <psi|dH|psi> for H + sV with V = g X).
    g = jax.grad(
        lambda c: jnp.real(
            jnp.vdot(
                psi,
                jm.perturbation_family(
                    jm.random_field_heisenberg(jr.key(0), LAT, 1.0), jm.PauliSum.from_list([("XIII", c)])
                ).dmv(S, psi),
            )
        )
    )(1.0)
    np.testing.assert_allclose(float(g), float(np.real(np.vdot(psi, ref.pauli_dense([1, 0, 0, 0]) @ psi))), atol=1e-12)


def test_family_errors():
    model = _sample(jr.key(0), LAT)  # a circuit: no generator K
    with pytest.raises(TypeError, match="K=None needs model.U to be a GeneratorUnitary"):
        jm.conjugation_family(model)
    with pytest.raises(jm.JaxmblError, match="K acts on 5 sites"):
        jm.conjugation_family(model, jm.PauliSum.from_list([("XIIII", 1.0)]))
    with pytest.raises(jm.JaxmblError, match="K must be Hermitian"):
        jm.conjugation_family(model, jm.PauliSum.from_list([("XIII", 1.0j)]))
    with pytest.raises(TypeError, match="K must be None"):
        jm.conjugation_family(model, np.eye(16))
    with pytest.raises(jm.JaxmblError, match="dh0 acts on 3 sites"):
        jm.lbit_coupling_family(model, jm.lbit_hamiltonian(3, {(0,): 1.0}))
    with pytest.raises(jm.JaxmblError, match="V acts on 5 sites"):
        jm.perturbation_family(model, jm.PauliSum.from_list([("XIIII", 1.0)]))
    with pytest.raises(jm.JaxmblError, match="V must be Hermitian"):
        jm.perturbation_family(model, jm.PauliSum.from_list([("XIII", 1.0j)]))
    with pytest.raises(TypeError, match="builder must return"):
        jm.family(lambda p, s: "not an operator")
    with pytest.raises(jm.JaxmblError, match="s must be a real scalar"):
        jm.perturbation_family(jnp.eye(2), jnp.eye(2)).H(jnp.ones(2))
