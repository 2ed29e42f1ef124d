"""Planted recovery: fit_lbits on Swingle models whose U is a brickwork of depth D, fitted at depth D and D + 1.

The references are independent of the fit: the exact spectrum from numpy's eigvalsh of the dense H,
the planted couplings read from the sampled model, and the fitted pair couplings from the fitted
energies by inclusion-exclusion, ``J_ij = E(ij) - E(i) - E(j) + E(0)``, after relabelling each l-bit
(``n_r -> 1 - n_r``) so that the fitted E(n) matches the planted one.
"""

import functools

import jax.random as jr
import numpy as np
import optax
import pytest
import reference as ref

import jaxmbl as jm


@functools.cache
def planted(n_sites, depth, seed):
    model = jm.sample_model(jr.key(seed), n_sites, depth=depth, strength=0.5, max_order=2)
    H = np.asarray(jm.dense_hamiltonian(model))
    E_planted = np.real(np.diag(ref.h0_dense(n_sites, ref.h0_terms(model.h0))))
    return model, H, E_planted


def pair_couplings(E, n_sites):
    """J_ij from energies E(n) by inclusion-exclusion over the basis states 0, {i}, {j}, {i, j}."""

    def e(*sites):
        return E[ref.index_of([1 if r in sites else 0 for r in range(n_sites)])]

    return {(i, j): e(i, j) - e(i) - e(j) + e() for i in range(n_sites) for j in range(i + 1, n_sites)}


def relabelled(E_fit, E_planted):
    """E_fit(n XOR m) for the flip mask m that best matches the planted energies (all 2^N masks)."""
    idx = np.arange(E_fit.size)
    errs = [np.abs(E_fit[idx ^ m] - E_planted).max() for m in idx]
    m = int(np.argmin(errs))
    return E_fit[idx ^ m], m


def check_recovery(n_sites, depth, extra, seed, steps, optimizer=None):
    model, H, E_planted = planted(n_sites, depth, seed)
    fit = jm.fit_lbits(jr.key(100 + seed), H, n_sites, depth=depth + extra, steps=steps, optimizer=optimizer)
    assert fit.info["residual_per_site"] < 1e-8, fit.info["final_cost"]
    E_fit = np.real(np.diag(ref.h0_dense(n_sites, ref.h0_terms(fit.h0)))) + fit.info["offset"]
    exact = np.linalg.eigvalsh(H)
    scale = np.abs(exact).max()
    assert np.abs(np.sort(E_fit) - exact).max() <= 1e-6 * scale
    assert jm.spectrum_fraction(fit, H, rtol=1e-6) == 1.0
    E_rel, mask = relabelled(E_fit, E_planted)
    assert np.abs(E_rel - E_planted).max() <= 1e-6 * scale, mask
    want = dict.fromkeys(pair_couplings(E_planted, n_sites), 0.0)
    want.update({s: J for s, J in ref.h0_terms(model.h0) if len(s) == 2})
    got = pair_couplings(E_rel, n_sites)
    worst = max(abs(got[s] - want[s]) for s in want)
    assert worst <= 1e-4, worst
    return fit


def test_pair_coupling_reference_reads_the_planted_couplings():
    model, _, E_planted = planted(6, 1, 0)
    got = pair_couplings(E_planted, 6)
    for s, J in ref.h0_terms(model.h0):
        if len(s) == 2:
            assert got[s] == pytest.approx(J, abs=1e-12)


@pytest.mark.slow
def test_planted_recovery_n8_at_the_planted_depth():
    check_recovery(8, 1, 0, 0, steps=300)


@pytest.mark.slow
def test_planted_recovery_n8_one_layer_deeper():
    check_recovery(8, 1, 1, 1, steps=100, optimizer=optax.lbfgs())


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("extra", [0, 1])
def test_planted_recovery_n8_depth2(extra, seed):
    check_recovery(8, 2, extra, seed, steps=400 if extra == 0 else 250, optimizer=None if extra == 0 else optax.lbfgs())


@pytest.mark.slow  # dense N = 10: three 1024^3 complex products per step, 4-7 minutes per case on 2 cores
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("extra", [0, 1])
def test_planted_recovery_n10(extra, seed):
    check_recovery(
        10, 2, extra, seed, steps=400 if extra == 0 else 250, optimizer=None if extra == 0 else optax.lbfgs()
    )


@pytest.mark.slow
def test_local_route_recovers_a_planted_pauli_model():
    """The local (light-cone) route on the PauliSum of a planted model with bounded-range H0."""
    n, depth = 6, 1
    model = jm.sample_model(jr.key(5), n, depth=depth, strength=0.5, max_order=2, max_range=1)
    H = np.asarray(jm.dense_hamiltonian(model))
    P = jm.PauliSum(*ref.pauli_decompose(H, n, 1e-14), n)
    fit = jm.fit_lbits(jr.key(6), P, n, depth=depth, steps=300)
    assert fit.info["method"] == "local"
    assert fit.info["residual_per_site"] < 1e-8
    assert jm.spectrum_fraction(fit, H) == 1.0
