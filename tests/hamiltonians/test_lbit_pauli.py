"""lbit_to_pauli / pauli_to_lbit against brute-force numpy energies, round trips, N = 64, transforms, errors."""

import dataclasses

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import jaxmbl as jm
from jaxmbl._hamiltonians.lbit_pauli import lbit_to_pauli, pauli_to_lbit


def _brute_energies(n, terms):
    """E(n) = sum_S J_S prod_{r in S} n_r by enumeration (site r = bit N-1-r)."""
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    return sum(J * np.prod(bits[:, list(S)], axis=1) for S, J in terms)


def _terms(h0):
    return [(S, float(J)) for group, c in zip(h0.sites, h0.coef) for S, J in zip(group, np.asarray(c))]


def _z_diagonal(n, labels, coef):
    """Diagonal of sum_T c_T Z_T by enumeration: Z_r |n> = (1 - 2 n_r) |n>."""
    bits = (np.arange(2**n)[:, None] >> (n - 1 - np.arange(n))[None, :]) & 1
    z = 1 - 2 * bits
    return sum(c * np.prod(np.where(row[None, :] == 3, z, 1), axis=1) for row, c in zip(labels, coef))


@pytest.mark.parametrize("n", [1, 3, 6])
def test_lbit_to_pauli_is_the_dense_diagonal(n):
    h0 = jm.sample_lbit_hamiltonian(jr.key(n), n, xi=1.5, max_order=3)
    P = lbit_to_pauli(h0)
    dense = np.asarray(P.dense())
    np.testing.assert_allclose(dense, np.diag(np.diag(dense)), atol=0)  # only I/Z strings
    np.testing.assert_allclose(np.diag(dense).real, _brute_energies(n, _terms(h0)), atol=1e-13)
    labels = np.asarray(P.paulis)
    assert set(np.unique(labels)) <= {0, 3}
    assert len(np.unique(labels, axis=0)) == P.n_terms  # equal strings combined


def test_lbit_to_pauli_analytic_coefficients():
    # 2 P_0 P_1 P_2 = (1/4)(1 - Z0 - Z1 - Z2 + Z0Z1 + Z0Z2 + Z1Z2 - Z0Z1Z2); plus P_1 = (1 - Z1)/2
    h0 = jm.lbit_hamiltonian(3, {(0, 1, 2): 2.0, (1,): 1.0})
    got = dict(lbit_to_pauli(h0).to_list())
    want = {"III": 0.25 + 0.5, "ZII": -0.25, "IZI": -0.25 - 0.5, "IIZ": -0.25}
    want.update({"ZZI": 0.25, "ZIZ": 0.25, "IZZ": 0.25, "ZZZ": -0.25})
    assert got.keys() == want.keys()
    for k in want:
        assert got[k] == pytest.approx(want[k], abs=1e-15)


@pytest.mark.parametrize("n", [2, 5])
def test_pauli_to_lbit_energies_and_offset(n):
    rng = np.random.default_rng(n)
    labels = np.unique(np.where(rng.random((12, n)) < 0.5, 3, 0).astype(np.int8), axis=0)
    coef = rng.normal(size=len(labels))
    P = jm.PauliSum(jnp.asarray(labels), jnp.asarray(coef), n)
    h0, offset = pauli_to_lbit(P, cutoff=0.0)
    want = _z_diagonal(n, labels, coef)
    np.testing.assert_allclose(float(offset), want[0], atol=1e-13)  # the all-up state |0..0>
    np.testing.assert_allclose(float(offset) + _brute_energies(n, _terms(h0)), want, atol=1e-12)
    assert all(list(g) == sorted(g) for g in h0.sites) and list(h0.orders) == sorted(h0.orders)


def test_round_trips():
    h0 = jm.sample_lbit_hamiltonian(jr.key(3), 6, xi=1.0, max_order=3)
    back, offset = pauli_to_lbit(lbit_to_pauli(h0), cutoff=0.0)
    assert back.sites == h0.sites and back.n_sites == h0.n_sites
    for a, b in zip(back.coef, h0.coef):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-14)
    assert abs(float(offset)) < 1e-14
    P = jm.PauliSum.from_list([("III", 0.3), ("ZIZ", -1.0), ("IZI", 0.5), ("ZZZ", 0.25)])
    h0, offset = pauli_to_lbit(P)
    again = (lbit_to_pauli(h0) + offset).simplify(cutoff=1e-14)
    assert dict(again.to_list()) == pytest.approx(dict(P.to_list()), abs=1e-14)


