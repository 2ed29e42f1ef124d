"""Every claim of the paper as an experiment with a pass criterion (used by ``jaxmbl reproduce``).

Each module ``cN_*.py`` defines ``CLAIM: Claim``. Order here is the order of the report.
"""

from __future__ import annotations

import importlib

from jaxmbl.reproduce._base import Claim, ClaimContext, ClaimResult, Measurement

CLAIM_MODULES = (
    "c1_spectrum",
    "c2_area_law",
    "c3_transport",
    "c4_local_quench",
    "c5_global_quench",
    "c6_locality",
    "c7_u1",
    "c8_stability",
)
"""Module names (in ``jaxmbl.reproduce``) of the claims, in report order; each defines ``CLAIM``."""


def all_claims() -> list[Claim]:
    """Import every module of :data:`CLAIM_MODULES` and collect its ``CLAIM``.

    Returns:
        The list of :class:`Claim`, in report order.

    Example:
        >>> [c.id for c in all_claims()]
        ['C1', 'C2', 'C3', 'C4', 'C5', 'C6', 'C7', 'C8']
    """
    return [importlib.import_module(f"jaxmbl.reproduce.{m}").CLAIM for m in CLAIM_MODULES]


__all__ = ["Claim", "ClaimContext", "ClaimResult", "Measurement", "all_claims"]
