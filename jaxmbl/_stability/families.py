"""One-parameter families of Hamiltonians ``s -> H(s)`` and their derivatives ``dH/ds`` (paper §IV).

A :class:`Family` is a frozen pytree ``(builder, params)``: ``H(s) = builder(params, s)``. The
builder is a static, hashable function (module level for the ready-made families, so jit caches
are reused); ``params`` is any pytree whose array leaves are differentiable (couplings, unitary
coefficients, perturbation coefficients) and may carry realization axes for ``jax.vmap``.

``H(s)`` is returned as built: a dense ``(D, D)`` array, a :class:`PauliSum`, a
:class:`SwingleModel` (exact eigen-data ``E(n)``, ``U|n>``) or a :class:`PerturbedModel`.
Consumers (the susceptibility, the matrix-free quasi-adiabatic generator) dispatch on that type.

The operator protocol used here: an *operator* is any object with ``mv(psi)`` acting on ONE
realization and ONE flat state ``(2**N,)`` (traceable, unchecked). :class:`PauliSum`,
:class:`PerturbedModel`, :class:`SwingleModel`, the unitaries, :class:`DenseOperator`
(``jaxmbl._core.operators``) and :class:`FamilyDerivative` all are. :func:`operator_mv` applies any Hamiltonian a family may
return (including a raw dense array) to a state.

``Family.dH(s)`` is ``dH/ds`` as an operator, from ``jax.jvp`` of the builder:

* PauliSum families: a PauliSum with the tangent coefficients (same strings, exact);
* dense families: a :class:`DenseOperator` of the tangent matrix;
* anything else (Swingle, perturbed models): a :class:`FamilyDerivative`, whose ``mv(psi)`` is
  ``jax.jvp(lambda s: H(s) psi, (s,), (1,))``: matrix free, about twice the cost of ``H(s) psi``.

Ready-made families (the paper's three):

* :func:`conjugation_family`: ``H(s) = e^{-isK} H0 e^{isK}`` (eq. 4.27), ``dH = -i[K, H(s)]`` (4.28);
* :func:`lbit_coupling_family`: ``H(s) = U (H0 + s dH0) U^dagger``, U fixed (§IV.D);
* :func:`perturbation_family`: ``H(s) = H + s V`` (eq. 4.1 with g = s).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._core.batching import is_traced
from jaxmbl._core.conventions import complex_dtype, real_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import chebyshev_exp_coefficients
from jaxmbl._core.limits import DENSE_MAX_SITES
from jaxmbl._core.operators import DenseOperator
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.perturbed import PerturbedModel
from jaxmbl._swingle.generator_unitary import GeneratorUnitary, chebyshev_terms
from jaxmbl._swingle.lbits import LbitHamiltonian, lbit_energies, lbit_hamiltonian
from jaxmbl._swingle.model import SwingleModel
from jaxmbl._swingle.unitaries import LocalUnitary


# ----------------------------------------------------------------------------- operators
def operator_mv(H, psi):
    """``H psi`` for one realization and one flat state: a dense array or any operator with ``mv``."""
    if isinstance(H, (np.ndarray, jax.Array)):
        return DenseOperator(jnp.asarray(H)).mv(psi)
    return H.mv(psi)


@functools.partial(jax.jit, static_argnums=(1, 2))
def _basis_columns(op, n_sites, dtype):
    eye = jnp.eye(2**n_sites, dtype=dtype)
    return jax.vmap(op.mv)(eye).T


@functools.partial(jax.tree_util.register_dataclass, data_fields=["family", "s"], meta_fields=[])
@dataclasses.dataclass(frozen=True)
class FamilyDerivative:
    """``dH/ds`` of a family at ``s``, applied matrix free by ``jax.jvp`` of ``s -> H(s) psi``."""

    family: Family
    s: jax.Array

    @property
    def n_sites(self) -> int:
        return self.family.n_sites

    def mv(self, psi):
        def h_psi(s):
            return operator_mv(self.family.H(s), psi)

        return jax.jvp(h_psi, (self.s,), (jnp.ones_like(self.s),))[1]

    def dense(self):
        """The dense ``(2**N, 2**N)`` matrix of ``dH/ds`` (N <= 12), one realization."""
        n = self.n_sites
        if n > DENSE_MAX_SITES:
            raise JaxmblError(f"dense() is for N <= {DENSE_MAX_SITES}, got n_sites={n}; use mv()")
        return _basis_columns(self, n, complex_dtype(self.s.dtype))


# ----------------------------------------------------------------------------- the family
_KINDS = (np.ndarray, jax.Array, PauliSum, SwingleModel, PerturbedModel)


@functools.partial(jax.tree_util.register_dataclass, data_fields=["params"], meta_fields=["builder", "name"])
@dataclasses.dataclass(frozen=True)
class Family:
    """A one-parameter family ``H(s) = builder(params, s)`` (a pytree: ``params`` are leaves).

    Attributes:
        builder: static ``(params, s) -> H(s)``; jax-traceable in both arguments.
        params: pytree of the family's parameters (differentiable leaves).
        name: static label (``"conjugation"``, ``"lbit_coupling"``, ``"perturbation"``, ``"custom"``).

    Methods:
        ``H(s)``: the Hamiltonian at s, as built (dense array, PauliSum, SwingleModel, PerturbedModel).
        ``dH(s)``: ``dH/ds`` as an operator with ``mv`` (see the module docstring).
        ``mv(s, psi)``, ``dmv(s, psi)``: ``H(s) psi`` and ``dH/ds psi`` for one flat state.

    ``mv``/``dmv``/``dH(s).mv`` need one realization; a batch of families (leaves with leading
    realization axes) goes through ``jax.vmap``.

    Example:
        >>> H = PauliSum.from_list([("ZI", 1.0), ("IZ", 0.5)])
        >>> V = PauliSum.from_list([("XI", 1.0)])
        >>> fam = perturbation_family(H, V)
        >>> fam.dH(0.3).to_list()   # dH/ds = V, as a PauliSum
        [('ZI', 0.0), ('IZ', 0.0), ('XI', 1.0)]
    """

    builder: Callable
    params: Any
    name: str = "custom"

    def H(self, s):
        """The Hamiltonian at ``s``, as the builder returns it.

        Args:
            s: the real scalar parameter (may be traced).

        Returns:
            ``H(s)``: a dense array, :class:`PauliSum`, :class:`SwingleModel` or :class:`PerturbedModel`.

        Raises:
            JaxmblError: if ``s`` is not a real scalar.
        """
        return self.builder(self.params, _as_s(s))

    @property
    def n_sites(self) -> int:
        """Number of sites N of ``H(s)`` (from its shape at ``s = 0``; nothing is computed)."""
        out = jax.eval_shape(self.H, 0.0)
        if isinstance(out, jax.ShapeDtypeStruct):
            return int(out.shape[-1]).bit_length() - 1
        return int(out.n_sites)

    def dH(self, s):
        """``dH/ds`` at ``s`` as an operator, by ``jax.jvp`` of the builder.

        Args:
            s: the real scalar parameter.

        Returns:
            A :class:`PauliSum` (the derivative of the coefficients) when ``H(s)`` is one, a dense
            operator for a dense ``H(s)``, else a matrix-free operator with ``mv`` and ``dense``.

        Raises:
            JaxmblError: if ``s`` is not a real scalar.
        """
        s = _as_s(s)
        # Tangents of integer leaves (Pauli labels) are float0, which a PauliSum refuses: only the
        # array-valued parts are pushed through jvp.
        shape = jax.eval_shape(self.H, s)
        if isinstance(shape, PauliSum):
            H, dcoef = jax.jvp(lambda s: self.H(s).coef, (s,), (jnp.ones_like(s),))
            return dataclasses.replace(self.H(s), coef=dcoef)
        if isinstance(shape, jax.ShapeDtypeStruct):
            return DenseOperator(jax.jvp(self.H, (s,), (jnp.ones_like(s),))[1])
        return FamilyDerivative(self, s)

    def mv(self, s, psi):
        """``H(s) psi`` for one realization and one flat state; traceable.

        Args:
            s: the real scalar parameter.
            psi: one state ``(2**N,)``.

        Returns:
            ``H(s) psi``, shape ``(2**N,)``.
        """
        return operator_mv(self.H(s), psi)

    def dmv(self, s, psi):
        """``dH/ds psi`` for one realization and one flat state, by ``jax.jvp``; traceable.

        Args:
            s: the real scalar parameter.
            psi: one state ``(2**N,)``.

        Returns:
            ``(dH/ds) psi``, shape ``(2**N,)``.
        """
        return FamilyDerivative(self, _as_s(s)).mv(psi)


def _as_s(s):
    s = jnp.asarray(s)
    if s.ndim != 0 or jnp.iscomplexobj(s):
        raise JaxmblError(f"s must be a real scalar, got shape {s.shape} and dtype {s.dtype}")
    return s.astype(jnp.promote_types(s.dtype, real_dtype(None)))


def family(builder: Callable, params=None, *, name: str = "custom") -> Family:
    """A custom :class:`Family` ``H(s) = builder(params, s)``, checked once at ``s = 0``.

    Pass the differentiable inputs through ``params`` (not a closure) so that ``jax.grad`` and
    ``jax.vmap`` over them work and jit caches are reused.

    Args:
        builder: ``(params, s) -> H(s)``, jax-traceable in both arguments.
        params: pytree of parameters (differentiable leaves); ``None`` if there are none.
        name: a label for reports.

    Returns:
        The :class:`Family`.

    Raises:
        TypeError: ``builder`` is not callable, or ``H(0)`` is not a dense array, PauliSum,
            SwingleModel or PerturbedModel.

    Example:
        >>> fam = family(lambda p, s: p * jnp.diag(jnp.array([s, -s])), 2.0)
        >>> fam.dH(0.0).dense().tolist()
        [[2.0, 0.0], [0.0, -2.0]]
    """
    if not callable(builder):
        raise TypeError(f"builder must be a function (params, s) -> H(s), got {type(builder).__name__}")
    fam = Family(builder, params, name)
    try:
        out = jax.eval_shape(fam.H, 0.0)
    except TypeError as err:
        raise TypeError(f"builder must return a jax-traceable Hamiltonian: {err}") from err
    if not isinstance(out, (jax.ShapeDtypeStruct, PauliSum, SwingleModel, PerturbedModel)):
        raise TypeError(
            "builder must return a dense array, PauliSum, SwingleModel or PerturbedModel from (params, s); "
            f"got {type(out).__name__}"
        )
    return fam


# ----------------------------------------------------------------------------- exp(-isK) for a PauliSum K
@functools.partial(jax.tree_util.register_dataclass, data_fields=["K"], meta_fields=["n_terms"])
@dataclasses.dataclass(frozen=True)
class PauliExponential(LocalUnitary):
    """``U = exp(-iK)`` for a Hermitian :class:`PauliSum` K of any locality, by a Chebyshev series.

    The series runs in ``K/a`` with ``a = sum_m |c_m| >= ||K||`` (Pauli strings have norm 1);
    the static ``n_terms`` is chosen by :func:`conjugation_family` so that the truncation error is
    below its ``tol`` for every ``s`` with ``|s| <= s_max``.
    """

    K: PauliSum
    n_terms: int

    @property
    def n_sites(self) -> int:
        return self.K.n_sites

    @property
    def batch_shape(self):
        return tuple(self.K.coef.shape[:-1])

    @property
    def dtype(self):
        return jnp.real(self.K.coef).dtype

    def _kernel(self, psi, adjoint):
        # a is any bound >= ||K|| (the series is exact for it), so it carries no gradient.
        a = jnp.maximum(lax.stop_gradient(jnp.sum(jnp.abs(self.K.coef))), 1e-8).astype(self.dtype)
        c = chebyshev_exp_coefficients(a, self.n_terms + 1, psi.dtype)
        if adjoint:
            c = c * jnp.asarray((-1.0) ** np.arange(self.n_terms + 1), psi.dtype)

        def x(v):
            return self.K.mv(v) / a

        v0, v1 = psi, x(psi)

        def step(carry, ck):
            v_prev, v_cur, acc = carry
            v_next = 2 * x(v_cur) - v_prev
            return (v_cur, v_next, acc + ck * v_next), None

        (_, _, acc), _ = lax.scan(step, (v0, v1, c[0] * v0 + c[1] * v1), c[2:])
        return acc


# ----------------------------------------------------------------------------- the paper's families
def _conjugation_generator(params, s):
    model, K = params
    U = dataclasses.replace(K, coef2=s * K.coef2, coef1=s * K.coef1)
    return SwingleModel(model.lattice, model.h0, U)


def _conjugation_pauli(params, s):
    model, U = params
    return SwingleModel(model.lattice, model.h0, dataclasses.replace(U, K=s * U.K))


def conjugation_family(model: SwingleModel, K=None, *, s_max: float = 1.0, tol: float = 1e-12) -> Family:
    """The family ``H(s) = e^{-isK} H0 e^{isK} = U(s) H0 U(s)^dagger`` of paper eq. (4.27).

    ``H(0) = H0`` (the l-bit Hamiltonian itself) and, when K is the model's own generator,
    ``H(1) = H``. ``dH/ds = -i[K, H(s)]`` (eq. 4.28). ``H(s)`` is a :class:`SwingleModel`, so
    eigenstates ``U(s)|n>`` and energies ``E(n)`` (independent of s) are exact.

    Args:
        model: a :class:`SwingleModel`; its ``h0`` (and, with ``K=None``, its generator) are used.
        K: the Hermitian generator: ``None`` (``model.U`` must be a :class:`GeneratorUnitary`), a
            :class:`GeneratorUnitary` (its K, at most 2-local), or a :class:`PauliSum` (any locality).
        s_max: the Chebyshev series for ``e^{-isK}`` is accurate to ``tol`` for ``|s| <= s_max``.
        tol: truncation tolerance of that series.

    Returns:
        :class:`Family` named ``"conjugation"``.

    Raises:
        TypeError: model or K of the wrong type.
        ValueError: K on a different number of sites, K not Hermitian, bad s_max.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)), unitary="generator")
        >>> fam = conjugation_family(model)
        >>> bool(jnp.allclose(energies(fam.H(0.5)), energies(model)))
        True
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    s_max = float(s_max)
    if not np.isfinite(s_max) or s_max <= 0:
        raise JaxmblError(f"s_max must be finite and > 0, got {s_max!r}")
    if K is None:
        K = model.U
        if not isinstance(K, GeneratorUnitary):
            raise TypeError(
                f"K=None needs model.U to be a GeneratorUnitary (U = exp(-iK)), got {type(K).__name__}; "
                "sample the model with unitary='generator' or pass K"
            )
    if isinstance(K, GeneratorUnitary):
        if K.n_sites != model.n_sites:
            raise JaxmblError(f"K acts on {K.n_sites} sites but the model has n_sites={model.n_sites}")
        if s_max > 1:
            if is_traced(K):
                raise JaxmblError("s_max > 1 needs a concrete K (the series length is chosen from ||K||)")
            bound = float(np.max(np.asarray(K.norm_bound())))
            K = dataclasses.replace(K, n_terms=max(K.n_terms, chebyshev_terms(s_max * bound, K.series_tol)))
        return Family(_conjugation_generator, (model, K), "conjugation")
    if isinstance(K, PauliSum):
        if K.n_sites != model.n_sites:
            raise JaxmblError(f"K acts on {K.n_sites} sites but the model has n_sites={model.n_sites}")
        if is_traced(K):
            raise JaxmblError("K must be concrete when the family is built (its norm sizes the series)")
        if not K.is_hermitian():
            raise JaxmblError("K must be Hermitian (real combined Pauli coefficients)")
        K = dataclasses.replace(K, coef=jnp.real(K.coef))
        bound = float(np.max(np.sum(np.abs(np.asarray(K.coef)), axis=-1), initial=0.0))
        U = PauliExponential(K, chebyshev_terms(s_max * bound, tol))
        return Family(_conjugation_pauli, (model, U), "conjugation")
    raise TypeError(f"K must be None, a GeneratorUnitary or a PauliSum, got {type(K).__name__}")


