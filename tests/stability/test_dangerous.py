"""The most dangerous local perturbation: string basis, measures, gradients, search, errors.

References: a brute-force enumeration of all 4^N Pauli strings (the basis); numpy krons of the
strings, the dense ``U`` and ``E(n)`` of tests/reference.py and ``numpy.linalg.eigh`` (the three
measures); central finite differences (gradients in theta).
"""

import itertools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._stability.dangerous import _objective, _susceptibility_data, most_dangerous_perturbation
from jaxmbl._stability.dangerous_measures import Spec, dense_data, local_pauli_basis, perturbation_measure

N = 6
LAT = jm.Lattice((N,))
MODEL = jax.jit(jm.sample_model, static_argnums=1)(jr.key(3), LAT)
STATES = np.array([1, 9, 22, 40, 57])
G = 0.3


def _window(D, frac=0.5):
    count = max(1, int(round(frac * D)))
    return (D - count) // 2, count


def _random_v(key, B, scale=1.0):
    c = np.asarray(jr.normal(key, (B.n_terms,)))
    return jm.PauliSum(B.paulis, jnp.asarray(scale * c / np.linalg.norm(c)), N)


# ----------------------------------------------------------------------------- the basis
def _brute_force(n, k, span, periodic):
    out = set()
    for labels in itertools.product(range(4), repeat=n):
        supp = [r for r, p in enumerate(labels) if p]
        if not 1 <= len(supp) <= k:
            continue
        starts = range(n) if periodic else range(n - span + 1)
        windows = [{(s + j) % n for j in range(span)} for s in starts]
        if any(set(supp) <= w for w in windows):
            out.add(labels)
    return out


@pytest.mark.parametrize("k, span, pbc", [(1, 1, False), (2, 2, False), (2, 3, False), (3, 3, False), (2, 3, True)])
def test_basis_matches_brute_force(k, span, pbc):
    B = local_pauli_basis(jm.Lattice((N,), pbc=pbc), k=k, range=span)
    labels = [tuple(int(p) for p in row) for row in np.asarray(B.paulis)]
    assert len(set(labels)) == len(labels)  # no duplicates
    assert set(labels) == _brute_force(N, k, span, pbc)
    np.testing.assert_array_equal(np.asarray(B.coef), 1.0)


def test_basis_count_formula_and_int_lattice():
    assert local_pauli_basis(10, k=2).n_terms == 3 * 10 + 9 * 9
    assert local_pauli_basis(10, k=2, range=3).n_terms == 3 * 10 + 9 * (9 + 8)
    assert local_pauli_basis(N, k=2).to_list() == local_pauli_basis(LAT, k=2).to_list()


