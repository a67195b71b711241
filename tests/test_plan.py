import pytest

from bench.run.plan import PlanError, load_plan
from bench.targets.manifest import discover


def test_the_shipped_profiles_load():
    full, quick = load_plan("full"), load_plan("quick")
    assert full.repetitions >= 5 and len(full.levels) >= 2
    assert quick.repetitions == 1 and len(quick.levels) == 2
    assert "default" in full.configs and quick.configs == ("default",)
    assert full.slo and full.model_variants and full.scaling
    # Real browsers beside the Streamlit client, in the full profile only (chromium is slow).
    assert full.browser and full.browser.sessions == (1, 4) and quick.browser is None


def test_configs_filter_what_a_manifest_declares():
    deployments = {d.name: d for d in discover()}
    streamlit, flask = deployments["streamlit"], deployments["flask"]
    quick, full = load_plan("quick"), load_plan("full")
    assert quick.configs_for(flask) == ["default"]
    assert full.configs_for(flask) == ["default", "project_defaults", "equal_work", "keepalive"]
    assert "diag_nodelay" in full.configs_for(streamlit)
    assert full.levels_for(streamlit, "diag_nodelay") == full.diagnostic_levels
    assert full.levels_for(streamlit, "no_gc") == full.levels


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[profiles.x]\nlevels = [1]\n", "window_s"),
        ("[profiles.x]\nlevels = []\nwindow_s = 1\n", "levels must be"),
        ("[profiles.x]\nlevels = [1]\nwindow_s = 0\n", "window_s must be"),
        ("[profiles.x]\nlevels = [1]\nwindow_s = 1\nrepetitions = 0\n", "repetitions must be"),
        ("[profiles.x\n", "cannot read"),
        (
            "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.model_variants]\n"
            'models = ["iris-huge"]\nscenarios = ["api_single"]\nlevels = [1]\n',
            "unknown models",
        ),
        (
            "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.slo]\n"
            "bounds_ms = { api_single = 100 }\nstart_rates = {}\nwindow_s = 1\n",
            "same scenarios",
        ),
        (
            "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.slo]\n"
            "bounds_ms = {}\nstart_rates = {}\nwindow_s = 1\n",
            "same scenarios",
        ),
        (
            "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.scaling]\n"
            'workers = [0]\nscenario = "api_single"\nlevels = [1]\n',
            "workers must be",
        ),
        (
            "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.browser]\n"
            "sessions = [0]\ninteractions = 5\n",
            "browser: sessions and interactions must be positive",
        ),
    ],
)
def test_a_broken_plan_says_what_is_wrong(tmp_path, text, message):
    path = tmp_path / "plan.toml"
    path.write_text(text)
    with pytest.raises(PlanError, match=message):
        load_plan("x", path)


def test_work_configurations_run_only_where_the_plan_says(tmp_path):
    deployments = {d.name: d for d in discover()}
    django, fastapi = deployments["django"], deployments["fastapi"]
    full, quick = load_plan("full"), load_plan("quick")
    assert full.work is not None and quick.work is None
    assert {"project_defaults", "equal_work", "plain", "keepalive"} <= set(full.configs_for(django))
    assert full.scenarios_for(django, "plain") == full.work.scenarios == ("api_single",)
    assert full.levels_for(django, "plain") == full.work.levels
    assert full.scenarios_for(django) == django.scenarios  # the default keeps them all
    assert full.configs_for(fastapi) == ["default"]  # its default already does the equal work
    # A plan without a work table measures none, even where its configs name them.
    path = tmp_path / "plan.toml"
    path.write_text('[profiles.x]\nlevels = [1]\nwindow_s = 1\nconfigs = ["default", "plain"]\n')
    assert load_plan("x", path).configs_for(django) == ["default"]
    path.write_text(
        "[profiles.x]\nlevels = [1]\nwindow_s = 1\n[profiles.x.work]\nlevels = [0]\n"
        'scenarios = ["api_triple"]\n'
    )
    with pytest.raises(PlanError, match="work: levels must be positive"):
        load_plan("x", path)


def test_an_unknown_profile_names_the_known_ones():
    with pytest.raises(PlanError, match="quick"):
        load_plan("fastest")


