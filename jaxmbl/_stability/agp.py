"""Variational adiabatic gauge potential (AGP) of a Pauli-sum family at one point, for any N.

For ``H(lambda)`` with ``dH = d_lambda H`` the AGP ``A`` minimizes the action (Sels & Polkovnikov,
PNAS 114, E3909 (2017))

    S(A) = ||G(A)||_F^2 / 2^N,    G(A) = dH + i[A, H],

over Hermitian A in an ansatz. The exact minimizer has ``<m|A|n> = i <m|dH|n> / (E_n - E_m)`` on
non-degenerate pairs (``A = i d_lambda`` of the eigenbasis) and leaves ``min S = (1/D) sum_n
|<n|dH|n>|^2``: ``i[A, H]`` cancels exactly the off-diagonal part of dH in H's eigenbasis.

Everything lives in the Pauli-string algebra (nothing of size ``2^N``). With ``L(X) = i[H, X]``, a
real symmetric map on the real coefficient vectors of Hermitian operators (orthonormal strings,
``||X||^2 = sum_s x_s^2``), ``G = d - L a`` is linear in A's coefficients ``a``, so S is quadratic and
its minimum is a least-squares problem. ``L`` is built on the host from the concrete labels (only
pairs of strings with overlapping supports are tried, and ``L sigma^a = sum_h 2 c_h (+-1)
sigma^{a*h}`` over the anticommuting pairs, via :func:`string_product`); the coefficients of H and
dH then enter jitted cores, so ``jax.jit``/``jax.vmap`` over coefficients (e.g. disorder realizations
sharing their strings) work.

Ansaetze:

* ``"range"``: every string whose support lies within ``order`` = R consecutive sites of the chain
  (site order 0..N-1, open; the identity is excluded: it commutes with H). For real H and dH (real
  coefficients and an even number of Y in every string: real symmetric matrices) the exact AGP is
  imaginary antisymmetric, i.e. made of strings with an odd number of Y; moreover ``i[A, H]`` maps
  odd-Y strings to even-Y ones and even-Y strings to odd-Y ones, so the even-Y part of A only adds
  ``||i[A_even, H]||^2 >= 0`` to S and is zero at the minimum. Restricting to odd-Y strings
  (``odd_y``, default: on exactly when H and dH are real) halves the ansatz and changes nothing.
* ``"nested"`` (Claeys, Pandey, Sels, Polkovnikov, PRL 123, 090602 (2019)):
  ``A = i sum_{k=1}^{l} alpha_k [H, [H, ... [H, dH]]]`` with 2k-1 nested commutators (``order`` = l).
  The vectors ``ad_H^{2k} dH`` are close to parallel at large l (their Gram matrix is a badly
  conditioned Hankel matrix of moments), so they are never formed as powers: the basis is built
  Krylov-style, each new vector ``L^2`` of the previous orthonormal one, orthogonalized twice
  (classical Gram-Schmidt, in the G space) against the previous ones and normalized. The minimum is
  then the projection ``beta = -<b_k, d>``, exact whatever the conditioning of the alpha_k; the
  alpha_k are recovered through the triangular change of basis (they may be large and
  ill-determined; A and S are not). A direction left with less than ``1e-12`` of its norm by the
  orthogonalization (the Krylov space is exhausted) is dropped.

Solvers (``solver``): ``"lstsq"`` forms the dense map (range) and solves it by SVD least squares in
float64 (``jnp.linalg.lstsq``: condition number kappa, not kappa^2 as with the normal equations;
minimum-norm A, so directions commuting with H get zero weight); ``"cg"`` is matrix free (CGLS,
conjugate gradients on the normal equations with Jacobi column scaling), for range ansaetze too
large for a dense map; ``"optax"`` minimizes S with any optax transformation from ``A = 0`` (in the
Jacobi-scaled coefficients, or the orthonormal Krylov coefficients of ``"nested"``), returning the
action per step.
"""

