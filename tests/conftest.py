"""Shared fixtures (float64 is switched on by the repository's root conftest.py)."""

import gc
import pathlib
import sys

import jax
import numpy as np
import pytest

# The test tree mirrors the package (tests/core, tests/swingle, ...); the shared independent references
# (reference.py, claim_checks.py) live here, so make them importable from every subfolder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop jax's compiled executables after each test module.

    A single pytest process compiles thousands of programs; keeping them all grows the resident memory by
    gigabytes over the suite. Each module recompiles what it needs (a second or two), which is cheaper
    than running a 2-core CI machine into memory pressure.
    """
    yield
    jax.clear_caches()
    gc.collect()
