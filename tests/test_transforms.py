"""The transform checks shared by all public functions of the core (ARCHITECTURE.md, "Tests, docs and benchmarks").

One registry of cases; three parametrized tests run over it:
  * ``jax.jit(fn)(x) == fn(x)`` (jit equals eager);
  * ``jax.vmap(fn)`` over 8 realizations equals a Python loop;
  * gradients are finite and match central finite differences (where a gradient is defined),
    and, where cheap, the finite differences of an independent dense scipy reference.

Public functions deliberately not in the registry, and why:
  * ``couplings_from_energies``, ``save_model``/``load_model``, ``lbit_hamiltonian``, ``circuit``,
    ``generator_unitary``: host-side constructors/IO that validate concrete numbers (not traceable
    by design);
  * ``basis_state``, ``neel_state``: their arguments are integers (nothing to trace or differentiate);
    they are covered through ``evolve`` inputs.
Traced times (``evolve``, incl. d/dt) and traced basis indices (``eigenstates``) are cases too.
"""

import dataclasses
import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
import numpy as np
import pytest
import reference as ref
import scipy.linalg

import jaxmbl as jm

N_REAL = 8
LAT = jm.Lattice((4,))
LAT2D = jm.Lattice((2, 2), True)
TS = np.array([0.3, 3.0, 1e8])
PSI0 = ref.random_state(np.random.default_rng(0), 4)
PHI = ref.random_state(np.random.default_rng(1), 4)