from __future__ import annotations

import functools
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._core.limits import available_memory_bytes
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.pauli_algebra import concrete_labels, string_product, symplectic
from jaxmbl._stability.optimize import optax_scan

_CHUNK = 1 << 22  # (pairs x sites) entries per string_product block
_HERMITIAN_RTOL = 1e-10
_BREAKDOWN = 1e-12  # relative norm below which a Krylov direction is dropped
_ANSATZE, _SOLVERS = ("range", "nested"), ("lstsq", "cg", "optax")


class AGPResult(NamedTuple):
    """The variational AGP at one point ``lambda`` (returned by :func:`variational_agp`).

    Attributes:
        A: the AGP as a real-coefficient (Hermitian) :class:`PauliSum` (units of dH / H: dimensionless
            for ``dH = d_lambda H`` with dimensionless lambda per unit energy of H).
        action: ``S(A) = ||dH + i[A, H]||_F^2 / 2^N`` at the solution (units of dH squared).
        action_zero: ``S(0) = ||dH||_F^2 / 2^N``; ``action / action_zero`` is the residual fraction.
        residual: ``G = dH + i[A, H]`` as a :class:`PauliSum` (the part of dH the ansatz cannot remove).
        site_action: ``(N,)``: every non-identity string of G spreads ``g_s^2`` evenly over its
            support; sums to ``action`` minus the weight of dH's identity string.
        alpha: the ansatz coefficients: A's string coefficients (``"range"``, the order of ``A``) or
            the alpha_k, k = 1..l (``"nested"``).
        history: the action per step (``"optax"``: before each update; ``"cg"``: after each
            iteration, NaN after convergence); ``(0,)`` for ``"lstsq"``.

    Example:
        >>> H, dH = PauliSum.from_list([("Z", 1.0)]), PauliSum.from_list([("X", 1.0)])
        >>> res = variational_agp(H, dH, order=1)
        >>> float(res.action_zero), round(float(res.action), 12), res.history.shape
        (1.0, 0.0, (0,))
    """

    A: PauliSum
    action: jax.Array
    action_zero: jax.Array
    residual: PauliSum
    site_action: jax.Array
    alpha: jax.Array
    history: jax.Array


# ----------------------------------------------------------------------------- host structure
def _refuse(need: float, what: str, fix: str) -> None:
    have = available_memory_bytes()
    if need > have:
        raise JaxmblError(
            f"{what} need about {need / 2**30:.3g} GiB with working space, more than the {have / 2**30:.3g} GiB "
            f"available (set JAXMBL_MEMORY_LIMIT_GB to change the limit); {fix}"
        )


def _keys(labels: np.ndarray) -> np.ndarray:
    """One sortable byte key per string (its packed symplectic bits), any N."""
    x, z = symplectic(labels)
    packed = np.ascontiguousarray(np.concatenate([np.packbits(x, axis=-1), np.packbits(z, axis=-1)], axis=-1))
    return packed.view(np.dtype((np.void, packed.shape[-1]))).reshape(len(labels))


def range_count(n_sites: int, order: int, *, odd_y: bool = False) -> int:
    """Number of strings of the range-R ansatz (support within R consecutive sites, no identity).

    A string of span s (first to last non-identity site) has ``3`` (s = 1) or ``9 * 4^(s-2)``
    patterns, of which ``1`` or ``(9 * 4^(s-2) - 2^(s-2)) / 2`` carry an odd number of Y.

    Args:
        n_sites: N >= 1.
        order: R >= 1 (clipped to N).
        odd_y: count only strings with an odd number of Y.

    Returns:
        The count (a Python int).

    Example:
        >>> range_count(4, 2), range_count(4, 2, odd_y=True), range_count(3, 3)  # 4^3 - 1 = 63
        (39, 16, 63)
    """
    total = 0
    for s in range(1, min(order, n_sites) + 1):
        full = 3 if s == 1 else 9 * 4 ** (s - 2)
        odd = 1 if s == 1 else (full - 2 ** (s - 2)) // 2
        total += (n_sites - s + 1) * (odd if odd_y else full)
    return total


