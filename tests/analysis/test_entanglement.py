"""Tests of jaxmbl._analysis.entanglement against dense numpy partial traces and analytic values."""

import string

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import jaxmbl
from jaxmbl import (
    Lattice,
    dephased_entropy,
    entanglement_spectrum,
    entropy,
    mutual_information,
    reduced_density_matrix,
)

ALPHAS = (0.5, 1, 2, np.inf)
LN2 = np.log(2.0)


# ---------------------------------------------------------------------------- references (numpy only)
def random_state(rng, n_sites, batch=()):
    """Haar-random states: normalized complex Gaussian vectors."""
    psi = rng.normal(size=batch + (2**n_sites,)) + 1j * rng.normal(size=batch + (2**n_sites,))
    return psi / np.linalg.norm(psi, axis=-1, keepdims=True)


def product_state(single):
    """Kronecker product of single-site 2-vectors, site 0 first (= most significant bit)."""
    psi = np.ones(1, dtype=complex)
    for v in single:
        psi = np.kron(psi, np.asarray(v, dtype=complex))
    return psi


def bit(n, site, n_sites):
    return (n >> (n_sites - 1 - site)) & 1


def dense_rdm(psi, region, n_sites):
    """tr_B |psi><psi| by an einsum over the full 2**N x 2**N density matrix."""
    rho = np.outer(psi, psi.conj()).reshape((2,) * (2 * n_sites))
    ket, bra = list(string.ascii_letters[:n_sites]), list(string.ascii_letters[n_sites : 2 * n_sites])
    region = sorted(region)
    for r in range(n_sites):
        if r not in region:
            bra[r] = ket[r]  # traced: same index on ket and bra
    out = "".join(ket[r] for r in region) + "".join(bra[r] for r in region)
    dA = 2 ** len(region)
    return np.einsum("".join(ket) + "".join(bra) + "->" + out, rho).reshape(dA, dA)


def np_renyi(p, alpha):
    p = np.clip(np.asarray(p, dtype=float), 0, None)
    p = p[p > 1e-14]
    if alpha == 1:
        return float(-np.sum(p * np.log(p)))
    if alpha == np.inf:
        return float(-np.log(p.max()))
    return float(np.log(np.sum(p**alpha)) / (1 - alpha))


def dense_entropy(psi, region, n_sites, alpha=1):
    return np_renyi(np.linalg.eigvalsh(dense_rdm(psi, region, n_sites)), alpha)


def dense_marginal(psi, region, n_sites):
    """Born marginal of the Z configurations of the region, by an explicit loop over basis states."""
    region = sorted(region)
    q = np.zeros(2 ** len(region))
    for n, amp in enumerate(psi):
        x = 0
        for r in region:
            x = 2 * x + bit(n, r, n_sites)
        q[x] += abs(amp) ** 2
    return q / q.sum()


def bell_in_background(n_sites, a, b, rng):
    """(|00> + |11>)/sqrt2 on sites a, b times random single-site states elsewhere (explicit loop)."""
    single = rng.normal(size=(n_sites, 2)) + 1j * rng.normal(size=(n_sites, 2))
    single /= np.linalg.norm(single, axis=1, keepdims=True)
    psi = np.zeros(2**n_sites, dtype=complex)
    for n in range(2**n_sites):
        if bit(n, a, n_sites) == bit(n, b, n_sites):
            psi[n] = np.prod([single[r, bit(n, r, n_sites)] for r in range(n_sites) if r not in (a, b)]) / np.sqrt(2)
    return psi


LAT = Lattice((2, 3))
REGION_CASES = [
    (7, (0, 2, 5)),
    (7, (5, 0, 2)),  # unsorted input means the same region
    (7, (3,)),
    (7, (0, 1, 2, 3, 4, 6)),  # big region: the smaller Gram matrix is the complement's
    (6, LAT.rectangle((0, 0), (2, 1))),  # a column of the 2x3 lattice: sites {0, 3}
    (6, (0, 2, 4)),  # checkerboard of the 2x3 lattice
    (5, tuple(range(5))),  # the whole system
]


