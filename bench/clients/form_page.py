"""Read the HTML form page the way a browser submits it: its fields, and the prediction shown."""

from __future__ import annotations

from dataclasses import dataclass

import lxml.html


@dataclass(frozen=True)
class ShownPrediction:
    label: str
    class_id: int
    probabilities: dict[str, float]

    def as_prediction(self) -> dict:
        return {"label": self.label, "class_id": self.class_id, "probabilities": self.probabilities}


def form_fields(html: str | bytes) -> dict[str, str]:
    """Every named input of the page's first form with its value: what a submit would send,
    including the hidden CSRF token."""
    form = lxml.html.fromstring(html).forms[0]
    return {name: value or "" for name, value in form.form_values()}


def shown_prediction(html: str | bytes) -> ShownPrediction | None:
    """The prediction the page displays, or None when it shows none."""
    doc = lxml.html.fromstring(html)
    found = doc.get_element_by_id("prediction", None)
    if found is None:
        return None
    probabilities = {
        cell.get("data-label"): float(cell.get("data-probability"))
        for cell in doc.xpath('//table[@id="probabilities"]//td[@data-probability]')
    }
    return ShownPrediction(
        found.text_content().strip(), int(found.get("data-class-id")), probabilities
    )


def field_errors(html: str | bytes) -> list[str]:
    return [e.text_content().strip() for e in lxml.html.fromstring(html).find_class("error")]
