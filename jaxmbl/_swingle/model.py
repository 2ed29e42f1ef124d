"""The Swingle model ``H = U H0 U^dagger`` (paper eq. 2.3): sampling, batching, files, eigen-data.

Eigenstates are ``U|n>`` with energies ``E(n)``, so nothing here diagonalizes anything.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import os

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np

from jaxmbl._core.batching import map_batch
from jaxmbl._core.conventions import complex_dtype
from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.io import atomic_write_bytes
from jaxmbl._core.lattice import Lattice, as_lattice
from jaxmbl._core.limits import check_state_memory
from jaxmbl._core.operators import apply_batched
from jaxmbl._swingle.generator_unitary import (
    generator_unitary,
    random_generator,
)
from jaxmbl._swingle.lbits import LbitHamiltonian, lbit_energies, lbit_hamiltonian, sample_lbit_hamiltonian
from jaxmbl._swingle.unitaries import (
    Circuit,
    LocalUnitary,
    circuit,
    random_circuit,
)


@functools.partial(jax.tree_util.register_dataclass, data_fields=["h0", "U"], meta_fields=["lattice"])
@dataclasses.dataclass(frozen=True)
class SwingleModel:
    """One (or a batch of) realization(s) of ``H = U H0 U^dagger``.

    Attributes:
        lattice: the static :class:`Lattice`.
        h0: the :class:`LbitHamiltonian` (couplings are leaves).
        U: a :class:`Circuit` or :class:`GeneratorUnitary`.

    A batch of realizations is the same pytree with a leading axis on every leaf, as made by
    ``jax.vmap`` over :func:`sample_model`; every public function accepts it.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> model.n_sites, model.batch_shape, type(model.U).__name__
        (4, (), 'Circuit')
    """

    lattice: Lattice
    h0: LbitHamiltonian
    U: LocalUnitary

    @property
    def n_sites(self) -> int:
        """Number of sites N of the lattice."""
        return self.lattice.n_sites

    @property
    def batch_shape(self) -> tuple:
        """Leading realization axes (``()`` for one realization)."""
        return self.h0.batch_shape

    @property
    def dtype(self):
        """Real dtype of the couplings (the states are the matching complex dtype)."""
        return self.h0.dtype

    def mv(self, psi):
        """``H psi = U (E * (U^dagger psi))`` for ONE realization and ONE flat state; traceable, no checks.

        The single-state half of the operator protocol (as ``PauliSum.mv``); batch with ``jax.vmap``.

        Args:
            psi: complex state ``(2**N,)``.

        Returns:
            ``H psi``, shape ``(2**N,)``.
        """
        return self.U.mv(lbit_energies(self.h0).astype(psi.dtype) * self.U.rmv(psi))

    def apply(self, psi):
        """``H psi = U diag(E) U^dagger psi`` for states ``(..., 2**N)``, matrix-free.

        Args:
            psi: states ``(..., 2**N)`` shared by all realizations, or ``batch_shape + (..., 2**N)``
                with one (batch of) state(s) per realization (the rule of :func:`apply_batched`).

        Returns:
            ``psi.shape`` (one realization, or per-realization states), else ``batch_shape + psi.shape``;
            complex, energy units of J0.

        Raises:
            JaxmblError: if the last axis of ``psi`` is not ``2**N``.

        Example:
            >>> import jax.random as jr
            >>> model = sample_model(jr.key(0), Lattice((4,)))
            >>> psi = eigenstates(model, 3)
            >>> bool(jnp.allclose(model.apply(psi), energies(model)[3] * psi))
            True
        """
        return apply_batched(self, psi)

    def is_hermitian(self) -> bool:
        """Always True: ``H = U H0 U^dagger`` with real ``E(n)`` is Hermitian by construction.

        Returns:
            ``True``.
        """
        return True

    def dense(self):
        """The dense ``H = U diag(E) U^dagger`` (N <= 12), as :func:`dense_hamiltonian`.

        Returns:
            Complex ``batch_shape + (2**N, 2**N)`` matrix, energy units of J0.
        """
        return dense_hamiltonian(self)


@renamed_keywords(tol="series_tol")
def sample_model(
    key,
    lattice: Lattice | int,
    *,
    xi: float = 1.0,
    J0: float = 1.0,
    unitary: str = "circuit",
    depth: int | None = None,
    strength: float = 0.5,
    max_order: int = 3,
    cutoff: float = 1e-12,
    max_range: float | None = None,
    series_tol: float = 1e-12,
    charge_conserving: bool = False,
    dtype=None,
) -> SwingleModel:
    """Sample one realization of the Swingle model ``H = U H0 U^dagger`` (eq. 2.3); a pure function of ``key``.

    ``H0`` comes from :func:`sample_lbit_hamiltonian`, ``U`` from :func:`random_circuit`
    (``unitary="circuit"``) or :func:`random_generator` (``unitary="generator"``).
    ``charge_conserving=True`` draws U from the U(1)-invariant bond operators, so H conserves the
    total charge (the variant of paper §II, end; see :func:`sample_u1_model`); H0 is the same for
    the same key either way. ``jax.vmap`` over keys gives a batch of realizations.

    Args:
        key: ``jax.random`` key; the realization is a pure function of it.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        xi: localization length of the couplings ``J_S ~ J0 exp(-ell(S)/xi)`` (lattice units); a
            traced ``xi`` (for ``jax.grad`` over it) needs ``max_range``.
        J0: energy unit of the couplings.
        unitary: ``"circuit"`` (``depth`` bond layers of gates ``exp(-i h)``) or ``"generator"``
            (``U = exp(-iK)``, K a sum of bond terms).
        depth: bond layers of the circuit (default one pass over all layers).
        strength: bound on ``||h||`` of each gate generator or bond term of K.
        max_order: largest coupling order ``|S|`` of H0.
        cutoff: couplings whose envelope ``exp(-ell(S)/xi)`` is below ``cutoff`` are dropped.
        max_range: static bound on ``ell(S)`` of the kept couplings (needed for a traced ``xi``).
        series_tol: truncation error of the Chebyshev series of ``U = exp(-iK)`` per unit norm
            (``unitary="generator"`` only). Deprecated alias: ``tol``.
        charge_conserving: draw a U that conserves ``sum_r Z_r``.
        dtype: float64 (default) or float32.

    Returns:
        A :class:`SwingleModel` with ``batch_shape == ()``.

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an int.
        JaxmblError: for an unknown ``unitary`` or invalid coupling or unitary parameters.

    Example:
        >>> import jax, jax.random as jr
        >>> lat = Lattice((6,))
        >>> model = sample_model(jr.key(0), lat, xi=1.0)
        >>> batch = jax.vmap(lambda k: sample_model(k, lat))(jr.split(jr.key(1), 8))
        >>> batch.batch_shape
        (8,)
    """
    lattice = as_lattice(lattice)
    if unitary not in ("circuit", "generator"):
        raise JaxmblError(f"unitary must be 'circuit' or 'generator', got {unitary!r}")
    k_h0, k_u = jr.split(key)
    h0 = sample_lbit_hamiltonian(
        k_h0, lattice, xi=xi, J0=J0, max_order=max_order, cutoff=cutoff, max_range=max_range, dtype=dtype
    )
    if unitary == "circuit":
        U = random_circuit(
            k_u, lattice, depth=depth, strength=strength, charge_conserving=charge_conserving, dtype=dtype
        )
    else:
        U = random_generator(
            k_u, lattice, strength=strength, series_tol=series_tol, charge_conserving=charge_conserving, dtype=dtype
        )
    return SwingleModel(lattice=lattice, h0=h0, U=U)


@renamed_keywords(root="key")
def realization_keys(key, n: int, start: int = 0):
    """Keys ``fold_in(key, i)`` for realizations ``i = start .. start+n-1`` (batch-size independent).

    Args:
        key: the root ``jax.random`` key of the run. Deprecated alias: ``root``.
        n: number of keys.
        start: index of the first realization.

    Returns:
        ``n`` keys, shape ``(n,)`` (typed keys, or ``(n, 2)`` for raw uint32 keys).

    Example:
        >>> import jax.random as jr
        >>> keys = realization_keys(jr.key(0), 4, start=2)
        >>> bool(jnp.all(jr.key_data(keys[0]) == jr.key_data(jr.fold_in(jr.key(0), 2))))
        True
    """
    return jax.vmap(lambda i: jr.fold_in(key, i))(jnp.arange(start, start + n))


@renamed_keywords(root="key")
def sample_models(key, lattice: Lattice | int, n: int, *, start: int = 0, **kwargs) -> SwingleModel:
    """A batch of ``n`` realizations of :func:`sample_model`; realization i uses ``fold_in(key, i)``.

    Realization i is the same whatever ``n`` or ``start`` (so chunked runs agree bit for bit).

    Args:
        key: the root ``jax.random`` key. Deprecated alias: ``root``.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        n: number of realizations (>= 1).
        start: index of the first realization.
        **kwargs: keywords of :func:`sample_model` (``xi``, ``unitary``, ``depth``, ...).

    Returns:
        A :class:`SwingleModel` with ``batch_shape == (n,)``.

    Raises:
        JaxmblError: if ``n`` is not a positive integer, or as :func:`sample_model`.

    Example:
        >>> import jax.random as jr
        >>> models = sample_models(jr.key(0), 6, 4, xi=0.5)
        >>> models.batch_shape, models.n_sites
        ((4,), 6)
    """
    if int(n) != n or n < 1:
        raise JaxmblError(f"n must be an integer >= 1, got {n!r}")
    lattice = as_lattice(lattice)
    return jax.vmap(lambda k: sample_model(k, lattice, **kwargs))(realization_keys(key, int(n), start))


def map_realizations(fn, model: SwingleModel, *args):
    """Apply ``fn(single_model, *args)`` to every realization of a (possibly batched) model.

    Output leaves get the model's batch shape in front. ``args`` are shared by all realizations.
    ``fn`` is written for one realization and vmapped over the batch axes (one compiled program).

    Args:
        fn: ``fn(model, *args) -> pytree`` of arrays, for one unbatched :class:`SwingleModel`.
        model: a :class:`SwingleModel`, single or batched (leading ``batch_shape``).
        *args: extra arguments passed unchanged to every call.

    Returns:
        ``fn``'s output, every leaf with ``model.batch_shape`` in front.

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel`.

    Example:
        >>> import jax.random as jr
        >>> models = sample_models(jr.key(0), Lattice((4,)), 3)
        >>> map_realizations(lambda m, t: energies(m).max() * t, models, 2.0).shape
        (3,)
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    return map_batch(fn, model, model.batch_shape, *args)


_energies_core = jax.jit(lbit_energies)


def energies(model):
    """E(n) for all 2**N basis states: the whole spectrum of H (and of H0), in units of J0.

    ``E(n) = sum_{S subset of n} J_S`` (eq. 2.1 with ``P_r = n_r``), evaluated for every n by a
    subset-sum (zeta) transform in O(N 2**N): no diagonalization. H and H0 have the same spectrum
    (eq. 2.3), and ``U|n>`` (:func:`eigenstates`) has energy ``E(n)``.

    Args:
        model: a :class:`SwingleModel` or an :class:`LbitHamiltonian`, single or batched.

    Returns:
        Real ``batch_shape + (2**N,)`` energies (units of J0), ordered by basis index n (not sorted).

    Raises:
        ValueError: for another type of ``model``, or if the energies would not fit in memory.

    Example:
        >>> import jax.random as jr
        >>> E = energies(sample_model(jr.key(0), Lattice((4,))))
        >>> E.shape
        (16,)
    """
    h0 = model.h0 if isinstance(model, SwingleModel) else model
    if not isinstance(h0, LbitHamiltonian):
        raise TypeError(f"model must be a SwingleModel or LbitHamiltonian, got {type(model).__name__}")
    check_state_memory(h0.n_sites, max(1, int(np.prod(h0.batch_shape))), h0.dtype, what="energy vectors")
    return map_batch(_energies_core, h0, h0.batch_shape)


def _check_indices(idx, n_sites):
    if isinstance(idx, jax.core.Tracer):
        if not jnp.issubdtype(idx.dtype, jnp.integer):
            raise JaxmblError(f"idx must be integer basis indices, got dtype {idx.dtype}")
        return idx  # values unknown under a transform: out-of-range indices give zero vectors
    idx_np = np.asarray(idx)
    if idx_np.dtype.kind not in "iu":
        raise JaxmblError(f"idx must be integer basis indices, got dtype {idx_np.dtype}")
    if idx_np.size and (idx_np.min() < 0 or idx_np.max() >= 2**n_sites):
        raise JaxmblError(
            f"idx must lie in 0..2**N-1 = 0..{2**n_sites - 1}, got values in [{idx_np.min()}, {idx_np.max()}]"
        )
    return jnp.asarray(idx_np)


@jax.jit
def _eigenstates_core(model, idx):
    basis = jax.nn.one_hot(idx, 2**model.n_sites, dtype=complex_dtype(model.dtype))
    return jax.vmap(model.U.mv)(basis.reshape(-1, 2**model.n_sites)).reshape(basis.shape)


def _eigenstates_pair(pair):
    return _eigenstates_core(*pair)


def eigenstates(model, idx):
    """Eigenstates ``U|n>`` of ``H = U H0 U^dagger`` for basis indices n; their energies are ``E(n)``.

    The indices are shared by all realizations, or given per realization: ``idx`` of shape
    ``batch_shape + (k, ...)`` (at least one axis after the batch axes) picks ``idx[i]`` in
    realization i, e.g. each realization's ground state ``argmin(energies(model), -1)[..., None]``.

    Args:
        model: a :class:`SwingleModel`, single or batched (leading ``batch_shape``).
        idx: integer basis indices in ``0..2**N-1``: an int or an array of any shape (shared), or
            an array ``batch_shape + (k, ...)`` (per realization).

    Returns:
        Complex states ``batch_shape + idx.shape + (2**N,)`` for shared indices, or
        ``idx.shape + (2**N,)`` for per-realization indices; unit norm.

    Raises:
        JaxmblError: for non-integer indices, indices outside ``0..2**N-1`` (checked when not
            traced; a traced out-of-range index gives a zero vector), or if the states do not fit
            in memory.

    Example:
        >>> import jax.random as jr
        >>> models = sample_models(jr.key(0), Lattice((4,)), 3)
        >>> eigenstates(models, [0, 5]).shape                      # shared indices
        (3, 2, 16)
        >>> ground = jnp.argmin(energies(models), axis=-1)         # one index per realization
        >>> eigenstates(models, ground[:, None]).shape
        (3, 1, 16)
    """
    idx = _check_indices(idx, model.n_sites)
    batch = model.batch_shape
    per_realization = bool(batch) and idx.ndim > len(batch) and tuple(idx.shape[: len(batch)]) == batch
    count = max(1, idx.size) * (1 if per_realization else max(1, int(np.prod(batch))))
    check_state_memory(model.n_sites, count, model.dtype)
    if per_realization:
        return map_batch(_eigenstates_pair, (model, idx), batch)
    return map_realizations(_eigenstates_core, model, idx)


def dense_hamiltonian(model):
    """The dense ``H = U diag(E) U^dagger`` of eq. 2.3 (N <= 12), for tests and small checks.

    Args:
        model: a :class:`SwingleModel`, single or batched.

    Returns:
        Complex Hermitian ``batch_shape + (2**N, 2**N)`` matrices, energy units of J0.

    Raises:
        ValueError: for N > 12.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((3,)))
        >>> H = dense_hamiltonian(model)
        >>> E = jnp.linalg.eigvalsh(H)
        >>> H.shape, bool(jnp.allclose(E, jnp.sort(energies(model))))
        ((8, 8), True)
    """
    if model.n_sites > 12:
        raise JaxmblError(f"dense_hamiltonian is for N <= 12, got n_sites={model.n_sites}")

    def one(m):
        Ud = m.U.dense()
        return (Ud * lbit_energies(m.h0)[None, :]) @ Ud.conj().T

    return map_realizations(one, model)


# --------------------------------------------------------------------------- files
def save_model(path, model: SwingleModel) -> None:
    """Write one realization to ``path`` (.npz), atomically (temp file + rename).

    The file is a pure function of plain arrays, so the instance can be rebuilt without jaxmbl:
    ``E(n) = sum_k sum_m h0_coef_k{k}[m] prod_{r in h0_sites_k{k}[m]} n_r`` and ``U`` from
    ``u_gates``/``u_sites`` (gate 0 first) or ``U = expm(-i sum_m k_coef[m] sigma^{k_paulis[m]})``.
    The keys:

    ============================  =========================================================
    key                           meaning
    ============================  =========================================================
    ``n_sites``                   int N
    ``lattice_shape``, ``pbc``    int ``(d,)``, bool ``(d,)``
    ``h0_sites_k{k}``             for each order k present: int ``(M_k, k)`` sites
    ``h0_coef_k{k}``              float ``(M_k,)`` couplings (units of J0)
    ``u_kind``                    the string ``"circuit"`` or ``"generator"``
    ``u_gates``, ``u_sites``      circuits: complex ``(G, 4, 4)``, int ``(G, 2)``, gate 0 first
    ``k_paulis``, ``k_coef``      generators: int ``(M, N)`` labels 0..3, float ``(M,)``
    ============================  =========================================================

    Args:
        path: file name; ``.npz`` is appended if missing.
        model: one realization (``batch_shape == ()``).

    Raises:
        ValueError: for a batched model.
        OSError: if ``path`` cannot be written (nothing partial is left behind).

    Example:
        >>> import jax.random as jr, os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "model")
        >>> save_model(path, sample_model(jr.key(0), 3))
        >>> sorted(np.load(path + ".npz").files)[:4]
        ['h0_coef_k1', 'h0_coef_k2', 'h0_coef_k3', 'h0_sites_k1']
    """
    if model.batch_shape:
        raise JaxmblError(f"save_model saves one realization; model has batch shape {model.batch_shape}")
    lat = model.lattice
    arrays = {
        "n_sites": np.int64(lat.n_sites),
        "lattice_shape": np.asarray(lat.shape, dtype=np.int64),
        "pbc": np.asarray(lat.pbc, dtype=bool),
    }
    for k, coef in zip(model.h0.orders, model.h0.coef):
        arrays[f"h0_sites_k{k}"] = model.h0.sites_array(k)
        arrays[f"h0_coef_k{k}"] = np.asarray(coef)
    if isinstance(model.U, Circuit):
        arrays["u_kind"] = np.str_("circuit")
        arrays["u_gates"] = np.asarray(model.U.gates)
        arrays["u_sites"] = np.asarray(model.U.sites, dtype=np.int64).reshape(-1, 2)
    else:
        arrays["u_kind"] = np.str_("generator")
        labels, coef = model.U.to_paulis()
        keep = coef != 0
        arrays["k_paulis"], arrays["k_coef"] = labels[keep], coef[keep]
    path = os.fspath(path)
    if not path.endswith(".npz"):
        path += ".npz"
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


@renamed_keywords(tol="series_tol")
def load_model(path, *, series_tol: float = 1e-12) -> SwingleModel:
    """Read a model written by :func:`save_model` (validating it).

    Args:
        path: the ``.npz`` file.
        series_tol: Chebyshev truncation error per unit norm for a generator ``U = exp(-iK)``
            (the file stores K, not the series). Deprecated alias: ``tol``.

    Returns:
        The :class:`SwingleModel` (one realization).

    Raises:
        JaxmblError: if the file is not a jaxmbl model file or is inconsistent (non-unitary gates,
            bad sites, ...).

    Example:
        >>> import jax.random as jr, os, tempfile
        >>> model = sample_model(jr.key(0), 4, unitary="generator")
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> save_model(path, model)
        >>> bool(jnp.allclose(energies(load_model(path)), energies(model)))
        True
    """
    with np.load(os.fspath(path), allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    try:
        lat = Lattice(tuple(data["lattice_shape"].tolist()), tuple(bool(b) for b in data["pbc"]))
        n_sites = int(data["n_sites"])
        kind = str(data["u_kind"])
    except KeyError as err:
        raise JaxmblError(f"{path}: not a jaxmbl model file (missing {err})") from err
    if n_sites != lat.n_sites:
        raise JaxmblError(f"{path}: n_sites={n_sites} does not match lattice_shape {lat.shape}")
    terms = []
    for key in sorted(k for k in data if k.startswith("h0_coef_k")):
        k = key[len("h0_coef_k") :]
        terms += list(zip(map(tuple, data[f"h0_sites_k{k}"].tolist()), data[key].tolist()))
    h0 = lbit_hamiltonian(n_sites, terms, dtype=data[sorted(k for k in data if k.startswith("h0_coef_k"))[0]].dtype)
    # lbit_hamiltonian sorts terms; the energies are order independent.
    if kind == "circuit":
        U = circuit(data["u_gates"], data["u_sites"], n_sites)
    elif kind == "generator":
        U = generator_unitary(data["k_paulis"], data["k_coef"], n_sites, series_tol=series_tol, dtype=h0.dtype)
    else:
        raise JaxmblError(f"{path}: u_kind must be 'circuit' or 'generator', got {kind!r}")
    return SwingleModel(lattice=lat, h0=h0, U=U)
