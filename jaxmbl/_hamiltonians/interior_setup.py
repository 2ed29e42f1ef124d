"""Set-up of :func:`jaxmbl.interior_eigh`: its static configuration, argument checks and memory estimate.

Kept apart from the solver (:mod:`jaxmbl._hamiltonians.interior`) so that the algorithm reads in one
place: ``make_config`` turns the user's ``k``, ``block_size``, ``krylov_dim`` into the static
:class:`Config` (the basis capacity, the vectors kept at a thick restart, the Ritz candidates),
``memory_need`` is the per-realization estimate checked before allocating, and the ``_check_*``
helpers validate eagerly with errors that name the argument.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.batching import is_traced
from jaxmbl._core.errors import JaxmblError


class Config(NamedTuple):
    k: int
    block: int
    capacity: int
    keep: int
    n_cand: int
    max_restarts: int
    max_degree: int
    has_target: bool
    mesh: object = None  # a 1-d jax.sharding.Mesh (axis "d") splitting the basis along D, or None


def check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    if value < low:
        raise JaxmblError(f"{name} must be >= {low}, got {value}")
    return int(value)


def check_key(key):
    if not isinstance(key, jax.Array | np.ndarray):
        raise TypeError(f"key must be a jax.random key (e.g. jax.random.key(0)), got {type(key).__name__}")
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key if key.ndim == 0 else bad_key(key)
    if key.shape == (2,) and key.dtype == jnp.uint32:
        return jr.wrap_key_data(key)
    return bad_key(key)


def bad_key(key):
    raise TypeError(f"key must be one jax.random key (e.g. jax.random.key(0)), got an array of shape {key.shape}")


def real_values(value, name, batch, *, low=None, high=None):
    """A real scalar or ``batch``-broadcastable array; range checked when concrete."""
    if isinstance(value, bool) or not isinstance(
        value, int | float | np.integer | np.floating | np.ndarray | jax.Array
    ):
        raise TypeError(f"{name} must be a real number (or an array over the realizations), got {value!r}")
    arr = jnp.asarray(value)
    if jnp.iscomplexobj(arr):
        raise JaxmblError(f"{name} must be real, got {value!r}")
    if not is_traced(arr):
        a = np.asarray(arr, dtype=float)
        if (
            not np.all(np.isfinite(a))
            or (low is not None and np.any(a < low))
            or (high is not None and np.any(a > high))
        ):
            rng = f" in [{low}, {high}]" if low is not None else ""
            raise JaxmblError(f"{name} must be finite{rng}, got {value!r}")
    try:
        return jnp.broadcast_to(arr.astype(float), batch)
    except ValueError as err:
        raise JaxmblError(f"{name} of shape {arr.shape} does not broadcast to the realizations {batch}") from err


def make_config(dim, k, block_size, krylov_dim, max_restarts, max_degree, has_target):
    """The static :class:`Config` of a problem of dimension ``dim`` (basis capacity, restart sizes)."""
    b = min(block_size, dim)
    full = -(-dim // b) * b
    if krylov_dim is None:
        capacity = -(-int(3 * k + 6 * b) // b) * b
    else:
        capacity = -(-check_int(krylov_dim, "krylov_dim", 1) // b) * b
    capacity = max(min(capacity, full), min(2 * b, full))
    if capacity < min(k + 2 * b, full):
        raise JaxmblError(
            f"krylov_dim={krylov_dim} is too small for k={k}: use at least k + 2 * block_size = {k + 2 * b}"
        )
    keep = min(max(k + 2 * b, capacity // 2), capacity - b)
    n_cand = min(capacity, -(-int(1.5 * k + 2 * b) // b) * b)
    return Config(k, b, capacity, max(keep, 1), n_cand, max_restarts, max_degree, has_target)


def solver_bytes(dim: int, cfg: Config, dtype) -> float:
    """Working memory of one solve: the basis buffer twice (thick restarts), ~20 blocks, the output."""
    itemsize = jnp.dtype(dtype).itemsize
    vectors = 2 * (cfg.capacity + cfg.block) + cfg.keep + 20 * cfg.block
    return vectors * dim * itemsize + cfg.k * dim * 16 + 8.0 * cfg.capacity**2 * itemsize


def interior_memory(dim: int, k: int, dtype, *, block_size: int = 4) -> float:
    """Bytes one ``interior_eigh(H, k)`` of dimension ``dim`` needs with the default Krylov size.

    For callers that size a run before building H (the sweep observables' memory estimates).
    """
    return solver_bytes(dim, make_config(dim, k, block_size, None, 0, 2, False), dtype)


def memory_need(op, cfg) -> float:
    """Bytes per realization (the solve and 3x the operator's own leaves) and bytes shared by all."""
    shared = sum(x.nbytes for x, ax in zip(jax.tree_util.tree_leaves(op.params), leaf_axes(op)) if ax is None)
    per = sum(x.nbytes for x, ax in zip(jax.tree_util.tree_leaves(op.params), leaf_axes(op)) if ax is not None)
    per /= max(1, int(np.prod(op.batch)))
    return solver_bytes(op.dim, cfg, op.dtype) + 3 * per, shared


def leaf_axes(op):
    axes = op.axes
    if not isinstance(axes, int | type(None)):
        return jax.tree_util.tree_leaves(axes, is_leaf=lambda x: x is None)
    return [axes] * len(jax.tree_util.tree_leaves(op.params))


def max_multiplicity(E, tol) -> int:
    """Largest number of returned levels (per realization) within ``100 tol ||E||`` of each other."""
    E = np.sort(np.asarray(E).reshape(-1, np.shape(E)[-1]), axis=-1)
    if E.shape[-1] < 2:
        return 1
    close = np.diff(E, axis=-1) <= 100 * tol * np.maximum(np.max(np.abs(E), axis=-1, keepdims=True), 1e-300)
    best = 1
    for row in close:
        run = 1
        for c in row:
            run = run + 1 if c else 1
            best = max(best, run)
    return best


def check_devices(devices, op):
    try:
        devices = list(devices)
    except TypeError:
        raise TypeError(f"devices must be a list of jax devices (e.g. jax.devices()), got {devices!r}") from None
    if len(devices) < 2 or not all(isinstance(d, jax.Device) for d in devices):
        raise JaxmblError(f"devices must be a list of at least 2 jax devices (e.g. jax.devices()), got {devices!r}")
    if op.batch:
        raise JaxmblError(
            f"devices= splits one problem; H has realization axes {op.batch}: solve realizations one at a time, "
            "or shard them by realization (jax.vmap under shard_map, as run_sweep does)"
        )
    if len(set(devices)) < len(devices):
        raise JaxmblError(f"devices must be distinct, got {devices!r}")
    return devices


def check_precision(tol, dtype):
    eps = float(jnp.finfo(jnp.real(jnp.zeros((), dtype)).dtype).eps)
    if tol < 50 * eps:
        raise JaxmblError(
            f"tol={tol:g} is below what {jnp.dtype(dtype).name} arithmetic can reach (about {50 * eps:.1g}): raise "
            "tol, or enable float64 with jax.config.update('jax_enable_x64', True) before building H"
        )
