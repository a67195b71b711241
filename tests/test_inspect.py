"""Static inspections of the installed frameworks and of the deployments' code (no servers)."""

import dataclasses
from pathlib import Path

import pytest

from bench.checks.inspections import (
    COMPONENT_LOOKUPS,
    CodeSizeError,
    build_inspections,
    code_files,
    code_size,
    inspect_package,
    inspect_packages,
    subcommands,
)
from bench.targets.manifest import discover, load

COMPONENTS = {*COMPONENT_LOOKUPS, "database_backends"}


@pytest.fixture(scope="module")
def packages() -> dict[str, dict]:
    # Runs the CLIs and gunicorn --print-config once for the whole module (about 15 s).
    return inspect_packages(discover())


def _manifest(folder: Path, framework: str, code_files: list[str], server: str = "none") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "deployment.toml"
    path.write_text(
        f'name = "probe"\nframework = "{framework}"\nserver = "{server}"\n'
        'command = ["{python}", "-c", "pass"]\nport = 9\nscenarios = ["api_single"]\n'
        f"code_files = {code_files!r}\n".replace("'", '"')
    )
    return path


def test_every_deployment_gets_every_key(packages):
    assert set(packages) >= {"flask", "django", "streamlit"}
    for found in packages.values():
        assert set(found["components"]) == COMPONENTS
        assert set(found["component_evidence"]) == COMPONENTS
        assert all(found["component_evidence"].values())
        assert found["version"]
        assert found["license"]
        assert found["license_source"] in ("License-Expression", "License", "Trove classifiers")
        assert set(found["scaffold"]) >= {"command", "works", "evidence"}
        assert set(found["server_stack"]) >= {"interface", "server", "tornado_used", "evidence"}


def test_another_stacks_deployment_is_inspected_by_that_stacks_interpreter(packages):
    # inspect_packages() runs `python -m bench.checks.inspections NAME` in the stack's own
    # environment: the version it reports is the one installed there, not here.
    others = [d for d in discover() if d.stack.environment is not None]
    if not others:
        pytest.skip("no deployment is served from another stack")
    for deployment in others:
        theirs = deployment.stack.packages().get(deployment.framework.lower())
        assert packages[deployment.name]["version"] == theirs, deployment.name


def test_django_ships_the_batteries_and_a_working_scaffold(packages):
    django = packages["django"]
    components = django["components"]
    for name in ("orm", "migrations", "admin", "auth", "forms", "templates", "test_client"):
        assert components[name] is True, django["component_evidence"][name]
    assert {"sqlite3", "postgresql", "mysql"} <= set(components["database_backends"])
    assert not {"base", "dummy"} & set(components["database_backends"])
    assert components["interactive_debugger"] is False
    scaffold = django["scaffold"]
    assert scaffold["works"] is True
    assert scaffold["command"].startswith("django-admin startproject")
    assert scaffold["files_created"] >= 5
    assert "manage.py" in scaffold["evidence"]


def test_flask_has_no_orm_no_scaffold_and_werkzeugs_debugger(packages):
    flask = packages["flask"]
    components = flask["components"]
    for name in ("orm", "migrations", "admin", "auth", "forms"):
        assert components[name] is False, flask["component_evidence"][name]
    assert components["database_backends"] == []
    for name in ("templates", "test_client", "dev_server", "interactive_debugger"):
        assert components[name] is True, flask["component_evidence"][name]
    assert (
        "werkzeug.debug.DebuggedApplication" in flask["component_evidence"]["interactive_debugger"]
    )
    assert "flask.testing.FlaskClient" in flask["component_evidence"]["test_client"]
    assert flask["scaffold"] == {**flask["scaffold"], "command": None, "works": False}
    assert "run" in flask["scaffold"]["evidence"]
    assert any(d.startswith("Flask-WTF ") for d in flask["dependents_installed"])


