"""Flask deployment: the JSON API and an HTML form around the shared model."""

from __future__ import annotations

import math
import os
from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from wtforms import Field, FloatField, Form
from wtforms.validators import InputRequired, ValidationError

from shared_model.model import LoadedModel, load_model, predict
from shared_model.schema import (
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    MAX_BODY_BYTES,
    InputError,
    http_error_body,
    parse_json_body,
    validate_instance,
    validate_request,
)

csrf = CSRFProtect()


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY"), MAX_CONTENT_LENGTH=MAX_BODY_BYTES
    )
    app.config.update(test_config or {})
    app.json.sort_keys = False  # keep the contract's key order, as Django REST framework does
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("FLASK_SECRET_KEY is not set: the form's CSRF tokens need a secret key")
    csrf.init_app(app)
    model = load_model()
    form_class = prediction_form_class(model)

    @app.get("/health")
    def health() -> Any:
        return {"status": "ok", "model": model.summary}

    @app.post("/api/predict")
    @csrf.exempt  # a JSON API called without cookies: there is no session to forge
    def api_predict() -> Any:
        if request.mimetype != JSON_MEDIA_TYPE:
            raise InputError("unsupported_media_type", HTTP_ERRORS[415][1])
        instances = validate_request(parse_json_body(request.get_data()), model.feature_names)
        return {"predictions": predict(model, instances), "model": model.summary}

    @app.route("/", methods=["GET", "POST"])
    def index() -> Any:
        form = form_class()
        result, status = None, 200
        if request.method == "POST":
            result = form_prediction(form, model)
            status = 200 if result else 400
        return render_template("index.html", form=form, model=model, result=result), status

    @app.errorhandler(InputError)
    def input_error(error: InputError) -> Any:
        return jsonify(error.body()), error.status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        # Flask-WTF answers 400; the contract (and Django) answer 403 Forbidden.
        return jsonify(http_error_body(403)), 403

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        status = error.code or 500
        return jsonify(http_error_body(status)), status

    return app


def prediction_form_class(model: LoadedModel) -> type[FlaskForm]:
    """A Flask-WTF form with one number field per model feature."""
    fields = {
        feature["name"]: FloatField(
            validators=[InputRequired(), finite],
            default=feature["default"],
            render_kw={"min": feature["min"], "max": feature["max"]},
        )
        for feature in model.metadata["features"]
    }
    return type("PredictionForm", (FlaskForm,), fields)


def finite(form: Form, field: Field) -> None:
    """WTForms' FloatField takes "nan" and "inf"; Django's FloatField refuses them, and so do we."""
    if field.data is not None and not math.isfinite(field.data):
        raise ValidationError("Enter a finite number.")


def form_prediction(form: FlaskForm, model: LoadedModel) -> dict[str, Any] | None:
    """The prediction for a submitted form, or None with the errors put on the form."""
    if not form.validate_on_submit():
        return None
    try:
        instance = validate_instance(
            {name: form[name].data for name in model.feature_names}, model.feature_names
        )
    except InputError as error:
        form[error.field.rsplit(".", 1)[-1]].errors.append(error.message)
        return None
    return predict(model, [instance])[0]
