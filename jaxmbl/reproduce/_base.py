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

    Example:
        >>> import tempfile
        >>> ctx = ClaimContext(size="small", seed=0, out_dir=tempfile.mkdtemp(), progress=lambda f, m: None)
        >>> bool(jnp.all(jax.random.key_data(ctx.key(3)) == jax.random.key_data(ctx.key(3))))
        True
    """

    size: str
    seed: int
    out_dir: Path
    progress: Callable[[float, str], None]

    def key(self, tag: int):
        """The claim's PRNG key for ``tag``: ``fold_in(key(seed), tag)``.

        Args:
            tag: an integer that no other claim uses (claims use ``1000 * N + i``).

        Returns:
            A typed ``jax.random`` key.
        """
        import jax.random as jr

        return jr.fold_in(jr.key(self.seed), tag)


@dataclasses.dataclass
class Measurement:
    """One measured number with its error bar (standard error unless ``note`` says otherwise).

    Attributes:
        value: the measured number.
        error: its error bar, or ``None``.
        note: what the number is, or how the error was obtained.

    Example:
        >>> Measurement(0.3866, 0.0004, "mean <r~>").as_dict()
        {'value': 0.3866, 'error': 0.0004, 'note': 'mean <r~>'}
    """

    value: float
    error: float | None = None
    note: str = ""

    def as_dict(self):
        """The JSON form written into ``claims.json``.

        Returns:
            ``{"value": ..., "error": ..., "note": ...}`` (error and note only when set); a
            non-finite number becomes its string (``"nan"``, ``"inf"``).
        """
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
    """The verdict of one claim, rendered into report.md and claims.json.

    Attributes:
        id: the claim's id, e.g. ``"C1"``.
        title: one line, with the paper section.
        criterion: the pass criterion, written out for the report.
        passed: the verdict.
        measured: ``{quantity: Measurement or str}``, the rows of the report's table.
        figures: figure paths relative to the report (from :func:`save_figure`).
        details: free text shown under the criterion.
        parameters: sizes and settings used.
        seconds: wall time of the claim (filled in by :func:`reproduce`).

    Example:
        >>> res = ClaimResult.from_checks("C0", "demo", "x > 0", {"x positive": True}, {"x": Measurement(1.0)})
        >>> res.passed, res.as_dict()["measured"]
        (True, {'x': {'value': 1.0}, 'check: x positive': 'pass'})
    """

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
        """A result whose verdict is its checks: the claim passes when no check failed.

        Args:
            id: the claim's id.
            title: its title.
            criterion: its pass criterion.
            checks: a check's name to True (pass), False (FAIL) or None (does not apply here);
                each is also recorded in ``measured`` as ``"check: <name>"``.
            measured: ``{quantity: Measurement or str}``.
            **kwargs: the other fields of :class:`ClaimResult` (``figures``, ``details``, ...).

        Returns:
            The :class:`ClaimResult`.
        """
        recorded = {f"check: {k}": "n/a" if v is None else ("pass" if v else "FAIL") for k, v in checks.items()}
        passed = all(bool(v) for v in checks.values() if v is not None)  # bool(): numpy's False is not False
        return cls(id=id, title=title, criterion=criterion, passed=passed, measured={**measured, **recorded}, **kwargs)

    def as_dict(self):
        """The JSON form written into ``claims.json`` (``"pass"`` for the verdict, ``"name"`` for the title).

        Returns:
            A dict of plain JSON types.
        """
        return {
            "id": self.id,
            "name": self.title,
            "criterion": self.criterion,
            "pass": bool(self.passed),
            "measured": {k: (v.as_dict() if isinstance(v, Measurement) else v) for k, v in self.measured.items()},
            "figures": [f for f in self.figures if f],  # None: not drawn (no matplotlib)
            "details": self.details,
            "parameters": self.parameters,
            "seconds": round(float(self.seconds), 2),
        }


@dataclasses.dataclass(frozen=True)
class Claim:
    """A claim of the paper: ``run(ctx) -> ClaimResult``; ``weight`` is its rough relative cost.

    Every module ``jaxmbl/reproduce/cN_*.py`` defines one as ``CLAIM``; :func:`all_claims` lists them.

    Attributes:
        id: ``"C1"``, ``"C2"``, ...
        title: one line, with the paper section.
        run: the experiment, ``run(ctx: ClaimContext) -> ClaimResult``.
        weight: rough relative cost, for the progress bar.

    Example:
        >>> [c.id for c in jm.reproduce.all_claims()][:3]
        ['C1', 'C2', 'C3']
    """

    id: str
    title: str
    run: Callable[[ClaimContext], ClaimResult]
    weight: float = 1.0