def test_gunicorn_deployments_are_wsgi(packages):
    for name in ("flask", "django"):
        stack = packages[name]["server_stack"]
        assert stack["interface"] == "WSGI", stack["evidence"]
        assert stack["server"].startswith("gunicorn ")
        assert stack["app_loaded"] is True, stack["evidence"]
        assert stack["worker_class"] == "sync"
        assert stack["tornado_used"] is False


def test_streamlit_is_asgi_on_uvicorn_not_tornado(packages):
    streamlit = packages["streamlit"]
    stack = streamlit["server_stack"]
    assert stack["interface"] == "ASGI", stack["evidence"]
    assert stack["tornado_used"] is False
    assert "uvicorn" in stack["server"] and "starlette" in stack["server"]
    assert "streamlit.web.server.starlette" in stack["evidence"]
    components = streamlit["components"]
    assert components["multipage"] is True
    assert "streamlit.navigation" in streamlit["component_evidence"]["multipage"]
    assert components["test_client"] is True
    assert "AppTest" in streamlit["component_evidence"]["test_client"]
    assert components["orm"] is False and components["admin"] is False
    assert "sql" in components["database_backends"]
    scaffold = streamlit["scaffold"]
    assert scaffold["command"].startswith("streamlit init")
    assert scaffold["works"] is True, scaffold["evidence"]


def test_a_framework_that_is_not_installed_is_reported_not_guessed(tmp_path):
    deployment = load(_manifest(tmp_path / "x", "no-such-framework-zz", ["*.toml"]))
    found = inspect_package(deployment)
    assert found["version"] is None
    assert not any(v for k, v in found["components"].items() if k != "database_backends")
    assert all("not installed" in e for e in found["component_evidence"].values())
    assert found["scaffold"]["works"] is False
    assert found["server_stack"]["interface"] is None


def test_an_unknown_installed_framework_is_inspected_with_what_can_be_found(tmp_path):
    # Werkzeug as if it were a deployment's framework: nothing here names it.
    found = inspect_package(load(_manifest(tmp_path / "w", "werkzeug", ["*.toml"])))
    assert found["version"]
    assert found["components"]["test_client"] is True  # werkzeug.test.Client
    assert found["components"]["orm"] is False
    assert "installs no command-line script" in found["scaffold"]["evidence"]
    assert "not one this module knows" in found["server_stack"]["evidence"]


def test_code_size_is_positive_deterministic_and_shares_gunicorn_conf():
    deployments = {d.name: d for d in discover()}
    for name in ("flask", "django", "streamlit"):
        size = code_size(deployments[name])
        assert size == code_size(deployments[name])
        assert size["sloc"] > 0 and size["files"] > 0 and size["config_lines"] > 0
    for name in ("flask", "django"):
        assert any(p.name == "gunicorn.conf.py" for p in code_files(deployments[name]))
        assert code_size(deployments[name])["template_lines"] > 0
    assert code_size(deployments["streamlit"])["template_lines"] == 0


def test_code_size_counts_each_class_of_file(tmp_path):
    folder = tmp_path / "d"
    _manifest(folder, "x", ["*.py", "templates/*.html", "*.toml"])
    (folder / "app.py").write_text(
        '"""Docstring."""\n\n# a comment\nx = 1\n\ndef f():\n    return x\n'
    )
    (folder / "settings.py").write_text("# settings\nDEBUG = False\nHOSTS = [\n    'a',\n]\n")
    (folder / "templates").mkdir()
    (folder / "templates" / "page.html").write_text("<p>\n\n  {{ x }}\n</p>\n")
    (folder / "extra.toml").write_text("# comment\n[server]\nport = 1\n\n")
    size = code_size(load(folder / "deployment.toml"))
    # app.py: x = 1, def f():, return x (not the docstring, comment or blank lines).
    # settings.py: DEBUG, HOSTS = [, 'a', (a string-only line counts; a lone "]" does not, for
    # pygount). extra.toml: [server], port = 1. page.html: 3 non-blank lines. The manifest
    # itself is never counted.
    assert size == {"sloc": 3, "files": 4, "config_lines": 5, "template_lines": 3}


