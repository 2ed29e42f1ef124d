"""Quasi-adiabatic generator (paper §IV) against mpmath filters and dense numpy/scipy references.

References used here: the filter and its time transform in mpmath / numpy quadrature; eigenvector
derivatives by finite differences of ``numpy.linalg.eigh``; ``scipy.linalg.expm(-isK)`` and the
Pauli-string K of the paper's family H(s) = e^{-isK} H0 e^{isK} (eq. 4.27).
"""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import mpmath
import numpy as np
import pytest
import reference as ref
import scipy.integrate
import scipy.linalg

import jaxmbl as jm
from jaxmbl._stability.adiabatic import filter_ft, filter_time, quasi_adiabatic_generator, stability_sensitivity


# ----------------------------------------------------------------------------- references
def _bump_mp(x):
    x = mpmath.mpf(x)
    return mpmath.e * mpmath.exp(-1 / (1 - x * x)) if abs(x) < 1 else mpmath.mpf(0)


def _filter_mp(w, gap):
    w = mpmath.mpf(w)
    return mpmath.mpf(0) if w == 0 else -(1 - _bump_mp(w / gap)) / w


def filter_ref(w, gap):
    return np.vectorize(lambda x: float(_filter_mp(float(x), gap)))(np.asarray(w, dtype=float))


def f_mp(tau):
    """``1/2 - (1/pi) int_0^1 b(x) sin(x tau)/x dx`` by mpmath quadrature (tau > 0)."""
    pieces = mpmath.linspace(0, 1, int(tau) // 2 + 3)
    return float(mpmath.mpf(1) / 2 - mpmath.quad(lambda x: _bump_mp(x) * mpmath.sin(x * tau) / x, pieces) / mpmath.pi)


@functools.cache
def _f_grid(t_min, stop=260.0, step=0.1):
    """f(tau) on a tau grid by Simpson's rule in x (h = 5e-5); |f(260)| ~ 1e-9."""
    x = np.linspace(0, 1, 20001)
    xs = np.where(x < 1, x, 0)
    b = np.where(x < 1, np.exp(1 - 1 / (1 - xs**2)), 0)
    taus = np.arange(t_min, stop, step)
    f = [
        0.5 - scipy.integrate.simpson(b * tau[:, None] * np.sinc(np.outer(tau, x) / np.pi), x=x, axis=-1) / np.pi
        for tau in np.array_split(taus, 40)
    ]
    return taus, np.concatenate(f)


def tail_ref(t_max):
    """``int_{t_max}^inf |f(tau)| dtau`` (trapezoid in tau on the grid of :func:`_f_grid`)."""
    taus, f = _f_grid(20.0)
    keep = taus >= t_max - 1e-9
    return float(np.trapezoid(np.abs(f[keep]), taus[keep]))


def herm(rng, d, scale=1.0):
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return scale * (a + a.conj().T) / 2


def fd_eigvecs(H_np, s0, h):
    """Central-difference d psi_n/ds of numpy eigh, phases fixed by <psi_n(s0)|psi_n(s0 +- h)> > 0."""
    _, V0 = np.linalg.eigh(H_np(s0))

    def fixed(s):
        V = np.linalg.eigh(H_np(s))[1]
        ov = np.einsum("in,in->n", V0.conj(), V)
        return V * (ov.conj() / np.abs(ov))[None, :]

    return V0, (fixed(s0 + h) - fixed(s0 - h)) / (2 * h)


def min_gap(E):
    return np.diff(np.sort(E)).min()


# ----------------------------------------------------------------------------- families
RNG = np.random.default_rng(7)
D_A = 16
Q_A = ref.haar_unitary(RNG, D_A)
H_A = Q_A @ np.diag(0.7 * np.arange(D_A) + RNG.uniform(0, 0.2, D_A)) @ Q_A.conj().T
B_A, C_A = herm(RNG, D_A, 0.15), herm(RNG, D_A, 0.1)


def family_a_np(s):
    """Nondegenerate random H(s) (gaps >~ 0.3) with a nonlinear s dependence."""
    return H_A + np.sin(s) * B_A + s**2 * C_A


def family_a(s):
    return jnp.asarray(H_A) + jnp.sin(s) * jnp.asarray(B_A) + s**2 * jnp.asarray(C_A)


LAT4 = jm.Lattice((4,))
K4 = jm.random_generator(jr.key(5), LAT4, strength=1.0)
H0_4 = jm.sample_lbit_hamiltonian(jr.key(6), LAT4, xi=1.0)


def family_k(s):
    """H(s) = e^{-isK} H0 e^{isK} (eq. 4.27) as a SwingleModel."""
    return jm.SwingleModel(LAT4, H0_4, dataclasses.replace(K4, coef2=s * K4.coef2, coef1=s * K4.coef1))


@functools.cache
def family_k_dense():
    K = ref.paulisum_dense(*K4.to_paulis())
    E = np.real(np.diag(ref.h0_dense(4, ref.h0_terms(H0_4))))
    return K, E


def family_k_matrix(s):
    """The same family as a dense builder, with jax's expm (eigh route)."""
    K, E = family_k_dense()
    V = jax.scipy.linalg.expm(-1j * s * jnp.asarray(K))
    return (V * jnp.asarray(E)[None, :]) @ V.conj().T


# ----------------------------------------------------------------------------- the filter
def test_filter_matches_mpmath_and_its_defining_properties():
    gap = 0.7
    w = np.array([0.0, 1e-9, -3e-6, 6.9e-4, 7.1e-4, 0.05, -0.3, 0.69, -0.699999, 0.7, 0.71, -1.5, 40.0])
    got = np.asarray(filter_ft(w, gap))
    want = filter_ref(w, gap)
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-300)
    far = np.abs(w) >= gap
    np.testing.assert_allclose(got[far], -1 / w[far], rtol=1e-15)
    assert got[0] == 0.0
    # Derivative against mpmath's numerical derivative, including at 0 (= -1/gap^2) and at the branch switches.
    grad = jax.vmap(jax.grad(lambda x: filter_ft(x, gap)))(jnp.asarray(w[:-1]))
    want_d = [float(mpmath.diff(lambda x: _filter_mp(x, gap), float(x), h=mpmath.mpf("1e-15"))) for x in w[:-1]]
    np.testing.assert_allclose(np.asarray(grad), want_d, rtol=1e-8, atol=1e-12)
    assert abs(float(grad[0]) + 1 / gap**2) < 1e-12
    # |F~| <= 1.1/gap (the bound quoted for stability_sensitivity).
    dense = np.asarray(filter_ft(np.linspace(-3, 3, 6001), 1.0))
    assert np.abs(dense).max() <= 1.0997 + 1e-4


