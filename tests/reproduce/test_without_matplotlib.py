"""Without matplotlib the claims still run and report; they only draw no figures."""

import os
import sys

import pytest

from jaxmbl.reproduce import ClaimContext, c4_local_quench
from jaxmbl.reproduce._report import _Unplotted, figure_class, save_figure


@pytest.fixture
def no_matplotlib(monkeypatch):
    # A None entry in sys.modules makes ``import matplotlib...`` raise ImportError, as if uninstalled.
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")] + ["matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)


def test_figure_class_is_matplotlibs_when_installed():
    pytest.importorskip("matplotlib")
    from matplotlib.figure import Figure

    assert figure_class() is Figure


def test_stand_in_absorbs_the_plotting_calls_and_writes_nothing(no_matplotlib, tmp_path):
    Figure = figure_class()
    assert Figure is _Unplotted
    fig = Figure(figsize=(4, 3))
    ax = fig.subplots(2, 2)
    line = ax[0, 1].plot([1, 2], [3, 4], label="x")
    ax[1, 0].axvline(1.0, color=ax[1, 0].lines[-1].get_color())
    ax[0, 0].inset_axes([0.5, 0.5, 0.4, 0.4]).xaxis.minorticks_off()
    assert line is fig  # one object stands for everything
    ctx = ClaimContext(size="tiny", seed=0, out_dir=str(tmp_path), progress=lambda f, m: None)
    assert save_figure(ctx, fig, "none.png") is None
    assert os.listdir(tmp_path) == []


@pytest.mark.slow  # 7-20 s; sibling tests keep the default run covering this (2026-12-07 durations)
def test_a_claim_runs_and_passes_without_matplotlib(no_matplotlib, tmp_path):
    ctx = ClaimContext(size="tiny", seed=0, out_dir=str(tmp_path), progress=lambda f, m: None)
    result = c4_local_quench.run(ctx)
    assert result.passed
    assert result.as_dict()["figures"] == []
    assert not (tmp_path / "figures").exists()