def test_a_code_files_pattern_matching_nothing_is_an_error(tmp_path):
    folder = tmp_path / "d"
    _manifest(folder, "x", ["*.py", "templates/*.html"])
    (folder / "app.py").write_text("x = 1\n")
    with pytest.raises(CodeSizeError, match=r"'templates/\*\.html' matches no countable file"):
        code_size(load(folder / "deployment.toml"))


def test_shared_model_is_never_counted(tmp_path):
    deployments = {d.name: d for d in discover()}
    for deployment in deployments.values():
        assert not any("shared_model" in p.parts for p in code_files(deployment))
    folder = tmp_path / "d"
    shared = Path(__file__).resolve().parent.parent / "shared_model"
    _manifest(folder, "x", ["*.py", str(shared / "*.py")])
    (folder / "app.py").write_text("x = 1\n")
    with pytest.raises(CodeSizeError, match="shared_model"):
        code_size(load(folder / "deployment.toml"))


def test_subcommands_are_read_from_click_and_django_admin_help():
    click_help = "Usage: x\n\nOptions:\n  --help  Show.\n\nCommands:\n  init  New.\n  run   Run.\n"
    django_help = (
        "Type 'django-admin help <subcommand>'.\n\nAvailable subcommands:\n\n[django]\n"
        "    check\n    startproject\n\nNote that only Django core commands are listed.\n"
    )
    assert subcommands(click_help) == ["init", "run"]
    assert subcommands(django_help) == ["check", "startproject"]
    assert subcommands("no commands here\n") == []


def test_build_inspections_puts_the_tampered_verdict_into_every_config():
    probes = {
        "flask": {"default": {"concurrency": {}, "security": {"evidence": {}}}, "recommended": {}},
        "streamlit": {"default": {"concurrency": {}, "security": {"evidence": {}}}},
    }
    tampered = {"flask": {"tampered_model_refused": True, "evidence": "exit 3"}}
    doc = build_inspections({"flask": {}}, probes, tampered)
    assert doc["schema_version"] == 1
    assert doc["packages"] == {"flask": {}}
    for config in ("default", "recommended"):
        security = doc["probes"]["flask"][config]["security"]
        assert security["tampered_model_refused"] is True
        assert security["evidence"]["tampered_model_refused"] == "exit 3"
    assert doc["probes"]["streamlit"]["default"]["security"]["tampered_model_refused"] is None


def test_a_component_that_needs_an_extra_not_installed_counts_as_absent(packages):
    streamlit = packages["streamlit"]
    extra = streamlit["extras"].get("auth")
    assert extra is not None and extra["installed"] is False  # st.login needs streamlit[auth]
    assert streamlit["components"]["auth"] is False
    assert "does not work as installed" in streamlit["component_evidence"]["auth"]


def test_django_ships_sitemaps_users_groups_and_password_hashing_and_flask_does_not(packages):
    for name in ("sitemaps", "users", "user_groups", "password_hashing", "views"):
        assert packages["django"]["components"][name] is True, name
    for name in ("sitemaps", "users", "user_groups", "password_hashing"):
        assert packages["flask"]["components"][name] is False, name


def test_streamlit_has_raw_html_and_displays_for_pandas_matplotlib_and_latex(packages):
    components = packages["streamlit"]["components"]
    for name in ("raw_html", "dataframes", "matplotlib_plots", "latex"):
        assert components[name] is True, packages["streamlit"]["component_evidence"][name]
    assert packages["flask"]["components"]["raw_html"] is False


