"""Named models against independent numpy constructions with spin-1/2 operators S = sigma/2."""

import itertools
from functools import reduce

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmbl import Lattice
from jaxmbl._hamiltonians.models import random_field_heisenberg, random_local_perturbation

SX = np.array([[0, 0.5], [0.5, 0]])
SY = np.array([[0, -0.5j], [0.5j, 0]])
SZ = np.diag([0.5, -0.5])
SIGMA = {"I": np.eye(2), "X": 2 * SX, "Y": 2 * SY, "Z": 2 * SZ}


def site_ops(ops, n):
    """Kronecker product with ops[r] on site r (a dict) and identities elsewhere; site 0 first."""
    return reduce(np.kron, [ops.get(r, np.eye(2)) for r in range(n)], np.ones((1, 1)))


def heisenberg_reference(bonds, h, J, Jz):
    n = len(h)
    H = sum(h[i] * site_ops({i: SZ}, n) for i in range(n))
    for i, j in bonds:
        H = H + J * (site_ops({i: SX, j: SX}, n) + site_ops({i: SY, j: SY}, n)) + Jz * site_ops({i: SZ, j: SZ}, n)
    return H


def fields_of(H):
    """The sampled fields read off the single-Z coefficients (coefficient h_i / 2 of Z_i)."""
    return np.array([2 * c for label, c in H.to_list() if label.count("Z") == 1 and set(label) <= {"I", "Z"}])


@pytest.mark.parametrize(
    "lattice,J,Jz",
    [
        (Lattice((6,)), 1.0, None),
        (Lattice((5,), pbc=True), 0.7, 0.3),
        (Lattice((2, 3)), 1.0, 2.0),
        (Lattice((3, 3), pbc=True), -1.0, 0.0),
    ],
)
def test_heisenberg_matches_spin_half_reference(lattice, J, Jz):
    H = random_field_heisenberg(jax.random.key(3), lattice, 2.5, J, Jz=Jz)
    h = fields_of(H)
    assert h.shape == (lattice.n_sites,)
    ref = heisenberg_reference(lattice.bonds, h, J, J if Jz is None else Jz)
    np.testing.assert_allclose(H.dense(), ref, atol=1e-12)
    assert H.conserves_total_z() and H.is_hermitian()


def test_heisenberg_coefficients_are_quarter_and_half():
    H = random_field_heisenberg(jax.random.key(0), Lattice((3,)), 0.0, 2.0, Jz=1.0)
    terms = dict(H.to_list())
    assert terms["XXI"] == terms["YYI"] == 0.5 and terms["ZZI"] == 0.25  # J/4, J/4, Jz/4
    assert terms["IZI"] == 0.0


def test_two_site_singlet_triplet():
    # S_1 . S_2 has the singlet at -3/4 and the triplet at +1/4.
    H = random_field_heisenberg(jax.random.key(0), 2, W=0.0)
    np.testing.assert_allclose(np.linalg.eigvalsh(np.asarray(H.dense())), [-0.75, 0.25, 0.25, 0.25], atol=1e-14)


def test_fields_uniform_in_minus_w_w():
    W = 3.0
    keys = jax.random.split(jax.random.key(7), 400)
    Hs = jax.vmap(lambda k: random_field_heisenberg(k, Lattice((8,)), W))(keys)
    h = 2 * np.asarray(Hs.coef[:, -8:]).ravel()
    assert h.min() >= -W and h.max() <= W
    assert h.min() < -0.99 * W and h.max() > 0.99 * W
    assert abs(h.mean()) < 0.05 * W
    np.testing.assert_allclose(h.var(), W**2 / 3, rtol=0.05)
    hist, _ = np.histogram(h, bins=6, range=(-W, W))
    assert hist.min() > 0.85 * len(h) / 6


def test_heisenberg_vmap_equals_loop_and_jit_equals_eager():
    lat = Lattice((2, 3), pbc=(True, False))
    keys = jax.random.split(jax.random.key(1), 3)
    f = lambda k: random_field_heisenberg(k, lat, 4.0, 1.0, Jz=0.5)  # noqa: E731
    batch = jax.vmap(f)(keys)
    jitted = jax.jit(jax.vmap(f))(keys)
    psi = np.random.default_rng(0).normal(size=(3, 64)) + 0j
    applied = jax.jit(jax.vmap(lambda H, p: H.apply(p)))(batch, psi)
    for b, key in enumerate(keys):
        H = f(key)
        np.testing.assert_array_equal(batch.paulis[b], H.paulis)
        np.testing.assert_allclose(batch.coef[b], H.coef, rtol=1e-15)
        np.testing.assert_allclose(jitted.coef[b], H.coef, rtol=1e-15)
        np.testing.assert_allclose(applied[b], np.asarray(H.dense()) @ psi[b], atol=1e-12)


