"""The protocol registry (bench/clients/__init__.py), without a server: every scenario speaks a
protocol that has a client and verify checks, and the harness chooses clients, not scenarios."""

import ast
import dataclasses
import json
import subprocess
import sys

import pytest
from streamlit.proto.Element_pb2 import Element

from bench import PROJECT_ROOT
from bench.checks.verify import PROTOCOL_CHECKS
from bench.clients import (
    CLIENTS,
    SCENARIO_PROTOCOLS,
    Client,
    client,
    clients_for,
    main_client,
    missing_note,
    timeout_for,
)
from bench.clients.streamlit import ScriptRun, StreamlitProtocolError
from bench.targets.manifest import SCENARIOS, discover

# The modules that used to choose behaviour by a scenario's name.
CHOOSERS = [
    "bench/run/cold_starts.py",
    "bench/checks/foreign_host.py",
    *(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "bench/checks").glob("verify*.py")),
    *(str(p.relative_to(PROJECT_ROOT)) for p in (PROJECT_ROOT / "bench/checks").glob("probes*.py")),
]


def test_every_scenario_speaks_a_protocol_with_a_client_and_checks():
    assert set(SCENARIO_PROTOCOLS) == set(SCENARIOS)
    assert set(SCENARIO_PROTOCOLS.values()) == set(CLIENTS) == set(PROTOCOL_CHECKS)
    for protocol in CLIENTS:
        made = client(protocol)
        assert isinstance(made, Client), protocol
        assert made.protocol == protocol


def test_the_main_client_speaks_the_first_listed_scenario():
    for d in discover():
        assert main_client(d).protocol == SCENARIO_PROTOCOLS[d.scenarios[0]], d.name
        assert next(iter(clients_for(d))) == main_client(d).protocol
        assert set(clients_for(d)) == {SCENARIO_PROTOCOLS[s] for s in d.scenarios}


def test_a_scenario_without_a_protocol_is_named_in_the_error():
    flask = {d.name: d for d in discover()}["flask"]
    with pytest.raises(ValueError, match="'carrier_pigeon' names no protocol"):
        clients_for(dataclasses.replace(flask, scenarios=("carrier_pigeon",)))


def test_streamlit_gets_the_time_its_first_run_needs():
    streamlit, rest = client("streamlit"), client("rest")
    assert timeout_for(rest, 5) == 5
    assert timeout_for(streamlit, 5) == streamlit.min_timeout_s > 5
    assert timeout_for(streamlit, streamlit.min_timeout_s + 1) == streamlit.min_timeout_s + 1


def test_a_missing_protocol_is_told_by_its_scenarios():
    assert missing_note({"form"}) == "no 'form' scenario"
    assert missing_note({"rest"}) == "no 'api_single' or 'api_batch' scenario"


def scenario_names_in_code(source: str) -> list[str]:
    """The string constants of the code (not its docstrings) that are a scenario's name."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in SCENARIOS and id(node) not in docstrings
    ]


def test_the_scan_finds_a_scenario_name_in_code_and_not_in_a_docstring():
    assert scenario_names_in_code('"""form"""\nif "ui_session" in x:\n    pass\n') == ["ui_session"]


@pytest.mark.parametrize("path", CHOOSERS)
def test_no_scenario_name_chooses_behaviour_outside_the_clients(path):
    assert scenario_names_in_code((PROJECT_ROOT / path).read_text()) == [], path


def test_locust_s_imports_pay_for_no_protocol_library():
    code = (
        "import sys, bench.clients.answers, bench.clients.payloads; "
        "print([m for m in ('requests', 'websocket', 'lxml') if m in sys.modules])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def script_run(heading: str | None, probabilities: dict[str, float] | None) -> ScriptRun:
    run = ScriptRun(status="FINISHED_SUCCESSFULLY")
    if heading is not None:
        element = Element()
        element.heading.body = heading
        run.elements.append(element)
    if probabilities is not None:
        element = Element()
        element.json.body = json.dumps(probabilities)
        run.elements.append(element)
    return run


def test_the_streamlit_page_gives_the_rest_answer_s_shape(model):
    probabilities = dict(zip(model.classes, (0.1, 0.7, 0.2), strict=True))
    shown = script_run(f"Prediction: {model.classes[1]}", probabilities).prediction()
    assert shown == {"label": model.classes[1], "class_id": 1, "probabilities": probabilities}


@pytest.mark.parametrize(
    ("heading", "probabilities"),
    [(None, {"a": 1.0}), ("Prediction: a", None), ("Prediction: z", {"a": 1.0}), ("Other", None)],
)
def test_a_page_without_a_prediction_is_a_protocol_error(heading, probabilities):
    with pytest.raises(StreamlitProtocolError, match=r"no prediction|not among"):
        script_run(heading, probabilities).prediction()
