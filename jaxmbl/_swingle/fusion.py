"""Gate fusion: a circuit of two-site gates applied as few dense k-site blocks, one pass each.

Applying a two-site gate streams the whole state once for 4 complex multiply-adds per amplitude,
so a circuit applied gate by gate is bound by memory traffic and by per-gate overhead. Fusion
(the approach of qsim's and cuStateVec's gate fusion) groups the gates into blocks acting on at
most ``k`` sites; a block's ``2**k x 2**k`` matrix is multiplied out from its gates (tiny) and then
applied in one pass over the state. Two overlapping gates fused into a 3-site block cost 8
multiply-adds per amplitude, exactly as many as applied separately, in one pass instead of two.

Planning (which gates go into which block) depends only on the static gate layout and runs once
on the host (:func:`plan_blocks`, cached); the block matrices are built from the gates inside the
traced program, so gates stay ordinary pytree leaves (``jit``, ``vmap``, ``grad`` pass through).

A gate may join an existing block only if it commutes with every block after it (disjoint
supports), so the fused product equals the circuit exactly; results agree with the gate-by-gate
kernel to rounding.

Block size per backend (:func:`default_block_sites`): on CPU the kernel is arithmetic-bound
(measured at N = 20: a 3-site block costs about 1.5x a 2-site gate and holds two gates; a 4-site
block holds three gates for 16 multiply-adds and costs more than three 2-site gates), so k = 3;
on GPU/TPU, bandwidth-bound with arithmetic to spare, k = 4 (complex128) or 5 (complex64).
Blocks of up to 3 sites are applied as one fused elementwise expression (no transposes);
larger blocks as a contraction (``einsum``, ``HIGHEST`` precision). The GPU sizes are chosen
from bandwidth/arithmetic ratios and have not been measured on a GPU yet.

Measured on 2 CPU cores (``benchmarks/bench_circuit.py --repeat 5``, N = 20, 19 gates, complex128,
load average 0.3): 21 ms fused (k = 3) against 62 ms gate by gate, i.e. 12.7 against 37 passes of
``psi * c`` (1.7 ms in that run); k = 2: 13.9 passes, k = 4: 20 passes; fused equals unfused to
5e-18. On CPU the floor is the complex multiply-adds per amplitude, not memory traffic: the same
blocks applied to an in-cache N = 14 state (no memory traffic at all) reach 3.56 GCMAC/s, which
scaled to N = 20 is 15.3 passes, against 24.4 for the fused U in the same run (2026-12-07, load
0.0); 10 passes would need 5.46 GCMAC/s from XLA's generated loop. Larger blocks do not help: a
k-site block does 2**k multiply-adds per amplitude against 4 per gate (k = 4, applied as an
``einsum``: 28.9 passes in that run). The issue-14 target of 10 passes is not reached on CPU.
"""

from __future__ import annotations

import functools
import itertools

import jax
import jax.numpy as jnp
from jax import lax

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST, apply_two_site

#: Largest block size applied as an elementwise expression; larger blocks use a contraction.
ELEMENTWISE_MAX_SITES = 3


def default_block_sites(dtype=jnp.complex128, backend: str | None = None) -> int:
    """Fused block size ``k`` for the backend (``jax.default_backend()`` if None) and state dtype."""
    backend = jax.default_backend() if backend is None else backend
    if backend == "cpu":
        return 3
    return 5 if jnp.dtype(dtype).itemsize <= 8 else 4


@functools.lru_cache(maxsize=256)
def plan_blocks(sites: tuple, max_sites: int) -> tuple:
    """Group gates (in application order) into blocks of at most ``max_sites`` sites.

    Greedy, in order: gate g may join block P if no block after P touches g's sites (so g
    commutes past them), and the union of supports stays within ``max_sites``; among such blocks
    it joins the one sharing most sites with it, else it opens a new block at the end.

    Args:
        sites: static tuple of gate pairs ``(a, b)``, gate 0 applied first.
        max_sites: k >= 2.

    Returns:
        Tuple of blocks ``(block_sites, gate_indices)``: sorted site tuples and the gates of the
        block in application order. Applying the blocks in order equals applying the gates.

    Example:
        >>> plan_blocks(((0, 1), (2, 3), (1, 2)), 3)
        (((0, 1), (0,)), ((1, 2, 3), (1, 2)))
    """
    if max_sites < 2:
        raise JaxmblError(f"max_sites must be >= 2 (a block must hold a two-site gate), got {max_sites}")
    supports: list[set] = []
    members: list[list] = []
    for g, pair in enumerate(sites):
        s = set(pair)
        last = max((p for p, sup in enumerate(supports) if sup & s), default=-1)
        best = None
        for p in range(max(last, 0), len(supports)):
            union = len(supports[p] | s)
            if union <= max_sites:
                key = (len(supports[p] & s), -union, p)
                if best is None or key > best[0]:
                    best = (key, p)
        if best is None:
            supports.append(set(s))
            members.append([g])
        else:
            supports[best[1]] |= s
            members[best[1]].append(g)
    return tuple((tuple(sorted(sup)), tuple(mem)) for sup, mem in zip(supports, members))


