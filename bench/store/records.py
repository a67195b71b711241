"""What every typed JSON file of the store shares: its schema version, one loader that refuses a
bad file with one clear error, and one writer that validates before it writes."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from bench.store.files import write_json

FILE = "(file)"  # StoreError.field when the file as a whole is at fault


class StoreError(ValueError):
    """A stored file that is unreadable, not JSON, of a version not read, or not of its shape."""

    def __init__(self, path: Path, field: str, message: str) -> None:
        self.path = Path(path)
        self.field = field
        where = "" if field == FILE else f" field {field!r}:"
        super().__init__(f"{self.path}:{where} {message}")


class Record(BaseModel):
    """A part of a stored file. Keys it does not name are kept, not refused: the runner adds
    entries over time, and a reader of an older or newer run keeps what it cannot type."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def as_dict(self) -> dict[str, Any]:
        """The record as the file holds it: its keys, nothing added for the unset ones."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


M = TypeVar("M", bound=Record)


@dataclass(frozen=True)
class StoredFile(Generic[M]):
    """One kind of file: its model, the version written today and the versions still read."""

    model: type[M]
    version: int
    readable: frozenset[int]
    # The version of a file stored before it carried one; None: such a file is refused.
    unversioned: int | None = None

    def load(self, path: Path) -> M:
        try:
            data = json.loads(Path(path).read_text())
        except OSError as exc:
            raise StoreError(path, FILE, f"cannot be read: {exc}") from None
        except ValueError as exc:
            raise StoreError(path, FILE, f"is not JSON: {exc}") from None
        return self.validate(path, data, self._version_read(path, data))

    def write(self, path: Path, data: Mapping[str, Any] | M) -> M:
        """Validate `data` as this file of today's version, then write it atomically."""
        if isinstance(data, Record):
            data = data.as_dict()
        data = dict(data)
        data.setdefault("schema_version", self.version)
        if data["schema_version"] != self.version:
            raise StoreError(
                path, "schema_version",
                f"{data['schema_version']!r} is not the version written today ({self.version})",
            )  # fmt: skip
        record = self.validate(path, data, self.version)
        write_json(Path(path), record.as_dict())
        return record

    def validate(self, path: Path, data: object, version: int) -> M:
        if not isinstance(data, dict):
            raise StoreError(path, FILE, f"holds {type(data).__name__}, not a JSON object")
        try:
            return self.model.model_validate({**data, "schema_version": version})
        except ValidationError as exc:
            raise _store_error(path, exc) from None

    def _version_read(self, path: Path, data: object) -> int:
        if not isinstance(data, dict):
            raise StoreError(path, FILE, f"holds {type(data).__name__}, not a JSON object")
        version = data.get("schema_version", self.unversioned)
        if version is None:
            raise StoreError(path, "schema_version", "is missing")
        if isinstance(version, bool) or version not in self.readable:
            raise StoreError(
                path, "schema_version",
                f"{version!r} is unknown (this code reads {sorted(self.readable)})",
            )  # fmt: skip
        return int(version)


def _store_error(path: Path, exc: ValidationError) -> StoreError:
    errors = exc.errors(include_url=False)
    first = errors[0]
    field = _dotted(first["loc"])
    more = f" (and {len(errors) - 1} more: {', '.join(_dotted(e['loc']) for e in errors[1:4])})"
    got = "" if first["type"] == "missing" else f", got {first.get('input')!r:.80}"
    return StoreError(path, field, f"{first['msg']}{got}" + (more if len(errors) > 1 else ""))


def _dotted(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or FILE
