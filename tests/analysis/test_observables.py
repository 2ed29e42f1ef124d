"""jaxmbl._analysis.observables against numpy references: occupations, imbalance, number and configurational
entropy, and the batched multi-region entropies."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._analysis.observables import (
    configurational_entropy,
    imbalance,
    number_distribution,
    number_entropy,
    occupations,
    region_entropies,
)

N = 6


def sector_state(rng, n_sites, charge, batch=()):
    """Random state with a definite number of particles (n_r = 1)."""
    mask = ref.all_bits(n_sites).sum(1) == charge
    psi = ref.random_state(rng, n_sites, batch) * mask
    return psi / np.linalg.norm(psi, axis=-1, keepdims=True)


def von_neumann(rho):
    lam = np.linalg.eigvalsh(rho)
    lam = lam[lam > 1e-14]
    return float(-np.sum(lam * np.log(lam)))


def test_occupations_and_imbalance_against_numpy(rng):
    psi = ref.random_state(rng, N, (4,))
    occ = (np.abs(psi) ** 2) @ ref.all_bits(N)
    np.testing.assert_allclose(np.asarray(occupations(psi)), occ, atol=1e-13)
    expected = (occ[:, ::2].sum(1) - occ[:, 1::2].sum(1)) / occ.sum(1)
    np.testing.assert_allclose(np.asarray(imbalance(psi, N)), expected, atol=1e-13)
    assert float(imbalance(jm.basis_state(N, 0), N)) == 0.0  # empty state: defined as 0


def test_imbalance_on_a_square_lattice_uses_the_checkerboard():
    lat = jm.Lattice((2, 2))
    # particles on (0,0) and (1,1): coordinate sums 0 and 2, both even
    psi = jm.basis_state(4, (1 << 3) | (1 << 0))
    assert float(imbalance(psi, lat)) == 1.0


def test_number_and_configurational_entropy_against_dense(rng):
    psi = sector_state(rng, N, 3)
    A = (0, 2, 3)
    bits = ref.all_bits(N)
    p = np.array([np.sum(np.abs(psi[bits[:, list(A)].sum(1) == k]) ** 2) for k in range(4)])
    np.testing.assert_allclose(np.asarray(number_distribution(psi, A)), p, atol=1e-13)
    S_N = -np.sum(p[p > 0] * np.log(p[p > 0]))
    assert float(number_entropy(psi, A)) == pytest.approx(S_N, abs=1e-12)
    # S_conf = sum_k p_k S(rho_k) from the charge blocks of rho_A
    rho = ref.partial_trace_keep(psi, A, N)
    charge_A = ref.all_bits(len(A)).sum(1)
    S_conf = sum(p[k] * von_neumann(rho[np.ix_(charge_A == k, charge_A == k)] / p[k]) for k in range(4) if p[k] > 1e-14)
    assert float(configurational_entropy(psi, A)) == pytest.approx(S_conf, abs=1e-10)
    assert float(number_entropy(psi, A)) <= np.log(len(A) + 1)


def test_number_entropy_gradient_is_finite_at_zero_probabilities():
    theta = jnp.array([0.0, 0.3, np.pi, 1.0])
    g = jax.grad(lambda th: number_entropy(jm.product_state(th), [0, 1, 2]))(theta)
    assert np.all(np.isfinite(np.asarray(g)))


def test_region_entropies_equal_entropy_per_region(rng):
    psi = ref.random_state(rng, N, (2, 3))
    regions = [(0,), (1, 4), (0, 1, 2), (5, 3, 1, 0), tuple(range(N))]
    got = np.asarray(region_entropies(psi, regions, alpha=1))
    want = np.stack([np.asarray(jm.entropy(psi, A)) for A in regions], -1)
    np.testing.assert_allclose(got, want, atol=1e-12)
    got2 = np.asarray(region_entropies(psi, regions, alpha=2))
    want2 = np.stack([np.asarray(jm.entropy(psi, A, alpha=2)) for A in regions], -1)
    np.testing.assert_allclose(got2, want2, atol=1e-12)
    assert got[..., -1].max() < 1e-12  # the whole system is pure


def test_region_entropies_gradient_finite_for_degenerate_spectra():
    theta = jnp.array([0.5, np.pi / 2, 0.0, 1.0])
    g = jax.grad(lambda th: region_entropies(jm.product_state(th), [(0,), (1, 2)]).sum())(theta)
    assert np.all(np.isfinite(np.asarray(g)))


@pytest.mark.parametrize(
    "fn",
    [
        lambda psi: occupations(psi),
        lambda psi: imbalance(psi, N),
        lambda psi: number_distribution(psi, (1, 2)),
        lambda psi: number_entropy(psi, (0, 3, 4)),
        lambda psi: configurational_entropy(psi, (0, 1, 2)),
        lambda psi: region_entropies(psi, [(0,), (2, 3)]),
    ],
)
def test_jit_equals_eager_and_vmap_equals_loop(fn, rng):
    psi = jnp.asarray(sector_state(rng, N, 3, (4,)))
    eager = np.asarray(fn(psi))
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(psi)), eager, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.vmap(fn)(psi)), eager, atol=1e-12)
    np.testing.assert_allclose(np.stack([np.asarray(fn(p)) for p in psi]), eager, atol=1e-12)


def test_bad_inputs():
    psi = jnp.ones(8) / np.sqrt(8)
    with pytest.raises(ValueError, match="psi must have a last axis"):
        occupations(jnp.ones(6))
    with pytest.raises(ValueError, match="lattice has 4 sites"):
        imbalance(psi, jm.Lattice((2, 2)))
    with pytest.raises(ValueError, match="region has sites out of range"):
        number_entropy(psi, [0, 5])
    with pytest.raises(ValueError, match=r"regions\[1\] has duplicate sites"):
        region_entropies(psi, [[0], [1, 1]])
    with pytest.raises(ValueError, match="at least one region"):
        region_entropies(psi, [])
    with pytest.raises(ValueError, match="alpha must be > 0"):
        region_entropies(psi, [[0]], alpha=0)