def block_matrices(gates, sites: tuple, plan: tuple, adjoint: bool = False) -> list:
    """The ``2**m x 2**m`` matrix of every block (basis ``|s_1 ... s_m>``, smallest site first).

    Traceable in ``gates`` ``(G, 4, 4)``. With ``adjoint`` the list is for ``U^dagger``: blocks in
    reverse order, each its conjugate transpose.
    """
    mats = []
    for block_sites, members in plan:
        m = len(block_sites)
        local = {s: i for i, s in enumerate(block_sites)}
        B = jnp.eye(2**m, dtype=gates.dtype)
        for g in members:
            a, b = sites[g]
            i, j = local[a], local[b]
            B = jax.vmap(lambda col, u=gates[g], i=i, j=j, m=m: apply_two_site(col, u, i, j, m), 1, 1)(B)
        mats.append(B)
    if adjoint:
        mats = [B.conj().T for B in reversed(mats)]
    return mats


def _block_dims(block_sites: tuple, n_sites: int) -> list:
    """Shape ``(d_0, 2, d_1, 2, ..., 2, d_m)`` exposing the block's sites as length-2 axes."""
    dims, prev = [], 0
    for s in block_sites:
        dims += [2 ** (s - prev), 2]
        prev = s + 1
    return dims + [2 ** (n_sites - prev)]


def apply_block(psi, mat, block_sites: tuple, n_sites: int, isolate: bool = True):
    """Dense block ``mat`` ``(2**m, 2**m)`` on the sorted ``block_sites`` of one state ``(2**N,)``.

    ``isolate`` keeps the result its own XLA loop (for products of blocks, see below); without it
    XLA may fuse the block into its consumer, which is what a sum of blocks on the same input wants.
    """
    m = len(block_sites)
    x = psi.reshape(_block_dims(block_sites, n_sites))
    if m > ELEMENTWISE_MAX_SITES:
        letters = "abcdefghijklmnopqrstuvwxyz"
        p, q = letters[:m], letters[m : 2 * m]
        rest = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        in_idx = "".join(rest[k] + q[k] for k in range(m)) + rest[m]
        out_idx = "".join(rest[k] + p[k] for k in range(m)) + rest[m]
        op = mat.reshape((2,) * (2 * m))
        return jnp.einsum(f"{p}{q},{in_idx}->{out_idx}", op, x, precision=HIGHEST).reshape(psi.shape)
    # One elementwise expression, sum_q B[:, q] (x) x[q]: XLA emits a single loop that reads each
    # amplitude 2**m times from cache, does 2**m multiply-adds per amplitude and writes once (no
    # transpose, no dot emitter). Broadcasting both factors explicitly keeps the loop free of
    # concatenates, which XLA:CPU compiles about 5x slower for m = 3.
    half = list(x.shape)
    half[1] = 1 if isolate else 2  # the first block site, whose two values are built separately (see below)
    cols = mat.reshape((2,) * m + (2**m,))
    col_shape = [1] * len(half)
    for j in range(1, m):
        col_shape[2 * j + 1] = 2
    parts = []
    for bits in itertools.product((0, 1), repeat=m):
        idx = []
        for bit in bits:
            idx += [slice(None), slice(bit, bit + 1)]
        parts.append(jnp.broadcast_to(x[tuple(idx) + (slice(None),)], half))
    if not isolate:
        col_shape[1] = 2
    halves = []
    for h in (0, 1) if isolate else (slice(None),):
        out = None
        for q, part in enumerate(parts):
            term = jnp.broadcast_to(cols[h, ..., q].reshape(col_shape), half) * part
            out = term if out is None else out + term
        halves.append(out)
    # The two values of the first block site are separate expressions joined by a concatenate:
    # XLA:CPU removes optimization barriers before fusion and would otherwise fuse this block into
    # the next one, which then recomputes it 2**m times per amplitude; it keeps a concatenate
    # unfused from its consumers. (A fully nested stack of all 2**m outputs compiles ~5x slower.)
    return (jnp.concatenate(halves, axis=1) if isolate else halves[0]).reshape(psi.shape)


