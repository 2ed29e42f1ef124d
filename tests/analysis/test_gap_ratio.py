"""One <r~>: the sweep observable ``r_tilde``, ``jm.level_spacing_ratio`` and ``jm.mean_ratio`` agree.

The reference is a plain numpy loop over consecutive gap pairs with the documented convention for
degenerate levels: a ratio of two zero gaps is undefined and left out of the mean, a ratio with one
zero gap is 0. The degenerate spectra come from l-bit Hamiltonians with dyadic couplings (1, 1/2,
1/4), whose subset sums are exact in floating point, so the degeneracies are exact.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm
import jaxmbl.sweep._registry as R


def numpy_mean_ratio(E):
    """<r~> of one spectrum by a loop over gap pairs (both zero: skipped; one zero: 0)."""
    d = np.diff(np.sort(np.asarray(E, dtype=float)))
    r = [min(a, b) / max(a, b) for a, b in zip(d[:-1], d[1:]) if max(a, b) > 0]
    return np.mean(r) if r else np.nan


def sweep_r_tilde(family, lattice, models, window=None):
    """The registered sweep observable, vmapped and jitted over realizations as a sweep runs it."""
    entry = R.lookup("r_tilde", family, "test")
    point = R.Point(0, family, {"sector": None}, lattice, jnp.float64)
    kw = entry.prepare(point, **({} if window is None else {"window": window}))
    return jax.jit(jax.vmap(lambda m: entry.fn(m, **kw)))(models)


def models_from(h0s):
    """A batch of Swingle models with the given H0s (same terms) and U = 1 (the spectrum is H0's)."""
    n_sites = h0s[0].n_sites
    U = jm.circuit(np.eye(4)[None], [(0, 1)], n_sites)
    U = jax.tree_util.tree_map(lambda g: jnp.broadcast_to(g, (len(h0s),) + g.shape), U)
    h0 = jax.tree_util.tree_map(lambda *c: jnp.stack(c), *h0s)
    return jm.SwingleModel(lattice=jm.Lattice((n_sites,)), h0=h0, U=U)


def degenerate_models(n_sites, n):
    """Swingle models whose H0 = sum_r P_r + 1/2 sum_r P_r P_{r+1} + 1/4 P_0 P_2 (exactly degenerate)."""
    terms = {(r,): 1.0 for r in range(n_sites)}
    terms.update({(r, r + 1): 0.5 for r in range(n_sites - 1)})
    terms[(0, 2)] = 0.25
    return models_from([jm.lbit_hamiltonian(n_sites, {s: (1 + i) * J for s, J in terms.items()}) for i in range(n)])


def random_models(n_sites, n, seed):
    """Swingle models with random onsite, pair and triple couplings (a generic, non-degenerate spectrum)."""
    rng = np.random.default_rng(seed)
    sites = [(r,) for r in range(n_sites)] + [(r, r + 1) for r in range(n_sites - 1)] + [(0, 1, 2)]
    return models_from([jm.lbit_hamiltonian(n_sites, dict(zip(sites, rng.normal(size=len(sites))))) for _ in range(n)])


@pytest.mark.parametrize("window", [None, 0.5])
def test_degenerate_spectrum_all_three_agree(window):
    n_sites, R_ = 6, 3
    models = degenerate_models(n_sites, R_)
    E = np.asarray(jm.energies(models))  # (R, 2**N)
    ES = np.sort(E, axis=-1)
    assert np.sum(np.diff(ES[0]) == 0) > 10  # many exactly zero gaps, and zero-zero pairs
    d = np.diff(ES[0])
    assert np.any((d[:-1] == 0) & (d[1:] == 0)) and np.any((d[:-1] == 0) != (d[1:] == 0))
    if window is None:
        kept = ES
    else:
        count = round(window * ES.shape[-1])
        kept = ES[:, (ES.shape[-1] - count) // 2 :][:, :count]
    ref = np.array([numpy_mean_ratio(e) for e in kept])
    np.testing.assert_allclose(jm.level_spacing_ratio(E, window=window), ref, atol=1e-14)
    np.testing.assert_allclose(sweep_r_tilde("swingle", jm.Lattice((n_sites,)), models, window), ref, atol=1e-14)
    mean, _ = jm.mean_ratio(jr.key(0), E, window=window)
    assert mean == pytest.approx(ref.mean(), abs=1e-14)


def test_random_spectra_all_three_agree():
    lattice = jm.Lattice((6,))
    models = random_models(6, 4, seed=3)
    E = np.asarray(jm.energies(models))
    ref = np.array([numpy_mean_ratio(e) for e in E])
    np.testing.assert_allclose(jm.level_spacing_ratio(E, window=None), ref, atol=1e-12)
    np.testing.assert_allclose(sweep_r_tilde("swingle", lattice, models), ref, atol=1e-12)
    mean, _ = jm.mean_ratio(jr.key(1), E, window=None)
    assert mean == pytest.approx(ref.mean(), abs=1e-12)


def test_heisenberg_sweep_observable_matches_level_spacing_ratio():
    lattice = jm.Lattice((6,))
    family = R.FAMILIES["heisenberg"]
    reals = [
        family.build(k, lattice, {"W": 3.0, "J": 1.0, "Jz": None, "sector": 0}, jnp.float64)
        for k in jr.split(jr.key(5), 2)
    ]
    for model in reals:
        E = np.linalg.eigvalsh(np.asarray(model.H.dense(sector=0)))  # dense numpy ED of the S^z = 0 block
        entry = R.lookup("r_tilde", "heisenberg", "test")
        got = entry.fn(model, **entry.prepare(R.Point(0, "heisenberg", {"sector": 0}, lattice, jnp.float64)))
        np.testing.assert_allclose(got, numpy_mean_ratio(E), atol=1e-10)
        np.testing.assert_allclose(jm.level_spacing_ratio(E, window=None), numpy_mean_ratio(E), atol=1e-12)


def test_conventions_at_the_edges():
    # gaps 1, 0, 0, 2: ratios 0 (one zero gap), excluded (0/0), 0 (one zero gap)
    assert float(jm.level_spacing_ratio(jnp.array([0.0, 1.0, 1.0, 1.0, 3.0]), window=None)) == 0.0
    # all levels equal: no ratio is defined
    assert np.isnan(jm.level_spacing_ratio(jnp.zeros(5), window=None))
    # the gradient is finite at exact degeneracies
    g = jax.grad(lambda E: jm.level_spacing_ratio(E, window=None))(jnp.array([0.0, 0.0, 0.0, 1.0, 3.0]))
    assert np.all(np.isfinite(g))
