"""What one repetition measures: main configurations, model variants and worker counts."""

import dataclasses

from bench.run.passes import passes
from bench.run.plan import ModelVariants, Plan, Scaling, WorkPasses
from bench.targets.manifest import discover

PLAN = Plan(
    "t",
    levels=(1, 8),
    window_s=1,
    warmup_s=0,
    repetitions=1,
    cold_starts=0,
    configs=("default",),
    model_variants=ModelVariants(("iris-forest",), ("api_single", "ui_session"), (1,)),
    scaling=Scaling((1, 2), "api_single", (8,)),
)


def deployment(name: str):
    return {d.name: d for d in discover()}[name]


def test_flask_gets_its_main_pass_a_heavy_model_pass_and_a_pass_per_worker_count():
    found = passes(PLAN, deployment("flask"), "iris-logreg", server_cores=1)
    assert [(p.label, p.model, p.scenarios, p.levels) for p in found] == [
        ("default", "iris-logreg", ("api_single", "api_batch", "form"), (1, 8)),
        ("default", "iris-forest", ("api_single",), (1,)),
        # One worker is the default pass itself, at the same level: it is not measured twice.
        ("workers_2", "iris-logreg", ("api_single",), (8,)),
    ]
    assert found[1].server_env == {"SHARED_MODEL_NAME": "iris-forest"}
    assert found[2].server_env == {"WEB_CONCURRENCY": "2"}
    assert all(p.config == "default" for p in found)


def test_one_worker_gets_its_own_pass_where_the_default_pass_lacks_the_scaling_level():
    plan = dataclasses.replace(PLAN, scaling=Scaling((1, 2), "api_single", (64,)))
    labels = [p.label for p in passes(plan, deployment("flask"), "iris-logreg", server_cores=1)]
    assert labels[-2:] == ["workers_1", "workers_2"]


def test_streamlit_has_no_worker_setting_and_the_null_target_no_model():
    streamlit = passes(PLAN, deployment("streamlit"), "iris-logreg", server_cores=1)
    assert [(p.label, p.model) for p in streamlit] == [
        ("default", "iris-logreg"),
        ("default", "iris-forest"),
    ]
    null = passes(PLAN, deployment("null"), "iris-logreg", server_cores=1)
    assert [(p.label, p.model, p.scenarios) for p in null] == [
        ("default", "iris-logreg", ("api_single",))
    ]


def test_worker_counts_follow_the_server_cores_when_the_plan_says_cores():
    plan = dataclasses.replace(PLAN, scaling=Scaling(None, "api_single", (8,)))
    labels = [p.label for p in passes(plan, deployment("django"), "m", server_cores=6)]
    assert labels[-3:] == ["workers_2", "workers_4", "workers_6"]
    assert "workers_1" not in labels


def test_the_passes_aside_are_marked_so_a_plan_can_give_them_fewer_repetitions():
    found = passes(PLAN, deployment("flask"), "iris-logreg", server_cores=1)
    assert [(p.label, p.model, p.aside) for p in found] == [
        ("default", "iris-logreg", False),
        ("default", "iris-forest", True),
        ("workers_2", "iris-logreg", True),
    ]
    plan = dataclasses.replace(PLAN, repetitions=5, aside_repetitions=3)
    assert [plan.measures_aside(rep) for rep in range(1, 6)] == [True] * 3 + [False] * 2
    assert PLAN.measures_aside(99)


def test_the_main_passes_starts_are_the_cold_start_samples_after_the_first():
    from types import SimpleNamespace

    from bench.run.cold_starts import first_own_sample, pass_start_sample

    plan = dataclasses.replace(PLAN, repetitions=5, cold_starts=5)
    run = SimpleNamespace(plan=plan, target=None, model_name="iris-logreg")
    flask = deployment("flask")
    samples = [pass_start_sample(run, flask, "default", "iris-logreg", rep) for rep in range(1, 6)]
    # Sample 1 is verification's start; repetitions 1 to 4 give 2 to 5; repetition 5 none.
    assert samples == [2, 3, 4, 5, None]
    assert first_own_sample(run) == 7  # no start of their own: 5 samples are all given
    for label, model in (("workers_2", "iris-logreg"), ("no_gc", "iris-logreg"),
                         ("default", "iris-forest")):  # fmt: skip
        assert pass_start_sample(run, flask, label, model, 1) is None
    assert pass_start_sample(run, deployment("null"), "default", "iris-logreg", 1) is None
    target = SimpleNamespace(plan=plan, target="http://example", model_name="iris-logreg")
    assert pass_start_sample(target, flask, "default", "iris-logreg", 1) is None
    more = SimpleNamespace(plan=dataclasses.replace(plan, repetitions=1), target=None)
    assert first_own_sample(more) == 3  # one repetition gives sample 2; 3 to 5 start on their own


def test_work_configurations_are_passes_aside_at_the_work_levels_and_scenarios():
    plan = dataclasses.replace(
        PLAN,
        configs=("default", "plain", "keepalive"),
        work=WorkPasses(levels=(16,), scenarios=("api_single",)),
        model_variants=None,
        scaling=None,
    )
    found = passes(plan, deployment("django"), "iris-logreg", server_cores=1)
    assert [(p.label, p.scenarios, p.levels, p.aside) for p in found] == [
        ("default", ("api_single", "api_batch", "form"), (1, 8), False),
        ("plain", ("api_single",), (16,), True),
        ("keepalive", ("api_single",), (16,), True),
    ]
