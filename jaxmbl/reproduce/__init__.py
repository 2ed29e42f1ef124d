"""Every claim of the paper as an experiment with a figure and a pass criterion.

:func:`reproduce` runs the claims (``jaxmbl reproduce`` on the command line) and writes a report;
each claim is a module ``cN_*.py`` of this package that defines ``CLAIM``, a :class:`Claim`.
Claims receive a :class:`ClaimContext` (size, seed, output folder) and return a
:class:`ClaimResult` made of :class:`Measurement` rows.
"""

from jaxmbl.reproduce._base import Claim as Claim
from jaxmbl.reproduce._base import ClaimContext as ClaimContext
from jaxmbl.reproduce._base import ClaimResult as ClaimResult
from jaxmbl.reproduce._base import Measurement as Measurement
from jaxmbl.reproduce._claims import CLAIM_MODULES as CLAIM_MODULES
from jaxmbl.reproduce._claims import all_claims as all_claims
from jaxmbl.reproduce._report import SIZES as SIZES
from jaxmbl.reproduce._report import figure_class as figure_class
from jaxmbl.reproduce._report import render_report as render_report
from jaxmbl.reproduce._report import reproduce as reproduce
from jaxmbl.reproduce._report import save_figure as save_figure

__all__ = [
    "CLAIM_MODULES",
    "SIZES",
    "Claim",
    "ClaimContext",
    "ClaimResult",
    "Measurement",
    "all_claims",
    "render_report",
    "reproduce",
    "figure_class",
    "save_figure",
]
