"""Compare a deployment's answers with the expected ones (no model import: Locust uses this)."""

from __future__ import annotations

from typing import Any


def same_predictions(
    got: list[dict[str, Any]], expected: list[dict[str, Any]], tolerance: float = 1e-9
) -> bool:
    """Labels and class ids exactly; probabilities within `tolerance`."""
    if len(got) != len(expected):
        return False
    for g, e in zip(got, expected, strict=True):
        if g.get("label") != e["label"] or g.get("class_id") != e["class_id"]:
            return False
        probs = g.get("probabilities") or {}
        if set(probs) != set(e["probabilities"]):
            return False
        if any(abs(float(probs[k]) - v) > tolerance for k, v in e["probabilities"].items()):
            return False
    return True