def test_filter_time_matches_mpmath():
    gap = 2.0
    ts = np.array([1e-4, 0.3, 1.7, 9.0, 40.0])
    got = np.asarray(filter_time(ts, gap))
    assert np.all(got.real == 0)
    want = np.array([f_mp(gap * t) for t in ts])
    np.testing.assert_allclose(got.imag, want, atol=1e-13)
    np.testing.assert_array_equal(np.asarray(filter_time(-ts, gap)), -got)  # odd
    assert complex(filter_time(0.0, gap)) == 0


def test_filter_jit_vmap_and_bad_gap():
    w = jnp.linspace(-2, 2, 9)
    np.testing.assert_allclose(jax.jit(filter_ft)(w, 0.5), filter_ft(w, 0.5), rtol=1e-14)
    gaps = jnp.array([0.1, 0.5, 3.0])
    batched = jax.vmap(lambda g: filter_ft(w, g))(gaps)
    np.testing.assert_allclose(batched, np.stack([filter_ft(w, float(g)) for g in gaps]), rtol=1e-14)
    np.testing.assert_allclose(jax.jit(filter_time)(w, 0.5), filter_time(w, 0.5), atol=1e-15)
    for bad in (0.0, -1.0, np.nan, np.inf, "x"):
        with pytest.raises(ValueError, match="gap"):
            filter_ft(w, bad)
        with pytest.raises(ValueError, match="gap"):
            filter_time(w, bad)


