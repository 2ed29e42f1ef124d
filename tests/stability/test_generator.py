"""The state-applied quasi-adiabatic generator against independent references.

References: eigenvector derivatives by a five-point finite difference of ``numpy.linalg.eigh``
with phases fixed by overlap (eq. 4.24 on spin chains); the dense spectral generator
``quasi_adiabatic_generator`` (itself tested against mpmath filters in test_adiabatic.py).
"""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm


def _fd_parallel_derivative(H_of_s, s, h=1e-3):
    """``d|psi_n>/ds`` for every n: five-point stencil of numpy eigenvectors, gauge <psi_n|psi_n(s')> > 0."""
    E0, V0 = np.linalg.eigh(H_of_s(s))
    cols = []
    for k in (-2, -1, 1, 2):
        _, V = np.linalg.eigh(H_of_s(s + k * h))
        phase = np.sum(V0.conj() * V, axis=0)
        cols.append(V * (np.abs(phase) / phase)[None, :])
    dV = (cols[0] - 8 * cols[1] + 8 * cols[2] - cols[3]) / (12 * h)
    return E0, V0, dV


def _random_state(key, n):
    v = jr.normal(key, (2**n,)) + 1j * jr.normal(jr.fold_in(key, 1), (2**n,))
    return v / jnp.linalg.norm(v)


def _heisenberg_family():
    H = jm.random_field_heisenberg(jr.key(26), 4, 1.0) + jm.PauliSum.from_terms(4, [("X", [r], 0.3) for r in range(4)])
    V = jm.PauliSum.from_terms(4, [("Y", [1], 0.2), ("ZX", [0, 2], 0.1)])
    return jm.perturbation_family(H, V), H, V


# ----------------------------------------------------------------------------- eq. 4.24 on spin chains
@pytest.mark.slow
def test_eq_4_24_heisenberg_chain_every_eigenstate():
    fam, H, V = _heisenberg_family()
    Hd, Vd = np.asarray(H.dense()), np.asarray(V.dense())
    E, psi, dpsi = _fd_parallel_derivative(lambda s: Hd + s * Vd, 0.0)
    gap = 0.9 * np.diff(E).min()  # every level is further than gap from all others
    assert gap > 0.1
    lhs = 1j * dpsi
    J = np.asarray(jm.quasi_adiabatic_generator(lambda s: jnp.asarray(Hd) + s * jnp.asarray(Vd), 0.0, gap=gap))
    assert np.abs(J @ psi - lhs).max() < 1e-6
    J_psi, info = jm.apply_generator(fam, 0.0, jnp.asarray(psi.T), gap=gap, tol=1e-8)
    assert info["route"] == "chebyshev" and info["dH_norm_is_bound"]
    assert np.abs(np.asarray(J_psi).T - lhs).max() < 1e-6
    assert float(info["error"].max()) < 1e-6


@pytest.mark.slow
def test_eq_4_24_swingle_conjugation_family_every_eigenstate():
    model = jm.sample_model(jr.key(0), jm.Lattice((4,)), unitary="generator")
    fam = jm.conjugation_family(model)
    s = 0.6
    E, psi, dpsi = _fd_parallel_derivative(lambda s: np.asarray(fam.H(s).dense()), s)
    gap = 0.9 * np.diff(E).min()
    lhs = 1j * dpsi
    J = np.asarray(jm.quasi_adiabatic_generator(fam.H, s, gap=gap))
    assert np.abs(J @ psi - lhs).max() < 1e-6
    J_psi, info = jm.apply_generator(fam, s, jnp.asarray(psi.T), gap=gap, tol=1e-8)
    assert info["route"] == "conjugation"
    assert np.abs(np.asarray(J_psi).T - lhs).max() < 1e-6


# ----------------------------------------------------------------------------- against the spectral J
# One small conjugation family and one configuration, shared by several tests (one compilation).
KW = dict(gap=0.5, tol=1e-6, omega_max=4.0)


def _small_conjugation():
    model = jm.sample_model(jr.key(8), jm.Lattice((4,)), unitary="generator")
    return jm.conjugation_family(model)


