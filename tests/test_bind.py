"""Where the servers listen: loopback unless --bind says otherwise, never an inherited value."""

from __future__ import annotations

import argparse
import contextlib

import psutil
import pytest

import bench.cli.main as cli
import bench.run.runner
from bench.targets import bind as binding
from bench.targets.bind import Bind, current, ignored_inherited, parse_address, parse_allowed_hosts
from bench.targets.manifest import discover, select
from bench.targets.servers import server_env, start, stop, wait_healthy
from tests.live import STARTUP_TIMEOUT_S, free_port
from tests.plans import TINY

INHERITED = {"BIND_HOST": "0.0.0.0", "ALLOWED_HOSTS": "*", "HOME": "/home/someone"}


@pytest.fixture(scope="module")
def null():
    [null] = select(discover(), ["null"])
    return null


def test_an_inherited_bind_host_does_not_reach_the_server(null):
    env = server_env(null, "default", 8000, 1, Bind(), inherited=INHERITED)
    assert env["BIND_HOST"] == "127.0.0.1"
    assert "ALLOWED_HOSTS" not in env
    assert env["HOME"] == "/home/someone"  # the rest of the environment is passed on


def test_the_chosen_bind_and_hosts_win_over_everything_else(null):
    bind = Bind("0.0.0.0", ("bench-a.example", "10.0.0.5"))
    extra = {"BIND_HOST": "10.9.9.9", "ALLOWED_HOSTS": "evil.example"}
    env = server_env(null, "default", 8000, 1, bind, extra_env=extra, inherited=INHERITED)
    assert env["BIND_HOST"] == "0.0.0.0"
    assert env["ALLOWED_HOSTS"] == "bench-a.example,10.0.0.5"


def test_the_record_and_the_warning():
    assert Bind().record() == {"address": "127.0.0.1", "loopback": True, "allowed_hosts": []}
    assert Bind().warning() is None
    wide = Bind("0.0.0.0", ("a.example",))
    assert wide.record() == {
        "address": "0.0.0.0",
        "loopback": False,
        "allowed_hosts": ["a.example"],
    }
    assert "every interface" in wide.warning()
    assert wide.connect_host == "127.0.0.1"
    assert Bind("10.0.0.5").connect_host == "10.0.0.5"
    assert Bind("127.0.0.2").loopback


@pytest.mark.parametrize("text", ["::", "localhost", "0.0.0.0:80", "", "300.1.1.1"])
def test_bind_takes_an_ipv4_address_only(text):
    with pytest.raises(argparse.ArgumentTypeError):
        parse_address(text)