def test_heisenberg_gradient_in_J():
    lat, psi = Lattice((4,)), np.random.default_rng(2).normal(size=16) + 0j
    key = jax.random.key(5)

    def energy(J):
        return jnp.real(random_field_heisenberg(key, lat, 1.0, J).expectation(psi))

    eps = 1e-6
    fd = (energy(1.0 + eps) - energy(1.0 - eps)) / (2 * eps)
    np.testing.assert_allclose(jax.grad(energy)(1.0), fd, rtol=1e-7)


def test_float32_mode():
    H = random_field_heisenberg(jax.random.key(0), 4, 1.0, dtype=jnp.float32)
    assert H.coef.dtype == jnp.float32


# ----------------------------------------------------------------------------- perturbations
def cluster_of(label):
    return tuple(r for r, ch in enumerate(label) if ch != "I")


@pytest.mark.parametrize(
    "lattice,k,n_clusters",
    [
        (Lattice((5,)), 1, 5),
        (Lattice((5,)), 2, 4),
        (Lattice((5,), pbc=True), 2, 5),
        (Lattice((5,)), 3, 3),
        (Lattice((2, 3)), 2, 7),
        (Lattice((2, 3)), 3, 10),
    ],
)
def test_local_perturbation_structure_and_norm(lattice, k, n_clusters):
    norm = 0.7
    V = random_local_perturbation(jax.random.key(2), lattice, k=k, norm=norm)
    terms = V.to_list()
    assert V.n_terms == n_clusters * 3**k
    assert V.is_hermitian()
    bonds = set(lattice.bonds)
    by_cluster = {}
    for label, c in terms:
        sites = cluster_of(label)
        assert len(sites) == k
        # connected along lattice bonds: growing from one site reaches all of them
        reached, frontier = {sites[0]}, [sites[0]]
        while frontier:
            i = frontier.pop()
            for j in sites:
                if j not in reached and ((min(i, j), max(i, j)) in bonds):
                    reached.add(j)
                    frontier.append(j)
        assert reached == set(sites)
        by_cluster.setdefault(sites, []).append((label, c))
    assert len(by_cluster) == n_clusters
    for sites, local in by_cluster.items():
        h = sum(c * reduce(np.kron, [SIGMA[label[r]] for r in sites], np.ones((1, 1))) for label, c in local)
        np.testing.assert_allclose(np.abs(np.linalg.eigvalsh(h)).max(), norm, rtol=1e-12)


def test_local_perturbation_vmap_equals_loop():
    lat = Lattice((2, 2), pbc=True)
    keys = jax.random.split(jax.random.key(4), 3)
    f = lambda k: random_local_perturbation(k, lat, k=3, norm=2.0)  # noqa: E731
    batch = jax.jit(jax.vmap(f))(keys)
    for b, key in enumerate(keys):
        V = f(key)
        np.testing.assert_array_equal(batch.paulis[b], V.paulis)
        np.testing.assert_allclose(batch.coef[b], V.coef, rtol=1e-13)
    assert not np.allclose(batch.coef[0], batch.coef[1])


def test_k_local_clusters_in_2d_are_all_connected_triples():
    lat = Lattice((3, 3))
    V = random_local_perturbation(jax.random.key(0), lat, k=3)
    got = {cluster_of(label) for label, _ in V.to_list()}
    # three sites are connected iff at least two of their pairs are bonds
    bonds = set(lat.bonds)
    triples = itertools.combinations(range(9), 3)
    expected = {t for t in triples if sum(p in bonds for p in itertools.combinations(t, 2)) >= 2}
    assert got == expected


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: random_field_heisenberg(jax.random.key(0), 4, -1.0), "W"),
        (lambda: random_field_heisenberg(jax.random.key(0), 4, np.nan), "W"),
        (lambda: random_field_heisenberg(jax.random.key(0), 4, 1.0, J=np.inf), "J"),
        (lambda: random_field_heisenberg(jax.random.key(0), 4, 1.0, Jz=1j), "Jz"),
        (lambda: random_local_perturbation(jax.random.key(0), 4, k=0), "k"),
        (lambda: random_local_perturbation(jax.random.key(0), 4, k=5), "k"),
        (lambda: random_local_perturbation(jax.random.key(0), 4, norm=0.0), "norm"),
        (lambda: random_local_perturbation(jax.random.key(0), Lattice((1,)), k=1, norm=-1), "norm"),
    ],
)
def test_model_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_lattice_of_the_wrong_type():
    with pytest.raises(TypeError, match="lattice"):
        random_field_heisenberg(jax.random.key(0), "chain", 1.0)
