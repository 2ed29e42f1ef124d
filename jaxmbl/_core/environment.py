"""Provenance: the installed jaxmbl version and the software and devices a result was computed on.

The version comes from the package metadata (``pyproject.toml`` is the one place it is written);
sweep manifests and reproduce reports record :func:`environment` so that a result can be traced
to the code and hardware that produced it.
"""

from __future__ import annotations

import platform
from importlib import metadata

import jax
import numpy as np


def package_version() -> str:
    """The installed jaxmbl version, or ``"0+unknown"`` in a source tree that was never installed."""
    try:
        return metadata.version("jaxmbl")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def environment() -> dict:
    """Versions (jaxmbl, jax, numpy, python), platform, devices, process count and float64 mode."""
    return {
        "jaxmbl": package_version(),
        "jax": jax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "devices": [str(d) for d in jax.devices()],
        "process_count": jax.process_count(),
        "x64": bool(jax.config.jax_enable_x64),
    }
