"""The signed messages of a distributed run, the log-line check, the scenario digest, the secret
file, and the verdict of a run whose master refused a peer."""

from __future__ import annotations

import os
import re
import shutil

import pytest

import bench.load.peer_auth as peer_auth
from bench.load.peer_auth import (
    SCENARIO_IMPORTS,
    SECRET_ENV,
    SecretError,
    ensure_secret_file,
    log_line_problem,
    read_refusals,
    read_secret,
    scenario_digest,
    scenario_file,
    sign,
    signed_by,
)
from bench.load.scenarios import REQUEST_NAMES
from bench.load.worker import Level, code_mismatch

SECRET = "s" * 64
GOOD_LINE = "1767225600.123456,predict,3.250,1,,0"


def test_a_signature_holds_for_its_own_parts_only():
    mac = sign(SECRET, "stats", "session", "worker-1", 3, "lines", True)
    assert signed_by(SECRET, mac, "stats", "session", "worker-1", 3, "lines", True)
    assert not signed_by("t" * 64, mac, "stats", "session", "worker-1", 3, "lines", True)
    assert not signed_by(SECRET, mac, "stats", "session", "worker-2", 3, "lines", True)
    assert not signed_by(SECRET, mac, "stats", "other-session", "worker-1", 3, "lines", True)
    assert not signed_by(SECRET, None, "stats")


def test_parts_are_length_prefixed_so_that_moving_a_boundary_changes_the_signature():
    assert sign(SECRET, "ab", "c") != sign(SECRET, "a", "bc")


def test_a_part_that_changes_type_changes_the_signature():
    assert sign(SECRET, False) != sign(SECRET, "False")
    assert sign(SECRET, 1) != sign(SECRET, "1") != sign(SECRET, 1.0)


def test_the_digest_covers_every_bench_module_the_locustfiles_import():
    imported = set()
    for path in peer_auth.SCENARIO_DIR.glob("*.py"):
        imported |= set(re.findall(r"^\s*from bench\.([\w.]+) import", path.read_text(), re.M))
    modules = {name for name in imported if not name.startswith("load.scenarios")}
    assert {name.replace(".", "/") + ".py" for name in modules} == set(SCENARIO_IMPORTS)


def test_a_well_formed_log_line_passes():
    assert log_line_problem(GOOD_LINE) is None
    assert log_line_problem("1767225600.5,late send,0.100,1,,12\n") is None


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("1767225600.1,predict,3.2,1,", "5 fields"),
        ("1767225600.1,predict,3.2,1,,0,extra", "7 fields"),
        ("soon,predict,3.2,1,,0", "not a number"),
        ("1767225600.1,predict,nan,1,,0", "finite"),
        ("1767225600.1,predict,inf,1,,0", "finite"),
        ("1767225600.1,predict,-1,1,,0", "non-negative"),
        ("1767225600.1,steal,3.2,1,,0", "unknown request name"),
        ("1767225600.1,predict,3.2,yes,,0", "ok flag"),
        ("1767225600.1,predict,3.2,1,,-1", "worker index"),
    ],
)
def test_a_malformed_log_line_is_named(line, problem):
    assert problem in log_line_problem(line)


@pytest.mark.parametrize("name", ["../evil", "/etc/passwd", "support", "_private", "no_such"])
def test_only_this_checkouts_known_scenarios_are_run(name):
    with pytest.raises(ValueError, match="unknown scenario"):
        scenario_file(name)


def test_a_known_scenario_is_found_here():
    assert scenario_file("api_single").name == "api_single.py"


def test_the_digest_changes_with_any_scenario_file(tmp_path, monkeypatch):
    copy = tmp_path / "scenarios"
    shutil.copytree(peer_auth.SCENARIO_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = scenario_digest("api_single")
    monkeypatch.setattr(peer_auth, "SCENARIO_DIR", copy)
    assert scenario_digest("api_single") == before
    with (copy / "support.py").open("a") as handle:
        handle.write("\n# changed\n")
    assert scenario_digest("api_single") != before


def test_a_worker_refuses_a_level_whose_code_differs():
    here = scenario_digest("api_single")
    assert code_mismatch(Level("api_single", here, "session")) is None
    problem = code_mismatch(Level("api_single", "api_single:" + "0" * 64, "session"))
    assert "differs from the master's" in problem
    assert "unknown scenario" in code_mismatch(Level("../../x", here, "session"))


def test_the_secret_file_is_created_owner_only_and_read_back(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    path = ensure_secret_file(tmp_path / "config" / "worker-secret")
    assert path.stat().st_mode & 0o777 == 0o600
    secret = read_secret(path)
    assert len(secret) >= 32
    assert ensure_secret_file(path) == path and read_secret(path) == secret  # kept, not replaced


def test_a_secret_file_others_can_read_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    path = tmp_path / "worker-secret"
    path.write_text(SECRET)
    os.chmod(path, 0o644)
    with pytest.raises(SecretError, match="readable by other users"):
        read_secret(path)


def test_a_missing_secret_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv(SECRET_ENV, raising=False)
    with pytest.raises(SecretError, match="no worker secret"):
        read_secret(tmp_path / "absent")


def test_the_environment_variable_serves_when_no_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(SECRET_ENV, SECRET)
    assert read_secret() == SECRET
    named = tmp_path / "worker-secret"
    named.write_text("n" * 64)
    named.chmod(0o600)
    assert read_secret(named) == "n" * 64  # a file named on the command line wins
    monkeypatch.setenv(SECRET_ENV, "short")
    with pytest.raises(SecretError, match="fewer than 32"):
        read_secret()


def test_refusals_are_read_back_even_from_a_damaged_record(tmp_path):
    path = tmp_path / "level.refused.jsonl"
    path.write_text('{"peer": "intruder", "message": "stats", "reason": "unsigned"}\nnot json\n')
    refusals = read_refusals(path)
    assert refusals[0] == {
        "peer": "intruder",
        "message": "stats",
        "reason": "unsigned",
        "kind": "refused",
    }
    assert "unreadable record" in refusals[1]["reason"]
    assert read_refusals(tmp_path / "none") == [] and read_refusals(None) == []


def test_every_request_name_a_scenario_logs_is_one_a_master_accepts():
    """A name missing from REQUEST_NAMES would get every such line of a distributed run
    refused, and the run marked INVALID."""
    logged = set()
    for path in peer_auth.SCENARIO_DIR.glob("*.py"):
        logged |= set(re.findall(r'name="([^"]+)"', path.read_text()))
        logged |= set(re.findall(r'self\.measure\("([^"]+)"', path.read_text()))
    assert logged and logged <= REQUEST_NAMES
