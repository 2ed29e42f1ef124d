"""Sweeps: bitwise reproducibility (chunk size, devices, SIGKILL + resume), storage integrity, bad input."""

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from reference import model_dense

import jaxmbl as jm
import jaxmbl.sweep._registry as _registry
import jaxmbl.sweep._results as _results
import jaxmbl.sweep._runner as _runs
from jaxmbl._cli import main

SEED = 3
XIS = [0.5, 2.0]


def config(chunk=8, realizations=64, **extra_obs):
    return {
        "model": {"family": "swingle", "L": 4},
        "grid": {"xi": list(XIS)},
        "run": {"realizations": realizations, "chunk_size": chunk, "batch_size": 4, "seed": SEED},
        "observables": {"r": {"observable": "r_tilde"}, **extra_obs},
    }


def toml_text(cfg) -> str:
    """A TOML rendering of the small dicts used here."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return json.dumps(v)
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines = []
    for section in ("model", "grid", "run"):
        lines += [f"[{section}]"] + [f"{k} = {value(v)}" for k, v in cfg.get(section, {}).items()] + [""]
    for label, table in cfg["observables"].items():
        lines += [f"[observables.{label}]"] + [f"{k} = {value(v)}" for k, v in table.items()] + [""]
    return "\n".join(lines)


def run_script(code: str, *args, env=None):
    env = {**os.environ, "JAX_PLATFORMS": "cpu", **(env or {})}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code), *map(str, args)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


RUN = """
    import sys, jax
    jax.config.update("jax_enable_x64", True)
    from jaxmbl.sweep._runner import run_sweep
    res = run_sweep(sys.argv[1], sys.argv[2], progress=False)
    print(jax.device_count(), res.complete)
"""


@pytest.fixture(scope="module")
def ref(tmp_path_factory):
    """The uninterrupted reference run: 2 grid points x 64 realizations, chunks of 8."""
    out = tmp_path_factory.mktemp("ref") / "run"
    return _runs.run_sweep(config(8), out, progress=False)


def assert_same_values(a, b, names=("r",)):
    for name in names:
        for p in range(len(XIS)):
            np.testing.assert_array_equal(a.index[p], np.arange(64))
            np.testing.assert_array_equal(b.index[p], np.arange(64))
            assert np.array_equal(a.values[name][p], b.values[name][p]), f"{name} differs at point {p}"


# ----------------------------------------------------------------------------- reproducibility
def test_reference_run_is_complete_and_keyed_by_point_and_realization(ref):
    assert ref.complete and ref.points == [{"xi": x} for x in XIS]
    assert len(list(Path(ref.path, "chunks").glob("*.npz"))) == 16
    lat = jm.Lattice((4,))
    for p, xi in enumerate(XIS):
        for i in (0, 17, 63):
            model = jm.sample_model(jr.fold_in(jr.fold_in(jr.key(SEED), p), i), lat, xi=xi)
            E = np.sort(model_dense(model)[2])
            s = np.diff(E)
            expected = np.mean(np.minimum(s[1:], s[:-1]) / np.maximum(s[1:], s[:-1]))
            np.testing.assert_allclose(ref.values["r"][p][i], expected, atol=1e-12)
    agg = ref.aggregates["r"][1]
    x = ref.values["r"][1]
    np.testing.assert_allclose(
        [agg["mean"], agg["sem"], agg["median"], agg["typical"]],
        [x.mean(), x.std(ddof=1) / 8, np.median(x), np.exp(np.log(x).mean())],
        rtol=1e-12,
    )


def test_chunk_size_does_not_change_a_bit(ref, tmp_path):
    _runs._PROGRAMS.clear()  # recompile: the program is per grid point, not per chunk size
    other = _runs.run_sweep(config(64), tmp_path / "run", progress=False)
    assert len(other.manifest["chunks"]) == 2
    assert_same_values(ref, other)


def test_four_devices_match_one_device_bitwise(ref, tmp_path):
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(toml_text(config(8)))
    proc = run_script(RUN, cfg, tmp_path / "run", env={"XLA_FLAGS": "--xla_force_host_platform_device_count=4"})
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert stdout.split() == ["4", "True"]
    sharded = _runs.load_run(tmp_path / "run")
    assert len(sharded.manifest["sessions"][0]["devices"]) == 4
    assert_same_values(ref, sharded)


SLOW = """
import json, os, threading
import jax, jax.numpy as jnp, numpy as np
from jaxmbl.sweep._registry import register_observable

