"""What the state-applied generator needs from a family at s: frames, derivative and spectral bounds.

Two routes, chosen from the type of ``H(s)`` (and the family's name):

* **exact** (``H(s) = U H0 U^dagger``, a :class:`SwingleModel`): ``e^{-iHt} = U e^{-iH0 t} U^dagger``
  with the phases of every basis state reduced exactly (:func:`lbit_phase_factors`), so any t costs the
  same. Everything happens in the l-bit frame ``chi = U^dagger psi`` with ``B = U^dagger dH U``:

  - ``"conjugation"`` (eq. 4.27–4.29): ``B = -i[K, H0]`` (K commutes with ``U(s) = e^{-isK}``), two
    applications of K and no U inside the integral. The frequencies ``B`` connects are local:
    term ``h_p`` of K only meets the couplings ``J_S`` with S touching its sites, so
    ``W = max_p W_p`` with ``W_p = sum_{S cap supp h_p != 0} |J_S|`` and
    ``||dH|| <= sum_p W_p ||h_p||`` (both proven, and far below the full width).
  - ``"lbit_coupling"`` (§IV.E): ``B = diag(dE)``, so ``J = (int F) dH = 0`` exactly.
  - ``"perturbation"`` at ``s = 0`` on a SwingleModel (``H + sV``): ``B = U^dagger V U``.
  - any other family returning a SwingleModel: ``B = U^dagger dH U`` with ``dH`` by ``jax.jvp``.
* **chebyshev** (PauliSum, PerturbedModel, dense): ``H`` and ``dH`` through ``mv`` with spectral
  bounds ``spec(H) in [c - a, c + a]`` (rigorous for a PauliSum and a PerturbedModel: the sum of
  ``|coef|``; exact eigenvalues for a dense H).

``dH_norm`` is a proven bound on ``||dH||`` where the family's structure gives one, else ``None``
(the caller then uses the largest ``||dH psi(t)|| / ||psi||`` seen at the nodes, an estimate).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.kernels import HIGHEST
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._hamiltonians.perturbed import PerturbedModel
from jaxmbl._stability.families import Family
from jaxmbl._swingle.generator_unitary import GeneratorUnitary
from jaxmbl._swingle.lbits import lbit_energies
from jaxmbl._swingle.model import SwingleModel

EXACT_ROUTES = ("conjugation", "lbit_coupling", "perturbation", "swingle")


class LbitFrame(NamedTuple):
    """The exact route: ``U`` (with ``mv``/``rmv``), ``h0`` for the phases, ``B`` on l-bit-frame states."""

    U: Any
    h0: Any
    B: Any  # callable v -> B v (one flat state)
    width: jax.Array  # bound on the frequencies B connects (energy)
    dH_norm: Any  # bound on ||dH|| = ||B||, or None


class Generic(NamedTuple):
    """The Chebyshev route: ``H``, ``dH`` with ``mv`` and ``spec(H) in [center - radius, center + radius]``."""

    H_mv: Any
    dH_mv: Any
    center: jax.Array
    radius: jax.Array
    dH_norm: Any


def _pauli_bounds(P: PauliSum):
    """Identity coefficient and ``sum |c|`` of the other strings of one PauliSum (traceable)."""
    identity = jnp.all(jnp.asarray(P.paulis) == 0, axis=-1)
    center = jnp.sum(jnp.where(identity, jnp.real(P.coef), 0.0))
    return center, jnp.sum(jnp.where(identity, 0.0, jnp.abs(P.coef)))


def _pauli_norm(P: PauliSum):
    return jnp.sum(jnp.abs(P.coef))


def choose_route(fam: Family, s, method: str) -> str:
    """The route name for ``fam`` at ``s`` (eager; ``s`` concrete only matters for ``H + sV`` at 0)."""
    shape = jax.eval_shape(fam.H, s)
    swingle = isinstance(shape, SwingleModel)
    if fam.name == "perturbation" and isinstance(fam.params[0], SwingleModel) and isinstance(fam.params[1], PauliSum):
        at_zero = not isinstance(s, jax.core.Tracer) and float(s) == 0.0
        if at_zero and method != "chebyshev":
            return "perturbation"
    if swingle and method != "chebyshev":
        if fam.name == "conjugation":
            return "conjugation"
        if fam.name == "lbit_coupling":
            return "lbit_coupling"
        return "swingle"
    if method == "exact":
        raise TypeError(
            f"method='exact' needs H(s) = U H0 U^dagger (a SwingleModel, or H + sV at s = 0), got "
            f"{type(shape).__name__}; use method='auto' or 'chebyshev'"
        )
    return "chebyshev"


def _site_sets_incidence(term_sites, h0):
    """Static 0/1 matrix ``(terms of K, couplings of h0)``: does coupling S touch the term's sites."""
    couplings = [set(S) for group in h0.sites for S in group]
    return np.array([[bool(set(t) & S) for S in couplings] for t in term_sites], dtype=np.float64)


