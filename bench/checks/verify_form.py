"""The HTML form's conformance checks: the browser's round trip, its CSRF token, and values a
browser's number field would never send."""

from __future__ import annotations

import requests

from bench.checks.verify_common import TIMEOUT_S, Check, NamedChecks, require
from bench.clients.answers import same_predictions
from bench.clients.form import FormClient
from bench.clients.form_page import field_errors, shown_prediction
from bench.clients.payloads import canonical_instances
from bench.targets.servers import RunningDeployment
from shared_model.model import LoadedModel, predict

FORM = FormClient()
PROTOCOL = FORM.protocol


def checks() -> NamedChecks:
    yield "form round trip with CSRF token", check_form
    yield "form without CSRF token refused", check_form_csrf
    yield "form rejects NaN", check_form_rejects_nan
    yield "form rejects 1e308", _form_refuses("1e308")


def check_form(running: RunningDeployment, model: LoadedModel) -> None:
    form = FORM.open(running.base_url, TIMEOUT_S)
    require(form.page.status_code == 200, f"GET / answered {form.page.status_code}")
    fields = form.fields
    defaults = {f["name"]: f["default"] for f in model.metadata["features"]}
    shown_defaults = {name: float(fields.get(name, "nan")) for name in defaults}
    require(
        shown_defaults == defaults,
        f"form defaults {shown_defaults} differ from the model's {defaults}",
    )
    for row in canonical_instances(model)[:4]:
        answer = form.submit({**fields, **row}, TIMEOUT_S)
        require(
            answer.status_code == 200,
            f"form POST answered {answer.status_code}: {answer.text[:160]}",
        )
        shown = shown_prediction(answer.text)
        require(shown is not None, "the page shows no prediction")
        require(
            same_predictions([shown.as_prediction()], predict(model, [row]), tolerance=0.0),
            f"page shows {shown} for {row}",
        )


def check_form_csrf(running: RunningDeployment, model: LoadedModel) -> None:
    form = FORM.open(running.base_url, TIMEOUT_S)
    tokenless = {name: value for name, value in form.fields.items() if name in model.feature_names}
    answer = form.submit(tokenless, TIMEOUT_S)
    require(
        answer.status_code == 403, f"a POST without the CSRF token answered {answer.status_code}"
    )
    require("csrf_failed" in answer.text, f"the refusal does not say why: {answer.text[:160]!r}")


def _form_refuses(value: str) -> Check:
    def check(running: RunningDeployment, model: LoadedModel) -> requests.Response:
        form = FORM.open(running.base_url, TIMEOUT_S)
        answer = form.submit({**form.fields, model.feature_names[0]: value}, TIMEOUT_S)
        status = answer.status_code
        require(status == 400, f"answered {status}, expected 400", status)
        require(shown_prediction(answer.text) is None, f"a prediction is shown for {value}", status)
        require(bool(field_errors(answer.text)), "no field error is shown", status)
        return answer

    return check


check_form_rejects_nan = _form_refuses("nan")