# ---------------------------------------------------------------------------- reduced density matrix
@pytest.mark.parametrize("n_sites, region", REGION_CASES)
def test_rdm_matches_dense_partial_trace(rng, n_sites, region):
    psi = random_state(rng, n_sites)
    rho = np.asarray(reduced_density_matrix(psi, region))
    np.testing.assert_allclose(rho, dense_rdm(psi, region, n_sites), atol=1e-12)
    np.testing.assert_allclose(rho, rho.conj().T, atol=1e-14)
    assert abs(np.trace(rho) - 1) < 1e-12
    assert np.linalg.eigvalsh(rho).min() > -1e-12


def test_rdm_region_order_and_normalization():
    # |1>_0 |0>_1 |0>_2 |1>_3: sites {0, 2} read (1, 0) -> index 2; sites {2, 3} read (0, 1) -> index 1.
    psi = np.zeros(16)
    psi[0b1001] = 3.0  # not normalized on purpose
    for region, idx in [((0, 2), 2), ((2, 0), 2), ((2, 3), 1), ((3,), 1), ((1,), 0)]:
        expect = np.zeros((2 ** len(region),) * 2)
        expect[idx, idx] = 1
        np.testing.assert_allclose(np.asarray(reduced_density_matrix(psi, region)), expect, atol=1e-15)
    # A coherence: (|00> + i|10>)/sqrt2 on sites (0, 1) of N=3 with site 2 in |0>.
    psi = np.zeros(8, dtype=complex)
    psi[0b000], psi[0b100] = 1 / np.sqrt(2), 1j / np.sqrt(2)
    rho = np.asarray(reduced_density_matrix(psi, (0, 1)))
    assert abs(rho[2, 0] - 0.5j) < 1e-15 and abs(rho[0, 2] + 0.5j) < 1e-15


# ---------------------------------------------------------------------------- entropies vs dense
@pytest.mark.parametrize("n_sites, region", REGION_CASES)
def test_entropy_and_spectrum_match_dense(rng, n_sites, region):
    psi = random_state(rng, n_sites)
    for alpha in ALPHAS:
        assert abs(float(entropy(psi, region, alpha)) - dense_entropy(psi, region, n_sites, alpha)) < 1e-10
    p = np.asarray(entanglement_spectrum(psi, region))
    ref = np.sort(np.linalg.eigvalsh(dense_rdm(psi, region, n_sites)))[::-1][: len(p)]
    assert len(p) == 2 ** min(len(region), n_sites - len(region))
    np.testing.assert_allclose(p, np.clip(ref, 0, None), atol=1e-12)
    # the complement has the same spectrum
    rest = tuple(r for r in range(n_sites) if r not in region)
    np.testing.assert_allclose(np.asarray(entanglement_spectrum(psi, rest)), p, atol=1e-12)


def test_unnormalized_and_real_input(rng):
    psi = random_state(rng, 6)
    s = float(entropy(psi, (1, 3)))
    assert abs(float(entropy(7.5 * psi, (1, 3))) - s) < 1e-12
    real = rng.normal(size=64)
    assert abs(float(entropy(real, (0, 5))) - dense_entropy(real / np.linalg.norm(real), (0, 5), 6)) < 1e-10


def test_product_states_have_zero_entropy(rng):
    single = rng.normal(size=(6, 2)) + 1j * rng.normal(size=(6, 2))
    psi = product_state(single / np.linalg.norm(single, axis=1, keepdims=True))
    z_product = product_state([[0, 1], [1, 0], [1, 0], [0, 1], [0, 1], [1, 0]])
    for state in (psi, z_product):
        for region in [(0,), (1, 4), (0, 2, 3, 5)]:
            for alpha in ALPHAS:
                assert abs(float(entropy(state, region, alpha))) < 1e-10
            assert abs(float(mutual_information(state, region, (5,) if 5 not in region else (1,)))) < 1e-10


def test_bell_pair_in_product_background(rng):
    psi = bell_in_background(6, 1, 4, rng)
    for region in [(1,), (4,), (0, 1), (1, 2, 3), (0, 2, 3, 4, 5)]:
        for alpha in ALPHAS:
            assert abs(float(entropy(psi, region, alpha)) - LN2) < 1e-10
    for region in [(1, 4), (0, 1, 4), (0, 2)]:
        assert abs(float(entropy(psi, region))) < 1e-10
    assert abs(float(mutual_information(psi, (1,), (4,))) - 2 * LN2) < 1e-10
    assert abs(float(mutual_information(psi, (0, 1), (2, 3)))) < 1e-10


