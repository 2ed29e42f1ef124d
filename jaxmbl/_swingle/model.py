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
from jaxmbl._core.conventions import check_state_memory, complex_dtype
from jaxmbl._core.io import atomic_write_bytes
from jaxmbl._core.lattice import Lattice
from jaxmbl._swingle.lbits import LbitHamiltonian, lbit_energies, lbit_hamiltonian, sample_lbit_hamiltonian
from jaxmbl._swingle.unitaries import (
    Circuit,
    LocalUnitary,
    circuit,
    generator_unitary,
    random_circuit,
    random_generator,
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
    """

    lattice: Lattice
    h0: LbitHamiltonian
    U: LocalUnitary

    @property
    def n_sites(self) -> int:
        return self.lattice.n_sites

    @property
    def batch_shape(self) -> tuple:
        return self.h0.batch_shape

    @property
    def dtype(self):
        return self.h0.dtype


def sample_model(
    key,
    lattice: Lattice,
    *,
    xi: float = 1.0,
    J0: float = 1.0,
    unitary: str = "circuit",
    depth: int | None = None,
    strength: float = 0.5,
    max_order: int = 3,
    cutoff: float = 1e-12,
    tol: float = 1e-12,
    charge_conserving: bool = False,
    dtype=None,
) -> SwingleModel:
    """Sample one realization of the Swingle model; a pure function of ``key``.

    ``H0`` comes from :func:`sample_lbit_hamiltonian` (``xi``, ``J0``, ``max_order``, ``cutoff``);
    ``U`` from :func:`random_circuit` (``unitary="circuit"``: ``depth`` bond layers of gates
    ``exp(-i h)`` with ``||h|| <= strength``) or :func:`random_generator`
    (``unitary="generator"``: ``U = exp(-iK)``, each bond term of K with norm <= ``strength``,
    applied exactly to ``tol``). ``charge_conserving=True`` draws U from the U(1)-invariant
    bond operators, so H conserves the total charge (the variant of paper §II, end; see
    :func:`sample_u1_model`); H0 is the same for the same key either way.

    Example:
        >>> import jax, jax.random as jr
        >>> lat = Lattice((6,))
        >>> model = sample_model(jr.key(0), lat, xi=1.0)
        >>> batch = jax.vmap(lambda k: sample_model(k, lat))(jr.split(jr.key(1), 8))
        >>> batch.batch_shape
        (8,)
    """
    if not isinstance(lattice, Lattice):
        raise ValueError(f"lattice must be a jaxmbl.Lattice, got {type(lattice).__name__}")
    if unitary not in ("circuit", "generator"):
        raise ValueError(f"unitary must be 'circuit' or 'generator', got {unitary!r}")
    k_h0, k_u = jr.split(key)
    h0 = sample_lbit_hamiltonian(k_h0, lattice, xi=xi, J0=J0, max_order=max_order, cutoff=cutoff, dtype=dtype)
    if unitary == "circuit":
        U = random_circuit(
            k_u, lattice, depth=depth, strength=strength, charge_conserving=charge_conserving, dtype=dtype
        )
    else:
        U = random_generator(k_u, lattice, strength=strength, tol=tol, charge_conserving=charge_conserving, dtype=dtype)
    return SwingleModel(lattice=lattice, h0=h0, U=U)


def realization_keys(root, n: int, start: int = 0):
    """Keys ``fold_in(root, i)`` for realizations ``i = start .. start+n-1`` (batch-size independent)."""
    return jax.vmap(lambda i: jr.fold_in(root, i))(jnp.arange(start, start + n))


def sample_models(root, lattice: Lattice, n: int, *, start: int = 0, **kwargs) -> SwingleModel:
    """A batch of ``n`` realizations; realization i uses ``fold_in(root, i)``.

    Realization i is the same whatever ``n`` or ``start`` (so chunked runs agree bit for bit).
    """
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    return jax.vmap(lambda k: sample_model(k, lattice, **kwargs))(realization_keys(root, int(n), start))


def map_realizations(fn, model: SwingleModel, *args):
    """Apply ``fn(single_model, *args)`` to every realization of a (possibly batched) model.

    Output leaves get the model's batch shape in front. ``args`` are shared by all realizations.
    """
    if not isinstance(model, SwingleModel):
        raise ValueError(f"model must be a SwingleModel, got {type(model).__name__}")
    return map_batch(fn, model, model.batch_shape, *args)


_energies_core = jax.jit(lbit_energies)


def energies(model):
    """E(n) for all 2**N basis states: the whole spectrum of H (and of H0), in units of J0.

    Shape ``batch_shape + (2**N,)``, ordered by basis index n (not sorted). Accepts a
    :class:`SwingleModel` or an :class:`LbitHamiltonian`. O(N 2**N): no diagonalization.

    Example:
        >>> import jax.random as jr
        >>> E = energies(sample_model(jr.key(0), Lattice((4,))))
        >>> E.shape
        (16,)
    """
    h0 = model.h0 if isinstance(model, SwingleModel) else model
    if not isinstance(h0, LbitHamiltonian):
        raise ValueError(f"model must be a SwingleModel or LbitHamiltonian, got {type(model).__name__}")
    check_state_memory(h0.n_sites, max(1, int(np.prod(h0.batch_shape))), h0.dtype, what="energy vectors")
    return map_batch(_energies_core, h0, h0.batch_shape)


def _check_indices(idx, n_sites):
    if isinstance(idx, jax.core.Tracer):
        if not jnp.issubdtype(idx.dtype, jnp.integer):
            raise ValueError(f"idx must be integer basis indices, got dtype {idx.dtype}")
        return idx  # values unknown under a transform: out-of-range indices give zero vectors
    idx_np = np.asarray(idx)
    if idx_np.dtype.kind not in "iu":
        raise ValueError(f"idx must be integer basis indices, got dtype {idx_np.dtype}")
    if idx_np.size and (idx_np.min() < 0 or idx_np.max() >= 2**n_sites):
        raise ValueError(
            f"idx must lie in 0..2**N-1 = 0..{2**n_sites - 1}, got values in [{idx_np.min()}, {idx_np.max()}]"
        )
    return jnp.asarray(idx_np)


@jax.jit
def _eigenstates_core(model, idx):
    basis = jax.nn.one_hot(idx, 2**model.n_sites, dtype=complex_dtype(model.dtype))
    return jax.vmap(lambda v: model.U._kernel(v, False))(basis.reshape(-1, 2**model.n_sites)).reshape(basis.shape)


def eigenstates(model, idx):
    """Eigenstates ``U|n>`` of H for basis indices ``idx`` (int or int array), energies ``E(n)``.

    Shape ``batch_shape + idx.shape + (2**N,)``.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((4,)))
        >>> eigenstates(model, [0, 5]).shape
        (2, 16)
    """
    idx = _check_indices(idx, model.n_sites)
    check_state_memory(model.n_sites, max(1, idx.size) * max(1, int(np.prod(model.batch_shape))), model.dtype)
    return map_realizations(_eigenstates_core, model, idx)


def dense_hamiltonian(model):
    """The dense ``H = U diag(E) U^dagger`` (N <= 12), shape ``batch_shape + (2**N, 2**N)``."""
    if model.n_sites > 12:
        raise ValueError(f"dense_hamiltonian is for N <= 12, got n_sites={model.n_sites}")

    def one(m):
        Ud = m.U.dense()
        return (Ud * lbit_energies(m.h0)[None, :]) @ Ud.conj().T

    return map_realizations(one, model)


# --------------------------------------------------------------------------- files
def save_model(path, model: SwingleModel) -> None:
    """Write one realization to ``path`` (.npz, DESIGN.md §4), atomically (temp file + rename).

    The file is a pure function of plain arrays, so the instance can be rebuilt without jaxmbl:
    ``E(n) = sum_k sum_m h0_coef_k{k}[m] prod_{r in h0_sites_k{k}[m]} n_r`` and ``U`` from
    ``u_gates``/``u_sites`` (gate 0 first) or ``U = expm(-i sum_m k_coef[m] sigma^{k_paulis[m]})``.
    """
    if model.batch_shape:
        raise ValueError(f"save_model saves one realization; model has batch shape {model.batch_shape}")
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


def load_model(path, *, tol: float = 1e-12) -> SwingleModel:
    """Read a model written by :func:`save_model` (validating it)."""
    with np.load(os.fspath(path), allow_pickle=False) as f:
        data = {k: f[k] for k in f.files}
    try:
        lat = Lattice(tuple(data["lattice_shape"].tolist()), tuple(bool(b) for b in data["pbc"]))
        n_sites = int(data["n_sites"])
        kind = str(data["u_kind"])
    except KeyError as err:
        raise ValueError(f"{path}: not a jaxmbl model file (missing {err})") from err
    if n_sites != lat.n_sites:
        raise ValueError(f"{path}: n_sites={n_sites} does not match lattice_shape {lat.shape}")
    terms = []
    for key in sorted(k for k in data if k.startswith("h0_coef_k")):
        k = key[len("h0_coef_k") :]
        terms += list(zip(map(tuple, data[f"h0_sites_k{k}"].tolist()), data[key].tolist()))
    h0 = lbit_hamiltonian(n_sites, terms, dtype=data[sorted(k for k in data if k.startswith("h0_coef_k"))[0]].dtype)
    # lbit_hamiltonian sorts terms; the energies are order independent.
    if kind == "circuit":
        U = circuit(data["u_gates"], data["u_sites"], n_sites)
    elif kind == "generator":
        U = generator_unitary(data["k_paulis"], data["k_coef"], n_sites, tol=tol, dtype=h0.dtype)
    else:
        raise ValueError(f"{path}: u_kind must be 'circuit' or 'generator', got {kind!r}")
    return SwingleModel(lattice=lat, h0=h0, U=U)