# ----------------------------------------------------------------------------- paper checks
@pytest.mark.parametrize("method", ["spectral", "time"])
def test_eq_4_24_every_eigenstate_is_transported(method):
    """With gap <= the minimum level spacing, i d|psi_n>/ds = J |psi_n> for all n (eq. 4.24)."""
    s0 = 0.3
    E = np.linalg.eigvalsh(family_a_np(s0))
    gap = 0.999 * min_gap(E)
    J = np.asarray(quasi_adiabatic_generator(family_a, s0, gap=gap, method=method))
    np.testing.assert_allclose(J, J.conj().T, atol=1e-13)
    V0, dV = fd_eigvecs(family_a_np, s0, 1e-4)
    err = np.abs(J @ V0 - 1j * dV).max()
    assert err <= 1e-7, err


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_eq_4_31_generator_of_the_conjugation_family():
    """H(s) = e^{-isK} H0 e^{isK}: <n|U^dag J U|m> = K_nm for |E(n)-E(m)| >= gap, else (1-b) K_nm."""
    s0, gap = 0.8, 0.25
    K, E = family_k_dense()
    V = scipy.linalg.expm(-1j * s0 * K)
    J = np.asarray(quasi_adiabatic_generator(family_k, s0, gap=gap))
    M = V.conj().T @ J @ V
    w = E[:, None] - E[None, :]
    far = np.abs(w) >= gap
    assert far.sum() > 0.8 * far.size and (~far).sum() > 16  # both regimes are exercised
    np.testing.assert_allclose(M[far], K[far], atol=1e-10)
    # eq. 4.31: F~(E(n)-E(m)) (E(m)-E(n)) K_nm for every pair.
    np.testing.assert_allclose(M, filter_ref(w, gap) * (-w) * K, atol=1e-10)
    # The dense builder of the same family (eigh route) gives the same operator.
    J_dense = np.asarray(quasi_adiabatic_generator(family_k_matrix, s0, gap=gap))
    np.testing.assert_allclose(J_dense, J, atol=1e-10)


def _crossing_family(lat, U):
    """H(s) = U H0(s) U^dag with fixed U; levels |100> and |010> cross exactly at s = 0.5."""
    h0 = jm.lbit_hamiltonian(3, {(0,): 1.0, (1,): 2.0, (2,): 0.37, (0, 1): 0.1, (1, 2): 0.23})
    slope = [jnp.array([1.0, -1.0, 0.0]), jnp.array([0.0, 0.0])]

    def model_fn(s):
        coef = tuple(c + s * d for c, d in zip(h0.coef, slope))
        return jm.SwingleModel(lat, dataclasses.replace(h0, coef=coef), U)

    return model_fn


def test_section_IV_E_fixed_unitary_gives_no_rotation_even_at_a_crossing():
    """[dH/ds, H] = 0 when only H0 moves: J commutes with H (here J = 0 since F~(0) = 0)."""
    lat = jm.Lattice((3,))
    U = jm.random_circuit(jr.key(9), lat, depth=2, strength=0.8)
    model_fn = _crossing_family(lat, U)
    Ud = ref.unitary_dense(U)
    E = np.real(np.diag(ref.h0_dense(3, ref.h0_terms(model_fn(0.5).h0))))
    assert np.sum(np.abs(E - E[4]) < 1e-15) == 2  # an exact degeneracy at s = 0.5
    Ud_j = jnp.asarray(Ud)

    def H_fn(s):
        E = jm.energies(model_fn(s).h0)
        return (Ud_j * E[None, :]) @ Ud_j.conj().T

    H = Ud @ np.diag(E) @ Ud.conj().T
    for fn in (model_fn, H_fn):
        J = np.asarray(quasi_adiabatic_generator(fn, 0.5, gap=0.3))
        assert np.all(np.isfinite(J))
        assert np.abs(J @ H - H @ J).max() <= 1e-12
        assert np.abs(J).max() <= 1e-12


