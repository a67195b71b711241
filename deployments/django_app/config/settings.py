"""Settings for the Django deployment: `startproject`'s, trimmed to what the app uses."""

import os

from django.core.exceptions import ImproperlyConfigured

from deployments.allowed_hosts import allowed_hosts
from shared_model.schema import MAX_BODY_BYTES

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY is not set: CSRF tokens need a secret key")

DEBUG = False
ALLOWED_HOSTS = allowed_hosts()  # the same rule as every deployment's, from the environment

INSTALLED_APPS = ["rest_framework", "predict"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that its 400 passes back through the others and gets their security headers;
    # none of them reads the Host before it runs.
    "predict.middleware.host_check",
]
# Django's own defaults, stated because the security probe reports them on every response.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}]
DATABASES: dict = {}  # the model is the only state; no ORM, no sessions
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_BODY_BYTES
CSRF_FAILURE_VIEW = "predict.views.csrf_failure"
USE_TZ = True

REST_FRAMEWORK = {
    "DEFAULT_PARSER_CLASSES": ["predict.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # A JSON API called without cookies: no session auth, hence no CSRF on the API.
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "predict.views.api_exception_handler",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
