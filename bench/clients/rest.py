"""The JSON REST API every API deployment serves (shared_model/openapi.py): POST /api/predict."""

from __future__ import annotations

from typing import Any

import requests

from bench.clients.base import ClientError

PREDICT_PATH = "/api/predict"


class RestClient:
    """A program calling the API: one POST of {"instances": [...]} per prediction."""

    protocol = "rest"
    min_timeout_s = 0.0
    page_path = None
    websocket = False
    predict_path = PREDICT_PATH

    def post(
        self, base_url: str, instances: list[dict[str, Any]], timeout_s: float
    ) -> requests.Response:
        """One POST of the instances, whatever it answers."""
        return requests.post(
            base_url + PREDICT_PATH, json={"instances": instances}, timeout=timeout_s
        )

    def predict_once(
        self, base_url: str, instances: list[dict[str, float]], timeout_s: float
    ) -> list[dict]:
        try:
            response = self.post(base_url, instances, timeout_s)
        except requests.RequestException as exc:
            raise ClientError(f"POST {base_url}{PREDICT_PATH} failed: {exc}") from exc
        if response.status_code != 200:
            raise ClientError(
                f"POST {base_url}{PREDICT_PATH} answered {response.status_code}: "
                f"{response.text[:160]!r}"
            )
        try:
            predictions = response.json()["predictions"]
        except (ValueError, KeyError, TypeError):
            raise ClientError(
                f"POST {base_url}{PREDICT_PATH} answered 200 without JSON predictions: "
                f"{response.text[:160]!r}"
            ) from None
        if not isinstance(predictions, list):
            raise ClientError(f"'predictions' is not a list: {predictions!r:.160}")
        return predictions

    def serves(self, base_url: str, row: dict[str, float], timeout_s: float) -> tuple[bool, str]:
        answer = self.post(base_url, [row], timeout_s)
        served = answer.status_code == 200 and "predictions" in answer.text
        return served, f"healthy; POST {PREDICT_PATH} answered {answer.status_code}"