def _states(n=4):
    return jnp.stack([_random_state(jr.key(k), n) for k in range(3)])


@pytest.mark.slow
def test_conjugation_state_applied_equals_spectral_within_its_error():
    fam = _small_conjugation()
    psi = _states()
    J_psi, info = jm.apply_generator(fam, 0.3, psi, **KW)
    assert info["route"] == "conjugation" and info["dH_norm_is_bound"]
    err = np.linalg.norm(np.asarray(J_psi - psi @ jm.quasi_adiabatic_generator(fam.H, 0.3, gap=0.5).T), axis=-1)
    assert np.all(err <= np.asarray(info["error"]))
    assert np.all(np.asarray(info["error"]) <= 1.01 * KW["tol"] * np.asarray(info["dH_norm"]) / KW["gap"])


def _perturbation_swingle(method):
    model = jm.sample_model(jr.key(2), jm.Lattice((6,)))
    V = jm.PauliSum.from_terms(6, [("X", [2], 1.0), ("ZZ", [2, 3], 0.5)])
    fam = jm.perturbation_family(model, V)
    dense = lambda: jm.quasi_adiabatic_generator(lambda g: model.dense() + g * V.dense(), 0.0, gap=0.5)  # noqa: E731
    return fam, 0.0, dense, "perturbation" if method == "auto" else "chebyshev"


def _heisenberg():
    H = jm.random_field_heisenberg(jr.key(3), 6, 2.0)
    V = jm.PauliSum.from_terms(6, [("X", [3], 1.0)])
    fam = jm.perturbation_family(H, V)
    return (
        fam,
        0.2,
        lambda: jm.quasi_adiabatic_generator(lambda g: H.dense() + g * V.dense(), 0.2, gap=0.5),
        "chebyshev",
    )


def _dense_callable():
    rng = np.random.default_rng(4)
    A, B = (rng.normal(size=(2, 32, 32)) + 1j * rng.normal(size=(2, 32, 32))) / 8
    A, B = jnp.asarray(A + A.conj().T), jnp.asarray(B + B.conj().T)

    def H_fn(s):
        return A + jnp.sin(s) * B

    return H_fn, 0.3, lambda: jm.quasi_adiabatic_generator(H_fn, 0.3, gap=0.5), "chebyshev"


def _custom_swingle():
    model = jm.sample_model(jr.key(5), jm.Lattice((5,)), unitary="generator")

    def H_fn(s):  # U(s) = exp(-isK) built by hand: the generic Swingle route, dH by jax.jvp
        U = dataclasses.replace(model.U, coef2=s * model.U.coef2, coef1=s * model.U.coef1)
        return dataclasses.replace(model, U=U)

    return H_fn, 0.7, lambda: jm.quasi_adiabatic_generator(H_fn, 0.7, gap=0.5), "swingle"


CASES = {
    "perturbation-exact": pytest.param(lambda: _perturbation_swingle("auto"), marks=pytest.mark.slow),
    "heisenberg": pytest.param(_heisenberg, marks=pytest.mark.slow),
    "dense": pytest.param(_dense_callable, marks=pytest.mark.slow),
    "perturbation-chebyshev": pytest.param(lambda: _perturbation_swingle("chebyshev"), marks=pytest.mark.slow),
    "custom-swingle": pytest.param(_custom_swingle, marks=pytest.mark.slow),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_state_applied_equals_spectral_within_its_error(make):
    fam, s, dense, route = make()
    n = int(np.log2(dense().shape[0]))
    psi = jnp.stack([_random_state(jr.key(10), n), _random_state(jr.key(11), n)])
    method = "chebyshev" if route == "chebyshev" else "auto"
    tol = 1e-7
    J_psi, info = jm.apply_generator(fam, s, psi, gap=0.5, tol=tol, method=method)
    assert info["route"] == route
    expected = np.asarray(psi @ dense().T)
    err = np.linalg.norm(np.asarray(J_psi) - expected, axis=-1)
    assert np.all(err <= np.asarray(info["error"]))
    assert np.all(np.asarray(info["error"]) <= 1.01 * tol * np.asarray(info["dH_norm"]) / 0.5)
    assert np.all(np.isfinite(np.asarray(J_psi)))


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_lbit_coupling_family_gives_zero():
    """§IV.E: [dH, H] = 0, so J = (int F) dH = 0 (F is odd)."""
    model = jm.sample_model(jr.key(8), jm.Lattice((4,)), unitary="generator")
    fam = jm.lbit_coupling_family(model, {(0, 2): 0.3, (1,): -0.2})
    J_psi, info = jm.apply_generator(fam, 0.5, _states(), **KW)
    assert info["route"] == "lbit_coupling"
    assert float(jnp.max(jnp.abs(J_psi))) < 1e-14


# ----------------------------------------------------------------------------- transforms
def test_jit_equals_eager():
    fam = _small_conjugation()
    psi = _states()
    eager, _ = jm.apply_generator(fam, 0.3, psi, **KW)
    jitted = jax.jit(lambda s, p: jm.apply_generator(fam, s, p, **KW)[0])(0.3, psi)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), atol=1e-13)