def test_cutoff_drops_small_couplings():
    P = jm.PauliSum.from_list([("ZI", 1.0), ("IZ", 1e-14)])
    h0, _ = pauli_to_lbit(P, cutoff=1e-12)
    assert h0.sites == (((0,),),)
    h0, _ = pauli_to_lbit(P, cutoff=0.0)
    assert h0.sites == (((0,), (1,)),)


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_n64_runs_and_round_trips():
    model = jm.sample_model(jr.key(0), jm.Lattice((64,)), max_order=2)
    P = lbit_to_pauli(model.h0)
    assert P.n_sites == 64 and P.is_hermitian()
    ident = dict(P.to_list())["I" * 64]
    want = sum(J * 2.0 ** -len(S) for S, J in _terms(model.h0))
    assert ident == pytest.approx(want, rel=1e-13)
    back, offset = pauli_to_lbit(P, cutoff=0.0)
    assert back.sites == model.h0.sites and abs(float(offset)) < 1e-12
    np.testing.assert_allclose(np.asarray(back.flat_coef()), np.asarray(model.h0.flat_coef()), atol=1e-13)


def test_jit_and_vmap_over_couplings():
    keys = jr.split(jr.key(5), 3)
    h0s = jax.vmap(lambda k: jm.sample_lbit_hamiltonian(k, 5, xi=1.0, max_order=3))(keys)
    eager = [lbit_to_pauli(jax.tree.map(lambda c: c[i], h0s)) for i in range(3)]
    batched = jax.vmap(lbit_to_pauli)(h0s)
    for i, P in enumerate(eager):
        np.testing.assert_array_equal(np.asarray(batched.paulis[i]), np.asarray(P.paulis))
        np.testing.assert_allclose(np.asarray(batched.coef[i]), np.asarray(P.coef), atol=1e-15)
    jitted = jax.jit(lbit_to_pauli)(eager_h0 := jax.tree.map(lambda c: c[0], h0s))
    np.testing.assert_allclose(np.asarray(jitted.coef), np.asarray(lbit_to_pauli(eager_h0).coef), atol=1e-15)
    # pauli_to_lbit under jit with traced coefficients: nothing dropped, same as cutoff=0 eagerly
    P = eager[0]
    labels = np.asarray(P.paulis)
    traced = jax.jit(lambda c: pauli_to_lbit(jm.PauliSum(labels, c, 5)))(P.coef)
    ref = pauli_to_lbit(P, cutoff=0.0)
    assert traced[0].sites == ref[0].sites
    np.testing.assert_allclose(np.asarray(traced[0].flat_coef()), np.asarray(ref[0].flat_coef()), atol=1e-14)


def test_gradient_is_the_expansion_coefficient():
    # the map is linear in the couplings: d c_II / d J_{01} = 2^-2
    h0 = jm.lbit_hamiltonian(2, {(0,): 1.0, (0, 1): 0.5})

    def identity_coef(J2):
        P = lbit_to_pauli(dataclasses.replace(h0, coef=(h0.coef[0], J2)))
        return P.coef[0]  # 'II' sorts first

    assert float(jax.grad(lambda x: identity_coef(jnp.array([x])))(0.5)) == pytest.approx(0.25)


def test_errors():
    with pytest.raises(jm.JaxmblError, match="diagonal_part"):
        pauli_to_lbit(jm.PauliSum.from_list([("ZI", 1.0), ("XZ", 0.5)]))
    with pytest.raises(jm.JaxmblError, match="Hermitian"):
        pauli_to_lbit(jm.PauliSum.from_list([("ZI", 1.0 + 0.5j)]))
    with pytest.raises(jm.JaxmblError, match="constant"):
        pauli_to_lbit(jm.PauliSum.from_list([("II", 2.0)]))
    with pytest.raises(jm.JaxmblError, match="cutoff"):
        pauli_to_lbit(jm.PauliSum.from_list([("ZI", 1.0)]), cutoff=-1.0)
    with pytest.raises(TypeError):
        pauli_to_lbit(np.eye(4))
    with pytest.raises(TypeError):
        lbit_to_pauli(jm.PauliSum.from_list([("ZI", 1.0)]))
    h0s = jax.vmap(lambda k: jm.sample_lbit_hamiltonian(k, 3))(jr.split(jr.key(0), 2))
    with pytest.raises(jm.JaxmblError, match="batch shape"):
        lbit_to_pauli(h0s)
    # a complex PauliSum with zero imaginary parts is accepted
    h0, _ = pauli_to_lbit(jm.PauliSum.from_list([("ZI", 1.0 + 0j)]))
    assert h0.sites == (((0,),),)