def test_ghz():
    psi = np.zeros(2**5)
    psi[0] = psi[-1] = 1 / np.sqrt(2)
    for region in [(0,), (2, 4), (0, 1, 3, 4)]:
        for alpha in ALPHAS:
            assert abs(float(entropy(psi, region, alpha)) - LN2) < 1e-12
    # GHZ: I(A:B) = ln 2 for disjoint A, B that do not cover everything
    assert abs(float(mutual_information(psi, (0,), (3,))) - LN2) < 1e-12


@pytest.mark.parametrize("region", [tuple(range(5)), (0, 2, 4, 6, 8), (0, 1, 2), (3, 4, 5, 6, 7, 8, 9)])
def test_page_value(region):
    """Haar average of S for m = 2**|A| <= n = 2**|B|: sum_{k=n+1}^{mn} 1/k - (m-1)/(2n) (Page 1993)."""
    rng = np.random.default_rng(2024)
    n_states = 16
    S = np.asarray(entropy(random_state(rng, 10, (n_states,)), region))
    k = min(len(region), 10 - len(region))
    m, n = 2**k, 2 ** (10 - k)
    page = sum(1 / j for j in range(n + 1, m * n + 1)) - (m - 1) / (2 * n)
    assert abs(S.mean() - page) < 5 * S.std() / np.sqrt(n_states) + 1e-3
    assert S.max() < k * LN2


# ---------------------------------------------------------------------------- dephased bound, mutual information
@pytest.mark.slow
def test_dephased_entropy(rng):
    psi = random_state(rng, 7, (5,))
    for region in [(0, 2, 5), (3,), (1, 2, 3, 4, 6)]:
        for alpha in ALPHAS:
            d = np.asarray(dephased_entropy(psi, region, alpha))
            s = np.asarray(entropy(psi, region, alpha))
            assert np.all(d >= s - 1e-12)
            ref = [np_renyi(dense_marginal(v, region, 7), alpha) for v in psi]
            np.testing.assert_allclose(d, ref, atol=1e-12)
    # the diagonal of the dense rho_A gives the same distribution
    ref = np_renyi(np.diag(dense_rdm(psi[0], (0, 2, 5), 7)).real, 1)
    assert abs(float(dephased_entropy(psi[0], (5, 0, 2))) - ref) < 1e-12
    z_product = product_state([[0, 1], [1, 0], [0, 1], [0, 1]])
    plus = np.full(2**6, 1 / 8.0)
    for region in [(0,), (1, 3), (0, 1, 2)]:
        assert abs(float(dephased_entropy(z_product, region))) < 1e-14
        assert abs(float(entropy(z_product, region))) < 1e-12
        for alpha in ALPHAS:
            assert abs(float(dephased_entropy(plus, region, alpha)) - len(region) * LN2) < 1e-12


def test_mutual_information(rng):
    psi = random_state(rng, 7, (4,))
    A, B = (0, 2, 5), (1, 3, 4, 6)
    np.testing.assert_allclose(np.asarray(mutual_information(psi, A, B)), 2 * np.asarray(entropy(psi, A)), atol=1e-10)
    for a, b in [((0,), (6,)), ((1, 2), (4, 5)), ((0, 3), (2,))]:
        i_ab = np.asarray(mutual_information(psi, a, b))
        ref = [dense_entropy(v, a, 7) + dense_entropy(v, b, 7) - dense_entropy(v, a + b, 7) for v in psi]
        np.testing.assert_allclose(i_ab, ref, atol=1e-10)
        assert np.all(i_ab > -1e-12)


# ---------------------------------------------------------------------------- transforms: batch, jit, vmap
PUBLIC = {
    "reduced_density_matrix": lambda psi: reduced_density_matrix(psi, (0, 3)),
    "entanglement_spectrum": lambda psi: entanglement_spectrum(psi, (4, 1, 2)),
    "entropy": lambda psi: entropy(psi, (0, 2, 3)),
    "entropy_renyi": lambda psi: entropy(psi, (1, 4), alpha=np.inf),
    "mutual_information": lambda psi: mutual_information(psi, (0,), (2, 4)),
    "dephased_entropy": lambda psi: dephased_entropy(psi, (1, 3), alpha=2),
}


