"""The plain-Django configuration's URLs: predict/plain_urls.py (no REST framework)."""

from config.urls import handler400, handler404, handler500  # noqa: F401
from django.urls import include, path

urlpatterns = [path("", include("predict.plain_urls"))]
