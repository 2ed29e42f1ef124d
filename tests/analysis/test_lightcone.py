"""Tests of jaxmbl._analysis.lightcone against dense numpy state vectors (tests/reference.py)."""

import jax
import numpy as np
import pytest
from reference import circuit_dense, generator_dense

import jaxmbl as jm
from jaxmbl._analysis.lightcone import (
    MAX_CONE_SITES,
    cone_entropies,
    eigenstate_entropies,
    light_cone,
    lightcone_entropies,
    lightcone_entropy_stats,
    statevector_entropies,
)


def numpy_entropies(columns, region, n_sites, alpha=1):
    """Entropy of region for every column state of ``columns`` (2**N, K), by SVD in numpy."""
    rest = [r for r in range(n_sites) if r not in region]
    psi = columns.T.reshape((-1,) + (2,) * n_sites)
    M = psi.transpose([0] + [1 + r for r in sorted(region)] + [1 + r for r in rest]).reshape(
        psi.shape[0], 2 ** len(region), -1
    )
    p = np.linalg.svd(M, compute_uv=False) ** 2
    p = p / p.sum(-1, keepdims=True)
    if alpha == 1:
        return -np.sum(np.where(p > 1e-300, p * np.log(np.where(p > 1e-300, p, 1)), 0), -1)
    return np.log(np.sum(p**alpha, -1)) / (1 - alpha)


def dense_unitary(U):
    return circuit_dense(np.asarray(U.gates), U.sites, U.n_sites)


CASES = [
    # (lattice shape, depth, region)
    pytest.param((10,), 4, tuple(range(5)), marks=pytest.mark.slow),  # one cut
    ((10,), 4, (3, 4, 5, 6)),  # two cuts whose cones overlap
    ((10,), 2, (0, 1, 2, 6, 7)),  # several separate components
    ((10,), 5, (0, 2, 4, 6, 8)),  # one big component
    pytest.param((3, 3), None, (0, 1, 3, 4), marks=pytest.mark.slow),  # 2D rectangle
    ((2, 4), None, (0, 5, 2)),  # 2D irregular
]


@pytest.mark.parametrize("shape,depth,region", CASES)
def test_every_eigenstate_matches_dense_reference(shape, depth, region):
    lat = jm.Lattice(shape)
    U = jm.random_circuit(jax.random.key(sum(region) + len(shape)), lat, depth=depth, strength=1.5)
    n = lat.n_sites
    ref = numpy_entropies(dense_unitary(U), region, n)
    got = np.asarray(lightcone_entropies(U, region, jm.basis_bits(n)))
    np.testing.assert_allclose(got, ref, atol=1e-10)
    assert ref.max() > 0.05  # the check is not vacuous


def test_rényi_and_stats_match_reference():
    lat = jm.Lattice((9,))
    U = jm.random_circuit(jax.random.key(3), lat, depth=4, strength=1.5)
    region = (0, 1, 2, 6, 7)
    cols = dense_unitary(U)
    ref2 = numpy_entropies(cols, region, 9, alpha=2)
    np.testing.assert_allclose(lightcone_entropies(U, region, jm.basis_bits(9), alpha=2), ref2, atol=1e-10)
    ref = numpy_entropies(cols, region, 9)
    stats = lightcone_entropy_stats(U, region)
    for name, value in (("mean", ref.mean()), ("max", ref.max()), ("min", ref.min()), ("std", ref.std())):
        np.testing.assert_allclose(stats[name], value, atol=1e-10, err_msg=name)


@pytest.mark.slow
def test_statevector_agreement_at_n12():
    """The light cone against jaxmbl's own state vectors at N = 12 (all 4096 eigenstates, two cuts)."""
    lat = jm.Lattice((12,))
    model = jm.sample_model(jax.random.key(5), lat, max_order=1, depth=4, strength=1.0)
    region = tuple(range(2, 7))
    a = eigenstate_entropies(model, [region], method="lightcone")
    b = statevector_entropies(model, [region])
    np.testing.assert_allclose(a, b, atol=1e-10)


def test_long_chain_tables_are_translation_copies():
    """A cut deep in the bulk of N = 1000 sees the same gates as that cut in a short chain."""
    key = jax.random.key(0)
    big = jm.random_circuit(key, jm.Lattice((1000,)), depth=4)
    cone = light_cone(big, range(500))
    assert len(cone.components) == 1 and len(cone.components[0].sites) <= 2 * 4
    assert all(495 <= s <= 504 for s in cone.cone_sites)
    # entropies of random configurations of 1000 bits: only the cone bits matter
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(4, 1000))
    flipped = bits.copy()
    flipped[:, :400] ^= 1  # far from the cut
    np.testing.assert_allclose(
        lightcone_entropies(big, range(500), bits), lightcone_entropies(big, range(500), flipped), atol=0
    )