def _z0(psi):
    p = jnp.abs(psi) ** 2
    return jnp.sum(p[: p.shape[-1] // 2]) - jnp.sum(p[p.shape[-1] // 2 :])


def _entropy01(psi):
    return jm.entropy(psi, [0, 2])  # a non-contiguous region


@dataclasses.dataclass(frozen=True)
class Case:
    """``fn(x)`` for one realization ``x = inputs[i]``.

    ``grad``: optional ``(params_of(x), rebuild(x, params), scalar_fn(x))``; ``dense_scalar``:
    optional numpy reference of ``scalar_fn`` as a function of the same params.
    """

    name: str
    fn: Callable
    inputs: Callable  # () -> list of N_REAL pytrees
    grad: tuple | None = None
    dense_scalar: Callable | None = None
    rtol: float = 1e-11
    jit_bug: str = ""  # a known core bug that breaks jax.jit of this case (strict xfail)


def _take(batch, i):
    return jtu.tree_map(lambda a: a[i], batch)


def _models(kind, lattice=LAT):
    batch = jm.sample_models(jr.key(2024), lattice, N_REAL, unitary=kind, strength=0.6)
    return [_take(batch, i) for i in range(N_REAL)]


def _keys():
    return list(jr.split(jr.key(7), N_REAL))


@functools.cache
def _model0():
    return _models("generator")[0]


def _times():
    _model0()  # sample outside any trace
    return list(jnp.linspace(0.2, 7.0, N_REAL))


def _indices():
    _model0()
    return list(jr.randint(jr.key(8), (N_REAL, 3), 0, 16))


def _evolved_z0_at(t):
    return jm.evolve(_model0(), PSI0, t, observables=_z0)


def _dense_z0(H, t):
    """<Z_0> of expm(-iHt) PSI0, all numpy/scipy."""
    psi = scipy.linalg.expm(-1j * H * float(t)) @ PSI0
    half = psi.size // 2
    return np.sum(np.abs(psi[:half]) ** 2) - np.sum(np.abs(psi[half:]) ** 2)


def _dense_evolved_z0_at(t_unused, t):
    return _dense_z0(ref.model_dense(_model0())[0], t)


# ----------------------------------------------------------------------------- gradient specs
def _h0_params(m):
    return m.h0.coef


def _with_h0(m, coef):
    return dataclasses.replace(m, h0=dataclasses.replace(m.h0, coef=tuple(coef)))


def _evolved_z0(m):
    return jm.evolve(m, PSI0, 3.0, observables=_z0)


def _dense_evolved_z0(m, coef):
    return _dense_z0(ref.model_dense(_with_h0(m, [np.asarray(c) for c in coef]))[0], 3.0)


def _u_params(m):
    return m.U.coef2


def _with_coef2(m, coef2):
    return dataclasses.replace(m, U=dataclasses.replace(m.U, coef2=coef2))


def _overlap2(m):
    return jnp.abs(jnp.vdot(PHI, m.U.apply(PSI0))) ** 2


def _dense_overlap2(m, coef2):
    U = ref.generator_dense(*_with_coef2(m, np.asarray(coef2)).U.to_paulis())
    return np.abs(np.vdot(PHI, U @ PSI0)) ** 2


def _theta_params(theta):
    return theta


def _theta_rebuild(theta, new):
    return new


def _product_z0(theta):
    return _z0(jm.product_state(theta))


def _phase_sin(J):
    return jnp.sum(jnp.sin(jm.reduce_phase(J, 3.0)) * jnp.arange(1, J.shape[0] + 1))


def _entropy_after_evolve(m):
    return jm.evolve(m, PSI0, 3.0, observables=_entropy01)


CASES = [
    Case(
        "energies",
        jm.energies,
        lambda: _models("circuit"),
        grad=(_h0_params, _with_h0, lambda m: jnp.sum(jnp.sin(jm.energies(m)))),
    ),
    Case("eigenstates", lambda m: jm.eigenstates(m, np.array([0, 3, 9])), lambda: _models("generator")),
    Case("dense_hamiltonian", jm.dense_hamiltonian, lambda: _models("circuit", LAT2D)),
    Case(
        "evolve-states-circuit",
        lambda m: jm.evolve(m, PSI0, TS),
        lambda: _models("circuit"),
        grad=(_h0_params, _with_h0, _evolved_z0),
        dense_scalar=_dense_evolved_z0,
    ),
    Case(
        "evolve-observables-generator",
        lambda m: jm.evolve(m, PSI0, TS, observables=_z0),
        lambda: _models("generator"),
        grad=(_h0_params, _with_h0, _evolved_z0),
        dense_scalar=_dense_evolved_z0,
    ),
    Case(
        "evolve-entropy-2d",
        lambda m: jm.evolve(m, PSI0, TS, observables=_entropy01),
        lambda: _models("circuit", LAT2D),
        grad=(_h0_params, _with_h0, _entropy_after_evolve),
        rtol=1e-9,
    ),
    Case(
        "evolve-traced-time",
        _evolved_z0_at,
        _times,
        grad=(_theta_params, _theta_rebuild, _evolved_z0_at),
        dense_scalar=_dense_evolved_z0_at,
    ),
    Case("eigenstates-traced-idx", lambda idx: jm.eigenstates(_model0(), idx), _indices),
    Case("circuit-apply", lambda m: m.U.apply(PSI0), lambda: _models("circuit")),
    Case("circuit-apply_adjoint", lambda m: m.U.apply_adjoint(PSI0), lambda: _models("circuit", LAT2D)),
    Case(
        "generator-apply",
        lambda m: m.U.apply(PSI0),
        lambda: _models("generator"),
        grad=(_u_params, _with_coef2, _overlap2),
        dense_scalar=_dense_overlap2,
    ),
    Case("generator-apply_adjoint", lambda m: m.U.apply_adjoint(PSI0), lambda: _models("generator", LAT2D)),
    Case("sample_model-circuit", lambda k: jm.sample_model(k, LAT2D), _keys),
    Case("sample_model-generator", lambda k: jm.sample_model(k, LAT, unitary="generator", strength=0.6), _keys),
    Case(
        "reduce_phase",
        lambda J: jm.reduce_phase(J, 1e12),
        lambda: list(jr.uniform(jr.key(3), (N_REAL, 16), minval=-2.0, maxval=2.0)),
        grad=(_theta_params, _theta_rebuild, _phase_sin),
    ),
    Case(
        "product_state",
        jm.product_state,
        lambda: list(jr.uniform(jr.key(4), (N_REAL, 4), maxval=np.pi)),
        grad=(_theta_params, _theta_rebuild, _product_z0),
    ),
]
IDS = [c.name for c in CASES]


def _assert_trees_close(a, b, rtol, atol=1e-12):
    assert jtu.tree_structure(a) == jtu.tree_structure(b)
    for x, y in zip(jtu.tree_leaves(a), jtu.tree_leaves(b)):
        if jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
            x, y = jr.key_data(x), jr.key_data(y)
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=rtol, atol=atol)


JIT_PARAMS = [
    pytest.param(
        c,
        id=c.name,
        marks=[pytest.mark.xfail(strict=True, raises=jax.errors.ConcretizationTypeError, reason=c.jit_bug)]
        if c.jit_bug
        else [],
    )
    for c in CASES
]


@pytest.mark.parametrize("case", JIT_PARAMS)
def test_jit_equals_eager(case):
    x = case.inputs()[0]
    _assert_trees_close(jax.jit(case.fn)(x), case.fn(x), case.rtol)


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_vmap_equals_loop(case):
    xs = case.inputs()
    stacked = jtu.tree_map(lambda *a: jnp.stack(a), *xs)
    out = jax.vmap(case.fn)(stacked)
    for i, x in enumerate(xs):
        _assert_trees_close(_take(out, i), case.fn(x), case.rtol)


GRAD_CASES = [c for c in CASES if c.grad is not None]


@pytest.mark.parametrize("case", GRAD_CASES, ids=[c.name for c in GRAD_CASES])
def test_gradients_match_finite_differences(case):
    params_of, rebuild, scalar = case.grad
    x = case.inputs()[0]
    p0 = params_of(x)

    @jax.jit  # one compile for all finite-difference evaluations
    def f(p):
        return scalar(rebuild(x, p))

    g = jax.jit(jax.grad(f))(p0)
    leaves = jtu.tree_leaves(g)
    assert all(np.all(np.isfinite(np.asarray(leaf))) for leaf in leaves)
    assert any(np.abs(np.asarray(leaf)).max() > 1e-6 for leaf in leaves)  # not trivially zero
    rng = np.random.default_rng(0)
    for _ in range(2):
        v = jtu.tree_map(lambda a: jnp.asarray(rng.normal(size=a.shape), a.dtype), p0)
        directional = sum(float(jnp.vdot(gl, vl)) for gl, vl in zip(jtu.tree_leaves(g), jtu.tree_leaves(v)))
        h = 1e-5
        shift = lambda s: jtu.tree_map(lambda a, b: a + s * h * b, p0, v)  # noqa: E731
        fd = (float(f(shift(1.0))) - float(f(shift(-1.0)))) / (2 * h)
        np.testing.assert_allclose(directional, fd, rtol=1e-6, atol=1e-8)
        if case.dense_scalar is not None:
            # Same derivative from the independent dense reference.
            ref_fd = (case.dense_scalar(x, shift(1.0)) - case.dense_scalar(x, shift(-1.0))) / (2 * h)
            np.testing.assert_allclose(directional, ref_fd, rtol=1e-6, atol=1e-8)


def test_gradient_of_long_time_phase_is_t():
    # d/dJ (J t mod 2 pi) = t exactly, even at t = 1e12 where finite differences are useless.
    J = jnp.array([0.3, -1.7, 2.2])
    g = jax.grad(lambda J: jnp.sum(jm.reduce_phase(J, 1e12)))(J)
    np.testing.assert_array_equal(np.asarray(g), 1e12)
