"""Hypercubic lattices in d = 1, 2, 3 dimensions, and regions on them."""

from __future__ import annotations

import dataclasses
import itertools
from functools import cached_property

import numpy as np

from jaxmbl._core.errors import JaxmblError


def _as_bool_tuple(pbc, d):
    if isinstance(pbc, (bool, np.bool_)):
        return (bool(pbc),) * d
    pbc = tuple(bool(p) for p in pbc)
    if len(pbc) != d:
        raise JaxmblError(f"pbc must be a bool or have one entry per axis ({d}), got {pbc}")
    return pbc


@dataclasses.dataclass(frozen=True, eq=True)
class Lattice:
    """A hypercubic lattice of shape ``(L,)``, ``(Lx, Ly)`` or ``(Lx, Ly, Lz)``.

    The lattice is pure static structure (hashable, no arrays), so it can sit in the
    static part of every pytree. Sites are numbered row-major in their coordinates.

    Args:
        shape: lengths per axis, each >= 1; the product is the number of sites N.
        pbc: periodic boundary conditions, one bool or one per axis (default open).

    Example:
        >>> lat = Lattice((4, 3))
        >>> lat.n_sites, lat.coords[5].tolist(), len(lat.bonds)
        (12, [1, 2], 17)
        >>> lat.boundary_size(lat.rectangle((0, 0), (2, 3)))
        3
    """

    shape: tuple
    pbc: tuple = False

    def __post_init__(self):
        try:
            shape = tuple(int(s) for s in np.atleast_1d(self.shape))
        except (TypeError, ValueError) as err:
            raise JaxmblError(f"shape must be a tuple of ints, got {self.shape!r}") from err
        if not 1 <= len(shape) <= 3:
            raise JaxmblError(f"shape must have 1, 2 or 3 axes, got {shape}")
        if any(s < 1 for s in shape):
            raise JaxmblError(f"shape entries must be >= 1 (N >= 1), got {shape}")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "pbc", _as_bool_tuple(self.pbc, len(shape)))

    # ------------------------------------------------------------------ geometry
    @property
    def dim(self) -> int:
        """Number of axes d (1, 2 or 3)."""
        return len(self.shape)

    @property
    def n_sites(self) -> int:
        """Number of sites N, the product of the shape."""
        return int(np.prod(self.shape))

    @cached_property
    def coords(self) -> np.ndarray:
        """Integer coordinates of every site, shape ``(N, d)``, row-major order."""
        return np.array(list(itertools.product(*[range(s) for s in self.shape])), dtype=np.int64).reshape(
            self.n_sites, self.dim
        )

    def site(self, coord) -> int:
        """Site index of an integer coordinate (wrapped on periodic axes).

        Args:
            coord: d integers, one per axis.

        Returns:
            The site index in ``0..N-1`` (row-major).

        Raises:
            ValueError: for a wrong number of entries or a coordinate outside an open axis.
        """
        coord = [int(c) for c in coord]
        if len(coord) != self.dim:
            raise JaxmblError(f"coord must have {self.dim} entries, got {coord}")
        for ax, (c, L, p) in enumerate(zip(coord, self.shape, self.pbc)):
            if p:
                coord[ax] = c % L
            elif not 0 <= c < L:
                raise JaxmblError(f"coord {coord} is outside the open lattice of shape {self.shape}")
        return int(np.ravel_multi_index(coord, self.shape))

    def displacement(self, i: int, j: int) -> np.ndarray:
        """Shortest displacement vector from site i to site j (minimum image on periodic axes).

        Args:
            i: the first site.
            j: the second site.

        Returns:
            int array ``(d,)``, ``coord(j) - coord(i)`` in lattice units.
        """
        d = self.coords[j] - self.coords[i]
        for ax, (L, p) in enumerate(zip(self.shape, self.pbc)):
            if p:
                d[ax] = (d[ax] + L // 2) % L - L // 2
        return d

    @cached_property
    def distances(self) -> np.ndarray:
        """Euclidean distances between all pairs of sites, shape ``(N, N)``, in lattice units."""
        d = self.coords[None, :, :] - self.coords[:, None, :]
        for ax, (L, p) in enumerate(zip(self.shape, self.pbc)):
            if p:
                d[..., ax] = (d[..., ax] + L // 2) % L - L // 2
        return np.sqrt((d.astype(np.float64) ** 2).sum(-1))

    def distance(self, i: int, j: int) -> float:
        """Euclidean distance between sites i and j (minimum image), in lattice units.

        Args:
            i: the first site.
            j: the second site.

        Returns:
            ``distances[i, j]`` as a float.
        """
        return float(self.distances[i, j])

    @cached_property
    def bonds(self) -> tuple:
        """Nearest-neighbour bonds ``(i, j)`` with ``i < j``, sorted, without duplicates."""
        out = set()
        for ax, (L, p) in enumerate(zip(self.shape, self.pbc)):
            for c in self.coords:
                nxt = c.copy()
                nxt[ax] += 1
                if nxt[ax] >= L:
                    if not p or L <= 2:
                        continue  # L <= 2 would double the open bond
                    nxt[ax] = 0
                i, j = self.site(c), self.site(nxt)
                out.add((min(i, j), max(i, j)))
        return tuple(sorted(out))

    @cached_property
    def bond_layers(self) -> tuple:
        """Bonds grouped into layers of disjoint bonds (brickwork in 1D; 2d layers per axis pair).

        Each layer is a tuple of bonds; concatenated, the layers contain every bond once.
        """
        layers = []
        for ax, (L, p) in enumerate(zip(self.shape, self.pbc)):
            by_parity = {0: [], 1: [], 2: []}
            for c in self.coords:
                if c[ax] + 1 >= L and not (p and L > 2):
                    continue
                nxt = c.copy()
                nxt[ax] = (c[ax] + 1) % L
                # A wrapping bond on an odd periodic ring would clash with both parities.
                parity = 2 if (c[ax] + 1 == L and L % 2 == 1) else int(c[ax] % 2)
                i, j = self.site(c), self.site(nxt)
                by_parity[parity].append((min(i, j), max(i, j)))
            layers.extend(tuple(sorted(by_parity[k])) for k in (0, 1, 2) if by_parity[k])
        return tuple(layers)

    # ------------------------------------------------------------------ regions
    def region(self, sites) -> tuple:
        """Validate a region (any collection of distinct sites) and return it as a sorted tuple.

        Args:
            sites: distinct sites in ``0..N-1``.

        Returns:
            The sorted tuple of sites.

        Raises:
            ValueError: as :func:`validate_region`.
        """
        return validate_region(sites, self.n_sites)

    def block(self, start: int, length: int) -> tuple:
        """A contiguous block of ``length`` sites along a 1D lattice (wrapping if periodic).

        Args:
            start: first site.
            length: number of sites, ``0 <= length <= L``.

        Returns:
            The sorted tuple of sites.

        Raises:
            ValueError: on a lattice with more than one axis, or for a bad start or length.
        """
        if self.dim != 1:
            raise JaxmblError(f"block is for 1D lattices; use rectangle for shape {self.shape}")
        return self.rectangle((start,), (length,))

    def rectangle(self, origin, extent) -> tuple:
        """The sites of the box ``origin <= coord < origin + extent`` (wrapping on periodic axes).

        Args:
            origin: d integers, the corner of the box.
            extent: d integers, the box's length along each axis, ``0 <= extent <= shape``.

        Returns:
            The sorted tuple of sites.

        Raises:
            ValueError: for a wrong number of entries, an extent outside the lattice, or a box that
                leaves an open axis.
        """
        origin, extent = tuple(int(o) for o in origin), tuple(int(e) for e in extent)
        if len(origin) != self.dim or len(extent) != self.dim:
            raise JaxmblError(f"origin and extent must have {self.dim} entries, got {origin}, {extent}")
        if any(e < 0 or e > L for e, L in zip(extent, self.shape)):
            raise JaxmblError(f"extent {extent} must lie between 0 and the lattice shape {self.shape}")
        ranges = [range(o, o + e) for o, e in zip(origin, extent)]
        return self.region([self.site(c) for c in itertools.product(*ranges)])

    def boundary_bonds(self, region) -> tuple:
        """The bonds with exactly one end in ``region``.

        Args:
            region: distinct sites in ``0..N-1``.

        Returns:
            Tuple of nearest-neighbour bonds ``(i, j)``, ``i < j``, that the region cuts.
        """
        inside = np.zeros(self.n_sites, dtype=bool)
        inside[list(self.region(region))] = True
        return tuple(b for b in self.bonds if inside[b[0]] != inside[b[1]])

    def boundary_size(self, region) -> int:
        """|dA|: the number of nearest-neighbour bonds cut by the region (the area of eq. 3.7).

        Args:
            region: distinct sites in ``0..N-1``.

        Returns:
            The number of bonds with exactly one end in the region.
        """
        return len(self.boundary_bonds(region))


def as_lattice(lattice, name: str = "lattice") -> Lattice:
    """A :class:`Lattice` from a lattice or an int chain length ``L`` (an open chain ``Lattice((L,))``).

    Every public function that takes a lattice accepts either form through this helper.

    Args:
        lattice: a :class:`Lattice`, or a positive int N for the open chain of N sites.
        name: the argument's name, for the error message.

    Returns:
        The :class:`Lattice` (the same object when one was given).

    Raises:
        TypeError: if ``lattice`` is neither a :class:`Lattice` nor an integer.
        JaxmblError: for an integer below 1.

    Example:
        >>> as_lattice(6) == Lattice((6,)), as_lattice(Lattice((2, 3))).shape
        (True, (2, 3))
    """
    if isinstance(lattice, Lattice):
        return lattice
    if isinstance(lattice, (int, np.integer)) and not isinstance(lattice, (bool, np.bool_)):
        return Lattice((int(lattice),))
    raise TypeError(f"{name} must be a jaxmbl.Lattice or an int chain length, got {type(lattice).__name__}")


def validate_region(region, n_sites: int) -> tuple:
    """Check that ``region`` is a collection of distinct sites in ``0..N-1``; return it sorted.

    Every function that takes a region accepts any collection (list, tuple, range, array) in any
    order; regions need not be contiguous.

    Args:
        region: sites, any iterable of integers.
        n_sites: N.

    Returns:
        The sorted tuple of distinct sites (hashable, usable as a static argument).

    Raises:
        ValueError: for non-integer, out-of-range or duplicate sites.

    Example:
        >>> validate_region(range(3, 0, -1), 4), validate_region(np.array([2, 0]), 4)
        ((1, 2, 3), (0, 2))
    """
    try:
        sites = [int(r) for r in np.asarray(region, dtype=np.int64).ravel()]
    except (TypeError, ValueError) as err:
        raise JaxmblError(f"region must be a collection of integer sites, got {region!r}") from err
    if np.asarray(region).dtype.kind == "f" and not np.all(np.mod(np.asarray(region), 1) == 0):
        raise JaxmblError(f"region must contain integer sites, got {region!r}")
    bad = [r for r in sites if not 0 <= r < n_sites]
    if bad:
        raise JaxmblError(f"region has sites out of range 0..{n_sites - 1}: {bad}")
    if len(set(sites)) != len(sites):
        dup = sorted({r for r in sites if sites.count(r) > 1})
        raise JaxmblError(f"region has duplicate sites: {dup}")
    return tuple(sorted(sites))