def _range_strings(n: int, order: int, odd_y: bool) -> np.ndarray:
    blocks = []
    for s in range(1, order + 1):
        axes = [np.arange(1, 4)] + [np.arange(4)] * (s - 2) + ([np.arange(1, 4)] if s > 1 else [])
        pats = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, s).astype(np.int8)
        if odd_y:
            pats = pats[(pats == 2).sum(1) % 2 == 1]
        pos = np.arange(n - s + 1)
        lab = np.zeros((len(pos), len(pats), n), np.int8)
        for j in range(s):
            lab[pos[:, None], np.arange(len(pats))[None, :], (pos + j)[:, None]] = pats[None, :, j]
        blocks.append(lab.reshape(-1, n))
    return np.concatenate(blocks)


def _pairs(la: np.ndarray, lh: np.ndarray, what: str):
    """Anticommuting pairs (a, h): indices, ``L`` sign (+2 for sigma^a sigma^h = i sigma, -2 for -i), products."""
    n = la.shape[1]
    nza, nzh = la != 0, lh != 0
    bound = float(np.sum(nza.sum(0, dtype=np.float64) * nzh.sum(0)))  # overlapping pairs, with multiplicity
    _refuse(bound * (n + 64), f"{what}: up to {bound:.3g} overlapping string pairs", "lower order")
    codes = [
        (a[:, None] * len(lh) + h[None, :]).ravel()
        for r in range(n)
        if len(a := np.nonzero(nza[:, r])[0]) and len(h := np.nonzero(nzh[:, r])[0])
    ]
    codes = np.unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
    ia, ih = codes // len(lh), codes % len(lh)
    keep_a, keep_h, signs, labels = [], [], [], []
    step = max(1, _CHUNK // max(n, 1))
    for s in range(0, len(codes), step):
        a, h = ia[s : s + step], ih[s : s + step]
        lab, k = string_product(la[a], lh[h])
        odd = k % 2 == 1
        keep_a.append(a[odd]), keep_h.append(h[odd]), labels.append(lab[odd])
        signs.append(np.where(k[odd] == 1, 2.0, -2.0))
    cat = lambda xs, empty: np.concatenate(xs) if xs else empty  # noqa: E731
    return (
        cat(keep_a, np.zeros(0, np.int64)),
        cat(keep_h, np.zeros(0, np.int64)),
        cat(signs, np.zeros(0)),
        cat(labels, np.zeros((0, n), np.int8)),
    )


def _unique(labels: np.ndarray):
    """Distinct strings: (labels, sorted keys, index of every input row)."""
    keys = _keys(labels)
    uk, first, inv = np.unique(keys, return_index=True, return_inverse=True)
    return labels[first], uk, inv.ravel()


def _locate(sorted_keys: np.ndarray, labels: np.ndarray) -> np.ndarray:
    return np.searchsorted(sorted_keys, _keys(labels))


@functools.lru_cache(maxsize=4)
def _range_structure(h_bytes, d_bytes, n, order, odd_y):
    lh, ld = (np.frombuffer(b, np.int8).reshape(-1, n) for b in (h_bytes, d_bytes))
    _refuse(range_count(n, order, odd_y=odd_y) * (n + 8) * 4.0, f"the range-{order} ansatz on {n} sites", "lower order")
    la = _range_strings(n, order, odd_y)
    lh_u, _, h_map = _unique(lh)
    ia, ih, sign, lab = _pairs(la, lh_u, f"the range-{order} ansatz")
    out, out_keys, _ = _unique(np.concatenate([ld, lab]))
    return dict(la=la, out=out, h_map=h_map, n_h=len(lh_u), ia=ia, ih=ih, m_sign=-sign,
                slot=_locate(out_keys, lab), d_slot=_locate(out_keys, ld))  # fmt: skip


@functools.lru_cache(maxsize=4)
def _nested_structure(h_bytes, d_bytes, n, order):
    """Breadth-first closure of dH's strings under ``L`` (2l steps), with ``L`` on every string up to depth 2l - 1."""
    lh, ld = (np.frombuffer(b, np.int8).reshape(-1, n) for b in (h_bytes, d_bytes))
    lh_u, _, h_map = _unique(lh)
    labels, keys, _ = _unique(ld)
    ids = np.arange(len(keys))  # global id of each sorted key
    frontier, rows, cols, ihs, signs = ids, [], [], [], []
    for depth in range(2 * order):
        ia, ih, sign, lab = _pairs(labels[frontier], lh_u, f"nested commutator {depth + 1} of {2 * order}")
        new_lab, new_keys, inv = _unique(lab)
        pos = np.searchsorted(keys, new_keys).clip(max=max(len(keys) - 1, 0))
        known = keys[pos] == new_keys
        new_ids = np.where(known, ids[pos], 0)
        new_ids[~known] = len(labels) + np.arange(int((~known).sum()))
        labels = np.concatenate([labels, new_lab[~known]])
        order_k = np.argsort(np.concatenate([keys, new_keys[~known]]), kind="stable")
        keys, ids = np.concatenate([keys, new_keys[~known]])[order_k], np.concatenate([ids, new_ids[~known]])[order_k]
        rows.append(new_ids[inv]), cols.append(frontier[ia]), ihs.append(ih), signs.append(sign)
        frontier = new_ids[~known]
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    reach, a_mask, g_mask = np.zeros(len(labels), bool), np.zeros(len(labels), bool), np.zeros(len(labels), bool)
    reach[np.unique(_locate_ids(keys, ids, ld))] = True
    g_mask |= reach
    for m in range(1, 2 * order + 1):  # strings reachable in exactly m steps
        nxt = np.zeros_like(reach)
        nxt[rows[reach[cols]]] = True
        reach = nxt
        (a_mask if m % 2 else g_mask)[reach] = True
    return dict(labels=labels, h_map=h_map, n_h=len(lh_u), rows=rows, cols=cols, ih=np.concatenate(ihs),
                sign=np.concatenate(signs), d_slot=_locate_ids(keys, ids, ld), a_mask=a_mask, g_mask=g_mask)  # fmt: skip


def _locate_ids(keys, ids, labels):
    return ids[np.searchsorted(keys, _keys(labels))]


# ----------------------------------------------------------------------------- jitted cores
def _seg(vals, idx, n):
    return jax.ops.segment_sum(vals, idx, num_segments=n)


def _dot(a, b):
    return jnp.dot(a, b, precision=HIGHEST)


def _cgls(mv, rmv, b, n, steps, tol):
    """CGLS: minimize ||mv(x) - b|| from x = 0; stops when ||rmv(r)|| <= tol ||rmv(b)||; history of ||r||^2."""
    s = rmv(b)
    gamma0 = _dot(s, s)
    hist = jnp.full((steps,), jnp.nan, b.dtype)

    def body(c):
        i, x, r, p, gamma, hist = c
        q = mv(p)
        qq = _dot(q, q)
        step = gamma / jnp.where(qq > 0, qq, 1.0)
        x, r = x + step * p, r - step * q
        s = rmv(r)
        g_new = _dot(s, s)
        return i + 1, x, r, s + (g_new / gamma) * p, g_new, hist.at[i].set(_dot(r, r))

    cond = lambda c: (c[0] < steps) & (c[4] > tol**2 * gamma0)  # noqa: E731
    _, x, _, _, _, hist = lax.while_loop(cond, body, (0, jnp.zeros(n, b.dtype), b, s, gamma0, hist))
    return x, hist


@functools.partial(jax.jit, static_argnames=("n_out", "n_a", "n_h", "solver", "steps", "optimizer"))
def _range_core(hc, dc, st, tol, *, n_out, n_a, n_h, solver, steps, optimizer):
    vals = st["m_sign"] * _seg(hc, st["h_map"], n_h)[st["ih"]]
    d = _seg(dc, st["d_slot"], n_out)
    ia, slot = st["ia"], st["slot"]
    if solver == "lstsq":
        M = jnp.zeros((n_out, n_a), d.dtype).at[slot, ia].add(vals)
        alpha, history = jnp.linalg.lstsq(M, -d)[0], jnp.zeros((0,), d.dtype)
    else:
        norm = jnp.sqrt(_seg(vals**2, ia, n_a))
        scale = jnp.where(norm > 0, norm, 1.0)
        mv = lambda x: _seg(vals * (x / scale)[ia], slot, n_out)  # noqa: E731
        if solver == "cg":
            x, history = _cgls(mv, lambda y: _seg(vals * y[slot], ia, n_a) / scale, -d, n_a, steps, tol)
        else:
            x, history = optax_scan(lambda x: jnp.sum((d + mv(x)) ** 2), jnp.zeros(n_a, d.dtype), optimizer, steps)
        alpha = x / scale
    g = d + _seg(vals * alpha[ia], slot, n_out)
    return alpha, alpha, g, jnp.sum(d**2), history


@functools.partial(jax.jit, static_argnames=("n_u", "n_h", "order", "solver", "steps", "optimizer"))
def _nested_core(hc, dc, st, *, n_u, n_h, order, solver, steps, optimizer):
    vals = st["sign"] * _seg(hc, st["h_map"], n_h)[st["ih"]]
    L = lambda v: _seg(vals * v[st["cols"]], st["rows"], n_u)  # noqa: E731  L(v) = i[H, v]
    d = _seg(dc, st["d_slot"], n_u)
    Avec, Bvec, T = (jnp.zeros((order, n_u), d.dtype),) * 2 + (jnp.zeros((order, order), d.dtype),)
    w, t = L(d), jnp.zeros(order, d.dtype).at[0].set(1.0)
    for k in range(order):
        if k:  # the next odd power: L^2 of the previous orthonormal direction
            w, t = L(L(Avec[k - 1])), jnp.concatenate([jnp.zeros(1, d.dtype), T[k - 1, :-1]])
        b = -L(w)  # i[w, H]
        norm0 = jnp.sqrt(_dot(b, b))
        for _ in range(2):
            h = jnp.matmul(Bvec, b, precision=HIGHEST)
            b, w, t = b - _dot(h, Bvec), w - _dot(h, Avec), t - _dot(h, T)
        norm = jnp.sqrt(_dot(b, b))
        ok = norm > _BREAKDOWN * norm0
        inv = jnp.where(ok, 1.0 / jnp.where(ok, norm, 1.0), 0.0)
        Avec, Bvec, T = Avec.at[k].set(w * inv), Bvec.at[k].set(b * inv), T.at[k].set(t * inv)
    if solver == "lstsq":
        beta, history = -jnp.matmul(Bvec, d, precision=HIGHEST), jnp.zeros((0,), d.dtype)
    else:
        loss = lambda x: jnp.sum((d + _dot(x, Bvec)) ** 2)  # noqa: E731
        beta, history = optax_scan(loss, jnp.zeros(order, d.dtype), optimizer, steps)
    a = _dot(beta, Avec)
    alpha = _dot(beta, T) * (-1.0) ** jnp.arange(order)  # A = i sum_k alpha_k ad_H^{2k-1} dH, ad_H = -i L
    return a, alpha, d - L(a), jnp.sum(d**2), history


# ----------------------------------------------------------------------------- public entry
def _labels_of(P, name: str, n_sites=None) -> np.ndarray:
    if not isinstance(P, PauliSum):
        raise TypeError(f"{name} must be a PauliSum, got {type(P).__name__}")
    labels = concrete_labels(P, name)
    if labels.shape[0] == 0:
        raise JaxmblError(f"{name} has no terms; pass at least one Pauli string")
    if n_sites is not None and P.n_sites != n_sites:
        raise JaxmblError(f"{name} acts on {P.n_sites} sites but H has n_sites={n_sites}; build both on one chain")
    if not isinstance(P.coef, jax.core.Tracer):
        scale = max(1.0, float(np.max(np.abs(np.asarray(P.coef)), initial=0.0)))
        if not P.is_hermitian(atol=_HERMITIAN_RTOL * scale):
            raise JaxmblError(f"{name} must be Hermitian: its combined Pauli coefficients have imaginary parts")
    return labels.astype(np.int8)


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
        raise JaxmblError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


@functools.cache
def _default_optimizer():
    return optax.lbfgs()


def variational_agp(
    H: PauliSum,
    dH: PauliSum,
    *,
    ansatz: str = "range",
    order: int = 2,
    odd_y: bool | None = None,
    solver: str = "lstsq",
    optimizer=None,
    steps: int = 1000,
    tol: float = 1e-10,
) -> AGPResult:
    """Minimize ``S(A) = ||dH + i[A, H]||_F^2 / 2^N`` over Hermitian A in an ansatz (see the module doc).

    Args:
        H: the Hamiltonian at the point lambda, a Hermitian :class:`PauliSum` on N sites (one
            operator; any N: 64 and beyond). Its coefficients may be traced (jit/vmap over
            realizations sharing strings); traced imaginary parts are dropped unchecked.
        dH: ``d_lambda H`` at that point, a Hermitian :class:`PauliSum` on the same sites.
        ansatz: ``"range"`` (all strings within ``order`` consecutive sites of the chain 0..N-1) or
            ``"nested"`` (``A = i sum_{k <= order} alpha_k ad_H^{2k-1} dH``).
        order: R >= 1 (range; values above N mean N: all strings) or l >= 1 (nested).
        odd_y: range ansatz only: keep only strings with an odd number of Y. Default ``None``: on
            iff every string of H and dH has an even number of Y (real matrices), where it is exact
            (module doc); ``True`` for complex H or dH is refused.
        solver: ``"lstsq"`` (exact, dense map: range ansaetze whose ``n_out x n_A`` map fits),
            ``"cg"`` (range only: matrix-free CGLS to ``tol``), or ``"optax"``.
        optimizer: an ``optax.GradientTransformation`` for ``solver="optax"`` (also those needing
            ``value``/``grad``/``value_fn``, e.g. ``optax.lbfgs()``, the default). No randomness:
            the optimization starts at ``A = 0``.
        steps: optax steps, or the iteration cap of ``"cg"`` (>= 1).
        tol: ``"cg"`` stops when the Jacobi-scaled normal-equation residual has dropped by ``tol``:
            ``||D^-1 M^T G|| <= tol ||D^-1 M^T dH||`` (M: coefficients -> G, D: its column norms).

    Returns:
        An :class:`AGPResult` ``(A, action, action_zero, residual, site_action, alpha, history)``.

    Raises:
        TypeError: non-PauliSum H or dH, or an optimizer that is not an optax transformation.
        JaxmblError: non-Hermitian H or dH, different N, batched operators, ``order < 1``, an unknown
            ansatz or solver, ``odd_y=True`` for complex H or dH, ``steps < 1``, ``tol <= 0``, or an
            ansatz whose structure or dense map would not fit in memory (with the estimate).

    Example:
        >>> H, dH = PauliSum.from_list([("Z", 1.0)]), PauliSum.from_list([("X", 1.0)])  # H(l) = Z + l X
        >>> res = variational_agp(H, dH, order=1)   # A = Y/2: <0|A|1> = i <0|X|1> / (E_1 - E_0) = -i/2
        >>> [(s, round(c, 12)) for s, c in res.A.to_list()], float(res.action_zero), round(float(res.action), 12)
        ([('Y', 0.5)], 1.0, 0.0)
    """
    lh = _labels_of(H, "H")
    n = H.n_sites
    ld = _labels_of(dH, "dH", n)
    if ansatz not in _ANSATZE:
        raise JaxmblError(f"ansatz must be one of {_ANSATZE}, got {ansatz!r}")
    if solver not in _SOLVERS or (ansatz == "nested" and solver == "cg"):
        allowed = _SOLVERS if ansatz == "range" else ("lstsq", "optax")
        raise JaxmblError(f"solver for ansatz={ansatz!r} must be one of {allowed}, got {solver!r}")
    order = _check_int(order, "order" + (" (the range R)" if ansatz == "range" else " (the number l)"), 1)
    steps = _check_int(steps, "steps", 1)
    if not (np.isfinite(tol) and tol > 0):
        raise JaxmblError(f"tol must be finite and > 0, got {tol!r}")
    if optimizer is None:
        optimizer = _default_optimizer()
    elif not isinstance(optimizer, optax.GradientTransformation):
        raise TypeError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
    optimizer = optax.with_extra_args_support(optimizer) if solver == "optax" else None
    real = not (np.any((lh == 2).sum(1) % 2) or np.any((ld == 2).sum(1) % 2))
    if odd_y and not real:
        raise JaxmblError(
            "odd_y=True is exact only for real H and dH (an even number of Y per string); pass odd_y=False"
        )
    hc, dc = jnp.real(H.coef), jnp.real(dH.coef)
    if ansatz == "range":
        st = _range_structure(lh.tobytes(), ld.tobytes(), n, min(order, n), real if odd_y is None else bool(odd_y))
        n_out, n_a = len(st["out"]), len(st["la"])
        if solver == "lstsq":
            _refuse(3.0 * n_out * n_a * 8, f"the dense map ({n_out} x {n_a})", "use solver='cg' or 'optax'")
        arrays = {k: jnp.asarray(st[k]) for k in ("h_map", "ia", "ih", "m_sign", "slot", "d_slot")}
        a, alpha, g, action_zero, history = _range_core(hc, dc, arrays, tol, n_out=n_out, n_a=n_a, n_h=st["n_h"],
                                           solver=solver, steps=steps, optimizer=optimizer)  # fmt: skip
        a_labels, g_labels, g_keep = st["la"], st["out"], np.arange(n_out)
    else:
        st = _nested_structure(lh.tobytes(), ld.tobytes(), n, order)
        n_u = len(st["labels"])
        _refuse((2 * order + 8) * n_u * 8.0, f"the nested ansatz ({n_u} strings, {order} directions)", "lower order")
        arrays = {k: jnp.asarray(st[k]) for k in ("h_map", "rows", "cols", "ih", "sign", "d_slot")}
        a, alpha, g, action_zero, history = _nested_core(hc, dc, arrays, n_u=n_u, n_h=st["n_h"], order=order, solver=solver,
                                            steps=steps, optimizer=optimizer)  # fmt: skip
        a_keep, g_keep = np.nonzero(st["a_mask"])[0], np.nonzero(st["g_mask"])[0]
        a, a_labels, g_labels = a[a_keep], st["labels"][a_keep], st["labels"][g_keep]
    g = g[g_keep]
    nz = g_labels != 0
    strings, sites = np.nonzero(nz)
    weight = jnp.asarray(1.0 / np.maximum(nz.sum(1), 1)[strings])
    site_action = _seg(g[strings] ** 2 * weight, jnp.asarray(sites), n)
    return AGPResult(
        A=PauliSum(a_labels, a, n),
        action=jnp.sum(g**2),
        action_zero=action_zero,
        residual=PauliSum(g_labels, g, n),
        site_action=site_action,
        alpha=alpha,
        history=history,
    )
