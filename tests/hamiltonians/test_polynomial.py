"""f(H) v by Chebyshev expansion, the regularized resolvent and chi_n, against dense eigendecompositions (N <= 10).

References: dense matrices from numpy krons (``reference.paulisum_dense``), ``numpy.linalg.eigh``
and ``scipy.linalg.expm``; sector blocks selected by counting bits.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import scipy.linalg
from reference import all_bits, paulisum_dense

from jaxmbl import (
    JaxmblError,
    PauliSum,
    chebyshev_apply,
    interior_eigh,
    random_field_heisenberg,
    regularized_resolvent_apply,
)
from jaxmbl._hamiltonians.polynomial import resolvent_susceptibility


def dense_of(H):
    return paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))


def sector_index(n_sites, sector):
    sz = n_sites / 2 - all_bits(n_sites).sum(axis=1)
    return np.flatnonzero(sz == sector)


def random_complex_paulisum(rng, n_sites, n_terms):
    """Random strings with Y's (complex matrix), real coefficients: Hermitian."""
    paulis = rng.integers(0, 4, size=(n_terms, n_sites))
    return PauliSum(jnp.asarray(paulis), jnp.asarray(rng.normal(size=n_terms)), n_sites)


def funm(mat, f):
    E, U = np.linalg.eigh(mat)
    return (U * f(E)[None, :]) @ U.conj().T


@pytest.fixture(scope="module")
def complex_h():
    return random_complex_paulisum(np.random.default_rng(1), 8, 30)


@pytest.mark.parametrize(
    "name,f",
    [("exp", lambda e: np.exp(-0.7 * e)), ("gauss", lambda e: np.exp(-((e - 0.3) ** 2))), ("phase", None)],
)
def test_chebyshev_apply_full_space_within_estimate(complex_h, rng, name, f):
    mat = dense_of(complex_h)
    v = rng.normal(size=(3, 256)) + 1j * rng.normal(size=(3, 256))
    if f is None:  # exp(-i H t): compare with scipy.linalg.expm
        out = chebyshev_apply(complex_h, lambda e: np.exp(-1j * 1.5 * e), jnp.asarray(v))
        ref = v @ scipy.linalg.expm(-1j * 1.5 * mat).T
    else:
        out = chebyshev_apply(complex_h, f, jnp.asarray(v))
        ref = v @ funm(mat, f).T
    err = np.linalg.norm(np.asarray(out.values) - ref, axis=-1)
    assert out.values.shape == v.shape and out.error.shape == (3,)
    assert np.all(err <= np.asarray(out.error) + 1e-12 * np.linalg.norm(v, axis=-1))
    assert np.all(np.asarray(out.error) <= 1e-9 * np.linalg.norm(v, axis=-1) * np.max(np.abs(ref)) * 10)
    # bounds enclose the spectrum
    E = np.linalg.eigvalsh(mat)
    assert float(out.bounds[0]) <= E[0] and float(out.bounds[1]) >= E[-1]


def test_chebyshev_apply_sector_and_fixed_degree(rng):
    H = random_field_heisenberg(jr.key(2), 10, W=2.0)
    idx = sector_index(10, 0)
    mat = dense_of(H)[np.ix_(idx, idx)]
    v = rng.normal(size=len(idx))
    f = lambda e: 1.0 / (1.0 + (e - 0.5) ** 2)  # noqa: E731
    out = chebyshev_apply(H, f, jnp.asarray(v), sector=0)
    ref = funm(mat, f) @ v
    assert np.linalg.norm(np.asarray(out.values) - ref) <= float(out.error) + 1e-12
    assert float(out.error) < 1e-8
    # a fixed low degree: the error is large, and the reported estimate still covers it
    low = chebyshev_apply(H, f, jnp.asarray(v), sector=0, degree=12)
    diff = np.linalg.norm(np.asarray(low.values) - ref)
    assert low.degree == 12 and 1e-6 < diff <= float(low.error)


def test_chebyshev_apply_jit_equals_eager_and_batch_equals_loop(rng):
    A = rng.normal(size=(2, 32, 32))
    A = jnp.asarray((A + np.swapaxes(A, 1, 2)) / 2)
    v = jnp.asarray(rng.normal(size=32))
    bounds = (-12.0, 12.0)
    f = lambda e: jnp.cos(0.5 * e)  # noqa: E731
    eager = chebyshev_apply(A, f, v, bounds=bounds, degree=60)
    jitted = jax.jit(lambda A, v: chebyshev_apply(A, f, v, bounds=bounds, degree=60).values)(A, v)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager.values), atol=1e-12)
    assert eager.values.shape == (2, 32)
    for i in range(2):
        one = chebyshev_apply(A[i], f, v, bounds=bounds, degree=60)
        np.testing.assert_allclose(np.asarray(eager.values[i]), np.asarray(one.values), atol=1e-12)
        ref = funm(np.asarray(A[i]), lambda e: np.cos(0.5 * e)) @ np.asarray(v)
        assert np.linalg.norm(np.asarray(one.values) - ref) <= float(one.error) + 1e-12


