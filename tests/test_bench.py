"""``jaxmbl bench --suite gpu`` end to end at reduced sizes on CPU, and its memory refusal."""

import csv

import numpy as np
import pytest

from jaxmbl import _bench, _cli
from jaxmbl._gpu_suite import SECTIONS, run_gpu_suite


@pytest.mark.slow
def test_gpu_suite_runs_end_to_end_on_cpu(tmp_path):
    # Every section but `reproduce` (minutes of claims) at the smallest sizes; the rows land in the CSV.
    sections = tuple(s for s in SECTIONS if s != "reproduce")
    lines = []
    path = tmp_path / "gpu.csv"
    rows = _bench.run_gpu(path, sections=sections, reduce=18, times=2, realizations=32, n_sizes=1, echo=lines.append)
    got = {r["section"] for r in rows}
    assert got == set(sections)
    for r in rows:
        assert np.isfinite(r["seconds"]) and r["seconds"] > 0, r
        assert r["peak_mib"] > 0
    quench = next(r for r in rows if r["section"] == "quench")
    assert quench["N"] == 6 and "S(1e12)=" in quench["note"]
    assert next(r for r in rows if r["section"] == "copy")["ratio"] == 1.0
    dis = [r for r in rows if r["section"] == "disorder"]
    assert [r["N"] for r in dis] == [4, 8]
    r_mean = float(dis[0]["note"].split("<r>=")[1].split(";")[0])
    assert 0.0 < r_mean < 1.0
    with open(path) as f:
        assert len(list(csv.DictReader(f))) == len(rows)
    assert lines[0].startswith("device ")


def test_gpu_suite_refuses_what_does_not_fit(monkeypatch):
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "0.000001")  # 1 kB: no N=8 quench (40 kB) fits
    rows = run_gpu_suite(sections=("quench",), reduce=16, times=2, n_sizes=2, echo=lambda *_: None)
    assert len(rows) == 2
    for r in rows:
        assert r["note"].startswith("refused: needs about") and "GiB" in r["note"]
        assert np.isnan(r["seconds"])
    with pytest.raises(Exception, match="sections"):
        run_gpu_suite(sections=("nope",))


def test_cli_has_gpu_suite_option():
    args = _cli.build_parser().parse_args(["bench", "--suite", "gpu", "--reduce", "12"])
    assert args.suite == "gpu" and args.reduce == 12 and args.func is _cli.cli_bench
    assert _cli.build_parser().parse_args(["bench"]).suite == "scripts"
