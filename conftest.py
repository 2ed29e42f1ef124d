"""Test entry point: float64 for every test and doctest, and jaxmbl's names in doctests."""

import jax

jax.config.update("jax_enable_x64", True)

import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import jaxmbl  # noqa: E402


@pytest.fixture(autouse=True)
def _doctest_names(doctest_namespace):
    doctest_namespace.update({k: v for k, v in vars(jaxmbl).items() if not k.startswith("_")})
    doctest_namespace.update(np=np, jnp=jnp, jax=jax, jm=jaxmbl)
