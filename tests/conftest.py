"""Shared fixtures (float64 is switched on by the repository's root conftest.py)."""

import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
