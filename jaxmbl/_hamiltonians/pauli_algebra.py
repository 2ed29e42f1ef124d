"""Pauli-string algebra on :class:`PauliSum`: products, commutators, norms, diagonal split.

Strings are handled in the symplectic picture: a string on N sites is a pair of bit masks
``(x, z)`` with ``sigma = i^{x.z} X^x Z^z`` per site (I = (0,0), X = (1,0), Y = (1,1), Z = (0,1)).
The product of two strings is the string ``(x1 ^ x2, z1 ^ z2)`` times a phase ``i^k``; per site
``X Y = iZ``, ``Y Z = iX``, ``Z X = iY`` (and the reverse order gives ``-i``), so ``k`` is the sum over
sites of +1 for a cyclic pair, -1 for an anticyclic pair, 0 otherwise. Two strings anticommute iff
``k`` is odd. Nothing of size ``2^N`` is built: the cost is O(M_A M_B N) booleans/int8, chunked.

Differentiability: the *structure* (which pair of input strings lands on which output string, and
with which phase) is computed once on the host with numpy from the concrete labels; the
coefficients then go through a traced gather and ``jax.ops.segment_sum``. So ``jax.jit`` and
``jax.grad`` with respect to the coefficients work whenever the labels are concrete (operators built
from concrete labels keep them as static metadata, also inside ``jit``).

Functions here take one operator (no realization axes); batch over coefficients with ``jax.vmap``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.errors import JaxmblError
from jaxmbl._hamiltonians.pauli_kernels import _structure_of

# product table of single-site labels 0..3 = I, X, Y, Z: result label and power of i
_RESULT = np.array([[0, 1, 2, 3], [1, 0, 3, 2], [2, 3, 0, 1], [3, 2, 1, 0]], dtype=np.int8)
_PHASE = np.array([[0, 0, 0, 0], [0, 0, 1, -1], [0, -1, 0, 1], [0, 1, -1, 0]], dtype=np.int8)
_IPOW = np.array([1, 1j, -1, -1j], dtype=np.complex128)
_CHUNK_ENTRIES = 1 << 24  # int8 entries of one (rows, M_B, N) block


def symplectic(labels) -> tuple[np.ndarray, np.ndarray]:
    """Symplectic bit masks ``(x, z)`` of Pauli labels: ``x = label in {X, Y}``, ``z = label in {Y, Z}``.

    Args:
        labels: int array (..., N) of labels 0..3 = I, X, Y, Z.

    Returns:
        Two boolean numpy arrays of the shape of ``labels``: x and z bits (any N, no packing limit).

    Example:
        >>> x, z = symplectic(np.array([[0, 1, 2, 3]]))
        >>> x.astype(int).tolist(), z.astype(int).tolist()
        ([[0, 1, 1, 0]], [[0, 0, 1, 1]])
    """
    labels = np.asarray(labels)
    return (labels == 1) | (labels == 2), (labels == 2) | (labels == 3)


def string_product(a, b) -> tuple[np.ndarray, np.ndarray]:
    """Products of Pauli strings with exact phases: ``sigma^a sigma^b = i^k sigma^{a*b}``.

    Args:
        a: int array (..., N) of labels 0..3.
        b: int array (..., N), broadcastable against ``a``.

    Returns:
        ``(labels, k)``: the product labels (int8, broadcast shape (..., N)) and the power ``k`` in
        0..3 of ``i`` (int8, shape (...)). ``k`` is odd iff the strings anticommute.

    Example:
        >>> lab, k = string_product(np.array([1]), np.array([2]))  # X Y = i Z
        >>> lab.tolist(), int(k)
        ([3], 1)
    """
    a, b = np.asarray(a, np.int8), np.asarray(b, np.int8)
    return _RESULT[a, b], (_PHASE[a, b].astype(np.int64).sum(-1) % 4).astype(np.int8)


def _from_labels(like, labels: np.ndarray, coef, n_sites: int):
    """A PauliSum (the type of ``like``) from numpy labels, carrying their structure inside jit too."""
    return type(like)(jnp.asarray(labels, jnp.int8), coef, n_sites, _structure_of(labels))


def concrete_labels(A, what: str) -> np.ndarray:
    """The concrete int8 labels ``(M, N)`` of one PauliSum ``A`` (also inside ``jit``, from its structure)."""
    if not all(hasattr(A, f) for f in ("paulis", "coef", "n_sites", "_structure")):
        raise TypeError(f"{what} needs PauliSum operands, got {type(A).__name__}")
    if A._structure is not None:
        labels = np.asarray(A._structure.labels)
    elif not isinstance(A.paulis, jax.core.Tracer):
        labels = np.asarray(A.paulis)
    else:
        raise JaxmblError(
            f"{what} needs concrete Pauli labels (coefficients may be traced); build the operator outside jit"
        )
    if labels.ndim != 2 or A.coef.ndim != 1:
        raise JaxmblError(f"{what} works on one operator, got paulis of shape {labels.shape}; use jax.vmap over coef")
    return labels.astype(np.int8)


def _pair_structure(la, lb, *, anticommuting_only):
    """Host structure of all pairs (a, b): output labels, and per kept pair (a, b, phase power k, slot)."""
    n = la.shape[1]
    rows = max(1, _CHUNK_ENTRIES // max(1, lb.shape[0] * max(n, 1)))
    out_l, ia, ib, ks = [], [], [], []
    for start in range(0, la.shape[0], rows):
        blk = la[start : start + rows]
        lab, k = string_product(blk[:, None, :], lb[None, :, :])
        keep = (k % 2 == 1) if anticommuting_only else np.ones(k.shape, bool)
        a_idx, b_idx = np.nonzero(keep)
        out_l.append(lab[a_idx, b_idx])
        ia.append(a_idx + start)
        ib.append(b_idx)
        ks.append(k[a_idx, b_idx])
    cat = lambda xs, shape: np.concatenate(xs) if xs else np.zeros(shape, np.int64)  # noqa: E731
    out = cat(out_l, (0, n)).astype(np.int8).reshape(-1, n)
    ia, ib, ks = cat(ia, 0), cat(ib, 0), cat(ks, 0)
    if len(out) == 0:
        return np.zeros((0, n), np.int8), ia, ib, ks, np.zeros(0, np.int64)
    uniq, slot = np.unique(out, axis=0, return_inverse=True)
    return uniq.astype(np.int8), ia, ib, ks, slot.ravel()


def _pair_sum(A, B, what, *, anticommuting_only, factor):
    la, lb = concrete_labels(A, what), concrete_labels(B, what)
    if la.shape[1] != lb.shape[1]:
        raise JaxmblError(f"{what}: operators on {la.shape[1]} and {lb.shape[1]} sites")
    uniq, ia, ib, ks, slot = _pair_structure(la, lb, anticommuting_only=anticommuting_only)
    dtype = jnp.result_type(A.coef.dtype, B.coef.dtype, jnp.complex64)
    phase = jnp.asarray(factor * _IPOW[ks], dtype)
    vals = phase * A.coef[ia] * B.coef[ib]
    coef = jax.ops.segment_sum(vals, jnp.asarray(slot), num_segments=len(uniq))
    return _from_labels(A, uniq, coef, la.shape[1])


def pauli_product(A, B):
    """Operator product ``A B = sum_{a,b} c_a d_b i^{k_ab} sigma^{a*b}`` with equal strings combined.

    Args:
        A: :class:`PauliSum` on N sites (one operator; coefficients may be traced).
        B: :class:`PauliSum` on the same N sites.

    Returns:
        A complex :class:`PauliSum` with one term per distinct product string (sorted; terms that
        cancel keep a zero coefficient, call ``simplify`` eagerly to drop them). Also ``A @ B``.

    Raises:
        JaxmblError: different N, batched operators, or labels that are not concrete.
        TypeError: non-PauliSum operands.

    Example:
        >>> from jaxmbl import PauliSum
        >>> X, Y = PauliSum.from_list([("X", 1.0)]), PauliSum.from_list([("Y", 1.0)])
        >>> pauli_product(X, Y).to_list()
        [('Z', 1j)]
    """
    return _pair_sum(A, B, "product", anticommuting_only=False, factor=1.0)


def commutator(A, B):
    """Commutator ``[A, B] = sum over anticommuting pairs of 2 c_a d_b sigma^a sigma^b``.

    Commuting pairs cancel exactly and are never formed, so the result has only the strings that
    can be non-zero. Also available as ``A.commutator(B)``.

    Args:
        A: :class:`PauliSum` on N sites (one operator; coefficients may be traced).
        B: :class:`PauliSum` on the same N sites.

    Returns:
        A complex :class:`PauliSum` (equal strings combined, sorted; possibly zero terms).

    Raises:
        JaxmblError: different N, batched operators, or labels that are not concrete.
        TypeError: non-PauliSum operands.

    Example:
        >>> from jaxmbl import PauliSum
        >>> X, Z = PauliSum.from_list([("X", 1.0)]), PauliSum.from_list([("Z", 1.0)])
        >>> commutator(X, Z).to_list()  # [X, Z] = -2i Y
        [('Y', -2j)]
    """
    return _pair_sum(A, B, "commutator", anticommuting_only=True, factor=2.0)


def combine(A):
    """Combine equal strings (traceable in the coefficients; no term is dropped).

    Args:
        A: :class:`PauliSum` (one operator, concrete labels).

    Returns:
        The :class:`PauliSum` with distinct, sorted strings and summed coefficients.

    Example:
        >>> from jaxmbl import PauliSum
        >>> combine(PauliSum.from_list([("X", 1.0), ("X", 2.0)])).to_list()
        [('X', 3.0)]
    """
    labels = concrete_labels(A, "combine")
    if len(labels) == 0:
        return A
    uniq, slot = np.unique(labels, axis=0, return_inverse=True)
    coef = jax.ops.segment_sum(A.coef, jnp.asarray(slot.ravel()), num_segments=len(uniq))
    return _from_labels(A, uniq.astype(np.int8), coef, A.n_sites)


def frobenius_norm_sq(A, *, normalized: bool = True):
    """Squared Frobenius norm, ``||A||_F^2 = Tr(A^dag A) = 2^N sum_s |c_s|^2`` (equal strings combined).

    The normalized norm ``Tr(A^dag A) / 2^N = sum_s |c_s|^2`` is what is usable at large N (at N = 64
    the unnormalized one is ~1.8e19 times larger and overflows nothing only in float64); it is the
    default, and it is the norm of the variational AGP action.

    Args:
        A: :class:`PauliSum` (one operator, concrete labels; coefficients may be traced).
        normalized: True for ``sum |c|^2`` (dimensionless per 2^N), False for ``2^N sum |c|^2``.

    Returns:
        A real scalar (squared energy units of the coefficients).

    Example:
        >>> from jaxmbl import PauliSum
        >>> H = PauliSum.from_list([("XI", 1.0), ("XI", 1.0), ("ZZ", 0.5)])
        >>> float(frobenius_norm_sq(H)), float(frobenius_norm_sq(H, normalized=False))
        (4.25, 17.0)
    """
    s = jnp.sum(jnp.abs(combine(A).coef) ** 2)
    return s if normalized else s * 2.0**A.n_sites


def _select(A, diagonal: bool, what: str):
    labels = concrete_labels(A, what)
    is_diag = np.all((labels == 0) | (labels == 3), axis=1)
    keep = np.nonzero(is_diag if diagonal else ~is_diag)[0]
    return _from_labels(A, labels[keep], A.coef[jnp.asarray(keep, jnp.int32)], A.n_sites)


def diagonal_part(A):
    """The terms of A made of I and Z only (diagonal in the computational basis).

    Args:
        A: :class:`PauliSum` (one operator, concrete labels; coefficients may be traced).

    Returns:
        The diagonal :class:`PauliSum`; ``diagonal_part(A) + offdiagonal_part(A) == A``.

    Example:
        >>> from jaxmbl import PauliSum
        >>> diagonal_part(PauliSum.from_list([("ZI", 1.0), ("XZ", 2.0)])).to_list()
        [('ZI', 1.0)]
    """
    return _select(A, True, "diagonal_part")


def offdiagonal_part(A):
    """The terms of A with at least one X or Y (zero diagonal in the computational basis).

    Args:
        A: :class:`PauliSum` (one operator, concrete labels; coefficients may be traced).

    Returns:
        The off-diagonal :class:`PauliSum`.

    Example:
        >>> from jaxmbl import PauliSum
        >>> offdiagonal_part(PauliSum.from_list([("ZI", 1.0), ("XZ", 2.0)])).to_list()
        [('XZ', 2.0)]
    """
    return _select(A, False, "offdiagonal_part")
