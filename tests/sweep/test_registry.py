"""The observable registry: built-in observables against dense numpy/scipy references, transforms, registration."""

import itertools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.linalg
from reference import X, Y, Z, kron_all, lattice_distances, model_dense, partial_trace_keep, pauli_dense, site_op

import jaxmbl as jm
import jaxmbl.sweep._registry as R


# ----------------------------------------------------------------------------- references
def r_ref(E):
    s = np.diff(np.sort(E))
    return np.mean(np.minimum(s[1:], s[:-1]) / np.maximum(s[1:], s[:-1]))


def entropy_ref(psi, region, n):
    p = np.linalg.eigvalsh(partial_trace_keep(psi, list(region), n))
    p = p[p > 1e-15]
    return -np.sum(p * np.log(p))


def heisenberg_ref(model, n):
    """Dense H = sum_bonds S.S + sum_i h_i S^z_i (S = sigma/2), fields read from the PauliSum's Z terms."""
    h = 2 * np.asarray(model.H.coef)[-n:]
    H = sum(site_op(P, i, n) @ site_op(P, i + 1, n) for i in range(n - 1) for P in (X, Y, Z)) / 4
    H = H + sum(h[i] / 2 * site_op(Z, i, n) for i in range(n))
    sector = np.array([i for i in range(2**n) if bin(i).count("1") == n // 2])
    return H, sector


def point(lat, family="swingle", **params):
    return R.Point(0, family, {"sector": None, **params}, lat, jnp.float64)


def prepared(name, family, lat, **params):
    entry = R.lookup(name, family, "test")
    return entry.fn, (entry.prepare(point(lat, family), **params) if entry.prepare else params)


@pytest.fixture(scope="module")
def swingle():
    lat = jm.Lattice((5,))
    return lat, jm.sample_model(jr.key(3), lat, xi=1.5, strength=0.8)


@pytest.fixture(scope="module")
def heisenberg():
    lat = jm.Lattice((6,))
    return lat, R.FAMILIES["heisenberg"].build(
        jr.key(4), lat, {"W": 2.0, "J": 1.0, "Jz": None, "sector": None}, jnp.float64
    )


# ----------------------------------------------------------------------------- spectra
@pytest.mark.parametrize("window", [None, 0.5])
def test_r_tilde_swingle(swingle, window):
    lat, model = swingle
    _, _, E = model_dense(model)
    E = np.sort(E)
    if window is not None:
        count = round(window * len(E))
        E = E[(len(E) - count) // 2 :][:count]
    fn, kw = prepared("r_tilde", "swingle", lat, **({} if window is None else {"window": window}))
    np.testing.assert_allclose(fn(model, **kw), r_ref(E), atol=1e-10)


def test_r_tilde_heisenberg(heisenberg):
    lat, model = heisenberg
    H, sector = heisenberg_ref(model, 6)
    fn, kw = prepared("r_tilde", "heisenberg", lat)
    np.testing.assert_allclose(fn(model, **kw), r_ref(np.linalg.eigvalsh(H[np.ix_(sector, sector)])), atol=1e-10)


def test_gap_ratio_poisson_and_degenerate():
    E = np.sort(np.random.default_rng(0).uniform(size=20000))
    assert abs(float(jm.level_spacing_ratio(E, window=None)) - (2 * np.log(2) - 1)) < 0.01
    # Two zero gaps in a row have no ratio: skipped, not 0/0.
    np.testing.assert_allclose(jm.level_spacing_ratio(jnp.array([0.0, 1.0, 1.0, 1.0, 3.0]), window=None), 0.0)
    assert np.isnan(jm.level_spacing_ratio(jnp.zeros(4), window=None))


# ----------------------------------------------------------------------------- eigenstates
def test_eigenstate_entropy_swingle_sample(swingle):
    lat, model = swingle
    _, U, _ = model_dense(model)
    fn, kw = prepared("eigenstate_entropy", "swingle", lat, region=[0, 2], states=6, seed=7)
    picked = np.sort(np.random.default_rng(7).choice(32, 6, replace=False))
    assert kw["states"] == tuple(picked)
    S = [entropy_ref(U[:, n], (0, 2), 5) for n in picked]
    out = fn(model, **kw)
    np.testing.assert_allclose([out["mean"], out["max"]], [np.mean(S), np.max(S)], atol=1e-10)


def test_eigenstate_entropy_heisenberg_central(heisenberg):
    lat, model = heisenberg
    H, sector = heisenberg_ref(model, 6)
    _, V = np.linalg.eigh(H[np.ix_(sector, sector)])
    central = V[:, (20 - 4) // 2 :][:, :4]
    states = np.zeros((64, 4), complex)
    states[sector] = central
    S = [entropy_ref(states[:, k], (0, 1, 2), 6) for k in range(4)]
    fn, kw = prepared("eigenstate_entropy", "heisenberg", lat, states=4)
    out = fn(model, **kw)
    np.testing.assert_allclose([out["mean"], out["max"]], [np.mean(S), np.max(S)], atol=1e-9)


# ----------------------------------------------------------------------------- quenches
def neel_ref(n):
    return kron_all([np.eye(2)[r % 2] for r in range(n)]).ravel()


@pytest.mark.parametrize("initial", ["neel", "plus"])
def test_quench_entropy_swingle(swingle, initial):
    lat, model = swingle
    H, _, _ = model_dense(model)
    ts = [0.0, 0.7, 5.0, 40.0]
    psi0 = neel_ref(5) if initial == "neel" else np.full(32, 32**-0.5)
    S = [entropy_ref(scipy.linalg.expm(-1j * H * t) @ psi0, (0, 1), 5) for t in ts]
    fn, kw = prepared("quench_entropy", "swingle", lat, times=ts, initial=initial)
    np.testing.assert_allclose(fn(model, **kw), S, atol=1e-9)


def imbalance_ref(H, n, ts):
    psi0 = neel_ref(n)
    Zs = [np.real(np.diag(site_op(Z, r, n))) for r in range(n)]
    out = []
    for t in ts:
        p = np.abs(scipy.linalg.expm(-1j * H * t) @ psi0) ** 2
        out.append(np.mean([(-1) ** r * p @ Zs[r] for r in range(n)]))
    return out


def test_imbalance_swingle_and_heisenberg(swingle, heisenberg):
    ts = {"logspace": [-1, 2, 4]}
    lat, model = swingle
    fn, kw = prepared("imbalance", "swingle", lat, times=ts)
    np.testing.assert_allclose(
        fn(model, **kw), imbalance_ref(model_dense(model)[0], 5, np.logspace(-1, 2, 4)), atol=1e-9
    )
    lat, model = heisenberg
    fn, kw = prepared("imbalance", "heisenberg", lat, times=ts)
    np.testing.assert_allclose(
        fn(model, **kw), imbalance_ref(heisenberg_ref(model, 6)[0], 6, np.logspace(-1, 2, 4)), atol=1e-9
    )


def test_quench_entropy_heisenberg(heisenberg):
    lat, model = heisenberg
    H, _ = heisenberg_ref(model, 6)
    ts = [0.5, 3.0]
    S = [entropy_ref(scipy.linalg.expm(-1j * H * t) @ neel_ref(6), (0, 1, 2), 6) for t in ts]
    fn, kw = prepared("quench_entropy", "heisenberg", lat, times=ts)
    np.testing.assert_allclose(fn(model, **kw), S, atol=1e-9)


# ----------------------------------------------------------------------------- l-bits
def test_lbit_profile_against_pauli_decomposition():
    lat = jm.Lattice((2, 2))
    model = jm.sample_model(jr.key(5), lat, xi=1.0, strength=1.0)
    n = 4
    _, U, _ = model_dense(model)
    labels = list(itertools.product(range(4), repeat=n))
    strings = np.array([pauli_dense(lab) for lab in labels])
    W = np.zeros((n, n))
    for r in range(n):
        tau = U @ site_op(Z, r, n) @ U.conj().T
        c2 = np.abs(np.einsum("pij,ji->p", strings, tau) / 2**n) ** 2
        assert abs(c2.sum() - 1) < 1e-10
        W[r] = [sum(c for lab, c in zip(labels, c2) if lab[j] != 0) for j in range(n)]
    dist = lattice_distances((2, 2), False)
    values = np.unique(np.round(dist, 9))
    expected = [W[np.isclose(dist, d)].mean() for d in values]
    fn, kw = prepared("lbit_profile", "swingle", lat)
    np.testing.assert_allclose(fn(model, **kw), expected, atol=1e-10)
    coords = R.lookup("lbit_profile", "swingle", "t").coords(point(lat))
    np.testing.assert_allclose(coords["distance"], values)


# ----------------------------------------------------------------------------- transforms
CASES = [
    ("r_tilde", {}),
    ("eigenstate_entropy", {"states": 4}),
    ("quench_entropy", {"times": [0.5, 50.0], "region": [1, 3]}),
    ("imbalance", {"times": [1.0]}),
    ("lbit_profile", {}),
]


@pytest.mark.parametrize("name,params", CASES, ids=[c[0] for c in CASES])
def test_jit_vmap_equal_eager_loop(name, params):
    """jit(vmap(f)) over 3 realizations equals f called eagerly on each (so jit == eager and vmap == loop)."""
    lat = jm.Lattice((4,))
    fn, kw = prepared(name, "swingle", lat, **params)
    batch = jm.sample_models(jr.key(9), lat, 3, xi=1.0)
    got = jax.jit(jax.vmap(lambda m: fn(m, **kw)))(batch)
    for i in range(3):
        single = jax.tree_util.tree_map(lambda x: x[i], batch)
        jax.tree_util.tree_map(lambda g, e: np.testing.assert_allclose(g[i], e, atol=1e-12), got, fn(single, **kw))


# ----------------------------------------------------------------------------- parameters
@pytest.mark.parametrize(
    "name,params,match",
    [
        ("eigenstate_entropy", {"region": [0, 9]}, "region"),
        ("eigenstate_entropy", {"region": "left"}, "region"),
        ("eigenstate_entropy", {"states": 100}, "states"),
        ("eigenstate_entropy", {"alpha": 0}, "alpha"),
        ("quench_entropy", {"times": []}, "times"),
        ("quench_entropy", {"times": {"logspace": [0, 1]}}, "times.logspace"),
        ("quench_entropy", {"times": [1.0, float("nan")]}, "times"),
        ("quench_entropy", {"times": [1.0], "initial": "up"}, "initial"),
        ("r_tilde", {"window": 1.5}, "window"),
    ],
)
def test_prepare_rejects_bad_parameters(name, params, match):
    with pytest.raises(ValueError, match=match):
        prepared(name, "swingle", jm.Lattice((4,)), **params)


def test_lbit_profile_refuses_large_n():
    with pytest.raises(ValueError, match="N <= 10"):
        prepared("lbit_profile", "swingle", jm.Lattice((11,)))


# ----------------------------------------------------------------------------- registration
@pytest.fixture
def clean_registry():
    before = dict(R.OBSERVABLES)
    yield
    R.OBSERVABLES.clear()
    R.OBSERVABLES.update(before)


def test_register_and_lookup(clean_registry):
    @R.register_observable("test_mean_energy", families=["swingle"])
    def mean_energy(model, shift=0.0):
        return jnp.mean(jm.energies(model)) + shift

    assert R.lookup("test_mean_energy", "swingle", "x").fn is mean_energy
    assert "test_mean_energy" in R.observable_names()
    with pytest.raises(ValueError, match="not defined for family 'heisenberg'"):
        R.lookup("test_mean_energy", "heisenberg", "observables.e")
    with pytest.raises(ValueError, match="observables.e: unknown observable 'nope'"):
        R.lookup("nope", "swingle", "observables.e")

    def other(model):
        return 0.0

    with pytest.raises(ValueError, match="already registered"):
        R.register_observable("test_mean_energy", families=["swingle"])(other)
    R.register_observable("test_mean_energy", families=["swingle"], replace=True)(other)
    assert R.lookup("test_mean_energy", "swingle", "x").fn is other
    # Re-running the same definition (a notebook cell) is allowed.
    R.register_observable("test_mean_energy", families=["swingle"])(other)


def test_register_rejects_bad_arguments():
    with pytest.raises(ValueError, match="families: unknown family 'ising'"):
        R.register_observable("x", families=["ising"])
    with pytest.raises(ValueError, match="name must be"):
        R.register_observable("not a name")
