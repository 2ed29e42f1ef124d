"""Eager validation of user input shared by every layer (times, ...).

Each check names the argument and the fix; values that are traced (inside ``jit``/``vmap``/``grad``)
get only the shape checks that do not need concrete values.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def check_times(ts, dtype):
    if isinstance(ts, jax.core.Tracer):
        if ts.ndim > 1:
            raise ValueError(f"ts must be a scalar or a 1D array of times, got shape {ts.shape}")
        return ts.astype(dtype), ts.ndim == 0
    ts_np = np.asarray(ts)
    if ts_np.dtype.kind not in "iuf":
        raise ValueError(f"ts must be real times, got dtype {ts_np.dtype}")
    if ts_np.ndim > 1:
        raise ValueError(f"ts must be a scalar or a 1D array of times, got shape {ts_np.shape}")
    if not np.all(np.isfinite(ts_np)):
        raise ValueError("ts contains non-finite times")
    return jnp.asarray(ts_np, dtype), ts_np.ndim == 0
