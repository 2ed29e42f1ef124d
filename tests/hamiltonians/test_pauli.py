"""PauliSum against independent dense numpy references (own Kronecker products, N <= 10)."""

import dataclasses
import itertools
from functools import reduce

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxmbl import Lattice
from jaxmbl._hamiltonians.pauli import PauliSum, sector_basis

SIGMA = {
    "I": np.eye(2),
    "X": np.array([[0, 1], [1, 0]], complex),
    "Y": np.array([[0, -1j], [1j, 0]]),
    "Z": np.diag([1.0, -1.0]),
}


def kron_string(label):
    """Dense Pauli string; the first factor is site 0, the most significant bit."""
    return reduce(np.kron, [SIGMA[ch] for ch in label], np.ones((1, 1)))


def full_label(ops, sites, n_sites):
    label = ["I"] * n_sites
    for ch, r in zip(ops, sites):
        label[r] = ch
    return "".join(label)


def reference(terms):
    return sum(c * kron_string(label) for label, c in terms)


def random_terms(rng, n_sites, n_terms, *, max_weight=None, real=False):
    terms = []
    for _ in range(n_terms):
        label = ["I"] * n_sites
        weight = rng.integers(1, (max_weight or n_sites) + 1)
        for r in rng.choice(n_sites, weight, replace=False):
            label[r] = "IXYZ"[rng.integers(0, 4)]
        c = rng.normal() if real else rng.normal() + 1j * rng.normal()
        terms.append(("".join(label), c))
    return terms


def random_state(rng, n_sites, batch=()):
    return rng.normal(size=(*batch, 2**n_sites)) + 1j * rng.normal(size=(*batch, 2**n_sites))


# ----------------------------------------------------------------------------- action and matrices
@pytest.mark.parametrize(
    "n_sites,n_terms,max_weight",
    [(1, 4, None), (4, 6, 2), (6, 30, None), (9, 12, 9), (8, 120, 3), (10, 40, 4)],
)
def test_apply_and_dense_match_kron_reference(rng, n_sites, n_terms, max_weight):
    terms = random_terms(rng, n_sites, n_terms, max_weight=max_weight)
    H = PauliSum.from_list(terms)
    ref = reference(terms)
    psi = random_state(rng, n_sites)
    np.testing.assert_allclose(H.apply(psi), ref @ psi, atol=1e-11)
    np.testing.assert_allclose(H.dense(), ref, atol=1e-12)
    np.testing.assert_allclose(H.to_scipy_sparse().toarray(), ref, atol=1e-12)


def test_many_terms_take_the_scanned_path(rng, monkeypatch):
    import jaxmbl._hamiltonians.pauli_kernels as ops

    monkeypatch.setattr(ops, "_MAX_STATIC_GROUPS", 20)  # as for > 256 flip masks, at a test-sized cost
    terms = random_terms(rng, 7, 100, max_weight=3)
    psi = random_state(rng, 7)
    np.testing.assert_allclose(PauliSum.from_list(terms).apply(psi), reference(terms) @ psi, atol=1e-11)


def test_repeated_and_grouped_strings(rng):
    # Duplicates and many strings sharing one flip mask exercise the lookup-table weights.
    terms = [("XXI", 1.0), ("XXI", 2.0), ("XXI", -0.5), ("III", 0.3), ("III", 0.2), ("IIZ", 1.0)]
    terms += [(a + b + c, rng.normal()) for a in "XY" for b in "XY" for c in "IZ"]
    terms += [("ZZZ", 0.1), ("ZIZ", 0.2), ("IZZ", 0.3), ("ZZI", 0.4), ("ZII", 0.5)] * 2
    H = PauliSum.from_list(terms)
    psi = random_state(rng, 3, (2,))
    np.testing.assert_allclose(H.apply(psi), psi @ reference(terms).T, atol=1e-12)
    big = [(label + "I" * 5, c) for label, c in terms] + [("I" * 3 + "XYZZY", 0.7), ("I" * 3 + "YYZZX", 0.4)]
    psi = random_state(rng, 8)
    np.testing.assert_allclose(PauliSum.from_list(big).apply(psi), reference(big) @ psi, atol=1e-12)
    # a diagonal group with many terms on the non-contiguous sites {0, 2, 3, 6, 8} of 9
    sub = [0, 2, 3, 6, 8]
    diag = [("ZZ", [a, b], rng.normal()) for a in sub for b in sub if a < b] + [("Z", [3], 0.4), ("X", [1], 0.3)]
    H = PauliSum.from_terms(9, diag)
    ref = reference([(full_label(ops, sites, 9), c) for ops, sites, c in diag])
    psi = random_state(rng, 9)
    np.testing.assert_allclose(H.apply(psi), ref @ psi, atol=1e-12)