@pytest.mark.slow
def test_vmap_equals_loop_over_states_and_realizations():
    fam = _small_conjugation()
    psi = _states()
    batch, _ = jm.apply_generator(fam, 0.3, psi, **KW)
    loop = np.stack([np.asarray(jm.apply_generator(fam, 0.3, p, **KW)[0]) for p in psi])
    np.testing.assert_allclose(loop, np.asarray(batch), atol=1e-13)
    models = jm.sample_models(jr.key(9), jm.Lattice((4,)), 2, unitary="generator")
    fams = jax.vmap(jm.conjugation_family)(models)
    batched = jax.vmap(lambda f: jm.apply_generator(f, 0.3, psi, **KW)[0])(fams)
    for i in range(2):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], fams)
        np.testing.assert_allclose(
            np.asarray(batched[i]), np.asarray(jm.apply_generator(one, 0.3, psi, **KW)[0]), atol=1e-13
        )


@pytest.mark.slow
def test_gradient_is_finite_and_matches_finite_differences():
    fam = _small_conjugation()
    psi = _states()

    def loss(coef2):
        model, K = fam.params
        f = dataclasses.replace(fam, params=(model, dataclasses.replace(K, coef2=coef2)))
        J_psi, _ = jm.apply_generator(f, 0.3, psi, **KW)
        return jnp.sum(jnp.abs(J_psi) ** 2)

    coef2 = fam.params[1].coef2
    g = jax.grad(loss)(coef2)
    assert bool(jnp.all(jnp.isfinite(g)))
    direction = jr.normal(jr.key(13), coef2.shape)
    h = 1e-4
    fd = (loss(coef2 + h * direction) - loss(coef2 - h * direction)) / (2 * h)
    np.testing.assert_allclose(float(jnp.sum(g * direction)), float(fd), rtol=1e-6)


# ----------------------------------------------------------------------------- validation
def test_validation_names_the_argument():
    fam = _small_conjugation()
    psi = _states()
    with pytest.raises(jm.JaxmblError, match="gap"):
        jm.apply_generator(fam, 0.3, psi, gap=0.0)
    with pytest.raises(jm.JaxmblError, match="tol"):
        jm.apply_generator(fam, 0.3, psi, gap=0.5, tol=2.0)
    with pytest.raises(jm.JaxmblError, match="psi"):
        jm.apply_generator(fam, 0.3, psi[:, :8], gap=0.5)
    with pytest.raises(jm.JaxmblError, match="method"):
        jm.apply_generator(fam, 0.3, psi, gap=0.5, method="magic")
    with pytest.raises(TypeError, match="family"):
        jm.apply_generator(3.0, 0.3, psi, gap=0.5)
    with pytest.raises(jm.JaxmblError, match="omega_max"):
        jax.jit(lambda s: jm.apply_generator(fam, s, psi, gap=0.5)[0])(0.3)
    H = jm.random_field_heisenberg(jr.key(0), 4, 1.0)
    with pytest.raises(TypeError, match="exact"):
        jm.apply_generator(jm.perturbation_family(H, H), 0.0, psi, gap=0.5, method="exact")
