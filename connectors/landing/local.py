"""Landing zone in a local folder: the embedded default."""

from __future__ import annotations

import builtins
import json
import os
import uuid
from pathlib import Path

from connectors.landing.base import (
    QUARANTINE_PREFIX,
    REASON_SUFFIX,
    LandingFile,
    LandingZone,
    QuarantinedFile,
    reason_document,
)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalLandingZone(LandingZone):
    """Files under a root folder; writes are fsynced and renamed into place."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if not path.is_relative_to(self.root.resolve()) or ".." in Path(key).parts:
            raise ValueError(f"landing key {key!r} escapes the landing zone")
        return path

    def put(self, key: str, data: bytes) -> LandingFile:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".tmp-{uuid.uuid4().hex}-{target.name}")
        with tmp.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(target)
        _fsync_dir(target.parent)
        return LandingFile(key=key, size=len(data))

    def read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def list(self, dataset: str | None = None) -> list[LandingFile]:
        base = self.root / dataset if dataset else self.root
        if not base.exists():
            return []
        files = []
        for path in base.rglob("*"):
            if not path.is_file() or path.name.startswith(".tmp-"):
                continue
            key = path.relative_to(self.root).as_posix()
            if key.startswith(QUARANTINE_PREFIX):
                continue
            files.append(LandingFile(key=key, size=path.stat().st_size))
        return sorted(files, key=lambda f: (f.key.rsplit("/", 1)[-1], f.key))

    def quarantine(self, key: str, reason: str) -> None:
        source = self._path(key)
        target = self._path(QUARANTINE_PREFIX + key)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)  # raises FileNotFoundError before any note is written
        note = target.with_name(target.name + REASON_SUFFIX)
        note.write_bytes(reason_document(key, reason))
        _fsync_dir(target.parent)

    def quarantined(self) -> builtins.list[QuarantinedFile]:
        base = self.root / QUARANTINE_PREFIX
        if not base.exists():
            return []
        found = []
        for note in sorted(base.rglob("*" + REASON_SUFFIX)):
            doc = json.loads(note.read_text())
            found.append(
                QuarantinedFile(
                    key=doc["key"], reason=doc["reason"], quarantined_at=doc["quarantined_at"]
                )
            )
        return found

    def describe(self) -> str:
        return str(self.root)