def test_regularized_resolvent_within_rigorous_bound(complex_h, rng):
    mat = dense_of(complex_h)
    E_all = np.linalg.eigvalsh(mat)
    shift = float(E_all[128])  # on an eigenvalue, mid-spectrum
    mu = 0.4
    v = rng.normal(size=(2, 256)) + 1j * rng.normal(size=(2, 256))
    out = regularized_resolvent_apply(complex_h, shift, jnp.asarray(v), mu)
    ref = v @ funm(mat, lambda e: (e - shift) / ((e - shift) ** 2 + mu**2)).T
    err = np.linalg.norm(np.asarray(out.values) - ref, axis=-1)
    bound = np.asarray(out.error)
    assert np.all(err <= bound + 1e-12) and np.all(bound <= 1e-10 / (2 * mu) * np.linalg.norm(v, axis=-1) * 1.0001)
    # one shift per vector
    shifts = np.array([shift, float(E_all[40])])
    out2 = regularized_resolvent_apply(complex_h, jnp.asarray(shifts), jnp.asarray(v), mu)
    ref2 = np.stack([funm(mat, lambda e, s=s: (e - s) / ((e - s) ** 2 + mu**2)) @ v[i] for i, s in enumerate(shifts)])
    assert np.all(np.linalg.norm(np.asarray(out2.values) - ref2, axis=-1) <= np.asarray(out2.error) + 1e-12)


def dense_chi(mat, Vmat, n_idx, mu):
    E, U = np.linalg.eigh(mat)
    Vmn = U.conj().T @ Vmat @ U
    out = []
    for n in n_idx:
        w = E - E[n]
        weight = w**2 / (w**2 + mu**2) ** 2
        weight[n] = 0.0
        out.append(np.sum(np.abs(Vmn[:, n]) ** 2 * weight))
    return np.array(out), E, U


def test_susceptibility_resolvent_route_matches_dense_chi():
    n_sites = 10
    H = random_field_heisenberg(jr.key(5), n_sites, W=3.0)
    V = PauliSum.from_list([("IIIIXXIIII", 0.5), ("IIIIYYIIII", 0.5), ("IIIZIIIIII", 0.3)])  # conserves S^z
    idx = sector_index(n_sites, 0)
    mat = dense_of(H)[np.ix_(idx, idx)]
    Vmat = dense_of(V)[np.ix_(idx, idx)]
    mu = 0.5
    n_idx = [60, 126, 127, 200]
    chi_ref, E, U = dense_chi(mat, Vmat, n_idx, mu)
    chi, err = resolvent_susceptibility(H, V, jnp.asarray(E[n_idx]), jnp.asarray(U[:, n_idx]), mu, sector=0)
    np.testing.assert_allclose(np.asarray(chi), chi_ref, rtol=1e-8)
    assert np.all(np.asarray(err) <= 1e-8 * chi_ref)


@pytest.mark.slow
def test_susceptibility_with_interior_eigh_states():
    n_sites = 10
    H = random_field_heisenberg(jr.key(6), n_sites, W=4.0)
    V = PauliSum.from_list([("IIIIZIIIII", 1.0)])
    idx = sector_index(n_sites, 0)
    mat = dense_of(H)[np.ix_(idx, idx)]
    Vmat = dense_of(V)[np.ix_(idx, idx)]
    out = interior_eigh(H, 6, sector=0, key=jr.key(0))
    E_all = np.linalg.eigvalsh(mat)
    n_idx = [int(np.argmin(np.abs(E_all - e))) for e in np.asarray(out.energies)]
    chi_ref, _, _ = dense_chi(mat, Vmat, n_idx, 0.3)
    chi, _ = resolvent_susceptibility(H, V, out.energies, out.vectors, 0.3, sector=0)
    np.testing.assert_allclose(np.asarray(chi), chi_ref, rtol=1e-8)


# ---------------------------------------------------------------------------- bad input
def test_bad_inputs(complex_h):
    v = jnp.ones(256)
    with pytest.raises(TypeError, match="f must be a function"):
        chebyshev_apply(complex_h, 3.0, v)
    with pytest.raises(JaxmblError, match="v must have shape"):
        chebyshev_apply(complex_h, np.exp, jnp.ones(5))
    with pytest.raises(JaxmblError, match="bounds must be"):
        chebyshev_apply(complex_h, np.exp, v, bounds=(1.0, -1.0))
    with pytest.raises(JaxmblError, match="degree must be >= 2"):
        chebyshev_apply(complex_h, np.exp, v, degree=1)
    with pytest.raises(JaxmblError, match="max_degree"):
        chebyshev_apply(complex_h, lambda e: np.abs(e), v, max_degree=64)
    with pytest.raises(JaxmblError, match="mu must be a real number > 0"):
        regularized_resolvent_apply(complex_h, 0.0, v, -1.0)
    with pytest.raises(JaxmblError, match="above max_degree"):
        regularized_resolvent_apply(complex_h, 0.0, v, 1e-4, max_degree=1000)
    with pytest.raises(JaxmblError, match="Hermitian"):
        chebyshev_apply(jnp.triu(jnp.ones((4, 4))), np.exp, jnp.ones(4))
