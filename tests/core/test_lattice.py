"""Lattice geometry against brute-force references and hand counts."""

import numpy as np
import pytest
import reference as ref

import jaxmbl as jm

SHAPES = [
    ((1,), False),
    ((1,), True),
    ((2,), True),
    ((3,), True),
    ((6,), False),
    ((7,), True),
    ((8,), True),
    ((2, 2), True),
    ((2, 3), (True, False)),
    ((3, 3), True),
    ((3, 4), False),
    ((4, 4), True),
    ((2, 2, 2), False),
    ((2, 2, 2), True),
    ((3, 3, 3), True),
    ((2, 3, 4), (False, True, True)),
]


def test_coords_are_row_major():
    lat = jm.Lattice((2, 3))
    np.testing.assert_array_equal(lat.coords, [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    lat3 = jm.Lattice((2, 3, 4))
    np.testing.assert_array_equal(lat3.coords, ref.lattice_coords((2, 3, 4)))
    for i, c in enumerate(lat3.coords):
        assert lat3.site(c) == i == 12 * c[0] + 4 * c[1] + c[2]
    assert jm.Lattice((2, 3), pbc=True).site((-1, 4)) == jm.Lattice((2, 3)).site((1, 1))


@pytest.mark.parametrize("shape,pbc", SHAPES)
def test_bonds_match_bruteforce(shape, pbc):
    lat = jm.Lattice(shape, pbc)
    bonds = lat.bonds
    assert len(set(bonds)) == len(bonds), "duplicate bonds"
    assert all(i < j for i, j in bonds)
    assert set(bonds) == ref.lattice_bonds(shape, pbc)


@pytest.mark.parametrize(
    "shape,pbc,count",
    [
        ((8,), False, 7),
        ((8,), True, 8),
        ((3,), True, 3),
        ((2,), True, 1),  # the wrap bond would duplicate the open one
        ((1,), True, 0),
        ((3, 4), False, 3 * 3 + 2 * 4),
        ((3, 4), True, 2 * 12),
        ((2, 4), True, 4 + 8),  # axis of length 2: one bond per column pair
        ((2, 2), True, 4),
        ((3, 4), (True, False), 3 * 3 + 3 * 4),
        ((2, 2, 2), False, 12),
        ((3, 3, 3), True, 81),
        ((3, 3, 3), False, 54),
    ],
)
def test_bond_counts(shape, pbc, count):
    assert len(jm.Lattice(shape, pbc).bonds) == count


@pytest.mark.parametrize("shape,pbc", SHAPES)
def test_bond_layers_disjoint_and_covering(shape, pbc):
    lat = jm.Lattice(shape, pbc)
    flat = [b for layer in lat.bond_layers for b in layer]
    assert sorted(flat) == sorted(lat.bonds)  # every bond exactly once
    for layer in lat.bond_layers:
        sites = [s for b in layer for s in b]
        assert len(sites) == len(set(sites)), f"layer {layer} reuses a site"


def test_bond_layers_1d_brickwork():
    assert jm.Lattice((6,)).bond_layers == (((0, 1), (2, 3), (4, 5)), ((1, 2), (3, 4)))
    assert jm.Lattice((6,), True).bond_layers == (((0, 1), (2, 3), (4, 5)), ((0, 5), (1, 2), (3, 4)))


@pytest.mark.parametrize("shape,pbc", SHAPES)
def test_distances_minimum_image(shape, pbc):
    lat = jm.Lattice(shape, pbc)
    np.testing.assert_allclose(lat.distances, ref.lattice_distances(shape, pbc), atol=1e-14)
    np.testing.assert_allclose(lat.distances, lat.distances.T)


def test_distances_hand_values():
    assert jm.Lattice((6,), True).distance(0, 5) == 1.0
    assert jm.Lattice((6,), True).distance(0, 3) == 3.0
    assert jm.Lattice((6,), False).distance(0, 5) == 5.0
    lat = jm.Lattice((4, 4), True)
    assert np.isclose(lat.distance(0, lat.site((3, 3))), np.sqrt(2))
    lat = jm.Lattice((4, 4), False)
    assert np.isclose(lat.distance(0, lat.site((3, 3))), np.sqrt(18))


def _boundary_bruteforce(shape, pbc, region):
    region = set(region)
    return sum((i in region) != (j in region) for i, j in ref.lattice_bonds(shape, pbc))


@pytest.mark.parametrize(
    "shape,pbc,region_fn,count",
    [
        ((8,), False, lambda L: L.block(2, 3), 2),
        ((8,), False, lambda L: L.block(0, 3), 1),
        ((8,), False, lambda L: L.block(0, 8), 0),
        ((8,), True, lambda L: L.block(6, 4), 2),  # wraps: sites 6, 7, 0, 1
        ((8,), True, lambda L: L.block(0, 4), 2),
        ((8,), False, lambda L: L.region([0, 2, 5]), 1 + 2 + 2),  # non-contiguous
        ((4, 4), False, lambda L: L.rectangle((1, 1), (2, 2)), 8),
        ((4, 4), False, lambda L: L.rectangle((0, 0), (2, 4)), 4),
        ((4, 4), True, lambda L: L.rectangle((0, 0), (2, 4)), 8),
        ((4, 4), True, lambda L: L.rectangle((3, 3), (2, 2)), 8),  # wraps around both axes
        ((3, 3), False, lambda L: L.region([0, 4, 8]), 2 + 4 + 2),  # diagonal: no internal bond
        ((3, 3), False, lambda L: L.region([0, 1, 4]), 1 + 1 + 3),  # L-shape
        ((3, 3), False, lambda L: L.region([4]), 4),
        ((2, 2, 2), False, lambda L: L.region([0]), 3),
    ],
)
def test_boundary_size_hand_counted(shape, pbc, region_fn, count):
    lat = jm.Lattice(shape, pbc)
    region = region_fn(lat)
    assert lat.boundary_size(region) == count
    assert _boundary_bruteforce(shape, pbc, region) == count  # the hand count itself is right
    assert all((b[0] in region) != (b[1] in region) for b in lat.boundary_bonds(region))


def test_block_and_rectangle_sites():
    assert jm.Lattice((8,), True).block(6, 4) == (0, 1, 6, 7)
    assert jm.Lattice((4, 4)).rectangle((1, 1), (2, 2)) == (5, 6, 9, 10)
    assert jm.Lattice((8,)).region([5, 1, 3]) == (1, 3, 5)


@pytest.mark.parametrize(
    "make",
    [
        lambda: jm.Lattice((0,)),
        lambda: jm.Lattice((3, -1)),
        lambda: jm.Lattice((2, 2, 2, 2)),
        lambda: jm.Lattice(()),
        lambda: jm.Lattice((4, 4), pbc=(True,)),
        lambda: jm.Lattice(("a",)),
    ],
)
def test_bad_lattice(make):
    with pytest.raises(ValueError, match="shape|pbc"):
        make()


def test_bad_regions():
    lat = jm.Lattice((2, 3))
    with pytest.raises(ValueError, match="out of range"):
        lat.region([0, 6])
    with pytest.raises(ValueError, match="out of range"):
        lat.region([-1])
    with pytest.raises(ValueError, match="duplicate"):
        lat.region([1, 1, 2])
    with pytest.raises(ValueError, match="integer"):
        lat.region([0.5])
    with pytest.raises(ValueError, match="duplicate"):
        jm.validate_region([3, 3], 5)
    with pytest.raises(ValueError, match="1D"):
        lat.block(0, 2)
    with pytest.raises(ValueError, match="extent"):
        lat.rectangle((0, 0), (3, 1))
    with pytest.raises(ValueError, match="outside"):
        lat.rectangle((1, 0), (2, 1))  # open lattice: row 2 does not exist
    with pytest.raises(ValueError, match="coord"):
        lat.site((0,))
    with pytest.raises(ValueError, match="outside"):
        lat.site((0, 3))
    with pytest.raises(ValueError, match="region"):
        lat.boundary_size([7])
