"""jaxmbl._analysis.fits against scipy.stats."""

import numpy as np
import pytest
import scipy.stats

from jaxmbl._analysis.fits import decay_length, line_fit, standard_error
from jaxmbl.reproduce import ClaimResult, Measurement


def test_line_fit_matches_linregress(rng):
    x = np.linspace(0, 3, 12)
    y = 0.7 * x - 0.2 + 0.05 * rng.normal(size=(4, 12))
    b, a, b_err, r2 = line_fit(x, y)
    for k in range(4):
        res = scipy.stats.linregress(x, y[k])
        assert b[k] == pytest.approx(res.slope, rel=1e-12)
        assert a[k] == pytest.approx(res.intercept, rel=1e-12)
        assert b_err[k] == pytest.approx(res.stderr, rel=1e-10)
        assert r2[k] == pytest.approx(res.rvalue**2, rel=1e-10)
    with pytest.raises(ValueError, match="at least 3 points"):
        line_fit([0, 1], [0, 1])


def test_standard_error_matches_sem(rng):
    x = rng.normal(size=(7, 3))
    np.testing.assert_allclose(standard_error(x), scipy.stats.sem(x, axis=0), rtol=1e-12)
    assert np.isnan(standard_error(np.ones((1,))))


def test_decay_length_of_an_exact_exponential():
    d = np.arange(8)
    y = 3.0 * np.exp(-d / 0.7)
    y[-1] = 1e-20  # below the floor: ignored
    xi, err, mask = decay_length(d, y, floor=1e-15)
    assert xi == pytest.approx(0.7, rel=1e-10) and err < 1e-8
    assert mask.tolist() == [True] * 7 + [False]
    assert decay_length(d, np.ones(8), floor=0.0)[0] == np.inf
    assert np.isnan(decay_length(d, np.zeros(8), floor=1e-15)[0])


def test_claim_result_from_checks():
    checks = {"a": True, "b": None, "c": False}
    result = ClaimResult.from_checks("C9", "t", "crit", checks, {"x": Measurement(1.0)}, details="d")
    assert result.measured["x"].value == 1.0 and result.details == "d" and not result.passed
    assert {k: v for k, v in result.measured.items() if k != "x"} == {
        "check: a": "pass",
        "check: b": "n/a",
        "check: c": "FAIL",
    }
    assert ClaimResult.from_checks("C9", "t", "crit", {"a": True, "b": None}, {}).passed
    numpy_checks = {"a": np.bool_(True), "b": np.float64(0.3) < 0.1}  # numpy booleans, as comparisons give
    result = ClaimResult.from_checks("C9", "t", "crit", numpy_checks, {})
    assert not result.passed and result.measured["check: b"] == "FAIL"