@pytest.mark.parametrize("name", PUBLIC)
def test_batch_jit_vmap_equal_loop(rng, name):
    fn = PUBLIC[name]
    psi = random_state(rng, 5, (3, 4))
    loop = np.stack([np.stack([np.asarray(fn(psi[i, j])) for j in range(4)]) for i in range(3)])
    batched = np.asarray(fn(psi))
    assert batched.shape == loop.shape[:2] + loop.shape[2:] and batched.shape[:2] == (3, 4)
    np.testing.assert_allclose(batched, loop, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.jit(fn)(psi)), loop, atol=1e-12)
    np.testing.assert_allclose(np.asarray(jax.vmap(jax.vmap(fn))(jnp.asarray(psi))), loop, atol=1e-12)


def test_jit_with_static_region_and_alpha(rng):
    psi = random_state(rng, 6, (2,))
    jitted = jax.jit(entropy, static_argnames=("region", "alpha"))
    for alpha in ALPHAS:
        np.testing.assert_allclose(
            np.asarray(jitted(psi, region=(0, 4), alpha=alpha)), np.asarray(entropy(psi, (0, 4), alpha)), atol=1e-13
        )


def test_complex64_fast_mode(rng):
    psi = random_state(rng, 6)
    s32 = entropy(psi.astype(np.complex64), (0, 2, 3))
    assert s32.dtype == jnp.float32
    assert abs(float(s32) - dense_entropy(psi, (0, 2, 3), 6)) < 1e-5
    assert reduced_density_matrix(psi.astype(np.complex64), (1,)).dtype == jnp.complex64


# ---------------------------------------------------------------------------- gradients
def two_qubit(theta):
    """cos(theta)|00> + sin(theta)|11>, padded with a |+> site so zero eigenvalues also appear."""
    pair = jnp.array([jnp.cos(theta), 0.0, 0.0, jnp.sin(theta)])
    return jnp.kron(pair, jnp.array([1.0, 1.0]) / jnp.sqrt(2.0)).astype(jnp.complex128)


def analytic_two_qubit_grad(theta, alpha):
    c2, s2 = np.cos(theta) ** 2, np.sin(theta) ** 2
    if alpha == 1:
        return np.sin(2 * theta) * np.log(c2 / s2)
    # S_2 = -ln(c^4 + s^4)
    return np.sin(4 * theta) / (c2**2 + s2**2)


@pytest.mark.parametrize("region", [(0,), (0, 2), (1, 2)])
def test_grad_parametrized_state_matches_analytic_and_fd(region):
    for alpha in (1, 2):
        f = lambda t: entropy(two_qubit(t), region, alpha)  # noqa: E731
        for theta in (0.3, 1.1, 2.0):
            g = float(jax.grad(f)(theta))
            h = 1e-5
            fd = (float(f(theta + h)) - float(f(theta - h))) / (2 * h)
            assert abs(g - analytic_two_qubit_grad(theta, alpha)) < 1e-9
            assert abs(g - fd) < 1e-7
        # product state (theta = 0) and Bell pair (theta = pi/4): stationary points, exactly degenerate
        for theta in (0.0, np.pi / 4):
            assert abs(float(jax.grad(f)(theta))) < 1e-12
    for alpha in ALPHAS:
        for theta in (0.0, np.pi / 4):
            assert np.isfinite(float(jax.grad(lambda t: entropy(two_qubit(t), region, alpha))(theta)))


def _real_params_fd_check(fn, psi, rng, tol):
    """Directional derivatives of fn(x + i y) from jax.grad vs central differences."""
    x0, y0 = jnp.asarray(psi.real), jnp.asarray(psi.imag)
    loss = lambda x, y: fn(x + 1j * y)  # noqa: E731
    gx, gy = jax.grad(loss, argnums=(0, 1))(x0, y0)
    assert np.all(np.isfinite(gx)) and np.all(np.isfinite(gy))
    h = 1e-6
    for _ in range(3):
        dx, dy = rng.normal(size=psi.shape), rng.normal(size=psi.shape)
        fd = (float(loss(x0 + h * dx, y0 + h * dy)) - float(loss(x0 - h * dx, y0 - h * dy))) / (2 * h)
        assert abs(float(jnp.sum(gx * dx) + jnp.sum(gy * dy)) - fd) < tol


