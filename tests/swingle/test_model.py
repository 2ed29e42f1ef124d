"""SwingleModel: spectrum, eigenstates, dense H, files, sampling and batching, memory refusal."""

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm

# The same lattices and sampling arguments as the other test files, so compiled kernels are shared.
MODELS = {
    "ring6-circuit": ((6,), True, "circuit"),
    "ring6-generator": ((6,), True, "generator"),
    "2x3-circuit": ((2, 3), False, "circuit"),
    "2x3-generator": ((2, 3), False, "generator"),
}
SQUARE = jm.Lattice((2, 2), True)


@functools.cache
def _model(name):
    shape, pbc, kind = MODELS[name]
    return jm.sample_model(jr.key(42), jm.Lattice(shape, pbc), xi=1.2, unitary=kind, strength=0.6)


@functools.cache
def _dense(name):
    return ref.model_dense(_model(name))


@pytest.fixture(params=list(MODELS))
def name(request):
    return request.param


def _leaves_equal(a, b):
    la, lb = jtu.tree_leaves(a), jtu.tree_leaves(b)
    assert jtu.tree_structure(a) == jtu.tree_structure(b)
    for x, y in zip(la, lb):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


# ----------------------------------------------------------------------------- spectrum and eigenstates
def test_spectrum_is_sorted_energies(name):
    model = _model(name)
    H, U, E_ref = _dense(name)
    E = np.asarray(jm.energies(model))
    assert E.shape == (2**model.n_sites,)
    np.testing.assert_allclose(E, E_ref, atol=1e-13)
    np.testing.assert_allclose(np.linalg.eigvalsh(H), np.sort(E), atol=1e-10)


def test_dense_hamiltonian_hermitian_and_matches(name):
    H_ref = _dense(name)[0]
    H = np.asarray(jm.dense_hamiltonian(_model(name)))
    np.testing.assert_allclose(H, H.conj().T, atol=1e-13)
    np.testing.assert_allclose(H, H_ref, atol=1e-10)
    np.testing.assert_allclose(H_ref, H_ref.conj().T, atol=1e-13)


def test_eigenstates_are_U_columns_and_eigenvectors(name):
    model = _model(name)
    H, U, E = _dense(name)
    dim = 2**model.n_sites
    np.testing.assert_allclose(U @ U.conj().T, np.eye(dim), atol=1e-11)
    V = np.asarray(jm.eigenstates(model, np.arange(dim)))  # row n is U|n>
    assert V.shape == (dim, dim)
    np.testing.assert_allclose(V.T, U, atol=1e-10)
    residual = H @ V.T - V.T * E[None, :]  # H U|n> - E(n) U|n>, every n
    assert np.abs(residual).max() <= 1e-10
    np.testing.assert_allclose(np.asarray(jm.eigenstates(model, 5)), U[:, 5], atol=1e-10)
    assert jm.eigenstates(model, np.array([[0, 1, 2], [3, 4, 5]])).shape == (2, 3, dim)


# ----------------------------------------------------------------------------- files
def _numpy_rebuild(path):
    """Rebuild (E, U) from the .npz with numpy/scipy only, following the file format of ``save_model`` literally."""
    f = np.load(path, allow_pickle=False)
    n = int(f["n_sites"])
    bits = ref.all_bits(n)
    E = np.zeros(2**n)
    for key in f.files:
        if key.startswith("h0_coef_k"):
            k = int(key[len("h0_coef_k") :])
            sites, coef = f[f"h0_sites_k{k}"], f[key]
            assert sites.shape == (coef.shape[0], k)
            for S, J in zip(sites, coef):
                E += J * np.prod(bits[:, S], axis=1)
    kind = str(f["u_kind"])
    if kind == "circuit":
        U = ref.circuit_dense(f["u_gates"], [tuple(p) for p in f["u_sites"]], n)
    else:
        assert kind == "generator"
        U = ref.generator_dense(f["k_paulis"], f["k_coef"])
    return f, E, U


