"""Claim C8 of ``jaxmbl reproduce`` (stability to perturbations, paper §IV).

It passes at "small" (the size ``jaxmbl reproduce`` runs by default) and at "tiny", and fails for
the negative controls that break what it rests on:

* a Haar-random dense U (``jm.haar_models``): the eigenstates U|n> are random vectors, so a local
  V connects each to every other and chi_typ grows like the inverse level spacing, (b) fails;
* a disorder-free, translation-invariant H0 (``jm.clean_models``): its l-bit spectrum is
  degenerate, not Poisson, so the g = 0 end of (c) fails.

The helpers are checked against independent dense references; a reduced size ("micro", added
here) runs the whole claim in seconds and checks that it is reproducible from its key.
"""

import itertools

import jax.random as jr
import numpy as np
import pytest
from claim_checks import assert_passes_and_is_reported, checks, run_tiny

import jaxmbl as jm
from jaxmbl.reproduce import ClaimContext
from jaxmbl.reproduce import c8_stability as c8

MICRO = dict(
    n_chi=(4, 6, 8), realizations=2, probe_sites=1, states=4, state_batch=4,
    heis={4: 2, 6: 2, 8: 2}, heis_ergodic={4: 2, 6: 2, 8: 2}, heis_sites=1, heis_states=8,
    n_resonant=(4, 6, 8), resonant_realizations=1, resonant_samples=8,
    n_dense=4, perturbed={4: 2, 6: 2},
)  # fmt: skip

PAULI = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]], complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]),
}


def pauli_string(n, letters):
    """Dense ``⊗_i letters[i]``, site 0 the most significant bit (jaxmbl's convention)."""
    out = np.eye(1)
    for i in range(n):
        out = np.kron(out, PAULI[letters.get(i, "I")])
    return out


# ---------------------------------------------------------------------------- the claim and its controls
@pytest.mark.slow
def test_c8_passes_at_small(tmp_path):
    result = c8.run(ClaimContext(size="small", seed=0, out_dir=tmp_path, progress=lambda f, m: None))
    assert_passes_and_is_reported(result, tmp_path)


@pytest.mark.slow
def test_c8_passes_at_tiny_and_fails_for_a_haar_unitary(tmp_path):
    assert_passes_and_is_reported(run_tiny(c8, tmp_path), tmp_path)
    got = checks(run_tiny(c8, tmp_path, make_models=jm.haar_models))
    assert got[f"(b) l-bit model: d ln χ_typ/dN < {c8.MAX_STABLE_SLOPE}"] == "FAIL"
    # (a) uses only H0 and K, and the Heisenberg chains do not use the model: they still pass.
    assert got[f"(a) U†JU = K on |ΔE| ≥ Δ to {c8.TOL_DEVIATION:g} (eq. 4.29–4.31)"] == "pass"
    assert got[f"(b) Heisenberg W={c8.W_ERGODIC:g}: d ln χ_typ/dN > {c8.MIN_ERGODIC_SLOPE}"] == "pass"


@pytest.mark.slow
def test_c8_fails_without_disorder(tmp_path):
    control = run_tiny(c8, tmp_path, make_models=jm.clean_models)
    got = checks(control)
    assert not control.passed
    assert got["(c) <r~>(g=0) Poisson for every N"] == "FAIL"


@pytest.mark.slow
def test_c8_micro_runs_reports_every_check_and_is_reproducible(tmp_path, monkeypatch):
    monkeypatch.setitem(c8.SIZES, "micro", MICRO)
    ctx = ClaimContext(size="micro", seed=3, out_dir=tmp_path, progress=lambda f, m: None)
    first, second = c8.run(ctx), c8.run(ctx)
    got = checks(first)
    assert len(got) == 10 and set(got.values()) <= {"pass", "FAIL"}
    assert first.figures and (tmp_path / first.figures[0]).stat().st_size > 10_000
    assert first.as_dict()["measured"] == second.as_dict()["measured"]
    # the eq. 4.29 identity is exact at any size
    assert got[f"(a) U†JU = K on |ΔE| ≥ Δ to {c8.TOL_DEVIATION:g} (eq. 4.29–4.31)"] == "pass"
    other = c8.run(ClaimContext(size="micro", seed=4, out_dir=tmp_path, progress=lambda f, m: None))
    key = "(b) d ln χ_typ/dN, l-bit model (exact route)"
    assert other.measured[key].value != first.measured[key].value


