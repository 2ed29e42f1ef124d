"""H0 (LbitHamiltonian): energies, Moebius inverse, sampling law, long-time phases."""

import itertools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._swingle.lbits import lbit_phase_factors

T_LONG = 1e12


def _as_dict(h0):
    return dict(ref.h0_terms(h0))


# ----------------------------------------------------------------------------- energies
def test_energies_hand_example():
    # N=3, H0 = 1.0 P0 + 0.5 P2 - 0.25 P0 P2 + 0.125 P0 P1 P2.
    h0 = jm.lbit_hamiltonian(3, {(0,): 1.0, (2,): 0.5, (2, 0): -0.25, (0, 1, 2): 0.125})
    E = np.asarray(jm.energies(h0))
    expected = {0b000: 0.0, 0b001: 0.5, 0b010: 0.0, 0b011: 0.5, 0b100: 1.0, 0b101: 1.25, 0b110: 1.0, 0b111: 1.375}
    np.testing.assert_array_equal(E, [expected[n] for n in range(8)])
    assert h0.sites == (((0,), (2,)), ((0, 2),), ((0, 1, 2),))  # site tuples are sorted


@pytest.mark.parametrize(
    "shape,pbc,max_order",
    [((6,), True, 3), ((7,), False, 4), ((2, 3), False, 3), ((2, 4), (True, False), 3)],
)
def test_energies_equal_diagonal_of_dense_h0(shape, pbc, max_order):
    lat = jm.Lattice(shape, pbc)
    h0 = jm.sample_lbit_hamiltonian(jr.key(7), lat, xi=1.3, J0=1.5, max_order=max_order)
    H0 = ref.h0_dense(lat.n_sites, ref.h0_terms(h0))
    np.testing.assert_allclose(H0, np.diag(np.diag(H0)), atol=0)  # commuting projectors: diagonal
    np.testing.assert_allclose(np.asarray(jm.energies(h0)), np.diag(H0).real, atol=1e-13)


@pytest.mark.parametrize("shape", [(6,), (2, 3)])
def test_moebius_recovers_couplings(shape):
    lat = jm.Lattice(shape)
    h0 = jm.sample_lbit_hamiltonian(jr.key(3), lat, xi=1.0, max_order=3)
    E = np.diag(ref.h0_dense(lat.n_sites, ref.h0_terms(h0))).real  # independent energies
    back = jm.couplings_from_energies(E)
    want, got = _as_dict(h0), _as_dict(back)
    assert set(got) == {s for s, J in want.items() if J != 0}
    for s, J in want.items():
        assert abs(got[s] - J) <= 1e-13, (s, got[s], J)


def test_moebius_generic_energies_round_trip(rng):
    # Any E with E[0] = 0 is some H0 (all 2**N - 1 couplings, up to order N).
    E = np.concatenate([[0.0], rng.normal(size=31)])
    h0 = jm.couplings_from_energies(E)
    assert h0.orders == (1, 2, 3, 4, 5)
    np.testing.assert_allclose(np.diag(ref.h0_dense(5, ref.h0_terms(h0))).real, E, atol=1e-13)
    with pytest.raises(ValueError, match="max_order"):
        jm.couplings_from_energies(E, max_order=3)


# ----------------------------------------------------------------------------- sampling law
@pytest.mark.parametrize(
    "shape,pbc,xi,J0",
    [((8,), True, 0.8, 2.5), ((8,), False, 1.7, 1.0), ((3, 3), False, 0.8, 1.0), ((2, 4), True, 1.1, 0.7)],
)
def test_sampling_law(shape, pbc, xi, J0):
    lat = jm.Lattice(shape, pbc)
    max_extent = 2.5  # no MST length on these lattices is within 0.05 of 2.5
    cutoff = float(np.exp(-max_extent / xi))
    dist = ref.lattice_distances(shape, pbc)
    mst = {S: ref.mst_length(dist, S) for S in ref.subsets_up_to(lat.n_sites, 3)}
    assert min(abs(m - max_extent) for m in mst.values()) > 0.05
    expected = {S for S, m in mst.items() if m <= max_extent}
    assert any(m > max_extent for m in mst.values())  # the cutoff really drops something here

    hs = [jm.sample_lbit_hamiltonian(k, lat, xi=xi, J0=J0, max_order=3, cutoff=cutoff) for k in jr.split(jr.key(0), 4)]
    onsite, ratios = [], []
    for h0 in hs:
        terms = _as_dict(h0)
        assert set(terms) == expected
        for S, J in terms.items():
            if len(S) == 1:
                assert 0.0 <= J <= J0
                onsite.append(J / J0)
            else:
                envelope = J0 * np.exp(-mst[S] / xi)
                assert abs(J) <= envelope * (1 + 1e-12)
                ratios.append(J / envelope)
    # The random factors really fill [0, 1] and [-1, 1] (not, say, a constant envelope).
    assert min(onsite) < 0.25 and max(onsite) > 0.75
    assert min(ratios) < -0.5 and max(ratios) > 0.5


