"""Exact evolution against scipy expm, dense eigendecomposition and an mpmath long-time reference."""

import functools

import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm

# The same lattices and sampling arguments as test_model.py, so compiled kernels are shared.
MODELS = {
    "ring6-circuit": ((6,), True, "circuit"),
    "2x3-generator": ((2, 3), False, "generator"),
}


@functools.cache
def _model(name):
    shape, pbc, kind = MODELS[name]
    return jm.sample_model(jr.key(42), jm.Lattice(shape, pbc), xi=1.2, unitary=kind, strength=0.6)


@functools.cache
def _dense(name):
    return ref.model_dense(_model(name))


@functools.cache
def _psi0(n_sites, batch=()):
    return ref.random_state(np.random.default_rng(n_sites), n_sites, batch)


@pytest.fixture(params=list(MODELS))
def name(request):
    return request.param


def _z0(psi):
    """<Z_0>: site 0 is the most significant bit, so the first half of the amplitudes has Z_0 = +1."""
    p = jnp.abs(psi) ** 2
    half = p.shape[-1] // 2
    return jnp.sum(p[:half]) - jnp.sum(p[half:])


def _obs(psi):
    return {"z0": _z0(psi), "p": jnp.abs(psi[:4]) ** 2}


# ----------------------------------------------------------------------------- against dense propagators
def test_evolve_matches_expm(name):
    model = _model(name)
    H, U, E = _dense(name)
    psi0 = _psi0(model.n_sites)
    ts = np.array([0.0, 0.1, 3.0, 1e3])
    out = np.asarray(jm.evolve(model, psi0, ts))
    assert out.shape == (4, 2**model.n_sites)
    for t, psi in zip(ts, out):
        want = scipy.linalg.expm(-1j * H * t) @ psi0
        assert np.abs(psi - want).max() <= 1e-9, (t, np.abs(psi - want).max())
        np.testing.assert_allclose(np.linalg.norm(psi), 1.0, atol=1e-12)
    np.testing.assert_allclose(out[0], psi0, atol=1e-13)


def test_evolve_matches_eigendecomposition_at_1e6(name):
    model = _model(name)
    H, U, E = _dense(name)
    psi0 = _psi0(model.n_sites)
    t = 1e6
    psi = np.asarray(jm.evolve(model, psi0, t))
    # numpy.linalg.eigh of the dense H: eigenvalue errors ~ eps ||H|| become phase errors ~ eps ||H|| t.
    lam, V = np.linalg.eigh(H)
    want = V @ (np.exp(-1j * lam * t) * (V.conj().T @ psi0))
    tol = 1e-9 + 50 * np.finfo(float).eps * np.abs(lam).max() * t
    assert np.abs(psi - want).max() <= tol, (np.abs(psi - want).max(), tol)
    # The exact eigenbasis U|n>, E(n) (E formed naively: ~1e-10 rad at 1e6) is much tighter.
    want = U @ (np.exp(-1j * E * t) * (U.conj().T @ psi0))
    assert np.abs(psi - want).max() <= 1e-9


def test_evolve_at_1e12_matches_extended_precision(name):
    model = _model(name)
    H, U, E = _dense(name)
    psi0 = _psi0(model.n_sites)
    t = 1e12
    phases = ref.energy_phases_mp(ref.h0_terms(model.h0), model.n_sites, t)
    want = U @ (np.exp(-1j * phases) * (U.conj().T @ psi0))
    psi = np.asarray(jm.evolve(model, psi0, [1e-2, t])[1])
    err = np.abs(psi - want).max()
    assert err <= 1e-8, err
    # The reference has teeth: the naive E*t propagator is off by ~1e-5 here.
    naive = U @ (np.exp(-1j * E * t) * (U.conj().T @ psi0))
    assert np.abs(naive - want).max() > 1e-7


