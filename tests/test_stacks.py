"""The 2022 stack: its lock keeps the date cut-off and its stated exceptions, the model's libraries
are today's, and every deployment with a [stacks.2022] table is served from it."""

from __future__ import annotations

import tomllib
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from packaging.version import Version

from bench import PROJECT_ROOT
from bench.run.passes import passes
from bench.run.plan import PlanError, load_plan
from bench.targets.manifest import ManifestError, discover, on_stack
from bench.targets.servers import DeploymentError, start
from bench.targets.stacks import TODAY, StackError, discover_stacks, load_stack

STACK_PROJECT = PROJECT_ROOT / "stacks" / "2022" / "pyproject.toml"
MODEL_LIBRARIES = ("numpy", "scikit-learn", "skops", "scipy", "pandas", "pyarrow")


def lock_packages(path: Path) -> dict[str, dict]:
    return {p["name"]: p for p in tomllib.loads(path.read_text())["package"]}


def closure(packages: dict[str, dict], roots: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += [d["name"] for d in packages[name].get("dependencies", [])]
    return seen


def upload_times(package: dict) -> list[datetime]:
    files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
    return [datetime.fromisoformat(f["upload-time"]) for f in files if "upload-time" in f]


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads(STACK_PROJECT.read_text())


def test_the_model_libraries_are_the_project_locks_own(project):
    today = lock_packages(PROJECT_ROOT / "uv.lock")
    old = lock_packages(STACK_PROJECT.with_name("uv.lock"))
    model = closure(today, MODEL_LIBRARIES)
    assert {name: old[name]["version"] for name in model} == {
        name: today[name]["version"] for name in model
    }
    # ... and exactly those are exempt from the cut-off altogether.
    exempt = {k for k, v in project["tool"]["uv"]["exclude-newer-package"].items() if v is False}
    assert exempt == model


def test_every_locked_file_respects_its_cut_off(project):
    uv = project["tool"]["uv"]
    default = datetime.fromisoformat(uv["exclude-newer"])
    exceptions = uv["exclude-newer-package"]
    late = {}
    for name, package in lock_packages(STACK_PROJECT.with_name("uv.lock")).items():
        cutoff = exceptions.get(name, default)
        if cutoff is False or "registry" not in package["source"]:  # the project itself
            continue
        limit = datetime.fromisoformat(cutoff) if isinstance(cutoff, str) else cutoff
        assert upload_times(package), f"{name}: the lock records no upload time"
        if any(t > limit for t in upload_times(package)):
            late[name] = max(upload_times(package))
    assert late == {}


def test_the_2022_web_stack_is_older_than_todays():
    stacks = discover_stacks()
    old, new = stacks["2022"].locked_versions(), stacks[TODAY].locked_versions()
    for framework in ("flask", "django", "djangorestframework", "streamlit", "gunicorn"):
        assert Version(old[framework]) < Version(new[framework]), framework


def test_every_exception_has_its_reason(tmp_path):
    stack = load_stack(STACK_PROJECT)
    assert stack.exceptions and all(stack.exceptions.values())
    text = STACK_PROJECT.read_text().replace('\ntornado = "6.1', '\n# tornado = "6.1')
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(StackError, match=r"exceptions without a reason: \['tornado'\]"):
        load_stack(tmp_path / "pyproject.toml")


def test_a_missing_environment_is_a_clear_error(tmp_path):
    [flask] = [d for d in discover() if d.name == "flask-2022"]
    gone = replace(flask, stack=replace(flask.stack, environment=tmp_path / "nowhere"))
    with pytest.raises(DeploymentError, match=r"flask-2022: the 2022 stack.*make setup"):
        start(gone, port=1, log_path=tmp_path / "log")


def test_variants_are_served_from_their_stack():
    deployments = {d.name: d for d in discover()}
    stack = discover_stacks()["2022"]
    for name in ("flask", "django", "streamlit", "wsgi"):
        variant = deployments[f"{name}-2022"]
        assert variant.base_name == name and variant.stack.name == "2022"
        assert variant.port == deployments[name].port + stack.port_offset
        assert variant.argv("default", variant.port, 1)[0] == stack.python
        assert variant.folder == deployments[name].folder
    assert "null-2022" not in deployments and "fastapi-2022" not in deployments
    assert deployments["streamlit-2022"].health_path != deployments["streamlit"].health_path
    assert not deployments["streamlit-2022"].configs.keys() - {"default", "no_gc"}


def test_a_stack_table_is_checked():
    [flask] = [d for d in discover() if d.name == "flask"]
    stacks = discover_stacks()
    with pytest.raises(ManifestError, match="no such stack"):
        on_stack(replace(flask, stack_overrides={"1999": {}}), stacks, "1999")
    with pytest.raises(ManifestError, match=r"unknown key\(s\) \['port'\]"):
        on_stack(replace(flask, stack_overrides={"2022": {"port": 1}}), stacks, "2022")
    with pytest.raises(ManifestError, match="configs must list"):
        on_stack(replace(flask, stack_overrides={"2022": {"configs": ["fast"]}}), stacks, "2022")


def test_the_plan_measures_the_2022_stack_at_its_own_levels():
    deployments = {d.name: d for d in discover()}
    # The quick look measures today's stack only, the 2022 one when --only names it.
    assert not load_plan("quick").measures(deployments["flask-2022"])
    for profile in ("full",):
        plan = load_plan(profile)
        variant = deployments["flask-2022"]
        assert plan.measures(variant) and plan.measures(deployments["flask"])
        found = passes(plan, variant, "iris-logreg", 1)
        assert [p.label for p in found] == ["default"]  # no model-variant or scaling passes
        assert found[0].levels == plan.stacks["2022"].levels
        assert plan.configs_for(deployments["streamlit-2022"]) == ["default"]


def test_a_stack_plan_is_checked(tmp_path):
    path = tmp_path / "plan.toml"
    profile = "[profiles.x]\nlevels = [1]\nwindow_s = 1\n"
    path.write_text(profile + "[profiles.x.stacks.2022]\nlevels = [1]\nfast = 1\n")
    with pytest.raises(PlanError, match=r"unknown stack key\(s\) \['fast'\]"):
        load_plan("x", path)
    path.write_text(profile)
    [variant] = [d for d in discover() if d.name == "wsgi-2022"]
    plan = load_plan("x", path)
    assert not plan.measures(variant)
    assert plan.levels_for(variant, "default") == (1,)  # named with --only: the plan's levels


def test_each_stack_lists_its_own_installed_packages():
    stack = discover_stacks()["2022"]
    installed, locked = stack.packages(), stack.locked_versions()
    for name in ("flask", "streamlit", "tornado", "numpy"):
        assert installed[name] == locked[name]
    record = stack.as_record()
    assert {e["package"] for e in record["exceptions"]} == set(stack.exceptions)
    assert all(e["version"] == locked[e["package"]] for e in record["exceptions"])


def test_the_2022_stack_gets_cold_starts_and_no_slo_search():
    [variant] = [d for d in discover() if d.name == "django-2022"]
    [today_django] = [d for d in discover() if d.name == "django"]
    full = load_plan("full")
    assert full.cold_starts_of(variant) == full.cold_starts_of(today_django) == full.cold_starts
    assert full.searches_slo(today_django) and not full.searches_slo(variant)


def test_the_2022_variants_are_probed_in_every_configuration():
    [variant] = [d for d in discover() if d.name == "django-2022"]
    assert load_plan("full").probe_configs_for(variant) == ["default", "recommended"]


def test_a_run_from_a_missing_stack_stops_before_it_starts(tmp_path, monkeypatch, capsys):
    import bench.cli.main as cli

    gone = [
        replace(d, stack=replace(d.stack, environment=tmp_path / "nowhere"))
        if d.stack.name != TODAY
        else d
        for d in discover()
    ]
    monkeypatch.setattr(cli, "discover", lambda: gone)
    results = tmp_path / "results"
    argv = ["run", "--profile", "quick", "--only", "flask-2022", "--results", str(results)]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "error: the 2022 stack's environment" in capsys.readouterr().err
    assert not results.exists() or not any(results.iterdir())
