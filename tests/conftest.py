"""Shared fixtures (float64 is switched on by the repository's root conftest.py)."""

import pathlib
import sys

import numpy as np
import pytest

# The test tree mirrors the package (tests/core, tests/swingle, ...); the shared independent references
# (reference.py, claim_checks.py) live here, so make them importable from every subfolder.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
