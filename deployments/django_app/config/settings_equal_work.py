"""The equal-work configuration: this deployment's settings with one middleware that sends the
shared fixed security headers and a Content-Length (predict.middleware.equal_work) in place of
SecurityMiddleware and XFrameOptionsMiddleware, so that Django's answers carry what every
equal-work deployment's carry. CSRF and the Host check stay: the contract needs them."""

from config.settings import *  # noqa: F403

MIDDLEWARE = [
    "predict.middleware.equal_work",
    "django.middleware.csrf.CsrfViewMiddleware",
    "predict.middleware.host_check",
]
