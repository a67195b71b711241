"""The plain-Django configuration: this deployment's settings, with the API, health and OpenAPI
answered by Django's own views (predict/plain_views.py) instead of REST framework's, which is
then not installed. Everything else, the middleware included, is the default configuration's."""

from config.settings import *  # noqa: F403

INSTALLED_APPS = ["predict"]
ROOT_URLCONF = "config.urls_plain"
