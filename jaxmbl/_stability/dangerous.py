"""The most dangerous local perturbation: gradient ascent of a delocalization measure over a k-local family.

The question of paper §IV, "which perturbation is most dangerous", asked numerically: among the
normalized k-local perturbations ``V(c) = s sum_a c_a sigma_a`` of range R
(:func:`local_pauli_basis`, ``|c| = 1``, ``Tr(V^2)/2^N = N norm^2``), find the one that maximizes a
measure of delocalization (:func:`perturbation_measure`: ``ln chi_typ``, ``<r~>`` of ``H + gV`` or the
half-chain entanglement of its eigenstates), and compare it with random members of the same family.

The sphere is parametrized as ``c = theta / |theta|`` and ``theta`` is optimized with any optax
``GradientTransformation`` (default Adam, cosine-decayed step) in one jitted ``lax.scan``; the
measure is recorded at every step and the best iterate is returned. ``theta`` starts with entries of
order 1 (``|theta| = sqrt(M)``), so the learning rate is a relative step per coefficient.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import time

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import optax
from jax import lax
from jax.scipy.special import logsumexp

from jaxmbl._core.conventions import PAULI_LETTERS
from jaxmbl._core.errors import JaxmblError
from jaxmbl._hamiltonians.pauli import PauliSum
from jaxmbl._stability.dangerous_measures import (
    DENSE_MEASURES,
    Spec,
    basis_labels,
    check_hamiltonian,
    check_locality,
    check_mu,
    dense_data,
    gram_fits,
    gram_matrices,
    measure_of_c,
    string_masks,
    string_span,
)
from jaxmbl._stability.optimize import optax_scan
from jaxmbl._stability.susceptibility import _check_states

_ROUTES = ("auto", "gram", "direct")
_TOP = 10


@dataclasses.dataclass(frozen=True, eq=False)
class DangerousResult:
    """Outcome of :func:`most_dangerous_perturbation`: V*, its measure, the random comparison, provenance.

    Attributes:
        V: the optimized perturbation ``V* = s sum_a c_a sigma_a`` (:class:`PauliSum`, the family's strings).
        coefficients: ``c`` ``(M,)``, ``|c| = 1`` (numpy).
        measure: the measure's name; ``value`` its value at V* (the best iterate), ``value_init`` at
            the start, ``value_final`` after the last step, ``best_step`` the iterate kept.
        history: the measure at ``theta_0 .. theta_steps`` ``(steps + 1,)``.
        random_values: the measure of ``n_random`` random V of the family (c uniform on the sphere),
            with ``random_mean``, ``random_std`` (ddof=1), ``random_quantiles`` (5 %, 50 %, 95 %) and
            ``fraction_random_above`` (share of random V with a measure >= ``value``).
        baseline: the measure at V = 0 (dense measures: H alone); ``None`` for the susceptibility.
        ratio: the ratio of effects. Susceptibility: ``chi_typ(V*) / mean_j chi_typ(V_j)`` with
            ``chi_typ = exp<ln chi_n>``; ``log_ratio`` is its log,
            ``value - ln mean_j exp(random_values_j)``. Dense measures:
            ``(value - baseline) / (random_mean - baseline)`` (``log_ratio`` is ``None``).
        holdout: susceptibility with sampled states: V* and the same random V on a fresh, disjoint
            sample of as many eigenstates (keys ``value``, ``random_mean``, ``random_std``, ``ratio``,
            ``log_ratio``), which tells a V that delocalizes from one fitted to the sample; else ``None``.
        content: Pauli content of V*: ``by_weight``, ``by_range``, ``by_type`` (letters in site order,
            e.g. ``"XZ"``), ``by_site`` (each string's weight shared by its sites): shares of
            ``sum c^2 = 1``.
        top_strings: the largest ``(string, coefficient of V*)`` pairs, strings written ``"X3 Z4"``.
        optimizer: description of the optimizer; ``steps`` the number of steps.
        settings: every other input (k, range, norm, s, g, mu, window, states, route, ...).
        key_data: ``jax.random.key_data(key)`` of the run (with ``settings``: reproducible).
        timings: seconds of ``setup`` (dense H or Gram matrices), ``compile``, ``search``,
            ``per_step`` and ``random``: the only field that differs between identical runs.

    Example:
        >>> import jaxmbl as jm
        >>> model = jm.sample_model(jax.random.key(0), 4)
        >>> res = most_dangerous_perturbation(jax.random.key(1), model, k=1, steps=2, n_random=2)
        >>> res.measure, res.steps, len(res.random_values), round(float(np.sum(res.coefficients**2)), 12)
        ('susceptibility', 2, 2, 1.0)
    """

    V: PauliSum
    coefficients: np.ndarray
    measure: str
    value: float
    value_init: float
    value_final: float
    best_step: int
    history: np.ndarray
    random_values: np.ndarray
    random_mean: float
    random_std: float
    random_quantiles: np.ndarray
    fraction_random_above: float
    baseline: float | None
    ratio: float
    log_ratio: float | None
    holdout: dict | None
    content: dict
    top_strings: list
    optimizer: str
    steps: int
    settings: dict
    key_data: np.ndarray
    timings: dict

    def summary(self) -> str:
        """A few lines for a log or a report: measure, random comparison, ratio, top strings.

        Returns:
            A multi-line string.
        """
        lines = [
            f"{self.measure}: V* {self.value:.4f} (start {self.value_init:.4f}, best of {self.steps} steps at "
            f"{self.best_step}); random {self.random_mean:.4f} +- {self.random_std:.4f} over {len(self.random_values)}"
            f" (max {self.random_values.max():.4f})",
            f"ratio {self.ratio:.4g}" + ("" if self.log_ratio is None else f", log ratio {self.log_ratio:.4f}"),
        ]
        if self.holdout:
            h = self.holdout
            lines.append(
                f"held-out states: V* {h['value']:.4f}, random {h['random_mean']:.4f} +- {h['random_std']:.4f}, "
                f"ratio {h['ratio']:.4g}"
            )
        lines.append("top strings: " + ", ".join(f"{s} {c:+.3f}" for s, c in self.top_strings[:6]))
        return "\n".join(lines)


# ----------------------------------------------------------------------------- inputs
def _positive(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value) or value <= 0:
        raise JaxmblError(f"{name} must be a finite real number > 0, got {value!r}")
    return float(value)


def _count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise JaxmblError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _key_data(key) -> np.ndarray:
    typed = jnp.issubdtype(jnp.asarray(key).dtype, jax.dtypes.prng_key)
    return np.asarray(jr.key_data(key) if typed else key)


def _compact(row) -> str:
    return " ".join(f"{PAULI_LETTERS[p]}{r}" for r, p in enumerate(row) if p)


def _init_coefficients(init, labels, lattice, k, span):
    """Unit c ``(M,)`` from a PauliSum of the family (checked traceless and local) or an array ``(M,)``."""
    M, n = labels.shape
    if isinstance(init, PauliSum):
        if init.n_sites != n or init.batch_shape:
            raise JaxmblError(f"init must be one PauliSum on n_sites={n}, got n_sites={init.n_sites}")
        index = {row.tobytes(): a for a, row in enumerate(labels)}
        c = np.zeros(M)
        for row, coef in zip(*(np.asarray(x) for x in (init.simplify().paulis, init.simplify().coef))):
            if abs(np.imag(coef)) > 1e-12 * max(1.0, abs(coef)):
                raise JaxmblError(f"init: string {_compact(row)} has complex coefficient {coef}; V must be Hermitian")
            if not row.any():
                if coef != 0:
                    raise JaxmblError(
                        f"init has an identity component ({float(np.real(coef)):.3g} I): V must be traceless (the "
                        "identity only shifts energies); drop the identity term"
                    )
                continue
            sites = tuple(np.flatnonzero(row).tolist())
            if row.tobytes() not in index:
                raise JaxmblError(
                    f"init: string {_compact(row)} (weight {len(sites)}, spanning "
                    f"{string_span(sites, n, bool(lattice.pbc[0]))} sites) is outside the family k={k}, range={span}; "
                    "raise k= / range= or drop the string"
                )
            c[index[row.tobytes()]] = float(np.real(coef))
    else:
        c = np.asarray(init, dtype=float)
        if c.shape != (M,) or not np.all(np.isfinite(c)):
            raise JaxmblError(f"init must be a PauliSum or finite coefficients of shape ({M},), got shape {c.shape}")
    if not np.any(c):
        raise JaxmblError("init is zero: pass a nonzero V (or init=None for a random start)")
    return c / np.linalg.norm(c)


def _sample_states(key, D, n_states, states):
    """(training indices, holdout indices or None): a disjoint pair of samples, or the given states."""
    if states is not None:
        return _check_states(states, D, "basis indices n of the eigenstates U|n>"), None
    if n_states >= D:
        return jnp.arange(D), None
    perm = jr.permutation(key, D)
    hold = jnp.sort(perm[n_states : 2 * n_states]) if 2 * n_states <= D else None
    return jnp.sort(perm[:n_states]), hold


def _susceptibility_data(model, labels, scale, mu, idx, route):
    if route == "gram":
        x, z, ph = (jnp.asarray(a) for a in string_masks(labels))
        return {"gram": gram_matrices(model, idx, x, z, ph, mu), "scale": scale}
    basis = PauliSum(jnp.asarray(labels), jnp.ones(len(labels)), model.n_sites)
    return {"model": model, "mu": mu, "states": idx, "basis": basis, "scale": scale}


@functools.cache
def _default_optimizer(learning_rate, steps):
    # Cached so that repeated searches with the same settings reuse one compilation.
    return optax.with_extra_args_support(optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.1)))


@functools.cache
def _with_extra_args(optimizer):
    # One wrapper per user optimizer: a new wrapper per call would be a new static argument (a recompilation).
    return optax.with_extra_args_support(optimizer)


# ----------------------------------------------------------------------------- jitted cores
def _objective(theta, data, spec):
    return measure_of_c(theta / jnp.linalg.norm(theta), data, spec)


@functools.partial(jax.jit, static_argnames=("spec", "steps", "optimizer"))
def _search_core(theta0, data, spec, steps, optimizer):
    def loss(theta):
        return -_objective(theta, data, spec)

    theta, history, thetas = optax_scan(loss, theta0, optimizer, steps, iterates=True)
    history = jnp.concatenate([-history, -loss(theta)[None]])
    best = jnp.argmax(history)
    return history, jnp.concatenate([thetas, theta[None]])[best], best


@functools.partial(jax.jit, static_argnames="spec")
def _values_core(thetas, data, spec):
    return lax.map(lambda t: _objective(t, data, spec), thetas)


def _comparison(value, values, baseline):
    """(ratio, log_ratio) of the effect of V* against the mean random effect (see DangerousResult)."""
    if baseline is None:
        log_ratio = float(value - (logsumexp(jnp.asarray(values)) - np.log(len(values))))
        return float(np.exp(log_ratio)), log_ratio
    denom = float(np.mean(values) - baseline)
    return (float((value - baseline) / denom) if denom != 0 else float("nan")), None


def _content(labels, c, lattice):
    share = c**2
    weight = (labels != 0).sum(1)
    spans = np.array([string_span(tuple(np.flatnonzero(r)), lattice.n_sites, bool(lattice.pbc[0])) for r in labels])
    types = ["".join(PAULI_LETTERS[p] for p in r if p) for r in labels]
    by_type: dict = {}
    for t, s in zip(types, share):
        by_type[t] = by_type.get(t, 0.0) + float(s)
    by_site = ((labels != 0) * (share / weight)[:, None]).sum(0)
    return {
        "by_weight": {int(w): float(share[weight == w].sum()) for w in np.unique(weight)},
        "by_range": {int(r): float(share[spans == r].sum()) for r in np.unique(spans)},
        "by_type": dict(sorted(by_type.items(), key=lambda kv: -kv[1])),
        "by_site": by_site,
    }


# ----------------------------------------------------------------------------- public
def most_dangerous_perturbation(
    key,
    H,
    *,
    k: int = 2,
    range: int | None = None,  # noqa: A002 (the family's range R)
    measure: str = "susceptibility",
    g=None,
    mu=None,
    window=0.5,
    norm: float = 1.0,
    optimizer=None,
    learning_rate: float = 0.05,
    steps: int = 200,
    n_random: int = 32,
    states=None,
    n_states: int = 64,
    init=None,
    lattice=None,
    route: str = "auto",
) -> DangerousResult:
    """Search the normalized k-local perturbations of range R for the one that delocalizes H most.

    Maximizes ``m(V(c))`` over ``V(c) = s sum_a c_a sigma_a``, ``c = theta/|theta|`` on the unit
    sphere of the family :func:`local_pauli_basis` (weight <= k within ``range`` consecutive sites;
    ``s = norm sqrt(N)``, so ``Tr(V^2)/2^N = N norm^2`` for every V compared), with ``m`` one of
    (module :mod:`jaxmbl._stability.dangerous_measures`, :func:`perturbation_measure`):

    * ``"susceptibility"``: ``<ln chi_n(mu)>`` over a fixed sample of eigenstates of a
      :class:`SwingleModel` (exact, no diagonalization; the gram route holds ~5 M vectors of 2**N
      for one state, 0.9 GB at N = 16, k = range = 2; above half the memory the direct route
      holds a few vectors per state and costs ~M/6 times more per step);
    * ``"gap_ratio"``: ``<r~>`` of the central ``window`` of levels of ``H + gV`` (dense, N <= 12).
      The ergodic reference is the GOE value 0.5307 for a real H and the GUE value 0.5996 for a
      complex one (a Swingle model); the search can exceed it at small N by making the levels more
      regular than a random matrix's (a picket fence), which is not delocalization;
    * ``"entanglement"``: mean half-chain entropy of the eigenstates of ``H + gV`` in the window.

    ``n_random`` random V of the family (c uniform on the sphere: independent Gaussian coefficients
    on every string, as :func:`random_local_perturbation` draws them, but normalized as a whole)
    give the reference. A pure
    function of ``key``: ``fold_in(key, 0)`` the start, ``1`` the random V, ``2`` the eigenstate
    samples (training and held-out, disjoint).

    Args:
        key: ``jax.random`` key.
        H: a :class:`SwingleModel` (any measure) or a Hermitian :class:`PauliSum` (dense measures);
            one realization, on a chain.
        k: largest string weight, >= 1.
        range: consecutive sites a string may span, ``>= k`` (default ``k``).
        measure: ``"susceptibility"``, ``"gap_ratio"`` or ``"entanglement"``.
        g: coupling of ``H + gV`` (dense measures, required; energy units of H).
        mu: regulator of chi (susceptibility; default the mean level spacing ``(E_max - E_min)/(D-1)``).
        window: central fraction of levels of the dense measures (default 0.5; ``None`` all).
        norm: Frobenius norm of V per site, ``sqrt(Tr(V^2)/(2^N N))``, > 0.
        optimizer: any ``optax.GradientTransformation`` (maximization: it is fed ``-m``); default
            ``optax.adam(optax.cosine_decay_schedule(learning_rate, steps, alpha=0.1))``.
        learning_rate: the default Adam's initial step (``theta`` has entries of order 1).
        steps: optimizer steps, >= 1.
        n_random: random V of the family to compare with, >= 2.
        states: basis indices of the eigenstates ``U|n>`` (susceptibility); default a sample of
            ``n_states`` drawn from the key, plus a disjoint held-out sample of as many.
        n_states: size of the sample (all states when ``n_states >= 2**N``).
        init: start: a :class:`PauliSum` of the family (normalized here; no identity term, every
            string of weight <= k within ``range`` sites) or coefficients ``(M,)``; default random.
        lattice: the chain of a PauliSum H (default open); a SwingleModel brings its own.
        route: susceptibility: ``"gram"`` (Gram matrices per state, then O(M^2) per evaluation),
            ``"direct"`` (:func:`fidelity_susceptibility` at every evaluation) or ``"auto"`` (gram if
            its ~5 M vectors of 2**N per state fit in half the memory).

    Returns:
        :class:`DangerousResult` (V*, the measure's history, the random comparison and ratio, the
        held-out check, the Pauli content, the optimizer, key and settings).

    Raises:
        JaxmblError: unknown measure or route; k < 1, range < k or above N; a lattice that is not a
            chain; an init with an identity component or a string outside the family; g missing
            (dense) or given (susceptibility); N > 12 for a dense measure (with the memory
            estimate); bad counts, norm, learning rate or optimizer.
        TypeError: H neither a SwingleModel nor a PauliSum.

    Example:
        >>> model = sample_model(jax.random.key(0), 4)
        >>> res = most_dangerous_perturbation(jax.random.key(1), model, k=1, steps=20, n_random=4)
        >>> res.V.n_terms, bool(res.value >= res.value_init)
        (12, True)
    """
    H, lat = check_hamiltonian(H, measure, lattice)
    kk, span = check_locality(lat, k, range)
    steps, n_random = _count("steps", steps, 1), _count("n_random", n_random, 2)
    n_states = _count("n_states", n_states, 1)
    norm, learning_rate = _positive("norm", norm), _positive("learning_rate", learning_rate)
    if route not in _ROUTES:
        raise JaxmblError(f"unknown route={route!r}; choose one of {', '.join(map(repr, _ROUTES))}")
    if optimizer is None:
        opt, description = (
            _default_optimizer(learning_rate, steps),
            (f"optax.adam(optax.cosine_decay_schedule({learning_rate}, {steps}, alpha=0.1))"),
        )
    elif isinstance(optimizer, optax.GradientTransformation):
        opt, description = _with_extra_args(optimizer), f"user optax transformation {optimizer!r:.120}"
    else:
        raise JaxmblError(f"optimizer must be an optax.GradientTransformation, got {type(optimizer).__name__}")
    labels = basis_labels(lat, kk, span)
    M, n, D = len(labels), lat.n_sites, 2**lat.n_sites
    scale = norm * np.sqrt(n)
    settings = {"k": kk, "range": span, "norm": norm, "scale": scale, "n_strings": M, "lattice": lat}
    settings.update(n_random=n_random, learning_rate=learning_rate, init=None if init is None else "given")
    c0 = None if init is None else _init_coefficients(init, labels, lat, kk, span)

    t0, hold_data = time.perf_counter(), None
    if measure in DENSE_MEASURES:
        if mu is not None or states is not None or route not in ("auto",):
            raise JaxmblError(f"mu=, states= and route= belong to measure='susceptibility', not {measure!r}")
        data, spec = dense_data(H, measure, g, window)
        data.update(basis=PauliSum(jnp.asarray(labels), jnp.ones(M), n), scale=scale)
        settings.update(g=float(g), window=window)
    else:
        if g is not None:
            raise JaxmblError("g is not used by measure='susceptibility' (chi is the response at g = 0); drop g=")
        mu = check_mu(mu, H)
        idx, hold = _sample_states(jr.fold_in(key, 2), D, n_states, states)
        if route == "auto":
            route = "gram" if gram_fits(n, M) else "direct"
        data = _susceptibility_data(H, labels, scale, mu, idx, route)
        hold_data = None if hold is None else _susceptibility_data(H, labels, scale, mu, hold, route)
        spec = Spec(measure, route=route)
        settings.update(mu=mu, states=np.asarray(idx), holdout_states=None if hold is None else np.asarray(hold))
        settings.update(route=route)
    jax.block_until_ready(data)
    if hold_data is not None:
        jax.block_until_ready(hold_data)
    timings = {"setup": time.perf_counter() - t0}

    rdt = jnp.float64 if jax.config.jax_enable_x64 else jnp.float32
    theta0 = jr.normal(jr.fold_in(key, 0), (M,), rdt) if c0 is None else jnp.asarray(c0, rdt)
    theta0 = theta0 * (np.sqrt(M) / jnp.linalg.norm(theta0))
    t0 = time.perf_counter()
    compiled = _search_core.lower(theta0, data, spec=spec, steps=steps, optimizer=opt).compile()
    timings["compile"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    history, theta, best = jax.block_until_ready(compiled(theta0, data))
    timings["search"] = time.perf_counter() - t0
    timings["per_step"] = timings["search"] / steps

    t0 = time.perf_counter()
    thetas = jnp.concatenate([theta[None], jr.normal(jr.fold_in(key, 1), (n_random, M), rdt)])
    values = np.asarray(_values_core(thetas, data, spec=spec))
    baseline = float(measure_of_c(jnp.zeros(M, rdt), data, spec)) if measure in DENSE_MEASURES else None
    holdout = None
    if hold_data is not None:
        held = np.asarray(_values_core(thetas, hold_data, spec=spec))
        ratio, log_ratio = _comparison(held[0], held[1:], None)
        holdout = {
            "value": float(held[0]),
            "random_mean": float(held[1:].mean()),
            "random_std": float(held[1:].std(ddof=1)),
        }
        holdout.update(ratio=ratio, log_ratio=log_ratio, n_states=len(settings["holdout_states"]))
    timings["random"] = time.perf_counter() - t0

    c = np.asarray(theta / jnp.linalg.norm(theta))
    value, rand = float(values[0]), values[1:]
    ratio, log_ratio = _comparison(value, rand, baseline)
    V = PauliSum(jnp.asarray(labels), jnp.asarray(scale * c), n)
    order = np.argsort(-np.abs(c), kind="stable")[:_TOP]
    history = np.asarray(history)
    return DangerousResult(
        V=V,
        coefficients=c,
        measure=measure,
        value=value,
        value_init=float(history[0]),
        value_final=float(history[-1]),
        best_step=int(best),
        history=history,
        random_values=rand,
        random_mean=float(rand.mean()),
        random_std=float(rand.std(ddof=1)),
        random_quantiles=np.quantile(rand, [0.05, 0.5, 0.95]),
        fraction_random_above=float(np.mean(rand >= value)),
        baseline=baseline,
        ratio=ratio,
        log_ratio=log_ratio,
        holdout=holdout,
        content=_content(labels, c, lat),
        top_strings=[(_compact(labels[a]), float(scale * c[a])) for a in order],
        optimizer=description,
        steps=steps,
        settings=settings,
        key_data=_key_data(key),
        timings=timings,
    )
