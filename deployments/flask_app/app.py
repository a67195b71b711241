"""Flask deployment: the JSON API and an HTML form around the shared model."""

from __future__ import annotations

import math
import os
from typing import Any

from flask import Flask, Response, jsonify, render_template, request
from flask_talisman import Talisman
from flask_wtf import FlaskForm
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException, SecurityError
from wtforms import Field, FloatField, Form
from wtforms.validators import InputRequired, ValidationError
from wtforms.widgets import NumberInput

from deployments.allowed_hosts import allowed_hosts, host_allowed
from deployments.response_headers import (
    AS_DEPLOYED,
    EQUAL_WORK,
    SECURITY_HEADERS,
    work_mode,
)
from shared_model.model import LoadedModel, load_model, predict
from shared_model.openapi import OPENAPI_PATH, openapi_document
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

try:
    from flask.json.provider import DefaultJSONProvider
except ImportError:  # Shim: Flask < 2.2 (the 2022 stack, which has no equal-work configuration)
    DefaultJSONProvider = object  # type: ignore[assignment,misc]

csrf = CSRFProtect()
# The page's only resource is its inline <style>, let in by a per-request nonce.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "style-src": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
    "base-uri": "'none'",
    "object-src": "'none'",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    # One byte over the contract's limit: Werkzeug cuts a streamed (chunked) body at
    # MAX_CONTENT_LENGTH without an error, so the byte too many is what parse_json_body needs
    # to answer 413 rather than "malformed JSON". A declared Content-Length over it is a 413 too.
    # TRUSTED_HOSTS: a request naming another host (DNS rebinding) is a 400 before routing.
    app.config.update(
        SECRET_KEY=os.environ.get("FLASK_SECRET_KEY"),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES + 1,
        TRUSTED_HOSTS=allowed_hosts(),
    )
    app.config.update(test_config or {})
    # Keep the contract's key order, as Django REST framework does.
    if hasattr(app, "json"):
        app.json.sort_keys = False
    else:  # Shim: Flask < 2.2 has no app.json provider, only this setting.
        app.config["JSON_SORT_KEYS"] = False
    if "TRUSTED_HOSTS" not in Flask.default_config:  # Flask < 3.1
        check_trusted_hosts(app)
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("FLASK_SECRET_KEY is not set: the form's CSRF tokens need a secret key")
    csrf.init_app(app)
    add_headers(app, work_mode())
    model = load_model()
    form_class = prediction_form_class(model)
    api_document = openapi_document(model.metadata)

    @app.get("/health")
    def health() -> Any:
        return {"status": "ok", "model": model.summary}

    @app.get(OPENAPI_PATH)
    def openapi() -> Any:
        return api_document

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
        # A 405 must name the allowed methods (RFC 9110); werkzeug's headers carry them.
        allow = {k: v for k, v in error.get_headers() if k == "Allow"}
        return jsonify(http_error_body(status)), status, allow

    return app


def add_headers(app: Flask, mode: str) -> None:
    """The response headers of this start's way of answering (deployments/response_headers.py):
    Flask-Talisman's as deployed, the shared fixed set for equal work, none of either as the
    Flask tutorial gives it (the page's <style> then has an empty nonce and no CSP)."""
    if mode == AS_DEPLOYED:
        # The servers speak plain HTTP on 127.0.0.1: no redirect to https, and a session cookie
        # marked Secure would never come back, which would break the form's CSRF token.
        Talisman(
            app,
            force_https=False,
            session_cookie_secure=False,
            frame_options="DENY",
            content_security_policy=CONTENT_SECURITY_POLICY,
            content_security_policy_nonce_in=["style-src"],
            # Flask-Talisman 1.1's defaults, named: 0.8 (2022) sends interest-cohort and
            # X-XSS-Protection.
            permissions_policy={"browsing-topics": "()"},
            x_xss_protection=False,
        )
        return
    app.jinja_env.globals["csp_nonce"] = str
    if mode == EQUAL_WORK:
        app.json = CompactJSONProvider(app)

        @app.after_request
        def security_headers(response: Response) -> Response:
            response.headers.extend(SECURITY_HEADERS)
            return response


class CompactJSONProvider(DefaultJSONProvider):
    """Equal work: the bytes every other deployment sends for the same answer. Flask's own
    provider adds a newline after the JSON; the others do not."""

    sort_keys = False

    def response(self, *args: Any, **kwargs: Any) -> Response:
        obj = self._prepare_response_obj(args, kwargs)
        return self._app.response_class(
            self.dumps(obj, separators=(",", ":")), mimetype=self.mimetype
        )


def check_trusted_hosts(app: Flask) -> None:
    """Shim: Flask < 3.1 ignores TRUSTED_HOSTS, so check the Host where Flask 3.1 does: making
    the URL adapter, whose error becomes the request's routing error (a 400 raised after the
    before_request hooks, on no endpoint, so no CSRF check). The rule is allowed_hosts.py's:
    Werkzeug 2.0's host_is_trusted reads IPv6 names differently from 3.1's."""
    make_url_adapter = app.create_url_adapter

    def create_url_adapter(request: Any) -> Any:
        if request is not None and not host_allowed(request.host, app.config["TRUSTED_HOSTS"]):
            raise SecurityError(f"Host {request.host!r} is not trusted.")
        return make_url_adapter(request)

    app.create_url_adapter = create_url_adapter  # type: ignore[method-assign]


def prediction_form_class(model: LoadedModel) -> type[FlaskForm]:
    """A Flask-WTF form with one number field per model feature."""
    fields = {
        feature["name"]: FloatField(
            validators=[InputRequired(), finite],
            default=feature["default"],
            widget=NumberInput(step="any"),  # WTForms 3.1's default; 3.0 renders a text input
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
