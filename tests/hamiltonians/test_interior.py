"""interior_eigh (polynomially filtered block Lanczos) against dense numpy.linalg.eigh (N <= 12).

The references are independent: dense matrices built from numpy krons (``reference.paulisum_dense``),
sector blocks selected by counting bits, and ``numpy.linalg.eigh``. Eigenvectors are compared by
projectors onto clusters of (near-)degenerate levels, so the comparison is phase- and
basis-independent inside a degenerate subspace.
"""

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from reference import all_bits, haar_unitary, paulisum_dense, unitary_dense

import jaxmbl as jm
from jaxmbl import JaxmblError, PauliSum, interior_eigh, random_field_heisenberg

E_ATOL, P_ATOL = 1e-10, 1e-8


def dense_of(H):
    return paulisum_dense(np.asarray(H.paulis), np.asarray(H.coef))


def sector_block(mat, n_sites, sector):
    sz = n_sites / 2 - all_bits(n_sites).sum(axis=1)
    idx = np.flatnonzero(sz == sector)
    return mat[np.ix_(idx, idx)]


def nearest(E_all, V_all, target, k):
    """The k eigenpairs of the dense reference nearest the target (asserting the choice is unambiguous)."""
    dist = np.abs(E_all - target)
    order = np.argsort(dist, kind="stable")
    assert k == len(E_all) or dist[order[k]] - dist[order[k - 1]] > 1e-6, (
        "ambiguous reference: k-th and (k+1)-th equally near"
    )
    sel = np.sort(order[:k])
    return E_all[sel], V_all[:, sel]


def clusters(E, gap=1e-6):
    """Index groups of consecutive sorted energies closer than ``gap``."""
    groups, cur = [], [0]
    for i in range(1, len(E)):
        if E[i] - E[i - 1] < gap:
            cur.append(i)
        else:
            groups.append(cur)
            cur = [i]
    return groups + [cur]


def check_against_dense(out, mat, target, k, tol=1e-10):
    E_all, V_all = np.linalg.eigh(mat)
    E_ref, V_ref = nearest(E_all, V_all, target, k)
    E, X, R = np.asarray(out.energies), np.asarray(out.vectors), np.asarray(out.residuals)
    assert E.shape == (k,) and X.shape == (mat.shape[0], k) and R.shape == (k,)
    np.testing.assert_allclose(E, E_ref, rtol=0, atol=E_ATOL)
    for g in clusters(E_ref):
        P_ref = V_ref[:, g] @ V_ref[:, g].conj().T
        P = X[:, g] @ X[:, g].conj().T
        assert np.max(np.abs(P - P_ref)) < P_ATOL, f"projector of levels {g} differs"
    norm_H = np.max(np.abs(E_all))
    assert np.all(R <= tol * norm_H)
    # the reported residuals are the true ones
    true_R = np.linalg.norm(mat @ X - X * E[None, :], axis=0)
    np.testing.assert_allclose(R, true_R, rtol=0, atol=1e-12 * norm_H)
    np.testing.assert_allclose(X.conj().T @ X, np.eye(k), atol=1e-10)


@pytest.fixture(scope="module")
def chain10():
    return random_field_heisenberg(jr.key(10), 10, W=5.0)


@pytest.mark.slow
def test_sector_paulisum_matches_dense(chain10):
    out = interior_eigh(chain10, 12, sector=0, key=jr.key(1))
    mat = sector_block(dense_of(chain10), 10, 0)
    assert bool(out.info["converged"])
    E_all = np.linalg.eigvalsh(mat)
    # energy_density = 0.5 means the middle of the Lanczos estimates of the edges, which are the exact edges
    np.testing.assert_allclose(float(out.info["target"]), (E_all[0] + E_all[-1]) / 2, atol=1e-8)
    check_against_dense(out, mat, float(out.info["target"]), 12)


@pytest.mark.slow
def test_full_space_paulisum_absolute_target():
    H = random_field_heisenberg(jr.key(8), 8, W=1.0)
    mat = dense_of(H)
    E_all = np.linalg.eigvalsh(mat)
    target = float(E_all[0] + 0.3 * (E_all[-1] - E_all[0]))
    out = interior_eigh(H, 8, target=target, key=jr.key(2))
    np.testing.assert_allclose(float(out.info["target"]), target)
    check_against_dense(out, mat, target, 8)


@pytest.mark.slow
def test_perturbed_model_full_space():
    model = jm.sample_model(jr.key(3), jm.Lattice((6,)))
    V = PauliSum.from_list([("XIIIII", 0.7), ("IZZIII", -0.4), ("IIIYIY", 0.3), ("IIXZII", 0.2)])
    Hp = jm.perturbed_model(model, V, 0.3)
    # independent dense reference: U diag(E) U^dagger from the dense circuit, V from krons
    U = unitary_dense(model.U)
    Vd = paulisum_dense(np.asarray(V.paulis), np.asarray(V.coef))
    mat = U @ np.diag(np.asarray(jm.energies(model))) @ U.conj().T + 0.3 * Vd
    out = interior_eigh(Hp, 6, energy_density=0.4, key=jr.key(4))
    check_against_dense(out, mat, float(out.info["target"]), 6)


