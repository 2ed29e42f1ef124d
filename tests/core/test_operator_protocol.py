"""The operator protocol: ``mv``/``rmv`` against dense numpy matrices, and one batching rule for ``apply``.

Every Hamiltonian-like object (PauliSum, SwingleModel, PerturbedModel, LbitFrameOperator,
DenseOperator) and unitary-like object (Circuit, GeneratorUnitary, the dense Haar control) is
checked the same way: ``mv`` of one realization equals its dense matrix (built independently in
``tests/reference.py``) times the state; batched ``apply`` equals the loop over realizations and
states, for shared and per-realization states; ``jit`` equals eager.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm

N = 4
D = 2**N
R = 2  # realizations per batch


_mv = jax.jit(lambda op, psi: op.mv(psi))
_rmv = jax.jit(lambda op, psi: op.rmv(psi))


def _take(tree, i):
    return jax.tree_util.tree_map(lambda x: x[i], tree)


def _models(unitary):
    return jm.sample_models(jr.key(11), N, R, unitary=unitary, strength=0.7, xi=0.8)


def _V():
    return jm.PauliSum.from_terms(N, [("X", [0], 0.7), ("ZZ", [1, 2], -0.4), ("XY", [2, 3], 0.3), ("XY", [3, 2], 0.3)])


def _rand_hermitian(rng):
    a = rng.normal(size=(D, D)) + 1j * rng.normal(size=(D, D))
    return (a + a.conj().T) / 2


# name -> (batched operator, [per-realization operator], [per-realization dense reference], unitary?)
def _case(name):
    if name == "pauli":
        keys = jr.split(jr.key(3), R)
        op = jax.vmap(lambda k: jm.random_field_heisenberg(k, N, 2.0, Jz=0.6))(keys)
        singles = [jm.random_field_heisenberg(k, N, 2.0, Jz=0.6) for k in keys]
        dense = [ref.paulisum_dense(np.asarray(h.paulis), np.asarray(h.coef)) for h in singles]
        return op, singles, dense, False
    if name == "swingle":
        models = _models("circuit")
        singles = [_take(models, i) for i in range(R)]
        return models, singles, [ref.model_dense(m)[0] for m in singles], False
    if name == "perturbed":  # V shared by all realizations
        models, V, g = _models("circuit"), _V(), 0.3
        singles = [jm.perturbed_model(_take(models, i), V, g) for i in range(R)]
        Vd = ref.paulisum_dense(np.asarray(V.paulis), np.asarray(V.coef))
        dense = [ref.model_dense(_take(models, i))[0] + g * Vd for i in range(R)]
        return jm.perturbed_model(models, V, g), singles, dense, False
    if name == "perturbed-batched-V":  # one V per realization
        models = _models("circuit")
        keys = jr.split(jr.key(5), R)
        Vs = jax.vmap(lambda k: jm.random_local_perturbation(k, N, k=2))(keys)
        singles = [jm.perturbed_model(_take(models, i), _take(Vs, i), 0.2) for i in range(R)]
        dense = [
            ref.model_dense(_take(models, i))[0]
            + 0.2 * ref.paulisum_dense(np.asarray(Vs.paulis[i]), np.asarray(Vs.coef[i]))
            for i in range(R)
        ]
        return jm.PerturbedModel(models, Vs, jnp.asarray(0.2)), singles, dense, False
    if name == "lbit-frame":
        models, V = _models("circuit"), _V()
        singles = [jm.lbit_frame(_take(models, i), V) for i in range(R)]
        Vd = ref.paulisum_dense(np.asarray(V.paulis), np.asarray(V.coef))
        dense = []
        for m in singles:
            U = ref.unitary_dense(m.model.U)
            dense.append(U.conj().T @ Vd @ U)
        return jm.lbit_frame(models, V), singles, dense, False
    if name == "dense":
        rng = np.random.default_rng(0)
        mats = np.stack([_rand_hermitian(rng) for _ in range(R)])
        return jm.DenseOperator(jnp.asarray(mats)), [jm.DenseOperator(jnp.asarray(m)) for m in mats], list(mats), False
    if name in ("circuit", "generator"):
        Us = _models(name).U
        singles = [_take(Us, i) for i in range(R)]
        return Us, singles, [ref.unitary_dense(U) for U in singles], True
    if name == "haar":
        Us = jm.haar_models(jr.key(2), N, R).U
        singles = [_take(Us, i) for i in range(R)]
        return Us, singles, [np.asarray(U.matrix) for U in singles], True
    raise KeyError(name)


CASES = [
    "pauli",
    "swingle",
    "perturbed",
    "perturbed-batched-V",
    "lbit-frame",
    "dense",
    "circuit",
    "generator",
    "haar",
]


@pytest.fixture(scope="module", params=CASES)
def case(request):
    return request.param, _case(request.param)


def _states(rng, shape):
    psi = rng.normal(size=shape + (D,)) + 1j * rng.normal(size=shape + (D,))
    return psi / np.linalg.norm(psi, axis=-1, keepdims=True)


def test_protocol_attributes(case):
    _, (op, singles, _, unitary) = case
    assert op.n_sites == N and tuple(op.batch_shape) == (R,) and singles[0].batch_shape == ()
    assert jnp.dtype(op.dtype) in (jnp.float64, jnp.complex128)
    assert callable(op.mv) and callable(op.apply)
    if unitary:
        assert callable(op.rmv) and callable(op.apply_adjoint)
    else:
        assert all(s.is_hermitian() for s in singles)


def test_mv_equals_dense_matrix(case):
    _, (_, singles, dense, unitary) = case
    psi = jnp.asarray(_states(np.random.default_rng(1), ()))
    for op, M in zip(singles, dense):
        np.testing.assert_allclose(_mv(op, psi), M @ psi, atol=1e-11)
        if unitary:
            np.testing.assert_allclose(_rmv(op, psi), M.conj().T @ psi, atol=1e-11)
    np.testing.assert_allclose(singles[0].apply(psi), dense[0] @ psi, atol=1e-11)  # unbatched apply


def test_batched_apply_equals_loop(case):
    _, (op, _, dense, unitary) = case
    rng = np.random.default_rng(2)
    shared = _states(rng, (R + 1,))  # (R + 1, D): the same states in every realization
    out = np.asarray(op.apply(shared))
    assert out.shape == (R, R + 1, D)
    per = _states(rng, (R, 2))  # (R, 2, D): two states per realization
    out_per = np.asarray(op.apply(per))
    assert out_per.shape == (R, 2, D)
    one_each = _states(rng, (R,))  # (R, D): one state per realization
    out_one = np.asarray(op.apply(one_each))
    assert out_one.shape == (R, D)
    for i, M in enumerate(dense):
        np.testing.assert_allclose(out[i], shared @ M.T, atol=1e-11)
        for s in range(2):
            np.testing.assert_allclose(out_per[i, s], M @ per[i, s], atol=1e-11)
        np.testing.assert_allclose(out_one[i], M @ one_each[i], atol=1e-11)
    if unitary:
        back = np.asarray(op.apply_adjoint(op.apply(per)))
        np.testing.assert_allclose(back, per, atol=1e-11)


def test_shared_states_with_the_batch_shape_broadcast_explicitly(case):
    """(R, D) states count as one per realization; shared ones are broadcast to (R, R, D) first."""
    _, (op, _, dense, _) = case
    psi = _states(np.random.default_rng(3), (R,))
    out = np.asarray(op.apply(jnp.broadcast_to(psi, (R,) + psi.shape)))
    assert out.shape == (R, R, D)
    for i, M in enumerate(dense):
        np.testing.assert_allclose(out[i], psi @ M.T, atol=1e-11)


def test_jit_equals_eager(case):
    _, (op, singles, _, _) = case
    psi = jnp.asarray(_states(np.random.default_rng(4), (R, 2)))
    eager = op.apply(psi)
    np.testing.assert_allclose(jax.jit(lambda o, p: o.apply(p))(op, psi), eager, atol=1e-12)
    np.testing.assert_allclose(_mv(singles[0], psi[0, 0]), eager[0, 0], atol=1e-12)


def test_vmap_of_mv_equals_loop():
    """The single-state kernels are what vmap batches: vmap over realizations and states == a loop."""
    models = _models("circuit")
    psi = jnp.asarray(_states(np.random.default_rng(5), (R, 2)))
    out = jax.vmap(lambda m, ps: jax.vmap(m.mv)(ps))(models, psi)
    for i in range(R):
        m = _take(models, i)
        for s in range(2):
            np.testing.assert_allclose(out[i, s], _mv(m, psi[i, s]), atol=1e-13)


def test_dense_operator_and_as_operator():
    rng = np.random.default_rng(6)
    M = _rand_hermitian(rng)
    op = jm.as_operator(jnp.asarray(M))
    assert isinstance(op, jm.DenseOperator) and op.n_sites == N and op.is_hermitian()
    assert jm.as_operator(op) is op
    H = jm.PauliSum.from_list([("XZIY", 1.0)])
    assert jm.as_operator(H) is H
    with pytest.raises(TypeError):
        jm.as_operator("H")
    with pytest.raises(ValueError, match="square"):
        jm.DenseOperator(jnp.ones((4, 2)))
    with pytest.raises(ValueError, match="2\\*\\*N"):
        jm.DenseOperator(jnp.eye(3))
    assert not jm.DenseOperator(jnp.asarray(np.triu(np.ones((4, 4))))).is_hermitian()


def test_solvers_accept_a_dense_operator_like_its_pauli_sum():
    H = jm.random_field_heisenberg(jr.key(0), N, 1.5)
    Hd = ref.paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))
    psi0 = np.asarray(jm.neel_state(N))
    out = jm.krylov_evolve(jnp.asarray(Hd), psi0, 0.7)[0]  # a plain array goes through DenseOperator
    np.testing.assert_allclose(out, scipy.linalg.expm(-0.7j * Hd) @ psi0, atol=1e-9)
    np.testing.assert_allclose(jm.eigvalsh(jm.DenseOperator(jnp.asarray(Hd))), np.linalg.eigvalsh(Hd), atol=1e-10)


def test_apply_checks_the_state_axis():
    U = _models("circuit").U
    with pytest.raises(ValueError, match="2\\*\\*N"):
        U.apply(jnp.ones(D + 1))
    with pytest.raises(ValueError, match="2\\*\\*N"):
        jm.PauliSum.from_list([("XZ", 1.0)]).apply(jnp.ones(8))


# ----------------------------------------------------------------------------- eigenstates
def test_eigenstates_per_realization_indices_equal_loop():
    models = _models("circuit")
    E = np.asarray(jm.energies(models))
    idx = np.stack([np.argsort(E[i])[:2] for i in range(R)])  # (R, 2): the two lowest levels of each
    states = np.asarray(jm.eigenstates(models, idx))
    assert states.shape == (R, 2, D)
    for i in range(R):
        _, U, _ = ref.model_dense(_take(models, i))
        np.testing.assert_allclose(states[i], U[:, idx[i]].T, atol=1e-11)
    ground = jnp.argmin(jm.energies(models), axis=-1)
    np.testing.assert_allclose(jm.eigenstates(models, ground[:, None])[:, 0], states[:, 0], atol=1e-13)
    # shared indices keep their meaning: every realization gets all of them
    assert jm.eigenstates(models, [0, 5]).shape == (R, 2, D)
    assert jm.eigenstates(models, np.arange(R)).shape == (R, R, D)  # 1D idx of length R: shared
    jitted = jax.jit(jm.eigenstates)(models, jnp.asarray(idx))
    np.testing.assert_allclose(jitted, states, atol=1e-13)


def test_eigenstates_are_eigenvectors_of_apply():
    models = _models("circuit")
    idx = jnp.argmin(jm.energies(models), axis=-1)[:, None]
    psi = jm.eigenstates(models, idx)  # (R, 1, D)
    E = jnp.take_along_axis(jm.energies(models), idx, axis=-1)  # (R, 1)
    np.testing.assert_allclose(models.apply(psi), E[..., None] * psi, atol=1e-11)
