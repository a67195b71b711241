"""The HTML form, as a browser submits it: GET the page, fill its fields (the hidden CSRF token
included, with the session's cookies), POST it back, read the prediction the answer shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from lxml.etree import ParserError

from bench.clients.base import ClientError
from bench.clients.form_page import form_fields, shown_prediction

FORM_PATH = "/"


@dataclass
class FormPage:
    """One browser tab on the form: its cookies, and the page it loaded."""

    url: str
    session: requests.Session
    page: requests.Response

    @property
    def fields(self) -> dict[str, str]:
        """What a submit of the page's first form sends; ClientError when it shows none."""
        return page_fields(self.page)

    def submit(self, data: dict[str, Any], timeout_s: float) -> requests.Response:
        """POST `data` (as given: merge it with `fields` for a browser's submit) back."""
        return self.session.post(self.url, data=data, timeout=timeout_s)


def page_fields(page: requests.Response) -> dict[str, str]:
    try:
        return form_fields(page.text)
    except (IndexError, ParserError, ValueError):  # no form, or not HTML at all
        raise ClientError(
            f"GET {page.url} answered {page.status_code} with no HTML form: {page.text[:160]!r}"
        ) from None


class FormClient:
    """A browser on the form page: one GET, then one POST per prediction, each with the fields
    of the page the last one returned (as the Locust form scenario submits)."""

    protocol = "form"
    min_timeout_s = 0.0
    page_path = FORM_PATH
    websocket = False

    def open(self, base_url: str, timeout_s: float) -> FormPage:
        """Load the form page in a new session (whatever it answers)."""
        session = requests.Session()
        url = base_url + FORM_PATH
        return FormPage(url, session, session.get(url, timeout=timeout_s))

    def predict_once(
        self, base_url: str, instances: list[dict[str, float]], timeout_s: float
    ) -> list[dict]:
        try:
            return self._predict(base_url, instances, timeout_s)
        except requests.RequestException as exc:
            raise ClientError(f"the form round trip with {base_url} failed: {exc}") from exc

    def _predict(
        self, base_url: str, instances: list[dict[str, float]], timeout_s: float
    ) -> list[dict]:
        form = self.open(base_url, timeout_s)
        fields = form.fields
        predictions = []
        for row in instances:
            answer = form.submit({**fields, **row}, timeout_s)
            shown = shown_prediction(answer.text) if answer.status_code == 200 else None
            if shown is None:
                raise ClientError(
                    f"POST {form.url} answered {answer.status_code} with no prediction shown: "
                    f"{answer.text[:160]!r}"
                )
            predictions.append(shown.as_prediction())
            fields = page_fields(answer)
        return predictions

    def serves(self, base_url: str, row: dict[str, float], timeout_s: float) -> tuple[bool, str]:
        form = self.open(base_url, timeout_s)
        try:
            answer = form.submit({**form.fields, **row}, timeout_s)
        except ClientError as exc:
            return False, f"healthy, but {exc}"
        served = answer.status_code == 200 and shown_prediction(answer.text) is not None
        return served, f"healthy; the form's POST {FORM_PATH} answered {answer.status_code}"