# ---------------------------------------------------------------------------- helpers vs references
def test_probes_are_single_pauli_strings():
    n, sites = 4, (1, 2)
    batch = c8.probes(n, sites, "X", copies=2)
    assert batch.batch_shape == (4,)
    dense = [np.asarray(jm.PauliSum(batch.paulis[i], batch.coef[i], n).dense()) for i in range(4)]
    for i in range(4):
        np.testing.assert_allclose(dense[i], pauli_string(n, {sites[i % 2]: "X"}), atol=1e-15)


def test_local_generator_is_a_hermitian_sum_of_bond_terms():
    n = 4
    lat = jm.Lattice((n,))
    K = c8.local_generator(jr.key(0), lat, strength=0.5)
    labels, coef = np.asarray(K.paulis), np.asarray(K.coef)
    assert labels.shape == (9 * len(lat.bonds), n)
    ref = np.zeros((2**n, 2**n), complex)
    for row, c in zip(labels, coef):
        support = np.flatnonzero(row)
        assert len(support) == 2 and support[1] - support[0] == 1
        ref += c * pauli_string(n, {int(i): "IXYZ"[row[i]] for i in support})
    np.testing.assert_allclose(np.asarray(K.dense()), ref, atol=1e-14)
    np.testing.assert_allclose(ref, ref.conj().T, atol=1e-14)


def test_mean_spacing_and_probe_sites():
    E = np.array([[0.0, 1.0, 2.0, 3.0, 10.0, -10.0, 4.0, 5.0], [0.0, 2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0]])
    # central half of 8 sorted levels: indices 2..5; spacings 1 and 2.
    assert c8.mean_spacing(E) == pytest.approx(1.5)
    assert c8.probe_sites(8, 4) == (2, 3, 4, 5)
    assert c8.probe_sites(5, 2) == (1, 2)


def test_crossing_and_slope_fit_on_synthetic_curves():
    gs = np.array([0.0, 0.01, 0.1, 1.0, 10.0])
    r = np.array([0.39, 0.39, 0.42, 0.52, 0.53])
    # crosses 0.47 between g = 0.1 and 1 at fraction (0.47 - 0.42)/0.10 = 0.5 in ln g
    assert c8.crossing(gs, r, 0.47) == pytest.approx(np.sqrt(0.1 * 1.0))
    assert np.isnan(c8.crossing(gs, r, 0.6))
    ns = np.array([8, 10, 12, 14])
    slope, err = c8.slope_fit(ns, 0.3 * ns + 1.0)
    assert slope == pytest.approx(0.3) and err == pytest.approx(0.0, abs=1e-12)
    assert np.isnan(c8.slope_fit(ns[:2], [1.0, 2.0])[0])
    # propagated error of an unweighted-equal-error line: sigma / sqrt(sum (N - <N>)^2) = 0.1 / sqrt(20)
    slope, err = c8.slope_fit(ns, 0.3 * ns + 1.0, np.full(4, 0.1))
    assert slope == pytest.approx(0.3) and err == pytest.approx(0.1 / np.sqrt(20.0))


def test_heisenberg_probe_is_diagonal_and_conserves_sz():
    # V = Z_r of (b) commutes with total S^z (the S^z = 0 sector ED needs it)
    n = 4
    Z = pauli_string(n, {1: "Z"})
    Sz = sum(pauli_string(n, {i: "Z"}) for i in range(n))
    np.testing.assert_allclose(Z @ Sz - Sz @ Z, 0, atol=1e-15)
    assert list(itertools.islice(c8.GS, 2)) == [0.0, c8.GS[1]] and c8.GS[1] > 0
