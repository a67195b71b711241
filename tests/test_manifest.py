import pytest

from bench.targets.manifest import ManifestError, discover, load, select

MINIMAL = """
name = "tiny"
framework = "tiny"
command = ["{python}", "-m", "tiny", "--port", "{port}"]
port = 9999
scenarios = ["api_single"]
"""


def test_the_three_deployments_are_discovered():
    deployments = {d.name: d for d in discover()}
    assert {"flask", "django", "streamlit"} <= set(deployments)
    assert deployments["streamlit"].scenarios == ("ui_session",)
    assert not deployments["streamlit"].has_api
    assert deployments["flask"].has_api


def test_flask_and_django_are_served_alike():
    deployments = {d.name: d for d in discover()}
    flask, django = deployments["flask"], deployments["django"]
    assert flask.server == django.server == "gunicorn"
    assert flask.command[:5] == django.command[:5]  # same interpreter, server and settings file
    for config in ("default", "recommended"):
        assert flask.environment(config, 1, 2) == django.environment(config, 1, 2)


def test_a_deployment_names_the_extensions_it_adds_to_its_framework(tmp_path):
    deployments = {d.name: d for d in discover()}
    assert deployments["flask"].extensions["forgery"] == "flask-wtf"
    assert deployments["streamlit"].extensions == {}
    path = tmp_path / "deployment.toml"
    path.write_text(MINIMAL + 'extensions = { headers = "tiny-headers" }\n')
    assert load(path).extensions == {"headers": "tiny-headers"}


def test_placeholders_are_filled(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(MINIMAL + '[configs.default]\nenv = { W = "{gunicorn_recommended_workers}" }\n')
    tiny = load(path)
    assert tiny.argv("default", 1234, 2)[-1] == "1234"
    assert tiny.environment("default", 1234, 2) == {"W": "5"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("name = ", "cannot read manifest"),
        (MINIMAL.replace("port = 9999", ""), "missing required key"),
        (MINIMAL.replace('"api_single"', '"api_triple"'), "unknown scenario"),
        (MINIMAL.replace("{port}", "{cores}"), "unknown placeholder"),
        (MINIMAL + '[configs.tuned]\ndescription = "x"\n', "must include 'default'"),
        (MINIMAL + 'role = "judge"\n', "role must be"),
        (MINIMAL + "extensions = { forms = 3 }\n", "extensions must be a table"),
    ],
)
def test_a_broken_manifest_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "deployment.toml"
    path.write_text(text)
    with pytest.raises(ManifestError, match=message):
        load(path)


def test_adding_a_folder_adds_a_deployment(tmp_path):
    (tmp_path / "tiny").mkdir()
    (tmp_path / "tiny" / "deployment.toml").write_text(MINIMAL)
    assert [d.name for d in discover(tmp_path)] == ["tiny"]


def test_unknown_names_are_refused():
    with pytest.raises(ManifestError, match="no deployment named"):
        select(discover(), ["nope"])


def test_a_config_may_replace_the_command_and_be_a_diagnostic(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(
        MINIMAL
        + '[configs.default]\n[configs.diag]\ncommand = ["{python}", "-m", "other"]\n'
        + 'args = ["--x"]\ndiagnostic = true\n'
    )
    tiny = load(path)
    assert tiny.argv("diag", 1, 1)[1:] == ["-m", "other", "--x"]
    assert tiny.argv("default", 1, 1)[1:3] == ["-m", "tiny"]
    assert tiny.configs["diag"].diagnostic and not tiny.configs["default"].diagnostic


def test_the_default_config_cannot_be_a_diagnostic(tmp_path):
    path = tmp_path / "deployment.toml"
    path.write_text(MINIMAL + "[configs.default]\ndiagnostic = true\n")
    with pytest.raises(ManifestError, match="must include 'default'"):
        load(path)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("[configs.default]\nwork = true\n", "must include 'default'"),
        ('[configs.default]\n[configs.w]\nwork = "yes"\n', "work must be true or false"),
        ("[configs.default]\n[configs.w]\nwork = true\ndiagnostic = true\n", "not both"),
    ],
)
def test_a_work_config_is_a_flag_on_a_config_besides_the_default(tmp_path, config, message):
    path = tmp_path / "deployment.toml"
    path.write_text(MINIMAL + config)
    with pytest.raises(ManifestError, match=message):
        load(path)
    path.write_text(MINIMAL + "[configs.default]\n[configs.w]\nwork = true\n")
    assert load(path).configs["w"].work


def test_every_deployment_says_how_it_refuses_a_foreign_host():
    """The report's configurations table shows it; the hostile-input suite checks it holds."""
    assert all(d.host_check for d in discover())