def test_the_window_rule_comes_from_the_plan():
    rule = load_plan("full").window_rule()
    assert rule.max_s == load_plan("full").window_s
    assert 0 < rule.min_s <= rule.max_s and rule.min_interactions >= 1000
    quick = load_plan("quick").window_rule()
    assert quick.min_interactions == 100 and quick.max_s <= rule.max_s


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("window_min_s = 5\nsteady_tolerance = 2.0\n", "the window rule"),
        ("window_min_interactions = 1.5\n", "window_min_interactions must be a whole number"),
        ("[profiles.x.crosscheck]\nwindow_s = 0.5\n", "crosscheck: window_s >= 1"),
        ("scenario_min_interactions = { chat = 10 }\n", "scenario_min_interactions: chat"),
        ("scenario_min_interactions = 100\n", "scenario_min_interactions must be a table"),
        ('[profiles.x.stacks.2022]\nlevels = [1]\nscenarios = ["chat"]\n', "scenarios must be"),
    ],
)
def test_a_broken_window_rule_or_crosscheck_says_what_is_wrong(tmp_path, extra, message):
    path = tmp_path / "plan.toml"
    path.write_text("[profiles.x]\nlevels = [1]\nwindow_s = 3\n" + extra)
    with pytest.raises(PlanError, match=message):
        load_plan("x", path)


def test_the_full_profile_crosschecks_with_wrk_inside_its_repetitions():
    full = load_plan("full")
    assert full.crosscheck and 1 <= full.crosscheck.repetitions <= full.repetitions


def test_a_scenario_may_need_fewer_interactions_in_its_windows(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        "[profiles.x]\nlevels = [1]\nwindow_s = 3\nwindow_min_interactions = 500\n"
        "scenario_min_interactions = { ui_session = 100 }\n"
    )
    plan = load_plan("x", path)
    assert plan.window_rule("ui_session").min_interactions == 100
    assert plan.window_rule("api_single").min_interactions == 500
    assert plan.window_rule().min_interactions == 500


def test_another_stack_may_load_fewer_scenarios_and_the_slo_search_fewer_roles():
    deployments = {d.name: d for d in discover()}
    full = load_plan("full")
    stack = full.stacks["2022"]
    assert stack.scenarios is not None
    django_2022, django = deployments["django-2022"], deployments["django"]
    assert full.scenarios_for(django_2022) == tuple(
        s for s in django_2022.scenarios if s in stack.scenarios
    )
    assert full.scenarios_for(django) == django.scenarios
    assert full.slo is not None
    searched = {d.name for d in deployments.values() if full.searches_slo(d)}
    assert searched == {
        d.name for d in deployments.values() if d.role in full.slo.roles and d.stack.name == "today"
    }
    # The review's frameworks and the null target (the generator's open-loop ceiling).
    assert {"flask", "django", "streamlit", "null"} <= searched and "fastapi" not in searched


def test_a_scenario_may_have_a_longer_window_and_a_model_variant_fewer_interactions(tmp_path):
    path = tmp_path / "plan.toml"
    path.write_text(
        "[profiles.x]\nlevels = [1]\nwindow_s = 3\nwindow_min_s = 1\n"
        "scenario_window_s = { ui_session = 9 }\n"
        "[profiles.x.model_variants]\n"
        'models = ["iris-forest"]\nscenarios = ["api_single"]\nlevels = [1]\n'
        "min_interactions = 50\n"
    )
    plan = load_plan("x", path)
    assert plan.window_rule("ui_session").max_s == 9
    assert plan.window_rule("api_single").max_s == 3
    assert plan.window_rule("api_single").min_interactions == 1000
    assert plan.window_rule("api_single", variant=True).min_interactions == 50


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("scenario_window_s = { chat = 10 }\n", "scenario_window_s: chat"),
        ("scenario_window_s = { ui_session = 0 }\n", "scenario_window_s: ui_session"),
        (
            '[profiles.x.model_variants]\nmodels = ["iris-forest"]\nscenarios = ["api_single"]\n'
            "levels = [1]\nmin_interactions = 0\n",
            "min_interactions must be at least 1",
        ),
    ],
)
def test_a_broken_window_length_or_variant_minimum_says_what_is_wrong(tmp_path, extra, message):
    path = tmp_path / "plan.toml"
    path.write_text("[profiles.x]\nlevels = [1]\nwindow_s = 3\n" + extra)
    with pytest.raises(PlanError, match=message):
        load_plan("x", path)