def _lbit_coupling(params, s):
    model, dh0 = params
    coef = tuple(c + s * d for c, d in zip(model.h0.coef, dh0.coef))
    return dataclasses.replace(model, h0=dataclasses.replace(model.h0, coef=coef))


def _embed_couplings(h0: LbitHamiltonian, dh0: LbitHamiltonian):
    """``(h0', dh0')`` on the union of both term sets (zeros where a term is absent)."""
    dt = h0.dtype
    merged = {}
    for lab, h in (("h", h0), ("d", dh0)):
        for sites_k, coef_k in zip(h.sites, h.coef):
            for j, sites in enumerate(sites_k):
                merged.setdefault(sites, {})[lab] = (coef_k, j)
    union = lbit_hamiltonian(h0.n_sites, [(s, 1.0) for s in merged], dtype=dt)

    def take(lab, batch):
        out = []
        for sites_k in union.sites:
            cols = []
            for sites in sites_k:
                if lab in merged[sites]:
                    c, j = merged[sites][lab]
                    cols.append(jnp.asarray(c, dt)[..., j])
                else:
                    cols.append(jnp.zeros(batch, dt))
            out.append(jnp.stack(cols, axis=-1))
        return tuple(out)

    return (
        dataclasses.replace(union, coef=take("h", h0.batch_shape)),
        dataclasses.replace(union, coef=take("d", dh0.batch_shape)),
    )