def apply_blocks(psi, mats, plan: tuple, n_sites: int, adjoint: bool = False):
    """Apply the blocks of ``plan`` (matrices from :func:`block_matrices`) to one state in order."""
    order = list(reversed(plan)) if adjoint else list(plan)
    for k, ((block_sites, _), B) in enumerate(zip(order, mats)):
        psi = apply_block(psi, B.astype(jnp.result_type(B, psi)), block_sites, n_sites)
        if k + 1 < len(order):
            # Keep each block its own pass: fused into the next one, XLA would recompute it 2**m
            # times per amplitude.
            psi = lax.optimization_barrier(psi)
    return psi


def apply_circuit(gates, sites: tuple, n_sites: int, psi, adjoint: bool = False, max_sites: int | None = None):
    """``U psi`` (or ``U^dagger psi``) for one state ``(2**N,)``, the gates fused into blocks.

    Args:
        gates: complex ``(G, 4, 4)``, gate g in the basis ``|s_a s_b>`` of its pair.
        sites: static tuple of G pairs (application order).
        n_sites: N.
        psi: one state ``(2**N,)``.
        adjoint: apply ``U^dagger`` instead.
        max_sites: block size k (default :func:`default_block_sites` for this backend).

    Returns:
        The state ``(2**N,)``, equal to gate-by-gate application to rounding.

    Example:
        >>> import numpy as np
        >>> h = np.array([[1, 1], [1, -1]]) / np.sqrt(2)
        >>> cnot = np.eye(4)[[0, 1, 3, 2]]
        >>> gates = jnp.asarray(np.stack([np.kron(h, np.eye(2)), cnot]), jnp.complex128)
        >>> psi = apply_circuit(gates, ((0, 1), (0, 1)), 2, jnp.eye(4, dtype=jnp.complex128)[0])
        >>> np.round(np.asarray(psi.real), 4).tolist()   # the Bell state (|00> + |11>)/sqrt 2
        [0.7071, 0.0, 0.0, 0.7071]
    """
    if not sites:
        return psi
    k = default_block_sites(psi.dtype) if max_sites is None else int(max_sites)
    plan = plan_blocks(tuple(sites), k)
    mats = block_matrices(gates, tuple(sites), plan, adjoint)
    return apply_blocks(psi, mats, plan, n_sites, adjoint)


def fused_sum(terms, supports: tuple, n_sites: int, max_sites: int):
    """Group local Hermitian terms into blocks of at most ``max_sites`` sites, summed per block.

    For ``K = sum_p h_p`` (any order: a sum needs no commutation) returns ``(plan, mats)`` such
    that ``K psi = sum_blocks apply_block(psi, mats[i], plan[i], N)``: fewer, denser terms, all
    read from the same input, so XLA evaluates the whole sum in one pass.

    Args:
        terms: list of matrices, term p of shape ``(2**|supports[p]|,) * 2`` on ``supports[p]``
            (sorted site tuples of length 1 or 2).
        supports: static tuple of site tuples.
        n_sites: N.
        max_sites: k.

    Returns:
        ``(block_sites, mats)``: a tuple of sorted site tuples and their summed dense matrices.
    """
    groups: list[set] = []
    members: list[list] = []
    for p, sup in enumerate(supports):
        s = set(sup)
        options = [(len(g & s), -len(g | s), i) for i, g in enumerate(groups) if len(g | s) <= max_sites and g & s]
        if options:
            i = max(options)[2]
            groups[i] |= s
            members[i].append(p)
        else:
            groups.append(set(s))
            members.append([p])
    block_sites, mats = [], []
    for g, mem in zip(groups, members):
        bs = tuple(sorted(g))
        m = len(bs)
        B = None
        for p in mem:
            B_p = _embed(terms[p], tuple(bs.index(s) for s in supports[p]), m)
            B = B_p if B is None else B + B_p
        block_sites.append(bs)
        mats.append(B)
    return tuple(block_sites), mats


def _embed(op, local: tuple, m: int):
    """``op`` on the local positions ``local`` (sorted) of m sites, as a ``2**m x 2**m`` matrix."""
    eye = jnp.eye(2**m, dtype=op.dtype)
    if len(local) == 2:
        return jax.vmap(lambda col: apply_two_site(col, op, local[0], local[1], m), 1, 1)(eye)
    (i,) = local
    left, right = jnp.eye(2**i, dtype=op.dtype), jnp.eye(2 ** (m - i - 1), dtype=op.dtype)
    return jnp.kron(jnp.kron(left, op), right)


def apply_sum(psi, block_sites: tuple, mats, n_sites: int):
    """``sum_i B_i psi`` for the blocks of :func:`fused_sum`, one state ``(2**N,)``."""
    out = None
    for bs, B in zip(block_sites, mats):
        term = apply_block(psi, B.astype(jnp.result_type(B, psi)), bs, n_sites, isolate=False)
        out = term if out is None else out + term
    return jnp.zeros_like(psi) if out is None else out
