"""Small fitting helpers with error bars, shared by the claims of ``jaxmbl reproduce``.

Disorder statistics follow one rule: a quantity is computed per realization and its error bar is
the standard error of the mean over realizations (realizations are independent draws).
Least-squares fits of a disorder-averaged curve report the fit's own standard error, or, when
per-realization fits are possible, the standard error over realizations of the fitted parameter
(the fit is linear in the data, so the mean of the per-realization slopes is the slope of the mean).
"""

from __future__ import annotations

import numpy as np

from jaxmbl._core.errors import JaxmblError


def standard_error(x, axis=0):
    """Standard error of the mean along ``axis`` (``ddof=1``); NaN for a single sample."""
    x = np.asarray(x, dtype=float)
    n = x.shape[axis]
    if n < 2:
        return np.full(np.delete(x.shape, axis), np.nan) if x.ndim > 1 else float("nan")
    return x.std(axis=axis, ddof=1) / np.sqrt(n)


def line_fit(x, y):
    """Least-squares ``y = a + b x`` along the last axis of y (``y`` may be ``(..., K)``).

    Returns:
        ``(b, a, b_err, r2)``: slope, intercept, standard error of the slope from the residuals,
        and the coefficient of determination. Needs at least 3 points.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.size < 3:
        raise JaxmblError(f"line_fit needs at least 3 points, got {x.size}")
    xm = x - x.mean()
    sxx = np.sum(xm**2)
    b = np.sum(xm * (y - y.mean(-1, keepdims=True)), axis=-1) / sxx
    a = y.mean(-1) - b * x.mean()
    resid = y - (a[..., None] if np.ndim(a) else a) - (b[..., None] if np.ndim(b) else b) * x
    ss_res = np.sum(resid**2, axis=-1)
    ss_tot = np.sum((y - y.mean(-1, keepdims=True)) ** 2, axis=-1)
    b_err = np.sqrt(ss_res / (x.size - 2) / sxx)
    r2 = 1.0 - ss_res / np.where(ss_tot > 0, ss_tot, np.inf)
    return b, a, b_err, r2


def decay_length(d, y, floor):
    """Fit ``y ~ C exp(-d/xi)`` on the points with ``y > floor``: ``(xi, xi_err, mask)``.

    ``xi = -1/slope`` of ``ln y`` against d; ``inf`` if y does not decrease, NaN with fewer than 3
    points above the floor.
    """
    d, y = np.asarray(d, float), np.asarray(y, float)
    mask = y > floor
    if mask.sum() < 3:
        return float("nan"), float("nan"), mask
    b, _, b_err, _ = line_fit(d[mask], np.log(y[mask]))
    if b >= 0:
        return float("inf"), float("inf"), mask
    return float(-1.0 / b), float(b_err / b**2), mask
