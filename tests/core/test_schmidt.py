"""Values-only Schmidt spectra (private kernels) against numpy: Gram blocks, bisection, SVD route, purity."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmbl as jm
from jaxmbl._core.schmidt import eigvalsh_lower, gram_lower, hermitian_from_lower, purity, schmidt_spectrum


def _cplx(rng, *shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


@pytest.mark.parametrize("shape", [(256, 512), (512, 256), (8, 24), (256, 260)])
def test_gram_lower_matches_numpy(shape):
    rng = np.random.default_rng(0)
    M = _cplx(rng, *shape)
    A = M if shape[0] <= shape[1] else M.conj().T
    want = A @ A.conj().T
    G = np.asarray(jax.jit(gram_lower)(jnp.asarray(M)))
    np.testing.assert_allclose(np.tril(G), np.tril(want), atol=1e-10)
    np.testing.assert_allclose(np.asarray(hermitian_from_lower(jnp.asarray(G))), want, atol=1e-10)
    Mr = M.real
    Ar = Mr if shape[0] <= shape[1] else Mr.T
    np.testing.assert_allclose(np.tril(np.asarray(gram_lower(jnp.asarray(Mr)))), np.tril(Ar @ Ar.T), atol=1e-10)


def test_eigvalsh_lower_matches_numpy_with_degeneracies_and_zeros():
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(_cplx(rng, 40, 40))
    lam = np.concatenate([np.zeros(10), np.full(6, 0.25), rng.uniform(size=24)])
    H = (Q * lam) @ Q.conj().T
    got = np.asarray(jax.jit(eigvalsh_lower)(jnp.asarray(np.tril(H))))  # upper triangle zero: never read
    np.testing.assert_allclose(got, np.sort(lam), atol=1e-13)
    batch = np.stack([H, H.real.astype(complex) + np.eye(40)])
    out = jax.jit(jax.vmap(eigvalsh_lower))(jnp.asarray(batch))
    for b in range(2):
        np.testing.assert_allclose(np.asarray(out[b]), np.linalg.eigvalsh(batch[b]), atol=1e-12)


@pytest.mark.parametrize("shape", [(16, 16), (256, 256), (4, 64)])
def test_schmidt_spectrum_and_purity_match_svd(shape):
    # (16, 16) takes the direct SVD, (256, 256) the blocked Gram + bisection, (4, 64) the plain Gram.
    rng = np.random.default_rng(2)
    M = _cplx(rng, *shape)
    s = np.linalg.svd(M, compute_uv=False) ** 2
    p = s / s.sum()
    got = np.asarray(jax.jit(schmidt_spectrum)(jnp.asarray(M)))
    np.testing.assert_allclose(got, p, atol=1e-14)
    np.testing.assert_allclose(float(purity(jnp.asarray(M))), np.sum(p**2), rtol=1e-12)


def test_gradients_finite_at_zero_schmidt_values_and_match_finite_differences():
    n = 16
    rng = np.random.default_rng(3)
    prod = np.kron(_cplx(rng, 2**4), _cplx(rng, 2**4))  # product state: all but one Schmidt value zero
    for m in (prod.reshape(n, n), _cplx(rng, n, n), _cplx(rng, 256, 256)):
        v = jnp.asarray(m.reshape(-1))
        d = jnp.asarray(_cplx(rng, v.shape[0]))
        region = tuple(range(4 if m.shape[0] == n else 8))

        def S(x, v=v, d=d, region=region):
            return jm.entropy(v + x * d, region)

        g = float(jax.grad(S)(0.0))
        assert np.isfinite(g)
        h = 1e-6
        fd = (float(S(h)) - float(S(-h))) / (2 * h)
        assert abs(g - fd) <= 1e-5 * max(1.0, abs(fd)), (g, fd)
    # Rényi-2 by the purity: same value as from the spectrum, finite gradient.
    v, direction = jnp.asarray(prod), jnp.asarray(_cplx(rng, 2**8))
    assert abs(float(jm.entropy(v, tuple(range(4)), alpha=2))) <= 1e-12
    assert np.isfinite(float(jax.grad(lambda x: jm.entropy(v + x * direction, tuple(range(4)), alpha=2))(0.0)))