@pytest.mark.slow
def test_large_groups_use_tables(rng):
    # 55 diagonal strings, and 128 strings sharing the flip mask of site 0 (half with odd #Y)
    n = 10
    diag = [(full_label("ZZ", [i, j], n), rng.normal()) for i in range(n) for j in range(i + 1, n)]
    diag += [(full_label("Z", [i], n), rng.normal()) for i in range(n)]
    flips = [(a + "".join(zs) + "III", rng.normal()) for a in "XY" for zs in itertools.product("IZ", repeat=6)]
    terms = diag + flips + [("YXIIIIIIII", 0.3)]
    psi = random_state(rng, n, (2,))
    np.testing.assert_allclose(PauliSum.from_list(terms).apply(psi), psi @ reference(terms).T, atol=1e-11)
    H = PauliSum.from_list([(label, c * (1 + 0.5j)) for label, c in terms])
    np.testing.assert_allclose(H.apply(psi), psi @ ((1 + 0.5j) * reference(terms)).T, atol=1e-11)


@pytest.mark.slow
def test_weights_split_over_the_two_halves(rng):
    # N = 10 splits into sites 0..4 and 5..9. Phase masks covering more than 8 sites take the
    # split tables: a diagonal with two straddling ZZ (rank-1 products), and a flip run across
    # the halves (sites 3..6) carrying Z and Y strings on every site. A flip on sites {0, 9} and
    # a bare X string take the one-table path. Checked on a batch of states, under vmap over
    # realizations, and for the gradient with respect to the coefficients.
    n = 10
    spec = [("Z", [r], rng.normal()) for r in range(n)] + [("ZZ", [r, r + 1], rng.normal()) for r in range(n - 1)]
    spec += [("ZZ", [0, 9], 0.3)]
    spec += [("XXXX", [3, 4, 5, 6], 0.5), ("XYYX", [3, 4, 5, 6], -0.2), ("YXXY", [3, 4, 5, 6], 0.4)]
    spec += [("XXXXZZZZZZ", [3, 4, 5, 6, 0, 1, 2, 7, 8, 9], rng.normal())]
    spec += [("XXXXZ", [3, 4, 5, 6, r], rng.normal()) for r in (0, 1, 2, 7, 8, 9)]
    spec += [("XX", [0, 9], 0.7), ("YYZ", [0, 9, 5], -0.3), ("X", [2], 0.9)]
    labels = [full_label(ops, sites, n) for ops, sites, _ in spec]
    H = PauliSum.from_terms(n, spec)
    ref = reference(list(zip(labels, [c for *_, c in spec])))
    psi = random_state(rng, n, (2,))
    np.testing.assert_allclose(H.apply(psi), psi @ ref.T, atol=1e-11)
    np.testing.assert_allclose(H.to_scipy_sparse().toarray(), ref, atol=1e-12)

    coefs = jnp.asarray(rng.normal(size=(3, len(spec))))
    batched = jax.vmap(lambda c, p: dataclasses.replace(H, coef=c).apply(p))(coefs, psi[:1].repeat(3, 0))
    for b in range(3):
        ref_b = sum(c * kron_string(label) for label, c in zip(labels, np.asarray(coefs[b])))
        np.testing.assert_allclose(batched[b], ref_b @ psi[0], atol=1e-11)

    grad = jax.grad(lambda c: jnp.real(dataclasses.replace(H, coef=c).expectation(psi[0])))(H.coef)
    expected = [np.real(np.vdot(psi[0], kron_string(label) @ psi[0])) for label in labels]
    np.testing.assert_allclose(grad, expected, rtol=1e-10, atol=1e-10)


def test_2d_long_range_terms(rng):
    lat = Lattice((3, 3))
    far = [(i, j) for i in range(9) for j in range(i + 1, 9) if lat.distance(i, j) > 1.5]
    spec = [(ops, list(far[rng.integers(len(far))]), rng.normal()) for ops in ["XY", "YY", "ZX", "YZ", "XX"]]
    spec += [("XYZ", [0, 4, 8], 0.3), ("Y", [5], -0.7), ("ZZ", [2, 6], 1.1)]
    H = PauliSum.from_terms(9, spec)
    ref = reference([(full_label(ops, sites, 9), c) for ops, sites, c in spec])
    psi = random_state(rng, 9, (3,))
    np.testing.assert_allclose(H.apply(psi), psi @ ref.T, atol=1e-11)
    np.testing.assert_allclose(H.dense(), ref, atol=1e-12)


