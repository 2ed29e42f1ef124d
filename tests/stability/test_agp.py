"""Variational AGP against dense numpy: the action, the exact full-range minimum and matrix elements,
nested commutators by dense least squares, solver agreement, agp_norm at small mu, transforms, errors."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._stability.agp import range_count, variational_agp


def _dense(P):
    return ref.paulisum_dense(np.asarray(P.paulis), np.asarray(P.coef))


def _problem(n, key=0, W=1.0, real=False):
    """Random-field Heisenberg H and a random 2-local dH (its even-Y strings only if ``real``: a real matrix)."""
    H = jm.random_field_heisenberg(jr.key(key), n, W=W)
    dH = jm.random_local_perturbation(jr.key(key + 100), n, k=2)
    if real:
        keep = np.nonzero((np.asarray(dH.paulis) == 2).sum(1) % 2 == 0)[0]
        dH = jm.PauliSum(np.asarray(dH.paulis)[keep], dH.coef[keep], n)
    return H, dH


def _dense_action(H, dH, A):
    h, v, a = _dense(H), _dense(dH), _dense(A)
    G = v + 1j * (a @ h - h @ a)
    return np.trace(G.conj().T @ G).real / len(h), G


def _exact_minimum(H, dH):
    E, U = np.linalg.eigh(_dense(H))
    Vt = U.conj().T @ _dense(dH) @ U
    return E, U, Vt, np.sum(np.abs(np.diag(Vt)) ** 2) / len(E)


def test_single_spin_analytic():
    # H(lambda) = Z + lambda X: A = Y/2 removes dH = X entirely (<0|A|1> = i <0|X|1>/(E_1 - E_0) = -i/2)
    res = variational_agp(jm.PauliSum.from_list([("Z", 1.0)]), jm.PauliSum.from_list([("X", 1.0)]), order=1)
    assert res.A.to_list() == [("Y", pytest.approx(0.5))]
    assert float(res.action) == pytest.approx(0.0, abs=1e-28) and float(res.action_zero) == 1.0


@pytest.mark.parametrize(
    ("n", "ansatz", "order", "real"), [(7, "range", 3, False), (8, "range", 2, True), (5, "nested", 2, False)]
)
def test_action_and_residual_match_dense(n, ansatz, order, real):
    H, dH = _problem(n, key=n, real=real)
    res = variational_agp(H, dH, ansatz=ansatz, order=order)
    assert not jnp.iscomplexobj(res.A.coef)  # Hermitian A
    S, G = _dense_action(H, dH, res.A)
    np.testing.assert_allclose(float(res.action), S, rtol=1e-10)
    np.testing.assert_allclose(_dense(res.residual), G, atol=1e-10)
    v = _dense(dH)
    np.testing.assert_allclose(float(res.action_zero), np.trace(v @ v).real / 2**n, rtol=1e-12)
    assert float(res.action) < float(res.action_zero)
    np.testing.assert_allclose(float(jnp.sum(res.site_action)), float(res.action), rtol=1e-10)  # dH traceless
    # the action of any other A in the ansatz is larger (it is the minimum)
    other = jm.PauliSum(res.A.paulis, res.A.coef * 1.01, n)
    assert _dense_action(H, dH, other)[0] > S


def _check_full_range(n, real):
    H, dH = _problem(n, key=3, real=real)
    E, U, Vt, s_min = _exact_minimum(H, dH)
    assert np.min(np.diff(E)) > 1e-4  # non-degenerate
    res = variational_agp(H, dH, order=n)
    np.testing.assert_allclose(float(res.action), s_min, rtol=1e-9)
    At = U.conj().T @ _dense(res.A) @ U
    w = E[None, :] - E[:, None]  # E_n - E_m at [m, n]
    gapped = np.abs(w) > 0.05
    np.testing.assert_allclose(At[gapped], 1j * Vt[gapped] / w[gapped], atol=1e-8)
    assert res.A.n_terms == (range_count(n, n, odd_y=True) if real else 4**n - 1)
    if real:  # the even-Y strings add nothing for real H, dH: the same minimum without the restriction
        full = variational_agp(H, dH, order=n, odd_y=False)
        np.testing.assert_allclose(float(full.action), s_min, rtol=1e-9)
        assert full.A.n_terms == 4**n - 1
        np.testing.assert_allclose(float(full.A.frobenius_norm()), float(res.A.frobenius_norm()), rtol=1e-8)


def test_full_range_is_the_exact_minimum_and_agp():
    _check_full_range(5, real=True)


@pytest.mark.slow
def test_full_range_is_exact_for_complex_dh():
    _check_full_range(6, real=False)


def test_complex_hamiltonian_keeps_even_y_strings():
    # a Dzyaloshinskii-Moriya term XY - YX makes H complex: odd_y defaults to False and stays exact
    n = 4
    H, dH = _problem(n, key=5)
    dm = jm.PauliSum.from_terms(n, [("XY", [1, 2], 0.4), ("YX", [1, 2], -0.4)])
    H = H + dm
    res = variational_agp(H, dH, order=n)
    np.testing.assert_allclose(float(res.action), _exact_minimum(H, dH)[3], rtol=1e-9)
    with pytest.raises(jm.JaxmblError, match="odd_y=True"):
        variational_agp(H, dH, order=2, odd_y=True)


def test_action_decreases_with_range():
    n = 5
    H, dH = _problem(n, key=4, W=2.0, real=True)
    actions = [float(variational_agp(H, dH, order=R).action) for R in range(1, n + 1)]
    assert all(b < a for a, b in zip(actions, actions[1:])), actions
    np.testing.assert_allclose(actions[-1], _exact_minimum(H, dH)[3], rtol=1e-9)


@pytest.mark.slow
def test_solvers_agree():
    H, dH = _problem(6, key=7, real=True)
    exact = variational_agp(H, dH, order=3)
    cg = variational_agp(H, dH, order=3, solver="cg", steps=5000, tol=1e-12)
    lbfgs = variational_agp(H, dH, order=3, solver="optax", steps=300)
    np.testing.assert_allclose(float(cg.action), float(exact.action), rtol=1e-9)
    np.testing.assert_allclose(float(lbfgs.action), float(exact.action), rtol=1e-6)
    hist = np.asarray(lbfgs.history)
    assert hist.shape == (300,) and hist[0] == pytest.approx(float(exact.action_zero))
    assert np.all(np.diff(np.asarray(cg.history)[np.isfinite(cg.history)]) <= 1e-12)  # CGLS: monotone
    adam = optax.adam(optax.exponential_decay(0.05, 200, 0.5))
    rough = variational_agp(H, dH, order=3, solver="optax", optimizer=adam, steps=1500)
    np.testing.assert_allclose(float(rough.action), float(exact.action), rtol=1e-3)
    nested = variational_agp(H, dH, ansatz="nested", order=3)
    nested_opt = variational_agp(H, dH, ansatz="nested", order=3, solver="optax", steps=50)
    np.testing.assert_allclose(float(nested_opt.action), float(nested.action), rtol=1e-8)


def _dense_nested(H, dH, order):
    """Dense reference: A = i sum_k alpha_k ad_H^{2k-1} dH by least squares on normalized columns."""
    h, v = _dense(H), _dense(dH)
    ad = lambda x: h @ x - x @ h  # noqa: E731
    ops, x = [], v
    for _ in range(order):
        x = ad(x)
        ops.append(1j * x)  # i ad^{2k-1} dH (Hermitian)
        x = ad(x)
    cols = np.stack([(1j * (o @ h - h @ o)).ravel() for o in ops], axis=1)
    scale = np.linalg.norm(cols, axis=0)
    alpha = np.linalg.lstsq(cols / scale, -v.ravel(), rcond=None)[0] / scale
    G = v + (cols @ alpha).reshape(v.shape)
    return alpha.real, np.trace(G.conj().T @ G).real / len(h), sum(a * o for a, o in zip(alpha, ops))


@pytest.mark.parametrize("order", [1, 2, 3])
def test_nested_against_dense_least_squares(order):
    H, dH = _problem(5, key=11)
    res = variational_agp(H, dH, ansatz="nested", order=order)
    alpha, S, A = _dense_nested(H, dH, order)
    np.testing.assert_allclose(float(res.action), S, rtol=1e-9)
    np.testing.assert_allclose(np.asarray(res.alpha), alpha, rtol=1e-6)
    np.testing.assert_allclose(_dense(res.A), A, atol=1e-9)


@pytest.mark.slow
def test_nested_decreases_and_stays_finite_at_large_order():
    H, dH = _problem(5, key=12)
    actions = [float(variational_agp(H, dH, ansatz="nested", order=k).action) for k in (1, 2, 4, 7, 11)]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(actions, actions[1:])), actions
    assert np.all(np.isfinite(actions)) and actions[-1] >= _exact_minimum(H, dH)[3] * (1 - 1e-9)


def test_agp_norm_at_small_mu():
    """||A||^2 of the full-range solution = (1/D) sum_{m != n} |V_mn|^2 / w^2 = lim_{mu -> 0} agp_norm.

    Per pair agp_norm's weight is (1/w^2) / (1 + mu^2/w^2)^2, so at mu = 1e-3 * min gap the two agree
    to 2e-6 relative; the test allows 1e-5.
    """
    n = 5
    H, dH = _problem(n, key=13, real=True)
    E = _exact_minimum(H, dH)[0]
    res = variational_agp(H, dH, order=n)
    norm_sq = float(res.A.frobenius_norm())
    mu = 1e-3 * float(np.min(np.diff(E)))
    np.testing.assert_allclose(float(jm.agp_norm(H, dH, mu=mu)), norm_sq, rtol=1e-5)
    assert float(jm.agp_norm(H, dH, mu=1e3 * mu)) < float(jm.agp_norm(H, dH, mu=mu))


def test_jit_equals_eager():
    H, dH = _problem(5, key=14)
    lh, ld = np.asarray(H.paulis), np.asarray(dH.paulis)
    for kw in (dict(order=3), dict(order=3, solver="cg"), dict(ansatz="nested", order=2)):
        f = lambda hc, dc: variational_agp(jm.PauliSum(lh, hc, 5), jm.PauliSum(ld, dc, 5), **kw)  # noqa: B023, E731
        eager, jitted = f(H.coef, dH.coef), jax.jit(f)(H.coef, dH.coef)
        np.testing.assert_allclose(float(jitted.action), float(eager.action), rtol=1e-12)
        np.testing.assert_allclose(np.asarray(jitted.A.coef), np.asarray(eager.A.coef), atol=1e-12)


def test_vmap_over_realizations_equals_loop():
    n, keys = 6, jr.split(jr.key(15), 3)
    Hs = [jm.random_field_heisenberg(k, n, W=3.0) for k in keys]
    dH = jm.PauliSum(Hs[0].paulis[-n:], jnp.ones(n) / 2, n)  # uniform field derivative Z/2 on each site
    dH = dH + jm.PauliSum.from_terms(n, [("XX", [0, 1], 0.3)])  # plus a bond term, so the AGP is not trivial
    labels = np.asarray(Hs[0].paulis)
    coefs = jnp.stack([H.coef for H in Hs])
    for solver in ("lstsq", "cg"):
        f = lambda c: variational_agp(jm.PauliSum(labels, c, n), dH, order=3, solver=solver, tol=1e-12)  # noqa: B023, E731
        batched = jax.vmap(f)(coefs)
        for i, H in enumerate(Hs):
            np.testing.assert_allclose(float(batched.action[i]), float(f(H.coef).action), rtol=1e-10)
            np.testing.assert_allclose(np.asarray(batched.A.coef[i]), np.asarray(f(H.coef).A.coef), atol=1e-8)


@pytest.mark.slow
def test_n64():
    n = 64
    H = jm.random_field_heisenberg(jr.key(0), n, W=2.0)
    dH = jm.PauliSum(H.paulis[-n:], H.coef[-n:] / 2.0, n)  # d/dW of the fields: sum_i (h_i / W) Z_i / 2
    np.testing.assert_allclose(
        float(variational_agp(H, dH, order=2, solver="cg", tol=1e-12).action),
        float(variational_agp(H, dH, order=2).action),
        rtol=1e-9,
    )
    exact = variational_agp(H, dH, order=3, solver="cg", tol=1e-12)
    assert 0 < float(exact.action) < float(exact.action_zero)
    assert exact.site_action.shape == (n,)
    np.testing.assert_allclose(float(jnp.sum(exact.site_action)), float(exact.action), rtol=1e-10)
    nested = variational_agp(H, dH, ansatz="nested", order=2)
    assert float(nested.action) < float(nested.action_zero) and nested.alpha.shape == (2,)


def test_identity_in_dh_is_irreducible():
    H, dH = _problem(4, key=16)
    shifted = dH + jm.PauliSum.from_list([("IIII", 0.7)])
    a, b = variational_agp(H, dH, order=2), variational_agp(H, shifted, order=2)
    np.testing.assert_allclose(float(b.action), float(a.action) + 0.49, rtol=1e-10)
    np.testing.assert_allclose(float(jnp.sum(b.site_action)), float(a.action), rtol=1e-10)


def test_errors(monkeypatch):
    H, dH = _problem(4, key=17)
    err = jm.JaxmblError
    with pytest.raises(err, match="H must be Hermitian"):
        variational_agp(H * (1 + 0.5j), dH)
    with pytest.raises(err, match="dH must be Hermitian"):
        variational_agp(H, dH * 1j)
    with pytest.raises(err, match="sites"):
        variational_agp(H, jm.PauliSum.from_list([("ZZZ", 1.0)]))
    with pytest.raises(err, match="order .the range R"):
        variational_agp(H, dH, order=0)
    with pytest.raises(err, match="order .the number l"):
        variational_agp(H, dH, ansatz="nested", order=0)
    with pytest.raises(err, match="ansatz"):
        variational_agp(H, dH, ansatz="krylov")
    with pytest.raises(err, match="solver"):
        variational_agp(H, dH, ansatz="nested", solver="cg")
    with pytest.raises(err, match="steps"):
        variational_agp(H, dH, solver="optax", steps=0)
    with pytest.raises(err, match="tol"):
        variational_agp(H, dH, solver="cg", tol=0.0)
    with pytest.raises(TypeError, match="optimizer"):
        variational_agp(H, dH, solver="optax", optimizer="adam")
    with pytest.raises(TypeError, match="PauliSum"):
        variational_agp(_dense(H), dH)
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "0.01")
    with pytest.raises(err, match="GiB.*solver='cg'"):
        variational_agp(*_problem(8, key=18), order=4)
    with pytest.raises(err, match="GiB"):
        variational_agp(*_problem(8, key=19), ansatz="nested", order=6)