def lbit_coupling_family(model: SwingleModel, dh0) -> Family:
    """The family ``H(s) = U (H0 + s dH0) U^dagger`` with U fixed (paper §IV.D, §IV.E).

    Eigenstates ``U|n>`` do not move; energies are ``E(n) + s dE(n)``; ``dH/ds = U dH0 U^dagger``.
    ``H(s)`` is a :class:`SwingleModel` whose H0 holds the union of the two term sets.

    Args:
        model: a :class:`SwingleModel`.
        dh0: the coupling change, an :class:`LbitHamiltonian` or a mapping ``{sites: J}`` (as
            :func:`lbit_hamiltonian`) on the model's sites.

    Returns:
        :class:`Family` named ``"lbit_coupling"``.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((3,)))
        >>> fam = lbit_coupling_family(model, {(0, 2): 0.1})
        >>> round(float(energies(fam.H(1.0))[0b101] - energies(model)[0b101]), 12)
        0.1
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    if not isinstance(dh0, LbitHamiltonian):
        try:
            dh0 = lbit_hamiltonian(model.n_sites, dh0, dtype=model.dtype)
        except (TypeError, AttributeError) as err:
            raise TypeError(
                f"dh0 must be an LbitHamiltonian or a mapping {{sites: J}}, got {type(dh0).__name__}"
            ) from err
    if dh0.n_sites != model.n_sites:
        raise JaxmblError(f"dh0 acts on {dh0.n_sites} sites but the model has n_sites={model.n_sites}")
    if dh0.sites == model.h0.sites:
        h0 = model.h0
    else:
        h0, dh0 = _embed_couplings(model.h0, dh0)
    return Family(_lbit_coupling, (dataclasses.replace(model, h0=h0), dh0), "lbit_coupling")


def _perturb_swingle(params, s):
    model, V = params
    return PerturbedModel(model, V, jnp.asarray(s, model.dtype))


def _perturb_perturbed(params, s):
    Hp, V = params
    return PerturbedModel(Hp.model, Hp.V * Hp.g + V * s, jnp.ones((), Hp.model.dtype))


def _perturb_pauli(params, s):
    H, V = params
    return H + V * s


def _perturb_dense(params, s):
    H, V = params
    return H + s * V


def _dense_of(X, name):
    if isinstance(X, (np.ndarray, jax.Array)):
        return jnp.asarray(X)
    if isinstance(X, SwingleModel):
        if X.n_sites > DENSE_MAX_SITES:
            raise JaxmblError(f"{name}: a dense family is for N <= {DENSE_MAX_SITES}, got n_sites={X.n_sites}")
        Ud = X.U.dense()
        return (Ud * lbit_energies(X.h0)[None, :]) @ Ud.conj().T
    if hasattr(X, "dense"):
        return jnp.asarray(X.dense())
    raise TypeError(f"{name} must be a dense array or an operator with dense(), got {type(X).__name__}")


def perturbation_family(H, V) -> Family:
    """The family ``H(s) = H + s V`` (paper eq. 4.1 with ``g = s``); ``dH/ds = V``.

    What ``H(s)`` is depends on the pair: SwingleModel (or PerturbedModel) + PauliSum ->
    :class:`PerturbedModel` (matrix free); PauliSum + PauliSum -> PauliSum (the strings of H
    then those of V); anything with a dense array -> dense ``(D, D)``.

    Args:
        H: a :class:`SwingleModel`, :class:`PerturbedModel`, :class:`PauliSum` or dense array.
        V: a :class:`PauliSum` or a dense array (Hermitian), on the same sites.

    Returns:
        :class:`Family` named ``"perturbation"``.

    Example:
        >>> H = jnp.diag(jnp.array([0.0, 1.0]))
        >>> fam = perturbation_family(H, jnp.array([[0.0, 1.0], [1.0, 0.0]]))
        >>> fam.H(0.5).tolist()
        [[0.0, 0.5], [0.5, 1.0]]
    """
    n_h = n_sites_of(H, "H")
    n_v = n_sites_of(V, "V")
    if n_h != n_v:
        raise JaxmblError(f"V acts on {n_v} sites but H has n_sites={n_h}")
    if isinstance(V, PauliSum):
        if not is_traced(V) and not V.is_hermitian():
            raise JaxmblError("V must be Hermitian (real combined Pauli coefficients)")
        if isinstance(H, SwingleModel):
            return Family(_perturb_swingle, (H, V), "perturbation")
        if isinstance(H, PerturbedModel):
            return Family(_perturb_perturbed, (H, V), "perturbation")
        if isinstance(H, PauliSum):
            return Family(_perturb_pauli, (H, V), "perturbation")
    Hd, Vd = _dense_of(H, "H"), _dense_of(V, "V")
    if Hd.shape[-2:] != Vd.shape[-2:]:
        raise JaxmblError(f"V must have the shape of H {Hd.shape[-2:]}, got {Vd.shape[-2:]}")
    cdt = jnp.result_type(Hd, Vd)
    return Family(_perturb_dense, (Hd.astype(cdt), Vd.astype(cdt)), "perturbation")


def n_sites_of(X, name: str) -> int:
    """Site count N of a dense ``(..., 2**N, 2**N)`` array or of any operator with ``n_sites``.

    Raises:
        JaxmblError: if a dense ``X`` is not square with a power-of-two side (the message names ``name``).
        TypeError: if ``X`` is neither an array nor an operator with ``n_sites``.
    """
    if isinstance(X, (np.ndarray, jax.Array)):
        D = X.shape[-1] if X.ndim >= 2 else 0
        if X.ndim < 2 or X.shape[-2] != D or D < 1 or D & (D - 1):
            raise JaxmblError(f"{name} must be a square (..., 2**N, 2**N) array, got shape {X.shape}")
        return D.bit_length() - 1
    if hasattr(X, "n_sites"):
        return int(X.n_sites)
    raise TypeError(
        f"{name} must be a SwingleModel, PerturbedModel, PauliSum, an operator with n_sites and mv(), or a dense"
        f" array; got {type(X).__name__}"
    )
