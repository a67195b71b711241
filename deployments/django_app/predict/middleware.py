"""Host checking for every request (ALLOWED_HOSTS alone enforces nothing), and the equal-work
configuration's headers."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from deployments.response_headers import SECURITY_HEADERS


def host_check(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """Refuse a Host outside ALLOWED_HOSTS (DNS rebinding) with a 400, on every path.

    Django validates the Host only inside request.get_host(), which nothing in this project's
    stack calls (CommonMiddleware would, but it also adds redirects and headers of its own).
    get_host() raises DisallowedHost, which Django turns into handler400's JSON answer.
    """

    def middleware(request: HttpRequest) -> HttpResponse:
        request.get_host()
        return get_response(request)

    return middleware


def equal_work(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable:
    """The equal-work configuration's answers (deployments/response_headers.py): the shared
    fixed security headers, and a Content-Length, which gunicorn otherwise replaces by chunked
    transfer (Django sets one only in CommonMiddleware, which this configuration leaves out)."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        for name, value in SECURITY_HEADERS:
            response.headers[name] = value
        if not response.streaming and "Content-Length" not in response.headers:
            response.headers["Content-Length"] = str(len(response.content))
        return response

    return middleware