@pytest.mark.parametrize("alpha", ALPHAS)
def test_grad_random_complex_state_matches_fd(rng, alpha):
    psi = random_state(rng, 5)
    _real_params_fd_check(lambda v: entropy(v, (0, 3), alpha), psi, rng, 1e-7)
    _real_params_fd_check(lambda v: dephased_entropy(v, (1, 2, 4), alpha), psi, rng, 1e-7)


@pytest.mark.slow
def test_grad_at_degenerate_spectra_matches_fd(rng):
    bell = bell_in_background(5, 1, 4, rng)  # region (0, 1, 2): p = (1/2, 1/2, 0, 0)
    mixed = np.kron(np.array([1, 0, 0, 1]) / np.sqrt(2), np.array([1, 0, 0, 1]) / np.sqrt(2))
    mixed = mixed.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3).reshape(16)  # Bell(0,1) x Bell(2,3) -> (0,2),(1,3)
    assert abs(float(entropy(mixed, (0, 1))) - 2 * LN2) < 1e-12  # rho_A = I/4
    for psi, region in [(bell, (0, 1, 2)), (mixed, (0, 1)), (mixed, (2,))]:
        for alpha in (1, 2):
            _real_params_fd_check(lambda v: entropy(v, region, alpha), psi, rng, 1e-7)
        for alpha in ALPHAS:
            f = lambda x: entropy(x + 0j, region, alpha)  # noqa: E731
            x0, dx = jnp.asarray(psi.real), jnp.asarray(rng.normal(size=psi.shape))
            g = jax.grad(f)(x0)
            assert np.all(np.isfinite(np.asarray(g)))
            # forward mode goes through the same eigenvalue-only rule
            assert abs(float(jax.jvp(f, (x0,), (dx,))[1]) - float(jnp.sum(g * dx))) < 1e-12
    mi = jax.grad(lambda x: mutual_information(x + 0j, (1,), (4,)))(jnp.asarray(bell.real))
    assert np.all(np.isfinite(np.asarray(mi)))
    z_product = jnp.asarray(product_state([[1, 0], [0, 1], [1, 0]]))
    for alpha in ALPHAS:  # many zero amplitudes and zero marginal probabilities
        loss = lambda x, y: dephased_entropy(x + 1j * y, (0, 2), alpha)  # noqa: E731
        g = jax.grad(loss, argnums=(0, 1))(z_product.real, z_product.imag)
        assert np.all(np.isfinite(np.asarray(g)))


# ---------------------------------------------------------------------------- bad input
def test_bad_input(monkeypatch):
    psi = random_state(np.random.default_rng(0), 4)
    with pytest.raises(ValueError, match="region has sites out of range"):
        entropy(psi, (0, 4))
    with pytest.raises(ValueError, match="region has duplicate sites"):
        reduced_density_matrix(psi, (1, 1))
    with pytest.raises(ValueError, match="region_b has duplicate"):
        mutual_information(psi, (0,), (2, 2))
    with pytest.raises(ValueError, match="disjoint"):
        mutual_information(psi, (0, 1), (1, 2))
    with pytest.raises(ValueError, match="region must"):
        dephased_entropy(psi, "ab")
    for bad in (np.ones(6), np.ones((3, 12)), np.ones(1), np.float64(1.0)):
        with pytest.raises(ValueError, match="psi"):
            entanglement_spectrum(bad, (0,))
    for alpha in (-1, 0, np.nan):
        with pytest.raises(ValueError, match="alpha"):
            entropy(psi, (0,), alpha)
    with pytest.raises(ValueError, match="alpha"):
        jax.jit(lambda a: entropy(psi, (0,), a))(2.0)
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1e-6")
    with pytest.raises(ValueError, match="region of 4 sites"):
        reduced_density_matrix(psi, (0, 1, 2, 3))


def test_public_namespace():
    names = ("reduced_density_matrix", "entanglement_spectrum", "entropy", "mutual_information", "dephased_entropy")
    for name in names:
        assert getattr(jaxmbl, name).__module__ == "jaxmbl._analysis.entanglement"
