"""Host checking for every request: ALLOWED_HOSTS alone enforces nothing."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


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