def test_sampling_is_a_pure_function_of_the_key():
    lat = jm.Lattice((2, 3))
    a = jm.sample_lbit_hamiltonian(jr.key(5), lat)
    b = jm.sample_lbit_hamiltonian(jr.key(5), lat)
    c = jm.sample_lbit_hamiltonian(jr.key(6), lat)
    for x, y in zip(a.coef, b.coef):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
    assert not np.array_equal(np.asarray(a.coef[0]), np.asarray(c.coef[0]))


def test_default_sampling_keeps_all_low_orders():
    # cutoff=1e-12 keeps every set with MST <= 27.6: on a chain of 6, all pairs and triples.
    h0 = jm.sample_lbit_hamiltonian(jr.key(0), jm.Lattice((6,)), xi=1.0)
    assert [len(g) for g in h0.sites] == [6, 15, 20]


# ----------------------------------------------------------------------------- long-time phases
def test_reduce_phase_matches_extended_precision_at_1e12(rng):
    J = np.concatenate([rng.uniform(-1, 1, 300), rng.uniform(0, 5, 100), [0.0, 1.0, -1.0, np.pi, 1e-7]])
    got = np.asarray(jm.reduce_phase(jnp.asarray(J), T_LONG))
    want = np.array([ref.phase_mod_2pi_mp([j], T_LONG) for j in J])
    err = ref.angle_diff(got, want)
    assert err.max() <= 1e-9, err.max()
    assert err.max() <= 1e-12  # what the design promises (~1e-13)
    assert np.all(np.abs(got) <= np.pi + 1e-9)
    # The test has teeth: the naive J*t mod 2 pi is off by ~1e-5..1e-4 rad here.
    naive = np.mod(J * T_LONG, 2 * np.pi)
    naive_err = ref.angle_diff(naive, want).max()
    assert 1e-6 < naive_err < 1e-2, naive_err


@pytest.mark.parametrize("t", [0.0, 1e-2, 3.0, 123456.789, 1e9, 7.3e13])
def test_reduce_phase_other_times(t, rng):
    J = rng.uniform(-2, 2, 50)
    got = np.asarray(jm.reduce_phase(jnp.asarray(J), t))
    want = np.array([ref.phase_mod_2pi_mp([j], t) for j in J])
    assert ref.angle_diff(got, want).max() <= 1e-11


@pytest.mark.parametrize("t", [0.0, 0.37, 1e6, T_LONG])
@pytest.mark.parametrize("shape", [(6,), (2, 3)])
def test_lbit_phase_factors_against_extended_precision(shape, t):
    """exp(-i E(n) t) by products over subsets: phase to 1e-12 rad (mpmath), modulus 1 to 1e-13."""
    lat = jm.Lattice(shape)
    h0 = jm.sample_lbit_hamiltonian(jr.key(12), lat, xi=1.0, max_order=3)
    got = np.asarray(lbit_phase_factors(h0, t))
    want = ref.energy_phases_mp(ref.h0_terms(h0), lat.n_sites, t)
    assert ref.angle_diff(-np.angle(got), want).max() <= 1e-12
    assert np.abs(np.abs(got) - 1).max() <= 1e-13
    assert got.dtype == np.complex128
    if t == T_LONG:  # the test has teeth: the naive E(n) t loses > 1e-6 rad here
        naive = np.asarray(jm.energies(h0)) * T_LONG
        assert ref.angle_diff(naive, want).max() > 1e-6


