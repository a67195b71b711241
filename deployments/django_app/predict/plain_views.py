"""The plain-Django API (the `plain` configuration): the same endpoints as views.py's REST
framework ones, written with Django's own View and JsonResponse, so that what REST framework
costs is measured rather than assumed. Compact JSON, as REST framework renders it."""

from typing import Any

from django.apps import apps
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from predict.views import shared_model

from shared_model.model import predict
from shared_model.schema import (
    HTTP_ERRORS,
    JSON_MEDIA_TYPE,
    MAX_BODY_BYTES,
    InputError,
    http_error_body,
    parse_json_body,
    validate_request,
)

COMPACT = {"separators": (",", ":")}


def answer(body: Any, status: int = 200) -> JsonResponse:
    return JsonResponse(body, status=status, json_dumps_params=COMPACT)


# A JSON API called without cookies, as REST framework's views are: there is no session to forge.
@method_decorator(csrf_exempt, name="dispatch")
class PlainView(View):
    def http_method_not_allowed(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        response = answer(http_error_body(405), status=405)
        response["Allow"] = ", ".join(self._allowed_methods())
        return response


class HealthView(PlainView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return answer({"status": "ok", "model": shared_model().summary})


class OpenAPIView(PlainView):
    def get(self, request: HttpRequest) -> HttpResponse:
        return answer(apps.get_app_config("predict").api_document)


class PredictView(PlainView):
    def post(self, request: HttpRequest) -> HttpResponse:
        model = shared_model()
        try:
            if request.content_type != JSON_MEDIA_TYPE:
                raise InputError("unsupported_media_type", HTTP_ERRORS[415][1])
            # One byte past the limit, so an oversized body is refused without reading it all.
            payload = parse_json_body(request.read(MAX_BODY_BYTES + 1))
            instances = validate_request(payload, model.feature_names)
        except InputError as error:
            return answer(error.body(), status=error.status)
        return answer({"predictions": predict(model, instances), "model": model.summary})
