"""Shared helpers of the claim tests: run a claim at size "tiny" and read its checks."""

from jaxmbl.reproduce import ClaimContext


def run_tiny(module, tmp_path, **kwargs):
    """``module.run`` at size "tiny", seed 0, figures under ``tmp_path``, no progress output."""
    return module.run(
        ClaimContext(size="tiny", seed=0, out_dir=tmp_path, progress=lambda fraction, message: None), **kwargs
    )


def checks(result):
    """``{check name: "pass" | "FAIL" | "n/a..."}`` of a ClaimResult."""
    return {k[len("check: ") :]: v for k, v in result.measured.items() if k.startswith("check: ")}


def assert_passes_and_is_reported(result, tmp_path):
    """The claim passes and its record has a criterion, details, numbers and real figures."""
    assert result.passed, checks(result)
    record = result.as_dict()
    assert record["criterion"] and record["details"] and record["measured"]
    assert all(v in ("pass", "FAIL") or v.startswith("n/a") for v in checks(result).values())
    assert result.figures
    for fig in result.figures:
        assert (tmp_path / fig).stat().st_size > 10_000