# ----------------------------------------------------------------------------- degeneracies
LAM_DEG = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 2.5, 2.5, 2.5])
Q_D = ref.haar_unitary(np.random.default_rng(3), 8)
H_DEG = Q_D @ np.diag(LAM_DEG) @ Q_D.conj().T
B_D, C_D, W_D, W2_D = (herm(np.random.default_rng(k), 8, 0.3) for k in range(4))


def _deg_family(theta):
    """Exactly degenerate H at theta = 0; theta enters both H and dH/ds."""
    return lambda s: jnp.asarray(H_DEG) + theta * jnp.asarray(C_D) + s * (jnp.asarray(B_D) + theta * jnp.asarray(W2_D))


def test_dense_route_is_finite_and_differentiable_at_exact_degeneracy():
    gap = 0.6

    @jax.jit
    def loss(theta, gap=gap):
        J = quasi_adiabatic_generator(_deg_family(theta), 0.0, gap=gap)
        return jnp.real(jnp.trace(jnp.asarray(W_D) @ J))

    J = np.asarray(quasi_adiabatic_generator(_deg_family(0.0), 0.0, gap=gap))
    assert np.all(np.isfinite(J))
    # Independent value: J = i sum_mn F~(lam_m - lam_n) P_m B P_n with the exact projectors of H_deg.
    Bt = Q_D.conj().T @ B_D @ Q_D
    want = 1j * Q_D @ (filter_ref(LAM_DEG[:, None] - LAM_DEG[None, :], gap) * Bt) @ Q_D.conj().T
    np.testing.assert_allclose(J, want, atol=1e-12)
    g = float(jax.grad(loss)(0.0))
    h = 1e-4
    fd = (float(loss(h)) - float(loss(-h))) / (2 * h)
    assert np.isfinite(g) and abs(g - fd) <= 1e-6 * max(1.0, abs(fd)), (g, fd)
    g_gap = float(jax.grad(lambda d: loss(0.0, d))(gap))
    fd_gap = (float(loss(0.0, gap + h)) - float(loss(0.0, gap - h))) / (2 * h)
    assert abs(g_gap - fd_gap) <= 1e-6 * max(1.0, abs(fd_gap)), (g_gap, fd_gap)
    # Plain autodiff through eigh is what fails here (NaN, or ~1/round-off splittings).
    naive = jax.grad(lambda t: jnp.real(jnp.linalg.eigh(jnp.asarray(H_DEG) + t * jnp.asarray(C_D))[1][0, 0]))(0.0)
    assert not abs(float(naive)) < 1e8


def test_swingle_route_gradients_at_massive_degeneracy():
    """E(n) = popcount(n): huge degeneracies; gradients w.r.t. K and the couplings stay finite."""
    lat = jm.Lattice((3,))
    K = jm.random_generator(jr.key(11), lat, strength=1.0)
    h0 = jm.lbit_hamiltonian(3, {(0,): 1.0, (1,): 1.0, (2,): 1.0})
    W = jnp.asarray(herm(np.random.default_rng(5), 8))

    @jax.jit
    def loss(p):
        def model_fn(s):
            Us = dataclasses.replace(K, coef2=s * (1 + p[0]) * K.coef2, coef1=s * K.coef1)
            return jm.SwingleModel(lat, dataclasses.replace(h0, coef=(h0.coef[0] * (1 + p[1:]),)), Us)

        return jnp.real(jnp.trace(W @ quasi_adiabatic_generator(model_fn, 1.0, gap=0.5)))

    p0 = jnp.zeros(4)
    g = np.asarray(jax.grad(loss)(p0))
    assert np.all(np.isfinite(g))
    h = 1e-5
    fd = [(float(loss(p0.at[i].set(h))) - float(loss(p0.at[i].set(-h)))) / (2 * h) for i in range(4)]
    np.testing.assert_allclose(g, fd, atol=1e-7)


