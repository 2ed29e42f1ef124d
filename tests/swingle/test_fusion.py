"""Gate fusion (private kernels): fused circuits and fused generator sums against dense numpy."""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._core.kernels import apply_two_site
from jaxmbl._swingle.fusion import apply_circuit, apply_sum, fused_sum, plan_blocks


def _random_gates(rng, n_gates):
    return np.stack([ref.haar_unitary(rng, 4) for _ in range(n_gates)])


@pytest.mark.parametrize("k", [2, 3, 4, 5])
@pytest.mark.parametrize("adjoint", [False, True])
def test_fused_circuit_matches_dense_numpy(k, adjoint):
    # Random pairs in both orders (a > b too), overlapping, on non-adjacent sites: every
    # planner branch (join, disjoint join for k >= 4, new block) and both kernels (k <= 3
    # elementwise, k >= 4 einsum).
    rng = np.random.default_rng(k)
    n = 7
    sites = tuple(tuple(int(x) for x in rng.choice(n, 2, replace=False)) for _ in range(14))
    gates = _random_gates(rng, len(sites))
    U = ref.circuit_dense(gates, sites, n)
    want = U.conj().T if adjoint else U
    psi = ref.random_state(rng, n)
    out = jax.jit(lambda g, v: apply_circuit(g, sites, n, v, adjoint, k))(jnp.asarray(gates), jnp.asarray(psi))
    np.testing.assert_allclose(np.asarray(out), want @ psi, atol=1e-13)


@pytest.mark.parametrize("shape,pbc", [((8,), False), ((9,), True), ((2, 4), True)])
def test_circuit_default_kernel_equals_unfused(shape, pbc):
    U = jm.random_circuit(jr.key(3), jm.Lattice(shape, pbc))
    psi = jnp.asarray(ref.random_state(np.random.default_rng(0), U.n_sites))
    fused = jax.jit(lambda u, v: (u.mv(v), u.rmv(v)))(U, psi)
    plain = jax.jit(lambda u, v: (u._kernel_unfused(v, False), u._kernel_unfused(v, True)))(U, psi)
    for a, b in zip(fused, plain):
        assert float(jnp.max(jnp.abs(a - b))) <= 1e-13
    np.testing.assert_allclose(np.asarray(fused[0]), ref.unitary_dense(U) @ np.asarray(psi), atol=1e-13)


def test_plan_is_exact_product_and_fuses_brickwork():
    # Depth-2 brickwork on 8 sites: with k = 3 every block but the first holds two gates.
    sites = tuple((i, i + 1) for i in range(0, 7, 2)) + tuple((i, i + 1) for i in range(1, 6, 2))
    plan = plan_blocks(sites, 3)
    assert sorted(g for _, gs in plan for g in gs) == list(range(len(sites)))
    assert len(plan) == 4 and all(len(bs) <= 3 for bs, _ in plan)
    with pytest.raises(ValueError, match="max_sites"):
        plan_blocks(sites, 1)


def test_fused_circuit_vmap_grad_complex64():
    rng = np.random.default_rng(5)
    n, sites = 5, ((0, 1), (2, 3), (1, 2), (3, 4), (4, 0))
    gates = jnp.asarray(_random_gates(rng, len(sites)))
    psis = jnp.asarray(ref.random_state(rng, n, (3,)))
    one = jax.jit(lambda g, v: apply_circuit(g, sites, n, v))
    out = jax.jit(jax.vmap(one, (None, 0)))(gates, psis)
    loop = jnp.stack([one(gates, v) for v in psis])
    assert float(jnp.max(jnp.abs(out - loop))) <= 1e-14
    want = ref.circuit_dense(np.asarray(gates), sites, n) @ np.asarray(psis).T
    out64 = jax.jit(jax.vmap(one, (None, 0)))(gates.astype(jnp.complex64), psis.astype(jnp.complex64))
    assert out64.dtype == jnp.complex64
    assert np.abs(np.asarray(out64).T - want).max() <= 1e-5

    # Gradient of a real functional in the gates: fused and gate-by-gate agree.
    def loss(g, fused):
        w = psis[0]
        if fused:
            w = apply_circuit(g, sites, n, w, False, 3)
        else:
            for a, (i, j) in enumerate(sites):
                w = apply_two_site(w, g[a], i, j, n)
        return jnp.sum(jnp.abs(w[:4]) ** 2)

    g1 = jax.jit(jax.grad(loss), static_argnums=1)(gates, True)
    g2 = jax.jit(jax.grad(loss), static_argnums=1)(gates, False)
    assert bool(jnp.all(jnp.isfinite(g1)))
    assert float(jnp.max(jnp.abs(g1 - g2))) <= 1e-12


@pytest.mark.parametrize("k", [2, 3, 4])
def test_fused_generator_sum_matches_dense(k):
    lat = jm.Lattice((6,), True)
    U = jm.random_generator(jr.key(2), lat, strength=0.7)
    paulis, coef = U.to_paulis()
    K = ref.paulisum_dense(paulis, coef)
    psi = ref.random_state(np.random.default_rng(1), 6)
    h2, h1 = U.local_terms()
    terms = list(h2) + list(h1)
    blocks, mats = fused_sum(terms, U.pairs + U.singles, 6, k)
    assert all(len(b) <= max(k, 2) for b in blocks)
    out = jax.jit(lambda v, mats: apply_sum(v, blocks, mats, 6))(jnp.asarray(psi), mats)
    np.testing.assert_allclose(np.asarray(out), K @ psi, atol=1e-13)
    fused, plain = jax.jit(lambda u, v: (u.apply_K(v), u._apply_K_unfused(v)))(U, jnp.asarray(psi))
    np.testing.assert_allclose(np.asarray(fused), K @ psi, atol=1e-13)
    np.testing.assert_allclose(np.asarray(plain), K @ psi, atol=1e-13)