@pytest.mark.parametrize("label", ["X", "Y", "Z", "XY", "YX", "YY", "IYZX", "ZIIY", "YYYY"])
def test_single_string_dense(label):
    H = PauliSum.from_list([(label, 1.0)])
    np.testing.assert_array_equal(np.asarray(H.dense()), kron_string(label))


def test_site_order_in_from_terms():
    H = PauliSum.from_terms(3, [("XZ", [2, 0], 2.0), ("Y", 1, 1.0)])
    assert H.to_list() == [("ZIX", 2.0), ("IYI", 1.0)]
    np.testing.assert_allclose(H.dense(), 2 * kron_string("ZIX") + kron_string("IYI"))


def test_batched_states_and_expectation(rng):
    terms = random_terms(rng, 5, 10)
    H = PauliSum.from_list(terms)
    ref = reference(terms)
    psi = random_state(rng, 5, (2, 3))
    np.testing.assert_allclose(H.apply(psi), psi @ ref.T, atol=1e-11)
    expected = np.einsum("abi,ij,abj->ab", psi.conj(), ref, psi)
    np.testing.assert_allclose(H.expectation(psi), expected, atol=1e-10)
    np.testing.assert_allclose(H.expectation(psi[0, 0]), expected[0, 0], atol=1e-10)


def test_real_matrices_stay_real(rng):
    H = PauliSum.from_list([("XX", 1.0), ("YY", 0.5), ("ZI", 2.0)])
    assert not jnp.iscomplexobj(H.dense())
    assert jnp.iscomplexobj(PauliSum.from_list([("XY", 1.0)]).dense())
    assert jnp.iscomplexobj(PauliSum.from_list([("XX", 1j)]).dense())


# ----------------------------------------------------------------------------- transforms
def test_jit_equals_eager_and_traced_structure(rng):
    terms = random_terms(rng, 6, 90)  # > 64 terms: the traced path scans chunks of terms
    H = PauliSum.from_list(terms)
    psi = random_state(rng, 6)
    eager = H.apply(psi)
    np.testing.assert_allclose(jax.jit(lambda H, p: H.apply(p))(H, psi), eager, atol=1e-12)
    np.testing.assert_allclose(jax.jit(lambda p: H.apply(p))(psi), eager, atol=1e-12)
    # Built from traced leaves there is no static structure: the per-term path must agree.
    generic = jax.jit(lambda p, c, s: PauliSum(p, c, 6).apply(s))
    np.testing.assert_allclose(generic(H.paulis, H.coef, psi), eager, atol=1e-12)
    dense = jax.jit(lambda p, c: PauliSum(p, c, 6).dense())
    np.testing.assert_allclose(dense(H.paulis, H.coef), H.dense(), atol=1e-12)


def test_vmap_over_realizations_equals_loop(rng):
    base = PauliSum.from_list(random_terms(rng, 5, 12))
    coefs = jnp.asarray(rng.normal(size=(4, 12)) + 1j * rng.normal(size=(4, 12)))
    Hs = jax.vmap(lambda c: dataclasses.replace(base, coef=c))(coefs)
    psi = random_state(rng, 5, (4,))
    batched = jax.vmap(lambda H, p: H.apply(p))(Hs, psi)
    dense = jax.vmap(lambda H: H.dense())(Hs)
    for b in range(4):
        Hb = dataclasses.replace(base, coef=coefs[b])
        np.testing.assert_allclose(batched[b], Hb.apply(psi[b]), atol=1e-12)
        np.testing.assert_allclose(dense[b], Hb.dense(), atol=1e-12)


def test_stale_structure_is_never_silently_wrong(rng):
    H = PauliSum.from_list([("XX", 1.0), ("ZI", 0.5)])
    other = jnp.asarray([[2, 2], [0, 3]], jnp.int8)  # YY instead of XX, same shape
    psi = random_state(rng, 2)
    stale = dataclasses.replace(H, paulis=other)  # carries H's structure
    # Eagerly the structure is re-derived from the values; under jit a mismatch gives NaN.
    np.testing.assert_allclose(stale.apply(psi), (kron_string("YY") + 0.5 * kron_string("IZ")) @ psi, atol=1e-12)
    traced = jax.jit(lambda p, s: dataclasses.replace(H, paulis=p).apply(s))(other, psi)
    assert np.all(np.isnan(np.asarray(traced)))


