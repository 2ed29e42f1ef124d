"""One vocabulary (docs/conventions.md): key first, named batching keywords and tolerances, int lattices.

* every renamed keyword still works under its old spelling, with a ``DeprecationWarning``, and
  gives bit-identical results;
* every public function that takes a ``lattice`` accepts an int chain length, with the same result
  as ``Lattice((N,))``;
* every public function with a random ``key`` takes it as its first parameter, and none takes
  ``root``, ``seed`` or ``rng``;
* functions returning per-region values put the regions last and return jax arrays.
"""

from __future__ import annotations

import inspect
import warnings

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm

N = 4
LAT = jm.Lattice((N,))
KEY = jr.key(7)


def _public_functions():
    out = {}
    for name in dir(jm):
        obj = getattr(jm, name)
        if not name.startswith("_") and inspect.isfunction(obj) and obj.__module__.startswith("jaxmbl"):
            out[name] = obj
    return out


def _same(a, b):
    la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(la, lb):
        if not isinstance(x, np.ndarray | jax.Array | np.generic | float | int | complex):
            assert x == y
            continue
        if jnp.issubdtype(jnp.asarray(x).dtype, jax.dtypes.prng_key):
            x, y = jr.key_data(x), jr.key_data(y)
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _deprecated(fn):
    """``fn()`` must warn exactly with a jaxmbl DeprecationWarning; returns its result."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = fn()
    ours = [w for w in caught if issubclass(w.category, DeprecationWarning) and "deprecated" in str(w.message)]
    assert ours, f"no DeprecationWarning, got {[str(w.message) for w in caught]}"
    assert all(w.filename == __file__ for w in ours), [w.filename for w in ours]  # points at the caller
    return out


# ----------------------------------------------------------------------------- deprecated aliases
def _model():
    return jm.sample_model(KEY, LAT, unitary="generator", strength=0.4)


def _pauli():
    return jm.random_field_heisenberg(KEY, LAT, 1.0)


TS = np.array([0.0, 0.5, 2.0])
X = np.array([[0, 1], [1, 0]])

# (name, new call, old call): the old spelling of each renamed keyword
ALIASES = [
    (
        "sample_models(root=)",
        lambda: jm.sample_models(KEY, LAT, 2),
        lambda: jm.sample_models(root=KEY, lattice=LAT, n=2),
    ),
    ("realization_keys(root=)", lambda: jm.realization_keys(KEY, 3), lambda: jm.realization_keys(root=KEY, n=3)),
    (
        "sample_u1_models(root=)",
        lambda: jm.sample_u1_models(KEY, LAT, 2),
        lambda: jm.sample_u1_models(root=KEY, lattice=LAT, n=2),
    ),
    (
        "sample_model(tol=)",
        lambda: jm.sample_model(KEY, LAT, unitary="generator", series_tol=1e-8),
        lambda: jm.sample_model(KEY, LAT, unitary="generator", tol=1e-8),
    ),
    (
        "random_generator(tol=)",
        lambda: jm.random_generator(KEY, LAT, series_tol=1e-6),
        lambda: jm.random_generator(KEY, LAT, tol=1e-6),
    ),
    (
        "generator_unitary(tol=)",
        lambda: jm.generator_unitary(np.array([[1, 1, 0, 0]]), np.array([0.3]), N, series_tol=1e-6),
        lambda: jm.generator_unitary(np.array([[1, 1, 0, 0]]), np.array([0.3]), N, tol=1e-6),
    ),
    (
        "circuit(tol=)",
        lambda: jm.circuit(np.eye(4)[None], [(0, 1)], 2, unitarity_tol=1e-9),
        lambda: jm.circuit(np.eye(4)[None], [(0, 1)], 2, tol=1e-9),
    ),
    (
        "couplings_from_energies(tol=)",
        lambda: jm.couplings_from_energies(jm.energies(_model()) - jm.energies(_model())[0], cutoff=1e-9),
        lambda: jm.couplings_from_energies(jm.energies(_model()) - jm.energies(_model())[0], tol=1e-9),
    ),
    ("PauliSum.simplify(tol=)", lambda: _pauli().simplify(cutoff=0.5), lambda: _pauli().simplify(tol=0.5)),
    (
        "krylov_evolve(tol=, matvec_fn=)",
        lambda: jm.krylov_evolve(_pauli(), jm.neel_state(N), TS, error_tol=1e-8),
        lambda: jm.krylov_evolve(_pauli(), jm.neel_state(N), TS, tol=1e-8),
    ),
    (
        "krylov_evolve(matvec_fn=)",
        lambda: jm.krylov_evolve(jnp.asarray(_pauli().dense()), jm.neel_state(N), TS, mv_fn=jnp.matmul),
        lambda: jm.krylov_evolve(jnp.asarray(_pauli().dense()), jm.neel_state(N), TS, matvec_fn=jnp.matmul),
    ),
    (
        "evolve(tol=) on a PauliSum",
        lambda: jm.evolve(_pauli(), jm.neel_state(N), TS, error_tol=1e-8),
        lambda: jm.evolve(_pauli(), jm.neel_state(N), TS, tol=1e-8),
    ),
    (
        "evolve_exact(batch_size=)",
        lambda: jm.evolve_exact(_model(), jm.neel_state(N), TS, time_batch=2),
        lambda: jm.evolve_exact(_model(), jm.neel_state(N), TS, batch_size=2),
    ),
    (
        "evolve(batch_size=) on a SwingleModel",
        lambda: jm.evolve(_model(), jm.neel_state(N), TS, time_batch=2),
        lambda: jm.evolve(_model(), jm.neel_state(N), TS, batch_size=2),
    ),
    (
        "evolve_lbit_frame(batch_size=)",
        lambda: jm.evolve_lbit_frame(_model(), jm.neel_state(N), TS, time_batch=2),
        lambda: jm.evolve_lbit_frame(_model(), jm.neel_state(N), TS, batch_size=2),
    ),
    (
        "flip_amplitudes(batch_size=)",
        lambda: jm.flip_amplitudes(_model(), X, 1, state_batch=4),
        lambda: jm.flip_amplitudes(_model(), X, 1, batch_size=4),
    ),
    (
        "otoc(model, ts, key=, batch_size=)",
        lambda: jm.otoc(KEY, _model(), TS, time_batch=2),
        lambda: jm.otoc(_model(), TS, key=KEY, batch_size=2),
    ),
    (
        "mean_ratio(E, key=)",
        lambda: jm.mean_ratio(KEY, jm.energies(jm.sample_models(KEY, LAT, 3)), n_boot=10),
        lambda: jm.mean_ratio(jm.energies(jm.sample_models(KEY, LAT, 3)), key=KEY, n_boot=10),
    ),
    (
        "fit_lbits(H, lattice, key=, coupling_tol=)",
        lambda: jm.fit_lbits(KEY, jm.dense_hamiltonian(_model()), LAT, depth=1, steps=3, cutoff=1e-6),
        lambda: jm.fit_lbits(jm.dense_hamiltonian(_model()), LAT, depth=1, steps=3, key=KEY, coupling_tol=1e-6),
    ),
    ("basis_state(lattice_or_n=)", lambda: jm.basis_state(N, 3), lambda: jm.basis_state(lattice_or_n=N, n=3)),
    ("neel_state(lattice_or_n=)", lambda: jm.neel_state(LAT), lambda: jm.neel_state(lattice_or_n=LAT)),
    ("GeneratorUnitary.tol", lambda: _model().U.series_tol, lambda: _model().U.tol),
]


@pytest.mark.parametrize("name, new, old", ALIASES, ids=[a[0] for a in ALIASES])
def test_deprecated_spelling_warns_and_agrees(name, new, old):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new spelling must not warn
        expected = new()
    _same(_deprecated(old), expected)


def test_both_spellings_at_once_is_an_error():
    with pytest.raises(TypeError, match="both"):
        jm.sample_model(KEY, LAT, tol=1e-8, series_tol=1e-8)
    with pytest.raises(TypeError, match="both"):
        jm.sample_models(KEY, LAT, 2, root=KEY)


def test_load_model_tol_alias(tmp_path):
    path = tmp_path / "m.npz"
    jm.save_model(path, _model())
    _same(_deprecated(lambda: jm.load_model(path, tol=1e-9)), jm.load_model(path, series_tol=1e-9))


# ----------------------------------------------------------------------------- int lattices
# One call per public function that takes a lattice; ``lat`` is either Lattice((N,)) or N.
_AMPS = jnp.tile(jnp.array([1.0, 1.0]) / np.sqrt(2.0), (N, 1))


def _h0():
    return jm.sample_lbit_hamiltonian(KEY, LAT)


LATTICE_CALLS = {
    "as_lattice": lambda lat: jm.as_lattice(lat),
    "basis_state": lambda lat: jm.basis_state(lat, 5),
    "neel_state": lambda lat: jm.neel_state(lat),
    "brickwork_sites": lambda lat: jm.brickwork_sites(lat, 3),
    "imbalance": lambda lat: jm.imbalance(jm.neel_state(N), lat),
    "dressed_operator_weights": lambda lat: jm.dressed_operator_weights(_model().U, lat, 1),
    "random_circuit": lambda lat: jm.random_circuit(KEY, lat, depth=2),
    "random_generator": lambda lat: jm.random_generator(KEY, lat),
    "random_u1_circuit": lambda lat: jm.random_u1_circuit(KEY, lat),
    "random_u1_generator": lambda lat: jm.random_u1_generator(KEY, lat),
    "random_field_heisenberg": lambda lat: jm.random_field_heisenberg(KEY, lat, 2.0),
    "random_local_perturbation": lambda lat: jm.random_local_perturbation(KEY, lat),
    "sample_lbit_hamiltonian": lambda lat: jm.sample_lbit_hamiltonian(KEY, lat),
    "sample_model": lambda lat: jm.sample_model(KEY, lat),
    "sample_models": lambda lat: jm.sample_models(KEY, lat, 2),
    "sample_u1_model": lambda lat: jm.sample_u1_model(KEY, lat),
    "sample_u1_models": lambda lat: jm.sample_u1_models(KEY, lat, 2),
    "haar_models": lambda lat: jm.haar_models(KEY, lat, 2),
    "clean_models": lambda lat: jm.clean_models(KEY, lat, 2),
    "generator_locality": lambda lat: jm.generator_locality(
        None,
        jm.random_field_heisenberg(KEY, N, 2.0),
        jm.PauliSum.from_terms(N, [("X", [1], 1.0)]),
        1,
        gap=0.5,
        lattice=lat,
    ),
    "pauli_weight_outside": lambda lat: jm.pauli_weight_outside(
        jnp.kron(jnp.eye(8), jnp.diag(jnp.array([1.0, -1.0]))), 0, lat
    ),
    "dephasing_entropy": lambda lat: jm.dephasing_entropy(_h0(), _AMPS, (0, 1), jnp.array([0.5, 3.0]), lattice=lat),
    "dephasing_rdm": lambda lat: jm.dephasing_rdm(_h0(), _AMPS, (0, 1), jnp.array([0.5, 3.0]), lattice=lat),
    "fit_lbits": lambda lat: jm.fit_lbits(KEY, jm.dense_hamiltonian(_model()), lat, depth=1, steps=2),
    "coupling_decay": lambda lat: tuple(jm.coupling_decay(_h0(), lat)),
    "local_pauli_basis": lambda lat: jm.local_pauli_basis(lat, k=2),
    "most_dangerous_perturbation": lambda lat: _search_arrays(
        jm.most_dangerous_perturbation(
            KEY,
            jm.random_field_heisenberg(KEY, N, 2.0),
            k=1,
            measure="gap_ratio",
            g=0.1,
            steps=2,
            n_random=2,
            lattice=lat,
        )
    ),
}


def _search_arrays(res):
    # The result's timings differ between runs; everything computed must not.
    return res.coefficients, res.history, res.random_values, res.value


def test_every_function_taking_a_lattice_is_checked():
    takes = {n for n, f in _public_functions().items() if "lattice" in inspect.signature(f).parameters}
    missing = sorted(takes - set(LATTICE_CALLS))
    assert not missing, f"public functions taking a lattice without an int-lattice check here: {missing}"


@pytest.mark.parametrize("name", sorted(LATTICE_CALLS))
def test_int_lattice_equals_chain(name):
    call = LATTICE_CALLS[name]
    _same(call(N), call(LAT))


def test_bad_lattice_type_is_a_type_error():
    with pytest.raises(TypeError, match="lattice"):
        jm.sample_model(KEY, (N,))
    with pytest.raises(TypeError, match="lattice"):
        jm.as_lattice(True)


# ----------------------------------------------------------------------------- keys
# Solvers whose converged result does not depend on the key (it only draws a start block) take it as
# the keyword ``key=`` (docs/conventions.md).
KEY_KEYWORD_SOLVERS = {"interior_eigh"}


def test_random_functions_take_key_first():
    bad, old = [], []
    for name, fn in sorted(_public_functions().items()):
        params = list(inspect.signature(fn).parameters)
        if name in KEY_KEYWORD_SOLVERS:
            kind = inspect.signature(fn).parameters["key"].kind
            if kind is not inspect.Parameter.KEYWORD_ONLY:
                bad.append(f"{name}: a solver's start-vector key is keyword-only")
        elif "key" in params and params[0] != "key":
            bad.append(f"{name}{inspect.signature(fn)}")
        old += [f"{name}({p}=)" for p in ("root", "seed", "rng") if p in params]
    assert not bad, f"random functions must take `key` as their first positional argument: {bad}"
    assert not old, f"random keys are spelled `key`, not: {old}"


def test_key_first_functions_take_it_positionally():
    for name in ("sample_model", "sample_models", "random_circuit", "mean_ratio", "otoc", "fit_lbits"):
        first = next(iter(inspect.signature(getattr(jm, name)).parameters.values()))
        assert first.name == "key" and first.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD, name


# ----------------------------------------------------------------------------- regions last, jax arrays
def test_eigenstate_entropies_put_regions_last_and_return_jax_arrays():
    models = jm.sample_models(KEY, LAT, 2, depth=2)
    regions = [(0,), (0, 1), (1, 3)]
    S = jm.eigenstate_entropies(models, regions)
    S_sv = jm.statevector_entropies(models, regions)
    assert isinstance(S, jax.Array) and isinstance(S_sv, jax.Array)
    assert S.shape == S_sv.shape == (2, 2**N, len(regions))
    psi = jm.eigenstates(models, np.arange(2**N))  # (2, 16, 16)
    np.testing.assert_allclose(S, jm.region_entropies(psi, regions), atol=1e-10)
    np.testing.assert_allclose(S_sv, S, atol=1e-10)