def degenerate_matrix(rng, dim=160):
    """Q diag(e) Q^dagger with an exact triple level at 0, near-degenerate pairs and a random basis."""
    e = np.sort(rng.uniform(-4, 4, dim))
    e[dim // 2 - 1 : dim // 2 + 2] = 0.0  # exact triple degeneracy at the target
    e[dim // 2 + 3] = 0.05
    e[dim // 2 + 4] = 0.05 + 1e-7  # near-degenerate pair
    e[dim // 2 - 4] = -0.06
    e[dim // 2 - 5] = -0.06 - 1e-11  # nearly exact pair
    Q = haar_unitary(rng, dim)
    return (Q * e[None, :]) @ Q.conj().T, e


@pytest.mark.parametrize("k", [16, 66, 70])
def test_k_close_to_the_dimension_is_exact(k):
    # N = 8, S^z = 0: D = 70. The Krylov basis would span the space: every pair must still be
    # right, the far-edge levels included (they sit where the filter is smallest). Complex H.
    H = random_field_heisenberg(jr.key(8), 8, W=3.0)
    H = H + PauliSum.from_terms(8, [("XY", [2, 3], 0.3), ("YX", [2, 3], -0.3)])
    out = interior_eigh(H, k, sector=0, key=jr.key(1))
    assert bool(out.info["converged"])
    check_against_dense(out, sector_block(dense_of(H), 8, 0), float(out.info["target"]), k)


def test_no_missed_pair_with_exact_and_near_degeneracies(rng):
    mat, e = degenerate_matrix(rng)
    mat = 0.5 * (mat + mat.conj().T)
    out = interior_eigh(jnp.asarray(mat), 9, target=0.0, key=jr.key(5), block_size=4)
    assert bool(out.info["converged"])
    E = np.asarray(out.energies)
    assert np.sum(np.abs(E) < 1e-10) == 3  # the whole triple
    check_against_dense(out, mat, 0.0, 9)


def clean_heisenberg(n_sites):
    """The clean XXX chain from strings (SU(2) multiplets: exact degeneracies up to 2S + 1)."""
    terms = []
    for i in range(n_sites - 1):
        for p in "XYZ":
            terms.append(("I" * i + p + p + "I" * (n_sites - i - 2), 0.25))
    return PauliSum.from_list(terms)


@pytest.mark.slow
def test_multiplets_larger_than_the_block_are_not_cut():
    H = clean_heisenberg(8)
    mat = dense_of(H)
    E_all = np.linalg.eigvalsh(mat)
    target = 0.37
    E_ref, _ = nearest(E_all, np.eye(len(E_all)), target, 17)
    assert max(len(g) for g in clusters(E_ref)) == 7  # a septet next to the target, block_size is 4
    out = interior_eigh(H, 17, target=target, key=jr.key(6), block_size=4)
    check_against_dense(out, mat, target, 17)


@pytest.mark.slow
def test_jit_equals_eager_and_deterministic():
    rng = np.random.default_rng(7)
    A = rng.normal(size=(96, 96))
    A = jnp.asarray((A + A.T) / 2)

    def run(A, key):
        return interior_eigh(A, 5, target=0.1, key=key)

    eager = run(A, jr.key(9))
    again = run(A, jr.key(9))
    jitted = jax.jit(run)(A, jr.key(9))
    np.testing.assert_array_equal(np.asarray(eager.energies), np.asarray(again.energies))
    np.testing.assert_array_equal(np.asarray(eager.vectors), np.asarray(again.vectors))
    np.testing.assert_allclose(np.asarray(jitted.energies), np.asarray(eager.energies), atol=1e-12)
    P = lambda X: X @ X.conj().T  # noqa: E731
    np.testing.assert_allclose(P(np.asarray(jitted.vectors)), P(np.asarray(eager.vectors)), atol=1e-10)
    check_against_dense(eager, np.asarray(A), 0.1, 5)


@pytest.mark.slow
def test_batched_equals_loop():
    rng = np.random.default_rng(8)
    A = rng.normal(size=(2, 64, 64))
    A = jnp.asarray((A + np.swapaxes(A, 1, 2)) / 2)
    key = jr.key(11)
    out = interior_eigh(A, 4, energy_density=0.5, key=key)
    assert out.energies.shape == (2, 4) and out.vectors.shape == (2, 64, 4)
    for i in range(2):
        one = interior_eigh(A[i], 4, energy_density=0.5, key=jr.fold_in(key, i))
        np.testing.assert_allclose(np.asarray(out.energies[i]), np.asarray(one.energies), atol=1e-12)
        check_against_dense(one, np.asarray(A[i]), float(one.info["target"]), 4)


# ---------------------------------------------------------------------------- bad input
@pytest.fixture(scope="module")
def small():
    return random_field_heisenberg(jr.key(0), 6, W=1.0)


@pytest.mark.parametrize("k", [0, -2])
def test_k_not_positive(small, k):
    with pytest.raises(JaxmblError, match="k must be >= 1"):
        interior_eigh(small, k, key=jr.key(0))


def test_k_larger_than_space(small):
    with pytest.raises(JaxmblError, match="k=21 exceeds the dimension D=20"):
        interior_eigh(small, 21, sector=0, key=jr.key(0))


def test_target_outside_spectrum(small):
    with pytest.raises(JaxmblError, match="target=.* outside the spectrum"):
        interior_eigh(small, 2, target=1e3, key=jr.key(0))


def test_energy_density_outside_unit_interval(small):
    with pytest.raises(JaxmblError, match="energy_density"):
        interior_eigh(small, 2, energy_density=1.5, key=jr.key(0))


def test_non_hermitian():
    A = np.triu(np.ones((8, 8)))
    with pytest.raises(JaxmblError, match="H"):
        interior_eigh(jnp.asarray(A), 2, key=jr.key(0))


def test_sector_not_conserved():
    H = PauliSum.from_list([("XI", 1.0), ("ZZ", 0.5)])
    with pytest.raises(JaxmblError, match="sector=0 was requested but H does not conserve total S\\^z"):
        interior_eigh(H, 1, sector=0, key=jr.key(0))


def test_tol_below_working_precision():
    A = jnp.asarray(np.diag(np.arange(8.0)), jnp.float32)
    with pytest.raises(JaxmblError, match="tol=1e-10 is below what float32"):
        interior_eigh(A, 2, key=jr.key(0))


def test_key_required_and_typed(small):
    with pytest.raises(TypeError):
        interior_eigh(small, 2)  # key is keyword-only and required
    with pytest.raises(TypeError, match="key"):
        interior_eigh(small, 2, key=3)


def test_refused_before_allocating(monkeypatch, small):
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1e-6")
    with pytest.raises(JaxmblError, match="Krylov basis .* GiB"):
        interior_eigh(small, 2, key=jr.key(0))


# ---------------------------------------------------------------------------- larger cases
@pytest.mark.slow
def test_sector_n12_fifty_pairs():
    H = random_field_heisenberg(jr.key(12), 12, W=5.0)
    out = interior_eigh(H, 50, sector=0, key=jr.key(3))
    mat = sector_block(dense_of(H), 12, 0)
    check_against_dense(out, mat, float(out.info["target"]), 50)


@pytest.mark.slow
def test_full_space_n10_weak_disorder():
    H = random_field_heisenberg(jr.key(1), 10, W=0.5)
    out = interior_eigh(H, 20, energy_density=0.6, key=jr.key(4))
    check_against_dense(out, dense_of(H), float(out.info["target"]), 20)


_SHARDED = """
import os
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
import jax, numpy as np
jax.config.update("jax_enable_x64", True)
import jaxmbl as jm
H = jm.random_field_heisenberg(jax.random.key(0), 8, 5.0)
one = jm.interior_eigh(H, 8, sector=0, key=jax.random.key(1))
two = jm.interior_eigh(H, 8, sector=0, key=jax.random.key(1), devices=jax.devices())
E = np.linalg.eigvalsh(np.asarray(H.dense(sector=0)))
t = float(two.info["target"])
ref = np.sort(E[np.argsort(np.abs(E - t))[:8]])
assert len(two.vectors.sharding.device_set) == 2, two.vectors.sharding
print("MAXDIFF", np.max(np.abs(np.asarray(two.energies) - ref)), np.max(np.abs(np.asarray(one.energies) - ref)))
"""


@pytest.mark.slow
def test_one_problem_split_over_two_devices():
    # Two host CPU devices in a fresh process: the sharded basis gives the same eigenpairs.
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", _SHARDED], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    diffs = [float(x) for x in out.stdout.split("MAXDIFF")[1].split()]
    assert max(diffs) < 1e-10


def test_devices_argument_is_checked(small):
    with pytest.raises(JaxmblError, match="at least 2 jax devices"):
        interior_eigh(small, 2, sector=0, key=jr.key(0), devices=jax.devices()[:1])
    with pytest.raises(TypeError, match="devices must be a list"):
        interior_eigh(small, 2, sector=0, key=jr.key(0), devices=3)
    batched = jax.vmap(lambda k: random_field_heisenberg(k, 6, 1.0))(jr.split(jr.key(0), 2))
    with pytest.raises(JaxmblError, match="realization axes"):
        interior_eigh(batched, 2, sector=0, key=jr.key(0), devices=[jax.devices()[0]] * 2)
    with pytest.raises(JaxmblError, match="distinct"):
        interior_eigh(small, 2, sector=0, key=jr.key(0), devices=[jax.devices()[0]] * 2)