# ----------------------------------------------------------------------------- interface
def test_observables_equal_f_of_states(name):
    model = _model(name)
    psi0 = _psi0(model.n_sites)
    ts = np.logspace(-2, 12, 5)
    states = jm.evolve(model, psi0, ts)
    obs = jm.evolve(model, psi0, ts, observables=_obs)
    assert obs["z0"].shape == (5,) and obs["p"].shape == (5, 4)
    np.testing.assert_allclose(np.asarray(obs["z0"]), [float(_z0(s)) for s in states], atol=1e-12)
    np.testing.assert_allclose(np.asarray(obs["p"]), np.abs(np.asarray(states)[:, :4]) ** 2, atol=1e-12)
    # batch_size changes the memory schedule, not the result.
    obs2 = jm.evolve(model, psi0, ts, observables=_obs, time_batch=2)
    jtu.tree_map(lambda a, b: np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-13), obs, obs2)


def test_scalar_time_drops_axis():
    model = _model("ring6-circuit")
    psi0 = _psi0(6)
    one = np.asarray(jm.evolve(model, psi0, 3.0))
    assert one.shape == (64,)
    np.testing.assert_allclose(one, np.asarray(jm.evolve(model, psi0, [3.0]))[0], atol=1e-14)
    assert jm.evolve(model, psi0, 3, observables=_z0).shape == ()


@pytest.mark.slow
def test_batched_model_and_states():
    batch = jm.sample_models(jr.key(5), jm.Lattice((2, 2), True), 8, unitary="circuit", strength=0.8)
    batch = jtu.tree_map(lambda x: x[:3], batch)
    psi0 = _psi0(4, (2,))
    ts = np.array([0.5, 2.0, 1e4, 1e9])
    out = np.asarray(jm.evolve(batch, psi0, ts))
    assert out.shape == (3, 4, 2, 16)
    z = np.asarray(jm.evolve(batch, psi0, ts, observables=_z0))
    assert z.shape == (3, 4, 2)
    one_t = np.asarray(jm.evolve(batch, psi0, 2.0))
    assert one_t.shape == (3, 2, 16)
    for i in range(3):
        H, U, E = ref.model_dense(jtu.tree_map(lambda x: x[i], batch))
        for a, t in enumerate(ts):
            phases = ref.energy_phases_mp(ref.h0_terms(jtu.tree_map(lambda x: x[i], batch).h0), 4, t)
            prop = U @ np.diag(np.exp(-1j * phases)) @ U.conj().T
            for b in range(2):
                want = prop @ psi0[b]
                np.testing.assert_allclose(out[i, a, b], want, atol=1e-10)
                np.testing.assert_allclose(z[i, a, b], float(_z0(jnp.asarray(want))), atol=1e-10)
        np.testing.assert_allclose(one_t[i], out[i, 1], atol=1e-13)


@pytest.mark.slow
def test_float32_mode_is_explicit_and_reasonable():
    lat = jm.Lattice((4,))
    m32 = jm.sample_model(jr.key(3), lat, dtype=jnp.float32)
    assert m32.dtype == jnp.float32 and m32.U.dtype == jnp.complex64
    psi0 = _psi0(4).astype(np.complex64)
    ts = np.array([0.5, 5.0])
    out = jm.evolve(m32, psi0, ts)
    assert out.dtype == jnp.complex64
    H, U, E = ref.model_dense(m32)  # the float32 instance, evolved in float64
    for t, psi in zip(ts, np.asarray(out)):
        np.testing.assert_allclose(psi, scipy.linalg.expm(-1j * H * t) @ psi0, atol=1e-5)


# ----------------------------------------------------------------------------- analytic: paper eq. 3.9-3.12
def _two_spin(J1, J2, J12, U):
    h0 = jm.lbit_hamiltonian(2, {(0,): J1, (1,): J2, (0, 1): J12})
    return jm.SwingleModel(lattice=jm.Lattice((2,)), h0=h0, U=U)


