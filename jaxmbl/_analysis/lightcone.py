r"""Exact entanglement of every eigenstate of a circuit model from its backward light cone.

For a circuit ``U = u_{G-1} ... u_0`` and a bipartition A|B, call a gate *relevant* if it
crosses the cut (one site in A, one in B) or precedes, on a shared site, a later relevant
gate. Scanning the gates from last to first this is one pass::

    active = {}                                # sites with a relevant gate in their future
    for g = G-1 .. 0:  relevant[g] = crosses(g) or (sites(g) & active);  if relevant: active |= sites(g)

No irrelevant gate precedes a relevant gate on a shared site, so all irrelevant gates commute
to the end, where (none of them crossing) they form ``U_A (x) U_B``, which leaves the Schmidt
spectrum unchanged. The relevant gates split into connected *components* acting on disjoint
site sets ``C_k`` (for a depth-D brickwork chain, ``|C_k| ~ 2D`` sites per cut), and sites in
no component keep their bit. Hence, exactly,

.. math:: S_\alpha\big(A,\ U|n\rangle\big) = \sum_k s_k(n|_{C_k}),

where ``s_k(m)`` is the entropy of ``U_k|m>`` across ``(A & C_k) | (B & C_k)`` for the
``2**|C_k|`` configurations m of the cone bits. The entropies of all ``2**N`` eigenstates of a
chain of N = 1000 are thereby tables of ``2**|C_k|`` numbers per cut: the distribution over
eigenstates is that of a sum of independent, uniformly distributed table entries (paper
§III.A; the light cone is the circuit version of the Lieb-Robinson argument of eq. 3.3-3.7).

Example:
    >>> import jax.random as jr
    >>> U = random_circuit(jr.key(0), Lattice((200,)), depth=4, strength=1.0)
    >>> stats = lightcone_entropy_stats(U, tuple(range(100)))   # all 2**200 eigenstates
    >>> sorted(stats)
    ['max', 'mean', 'min', 'std']
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxmbl._analysis.entanglement import entropy
from jaxmbl._core.conventions import basis_bits, complex_dtype
from jaxmbl._core.errors import JaxmblError
from jaxmbl._core.lattice import validate_region
from jaxmbl._core.limits import MAX_CONE_SITES
from jaxmbl._swingle.model import SwingleModel, eigenstates
from jaxmbl._swingle.unitaries import Circuit

# Amplitudes held at once per lax.map step when tabulating a component.
_CHUNK_AMPLITUDES = 2**22


@dataclasses.dataclass(frozen=True)
class ConeComponent:
    """One connected piece of the backward light cone of a cut.

    Attributes:
        sites: global sites ``C_k`` (sorted; local bit j is ``sites[j]``, most significant first).
        gates: global indices of its relevant gates, in application order.
        local_pairs: the gates' site pairs in local indices ``0..|C_k|-1``.
        local_region: the sites of ``A & C_k`` in local indices.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((8,)), depth=2)
        >>> comp = light_cone(U, range(4)).components[0]
        >>> comp.sites, comp.local_region
        ((2, 3, 4, 5), (0, 1))
    """

    sites: tuple
    gates: tuple
    local_pairs: tuple
    local_region: tuple

    @property
    def signature(self) -> tuple:
        """Translation-invariant shape: components with equal signatures share one compiled kernel.

        Returns:
            ``(|C_k|, local_pairs, local_region)``, hashable.
        """
        return (len(self.sites), self.local_pairs, self.local_region)


@dataclasses.dataclass(frozen=True)
class LightCone:
    """The backward light cone of region A's boundary in a circuit (static structure only).

    Attributes:
        n_sites: N.
        region: the sorted sites of A.
        components: tuple of :class:`ConeComponent`; empty if no gate crosses the cut.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((8,)), depth=2)
        >>> cone = light_cone(U, range(4))
        >>> cone.cone_sites, cone.max_component_sites
        ((2, 3, 4, 5), 4)
    """

    n_sites: int
    region: tuple
    components: tuple

    @property
    def cone_sites(self) -> tuple:
        """All sites of the cone (the sorted union of the components' sites)."""
        return tuple(sorted(s for c in self.components for s in c.sites))

    @property
    def max_component_sites(self) -> int:
        """Number of sites of the largest component (0 if no gate crosses the cut)."""
        return max((len(c.sites) for c in self.components), default=0)


def _circuit_structure(U):
    if not isinstance(U, Circuit):
        raise TypeError(f"U must be a jaxmbl.Circuit (the light cone needs discrete gates), got {type(U).__name__}")
    return U.sites, U.n_sites


@functools.lru_cache(maxsize=256)
def _light_cone(pairs: tuple, n_sites: int, region: tuple) -> LightCone:
    inside = np.zeros(n_sites, dtype=bool)
    inside[list(region)] = True
    active = np.zeros(n_sites, dtype=bool)
    relevant = []
    for g in range(len(pairs) - 1, -1, -1):
        a, b = pairs[g]
        if inside[a] != inside[b] or active[a] or active[b]:
            relevant.append(g)
            active[a] = active[b] = True
    relevant.reverse()
    # Union-find over the sites of relevant gates: components never share a site.
    parent = list(range(n_sites))

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for g in relevant:
        a, b = pairs[g]
        parent[find(a)] = find(b)
    groups: dict[int, list] = {}
    for g in relevant:
        groups.setdefault(find(pairs[g][0]), []).append(g)
    components = []
    for gates in groups.values():
        sites = tuple(sorted({s for g in gates for s in pairs[g]}))
        local = {s: j for j, s in enumerate(sites)}
        components.append(
            ConeComponent(
                sites=sites,
                gates=tuple(gates),
                local_pairs=tuple((local[pairs[g][0]], local[pairs[g][1]]) for g in gates),
                local_region=tuple(local[s] for s in sites if inside[s]),
            )
        )
    components.sort(key=lambda c: c.sites[0])
    return LightCone(n_sites=n_sites, region=region, components=tuple(components))


def light_cone(U, region) -> LightCone:
    """The backward light cone of the boundary of ``region`` in circuit ``U`` (see module doc).

    Args:
        U: a :class:`Circuit` (single or batched: only its static layout is used).
        region: sites of A (any set).

    Returns:
        A :class:`LightCone` whose components carry the relevant gates and cone sites.

    Raises:
        ValueError: if ``U`` is not a :class:`Circuit` or for a bad ``region``.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((40,)), depth=4)
        >>> [len(c.sites) for c in light_cone(U, range(10, 30)).components]   # two cuts
        [8, 8]
    """
    pairs, n_sites = _circuit_structure(U)
    return _light_cone(tuple(pairs), int(n_sites), validate_region(region, n_sites))


@functools.partial(jax.jit, static_argnames=("local_pairs", "local_region", "n_local", "alpha", "batch_size"))
def _table_core(gates, local_pairs, local_region, n_local, alpha, batch_size):
    """Entropy table of one component for a stack of realizations: gates ``(R, G_k, 4, 4)`` -> ``(R, 2**c)``."""
    basis = jnp.eye(2**n_local, dtype=complex_dtype(gates.real.dtype))

    def one(g):
        Uk = Circuit(gates=g, sites=local_pairs, n_sites=n_local)
        psi = jax.vmap(Uk.mv)(basis)  # U_k|m> for every cone configuration m
        return entropy(psi, local_region, alpha)

    return lax.map(one, gates, batch_size=batch_size)


def cone_entropies(U, region, alpha=1) -> tuple:
    """Entropy tables ``s_k(m)`` of every cone component, for all its bit configurations m.

    Components of equal :attr:`ConeComponent.signature` (e.g. all bulk cuts of one parity in a
    brickwork chain) share one compiled kernel, so regions with hundreds of cuts stay cheap.

    Args:
        U: a :class:`Circuit`, single or batched (leading ``batch_shape``).
        region: sites of A.
        alpha: Rényi index (1 = von Neumann), static.

    Returns:
        ``(cone, tables)``: the :class:`LightCone` and a tuple with one array per component of
        shape ``batch_shape + (2**|C_k|,)``; entry m is the entropy (nats) of ``U_k|m>``, m's
        most significant bit being the smallest site of ``C_k``.

    Raises:
        ValueError: if U is not a Circuit, for a bad region, or if a component has more than
            ``MAX_CONE_SITES`` sites (lower the depth or use state vectors).

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((8,)), depth=2)
        >>> cone, tables = cone_entropies(U, range(4))
        >>> [t.shape for t in tables]          # one component of 4 sites: 2**4 configurations
        [(16,)]
    """
    cone = light_cone(U, region)
    if cone.max_component_sites > MAX_CONE_SITES:
        raise JaxmblError(
            f"region: the light cone of its boundary has a component of {cone.max_component_sites} sites, more than "
            f"MAX_CONE_SITES={MAX_CONE_SITES} (4**c amplitudes); use a shallower circuit or state vectors"
        )
    batch = U.batch_shape
    # Gathering each component's gates on the host avoids one compiled gather per index shape;
    # under jit/vmap (traced gates) the gather is part of the traced program instead.
    xp = jnp if isinstance(U.gates, jax.core.Tracer) else np
    gates = xp.asarray(U.gates).reshape((int(np.prod(batch)),) + U.gates.shape[len(batch) :])
    tables = []
    for comp in cone.components:
        n_local, local_pairs, local_region = comp.signature
        size = max(1, _CHUNK_AMPLITUDES // 4**n_local)
        out = _table_core(gates[:, np.array(comp.gates)], local_pairs, local_region, n_local, float(alpha), size)
        tables.append(out.reshape(batch + (2**n_local,)))
    return cone, tuple(tables)


def lightcone_entropies(U, region, bits, alpha=1):
    """Entropies of the eigenstates ``U|n>`` for l-bit configurations ``bits`` (any N).

    Args:
        U: a :class:`Circuit`, single or batched.
        region: sites of A.
        bits: int occupations ``(..., N)`` with entries 0/1 (``n_r``; e.g. ``basis_bits(N)``).
        alpha: Rényi index.

    Returns:
        ``batch_shape + bits.shape[:-1]`` entropies in nats, exactly equal (to round-off) to
        ``entropy(U.apply(basis_state(N, n)), region)``.

    Raises:
        ValueError: for ``bits`` that are not 0/1 integers of last axis N, or as :func:`cone_entropies`.

    Example:
        >>> import jax.random as jr, numpy as np
        >>> U = random_circuit(jr.key(0), Lattice((1000,)), depth=4)
        >>> bits = np.random.default_rng(0).integers(0, 2, size=(5, 1000))
        >>> lightcone_entropies(U, range(500), bits).shape
        (5,)
    """
    bits = np.asarray(bits)
    if bits.ndim < 1 or bits.shape[-1] != U.n_sites or bits.dtype.kind not in "iub":
        raise JaxmblError(f"bits must be an integer array (..., N={U.n_sites}) of 0/1, got {bits.dtype} {bits.shape}")
    if bits.size and (bits.min() < 0 or bits.max() > 1):
        raise JaxmblError("bits must contain only 0 and 1")
    cone, tables = cone_entropies(U, region, alpha)
    total = jnp.zeros(U.batch_shape + bits.shape[:-1], dtype=U.gates.real.dtype)
    for comp, table in zip(cone.components, tables):
        weights = 2 ** np.arange(len(comp.sites) - 1, -1, -1)
        local = (bits[..., list(comp.sites)].astype(np.int64) * weights).sum(-1)
        total = total + table[..., local]
    return total


def lightcone_entropy_stats(U, region, alpha=1) -> dict:
    """Mean, maximum, minimum and standard deviation of ``S(A)`` over ALL ``2**N`` eigenstates.

    The component entropies are independent and uniformly distributed over their cone
    configurations, so ``mean = sum_k mean(s_k)``, ``max = sum_k max(s_k)``, ``min = sum_k
    min(s_k)``, ``var = sum_k var(s_k)``: exact, at cost ``sum_k 4**|C_k|``, for any N.

    Args:
        U: a :class:`Circuit`, single or batched (leading ``batch_shape``).
        region: sites of A.
        alpha: Rényi index (1 = von Neumann), static.

    Returns:
        dict of arrays of shape ``batch_shape``: "mean", "max", "min", "std" (nats).

    Raises:
        ValueError: as :func:`cone_entropies`.

    Example:
        >>> import jax.random as jr
        >>> U = random_circuit(jr.key(0), Lattice((8,)), depth=2)
        >>> stats = lightcone_entropy_stats(U, range(4))
        >>> bool(stats["min"] <= stats["mean"] <= stats["max"]), stats["std"].shape
        (True, ())
    """
    _, tables = cone_entropies(U, region, alpha)
    zero = jnp.zeros(U.batch_shape, dtype=U.gates.real.dtype)
    mean = sum((t.mean(-1) for t in tables), zero)
    var = sum((t.var(-1) for t in tables), zero)
    return {
        "mean": mean,
        "max": sum((t.max(-1) for t in tables), zero),
        "min": sum((t.min(-1) for t in tables), zero),
        "std": jnp.sqrt(var),
    }


def statevector_entropies(model, regions, *, max_amplitudes: int | None = None):
    """``S(A)`` of every eigenstate ``U|n>`` from state vectors (any U; the reference method).

    Eigenstates are built a chunk at a time with the batched :func:`eigenstates` (vmapped over
    realizations), so at most ~``max_amplitudes`` amplitudes are alive whatever N (default
    2**22 on CPU, 2**26 on an accelerator, where larger batches pay).

    Args:
        model: a :class:`SwingleModel`, single or batched (leading ``batch_shape``).
        regions: a list of regions (site collections).
        max_amplitudes: bound on the amplitudes held at once; ``None`` picks it per backend.

    Returns:
        ``batch_shape + (2**N, len(regions))`` entropies (nats), a jax array; entry ``[..., n, j]``
        is the entropy of region j in the eigenstate ``U|n>`` (regions are the last axis).

    Raises:
        ValueError: for a bad region.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((6,)), depth=2)
        >>> statevector_entropies(model, [range(3), [0, 5]]).shape
        (64, 2)
    """
    regions = [validate_region(r, model.n_sites) for r in regions]
    if max_amplitudes is None:
        max_amplitudes = _CHUNK_AMPLITUDES if jax.default_backend() == "cpu" else 16 * _CHUNK_AMPLITUDES
    batch, n = model.batch_shape, model.n_sites
    R = int(np.prod(batch)) if batch else 1
    chunk = int(min(2**n, max(1, max_amplitudes // (R * 2**n))))
    out = np.empty(batch + (2**n, len(regions)))
    for start in range(0, 2**n, chunk):
        psi = eigenstates(model, np.arange(start, min(start + chunk, 2**n)))
        for j, region in enumerate(regions):
            out[..., start : start + chunk, j] = np.asarray(entropy(psi, region))
    return jnp.asarray(out)


def eigenstate_entropies(model, regions, *, method: str = "auto"):
    """``S(A)`` of ALL ``2**N`` eigenstates ``U|n>`` for each region, exactly.

    Args:
        model: a :class:`SwingleModel`, single or batched.
        regions: a list of regions (site collections).
        method: "lightcone" (U must be a :class:`Circuit`), "statevector" (any U), or "auto":
            the light cone for every region whose cone components have at most
            ``min(12, N - 2)`` sites when U is a circuit (then it is at least 16x cheaper),
            state vectors otherwise. Both give the same numbers to round-off.

    Returns:
        ``batch_shape + (2**N, len(regions))`` entropies (nats), a jax array; entry ``[..., n, j]``
        is the entropy of region j in the eigenstate ``U|n>`` (regions are the last axis).

    Raises:
        ValueError: if ``model`` is not a :class:`SwingleModel`, for an unknown ``method``,
            ``method="lightcone"`` with a generator U, or a bad region.

    Example:
        >>> import jax.random as jr
        >>> model = sample_model(jr.key(0), Lattice((8,)), depth=4)
        >>> S = eigenstate_entropies(model, [range(4), [0, 3, 5]])
        >>> S.shape
        (256, 2)
    """
    if not isinstance(model, SwingleModel):
        raise TypeError(f"model must be a SwingleModel, got {type(model).__name__}")
    if method not in ("auto", "lightcone", "statevector"):
        raise JaxmblError(f"method must be 'auto', 'lightcone' or 'statevector', got {method!r}")
    regions = [validate_region(r, model.n_sites) for r in regions]
    circuit = isinstance(model.U, Circuit)
    if method == "lightcone" and not circuit:
        raise JaxmblError(f"method='lightcone' needs a circuit U, got {type(model.U).__name__}")
    small_cone = min(12, model.n_sites - 2)
    use_cone = [
        method == "lightcone"
        or (method == "auto" and circuit and light_cone(model.U, r).max_component_sites <= small_cone)
        for r in regions
    ]
    out = np.empty(model.batch_shape + (2**model.n_sites, len(regions)))
    dense = [j for j, c in enumerate(use_cone) if not c]
    if dense:
        out[..., dense] = np.asarray(statevector_entropies(model, [regions[j] for j in dense]))
    bits = basis_bits(model.n_sites) if any(use_cone) else None
    for j in (j for j, c in enumerate(use_cone) if c):
        out[..., j] = np.asarray(lightcone_entropies(model.U, regions[j], bits))
    return jnp.asarray(out)
