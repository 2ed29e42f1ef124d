"""The ``jaxmbl`` command line turns the project's errors into one line and exit status 2, and
nothing else: a genuine bug keeps its exception and traceback."""

import pytest

import jaxmbl as jm
import jaxmbl._cli as cli


def test_jaxmbl_error_is_one_line_and_exit_2(tmp_path, monkeypatch, capsys):
    def bad_input(*args, **kwargs):
        raise jm.JaxmblError("size must be one of ('small', 'medium', 'large'), got 'huge'")

    monkeypatch.setattr(cli, "reproduce", bad_input)
    assert cli.main(["reproduce", "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == "jaxmbl reproduce: error: size must be one of ('small', 'medium', 'large'), got 'huge'\n"


@pytest.mark.parametrize("exc", [RuntimeError("a bug"), ValueError("a bug raising a plain ValueError")])
def test_a_genuine_bug_is_not_swallowed(tmp_path, monkeypatch, capsys, exc):
    def crash(*args, **kwargs):
        raise exc

    monkeypatch.setattr(cli, "run_sweep", crash)
    with pytest.raises(type(exc), match="a bug"):
        cli.main(["sweep", str(tmp_path / "config.toml"), "--out", str(tmp_path / "run"), "--quiet"])
    assert "error:" not in capsys.readouterr().err


def test_every_value_error_of_the_library_is_a_jaxmbl_error():
    with pytest.raises(jm.JaxmblError, match="window"):
        jm.level_spacing_ratio([0.0, 1.0, 3.0], window=2.0)
    assert issubclass(jm.JaxmblError, ValueError)  # code that catches ValueError keeps working
    with pytest.raises(TypeError, match="model must be a SwingleModel"):
        jm.map_realizations(lambda m: m, "not a model")


def test_every_subcommand_has_its_handler_here():
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    handlers = {name: p.get_default("func") for name, p in sub.choices.items()}
    assert set(handlers) == {"reproduce", "sweep", "plot", "bench"}
    assert all(h.__module__ == "jaxmbl._cli" for h in handlers.values())
