"""coupling_decay and spectrum_fraction against numpy: hand-built couplings, exact decay, Weyl shifts."""

import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm


def test_coupling_decay_recovers_an_exact_exponential():
    n, xi = 10, 0.8
    terms = {(r,): 1.0 for r in range(n)}
    terms.update({(i, j): 2.0 * np.exp(-(j - i) / xi) for i in range(n) for j in range(i + 1, n)})
    dec = jm.coupling_decay(jm.lbit_hamiltonian(n, terms))
    np.testing.assert_array_equal(dec.distance, np.arange(1, n))
    np.testing.assert_array_equal(dec.count, n - np.arange(1, n))
    np.testing.assert_allclose(dec.typical, 2.0 * np.exp(-np.arange(1, n) / xi), rtol=1e-12)
    np.testing.assert_allclose(dec.mean_abs, dec.typical, rtol=1e-12)
    assert dec.xi == pytest.approx(xi, rel=1e-10)
    assert dec.xi_err == pytest.approx(0.0, abs=1e-8)


def test_coupling_decay_groups_by_mst_length_and_averages_logs():
    # Order-3 terms on a chain: {0,1,2} has ell 2, {0,1,3} ell 3, {0,2,4} ell 4, {1,2,3} ell 2.
    terms = {(0, 1, 2): 0.5, (1, 2, 3): -0.125, (0, 1, 3): 0.1, (0, 2, 4): 0.01, (0,): 1.0}
    dec = jm.coupling_decay(jm.lbit_hamiltonian(5, terms), order=3)
    np.testing.assert_array_equal(dec.distance, [2.0, 3.0, 4.0])
    np.testing.assert_allclose(dec.typical, [np.sqrt(0.5 * 0.125), 0.1, 0.01], rtol=1e-12)
    np.testing.assert_allclose(dec.mean_abs, [(0.5 + 0.125) / 2, 0.1, 0.01], rtol=1e-12)
    slope = np.polyfit(dec.distance, np.log(dec.typical), 1)[0]
    assert dec.xi == pytest.approx(-1 / slope, rel=1e-10)


def test_coupling_decay_uses_the_lattice_distance_and_the_floor():
    lat = jm.Lattice((3, 3))
    terms = {(0,): 1.0, (0, 1): 0.5, (0, 4): 0.3, (0, 8): 1e-15}
    dec = jm.coupling_decay(jm.lbit_hamiltonian(lat.n_sites, terms), lat)
    np.testing.assert_allclose(dec.distance, [1.0, np.sqrt(2), 2 * np.sqrt(2)])
    assert np.isnan(dec.xi)  # two extents above the default floor: no fit


@pytest.mark.slow  # mostly compilation of a fit
def test_coupling_decay_on_a_sampled_model_and_a_fit():
    model = jm.sample_model(jr.key(0), 12, xi=0.6, max_order=2)
    assert jm.coupling_decay(model).xi == pytest.approx(0.6, rel=0.35)
    fit = jm.fit_lbits(jr.key(1), np.asarray(jm.dense_hamiltonian(jm.sample_model(jr.key(2), 4))), 4, depth=1, steps=5)
    assert jm.coupling_decay(fit).distance[0] == 1.0


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_spectrum_fraction_counts_shifted_levels():
    model = jm.sample_model(jr.key(3), 5)
    H = np.asarray(jm.dense_hamiltonian(model))
    assert jm.spectrum_fraction(model, H) == 1.0
    E = np.sort(np.linalg.eigvalsh(H))
    V = np.linalg.eigh(H)[1]
    shifted = E.copy()
    shifted[[0, -1]] += np.array([-1e-3, 1e-3]) * np.abs(E).max()  # the extremes: no reordering
    H2 = (V * shifted) @ V.conj().T
    assert jm.spectrum_fraction(model, H2, rtol=1e-6) == pytest.approx(30 / 32)
    assert jm.spectrum_fraction(model, H2, rtol=1e-2) == 1.0
    assert jm.spectrum_fraction(model, H + 0.5 * np.eye(32), offset=0.5) == 1.0


def test_errors():
    h0 = jm.lbit_hamiltonian(3, {(0,): 1.0, (0, 1): 0.5})
    with pytest.raises(jm.JaxmblError, match="order"):
        jm.coupling_decay(h0, order=1)
    with pytest.raises(jm.JaxmblError, match="no couplings of order 3"):
        jm.coupling_decay(h0, order=3)
    with pytest.raises(jm.JaxmblError, match="floor"):
        jm.coupling_decay(h0, floor=-1.0)
    with pytest.raises(jm.JaxmblError, match="sites"):
        jm.coupling_decay(h0, 4)
    with pytest.raises(jm.JaxmblError, match="LbitHamiltonian"):
        jm.coupling_decay(np.ones(3))
    model = jm.sample_model(jr.key(0), 3)
    with pytest.raises(jm.JaxmblError, match="shape"):
        jm.spectrum_fraction(model, np.eye(4))
    with pytest.raises(jm.JaxmblError, match="rtol"):
        jm.spectrum_fraction(model, np.eye(8), rtol=-1.0)
