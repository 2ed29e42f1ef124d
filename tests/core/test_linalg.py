"""Gradients through ``jm.eigh`` at exact degeneracies (``eigh_safe``), against finite differences.

``jnp.linalg.eigh`` gives NaN there. References: central finite differences of ``numpy.linalg.eigh``
for quantities that are differentiable (a non-degenerate level of a degenerate spectrum; a
projector onto a whole degenerate level).
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

import jaxmbl as jm

N = 6


def _clean_heisenberg(J=1.0):
    return jm.random_field_heisenberg(jr.key(0), N, W=0.0, J=J)


def test_entropy_gradient_through_eigh_is_finite_at_degeneracy():
    # The clean chain has SU(2) multiplets: exact degeneracies, where jnp.linalg.eigh gives NaN.
    H0 = np.asarray(_clean_heisenberg().dense())
    E = np.linalg.eigvalsh(H0)
    assert np.min(np.diff(E)) < 1e-12
    X = np.asarray(jm.PauliSum.from_terms(N, [("X", [2], 1.0), ("ZZ", [0, 3], 0.5)]).dense())

    def entropies(t):
        _, V = jm.eigh(jnp.asarray(H0) + t * jnp.asarray(X))
        return jm.entropy(V.T, (0, 1, 2))

    g = jax.jacfwd(entropies)(0.0)
    assert np.all(np.isfinite(np.asarray(g)))
    assert np.all(np.isfinite(np.asarray(jax.grad(lambda t: jnp.sum(entropies(t)))(0.0))))
    # A level that is non-degenerate (ground state of the clean chain): gradient matches FD.
    gaps = np.diff(E)
    k = next(i for i in range(1, len(E) - 1) if gaps[i - 1] > 1e-3 and gaps[i] > 1e-3)

    def entropy_np(t):
        _, V = np.linalg.eigh(H0 + t * X)
        return float(jm.entropy(jnp.asarray(V[:, k]), (0, 1, 2)))

    h = 1e-6
    np.testing.assert_allclose(float(g[k]), (entropy_np(h) - entropy_np(-h)) / (2 * h), rtol=1e-5, atol=1e-9)


def test_projector_of_a_degenerate_level_has_the_exact_derivative():
    H0 = np.asarray(_clean_heisenberg().dense())
    E = np.linalg.eigvalsh(H0)
    Y = np.random.default_rng(0).normal(size=H0.shape)
    Y = (Y + Y.T) / 2
    # The first degenerate level: its projector is smooth in t; eigenvectors inside it are not.
    start = next(i for i in range(len(E) - 1) if E[i + 1] - E[i] < 1e-12)
    stop = start + int(np.sum(np.abs(E - E[start]) < 1e-9))

    def proj(t):
        _, V = jm.eigh(jnp.asarray(H0) + t * jnp.asarray(Y))
        W = V[:, start:stop]
        return jnp.real(W @ jnp.conj(W).T)

    dP = np.asarray(jax.jacfwd(proj)(0.0))

    def proj_np(t):
        _, V = np.linalg.eigh(H0 + t * Y)
        W = V[:, start:stop]
        return W @ W.T

    h = 1e-6
    np.testing.assert_allclose(dP, (proj_np(h) - proj_np(-h)) / (2 * h), atol=1e-6)
