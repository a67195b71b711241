from typing import Any

from rest_framework.parsers import BaseParser

from shared_model.schema import JSON_MEDIA_TYPE, MAX_BODY_BYTES, parse_json_body


class StrictJSONParser(BaseParser):
    """JSON through the shared contract's decoder: size limit, strict UTF-8, no duplicate keys."""

    media_type = JSON_MEDIA_TYPE

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        # Read one byte past the limit so an oversized body is refused without reading it all.
        return parse_json_body(stream.read(MAX_BODY_BYTES + 1))