# ----------------------------------------------------------------------------- time form
def test_time_form_truncation_bound_eq_4_17():
    """||J(T) - J|| <= (2/gap) int_{gap T}^inf |f| ||dH/ds||_F, and J(T) -> J at large T."""
    s0, gap = 0.8, 0.25
    J = np.asarray(quasi_adiabatic_generator(family_k, s0, gap=gap))
    K, E = family_k_dense()
    V = scipy.linalg.expm(-1j * s0 * K)
    dH = -1j * (K @ V @ np.diag(E) @ V.conj().T - V @ np.diag(E) @ V.conj().T @ K)  # eq. 4.28
    errs = []
    for t_max in (20.0, 40.0):
        J_T = np.asarray(quasi_adiabatic_generator(family_k, s0, gap=gap, method="time", t_max=t_max))
        err = np.linalg.norm(J_T - J)
        bound = 2 / gap * tail_ref(t_max) * np.linalg.norm(dH)
        assert err <= bound * (1 + 1e-3), (t_max, err, bound)
        errs.append(err)
    J_T = np.asarray(quasi_adiabatic_generator(family_k, s0, gap=gap, method="time"))
    errs.append(np.linalg.norm(J_T - J))
    assert errs[0] > errs[1] > errs[2] and errs[2] <= 1e-8 * np.linalg.norm(J), errs


def test_time_form_node_checks():
    with pytest.raises(ValueError, match="n_t"):
        quasi_adiabatic_generator(family_a, 0.3, gap=0.05, method="time", n_t=1024)
    with pytest.raises(ValueError, match="n_t"):
        quasi_adiabatic_generator(family_a, 0.3, gap=0.3, method="time", n_t=1000)
    with pytest.raises(ValueError, match="explicit n_t"):
        jax.jit(lambda s: quasi_adiabatic_generator(family_a, s, gap=0.3, method="time"))(0.3)
    with pytest.raises(ValueError, match="t_max"):
        quasi_adiabatic_generator(family_a, 0.3, gap=0.3, method="time", t_max=-1.0)


# ----------------------------------------------------------------------------- transforms, inputs
@pytest.mark.parametrize("fn", [family_a, family_k], ids=["dense", "swingle"])
def test_generator_jit_equals_eager_and_vmap_equals_loop(fn):
    ss = jnp.array([0.6, 0.8, 0.95])
    eager = np.stack([np.asarray(quasi_adiabatic_generator(fn, float(s), gap=0.3)) for s in ss])
    jitted = jax.jit(lambda s: quasi_adiabatic_generator(fn, s, gap=0.3))(ss[1])
    np.testing.assert_allclose(np.asarray(jitted), eager[1], atol=1e-12)
    batched = jax.vmap(lambda s: quasi_adiabatic_generator(fn, s, gap=0.3))(ss)
    np.testing.assert_allclose(np.asarray(batched), eager, atol=1e-12)


def test_generator_bad_inputs():
    with pytest.raises(ValueError, match="gap"):
        quasi_adiabatic_generator(family_a, 0.3, gap=0.0)
    with pytest.raises(ValueError, match="gap"):
        quasi_adiabatic_generator(family_a, 0.3, gap=-0.2)
    with pytest.raises(ValueError, match="Hermitian"):
        quasi_adiabatic_generator(lambda s: family_a(s) + 0.1j * s * jnp.eye(D_A), 0.3, gap=0.1)
    with pytest.raises(ValueError, match="square"):
        quasi_adiabatic_generator(lambda s: jnp.ones((3, 4)) * s, 0.3, gap=0.1)
    with pytest.raises(ValueError, match="method"):
        quasi_adiabatic_generator(family_a, 0.3, gap=0.1, method="euler")
    with pytest.raises(ValueError, match="real scalar"):
        quasi_adiabatic_generator(family_a, jnp.ones(2), gap=0.1)
    with pytest.raises(TypeError, match="H_fn"):
        quasi_adiabatic_generator(H_A, 0.3, gap=0.1)
    batch = jax.tree_util.tree_map(lambda x: jnp.stack([x, x]), family_k(1.0))
    with pytest.raises(ValueError, match="one realization"):
        quasi_adiabatic_generator(lambda s: batch, 0.3, gap=0.1)


