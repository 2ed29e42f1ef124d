"""Exact l-bit-frame dephasing (dephasing_rdm, dephasing_entropy) and its physical-frame counterpart.

References are independent of jaxmbl's phase code: each coupling's phase ``J_S t mod 2 pi`` is
reduced in 50-digit mpmath arithmetic, the product state is built with numpy krons, and the
reduced density matrix is a numpy partial trace (tests/reference.py). The physical frame is checked
against the state-vector route ``evolve_lbit_frame`` + ``entropy``.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from reference import energy_phases_mp, h0_terms, partial_trace_keep, phase_mod_2pi_mp, unitary_dense

import jaxmbl as jm
from jaxmbl._swingle.frames import evolve_lbit_frame

TIMES = (0.1, 10.0, 1e4, 1e8, 1e12)


def random_amplitudes(rng, n_sites, batch=()):
    a = rng.normal(size=batch + (n_sites, 2)) + 1j * rng.normal(size=batch + (n_sites, 2))
    return a / np.linalg.norm(a, axis=-1, keepdims=True)


def product(amps):
    """(x)_b (alpha_b|0> + beta_b|1>) as a 2**N vector, site 0 most significant."""
    psi = amps[0]
    for a in amps[1:]:
        psi = np.kron(psi, a)
    return psi


def reference_state(terms, amps, t):
    """chi(t) = exp(-i H0 t) (x)_b (alpha_b, beta_b), phases reduced per coupling in mpmath."""
    n = amps.shape[0]
    psi = product(amps)
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    phase = np.zeros(2**n)
    for sites, J in terms:
        phase += phase_mod_2pi_mp([J], t) * np.all(bits[:, list(sites)] == 1, axis=1)
    return psi * np.exp(-1j * phase)


def reference_rdm(terms, amps, region, t):
    return partial_trace_keep(reference_state(terms, amps, t), list(region), amps.shape[0])


def von_neumann(rho, alpha=1):
    p = np.linalg.eigvalsh(rho)
    p = p[p > 1e-14]
    if alpha == 1:
        return float(-np.sum(p * np.log(p)))
    return float(-np.log(p.max()) if alpha == np.inf else np.log(np.sum(p**alpha)) / (1 - alpha))


def sample_h0(key, n_sites, max_order, xi=1.0, cutoff=1e-12):
    return jm.sample_lbit_hamiltonian(key, jm.Lattice((n_sites,)), xi=xi, max_order=max_order, cutoff=cutoff)


def chain_h0(n_sites, terms):
    """An LbitHamiltonian built field by field (any N; the couplings grouped by order)."""
    orders = sorted({len(S) for S in terms})
    sites = tuple(tuple(sorted(S for S in terms if len(S) == k)) for k in orders)
    coef = tuple(jnp.asarray([terms[S] for S in group]) for group in sites)
    return jm.LbitHamiltonian(coef=coef, sites=sites, n_sites=n_sites)


@pytest.fixture(scope="module")
def model():
    return jm.sample_model(jr.key(3), jm.Lattice((10,)), depth=2, strength=1.0, xi=1.0, max_order=3)


# ---------------------------------------------------------------------------- against the references
@pytest.mark.parametrize("max_order", [1, 2, 3])
def test_rdm_matches_independent_reference(max_order, rng):
    n = 10
    for i, region in enumerate([(3, 4, 5), (0, 2, 9)]):  # contiguous; non-contiguous with an end site
        h0 = sample_h0(jr.key(10 * max_order + i), n, max_order)  # a realization and a product state each
        amps = random_amplitudes(rng, n)
        got = np.asarray(jm.dephasing_rdm(h0, amps, region, TIMES))
        for k, t in enumerate(TIMES):
            np.testing.assert_allclose(got[k], reference_rdm(h0_terms(h0), amps, region, t), atol=1e-12, rtol=0)


@pytest.mark.slow
def test_batched_realizations_and_product_states_match_dense_energies(rng):
    # Two hand-written H0 of orders 1-3 (jm.lbit_hamiltonian) batched, three product states each
    # (generic complex, |+>^N, a basis state with two superposed sites), contiguous and
    # non-contiguous regions. Reference: chi(t)(n) = chi0(n) exp(-i E(n) t), E(n) t mod 2 pi in
    # 50-digit arithmetic over the dense spectrum, and rho_A by an explicit einsum partial trace.
    n = 12
    realizations = []
    for _ in range(2):
        terms = {(r,): rng.uniform() for r in range(n)}
        terms.update({(r, r + d): rng.uniform(-1, 1) * np.exp(-d) for r in range(n) for d in (1, 2, 3) if r + d < n})
        terms.update({(r, r + 1, r + 2): rng.uniform(-1, 1) * np.exp(-2) for r in range(n - 2)})
        terms.update({(r, r + 1, r + 3): rng.uniform(-1, 1) * np.exp(-3) for r in range(n - 3)})
        realizations.append(jm.lbit_hamiltonian(n, terms))
    h0s = jax.tree_util.tree_map(lambda *x: jnp.stack(x), *realizations)
    plus = np.full((n, 2), 2**-0.5)
    basis = np.tile([1.0, 0.0], (n, 1)).astype(complex)
    basis[[3, 8]] = [[0.6, 0.8j], [0.8, -0.6]]
    basis[5] = [0.0, 1.0]
    states = np.stack([random_amplitudes(rng, n), plus, basis])  # (3, N, 2)
    amps = np.broadcast_to(states, (2, 3, n, 2))
    h0b = jax.tree_util.tree_map(lambda x: x[:, None], h0s)  # batch (2, 1) broadcasts against (2, 3)
    phases = [[energy_phases_mp(h0_terms(h0), n, t) for t in TIMES] for h0 in realizations]
    for region in [(4, 5, 6, 7), (0, 5, 11), (1, 2, 8, 10)]:
        got = np.asarray(jm.dephasing_rdm(h0b, amps, region, TIMES))
        assert got.shape == (2, 3, len(TIMES), 2 ** len(region), 2 ** len(region))
        rest = [r for r in range(n) if r not in region]
        for i in range(len(realizations)):
            for j, state in enumerate(states):
                for k in range(len(TIMES)):
                    chi = (product(state) * np.exp(-1j * phases[i][k])).reshape((2,) * n)
                    m = chi.transpose(list(region) + rest).reshape(2 ** len(region), -1)
                    ref = np.einsum("ab,cb->ac", m, m.conj())
                    np.testing.assert_allclose(got[i, j, k], ref, atol=1e-12, rtol=0)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_job_batch_changes_nothing_but_the_schedule(rng):
    h0s = jax.vmap(lambda k: sample_h0(k, 8, 3, cutoff=1e-4))(jr.split(jr.key(8), 2))
    amps = random_amplitudes(rng, 8, (2,))
    ref = np.asarray(jm.dephasing_entropy(h0s, amps, (2, 3, 6), TIMES))
    for job_batch in (1, 3, 10):
        got = np.asarray(jm.dephasing_entropy(h0s, amps, (2, 3, 6), TIMES, job_batch=job_batch))
        np.testing.assert_allclose(got, ref, atol=1e-13)
    with pytest.raises(jm.JaxmblError, match="job_batch must be a positive integer"):
        jm.dephasing_rdm(h0s, amps, (2,), TIMES, job_batch=0)


def test_rdm_at_14_sites_with_three_body_terms(rng):
    h0 = sample_h0(jr.key(7), 14, 3, xi=0.8, cutoff=1e-6)
    amps = random_amplitudes(rng, 14)
    region = (5, 6, 9)
    got = np.asarray(jm.dephasing_rdm(h0, amps, region, TIMES))
    for k, t in enumerate(TIMES):
        np.testing.assert_allclose(got[k], reference_rdm(h0_terms(h0), amps, region, t), atol=1e-12, rtol=0)


def test_agrees_with_the_state_vector_l_bit_frame_evolution(model, rng):
    amps = random_amplitudes(rng, 10)
    chi0 = jnp.asarray(product(amps))
    region = (1, 2, 6, 7)
    ref = evolve_lbit_frame(model, chi0, TIMES, lambda psi, chi: jm.reduced_density_matrix(chi, region))
    got = jm.dephasing_rdm(model, amps, region, TIMES)  # a SwingleModel is accepted for its h0
    np.testing.assert_allclose(np.asarray(got), np.asarray(ref), atol=1e-12, rtol=0)


def test_two_spins_reproduce_eq_3_12():
    J1, J2, J12 = 0.7316, 0.4123, 0.2519
    h0 = jm.lbit_hamiltonian(2, {(0,): J1, (1,): J2, (0, 1): J12})
    ts = np.array([0.3, np.pi / J12, 1e12])
    rho = np.asarray(jm.dephasing_rdm(h0, np.full((2, 2), 2**-0.5), [0], ts))
    off = [np.exp(1j * phase_mod_2pi_mp([J1], t)) * (1 + np.exp(1j * phase_mod_2pi_mp([J12], t))) / 4 for t in ts]
    np.testing.assert_allclose(rho[:, 0, 1], off, atol=1e-13)
    np.testing.assert_allclose(rho[1], np.eye(2) / 2, atol=1e-13)


# ---------------------------------------------------------------------------- entropies and the boundary reduction
@pytest.mark.slow
def test_entropy_of_any_region_matches_the_state_vector(model, rng):
    n = 10
    h0 = model.h0
    amps = random_amplitudes(rng, n)
    for region, alpha in [((0, 1, 2, 3, 4), 1), ((2, 5), 1), (tuple(range(1, 10)), 1), ((2, 5), 2), ((2, 5), np.inf)]:
        got = np.asarray(jm.dephasing_entropy(h0, amps, region, TIMES, alpha=alpha))
        for k, t in enumerate(TIMES):
            rho = reference_rdm(h0_terms(h0), amps, region, t)
            assert got[k] == pytest.approx(von_neumann(rho, alpha), abs=1e-11)


def test_half_chain_entropy_only_needs_the_sites_coupled_across_the_cut(rng):
    # Range-4 pairwise and 3-body couplings: A = sites 0..5 of 12, only sites 2..5 couple to B.
    n = 12
    h0 = sample_h0(jr.key(4), n, 3, xi=0.9, cutoff=float(np.exp(-4.5 / 0.9)))
    near_a, near_b = jm.boundary_sites(h0, range(6))
    assert near_a == (2, 3, 4, 5) and near_b == (6, 7, 8, 9)
    amps = random_amplitudes(rng, n)
    got = np.asarray(jm.dephasing_entropy(h0, amps, range(6), TIMES))
    ref = [von_neumann(reference_rdm(h0_terms(h0), amps, range(6), t)) for t in TIMES]
    np.testing.assert_allclose(got, ref, atol=1e-11)
    # No coupling across the cut: exactly zero.
    h0_cut = jm.lbit_hamiltonian(4, {(0, 1): 1.0, (2, 3): 1.0})
    assert np.all(np.asarray(jm.dephasing_entropy(h0_cut, amps[:4], [0, 1], TIMES)) == 0)


@pytest.mark.slow
def test_sixteen_sites_rdm_and_half_chain_entropy(rng):
    n = 16
    h0 = sample_h0(jr.key(16), n, 3, xi=0.7, cutoff=float(np.exp(-5.5 / 0.7)))
    amps = random_amplitudes(rng, n)
    region = (6, 7, 10)
    rho = np.asarray(jm.dephasing_rdm(h0, amps, region, TIMES))
    S = np.asarray(jm.dephasing_entropy(h0, amps, range(8), TIMES))
    for k, t in enumerate(TIMES):
        chi = reference_state(h0_terms(h0), amps, t)
        np.testing.assert_allclose(rho[k], partial_trace_keep(chi, list(region), n), atol=1e-12, rtol=0)
        assert S[k] == pytest.approx(float(jm.entropy(jnp.asarray(chi), range(8))), abs=1e-11)


def test_long_chain_equals_the_chain_of_its_coupled_sites(rng):
    # A block of 3 sites in a chain of 3000: only sites within the coupling range enter, so the
    # result equals the state-vector answer on the 11-site window holding every coupled site.
    n, x, reach = 3000, 1500, 4
    terms = {}
    for r in range(n):
        terms[(r,)] = rng.uniform()
        for d in range(1, reach + 1):
            if r + d < n:
                terms[(r, r + d)] = rng.uniform(-1, 1) * np.exp(-d)
    h0 = chain_h0(n, terms)
    amps = random_amplitudes(rng, n)
    region = (x, x + 1, x + 2)
    got = np.asarray(jm.dephasing_entropy(h0, amps, region, TIMES))
    lo, hi = x - reach, x + 2 + reach + 1
    local = [(tuple(s - lo for s in S), J) for S, J in terms.items() if min(S) >= lo and max(S) < hi]
    for k, t in enumerate(TIMES):
        rho = reference_rdm(local, amps[lo:hi], [x - lo, x + 1 - lo, x + 2 - lo], t)
        assert got[k] == pytest.approx(von_neumann(rho), abs=1e-11)


def test_two_dimensional_pairwise_is_exact_and_k_body_is_refused(rng):
    lat = jm.Lattice((3, 3))
    h0 = jm.sample_lbit_hamiltonian(jr.key(2), lat, xi=1.0, max_order=2)
    amps = random_amplitudes(rng, 9)
    region = (0, 4, 5)
    got = np.asarray(jm.dephasing_rdm(h0, amps, region, TIMES, lattice=lat))
    for k, t in enumerate(TIMES):
        np.testing.assert_allclose(got[k], reference_rdm(h0_terms(h0), amps, region, t), atol=1e-12, rtol=0)
    h3 = jm.sample_lbit_hamiltonian(jr.key(2), lat, xi=1.0, max_order=3)
    with pytest.raises(jm.JaxmblError, match="2D lattice"):
        jm.dephasing_entropy(h3, amps, region, TIMES, lattice=lat)


# ---------------------------------------------------------------------------- physical frame
@pytest.mark.slow
@pytest.mark.parametrize("depth", [2, pytest.param(4, marks=pytest.mark.slow)])
def test_physical_entropy_matches_the_state_vector_and_obeys_the_bound(depth, model, rng):
    n = 10
    if depth != 2:
        model = jm.sample_model(jr.key(depth), jm.Lattice((n,)), depth=depth, strength=1.0)
    amps = random_amplitudes(rng, n)
    U = unitary_dense(model.U)
    for region in [(4, 5), (2, 3, 7)] + ([(0, 1, 2, 3, 4)] if depth != 2 else []):
        S_phys = np.asarray(jm.physical_dephasing_entropy(model, amps, region, TIMES))
        for k, t in enumerate(TIMES):
            psi = U @ reference_state(h0_terms(model.h0), amps, t)
            assert S_phys[k] == pytest.approx(von_neumann(partial_trace_keep(psi, list(region), n)), abs=1e-11)
        S_lbit = np.asarray(jm.dephasing_entropy(model.h0, amps, region, TIMES))
        assert np.all(np.abs(S_phys - S_lbit) <= jm.frame_entropy_bound(model.U, region) + 1e-12)


def test_physical_entropy_refuses_half_chains_of_long_chains(rng):
    n = 40
    lat = jm.Lattice((n,))
    h0 = chain_h0(n, {(r, r + d): 0.5**d for r in range(n) for d in (1, 2, 3) if r + d < n})
    pairs = [b for layer in lat.bond_layers for b in layer]
    U = jm.circuit(np.tile(np.eye(4, dtype=complex), (len(pairs), 1, 1)), pairs, n)
    model = jm.SwingleModel(lattice=lat, h0=h0, U=U)
    with pytest.raises(jm.JaxmblError, match="frame_entropy_bound"):
        jm.physical_dephasing_entropy(model, random_amplitudes(rng, n), range(20), 1.0)
    with pytest.raises(jm.JaxmblError, match="Circuit"):
        jm.frame_entropy_bound(h0, [0])


# ---------------------------------------------------------------------------- transforms and batching
@pytest.mark.slow
def test_jit_equals_eager_and_vmap_equals_loop(rng):
    h0s = jax.vmap(lambda k: sample_h0(k, 7, 3, cutoff=1e-3))(jr.split(jr.key(5), 3))
    amps = random_amplitudes(rng, 7, (3,))
    ts = np.array([0.5, 1e12])
    for fn in (jm.dephasing_rdm, jm.dephasing_entropy):
        eager = fn(h0s, amps, (2, 3, 6), ts)
        jitted = jax.jit(lambda h, a: fn(h, a, (2, 3, 6), ts))(h0s, amps)
        vmapped = jax.vmap(lambda h, a: fn(h, a, (2, 3, 6), ts))(h0s, amps)
        loop = [fn(jax.tree_util.tree_map(lambda x: x[i], h0s), amps[i], (2, 3, 6), ts) for i in range(3)]
        np.testing.assert_allclose(np.asarray(jitted), np.asarray(eager), atol=1e-13)
        np.testing.assert_allclose(np.asarray(vmapped), np.asarray(eager), atol=1e-13)
        np.testing.assert_allclose(np.asarray(eager), np.asarray(loop), atol=1e-13)
    # One product state shared by every realization broadcasts; a scalar time drops the time axis.
    shared = jm.dephasing_entropy(h0s, amps[0], (2, 3, 6), 1e12)
    assert shared.shape == (3,)
    np.testing.assert_allclose(
        np.asarray(shared),
        np.asarray(jm.dephasing_entropy(h0s, np.broadcast_to(amps[0], (3, 7, 2)), (2, 3, 6), ts))[:, 1],
        atol=1e-13,
    )


def test_bad_inputs_are_refused_naming_the_argument(rng):
    h0 = sample_h0(jr.key(0), 6, 3)
    amps = random_amplitudes(rng, 6)
    with pytest.raises(jm.JaxmblError, match="amplitudes.*normalized"):
        jm.dephasing_rdm(h0, amps * 1.1, [0], 1.0)
    with pytest.raises(jm.JaxmblError, match="amplitudes.*shape"):
        jm.dephasing_rdm(h0, amps[:5], [0], 1.0)
    with pytest.raises(jm.JaxmblError, match="region has sites out of range"):
        jm.dephasing_entropy(h0, amps, [2, 6], 1.0)
    with pytest.raises(jm.JaxmblError, match="region must contain"):
        jm.dephasing_rdm(h0, amps, [], 1.0)
    with pytest.raises(TypeError, match="h0"):
        jm.dephasing_rdm(h0.coef, amps, [0], 1.0)
    with pytest.raises(jm.JaxmblError, match="ts"):
        jm.dephasing_rdm(h0, amps, [0], np.ones((2, 2)))
    # All 3-body couplings of a 30-site chain: a 3-site block needs a transfer window of ~26 spins.
    big = sample_h0(jr.key(0), 30, 3, xi=3.0, cutoff=1e-12)
    with pytest.raises(jm.JaxmblError, match=r"h0: .*4\*\*3 x 2\*\*\d+ = .*MAX_TRANSFER_ENTRIES"):
        jm.dephasing_rdm(big, random_amplitudes(rng, 30), (14, 15, 16), 1.0)
