"""``jaxmbl reproduce`` as a command: report.md, claims.json, --only, resume, exit codes and errors.

The claims are replaced by two cheap stand-ins so that the command's own behaviour is tested in
milliseconds; the real claims are tested in tests/test_claims_*.py.
"""

import json

import pytest

import jaxmbl.reproduce as claims_pkg
from jaxmbl._cli import main
from jaxmbl.reproduce import Claim, ClaimResult, Measurement, render_report, reproduce


def fake_claims(calls, fail=()):
    def make(cid):
        def run(ctx):
            calls.append((cid, ctx.size, ctx.seed))
            ctx.progress(0.5, "half way")
            return ClaimResult(
                id=cid,
                title=f"entropy grows with |∂A| ({cid})",
                criterion="slope > 0",
                passed=cid not in fail,
                measured={"slope |∂A|": Measurement(0.25, 0.01, "nats | per bond"), "check: slope > 0": "pass"},
                details="two\nlines",
                parameters={"n_sites": 4},
            )

        return Claim(id=cid, title=f"claim {cid}", run=run, weight=1.0)

    return [make("C1"), make("C2")]


class Calls(list):
    """The (id, size, seed) of every claim run; ``fail`` names the claims that fail."""

    fail = ()


@pytest.fixture
def calls(monkeypatch):
    made = Calls()
    # ``reproduce`` looks the claims up in its own module, so the stand-ins go there (and on the package,
    # for anything that asks ``jaxmbl.reproduce.all_claims``).
    fake = lambda: fake_claims(made, fail=made.fail)  # noqa: E731
    monkeypatch.setattr(claims_pkg, "all_claims", fake)
    monkeypatch.setattr("jaxmbl.reproduce._report.all_claims", fake)
    return made


def test_writes_report_and_claims_json(tmp_path, calls):
    results = reproduce(tmp_path, seed=3, progress=False)
    assert [r["id"] for r in results] == ["C1", "C2"] and calls == [("C1", "small", 3), ("C2", "small", 3)]
    record = json.loads((tmp_path / "claims.json").read_text())
    assert record["meta"]["seed"] == 3 and record["meta"]["size"] == "small" and record["meta"]["x64"] is True
    assert record["claims"][0]["measured"]["slope |∂A|"] == {"value": 0.25, "error": 0.01, "note": "nats | per bond"}
    report = (tmp_path / "report.md").read_text()
    assert "seed: `3`" in report and "| C1: entropy grows with \\|∂A\\| (C1) | PASS |" in report


def test_report_tables_escape_pipes_so_every_row_has_four_cells():
    result = fake_claims([])[0].run(type("Ctx", (), {"size": "small", "seed": 0, "progress": lambda *a: None})())
    meta = dict(
        size="small", seed=0, date="today", jaxmbl="0", jax="0", numpy="0", python="3", devices=["cpu"], x64=True
    )
    report = render_report([result.as_dict()], meta)
    rows = [line for line in report.splitlines() if line.startswith(("| slope", "| check"))]
    assert len(rows) == 2
    for row in rows:
        unescaped = row.replace("\\|", "")
        assert unescaped.count("|") == 5, row  # 4 cells
    assert "two lines" not in report  # details stay a paragraph; only table cells are flattened


def test_resume_skips_finished_claims_and_reruns_on_a_new_seed(tmp_path, calls):
    reproduce(tmp_path, progress=False)
    reproduce(tmp_path, progress=False)
    assert len(calls) == 2
    reproduce(tmp_path, seed=1, progress=False)
    assert len(calls) == 4
    (tmp_path / "results" / "C1.json").write_text("{not json")  # a damaged cache is recomputed
    reproduce(tmp_path, seed=1, progress=False)
    assert calls[-1][0] == "C1" and len(calls) == 5


def test_only_selects_claims(tmp_path, calls):
    results = reproduce(tmp_path, only="c2", progress=False)
    assert [r["id"] for r in results] == ["C2"] and [c[0] for c in calls] == ["C2"]


def test_cli_exit_codes(tmp_path, calls, capsys):
    assert main(["reproduce", "--out", str(tmp_path / "ok"), "--quiet"]) == 0
    assert "2/2 claims pass" in capsys.readouterr().out
    calls.fail = ("C2",)
    assert main(["reproduce", "--out", str(tmp_path / "bad"), "--quiet"]) == 1
    assert "FAILED: C2" in capsys.readouterr().err
    assert main(["reproduce", "--out", str(tmp_path / "x"), "--only", "C9", "--quiet"]) == 2
    assert "only: unknown claim ids ['C9']" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"size": "huge"}, "size must be one of"), ({"seed": -1}, "seed must be a non-negative integer")],
)
def test_bad_input(tmp_path, calls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        reproduce(tmp_path, progress=False, **kwargs)
    assert calls == []


def test_unwritable_out_dir_is_refused_before_any_claim_runs(tmp_path, calls):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="out: cannot write"):
        reproduce(blocker / "sub", progress=False)
    assert calls == []