def test_save_load_round_trip_and_numpy_rebuild(name, tmp_path):
    model = _model(name)
    H, U_ref, E_ref = _dense(name)
    path = tmp_path / "model.npz"
    jm.save_model(path, model)

    f, E, U = _numpy_rebuild(path)
    kind = MODELS[name][2]
    orders = model.h0.orders
    expected_keys = {"n_sites", "lattice_shape", "pbc", "u_kind"}
    expected_keys |= {f"h0_sites_k{k}" for k in orders} | {f"h0_coef_k{k}" for k in orders}
    expected_keys |= {"u_gates", "u_sites"} if kind == "circuit" else {"k_paulis", "k_coef"}
    assert set(f.files) == expected_keys
    assert int(f["n_sites"]) == model.n_sites
    np.testing.assert_array_equal(f["lattice_shape"], model.lattice.shape)
    np.testing.assert_array_equal(f["pbc"], model.lattice.pbc)
    assert f["pbc"].dtype == bool
    if kind == "circuit":
        assert f["u_gates"].shape == (len(model.U.sites), 4, 4) and np.iscomplexobj(f["u_gates"])
        assert f["u_sites"].shape == (len(model.U.sites), 2) and f["u_sites"].dtype.kind == "i"
    else:
        assert f["k_paulis"].shape[1] == model.n_sites and f["k_paulis"].dtype.kind == "i"
        assert f["k_paulis"].min() >= 0 and f["k_paulis"].max() <= 3
        assert f["k_coef"].shape == (f["k_paulis"].shape[0],) and f["k_coef"].dtype.kind == "f"
    np.testing.assert_allclose(E, E_ref, atol=1e-13)
    np.testing.assert_allclose(E, np.asarray(jm.energies(model)), atol=1e-13)
    np.testing.assert_allclose(U, U_ref, atol=1e-10)
    np.testing.assert_allclose(U, np.asarray(model.U.dense()), atol=1e-10)

    loaded = jm.load_model(path)
    assert loaded.lattice == model.lattice and type(loaded.U) is type(model.U)
    np.testing.assert_allclose(np.asarray(jm.energies(loaded)), E_ref, atol=1e-13)
    np.testing.assert_allclose(np.asarray(loaded.U.dense()), U_ref, atol=1e-10)


def test_save_adds_suffix_and_refuses_batches(tmp_path):
    model = _model("ring6-circuit")
    jm.save_model(tmp_path / "m", model)
    assert (tmp_path / "m.npz").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left behind
    batch = jm.sample_models(jr.key(0), SQUARE, 8)
    with pytest.raises(ValueError, match="batch"):
        jm.save_model(tmp_path / "b.npz", batch)


def test_float32_circuit_model_round_trip(tmp_path):
    model = jm.sample_model(jr.key(0), jm.Lattice((4,)), dtype=jnp.float32)
    jm.save_model(tmp_path / "m32.npz", model)
    loaded = jm.load_model(tmp_path / "m32.npz")
    assert loaded.dtype == jnp.float32
    np.testing.assert_allclose(np.asarray(loaded.U.dense()), np.asarray(model.U.dense()), atol=1e-6)


def test_load_bad_files(tmp_path):
    np.savez(tmp_path / "empty.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="missing"):
        jm.load_model(tmp_path / "empty.npz")
    model = _model("ring6-circuit")
    jm.save_model(tmp_path / "ok.npz", model)
    data = dict(np.load(tmp_path / "ok.npz"))
    np.savez(tmp_path / "kind.npz", **{**data, "u_kind": np.str_("magic")})
    with pytest.raises(ValueError, match="u_kind"):
        jm.load_model(tmp_path / "kind.npz")
    np.savez(tmp_path / "n.npz", **{**data, "n_sites": np.int64(7)})
    with pytest.raises(ValueError, match="n_sites"):
        jm.load_model(tmp_path / "n.npz")
    bad_gates = data["u_gates"].copy()
    bad_gates[0] *= 2
    np.savez(tmp_path / "g.npz", **{**data, "u_gates": bad_gates})
    with pytest.raises(ValueError, match="unitary"):
        jm.load_model(tmp_path / "g.npz")


# ----------------------------------------------------------------------------- sampling and batches
@pytest.mark.slow
@pytest.mark.parametrize("kind", ["circuit", "generator"])
def test_realization_i_independent_of_n_and_start(kind):
    lat = SQUARE
    root = jr.key(123)
    a = jm.sample_models(root, lat, 8, unitary=kind, strength=0.6)
    b = jm.sample_models(root, lat, 2, start=3, unitary=kind, strength=0.6)
    c = jm.sample_model(jr.fold_in(root, 3), lat, unitary=kind, strength=0.6)
    take = lambda m, i: jtu.tree_map(lambda x: x[i], m)  # noqa: E731
    _leaves_equal(take(a, 3), take(b, 0))
    _leaves_equal(take(a, 3), c)
    assert a.batch_shape == (8,)
    keys = jr.key_data(jm.realization_keys(root, 2, start=3))
    np.testing.assert_array_equal(np.asarray(keys[1]), np.asarray(jr.key_data(jr.fold_in(root, 4))))
    assert not np.array_equal(np.asarray(take(a, 0).h0.coef[0]), np.asarray(take(a, 1).h0.coef[0]))


@pytest.mark.slow
def test_vmap_sample_model_equals_loop():
    lat = jm.Lattice((4,))
    keys = jr.split(jr.key(9), 8)
    batch = jax.vmap(lambda k: jm.sample_model(k, lat, unitary="generator", strength=0.6))(keys)
    for i, k in enumerate(keys):
        one = jm.sample_model(k, lat, unitary="generator", strength=0.6)
        for x, y in zip(jtu.tree_leaves(jtu.tree_map(lambda x: x[i], batch)), jtu.tree_leaves(one)):
            np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=1e-14, atol=1e-15)


