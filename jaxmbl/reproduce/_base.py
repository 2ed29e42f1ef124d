"""The shared shape of a reproducible claim: what it measures, its criterion, and its verdict."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import numpy as np


@dataclasses.dataclass
class ClaimContext:
    """What a claim's ``run`` receives.

    Attributes:
        size: "small" (CPU, a few minutes in total), "medium", or "large" (one GPU).
        seed: root seed; a claim derives its keys with ``key(tag)`` so claims are independent.
        out_dir: folder for figures (write PNGs here, return their file names).
        progress: ``progress(fraction_done_of_this_claim, message)``; call it as work proceeds.
    """

    size: str
    seed: int
    out_dir: Path
    progress: Callable[[float, str], None]

    def key(self, tag: int):
        import jax.random as jr

        return jr.fold_in(jr.key(self.seed), tag)


@dataclasses.dataclass
class Measurement:
    """One measured number with its error bar (standard error unless ``note`` says otherwise)."""

    value: float
    error: float | None = None
    note: str = ""

    def as_dict(self):
        out = {"value": _num(self.value)}
        if self.error is not None:
            out["error"] = _num(self.error)
        if self.note:
            out["note"] = self.note
        return out


def _num(x):
    x = float(np.asarray(x))
    return x if np.isfinite(x) else str(x)


@dataclasses.dataclass
class ClaimResult:
    """The verdict of one claim, rendered into report.md and claims.json."""

    id: str
    title: str
    criterion: str
    passed: bool
    measured: dict
    figures: list = dataclasses.field(default_factory=list)
    details: str = ""
    parameters: dict = dataclasses.field(default_factory=dict)
    seconds: float = 0.0

    @classmethod
    def from_checks(cls, id: str, title: str, criterion: str, checks: dict, measured: dict, **kwargs) -> ClaimResult:
        """A result whose verdict is its checks: ``checks`` maps a check's name to True (pass),
        False (FAIL) or None (does not apply here); each is also recorded in ``measured`` as
        ``"check: <name>"``. The claim passes when no check failed."""
        recorded = {f"check: {k}": "n/a" if v is None else ("pass" if v else "FAIL") for k, v in checks.items()}
        passed = all(bool(v) for v in checks.values() if v is not None)  # bool(): numpy's False is not False
        return cls(id=id, title=title, criterion=criterion, passed=passed, measured={**measured, **recorded}, **kwargs)

    def as_dict(self):
        return {
            "id": self.id,
            "name": self.title,
            "criterion": self.criterion,
            "pass": bool(self.passed),
            "measured": {k: (v.as_dict() if isinstance(v, Measurement) else v) for k, v in self.measured.items()},
            "figures": list(self.figures),
            "details": self.details,
            "parameters": self.parameters,
            "seconds": round(float(self.seconds), 2),
        }


@dataclasses.dataclass(frozen=True)
class Claim:
    """A claim of the paper: ``run(ctx) -> ClaimResult``; ``weight`` is its rough relative cost."""

    id: str
    title: str
    run: Callable[[ClaimContext], ClaimResult]
    weight: float = 1.0