IDENTITIES = {
    "no-gates": lambda: jm.circuit(np.zeros((0, 4, 4)), [], 2),
    "identity-gates": lambda: jm.circuit(np.stack([np.eye(4), np.eye(4)]), [(0, 1), (1, 0)], 2),
}


@pytest.mark.parametrize("identity", list(IDENTITIES))
def test_two_spin_example_eq_3_12(identity, rng):
    J1, J2, J12 = rng.uniform(-2, 2, 3)
    model = _two_spin(J1, J2, J12, IDENTITIES[identity]())
    psi0 = jm.product_state([np.pi / 2, np.pi / 2])  # alpha = beta = 1/sqrt(2), eq. 3.10
    ts = np.array([0.0, 0.37, 1.9, 12.5, 1e3])
    psi = np.asarray(jm.evolve(model, psi0, ts))
    rho = np.asarray(jm.reduced_density_matrix(psi, [0]))
    for t, psi_t, rho_t in zip(ts, psi, rho):
        # eq. 3.11
        want = 0.5 * np.array([1, np.exp(-1j * J2 * t), np.exp(-1j * J1 * t), np.exp(-1j * (J1 + J2 + J12) * t)])
        np.testing.assert_allclose(psi_t, want, atol=1e-12)
        # eq. 3.12
        off = np.exp(1j * J1 * t) * (1 + np.exp(1j * J12 * t)) / 2
        np.testing.assert_allclose(rho_t, 0.5 * np.array([[1, off], [np.conj(off), 1]]), atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_two_spin_maximally_mixed_at_J12_t_pi(seed):
    J1, J2 = np.random.default_rng(seed).uniform(-3, 3, 2)  # arbitrary J1, J2
    J12 = 0.7
    model = _two_spin(J1, J2, J12, IDENTITIES["no-gates"]())
    psi0 = jm.product_state([np.pi / 2, np.pi / 2])
    t_star = np.pi / J12
    psi = jm.evolve(model, psi0, np.array([t_star, 2 * t_star, 0.5 * t_star]))
    S = np.asarray(jm.entropy(psi, [0]))
    np.testing.assert_allclose(S[0], np.log(2), atol=1e-10)  # maximally mixed
    np.testing.assert_allclose(S[1], 0.0, atol=1e-6)  # pure again after J12 t = 2 pi
    np.testing.assert_allclose(np.asarray(jm.reduced_density_matrix(psi[0], [0])), np.eye(2) / 2, atol=1e-12)
    # Numpy cross-check of the partial trace.
    np.testing.assert_allclose(ref.partial_trace_keep(np.asarray(psi[0]), [0], 2), np.eye(2) / 2, atol=1e-12)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "ts,match",
    [
        (np.array([1.0, np.nan]), "non-finite"),
        (np.inf, "non-finite"),
        (np.ones((2, 2)), "1D"),
        (np.array([1j]), "real"),
    ],
)
def test_bad_times(ts, match):
    model = _model("ring6-circuit")
    with pytest.raises(ValueError, match=match):
        jm.evolve(model, _psi0(6), ts)


def test_bad_psi0_and_batch_size():
    model = _model("ring6-circuit")
    with pytest.raises(ValueError, match="psi0"):
        jm.evolve(model, np.ones(16, complex), [1.0])
    with pytest.raises(ValueError, match="psi0"):
        jm.evolve(model, np.ones((3, 32), complex), [1.0])
    with pytest.raises(ValueError, match="time_batch"):
        jm.evolve(model, _psi0(6), [1.0], time_batch=0)
    with pytest.raises(TypeError, match="model"):
        jm.evolve_exact("H", _psi0(6), [1.0])


def test_output_memory_refused_with_hint(monkeypatch):
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1e-4")  # ~100 kB
    model = _model("ring6-circuit")
    with pytest.raises(ValueError, match="observables.*GiB"):
        jm.evolve(model, _psi0(6), np.linspace(0, 1, 1000))
    jm.evolve(model, _psi0(6), np.linspace(0, 1, 1000), observables=_z0)  # reduced: fits