def test_batched_model_functions_equal_loop():
    batch = jtu.tree_map(lambda x: x[:3], jm.sample_models(jr.key(1), SQUARE, 8, unitary="circuit"))
    E = np.asarray(jm.energies(batch))
    V = np.asarray(jm.eigenstates(batch, [1, 7]))
    H = np.asarray(jm.dense_hamiltonian(batch))
    assert E.shape == (3, 16) and V.shape == (3, 2, 16) and H.shape == (3, 16, 16)
    for i in range(3):
        m = jtu.tree_map(lambda x: x[i], batch)
        H_ref, U_ref, E_ref = ref.model_dense(m)
        np.testing.assert_allclose(E[i], E_ref, atol=1e-13)
        np.testing.assert_allclose(V[i], U_ref[:, [1, 7]].T, atol=1e-12)
        np.testing.assert_allclose(H[i], H_ref, atol=1e-12)
    traces = jm.map_realizations(lambda m: jnp.trace(jm.dense_hamiltonian(m)), batch)
    np.testing.assert_allclose(np.asarray(traces), E.sum(axis=1), atol=1e-12)


def test_nested_batch_shape():
    flat = jm.sample_models(jr.key(2), SQUARE, 8)
    batch = jtu.tree_map(lambda x: x.reshape((2, 4) + x.shape[1:]), flat)
    assert batch.batch_shape == (2, 4)
    E = np.asarray(jm.energies(batch))
    assert E.shape == (2, 4, 16)
    np.testing.assert_allclose(E[1, 2], ref.model_dense(jtu.tree_map(lambda x: x[1, 2], batch))[2], atol=1e-13)


# ----------------------------------------------------------------------------- memory and bad input
def test_memory_refusal_before_allocating(monkeypatch):
    lat = jm.Lattice((40,))
    model = jm.sample_model(jr.key(0), lat, max_order=2, cutoff=1e-3)  # sampling needs no 2**40 vector

    def boom(*args, **kwargs):
        raise AssertionError("allocated before the memory check")

    monkeypatch.setattr(jnp, "zeros", boom)
    monkeypatch.setattr(jax.nn, "one_hot", boom)
    with pytest.raises(ValueError, match="GiB"):
        jm.energies(model)
    with pytest.raises(ValueError, match="GiB"):
        jm.energies(model.h0)
    with pytest.raises(ValueError, match="GiB"):
        jm.eigenstates(model, 0)
    with pytest.raises(ValueError, match="GiB"):
        jm.basis_state(40, 0)
    with pytest.raises(ValueError, match="N <= 12"):
        jm.dense_hamiltonian(model)


def test_memory_limit_env_variable(monkeypatch):
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1e-5")  # ~10 kB: an 8-site state (4 kB x 4) is refused
    with pytest.raises(ValueError, match=r"n_sites=8.*GiB"):
        jm.energies(jm.lbit_hamiltonian(8, {(0,): 1.0}))
    jm.energies(jm.lbit_hamiltonian(4, {(0,): 1.0}))


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(unitary="magic"), "unitary"),
        (dict(strength=-0.1), "strength"),
        (dict(strength=np.nan), "strength"),
        (dict(xi=0.0), "xi"),
        (dict(xi=-2.0), "xi"),
        (dict(J0=np.inf), "J0"),
    ],
)
def test_bad_sample_model(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jm.sample_model(jr.key(0), jm.Lattice((3,)), **kwargs)


def test_bad_model_arguments():
    model = _model("ring6-circuit")
    with pytest.raises(TypeError, match="lattice"):
        jm.sample_model(jr.key(0), (4,))
    with pytest.raises(ValueError, match="n must"):
        jm.sample_models(jr.key(0), jm.Lattice((3,)), 0)
    with pytest.raises(ValueError, match="idx"):
        jm.eigenstates(model, 64)
    with pytest.raises(ValueError, match="idx"):
        jm.eigenstates(model, -1)
    with pytest.raises(ValueError, match="idx"):
        jm.eigenstates(model, 1.5)
    with pytest.raises(TypeError, match="model"):
        jm.energies(np.zeros(4))
    with pytest.raises(TypeError, match="model"):
        jm.map_realizations(lambda m: m, "not a model")