def test_components_each_cross_the_cut_and_are_disjoint():
    lat = jm.Lattice((40,))
    U = jm.random_circuit(jax.random.key(1), lat, depth=4)
    region = tuple(range(4, 14)) + tuple(range(24, 34))  # cuts 10 bonds apart: separate cones
    cone = light_cone(U, region)
    assert len(cone.components) == 4
    inside = set(region)
    seen = set()
    for comp in cone.components:
        assert not seen & set(comp.sites)
        seen |= set(comp.sites)
        assert any((a in inside) != (b in inside) for a, b in (U.sites[g] for g in comp.gates))


def test_no_crossing_gate_means_product_states():
    U = jm.random_circuit(jax.random.key(2), jm.Lattice((6,)), depth=0)
    assert light_cone(U, (0, 1, 2)).components == ()
    np.testing.assert_array_equal(lightcone_entropies(U, (0, 1, 2), jm.basis_bits(6)), 0.0)


@pytest.mark.slow
def test_eigenstate_entropies_methods_agree_and_generator_uses_state_vectors():
    lat = jm.Lattice((8,))
    model = jm.sample_models(jax.random.key(4), lat, 2, max_order=1, depth=4, strength=1.0)
    regions = [range(4), (0, 3, 6), (2,)]
    auto = eigenstate_entropies(model, regions)
    dense = eigenstate_entropies(model, regions, method="statevector")
    cone = eigenstate_entropies(model, regions, method="lightcone")
    np.testing.assert_allclose(auto, dense, atol=1e-10)
    np.testing.assert_allclose(cone, dense, atol=1e-10)
    gen = jm.sample_model(jax.random.key(6), jm.Lattice((6,)), max_order=1, unitary="generator", strength=0.8)
    labels, coef = gen.U.to_paulis()
    ref = numpy_entropies(generator_dense(labels, coef), (0, 1, 2), 6)
    np.testing.assert_allclose(eigenstate_entropies(gen, [(0, 1, 2)])[..., 0], ref, atol=1e-9)


@pytest.mark.slow
def test_jit_equals_eager_and_vmap_equals_loop():
    lat = jm.Lattice((10,))
    U = jax.vmap(lambda k: jm.random_circuit(k, lat, depth=4))(jm.realization_keys(jax.random.key(7), 3))
    bits = jm.basis_bits(10)[::7]
    region = (1, 2, 3, 8)
    eager = lightcone_entropies(U, region, bits)
    jitted = jax.jit(lambda U: lightcone_entropies(U, region, bits))(U)
    np.testing.assert_allclose(jitted, eager, atol=1e-12)
    vmapped = jax.vmap(lambda U: lightcone_entropy_stats(U, region)["max"])(U)
    loop = [lightcone_entropy_stats(jax.tree_util.tree_map(lambda x, i=i: x[i], U), region)["max"] for i in range(3)]
    np.testing.assert_allclose(vmapped, np.array(loop), atol=1e-12)
    _, tables = cone_entropies(U, region)
    assert all(t.shape[0] == 3 for t in tables)


def test_bad_inputs():
    lat = jm.Lattice((8,))
    U = jm.random_circuit(jax.random.key(0), lat, depth=2)
    gen = jm.random_generator(jax.random.key(0), lat)
    with pytest.raises(TypeError, match="U must be a jaxmbl.Circuit"):
        light_cone(gen, (0, 1))
    with pytest.raises(ValueError, match="out of range"):
        lightcone_entropies(U, (0, 9), jm.basis_bits(8))
    with pytest.raises(ValueError, match="bits must be an integer array"):
        lightcone_entropies(U, (0, 1), np.zeros((3, 7), int))
    with pytest.raises(ValueError, match="only 0 and 1"):
        lightcone_entropies(U, (0, 1), np.full((3, 8), 2))
    deep = jm.random_circuit(jax.random.key(0), jm.Lattice((24,)), depth=MAX_CONE_SITES)
    with pytest.raises(ValueError, match="MAX_CONE_SITES"):
        cone_entropies(deep, range(12))
    model = jm.sample_model(jax.random.key(0), lat, unitary="generator")
    with pytest.raises(ValueError, match="method='lightcone' needs a circuit"):
        eigenstate_entropies(model, [(0,)], method="lightcone")
    with pytest.raises(ValueError, match="method must be"):
        eigenstate_entropies(model, [(0,)], method="fast")
    with pytest.raises(TypeError, match="model must be a SwingleModel"):
        eigenstate_entropies(U, [(0,)])
