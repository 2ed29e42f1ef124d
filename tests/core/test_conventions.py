"""The conventions table (docs/conventions.md), checked through the public API against explicit matrices."""

import jax.numpy as jnp
import numpy as np
import pytest
import reference as ref

import jaxmbl as jm
from jaxmbl._core.conventions import site_mask
from jaxmbl._core.kernels import apply_one_site, apply_two_site
from jaxmbl._core.limits import check_state_memory

CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)


def test_pauli_matrices_are_I_X_Y_Z_unnormalised():
    expected = np.array([[[1, 0], [0, 1]], [[0, 1], [1, 0]], [[0, -1j], [1j, 0]], [[1, 0], [0, -1]]], dtype=complex)
    np.testing.assert_array_equal(np.asarray(jm.PAULI), expected)
    I, X, Y, Z = expected
    np.testing.assert_allclose(X @ Y, 1j * Z)
    np.testing.assert_allclose(Y @ Z, 1j * X)
    for s in expected[1:]:
        np.testing.assert_allclose(s @ s, I)  # eigenvalues +-1, not +-1/2
    np.testing.assert_allclose(jm.pauli_string("XIZ"), np.kron(np.kron(X, I), Z))


@pytest.mark.parametrize("n_sites", [1, 2, 3, 5])
def test_basis_bits_site0_is_most_significant(n_sites):
    bits = np.asarray(jm.basis_bits(n_sites))
    assert bits.shape == (2**n_sites, n_sites)
    for n in range(2**n_sites):
        assert tuple(bits[n]) == ref.bits_of(n, n_sites)
        assert sum(int(b) << (n_sites - 1 - r) for r, b in enumerate(bits[n])) == n
    assert site_mask((0,), n_sites) == 2 ** (n_sites - 1)


def test_basis_state_reshaped_axis_r_is_site_r():
    # |n> with only site 0 down is n = 2**(N-1); reshaped to (2,)*N its one entry sits at [1, 0, 0].
    psi = np.asarray(jm.basis_state(3, 0b100))
    np.testing.assert_array_equal(np.nonzero(psi.reshape(2, 2, 2)), ([1], [0], [0]))
    psi = np.asarray(jm.basis_state(3, 0b001))
    np.testing.assert_array_equal(np.nonzero(psi.reshape(2, 2, 2)), ([0], [0], [1]))


def test_product_state_site0_is_most_significant():
    # theta = pi on site 0 only: site 0 down, others up -> |100> = index 4.
    psi = np.asarray(jm.product_state([np.pi, 0.0, 0.0]))
    assert np.argmax(np.abs(psi)) == 4
    np.testing.assert_allclose(np.abs(psi), np.eye(8)[4], atol=1e-15)


def test_ket0_is_z_up_and_P_counts_ket1():
    Z = np.asarray(jm.PAULI[3])
    np.testing.assert_array_equal(Z @ np.array([1, 0]), np.array([1, 0]))  # Z|0> = +|0>
    np.testing.assert_array_equal(Z @ np.array([0, 1]), -np.array([0, 1]))  # Z|1> = -|1>
    # <n| Z_r |n> = 1 - 2 n_r in the state-vector convention (checked through the kernel).
    n_sites = 3
    for r in range(n_sites):
        z_diag = np.array(
            [np.vdot(e, np.asarray(apply_one_site(jnp.asarray(e), jnp.asarray(Z), r, n_sites))).real for e in np.eye(8)]
        )
        np.testing.assert_array_equal(z_diag, 1 - 2 * ref.all_bits(n_sites)[:, r])
    # P = (1 - Z)/2 has eigenvalue 1 on |1>: the one-site l-bit energy J P_r is J exactly when site r is down.
    for r in range(n_sites):
        E = np.asarray(jm.energies(jm.lbit_hamiltonian(n_sites, {(r,): 1.0})))
        np.testing.assert_array_equal(E, ref.all_bits(n_sites)[:, r].astype(float))


@pytest.mark.parametrize("pair", [(0, 2), (2, 0), (1, 2), (2, 1), (0, 1)])
def test_two_site_gate_index_is_2sa_plus_sb(pair, rng):
    n_sites = 3
    a, b = pair
    gate = ref.haar_unitary(rng, 4)  # no symmetry, so a swapped convention would show
    U = np.asarray(jm.circuit(gate[None], [pair], n_sites).dense())
    np.testing.assert_allclose(U, ref.embed_two_site(gate, a, b, n_sites), atol=1e-13)
    # Reversed pair (b, a) applies the same gate with the tensor factors exchanged: SWAP g SWAP on (a, b).
    swap = np.eye(4)[[0, 2, 1, 3]]
    Ur = np.asarray(jm.circuit(gate[None], [(b, a)], n_sites).dense())
    np.testing.assert_allclose(Ur, ref.embed_two_site(swap @ gate @ swap, a, b, n_sites), atol=1e-13)
    # Private kernel agrees.
    psi = ref.random_state(rng, n_sites)
    np.testing.assert_allclose(
        np.asarray(apply_two_site(jnp.asarray(psi), jnp.asarray(gate), a, b, n_sites)),
        ref.embed_two_site(gate, a, b, n_sites) @ psi,
        atol=1e-13,
    )


def test_cnot_control_is_first_site_of_the_pair():
    # CNOT on ordered pair (2, 0): control site 2, target site 0. |001> -> |101>; |100> unchanged.
    U = jm.circuit(CNOT[None], [(2, 0)], 3)
    out = np.asarray(U.apply(jnp.asarray(np.eye(8)[0b001], dtype=complex)))
    np.testing.assert_allclose(out, np.eye(8)[0b101])
    out = np.asarray(U.apply(jnp.asarray(np.eye(8)[0b100], dtype=complex)))
    np.testing.assert_allclose(out, np.eye(8)[0b100])


def test_circuit_order_gate0_acts_first(rng):
    A, B = ref.haar_unitary(rng, 4), ref.haar_unitary(rng, 4)
    U = np.asarray(jm.circuit(np.stack([A, B]), [(0, 1), (1, 2)], 3).dense())
    expected = ref.embed_two_site(B, 1, 2, 3) @ ref.embed_two_site(A, 0, 1, 3)
    np.testing.assert_allclose(U, expected, atol=1e-13)
    wrong = ref.embed_two_site(A, 0, 1, 3) @ ref.embed_two_site(B, 1, 2, 3)
    assert np.abs(U - wrong).max() > 1e-2
    # Concretely: X on site 0 then CNOT(0 -> 1) maps |00> to |11>; the other order gives |10>.
    X_I = np.kron(ref.X, ref.I2)
    out = np.asarray(jm.circuit(np.stack([X_I, CNOT]), [(0, 1), (0, 1)], 2).apply(jnp.eye(4, dtype=complex)[0]))
    np.testing.assert_allclose(out, np.eye(4)[0b11])


def test_dtype_helpers():
    assert jm.complex_dtype(jnp.float64) == jnp.complex128
    assert jm.complex_dtype(jnp.float32) == jnp.complex64
    assert jm.complex_dtype(jnp.complex64) == jnp.complex64


def test_check_state_memory_message_has_estimate(monkeypatch):
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1")
    check_state_memory(20, 1)  # 16 MiB * 4: fits
    with pytest.raises(ValueError, match=r"n_sites=30.*GiB"):
        check_state_memory(30, 1)  # 16 GiB * 4 > 1 GiB