def _generator_local_bounds(K: GeneratorUnitary, h0):
    """``(max_p W_p, sum_p W_p ||h_p||)`` for ``B = -i[K, H0]`` (see the module docstring)."""
    h2, h1 = K.local_terms()
    norms = []
    if h2.shape[0]:
        norms.append(jnp.max(jnp.abs(jnp.linalg.eigvalsh(h2)), axis=-1))
    if h1.shape[0]:
        norms.append(jnp.max(jnp.abs(jnp.linalg.eigvalsh(h1)), axis=-1))
    norms = jnp.concatenate(norms)
    inc = _site_sets_incidence(list(K.pairs) + list(K.singles), h0)
    W = jnp.asarray(inc, h0.dtype) @ jnp.abs(h0.flat_coef())
    return jnp.max(W), jnp.sum(W * norms)


def lbit_frame(route: str, fam: Family, s) -> LbitFrame:
    """The exact route's frame for one realization (traceable in the family's leaves and s)."""
    if route == "conjugation":
        model, K = fam.params
        H = fam.H(s)
        E = lbit_energies(model.h0)
        if isinstance(K, GeneratorUnitary):
            k_mv = K.apply_K
            width, dH_norm = _generator_local_bounds(K, model.h0)
        else:  # PauliExponential: K of any locality, the full width
            k_mv = K.K.mv
            width = jnp.max(E) - jnp.min(E)
            dH_norm = _pauli_norm(K.K) * width

        def B(v):
            Ec = E.astype(v.dtype)
            return -1j * (k_mv(Ec * v) - Ec * k_mv(v))

        return LbitFrame(H.U, model.h0, B, width, dH_norm)
    if route == "lbit_coupling":
        H = fam.H(s)
        E = lbit_energies(H.h0)
        dE = jax.jvp(lambda s: lbit_energies(fam.H(s).h0), (s,), (jnp.ones_like(s),))[1]
        return LbitFrame(H.U, H.h0, lambda v: dE.astype(v.dtype) * v, jnp.max(E) - jnp.min(E), jnp.max(jnp.abs(dE)))
    if route == "perturbation":
        model, V = fam.params
        E = lbit_energies(model.h0)

        def B(v):
            return model.U.rmv(V.mv(model.U.mv(v)))

        return LbitFrame(model.U, model.h0, B, jnp.max(E) - jnp.min(E), _pauli_norm(V))
    if route == "swingle":
        H = fam.H(s)
        dH = fam.dH(s)
        E = lbit_energies(H.h0)

        def B(v):
            return H.U.rmv(dH.mv(H.U.mv(v)).astype(v.dtype))

        return LbitFrame(H.U, H.h0, B, jnp.max(E) - jnp.min(E), None)
    raise JaxmblError(f"unknown exact route {route!r}")


class _Dense(NamedTuple):
    matrix: jax.Array

    def mv(self, psi):
        return jnp.matmul(self.matrix, psi.astype(jnp.result_type(self.matrix, psi)), precision=HIGHEST)


def _dense_norm(M):
    return jnp.linalg.norm(M, ord=2)


def generic(fam: Family, s) -> Generic:
    """The Chebyshev route's operators and bounds for one realization (traceable)."""
    H = fam.H(s)
    dH = fam.dH(s)
    if isinstance(H, PauliSum):
        center, radius = _pauli_bounds(H)
    elif isinstance(H, PerturbedModel):
        E = lbit_energies(H.model.h0)
        c_v, r_v = _pauli_bounds(H.V)
        center = (jnp.max(E) + jnp.min(E)) / 2 + H.g * c_v
        radius = (jnp.max(E) - jnp.min(E)) / 2 + jnp.abs(H.g) * r_v
    elif isinstance(H, SwingleModel):
        E = lbit_energies(H.h0)
        center, radius = (jnp.max(E) + jnp.min(E)) / 2, (jnp.max(E) - jnp.min(E)) / 2
    else:
        matrix = jnp.asarray(getattr(H, "matrix", H))  # a dense array or a DenseOperator
        H = _Dense(matrix)
        lam = jnp.linalg.eigvalsh(matrix)
        center, radius = (lam[-1] + lam[0]) / 2, (lam[-1] - lam[0]) / 2
        # eigvalsh is backward stable: widen by a few ulp of ||H|| so the bound really encloses spec(H)
        radius = radius + 64 * jnp.finfo(radius.dtype).eps * jnp.max(jnp.abs(lam))
    if isinstance(dH, PauliSum):
        dH_norm = _pauli_norm(dH)
    elif getattr(dH, "matrix", None) is not None:  # a DenseOperator, whichever module made it
        dH_norm = _dense_norm(dH.matrix)
    elif fam.name == "perturbation" and isinstance(fam.params[1], PauliSum):
        dH_norm = _pauli_norm(fam.params[1])
    else:
        dH_norm = None
    radius = jnp.maximum(jnp.real(radius), 1e-30)
    return Generic(H.mv, dH.mv, jnp.real(center), radius, dH_norm)


def frequency_bound(route: str, fam: Family, s):
    """The bound W on the frequencies of the integrand (energy units), for static sizing."""
    if route in EXACT_ROUTES:
        return lbit_frame(route, fam, s).width
    return 2 * generic(fam, s).radius
