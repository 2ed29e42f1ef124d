"""Per-eigenstate fidelity susceptibility, AGP norm and typical values against dense numpy references.

References: ``numpy.linalg.eigh`` of the dense H (or its S^z block) and the explicit matrix
elements ``<m|V|n>``; for Swingle models the dense ``U`` and ``E(n)`` from tests/reference.py (no
diagonalization); the bump filter written out in numpy. Gradients: central finite differences.
"""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm

MU, GAP = 0.2, 0.3
N = 6
LAT = jm.Lattice((N,))
STATES = np.array([0, 5, 17, 40, 63])
# Jitted samplers: eager sampling runs op by op and dominated the test time.
_sample = jax.jit(jm.sample_model, static_argnums=1, static_argnames=("unitary", "max_range"))
_sample_models = jax.jit(jm.sample_models, static_argnums=(1, 2))
_clean = jax.jit(jm.clean_models, static_argnums=(1, 2))


# ----------------------------------------------------------------------------- references
def filter_np(w, gap):
    x = np.asarray(w, float) / gap
    inside = np.abs(x) < 1
    b = np.where(inside, np.exp(1 - 1 / (1 - np.where(inside, x, 0.0) ** 2)), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(w == 0, 0.0, -(1 - b) / np.where(w == 0, 1.0, w))


def weight_np(omega, mu=None, gap=None):
    if mu is not None:
        return omega**2 / (omega**2 + mu**2) ** 2
    return filter_np(omega, gap) ** 2


def chi_from_eigen(E, vecs, Vd, **reg):
    """chi_n = sum_m |<m|V|n>|^2 w(E_m - E_n) from eigenpairs (columns) and a dense V."""
    M = vecs.conj().T @ Vd @ vecs
    return np.sum(np.abs(M) ** 2 * weight_np(E[:, None] - E[None, :], **reg), axis=0)


def chi_dense(Hd, Vd, **reg):
    E, vecs = np.linalg.eigh(Hd)
    return chi_from_eigen(E, vecs, Vd, **reg)


def local_v(n, site=None):
    site = n // 2 if site is None else site
    return jm.PauliSum.from_terms(n, [("X", [site], 1.0), ("ZZ", [0, 1], 0.4), ("Y", [n - 1], 0.3)])


def sz_v(n):
    return jm.PauliSum.from_terms(n, [("Z", [n // 2], 1.0), ("XX", [0, 1], 0.5), ("YY", [0, 1], 0.5)])


# ----------------------------------------------------------------------------- accuracy
def test_swingle_route_matches_dense():
    model = _sample(jr.key(1), LAT)
    V = local_v(N)
    Hd, Ud, E = ref.model_dense(model)  # independent: dense U from the gates, E(n) from the couplings
    M = Ud.conj().T @ np.asarray(V.dense()) @ Ud  # <m|U^dagger V U|n>
    order = np.argsort(E)
    for reg in ({"mu": MU}, {"gap": GAP}):
        chi = np.asarray(jm.fidelity_susceptibility(model, V, state_batch=8, **reg))  # all 64 states
        expect = np.sum(np.abs(M) ** 2 * weight_np(E[:, None] - E[None, :], **reg), axis=0)
        np.testing.assert_allclose(chi, expect, rtol=1e-8)
        # The same from diagonalizing the dense H (the levels of a random H0 are non-degenerate).
        np.testing.assert_allclose(chi[order], chi_dense(Hd, np.asarray(V.dense()), **reg), rtol=1e-8)


@pytest.mark.parametrize("reg", [{"mu": MU}, {"gap": GAP}], ids=["mu", "gap"])
@pytest.mark.parametrize("sector", [None, 0], ids=["full", "sz0"])
def test_heisenberg_ed_route_matches_dense(reg, sector):
    n = 10 if sector == 0 else 8
    H = jm.random_field_heisenberg(jr.key(2), n, W=2.0)
    V = sz_v(n)
    Hd, Vd = np.asarray(H.dense()), np.asarray(V.dense())
    if sector is not None:
        b = jm.sector_basis(n, sector)
        Hd, Vd = Hd[np.ix_(b, b)], Vd[np.ix_(b, b)]
    chi = np.asarray(jm.fidelity_susceptibility(H, V, sector=sector, **reg))
    np.testing.assert_allclose(chi, chi_dense(Hd, Vd, **reg), rtol=1e-8)
    # A subset of states, dense V, and the agp norm.
    states = np.array([1, Hd.shape[0] // 2, Hd.shape[0] - 1])
    sub = jm.fidelity_susceptibility(H, jnp.asarray(V.dense()), sector=sector, states=states, **reg)
    np.testing.assert_allclose(np.asarray(sub), chi[states], rtol=1e-10)
    if "mu" in reg:
        np.testing.assert_allclose(float(jm.agp_norm(H, V, sector=sector, **reg)), chi.mean(), rtol=1e-12)


def test_eigenpairs_and_other_hamiltonians():
    model = _sample(jr.key(3), LAT)
    V = local_v(N)
    Hp = jm.perturbed_model(model, jm.random_local_perturbation(jr.key(4), LAT, k=1), 0.3)
    Hd = np.asarray(Hp.dense())
    expect = chi_dense(Hd, np.asarray(V.dense()), mu=MU)
    np.testing.assert_allclose(np.asarray(jm.fidelity_susceptibility(Hp, V, mu=MU)), expect, rtol=1e-8)
    np.testing.assert_allclose(np.asarray(jm.fidelity_susceptibility(jnp.asarray(Hd), V, mu=MU)), expect, rtol=1e-8)
    E, vecs = np.linalg.eigh(Hd)
    chi = jm.fidelity_susceptibility(None, V, mu=MU, eigenpairs=(E, vecs))
    np.testing.assert_allclose(np.asarray(chi), expect, rtol=1e-10)


@pytest.mark.slow
def test_v_as_a_family_derivative():
    # V given as Family.dH(s), an operator with mv only, on the Swingle route.
    model = _sample(jr.key(3), LAT)
    V = local_v(N)
    fam = jm.perturbation_family(model, V)
    a = jm.fidelity_susceptibility(model, fam.dH(0.0), mu=MU, states=STATES)
    b = jm.fidelity_susceptibility(model, V, mu=MU, states=STATES)
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-10)


def test_mu_to_zero_is_perturbation_theory_and_filter_is_exact_when_gapped():
    # chi_n(mu -> 0) = sum_{m != n} |V_mn|^2 / w^2: the norm of d|psi_n>/dg by finite differences.
    rng = np.random.default_rng(0)
    Hd = np.diag(np.arange(8.0)) + 0.1 * ref.haar_unitary(rng, 8).real
    Hd = (Hd + Hd.T) / 2
    Vd = rng.normal(size=(8, 8))
    Vd = (Vd + Vd.T) / 2
    g = 1e-6
    _, v0 = np.linalg.eigh(Hd)
    _, v1 = np.linalg.eigh(Hd + g * Vd)
    v1 = v1 * np.sign(np.sum(v0 * v1, axis=0))
    fd = np.sum(((v1 - v0) / g) ** 2, axis=0)
    chi = np.asarray(jm.fidelity_susceptibility(jnp.asarray(Hd), jnp.asarray(Vd), mu=1e-7))
    np.testing.assert_allclose(chi, fd, rtol=1e-4)
    gapped = np.asarray(jm.fidelity_susceptibility(jnp.asarray(Hd), jnp.asarray(Vd), gap=0.5))
    np.testing.assert_allclose(gapped, fd, rtol=1e-4)  # all gaps >= 0.5: the filter is -1/w exactly


# ----------------------------------------------------------------------------- typical values
def test_typical_susceptibility():
    chi = np.exp(np.random.default_rng(0).normal(size=(40, 30)))
    typ, err = jm.typical_susceptibility(jr.key(0), jnp.asarray(chi))
    per_real = np.log(chi).mean(axis=1)
    assert np.isclose(float(typ), np.exp(per_real.mean()), rtol=1e-12)
    se = per_real.std(ddof=1) / np.sqrt(len(per_real))
    assert 0.7 * se < float(err) / float(typ) < 1.3 * se
    ln, ln_err = jm.typical_susceptibility(jr.key(0), jnp.asarray(chi[0]), log=True)
    assert np.isclose(float(ln), np.log(chi[0]).mean())
    assert np.isfinite(float(ln_err))
    with pytest.raises(jm.JaxmblError, match="chi must be >= 0"):
        jm.typical_susceptibility(jr.key(0), -jnp.ones(3))


# ----------------------------------------------------------------------------- transforms
@pytest.mark.slow
def test_jit_equals_eager_and_vmap_equals_loop():
    n, lat, states = N, LAT, STATES
    models = _sample_models(jr.key(5), lat, 3)
    V = local_v(n)
    eager = jm.fidelity_susceptibility(models, V, mu=MU, states=states)
    jitted = jax.jit(lambda m, v, mu: jm.fidelity_susceptibility(m, v, mu=mu, states=states))(models, V, MU)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), rtol=1e-12)
    for i in range(3):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], models)
        np.testing.assert_allclose(
            np.asarray(jm.fidelity_susceptibility(one, V, mu=MU, states=states)), np.asarray(eager[i]), rtol=1e-12
        )
    # The ED route.
    Hs = jax.vmap(lambda k: jm.random_field_heisenberg(k, lat, 1.0))(jr.split(jr.key(7), 3))
    Vz = sz_v(n)
    batch = jm.fidelity_susceptibility(Hs, Vz, mu=MU, sector=0)
    jitted = jax.jit(lambda h: jm.fidelity_susceptibility(h, Vz, mu=MU, sector=0))(Hs)
    np.testing.assert_allclose(np.asarray(jitted), np.asarray(batch), rtol=1e-10)
    for i in range(3):
        one = jax.tree_util.tree_map(lambda x, i=i: x[i], Hs)
        np.testing.assert_allclose(
            np.asarray(jm.fidelity_susceptibility(one, Vz, mu=MU, sector=0)), np.asarray(batch[i]), rtol=1e-10
        )


@pytest.mark.slow
def test_batched_v_equals_loop():
    models = _sample_models(jr.key(5), LAT, 3)
    Vs = jax.vmap(lambda k: jm.random_local_perturbation(k, LAT, k=1))(jr.split(jr.key(6), 3))
    both = jm.fidelity_susceptibility(models, Vs, gap=GAP, states=STATES)
    for i in range(3):
        one, v = jax.tree_util.tree_map(lambda x, i=i: x[i], (models, Vs))
        np.testing.assert_allclose(
            np.asarray(jm.fidelity_susceptibility(one, v, gap=GAP, states=STATES)), np.asarray(both[i]), rtol=1e-12
        )


def _fd(f, x, h=1e-6):
    return (f(x + h) - f(x - h)) / (2 * h)


@pytest.mark.slow
@pytest.mark.parametrize("gap_filter", [False, pytest.param(True, marks=pytest.mark.slow)], ids=["mu", "gap"])
def test_gradients_swingle_route_at_exact_degeneracies(gap_filter):
    # A clean (translation-invariant) H0: E(n) is massively degenerate; U|n> are still the eigenstates.
    model = jax.tree_util.tree_map(lambda x: x[0], _clean(jr.key(8), LAT, 1))
    E = np.asarray(jm.energies(model))
    assert len(np.unique(np.round(E, 12))) < len(E) // 2
    V = local_v(N)
    states = STATES

    def mean_chi(coef, h0_scale, mu, gap=None):
        m = dataclasses.replace(
            model, h0=dataclasses.replace(model.h0, coef=tuple(h0_scale * c for c in model.h0.coef))
        )
        v = dataclasses.replace(V, coef=coef)
        kw = {"gap": gap} if gap is not None else {"mu": mu}
        return jnp.mean(jm.fidelity_susceptibility(m, v, states=states, **kw))

    e0 = jnp.zeros_like(V.coef).at[0].set(1.0)
    # Lorentzian: gradients in V's coefficients, the scale of H0 and mu, in one pass.
    value, grads = jax.value_and_grad(mean_chi, argnums=(0, 1, 2))(V.coef, 1.0, MU)
    assert np.isfinite(float(value)) and all(np.all(np.isfinite(np.asarray(g))) for g in grads)
    np.testing.assert_allclose(
        float(grads[0][0]), _fd(lambda t: float(mean_chi(V.coef + t * e0, 1.0, MU)), 0.0), rtol=1e-6
    )
    np.testing.assert_allclose(float(grads[1]), _fd(lambda a: float(mean_chi(V.coef, a, MU)), 1.0), rtol=1e-6)
    np.testing.assert_allclose(float(grads[2]), _fd(lambda mu: float(mean_chi(V.coef, 1.0, mu)), MU), rtol=1e-6)
    if not gap_filter:
        return
    # Filter: gradients in the scale of H0 and in gap.
    value, grads = jax.value_and_grad(mean_chi, argnums=(1, 3))(V.coef, 1.0, None, GAP)
    assert np.isfinite(float(value)) and all(np.isfinite(float(g)) for g in grads)
    np.testing.assert_allclose(float(grads[0]), _fd(lambda a: float(mean_chi(V.coef, a, None, GAP)), 1.0), rtol=1e-6)
    np.testing.assert_allclose(float(grads[1]), _fd(lambda d: float(mean_chi(V.coef, 1.0, None, d)), GAP), rtol=1e-6)


@pytest.mark.slow
def test_gradient_with_respect_to_xi():
    V = local_v(N)

    def mean_chi(xi):
        model = _sample(jr.key(9), LAT, xi=xi, max_range=40.0)
        return jnp.mean(jm.fidelity_susceptibility(model, V, mu=MU, states=STATES))

    g = jax.grad(mean_chi)(0.8)
    assert np.isfinite(float(g)) and abs(float(g)) > 0
    np.testing.assert_allclose(float(g), _fd(lambda x: float(mean_chi(x)), 0.8), rtol=1e-6)


def test_gradients_ed_route_at_exact_degeneracies():
    # The clean isotropic Heisenberg chain: a degenerate spectrum (SU(2) multiplets).
    n = 6
    H = jm.random_field_heisenberg(jr.key(0), n, W=0.0)
    E = np.linalg.eigvalsh(np.asarray(H.dense()))
    assert np.min(np.diff(E)) < 1e-12
    V = sz_v(n)

    def agp(J, coef):
        h = jm.random_field_heisenberg(jr.key(0), n, W=0.0, J=J)
        return jm.agp_norm(h, dataclasses.replace(V, coef=coef), mu=MU)

    gJ, gc = jax.grad(agp, argnums=(0, 1))(1.0, V.coef)
    assert np.isfinite(float(gJ)) and np.all(np.isfinite(np.asarray(gc)))
    # H(J) = J H(1): eigenvectors fixed, so the derivative is defined and must match.
    np.testing.assert_allclose(float(gJ), _fd(lambda J: float(agp(J, V.coef)), 1.0), rtol=1e-6)
    e0 = jnp.zeros_like(V.coef).at[0].set(1.0)
    np.testing.assert_allclose(float(gc[0]), _fd(lambda t: float(agp(1.0, V.coef + t * e0)), 0.0), rtol=1e-6)


@pytest.mark.slow
def test_ed_gradient_in_a_direction_that_splits_multiplets():
    # Jz breaks SU(2): per-eigenstate gradients through jm.eigh stay finite at the degeneracy.
    V = sz_v(6)
    g = jax.grad(
        lambda jz: jnp.sum(
            jm.fidelity_susceptibility(jm.random_field_heisenberg(jr.key(0), 6, W=0.0, Jz=jz), V, gap=GAP, sector=0)
        )
    )(1.0)
    assert np.isfinite(float(g))


@pytest.mark.slow
@pytest.mark.parametrize("sector", [pytest.param(None, marks=pytest.mark.slow), 0])
def test_partial_eigenpairs_go_through_the_resolvent(sector):
    # k < D pairs from interior_eigh: chi_n with no other eigenpair, against the dense spectral sum.
    n = 8
    H = jm.random_field_heisenberg(jr.key(6), n, W=3.0)
    V = sz_v(n) if sector == 0 else local_v(n)
    Hd, Vd = np.asarray(H.dense()), np.asarray(V.dense())
    if sector is not None:
        b = jm.sector_basis(n, sector)
        Hd, Vd = Hd[np.ix_(b, b)], Vd[np.ix_(b, b)]
    out = jm.interior_eigh(H, 6, sector=sector, key=jr.key(0))
    E_all, vecs_all = np.linalg.eigh(Hd)
    idx = np.searchsorted(E_all, np.asarray(out.energies) - 1e-9)
    np.testing.assert_allclose(E_all[idx], out.energies, atol=1e-10)
    expect = chi_from_eigen(E_all, vecs_all, Vd, mu=0.5)[idx]
    chi = jm.fidelity_susceptibility(H, V, mu=0.5, sector=sector, eigenpairs=out)
    np.testing.assert_allclose(np.asarray(chi), expect, rtol=1e-8)
    pair = (out.energies, out.vectors)
    sub = jm.fidelity_susceptibility(H, V, mu=0.5, sector=sector, eigenpairs=pair, states=[1, 4])
    np.testing.assert_allclose(np.asarray(sub), expect[[1, 4]], rtol=1e-8)


# ----------------------------------------------------------------------------- errors
def test_bad_input_errors():
    n = N
    model = _sample(jr.key(0), LAT)
    V = local_v(n)
    H = jm.random_field_heisenberg(jr.key(1), n, W=1.0)
    with pytest.raises(jm.JaxmblError, match="exactly one of mu"):
        jm.fidelity_susceptibility(model, V, mu=0.1, gap=0.1)
    with pytest.raises(jm.JaxmblError, match="exactly one of mu"):
        jm.fidelity_susceptibility(H, V)
    with pytest.raises(jm.JaxmblError, match="mu must be finite and > 0"):
        jm.fidelity_susceptibility(H, V, mu=-1.0)
    with pytest.raises(jm.JaxmblError, match="V acts on 7 sites"):
        jm.fidelity_susceptibility(model, local_v(7), mu=0.1)
    with pytest.raises(jm.JaxmblError, match="V acts on 7 sites"):
        jm.fidelity_susceptibility(H, local_v(7), mu=0.1)
    with pytest.raises(jm.JaxmblError, match="states must lie in 0..63"):
        jm.fidelity_susceptibility(model, V, mu=0.1, states=[3, 64])
    with pytest.raises(jm.JaxmblError, match="states must lie in 0..19"):
        jm.fidelity_susceptibility(H, sz_v(n), mu=0.1, sector=0, states=[20])
    with pytest.raises(jm.JaxmblError, match="V changes S\\^z"):
        jm.fidelity_susceptibility(H, V, mu=0.1, sector=0)
    with pytest.raises(jm.JaxmblError, match="V changes S\\^z"):
        jm.fidelity_susceptibility(H, jnp.asarray(V.dense()), mu=0.1, sector=0)
    with pytest.raises(ValueError, match="does not conserve total Z"):
        jm.fidelity_susceptibility(H + V, sz_v(n), mu=0.1, sector=0)
    with pytest.raises(jm.JaxmblError, match="sector= is for the ED route"):
        jm.fidelity_susceptibility(model, V, mu=0.1, sector=0)
    with pytest.raises(jm.JaxmblError, match="V must be Hermitian"):
        jm.fidelity_susceptibility(H, jnp.triu(jnp.ones((64, 64))), mu=0.1)
    E, vecs = np.linalg.eigh(np.asarray(H.dense()))
    with pytest.raises(jm.JaxmblError, match="holds 4 of the D=64 eigenstates.*needs mu="):
        jm.fidelity_susceptibility(H, V, gap=0.1, eigenpairs=(E[6:10], vecs[:, 6:10]))
    with pytest.raises(jm.JaxmblError, match="H is None"):
        jm.fidelity_susceptibility(None, V, mu=0.1, eigenpairs=(E[6:10], vecs[:, 6:10]))
    with pytest.raises(TypeError, match="V must be"):
        jm.fidelity_susceptibility(H, "X", mu=0.1)
    with pytest.raises(jm.JaxmblError, match="state_batch"):
        jm.fidelity_susceptibility(model, V, mu=0.1, state_batch=0)
