import json
from pathlib import Path

import pytest
from streamlit.proto.Element_pb2 import Element
from streamlit.testing.v1 import AppTest

from bench.clients.streamlit import ScriptRun
from shared_model.model import predict

APP = Path(__file__).resolve().parent.parent / "deployments" / "streamlit_app" / "app.py"


@pytest.fixture
def app():
    return AppTest.from_file(str(APP), default_timeout=60).run()


def test_the_page_offers_the_model_inputs_with_the_form_defaults(app, model):
    assert not app.exception
    assert {n.label: n.value for n in app.number_input} == {
        f["name"]: f["default"] for f in model.metadata["features"]
    }
    assert not app.subheader  # no prediction before the button is pressed


def test_predict_shows_the_shared_model_prediction(app, model):
    row = {
        "sepal_length_cm": 6.5,
        "sepal_width_cm": 3.0,
        "petal_length_cm": 5.5,
        "petal_width_cm": 2.0,
    }
    for widget in app.number_input:
        widget.set_value(row[widget.label])
    app.button[0].click().run()
    expected = predict(model, [row])[0]
    assert not app.exception
    assert app.subheader[0].value == f"Prediction: {expected['label']}"
    assert json.loads(app.json[0].value) == pytest.approx(expected["probabilities"], abs=1e-9)


def _element(kind: str, body: str) -> Element:
    element = Element()
    getattr(element, kind).body = body
    return element


@pytest.mark.parametrize(
    "elements",
    [
        [("heading", "Iris classifier"), ("heading", "Prediction: virginica")],  # 1.67
        # 1.6 sends st.title, st.caption and st.subheader as markdown.
        [
            ("markdown", "# Iris classifier"),
            ("markdown", "Model x"),
            ("markdown", "### Prediction: virginica"),
        ],
    ],
    ids=["heading elements", "markdown headings"],
)
def test_the_client_reads_the_prediction_from_either_streamlits_elements(elements):
    run = ScriptRun(elements=[_element(kind, body) for kind, body in elements])
    assert run.headings == ["Iris classifier", "Prediction: virginica"]
    assert run.prediction_label == "virginica"


def test_markdown_that_is_no_heading_is_no_prediction():
    run = ScriptRun(elements=[_element("markdown", "Prediction: virginica")])
    assert run.headings == [] and run.prediction_label is None
