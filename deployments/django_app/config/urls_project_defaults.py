"""startproject's URLs (the admin site) before this deployment's."""

from config.urls import handler400, handler404, handler500  # noqa: F401
from django.contrib import admin
from django.urls import include, path

urlpatterns = [path("admin/", admin.site.urls), path("", include("predict.urls"))]
