"""Pauli-string algebra against dense matrices and analytic cases."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmbl._core.conventions import PAULI
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.pauli_algebra import (
    commutator,
    diagonal_part,
    frobenius_norm_sq,
    offdiagonal_part,
    pauli_product,
    string_product,
)

_P = [np.asarray(PAULI[k]) for k in range(4)]


def _random_sum(rng, n, m, complex_=True):
    labels = rng.integers(0, 4, size=(m, n))
    coef = rng.normal(size=m) + (1j * rng.normal(size=m) if complex_ else 0)
    return PauliSum(jnp.asarray(labels, jnp.int8), jnp.asarray(coef), n)


def test_single_site_phases():
    for a, b in itertools.product(range(4), repeat=2):
        lab, k = string_product(np.array([a]), np.array([b]))
        np.testing.assert_allclose(_P[a] @ _P[b], (1j) ** int(k) * _P[int(lab[0])], atol=1e-14)


@pytest.mark.parametrize("n", [1, 3, 5])
def test_product_commutator_norms_dense(n):
    rng = np.random.default_rng(n)
    A, B = _random_sum(rng, n, 7), _random_sum(rng, n, 9)
    dA, dB = np.asarray(A.dense()), np.asarray(B.dense())
    np.testing.assert_allclose(np.asarray((A @ B).dense()), dA @ dB, atol=1e-12)
    np.testing.assert_allclose(np.asarray(A.commutator(B).dense()), dA @ dB - dB @ dA, atol=1e-12)
    fro = np.trace(dA.conj().T @ dA).real
    np.testing.assert_allclose(float(A.frobenius_norm(normalized=False)), fro, rtol=1e-12)
    np.testing.assert_allclose(float(frobenius_norm_sq(A)), fro / 2**n, rtol=1e-12)
    dd = np.asarray(diagonal_part(A).dense())
    np.testing.assert_allclose(dd, np.diag(np.diag(dA)), atol=1e-12)
    np.testing.assert_allclose(np.asarray(offdiagonal_part(A).dense()), dA - np.diag(np.diag(dA)), atol=1e-12)


def test_n64_local_chains():
    n = 64
    X = PauliSum.from_terms(n, [("X", [i], 1.0 + i) for i in range(n)])
    Z = PauliSum.from_terms(n, [("Z", [i], 1.0) for i in range(n)])
    C = commutator(X, Z).simplify()
    labels, coef = np.asarray(C.paulis), np.asarray(C.coef)
    assert labels.shape == (n, n)
    for row, c in zip(labels, coef):
        (i,) = np.nonzero(row)[0]
        assert row[i] == 2
        np.testing.assert_allclose(c, -2j * (1.0 + i))
    ZZ = PauliSum.from_terms(n, [("ZZ", [i, i + 1], 1.0) for i in range(n - 1)])
    assert commutator(ZZ, Z).simplify().n_terms == 0


def test_n64_product_norm():
    n = 64
    X = PauliSum.from_terms(n, [("X", [i], 1.0) for i in range(n)])
    # (sum X_i)^2 = n + sum_{i != j} X_i X_j: identity n, each pair 2
    P = (X @ X).simplify()
    assert P.n_terms == 1 + n * (n - 1) // 2
    np.testing.assert_allclose(float(frobenius_norm_sq(P)), n**2 + 4 * n * (n - 1) / 2)


def test_grad_and_jit():
    rng = np.random.default_rng(0)
    A, B = _random_sum(rng, 4, 6, complex_=False), _random_sum(rng, 4, 5, complex_=False)

    def f(c):
        return frobenius_norm_sq(PauliSum(A.paulis, c, 4).commutator(B))

    g = jax.grad(f)(A.coef)
    eps = 1e-6
    for j in range(len(A.coef)):
        e = jnp.zeros_like(A.coef).at[j].set(eps)
        np.testing.assert_allclose(g[j], (f(A.coef + e) - f(A.coef - e)) / (2 * eps), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jax.jit(f)(A.coef), f(A.coef), rtol=1e-13)
    jc = jax.jit(lambda c: pauli_product(PauliSum(A.paulis, c, 4), B).coef)(A.coef)
    np.testing.assert_allclose(jc, pauli_product(A, B).coef, rtol=1e-13)


def test_vmap_over_coefficients():
    rng = np.random.default_rng(1)
    A, B = _random_sum(rng, 3, 4), _random_sum(rng, 3, 4)
    cs = jnp.stack([A.coef, 2 * A.coef, -A.coef])
    f = lambda c: frobenius_norm_sq(commutator(PauliSum(A.paulis, c, 3), B))  # noqa: E731
    np.testing.assert_allclose(jax.vmap(f)(cs), jnp.stack([f(c) for c in cs]), rtol=1e-13)