# ----------------------------------------------------------------------------- stability
def test_sensitivity_is_the_fidelity_susceptibility_when_gapped():
    H, V = family_a_np(0.0), herm(np.random.default_rng(1), D_A, 0.5)
    gap = 0.999 * min_gap(np.linalg.eigvalsh(H))
    chi = float(stability_sensitivity(H, V, gap=gap))
    _, dpsi = fd_eigvecs(lambda g: H + g * V, 0.0, 1e-4)
    want = np.mean(np.sum(np.abs(dpsi) ** 2, axis=0))
    assert abs(chi - want) <= 1e-7 * want, (chi, want)


def test_sensitivity_of_a_swingle_model_with_a_local_perturbation():
    model = jm.sample_model(jr.key(8), LAT4, depth=2, strength=0.6)
    H, U, E = ref.model_dense(model)
    V = ref.pauli_dense([0, 1, 0, 0]) + 0.5 * ref.pauli_dense([3, 3, 0, 0])
    gap = 0.3
    Vt = U.conj().T @ V @ U  # V0 = U^dag V U, eq. 4.2
    want = np.sum(filter_ref(E[:, None] - E[None, :], gap) ** 2 * np.abs(Vt) ** 2) / 16
    assert abs(float(stability_sensitivity(model, V, gap=gap)) - want) <= 1e-12 * want
    assert abs(float(stability_sensitivity(H, V, gap=gap)) - want) <= 1e-10 * want  # eigh route
    assert want <= 1.21 * np.sum(np.abs(V) ** 2) / (16 * gap**2)


def test_sensitivity_gradients_at_exact_degeneracy():
    @jax.jit
    def chi(theta, gap=0.6):
        H = jnp.asarray(H_DEG) + theta * jnp.asarray(C_D)
        return stability_sensitivity(H, jnp.asarray(B_D) + theta * jnp.asarray(W_D), gap=gap)

    g = float(jax.grad(chi)(0.0))
    h = 1e-4
    fd = (float(chi(h)) - float(chi(-h))) / (2 * h)
    assert np.isfinite(g) and abs(g - fd) <= 1e-6 * max(1.0, abs(fd)), (g, fd)
    g_gap = float(jax.grad(lambda d: chi(0.0, d))(0.6))
    fd_gap = (float(chi(0.0, 0.6 + h)) - float(chi(0.0, 0.6 - h))) / (2 * h)
    assert abs(g_gap - fd_gap) <= 1e-6 * max(1.0, abs(fd_gap)), (g_gap, fd_gap)


def test_sensitivity_transforms_and_bad_inputs():
    model = jm.sample_model(jr.key(8), LAT4, depth=2)
    Vs = jnp.asarray(np.stack([herm(np.random.default_rng(k), 16) for k in range(3)]))
    loop = np.array([float(stability_sensitivity(model, V, gap=0.3)) for V in Vs])
    np.testing.assert_allclose(jax.vmap(lambda V: stability_sensitivity(model, V, gap=0.3))(Vs), loop, rtol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda V: stability_sensitivity(model, V, gap=0.3))(Vs[0]), loop[0], rtol=1e-12)
    Hd = jm.dense_hamiltonian(model)
    np.testing.assert_allclose(jax.jit(lambda V: stability_sensitivity(Hd, V, gap=0.3))(Vs[0]), loop[0], rtol=1e-9)
    with pytest.raises(ValueError, match="gap"):
        stability_sensitivity(model, Vs[0], gap=0)
    with pytest.raises(ValueError, match="Hermitian"):
        stability_sensitivity(model, Vs[0] + 1j * jnp.eye(16), gap=0.3)
    with pytest.raises(ValueError, match="Hermitian"):
        stability_sensitivity(Hd + jnp.triu(jnp.ones((16, 16)), 1), Vs[0], gap=0.3)
    with pytest.raises(ValueError, match="shape"):
        stability_sensitivity(model, jnp.eye(8), gap=0.3)
