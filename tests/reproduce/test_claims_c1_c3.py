"""Claims C1-C3 of ``jaxmbl reproduce`` at size "tiny": they pass for the model, and fail for
negative controls (a Haar-random dense U for C2 and C3, a disorder-free H0 for C1).
Their helper statistics are checked against independent numpy / scipy references."""

import importlib
import math

import numpy as np
import pytest
import scipy.stats
from claim_checks import assert_passes_and_is_reported, checks, run_tiny

import jaxmbl as jm
from jaxmbl._swingle.controls import clean_models, haar_models
from jaxmbl.reproduce import CLAIM_MODULES
from jaxmbl.reproduce import c1_spectrum as c1
from jaxmbl.reproduce import c2_area_law as c2
from jaxmbl.reproduce import c3_transport as c3


# ---------------------------------------------------------------------------- the claims
@pytest.mark.slow
def test_c1_passes_and_fails_without_disorder(tmp_path):
    result = run_tiny(c1, tmp_path)
    assert_passes_and_is_reported(result, tmp_path)
    control = run_tiny(c1, tmp_path, make_models=clean_models)
    assert not control.passed
    assert checks(control)["Poisson <r~>"] == "FAIL"
    assert checks(control)["Gaussian DOS"] == "FAIL"
    assert checks(control)["same spectrum"] == "pass"  # eq. 2.3 holds for any H0


@pytest.mark.slow
def test_c2_passes_and_fails_for_a_haar_unitary(tmp_path, monkeypatch):
    result = run_tiny(c2, tmp_path)
    assert_passes_and_is_reported(result, tmp_path)
    # A volume law fails by a wide margin: the control needs no statistics, only fewer state vectors.
    monkeypatch.setitem(c2.SIZES, "tiny", {**c2.SIZES["tiny"], "chain": (6, 8), "r_chain": 4, "planes": (((3, 3), 2),)})
    control = run_tiny(c2, tmp_path, make_models=haar_models)
    assert not control.passed
    got = checks(control)
    assert got["chains saturate and do not grow with N"] == "FAIL"
    assert got["2D area law beats volume law"] == "FAIL"
    assert got["ΔS ≤ c′ ∂A with c′ ≤ 2 ln2 · s"] == "FAIL"
    assert got["light cone = state vector"].startswith("n/a")


@pytest.mark.slow
def test_c3_passes_and_fails_for_a_haar_unitary(tmp_path):
    result = run_tiny(c3, tmp_path)
    assert_passes_and_is_reported(result, tmp_path)
    control = run_tiny(c3, tmp_path, make_models=haar_models)
    assert not control.passed
    got = checks(control)
    assert got["exponential decay of flip amplitudes"] == "FAIL"
    assert got["zero outside the circuit light cone"] == "FAIL"
    assert got["injected energy stays local"] == "FAIL"
    assert got["profile constant to t = 1e12"] == "pass"  # U h_r U^dag commutes with H for any U


# ---------------------------------------------------------------------------- helpers vs references
def test_onsite_dos_predictions_against_monte_carlo():
    rng = np.random.default_rng(0)
    N, J0 = 7, 1.3
    J = rng.uniform(0, J0, size=(200_000, N))
    (mc, sc), (mw, sw) = c1.onsite_predictions(N, J0)
    np.testing.assert_allclose([J.sum(1).mean() / 2, (J**2).sum(1).mean() / 4], [mc, mw], rtol=3e-3)
    np.testing.assert_allclose([J.sum(1).std() / 2, (J**2).sum(1).std() / 4], [sc, sw], rtol=1e-2)
    assert math.isclose(mw + sc**2, 5 * N * J0**2 / 48)


def test_mixture_cdf_and_ks_distance_against_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=5000)
    ks = c1.ks_distance(x, lambda v: scipy.stats.norm.cdf(v))
    assert math.isclose(ks, scipy.stats.kstest(x, "norm").statistic, rel_tol=1e-9)
    # eq. 2.8 mixture: Ñ ~ Binomial(N, 1/2), then a Gaussian of mean Ñ J0/2 and variance Ñ v
    N, J0, v = 5, 1.0, 1 / 12
    E = np.linspace(-0.5, 3.5, 9)
    ref = sum(
        scipy.stats.binom.pmf(k, N, 0.5) * (scipy.stats.norm.cdf(E, k * J0 / 2, np.sqrt(k * v)) if k else (E >= 0))
        for k in range(N + 1)
    )
    np.testing.assert_allclose(c1.mixture_cdf(E, N, J0, v), ref, atol=1e-12)


def test_center_spacing_of_a_gaussian_spectrum():
    rng = np.random.default_rng(2)
    E = rng.normal(3.0, 0.7, size=(8, 2**14))
    delta, delta_gauss, band = c1.center_spacing(E)
    np.testing.assert_allclose(delta / delta_gauss, 1, atol=0.05)
    np.testing.assert_allclose(band, np.ptp(E, axis=-1))


def test_plane_regions_and_fits():
    lat = jm.Lattice((3, 4))
    regions = c2.plane_regions(lat, seed=0)
    keys = [(len(r), lat.boundary_size(r)) for _, r in regions]
    assert len(set(keys)) == len(keys) and all(0 < a <= 6 for a, _ in keys)
    assert {k for k, _ in regions} == {"rectangle", "irregular"}
    a, b, r2, rss = c2.linear_fit([0, 1, 2, 3], [1.0, 3.0, 5.0, 7.0])
    assert np.allclose([a, b, r2, rss], [1, 2, 1, 0], atol=1e-12)
    d = np.arange(8)
    xi, _, mask = c3.fit_decay(d, 0.7 * np.exp(-d / 0.4))
    assert math.isclose(xi, 0.4, rel_tol=1e-9) and mask.sum() >= 3


def test_mean_by_distance():
    A = np.arange(2 * 3 * 5, dtype=float).reshape(2, 3, 5)  # (R, n, r)
    out = c3.mean_by_distance(A, 2)
    per_site = A.mean(-2)
    np.testing.assert_allclose(out[:, 0], per_site[:, 2])
    np.testing.assert_allclose(out[:, 1], (per_site[:, 1] + per_site[:, 3]) / 2)
    np.testing.assert_allclose(out[:, 2], (per_site[:, 0] + per_site[:, 4]) / 2)


@pytest.mark.parametrize("name", CLAIM_MODULES)
def test_sizes_are_declared(name):
    module = importlib.import_module(f"jaxmbl.reproduce.{name}")
    assert set(module.SIZES) == {"tiny", "small", "medium", "large"}
    assert module.CLAIM.id == f"C{CLAIM_MODULES.index(name) + 1}" and module.CLAIM.run is module.run