def test_allowed_hosts_is_a_comma_list_without_wildcards():
    assert parse_allowed_hosts("a.example, 10.0.0.5,.b.example") == (
        "a.example",
        "10.0.0.5",
        ".b.example",
    )
    for text in ("*", "a.example,*", ",", "a b", "a/b"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_allowed_hosts(text)


def test_an_inherited_value_that_differs_is_named_once_and_an_equal_one_not():
    lines = ignored_inherited(Bind(), INHERITED)
    assert len(lines) == 2
    assert "BIND_HOST='0.0.0.0'" in lines[0] and "'127.0.0.1'" in lines[0]
    assert "ALLOWED_HOSTS='*'" in lines[1] and "no ALLOWED_HOSTS" in lines[1]
    assert ignored_inherited(Bind(), {"BIND_HOST": "127.0.0.1"}) == []


@pytest.fixture
def cli_serving(monkeypatch):
    """main() with serve_one replaced by a recorder, and pytest's signal handlers left alone."""
    calls = []
    monkeypatch.setattr(cli, "signals_as_interrupt", lambda: None)
    monkeypatch.setattr(cli, "serve_one", lambda *args: calls.append(args) or 0)
    return calls


def test_serve_binds_loopback_and_ignores_an_exported_bind_host(cli_serving, monkeypatch, capsys):
    monkeypatch.setenv("BIND_HOST", "0.0.0.0")
    assert cli.main(["serve", "flask"]) == 0
    [(_, _, _, bind)] = cli_serving
    assert bind == Bind()
    err = capsys.readouterr().err
    assert err.count("BIND_HOST='0.0.0.0' in the environment is ignored") == 1
    assert "warning" not in err


def test_serve_bind_asks_for_an_address_and_warns(cli_serving, monkeypatch, capsys):
    monkeypatch.delenv("BIND_HOST", raising=False)
    monkeypatch.delenv("ALLOWED_HOSTS", raising=False)
    assert cli.main(["serve", "flask", "--bind", "0.0.0.0", "--allowed-hosts", "a.example"]) == 0
    [(_, _, _, bind)] = cli_serving
    assert bind == Bind("0.0.0.0", ("a.example",))
    assert "warning: the servers listen on every interface" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "why"),
    [
        (["run", "--bind", "10.0.0.5"], "run --bind takes 127.0.0.1 or 0.0.0.0"),
        (["run", "--only", "flask", "--target", "http://h:1", "--bind", "0.0.0.0"], "--target"),
        (["serve", "flask", "--bind", "::"], "an IPv4 address"),
    ],
)
def test_a_bind_the_command_cannot_use_is_a_usage_error(
    cli_serving, monkeypatch, capsys, argv, why
):
    monkeypatch.setattr(cli, "run_benchmark", pytest.fail)
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert why in capsys.readouterr().err


def test_run_benchmark_starts_its_servers_at_the_bind_and_records_it(
    tmp_path, monkeypatch, private_bench_lock
):
    seen = {}

    def fake_run(run, corrupt_expected):
        seen.update(info=run.info, bind=current())
        return run.run_dir, "complete"

    monkeypatch.setenv("BIND_HOST", "10.1.2.3")
    monkeypatch.setattr(bench.run.runner, "_run", fake_run)
    bind = Bind("0.0.0.0", ("a.example",))
    bench.run.runner.run_benchmark(TINY, [], tmp_path, bind=bind)
    assert seen["bind"] == bind
    assert seen["info"]["bind"] == {
        "address": "0.0.0.0",
        "loopback": False,
        "allowed_hosts": ["a.example"],
    }
    notes = "\n".join(seen["info"]["notes"])
    assert "BIND_HOST='10.1.2.3' in the environment is ignored" in notes
    assert "not loopback" in notes
    assert current() == Bind()  # the command's bind ends with the run


def test_a_run_without_bind_records_loopback(tmp_path, monkeypatch, private_bench_lock):
    seen = {}
    monkeypatch.setattr(
        bench.run.runner, "_run", lambda run, _: seen.update(run.info) or (run.run_dir, "complete")
    )
    bench.run.runner.run_benchmark(TINY, [], tmp_path)
    assert seen["bind"] == {"address": "127.0.0.1", "loopback": True, "allowed_hosts": []}


def listening_addresses(procs: list[psutil.Process]) -> set[str]:
    addresses = set()
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            addresses |= {
                c.laddr.ip for c in proc.net_connections(kind="inet") if c.status == "LISTEN"
            }
    return addresses


@pytest.mark.live
def test_a_real_server_listens_on_loopback_only_despite_an_exported_bind_host(
    null, tmp_path, monkeypatch
):
    monkeypatch.setenv("BIND_HOST", "0.0.0.0")
    running = start(null, port=free_port(), log_path=tmp_path / "server.log")
    try:
        wait_healthy(running, STARTUP_TIMEOUT_S)
        assert listening_addresses(running.tree()) == {"127.0.0.1"}
        assert running.base_url.startswith("http://127.0.0.1:")
    finally:
        stop(running)


def test_binding_restores_the_previous_bind_even_on_error():
    with pytest.raises(RuntimeError), binding.binding(Bind("0.0.0.0")):
        assert current().address == "0.0.0.0"
        raise RuntimeError
    assert current() == Bind()