def test_gradient_with_respect_to_coefficients(rng):
    H = PauliSum.from_list(random_terms(rng, 4, 6, real=True))
    psi = random_state(rng, 4)

    def energy(c):
        return jnp.real(dataclasses.replace(H, coef=c).expectation(psi))

    grad = jax.grad(energy)(H.coef)
    expected = [np.real(np.vdot(psi, kron_string(label) @ psi)) for label, _ in H.to_list()]
    np.testing.assert_allclose(grad, expected, rtol=1e-10)


# ----------------------------------------------------------------------------- algebra
def test_algebra(rng):
    t1, t2 = random_terms(rng, 4, 5), random_terms(rng, 4, 7)
    H1, H2 = PauliSum.from_list(t1), PauliSum.from_list(t2)
    R1, R2 = reference(t1), reference(t2)
    np.testing.assert_allclose((H1 + H2).dense(), R1 + R2, atol=1e-12)
    np.testing.assert_allclose((H1 - H2).dense(), R1 - R2, atol=1e-12)
    np.testing.assert_allclose((2.5 * H1).dense(), 2.5 * R1, atol=1e-12)
    np.testing.assert_allclose((H1 * (1 - 2j)).dense(), (1 - 2j) * R1, atol=1e-12)
    np.testing.assert_allclose((np.float64(3.0) * H1).dense(), 3 * R1, atol=1e-12)
    np.testing.assert_allclose((-H1).dense(), -R1, atol=1e-12)
    np.testing.assert_allclose((H1 + 1.5).dense(), R1 + 1.5 * np.eye(16), atol=1e-12)
    np.testing.assert_allclose(sum([H1, H2]).dense(), R1 + R2, atol=1e-12)
    np.testing.assert_allclose((1 - H1).dense(), np.eye(16) - R1, atol=1e-12)
    assert (H1 + H2).n_terms == 12
    np.testing.assert_allclose(H1.adjoint().dense(), R1.conj().T, atol=1e-12)
    with pytest.raises(ValueError, match="3 and 4 sites"):
        PauliSum.from_list([("XXX", 1.0)]) + H1
    with pytest.raises(TypeError):
        H1 * H2


def test_empty_sum():
    H = PauliSum.from_list([], n_sites=3)
    assert H.n_terms == 0 and H.to_list() == [] and H.is_hermitian() and H.conserves_total_z()
    np.testing.assert_array_equal(H.apply(np.ones(8)), np.zeros(8))
    np.testing.assert_array_equal(H.dense(), np.zeros((8, 8)))
    assert H.to_scipy_sparse().nnz == 0


def test_hermiticity_after_combining():
    assert PauliSum.from_list([("XY", 1.0), ("ZZ", -2.0)]).is_hermitian()
    assert not PauliSum.from_list([("XY", 1j)]).is_hermitian()
    assert PauliSum.from_list([("ZI", 1 + 1j), ("ZI", -1j)]).is_hermitian()
    H = PauliSum.from_list([("XY", 1 + 2j), ("YZ", 3j)])
    assert (H + H.adjoint()).is_hermitian()


def test_simplify_combines_and_drops(rng):
    H = PauliSum.from_list([("XZ", 1.0), ("IY", 0.5), ("XZ", 2.0), ("ZZ", 1e-3), ("IY", -0.5)])
    S = H.simplify(cutoff=1e-2)
    assert sorted(S.to_list()) == [("XZ", 3.0)]
    np.testing.assert_allclose(H.simplify().dense(), H.dense(), atol=1e-14)
    assert H.simplify().n_terms == 2  # the IY terms cancel exactly and are dropped


def test_to_list_roundtrip(rng):
    terms = random_terms(rng, 5, 8)
    H = PauliSum.from_list(terms)
    assert [label for label, _ in H.to_list()] == [label for label, _ in terms]
    np.testing.assert_allclose([c for _, c in H.to_list()], [c for _, c in terms])
    np.testing.assert_allclose(PauliSum.from_list(H.to_list()).dense(), H.dense())


