r"""The conserved-charge variant of the model (paper §II, end): K and H0 commute with total Z.

H0 (eq. 2.1) is diagonal in the Z basis, so it always commutes with the charge
``Q = sum_r P_r``. The unitary must too: every bond term of K (or every gate of a circuit) is a
random element of the U(1)-invariant two-site operators (:data:`U1_BOND_BASIS`)

.. math::
    h = a\,(XX + YY) + b\,(XY - YX) + c\,ZI + d\,IZ + e\,ZZ ,

(hopping with a complex amplitude, fields and a density-density term), which commute with
``Z_1 + Z_2``. Then ``[U, Q] = 0``, ``H = U H0 U^dagger`` conserves Q, and its eigenstates
``U|n>`` have the charge of ``|n>``. Everything else (sampling of H0, exact evolution,
realization keys) is the plain model's: these functions are the ``charge_conserving=True``
forms of :func:`random_circuit`, :func:`random_generator`, :func:`sample_model` and
:func:`sample_models`, with the paper's ``U = exp(-iK)`` as the default unitary.

Example:
    >>> import jax.random as jr
    >>> model = sample_u1_model(jr.key(0), Lattice((6,)), xi=0.5)
    >>> psi = model.U.apply(neel_state(6))        # stays in the sector of 3 particles
    >>> float(jnp.abs(psi[np.array([bin(n).count("1") != 3 for n in range(64)])]).max()) < 1e-12
    True
"""

from __future__ import annotations

from jaxmbl._core.deprecation import renamed_keywords
from jaxmbl._core.lattice import Lattice
from jaxmbl._swingle.generator_unitary import GeneratorUnitary, random_generator
from jaxmbl._swingle.model import SwingleModel, sample_model, sample_models
from jaxmbl._swingle.unitaries import Circuit, random_circuit


def random_u1_circuit(key, lattice: Lattice | int, **kwargs) -> Circuit:
    """:func:`random_circuit` with charge-conserving gates (same keywords: depth, strength, dtype).

    Args:
        key: ``jax.random`` key.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        **kwargs: keywords of :func:`random_circuit` (``depth``, ``strength``, ``dtype``).

    Returns:
        A :class:`Circuit` that commutes with ``sum_r Z_r``.

    Example:
        >>> import jax.random as jr
        >>> len(random_u1_circuit(jr.key(0), Lattice((6,)), depth=4).sites)
        10
    """
    return random_circuit(key, lattice, charge_conserving=True, **kwargs)


def random_u1_generator(key, lattice: Lattice | int, **kwargs) -> GeneratorUnitary:
    """:func:`random_generator` with ``[K, sum_r Z_r] = 0`` (same keywords: strength, series_tol, dtype).

    Args:
        key: ``jax.random`` key.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        **kwargs: keywords of :func:`random_generator` (``strength``, ``series_tol``, ``dtype``).

    Returns:
        A :class:`GeneratorUnitary` whose K commutes with ``sum_r Z_r``.

    Example:
        >>> import jax.random as jr
        >>> U = random_u1_generator(jr.key(0), 4)
        >>> bool(U.error_bound() <= U.series_tol)
        True
    """
    return random_generator(key, lattice, charge_conserving=True, **kwargs)


def sample_u1_model(key, lattice: Lattice | int, *, unitary: str = "generator", **kwargs) -> SwingleModel:
    """One charge-conserving realization: :func:`sample_model` with ``charge_conserving=True``.

    H0 is the one :func:`sample_model` draws from the same key; U defaults to the paper's
    ``exp(-iK)`` (``unitary="generator"``).

    Args:
        key: ``jax.random`` key.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        unitary: ``"generator"`` (default) or ``"circuit"``.
        **kwargs: the other keywords of :func:`sample_model`.

    Returns:
        A :class:`SwingleModel` that conserves ``sum_r Z_r``.

    Example:
        >>> import jax.random as jr
        >>> sample_u1_model(jr.key(0), 4).n_sites
        4
    """
    return sample_model(key, lattice, unitary=unitary, charge_conserving=True, **kwargs)


@renamed_keywords(root="key")
def sample_u1_models(key, lattice: Lattice | int, n: int, *, unitary: str = "generator", **kwargs) -> SwingleModel:
    """A batch of ``n`` charge-conserving realizations; realization i uses ``fold_in(key, i)``.

    Args:
        key: the root ``jax.random`` key. Deprecated alias: ``root``.
        lattice: a :class:`Lattice`, or an int N for the open chain of N sites.
        n: number of realizations (>= 1).
        unitary: ``"generator"`` (default) or ``"circuit"``.
        **kwargs: the other keywords of :func:`sample_model`.

    Returns:
        A :class:`SwingleModel` with ``batch_shape == (n,)``.

    Example:
        >>> import jax.random as jr
        >>> sample_u1_models(jr.key(0), 4, 3).batch_shape
        (3,)
    """
    return sample_models(key, lattice, n, unitary=unitary, charge_conserving=True, **kwargs)