def _hold(x):
    # In the child run: once 3 chunks are on disk, never return, so the run stops mid-way whatever
    # the speed of the machine, and the test kills it there. The resuming run does not set the path.
    try:
        chunks = json.loads(open(os.environ["JAXMBL_TEST_MANIFEST"]).read())["chunks"].values()
    except (KeyError, OSError, ValueError):
        chunks = []
    if sum(c["status"] == "done" for c in chunks) >= 3:
        threading.Event().wait()
    return np.zeros((), np.float64)

@register_observable("held_zero")
def held_zero(model):
    return jax.pure_callback(_hold, jax.ShapeDtypeStruct((), jnp.float64), model.h0.coef[0][0], vmap_method="sequential")
"""


def done_chunks(out):
    try:
        chunks = json.loads((out / "manifest.json").read_text())["chunks"]
    except (OSError, ValueError):
        return {}
    return {c: e for c, e in chunks.items() if e["status"] == "done"}


def test_sigkill_then_resume_is_identical(ref, tmp_path):
    (tmp_path / "slow_obs.py").write_text(SLOW)
    cfg = config(8, slow={"observable": "held_zero"})
    cfg["run"]["imports"] = ["slow_obs.py"]
    path = tmp_path / "cfg.toml"
    path.write_text(toml_text(cfg))
    out = tmp_path / "run"
    proc = run_script(RUN, path, out, env={"JAXMBL_TEST_MANIFEST": str(out / "manifest.json")})
    try:
        for _ in range(4800):  # the child holds after 3 chunks; give up after ~4 minutes
            if len(done_chunks(out)) >= 3:
                break
            try:
                proc.wait(timeout=0.05)
                break  # it ended: reported below
            except subprocess.TimeoutExpired:
                pass
        assert proc.poll() is None, f"the run ended before it could be killed: {proc.communicate()[1][-2000:]}"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    killed = json.loads((out / "manifest.json").read_text())["chunks"]
    done = {c: e for c, e in killed.items() if e["status"] == "done"}
    assert 3 <= len(done) < 16
    mtimes = {c: (out / e["file"]).stat().st_mtime_ns for c, e in done.items()}

    resumed = _runs.run_sweep(path, out, progress=False)
    assert resumed.complete
    assert_same_values(ref, resumed)  # no duplicate, no missing realization, same bits
    for c, e in done.items():  # finished chunks were kept, not recomputed
        assert resumed.manifest["chunks"][c]["sha256"] == e["sha256"]
        assert (out / e["file"]).stat().st_mtime_ns == mtimes[c]
    assert not list((out / "chunks").glob(".tmp-*"))


# ----------------------------------------------------------------------------- storage integrity
def test_corrupt_chunks_are_detected_and_recomputed(ref, tmp_path):
    out = tmp_path / "run"
    shutil.copytree(ref.path, out)
    chunks = out / "chunks"
    data = (chunks / "p0000-c00001.npz").read_bytes()
    (chunks / "p0000-c00001.npz").write_bytes(data[: len(data) // 2])  # truncated
    (chunks / "p0001-c00002.npz").write_bytes(os.urandom(len(data)))  # garbage
    shutil.copy(chunks / "p0000-c00000.npz", chunks / "p0000-c00004.npz")  # a valid file with the wrong content
    (chunks / "p0001-c00005.npz").unlink()  # missing
    (chunks / ".tmp-left-by-a-kill.npz").write_bytes(b"partial")
    with pytest.warns(UserWarning, match="missing or corrupt"):
        partial = _runs.load_run(out)
    assert partial.missing == [16, 16] and not partial.complete
    assert not set(range(8, 16)) & set(partial.index[0].tolist())
    with pytest.warns(UserWarning, match="recomputed"):
        fixed = _runs.run_sweep(config(8), out, progress=False)
    assert_same_values(ref, fixed)
    assert not (chunks / ".tmp-left-by-a-kill.npz").exists()


def test_changed_config_is_refused_with_the_differing_keys(ref):
    changed = config(8)
    changed["grid"]["xi"] = [0.5, 3.0]
    changed["run"]["realizations"] = 32
    with pytest.raises(ValueError, match=r"different config; differing keys: grid\.xi .*run\.realizations"):
        _runs.run_sweep(changed, ref.path, progress=False)


def test_a_running_sweep_locks_its_directory(ref):
    import fcntl

    with open(Path(ref.path) / ".lock", "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ValueError, match="another jaxmbl sweep is running"):
            _runs.run_sweep(config(8), ref.path, progress=False)


# ----------------------------------------------------------------------------- results
def test_aggregate_ignores_nonfinite_elementwise():
    rng = np.random.default_rng(0)
    x = rng.uniform(0.5, 2.0, size=(40, 3))
    x[[3, 7], 0] = np.nan
    x[5, 1] = np.inf
    x[:, 2] -= 1.0  # not positive: no typical value
    agg = _results.aggregate(x)
    cols = [x[np.isfinite(x[:, j]), j] for j in range(3)]
    np.testing.assert_array_equal(agg["n"], [38, 39, 40])
    np.testing.assert_allclose(agg["mean"], [c.mean() for c in cols], rtol=1e-13)
    np.testing.assert_allclose(agg["sem"], [c.std(ddof=1) / np.sqrt(len(c)) for c in cols], rtol=1e-13)
    np.testing.assert_allclose(agg["median"], [np.median(c) for c in cols], rtol=1e-13)
    np.testing.assert_allclose(agg["typical"][:2], [np.exp(np.log(c).mean()) for c in cols[:2]], rtol=1e-13)
    assert np.isnan(agg["typical"][2])


def test_nonfinite_values_are_named_and_never_averaged(tmp_path):
    @_registry.register_observable("test_flaky", families=["swingle"], replace=True)
    def flaky(model):
        c = model.h0.coef[0][0]  # onsite coupling of site 0, uniform in [0, J0]
        return {"c": c, "x": jnp.where(c < 0.3, jnp.nan, jnp.log(c))}

    cfg = {
        "model": {"L": 3},
        "run": {"realizations": 24, "seed": 1},
        "observables": {"f": {"observable": "test_flaky"}},
    }
    with pytest.warns(UserWarning, match=r"f\.x is non-finite at grid point 0 .* realizations \["):
        res = _runs.run_sweep(cfg, tmp_path / "run", progress=False)
    c, x = res.values["f.c"][0], res.values["f.x"][0]
    bad = np.flatnonzero(c < 0.3)
    assert 0 < len(bad) < 24 and np.array_equal(np.flatnonzero(np.isnan(x)), bad)
    assert res.nonfinite["f.x"][0] == bad.tolist() and res.nonfinite["f.c"][0] == []
    good = np.log(c[c >= 0.3])
    agg = res.aggregates["f.x"][0]
    assert agg["n"] == len(good)
    np.testing.assert_allclose(
        [agg["mean"], agg["sem"]], [good.mean(), good.std(ddof=1) / np.sqrt(len(good))], rtol=1e-12
    )
    np.testing.assert_allclose(res.aggregates["f.c"][0]["typical"], np.exp(np.log(c).mean()), rtol=1e-12)


def test_heisenberg_family_sweep(tmp_path):
    cfg = {
        "model": {"family": "heisenberg", "L": 6},
        "grid": {"W": [1.0, 6.0]},
        "run": {"realizations": 4, "seed": 2},
        "observables": {"r": {"observable": "r_tilde"}},
    }
    res = _runs.run_sweep(cfg, tmp_path / "run", progress=False)
    H = _registry.FAMILIES["heisenberg"].build(
        jr.fold_in(jr.fold_in(jr.key(2), 1), 3),
        jm.Lattice((6,)),
        {"W": 6.0, "J": 1.0, "Jz": None, "sector": None},
        jnp.float64,
    )
    from test_registry import heisenberg_ref, r_ref

    dense, sector = heisenberg_ref(H, 6)
    np.testing.assert_allclose(
        res.values["r"][1][3], r_ref(np.linalg.eigvalsh(dense[np.ix_(sector, sector)])), atol=1e-10
    )


# ----------------------------------------------------------------------------- bad input
def bad(section, key, value):
    cfg = config(8)
    if value is None:
        del cfg[section][key]
    else:
        cfg.setdefault(section, {})[key] = value
    return cfg


@pytest.mark.parametrize(
    "cfg,match",
    [
        ({**config(), "modle": {}}, r"^modle: unknown key"),
        (bad("model", "foo", 1), r"^model\.foo: unknown key"),
        (bad("model", "family", "ising"), r"^model\.family"),
        (bad("model", "L", -3), r"^model\.L must be >= 1"),
        (bad("model", "L", "8"), r"^model\.L must be an integer"),
        (bad("model", "strength", "big"), r"^model\.strength must be a number"),
        (bad("model", "cutoff", 1.5), r"^model\.cutoff must lie in \(0, 1\)"),
        (bad("model", "xi", 0.3), r"^grid\.xi: also set in \[model\]"),
        (bad("model", "shape", [2, 2]), r"^model\.L: give exactly one of L"),
        (bad("grid", "xi", []), r"^grid\.xi is empty"),
        (bad("grid", "xi", [0.5, 0.0]), r"^grid\.xi\[1\] must be finite and > 0"),
        (bad("grid", "xi", 0.5), r"^grid\.xi must be a list"),
        (bad("grid", "W", [1.0]), r"^grid\.W: unknown key"),
        (bad("run", "realizations", None), r"^run\.realizations: missing"),
        (bad("run", "realizations", 0), r"^run\.realizations must be >= 1"),
        (bad("run", "chunk_size", 2.5), r"^run\.chunk_size must be an integer"),
        (bad("run", "seed", 2**40), r"^run\.seed must be < 2\*\*31"),
        (bad("run", "dtype", "float16"), r"^run\.dtype must be one of"),
        (bad("observables", "r", {"observable": "nope"}), r"^observables\.r: unknown observable 'nope'"),
        (bad("observables", "r", {"observable": "r_tilde", "windw": 0.5}), r"^observables\.r: .*windw"),
        (bad("observables", "S", {"observable": "eigenstate_entropy", "region": [0, 7]}), r"^observables\.S: region"),
        (bad("observables", "l", {"observable": "lbit_profile", "foo": 1}), r"^observables\.l: "),
        ({**config(), "observables": {}}, r"^observables: give at least one"),
        (
            {"model": {"family": "heisenberg", "L": 4}, "run": {"realizations": 2}, "observables": {"r_tilde": {}}},
            r"^model\.W: missing",
        ),
        (
            {
                "model": {"family": "heisenberg", "L": 4, "W": 1.0},
                "run": {"realizations": 2},
                "observables": {"lbit_profile": {}},
            },
            r"^observables\.lbit_profile: observable 'lbit_profile' is not defined for family 'heisenberg'",
        ),
    ],
)
def test_bad_config_names_the_key(cfg, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        _runs.run_sweep(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


def test_malformed_toml_and_cli_exit_code(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[model]\nL = 4\nxi = [0.5,\n")
    with pytest.raises(ValueError, match="malformed TOML"):
        _runs.load_config(path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "jaxmbl sweep: error: config: malformed TOML" in capsys.readouterr().err
    path.write_text(toml_text(bad("model", "L", -3)))
    assert main(["sweep", str(path), "--out", str(tmp_path / "run")]) == 2
    assert "model.L must be >= 1" in capsys.readouterr().err


def test_unwritable_out_is_reported_before_any_computation(tmp_path, monkeypatch):
    def no_compute(*args, **kwargs):
        raise AssertionError("computation started")

    monkeypatch.setattr(_runs, "_trace", no_compute)
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(ValueError, match="^out: cannot write to"):
        _runs.run_sweep(config(8), tmp_path / "file" / "run", progress=False)


def test_memory_guard_refuses_up_front_with_numbers(tmp_path, monkeypatch):
    monkeypatch.setattr(_runs, "_trace", lambda *a, **k: pytest.fail("computation started"))
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "1e-7")
    with pytest.raises(
        ValueError,
        match=r"one realization at grid point 0 .* needs about [0-9.]+ MiB, more than the [0-9.e-]+ MiB budget",
    ):
        _runs.run_sweep(config(8), tmp_path / "a", progress=False)
    monkeypatch.setenv("JAXMBL_MEMORY_LIMIT_GB", "2e-5")
    cfg = config(8)
    cfg["run"]["batch_size"] = 64
    with pytest.raises(ValueError, match=r"run\.batch_size = 64: .* at most \d+ fit"):
        _runs.run_sweep(cfg, tmp_path / "b", progress=False)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


# ----------------------------------------------------------------------------- command line and plot
@pytest.mark.slow
def test_cli_sweep_summary_and_plot(tmp_path, capsys):
    cfg = {
        "model": {"L": 4, "xi": 1.0},
        "grid": {"strength": [0.2, 0.8]},
        "run": {"realizations": 8, "seed": 5},
        "observables": {"r_tilde": {}, "I": {"observable": "imbalance", "times": {"logspace": [-1, 2, 3]}}},
    }
    path = tmp_path / "cfg.toml"
    path.write_text(toml_text(cfg))
    out = tmp_path / "run"
    assert main(["sweep", str(path), "--out", str(out), "--quiet", "--plot"]) == 0
    text = capsys.readouterr().out
    assert "2 grid points x 8 realizations" in text and "r_tilde = 0." in text
    assert (out / "sweep.png").stat().st_size > 10_000
    assert main(["plot", str(out), "--out", str(tmp_path / "q.png")]) == 0
    assert (tmp_path / "q.png").exists()
    res = _runs.load_run(out)
    np.testing.assert_allclose(res.coords[1]["I"]["t"], np.logspace(-1, 2, 3))
    assert res.values["I"][1].shape == (8, 3)