# ----------------------------------------------------------------------------- measures vs numpy
def _dense_reference(H_dense, V, measure, window=0.5):
    A = H_dense + G * ref.paulisum_dense(np.asarray(V.paulis), np.asarray(V.coef))
    E, W = np.linalg.eigh(A)
    start, count = _window(len(E), window)
    if measure == "gap_ratio":
        d = np.diff(E[start : start + count])
        return np.mean(np.minimum(d[:-1], d[1:]) / np.maximum(d[:-1], d[1:]))
    S = []
    for psi in W[:, start : start + count].T:
        p = np.linalg.eigvalsh(ref.partial_trace_keep(psi, list(range(N // 2)), N))
        p = p[p > 1e-14]
        S.append(-np.sum(p * np.log(p)))
    return np.mean(S)


def _chi_reference(V, mu, states):
    _, U, E = ref.model_dense(MODEL)
    Vt = U.conj().T @ ref.paulisum_dense(np.asarray(V.paulis), np.asarray(V.coef)) @ U
    w = E[:, None] - E[None, states]
    return np.sum(np.abs(Vt[:, states]) ** 2 * w**2 / (w**2 + mu**2) ** 2, axis=0)


@pytest.mark.parametrize("measure", ["gap_ratio", "entanglement"])
def test_dense_measures_match_numpy(measure):
    V = _random_v(jr.key(0), local_pauli_basis(N, k=2), scale=2.0)
    H_dense, _, _ = ref.model_dense(MODEL)
    got = perturbation_measure(MODEL, V, measure=measure, g=G)
    np.testing.assert_allclose(float(got), _dense_reference(H_dense, V, measure), rtol=1e-9)
    H = jm.random_field_heisenberg(jr.key(1), N, W=2.0)  # a PauliSum H (its full spectrum mixes sectors)
    got = perturbation_measure(H, V, measure=measure, g=G, window=None)
    np.testing.assert_allclose(float(got), _dense_reference(np.asarray(H.dense()), V, measure, 1.0), rtol=1e-9)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_susceptibility_gram_and_direct_match_numpy():
    V = _random_v(jr.key(0), local_pauli_basis(N, k=2, range=3), scale=np.sqrt(N))
    mu = 0.05
    want = np.mean(np.log(_chi_reference(V, mu, STATES)))
    got = perturbation_measure(MODEL, V, measure="susceptibility", mu=mu, states=STATES)
    np.testing.assert_allclose(float(got), want, rtol=1e-10)
    res = most_dangerous_perturbation(jr.key(0), MODEL, k=2, range=3, mu=mu, states=STATES, steps=3, n_random=2)
    chi = _chi_reference(res.V, mu, STATES)  # the reported value is the measure of the returned PauliSum
    np.testing.assert_allclose(res.value, np.mean(np.log(chi)), rtol=1e-10)


@pytest.mark.slow
@pytest.mark.parametrize(
    "measure",
    [
        "susceptibility",
        pytest.param("gap_ratio", marks=pytest.mark.slow),
        pytest.param("entanglement", marks=pytest.mark.slow),
    ],
)
def test_measure_jit_equals_eager_and_vmap_equals_loop(measure):
    n = 4  # eager (op by op) runs are slow: the smallest chain with a half-chain cut and a few gaps
    model = jax.jit(jm.sample_model, static_argnums=1)(jr.key(0), n)
    B = local_pauli_basis(n, k=2)
    Vs = [jm.PauliSum(B.paulis, jr.normal(jr.key(i), (B.n_terms,)) / 4, n) for i in range(3)]
    kw = dict(states=[6]) if measure == "susceptibility" else dict(g=G)
    jitted = perturbation_measure(model, Vs[0], measure=measure, **kw)
    with jax.disable_jit():
        eager = perturbation_measure(model, Vs[0], measure=measure, **kw)
    np.testing.assert_allclose(float(jitted), float(eager), rtol=1e-10)
    coefs = jnp.stack([V.coef for V in Vs])
    batched = jax.vmap(lambda c: perturbation_measure(model, jm.PauliSum(B.paulis, c, n), measure=measure, **kw))
    loop = [float(perturbation_measure(model, V, measure=measure, **kw)) for V in Vs]
    np.testing.assert_allclose(np.asarray(batched(coefs)), loop, rtol=1e-10)


# ----------------------------------------------------------------------------- gradients
def _setup(measure, H=MODEL, route="gram", k=2):
    labels = np.asarray(local_pauli_basis(N, k=k).paulis)
    scale = np.sqrt(N)
    if measure == "susceptibility":
        return _susceptibility_data(H, labels, scale, 0.05, jnp.asarray(STATES), route), Spec(measure, route=route)
    data, spec = dense_data(H, measure, G, 0.5)
    data.update(basis=jm.PauliSum(jnp.asarray(labels), jnp.ones(len(labels)), N), scale=scale)
    return data, spec


@pytest.mark.parametrize(
    "measure, route",
    [("susceptibility", "gram"), ("susceptibility", "direct"), ("gap_ratio", ""), ("entanglement", "")],
)
def test_gradient_matches_finite_differences(measure, route):
    data, spec = _setup(measure, route=route or "gram")
    f = jax.jit(lambda t: _objective(t, data, spec))
    M = data["gram"].shape[-1] if "gram" in data else data["basis"].n_terms
    theta = jr.normal(jr.key(5), (M,))
    grad = jax.jit(jax.grad(lambda t: _objective(t, data, spec)))(theta)
    assert np.all(np.isfinite(np.asarray(grad)))
    np.testing.assert_allclose(float(jnp.dot(grad, theta)), 0.0, atol=1e-9)  # scale invariance of theta / |theta|
    eps = 1e-5
    for i in range(3):
        d = jr.normal(jr.key(10 + i), (M,))
        fd = (float(f(theta + eps * d)) - float(f(theta - eps * d))) / (2 * eps)
        np.testing.assert_allclose(float(jnp.dot(grad, d)), fd, rtol=2e-5, atol=1e-7)


def _xxz_start(labels, seed=0):
    """theta on (XX + YY) and ZZ bonds: V keeps total S^z and the spin flip, so levels m, -m stay degenerate."""
    rng = np.random.default_rng(seed)
    theta = np.zeros(len(labels))
    for b in range(N - 1):
        a, z = rng.normal(size=2)
        for p, c in ((1, a), (2, a), (3, z)):
            row = np.zeros(N, np.int8)
            row[[b, b + 1]] = p
            theta[np.flatnonzero((labels == row).all(1))] = c
    return theta


def test_gradients_finite_at_exact_degeneracies():
    H = jm.random_field_heisenberg(jr.key(0), N, W=0.0, Jz=0.6)  # clean XXZ: U(1) x spin flip
    labels = np.asarray(local_pauli_basis(N, k=2).paulis)
    theta = _xxz_start(labels)
    c = theta / np.linalg.norm(theta)
    E = np.linalg.eigvalsh(np.asarray(H.dense()) + G * np.sqrt(N) * ref.paulisum_dense(labels, c))
    assert np.sum(np.diff(E) < 1e-12) >= 20  # many exactly degenerate pairs
    for measure in ("gap_ratio", "entanglement"):
        data, spec = _setup(measure, H=H)
        f = jax.jit(lambda t: _objective(t, data, spec))
        grad = jax.grad(lambda t: _objective(t, data, spec))(jnp.asarray(theta))
        assert np.all(np.isfinite(np.asarray(grad))) and 0 < float(jnp.max(jnp.abs(grad))) < 1e6
        if measure == "gap_ratio":  # smooth along directions that keep the degeneracies
            d = _xxz_start(labels, seed=1)
            fd = (float(f(theta + 1e-5 * d)) - float(f(theta - 1e-5 * d))) / 2e-5
            assert abs(fd) > 1e-3
            np.testing.assert_allclose(float(jnp.dot(grad, d)), fd, rtol=1e-4, atol=1e-8)
    # A Swingle model with E(n) = number of occupied l-bits: binomially degenerate levels.
    h0 = jm.lbit_hamiltonian(N, [((r,), 1.0) for r in range(N)])
    degenerate = jm.SwingleModel(lattice=LAT, h0=h0, U=MODEL.U)
    data, spec = _setup("susceptibility", H=degenerate)
    grad = jax.grad(lambda t: _objective(t, data, spec))(jr.normal(jr.key(0), (len(labels),)))
    assert np.all(np.isfinite(np.asarray(grad)))


# ----------------------------------------------------------------------------- the search
def test_optimized_beats_random_and_reports_content():
    res = most_dangerous_perturbation(jr.key(1), MODEL, steps=40, n_random=16)
    assert res.value > res.random_mean + 3 * res.random_std and res.value > res.random_values.max()
    assert res.value >= res.history.max() - 1e-12 and len(res.history) == 41
    np.testing.assert_allclose(res.log_ratio, res.value - np.log(np.mean(np.exp(res.random_values))), rtol=1e-12)
    np.testing.assert_allclose(float(res.V.frobenius_norm()), N * 1.0**2, rtol=1e-12)  # Tr V^2 / 2^N = N norm^2
    np.testing.assert_allclose(np.linalg.norm(res.coefficients), 1.0, rtol=1e-12)
    for part in ("by_weight", "by_range", "by_type"):
        np.testing.assert_allclose(sum(res.content[part].values()), 1.0, rtol=1e-12)
    np.testing.assert_allclose(res.content["by_site"].sum(), 1.0, rtol=1e-12)
    mags = [abs(c) for _, c in res.top_strings]
    assert mags == sorted(mags, reverse=True) and np.isclose(mags[0], np.sqrt(N) * np.abs(res.coefficients).max())
    assert "adam" in res.optimizer and res.settings["route"] == "gram" and res.holdout is None  # D = 64 states: all


def test_gap_ratio_search_beats_random():
    res = most_dangerous_perturbation(jr.key(2), MODEL, measure="gap_ratio", g=G, k=2, steps=12, n_random=6)
    assert res.value > res.random_values.max() and res.ratio > 1
    want = (res.value - res.baseline) / (res.random_mean - res.baseline)
    np.testing.assert_allclose(res.ratio, want, rtol=1e-12)


@pytest.mark.slow
def test_deterministic_given_key_and_custom_optimizer():
    kw = dict(k=2, range=3, steps=5, n_random=3, n_states=16, optimizer=optax.sgd(0.1))
    a, b = (most_dangerous_perturbation(jr.key(4), MODEL, **kw) for _ in range(2))
    for field in ("history", "coefficients", "random_values"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    np.testing.assert_array_equal(a.settings["states"], b.settings["states"])
    np.testing.assert_array_equal(a.settings["holdout_states"], b.settings["holdout_states"])
    assert not set(a.settings["states"].tolist()) & set(a.settings["holdout_states"].tolist())
    np.testing.assert_array_equal(a.key_data, np.asarray(jr.key_data(jr.key(4))))
    c = most_dangerous_perturbation(jr.key(5), MODEL, **kw)
    assert not np.array_equal(a.history, c.history)
    direct = most_dangerous_perturbation(jr.key(4), MODEL, route="direct", **kw)  # both routes are exact
    np.testing.assert_allclose(direct.history, a.history, rtol=1e-10)


def test_init_from_paulisum():
    V = jm.PauliSum.from_terms(N, [("XZ", [2, 3], 2.0), ("Y", [0], -1.0), ("XZ", [2, 3], 1.0)])  # combined: 3 XZ
    res = most_dangerous_perturbation(jr.key(0), MODEL, init=V, steps=1, n_random=2, states=STATES)
    V_unit = jm.PauliSum.from_terms(N, [("XZ", [2, 3], 3.0), ("Y", [0], -1.0)]) * float(np.sqrt(N / 10))
    want = perturbation_measure(MODEL, V_unit, states=STATES, mu=res.settings["mu"])
    np.testing.assert_allclose(res.value_init, float(want), rtol=1e-10)


# ----------------------------------------------------------------------------- errors
def test_errors():
    with pytest.raises(jm.JaxmblError, match="identity component.*drop the identity"):
        most_dangerous_perturbation(jr.key(0), MODEL, init=jm.PauliSum.from_list([("IIIIII", 1.0), ("XIIIII", 1.0)]))
    with pytest.raises(jm.JaxmblError, match="X0 Z3.*outside the family k=2, range=2.*range="):
        most_dangerous_perturbation(jr.key(0), MODEL, init=jm.PauliSum.from_terms(N, [("XZ", [0, 3], 1.0)]))
    with pytest.raises(jm.JaxmblError, match="k must be"):
        most_dangerous_perturbation(jr.key(0), MODEL, k=0)
    with pytest.raises(jm.JaxmblError, match="range must be an integer >= 1"):
        most_dangerous_perturbation(jr.key(0), MODEL, range=0)
    with pytest.raises(jm.JaxmblError, match="range=1 < k=2.*range >= 2"):
        most_dangerous_perturbation(jr.key(0), MODEL, k=2, range=1)
    with pytest.raises(jm.JaxmblError, match="unknown measure='otoc'"):
        most_dangerous_perturbation(jr.key(0), MODEL, measure="otoc")
    with pytest.raises(jm.JaxmblError, match="needs the coupling g"):
        most_dangerous_perturbation(jr.key(0), MODEL, measure="gap_ratio")
    with pytest.raises(jm.JaxmblError, match="drop g="):
        most_dangerous_perturbation(jr.key(0), MODEL, g=0.1)
    with pytest.raises(jm.JaxmblError, match="PauliSum H use"):
        most_dangerous_perturbation(jr.key(0), jm.random_field_heisenberg(jr.key(0), N, W=1.0))
    with pytest.raises(jm.JaxmblError, match="chain"):
        local_pauli_basis(jm.Lattice((2, 3)), k=2)
    with pytest.raises(jm.JaxmblError, match="optimizer must be"):
        most_dangerous_perturbation(jr.key(0), MODEL, optimizer="adam")
    big = jm.sample_model(jr.key(0), 13)
    with pytest.raises(jm.JaxmblError, match=r"n_sites=13 needs about \d.* GiB"):
        most_dangerous_perturbation(jr.key(0), big, measure="entanglement", g=0.1)
