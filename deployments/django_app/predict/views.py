"""The Django deployment: the JSON API (Django REST framework) and the HTML form."""

from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views import View
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shared_model.model import LoadedModel, predict
from shared_model.schema import (
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    InputError,
    http_error_body,
    validate_instance,
    validate_request,
)


def shared_model() -> LoadedModel:
    return apps.get_app_config("predict").model


class HealthView(APIView):
    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "model": shared_model().summary})


class OpenAPIView(APIView):
    def get(self, request: Request) -> Response:
        return Response(apps.get_app_config("predict").api_document)


class PredictView(APIView):
    def post(self, request: Request) -> Response:
        model = shared_model()
        instances = validate_request(json_payload(request), model.feature_names)
        return Response({"predictions": predict(model, instances), "model": model.summary})


def json_payload(request: Request) -> Any:
    # REST framework skips content negotiation and parsing for an empty body and hands the view
    # {}; the contract treats that body like any other: a JSON media type, then valid JSON.
    if request.content_type.split(";")[0].strip() != JSON_MEDIA_TYPE:
        raise InputError("unsupported_media_type", HTTP_ERRORS[415][1])
    if request.stream is None:
        raise InputError("invalid_json", "request body is empty; expected a JSON object")
    return request.data


class PredictionFormView(View):
    template_name = "predict/index.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.page(request, self.form_class()(auto_id="%s"))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.form_class()(request.POST, auto_id="%s")
        result = form_prediction(form, shared_model())
        return self.page(request, form, result, status=200 if result else 400)

    def page(
        self, request: HttpRequest, form: Any, result: Any = None, status: int = 200
    ) -> HttpResponse:
        context = {"form": form, "model": shared_model(), "result": result}
        return render(request, self.template_name, context, status=status)

    def form_class(self) -> type:
        return apps.get_app_config("predict").form_class

    def http_method_not_allowed(
        self, request: HttpRequest, *args: Any, **kwargs: Any
    ) -> HttpResponse:
        return error_response(405)


def form_prediction(form: Any, model: LoadedModel) -> dict[str, Any] | None:
    """The prediction for a submitted form, or None with the errors put on the form."""
    if not form.is_valid():
        return None
    try:
        instance = validate_instance(form.cleaned_data, model.feature_names)
    except InputError as error:
        form.add_error(error.field.rsplit(".", 1)[-1], error.message)
        return None
    return predict(model, [instance])[0]


def api_exception_handler(exc: Exception, context: Any) -> Response | None:
    """REST framework's errors in the contract's shape; anything else is left to Django."""
    if isinstance(exc, InputError):
        return Response(exc.body(), status=exc.status)
    if isinstance(exc, APIException):
        return Response(http_error_body(exc.status_code), status=exc.status_code)
    return None


def error_response(status: int) -> JsonResponse:
    return JsonResponse(http_error_body(status), status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(400)


def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return error_response(404)


def server_error(request: HttpRequest) -> JsonResponse:
    return error_response(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> JsonResponse:
    return error_response(403)