def test_lbit_phase_factors_jit_vmap_and_gradient():
    h0 = jm.sample_lbit_hamiltonian(jr.key(13), jm.Lattice((5,)), max_order=2)
    ts = jnp.array([0.1, 2.0, 1e9])
    eager = np.stack([np.asarray(lbit_phase_factors(h0, t)) for t in ts])
    batched = jax.jit(jax.vmap(lambda t: lbit_phase_factors(h0, t)))(ts)
    np.testing.assert_allclose(np.asarray(batched), eager, rtol=0, atol=1e-15)
    # d/dJ_S of Re sum_n w_n exp(-i E(n) t): -t sum_{n contains S} w_n sin(E(n) t), from the dense energies.
    w = np.linspace(0.5, 1.5, 2**5)
    t = 0.7

    def f(h):
        return jnp.sum(w * jnp.real(lbit_phase_factors(h, t)))

    g = jax.grad(f)(h0)
    E = np.real(np.diag(ref.h0_dense(5, ref.h0_terms(h0))))  # independent dense H0
    masks = h0.masks()
    want = [-t * np.sum(w * np.sin(E * t) * ((np.arange(2**5) & m) == m)) for m in masks]
    np.testing.assert_allclose(np.concatenate([np.asarray(c) for c in g.coef]), want, rtol=1e-12, atol=1e-14)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("xi", [0.0, -1.0, np.nan, np.inf, "big"])
def test_bad_xi(xi):
    with pytest.raises(ValueError, match="xi"):
        jm.sample_lbit_hamiltonian(jr.key(0), jm.Lattice((4,)), xi=xi)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(J0=0.0), "J0"),
        (dict(J0=-1.0), "J0"),
        (dict(max_order=0), "max_order"),
        (dict(cutoff=0.0), "cutoff"),
        (dict(cutoff=1.5), "cutoff"),
    ],
)
def test_bad_sampling_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        jm.sample_lbit_hamiltonian(jr.key(0), jm.Lattice((4,)), **kwargs)


@pytest.mark.parametrize(
    "n_sites,terms,match",
    [
        (2, {(0,): np.nan}, "non-finite"),
        (2, {(0, 1): np.inf}, "non-finite"),
        (2, {(0,): -np.inf}, "non-finite"),
        (0, {(0,): 1.0}, "n_sites"),
        (-3, {(0,): 1.0}, "n_sites"),
        (3, {(1, 1): 1.0}, "repeated site"),
        (3, {(0, 3): 1.0}, "out of range"),
        (3, {(-1,): 1.0}, "out of range"),
        (3, [((0, 1), 1.0), ((1, 0), 2.0)], "twice"),
        (3, {(): 1.0}, "empty"),
        (3, {}, "no couplings"),
    ],
)
def test_bad_lbit_hamiltonian(n_sites, terms, match):
    with pytest.raises(ValueError, match=match):
        jm.lbit_hamiltonian(n_sites, terms)


@pytest.mark.parametrize("n_sites", [2.5, True, "3"])
def test_n_sites_of_the_wrong_type(n_sites):
    with pytest.raises(TypeError, match="n_sites must be an integer"):
        jm.lbit_hamiltonian(n_sites, {(0,): 1.0})


def test_bad_energies_for_moebius():
    with pytest.raises(ValueError, match=r"E\[0\]"):
        jm.couplings_from_energies(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="shape"):
        jm.couplings_from_energies(np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        jm.couplings_from_energies(np.zeros((2, 4)))


def test_n_sites_below_one_lattice():
    with pytest.raises(ValueError, match="shape"):
        jm.sample_lbit_hamiltonian(jr.key(0), jm.Lattice((0,)))


def test_all_subsets_enumerated_once():
    # lbit_terms grows sets site by site; check no set is duplicated and orders are grouped.
    h0 = jm.sample_lbit_hamiltonian(jr.key(1), jm.Lattice((3, 3), True), xi=1.0, max_order=3)
    flat = [s for g in h0.sites for s in g]
    assert len(flat) == len(set(flat))
    assert set(flat) == set(itertools.chain.from_iterable(itertools.combinations(range(9), k) for k in (1, 2, 3)))
