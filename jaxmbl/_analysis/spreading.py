r"""How far operators reach: dressed l-bit operators, Lieb-Robinson commutators, OTOCs (paper §II, eq. 2.4).

* **Dressed operators.** ``tau_r = U sigma_r U^dagger`` (``sigma = Z``: the l-bit ``tau^z_r``). Its Pauli
  expansion ``tau = sum_P c_P P`` has ``sum_P |c_P|^2 = 1``; the weight on strings that are *not*
  contained in the ball ``B_d(r)`` of radius d is

  .. math:: w(d) = 1 - \frac{\| \mathrm{tr}_{\bar B}\, \tau \|_F^2}{4^{|\bar B|}\, 2^{|B|}} ,

  which is exactly 0 beyond the light cone of a circuit and exponentially small for ``U = exp(-iK)``.
* **Lieb-Robinson commutators** (eq. 2.4) under the generator K, ``A(t) = e^{iKt} A e^{-iKt}``:
  ``||[A(t), B]||`` in operator norm. For ``B = Z_r``, ``[A, Z_r]`` only has the blocks of A between
  ``Z_r = +1`` and ``Z_r = -1``, so the norm is twice the largest singular value of that block;
  other Paulis are rotated to Z first.
* **OTOC under H** at infinite temperature,
  ``C(r, t) = <|[A_0(t), B_r]|^2> = 2 - 2 Re tr(A_0(t) B_r A_0(t) B_r)/2^N`` for Pauli A, B,
  estimated with Haar-random states (error ~ 2^{-N/2}) and the exact fast path
  ``A(t) = U e^{iH0t} U^dagger A U e^{-iH0t} U^dagger``. For H0 the front moves as
  ``r*(t) ~ xi ln(J0 t)``: the logarithmic light cone of dephasing.

Dense routines are for small N (``2**N x 2**N`` matrices); the OTOC is matrix-free.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jax import lax

from jaxmbl._core.batching import map_batch
from jaxmbl._core.conventions import PAULI, complex_dtype
from jaxmbl._core.deprecation import key_moved_first, renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST, apply_one_site
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._core.validation import check_hermitian
from jaxmbl._swingle.generator_unitary import GeneratorUnitary
from jaxmbl._swingle.lbits import lbit_phase_factors
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import LocalUnitary, dense_matrix


def _pauli_index(p, name):
    labels = {"I": 0, "X": 1, "Y": 2, "Z": 3}
    idx = labels.get(p, p) if isinstance(p, str) else p
    if not isinstance(idx, (int, np.integer)) or not 0 <= int(idx) <= 3:
        raise JaxmblError(f"{name} must be a Pauli label 'I','X','Y','Z' or 0..3, got {p!r}")
    return int(idx)


def _check_site(site, n_sites, name="site"):
    if int(site) != site or not 0 <= site < n_sites:
        raise JaxmblError(f"{name} must be a site in 0..{n_sites - 1}, got {site!r}")
    return int(site)


def _op_on_site(M, op, site, n_sites):
    """``op_site @ M`` for a dense ``(2**N, 2**N)`` M (op acts on the row index)."""
    t = M.reshape(2**site, 2, 2 ** (n_sites - site - 1), M.shape[-1])
    return jnp.einsum("pq,xqzc->xpzc", op, t, precision=HIGHEST).reshape(M.shape)


def _conjugate(M, op, site, n_sites):
    """``op M op^dagger`` for a one-site op."""
    left = _op_on_site(M, op, site, n_sites)
    return _op_on_site(left.conj().T, op, site, n_sites).conj().T


# ---------------------------------------------------------------------------- dressed operators
def _ball_weight(tau, ball, n_sites):
    """Pauli weight of ``tau`` on strings supported inside ``ball``."""
    rest = tuple(r for r in range(n_sites) if r not in ball)
    t = tau.reshape((2,) * (2 * n_sites))
    t = jnp.transpose(t, ball + rest + tuple(n_sites + r for r in ball) + tuple(n_sites + r for r in rest))
    t = t.reshape(2 ** len(ball), 2 ** len(rest), 2 ** len(ball), 2 ** len(rest))
    reduced = jnp.einsum("acbc->ab", t)
    return jnp.sum(jnp.real(reduced * reduced.conj())) / (4.0 ** len(rest) * 2.0 ** len(ball))


def _dressed_weights_1(U, pauli, site, balls):
    n = U.n_sites
    Ud = dense_matrix(U)  # columns U|n>
    op = jnp.asarray(PAULI[pauli], Ud.dtype)
    tau = jnp.matmul(Ud, _op_on_site(Ud.conj().T, op, site, n), precision=HIGHEST)
    return jnp.stack([1.0 - _ball_weight(tau, ball, n) for ball in balls])


@functools.partial(jax.jit, static_argnames=("pauli", "site", "balls"))
def _dressed_weights_core(U, pauli, site, balls):
    if not U.batch_shape:
        return _dressed_weights_1(U, pauli, site, balls)
    # One realization at a time: each holds 2**N x 2**N matrices.
    size = int(np.prod(U.batch_shape))
    flat = jax.tree_util.tree_map(lambda x: x.reshape((size,) + x.shape[len(U.batch_shape) :]), U)
    out = lax.map(lambda u: _dressed_weights_1(u, pauli, site, balls), flat)
    return out.reshape(U.batch_shape + out.shape[1:])


def dressed_operator_weights(U: LocalUnitary, lattice: Lattice | int, site: int, pauli="Z"):
    """Weight of ``tau = U sigma_site U^dagger`` outside the ball of radius d, for ``d = 0 .. d_max``.

    ``w(d)`` is the squared Pauli weight of tau on strings that act on some site farther than d
    (Euclidean lattice distance) from ``site``: ``w(d) = 0`` means tau lives in the ball.
    ``d_max`` is the largest distance from ``site``, where ``w = 0`` exactly.

    Args:
        U: a local unitary (single or batched), N <= 12 (dense matrices).
        lattice: the :class:`Lattice` that defines distances, or an int N for the open chain.
        site: the l-bit r.
        pauli: ``'Z'`` (the l-bit operator tau^z, default), ``'X'`` or ``'Y'``.

    Returns:
        ``(radii, w)``: the distinct distances ``(D,)`` (lattice units) and
        ``U.batch_shape + (D,)`` weights in [0, 1].

    Raises:
        ValueError: if ``U`` is not a jaxmbl unitary, its site count differs from the lattice's,
            N > 12, or for a bad ``site`` or ``pauli``.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((6,)), depth=2)
        >>> radii, w = dressed_operator_weights(U, Lattice((6,)), 2)
        >>> bool(w[3:].max() < 1e-12)                     # a depth-2 circuit reaches 2 sites
        True
    """
    if not isinstance(U, LocalUnitary):
        raise TypeError(f"U must be a jaxmbl unitary, got {type(U).__name__}")
    lattice = as_lattice(lattice)
    if U.n_sites != lattice.n_sites:
        raise JaxmblError(f"U acts on {U.n_sites} sites but lattice has {lattice.n_sites}")
    if U.n_sites > DENSE_MAX_SITES:
        raise JaxmblError(
            f"dressed_operator_weights builds 2**N x 2**N matrices: N <= {DENSE_MAX_SITES}, got {U.n_sites}"
        )
    site = _check_site(site, U.n_sites)
    pauli = _pauli_index(pauli, "pauli")
    dist = lattice.distances[site]
    radii = np.unique(np.round(dist, 9))
    balls = tuple(tuple(int(r) for r in np.nonzero(dist <= d + 1e-9)[0]) for d in radii)
    return jnp.asarray(radii), _dressed_weights_core(U, pauli, site, balls)


# ---------------------------------------------------------------------------- Lieb-Robinson
def generator_matrix(U: LocalUnitary):
    """Dense Hermitian K with ``U = exp(-iK)`` (single realization, N <= 12).

    For a :class:`GeneratorUnitary` this is the sum of its local terms (exact, local). For any
    other unitary (a circuit, a dense control) it is the principal ``i log U`` from the complex
    Schur form, computed on the host with scipy: a generic U has a *non-local* logarithm.

    Args:
        U: one local unitary (no batch axes), N <= 12.

    Returns:
        ``(2**N, 2**N)`` complex Hermitian K (units of the fictitious time of eq. 2.2: U is t = 1).

    Raises:
        ValueError: for a batched U or N > 12.

    Example:
        >>> import jax.random as jr
        >>> U = random_generator(jr.key(0), Lattice((3,)))
        >>> K = generator_matrix(U)
        >>> K.shape, bool(jnp.allclose(K, K.conj().T))
        ((8, 8), True)
    """
    if U.batch_shape:
        raise JaxmblError(f"generator_matrix takes one realization, got batch shape {U.batch_shape}")
    if U.n_sites > DENSE_MAX_SITES:
        raise JaxmblError(f"generator_matrix is for N <= {DENSE_MAX_SITES}, got {U.n_sites}")
    if isinstance(U, GeneratorUnitary):
        eye = jnp.eye(2**U.n_sites, dtype=complex_dtype(U.dtype))
        return jax.vmap(U.apply_K)(eye).T
    import scipy.linalg

    T, Z = scipy.linalg.schur(np.asarray(U.dense()), output="complex")
    theta = -np.angle(np.diag(T))  # U = Z diag(exp(-i theta)) Z^dagger
    return jnp.asarray((Z * theta[None, :]) @ Z.conj().T)


#: One-site W with W Z W^dagger = sigma^b (b = 1, 2, 3), so B_r = W_r Z_r W_r^dagger.
_TO_Z = {
    1: np.array([[1, 1], [1, -1]]) / np.sqrt(2),
    2: np.array([[1, 0], [0, 1j]]) @ (np.array([[1, 1], [1, -1]]) / np.sqrt(2)),
    3: np.eye(2),
}


def _commutator_block(At, b, r, n):
    """The block of ``W^dagger At W`` between ``Z_r = +1`` and ``Z_r = -1`` (half the size of At).

    ``||[At, sigma^b_r]||`` is twice its top singular value (in the basis where ``B = Z_r``).
    """
    W = jnp.asarray(_TO_Z[b], At.dtype)
    rotated = _conjugate(At, W.conj().T, r, n).reshape(2**r, 2, 2 ** (n - r - 1), 2**r, 2, 2 ** (n - r - 1))
    return rotated[:, 0, :, :, 1, :].reshape(2 ** (n - 1), 2 ** (n - 1))


@functools.partial(jax.jit, static_argnames=("a", "site", "b"))
def _lieb_robinson_core(K, a, site, b, ts):
    n = K.shape[-1].bit_length() - 1
    lam, V = jnp.linalg.eigh(K)
    A = _op_on_site(jnp.eye(2**n, dtype=K.dtype), jnp.asarray(PAULI[a], K.dtype), site, n)
    A_tilde = jnp.matmul(V.conj().T, jnp.matmul(A, V, precision=HIGHEST), precision=HIGHEST)

    def at(t):
        Vt = V * jnp.exp(1j * lam * t)[None, :]
        At = jnp.matmul(Vt, jnp.matmul(A_tilde, Vt.conj().T, precision=HIGHEST), precision=HIGHEST)
        # All sites in one batched SVD call.
        blocks = jnp.stack([_commutator_block(At, b, r, n) for r in range(n)])
        return 2 * jnp.linalg.svd(blocks, compute_uv=False)[:, 0]

    return lax.map(at, ts)


def lieb_robinson_commutators(K, ts, *, site: int = 0, a="Z", b="Z"):
    """``||[A(t), B_r]||`` (operator norm) for ``A(t) = e^{iKt} sigma^a_site e^{-iKt}`` and every site r.

    The Lieb-Robinson bound (eq. 2.4) says ``||[A(t), B_r]|| <= C e^{-(d - v_LR t)/xi_LR}`` with
    ``d = |r - site|``; outside the light cone the commutator is exponentially small.

    Args:
        K: dense Hermitian generator ``(2**N, 2**N)`` (e.g. :func:`generator_matrix`), N <= 12.
        ts: 1D array of fictitious times t >= 0 (``U = exp(-iK)`` is t = 1).
        site: where A acts.
        a: Pauli label of A (``'X'``, ``'Y'``, ``'Z'`` or 1..3).
        b: Pauli label of B.

    Returns:
        ``(T, N)`` norms in [0, 2]; entry ``[t, r]`` is ``||[A(t), B_r]||``.

    Raises:
        ValueError: if K is not a square Hermitian ``(2**N, 2**N)`` matrix with N <= 12, for
            non-finite ``ts``, or a bad site or Pauli label.

    Example:
        >>> import jax.random as jr
        >>> K = generator_matrix(random_generator(jr.key(0), Lattice((5,))))
        >>> C = lieb_robinson_commutators(K, np.array([0.0, 1.0]))
        >>> float(C[0, 1:].max()) < 1e-12, float(C[1, 4]) < 1e-2
        (True, True)
    """
    K = jnp.asarray(K)
    dim = K.shape[-1] if K.ndim == 2 else 0
    if K.ndim != 2 or K.shape[0] != dim or dim < 2 or dim & (dim - 1):
        raise JaxmblError(f"K must be a square (2**N, 2**N) matrix, got shape {K.shape}")
    n = dim.bit_length() - 1
    if n > DENSE_MAX_SITES:
        raise JaxmblError(f"K is dense: N <= {DENSE_MAX_SITES}, got N={n}")
    check_hermitian(K, "K")
    ts_np = np.asarray(ts, dtype=float)
    if ts_np.ndim != 1 or not np.all(np.isfinite(ts_np)):
        raise JaxmblError(f"ts must be a 1D array of finite times, got {ts!r}")
    site = _check_site(site, n)
    K = K.astype(jnp.promote_types(K.dtype, jnp.complex64))
    return _lieb_robinson_core(K, _pauli_index(a, "a"), site, _pauli_index(b, "b"), jnp.asarray(ts_np))


# ---------------------------------------------------------------------------- OTOC under H
@functools.partial(jax.jit, static_argnames=("a", "site", "b", "time_batch"))
def _otoc_core(model, states, ts, a, site, b, time_batch):
    n = model.n_sites
    A = jnp.asarray(PAULI[a], states.dtype)
    B = jnp.asarray(PAULI[b], states.dtype)
    norm = jnp.real(jnp.sum(states * states.conj(), axis=-1))  # (M,)

    def one(m):
        def heisenberg(v, phase):
            # A(t) v = U e^{iH0t} U^dag A U e^{-iH0t} U^dag v
            w = m.U.mv(phase.conj() * m.U.rmv(v))
            w = apply_one_site(w, A, site, n)
            return m.U.mv(phase * m.U.rmv(w))

        def at(t):
            phase = jnp.conj(lbit_phase_factors(m.h0, t)).astype(states.dtype)

            def per_state(psi):
                kicked = jnp.stack([apply_one_site(psi, B, r, n) for r in range(n)])  # B_r psi
                evolved = jax.vmap(lambda v: heisenberg(v, phase))(jnp.concatenate([psi[None], kicked]))
                a_psi, a_kicked = evolved[0], evolved[1:]
                b_a_psi = jnp.stack([apply_one_site(a_psi, B, r, n) for r in range(n)])
                diff = a_kicked - b_a_psi  # [A(t), B_r] psi
                return jnp.real(jnp.sum(diff * diff.conj(), axis=-1))

            return jnp.mean(jax.vmap(per_state)(states) / norm[:, None], axis=0)

        return lax.map(at, ts, batch_size=time_batch)

    return map_batch(one, model, model.batch_shape)


@key_moved_first
@renamed_keywords(batch_size="time_batch")
def otoc(key, model: SwingleModel, ts, *, site: int = 0, a="X", b="X", n_states: int = 1, time_batch=None):
    """Infinite-temperature OTOC ``C(r, t) = <|[A_site(t), B_r]|^2>`` under H, for every site r.

    ``A(t) = e^{iHt} A e^{-iHt}`` is applied exactly (no time stepping) as
    ``U e^{iH0t} U^dagger A U e^{-iH0t} U^dagger``. The trace ``2^{-N} tr`` is estimated with
    ``n_states`` Haar-random states (statistical error ~ ``2^{-N/2}``). For Paulis
    ``C = 2 - 2 Re <A(t) B A(t) B>``: 0 while A(t) and B_r commute, 2 when they are scrambled.

    Choose A with a component that H0 does not conserve: the l-bit ``tau^z ~ Z`` commutes with H0,
    so ``Z_0(t)`` spreads only through its small dressing, while ``X_0(t) ~ tau^x_0(t)`` picks up
    the phase ``exp(i t sum_r J_{0r} n_r + ...)`` and fails to commute with ``X_r`` once
    ``|J_{0r}| t ~ 1``: the front sits at ``r*(t) ~ xi ln(J0 t)``.

    Args:
        key: ``jax.random`` key for the random states (shared by all realizations). The old call
            ``otoc(model, ts, key=key)`` still works, with a ``DeprecationWarning``.
        model: a :class:`SwingleModel`, single or batched.
        ts: 1D array of times (units of 1/J0), any range.
        site: where A acts.
        a: Pauli label of A (default X).
        b: Pauli label of B (default X).
        n_states: random states per realization and time.
        time_batch: times processed together (memory vs. speed); default one at a time.
            Deprecated alias: ``batch_size``.

    Returns:
        ``model.batch_shape + (T, N)`` real OTOCs in [0, 2]; entry ``[..., t, r]`` is ``C(r, t)``.

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel`, for non-finite ``ts``, a bad
            site, Pauli label, ``n_states`` or ``time_batch``.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((6,)), xi=0.5)
        >>> C = otoc(jr.key(1), model, np.array([0.0, 1e12]))
        >>> float(C[0, 1:].max()) < 1e-12, C.shape
        (True, (2, 6))
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    n = model.n_sites
    site = _check_site(site, n)
    ts_np = np.asarray(ts, dtype=float)
    if ts_np.ndim != 1 or not np.all(np.isfinite(ts_np)):
        raise JaxmblError(f"ts must be a 1D array of finite times, got {ts!r}")
    if int(n_states) != n_states or n_states < 1:
        raise JaxmblError(f"n_states must be a positive integer, got {n_states!r}")
    if time_batch is not None and (int(time_batch) != time_batch or time_batch < 1):
        raise JaxmblError(f"time_batch must be a positive integer, got {time_batch!r}")
    cdt = complex_dtype(model.dtype)
    k1, k2 = jr.split(key)
    rdt = jnp.finfo(cdt).dtype
    states = (jr.normal(k1, (int(n_states), 2**n), rdt) + 1j * jr.normal(k2, (int(n_states), 2**n), rdt)).astype(cdt)
    return _otoc_core(
        model, states, jnp.asarray(ts_np, model.dtype), _pauli_index(a, "a"), site, _pauli_index(b, "b"), time_batch
    )