def test_provenance_dates_and_counts_from_the_installed_files(packages):
    flask, django, streamlit = (packages[n]["provenance"] for n in ("flask", "django", "streamlit"))
    assert flask["created"]["year"] == 2010 and "LICENSE" in flask["created"]["file"]
    assert django["created"]["year"] == 2003 and "AUTHORS" in django["created"]["file"]
    assert "created in" in django["created"]["words"]
    assert streamlit["created"]["year"] == 2018
    assert "Pallets" in " ".join(flask["maintainer"]["fields"].values())
    assert "Django Software Foundation" in " ".join(django["maintainer"]["fields"].values())
    assert {"werkzeug", "jinja2"} <= set(flask["required_distributions"])
    assert "asgiref" in django["required_distributions"]
    assert streamlit["files_by_language"]["javascript"]["bytes"] > 0
    assert set(streamlit["app_files_by_language"]) == {"python"}
    assert "html" in flask["app_files_by_language"]  # the form's template


def test_a_licence_of_vendored_code_does_not_date_the_project():
    from bench.checks import provenance

    django = provenance.metadata.distribution("django")
    names = {Path(str(p)).name for p in provenance._dating_files(django)}
    assert "AUTHORS" in names and "LICENSE.python" not in names


def test_the_articles_hello_world_does_not_compile_and_a_fixed_one_does():
    from bench.checks.snippets import SNIPPETS, compile_snippet

    printed = compile_snippet(SNIPPETS["article_hello_world"])
    assert printed["compiles"] is False
    assert printed["error"].startswith("IndentationError")
    fixed = "def home():\n    return 'Hello World!'\n"
    assert compile_snippet(fixed) == {"compiles": True, "error": None, "lines": 2}


def test_inspections_carry_the_compiled_snippets():
    document = build_inspections({}, {})
    assert document["snippets"]["article_hello_world"]["compiles"] is False


def test_djangos_orm_refuses_the_injections_its_raw_sql_control_lets_through(packages):
    found = packages["django"]["checks"]["sql_injection"]
    assert found["control_broke_out"] is True, found
    assert found["refused"] is True and found["table_intact"] is True
    assert set(found["orm_rows"].values()) == {0}
    assert packages["flask"]["checks"] == {}


def test_a_check_that_fails_is_stored_as_an_error_not_raised(tmp_path):
    from bench.checks.deployment_checks import run_checks

    folder = tmp_path / "x"
    manifest = _manifest(folder, "werkzeug", ["*.toml"])
    (folder / "broken.py").write_text("raise SystemExit('no database here')\n")
    (folder / "silent.py").write_text("print('not json')\n")
    checks = {"broken": "broken.py", "silent": "silent.py", "missing": "nope.py"}
    deployment = dataclasses.replace(load(manifest), checks=checks)
    found = run_checks(deployment)
    assert "no database here" in found["broken"]["error"]
    assert "no JSON" in found["silent"]["error"]
    assert "does not exist" in found["missing"]["error"]


def test_the_framework_names_an_app_uses_are_read_from_its_source(tmp_path):
    from bench.checks.provenance import framework_apis

    app = tmp_path / "app.py"
    app.write_text(
        "import streamlit as st\nfrom django import forms\nfrom flask import Flask\n"
        "x = st.slider('a')\nst.slider('b')\nclass F(forms.Form): pass\nimport os\nos.getcwd()\n"
    )
    (tmp_path / "page.html").write_text("{{ st.slider }}")
    assert framework_apis([app], ("streamlit",)) == ["streamlit.slider"]
    assert framework_apis([app], ("django", "flask")) == ["django.forms.Form", "flask.Flask"]
    broken = tmp_path / "broken.py"
    broken.write_text("def (:\n")
    assert framework_apis([broken, tmp_path / "page.html"], ("streamlit",)) == []


def test_each_deployment_records_the_framework_names_it_uses(packages):
    for name in ("flask", "django", "streamlit"):
        apis = packages[name]["provenance"]["framework_apis"]
        assert apis and all(a.split(".")[0] == name for a in apis), apis
    assert "streamlit.number_input" in packages["streamlit"]["provenance"]["framework_apis"]
