"""The project-defaults configuration: what `django-admin startproject` and Django REST
framework's defaults give, with this deployment's app added. Kept from this deployment's
settings, because the contract needs them: the secret from the environment, DEBUG off, the
allowed hosts and their check, the body limit, the contract's JSON parser and error shapes.
The database is SQLite in memory (startproject's is a file beside the code): nothing the
deployment answers queries it."""

from config.settings import *  # noqa: F403
from config.settings import REST_FRAMEWORK

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "predict",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "predict.middleware.host_check",
]
ROOT_URLCONF = "config.urls_project_defaults"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
STATIC_URL = "static/"
# REST framework's defaults (session and basic authentication, the browsable API renderer
# beside JSON, every user allowed), less what the contract fixes: its parser and error shapes.
REST_FRAMEWORK = {
    key: REST_FRAMEWORK[key] for key in ("DEFAULT_PARSER_CLASSES", "EXCEPTION_HANDLER")
}
