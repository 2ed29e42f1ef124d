"""Eager validation of user input shared by every layer: times, site counts, Hermiticity.

Each check names the argument and the fix; values that are traced (inside ``jit``/``vmap``/``grad``)
get only the shape checks that do not need concrete values.
"""

from __future__ import annotations

import numbers
from functools import partial

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.batching import is_pauli_sum, is_traced, map_batch
from jaxmbl._core.errors import JaxmblError

#: Largest N any operator may act on (basis indices are int64).
MAX_SITES = 62
#: Relative size of ``H - H^dagger`` tolerated as round-off, relative to ``max(1, max|H|)``.
HERMITIAN_RTOL = 1e-10


def check_times(ts, dtype):
    if isinstance(ts, jax.core.Tracer):
        if ts.ndim > 1:
            raise JaxmblError(f"ts must be a scalar or a 1D array of times, got shape {ts.shape}")
        return ts.astype(dtype), ts.ndim == 0
    ts_np = np.asarray(ts)
    if ts_np.dtype.kind not in "iuf":
        raise JaxmblError(f"ts must be real times, got dtype {ts_np.dtype}")
    if ts_np.ndim > 1:
        raise JaxmblError(f"ts must be a scalar or a 1D array of times, got shape {ts_np.shape}")
    if not np.all(np.isfinite(ts_np)):
        raise JaxmblError("ts contains non-finite times")
    return jnp.asarray(ts_np, dtype), ts_np.ndim == 0


def check_n_sites(n_sites, name: str = "n_sites") -> int:
    """``n_sites`` as a Python int in ``1..MAX_SITES``; a bool or a non-integer is refused.

    Raises:
        TypeError: ``n_sites`` is not an integer (a bool, a float, a string, ...).
        JaxmblError: ``n_sites`` is outside ``1..MAX_SITES``.
    """
    if isinstance(n_sites, bool) or not isinstance(n_sites, numbers.Integral):
        raise TypeError(f"{name} must be an integer N >= 1, got {n_sites!r}")
    if not 1 <= n_sites <= MAX_SITES:
        raise JaxmblError(f"{name} must be an integer in 1..{MAX_SITES}, got {n_sites!r}")
    return int(n_sites)


def check_positive(value, name: str):
    """``value`` as a finite Python float > 0; a traced value is returned unchanged (not checked).

    Raises:
        JaxmblError: ``value`` is not a real number, not finite, or <= 0.
    """
    if is_traced(value):
        return value
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise JaxmblError(f"{name} must be a positive real number, got {value!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise JaxmblError(f"{name} must be finite and > 0, got {value!r}")
    return v


def check_hermitian(
    H,
    name: str = "H",
    *,
    matvec=None,
    dim: int | None = None,
    batch: tuple = (),
    dtype=jnp.complex128,
    context: str = "",
):
    """Refuse a ``H`` that is not Hermitian to round-off (``HERMITIAN_RTOL``); skipped when traced.

    One check for every form an operator takes:

    * a dense array ``(..., D, D)``: finite, and ``max|H - H^dagger| <= rtol max(1, max|H|)``;
    * a matrix-free operator with ``matvec(h, v)`` (``dim`` and the realization axes ``batch``
      given): ``|<u|Hv> - <Hu|v>| <= rtol (|Hu| + |Hv|) |u|`` for two fixed random vectors,
      per realization;
    * a :class:`PauliSum`: its combined coefficients are real to ``rtol max(1, max|c|)``;
    * any other operator of the protocol: its ``is_hermitian()``.

    Args:
        H: the operator.
        name: the argument's name, for the message.
        matvec: ``matvec(h, v)`` for one realization ``h`` and one flat state ``v``; forces the probe.
        dim: length of the flat states (with ``matvec``).
        batch: realization axes of ``H`` (with ``matvec``).
        dtype: complex dtype of the probe vectors (with ``matvec``).
        context: appended to the message (e.g. ``" for krylov_evolve"``).

    Raises:
        JaxmblError: ``H`` is not Hermitian, not square, or has non-finite entries.
    """
    if is_traced(H):
        return
    if isinstance(H, np.ndarray | jax.Array):
        H = jnp.asarray(H)
        if H.ndim < 2 or H.shape[-1] != H.shape[-2] or H.shape[-1] == 0:
            raise JaxmblError(f"{name} must be a square (..., D, D) matrix, got shape {H.shape}")
        with jax.ensure_compile_time_eval():  # H is concrete even when the caller is being traced
            asym, scale, finite = map(float, _asymmetry(H))
        if not finite:
            raise JaxmblError(f"{name} contains non-finite entries")
        if asym > HERMITIAN_RTOL * max(1.0, scale):
            raise JaxmblError(f"{name} must be Hermitian{context}, but max|H - H^dagger| = {asym:.3g}")
    elif matvec is not None:
        with jax.ensure_compile_time_eval():
            asym, scale = _probe(matvec, H, dim=int(dim), dtype=jnp.dtype(dtype), batch=tuple(batch))
        bad = np.flatnonzero(np.asarray(asym > HERMITIAN_RTOL * scale + 1e-300).ravel())
        if bad.size:
            where = f" (realization {int(bad[0])})" if batch else ""
            raise JaxmblError(f"{name} must be Hermitian{context}, but <u|Hv> != <Hu|v>{where}")
    elif is_pauli_sum(H):
        atol = HERMITIAN_RTOL * max(1.0, float(np.max(np.abs(np.asarray(H.coef)), initial=0.0)))
        if not H.is_hermitian(atol=atol):
            raise JaxmblError(
                f"{name} must be Hermitian{context}, but its combined Pauli coefficients are not real (to {atol:.3g})"
            )
    elif not H.is_hermitian():
        raise JaxmblError(f"{name} must be Hermitian{context}")


@jax.jit
def _asymmetry(H):
    """max|H - H^dagger|, max|H| and whether H is finite, in one fused pass."""
    asym = jnp.max(jnp.abs(H - jnp.conj(jnp.swapaxes(H, -1, -2))), initial=0.0)
    return asym, jnp.max(jnp.abs(H), initial=0.0), jnp.all(jnp.isfinite(H))


@partial(jax.jit, static_argnames=("matvec", "dim", "dtype", "batch"))
def _probe(matvec, H, *, dim, dtype, batch):
    """``|<u|Hv> - <Hu|v>|`` and its scale for two fixed random vectors, per realization."""
    keys = jr.split(jr.key(1), 4)
    u, v = ((jr.normal(keys[i], (dim,)) + 1j * jr.normal(keys[i + 2], (dim,))).astype(dtype) for i in (0, 1))

    def norm(x):
        return jnp.sqrt(jnp.real(jnp.vdot(x, x)))

    def one(h):
        Hu, Hv = matvec(h, u), matvec(h, v)
        return jnp.abs(jnp.vdot(u, Hv) - jnp.conj(jnp.vdot(v, Hu))), (norm(Hu) + norm(Hv)) * norm(u)

    return map_batch(one, H, batch)
