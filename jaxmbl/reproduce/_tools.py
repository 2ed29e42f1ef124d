"""Helpers the claims share that are not part of the flat public API (``jm.*``).

Claims are written as users of the library: they reach it through ``import jaxmbl as jm``, and
take from here only the few internal helpers the public namespace does not carry (least-squares
fits with their standard errors, the central spectral window and the individual gap ratios of a
spectrum, the Néel basis index, and the one-site kernel used to build local quench operators).
"""

from __future__ import annotations

from jaxmbl._analysis.fits import decay_length, line_fit, standard_error
from jaxmbl._analysis.spectra import gap_ratios
from jaxmbl._core.kernels import apply_one_site
from jaxmbl._hamiltonians.ed import central_window
from jaxmbl._swingle.states import neel_index

__all__ = [
    "apply_one_site",
    "central_window",
    "decay_length",
    "gap_ratios",
    "line_fit",
    "neel_index",
    "standard_error",
]