# ----------------------------------------------------------------------------- total Z and sectors
@pytest.mark.parametrize(
    "terms,conserves",
    [
        ([("XX", 1.0), ("YY", 1.0), ("ZZ", 0.3)], True),
        ([("XX", 1.0)], False),
        ([("XI", 1.0)], False),
        ([("XY", 1.0), ("YX", -1.0)], True),
        ([("XX", 1.0), ("YY", 0.5)], False),
        ([("ZI", 1.0), ("IZ", 2.0)], True),
    ],
)
def test_conserves_total_z(terms, conserves):
    H = PauliSum.from_list(terms)
    assert H.conserves_total_z() is conserves
    total_z = sum(kron_string(lbl) for lbl in ["ZI", "IZ"])
    R = reference(terms)
    assert np.allclose(R @ total_z, total_z @ R) is conserves


def test_sector_basis():
    assert sector_basis(4, 0).tolist() == sorted(n for n in range(16) if bin(n).count("1") == 2)
    assert sector_basis(4, 2).tolist() == [0]
    assert sector_basis(4, -2).tolist() == [15]
    assert sector_basis(5, 0.5).tolist() == sorted(n for n in range(32) if bin(n).count("1") == 2)
    assert len(sector_basis(12, 0)) == 924
    for bad in (0.5, 3, 1.25, "up"):
        with pytest.raises(ValueError, match="sector"):
            sector_basis(4, bad)


def test_sector_blocks_preserve_spectrum(rng):
    n = 7
    spec = []
    for i in range(n):
        spec.append(("Z", [i], rng.uniform(-2, 2)))
        for j in range(i + 1, n):  # long-range XX + YY and ZZ conserve total Z
            J = rng.normal()
            spec += [("XX", [i, j], J), ("YY", [i, j], J), ("ZZ", [i, j], rng.normal())]
    spec += [("XY", [0, 3], 0.7), ("YX", [0, 3], -0.7)]
    H = PauliSum.from_terms(n, spec)
    full = np.asarray(H.dense())
    spectra = []
    for sz in np.arange(-n / 2, n / 2 + 1):
        basis = sector_basis(n, sz)
        block = np.asarray(H.dense(sector=sz))
        np.testing.assert_allclose(block, full[np.ix_(basis, basis)], atol=1e-13)
        np.testing.assert_allclose(H.project(sz), block)
        spectra.append(np.linalg.eigvalsh(block))
    np.testing.assert_allclose(np.sort(np.concatenate(spectra)), np.linalg.eigvalsh(full), atol=1e-10)


# ----------------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "terms,match",
    [
        ([("XX", [0], 1.0)], "one letter per site"),
        ([("XQ", [0, 1], 1.0)], "unknown letters"),
        ([("X", [5], 1.0)], "out of range"),
        ([("XZ", [1, 1], 1.0)], "duplicate sites"),
        ([("X", [0], np.nan)], "finite"),
        ([("X", [0], np.inf)], "finite"),
        ([("X", [0], [1.0, 2.0])], "scalars"),
        ([("X", [0])], r"\(ops, sites, coef\)"),
    ],
)
def test_from_terms_errors(terms, match):
    with pytest.raises(ValueError, match=match):
        PauliSum.from_terms(3, terms)


def test_other_errors(rng):
    with pytest.raises(ValueError, match="length n_sites=2"):
        PauliSum.from_list([("XX", 1.0), ("XXX", 1.0)])
    with pytest.raises(ValueError, match="n_sites"):
        PauliSum.from_terms(0, [])
    H = PauliSum.from_list([("XX", 1.0)])
    with pytest.raises(ValueError, match="psi must have shape"):
        H.apply(np.ones(8))
    with pytest.raises(ValueError, match="sector=0"):
        H.dense(sector=0)
    with pytest.raises(ValueError, match="GiB"):
        PauliSum.from_list([("Z" * 15, 1.0)]).dense()
    with pytest.raises(ValueError, match="labels 0..3"):
        PauliSum(jnp.asarray([[0, 4]]), jnp.ones(1), 2)
    with pytest.raises(ValueError, match="shape"):
        PauliSum(jnp.asarray([[0, 1]]), jnp.ones(2), 2)
    Hs = jax.vmap(lambda c: dataclasses.replace(H, coef=c))(jnp.ones((2, 1)))
    # one batching rule (docs/conventions.md): a batched sum acts on shared states realization by realization
    np.testing.assert_allclose(np.asarray(Hs.apply(np.ones(4))), np.stack([np.asarray(H.apply(np.ones(4)))] * 2))
    with pytest.raises(ValueError, match="outside jit"):
        jax.jit(lambda H: H.is_hermitian())(H)
